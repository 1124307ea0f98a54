//! `H`: other hosts' jobs as their tasks report them — each host's state, a HOST
//! column, a host that cannot be reached greyed with when it went and when it is tried
//! again, the selected job's last lines — and what is done to a job on its own host:
//! cancel, diff, apply, discard, a follow-up; and a new job's host in the job form.

use super::*;
use crate::hosts::watch::{HostLink, WatchEvent};
use crate::jobs::ListView;
use crate::tui::model::form::Field;
use crate::tui::model::hosts::{HostAct, Hosts};
use crate::tui::model::message::Viewer;

fn host_row(raw: &str, status: &str, prompt: &str, started_ago: i64) -> ListView {
    let started = (now() - chrono::Duration::seconds(started_ago)).to_rfc3339();
    serde_json::from_value(serde_json::json!({"job_id": raw, "status": status, "prompt": prompt, "cwd": "/srv/app",
        "started_at": started, "finished_at": null, "exit_code": null}))
    .unwrap()
}

fn type_text(app: &mut App, text: &str) {
    for ch in text.chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
}

fn heard(app: &mut App, event: WatchEvent) -> Vec<Effect> {
    app.apply_data(DataEvent::Host(event))
}

#[test]
fn h_without_hosts_says_how_to_name_them() {
    let mut app = app(120, 30);
    assert!(app.apply(Action::Hosts).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.flash.as_deref().unwrap_or_default().contains("[hosts.NAME]"), "{:?}", app.flash);
}

