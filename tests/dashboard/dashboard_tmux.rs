//! The dashboard end to end: the real binary in a detached tmux session on a temp
//! CODEX_ASYNC_HOME, driven with keys and read with `capture-pane`.
#![allow(clippy::unwrap_used)]

// The second edition's screens, each end to end.
mod acting;
mod editing;
mod front_door;
mod reading;
mod screenshot;

use crate::support;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command};
use crate::support::{TestHome, is_alive, wait_until};
use std::time::Duration;

#[test]
fn jobs_appear_live_cancel_with_confirmation_and_quit_leaves_jobs_running() {
    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, 0, ""), 140, 36);
    tmux.wait_for("codex-async", DEADLINE);
    tmux.wait_for("No jobs yet", DEADLINE);

    // A job started by another process shows up, pushed by its change event: before the
    // change feed's first fallback rescan could have found it.
    let survivor = home.start("say:survivor sleep:60");
    tmux.wait_for(&survivor, tmux.before_first_rescan());
    let doomed = home.start("say:doomed stubborn-child setsid-grandchild sleep:60");
    tmux.wait_for(&doomed, tmux.before_first_rescan());
    wait_until("the doomed job's processes to report", DEADLINE, || {
        home.reported_pids(&doomed, "stubborn").len() == 1 && home.reported_pids(&doomed, "escaped").len() == 1
    });
    let pids: Vec<i32> = ["agent", "stubborn", "escaped"].iter().flat_map(|role| home.reported_pids(&doomed, role)).collect();
    assert_eq!(pids.len(), 3);

    // Its output streams into the pane once selected: filter to it, it is selected.
    tmux.keys(&["f"]);
    tmux.type_text(&doomed);
    tmux.keys(&["Enter"]);
    tmux.wait_for("doomed", DEADLINE);
    tmux.wait_for(&format!("output  {doomed}"), DEADLINE);

    // c asks first; n keeps it running.
    tmux.keys(&["c"]);
    tmux.wait_for(&format!("Cancel job {doomed}?"), DEADLINE);
    tmux.keys(&["n"]);
    wait_until("the confirmation to close", DEADLINE, || !tmux.capture().contains("Cancel job"));
    assert_eq!(home.status(&doomed), "running");

    // c, y: cancelled on screen, and every process of the job is gone.
    tmux.keys(&["c"]);
    tmux.wait_for(&format!("Cancel job {doomed}?"), DEADLINE);
    tmux.keys(&["y"]);
    home.wait_for_status(&doomed, "cancelled", DEADLINE);
    wait_until("the row to say cancelled", DEADLINE, || tmux.row_of(&doomed).is_some_and(|line| line.contains("cancelled")));
    wait_until("the job's processes to be gone", DEADLINE, || {
        pids.iter().all(|&pid| !is_alive(pid)) && home.job_processes(&doomed).is_empty()
    });

    // Resized to a tiny terminal, it lays itself out again for 40 columns: the status
    // and exit columns go, the header's counts lose their words (a screen still laid
    // out for 140 columns would show both, cut at the edge).
    tmux.run(&["resize-window", "-t", Tmux::SESSION, "-x", "40", "-y", "10"]);
    tmux.wait_until("the 40-column layout", DEADLINE, |screen| {
        let header = screen.lines().next().unwrap_or("");
        let row = screen.lines().find(|line| line.split_whitespace().nth(1) == Some(doomed.as_str()));
        header.contains("⊘1")
            && screen.lines().any(|line| line.contains("ID       TIME"))
            && !screen.contains("STATUS")
            && row.is_some_and(|row| !row.contains("cancelled"))
    });
    // And back at full size, it shows everything again (a screen left in the tiny
    // layout would not).
    tmux.run(&["resize-window", "-t", Tmux::SESSION, "-x", "140", "-y", "36"]);
    tmux.wait_until("the 140-column layout", DEADLINE, |screen| {
        let header = screen.lines().next().unwrap_or("");
        let row = screen.lines().find(|line| line.split_whitespace().nth(1) == Some(doomed.as_str()));
        header.contains("⊘ 1 cancelled")
            && header.contains("token: codex-async token")
            && ["STATUS", "EXIT", "POLICY", "CWD"].iter().all(|title| screen.contains(title))
            && row.is_some_and(|row| row.contains("cancelled"))
    });

    // q quits; the other job keeps running and the exit message says so.
    tmux.keys(&["q"]);
    wait_until("the dashboard to exit", DEADLINE, || tmux.exited_cleanly());
    tmux.wait_until("the exit message naming the job that keeps running", DEADLINE, |screen| {
        screen.lines().any(|line| line.contains("keep running in the background") && line.contains(&survivor))
    });
    assert_eq!(home.status(&survivor), "running");
    assert!(home.reported_pids(&survivor, "agent").iter().all(|&pid| is_alive(pid)));
}

