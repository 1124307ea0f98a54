//! Snapshots of the second edition's screens, each at 80×24 and at 160×45: the views
//! shown in the output's place (detail, changes, a whole line), the forms and
//! confirmations that act on jobs, the table's new marks and columns, and the output
//! read sideways and searched through the whole file.

use crate::jobs::JobRecord;
use crate::jobs::{LineBlock, OutputLine, OutputUpdate};

use super::super::model::app::{Action, App, DataEvent, Mode, TaskResult};
use super::super::model::field::Edit;
use super::super::model::message::Started;
use super::super::model::search::FileMatch;
use super::{id, job, loaded, output, screen, select};

/// The two sizes every new screen is drawn at.
const SIZES: [(u16, u16); 2] = [(80, 24), (160, 45)];

/// Snapshots what `setup` makes of the loaded jobs at each of [`SIZES`].
fn at_both_sizes(name: &str, setup: impl Fn(&mut App)) {
    for (width, height) in SIZES {
        let mut app = loaded(width, height);
        setup(&mut app);
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), screen(&app));
    }
}

fn type_text(app: &mut App, text: &str) {
    for ch in text.chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
}

/// A meta changed by `change`, put back into the app as the loader would send it.
fn update(app: &mut App, raw: &str, change: impl FnOnce(&mut crate::jobs::JobMeta)) {
    let Some(mut record) = app.jobs.iter().find(|record| record.id.as_str() == raw).cloned() else {
        panic!("no job {raw}");
    };
    if let Ok(meta) = &mut record.meta {
        change(meta);
    }
    app.apply_data(DataEvent::Job(Box::new(record)));
}

/// The done job as a claude job that ran a command, with a follow-up, a session and
/// usage: what the detail view has the most to say about.
fn rich_done_job(app: &mut App) {
    update(app, "c3d4e5f6", |meta| {
        meta.prompt = "Add a --json flag to the list command\n\nKeep the table as it is.\nTest both.".into();
        meta.details.agent = Some("claude".into());
        meta.details.model = Some("sonnet".into());
        meta.details.command =
            Some(["claude", "-p", "--output-format", "stream-json", "Add a --json flag\nKeep the table"].map(str::to_owned).to_vec());
        meta.details.session_id = Some("3f9e2a7c-11aa-4b5c-9d0e-5566778899aa".into());
        meta.details.usage = Some(crate::jobs::Usage { input_tokens: 11_200, output_tokens: 1_150, ..Default::default() });
        meta.details.follow_ups = vec!["b2c3d4e5".into()];
        meta.details.note = Some("finished normally".into());
    });
}

#[test]
fn detail_view() {
    at_both_sizes("detail", |app| {
        rich_done_job(app);
        select(app, "c3d4e5f6");
        app.apply(Action::Detail);
        app.apply_result(TaskResult::Detail {
            id: id("c3d4e5f6"),
            prompt: None,
            last_message: Some("Added `--json` to `list`.\n\n- src/cli.rs: the flag\n- tests/list.rs: both outputs".into()),
            hook_failures: Vec::new(),
            hooks_log: String::new(),
        });
    });
}

#[test]
fn changes_view_of_a_repository() {
    let diff = concat!(
        " src/cli.rs     | 12 \u{1b}[32m++++++++\u{1b}[m\u{1b}[31m----\u{1b}[m\n",
        " tests/list.rs  |  9 \u{1b}[32m+++++++++\u{1b}[m\n",
        " 2 files changed, 17 insertions(+), 4 deletions(-)\n",
        "\n",
        "\u{1b}[1mdiff --git a/src/cli.rs b/src/cli.rs\u{1b}[m\n",
        "\u{1b}[36m@@ -10,7 +10,15 @@\u{1b}[m pub struct List {\n",
        " \u{1b}[31m-    pub all: bool,\u{1b}[m\n",
        " \u{1b}[32m+    pub all: bool,\u{1b}[m\n",
        " \u{1b}[32m+    /// Print JSON instead of the table.\u{1b}[m\n",
        " \u{1b}[32m+    pub json: bool,\u{1b}[m\n",
    );
    at_both_sizes("changes", |app| {
        update(app, "c3d4e5f6", |meta| {
            meta.git_head = Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".into());
            meta.git_dirty = Some(true);
        });
        select(app, "c3d4e5f6");
        app.apply(Action::Diff);
        app.apply_result(TaskResult::Diff { id: id("c3d4e5f6"), text: diff.to_owned() });
    });
}

