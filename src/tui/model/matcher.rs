//! What a search (`/`) looks for: text, ignoring case, or a regular expression after
//! `re:` (also ignoring case). One compiled form serves the loaded lines (text) and the
//! whole-file search on the loader thread (raw bytes).

use regex::RegexBuilder;
use regex::bytes::RegexBuilder as BytesRegexBuilder;

/// The prefix that makes a search a regular expression.
pub const REGEX_PREFIX: &str = "re:";

#[derive(Clone, Debug)]
pub struct Matcher {
    /// As typed (with `re:` if given).
    query: String,
    text: regex::Regex,
    bytes: regex::bytes::Regex,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.query == other.query
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// The matcher for a query, or why it is not one (a regular expression that does
    /// not parse). An empty query matches nothing and is refused.
    pub fn parse(query: &str) -> Result<Matcher, String> {
        let pattern = match query.strip_prefix(REGEX_PREFIX) {
            Some(pattern) => pattern.to_owned(),
            None => regex::escape(query),
        };
        if pattern.is_empty() {
            return Err("nothing to search for".to_owned());
        }
        let text = RegexBuilder::new(&pattern).case_insensitive(true).multi_line(true).size_limit(1 << 22).build();
        // Many lines are searched at once: `^` and `$` are a line's ends.
        let bytes = BytesRegexBuilder::new(&pattern).case_insensitive(true).multi_line(true).size_limit(1 << 22).build();
        match (text, bytes) {
            (Ok(text), Ok(bytes)) => Ok(Matcher { query: query.to_owned(), text, bytes }),
            (Err(err), _) | (_, Err(err)) => Err(format!("not a regular expression: {}", first_line(&err.to_string()))),
        }
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    /// Byte ranges of the matches in `text` (empty matches left out).
    pub fn find_all(&self, text: &str) -> Vec<(usize, usize)> {
        self.text.find_iter(text).map(|found| (found.start(), found.end())).filter(|(start, end)| start < end).collect()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.text.find_iter(text).any(|found| !found.is_empty())
    }

    /// Starts of matches in raw bytes (a line of the file, or many).
    pub fn find_starts_in_bytes<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        self.bytes.find_iter(bytes).filter(|found| !found.is_empty()).map(|found| found.start())
    }
}

fn first_line(text: &str) -> String {
    text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or(text).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_ignores_case_and_regular_expressions_follow_re() {
        let matcher = Matcher::parse("Error (x").unwrap();
        assert_eq!(matcher.find_all("an ERROR (X) and error (x"), [(3, 11), (17, 25)]);
        let regex = Matcher::parse("re:err(or)? [0-9]+").unwrap();
        assert!(regex.is_match("ERR 42"));
        assert!(!regex.is_match("error x"));
        assert_eq!(regex.find_starts_in_bytes(b"ok\nerror 7\n").collect::<Vec<_>>(), [3]);
        assert!(Matcher::parse("re:(unclosed").unwrap_err().contains("not a regular expression"));
        assert!(Matcher::parse("").is_err());
        assert!(Matcher::parse("re:").is_err());
        assert!(!Matcher::parse("re:x*").unwrap().is_match("abc"), "empty matches are not matches");
    }
}