#[test]
fn a_job_started_from_the_form_runs_and_its_output_streams() {
    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 30);
    let screen = tmux.wait_for("No jobs yet", DEADLINE);
    assert!(screen.contains("MCP off (--no-mcp)"), "{screen}");

    tmux.keys(&["n"]);
    // The cwd defaults to where the dashboard started.
    let folder = home.path().display().to_string();
    tmux.wait_until("the form, in the dashboard's folder", DEADLINE, |screen| screen.contains("New job") && screen.contains(&folder));
    tmux.type_text("say:hello-from-the-form sleep:1 say:second-line");
    tmux.keys(&["Enter"]);
    let id = tmux.started_job();
    tmux.wait_for_row(&id, "the prompt", |row| row.contains("say:hello-from-the-form"));
    tmux.wait_until("the second line in the output", DEADLINE, |screen| support::tmux::output_pane_of(screen).contains("second-line"));
    home.wait_for_status(&id, "done", DEADLINE);
    wait_until("the row to say done", DEADLINE, || tmux.row_of(&id).is_some_and(|line| line.contains("done")));

    // Scrolling up stops following (the title says so); G follows again.
    tmux.keys(&["Tab", "Up"]);
    tmux.wait_for("scrolled, line", DEADLINE);
    tmux.keys(&["G"]);
    tmux.wait_for("· following", DEADLINE);
    tmux.keys(&["Tab"]);

    // Search, help, zoom: the screen answers and comes back.
    tmux.keys(&["?"]);
    // (At 30 rows the help scrolls: "Keys (↑↓ more, Esc closes)".)
    tmux.wait_for("Esc closes)", DEADLINE);
    tmux.escape("the help closed", |screen| !screen.contains("Esc closes)"));
    tmux.keys(&["/"]);
    tmux.type_text("second");
    tmux.keys(&["Enter"]);
    tmux.wait_for("/second 1/1", DEADLINE);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Esc unzoom", DEADLINE);
    tmux.keys(&["C-c"]);
    wait_until("Ctrl-C to quit", DEADLINE, || tmux.exited_cleanly());
    tmux.wait_for("no job is running", DEADLINE);
}

