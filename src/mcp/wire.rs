//! Every incoming JSON-RPC message is looked at before rmcp sees it, so that what a
//! hurried client sends gets an answer that says what was wrong. rmcp drops a line that
//! is not JSON without a word (on stdio), answers a request without a method with an
//! error that carries no `id`, names an unknown method by its bare name, and reads a
//! known method with bad parameters as an unknown one. Here:
//!
//! - not JSON → `-32700` parse error (`id: null`);
//! - JSON that is not a request, notification or response → `-32600`, carrying the
//!   message's `id` when it has one;
//! - an unknown method → `-32601` naming it;
//! - `tools/call`, `resources/read`, `resources/subscribe` and `resources/unsubscribe`
//!   without their required string parameter → `-32602` naming it.
//!
//! Everything else goes to rmcp unchanged.

use rmcp::model::{ClientRequest, JsonRpcMessage};
use rmcp::service::{RoleServer, RxJsonRpcMessage};
use serde_json::{Value, json};

/// The requests rmcp routes (its `ClientRequest`); anything else is unknown here.
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "resources/directory/read",
    "tools/call",
    "tools/list",
    "subscriptions/listen",
    "server/discover",
    "tasks/get",
    "tasks/list",
    "tasks/cancel",
    "tasks/update",
    "tasks/result",
    "skills/list",
    "skills/get",
];

/// Required string parameters of the methods whose parameters are checked here.
const REQUIRED: &[(&str, &str)] =
    &[("tools/call", "name"), ("resources/read", "uri"), ("resources/subscribe", "uri"), ("resources/unsubscribe", "uri")];

/// What to do with one incoming message.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Hand it to rmcp.
    Pass,
    /// Answer it with this error response instead.
    Reply { status: ReplyKind, body: Value },
}

/// Why a message is answered here (the HTTP status follows from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
}

pub fn error(id: Option<&Value>, code: i64, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id.cloned().unwrap_or(Value::Null), "error": {"code": code, "message": message}})
}

/// Judges one message (the bytes of one stdio line or one HTTP body).
#[cfg(test)]
pub fn check(bytes: &[u8]) -> Verdict {
    match parse(bytes) {
        Ok(value) => check_value(&value),
        Err(verdict) => verdict,
    }
}

/// The bytes as JSON (a UTF-8 byte order mark skipped), or the parse error's answer.
pub fn parse(bytes: &[u8]) -> Result<Value, Verdict> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|err| {
        let message = format!("parse error: the message is not JSON ({err})");
        Verdict::Reply { status: ReplyKind::ParseError, body: error(None, -32700, message) }
    })
}

/// What rmcp read from a message that passed [`check_value`]: a request of a known
/// method that rmcp could only read as a custom one had parameters of the wrong shape,
/// and gets `-32602` with its id (rmcp would answer that the method does not exist).
pub fn check_read(message: &RxJsonRpcMessage<RoleServer>) -> Verdict {
    let JsonRpcMessage::Request(request) = message else { return Verdict::Pass };
    let ClientRequest::CustomRequest(custom) = &request.request else { return Verdict::Pass };
    if !METHODS.contains(&custom.method.as_str()) {
        return Verdict::Pass;
    }
    let id = serde_json::to_value(&request.id).unwrap_or(Value::Null);
    let message = format!("invalid params for {}: they do not have the shape this method takes", custom.method);
    Verdict::Reply { status: ReplyKind::InvalidParams, body: error(Some(&id), -32602, message) }
}

