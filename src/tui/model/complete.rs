//! Folder names for Tab in the form's folder field, as a shell completes them.

use std::path::PathBuf;

/// The most folders one Tab lists.
const MAX_MATCHES: usize = 200;

/// `~` and `~/…` with the home folder; anything else as it is.
pub(crate) fn expand_tilde(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => PathBuf::from(format!("{home}{rest}")),
        _ => PathBuf::from(path),
    }
}

/// The folders whose path starts with `typed`, each written as typed plus the rest of
/// its name and a `/` (so `~/sr` gives `~/src/`). Hidden folders only when the name
/// typed starts with a dot. Reads one folder: the runtime calls it off the screen loop.
pub(crate) fn folder_matches(typed: &str, home: Option<&str>) -> Vec<String> {
    let (folder, prefix) = match typed.rfind('/') {
        Some(at) => typed.split_at(at + 1),
        None => ("", typed),
    };
    let read_from = if folder.is_empty() { PathBuf::from(".") } else { expand_tilde(folder, home) };
    let Ok(entries) = std::fs::read_dir(&read_from) else { return Vec::new() };
    let mut matches: Vec<String> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let wanted = name.starts_with(prefix) && (prefix.starts_with('.') || !name.starts_with('.'));
            // `metadata` follows a symlink to a folder, as a shell does.
            (wanted && std::fs::metadata(entry.path()).is_ok_and(|meta| meta.is_dir())).then(|| format!("{folder}{name}/"))
        })
        .take(MAX_MATCHES)
        .collect();
    matches.sort();
    matches
}

/// The longest start all of `matches` share (on character boundaries).
pub(crate) fn common_prefix(matches: &[String]) -> String {
    let Some(first) = matches.first() else { return String::new() };
    let mut end = first.len();
    for other in &matches[1..] {
        end = first
            .char_indices()
            .zip(other.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((at, a), _)| at + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(end);
    }
    first[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_complete_as_a_shell_does() {
        let home = tempfile::tempdir().unwrap();
        for folder in ["src", "scripts", ".hidden", "tests"] {
            std::fs::create_dir(home.path().join(folder)).unwrap();
        }
        std::fs::write(home.path().join("setup.sh"), "").unwrap();
        let base = format!("{}/", home.path().display());
        assert_eq!(folder_matches(&format!("{base}s"), None), [format!("{base}scripts/"), format!("{base}src/")]);
        assert_eq!(folder_matches(&format!("{base}t"), None), [format!("{base}tests/")]);
        assert_eq!(folder_matches(&format!("{base}."), None), [format!("{base}.hidden/")]);
        let home_text = home.path().display().to_string();
        assert_eq!(folder_matches("~/sr", Some(&home_text)), ["~/src/"]);
        assert!(folder_matches("/no/such/folder/x", None).is_empty());
    }

    #[test]
    fn the_common_start_and_the_tilde() {
        assert_eq!(common_prefix(&["/a/scripts/".into(), "/a/src/".into()]), "/a/s");
        assert_eq!(common_prefix(&["/a/é1/".into(), "/a/é2/".into()]), "/a/é");
        assert_eq!(common_prefix(&[]), "");
        assert_eq!(expand_tilde("~/src", Some("/home/me")), PathBuf::from("/home/me/src"));
        assert_eq!(expand_tilde("~other", Some("/home/me")), PathBuf::from("~other"));
    }
}