#[test]
fn r_follows_up_a_finished_job_and_the_follow_up_resumes_its_session() {
    let home = TestHome::new();
    let parent = home.start("session say:parent-done");
    home.wait_for_status(&parent, "done", DEADLINE);
    let session = home.meta(&parent)["session_id"].as_str().expect("a session").to_owned();
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 30);
    tmux.wait_for(&parent, DEADLINE);
    tmux.wait_for("r follow up", DEADLINE);
    tmux.keys(&["r"]);
    tmux.wait_for(&format!("Follow up job {parent}"), DEADLINE);
    tmux.type_text("session argv");
    tmux.keys(&["Enter"]);
    // The id from the footer, the row waited for: under load the row is drawn a
    // moment after the footer says "started job".
    let child = tmux.started_job();
    tmux.wait_for_row(&child, "the follow-up's prompt", |row| row.contains("session argv"));
    home.wait_for_status(&child, "done", DEADLINE);
    let meta = home.meta(&child);
    assert_eq!(meta["parent_job_id"], parent.as_str());
    assert_eq!(meta["session_id"], session.as_str());
    let output = home.output(&child);
    assert!(output.contains("resume\n--json\n-o\n") && output.contains(&format!("{session}\n--\nsession argv")), "{output}");
    assert_eq!(home.meta(&parent)["follow_ups"], serde_json::json!([child]));
    // The title tells whose follow-up it is.
    tmux.wait_for(&format!("follows {parent}"), DEADLINE);
    tmux.keys(&["q"]);
    wait_until("q to quit", DEADLINE, || tmux.exited_cleanly());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_started_over_the_dashboards_mcp_endpoint_appears_by_its_change_event() {
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::StreamableHttpClientTransport;

    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, 0, ""), 140, 30);
    // The header says a token is needed and how to print it.
    tmux.wait_for("token: codex-async token", DEADLINE);
    let url = support::tmux::mcp_url(&tmux);

    // Without the token the endpoint refuses; with the home's token it serves.
    let refused = ().serve(StreamableHttpClientTransport::from_uri(url.clone())).await;
    assert!(refused.is_err(), "a client without the token was served");
    let token = std::fs::read_to_string(home.path().join("token")).unwrap().trim().to_owned();
    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
    let client = ().serve(StreamableHttpClientTransport::from_config(config)).await.unwrap();
    let arguments = serde_json::json!({ "prompt": "say:over-mcp sleep:30", "cwd": home.path() });
    let params = CallToolRequestParams::new("codex_start").with_arguments(arguments.as_object().cloned().unwrap());
    let result = client.call_tool(params).await.unwrap();
    let started: serde_json::Value = result.structured_content.clone().unwrap_or_else(|| {
        let text = result.content.iter().find_map(|content| content.as_text().map(|text| text.text.clone())).unwrap();
        serde_json::from_str(&text).unwrap()
    });
    let id = started["job_id"].as_str().unwrap().to_owned();
    // Before the change feed's first fallback rescan could have found it: it came by
    // its change event.
    tmux.wait_for(&id, tmux.before_first_rescan());
    client.cancel().await.unwrap();
}

#[test]
fn a_taken_port_turns_mcp_off_the_reason_is_reachable_at_80_columns_and_the_dashboard_keeps_working() {
    let home = TestHome::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let tmux = Tmux::start(&dashboard_command(&home, port, ""), 80, 30);
    // Too narrow for the reason in the header: the header says where it is, the footer
    // says it at start.
    tmux.wait_until("MCP off in the header, the reason in the footer", DEADLINE, |screen| {
        let header = screen.lines().next().unwrap_or("");
        let footer = screen.lines().rfind(|line| !line.trim().is_empty()).unwrap_or("");
        header.contains("MCP off (? says why)") && footer.contains("MCP is off (? says it again): cannot listen on")
    });
    let id = home.start("say:still-works");
    tmux.wait_for_row(&id, "listed", |_| true);
    // `?` says it whole, in rows that fit the box.
    tmux.keys(&["?"]);
    tmux.wait_until("the whole reason in the help", DEADLINE, |screen| {
        let help: Vec<&str> = screen.lines().map(|line| line.trim_matches(|ch: char| ch == '│' || ch.is_whitespace())).collect();
        let help = help.join(" ");
        help.contains(&format!("MCP  off: cannot listen on 127.0.0.1:{port}")) && help.contains("Address already in use")
    });
    tmux.escape("the help closed", |screen| !screen.contains("Esc closes)"));
    tmux.keys(&["q"]);
    wait_until("the dashboard to exit", DEADLINE, || tmux.exited_cleanly());
}

/// Ends whatever the demo's jobs left running, should the test fail before the demo
/// cleans up (the demo folder itself is inside the test's home: `TMPDIR`).
struct DemoJobs {
    tmp: std::path::PathBuf,
}

