//! The real Claude Code CLI against a loopback stand-in for the Anthropic Messages API
//! that asks for tool calls: the first answer asks for the first tool call, each answer
//! after a tool result asks for the next, and the last one reports every result the
//! model was given (`FINAL: …`), so a test reads what Claude Code told its model.
//!
//! Claude Code is found at `$CLAUDE_CLI_FOR_TESTS`, else `claude` on the PATH; without
//! one, [`real_claude`] says so and the test returns (`.ci/run` installs it from the npm
//! registry and names it, so there the tests always run).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// The Claude Code binary to test against, if this machine has one.
pub fn real_claude() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CLAUDE_CLI_FOR_TESTS").map(PathBuf::from) {
        // Named but missing is a failure, not a skip: CI names the one it installed.
        assert!(path.exists(), "CLAUDE_CLI_FOR_TESTS names {}, which does not exist", path.display());
        return Some(path);
    }
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("claude")).find(|candidate| candidate.is_file()));
    if found.is_none() {
        println!("not run: no Claude Code CLI (set CLAUDE_CLI_FOR_TESTS, or npm install -g @anthropic-ai/claude-code)");
    }
    found
}

/// Its version line (`2.1.197 (Claude Code)`).
pub fn claude_version(claude: &Path) -> String {
    let output = Command::new(claude).arg("--version").output().expect("claude --version");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// One tool call the mock model asks for.
#[derive(Clone, Debug)]
pub struct ToolCall {
    pub name: &'static str,
    pub input: Value,
}

impl ToolCall {
    pub fn bash(command: &str) -> Self {
        ToolCall { name: "Bash", input: json!({"command": command, "description": "a step of the task"}) }
    }
}

/// The mock model: its address, and the request bodies it received.
pub struct MockModel {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<Value>>>,
}

impl MockModel {
    /// Serves on a free loopback port until the test process ends.
    pub fn start(calls: Vec<ToolCall>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (calls, seen) = (calls.clone(), seen.clone());
                std::thread::spawn(move || serve_connection(stream, &calls, &seen));
            }
        });
        MockModel { url, bodies }
    }

    /// The environment a job's Claude Code needs to talk to this mock and nothing else.
    pub fn env(&self, claude: &Path, user_home: &Path) -> Vec<(String, String)> {
        vec![
            ("CLAUDE_BIN".into(), claude.display().to_string()),
            ("ANTHROPIC_BASE_URL".into(), self.url.clone()),
            ("ANTHROPIC_API_KEY".into(), "sk-ant-mock-key".into()),
            ("HOME".into(), user_home.display().to_string()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(), "1".into()),
            ("DISABLE_AUTOUPDATER".into(), "1".into()),
        ]
    }
}

fn serve_connection(stream: TcpStream, calls: &[ToolCall], seen: &Mutex<Vec<Value>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (status, content_type, reply) = answer(&path, &body, calls, seen);
        let head =
            format!("HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nrequest-id: req_mock\r\n\r\n", reply.len());
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(reply.as_bytes())).is_err() {
            return;
        }
    }
}

fn answer(path: &str, body: &[u8], calls: &[ToolCall], seen: &Mutex<Vec<Value>>) -> (&'static str, &'static str, String) {
    let not_found =
        ("404 Not Found", "application/json", r#"{"type":"error","error":{"type":"not_found_error","message":"not found"}}"#.to_owned());
    if !path.starts_with("/v1/messages") || path.contains("count_tokens") {
        return not_found;
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    seen.lock().unwrap().push(body.clone());
    if body["stream"] != true {
        let title = json!({"id": "msg_title", "type": "message", "role": "assistant", "model": "claude-mock",
            "content": [{"type": "text", "text": "Mock title"}], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 5, "output_tokens": 2}});
        return ("200 OK", "application/json", title.to_string());
    }
    let results = tool_results(&body);
    let block = match calls.get(results.len()) {
        Some(call) => {
            json!({"type": "tool_use", "id": format!("toolu_mock_{}", results.len() + 1), "name": call.name, "input": call.input})
        }
        None => json!({"type": "text", "text": format!("FINAL: {}", results.join(" | "))}),
    };
    ("200 OK", "text/event-stream", stream(&block))
}

/// Every tool result in the conversation, as `<content> (is_error=<bool>)`.
fn tool_results(body: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        for block in message["content"].as_array().into_iter().flatten().filter(|block| block["type"] == "tool_result") {
            let content = match &block["content"] {
                Value::String(text) => text.clone(),
                Value::Array(parts) => parts.iter().filter_map(|part| part["text"].as_str()).collect::<Vec<_>>().join(" "),
                _ => String::new(),
            };
            found.push(format!("{content} (is_error={})", block["is_error"].as_bool().unwrap_or(false)));
        }
    }
    found
}

/// One streamed message holding `block`.
fn stream(block: &Value) -> String {
    let is_tool = block["type"] == "tool_use";
    let start = if is_tool {
        json!({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}})
    } else {
        json!({"type": "text", "text": ""})
    };
    let delta = if is_tool {
        json!({"type": "input_json_delta", "partial_json": block["input"].to_string()})
    } else {
        json!({"type": "text_delta", "text": block["text"]})
    };
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant",
            "model": "claude-mock", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 11, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
        ),
        ("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": start})),
        ("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": delta})),
        ("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": if is_tool { "tool_use" } else { "end_turn" },
            "stop_sequence": null}, "usage": {"output_tokens": 7}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    events.iter().map(|(name, data)| format!("event: {name}\ndata: {data}\n\n")).collect()
}