/// Judges one message already read as JSON.
pub fn check_value(value: &Value) -> Verdict {
    let Value::Object(message) = value else {
        let what = if value.is_array() { "a batch (an array); send one message at a time" } else { "not a JSON-RPC object" };
        return Verdict::Reply { status: ReplyKind::InvalidRequest, body: error(None, -32600, format!("invalid request: {what}")) };
    };
    let id = message.get("id");
    let invalid =
        |why: &str| Verdict::Reply { status: ReplyKind::InvalidRequest, body: error(id, -32600, format!("invalid request: {why}")) };
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid("\"jsonrpc\": \"2.0\" is required");
    }
    let Some(method) = message.get("method") else {
        // A response to something the server asked is fine; anything else is not a message.
        return if message.contains_key("result") || message.contains_key("error") {
            Verdict::Pass
        } else {
            invalid("a request needs a \"method\"")
        };
    };
    let Some(method) = method.as_str() else { return invalid("\"method\" must be a string") };
    let Some(id) = id else {
        // Notifications get no answer, whatever they are.
        return Verdict::Pass;
    };
    if !METHODS.contains(&method) {
        let shown: String = method.chars().take(100).collect();
        let message = format!("method not found: {shown:?} is not a method of this server");
        return Verdict::Reply { status: ReplyKind::MethodNotFound, body: error(Some(id), -32601, message) };
    }
    if let Some((_, name)) = REQUIRED.iter().find(|(required_by, _)| *required_by == method) {
        let given = message.get("params").and_then(|params| params.get(*name));
        if !given.is_some_and(Value::is_string) {
            let message = format!("invalid params for {method}: \"{name}\" (a string) is required");
            return Verdict::Reply { status: ReplyKind::InvalidParams, body: error(Some(id), -32602, message) };
        }
    }
    Verdict::Pass
}

/// The longest line read over stdio; a longer one is answered with an error and skipped.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// What becomes of one line read from a stream of messages.
pub enum Judged {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    Answer(serde_json::Value),
    /// A blank line, or a notification rmcp does not know (notifications get no answer).
    Nothing,
}

/// Reads one line (without its `\n`) once: a message for rmcp, an answer, or nothing.
pub fn judge(line: &[u8]) -> Judged {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Judged::Nothing;
    }
    let value = match parse(line) {
        Ok(value) => value,
        Err(Verdict::Reply { body, .. }) => return Judged::Answer(body),
        Err(Verdict::Pass) => return Judged::Nothing,
    };
    match check_value(&value) {
        Verdict::Reply { body, .. } => return Judged::Answer(body),
        Verdict::Pass => {}
    }
    let id = value.get("id").cloned();
    match serde_json::from_value(value) {
        Ok(message) => match check_read(&message) {
            Verdict::Pass => Judged::Message(Box::new(message)),
            Verdict::Reply { body, .. } => Judged::Answer(body),
        },
        Err(err) => match id {
            Some(id) => Judged::Answer(error(Some(&id), -32600, format!("invalid request: {err}"))),
            None => {
                tracing::debug!(%err, "a notification of an unknown shape; ignored");
                Judged::Nothing
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(bytes: &str) -> Value {
        match check(bytes.as_bytes()) {
            Verdict::Reply { body, .. } => body,
            Verdict::Pass => panic!("{bytes} passed"),
        }
    }

    #[test]
    fn hostile_messages_get_answers_with_their_ids() {
        assert_eq!(reply("not json")["error"]["code"], -32700);
        assert_eq!(reply("not json")["id"], Value::Null);
        let missing = reply(r#"{"jsonrpc":"2.0","id":7}"#);
        assert_eq!((missing["id"].clone(), missing["error"]["code"].clone()), (json!(7), json!(-32600)));
        let unknown = reply(r#"{"jsonrpc":"2.0","id":"x","method":"no/such/method"}"#);
        assert_eq!(unknown["error"]["code"], -32601);
        assert!(unknown["error"]["message"].as_str().unwrap().contains("no/such/method"));
        assert_eq!(unknown["id"], "x");
        let params = reply(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#);
        assert_eq!(params["error"]["code"], -32602);
        assert_eq!(reply("[1,2]")["error"]["code"], -32600);
        assert_eq!(reply("42")["error"]["code"], -32600);
        assert_eq!(reply(r#"{"id":1,"method":"ping"}"#)["error"]["code"], -32600, "jsonrpc 2.0 is required");
    }

    #[test]
    fn good_messages_pass() {
        for good in [
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/whatever"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"codex_list"}}"#,
            r#"{"jsonrpc":"2.0","id":9,"result":{}}"#,
        ] {
            assert_eq!(check(good.as_bytes()), Verdict::Pass, "{good}");
        }
    }
}