#[test]
fn h_shows_every_hosts_jobs_and_c_cancels_one_on_its_host() {
    let mut app = app(120, 30);
    app.hosts = Hosts::new(["box".to_owned(), "gpu".to_owned()]);
    heard(&mut app, WatchEvent::Link { host: "box".into(), link: HostLink::Connected { version: Some("codex-async 0.1.0".into()) } });
    heard(
        &mut app,
        WatchEvent::Rows {
            host: "box".into(),
            rows: vec![
                host_row("box:a1a1a1a1", "running", "Port the parser\u{1b}]0;pwned\u{7}", 95),
                host_row("box:b2b2b2b2", "done", "Write the docs", 900),
            ],
        },
    );
    heard(&mut app, WatchEvent::Rows { host: "gpu".into(), rows: vec![host_row("gpu:c3c3c3c3", "running", "Train it", 3600)] });
    let since = now() - chrono::Duration::minutes(4);
    let retry_at = now() + chrono::Duration::seconds(8);
    let error = "host gpu is unreachable: ssh: connect to host gpu port 22: Connection refused".to_owned();
    heard(&mut app, WatchEvent::Link { host: "gpu".into(), link: HostLink::Unreachable { since, retry_at, error } });

    assert_eq!(app.apply(Action::Hosts), [Effect::FollowHostJob(Some("box:a1a1a1a1".into()))]);
    assert!(heard(&mut app, WatchEvent::Output { job: "box:a1a1a1a1".into(), text: "compiling\nlinking\n".into() }).is_empty());
    let terminal = render(&app);
    let drawn = screen(&app);
    let went = since.with_timezone(&chrono::Local).format("%H:%M");
    for expected in [
        "box          connected (codex-async 0.1.0), 2 jobs, 1 running".to_owned(),
        format!("gpu          unreachable since {went}, retrying in 8 s"),
        "             ssh: connect to host gpu port 22: Connection refused".to_owned(),
        "HOST         ID                     STATUS       AGE  PROMPT".to_owned(),
        "box          a1a1a1a1               running       1m  Port the parser".to_owned(),
        "gpu          c3c3c3c3               running       1h  Train it".to_owned(),
        "── box:a1a1a1a1 ──".to_owned(),
        "linking".to_owned(),
    ] {
        assert!(drawn.contains(&expected), "{expected:?} in\n{drawn}");
    }
    assert!(!drawn.contains('\u{1b}') && !drawn.contains("pwned\u{7}"), "a host's text is drawn safe");
    // The rows of the host that cannot be reached are greyed; the others are not.
    let buffer = terminal.backend().buffer();
    let row_of = |text: &str| {
        (0..buffer.area.height)
            .find(|&y| (0..buffer.area.width).map(|x| buffer[(x, y)].symbol()).collect::<String>().contains(text))
            .unwrap()
    };
    let first_column = 3;
    assert_eq!(buffer[(first_column, row_of("c3c3c3c3"))].fg, Color::DarkGray);
    assert_ne!(buffer[(first_column, row_of("b2b2b2b2"))].fg, Color::DarkGray);

    // An ended job has nothing to cancel; a job of a host that cannot be reached waits.
    assert_eq!(app.apply(Action::Down), [Effect::FollowHostJob(Some("box:b2b2b2b2".into()))]);
    assert!(app.apply(Action::AskCancel).is_empty());
    assert!(app.flash.as_deref().unwrap_or_default().contains("has ended (done)"), "{:?}", app.flash);
    app.apply(Action::Down);
    app.apply(Action::AskCancel);
    assert!(app.flash.as_deref().unwrap_or_default().contains("host gpu cannot be reached now"), "{:?}", app.flash);
    assert_eq!(app.hosts.asking, None);

    // A running job of a reachable host: asked, then cancelled there.
    app.apply(Action::First);
    assert!(app.apply(Action::AskCancel).is_empty());
    assert!(screen(&app).contains("Cancel job box:a1a1a1a1 on its host? y yes"), "{}", screen(&app));
    assert!(app.apply(Action::Answer(false)).is_empty(), "no is no");
    app.apply(Action::AskCancel);
    assert_eq!(app.apply(Action::Answer(true)), [Effect::OnHost { job: "box:a1a1a1a1".into(), act: HostAct::Cancel }]);
    app.apply_result(TaskResult::OnHost { job: "box:a1a1a1a1".into(), act: HostAct::Cancel, outcome: Ok("cancelled".into()) });
    assert_eq!(app.flash.as_deref(), Some("box:a1a1a1a1: cancelled"));

    // The selected job went on its host: the first row is followed instead.
    let effects =
        heard(&mut app, WatchEvent::Rows { host: "box".into(), rows: vec![host_row("box:b2b2b2b2", "done", "Write the docs", 900)] });
    assert_eq!(effects, [Effect::FollowHostJob(Some("box:b2b2b2b2".into()))]);
    assert_eq!(app.apply(Action::Back), [Effect::FollowHostJob(None)]);
    assert_eq!(app.mode, Mode::Normal);
}

/// A finished job of `box` that ran in a worktree, in `/srv/app`, by `claude`.
fn reviewable(app: &mut App) {
    app.hosts = Hosts::new(["box".to_owned()]);
    heard(app, WatchEvent::Link { host: "box".into(), link: HostLink::Connected { version: None } });
    let mut done = host_row("box:d4d4d4d4", "done", "Fix the flaky test", 60);
    done.branch = Some("codex-async/d4d4d4d4".into());
    done.agent = Some("claude".into());
    done.approval_policy = Some("auto-edit".into());
    let running = host_row("box:e5e5e5e5", "running", "Still going", 5);
    heard(app, WatchEvent::Rows { host: "box".into(), rows: vec![running, done] });
    app.apply(Action::Hosts);
}

