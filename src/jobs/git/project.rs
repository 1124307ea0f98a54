//! A new repository with a first commit of every file in its folder, through the same
//! hardened runner (for the demo's throwaway project): `git init` runs nothing of a
//! repository that does not exist yet; the commit is made through the private git
//! directory, without hooks or signing, with the identity given.

use std::path::Path;
use std::time::Duration;

use super::commands::{Change, RefCommand};
use super::error::GitError;
use super::freeze::{Budget, commit};
use super::object_id::ObjectId;
use super::runner::{self, Call, Limits};
use super::session::Session;

/// Makes `folder` a repository on branch `main` whose first commit holds its files; the
/// commit's id.
pub async fn init_with_first_commit(folder: &Path, message: &str, name: &str, email: &str) -> Result<ObjectId, GitError> {
    let budget = Budget::new(Duration::from_secs(30));
    let init: Vec<std::ffi::OsString> = ["init", "-q", "-b", "main"].into_iter().map(Into::into).collect();
    runner::run(Call {
        name: "init",
        argv: runner::argv(&[], init),
        env: runner::environment(std::env::vars_os(), &[]),
        cwd: folder,
        limits: Limits { deadline: Duration::from_secs(10), max_bytes: 64 * 1024 },
    })
    .await?;
    let mut session = Session::open(folder).await?;
    session.set_identity(name, email);
    session.change(Change::AddAll, budget.limits(1024 * 1024)).await?;
    let tree = session.change(Change::WriteTree, budget.limits(1024)).await?;
    let tree = ObjectId::parse(String::from_utf8_lossy(&tree.bytes).trim())
        .ok_or_else(|| GitError::Unexpected { query: "write-tree", printed: String::from_utf8_lossy(&tree.bytes).into_owned() })?;
    let first = commit(&session, &tree, None, message, budget).await?;
    let unborn =
        ObjectId::parse(&"0".repeat(first.as_str().len())).ok_or(GitError::Unexpected { query: "init", printed: String::new() })?;
    session.refs(RefCommand::Update { name: "refs/heads/main", new: &first, old: &unborn, deref: false }, budget.limits(1024)).await?;
    Ok(first)
}
