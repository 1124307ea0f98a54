//! Worktree jobs through the real binary and the fake agent editing files in real
//! repositories: isolation, the frozen change, diff, apply, discard, attempts,
//! follow-ups, and each fault a worktree start can meet.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;

use crate::support::repo::{RepoHome, files_of, git};
use crate::support::{json, wait_until};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn job_folders(scene: &RepoHome) -> usize {
    std::fs::read_dir(scene.home.path().join("jobs"))
        .map(|entries| entries.filter(|entry| !entry.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')).count())
        .unwrap_or(0)
}

#[test]
fn two_worktree_jobs_at_once_never_see_each_other_and_leave_the_origin_untouched() {
    let scene = RepoHome::new();
    let before = scene.files();
    let barrier = scene.home.path().join("go");
    let barrier = barrier.to_str().unwrap();
    let first = scene.start_in(&scene.repo, &["--worktree"], &format!("write:a.txt=first write:first.txt=1 await-file:{barrier} where"));
    let second = scene.start_in(&scene.repo, &["--worktree"], &format!("write:a.txt=second write:second.txt=2 await-file:{barrier} where"));
    // Both have written before either ends: each worktree holds only its own files.
    let worktree = |id: &str| scene.home.meta(id)["worktree"].as_str().unwrap().to_owned();
    wait_until("both jobs to write", crate::support::repo::JOB_END, || {
        Path::new(&worktree(&first)).join("first.txt").exists() && Path::new(&worktree(&second)).join("second.txt").exists()
    });
    assert!(!Path::new(&worktree(&first)).join("second.txt").exists());
    assert!(!Path::new(&worktree(&second)).join("first.txt").exists());
    std::fs::write(barrier, "").unwrap();
    let (one, two) = (scene.finished(&first), scene.finished(&second));
    assert_eq!(one["status"], "done");
    assert_eq!(two["status"], "done");
    assert_eq!(scene.files(), before, "the origin is untouched");
    assert_eq!(scene.status(), "");
    // meta keeps the folder asked for and names the worktree, branch and base.
    assert_eq!(one["cwd"], scene.repo.to_str().unwrap());
    assert_eq!(one["branch"], format!("codex-async/{first}"));
    assert_eq!(one["base_commit"], git(&scene.repo, &["rev-parse", "HEAD"]));
    assert!(scene.home.output(&first).contains(&format!("cwd:{}", worktree(&first))));
    // Each diff names only its job's files.
    let names = |id: &str| stdout(&scene.run(&["diff", "--name-only", id]));
    assert_eq!(names(&first).lines().collect::<Vec<_>>(), ["a.txt", "first.txt"]);
    assert_eq!(names(&second).lines().collect::<Vec<_>>(), ["a.txt", "second.txt"]);
    assert_eq!(one["change"], serde_json::json!({"files": 2, "insertions": 2, "deletions": 1}));
    // The leftovers were committed on the job's branch, with the prompt's first line.
    let subject = git(&scene.repo, &["log", "-1", "--format=%s", &format!("codex-async/{first}")]);
    assert!(subject.starts_with("write:a.txt=first"), "{subject}");
}

#[test]
fn a_job_in_a_subfolder_runs_in_the_same_subfolder_of_its_worktree() {
    let scene = RepoHome::new();
    let id = scene.start_in(&scene.repo.join("sub"), &["--worktree"], "where write:made.txt=x");
    let meta = scene.finished(&id);
    let worktree = meta["worktree"].as_str().unwrap();
    assert!(scene.home.output(&id).contains(&format!("cwd:{worktree}/sub")), "{}", scene.home.output(&id));
    assert_eq!(stdout(&scene.run(&["diff", "--name-only", &id])).trim(), "sub/made.txt");
    assert_eq!(meta["cwd"], scene.repo.join("sub").to_str().unwrap());
}

#[test]
fn an_in_place_job_s_change_is_frozen_when_it_ends_and_later_edits_are_not_its() {
    let scene = RepoHome::new();
    let objects_before = git(&scene.repo, &["count-objects"]);
    let id = scene.start_in(&scene.repo, &[], "write:a.txt=job write:new.txt=n");
    let meta = scene.finished(&id);
    assert_eq!(meta["change"]["files"], 2);
    // A hand edit after the job ended is not the job's change.
    std::fs::write(scene.repo.join("later.txt"), "by hand\n").unwrap();
    std::fs::write(scene.repo.join("sub/s.txt"), "by hand\n").unwrap();
    let names = stdout(&scene.run(&["diff", "--name-only", &id]));
    assert_eq!(names.lines().collect::<Vec<_>>(), ["a.txt", "new.txt"]);
    let patch = stdout(&scene.run(&["diff", &id]));
    assert!(patch.contains("-one\n+job\n"), "{patch}");
    assert!(!patch.contains('\x1b'), "no colour through a pipe");
    let stat = stdout(&scene.run(&["diff", "--stat", &id]));
    assert!(stat.contains("a.txt   | 2 +-") && stat.contains("2 files, +2 −1"), "{stat}");
    let view = json(&scene.run(&["diff", "--json", &id]));
    assert_eq!(view["state"], "frozen");
    assert_eq!(view["files"][1]["path"], "new.txt");
    // Freezing wrote nothing into the repository (scratch objects).
    assert_eq!(git(&scene.repo, &["count-objects"]), objects_before);
    assert!(scene.home.job_dir(&id).join("change.patch").is_file());
}

#[test]
fn apply_brings_one_job_then_another_into_the_origin_and_records_it() {
    let scene = RepoHome::new();
    let (first, _) = scene.worktree_job("write:x.txt=from-first");
    let (second, _) = scene.worktree_job("write:y.txt=from-second");
    let applied = scene.run(&["apply", &first]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert!(stdout(&applied).contains("x.txt"));
    let applied = scene.run(&["apply", "--json", &second]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(json(&applied)["files"], serde_json::json!(["y.txt"]));
    assert_eq!(std::fs::read_to_string(scene.repo.join("x.txt")).unwrap(), "from-first\n");
    assert_eq!(std::fs::read_to_string(scene.repo.join("y.txt")).unwrap(), "from-second\n");
    assert!(scene.home.meta(&first)["applied_at"].is_string());
    assert_eq!(git(&scene.repo, &["rev-list", "--count", "HEAD"]), "1", "no commit without --commit");
}

#[test]
fn a_conflicting_apply_changes_nothing_exits_1_and_names_the_file() {
    let scene = RepoHome::new();
    let (id, _) = scene.worktree_job("write:a.txt=job write:fresh.txt=f");
    // The origin changed the same line meanwhile (uncommitted).
    std::fs::write(scene.repo.join("a.txt"), "mine\n").unwrap();
    let before = scene.files();
    let applied = scene.run(&["apply", &id]);
    assert_eq!(applied.status.code(), Some(1), "{}", stderr(&applied));
    assert!(stderr(&applied).contains("a.txt"), "{}", stderr(&applied));
    assert!(stderr(&applied).contains("nothing was changed"));
    assert_eq!(scene.files(), before, "all or nothing: fresh.txt was not written either");
    assert!(scene.home.meta(&id)["applied_at"].is_null());
    let output = scene.run(&["apply", "--json", &id]);
    assert_eq!(output.status.code(), Some(1));
    let view: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(view["applied"], false);
    assert_eq!(view["conflicts"], serde_json::json!(["a.txt"]));
}

#[test]
fn apply_commit_commits_only_the_job_s_change_on_the_current_branch() {
    let scene = RepoHome::new();
    let (id, _) = scene.worktree_job("write:x.txt=x");
    // Something else is staged and something else modified in the origin: not committed.
    std::fs::write(scene.repo.join("staged.txt"), "s\n").unwrap();
    git(&scene.repo, &["add", "staged.txt"]);
    std::fs::write(scene.repo.join("sub/s.txt"), "edited\n").unwrap();
    let applied = scene.run(&["apply", "--commit", &id]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let committed = git(&scene.repo, &["show", "--name-only", "--format=%s", "HEAD"]);
    assert_eq!(committed.lines().filter(|line| !line.is_empty()).collect::<Vec<_>>(), ["write:x.txt=x", "x.txt"]);
    assert_eq!(git(&scene.repo, &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    let status = scene.status();
    assert!(status.contains("A  staged.txt") && status.contains(" M sub/s.txt") && !status.contains("x.txt"), "{status}");
}

#[test]
fn discard_removes_the_worktree_and_branch_and_keeps_the_record() {
    let scene = RepoHome::new();
    let (id, meta) = scene.worktree_job("write:x.txt=x");
    let worktree = meta["worktree"].as_str().unwrap().to_owned();
    assert!(scene.worktree_list().contains(&worktree));
    let discarded = scene.run(&["discard", &id]);
    assert!(discarded.status.success(), "{}", stderr(&discarded));
    assert!(!Path::new(&worktree).exists());
    assert!(!scene.worktree_list().contains(&worktree), "{}", scene.worktree_list());
    assert_eq!(scene.branches(), "main");
    let meta = scene.home.meta(&id);
    assert!(meta["discarded_at"].is_string());
    // The frozen change is still there to read.
    assert_eq!(stdout(&scene.run(&["diff", "--name-only", &id])).trim(), "x.txt");
    // Again: nothing left, not an error.
    assert!(scene.run(&["discard", &id]).status.success());
}

#[test]
fn a_worktree_removed_by_hand_is_discarded_without_error() {
    let scene = RepoHome::new();
    let (id, meta) = scene.worktree_job("write:x.txt=x");
    std::fs::remove_dir_all(meta["worktree"].as_str().unwrap()).unwrap();
    let discarded = scene.run(&["discard", &id]);
    assert!(discarded.status.success(), "{}", stderr(&discarded));
    assert!(stdout(&discarded).contains("already gone"));
    assert_eq!(scene.branches(), "main");
    assert!(!scene.worktree_list().contains("worktrees"));
}

#[test]
fn a_running_job_is_not_discarded_unless_forced() {
    let scene = RepoHome::new();
    let id = scene.start_in(&scene.repo, &["--worktree"], "write:x.txt=x sleep:30");
    let refused = scene.run(&["discard", &id]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("cancel it first"), "{}", stderr(&refused));
    let forced = scene.run(&["discard", "--force", &id]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(scene.home.status(&id), "cancelled");
    assert_eq!(scene.branches(), "main");
}

#[test]
fn delete_and_gc_discard_what_they_delete() {
    let scene = RepoHome::new();
    let (deleted, meta) = scene.worktree_job("write:x.txt=x");
    let (collected, other) = scene.worktree_job("write:y.txt=y");
    assert!(scene.run(&["delete", &deleted]).status.success());
    assert!(!Path::new(meta["worktree"].as_str().unwrap()).exists());
    let gc = scene.run(&["gc", "--keep", "0", "--older-than", "0s"]);
    assert!(gc.status.success(), "{}", stderr(&gc));
    assert!(!Path::new(other["worktree"].as_str().unwrap()).exists());
    assert!(!scene.home.job_dir(&collected).exists());
    assert_eq!(scene.branches(), "main");
}

#[test]
fn attempts_start_a_set_each_in_its_own_worktree_and_apply_discards_the_others() {
    let scene = RepoHome::new();
    let cwd = scene.repo.to_str().unwrap();
    let output = scene.run(&["start", "--cwd", cwd, "--attempts", "3", "--", "write:answer.txt=attempt"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ids: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 3, "one id a line");
    let metas: Vec<Value> = ids.iter().map(|id| scene.finished(id)).collect();
    for (number, meta) in metas.iter().enumerate() {
        assert_eq!(meta["attempt_group"], ids[0].as_str());
        assert_eq!(meta["attempt"], number as u64 + 1);
    }
    let worktrees: Vec<&str> = metas.iter().map(|meta| meta["worktree"].as_str().unwrap()).collect();
    assert_eq!(worktrees.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "three worktrees");
    // `list` shows the set together: the first attempt, the others under it.
    let listed = stdout(&scene.run(&["list"]));
    let lines: Vec<&str> = listed.lines().collect();
    let first = lines.iter().position(|line| line.starts_with(&ids[0])).unwrap();
    assert!(lines[first + 1].starts_with(&format!("└2 {}", ids[1])), "{listed}");
    assert!(lines[first + 2].starts_with(&format!("└3 {}", ids[2])), "{listed}");
    assert!(lines[first].contains("[1 +1 −0]"), "the change beside the prompt: {listed}");
    let polled = stdout(&scene.run(&["poll", &ids[1]]));
    assert!(polled.contains(&format!("attempt   2 of set {}", ids[0])), "{polled}");
    assert!(polled.contains("change    1 file, +1 −0"), "{polled}");
    assert!(polled.contains(&format!("branch    codex-async/{}", ids[1])), "{polled}");
    let applied = scene.run(&["apply", "--discard-others", &ids[1]]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert!(stdout(&applied).contains(&ids[0]) && stdout(&applied).contains(&ids[2]));
    assert!(Path::new(worktrees[1]).exists());
    assert!(!Path::new(worktrees[0]).exists() && !Path::new(worktrees[2]).exists());
    assert_eq!(std::fs::read_to_string(scene.repo.join("answer.txt")).unwrap(), "attempt\n");
    for refused in ["1", "9"] {
        let output = scene.run(&["start", "--cwd", cwd, "--attempts", refused, "--", "say:x"]);
        assert_eq!(output.status.code(), Some(2), "--attempts {refused}");
        assert!(stderr(&output).contains("give 2 to 8"));
    }
}

#[test]
fn a_follow_up_runs_in_the_same_worktree_and_branch() {
    let scene = RepoHome::new();
    let (parent, meta) = scene.worktree_job("session write:x.txt=x");
    let output = scene.run(&["reply", "--json", &parent, "--", "where write:y.txt=y"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let child = json(&output)["job_id"].as_str().unwrap().to_owned();
    let child_meta = scene.finished(&child);
    assert_eq!(child_meta["worktree"], meta["worktree"]);
    assert_eq!(child_meta["branch"], meta["branch"]);
    assert_eq!(child_meta["cwd"], scene.repo.to_str().unwrap());
    assert!(scene.home.output(&child).contains(&format!("cwd:{}", meta["worktree"].as_str().unwrap())));
    // Its change is the branch's whole change from the same base.
    assert_eq!(stdout(&scene.run(&["diff", "--name-only", &child])).lines().collect::<Vec<_>>(), ["x.txt", "y.txt"]);
    let commits = git(&scene.repo, &["rev-list", "--count", meta["branch"].as_str().unwrap()]);
    assert_eq!(commits, "3", "base, the job's commit, the follow-up's commit");
}

#[test]
fn the_config_makes_worktrees_the_default_and_no_worktree_opts_out() {
    let scene = RepoHome::new();
    let dir = scene.home.path().join("elsewhere");
    std::fs::write(scene.home.path().join(".env"), "").unwrap();
    std::fs::write(scene.repo.join(".gitignore"), ".env\n").unwrap();
    std::fs::write(scene.repo.join(".env"), "SECRET=1\n").unwrap();
    git(&scene.repo, &["add", ".gitignore"]);
    git(&scene.repo, &["commit", "-q", "-m", "ignore"]);
    std::fs::write(
        scene.home.path().join("config.toml"),
        format!("isolation = \"worktree\"\nworktree_dir = \"{}\"\nworktree_copy = [\".env\", \"missing.txt\"]\n", dir.display()),
    )
    .unwrap();
    let id = scene.start_in(&scene.repo, &[], "where");
    let meta = scene.finished(&id);
    let worktree = meta["worktree"].as_str().unwrap();
    assert_eq!(Path::new(worktree), dir.join(&id));
    assert_eq!(std::fs::read_to_string(Path::new(worktree).join(".env")).unwrap(), "SECRET=1\n");
    assert!(!std::fs::symlink_metadata(Path::new(worktree).join(".env")).unwrap().file_type().is_symlink());
    let in_place = scene.start_in(&scene.repo, &["--no-worktree"], "where");
    assert!(scene.finished(&in_place)["worktree"].is_null());
}

#[test]
fn a_dirty_origin_is_named_in_the_start_answer() {
    let scene = RepoHome::new();
    std::fs::write(scene.repo.join("a.txt"), "uncommitted\n").unwrap();
    let cwd = scene.repo.to_str().unwrap();
    let output = scene.run(&["start", "--worktree", "--cwd", cwd, "--", "say:x"]);
    assert!(output.status.success());
    assert!(stderr(&output).contains("has uncommitted changes: they are not in the worktree"), "{}", stderr(&output));
    let id = stdout(&output).trim().to_owned();
    let meta = scene.finished(&id);
    assert_eq!(std::fs::read_to_string(Path::new(meta["worktree"].as_str().unwrap()).join("a.txt")).unwrap(), "one\n");
}

#[test]
fn worktree_starts_that_cannot_be_made_say_why_and_leave_no_job() {
    let scene = RepoHome::new();
    let refused = |cwd: &Path, options: &[&str], needle: &str| {
        let cwd = cwd.to_str().unwrap().to_owned();
        let mut args = vec!["start", "--worktree", "--cwd", &cwd];
        args.extend_from_slice(options);
        args.extend(["--", "say:x"]);
        let output = scene.run(&args);
        assert!(!output.status.success(), "{args:?} started");
        assert!(stderr(&output).contains(needle), "{args:?}: {}", stderr(&output));
        assert_eq!(job_folders(&scene), 0, "{args:?} left a job folder");
    };
    let plain = scene.home.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    refused(&plain, &[], "is not in a git repository");
    let bare = scene.home.path().join("bare.git");
    git(scene.home.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    refused(&bare, &[], "is a bare repository");
    let empty = scene.home.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    git(&empty, &["init", "-q"]);
    refused(&empty, &[], "has no commits yet");
    refused(&scene.repo, &["--base", "no-such-branch"], "--base \"no-such-branch\" names no commit");
    refused(&scene.repo, &["--base=--output=/tmp/x"], "is not a revision");
    assert_eq!(scene.branches(), "main");
    assert!(!scene.home.path().join("worktrees").exists() || std::fs::read_dir(scene.home.path().join("worktrees")).unwrap().count() == 0);
}

#[test]
fn a_base_ref_and_a_detached_head() {
    let scene = RepoHome::new();
    let first = git(&scene.repo, &["rev-parse", "HEAD"]);
    std::fs::write(scene.repo.join("a.txt"), "two\n").unwrap();
    git(&scene.repo, &["commit", "-q", "-am", "second"]);
    git(&scene.repo, &["tag", "v1", &first]);
    let id = scene.start_in(&scene.repo, &["--base", "v1"], "say:x");
    assert_eq!(scene.finished(&id)["base_commit"], first.as_str());
    // Detached HEAD: the branch is made from the commit.
    git(&scene.repo, &["checkout", "-q", "--detach", &first]);
    let (detached, meta) = scene.worktree_job("say:x");
    assert_eq!(meta["base_commit"], first.as_str());
    assert_eq!(meta["branch"], format!("codex-async/{detached}"));
    // (A branch name that is taken gets a suffix: see the engine's git tests, which
    // can know the id in advance.)
}

#[test]
fn a_worktree_deleted_while_its_job_runs_ends_the_job_in_error() {
    let scene = RepoHome::new();
    let gate = scene.home.path().join("gate");
    let id = scene.start_in(&scene.repo, &["--worktree"], &format!("await-file:{} say:done", gate.display()));
    let worktree = scene.home.meta(&id)["worktree"].as_str().unwrap().to_owned();
    std::fs::remove_dir_all(&worktree).unwrap();
    std::fs::write(&gate, "").unwrap();
    let meta = scene.finished(&id);
    assert_eq!(meta["status"], "error");
    assert!(meta["note"].as_str().unwrap().contains("was removed while it ran"), "{meta}");
}

#[test]
fn without_git_a_worktree_start_names_git() {
    let scene = RepoHome::new();
    let bin = scene.home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in ["bash", "env", "cat", "sleep"] {
        let found = ["/usr/bin", "/bin"].iter().map(|dir| Path::new(dir).join(tool)).find(|path| path.exists()).unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let output = scene
        .home
        .command()
        .env("PATH", &bin)
        .args(["start", "--worktree", "--cwd", scene.repo.to_str().unwrap(), "--", "say:x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("git is not installed"), "{}", stderr(&output));
    assert_eq!(job_folders(&scene), 0);
}

#[test]
fn a_repository_with_submodules_gets_a_worktree_without_them() {
    let scene = RepoHome::new();
    let library = scene.home.path().join("library");
    std::fs::create_dir(&library).unwrap();
    git(&library, &["init", "-q"]);
    git(&library, &["commit", "-q", "--allow-empty", "-m", "lib"]);
    git(&scene.repo, &["submodule", "add", "-q", library.to_str().unwrap(), "lib"]);
    git(&scene.repo, &["commit", "-q", "-m", "submodule"]);
    let (id, meta) = scene.worktree_job("write:x.txt=x");
    assert_eq!(meta["status"], "done", "{}", scene.home.output(&id));
    let worktree = Path::new(meta["worktree"].as_str().unwrap());
    assert!(worktree.join("lib").is_dir());
    assert_eq!(std::fs::read_dir(worktree.join("lib")).unwrap().count(), 0, "the submodule is not initialised");
    assert_eq!(files_of(worktree).iter().filter(|(path, _)| path == "x.txt").count(), 1);
}
