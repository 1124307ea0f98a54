//! The writing half of the git runner: worktrees made and removed, changes frozen, the
//! argument lists, and what a repository or a job record can plant against them.

use std::path::Path;
use std::time::Duration;

use super::commands::{ApplyTo, Change, DiffForm, RefCommand, is_revision};
use super::freeze::{Budget, change_between, parse_numstat, snapshot_tree};
use super::object_id::ObjectId;
use super::session::Session;
use super::tests::git;
use super::worktree::{WorktreeError, WorktreePlan, is_codex_branch, is_job_branch, make, remove};

/// A folder with a repository `repo` (one commit) and room for worktrees beside it.
fn scene() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("a.txt"), "one\n").unwrap();
    git(&repo, &["add", "a.txt"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    (dir, repo)
}

fn budget() -> Budget {
    Budget::new(Duration::from_secs(30))
}

fn plan<'a>(repo: &'a Path, dir: &Path, id: &'a str, copy: &'a [String]) -> WorktreePlan<'a> {
    WorktreePlan { origin: repo, path: dir.join("worktrees").join(id), id, base: None, copy }
}

#[test]
fn every_writing_command_ends_options_before_revisions_and_paths() {
    let id = ObjectId::parse(&"a".repeat(40)).unwrap();
    let other = ObjectId::parse(&"b".repeat(40)).unwrap();
    let patch = Path::new("/private/job.patch");
    let ends = |args: Vec<std::ffi::OsString>, last: &[&str]| {
        let words: Vec<String> = args.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
        let at = words.iter().position(|word| word == "--end-of-options").unwrap_or_else(|| panic!("{words:?}"));
        assert_eq!(&words[at + 1..], last, "{words:?}");
    };
    ends(Change::CheckOut(&id).args(), &[id.as_str()]);
    ends(Change::ReadTree(&id).args(), &[id.as_str()]);
    ends(Change::Commit { tree: &id, parent: Some(&other), message: "--output=/tmp/x" }.args(), &[id.as_str()]);
    ends(Change::Diff { from: &id, to: &other, form: DiffForm::Patch }.args(), &[id.as_str(), other.as_str(), "--"]);
    ends(Change::Apply { patch, to: ApplyTo::Index, reverse: true }.args(), &["/private/job.patch"]);
    ends(RefCommand::Resolve("main").args(), &["main^{commit}"]);
    ends(
        RefCommand::Update { name: "refs/heads/x", new: &id, old: &other, deref: false }.args(),
        &["refs/heads/x", id.as_str(), other.as_str()],
    );
    ends(RefCommand::Delete("refs/heads/x").args(), &["refs/heads/x"]);
    let add = RefCommand::AddWorktree { path: Path::new("/w/-x"), branch: "codex-async/a", commit: &id }.args();
    ends(add, &["/w/-x", id.as_str()]);
    let commit: Vec<String> =
        Change::Commit { tree: &id, parent: Some(&other), message: "m" }.args().iter().map(|a| a.to_string_lossy().into()).collect();
    assert!(commit.contains(&"--no-gpg-sign".to_owned()), "a commit never runs a signing program");
}

#[test]
fn revisions_and_branches_are_checked_before_they_reach_git() {
    for good in ["main", "v1.2", "HEAD~2", "feature/x", "abc123"] {
        assert!(is_revision(good), "{good}");
    }
    for bad in ["", "-x", "--output=/tmp/x", "a b", "a..b", "x@{1}", "a:b", "a\nb", &"x".repeat(300)] {
        assert!(!is_revision(bad), "{bad:?}");
    }
    assert!(is_job_branch("codex-async/abc", "abc") && is_job_branch("codex-async/abc-3", "abc"));
    assert!(!is_job_branch("codex-async/abcd", "abc") && !is_job_branch("main", "abc") && !is_job_branch("codex-async/abc-x", "abc"));
    assert!(is_codex_branch("codex-async/abc") && !is_codex_branch("main") && !is_codex_branch("codex-async/../main"));
    assert!(!is_codex_branch("codex-async/") && !is_codex_branch("codex-async/a b"));
}

#[test]
fn numstat_counts_files_lines_and_binary_files() {
    let stat = parse_numstat(b"3\t1\ta.txt\x00-\t-\timage.png\x000\t7\tgone.txt\x00");
    assert_eq!((stat.files, stat.insertions, stat.deletions), (3, 3, 8));
}

