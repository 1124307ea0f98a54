//! Text cut to a column's width so that what is left still reads: a folder keeps its
//! end (`…/repo`, the part that tells folders apart), other text its start with `…`
//! where it was cut — never a word cut off without a mark.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `text` in at most `width` columns: whole, or its start and `…`.
pub(crate) fn end_cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut kept = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let ch_width = ch.width().unwrap_or(0);
        if used + ch_width > width - 1 {
            break;
        }
        kept.push(ch);
        used += ch_width;
    }
    // A cut just after a space reads as a word that ended: the mark goes on the word.
    let trimmed = kept.trim_end().len();
    kept.truncate(trimmed);
    kept.push('…');
    kept
}

/// A folder in at most `width` columns: whole, or `…/` and as many of its last parts
/// as fit; a last part wider than that keeps its own end.
pub(crate) fn path_cut(path: &str, width: usize) -> String {
    if path.width() <= width {
        return path.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut tail = String::new();
    for part in parts.iter().rev() {
        let candidate = if tail.is_empty() { format!("/{part}") } else { format!("/{part}{tail}") };
        if 1 + candidate.width() > width {
            break;
        }
        tail = candidate;
    }
    if !tail.is_empty() {
        return format!("…{tail}");
    }
    // Not even the last part fits: its end.
    let last = parts.last().copied().unwrap_or(path);
    let mut kept: Vec<char> = Vec::new();
    let mut used = 1;
    for ch in last.chars().rev() {
        let ch_width = ch.width().unwrap_or(0);
        if used + ch_width > width {
            break;
        }
        kept.push(ch);
        used += ch_width;
    }
    kept.reverse();
    format!("…{}", kept.into_iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_keep_their_end_and_tell_apart() {
        assert_eq!(path_cut("~/src/clients/repo", 18), "~/src/clients/repo");
        assert_eq!(path_cut("~/src/clients/repo", 14), "…/clients/repo");
        assert_eq!(path_cut("~/src/clients/work", 9), "…/work");
        assert_eq!(path_cut("~/src/clients/repo", 9), "…/repo");
        assert_eq!(path_cut("/home/me/a-very-long-folder-name", 8), "…er-name");
        assert_eq!(path_cut("/x/y", 0), "");
        assert!(path_cut("/home/me/日本語のフォルダ", 7).width() <= 7);
    }

    #[test]
    fn text_cut_mid_word_ends_in_an_ellipsis() {
        assert_eq!(end_cut("Upgrade reqwest and fix the build", 40), "Upgrade reqwest and fix the build");
        assert_eq!(end_cut("Upgrade reqwest and fix the build", 12), "Upgrade req…");
        assert_eq!(end_cut("Upgrade reqwest and fix the build", 9), "Upgrade…");
        assert_eq!(end_cut("日本語のテキスト", 7), "日本語…");
        assert_eq!(end_cut("abc", 0), "");
        assert_eq!(end_cut("abcdef", 1), "…");
    }
}
