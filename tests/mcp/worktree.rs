//! Worktree jobs over MCP (the real binary over stdio): `worktree` and `attempts` on
//! codex_start, codex_diff, codex_apply and its ceiling.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use crate::support::mcp::{call, err, ok, stdio_client};
use crate::support::repo::{RepoHome, git};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_job_is_started_reviewed_and_applied_over_mcp() {
    let scene = RepoHome::new();
    let (client, _notes) = stdio_client(&scene.home, &[]).await;
    let cwd = scene.repo.to_str().unwrap();
    let started = ok(&call(&client, "codex_start", json!({"prompt": "write:a.txt=mcp write:m.txt=m", "cwd": cwd, "worktree": true})).await);
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert_eq!(started["branch"], format!("codex-async/{id}"));
    let waited = ok(&call(&client, "codex_wait", json!({"job_id": id})).await);
    assert_eq!(waited["status"], "done");
    assert_eq!(waited["worktree"], started["worktree"]);
    assert_eq!(waited["change"], json!({"files": 2, "insertions": 2, "deletions": 1}));
    assert_eq!(waited["cwd"], cwd);
    let diff = ok(&call(&client, "codex_diff", json!({"job_id": id})).await);
    assert_eq!(diff["state"], "frozen");
    assert_eq!(diff["files"][0]["path"], "a.txt");
    assert!(diff["patch"].as_str().unwrap().contains("+mcp"));
    let capped = ok(&call(&client, "codex_diff", json!({"job_id": id, "max_chars": 10})).await);
    assert_eq!(capped["patch"].as_str().unwrap().chars().count(), 10);
    assert_eq!(capped["patch_truncated"], true);
    let stat = ok(&call(&client, "codex_diff", json!({"job_id": id, "stat_only": true})).await);
    assert!(stat.get("patch").is_none() && stat["stat"]["files"] == 2);
    assert_eq!(scene.status(), "", "the origin is untouched until apply");
    let applied = ok(&call(&client, "codex_apply", json!({"job_id": id, "commit": true})).await);
    assert_eq!(applied["applied"], true);
    assert_eq!(std::fs::read_to_string(scene.repo.join("m.txt")).unwrap(), "m\n");
    assert_eq!(git(&scene.repo, &["log", "-1", "--format=%s"]), "write:a.txt=mcp write:m.txt=m");
    // A second apply of the same change does not apply: nothing changes, and it says why.
    let again = ok(&call(&client, "codex_apply", json!({"job_id": id})).await);
    assert_eq!(again["applied"], false);
    assert!(!again["conflicts"].as_array().unwrap().is_empty());
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_return_every_id_and_await_any_waits_on_them() {
    let scene = RepoHome::new();
    let (client, _notes) = stdio_client(&scene.home, &[]).await;
    let cwd = scene.repo.to_str().unwrap();
    let started = ok(&call(&client, "codex_start", json!({"prompt": "write:t.txt=try", "cwd": cwd, "attempts": 3})).await);
    let ids: Vec<String> = started["job_ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(started["attempt_group"], ids[0].as_str());
    let first = ok(&call(&client, "codex_await_any", json!({"job_ids": ids})).await);
    assert!(ids.contains(&first["job_id"].as_str().unwrap().to_owned()));
    assert_eq!(first["attempt_group"], ids[0].as_str());
    let refused = err(&call(&client, "codex_start", json!({"prompt": "say:x", "cwd": cwd, "attempts": 12})).await);
    assert!(refused.contains("give 2 to 8"), "{refused}");
    for id in &ids {
        ok(&call(&client, "codex_wait", json!({"job_id": id})).await);
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_apply_is_refused_under_a_suggest_ceiling() {
    let scene = RepoHome::new();
    let (id, _) = scene.worktree_job("write:x.txt=x");
    let (client, _notes) = stdio_client(&scene.home, &["--max-policy", "suggest"]).await;
    let refused = err(&call(&client, "codex_apply", json!({"job_id": id})).await);
    assert!(refused.contains("refused under the policy ceiling 'suggest'"), "{refused}");
    assert!(!scene.repo.join("x.txt").exists());
    // Reading the change is always allowed.
    ok(&call(&client, "codex_diff", json!({"job_id": id})).await);
    client.cancel().await.unwrap();
}
