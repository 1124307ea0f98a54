use clap::CommandFactory;

use super::*;

/// Every visible command, argument and option says what it is for.
#[test]
fn everything_a_person_can_type_has_help() {
    fn check(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if arg.is_hide_set() || id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            if sub.get_about().is_none() {
                missing.push(format!("{path} {}", sub.get_name()));
            }
            check(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    check(&Cli::command(), "codex-async", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:?}");
}

#[test]
fn http_addresses_read_as_people_write_them() {
    let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
    assert_eq!(parse_http_addr("8765").unwrap(), loopback(8765));
    assert_eq!(parse_http_addr(":8765").unwrap(), loopback(8765));
    assert_eq!(parse_http_addr("localhost:9000").unwrap(), loopback(9000));
    assert_eq!(parse_http_addr("127.0.0.1:0").unwrap(), loopback(0));
    assert_eq!(parse_http_addr("[::1]:8765").unwrap(), "[::1]:8765".parse().unwrap());
    assert!(parse_http_addr("eighty").unwrap_err().contains("localhost:8765"));
    assert!(parse_http_addr("70000").is_err());
}

#[test]
fn options_are_read_before_the_prompt_and_a_typo_is_an_error() {
    let parsed = Cli::try_parse_from(["codex-async", "start", "--json", "--stall-timeout", "2", "--cwd", "/tmp", "--", "lines=1"]).unwrap();
    let Some(Command::Start(start)) = parsed.command else { panic!() };
    assert_eq!(start.prompt, ["lines=1"]);
    assert_eq!(start.cwd, PathBuf::from("/tmp"));
    assert_eq!(start.time_limits.stall_timeout, Some(Duration::from_secs(2)));
    let typo = Cli::try_parse_from(["codex-async", "start", "--approval-polcy", "full-auto", "fix", "it"]).unwrap_err();
    assert_eq!(typo.kind(), clap::error::ErrorKind::UnknownArgument);
    assert!(typo.to_string().contains("--approval-policy"), "suggests the right one: {typo}");
    // After the first word, the rest is the prompt, dashes included; `--` and `-` work.
    let Some(Command::Start(start)) = Cli::try_parse_from(["codex-async", "start", "fix", "--the", "-x", "bug"]).unwrap().command else {
        panic!()
    };
    assert_eq!(start.prompt, ["fix", "--the", "-x", "bug"]);
    let Some(Command::Start(start)) = Cli::try_parse_from(["codex-async", "start", "--", "--help me"]).unwrap().command else { panic!() };
    assert_eq!(start.prompt, ["--help me"]);
    let Some(Command::Start(start)) = Cli::try_parse_from(["codex-async", "start", "-"]).unwrap().command else { panic!() };
    assert_eq!(start.prompt, ["-"]);
}
