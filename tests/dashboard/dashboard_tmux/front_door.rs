//! What a first hour in the dashboard runs into, end to end: the search keys from the
//! table, a search that stays with its job, marking as file managers do, what `y`
//! says inside tmux, folders told apart by their end at 80 columns.

use std::path::Path;

use crate::support::TestHome;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command, dashboard_command_with_env, row_in};

fn footer(screen: &str) -> &str {
    screen.lines().rfind(|line| !line.trim().is_empty()).unwrap_or("")
}

/// The output pane's title line.
fn output_title(screen: &str) -> &str {
    screen.lines().find(|line| line.contains(" output ")).unwrap_or("")
}

fn start_in(home: &TestHome, folder: &Path, prompt: &str) -> String {
    let output = home.run(&["start", "--json", "--cwd", folder.to_str().unwrap(), "--", prompt]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    started["job_id"].as_str().unwrap().to_owned()
}

#[test]
fn n_walks_a_search_from_the_table_and_the_search_stays_with_its_job() {
    let home = TestHome::new();
    let searched = home.start("say:line-two say:reqwest-a say:line-four say:reqwest-b say:reqwest-c");
    home.wait_for_status(&searched, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    tmux.wait_until("the output", DEADLINE, |screen| crate::support::tmux::output_pane_of(screen).contains("reqwest-c"));

    // The table has focus: the search goes to the first match after the first line
    // shown, and n / N walk from there — n is not the new-job form while it is on.
    tmux.keys(&["/"]);
    tmux.type_text("reqwest");
    tmux.keys(&["Enter"]);
    tmux.wait_until("the first match", DEADLINE, |screen| output_title(screen).contains("/reqwest 1/3"));
    tmux.keys(&["n"]);
    tmux.wait_until("n to the second match", DEADLINE, |screen| {
        output_title(screen).contains("/reqwest 2/3") && !screen.contains("New job")
    });
    tmux.keys(&["n"]);
    tmux.wait_until("n to the third", DEADLINE, |screen| output_title(screen).contains("/reqwest 3/3"));
    tmux.keys(&["N"]);
    tmux.wait_until("N back to the second", DEADLINE, |screen| output_title(screen).contains("/reqwest 2/3"));

    // Another job: no search on it, and n is the form there.
    let other = home.start("say:other-job");
    home.wait_for_status(&other, "done", DEADLINE);
    tmux.wait_for_row(&other, "listed", |_| true);
    tmux.keys(&["g"]);
    tmux.wait_until("the other job, searched for nothing", DEADLINE, |screen| {
        let title = output_title(screen);
        title.contains(&format!("output  {other}")) && !title.contains("/reqwest") && !footer(screen).contains("no match")
    });
    tmux.keys(&["n"]);
    tmux.wait_for("New job", DEADLINE);
    tmux.keys(&["Escape"]);
    tmux.wait_until("the form closed", DEADLINE, |screen| !screen.contains("New job"));
    // Back on the searched job, its search is there again.
    tmux.keys(&["j"]);
    tmux.wait_until("the search back with its job", DEADLINE, |screen| {
        let title = output_title(screen);
        title.contains(&format!("output  {searched}")) && title.contains("/reqwest -/3")
    });
    tmux.keys(&["n"]);
    tmux.wait_until("n from there", DEADLINE, |screen| output_title(screen).contains("/reqwest 1/3"));
    // Esc ends it; n opens the form again.
    tmux.keys(&["Escape"]);
    tmux.wait_until("the search ended", DEADLINE, |screen| !output_title(screen).contains("/reqwest"));
    tmux.keys(&["n"]);
    tmux.wait_for("New job", DEADLINE);
}

#[test]
fn space_marks_and_moves_down_v_marks_a_range_and_y_says_where_the_id_went() {
    let home = TestHome::new();
    let ids: Vec<String> = (0..4).map(|n| home.start(&format!("say:job-{n}"))).collect();
    for id in &ids {
        home.wait_for_status(id, "done", DEADLINE);
    }
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 180, 32);
    for id in &ids {
        tmux.wait_for_row(id, "listed", |_| true);
    }
    // Newest first: ids[3] is the first row.
    tmux.keys(&["g"]);
    tmux.wait_for(&format!("output  {}", ids[3]), DEADLINE);
    tmux.keys(&["Space"]);
    tmux.wait_until("the first row marked, the second selected", DEADLINE, |screen| {
        screen.contains("[1 marked]")
            && row_in(screen, &ids[3]).is_some_and(|row| row.starts_with('+'))
            && output_title(screen).contains(&format!("output  {}", ids[2]))
    });
    tmux.keys(&["j"]);
    tmux.wait_for(&format!("output  {}", ids[1]), DEADLINE);
    tmux.keys(&["V"]);
    tmux.wait_until("three rows marked, the fourth not", DEADLINE, |screen| {
        screen.contains("[3 marked]")
            && ids[1..].iter().all(|id| row_in(screen, id).is_some_and(|row| row.starts_with('+')))
            && row_in(screen, &ids[0]).is_some_and(|row| !row.starts_with('+'))
    });
    // y inside tmux: what reached the terminal, and what tmux needs to pass it on.
    tmux.keys(&["y"]);
    tmux.wait_until("where the id went", DEADLINE, |screen| {
        footer(screen).contains(&format!(
            "job id {} sent to the terminal's clipboard (OSC 52; tmux passes it on with `set -g set-clipboard on`)",
            ids[1]
        ))
    });
}

#[test]
fn at_80_columns_folders_are_told_apart_by_their_end() {
    let home = TestHome::new();
    let clients = home.path().join("src").join("clients");
    let (repo, work) = (clients.join("repo"), clients.join("work"));
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let in_repo = start_in(&home, &repo, "say:in-the-repo-folder-with-a-long-prompt-that-is-cut");
    let in_work = start_in(&home, &work, "say:in-the-work-folder");
    for id in [&in_repo, &in_work] {
        home.wait_for_status(id, "done", DEADLINE);
    }
    let env = format!("HOME={}", home.path().display());
    let tmux = Tmux::start(&dashboard_command_with_env(&home, &env, "--no-mcp"), 80, 24);
    tmux.wait_until("each folder's end, and the cut prompt marked", DEADLINE, |screen| {
        let repo_row = row_in(screen, &in_repo).unwrap_or_default();
        let work_row = row_in(screen, &in_work).unwrap_or_default();
        let prompt = repo_row.trim_end().strip_suffix("…/repo").unwrap_or_default().trim_end();
        work_row.trim_end().ends_with("…/work") && prompt.contains("say:in-the-repo-folder") && prompt.ends_with('…')
    });
}
