//! An agent's structured stream (codex `exec --json`, Claude Code and Gemini CLI
//! `stream-json`) turned into what every reader wants: a readable transcript for
//! `output.txt` (so `poll`, the dashboard and readers built for the original keep
//! getting text), and what the job's meta records — the session id (for follow-ups),
//! token usage, and one short line of what the agent is doing now.
//!
//! Nothing is lost: a line that is not JSON, or an event of a kind not known here, goes
//! to the transcript as it came. The raw stream itself is kept byte for byte in
//! `events.jsonl` by the caller.

mod claude;
mod codex;
mod gemini;
mod limits;
mod shared;

use crate::jobs::agent::Stream;
pub use shared::{Handled, Observed, Translator, short};

pub fn translator(stream: Stream) -> Option<Box<dyn Translator>> {
    match stream {
        Stream::Plain => None,
        Stream::CodexJson => Some(Box::new(codex::Codex::default())),
        Stream::ClaudeStreamJson => Some(Box::new(claude::Claude)),
        Stream::GeminiStreamJson => Some(Box::new(gemini::Gemini::default())),
    }
}

/// Feeds a whole stream (bytes as the agent wrote them) through a translator: the
/// transcript and what was observed. What the supervisor does line by line, at once.
pub fn translate_all(stream: Stream, bytes: &[u8]) -> (String, Observed) {
    let mut reader = LineTranslator::new(stream);
    let mut out = String::new();
    reader.feed(bytes, &mut out);
    reader.finish(&mut out);
    (out, reader.seen)
}

/// The longest line held back waiting for its end (a command's whole output can make
/// one event megabytes long).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Splits a byte stream into lines and translates each; keeps a cut last line until
/// more comes or the stream ends.
pub struct LineTranslator {
    translator: Option<Box<dyn Translator>>,
    pending: Vec<u8>,
    pub seen: Observed,
}

impl LineTranslator {
    pub fn new(stream: Stream) -> Self {
        LineTranslator { translator: translator(stream), pending: Vec::new(), seen: Observed::default() }
    }

    /// Takes bytes; transcript text for every complete line goes to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut String) {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&byte| byte == b'\n') {
            if self.pending.is_empty() {
                self.line(&rest[..end], out);
            } else {
                self.pending.extend_from_slice(&rest[..end]);
                let line = std::mem::take(&mut self.pending);
                self.line(&line, out);
            }
            rest = &rest[end + 1..];
        }
        self.pending.extend_from_slice(rest);
        if self.pending.len() > MAX_LINE_BYTES {
            // No event is this long: what came so far goes on as text (it is kept whole
            // in events.jsonl), and the supervisor's memory stays bounded.
            out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut self.pending)));
        }
    }

    /// The stream ended: a cut last line is translated (or passed on) as it is.
    pub fn finish(&mut self, out: &mut String) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line, out);
        }
        if let Some(translator) = self.translator.as_mut() {
            translator.finish(out, &mut self.seen);
        }
        if self.translator.as_ref().is_some_and(|translator| translator.ends_with_result()) && !self.seen.finished {
            self.seen.failure.get_or_insert_with(|| "the agent's stream ended without a result".to_owned());
        }
    }

    fn line(&mut self, line: &[u8], out: &mut String) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let known = match &mut self.translator {
            Some(translator) => translator.line(line, out, &mut self.seen),
            None => Handled::Unknown,
        };
        if known == Handled::Unknown {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests;
