//! Other machines from the command line: `--host NAME`, ids `NAME:ID`, `list
//! --all-hosts` and `hosts`, against hosts that are `codex-async serve` over their own
//! homes behind a command (a stand-in for ssh) — and against hosts that fail: a command
//! that exits at start, one that hangs, one that writes garbage, one whose session
//! drops, one that answers with a bad id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::hosts::{bash_host, command_host, configure, fake_host_argv, holds_job, serve_argv, serve_shell, shell_host};
use crate::support::{TestHome, json, wait_until};

/// Kills a process the test left running when it fails.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0), nix::sys::signal::Signal::SIGKILL);
    }
}

/// `codex-async ARGS` started with its stdout and stderr piped, killed if the test fails
/// before it ends.
fn spawn_piped(home: &TestHome, args: &[&str]) -> (std::process::Child, KillOnDrop) {
    let child = home.command().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let guard = KillOnDrop(child.id() as i32);
    (child, guard)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A local home with one host, `box`, served from its own home.
fn with_box(extra_serve_args: &[&str]) -> (TestHome, TestHome) {
    let local = TestHome::new();
    let host = TestHome::new();
    configure(&local, &[command_host("box", &serve_argv(&host, extra_serve_args), "")]);
    (local, host)
}

/// Starts a job on `box` through the CLI; its qualified id and its id there.
fn start_on_box(local: &TestHome, host: &TestHome, prompt: &str) -> (String, String) {
    let cwd = host.path().to_str().unwrap();
    let started = json(&local.run(&["start", "--host", "box", "--json", "--cwd", cwd, "--", prompt]));
    let qualified = started["job_id"].as_str().unwrap().to_owned();
    assert_eq!(started["host"], "box");
    let id = qualified.strip_prefix("box:").unwrap_or_else(|| panic!("a host's job reads box:ID: {qualified}")).to_owned();
    (qualified, id)
}

#[test]
fn a_job_on_a_host_is_started_watched_listed_and_cancelled_from_here() {
    let (local, host) = with_box(&[]);
    let local_job = local.start("say:here sleep:60");
    let (qualified, id) = start_on_box(&local, &host, "say:hello sleep:60");
    assert!(holds_job(host.path(), &id), "the job lives on the host");
    assert!(!holds_job(local.path(), &id), "and not here");

    wait_until("the host's job to say hello", Duration::from_secs(30), || host.output(&id).contains("hello"));
    let polled = json(&local.run(&["poll", &qualified, "--json"]));
    assert_eq!(polled["job_id"], qualified.as_str());
    assert_eq!(polled["host"], "box");
    assert_eq!(polled["status"], "running");
    assert!(polled["output"].as_str().unwrap().contains("hello"));
    // --host with the id alone is the same job; the text view names it NAME:ID.
    let shown = local.run(&["poll", "--host", "box", &id]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(stdout(&shown).contains(&qualified) && stdout(&shown).contains("hello"), "{}", stdout(&shown));

    let listed = json(&local.run(&["list", "--all-hosts", "--json"]));
    let rows = listed.as_array().unwrap();
    let row = |wanted: &str| rows.iter().find(|row| row["job_id"] == wanted).unwrap_or_else(|| panic!("{wanted} in {listed}")).clone();
    assert_eq!(row(&qualified)["host"], "box");
    assert_eq!(row(&local_job)["host"], "local");
    let table = local.run(&["list", "--all-hosts"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("HOST") && header.contains("ID"), "{text}");
    let box_line = text.lines().find(|line| line.contains(&id)).unwrap();
    assert!(box_line.starts_with("box ") && !box_line.contains(&qualified), "HOST column, then the bare id: {text}");
    assert!(text.lines().any(|line| line.starts_with("local ") && line.contains(&local_job)), "{text}");
    // Without --all-hosts, only this machine's jobs.
    assert!(!stdout(&local.run(&["list"])).contains(&id));

    let waited = local.run(&["wait", &qualified, "--timeout", "1", "--json"]);
    assert_eq!(waited.status.code(), Some(124), "timed out: {}", stderr(&waited));
    let cancelled = json(&local.run(&["cancel", &qualified, "--json"]));
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["job_id"], qualified.as_str());
    assert_eq!(host.status(&id), "cancelled", "cancelled there");
    assert_eq!(local.status(&local_job), "running", "the local job is untouched");

    let logs = local.run(&["logs", &qualified]);
    assert!(logs.status.success() && stdout(&logs).contains("hello"), "{}", stderr(&logs));
}

#[test]
fn a_wait_on_a_host_ends_with_the_job_and_its_exit_status() {
    let (local, host) = with_box(&["--max-wait", "1"]);
    let (done, _) = start_on_box(&local, &host, "sleep:2 say:finished");
    // Several rounds of the host's 1 s cap, one wait here.
    let waited = local.run(&["wait", &done, "--timeout", "60"]);
    assert_eq!(waited.status.code(), Some(0), "{}", stderr(&waited));
    assert!(stdout(&waited).contains("finished"), "{}", stdout(&waited));
    let (failed, _) = start_on_box(&local, &host, "exit:3");
    let waited = local.run(&["wait", &failed, "--timeout", "60", "--json"]);
    assert_eq!(waited.status.code(), Some(1));
    let view: Value = serde_json::from_slice(&waited.stdout).unwrap();
    assert_eq!(view["exit_code"], 3);
    assert_eq!(view["timed_out"], false);
}

#[test]
fn a_follow_up_goes_to_the_parents_host() {
    let (local, host) = with_box(&[]);
    let (parent, parent_id) = start_on_box(&local, &host, "session say:first");
    host.wait_for_status(&parent_id, "done", Duration::from_secs(30));
    host.wait_for_supervisor_exit(&parent_id);
    let replied = json(&local.run(&["reply", &parent, "--json", "--label", "review", "--priority", "3", "--", "session say:second"]));
    let child = replied["job_id"].as_str().unwrap();
    let child_id = child.strip_prefix("box:").expect("the follow-up is the host's job");
    assert!(holds_job(host.path(), child_id));
    let meta = host.meta(child_id);
    assert_eq!((meta["labels"].clone(), meta["priority"].clone()), (serde_json::json!(["review"]), serde_json::json!(3)), "{meta}");
    let waited = local.run(&["wait", child, "--timeout", "60", "--json"]);
    let view: Value = serde_json::from_slice(&waited.stdout).unwrap();
    assert_eq!(view["parent_job_id"], parent.as_str(), "ids in the answer read NAME:ID too");
}

#[test]
fn a_start_on_a_host_needs_its_folder_and_is_held_to_the_local_ceiling() {
    let (local, host) = with_box(&[]);
    let relative = local.run(&["start", "--host", "box", "--", "say:x"]);
    assert_eq!(relative.status.code(), Some(2));
    assert!(stderr(&relative).contains("folder on host box"), "{}", stderr(&relative));
    std::fs::write(
        local.path().join("config.toml"),
        format!("max_policy = \"auto-edit\"\n{}", command_host("box", &serve_argv(&host, &[]), "")),
    )
    .unwrap();
    let cwd = host.path().to_str().unwrap();
    let above = local.run(&["start", "--host", "box", "-a", "full-auto", "--cwd", cwd, "--", "say:x"]);
    assert_eq!(above.status.code(), Some(2));
    assert!(stderr(&above).contains("ceiling"), "{}", stderr(&above));
    assert_eq!(std::fs::read_dir(host.path().join("jobs")).map_or(0, |dir| dir.count()), 0, "nothing started there");
    let unknown = local.run(&["poll", "nowhere:abcd1234"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown host \"nowhere\"") && stderr(&unknown).contains("box"), "{}", stderr(&unknown));
}

#[test]
fn hosts_shows_each_host_connected_or_why_not() {
    let local = TestHome::new();
    let host = TestHome::new();
    let running = host.start("sleep:60");
    configure(
        &local,
        &[
            command_host("box", &serve_argv(&host, &[]), ""),
            shell_host("gone", "echo 'ssh: Could not resolve hostname gone' >&2; exit 255", ""),
        ],
    );
    let output = local.run(&["hosts", "--json"]);
    assert_eq!(output.status.code(), Some(1), "not every host answered");
    let states: Value = serde_json::from_slice(&output.stdout).unwrap();
    let box_state = &states[0];
    assert_eq!(box_state["host"], "box");
    assert_eq!(box_state["connected"], true);
    assert_eq!(box_state["version"], format!("codex-async {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(box_state["running"], 1, "{states}");
    assert!(box_state["round_trip_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{states}");
    let gone = &states[1];
    assert_eq!(gone["connected"], false);
    let error = gone["error"].as_str().unwrap();
    assert!(error.contains("ended before the MCP handshake") && error.contains("Could not resolve hostname gone"), "{error}");
    let text = stdout(&local.run(&["hosts"]));
    assert!(text.starts_with("HOST") && text.contains("connected") && text.contains("unreachable"), "{text}");
    drop(running);
}

#[test]
fn a_failing_host_is_named_and_the_others_still_listed_each_within_its_own_deadline() {
    let local = TestHome::new();
    let host = TestHome::new();
    let id = host.start("sleep:60");
    let mine = local.start("sleep:60");
    configure(
        &local,
        &[
            command_host("box", &serve_argv(&host, &[]), ""),
            shell_host("exits", "echo 'Permission denied (publickey)' >&2; exit 255", ""),
            command_host("hangs", &["sleep".to_owned(), "30".to_owned()], "connect_timeout = \"3s\""),
            shell_host("garbage", "echo not-mcp; printf '\\033]0;pwned\\007\\033[2J\\n'; sleep 30", "connect_timeout = \"3s\""),
        ],
    );
    let began = Instant::now();
    let output = local.run(&["list", "--all-hosts", "--json"]);
    let took = began.elapsed();
    assert!(output.status.success(), "exit 0: the local host answered: {}", stderr(&output));
    // Two hosts that never answer, 3 s each: asked at once, not one after the other.
    assert!(took < Duration::from_millis(5_800), "hosts are asked concurrently: took {took:?}");
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = rows.as_array().unwrap().iter().map(|row| row["job_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&format!("box:{id}").as_str()) && ids.contains(&mine.as_str()), "{rows}");
    let said = stderr(&output);
    assert!(said.contains("host exits is unreachable") && said.contains("Permission denied (publickey)"), "{said}");
    assert!(said.contains("host hangs is unreachable") && said.contains("within 3s"), "{said}");
    assert!(said.contains("host garbage is unreachable"), "{said}");
    assert!(!said.contains('\u{1b}') && !said.contains('\u{7}'), "nothing a host writes reaches the terminal raw: {said:?}");
}

#[test]
fn garbage_on_the_wire_is_skipped_and_the_session_goes_on() {
    let local = TestHome::new();
    let host = TestHome::new();
    let id = host.start("say:hi sleep:60");
    // Lines that are not MCP, before the handshake and between answers.
    let script = format!(
        "{{ echo not-json; printf '\\033]52;c;cHduZWQ=\\007\\n'; {}; }} | {{ IFS= read -r first; printf '%s\\n' \"$first\"; echo '{{garbage'; cat; }}",
        serve_shell(&host, &[])
    );
    configure(&local, &[shell_host("box", &script, "")]);
    wait_until("the job to say hi", Duration::from_secs(30), || host.output(&id).contains("hi"));
    let polled = json(&local.run(&["poll", &format!("box:{id}"), "--json"]));
    assert_eq!(polled["status"], "running");
    let states: Value = serde_json::from_slice(&local.run(&["hosts", "--json"]).stdout).unwrap();
    assert_eq!(states[0]["connected"], true, "{states}");
}

#[test]
fn a_host_that_answers_with_a_bad_id_is_not_believed() {
    let local = TestHome::new();
    let answer = r#"{"job_id":"../../etc/passwd","status":"done","exit_code":0,"output":"\u001b]0;pwned\u0007","started_at":null,"finished_at":null,"prompt":"p","cwd":"/","last_message":null,"approval_policy":"suggest","pid":null}"#;
    configure(&local, &[command_host("evil", &fake_host_argv(answer, "codex_poll codex_list"), "")]);
    let polled = local.run(&["poll", "evil:abcd1234"]);
    assert_eq!(polled.status.code(), Some(1));
    let said = stderr(&polled);
    assert!(said.contains("host evil answered something unusable") && said.contains("not a job id"), "{said}");
    assert!(!said.contains('\u{1b}'), "{said:?}");
    assert!(stdout(&polled).is_empty());
    // A host's text reaches the terminal through the sanitizer.
    let clean = answer.replace("../../etc/passwd", "abcd1234");
    configure(&local, &[command_host("evil", &fake_host_argv(&clean, "codex_poll codex_list codex_wait codex_cancel"), "")]);
    let polled = local.run(&["poll", "evil:abcd1234"]);
    assert!(polled.status.success(), "{}", stderr(&polled));
    assert!(!stdout(&polled).contains('\u{1b}') && !stdout(&polled).contains('\u{7}'), "{:?}", stdout(&polled));
    // An answer about another job than the one asked about is not shown as it.
    for verb in [&["poll"][..], &["wait", "--timeout", "5"], &["cancel"]] {
        let asked = local.run(&[verb, &["evil:0badf00d"]].concat());
        let said = stderr(&asked);
        assert!(
            !asked.status.success() && said.contains("asked about job evil:0badf00d, it answered about evil:abcd1234"),
            "{verb:?}: {said}"
        );
        assert!(stdout(&asked).is_empty(), "{verb:?}");
    }
}

#[test]
fn an_older_host_names_what_it_lacks() {
    let local = TestHome::new();
    let answer = r#"{"job_id":"abcd1234","status":"cancelled","message":"Job is not running"}"#;
    configure(&local, &[command_host("old", &fake_host_argv(answer, "codex_poll codex_list"), "")]);
    let cancelled = local.run(&["cancel", "old:abcd1234"]);
    assert_eq!(cancelled.status.code(), Some(1));
    let said = stderr(&cancelled);
    assert!(said.contains("host old runs codex-async 0.0.1-old, which has no codex_cancel"), "{said}");
}

#[test]
fn a_session_dropped_mid_call_fails_that_call_and_a_wait_picks_up_again() {
    let local = TestHome::new();
    let host = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    let barrier = dir.path().join("go");
    let id = host.start(&format!("say:begin await-file:{} say:end", barrier.display()));
    let once = dir.path().join("once");
    // The first session ends after the handshake and two answers (sed quits); later ones last.
    let serve = serve_shell(&host, &["--max-wait", "1"]);
    let script = format!("if [ -e '{0}' ]; then exec {serve}; fi; touch '{0}'; exec {serve} > >(sed -u 3q)", once.display());
    configure(&local, &[bash_host("box", &script, "")]);
    let (mut wait, guard) = spawn_piped(&local, &["wait", &format!("box:{id}"), "--timeout", "120"]);
    let mut said = BufReader::new(wait.stderr.take().unwrap()).lines();
    let reconnecting = said.next().unwrap().unwrap();
    assert!(reconnecting.contains("host box") && reconnecting.contains("connected again"), "{reconnecting}");
    std::fs::write(&barrier, "").unwrap();
    let output = wait.wait_with_output().unwrap();
    std::mem::forget(guard);
    assert_eq!(output.status.code(), Some(0), "the wait went on to the job's end");
    assert!(stdout(&output).contains("end"), "{}", stdout(&output));

    // A plain call whose session drops midway fails, naming the host.
    let script = format!("exec {} > >(sed -u 1q)", serve_shell(&host, &[]));
    configure(&local, &[bash_host("box", &script, "")]);
    let polled = local.run(&["poll", &format!("box:{id}")]);
    assert_eq!(polled.status.code(), Some(1));
    assert!(stderr(&polled).contains("host box") && stderr(&polled).contains("codex_poll"), "{}", stderr(&polled));
}

#[test]
fn host_mistakes_in_the_config_are_named() {
    let local = TestHome::new();
    std::fs::write(local.path().join("config.toml"), "[hosts.box]\ncommand = [\"ssh\", \"box\"]\nport = 22\n").unwrap();
    let output = local.run(&["hosts"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown field `port`") && stderr(&output).contains("config.toml"), "{}", stderr(&output));
    std::fs::write(local.path().join("config.toml"), "[hosts.\"a:b\"]\ncommand = [\"ssh\"]\n").unwrap();
    let output = local.run(&["list", "--all-hosts"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("never ':'"), "{}", stderr(&output));
    std::fs::remove_file(local.path().join("config.toml")).unwrap();
    let none = local.run(&["hosts"]);
    assert!(none.status.success() && stdout(&none).contains("no hosts"), "{}", stdout(&none));
}

#[test]
fn a_hosts_change_is_reviewed_and_applied_there_from_here() {
    let local = TestHome::new();
    let scene = crate::support::repo::RepoHome::new();
    configure(&local, &[command_host("box", &serve_argv(&scene.home, &[]), "")]);
    let (id, _) = scene.worktree_job("write:x.txt=from-box");
    let qualified = format!("box:{id}");
    let names = local.run(&["diff", "--name-only", &qualified]);
    assert!(names.status.success(), "{}", stderr(&names));
    assert_eq!(stdout(&names).trim(), "x.txt");
    let patch = local.run(&["diff", "--host", "box", &id]);
    assert!(stdout(&patch).contains("+from-box"), "{}", stdout(&patch));
    let as_json = json(&local.run(&["diff", "--json", &qualified]));
    assert_eq!(as_json["job_id"], qualified.as_str());
    let applied = local.run(&["apply", &qualified]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert!(stdout(&applied).contains(&format!("box:{}", scene.repo.display())), "{}", stdout(&applied));
    assert_eq!(std::fs::read_to_string(scene.repo.join("x.txt")).unwrap(), "from-box\n", "applied on the host");
    let worktree = scene.home.meta(&id)["worktree"].as_str().unwrap().to_owned();
    assert!(std::path::Path::new(&worktree).is_dir());
    let discarded = local.run(&["discard", &qualified]);
    assert!(discarded.status.success(), "{}", stderr(&discarded));
    assert!(stdout(&discarded).contains(&format!("removed box:{worktree}")), "{}", stdout(&discarded));
    assert!(!std::path::Path::new(&worktree).exists(), "the worktree went on the host");
    assert!(!scene.branches().contains(&id), "and its branch: {}", scene.branches());
    assert!(holds_job(scene.home.path(), &id), "the record stays");

    // One delete: this machine's job, the host's, and one the host does not have.
    let here = local.start("say:here");
    crate::support::finished(&local, &here);
    let deleted = local.run(&["delete", &here, &qualified, "box:0badf00d", "--json"]);
    assert_eq!(deleted.status.code(), Some(2), "one could not be deleted: {}", stderr(&deleted));
    let said: serde_json::Value = serde_json::from_slice(&deleted.stdout).unwrap();
    assert_eq!(said["deleted"], serde_json::json!([here, qualified]), "{said}");
    assert_eq!(said["failed"][0]["job_id"], "box:0badf00d", "{said}");
    assert!(said["failed"][0]["error"].as_str().unwrap().contains("host box"), "{said}");
    assert!(!holds_job(scene.home.path(), &id), "deleted on the host");
    assert!(!holds_job(local.path(), &here), "and here");
}

#[test]
fn a_host_holds_its_deletes_and_discards_to_its_own_ceiling() {
    let (local, host) = with_box(&[]);
    std::fs::write(host.path().join("config.toml"), "max_policy = \"suggest\"\n").unwrap();
    let id = host.start("say:done");
    crate::support::finished(&host, &id);
    for verb in ["delete", "discard"] {
        let refused = local.run(&[verb, &format!("box:{id}")]);
        assert_ne!(refused.status.code(), Some(0), "{verb}");
        let said = stderr(&refused);
        assert!(said.contains("host box") && said.contains("policy ceiling 'suggest'"), "{verb}: {said}");
    }
    assert!(holds_job(host.path(), &id), "nothing was taken away");
}

#[test]
fn a_cancel_sent_to_a_host_takes_its_grace_and_a_prefix_names_a_job_there() {
    let (local, host) = with_box(&[]);
    // The host's own grace is a minute: a cancel that took it would outlast the test.
    std::fs::write(host.path().join("config.toml"), "cancel_grace = \"60s\"\n").unwrap();
    let (qualified, id) = start_on_box(&local, &host, "say:ready ignore-term sleep:120");
    wait_until("the host's job to be ready", Duration::from_secs(30), || host.output(&id).contains("ready"));

    // The start of the id is matched there, as it is here.
    let prefix = format!("box:{}", &id[..5]);
    let polled = json(&local.run(&["poll", &prefix, "--json"]));
    assert_eq!(polled["job_id"], qualified.as_str(), "{polled}");

    let began = Instant::now();
    let cancelled = json(&local.run(&["cancel", &prefix, "--grace", "1", "--json"]));
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["job_id"], qualified.as_str());
    assert!(began.elapsed() < Duration::from_secs(30), "the cancel took the host's minute: {:?}", began.elapsed());
    assert_eq!(host.status(&id), "cancelled");

    let refused = local.run(&["cancel", &qualified, "--grace", "2h"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("at most"), "{}", stderr(&refused));
}

#[test]
fn a_wait_on_a_host_shows_its_newest_line_as_it_goes() {
    let (local, host) = with_box(&[]);
    let dir = tempfile::tempdir().unwrap();
    let barrier = dir.path().join("go");
    let (qualified, id) = start_on_box(&local, &host, &format!("say:step-one await-file:{} say:step-two", barrier.display()));
    wait_until("the host's job to say step-one", Duration::from_secs(30), || host.output(&id).contains("step-one"));
    let (mut wait, guard) = spawn_piped(&local, &["wait", &qualified, "--progress", "--timeout", "120"]);
    // The host's progress carries the newest line; it is shown once, as the local wait shows it.
    let mut said = BufReader::new(wait.stderr.take().unwrap()).lines();
    let first = said.next().unwrap().unwrap();
    assert_eq!(first, "… step-one");
    std::fs::write(&barrier, "").unwrap();
    let output = wait.wait_with_output().unwrap();
    std::mem::forget(guard);
    assert_eq!(output.status.code(), Some(0), "the wait ends with the job");
    assert!(stdout(&output).contains("step-two"), "{}", stdout(&output));
}

#[test]
fn logs_of_a_hosts_job_are_whole_and_follow_it_to_its_end() {
    let (local, host) = with_box(&[]);
    // Far more than one answer's tail (8000 characters) and than one piece (256 KiB).
    let (flooded, flood_id) = start_on_box(&local, &host, "flood:40000");
    host.wait_for_status(&flood_id, "done", Duration::from_secs(60));
    let logs = local.run(&["logs", &flooded]);
    assert!(logs.status.success(), "{}", stderr(&logs));
    let here = stdout(&logs);
    let there = std::fs::read_to_string(host.path().join("jobs").join(&flood_id).join("output.txt")).unwrap();
    assert!(there.len() > 300 * 1024, "the output spans pieces: {}", there.len());
    assert_eq!(here, there, "the whole output, as the host holds it");

    let dir = tempfile::tempdir().unwrap();
    let barrier = dir.path().join("go");
    let (qualified, id) = start_on_box(&local, &host, &format!("say:one await-file:{} say:two exit:3", barrier.display()));
    let (mut follow, guard) = spawn_piped(&local, &["logs", "-f", &qualified]);
    let mut lines = BufReader::new(follow.stdout.take().unwrap()).lines();
    // What the job said so far (after the line the stand-in agent starts with).
    assert!(lines.next().unwrap().unwrap().starts_with("pid:agent="));
    assert_eq!(lines.next().unwrap().unwrap(), "one");
    std::fs::write(&barrier, "").unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "two", "what it says next, as it says it");
    let status = follow.wait().unwrap();
    std::mem::forget(guard);
    assert_eq!(status.code(), Some(3), "the job's own exit code");
    assert_eq!(host.status(&id), "error");
}

#[test]
fn an_https_host_is_reached_through_its_certificate_and_refused_without_it() {
    let (local, host) = (TestHome::new(), TestHome::new());
    let server = crate::support::mcp::HttpServerProcess::spawn(&host, &[]);
    let backend = server.url.strip_prefix("http://").and_then(|rest| rest.split('/').next()).unwrap().parse().unwrap();
    let front = crate::support::tls::TlsFront::new(backend);
    let url = format!("{}/mcp", front.origin);
    let section = |ca_file: Option<&std::path::Path>| {
        let ca = ca_file.map(|file| format!("ca_file = {}\n", crate::support::hosts::toml_string(&file.display().to_string())));
        format!("[hosts.web]\nurl = \"{url}\"\ntoken_env = \"WEB_TOKEN\"\nconnect_timeout = \"5s\"\n{}", ca.unwrap_or_default())
    };
    let token = server.token.clone().unwrap();
    let run = |args: &[&str]| {
        let mut command = local.command();
        command.env("WEB_TOKEN", &token).args(args).output().unwrap()
    };

    // Its authority named: connected, and a job started and waited for over https.
    configure(&local, &[section(Some(&front.ca_file))]);
    let hosts = run(&["hosts", "--json"]);
    assert!(hosts.status.success(), "{}", stderr(&hosts));
    let state: Value = serde_json::from_slice(&hosts.stdout).unwrap();
    assert_eq!(state[0]["connected"], true, "{state}");
    let cwd = host.path().to_str().unwrap();
    let started = json(&run(&["start", "--host", "web", "--json", "--cwd", cwd, "--", "say:over-https"]));
    let qualified = started["job_id"].as_str().unwrap();
    let waited = run(&["wait", qualified, "--timeout", "60"]);
    assert!(waited.status.success() && stdout(&waited).contains("over-https"), "{}", stderr(&waited));

    // Another authority's certificate, or the system's roots alone: not believed.
    for ca_file in [Some(front.stranger_ca_file.as_path()), None] {
        configure(&local, &[section(ca_file)]);
        let refused = run(&["poll", qualified]);
        assert_ne!(refused.status.code(), Some(0), "{ca_file:?}");
        let said = stderr(&refused);
        assert!(
            said.contains("host web is unreachable") && said.contains("invalid peer certificate") && said.contains("name it in ca_file"),
            "{ca_file:?}: {said}"
        );
    }
    // A file that is not certificates is named.
    let bad = host.path().join("not-a-cert.pem");
    std::fs::write(&bad, "hello").unwrap();
    configure(&local, &[section(Some(&bad))]);
    let said = stderr(&run(&["poll", qualified]));
    assert!(said.contains("holds no certificate") || said.contains("not PEM certificates"), "{said}");
}

#[test]
fn a_cancel_without_waiting_and_raw_logs_reach_a_hosts_job() {
    let (local, host) = with_box(&[]);
    std::fs::write(host.path().join("config.toml"), "cancel_grace = \"60s\"\n").unwrap();
    let (qualified, id) = start_on_box(&local, &host, "hostile-output say:ready ignore-term sleep:120");
    wait_until("the host's job to be ready", Duration::from_secs(30), || host.output(&id).contains("ready"));

    // --raw: every byte the job wrote, escapes too (the sanitizer is for a terminal).
    let raw = local.run(&["logs", "--raw", &qualified]);
    assert!(raw.status.success(), "{}", stderr(&raw));
    assert!(stdout(&raw).contains("\u{1b}]0;evil title\u{7}") && stdout(&raw).contains("ready"), "{:?}", stdout(&raw));
    let shown = local.run(&["logs", &qualified]);
    assert!(!stdout(&shown).contains('\u{1b}'), "without --raw, through the sanitizer: {:?}", stdout(&shown));

    // --no-wait: back at once, the job ignoring SIGTERM still running there, its
    // supervisor ending it (SIGKILL at the grace given).
    let began = Instant::now();
    let asked = json(&local.run(&["cancel", "--no-wait", "--grace", "3s", &qualified, "--json"]));
    assert!(began.elapsed() < Duration::from_secs(3), "it did not wait for the grace: {:?}", began.elapsed());
    assert_eq!((asked["job_id"].as_str(), asked["status"].as_str()), (Some(qualified.as_str()), Some("running")), "{asked}");
    assert!(asked["message"].as_str().unwrap().contains("its supervisor ends it"), "{asked}");
    host.wait_for_status(&id, "cancelled", Duration::from_secs(60));
}
