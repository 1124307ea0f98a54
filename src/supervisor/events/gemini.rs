//! Gemini CLI's `--output-format stream-json` (0.61.0): `init` with the session id,
//! `message` (the prompt, then the assistant's text in small `delta` chunks),
//! `tool_use`, `tool_result`, `error`, and a last `result` with the run's status and
//! token stats. It has no final-answer field: the answer is the assistant's text after
//! the last tool result. Without `result`, the run did not finish.

use serde_json::Value;

use super::shared::{Handled, Observed, Translator, object, push_block, short, str_of, tokens_line, u64_of};
use crate::jobs::Usage;

#[derive(Default)]
pub struct Gemini {
    /// Assistant text not written to the transcript yet (it comes in chunks).
    pending_text: String,
    /// Assistant text since the last tool result: the final answer, once the run ends.
    since_tool: String,
}

impl Gemini {
    fn flush(&mut self, out: &mut String) {
        if !self.pending_text.is_empty() {
            push_block(out, &std::mem::take(&mut self.pending_text));
        }
    }

    /// Writes the whole lines of the text so far; a line still being written waits.
    fn flush_lines(&mut self, out: &mut String) {
        if let Some(end) = self.pending_text.rfind('\n') {
            out.push_str(&self.pending_text[..=end]);
            self.pending_text.drain(..=end);
        }
    }
}

impl Translator for Gemini {
    fn line(&mut self, line: &[u8], out: &mut String, seen: &mut Observed) -> Handled {
        let Some(event) = object(line) else { return Handled::Unknown };
        let event = &event;
        let kind = str_of(event, "type").unwrap_or("");
        if kind != "message" {
            self.flush(out);
        }
        match kind {
            "init" => {
                let session = str_of(event, "session_id").unwrap_or("?");
                seen.session_id = Some(session.to_owned());
                out.push_str(&format!("gemini session {session} ({})\n", str_of(event, "model").unwrap_or("?")));
                seen.activity = Some("waiting for the model".to_owned());
            }
            "message" => {
                if str_of(event, "role") == Some("assistant") {
                    let text = str_of(event, "content").unwrap_or("");
                    self.pending_text.push_str(text);
                    self.since_tool.push_str(text);
                    self.flush_lines(out);
                    seen.activity = Some("answering".to_owned());
                }
            }
            "tool_use" => {
                let name = str_of(event, "tool_name").unwrap_or("tool");
                let parameters = event.get("parameters").cloned().unwrap_or(Value::Null);
                let field = |key: &str| str_of(&parameters, key).unwrap_or("").to_owned();
                let (line, activity) = match name {
                    "run_shell_command" => {
                        let command = field("command");
                        (format!("$ {command}"), format!("running: {}", short(&command)))
                    }
                    "write_file" | "replace" => {
                        let path = field("file_path");
                        (format!("edit {path}"), format!("editing: {}", short(&path)))
                    }
                    "read_file" => {
                        let path = field("file_path");
                        (format!("read {path}"), format!("reading: {}", short(&path)))
                    }
                    other => (format!("{other} {}", short(&parameters.to_string())), format!("using: {other}")),
                };
                out.push_str(&line);
                out.push('\n');
                seen.activity = Some(activity);
            }
            "tool_result" => {
                if str_of(event, "status") == Some("error") {
                    let message = event.get("error").and_then(|error| str_of(error, "message")).unwrap_or("(no message)");
                    out.push_str(&format!("error: {message}\n"));
                } else {
                    push_block(out, str_of(event, "output").unwrap_or(""));
                }
                self.since_tool.clear();
                seen.activity = Some("waiting for the model".to_owned());
            }
            "error" => {
                let severity = str_of(event, "severity").unwrap_or("error");
                out.push_str(&format!("{severity}: {}\n", str_of(event, "message").unwrap_or("")));
            }
            "result" => {
                let stats = event.get("stats").cloned().unwrap_or(Value::Null);
                let usage = Usage {
                    input_tokens: u64_of(&stats, "input_tokens"),
                    cached_input_tokens: u64_of(&stats, "cached"),
                    output_tokens: u64_of(&stats, "output_tokens"),
                    reasoning_output_tokens: 0,
                    cost_usd: None,
                };
                out.push_str(&tokens_line(&usage));
                seen.usage = Some(usage);
                if str_of(event, "status") == Some("error") {
                    let message = event.get("error").and_then(|error| str_of(error, "message")).unwrap_or("the run failed");
                    out.push_str(&format!("error: {message}\n"));
                    let at = str_of(event, "timestamp").and_then(crate::jobs::Timestamp::parse).map(|at| at.0);
                    seen.limit = super::limits::gemini(message, at, chrono::Utc::now());
                    seen.failure = Some(message.to_owned());
                    seen.activity = Some("failed".to_owned());
                } else {
                    let answer = self.since_tool.trim();
                    if !answer.is_empty() {
                        seen.final_message = Some(answer.to_owned());
                    }
                    seen.activity = Some("done".to_owned());
                }
                seen.finished = true;
            }
            _ => return Handled::Unknown,
        }
        Handled::Known
    }

    fn finish(&mut self, out: &mut String, _seen: &mut Observed) {
        self.flush(out);
    }

    fn ends_with_result(&self) -> bool {
        true
    }
}
