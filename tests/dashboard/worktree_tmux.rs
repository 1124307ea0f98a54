//! Worktree jobs in the dashboard end to end (tmux): `D` shows the frozen change, `a`
//! applies it after a confirmation that shows its stat, `x` discards the worktree.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::support::repo::RepoHome;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command};

/// The dashboard on `scene`'s home with job `id` selected (filtered to it).
fn dashboard_on(scene: &RepoHome, id: &str) -> Tmux {
    let tmux = Tmux::start(&dashboard_command(&scene.home, 0, "--no-mcp"), 140, 40);
    tmux.wait_for(id, DEADLINE);
    tmux.keys(&["f"]);
    tmux.type_text(id);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux
}

#[test]
fn d_shows_the_frozen_change_a_applies_it_and_x_discards_the_worktree() {
    let scene = RepoHome::new();
    let (id, meta) = scene.worktree_job("write:a.txt=from-the-job write:added.txt=new");
    let worktree = meta["worktree"].as_str().unwrap().to_owned();
    // A later edit in the worktree is not part of the frozen change.
    std::fs::write(Path::new(&worktree).join("later.txt"), "later\n").unwrap();
    let tmux = dashboard_on(&scene, &id);

    tmux.keys(&["D"]);
    tmux.wait_for(&format!("Frozen when {id} ended: branch codex-async/{id}"), DEADLINE);
    tmux.wait_for("+from-the-job", DEADLINE);
    let screen = tmux.capture();
    assert!(screen.contains("2 files, +2 −1"), "{screen}");
    assert!(!screen.contains("later.txt"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_until("the view to close", DEADLINE, |screen| !screen.contains("Frozen when"));

    tmux.keys(&["a"]);
    tmux.wait_for("Apply change?", DEADLINE);
    tmux.wait_for(&format!("2 files, +2 −1 into {}", scene.repo.display()), DEADLINE);
    tmux.keys(&["y"]);
    tmux.wait_for(&format!("applied {id}: 2 file(s)"), DEADLINE);
    assert_eq!(std::fs::read_to_string(scene.repo.join("a.txt")).unwrap(), "from-the-job\n");
    assert_eq!(std::fs::read_to_string(scene.repo.join("added.txt")).unwrap(), "new\n");
    assert!(!scene.repo.join("later.txt").exists());

    tmux.keys(&["x"]);
    tmux.wait_for("Discard worktree?", DEADLINE);
    tmux.wait_for(&format!("{worktree} and branch"), DEADLINE);
    tmux.wait_for("(applied; the record stays)", DEADLINE);
    tmux.keys(&["y"]);
    tmux.wait_for(&format!("discarded {id}: worktree and branch removed"), DEADLINE);
    assert!(!Path::new(&worktree).exists());
    assert_eq!(scene.branches(), "main");
}

#[test]
fn a_conflicting_apply_in_the_dashboard_changes_nothing_and_names_the_file() {
    let scene = RepoHome::new();
    let (id, _) = scene.worktree_job("write:a.txt=job");
    std::fs::write(scene.repo.join("a.txt"), "mine\n").unwrap();
    let tmux = dashboard_on(&scene, &id);
    tmux.keys(&["a"]);
    tmux.wait_for("Apply change?", DEADLINE);
    tmux.keys(&["n"]);
    tmux.wait_until("the question to close", DEADLINE, |screen| !screen.contains("Apply change?"));
    tmux.keys(&["a"]);
    tmux.wait_for("Apply change?", DEADLINE);
    tmux.keys(&["y"]);
    tmux.wait_for(&format!("{id} does not apply"), DEADLINE);
    tmux.wait_for("Not applying: a.txt", DEADLINE);
    assert_eq!(std::fs::read_to_string(scene.repo.join("a.txt")).unwrap(), "mine\n");
}