#[test]
fn d_shows_a_hosts_change_a_applies_it_and_x_discards_it_there() {
    let mut app = app(120, 30);
    reviewable(&mut app);
    assert_eq!(app.hosts.selected.as_deref(), Some("box:e5e5e5e5"));
    // A running job's change is neither applied nor discarded.
    assert!(app.apply(Action::AskApply).is_empty());
    assert!(app.flash.as_deref().unwrap_or_default().contains("once it has ended"), "{:?}", app.flash);
    app.apply(Action::Down);

    assert_eq!(app.apply(Action::Diff), [Effect::OnHost { job: "box:d4d4d4d4".into(), act: HostAct::Diff }]);
    assert!(screen(&app).contains("asking its host…"), "{}", screen(&app));
    let change = " x.txt  +1 -0\n\ndiff --git a/x.txt b/x.txt\n+from-box\u{1b}]0;pwned\u{7}\n";
    app.apply_result(TaskResult::OnHost { job: "box:d4d4d4d4".into(), act: HostAct::Diff, outcome: Ok(change.into()) });
    let drawn = screen(&app);
    assert!(drawn.contains("── changes of box:d4d4d4d4 ──") && drawn.contains(" x.txt  +1 -0") && drawn.contains("+from-box"), "{drawn}");
    assert!(!drawn.contains("pwned\u{7}"), "drawn safe: {drawn}");
    // `o` reads it whole in the pager; Esc goes back to the output.
    assert_eq!(app.apply(Action::OpenPager), [Effect::Open { viewer: Viewer::Pager, job: None, text: Some(change.into()) }]);
    assert!(app.apply(Action::Back).is_empty());
    assert_eq!(app.hosts.change, None);
    assert_eq!(app.mode, Mode::Hosts, "the view stays open");
    // A change that came after the selection moved on is not shown.
    app.apply(Action::Diff);
    app.apply(Action::Up);
    app.apply_result(TaskResult::OnHost { job: "box:d4d4d4d4".into(), act: HostAct::Diff, outcome: Ok(change.into()) });
    assert_eq!(app.hosts.change, None);
    app.apply(Action::Down);

    assert!(app.apply(Action::AskApply).is_empty());
    assert!(screen(&app).contains("Apply job box:d4d4d4d4's change to its folder on its host? y yes"), "{}", screen(&app));
    assert_eq!(app.apply(Action::Answer(true)), [Effect::OnHost { job: "box:d4d4d4d4".into(), act: HostAct::Apply }]);
    let said = "applied to box:/srv/app: x.txt".to_owned();
    app.apply_result(TaskResult::OnHost { job: "box:d4d4d4d4".into(), act: HostAct::Apply, outcome: Ok(said) });
    assert_eq!(app.flash.as_deref(), Some("box:d4d4d4d4: applied to box:/srv/app: x.txt"));
    app.apply(Action::AskDiscard);
    assert!(screen(&app).contains("Discard job box:d4d4d4d4's worktree and branch on its host?"), "{}", screen(&app));
    assert_eq!(app.apply(Action::Answer(true)), [Effect::OnHost { job: "box:d4d4d4d4".into(), act: HostAct::Discard }]);
    app.apply_result(TaskResult::OnHost {
        job: "box:d4d4d4d4".into(),
        act: HostAct::Discard,
        outcome: Err("host box is unreachable".into()),
    });
    assert_eq!(app.flash.as_deref(), Some("discarding box:d4d4d4d4 failed: host box is unreachable"));
}

#[test]
fn r_follows_a_hosts_job_up_there_and_the_new_job_is_selected_once_listed() {
    let mut app = app(120, 30);
    reviewable(&mut app);
    app.apply(Action::FollowUp);
    assert!(app.flash.as_deref().unwrap_or_default().contains("continues a finished job"), "{:?}", app.flash);
    app.apply(Action::Down);
    app.apply(Action::FollowUp);
    let Mode::NewJob(form) = &app.mode else { panic!("the form: {:?}", app.mode) };
    assert_eq!(form.on_host(), Some("box"));
    assert_eq!(form.policy, ApprovalPolicy::AutoEdit, "the parent's policy");
    let drawn = screen(&app);
    assert!(drawn.contains("Follow up job box:d4d4d4d4") && drawn.contains("Continues on host box"), "{drawn}");
    // Esc goes back to the hosts view.
    app.apply(Action::Back);
    assert_eq!(app.mode, Mode::Hosts);
    app.apply(Action::FollowUp);
    type_text(&mut app, "now add a test");
    let effects = app.apply(Action::Submit);
    let mut arguments = serde_json::Map::new();
    arguments.insert("prompt".into(), "now add a test".into());
    arguments.insert("approval_policy".into(), "auto-edit".into());
    arguments.insert("job_id".into(), "d4d4d4d4".into());
    assert_eq!(effects[0], Effect::StartOnHost { host: "box".into(), tool: "codex_reply", arguments, policy: ApprovalPolicy::AutoEdit });

    let started = Started { id: "box:f6f6f6f6".into(), failed: None, inherited: Some("on host box".into()) };
    app.apply_result(TaskResult::Started(Ok(started)));
    assert_eq!(app.mode, Mode::Hosts);
    assert_eq!(app.flash.as_deref(), Some("started job box:f6f6f6f6 (on host box)"));
    let rows = vec![host_row("box:f6f6f6f6", "running", "now add a test", 0), host_row("box:d4d4d4d4", "done", "Fix", 60)];
    assert_eq!(heard(&mut app, WatchEvent::Rows { host: "box".into(), rows }), [Effect::FollowHostJob(Some("box:f6f6f6f6".into()))]);
    assert_eq!(app.hosts.selected.as_deref(), Some("box:f6f6f6f6"));
}

