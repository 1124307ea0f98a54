//! An attempt set in the dashboard end to end (tmux): `start --attempts 3 --worktree`
//! shows as the set's row with its three attempts under it; Enter folds and unfolds it;
//! `a` on one attempt, answered `o`, applies it and discards the other two.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::support::repo::RepoHome;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command};

#[test]
fn an_attempt_set_is_one_row_with_its_attempts_and_one_is_applied_with_the_others_discarded() {
    let scene = RepoHome::new();
    let cwd = scene.repo.to_str().unwrap();
    let output = scene.run(&["start", "--cwd", cwd, "--attempts", "3", "--worktree", "--", "write:answer.txt=attempt"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let ids: Vec<String> = String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 3);
    let worktrees: Vec<String> = ids.iter().map(|id| scene.finished(id)["worktree"].as_str().unwrap().to_owned()).collect();

    let tmux = Tmux::start(&dashboard_command(&scene.home, 0, "--no-mcp"), 160, 40);
    // The set's row (its id is the first attempt's), the three attempts under it.
    let screen = tmux.wait_until("the set's row and its three attempts", DEADLINE, |screen| {
        screen.contains(&format!("▾ {}", ids[0])) && (1..=3).all(|number| screen.contains(&format!("└{number} {}", ids[number - 1])))
    });
    assert!(screen.contains("3× 3✓ best └1"), "the set's counts: {screen}");
    assert!(screen.contains("+1 −0 · 1 file"), "each attempt's change: {screen}");

    // The set's row is selected first: Enter folds it, Enter unfolds it.
    tmux.keys(&["Enter"]);
    tmux.wait_until("the set folded", DEADLINE, |screen| screen.contains(&format!("▸ {}", ids[0])) && !screen.contains("└2"));
    tmux.keys(&["Enter"]);
    tmux.wait_until("the set unfolded", DEADLINE, |screen| screen.contains(&format!("└3 {}", ids[2])));

    // Down twice: attempt 1 (whose output the set's row showed), then attempt 2.
    tmux.keys(&["Down", "Down"]);
    tmux.wait_for(&format!("output  {}", ids[1]), DEADLINE);
    tmux.keys(&["a"]);
    tmux.wait_for("Apply change?", DEADLINE);
    tmux.wait_for("o also discards the other 2 attempt(s)", DEADLINE);
    tmux.keys(&["o"]);
    let screen = tmux.wait_for(&format!("applied {}: 1 file(s) into {cwd}; discarded the other attempts: ", ids[1]), DEADLINE);
    let said = screen.lines().find(|line| line.contains("discarded the other attempts")).unwrap();
    assert!(said.contains(&ids[0]) && said.contains(&ids[2]), "{said}");

    assert_eq!(std::fs::read_to_string(scene.repo.join("answer.txt")).unwrap(), "attempt\n");
    assert!(Path::new(&worktrees[1]).exists(), "the applied attempt keeps its worktree");
    assert!(!Path::new(&worktrees[0]).exists() && !Path::new(&worktrees[2]).exists(), "the others are gone");
    assert_eq!(scene.branches(), format!("codex-async/{}\nmain", ids[1]));
    // The table says so: the set's row names the attempt applied.
    tmux.wait_for("└2 applied", DEADLINE);
}