#[tokio::test]
async fn a_taken_branch_name_gets_a_suffix() {
    let (dir, repo) = scene();
    git(&repo, &["branch", "codex-async/job1"]);
    let made = make(plan(&repo, dir.path(), "job1", &[]), budget()).await.unwrap();
    assert_eq!(made.branch, "codex-async/job1-2");
    assert_eq!(git(&made.path, &["rev-parse", "--abbrev-ref", "HEAD"]), "codex-async/job1-2");
    assert_eq!(std::fs::read_to_string(made.path.join("a.txt")).unwrap(), "one\n");
    assert_eq!(git(&made.path, &["status", "--porcelain"]), "", "the worktree's index matches its files");
}

#[tokio::test]
async fn taken_branches_are_read_from_loose_and_packed_refs_alike() {
    let (dir, repo) = scene();
    // Loose, then packed (`pack-refs` moves every branch into packed-refs), then a
    // folder of branches in the name's place: each is taken, as git would find.
    git(&repo, &["branch", "codex-async/job2"]);
    git(&repo, &["branch", "codex-async/job2-2"]);
    git(&repo, &["pack-refs", "--all"]);
    git(&repo, &["branch", "codex-async/job2-3/below"]);
    let repository = super::Repository::find(&repo).unwrap();
    assert_eq!(repository.has_ref("refs/heads/codex-async/job2"), Some(true), "packed");
    assert_eq!(repository.has_ref("refs/heads/codex-async/job2-3"), Some(true), "a folder of branches");
    assert_eq!(repository.has_ref("refs/heads/codex-async/job2-4"), Some(false));
    assert_eq!(repository.has_ref("refs/heads/../../config"), None, "not a ref name");
    let made = make(plan(&repo, dir.path(), "job2", &[]), budget()).await.unwrap();
    assert_eq!(made.branch, "codex-async/job2-4");
}

