//! JSON and JSONC files edited in place: every byte outside what is added or removed stays
//! as it was — other keys in their order, the indentation, comments, trailing commas,
//! CRLF line ends.
//!
//! Built on `jsonc-parser`'s concrete syntax tree (dprint's parser, the one its JSON
//! formatter uses), which keeps comments and whitespace as nodes and infers the file's
//! indentation for what is inserted; removing an inserted property gives back the
//! original text.

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstArray, CstContainerNode, CstInputValue, CstNode, CstObject, CstRootNode};
use serde_json::Value;

use super::edit::Doc;

/// A parse error with where it is (1-based line and column).
#[derive(Debug)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

pub struct JsonDoc {
    root: CstRootNode,
}

/// Strict JSON, or what VS Code's JSONC allows besides: comments and trailing commas.
fn options(comments: bool) -> ParseOptions {
    ParseOptions {
        allow_comments: comments,
        allow_loose_object_property_names: false,
        allow_trailing_commas: comments,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

fn input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(flag) => CstInputValue::Bool(*flag),
        Value::Number(number) => CstInputValue::Number(number.to_string()),
        Value::String(text) => CstInputValue::String(text.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(input).collect()),
        Value::Object(map) => CstInputValue::Object(map.iter().map(|(key, value)| (key.clone(), input(value))).collect()),
    }
}

impl JsonDoc {
    /// Parses `text`; an empty (or blank) text is an empty document. The top level must be
    /// an object.
    pub fn parse(text: &str, comments: bool) -> Result<JsonDoc, JsonError> {
        // The syntax tree takes comments and missing commas whatever the options say, so
        // the text is checked first: strict JSON by serde_json (as strict as the clients'
        // own parsers), JSONC by jsonc-parser's value parser, which keeps to the options.
        let located = |err: jsonc_parser::errors::ParseError| JsonError {
            line: err.line_display(),
            column: err.column_display(),
            message: err.kind().to_string(),
        };
        if !comments && !text.trim().is_empty() {
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|err| JsonError {
                line: err.line(),
                column: err.column(),
                message: err.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
            })?;
        } else {
            jsonc_parser::parse_to_value(text, &options(comments)).map_err(located)?;
        }
        let root = CstRootNode::parse(text, &options(comments)).map_err(located)?;
        match root.value() {
            None | Some(CstNode::Container(CstContainerNode::Object(_))) => Ok(JsonDoc { root }),
            Some(_) => Err(JsonError { line: 1, column: 1, message: "the top level is not an object".to_owned() }),
        }
    }

    /// The object at `path`, if every key exists and holds an object.
    fn object(&self, path: &[String]) -> Option<CstObject> {
        let mut object = self.root.object_value()?;
        for key in path {
            object = object.object_value(key)?;
        }
        Some(object)
    }

    /// The object at `path`, made where missing; counts what it made.
    fn object_or_create(&mut self, path: &[String]) -> Result<(CstObject, usize), String> {
        // The document's own object (made for an empty text) is not counted: an empty
        // document is dealt with as a whole (`is_blank`).
        let mut made = 0;
        let mut object = self.root.object_value_or_set();
        for (depth, key) in path.iter().enumerate() {
            object = match object.get(key) {
                Some(prop) => prop.object_value().ok_or_else(|| format!("{} is not an object", path[..=depth].join(".")))?,
                None => {
                    made += 1;
                    object.append(key, CstInputValue::Object(Vec::new()));
                    object.object_value(key).ok_or_else(|| format!("could not add {}", path[..=depth].join(".")))?
                }
            };
        }
        Ok((object, made))
    }

    fn array(&self, path: &[String]) -> Option<CstArray> {
        let (key, parent) = path.split_last()?;
        self.object(parent)?.array_value(key)
    }
}

impl Doc for JsonDoc {
    fn get(&self, path: &[String]) -> Option<Value> {
        let Some((key, parent)) = path.split_last() else {
            return Some(self.root.object_value().and_then(|object| object.to_serde_value()).unwrap_or(Value::Object(Default::default())));
        };
        self.object(parent)?.get(key)?.value()?.to_serde_value()
    }

