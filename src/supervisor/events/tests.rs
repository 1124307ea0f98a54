use super::shared::ACTIVITY_CHARS;
use super::*;
use crate::jobs::Usage;

fn fixture(agent: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{agent}-events/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn usage(input: u64, cached: u64, output: u64, reasoning: u64) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        cached_input_tokens: cached,
        output_tokens: output,
        reasoning_output_tokens: reasoning,
        cost_usd: None,
    })
}

/// The activity after each line of a stream, with repeats folded.
fn activities(stream: Stream, text: &str) -> Vec<String> {
    let mut reader = LineTranslator::new(stream);
    let mut out = String::new();
    let mut seen: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        reader.feed(line.as_bytes(), &mut out);
        if let Some(activity) = &reader.seen.activity
            && seen.last() != Some(activity)
        {
            seen.push(activity.clone());
        }
    }
    seen
}

#[test]
fn recorded_codex_streams_read_as_transcripts() {
    for name in ["answer", "tool", "resume", "stdin-prompt", "unreachable"] {
        let (transcript, _) = translate_all(Stream::CodexJson, &fixture("codex", name));
        insta::assert_snapshot!(format!("codex_{name}"), transcript);
    }
}

#[test]
fn recorded_codex_streams_give_session_usage_and_failure() {
    let (_, answer) = translate_all(Stream::CodexJson, &fixture("codex", "answer"));
    assert_eq!(answer.session_id.as_deref(), Some("01a200e4-ffa2-79d1-a693-7d6df5f8f223"));
    assert_eq!(answer.usage, usage(10, 0, 5, 0));
    assert_eq!(answer.failure, None);

    let (_, resumed) = translate_all(Stream::CodexJson, &fixture("codex", "resume"));
    assert_eq!(resumed.session_id, answer.session_id, "a resumed run keeps the thread id");
    assert_eq!(resumed.usage, usage(20, 0, 10, 0));

    let (transcript, tool) = translate_all(Stream::CodexJson, &fixture("codex", "tool"));
    assert!(transcript.contains("$ printf 'hello from a tool\\n'; exit 3\nhello from a tool\n↳ exit 3\n"), "{transcript}");
    assert_eq!(tool.failure, None, "a failed tool is not a failed run");

    let (_, unreachable) = translate_all(Stream::CodexJson, &fixture("codex", "unreachable"));
    assert_eq!(unreachable.failure.as_deref(), Some("Connection failed: error sending request"));
    assert_eq!(unreachable.usage, None);
}

