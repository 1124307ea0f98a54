//! A repository and a job record against worktree jobs: every program the repository
//! can name (filters, hooks, a signing program, fsmonitor, an external diff) while a
//! worktree is made, a change frozen, shown, applied and committed, and discarded —
//! each would leave a marker, none may; a patch the job forged to write outside the
//! origin or into `.git`; a record forged to make discard remove what is not its own.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;

use crate::support::repo::{RepoHome, git};

fn marker_command(markers: &Path, name: &str) -> String {
    format!("touch {}", markers.join(name).display())
}

#[test]
fn nothing_the_repository_names_runs_through_a_worktree_job_s_life() {
    let scene = RepoHome::new();
    let markers = scene.home.path().join("markers");
    std::fs::create_dir(&markers).unwrap();
    let repo = &scene.repo;
    // Committed first, by a git that knows nothing of the filter yet.
    std::fs::write(repo.join(".gitattributes"), "* filter=evil diff=evil\n").unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "attrs"]);
    for (key, name) in [
        ("filter.evil.clean", "clean"),
        ("filter.evil.smudge", "smudge"),
        ("filter.evil.process", "process"),
        ("core.fsmonitor", "fsmonitor"),
        ("diff.external", "external-diff"),
        ("diff.evil.textconv", "textconv"),
        ("gpg.program", "gpg"),
        ("core.sshCommand", "ssh"),
        ("core.pager", "pager"),
    ] {
        git(repo, &["config", key, &marker_command(&markers, name)]);
    }
    git(repo, &["config", "commit.gpgSign", "true"]);
    git(repo, &["config", "filter.evil.required", "true"]);
    let hooks = repo.join(".git/hooks");
    for hook in ["post-checkout", "pre-commit", "post-commit", "reference-transaction", "commit-msg", "post-index-change", "pre-applypatch"]
    {
        let path = hooks.join(hook);
        std::fs::write(&path, format!("#!/bin/sh\n{}\n", marker_command(&markers, hook))).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    assert_eq!(std::fs::read_dir(&markers).unwrap().count(), 0, "the setup ran nothing");

    let (id, meta) = scene.worktree_job("write:a.txt=changed write:new.txt=n");
    assert_eq!(meta["status"], "done", "{}", scene.home.output(&id));
    assert_eq!(meta["change"]["files"], 2, "{meta}");
    assert!(scene.run(&["diff", &id]).status.success());
    assert!(scene.run(&["diff", "--stat", &id]).status.success());
    let applied = scene.run(&["apply", "--commit", &id]);
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    let in_place = scene.start_in(repo, &[], "write:b.txt=b");
    assert_eq!(scene.finished(&in_place)["change"]["files"], 1);
    assert!(scene.run(&["discard", &id]).status.success());
    let ran: Vec<String> =
        std::fs::read_dir(&markers).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(ran.is_empty(), "the repository ran: {ran:?}");
}

/// A finished worktree job whose `change.patch` the job rewrote with `patch`.
fn forged_patch(scene: &RepoHome, patch: &str) -> String {
    let (id, _) = scene.worktree_job("write:x.txt=x");
    std::fs::write(scene.home.job_dir(&id).join("change.patch"), patch).unwrap();
    id
}

#[test]
fn a_forged_patch_cannot_write_into_git_or_outside_the_origin() {
    let scene = RepoHome::new();
    let outside = scene.home.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, scene.repo.join("link")).unwrap();
    let new_file =
        |path: &str| format!("diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+planted\n");
    let before = crate::support::repo::files_of(&scene.repo);
    let config_before = std::fs::read_to_string(scene.repo.join(".git/config")).unwrap();
    for path in [".git/hooks/post-commit", "../escaped.txt", "link/through.txt", "/tmp/absolute.txt", "sub/../../escaped2.txt"] {
        let id = forged_patch(&scene, &new_file(path));
        let output = scene.run(&["apply", &id]);
        assert!(!output.status.success(), "{path} applied");
        assert!(!scene.repo.join(".git/hooks/post-commit").exists(), "{path}");
        assert!(!scene.home.path().join("escaped.txt").exists() && !scene.home.path().join("escaped2.txt").exists(), "{path}");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "{path}: written through the link");
        assert_eq!(crate::support::repo::files_of(&scene.repo), before, "{path}");
        assert_eq!(std::fs::read_to_string(scene.repo.join(".git/config")).unwrap(), config_before);
    }
}

#[test]
fn a_forged_record_cannot_make_discard_remove_what_is_not_the_job_s() {
    let scene = RepoHome::new();
    let (id, _) = scene.worktree_job("write:x.txt=x");
    let precious = scene.home.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("keep.txt"), "keep\n").unwrap();
    let meta_path = scene.home.job_dir(&id).join("meta.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    for (worktree, branch) in [(precious.to_str().unwrap(), "main"), (scene.repo.to_str().unwrap(), "main")] {
        meta["worktree"] = worktree.into();
        meta["branch"] = branch.into();
        std::fs::write(&meta_path, serde_json::to_string(&meta).unwrap()).unwrap();
        let _ = scene.run(&["discard", &id]);
        assert!(precious.join("keep.txt").exists());
        assert!(scene.repo.join("a.txt").exists());
        assert_eq!(git(&scene.repo, &["rev-parse", "--verify", "main"]).len(), 40, "main was deleted");
    }
    // A follow-up of a record that names a folder that is no worktree of the origin is refused.
    meta["worktree"] = precious.to_str().unwrap().into();
    meta["branch"] = format!("codex-async/{id}").into();
    meta["session_id"] = "0199a213-81c0-7800-8aa1-bbab2a035a53".into();
    meta["discarded_at"] = Value::Null;
    std::fs::write(&meta_path, serde_json::to_string(&meta).unwrap()).unwrap();
    let output = scene.run(&["reply", "--json", &id, "--", "write:planted.txt=p"]);
    if output.status.success() {
        let child: Value = serde_json::from_slice(&output.stdout).unwrap();
        let child_meta = scene.finished(child["job_id"].as_str().unwrap());
        assert_eq!(child_meta["status"], "error", "{child_meta}");
    }
    assert!(!precious.join("planted.txt").exists(), "the agent ran in a folder the record named");
}

#[test]
fn a_forged_base_is_never_given_to_git() {
    let scene = RepoHome::new();
    let gate = scene.home.path().join("gate");
    let id = scene.start_in(&scene.repo, &["--worktree"], &format!("write:x.txt=x await-file:{}", gate.display()));
    let written = scene.home.path().join("written");
    let meta_path = scene.home.job_dir(&id).join("meta.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["base_commit"] = format!("--output={}", written.display()).into();
    std::fs::write(&meta_path, serde_json::to_string(&meta).unwrap()).unwrap();
    let _ = scene.run(&["diff", &id]);
    assert!(!written.exists());
    std::fs::write(&gate, "").unwrap();
    let meta = scene.finished(&id);
    // The supervisor froze from the base it knew, not the forged one.
    assert_eq!(meta["change"]["files"], 1, "{meta}");
    assert!(!written.exists());
}