    fn set(&mut self, path: &[String], value: &Value) -> Result<usize, String> {
        let Some((key, parent)) = path.split_last() else { return Err("no key to set".to_owned()) };
        let (object, made) = self.object_or_create(parent)?;
        match object.get(key) {
            Some(prop) => prop.set_value(input(value)),
            None => {
                object.append(key, input(value));
            }
        }
        Ok(made)
    }

    fn remove(&mut self, path: &[String]) {
        if let Some((key, parent)) = path.split_last()
            && let Some(prop) = self.object(parent).and_then(|object| object.get(key))
        {
            prop.remove();
        }
    }

    fn push_item(&mut self, path: &[String], item: &str) -> Result<usize, String> {
        let Some((key, parent)) = path.split_last() else { return Err("no list to add to".to_owned()) };
        let (object, mut made) = self.object_or_create(parent)?;
        let list = match object.get(key) {
            Some(prop) => match prop.value() {
                Some(CstNode::Container(CstContainerNode::Array(list))) => list,
                _ => return Err(format!("{} is not a list", path.join("."))),
            },
            None => {
                made += 1;
                let list = object.array_value_or_create(key).ok_or_else(|| format!("could not add {}", path.join(".")))?;
                // One item a line, as the clients write their own lists.
                list.ensure_multiline();
                list
            }
        };
        // In a list written on several lines the item gets its own line, as the others.
        list.append(CstInputValue::String(item.to_owned()));
        Ok(made)
    }

    fn remove_item(&mut self, path: &[String], item: &str) {
        let Some(list) = self.array(path) else { return };
        for element in list.elements() {
            if element.as_string_lit().and_then(|text| text.decoded_value().ok()).as_deref() == Some(item) {
                element.remove();
            }
        }
    }

    fn render(&self) -> String {
        self.root.to_string()
    }

    fn is_blank(&self) -> bool {
        let text = self.render();
        self.root.object_value().is_none_or(|object| object.properties().is_empty())
            && text.chars().all(|c| c.is_whitespace() || c == '{' || c == '}')
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::install::edit::key_path;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients").join(name)).unwrap()
    }

    /// Adding then removing gives back the text byte for byte.
    fn round_trip(text: &str, comments: bool, path: &[&str]) -> String {
        let path = key_path(path);
        let mut doc = JsonDoc::parse(text, comments).unwrap();
        let made = doc.set(&path, &json!({"command": "/bin/codex-async", "args": ["serve"]})).unwrap();
        let added = doc.render();
        let mut doc = JsonDoc::parse(&added, comments).unwrap();
        assert_eq!(doc.get(&path), Some(json!({"command": "/bin/codex-async", "args": ["serve"]})));
        doc.remove(&path);
        for depth in 0..made {
            let container = &path[..path.len() - 1 - depth];
            assert_eq!(doc.get(container), Some(json!({})));
            doc.remove(container);
        }
        assert_eq!(doc.render(), text);
        added
    }

    #[test]
    fn fixtures_come_back_byte_for_byte() {
        for (name, comments, key) in [
            ("claude-code.user.json", false, "mcpServers"),
            ("claude-code.mcp.json", false, "mcpServers"),
            ("claude-code.settings.json", false, "mcpServers"),
            ("cursor.mcp.json", false, "mcpServers"),
            ("cursor.permissions.json", true, "mcpServers"),
            ("claude-desktop.json", false, "mcpServers"),
            ("vscode.mcp.json", true, "servers"),
        ] {
            let added = round_trip(&fixture(name), comments, &[key, "codex-async"]);
            assert!(added.contains("\"codex-async\": {"), "{name}: {added}");
        }
    }

