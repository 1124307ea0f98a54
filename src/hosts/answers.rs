//! What a host answers is untrusted input: before anything here uses it, each id in it
//! is checked against the id shape and written as `NAME:ID` (so a caller can hand it
//! straight back), and the answer says which host it came from. An answer that fails
//! a check is refused whole: a host that names a job `../../x` is not half believed.
//!
//! Sizes are bounded where the answer is read (one message at most
//! [`MAX_ANSWER_BYTES`]); text is made safe where it is shown (the CLI's output goes
//! through [`crate::term`]).

use serde_json::Value;

use super::address::qualified;
use crate::jobs::JobId;

/// The largest message a host may send: a list of thousands of jobs fits many times over.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Keys that hold one job id.
const ID_KEYS: [&str; 3] = ["job_id", "parent_job_id", "attempt_group"];
/// Keys that hold a list of job ids.
const ID_LIST_KEYS: [&str; 3] = ["follow_ups", "job_ids", "discarded"];

/// Checks one job's answer (a start, a poll, a cancel, a list row…) from `host`: its
/// `job_id` must be there and every id must have the id shape; each becomes `NAME:ID`,
/// and `host` is added.
pub fn qualify_job(host: &str, answer: &mut Value) -> Result<(), String> {
    let Value::Object(map) = answer else { return Err(format!("expected a JSON object, got {}", kind(answer))) };
    if !map.get("job_id").is_some_and(Value::is_string) {
        return Err("the answer has no job_id".to_owned());
    }
    for key in ID_KEYS {
        match map.get_mut(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) => *id = qualified(host, checked(id, key)?.as_str()),
            Some(other) => return Err(format!("{key} is {}, not an id", kind(other))),
        }
    }
    for key in ID_LIST_KEYS {
        match map.get_mut(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(ids)) => {
                for id in ids {
                    let Value::String(text) = id else { return Err(format!("{key} holds {}, not an id", kind(id))) };
                    *text = qualified(host, checked(text, key)?.as_str());
                }
            }
            Some(other) => return Err(format!("{key} is {}, not a list of ids", kind(other))),
        }
    }
    map.insert("host".to_owned(), Value::String(host.to_owned()));
    Ok(())
}

/// Checks that a qualified answer (see [`qualify_job`]) is about job `asked` (a whole id
/// or its start): a host does not get to answer for another job than the one it was
/// asked about. (A follow-up's answer is about a new job: not checked so.)
pub fn about(host: &str, answer: &Value, asked: &str) -> Result<(), String> {
    let asked = qualified(host, asked);
    let answered = answer.get("job_id").and_then(Value::as_str).unwrap_or_default();
    if answered.starts_with(&asked) {
        Ok(())
    } else {
        Err(format!("asked about job {asked}, it answered about {}", super::error::shown(answered, 80)))
    }
}

/// Checks a `codex_list` answer (`{"result": [rows]}`), each row as [`qualify_job`]; the rows.
pub fn qualify_list(host: &str, answer: Value) -> Result<Vec<Value>, String> {
    let Value::Object(mut map) = answer else { return Err(format!("expected a JSON object, got {}", kind(&answer))) };
    let Some(Value::Array(mut rows)) = map.remove("result") else { return Err("the list has no result array".to_owned()) };
    for row in &mut rows {
        qualify_job(host, row)?;
    }
    Ok(rows)
}

fn checked(id: &str, key: &str) -> Result<JobId, String> {
    JobId::parse(id).map_err(|_| format!("{key} {:?} is not a job id", super::error::shown(id, 80)))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_checked_and_qualified() {
        let mut answer = json!({"job_id": "3f2a9c1d", "status": "done", "parent_job_id": "0badf00d", "follow_ups": ["1234abcd"],
            "attempt_group": null, "prompt": "p"});
        qualify_job("box", &mut answer).unwrap();
        assert_eq!(
            answer,
            json!({"job_id": "box:3f2a9c1d", "status": "done", "parent_job_id": "box:0badf00d", "follow_ups": ["box:1234abcd"],
                "attempt_group": null, "prompt": "p", "host": "box"})
        );
        let rows = qualify_list("gpu", json!({"result": [{"job_id": "a1"}, {"job_id": "b2"}]})).unwrap();
        assert_eq!(rows, [json!({"job_id": "gpu:a1", "host": "gpu"}), json!({"job_id": "gpu:b2", "host": "gpu"})]);
    }

    #[test]
    fn an_answer_with_a_bad_id_is_refused_whole() {
        for bad in [
            json!({"job_id": "../../etc"}),
            json!({"job_id": "a:b"}),
            json!({"job_id": "ok", "parent_job_id": "\u{1b}]0;x\u{7}"}),
            json!({"job_id": "ok", "follow_ups": ["ok", 3]}),
            json!({"job_id": "ok", "job_ids": "ok"}),
            json!({"job_id": 7}),
            json!({"status": "done"}),
            json!(["job_id"]),
        ] {
            let mut answer = bad.clone();
            assert!(qualify_job("box", &mut answer).is_err(), "{bad}");
        }
        assert!(qualify_list("box", json!({"result": [{"job_id": "ok"}, {"job_id": "x/y"}]})).is_err());
        assert!(qualify_list("box", json!({"rows": []})).is_err());
        let mut other = json!({"job_id": "0badf00d"});
        qualify_job("box", &mut other).unwrap();
        assert!(about("box", &other, "3f2a").unwrap_err().contains("asked about job box:3f2a, it answered about box:0badf00d"));
        assert!(about("box", &other, "0bad").is_ok() && about("box", &other, "0badf00d").is_ok());
        let message = qualify_job("box", &mut json!({"job_id": "ok", "parent_job_id": "\u{1b}[2Jx"})).unwrap_err();
        assert!(!message.contains('\u{1b}'), "no escape reaches a message: {message:?}");
    }
}