#[tokio::test]
async fn refs_in_a_reftable_are_asked_of_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "--ref-format=reftable", "-b", "main"]);
    std::fs::write(repo.join("a.txt"), "one\n").unwrap();
    git(&repo, &["add", "a.txt"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    git(&repo, &["branch", "codex-async/job3"]);
    let repository = super::Repository::find(&repo).unwrap();
    assert_eq!(repository.has_ref("refs/heads/main"), None, "the files cannot say");
    let made = make(plan(&repo, dir.path(), "job3", &[]), budget()).await.unwrap();
    assert_eq!(made.branch, "codex-async/job3-2");
    assert_eq!(std::fs::read_to_string(made.path.join("a.txt")).unwrap(), "one\n");
}

#[tokio::test]
async fn a_copy_that_is_refused_takes_back_the_whole_worktree() {
    let (dir, repo) = scene();
    let outside = dir.path().join("outside");
    std::fs::write(&outside, "secret\n").unwrap();
    // A link planted where a listed file is: never followed.
    std::os::unix::fs::symlink(&outside, repo.join(".env")).unwrap();
    for (listed, reason) in [("../outside", "without `..`"), (".git/config", "`.git`"), (".env", "in the origin")] {
        let copy = vec![listed.to_owned()];
        let err = make(plan(&repo, dir.path(), "job2", &copy), budget()).await.unwrap_err();
        assert!(matches!(&err, WorktreeError::Copy { .. }) && err.to_string().contains(reason), "{listed}: {err}");
        assert!(!dir.path().join("worktrees/job2").exists(), "{listed}: a half-made worktree stayed");
        assert_eq!(git(&repo, &["branch", "--list", "--format=%(refname:short)"]), "main", "{listed}: a branch stayed");
        assert!(!git(&repo, &["worktree", "list"]).contains("job2"));
    }
}

#[tokio::test]
async fn a_committed_link_is_never_written_through_by_a_copy() {
    let (dir, repo) = scene();
    let target = dir.path().join("victim");
    std::fs::write(&target, "untouched\n").unwrap();
    std::os::unix::fs::symlink(&target, repo.join(".env.local")).unwrap();
    git(&repo, &["add", ".env.local"]);
    git(&repo, &["commit", "-q", "-m", "a link"]);
    std::fs::remove_file(repo.join(".env.local")).unwrap();
    std::fs::write(repo.join(".env.local"), "mine\n").unwrap();
    let copy = vec![".env.local".to_owned()];
    let err = make(plan(&repo, dir.path(), "job3", &copy), budget()).await.unwrap_err();
    assert!(err.to_string().contains("in the worktree"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched\n");
}

#[tokio::test]
async fn remove_only_removes_registered_worktrees_of_the_origin_and_codex_branches() {
    let (dir, repo) = scene();
    let plain = dir.path().join("precious");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("keep.txt"), "keep\n").unwrap();
    // A forged record naming a plain folder and the main branch: nothing of it goes.
    let removed = remove(&repo, &plain, "main", "job4", budget()).await.unwrap();
    assert!(!removed && plain.join("keep.txt").exists());
    assert_eq!(git(&repo, &["rev-parse", "--verify", "main"]).len(), 40);
    // The origin's own top is not a linked worktree either.
    assert!(!remove(&repo, &repo, "main", "job4", budget()).await.unwrap());
    assert!(repo.join("a.txt").exists());
    // Another repository's worktree is not this origin's.
    let (other_dir, other) = scene();
    let theirs = make(plan(&other, other_dir.path(), "job5", &[]), budget()).await.unwrap();
    assert!(!remove(&repo, &theirs.path, &theirs.branch, "job5", budget()).await.unwrap());
    assert!(theirs.path.join("a.txt").exists());
}

#[tokio::test]
async fn a_patch_over_the_cap_keeps_the_stat_only_and_freezing_in_scratch_writes_no_object() {
    let (_dir, repo) = scene();
    let objects_before = git(&repo, &["count-objects", "-v"]);
    std::fs::write(repo.join("a.txt"), "changed\n".repeat(100)).unwrap();
    std::fs::write(repo.join("b.txt"), "new\n").unwrap();
    let mut session = Session::open(&repo).await.unwrap();
    let base = session.head().cloned().unwrap();
    let tree = snapshot_tree(&mut session, true, budget()).await.unwrap();
    let (patch, stat) = change_between(&session, &base, &tree, 64, budget()).await.unwrap();
    assert!(patch.is_none() && stat.patch_dropped);
    assert_eq!((stat.files, stat.insertions, stat.deletions), (2, 101, 1));
    let (patch, stat) = change_between(&session, &base, &tree, 1024 * 1024, budget()).await.unwrap();
    assert!(!stat.patch_dropped && String::from_utf8(patch.unwrap()).unwrap().contains("+new"));
    drop(session);
    assert_eq!(git(&repo, &["count-objects", "-v"]), objects_before, "nothing written into the repository");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "M a.txt\n?? b.txt", "its index untouched");
}

#[tokio::test]
async fn a_new_project_gets_its_first_commit_through_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(dir.path().join("README.md"), "# x\n").unwrap();
    let first = super::project::init_with_first_commit(dir.path(), "Initial commit", "demo", "demo@localhost").await.unwrap();
    assert_eq!(git(dir.path(), &["rev-parse", "HEAD"]), first.as_str());
    assert_eq!(git(dir.path(), &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert_eq!(git(dir.path(), &["log", "--format=%an <%ae> %s"]), "demo <demo@localhost> Initial commit");
    assert_eq!(git(dir.path(), &["ls-files"]), "README.md\nsrc/main.rs");
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "", "the index matches the files");
}

/// A file rewritten to the same size in the same second as the index was written looks
/// unchanged by its recorded size and (whole-second) times: git re-reads it only because
/// the entry is "racily clean" — not older than the index. The scratch copy of the index
/// is made a second later; it keeps the index's time, so the rewrite is still frozen.
#[tokio::test]
async fn a_same_size_rewrite_in_the_index_s_second_is_still_a_change() {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..10 {
        let (_dir, repo) = scene();
        std::fs::write(repo.join("a.txt"), "two\n").unwrap();
        let index_second = std::fs::metadata(repo.join(".git/index")).unwrap().mtime();
        let written = std::fs::metadata(repo.join("a.txt")).unwrap();
        if written.mtime() != index_second || written.ctime() != index_second {
            continue; // a second went by between the commit and the rewrite: try again
        }
        // The copy is made in a later second than the entry's.
        while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 <= index_second {
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut session = Session::open(&repo).await.unwrap();
        let base = session.head().cloned().unwrap();
        let tree = snapshot_tree(&mut session, true, budget()).await.unwrap();
        let (_, stat) = change_between(&session, &base, &tree, 1024 * 1024, budget()).await.unwrap();
        assert_eq!(stat.files, 1, "a.txt's rewrite is the change");
        return;
    }
    panic!("the commit and the rewrite never fell in the same second");
}
