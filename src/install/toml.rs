//! TOML files (Codex's `config.toml`) edited with `toml_edit`, which keeps comments,
//! blank lines and the order of everything it is not asked to change.
//!
//! A server goes in as its own `[mcp_servers.NAME]` table, placed right after the other
//! servers' tables (not at the end of the file, past `[projects…]`), with `env` and each
//! tool's approval as sub-tables, as `codex mcp add` writes them.

use serde_json::{Map, Number, Value};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table};

use super::edit::Doc;

pub struct TomlDoc {
    doc: DocumentMut,
    /// Whether every line of the file ends in CRLF: `toml_edit` writes LF only, so the
    /// rendered text is given the file's own line ends back.
    crlf: bool,
}

/// A parse error with where it is (1-based line and column).
#[derive(Debug)]
pub struct TomlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl TomlDoc {
    pub fn parse(text: &str) -> Result<TomlDoc, TomlError> {
        let crlf = text.contains("\r\n") && text.matches('\n').count() == text.matches("\r\n").count();
        text.parse::<DocumentMut>().map(|doc| TomlDoc { doc, crlf }).map_err(|err| {
            let start = err.span().map_or(0, |span| span.start.min(text.len()));
            let before = text.get(..start).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
            TomlError { line, column, message: err.message().trim().to_owned() }
        })
    }
}

fn value_json(value: &toml_edit::Value) -> Value {
    match value {
        toml_edit::Value::String(text) => Value::String(text.value().clone()),
        toml_edit::Value::Integer(number) => Value::Number((*number.value()).into()),
        toml_edit::Value::Float(number) => Number::from_f64(*number.value()).map_or(Value::Null, Value::Number),
        toml_edit::Value::Boolean(flag) => Value::Bool(*flag.value()),
        toml_edit::Value::Datetime(time) => Value::String(time.value().to_string()),
        toml_edit::Value::Array(items) => Value::Array(items.iter().map(value_json).collect()),
        toml_edit::Value::InlineTable(table) => {
            Value::Object(table.iter().map(|(key, value)| (key.to_owned(), value_json(value))).collect())
        }
    }
}

fn item_json(item: &Item) -> Option<Value> {
    match item {
        Item::None => None,
        Item::Value(value) => Some(value_json(value)),
        Item::Table(table) => Some(table_json(table)),
        Item::ArrayOfTables(tables) => Some(Value::Array(tables.iter().map(table_json).collect())),
    }
}

fn table_json(table: &Table) -> Value {
    Value::Object(table.iter().filter_map(|(key, item)| Some((key.to_owned(), item_json(item)?))).collect::<Map<_, _>>())
}

/// A JSON value as a TOML value written inline (`["serve"]`, `{ A = "b" }`).
fn inline_value(value: &Value) -> toml_edit::Value {
    match value {
        Value::Null => toml_edit::Value::from(""),
        Value::Bool(flag) => toml_edit::Value::from(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(whole) => toml_edit::Value::from(whole),
            None => toml_edit::Value::from(number.as_f64().unwrap_or_default()),
        },
        Value::String(text) => toml_edit::Value::from(text.as_str()),
        Value::Array(items) => toml_edit::Value::Array(items.iter().map(inline_value).collect::<Array>()),
        Value::Object(map) => {
            let mut table = InlineTable::new();
            for (key, value) in map {
                table.insert(key, inline_value(value));
            }
            toml_edit::Value::InlineTable(table)
        }
    }
}

/// A JSON object as a `[table]`: objects inside become sub-tables, with no header of
/// their own when they hold only tables (`tools`, whose tools have theirs).
fn table(map: &Map<String, Value>, position: Option<isize>) -> Table {
    let mut table = Table::new();
    table.set_position(position);
    for (key, value) in map {
        let item = match value {
            Value::Object(inner) => {
                let mut sub = self::table(inner, position);
                sub.set_implicit(!inner.is_empty() && inner.values().all(Value::is_object));
                Item::Table(sub)
            }
            other => Item::Value(inline_value(other)),
        };
        table.insert(key, item);
    }
    table
}

/// The last place among `table`'s own and its sub-tables' headers.
fn last_position(table: &Table) -> Option<isize> {
    table.iter().filter_map(|(_, item)| item.as_table().and_then(last_position)).chain(table.position()).max()
}

/// The item at `path`.
fn item_at<'a>(doc: &'a DocumentMut, path: &[String]) -> Option<&'a Item> {
    let mut item = doc.as_item();
    for key in path {
        item = item.get(key.as_str())?;
    }
    Some(item)
}