#[test]
fn the_job_form_chooses_a_host_and_sends_the_start_there() {
    let mut app = app(120, 40);
    app.hosts = Hosts::new(["box".to_owned(), "gpu".to_owned()]);
    app.apply(Action::NewJob);
    let Mode::NewJob(form) = &app.mode else { panic!("the form") };
    assert_eq!(form.hosts, ["local", "box", "gpu"]);
    assert_eq!(form.on_host(), None, "this machine unless chosen");
    type_text(&mut app, "port the parser");
    app.apply(Action::NextField);
    app.apply(Action::Right);
    let Mode::NewJob(form) = &mut app.mode else { panic!("the form") };
    assert_eq!(form.on_host(), Some("box"));
    form.cwd.set_text("relative/path");
    form.after.set_text("box:a1b2, c3d4");
    let drawn = screen(&app);
    assert!(drawn.contains("Runs on (←/→)") && drawn.contains("Working folder on box (an absolute path)"), "{drawn}");
    assert!(app.apply(Action::Submit).is_empty());
    let Mode::NewJob(form) = &mut app.mode else { panic!("the form") };
    assert!(form.error.as_deref().unwrap_or_default().contains("absolute path"), "{:?}", form.error);
    form.cwd.set_text("/srv/app");
    let effects = app.apply(Action::Submit);
    let Effect::StartOnHost { host, tool, arguments, .. } = &effects[0] else { panic!("{effects:?}") };
    assert_eq!((host.as_str(), *tool), ("box", "codex_start"));
    assert_eq!(arguments["cwd"], "/srv/app");
    assert_eq!(arguments["prompt"], "port the parser");
    assert_eq!(arguments["after"], serde_json::json!(["a1b2", "c3d4"]), "the host's own ids");
    assert!(arguments.contains_key("agent") && !arguments.contains_key("worktree"));
}

#[test]
fn without_hosts_the_form_has_no_host_field() {
    let mut app = app(120, 40);
    app.apply(Action::NewJob);
    let Mode::NewJob(form) = &app.mode else { panic!("the form") };
    assert!(!form.fields().contains(&Field::Host));
    assert!(!screen(&app).contains("Runs on"));
}

