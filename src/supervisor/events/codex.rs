//! `codex exec --json` (codex 0.169): `thread.started`, `turn.started`,
//! `item.started`/`item.updated`/`item.completed` (agent messages, reasoning, commands,
//! file changes, MCP tool calls, web searches, plans, errors), `turn.completed` with
//! usage, `turn.failed`, and top-level `error`. A resumed run reports the usage of the
//! whole conversation; this job records what its own stream says.
//!
//! Events are read into borrowed structs, not a JSON tree: a stream of thousands of
//! events a second costs the supervisor little. An event whose fields have shapes not
//! expected here goes to the transcript as it came.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Deserialize;

use super::shared::{Handled, Observed, Translator, push_block, short, tokens_line};
use crate::jobs::Usage;

#[derive(Default)]
pub struct Codex {
    /// Commands whose start was shown (their end shows only the output).
    shown: HashSet<String>,
}

type Text<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    thread_id: Text<'a>,
    #[serde(borrow, default)]
    item: Option<Item<'a>>,
    #[serde(default)]
    usage: Option<TurnUsage>,
    #[serde(borrow, default)]
    error: Option<Message<'a>>,
    #[serde(borrow, default)]
    message: Text<'a>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    text: Text<'a>,
    #[serde(borrow, default)]
    command: Text<'a>,
    #[serde(borrow, default)]
    aggregated_output: Text<'a>,
    #[serde(default)]
    exit_code: Option<i64>,
    #[serde(borrow, default)]
    status: Text<'a>,
    #[serde(borrow, default)]
    changes: Vec<Change<'a>>,
    #[serde(borrow, default)]
    server: Text<'a>,
    #[serde(borrow, default)]
    tool: Text<'a>,
    #[serde(borrow, default)]
    query: Text<'a>,
    #[serde(borrow, default)]
    items: Option<Vec<Todo<'a>>>,
    #[serde(borrow, default)]
    message: Text<'a>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow, default)]
    path: Text<'a>,
    #[serde(borrow, default)]
    kind: Text<'a>,
}

#[derive(Deserialize)]
struct Todo<'a> {
    #[serde(borrow, default)]
    text: Text<'a>,
    #[serde(default)]
    completed: bool,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    message: Text<'a>,
}

#[derive(Default, Deserialize)]
struct TurnUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cached_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    reasoning_output_tokens: u64,
}

fn text<'t>(value: &'t Text<'_>) -> &'t str {
    value.as_deref().unwrap_or("")
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
    fn item(&mut self, phase: &str, item: &Item<'_>, out: &mut String, seen: &mut Observed) -> Handled {
        let done = phase == "item.completed";
        match item.kind.as_ref() {
            "agent_message" => {
                if done {
                    push_block(out, text(&item.text));
                    seen.activity = Some("answering".to_owned());
                }
            }
            "reasoning" => {
                if done && let Some(thought) = item.text.as_deref().filter(|thought| !thought.trim().is_empty()) {
                    push_block(out, &format!("thinking: {}", thought.trim()));
                }
                seen.activity = Some("thinking".to_owned());
            }
            "command_execution" => {
                let command = command_text(text(&item.command));
                let id = text(&item.id);
                if !self.shown.contains(id) {
                    out.push_str(&format!("$ {command}\n"));
                    if !done {
                        self.shown.insert(id.to_owned());
                    }
                }
                if done {
                    push_block(out, text(&item.aggregated_output));
                    match item.exit_code {
                        Some(code) => out.push_str(&format!("↳ exit {code}\n")),
                        None => out.push_str(&format!("↳ {}\n", item.status.as_deref().unwrap_or("ended"))),
                    }
                    self.shown.remove(id);
                    seen.activity = Some("waiting for the model".to_owned());
                } else {
                    seen.activity = Some(format!("running: {}", short(&command)));
                }
            }
            "file_change" => {
                if done {
                    for change in &item.changes {
                        out.push_str(&format!(
                            "edited {} ({})\n",
                            change.path.as_deref().unwrap_or("?"),
                            change.kind.as_deref().unwrap_or("change")
                        ));
                    }
                    seen.activity = Some("waiting for the model".to_owned());
                } else if let Some(change) = item.changes.first() {
                    seen.activity = Some(format!("editing: {}", short(change.path.as_deref().unwrap_or("?"))));
                }
            }
            "mcp_tool_call" => {
                let name = format!("{}.{}", item.server.as_deref().unwrap_or("?"), item.tool.as_deref().unwrap_or("?"));
                if done {
                    out.push_str(&format!("mcp {name}: {}\n", item.status.as_deref().unwrap_or("done")));
                    seen.activity = Some("waiting for the model".to_owned());
                } else {
                    out.push_str(&format!("mcp {name}\n"));
                    seen.activity = Some(format!("calling: {name}"));
                }
            }
            "web_search" => {
                let query = text(&item.query);
                if done {
                    out.push_str(&format!("search: {query}\n"));
                } else {
                    seen.activity = Some(format!("searching: {}", short(query)));
                }
            }
            "todo_list" => {
                if let Some(items) = &item.items {
                    out.push_str("plan:\n");
                    for entry in items {
                        let mark = if entry.completed { "x" } else { " " };
                        out.push_str(&format!("  [{mark}] {}\n", text(&entry.text)));
                    }
                }
            }
            "error" => {
                if done {
                    out.push_str(&format!("warning: {}\n", text(&item.message)));
                }
            }
            _ => return Handled::Unknown,
        }
        Handled::Known
    }
}

impl Translator for Codex {
    fn line(&mut self, line: &[u8], out: &mut String, seen: &mut Observed) -> Handled {
        let Ok(event) = serde_json::from_slice::<Event<'_>>(line) else { return Handled::Unknown };
        match event.kind.as_ref() {
            "thread.started" => {
                if let Some(thread) = event.thread_id.as_deref() {
                    seen.session_id = Some(thread.to_owned());
                    out.push_str(&format!("codex session {thread}\n"));
                }
                seen.activity = Some("starting".to_owned());
            }
            "turn.started" => seen.activity = Some("waiting for the model".to_owned()),
            phase @ ("item.started" | "item.updated" | "item.completed") => {
                let Some(item) = &event.item else { return Handled::Unknown };
                if phase == "item.updated" && item.kind != "todo_list" {
                    return Handled::Known;
                }
                return self.item(phase, item, out, seen);
            }
            "turn.completed" => {
                let reported = event.usage.unwrap_or_default();
                let turn = Usage {
                    input_tokens: reported.input_tokens,
                    cached_input_tokens: reported.cached_input_tokens,
                    output_tokens: reported.output_tokens,
                    reasoning_output_tokens: reported.reasoning_output_tokens,
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
                let message = event.error.as_ref().and_then(|error| error.message.as_deref()).unwrap_or("(no message)");
                out.push_str(&format!("turn failed: {message}\n"));
                seen.activity = Some(format!("failed: {}", short(message)));
                seen.failure = Some(message.to_owned());
                seen.limit = super::limits::codex(message, chrono::Utc::now());
            }
            "error" => out.push_str(&format!("error: {}\n", event.message.as_deref().unwrap_or("(no message)"))),
            _ => return Handled::Unknown,
        }
        Handled::Known
    }
}
