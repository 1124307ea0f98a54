//! The bearer token an HTTP entry carries, and keeping it out of what install shows:
//! which tokens to mask (the current one and every one an install wrote), and the masking.

use std::path::Path;

use serde_json::Value;

use super::edit::Applied;
use super::record::Records;

/// Shown, and used while deciding, in place of a token that is not made yet.
pub const TOKEN_STAND_IN: &str = "<token>";

/// The token as it is now, without making one.
pub fn current_token(home: &Path) -> Option<String> {
    let text = std::fs::read_to_string(crate::mcp::token::path(home)).ok()?;
    let token = text.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// The token an HTTP entry is to carry, when there is one already: the one in
/// `token_file` (the file the server is given with `--token-file`), else the home's.
pub fn known_token(home: &Path, token_file: Option<&Path>) -> Result<Option<String>, String> {
    match token_file {
        Some(file) => {
            crate::mcp::token::read_given_file(file).map(|(_, token)| Some(token)).map_err(|err| format!("the token file: {err}"))
        }
        None => Ok(current_token(home)),
    }
}

/// The home's token, made now if there is none.
pub fn make_token(home: &Path) -> Result<String, String> {
    crate::mcp::token::load_or_create(home).map_err(|err| format!("the token file {}: {err}", crate::mcp::token::path(home).display()))
}

/// Bearer tokens in `value` (`"Bearer X"` anywhere in it), but not a `${VARIABLE}`.
fn bearer_tokens(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Some(token) = text.strip_prefix("Bearer ")
                && !token.starts_with('$')
                && !found.iter().any(|have| have == token)
            {
                found.push(token.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| bearer_tokens(item, found)),
        Value::Object(map) => map.values().for_each(|item| bearer_tokens(item, found)),
        _ => {}
    }
}

/// What a diff or message must not show: the token as it is now, `token` (the one being
/// written), and every token an earlier install wrote or replaced, which a file can still
/// hold after `codex-async token --rotate`.
pub fn secrets(home: &Path, records: &Records, token: Option<&str>) -> Vec<String> {
    let mut found: Vec<String> = current_token(home).into_iter().chain(token.map(str::to_owned)).collect();
    for applied in records.files.iter().flat_map(|record| &record.applied) {
        if let Applied::Entry { value, previous, .. } = applied {
            bearer_tokens(value, &mut found);
            previous.iter().for_each(|previous| bearer_tokens(previous, &mut found));
        }
    }
    found.retain(|secret| !secret.is_empty() && secret != TOKEN_STAND_IN);
    // The longest first, so that one token inside another is not masked half.
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    found
}

/// Below this length a "token" (one a user wrote by hand) is masked only after `Bearer `,
/// so that masking it cannot garble the rest of the text.
const SHORTEST_BARE_SECRET: usize = 16;

/// `text` with each of `secrets` shown as `<token>`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut masked = text.to_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        masked = if secret.len() >= SHORTEST_BARE_SECRET {
            masked.replace(secret.as_str(), "<token>")
        } else {
            masked.replace(&format!("Bearer {secret}"), "Bearer <token>")
        };
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked() {
        let long = "0123456789abcdef0123".to_owned();
        let text = format!("\"Authorization\": \"Bearer {long}\", \"x\": \"{long}\", \"Bearer abc\", \"abc\"");
        assert_eq!(
            mask(&text, &[long.clone(), "abc".to_owned()]),
            "\"Authorization\": \"Bearer <token>\", \"x\": \"<token>\", \"Bearer <token>\", \"abc\""
        );
    }
}