fn is_table_like(item: &Item) -> bool {
    matches!(item, Item::Table(_) | Item::Value(toml_edit::Value::InlineTable(_)))
}

/// The table (or inline table) at `path`, made (without a header) where missing.
fn table_or_create<'a>(doc: &'a mut DocumentMut, path: &[String], made: &mut usize) -> Result<&'a mut Item, String> {
    let mut item = doc.as_item_mut();
    for (depth, key) in path.iter().enumerate() {
        if item.get(key.as_str()).is_none() {
            match &mut *item {
                Item::Table(table) => {
                    let mut fresh = Table::new();
                    fresh.set_implicit(true);
                    table.insert(key, Item::Table(fresh));
                }
                Item::Value(toml_edit::Value::InlineTable(table)) => {
                    table.insert(key, toml_edit::Value::InlineTable(InlineTable::new()));
                }
                _ => return Err(format!("{} is not a table", path[..depth].join("."))),
            }
            *made += 1;
        }
        item = item.get_mut(key.as_str()).ok_or_else(|| format!("could not add {}", path[..=depth].join(".")))?;
        if !is_table_like(item) {
            return Err(format!("{} is not a table", path[..=depth].join(".")));
        }
    }
    Ok(item)
}

impl Doc for TomlDoc {
    fn get(&self, path: &[String]) -> Option<Value> {
        item_json(item_at(&self.doc, path)?)
    }

    fn set(&mut self, path: &[String], value: &Value) -> Result<usize, String> {
        let Some((key, parent)) = path.split_last() else { return Err("no key to set".to_owned()) };
        let mut made = 0;
        let container = table_or_create(&mut self.doc, parent, &mut made)?;
        match container {
            Item::Table(parent_table) => {
                let item = match value {
                    Value::Object(map) => {
                        // In place of the old table, else right after the last sibling table.
                        let position = match parent_table.get(key) {
                            Some(Item::Table(old)) => old.position(),
                            _ => last_position(parent_table).filter(|_| made == 0),
                        };
                        Item::Table(table(map, position))
                    }
                    other => Item::Value(inline_value(other)),
                };
                parent_table.insert(key, item);
            }
            Item::Value(toml_edit::Value::InlineTable(parent_table)) => {
                parent_table.insert(key, inline_value(value));
            }
            _ => return Err(format!("{} is not a table", parent.join("."))),
        }
        Ok(made)
    }

    fn remove(&mut self, path: &[String]) {
        let Some((key, parent)) = path.split_last() else { return };
        let mut item = self.doc.as_item_mut();
        for step in parent {
            item = match item.get_mut(step) {
                Some(next) => next,
                None => return,
            };
        }
        match item {
            Item::Table(table) => {
                table.remove(key);
            }
            Item::Value(toml_edit::Value::InlineTable(table)) => {
                table.remove(key);
            }
            _ => {}
        }
    }

    fn push_item(&mut self, path: &[String], item: &str) -> Result<usize, String> {
        let Some((key, parent)) = path.split_last() else { return Err("no list to add to".to_owned()) };
        let mut made = 0;
        let container = table_or_create(&mut self.doc, parent, &mut made)?;
        if container.get(key).is_none() {
            match container {
                Item::Table(table) => {
                    table.insert(key, Item::Value(toml_edit::Value::Array(Array::new())));
                }
                Item::Value(toml_edit::Value::InlineTable(table)) => {
                    table.insert(key, toml_edit::Value::Array(Array::new()));
                }
                _ => return Err(format!("{} is not a table", parent.join("."))),
            }
            made += 1;
        }
        match container.get_mut(key).and_then(Item::as_array_mut) {
            Some(list) => {
                list.push(item);
                Ok(made)
            }
            None => Err(format!("{} is not a list", path.join("."))),
        }
    }

    fn remove_item(&mut self, path: &[String], item: &str) {
        let Some((key, parent)) = path.split_last() else { return };
        let mut container = self.doc.as_item_mut();
        for step in parent {
            container = match container.get_mut(step) {
                Some(next) => next,
                None => return,
            };
        }
        if let Some(list) = container.get_mut(key).and_then(Item::as_array_mut) {
            list.retain(|value| value.as_str() != Some(item));
        }
    }

    fn render(&self) -> String {
        let text = self.doc.to_string();
        if self.crlf { text.replace("\r\n", "\n").replace('\n', "\r\n") } else { text }
    }

    fn is_blank(&self) -> bool {
        self.render().trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::install::edit::key_path;

    fn fixture() -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients/codex.config.toml")).unwrap()
    }

