//! What `/proc` says about processes: start times (to tell a live supervisor from a
//! reused pid), the process tree (to find every descendant of a job), command lines, and
//! who holds which lock (to prove a process is a job's own before it is signalled).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;

/// A process as seen in `/proc/<pid>/stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
    pub pgid: i32,
    pub session: i32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
}

impl ProcStat {
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

pub fn stat(pid: i32) -> Option<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses `/proc/<pid>/stat`. The command name sits in parentheses and may hold
/// spaces or parentheses itself, so fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<ProcStat> {
    let pid = text.split_whitespace().next()?.parse().ok()?;
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // fields[0] is field 3 (state); field N is fields[N - 3].
    Some(ProcStat {
        pid,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// The start time of a running (not zombie) process, if there is one with that pid.
pub fn start_ticks(pid: i32) -> Option<u64> {
    stat(pid).filter(|stat| !stat.is_zombie()).map(|stat| stat.start_ticks)
}

/// Whether the process that had `start_ticks` when recorded is still running.
pub fn is_same_process_alive(pid: i32, recorded_start_ticks: u64) -> bool {
    start_ticks(pid) == Some(recorded_start_ticks)
}

/// Whether any live (not zombie) process has this pid.
pub fn is_alive(pid: i32) -> bool {
    start_ticks(pid).is_some()
}

/// Every live process on the machine.
pub fn all_processes() -> Vec<ProcStat> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(stat)
        .filter(|stat| !stat.is_zombie())
        .collect()
}

/// Live descendants of `root` (not `root` itself), found by following parent links.
pub fn descendants(root: i32) -> Vec<i32> {
    descendants_in(&all_processes(), root)
}

fn descendants_in(processes: &[ProcStat], root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for process in processes {
        children.entry(process.ppid).or_default().push(process.pid);
    }
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if child != root && !found.contains(&child) {
                found.push(child);
                stack.push(child);
            }
        }
    }
    found
}

/// Live processes whose environment holds `key=value`. Descendants inherit the
/// environment even after `setsid` and double forks, so this finds a job's processes
/// wherever they went. Processes of other users are skipped unread.
pub fn with_env(key: &str, value: &str) -> Vec<i32> {
    let needle = format!("{key}={value}");
    all_processes().into_iter().filter(|process| environ_has(process.pid, &needle)).map(|process| process.pid).collect()
}

/// Whether the environment of `pid` holds exactly `needle` (`KEY=value`).
pub fn environ_has(pid: i32, needle: &str) -> bool {
    fs::read(format!("/proc/{pid}/environ"))
        .map(|environ| environ.split(|&b| b == 0).any(|entry| entry == needle.as_bytes()))
        .unwrap_or(false)
}

/// The arguments a process was started with (`/proc/<pid>/cmdline`), program first.
pub fn cmdline(pid: i32) -> Option<Vec<OsString>> {
    let bytes = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let mut args: Vec<OsString> = bytes.split(|&byte| byte == 0).map(|arg| OsString::from_vec(arg.to_vec())).collect();
    // Each argument ends with a NUL: the split leaves an empty last piece.
    if args.last().is_some_and(|last| last.is_empty()) {
        args.pop();
    }
    Some(args)
}

/// Pids that `/proc/locks` names as holding an `flock` on a file with inode `inode`.
/// Only candidates: the pid is the one that took the lock, which may have ended while a
/// descendant holds the descriptor on, and an inode number is unique to one file system
/// only. [`holds_flock`] decides.
pub fn flock_holders(inode: u64) -> Vec<i32> {
    fs::read_to_string("/proc/locks").map(|locks| flock_holders_in(&locks, inode)).unwrap_or_default()
}

/// `1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234567 0 EOF`; a lock being waited for shows
/// as `1: -> FLOCK …` and holds nothing.
fn flock_holders_in(locks: &str, inode: u64) -> Vec<i32> {
    locks
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().skip(1);
            if fields.next()? != "FLOCK" {
                return None;
            }
            let pid = fields.nth(2)?.parse().ok()?;
            let file_inode: u64 = fields.next()?.rsplit(':').next()?.parse().ok()?;
            (file_inode == inode).then_some(pid)
        })
        .collect()
}

/// Whether process `pid` holds an `flock` on the file `(device, inode)` through one of
/// its own descriptors: the descriptor's file is that file, and the kernel lists the lock
/// in that descriptor's `/proc/<pid>/fdinfo`. Processes of other users are not readable
/// and hold nothing here.
pub fn holds_flock(pid: i32, device: u64, inode: u64) -> bool {
    let Ok(descriptors) = fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    descriptors.filter_map(Result::ok).any(|descriptor| {
        // The link's target, followed: the very file, wherever it was renamed to.
        let same_file = fs::metadata(descriptor.path()).is_ok_and(|file| file.dev() == device && file.ino() == inode);
        same_file
            && fs::read_to_string(format!("/proc/{pid}/fdinfo/{}", descriptor.file_name().to_string_lossy()))
                .is_ok_and(|info| info.lines().any(|line| line.starts_with("lock:") && line.split_whitespace().any(|word| word == "FLOCK")))
    })
}

