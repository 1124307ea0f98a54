//! The exact text a file had before `install`, kept as the spans install replaced, so that
//! `uninstall` gives the file back byte for byte even where undoing the edit through the
//! syntax tree cannot: an object written on one line that the insertion spread over
//! several lines stays spread once the entry is removed again.
//!
//! It is used only while the file is exactly as install left it (same SHA-256), and the
//! caller checks that the text it gives means the same as the syntax-tree undo, so it can
//! only ever change formatting, never content.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Restore {
    /// SHA-256 (hex) of the text install left.
    installed: String,
    /// The replaced spans of that text, in order.
    spans: Vec<Span>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Span {
    /// Byte offsets in the text install left.
    start: usize,
    end: usize,
    /// What was there before.
    original: String,
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Restore {
    /// How to get `original` back from `installed`: the lines that differ (a line diff,
    /// so only install's own lines and their neighbours are kept).
    pub fn between(original: &str, installed: &str) -> Restore {
        let diff = similar::TextDiff::from_lines(original, installed);
        let old: Vec<&str> = diff.iter_old_slices().collect();
        let new: Vec<&str> = diff.iter_new_slices().collect();
        // Byte offset of each line of the installed text (and of its end).
        let offsets: Vec<usize> = std::iter::once(0)
            .chain(new.iter().scan(0, |offset, line| {
                *offset += line.len();
                Some(*offset)
            }))
            .collect();
        let mut spans: Vec<Span> = Vec::new();
        for op in diff.ops() {
            let (tag, old_lines, new_lines) = op.as_tag_tuple();
            if tag == similar::DiffTag::Equal {
                continue;
            }
            let (start, end) = (offsets[new_lines.start], offsets[new_lines.end]);
            let replaced = old[old_lines].concat();
            match spans.last_mut() {
                Some(last) if last.end == start => {
                    last.end = end;
                    last.original.push_str(&replaced);
                }
                _ => spans.push(Span { start, end, original: replaced }),
            }
        }
        Restore { installed: digest(installed), spans }
    }

    /// The text before install, when `text` is exactly what install left.
    pub fn original(&self, text: &str) -> Option<String> {
        if digest(text) != self.installed {
            return None;
        }
        let mut original = String::with_capacity(text.len());
        let mut at = 0;
        for span in &self.spans {
            original.push_str(text.get(at..span.start)?);
            original.push_str(&span.original);
            at = span.end;
        }
        original.push_str(text.get(at..)?);
        Some(original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_back_the_original_of_the_installed_text_only() {
        for (original, installed) in [
            ("{\"mcpServers\": {\"a\": 1}}\n", "{\"mcpServers\": {\n    \"a\": 1,\n    \"codex-async\": {}\n  }}\n"),
            ("{\"x\": 1}", "{\n  \"x\": 1,\n  \"y\": 2\n}\n"),
            ("a\nb\nc\nd\ne\nf\ng\n", "a\nB\nc\nd\ne\nF\nF2\ng\n"),
            ("", "{}\n"),
            ("same\n", "same\n"),
            ("é\r\n", "é\r\nà\r\n"),
        ] {
            let restore = Restore::between(original, installed);
            assert_eq!(restore.original(installed).as_deref(), Some(original), "{installed:?}");
            assert_eq!(restore.original(&format!("{installed} ")), None, "another text is not restored");
        }
        let restore = Restore::between("a\nb\nc\nd\ne\nf\ng\n", "a\nB\nc\nd\ne\nF\ng\n");
        assert_eq!(restore.spans.len(), 2, "only the changed lines are kept: {restore:?}");
    }
}
