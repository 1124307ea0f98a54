//! State transitions driven by actions (no rendering), and TestBackend snapshots of
//! each screen. Times are fixed and paths are not temporary, so snapshots are stable.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use crate::jobs::{ApprovalPolicy, JobId, JobMeta, JobRecord, LineBlock, OutputLine, OutputUpdate};

use super::model::app::{Action, App, ConfirmKind, DataEvent, Effect, Focus, McpAuth, McpState, Mode, StatusFilter, TaskResult};
use super::model::field::Edit;
use super::model::message::{LoaderCommand, Started};
use super::model::pane::Fetch;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).single().unwrap()
}

fn id(raw: &str) -> JobId {
    JobId::parse(raw).unwrap()
}

/// A job that started `started_ago` seconds before [`now`] and, when finished,
/// ran `ran` seconds.
fn job(raw: &str, status: &str, prompt: &str, started_ago: i64, ran: Option<i64>, exit: Option<i64>) -> JobRecord {
    let started = now() - chrono::Duration::seconds(started_ago);
    let finished = ran.map(|ran| (started + chrono::Duration::seconds(ran)).to_rfc3339());
    let json = serde_json::json!({
        "job_id": raw, "status": status, "prompt": prompt, "cwd": "/home/me/src/project",
        "approval_policy": "auto-edit", "pid": 4242, "started_at": started.to_rfc3339(),
        "finished_at": finished, "exit_code": exit,
    });
    let meta = JobMeta::from_json(json.to_string().as_bytes()).unwrap();
    let created = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 - started_ago as u64);
    JobRecord { id: id(raw), created, meta: Ok(meta) }
}

fn corrupt(raw: &str, started_ago: u64) -> JobRecord {
    let created = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 - started_ago);
    JobRecord { id: id(raw), created, meta: Err("meta.json is not valid JSON: EOF while parsing".to_owned()) }
}

fn app(width: u16, height: u16) -> App {
    let mut app = App::new("~/.codex-async/jobs".into(), PathBuf::from("/home/me/src"), Some("/home/me".into()), (width, height), now());
    app.mcp = McpState::On { url: "http://127.0.0.1:8765/mcp".into(), auth: McpAuth::File };
    app
}

fn many_jobs() -> Vec<JobRecord> {
    vec![
        job("a1b2c3d4", "running", "Refactor the storage layer onto SQLite\nsecond line of the prompt", 95, None, None),
        job("b2c3d4e5", "pending", "Write the changelog", 5, None, None),
        job("c3d4e5f6", "done", "Add a --json flag to the list command", 400, Some(184), Some(0)),
        job("d4e5f6a7", "error", "Upgrade reqwest and fix the build", 900, Some(61), Some(1)),
        job("e5f6a7b8", "cancelled", "Rewrite everything in Haskell", 4000, Some(3700), Some(130)),
        corrupt("f6a7b8c9", 5000),
    ]
}

/// An app with the jobs loaded (newest first as the loader sends them).
fn loaded(width: u16, height: u16) -> App {
    let mut app = app(width, height);
    let mut jobs = many_jobs();
    jobs.sort_by_key(|record| std::cmp::Reverse(record.created));
    app.apply_data(DataEvent::Jobs(jobs));
    app
}

fn select(app: &mut App, raw: &str) {
    while app.selected.as_ref().map(JobId::as_str) != Some(raw) {
        let before = app.selected.clone();
        app.apply(Action::Down);
        assert_ne!(before, app.selected, "{raw} not reachable");
    }
}

fn output(app: &mut App, raw: &str, lines: &[&str], partial: Option<&str>) {
    let mut offset = 0;
    let lines: Vec<OutputLine> = lines
        .iter()
        .map(|text| {
            let line = OutputLine { offset, text: (*text).to_owned() };
            offset += text.len() as u64 + 1;
            line
        })
        .collect();
    let partial = partial.map(|text| OutputLine { offset, text: text.to_owned() });
    let file_len = offset + partial.as_ref().map_or(0, |line| line.text.len() as u64);
    app.apply_data(DataEvent::Output(id(raw), OutputUpdate::Reset { tail: LineBlock { start: 0, end: offset, lines }, partial, file_len }));
}

fn render(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal.draw(|frame| super::view::draw::draw(frame, app)).unwrap();
    terminal
}

