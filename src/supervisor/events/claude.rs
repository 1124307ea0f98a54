//! Claude Code's `-p --output-format stream-json --verbose` (2.1.197): `system`
//! (`init` with the session id, `api_retry`, task notices), `assistant` (one event per
//! content block: text, tool use, thinking), `user` (tool results), and a last `result`
//! with the final answer, usage and cost. A run that ends without `result` did not
//! finish, whatever its exit status says.

use serde_json::Value;

use super::shared::{Handled, Observed, Translator, object, push_block, short, str_of, tokens_line, u64_of};
use crate::jobs::Usage;

#[derive(Default)]
pub struct Claude;

/// What a tool use shows in the transcript, and as the activity.
fn tool_use(block: &Value) -> (String, String) {
    let name = str_of(block, "name").unwrap_or("tool");
    let input = block.get("input").cloned().unwrap_or(Value::Null);
    let field = |key: &str| str_of(&input, key).unwrap_or("").to_owned();
    match name {
        "Bash" => {
            let command = field("command");
            (format!("$ {command}"), format!("running: {}", short(&command)))
        }
        "Edit" | "Write" | "MultiEdit" | "NotebookEdit" => {
            let path = if input.get("notebook_path").is_some() { field("notebook_path") } else { field("file_path") };
            (format!("edit {path}"), format!("editing: {}", short(&path)))
        }
        "Read" => {
            let path = field("file_path");
            (format!("read {path}"), format!("reading: {}", short(&path)))
        }
        other => {
            let shown = short(&input.to_string());
            (format!("{other} {shown}"), format!("using: {other}"))
        }
    }
}

/// A tool result's text: a string, or text blocks.
fn result_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|block| str_of(block, "text")).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

impl Translator for Claude {
    fn line(&mut self, line: &[u8], out: &mut String, seen: &mut Observed) -> Handled {
        let Some(event) = object(line) else { return Handled::Unknown };
        let event = &event;
        if let Some(session) = str_of(event, "session_id") {
            seen.session_id = Some(session.to_owned());
        }
        match str_of(event, "type").unwrap_or("") {
            "system" => match str_of(event, "subtype").unwrap_or("") {
                "init" => {
                    let model = str_of(event, "model").unwrap_or("?");
                    out.push_str(&format!("claude session {} ({model})\n", str_of(event, "session_id").unwrap_or("?")));
                    seen.activity = Some("waiting for the model".to_owned());
                }
                "api_retry" => {
                    let attempt = u64_of(event, "attempt");
                    let status = event.get("error_status").map_or("?".to_owned(), ToString::to_string);
                    out.push_str(&format!("retrying the API (attempt {attempt} of {}, status {status})\n", u64_of(event, "max_retries")));
                    seen.activity = Some(format!("waiting for the model (retry {attempt})"));
                }
                "task_started" | "task_notification" | "task_progress" | "status" | "compact_boundary" | "hook_started"
                | "hook_response" => {}
                _ => return Handled::Unknown,
            },
            "assistant" => {
                let blocks = event.pointer("/message/content").and_then(Value::as_array).cloned().unwrap_or_default();
                for block in &blocks {
                    match str_of(block, "type").unwrap_or("") {
                        "text" => {
                            push_block(out, str_of(block, "text").unwrap_or(""));
                            seen.activity = Some("answering".to_owned());
                        }
                        "tool_use" => {
                            let (line, activity) = tool_use(block);
                            out.push_str(&line);
                            out.push('\n');
                            seen.activity = Some(activity);
                        }
                        "thinking" => {
                            if let Some(text) = str_of(block, "thinking").filter(|text| !text.trim().is_empty()) {
                                push_block(out, &format!("thinking: {}", text.trim()));
                            }
                            seen.activity = Some("thinking".to_owned());
                        }
                        _ => push_block(out, &block.to_string()),
                    }
                }
            }
            "user" => {
                let blocks = event.pointer("/message/content").and_then(Value::as_array).cloned().unwrap_or_default();
                for block in &blocks {
                    match str_of(block, "type").unwrap_or("") {
                        "tool_result" => {
                            let text = result_text(block.get("content").unwrap_or(&Value::Null));
                            if block.get("is_error").and_then(Value::as_bool).unwrap_or(false) {
                                push_block(out, &format!("error: {text}"));
                            } else {
                                push_block(out, &text);
                            }
                        }
                        // Claude Code's own notes in the user's turn ("[Request interrupted by user]").
                        "text" => push_block(out, str_of(block, "text").unwrap_or("")),
                        _ => push_block(out, &block.to_string()),
                    }
                }
                seen.activity = Some("waiting for the model".to_owned());
            }
            "rate_limit_event" => {
                let info = event.get("rate_limit_info").cloned().unwrap_or(Value::Null);
                let status = str_of(&info, "status").unwrap_or("?");
                match super::limits::claude_event(event) {
                    Some(limit) => {
                        let until = limit.resets_at.map_or("an unknown time".to_owned(), |at| at.to_string());
                        out.push_str(&format!("usage limit reached ({}): resets at {until}\n", limit.kind));
                        seen.limit = Some(limit);
                    }
                    None => out.push_str(&format!("rate limit: {status}\n")),
                }
            }
            "result" => {
                let reported = event.get("usage").cloned().unwrap_or(Value::Null);
                let usage = Usage {
                    input_tokens: u64_of(&reported, "input_tokens") + u64_of(&reported, "cache_creation_input_tokens"),
                    cached_input_tokens: u64_of(&reported, "cache_read_input_tokens"),
                    output_tokens: u64_of(&reported, "output_tokens"),
                    reasoning_output_tokens: 0,
                    cost_usd: event.get("total_cost_usd").and_then(Value::as_f64),
                };
                out.push_str(&tokens_line(&usage));
                seen.usage = Some(usage);
                let result = str_of(event, "result").unwrap_or("").to_owned();
                if event.get("is_error").and_then(Value::as_bool).unwrap_or(false) {
                    let failure = if result.is_empty() { str_of(event, "subtype").unwrap_or("error").to_owned() } else { result };
                    out.push_str(&format!("error: {failure}\n"));
                    if seen.limit.is_none() && event.get("api_error_status").and_then(Value::as_i64) == Some(429) {
                        seen.limit = super::limits::claude_result(&failure);
                    }
                    seen.failure = Some(failure);
                    seen.activity = Some("failed".to_owned());
                } else {
                    if !result.is_empty() {
                        seen.final_message = Some(result);
                    }
                    seen.activity = Some("done".to_owned());
                }
                seen.finished = true;
            }
            "stream_event" => {}
            _ => return Handled::Unknown,
        }
        Handled::Known
    }

    fn ends_with_result(&self) -> bool {
        true
    }
}
