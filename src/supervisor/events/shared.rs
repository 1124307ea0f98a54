//! What every agent's reader shares: what a stream tells, the reader's interface, and
//! the small helpers that shape transcript lines.

use serde_json::Value;

use crate::jobs::Usage;

/// What the stream told about the job so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub session_id: Option<String>,
    pub usage: Option<Usage>,
    pub activity: Option<String>,
    /// The agent's final answer, for agents that give it only in the stream.
    pub final_message: Option<String>,
    /// Whether the stream ended properly (a final `result` event, where there is one).
    pub finished: bool,
    /// Why the agent said its run failed, if it did.
    pub failure: Option<String>,
    /// The provider's usage limit that stopped it, if one did.
    pub limit: Option<crate::jobs::Limit>,
}

/// Reads one agent's stream, line by line.
pub trait Translator: Send {
    /// Takes one complete line (without its line end), appends transcript text to `out`
    /// and updates `seen`. A line it cannot read is [`Handled::Unknown`].
    fn line(&mut self, line: &[u8], out: &mut String, seen: &mut Observed) -> Handled;

    /// The stream ended: anything held back goes out.
    fn finish(&mut self, _out: &mut String, _seen: &mut Observed) {}

    /// Whether the agent ends its stream with a result event whose absence means the run
    /// did not finish (Claude Code, Gemini CLI).
    fn ends_with_result(&self) -> bool {
        false
    }
}

/// Whether a translator knew what to make of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    Known,
    /// Unknown: the raw line goes to the transcript.
    Unknown,
}

/// The most an activity line holds.
pub const ACTIVITY_CHARS: usize = 120;

/// One short line: first line only, cut with `…`.
pub fn short(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    let mut shown: String = line.chars().take(ACTIVITY_CHARS).collect();
    if line.chars().count() > ACTIVITY_CHARS || text.trim().lines().count() > 1 {
        shown.push('…');
    }
    shown
}

/// Text as its own lines in the transcript (ending in a newline).
pub fn push_block(out: &mut String, text: &str) {
    if text.is_empty() {
        return;
    }
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
}

pub fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

pub fn u64_of(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The transcript line for a turn's tokens.
pub fn tokens_line(usage: &Usage) -> String {
    let mut line = format!("tokens: {} in", usage.input_tokens);
    if usage.cached_input_tokens > 0 {
        line.push_str(&format!(" ({} cached)", usage.cached_input_tokens));
    }
    line.push_str(&format!(", {} out", usage.output_tokens));
    if usage.reasoning_output_tokens > 0 {
        line.push_str(&format!(" ({} reasoning)", usage.reasoning_output_tokens));
    }
    if let Some(cost) = usage.cost_usd.filter(|cost| *cost > 0.0) {
        line.push_str(&format!(", ${cost:.4}"));
    }
    line.push('\n');
    line
}

/// A line as a JSON object, if it is one.
pub fn object(line: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(line).ok().filter(Value::is_object)
}