fn screen(app: &App) -> String {
    render(app).backend().to_string()
}

fn key(ch: char) -> crossterm::event::Event {
    crossterm::event::Event::Key(crossterm::event::KeyEvent::new(crossterm::event::KeyCode::Char(ch), crossterm::event::KeyModifiers::NONE))
}

mod acting;
mod after_and_hooks;
mod approval;
mod front_door;
mod hosts;
mod screens;
mod state;
mod unattended;
mod widths;

// ---- snapshots ----

#[test]
fn snapshot_empty() {
    let mut app = app(100, 16);
    app.apply_data(DataEvent::Jobs(Vec::new()));
    insta::assert_snapshot!("empty", screen(&app));
}

#[test]
fn snapshot_many_statuses() {
    let mut app = loaded(120, 20);
    app.apply_data(DataEvent::Job(Box::new(job("c3d4e5f6", "done", "Add a --json flag to the list command", 400, Some(184), Some(0)))));
    app.unseen.insert(id("d4e5f6a7"));
    app.mcp = McpState::Off("address 127.0.0.1:8765 already in use".into());
    insta::assert_snapshot!("many_statuses", screen(&app));
}

fn colourful_output(app: &mut App) {
    let lines: Vec<String> = (0..60)
        .map(|i| match i % 4 {
            _ if i == 35 => format!("a long line {}", "that wraps around ".repeat(8)),
            0 => format!("\u{1b}[1;35mexec\u{1b}[0m step {i}"),
            1 => format!("\u{1b}[32msucceeded\u{1b}[0m in {i}ms:\ttabbed"),
            2 => format!("wide 日本語 {i} \u{1b}[2J\u{7}"),
            _ => format!("plain line {i}"),
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    output(app, "b2c3d4e5", &refs, Some("Running tests ▕████░░░░▏  50%"));
}

#[test]
fn snapshot_output_following() {
    let mut app = loaded(100, 24);
    colourful_output(&mut app);
    let terminal = render(&app);
    insta::assert_snapshot!("output_following", terminal.backend().to_string());
    // Colours survive as styles.
    let buffer = terminal.backend().buffer();
    let y = (0..24u16).find(|&y| buffer[(0, y)].symbol() == "e" && buffer[(1, y)].symbol() == "x").expect("an exec line");
    assert_eq!(buffer[(0, y)].fg, Color::Magenta);
}

#[test]
fn snapshot_output_scrolled_and_wrapped() {
    let mut app = loaded(60, 20);
    colourful_output(&mut app);
    app.apply(Action::ToggleFocus);
    app.apply(Action::PageUp);
    app.apply(Action::PageUp);
    app.apply(Action::ToggleWrap);
    insta::assert_snapshot!("output_scrolled_wrapped", screen(&app));
}

#[test]
fn snapshot_search_highlights() {
    let mut app = loaded(100, 24);
    colourful_output(&mut app);
    app.apply(Action::EditSearch);
    for ch in "step 4".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::Submit);
    let terminal = render(&app);
    insta::assert_snapshot!("search_highlights", terminal.backend().to_string());
    let buffer = terminal.backend().buffer();
    let highlighted = buffer.content().iter().filter(|cell| matches!(cell.bg, Color::Yellow | Color::LightRed)).count();
    assert!(highlighted >= "step 4".len() * 2, "matches are highlighted ({highlighted} cells)");
}

#[test]
fn snapshot_cancel_confirmation() {
    let mut app = loaded(100, 20);
    select(&mut app, "a1b2c3d4");
    app.apply(Action::AskCancel);
    insta::assert_snapshot!("cancel_confirmation", screen(&app));
}

#[test]
fn snapshot_help() {
    let mut app = loaded(100, 26);
    app.apply(Action::Help);
    insta::assert_snapshot!("help", screen(&app));
}

#[test]
fn snapshot_new_job_form() {
    let mut app = loaded(100, 24);
    app.apply(Action::NewJob);
    for ch in "Fix the flaky test".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    insta::assert_snapshot!("new_job_form", screen(&app));
}

/// A finished claude job with a session, and a running one mid-command.
fn agent_jobs(app: &mut App) {
    let mut done = job("c3d4e5f6", "done", "Add a --json flag to the list command", 400, Some(184), Some(0));
    let mut running = job("a1b2c3d4", "running", "Refactor the storage layer onto SQLite", 95, None, None);
    if let (Ok(done), Ok(running)) = (&mut done.meta, &mut running.meta) {
        done.details.agent = Some("claude".into());
        done.details.session_id = Some("3f9e…".into());
        done.details.usage = Some(crate::jobs::Usage { input_tokens: 11_200, output_tokens: 1_150, ..Default::default() });
        running.details.agent = Some("codex".into());
        running.details.model = Some("gpt-5-codex".into());
        running.details.activity = Some("running: cargo test --workspace".into());
        running.details.usage = Some(crate::jobs::Usage { input_tokens: 840, output_tokens: 95, ..Default::default() });
    }
    app.apply_data(DataEvent::Job(Box::new(done)));
    app.apply_data(DataEvent::Job(Box::new(running)));
}

#[test]
fn snapshot_agent_activity_and_tokens() {
    let mut app = loaded(120, 12);
    agent_jobs(&mut app);
    select(&mut app, "a1b2c3d4");
    insta::assert_snapshot!("agent_activity_and_tokens", screen(&app));
}

#[test]
fn snapshot_follow_up_form() {
    let mut app = loaded(100, 24);
    agent_jobs(&mut app);
    select(&mut app, "c3d4e5f6");
    app.apply(Action::FollowUp);
    for ch in "Now add a test for it".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    insta::assert_snapshot!("follow_up_form", screen(&app));
}

#[test]
fn snapshot_filter() {
    let mut app = loaded(100, 16);
    app.apply(Action::CycleStatusFilter);
    app.apply(Action::CycleStatusFilter);
    app.apply(Action::EditFilter);
    for ch in "the".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    insta::assert_snapshot!("filter", screen(&app));
}

#[test]
fn snapshot_tiny_terminal() {
    let mut app = loaded(40, 10);
    colourful_output(&mut app);
    insta::assert_snapshot!("tiny_40x10", screen(&app));
    app.apply(Action::Help);
    insta::assert_snapshot!("tiny_40x10_help", screen(&app));
    for _ in 0..30 {
        app.apply(Action::Down);
    }
    insta::assert_snapshot!("tiny_40x10_help_scrolled", screen(&app));
    // Even smaller: nothing panics.
    for (width, height) in [(1, 1), (10, 3), (0, 0), (20, 2)] {
        app.apply(Action::Resize(width, height));
        render(&app);
    }
}

#[test]
fn snapshot_zoom() {
    let mut app = loaded(80, 12);
    colourful_output(&mut app);
    app.apply(Action::Zoom);
    insta::assert_snapshot!("zoom", screen(&app));
}

#[test]
fn snapshot_watch_problem() {
    let mut app = loaded(120, 12);
    app.apply_data(DataEvent::WatchProblem(Some("not watched (too many open files); rescanning every 3s".into())));
    let screen = screen(&app);
    assert!(screen.contains("⚠ jobs folder not watched (too many open files)"), "{screen}");
    insta::assert_snapshot!("watch_problem", screen);
}

#[test]
fn snapshot_escapes_that_used_to_leak() {
    let mut app = loaded(80, 14);
    select(&mut app, "b2c3d4e5");
    let osc = format!("\u{1b}]52;c;{}\u{7}", "QUJD".repeat(50));
    let lines = [
        // tput bold … tput sgr0: ESC ( B must not leave a stray B.
        "\u{1b}[1mbold\u{1b}(B\u{1b}[m then plain".to_owned(),
        format!("before{osc}after: a 200-byte clipboard write"),
        "\u{1b}]0;evil title\u{7}\u{1b}[2J\u{1b}[Hcleared nothing".to_owned(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    output(&mut app, "b2c3d4e5", &refs, None);
    let screen = screen(&app);
    assert!(screen.contains("bold then plain") && !screen.contains("boldB"), "{screen}");
    assert!(screen.contains("beforeafter: a 200-byte clipboard write") && !screen.contains("QUJD"), "{screen}");
    assert!(screen.contains("cleared nothing") && !screen.contains("evil title"), "{screen}");
    insta::assert_snapshot!("escapes_that_used_to_leak", screen);
}
mod attempts;
mod worktree;