#[test]
fn the_header_says_how_each_host_is_and_counts_down_to_the_next_try() {
    let mut app = app(200, 30);
    app.hosts = Hosts::new(["box".to_owned(), "gpu".to_owned(), "lab".to_owned()]);
    heard(&mut app, WatchEvent::Link { host: "box".into(), link: HostLink::Connected { version: None } });
    heard(&mut app, WatchEvent::Rows { host: "box".into(), rows: vec![host_row("box:a1a1a1a1", "running", "Port it", 5)] });
    let since = now() - chrono::Duration::minutes(4);
    let (retry_at, error) = (now() + chrono::Duration::seconds(8), "host gpu is unreachable: refused".to_owned());
    heard(&mut app, WatchEvent::Link { host: "gpu".into(), link: HostLink::Unreachable { since, retry_at, error } });
    assert!(app.needs_tick(), "the countdown ticks");
    let header = screen(&app).lines().next().unwrap().to_owned();
    let went = since.with_timezone(&chrono::Local).format("%H:%M");
    assert!(
        header.contains(&format!("│ box 1 running · gpu: unreachable since {went}, retrying in 8 s · lab connecting… (H)")),
        "{header}"
    );
    // Narrow: each host in a word.
    let mut narrow = app.clone();
    narrow.size.0 = 70;
    let header = screen(&narrow).lines().next().unwrap().to_owned();
    assert!(header.contains("box ✓ · gpu ✗ · lab …"), "{header}");
    // All connected: nothing ticks for the hosts.
    heard(&mut app, WatchEvent::Link { host: "gpu".into(), link: HostLink::Connected { version: None } });
    heard(&mut app, WatchEvent::Link { host: "lab".into(), link: HostLink::Connected { version: None } });
    heard(&mut app, WatchEvent::Rows { host: "box".into(), rows: vec![host_row("box:a1a1a1a1", "done", "Port it", 5)] });
    assert!(!app.needs_tick());
}

#[test]
fn this_machines_jobs_are_among_the_hosts_and_a_key_on_one_acts_in_the_main_table() {
    let mut app = loaded(140, 40);
    app.hosts = Hosts::new(["box".to_owned()]);
    heard(&mut app, WatchEvent::Link { host: "box".into(), link: HostLink::Connected { version: None } });
    heard(&mut app, WatchEvent::Rows { host: "box".into(), rows: vec![host_row("box:f6f6f6f6", "running", "On the box", 50)] });
    app.apply(Action::Hosts);
    let order: Vec<String> = app.hosts.rows().map(|(_, row)| row.job_id.clone()).collect();
    // A job with no start (a corrupt one here) first, then newest first across machines.
    assert_eq!(&order[..4], ["local:f6a7b8c9", "local:b2c3d4e5", "box:f6f6f6f6", "local:a1b2c3d4"], "{order:?}");
    let drawn = screen(&app);
    assert!(drawn.contains("local        this machine, 6 jobs (its newest; Enter: one in the main table), 1 running"), "{drawn}");
    assert!(drawn.lines().any(|line| line.contains("local        a1b2c3d4") && line.contains("running")), "{drawn}");
    assert!(drawn.lines().any(|line| line.contains("box          f6f6f6f6")), "{drawn}");

    // Chosen, this machine's job is followed as the main table follows one.
    app.apply(Action::Down);
    app.apply(Action::Down);
    let effects = app.apply(Action::Down);
    assert_eq!(app.hosts.selected.as_deref(), Some("local:a1b2c3d4"));
    assert_eq!(app.selected, Some(id("a1b2c3d4")));
    assert!(effects.contains(&Effect::FollowHostJob(None)), "{effects:?}");
    // `c` on it: the main table's cancel, asked there.
    app.apply(Action::AskCancel);
    assert!(matches!(app.mode, Mode::Confirm(_)), "{:?}", app.mode);
    assert_eq!(app.selected, Some(id("a1b2c3d4")));
    app.apply(Action::Answer(false));
    assert_eq!(app.mode, Mode::Normal);

    // A job hidden by the main table's filter is shown there when Enter picks it.
    app.apply(Action::CycleStatusFilter); // running only
    app.apply(Action::Hosts);
    let finished = app.hosts.rows().position(|(_, row)| row.job_id == "local:c3d4e5f6").unwrap();
    app.apply(Action::First);
    for _ in 0..finished {
        app.apply(Action::Down);
    }
    assert_eq!(app.hosts.selected.as_deref(), Some("local:c3d4e5f6"));
    app.apply(Action::Zoom);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.selected, Some(id("c3d4e5f6")));
    assert!(app.selected_row().is_some(), "its row is in the table");
    assert_eq!(app.flash.as_deref(), Some("filters cleared to show job c3d4e5f6"));
}