impl Drop for DemoJobs {
    fn drop(&mut self) {
        for folder in std::fs::read_dir(&self.tmp).into_iter().flatten().flatten() {
            support::end_jobs_in(&folder.path().join("jobs"));
        }
    }
}

#[test]
fn the_demo_shows_simulated_jobs_and_cleans_up_on_quit() {
    let home = TestHome::new();
    let tmp = home.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let _demo_jobs = DemoJobs { tmp: tmp.clone() };
    let command = format!("export TMPDIR={}; {}", tmp.display(), dashboard_command(&home, 0, "--demo --no-mcp"));
    let tmux = Tmux::start(&command, 200, 30);
    // The queue holds one of the five jobs while three run.
    tmux.wait_for("◌ 1 pending", DEMO_DEADLINE);
    // Live activity from codex's events, then tokens once a turn completes.
    tmux.wait_until("a job's activity", DEMO_DEADLINE, |screen| screen.contains("running: ") || screen.contains("thinking"));
    // Every ending the demo promises: done with tokens, failed, cancelled, and a follow-up.
    let screen = tmux.wait_until("the demo's endings", DEMO_DEADLINE, |screen| {
        let rows: Vec<&str> = screen.lines().collect();
        let has = |status: &str, also: &str| rows.iter().any(|row| row.contains(status) && row.contains(also));
        has("done", "k ") && has("error", "stream disconnected") && has("cancelled", "Benchmark") && has("done", "↳ Suggest")
    });
    let folder = screen
        .split_whitespace()
        .find(|word| word.contains("codex-async-demo-"))
        .map(|word| std::path::PathBuf::from(word.trim_end_matches("/home/jobs")))
        .expect("the header names the demo folder");
    assert!(folder.starts_with(&tmp), "the demo folder {} is made in TMPDIR", folder.display());
    assert!(folder.is_dir());
    // The job that added the flag changed the demo's repository: `D` shows it.
    let row = screen.lines().position(|line| line.contains("Add a --json flag")).expect("the edit job's row");
    let selected = screen.lines().position(|line| line.contains("(6 / 6)")).expect("the table's title") + 1;
    let moves = vec!["j"; row - selected];
    tmux.keys(&["g"]);
    tmux.keys(&moves);
    tmux.keys(&["D"]);
    tmux.wait_for("+pub fn list_json", DEADLINE);
    tmux.escape("the changes view closed", |screen| !screen.contains(" changes of "));
    tmux.keys(&["q"]);
    wait_until("the demo to exit", DEADLINE, || tmux.exited_cleanly());
    tmux.wait_for("demo closed", DEADLINE);
    assert!(!folder.exists(), "the demo folder is removed");
}

/// The demo plays for about forty seconds before every ending is on screen.
const DEMO_DEADLINE: Duration = Duration::from_secs(120);

/// 2,000 finished jobs: 1,000 done, 500 failed, 500 cancelled, newest first.
fn stock_two_thousand(home: &TestHome) -> Vec<String> {
    let store = home.store();
    let statuses = [("done", 0), ("error", 1), ("done", 0), ("cancelled", 130)];
    (0..2000)
        .map(|n| {
            let id = store.reserve().unwrap();
            let (status, code) = statuses[n % 4];
            let meta = serde_json::json!({"job_id": id.as_str(), "status": status, "prompt": format!("stored job {n:04}"),
                "cwd": "/tmp", "approval_policy": "suggest", "pid": null, "started_at": "2026-11-01T10:00:00+00:00",
                "finished_at": "2026-11-01T10:05:00+00:00", "exit_code": code});
            // Plain writes: 2,000 fsyncs would only slow the setup down.
            std::fs::write(store.meta_path(&id), meta.to_string()).unwrap();
            std::fs::write(store.output_path(&id), format!("output of stored job {n:04}\n")).unwrap();
            id.to_string()
        })
        .collect()
}

