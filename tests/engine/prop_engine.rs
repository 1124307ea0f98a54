//! Property tests: the meta parser and the tail reader on arbitrary input.
//! (libFuzzer needs a nightly toolchain, which this project's machines cannot fetch;
//! proptest explores the same inputs on stable and shrinks failures.)
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use codex_async::jobs::output::tail::{TRUNCATED_MARKER, screen_lines, tail_of};
use codex_async::jobs::{JobMeta, Status, Timestamp};
use proptest::prelude::*;

/// The tail computed the slow way: every line of the whole input.
fn model_tail(bytes: &[u8], max_lines: usize, max_chars: usize) -> String {
    if max_lines == 0 || max_chars == 0 {
        return String::new();
    }
    let lines = screen_lines(bytes);
    let text = lines[lines.len().saturating_sub(max_lines)..].join("\n");
    let count = text.chars().count();
    if count > max_chars { format!("{TRUNCATED_MARKER}{}", text.chars().skip(count - max_chars).collect::<String>()) } else { text }
}

fn output_bytes(with_carriage_returns: bool) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => "[a-z ]{0,12}".prop_map(String::into_bytes),
        3 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just("日本".as_bytes().to_vec()),
        1 => Just(vec![0xff, 0xfe]),
        1 => Just(b"\x1b[31m".to_vec()),
        1 => prop::collection::vec(b'x'..=b'y', 0..3000),
    ];
    let carriage = if with_carriage_returns { 1 } else { 0 };
    prop::collection::vec(prop_oneof![8 => piece, carriage => Just(b"\r".to_vec())], 0..200).prop_map(|pieces| pieces.concat())
}

proptest! {
    // PROPTEST_CASES sets the number of cases (256 by default; longer runs are done by hand).
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn tail_matches_the_whole_file_model(bytes in output_bytes(false), max_lines in 0usize..50, max_chars in 1usize..5000) {
        let got = tail_of(&mut Cursor::new(&bytes), bytes.len() as u64, max_lines, max_chars).unwrap();
        prop_assert_eq!(got, model_tail(&bytes, max_lines, max_chars));
    }

    #[test]
    fn tail_with_carriage_returns_stays_bounded(bytes in output_bytes(true), max_lines in 0usize..50, max_chars in 1usize..5000) {
        let got = tail_of(&mut Cursor::new(&bytes), bytes.len() as u64, max_lines, max_chars).unwrap();
        let body = got.strip_prefix(TRUNCATED_MARKER).unwrap_or(&got);
        prop_assert!(body.chars().count() <= max_chars);
        prop_assert!(body.split('\n').count() <= max_lines.max(1));
        prop_assert!(!body.contains('\r'));
    }

    #[test]
    fn meta_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = JobMeta::from_json(&bytes);
    }

    #[test]
    fn meta_parser_never_panics_on_json_of_any_shape(value in arbitrary_json()) {
        let _ = JobMeta::from_json(value.to_string().as_bytes());
    }

    #[test]
    fn any_meta_round_trips(
        prompt in "\\PC{0,200}",
        cwd in "/[a-z/ é]{0,40}",
        status in prop::sample::select(Status::ALL.to_vec()),
        exit_code in prop::option::of(-1000i64..1000),
        pid in prop::option::of(1i64..4_000_000),
        micros in 0i64..4_000_000_000_000_000,
        extra_key in "[a-z_]{1,10}",
        extra_value in arbitrary_json(),
    ) {
        let at = Timestamp(chrono::DateTime::from_timestamp_micros(micros).unwrap());
        let mut meta = JobMeta::from_json(br#"{"job_id":"abcd1234","status":"running","prompt":"","cwd":""}"#).unwrap();
        meta.prompt = prompt;
        meta.cwd = cwd;
        meta.status = status;
        meta.exit_code = exit_code;
        meta.pid = pid;
        meta.started_at = Some(at);
        meta.finished_at = Some(at);
        let known = ["job_id", "status", "prompt", "cwd", "approval_policy", "pid", "started_at", "finished_at", "exit_code", "agent", "command",
            "pgid", "supervisor_pid", "supervisor_start_ticks", "signal", "created_at", "note"];
        if !known.contains(&extra_key.as_str()) {
            meta.extra.insert(extra_key, extra_value);
        }
        prop_assert_eq!(JobMeta::from_json(&meta.to_json()).unwrap(), meta);
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof!["job_id", "status", "prompt", "cwd", "pid", "exit_code", "started_at", "[a-z]{1,6}"],
                inner,
                0..8
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}