#[test]
fn changes_view_of_a_folder_that_is_not_a_repository() {
    at_both_sizes("changes_not_git", |app| {
        select(app, "d4e5f6a7");
        app.apply(Action::Diff);
        let text = "/home/me/src/project is not in a git repository: codex-async cannot tell what the job changed there.";
        app.apply_result(TaskResult::Diff { id: id("d4e5f6a7"), text: text.to_owned() });
    });
}

#[test]
fn a_cut_line_and_the_same_line_read_whole() {
    let cut = format!("{}\u{1b}[0m … (24576 more bytes on this line)", "x".repeat(300));
    let whole = format!("{}END", "0123456789".repeat(330));
    at_both_sizes("cut_line", |app| {
        output(app, "b2c3d4e5", &["before the long line", &cut, "after the long line"], None);
        app.apply(Action::ToggleFocus);
    });
    at_both_sizes("whole_line", |app| {
        output(app, "b2c3d4e5", &["before the long line", &cut, "after the long line"], None);
        app.apply(Action::ToggleFocus);
        app.apply(Action::WholeLine);
        app.apply_data(DataEvent::WholeLine { job: id("b2c3d4e5"), offset: 21, text: whole.clone(), total: 24_876 });
    });
}

#[test]
fn run_again_form() {
    at_both_sizes("run_again", |app| {
        rich_done_job(app);
        select(app, "c3d4e5f6");
        app.apply(Action::Rerun);
        assert!(matches!(&app.mode, Mode::NewJob(form) if form.rerun_of.is_some()));
    });
}

#[test]
fn new_job_form_with_a_pasted_prompt_and_folder_completion() {
    at_both_sizes("form_pasted_and_completing", |app| {
        app.apply(Action::NewJob);
        app.apply(Action::Edit(Edit::Paste("Fix the flaky test\nin tests/queue.rs\n\nthen run cargo test".into())));
        app.apply(Action::NextField);
        app.apply(Action::Edit(Edit::DeleteToStart));
        type_text(app, "/home/me/src/p");
        app.apply(Action::NextField);
        app.apply_result(TaskResult::FolderMatches {
            typed: "/home/me/src/p".into(),
            matches: vec!["/home/me/src/parser/".into(), "/home/me/src/project/".into(), "/home/me/src/pueue/".into()],
        });
    });
}

#[test]
fn marked_jobs_and_their_cancel_confirmation() {
    at_both_sizes("marked", |app| {
        // Space marks and moves down: two presses, two rows.
        select(app, "a1b2c3d4");
        app.apply(Action::ToggleMark);
        app.apply(Action::ToggleMark);
    });
    at_both_sizes("marked_cancel_confirmation", |app| {
        select(app, "b2c3d4e5");
        app.apply(Action::ToggleMark);
        app.apply(Action::ToggleMark);
        app.apply(Action::Up);
        app.apply(Action::AskCancel);
        assert!(matches!(&app.mode, Mode::Confirm(confirm) if confirm.ids.len() == 2));
    });
}

#[test]
fn a_stopping_job_offers_to_kill_it_now() {
    at_both_sizes("stopping_kill_confirmation", |app| {
        select(app, "a1b2c3d4");
        app.apply(Action::AskCancel);
        app.apply(Action::Answer(true));
        app.apply(Action::AskCancel);
        assert!(matches!(&app.mode, Mode::Confirm(confirm) if confirm.kind == super::ConfirmKind::Kill));
    });
}

#[test]
fn clean_confirmation_says_how_many() {
    at_both_sizes("clean_confirmation", |app| {
        app.apply(Action::AskClean);
    });
}

#[test]
fn lost_supervisor_failed_start_and_sorted_by_status() {
    at_both_sizes("lost_failed_sorted", |app| {
        update(app, "a1b2c3d4", |meta| meta.supervisor_lost = true);
        app.apply(Action::CycleSort);
        app.apply_result(TaskResult::Started(Ok(Started {
            id: "0a0b0c0d".into(),
            failed: Some("agent 'codex' is not on PATH (exit code 127)".into()),
            inherited: None,
        })));
    });
}