    fn entry() -> Value {
        json!({
            "command": "/bin/codex-async",
            "args": ["serve"],
            "tool_timeout_sec": 120,
            "env": {"CODEX_ASYNC_HOME": "/h"},
            "tools": {"codex_start": {"approval_mode": "approve"}},
        })
    }

    #[test]
    fn a_server_goes_after_the_others_and_comes_out_byte_for_byte() {
        let text = fixture();
        let path = key_path(&["mcp_servers", "codex-async"]);
        let mut doc = TomlDoc::parse(&text).unwrap();
        assert_eq!(doc.set(&path, &entry()).unwrap(), 0);
        let added = doc.render();
        let ours = added.find("[mcp_servers.codex-async]").unwrap();
        assert!(ours > added.find("[mcp_servers.linear.tools.list_issues]").unwrap(), "{added}");
        assert!(ours < added.find("[projects.").unwrap(), "{added}");
        assert!(added.contains("\n[mcp_servers.codex-async.env]\nCODEX_ASYNC_HOME = \"/h\"\n"), "{added}");
        assert!(added.contains("\n[mcp_servers.codex-async.tools.codex_start]\napproval_mode = \"approve\"\n"), "{added}");
        assert!(!added.contains("[mcp_servers.codex-async.tools]\n"), "tools has no header of its own: {added}");
        assert!(added.contains("# Docs server used by every project.\n[mcp_servers.docs]"), "comments stay: {added}");
        let mut doc = TomlDoc::parse(&added).unwrap();
        assert_eq!(doc.get(&path), Some(entry()));
        doc.remove(&path);
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn replacing_keeps_the_place() {
        let path = key_path(&["mcp_servers", "codex-async"]);
        let mut doc = TomlDoc::parse(&fixture()).unwrap();
        doc.set(&path, &entry()).unwrap();
        doc.set(&path, &json!({"url": "http://127.0.0.1:8765/mcp", "http_headers": {"Authorization": "Bearer t"}})).unwrap();
        let text = doc.render();
        let ours = text.find("[mcp_servers.codex-async]").unwrap();
        assert!(ours < text.find("[projects.").unwrap(), "{text}");
        assert!(!text.contains("codex-async.tools") && !text.contains("codex-async.env"), "the old sub-tables are gone: {text}");
    }

    #[test]
    fn a_file_without_servers_gets_the_table_and_loses_it() {
        for text in ["", "model = \"o3\"\n", "model = \"o3\"\n\n[projects.\"/a\"]\ntrust_level = \"trusted\"\n"] {
            let path = key_path(&["mcp_servers", "codex-async"]);
            let mut doc = TomlDoc::parse(text).unwrap();
            assert_eq!(doc.set(&path, &entry()).unwrap(), 1);
            assert!(doc.render().contains("[mcp_servers.codex-async]\ncommand = "), "{}", doc.render());
            assert!(!doc.render().contains("[mcp_servers]\n"), "{}", doc.render());
            doc.remove(&path);
            doc.remove(&key_path(&["mcp_servers"]));
            assert_eq!(doc.render(), text);
        }
    }

    #[test]
    fn crlf_line_ends_stay() {
        let text = "model = \"o3\"\r\n\r\n# servers\r\n[mcp_servers.a]\r\ncommand = \"x\"\r\n";
        let path = key_path(&["mcp_servers", "codex-async"]);
        let mut doc = TomlDoc::parse(text).unwrap();
        doc.set(&path, &entry()).unwrap();
        let added = doc.render();
        assert!(added.contains("[mcp_servers.codex-async]\r\n"), "{added:?}");
        assert_eq!(added.matches('\n').count(), added.matches("\r\n").count(), "{added:?}");
        doc.remove(&path);
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn inline_servers_get_an_inline_entry() {
        let mut doc = TomlDoc::parse("mcp_servers = { a = { command = \"x\" } }\n").unwrap();
        doc.set(&key_path(&["mcp_servers", "codex-async"]), &json!({"command": "/bin/c", "args": ["serve"]})).unwrap();
        let parsed: toml::Table = toml::from_str(&doc.render()).unwrap();
        assert_eq!(parsed["mcp_servers"]["codex-async"]["command"].as_str(), Some("/bin/c"));
    }

    #[test]
    fn mistakes_name_the_line() {
        let err = TomlDoc::parse("model = \"o3\"\n[mcp_servers.docs\ncommand = 1\n").err().unwrap();
        assert_eq!(err.line, 2, "{err:?}");
        let mut doc = TomlDoc::parse("mcp_servers = 3\n").unwrap();
        assert!(doc.set(&key_path(&["mcp_servers", "codex-async"]), &entry()).is_err());
    }
}
