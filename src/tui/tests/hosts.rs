//! `H`: other hosts' jobs as their tasks report them — each host's state, a HOST
//! column, a host that cannot be reached greyed with when it went and when it is tried
//! again, the selected job's last lines — and `c` cancelling a job on its own host.

use super::*;
use crate::hosts::watch::{HostLink, WatchEvent};
use crate::jobs::ListView;
use crate::tui::model::hosts::Hosts;

fn host_row(raw: &str, status: &str, prompt: &str, started_ago: i64) -> ListView {
    let started = (now() - chrono::Duration::seconds(started_ago)).to_rfc3339();
    serde_json::from_value(serde_json::json!({"job_id": raw, "status": status, "prompt": prompt, "cwd": "/srv/app",
        "started_at": started, "finished_at": null, "exit_code": null}))
    .unwrap()
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
    assert_eq!(app.hosts.asking_cancel, None);

    // A running job of a reachable host: asked, then cancelled there.
    app.apply(Action::First);
    assert!(app.apply(Action::AskCancel).is_empty());
    assert!(screen(&app).contains("Cancel job box:a1a1a1a1 on its host? y yes"), "{}", screen(&app));
    assert!(app.apply(Action::Answer(false)).is_empty(), "no is no");
    app.apply(Action::AskCancel);
    assert_eq!(app.apply(Action::Answer(true)), [Effect::CancelHostJob("box:a1a1a1a1".into())]);
    app.apply_result(TaskResult::HostCancelled { job: "box:a1a1a1a1".into(), outcome: Ok("cancelled".into()) });
    assert_eq!(app.flash.as_deref(), Some("box:a1a1a1a1: cancelled"));

    // The selected job went on its host: the first row is followed instead.
    let effects =
        heard(&mut app, WatchEvent::Rows { host: "box".into(), rows: vec![host_row("box:b2b2b2b2", "done", "Write the docs", 900)] });
    assert_eq!(effects, [Effect::FollowHostJob(Some("box:b2b2b2b2".into()))]);
    assert_eq!(app.apply(Action::Back), [Effect::FollowHostJob(None)]);
    assert_eq!(app.mode, Mode::Normal);
}
