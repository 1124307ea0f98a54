//! Every incoming JSON-RPC message is looked at before rmcp sees it, so that what a
//! hurried client sends gets an answer that says what was wrong. rmcp drops a line that
//! is not JSON without a word (on stdio), answers a request without a method with an
//! error that carries no `id`, names an unknown method by its bare name, and reads a
//! known method with bad parameters as an unknown one. Here:
//!
//! - not JSON → `-32700` parse error (`id: null`);
//! - JSON that is not a request, notification or response → `-32600`, carrying the
//!   message's `id` when it has one;
//! - an unknown method → `-32601` naming it; a request of the 2026-07-28 revision (its
//!   `_meta` or, over HTTP, its `MCP-Protocol-Version` header says so) knows only that
//!   revision's methods, so `initialize`, `ping`, `logging/setLevel` and
//!   `resources/subscribe|unsubscribe` are unknown there too, and the answer is HTTP 404
//!   (under 2025-11-25 a 404 would tell the client its session is gone, so legacy
//!   requests keep 200);
//! - `tools/call`, `resources/read`, `resources/subscribe` and `resources/unsubscribe`
//!   without their required string parameter → `-32602` naming it.
//!
//! Everything else goes to rmcp unchanged.

use rmcp::model::{ClientRequest, JsonRpcMessage};
use rmcp::service::{RoleServer, RxJsonRpcMessage};
use serde_json::{Value, json};

/// The requests rmcp routes (its `ClientRequest`); anything else is unknown here. The
/// Tasks extension's `tasks/list` and `tasks/result` are gone from rmcp 3 (the extension
/// removed them), so they are unknown too.
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
    "tasks/cancel",
    "tasks/update",
    "skills/list",
    "skills/get",
];

/// The requests of the 2026-07-28 revision (stateless: no `initialize`, no `ping`, no
/// `logging/setLevel`, no `resources/subscribe`; `subscriptions/listen` instead).
const MODERN_METHODS: &[&str] = &[
    "server/discover",
    "completion/complete",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/directory/read",
    "tools/call",
    "tools/list",
    "subscriptions/listen",
    "tasks/get",
    "tasks/cancel",
    "tasks/update",
    "skills/list",
    "skills/get",
];

/// The first revision whose requests carry their own protocol version (in `_meta`).
pub const MODERN_REVISION: &str = "2026-07-28";

/// The `_meta` key naming a stateless request's revision.
const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// Whether a request speaks the 2026-07-28 revision (or a later one), decided as rmcp
/// decides it: the version in the body's `_meta`, else the one in the transport's
/// header, else legacy. Versions are dates, so they compare as strings.
pub fn is_modern(message: &serde_json::Map<String, Value>, header_version: Option<&str>) -> bool {
    let in_body = message.get("params").and_then(|params| params.get("_meta")).and_then(|meta| meta.get(VERSION_KEY));
    let version = match in_body {
        Some(version) => version.as_str(),
        None => header_version,
    };
    version.is_some_and(|version| version >= MODERN_REVISION)
}

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
    /// An unknown method in a 2026-07-28 request: HTTP 404.
    MethodNotFoundModern,
    /// A request needing a client capability its `_meta` does not declare: HTTP 400.
    MissingCapability,
    InvalidParams,
}

pub fn error(id: Option<&Value>, code: i64, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id.cloned().unwrap_or(Value::Null), "error": {"code": code, "message": message}})
}