/// Live processes whose parent is `pid`.
pub fn children(pid: i32) -> Vec<i32> {
    all_processes().into_iter().filter(|process| process.ppid == pid).map(|process| process.pid).collect()
}

/// The command name of a process (`/proc/<pid>/comm`), for messages.
pub fn command_name(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|name| name.trim_end().to_owned())
}

/// When a process started, to the second (the boot time the kernel reports is whole seconds).
pub fn start_time(pid: i32) -> Option<chrono::DateTime<chrono::Utc>> {
    let ticks = start_ticks(pid)?;
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().filter(|&hz| hz > 0)? as u64;
    let boot = fs::read_to_string("/proc/stat").ok()?.lines().find_map(|line| line.strip_prefix("btime ")?.trim().parse::<i64>().ok())?;
    let millis = boot.checked_mul(1000)?.checked_add(i64::try_from(ticks.checked_mul(1000)? / per_second).ok()?)?;
    chrono::DateTime::from_timestamp_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parens() {
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        let stat = parse_stat(line).unwrap();
        assert_eq!((stat.pid, stat.state, stat.ppid, stat.pgid, stat.session, stat.start_ticks), (4242, 'S', 1, 4242, 4242, 987654));
    }

    #[test]
    fn this_process_is_alive_with_a_stable_start_time() {
        let me = std::process::id() as i32;
        let ticks = start_ticks(me).unwrap();
        assert!(is_same_process_alive(me, ticks));
        assert!(!is_same_process_alive(me, ticks + 1));
    }

    #[test]
    fn this_process_started_a_moment_ago() {
        let started = start_time(std::process::id() as i32).unwrap();
        let age = chrono::Utc::now() - started;
        assert!(age >= chrono::Duration::seconds(-2) && age < chrono::Duration::hours(1), "{age}");
        assert!(command_name(std::process::id() as i32).is_some());
    }

    #[test]
    fn lock_holders_are_read_from_proc_locks() {
        let locks = "1: FLOCK  ADVISORY  WRITE 975 fe:00:464 0 EOF\n\
                     2: POSIX  ADVISORY  WRITE 976 fe:00:777 0 EOF\n\
                     3: FLOCK  ADVISORY  READ 977 fe:00:777 0 EOF\n\
                     3: -> FLOCK  ADVISORY  WRITE 978 fe:00:777 0 EOF\n\
                     4: FLOCK  ADVISORY  WRITE 979 08:02:777 0 EOF\n";
        assert_eq!(flock_holders_in(locks, 777), [977, 979]);
        assert_eq!(flock_holders_in(locks, 464), [975]);
        assert_eq!(flock_holders_in(locks, 1), Vec::<i32>::new());
    }

    #[test]
    fn a_held_flock_is_found_on_the_holders_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held.lock");
        let file = fs::File::create(&path).unwrap();
        let (device, inode) = (file.metadata().unwrap().dev(), file.metadata().unwrap().ino());
        let me = std::process::id() as i32;
        assert!(!holds_flock(me, device, inode), "open is not locked");
        file.lock().unwrap();
        assert!(flock_holders(inode).contains(&me));
        assert!(holds_flock(me, device, inode));
        let other = fs::File::create(dir.path().join("other.lock")).unwrap();
        assert!(!holds_flock(me, other.metadata().unwrap().dev(), other.metadata().unwrap().ino()));
        // Released on the open file itself: a fork of another test's thread may hold a copy
        // of the descriptor until it execs, and a mere close would leave the lock to that copy.
        file.unlock().unwrap();
        assert!(!flock_holders(inode).contains(&me));
        assert!(!holds_flock(me, device, inode));
    }

    #[test]
    fn command_lines_keep_their_arguments_whole() {
        let mut child = std::process::Command::new("sh").args(["-c", "sleep 30; :", "name", "two words", ""]).spawn().unwrap();
        // A process just started may not show its arguments yet.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while cmdline(child.id() as i32).is_none_or(|args| args.is_empty()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let args = cmdline(child.id() as i32).unwrap();
        assert_eq!(args, ["sh", "-c", "sleep 30; :", "name", "two words", ""]);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(cmdline(i32::MAX).is_none());
    }

    #[test]
    fn descendants_follow_the_tree() {
        let p = |pid, ppid| ProcStat { pid, state: 'S', ppid, pgid: pid, session: pid, start_ticks: 0 };
        let processes = [p(10, 1), p(11, 10), p(12, 11), p(13, 1), p(14, 12)];
        let mut found = descendants_in(&processes, 10);
        found.sort();
        assert_eq!(found, [11, 12, 14]);
    }
}
