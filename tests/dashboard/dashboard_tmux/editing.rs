//! Text entry: a paste lands whole in the form, and a prompt edits like a text field.

use crate::support::TestHome;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command};

/// The id in the footer's "started job …", once its row is listed.
fn started_id(tmux: &Tmux) -> String {
    tmux.started_job()
}

#[test]
fn a_multi_line_paste_goes_whole_into_the_prompt_and_no_line_acts_as_a_key() {
    let home = TestHome::new();
    // A finished job selected: read as keys, the pasted lines would delete it (d, y) or quit (q).
    let finished = home.start("say:done-before");
    home.wait_for_status(&finished, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    tmux.wait_for(&format!("output  {finished}"), DEADLINE);
    tmux.keys(&["n"]);
    tmux.wait_for("New job", DEADLINE);
    let pasted = "say:pasted-first\nd\ny\nsay:c-d-y-n-q\nq\nsay:pasted-last";
    tmux.paste(pasted);
    let screen = tmux.wait_until("the paste whole in the prompt", DEADLINE, |screen| {
        screen.contains("Prompt (6 lines)") && screen.contains("say:pasted-last")
    });
    assert!(!screen.contains("Delete job") && !screen.contains("Cancel job") && !tmux.exited_cleanly(), "{screen}");

    tmux.keys(&["Enter"]);
    let id = started_id(&tmux);
    home.wait_for_status(&id, "done", DEADLINE);
    assert_eq!(home.meta(&id)["prompt"], pasted, "the job got every line");
    // The fake agent reads every line: the bare letters as steps it does not know.
    let output = home.output(&id);
    let said: Vec<&str> = output.lines().filter(|line| !line.starts_with("pid:") && !line.starts_with("unknown step: ")).collect();
    assert_eq!(said, ["pasted-first", "c-d-y-n-q", "pasted-last"], "{output}");
    assert!(output.contains("unknown step: q"), "{output}");
    assert!(home.job_dir(&finished).exists(), "no pasted line deleted the job that was selected");
    // The new job is selected and its output shown.
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.wait_for("pasted-last", DEADLINE);
}

#[test]
fn the_prompt_edits_in_the_middle_with_word_moves_and_line_deletes() {
    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    tmux.wait_for("No jobs yet", DEADLINE);
    tmux.keys(&["n"]);
    tmux.wait_for("New job", DEADLINE);
    tmux.type_text("say:one say:bogus");
    tmux.wait_for("say:one say:bogus", DEADLINE);
    // Back a word (Alt-b), delete to the end (Ctrl-K), type over it.
    tmux.keys(&["M-b"]);
    tmux.keys(&["C-k"]);
    tmux.wait_until("bogus deleted", DEADLINE, |screen| !screen.contains("bogus"));
    tmux.type_text("two");
    tmux.wait_for("say:one say:two", DEADLINE);
    // To the start of the line, and in front of everything.
    tmux.keys(&["Home"]);
    tmux.type_text("say:zero ");
    tmux.wait_for("say:zero say:one say:two", DEADLINE);
    // Left into the middle of a word, a character out and one in.
    tmux.keys(&["End", "Left", "BSpace"]);
    tmux.type_text("W");
    tmux.wait_for("say:zero say:one say:tWo", DEADLINE);
    tmux.keys(&["Enter"]);
    let id = started_id(&tmux);
    home.wait_for_status(&id, "done", DEADLINE);
    let output = home.output(&id);
    assert!(output.contains("zero\none\ntWo\n"), "{output}");
    assert!(!output.contains("bogus"), "{output}");
}

#[test]
fn settings_and_earlier_prompts_are_remembered_across_runs() {
    let home = TestHome::new();
    let finished = home.start("say:listed");
    home.wait_for_status(&finished, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 160, 32);
    tmux.wait_for(&format!("output  {finished}"), DEADLINE);
    // Wrap on, bell on, sorted by status; a prompt started from the form.
    tmux.keys(&["w"]);
    tmux.wait_for(" · wrap─", DEADLINE);
    tmux.keys(&["b"]);
    tmux.wait_for("bell when a job ends: on", DEADLINE);
    tmux.keys(&["S"]);
    tmux.wait_for("[by status]", DEADLINE);
    tmux.keys(&["n"]);
    tmux.wait_for("New job", DEADLINE);
    tmux.type_text("say:remember-me");
    tmux.keys(&["Enter"]);
    let id = started_id(&tmux);
    home.wait_for_status(&id, "done", DEADLINE);
    tmux.keys(&["q"]);
    crate::support::wait_until("the dashboard to exit", DEADLINE, || tmux.exited_cleanly());
    drop(tmux);

    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 160, 32);
    tmux.wait_for("[by status]", DEADLINE);
    tmux.wait_for(" · wrap─", DEADLINE);
    // The bell was left on: b turns it off.
    tmux.keys(&["b"]);
    tmux.wait_for("bell when a job ends: off", DEADLINE);
    // Up in the empty prompt brings the last prompt back.
    tmux.keys(&["n"]);
    tmux.wait_for("New job", DEADLINE);
    tmux.keys(&["Up"]);
    tmux.wait_for("say:remember-me", DEADLINE);
}
