use std::net::SocketAddr;

use clap::CommandFactory;

use crate::mcp::Listen;

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
    assert_eq!(parse_listen("8765").unwrap(), Listen::Tcp(loopback(8765)));
    assert_eq!(parse_listen("unix:/run/user/1/codex-async.sock").unwrap(), Listen::Unix("/run/user/1/codex-async.sock".into()));
    let Listen::Unix(relative) = parse_listen("unix:mcp.sock").unwrap() else { panic!("a Unix socket") };
    assert!(relative.is_absolute() && relative.ends_with("mcp.sock"), "{relative:?}");
    assert!(parse_listen("unix:").unwrap_err().contains("unix:$XDG_RUNTIME_DIR"));
}

#[test]
fn a_token_file_or_no_auth_wins_over_a_token_in_the_environment_but_not_over_a_flag() {
    let serve = |args: &[&str]| match Cli::try_parse_from([&["codex-async", "serve"], args].concat()) {
        Ok(Cli { command: Some(Command::Serve(serve)), .. }) => Ok(serve),
        Ok(_) => panic!("not serve"),
        Err(err) => Err(err.kind()),
    };
    assert_eq!(serve(&["--token-file", "/t", "--token", "x"]).unwrap_err(), clap::error::ErrorKind::ArgumentConflict);
    assert_eq!(serve(&["--token-file", "/t", "--no-auth"]).unwrap_err(), clap::error::ErrorKind::ArgumentConflict);
    let given = serve(&["--token", "x"]).unwrap();
    assert_eq!(given.server.token().as_deref(), Some("x"));
    // Whatever $CODEX_ASYNC_TOKEN holds, a token file or --no-auth means no token is given as such.
    assert_eq!(serve(&["--token-file", "/t"]).unwrap().server.token(), None);
    assert_eq!(serve(&["--no-auth"]).unwrap().server.token(), None);
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