/// Judges one message (the bytes of one stdio line or one HTTP body).
#[cfg(test)]
pub fn check(bytes: &[u8]) -> Verdict {
    match parse(bytes) {
        Ok(value) => check_value(&value, None),
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

/// Judges one message already read as JSON; `header_version` is the transport's
/// `MCP-Protocol-Version` (HTTP), if any.
pub fn check_value(value: &Value, header_version: Option<&str>) -> Verdict {
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
    // A well-formed `initialize` always selects legacy semantics (a dual-era server serves
    // it whatever the headers say); only one that is not an initialize of the old shape
    // is judged by the stateless revision.
    let legacy_initialize =
        method == "initialize" && message.get("params").and_then(|params| params.get("protocolVersion")).is_some_and(Value::is_string);
    let modern = !legacy_initialize && is_modern(message, header_version);
    let known = if modern { MODERN_METHODS } else { METHODS };
    if !known.contains(&method) {
        let shown: String = method.chars().take(100).collect();
        let message = if modern {
            format!("method not found: {shown:?} is not a method of this server under MCP {MODERN_REVISION}")
        } else {
            format!("method not found: {shown:?} is not a method of this server")
        };
        let status = if modern { ReplyKind::MethodNotFoundModern } else { ReplyKind::MethodNotFound };
        return Verdict::Reply { status, body: error(Some(id), -32601, message) };
    }
    if modern && method == "subscriptions/listen" && asks_for_tasks_undeclared(message) {
        let body = json!({"jsonrpc": "2.0", "id": id, "error": {
            "code": -32021,
            "message": "Missing required client capability: notifications.taskIds needs the io.modelcontextprotocol/tasks extension",
            "data": {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}},
        }});
        return Verdict::Reply { status: ReplyKind::MissingCapability, body };
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

const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// A `subscriptions/listen` naming `taskIds` from a client that did not declare the
/// Tasks extension on that request: the extension says -32021 (rmcp's filter type drops
/// `taskIds` before a handler could tell).
fn asks_for_tasks_undeclared(message: &serde_json::Map<String, Value>) -> bool {
    let Some(params) = message.get("params") else { return false };
    let asks = params.get("notifications").and_then(|filter| filter.get("taskIds")).is_some_and(|ids| !ids.is_null());
    let declared = params
        .get("_meta")
        .and_then(|meta| meta.get("io.modelcontextprotocol/clientCapabilities"))
        .and_then(|capabilities| capabilities.get("extensions"))
        .and_then(|extensions| extensions.get(TASKS_EXTENSION))
        .is_some();
    asks && !declared
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
    match check_value(&value, None) {
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

    fn modern(method: &str) -> String {
        format!(
            r#"{{"jsonrpc":"2.0","id":5,"method":"{method}","params":{{"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
        )
    }

    #[test]
    fn removed_and_unknown_methods_of_the_stateless_revision_are_not_found_with_404() {
        for method in [
            "initialize",
            "ping",
            "logging/setLevel",
            "resources/subscribe",
            "resources/unsubscribe",
            "tasks/list",
            "tasks/result",
            "unknown/method",
        ] {
            let Verdict::Reply { status, body } = check(modern(method).as_bytes()) else { panic!("{method} passed") };
            assert_eq!(
                (status, body["error"]["code"].clone(), body["id"].clone()),
                (ReplyKind::MethodNotFoundModern, json!(-32601), json!(5)),
                "{method}"
            );
        }
        for method in ["server/discover", "tools/list", "prompts/list", "completion/complete", "subscriptions/listen", "tasks/get"] {
            assert_eq!(check(modern(method).as_bytes()), Verdict::Pass, "{method}");
        }
        // The header decides when the body does not say.
        let bare = serde_json::from_str::<Value>(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#).unwrap();
        assert!(matches!(check_value(&bare, Some("2026-07-28")), Verdict::Reply { status: ReplyKind::MethodNotFoundModern, .. }));
        assert_eq!(check_value(&bare, Some("2025-11-25")), Verdict::Pass);
        let old_shape = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
        assert_eq!(check_value(&serde_json::from_str(old_shape).unwrap(), Some("2026-07-28")), Verdict::Pass);
        // Legacy requests keep HTTP 200 for what they do not know, and their removed methods.
        let legacy = reply(r#"{"jsonrpc":"2.0","id":2,"method":"tasks/result","params":{"taskId":"x"}}"#);
        assert_eq!(legacy["error"]["code"], -32601);
        assert!(matches!(
            check(br#"{"jsonrpc":"2.0","id":2,"method":"no/such"}"#),
            Verdict::Reply { status: ReplyKind::MethodNotFound, .. }
        ));
    }

    #[test]
    fn listening_for_tasks_needs_the_tasks_extension() {
        let listen = |capabilities: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":8,"method":"subscriptions/listen","params":{{"notifications":{{"taskIds":["0123abcd"]}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{capabilities}}}}}}}"#
            )
        };
        let Verdict::Reply { status, body } = check(listen("{}").as_bytes()) else { panic!("passed") };
        assert_eq!((status, body["error"]["code"].clone()), (ReplyKind::MissingCapability, json!(-32021)));
        assert_eq!(body["error"]["data"]["requiredCapabilities"]["extensions"], json!({"io.modelcontextprotocol/tasks": {}}));
        assert_eq!(check(listen(r#"{"extensions":{"io.modelcontextprotocol/tasks":{}}}"#).as_bytes()), Verdict::Pass);
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
