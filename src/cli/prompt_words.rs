//! The prompt's words checked for the verb's own options: `start fix it --cwd /nope`
//! would otherwise run "fix it --cwd /nope" in the current folder, since every word after
//! the prompt's first is prompt text. An option of the verb among the words (before any
//! `--`) is refused, naming it and showing both fixes; a prompt given after `--` is text
//! whatever it holds.

use std::ffi::OsString;

/// An option of the verb found among the prompt's words.
#[derive(Debug, thiserror::Error)]
#[error(
    "{word:?} is one of the options of `{verb}`, but it comes after the prompt's first word, where it would be read as prompt \
     text. Nothing was started.\n  to use it as the option, move it before the prompt:\n    {moved}\n  to keep it as prompt \
     text, put `--` before the prompt:\n    {kept}"
)]
pub struct OptionInPrompt {
    pub verb: String,
    /// The word as typed (`--cwd`, `--cwd=/x`, `-a`).
    pub word: String,
    /// The command line with the option (and its value) moved before the prompt.
    pub moved: String,
    /// The command line with `--` before the prompt.
    pub kept: String,
}

/// Checks the words of `verb`'s prompt (`prompt`, as clap collected them) against the
/// verb's options, looking at the command line as typed (`raw`, the program name first)
/// to tell whether the prompt came after `--`.
pub fn check(command: &clap::Command, verb: &str, prompt: &[String], raw: &[OsString]) -> Result<(), OptionInPrompt> {
    let Some(sub) = command.find_subcommand(verb) else { return Ok(()) };
    // The prompt is the command line's tail: the words clap collected after the options.
    let Some(start) = raw.len().checked_sub(prompt.len()) else { return Ok(()) };
    if start == 0 || raw[start - 1] == "--" || raw[start..].iter().zip(prompt).any(|(typed, word)| typed != word.as_str()) {
        return Ok(());
    }
    // Words after a `--` inside the prompt are text as asked.
    let checked = prompt.iter().position(|word| word == "--").unwrap_or(prompt.len());
    for (at, word) in prompt[..checked].iter().enumerate().skip(1) {
        let Some((arg, inline_value)) = own_option(sub, word) else { continue };
        let takes_value = arg.get_action().takes_values() && !inline_value;
        let option_words = if takes_value { (at..(at + 2).min(checked)).collect::<Vec<_>>() } else { vec![at] };
        let before: Vec<String> = raw[1..start].iter().map(|word| word.to_string_lossy().into_owned()).collect();
        let option: Vec<String> = option_words.iter().map(|&at| prompt[at].clone()).collect();
        let rest: Vec<String> =
            prompt.iter().enumerate().filter(|(at, _)| !option_words.contains(at)).map(|(_, word)| word.clone()).collect();
        let program = command.get_name().to_owned();
        let moved = shell_line([vec![program.clone()], before.clone(), option, rest].concat());
        let kept = shell_line([vec![program], before, vec!["--".to_owned()], prompt.to_vec()].concat());
        return Err(OptionInPrompt { verb: verb.to_owned(), word: word.clone(), moved, kept });
    }
    Ok(())
}

/// The verb's option that `word` names (`--cwd`, `--cwd=/x`, `-a`, `-afull-auto`), and
/// whether its value is in the word itself.
fn own_option<'a>(sub: &'a clap::Command, word: &str) -> Option<(&'a clap::Arg, bool)> {
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        return sub
            .get_arguments()
            .find(|arg| arg.get_long() == Some(name) || arg.get_all_aliases().is_some_and(|aliases| aliases.contains(&name)))
            .map(|arg| (arg, inline));
    }
    let mut chars = word.strip_prefix('-')?.chars();
    let short = chars.next()?;
    let inline = chars.next().is_some();
    let arg = sub.get_arguments().find(|arg| arg.get_short() == Some(short))?;
    // `-xyz` is an option only when -x takes a value (`-afull-auto`); else it is text.
    (!inline || arg.get_action().takes_values()).then_some((arg, inline))
}

/// Words as a shell reads them back: quoted when they hold anything but plain characters.
fn shell_line(words: Vec<String>) -> String {
    let plain = |word: &str| {
        !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "_-./=:,@%+~".contains(c)) && !word.starts_with('~')
    };
    words
        .iter()
        .map(|word| if plain(word) { word.clone() } else { format!("'{}'", word.replace('\'', r"'\''")) })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    fn raw(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn prompt_of(words: &[&str]) -> Vec<String> {
        let Some(crate::cli::Command::Start(start)) = Cli::try_parse_from(words).unwrap().command else { panic!("start") };
        start.prompt
    }

    fn checked(words: &[&str]) -> Result<(), OptionInPrompt> {
        check(&Cli::command(), "start", &prompt_of(words), &raw(words))
    }

    use clap::Parser;

    #[test]
    fn an_option_after_the_prompt_is_named_with_both_fixes() {
        let err = checked(&["codex-async", "start", "fix", "it", "--cwd", "/nope"]).unwrap_err();
        assert_eq!(err.word, "--cwd");
        assert_eq!(err.moved, "codex-async start --cwd /nope fix it");
        assert_eq!(err.kept, "codex-async start -- fix it --cwd /nope");
        let err = checked(&["codex-async", "start", "--cwd", "/tmp", "lines=1", "--json"]).unwrap_err();
        assert_eq!(err.moved, "codex-async start --cwd /tmp --json lines=1");
        let err = checked(&["codex-async", "start", "fix", "-afull-auto"]).unwrap_err();
        assert_eq!(err.word, "-afull-auto");
        let err = checked(&["codex-async", "start", "fix", "--max-duration=2h", "it's"]).unwrap_err();
        assert_eq!(err.moved, r"codex-async start --max-duration=2h fix 'it'\''s'");
    }

    #[test]
    fn words_after_a_double_dash_and_other_dashes_stay_text() {
        assert!(checked(&["codex-async", "start", "--", "fix", "--cwd", "/nope"]).is_ok());
        assert!(checked(&["codex-async", "start", "fix", "--", "--cwd", "/nope"]).is_ok());
        assert!(checked(&["codex-async", "start", "fix", "--the", "-x", "bug"]).is_ok());
        assert!(checked(&["codex-async", "start", "-"]).is_ok());
    }
}