    #[test]
    fn shapes_come_back_byte_for_byte() {
        for text in [
            "{}\n",
            "{\n  \"x\": 1\n}\n",
            "{\n  \"mcpServers\": {}\n}\n",
            "{\n\t\"mcpServers\": {\n\t\t\"a\": 1\n\t}\n}",
            "{\r\n  \"mcpServers\": {\r\n    \"a\": 1\r\n  }\r\n}\r\n",
        ] {
            round_trip(text, false, &["mcpServers", "codex-async"]);
        }
        for text in ["{\n  \"mcpServers\": {\n    \"a\": 1, // one\n  },\n}\n", "// top\n{\n  /* in */\n}\n"] {
            round_trip(text, true, &["mcpServers", "codex-async"]);
        }
    }

    #[test]
    fn insertion_takes_the_files_indentation() {
        let added = round_trip("{\n\t\"mcpServers\": {\n\t\t\"a\": 1\n\t}\n}", false, &["mcpServers", "codex-async"]);
        assert!(added.contains("\n\t\t\"codex-async\": {\n\t\t\t\"command\""), "{added}");
        let added = round_trip("{\r\n  \"mcpServers\": {\r\n    \"a\": 1\r\n  }\r\n}\r\n", false, &["mcpServers", "codex-async"]);
        assert!(!added.replace("\r\n", "").contains('\n'), "CRLF stays CRLF: {added:?}");
    }

    #[test]
    fn an_empty_text_becomes_an_object() {
        let mut doc = JsonDoc::parse("", false).unwrap();
        assert!(doc.is_blank());
        assert_eq!(doc.set(&key_path(&["mcpServers", "x"]), &json!(1)).unwrap(), 1);
        assert_eq!(doc.get(&[]), Some(json!({"mcpServers": {"x": 1}})));
        doc.remove(&key_path(&["mcpServers"]));
        assert!(doc.is_blank());
        assert!(!JsonDoc::parse("// note\n{}", true).unwrap().is_blank(), "a comment is content");
    }

    #[test]
    fn items_join_a_list_and_leave_it() {
        let text = fixture("claude-code.settings.json");
        let path = key_path(&["permissions", "allow"]);
        let mut doc = JsonDoc::parse(&text, false).unwrap();
        assert_eq!(doc.push_item(&path, "mcp__codex-async__codex_poll").unwrap(), 0);
        let added = doc.render();
        assert!(added.contains("      \"mcp__sqlite\",\n      \"mcp__codex-async__codex_poll\"\n    ],"), "{added}");
        doc.remove_item(&path, "mcp__codex-async__codex_poll");
        assert_eq!(doc.render(), text);

        let mut doc = JsonDoc::parse("{\n  \"model\": \"opus\"\n}\n", false).unwrap();
        assert_eq!(doc.push_item(&path, "a").unwrap(), 2);
        assert_eq!(doc.get(&path), Some(json!(["a"])));
    }

    #[test]
    fn strict_files_refuse_comments_and_say_where() {
        let err = JsonDoc::parse("{\n  \"a\": 1\n  // no\n}\n", false).err().unwrap();
        assert_eq!(err.line, 3, "{err:?}");
        let err = JsonDoc::parse("{\n  \"a\": 1\n  \"b\": 2\n}\n", true).err().unwrap();
        assert_eq!(err.line, 2, "the comma is missing at the end of line 2: {err:?}");
        assert!(JsonDoc::parse("[1]", false).is_err());
        assert!(JsonDoc::parse("{\n  \"a\": 1, // yes\n}\n", true).is_ok());
    }

    #[test]
    fn something_else_in_the_way_is_refused() {
        let mut doc = JsonDoc::parse("{\"mcpServers\": [1]}", false).unwrap();
        assert!(doc.set(&key_path(&["mcpServers", "codex-async"]), &json!({})).is_err());
        let mut doc = JsonDoc::parse("{\"permissions\": {\"allow\": \"all\"}}", false).unwrap();
        assert!(doc.push_item(&key_path(&["permissions", "allow"]), "x").is_err());
    }
}