/// A stream with what the recorded ones lack: reasoning, file changes, a plan, an MCP
/// call, a web search, two turns, an unknown event, a line that is not JSON.
const RICH: &str = r#"{"type":"thread.started","thread_id":"t-1"}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"r1","type":"reasoning","text":""}}
{"type":"item.completed","item":{"id":"r1","type":"reasoning","text":"**Planning** the change"}}
{"type":"item.started","item":{"id":"c1","type":"command_execution","command":"bash -lc 'cargo test'","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"c1","type":"command_execution","command":"bash -lc 'cargo test'","aggregated_output":"test result: ok\n","exit_code":0,"status":"completed"}}
{"type":"item.started","item":{"id":"f1","type":"file_change","changes":[{"path":"src/lib.rs","kind":"update"}],"status":"in_progress"}}
{"type":"item.completed","item":{"id":"f1","type":"file_change","changes":[{"path":"src/lib.rs","kind":"update"},{"path":"src/new.rs","kind":"add"}],"status":"completed"}}
{"type":"item.started","item":{"id":"p1","type":"todo_list","items":[{"text":"read","completed":true},{"text":"fix","completed":false}]}}
{"type":"item.updated","item":{"id":"p1","type":"todo_list","items":[{"text":"read","completed":true},{"text":"fix","completed":true}]}}
{"type":"item.started","item":{"id":"m1","type":"mcp_tool_call","server":"docs","tool":"search","status":"in_progress"}}
{"type":"item.completed","item":{"id":"m1","type":"mcp_tool_call","server":"docs","tool":"search","status":"completed"}}
{"type":"item.started","item":{"id":"w1","type":"web_search","query":"tokio pipe"}}
{"type":"item.completed","item":{"id":"w1","type":"web_search","query":"tokio pipe"}}
{"type":"item.completed","item":{"id":"a1","type":"agent_message","text":"Fixed the parser."}}
{"type":"turn.completed","usage":{"input_tokens":1000,"cached_input_tokens":200,"output_tokens":50,"reasoning_output_tokens":20}}
{"type":"turn.started"}
{"type":"session.renamed","name":"parser"}
warning: this line is not JSON
{"type":"item.completed","item":{"id":"a2","type":"agent_message","text":"Also added a test."}}
{"type":"turn.completed","usage":{"input_tokens":300,"cached_input_tokens":100,"output_tokens":7,"reasoning_output_tokens":0}}
"#;

#[test]
fn every_kind_of_codex_event_reads_and_usage_sums_over_turns() {
    let (transcript, seen) = translate_all(Stream::CodexJson, RICH.as_bytes());
    insta::assert_snapshot!("codex_rich", transcript);
    assert_eq!(seen.session_id.as_deref(), Some("t-1"));
    assert_eq!(seen.usage, usage(1300, 300, 57, 20));
    assert!(transcript.contains("{\"type\":\"session.renamed\",\"name\":\"parser\"}\n"), "an unknown event passes as it came");
    assert!(transcript.contains("warning: this line is not JSON\n"), "a line that is not JSON passes as it came");
}

#[test]
fn codex_activity_follows_the_stream() {
    assert_eq!(
        activities(Stream::CodexJson, RICH),
        [
            "starting",
            "waiting for the model",
            "thinking",
            "running: cargo test",
            "waiting for the model",
            "editing: src/lib.rs",
            "waiting for the model",
            "calling: docs.search",
            "waiting for the model",
            "searching: tokio pipe",
            "answering",
            "turn done",
            "waiting for the model",
            "answering",
            "turn done",
        ]
    );
}

#[test]
fn a_cut_last_line_is_read_at_the_end() {
    let cut = r#"{"type":"thread.started","thread_id":"t-2"}
{"type":"item.completed","item":{"id":"a1","type":"agent_message","text":"partial"#;
    let mut reader = LineTranslator::new(Stream::CodexJson);
    let mut out = String::new();
    reader.feed(cut.as_bytes(), &mut out);
    assert_eq!(out, "codex session t-2\n", "the unfinished line waits");
    reader.finish(&mut out);
    assert!(out.ends_with("{\"type\":\"item.completed\",\"item\":{\"id\":\"a1\",\"type\":\"agent_message\",\"text\":\"partial\n"), "{out}");

    // A complete event without its newline is read as one.
    let (transcript, _) =
        translate_all(Stream::CodexJson, br#"{"type":"item.completed","item":{"id":"a","type":"agent_message","text":"last"}}"#);
    assert_eq!(transcript, "last\n");
}

#[test]
fn how_the_bytes_arrive_does_not_change_the_transcript() {
    let whole = translate_all(Stream::CodexJson, RICH.as_bytes());
    for size in [1, 2, 3, 7, 64, 1000] {
        let mut reader = LineTranslator::new(Stream::CodexJson);
        let mut out = String::new();
        for piece in RICH.as_bytes().chunks(size) {
            reader.feed(piece, &mut out);
        }
        reader.finish(&mut out);
        assert_eq!((out, reader.seen), whole, "pieces of {size} bytes");
    }
    // CRLF line ends and a multi-byte character cut between pieces.
    let crlf = "{\"type\":\"item.completed\",\"item\":{\"id\":\"a\",\"type\":\"agent_message\",\"text\":\"naïve ✓\"}}\r\nplain ✓\r\n";
    let mut reader = LineTranslator::new(Stream::CodexJson);
    let mut out = String::new();
    for piece in crlf.as_bytes().chunks(1) {
        reader.feed(piece, &mut out);
    }
    assert_eq!(out, "naïve ✓\nplain ✓\n");
}

#[test]
fn recorded_claude_streams() {
    for name in ["answer", "tool", "not-logged-in", "interrupted"] {
        let (transcript, _) = translate_all(Stream::ClaudeStreamJson, &fixture("claude", name));
        insta::assert_snapshot!(format!("claude_{name}"), transcript);
    }
    let (_, answer) = translate_all(Stream::ClaudeStreamJson, &fixture("claude", "answer"));
    assert!(answer.finished);
    assert_eq!(answer.failure, None);
    assert!(answer.session_id.is_some());
    assert!(answer.final_message.is_some());
    assert!(answer.usage.as_ref().is_some_and(|usage| usage.output_tokens > 0));

    let (_, tool) = translate_all(Stream::ClaudeStreamJson, &fixture("claude", "tool"));
    assert_eq!(tool.final_message.as_deref(), Some("FINAL ANSWER (mock). Tool said: hello-from-bash"));
    assert_eq!(tool.usage.as_ref().and_then(|usage| usage.cost_usd), Some(0.00046));

    let (_, denied) = translate_all(Stream::ClaudeStreamJson, &fixture("claude", "not-logged-in"));
    assert_eq!(denied.failure.as_deref(), Some("Not logged in · Please run /login"));
    assert_eq!(denied.final_message, None);

    let (transcript, interrupted) = translate_all(Stream::ClaudeStreamJson, &fixture("claude", "interrupted"));
    assert!(transcript.contains("[Request interrupted by user]"), "{transcript}");
    assert_eq!(interrupted.failure.as_deref(), Some("error_during_execution"));
}

#[test]
fn claude_activity_follows_the_stream() {
    let text = String::from_utf8(fixture("claude", "tool")).unwrap();
    let seen = activities(Stream::ClaudeStreamJson, &text);
    assert_eq!(seen.first().map(String::as_str), Some("waiting for the model"));
    assert!(seen.iter().any(|activity| activity.starts_with("running: ")), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("done"));
}

#[test]
fn recorded_gemini_streams() {
    for name in ["answer", "tool", "terminated"] {
        let (transcript, _) = translate_all(Stream::GeminiStreamJson, &fixture("gemini", name));
        insta::assert_snapshot!(format!("gemini_{name}"), transcript);
    }
    let (_, answer) = translate_all(Stream::GeminiStreamJson, &fixture("gemini", "answer"));
    assert!(answer.finished);
    assert_eq!(answer.failure, None);
    assert!(answer.session_id.is_some());
    assert!(answer.final_message.is_some());

    let (_, tool) = translate_all(Stream::GeminiStreamJson, &fixture("gemini", "tool"));
    assert!(tool.final_message.is_some());
    let text = String::from_utf8(fixture("gemini", "tool")).unwrap();
    assert!(activities(Stream::GeminiStreamJson, &text).iter().any(|activity| activity.starts_with("running: ")));

    let (_, terminated) = translate_all(Stream::GeminiStreamJson, &fixture("gemini", "terminated"));
    assert!(!terminated.finished);
    assert_eq!(terminated.failure.as_deref(), Some("the agent's stream ended without a result"));
}

#[test]
fn plain_agents_pass_everything_through() {
    let text = "{\"type\":\"thread.started\",\"thread_id\":\"x\"}\nhello\n";
    let (transcript, seen) = translate_all(Stream::Plain, text.as_bytes());
    assert_eq!(transcript, text);
    assert_eq!(seen, Observed::default());
}

#[test]
fn short_keeps_one_line() {
    assert_eq!(short("cargo test"), "cargo test");
    assert_eq!(short("cargo test\n  --all"), "cargo test…");
    assert_eq!(short(&"x".repeat(200)).chars().count(), ACTIVITY_CHARS + 1);
    assert_eq!(short("\n\n  first\nsecond"), "first…");
}

#[test]
fn a_line_without_end_is_passed_on_as_text_past_the_limit() {
    let mut reader = LineTranslator::new(Stream::CodexJson);
    let mut out = String::new();
    let chunk = vec![b'z'; 1024 * 1024];
    for _ in 0..20 {
        reader.feed(&chunk, &mut out);
        assert!(reader.pending.len() <= MAX_LINE_BYTES, "held back: {}", reader.pending.len());
    }
    reader.feed(b"\n{\"type\":\"thread.started\",\"thread_id\":\"after\"}\n", &mut out);
    reader.finish(&mut out);
    assert_eq!(out.bytes().filter(|&byte| byte == b'z').count(), 20 * 1024 * 1024, "every byte reached the transcript");
    assert_eq!(reader.seen.session_id.as_deref(), Some("after"), "the stream reads on after it");
}