#[test]
fn two_thousand_stored_jobs_are_listed_counted_and_navigable() {
    use codex_async::jobs::{JobFeed, Status};
    use codex_async::tui::loader::{self, LoaderCommand};
    use codex_async::tui::{Action, App};

    let home = TestHome::new();
    let ids = stock_two_thousand(&home);

    // State: the loader reads each job once and hands the dashboard all of them.
    let store = home.store();
    let (_commands, command_receiver) = tokio::sync::mpsc::unbounded_channel::<LoaderCommand>();
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let _stop_loader = shutdown.clone().drop_guard();
    let loader = loader::spawn(JobFeed::new(store.clone()), command_receiver, sender, shutdown.clone()).unwrap();
    let mut app = App::new("jobs".into(), home.path().to_owned(), None, (160, 45), chrono::Utc::now());
    wait_until("the first listing", DEADLINE, || {
        while let Ok(event) = events.try_recv() {
            app.apply_data(event);
        }
        app.loaded
    });
    assert_eq!(app.jobs.len(), 2000);
    assert_eq!(store.counters().listings(), 1, "one listing");
    assert_eq!(store.counters().meta_reads(), 2000, "each job read once");
    let count = |status: Status| app.counts().into_iter().find(|(counted, _)| *counted == Some(status)).map_or(0, |(_, n)| n);
    assert_eq!([Status::Done, Status::Error, Status::Cancelled].map(count), [1000, 500, 500]);
    // In the store's order (newest folder first), every stored job once.
    let listed: Vec<String> = store.list(None).unwrap().into_iter().map(|record| record.id.to_string()).collect();
    let shown: Vec<String> = app.view.iter().map(|&index| app.jobs[index].id.to_string()).collect();
    assert_eq!(shown, listed);
    let mut sorted = shown.clone();
    sorted.sort();
    let mut stocked = ids.clone();
    stocked.sort();
    assert_eq!(sorted, stocked);
    app.apply(Action::Last);
    let oldest = app.selected.clone().expect("the last row is selected");
    assert_eq!(Some(oldest.to_string()), listed.last().cloned(), "the oldest last");
    shutdown.cancel();
    assert!(loader.join().is_ok(), "the loader thread did not panic");

    let oldest_output = home.output(oldest.as_str()).trim().to_owned();

    // Screen: the real dashboard shows the same, a running job on top, and its keys
    // still answer.
    let running = home.start("say:the-running-one sleep:60");
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 160, 45);
    tmux.wait_until("2,001 jobs counted in the header", DEADLINE, |screen| {
        let header = screen.lines().next().unwrap_or("");
        ["● 1 running", "✓ 1000 done", "✗ 500 error", "⊘ 500 cancelled"].iter().all(|count| header.contains(count))
    });
    tmux.wait_until("all listed, the running job on the first row", DEADLINE, |screen| {
        screen.contains("(2001 / 2001 ▼") && support::tmux::row_in(screen, &running).is_some()
    });
    tmux.keys(&["G"]);
    tmux.wait_until("the oldest job selected, its row on screen and its output shown", DEADLINE, |screen| {
        screen.contains(&format!("output  {oldest}"))
            && support::tmux::output_pane_of(screen).contains(&oldest_output)
            && support::tmux::row_in(screen, oldest.as_str()).is_some()
    });
    tmux.keys(&["g"]);
    tmux.wait_for(&format!("output  {running}"), DEADLINE);
    tmux.keys(&["s"]);
    tmux.wait_for("(1 / 2001 [running])", DEADLINE);
    tmux.keys(&["?"]);
    tmux.wait_for("Esc closes)", DEADLINE);
    tmux.escape("the help closed", |screen| !screen.contains("Esc closes)"));
    tmux.keys(&["q"]);
    wait_until("the dashboard to exit", DEADLINE, || tmux.exited_cleanly());
    home.run(&["cancel", &running, "--grace", "1"]);
}
