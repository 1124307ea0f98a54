//! `codex exec --json` (codex 0.169): `thread.started`, `turn.started`,
//! `item.started`/`item.updated`/`item.completed` (agent messages, reasoning, commands,
//! file changes, MCP tool calls, web searches, plans, errors), `turn.completed` with
//! usage, `turn.failed`, and top-level `error`. A resumed run reports the usage of the
//! whole conversation; this job records what its own stream says.

use std::collections::HashSet;

use serde_json::Value;

use super::shared::{Handled, Observed, Translator, push_block, short, str_of, tokens_line, u64_of};
use crate::jobs::Usage;

#[derive(Default)]
pub struct Codex {
    /// Commands whose start was shown (their end shows only the output).
    shown: HashSet<String>,
}

/// `/bin/bash -lc "cargo test"` → `cargo test`: the command as a person typed it.
fn command_text(command: &str) -> String {
    let inner =
        ["/bin/bash -lc ", "bash -lc ", "/bin/sh -c ", "sh -c "].iter().find_map(|shell| command.strip_prefix(shell)).unwrap_or(command);
    match (inner.chars().next(), inner.chars().last()) {
        (Some(open @ ('"' | '\'')), Some(close)) if open == close && inner.len() >= 2 => {
            let body = &inner[1..inner.len() - 1];
            if open == '"' { body.replace("\\\"", "\"").replace("\\\\", "\\") } else { body.to_owned() }
        }
        _ => inner.to_owned(),
    }
}

impl Codex {
    fn item(&mut self, phase: &str, item: &Value, out: &mut String, seen: &mut Observed) -> Handled {
        let kind = str_of(item, "type").unwrap_or("");
        let id = str_of(item, "id").unwrap_or("").to_owned();
        let done = phase == "item.completed";
        match kind {
            "agent_message" => {
                if done {
                    push_block(out, str_of(item, "text").unwrap_or(""));
                    seen.activity = Some("answering".to_owned());
                }
            }
            "reasoning" => {
                if done && let Some(text) = str_of(item, "text").filter(|text| !text.trim().is_empty()) {
                    push_block(out, &format!("thinking: {}", text.trim()));
                }
                seen.activity = Some("thinking".to_owned());
            }
            "command_execution" => {
                let command = command_text(str_of(item, "command").unwrap_or(""));
                if !self.shown.contains(&id) {
                    out.push_str(&format!("$ {command}\n"));
                    self.shown.insert(id.clone());
                }
                if done {
                    push_block(out, str_of(item, "aggregated_output").unwrap_or(""));
                    match item.get("exit_code").and_then(Value::as_i64) {
                        Some(code) => out.push_str(&format!("↳ exit {code}\n")),
                        None => out.push_str(&format!("↳ {}\n", str_of(item, "status").unwrap_or("ended"))),
                    }
                    self.shown.remove(&id);
                    seen.activity = Some("waiting for the model".to_owned());
                } else {
                    seen.activity = Some(format!("running: {}", short(&command)));
                }
            }
            "file_change" => {
                let changes: Vec<(&str, &str)> = item
                    .get("changes")
                    .and_then(Value::as_array)
                    .map(|changes| {
                        changes
                            .iter()
                            .map(|change| (str_of(change, "path").unwrap_or("?"), str_of(change, "kind").unwrap_or("change")))
                            .collect()
                    })
                    .unwrap_or_default();
                if done {
                    for (path, change) in &changes {
                        out.push_str(&format!("edited {path} ({change})\n"));
                    }
                    seen.activity = Some("waiting for the model".to_owned());
                } else if let Some((path, _)) = changes.first() {
                    seen.activity = Some(format!("editing: {}", short(path)));
                }
            }
            "mcp_tool_call" => {
                let name = format!("{}.{}", str_of(item, "server").unwrap_or("?"), str_of(item, "tool").unwrap_or("?"));
                if done {
                    out.push_str(&format!("mcp {name}: {}\n", str_of(item, "status").unwrap_or("done")));
                    seen.activity = Some("waiting for the model".to_owned());
                } else {
                    out.push_str(&format!("mcp {name}\n"));
                    seen.activity = Some(format!("calling: {name}"));
                }
            }
            "web_search" => {
                let query = str_of(item, "query").unwrap_or("");
                if !done {
                    seen.activity = Some(format!("searching: {}", short(query)));
                } else {
                    out.push_str(&format!("search: {query}\n"));
                }
            }
            "todo_list" => {
                if let Some(items) = item.get("items").and_then(Value::as_array) {
                    out.push_str("plan:\n");
                    for entry in items {
                        let mark = if entry.get("completed").and_then(Value::as_bool).unwrap_or(false) { "x" } else { " " };
                        out.push_str(&format!("  [{mark}] {}\n", str_of(entry, "text").unwrap_or("")));
                    }
                }
            }
            "error" => {
                if done {
                    out.push_str(&format!("warning: {}\n", str_of(item, "message").unwrap_or("")));
                }
            }
            _ => return Handled::Unknown,
        }
        Handled::Known
    }
}

impl Translator for Codex {
    fn line(&mut self, event: &Value, out: &mut String, seen: &mut Observed) -> Handled {
        match str_of(event, "type").unwrap_or("") {
            "thread.started" => {
                if let Some(thread) = str_of(event, "thread_id") {
                    seen.session_id = Some(thread.to_owned());
                    out.push_str(&format!("codex session {thread}\n"));
                }
                seen.activity = Some("starting".to_owned());
            }
            "turn.started" => seen.activity = Some("waiting for the model".to_owned()),
            phase @ ("item.started" | "item.updated" | "item.completed") => {
                let Some(item) = event.get("item") else { return Handled::Unknown };
                if phase == "item.updated" && str_of(item, "type") != Some("todo_list") {
                    return Handled::Known;
                }
                return self.item(phase, item, out, seen);
            }
            "turn.completed" => {
                let reported = event.get("usage").cloned().unwrap_or(Value::Null);
                let turn = Usage {
                    input_tokens: u64_of(&reported, "input_tokens"),
                    cached_input_tokens: u64_of(&reported, "cached_input_tokens"),
                    output_tokens: u64_of(&reported, "output_tokens"),
                    reasoning_output_tokens: u64_of(&reported, "reasoning_output_tokens"),
                    cost_usd: None,
                };
                out.push_str(&tokens_line(&turn));
                let total = seen.usage.get_or_insert_with(Usage::default);
                total.input_tokens += turn.input_tokens;
                total.cached_input_tokens += turn.cached_input_tokens;
                total.output_tokens += turn.output_tokens;
                total.reasoning_output_tokens += turn.reasoning_output_tokens;
                seen.activity = Some("turn done".to_owned());
                seen.finished = true;
            }
            "turn.failed" => {
                let message = event.get("error").and_then(|error| str_of(error, "message")).unwrap_or("(no message)");
                out.push_str(&format!("turn failed: {message}\n"));
                seen.activity = Some(format!("failed: {}", short(message)));
                seen.failure = Some(message.to_owned());
            }
            "error" => {
                let message = str_of(event, "message").unwrap_or("(no message)");
                out.push_str(&format!("error: {message}\n"));
            }
            _ => return Handled::Unknown,
        }
        Handled::Known
    }
}
