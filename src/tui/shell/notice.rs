//! What the dashboard writes to the terminal besides frames: the bell, a desktop
//! notice through the terminal's own sequences (OSC 9, which iTerm2, kitty, WezTerm and
//! Windows Terminal show; OSC 777 for foot and other VTE-like terminals — no desktop
//! bus), and the clipboard (OSC 52). Inside tmux a notice is wrapped so tmux passes it
//! through (with `allow-passthrough on`).

use std::io::{self, Write};

use base64::Engine as _;

/// Which notice sequence the terminal understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoticeKind {
    Osc9,
    Osc777,
}

/// Where the dashboard runs, for the sequences it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Terminal {
    pub(crate) notice: NoticeKind,
    pub(crate) in_tmux: bool,
}

impl Terminal {
    /// Read from the environment: foot (and `CODEX_ASYNC_NOTICE=osc777`) get OSC 777,
    /// the others OSC 9.
    pub(crate) fn from_env() -> Self {
        let term = std::env::var("TERM").unwrap_or_default();
        let wanted = std::env::var("CODEX_ASYNC_NOTICE").unwrap_or_default();
        let notice = match wanted.as_str() {
            "osc777" => NoticeKind::Osc777,
            "osc9" => NoticeKind::Osc9,
            _ if term.starts_with("foot") => NoticeKind::Osc777,
            _ => NoticeKind::Osc9,
        };
        Terminal { notice, in_tmux: std::env::var_os("TMUX").is_some() }
    }
}

/// Text safe inside an OSC string: no control characters (a BEL or ESC would end it
/// early), and no `;` in a field that `;` separates.
fn field(text: &str, no_semicolon: bool) -> String {
    text.chars().filter(|ch| !ch.is_control()).map(|ch| if no_semicolon && ch == ';' { ',' } else { ch }).take(240).collect()
}

/// The bytes of a desktop notice.
pub(crate) fn notice_bytes(terminal: Terminal, title: &str, body: &str) -> Vec<u8> {
    let sequence = match terminal.notice {
        NoticeKind::Osc9 => format!("\u{1b}]9;{}: {}\u{7}", field(title, false), field(body, false)),
        NoticeKind::Osc777 => format!("\u{1b}]777;notify;{};{}\u{7}", field(title, true), field(body, false)),
    };
    if terminal.in_tmux {
        // tmux passes through what is wrapped so, every ESC doubled.
        return format!("\u{1b}Ptmux;{}\u{1b}\\", sequence.replace('\u{1b}', "\u{1b}\u{1b}")).into_bytes();
    }
    sequence.into_bytes()
}

pub(crate) fn write_notice(out: &mut impl Write, terminal: Terminal, title: &str, body: &str) -> io::Result<()> {
    out.write_all(&notice_bytes(terminal, title, body))?;
    out.flush()
}

/// OSC 52: the terminal (even over ssh, or tmux with set-clipboard) sets the clipboard.
pub(crate) fn write_copy(out: &mut impl Write, text: &str) -> io::Result<()> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    write!(out, "\u{1b}]52;c;{encoded}\u{7}")?;
    out.flush()
}

pub(crate) fn write_bell(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"\x07")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_the_terminals_own_sequences_and_carry_no_control_characters() {
        let plain = Terminal { notice: NoticeKind::Osc9, in_tmux: false };
        let mut written = Vec::new();
        write_notice(&mut written, plain, "codex-async: job a1b2c3d4 done", "fix\u{7} the\u{1b}[2J bug; now").unwrap();
        assert_eq!(written, b"\x1b]9;codex-async: job a1b2c3d4 done: fix the[2J bug; now\x07");

        let foot = Terminal { notice: NoticeKind::Osc777, in_tmux: false };
        assert_eq!(notice_bytes(foot, "job; done", "body; x"), b"\x1b]777;notify;job, done;body; x\x07");

        let tmux = Terminal { notice: NoticeKind::Osc9, in_tmux: true };
        assert_eq!(notice_bytes(tmux, "t", "b"), b"\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\");

        let mut copied = Vec::new();
        write_copy(&mut copied, "abc").unwrap();
        assert_eq!(copied, b"\x1b]52;c;YWJj\x07");
    }
}