/// Sixty jobs, the selection in the middle: rows above and below are counted.
fn many_rows(app: &mut App) {
    let jobs: Vec<JobRecord> = (0..60)
        .map(|n| {
            let status = ["done", "error", "running", "cancelled"][n % 4];
            let finished = status != "running";
            let started_ago = 60 + n as i64 * 97;
            job(
                &format!("{:08x}", 0x1000_0000 + n),
                status,
                &format!("job number {n}: tidy module {n}"),
                started_ago,
                finished.then_some(42),
                finished.then_some(0),
            )
        })
        .collect();
    app.apply_data(DataEvent::Jobs(jobs));
    for _ in 0..30 {
        app.apply(Action::Down);
    }
}

#[test]
fn rows_out_of_sight_are_counted() {
    at_both_sizes("rows_above_and_below", many_rows);
}

fn wide_output(app: &mut App) {
    let lines: Vec<String> = (0..30).map(|n| format!("{n:02} LEFT-START {} RIGHT-END", "wide ".repeat(n * 3))).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    output(app, "b2c3d4e5", &refs, None);
    app.apply(Action::ToggleFocus);
}

#[test]
fn output_scrolled_sideways() {
    at_both_sizes("sideways", |app| {
        wide_output(app);
        app.apply(Action::ScrollRight);
        app.apply(Action::ScrollRight);
    });
}

#[test]
fn a_whole_file_search_in_progress() {
    at_both_sizes("search_in_progress", |app| {
        // The last lines of a 40 MB output: the search's first match is up in the file.
        let start = 39_999_880;
        let lines: Vec<OutputLine> = (29_990..30_000)
            .enumerate()
            .map(|(n, line)| OutputLine { offset: start + 12 * n as u64, text: format!("line {line}") })
            .collect();
        let tail = LineBlock { start, end: 40_000_000, lines };
        app.apply_data(DataEvent::Output(id("b2c3d4e5"), OutputUpdate::Reset { tail, partial: None, file_len: 40_000_000 }));
        app.apply(Action::EditSearch);
        type_text(app, "needle");
        app.apply(Action::Submit);
        let search_id = app.search_count;
        app.apply_data(DataEvent::SearchProgress {
            job: id("b2c3d4e5"),
            id: search_id,
            found: vec![FileMatch { offset: 120, line: 3 }],
            scanned: 14_000_000,
            file_len: 40_000_000,
            done: false,
        });
    });
}

#[test]
fn help_explains_symbols_and_keys() {
    at_both_sizes("help_second_edition", |app| {
        app.apply(Action::Help);
    });
}

#[test]
fn zoomed_output_switches_jobs() {
    at_both_sizes("zoomed_next_job", |app| {
        select(app, "a1b2c3d4");
        app.apply(Action::Zoom);
        app.apply(Action::PrevJob);
        let lines = ["first line of the pending job", "second line"];
        app.apply_data(DataEvent::Output(
            id("b2c3d4e5"),
            OutputUpdate::Reset {
                tail: LineBlock {
                    start: 0,
                    end: 42,
                    lines: lines
                        .iter()
                        .enumerate()
                        .map(|(n, text)| OutputLine { offset: n as u64 * 30, text: (*text).to_owned() })
                        .collect(),
                },
                partial: None,
                file_len: 42,
            },
        ));
        assert_eq!(app.selected.as_ref().map(|id| id.as_str()), Some("b2c3d4e5"));
        assert!(app.zoom);
    });
}

#[test]
fn the_queue_limit_in_the_header_and_pending_places() {
    at_both_sizes("queue_limit", |app| {
        app.queue_limit = Some(2);
        app.apply_data(DataEvent::Job(Box::new(job("0a0b0c0d", "pending", "Queued second", 2, None, None))));
        // The queue's order is the order the jobs were made in.
        for (raw, ago) in [("b2c3d4e5", 5), ("0a0b0c0d", 2)] {
            update(app, raw, |meta| meta.details.created_at = Some(crate::jobs::Timestamp(super::now() - chrono::Duration::seconds(ago))));
        }
    });
}
