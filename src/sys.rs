//! The few system calls that neither `std` nor `nix` wraps, each behind a safe function.
//!
//! - pidfds (Linux 5.3+): a signal sent through a pidfd reaches the process the pidfd
//!   was opened on or nobody, never a later process that reused its number. Checking a
//!   process (its start time, its environment) *after* opening the pidfd and then
//!   signalling through it closes the window in which a checked pid could be reused.
//! - `close_range` (Linux 5.9+): a supervisor closes every descriptor it inherited.
//! - `fork`, to detach a supervisor from whoever started it.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::libc;
use nix::sys::signal::Signal;

/// A handle on one process that outlives its pid number.
#[derive(Debug)]
pub struct PidFd(OwnedFd);

impl PidFd {
    /// Opens a pidfd for `pid`. `ESRCH`: no such process.
    pub fn open(pid: i32) -> io::Result<PidFd> {
        if pid <= 0 {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1;
        // it touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just gave us this descriptor; nothing else owns it.
        Ok(PidFd(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    /// Sends `signal` to the process this pidfd was opened on. `ESRCH` once it has ended.
    pub fn send(&self, signal: Signal) -> io::Result<()> {
        // SAFETY: pidfd_send_signal with a null siginfo behaves like kill(2) on the
        // pidfd's process; the descriptor is valid for the borrow of self.
        let result = unsafe {
            libc::syscall(libc::SYS_pidfd_send_signal, self.0.as_raw_fd(), signal as libc::c_int, std::ptr::null::<libc::siginfo_t>(), 0)
        };
        if result < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }
}

impl std::os::fd::AsFd for PidFd {
    /// Readable once the process has ended: a wait that needs no polling.
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Closes every descriptor above stderr. Used as the first act of a supervisor, so a
/// lock, a jobserver pipe or a CI runner's pipe that its starter forgot to mark
/// close-on-exec is not held for the job's whole life.
pub fn close_inherited_descriptors() {
    // SAFETY: close_range only closes descriptors; at the start of `main` nothing in
    // this process holds one above 2, so no owner is left with a dangling descriptor.
    let closed = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    if closed == 0 {
        return;
    }
    // Kernels before 5.9: close what /proc lists (collected first, as reading the
    // folder holds a descriptor of its own).
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return };
    let open: Vec<i32> = entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok()).filter(|&fd| fd > 2).collect();
    for fd in open {
        // SAFETY: as above; a descriptor that is already closed (the listing's own) fails harmlessly.
        unsafe { libc::close(fd) };
    }
}

/// Whether this process runs a single thread: the condition for a safe `fork`.
fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after_name = &stat[stat.rfind(')')? + 1..];
            // Field 20 (num_threads) is the 18th after the command name.
            after_name.split_whitespace().nth(17)?.parse::<u32>().ok()
        })
        .is_some_and(|threads| threads == 1)
}

/// Forks. In the parent, returns the child's pid; in the child, `None`. Refuses when
/// the process has more than one thread (a forked child of a threaded process may only
/// call async-signal-safe functions).
pub fn fork_single_threaded() -> io::Result<Option<i32>> {
    if !single_threaded() {
        return Err(io::Error::other("refusing to fork a process that runs several threads"));
    }
    // SAFETY: the process is single-threaded (checked above), so the child inherits a
    // consistent heap and no lock held by another thread.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { child }) => Ok(Some(child.as_raw())),
        Ok(nix::unistd::ForkResult::Child) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfd_signals_its_own_process_only() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pidfd = PidFd::open(child.id() as i32).unwrap();
        pidfd.send(Signal::SIGKILL).unwrap();
        child.wait().unwrap();
        // Reaped: the number may be reused, the pidfd still names the dead process.
        let err = pidfd.send(Signal::SIGKILL).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
        assert_eq!(PidFd::open(0).unwrap_err().raw_os_error(), Some(libc::ESRCH));
    }
}
