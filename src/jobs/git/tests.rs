use std::ffi::OsString;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::runner::{argv, environment};
use super::session::{parse_config_list, passed_on};
use super::*;

/// Runs git as a person would (an identity given; file-protocol submodules allowed).
pub(super) fn git(folder: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always"])
        .args(args)
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A repository with one commit of `a.txt`.
fn repository() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(repo.path().join("a.txt"), "one\n").unwrap();
    git(repo.path(), &["add", "a.txt"]);
    git(repo.path(), &["commit", "-q", "-m", "one"]);
    repo
}

/// Runs `work` on a thread; fails the test when it does not answer within `limit`
/// (a blocked thread is left behind: the test has failed anyway).
fn within<T: Send + 'static>(limit: Duration, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver.recv_timeout(limit).expect("it answered in time")
}

fn mkfifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

#[test]
fn head_is_read_from_loose_and_packed_refs_worktrees_and_detached_heads() {
    let repo = tempfile::tempdir().unwrap();
    assert_eq!(head(repo.path()), None, "not a repository");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    assert_eq!(head(repo.path()), None, "no commit yet");
    git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
    let first = git(repo.path(), &["rev-parse", "HEAD"]);
    std::fs::create_dir(repo.path().join("sub")).unwrap();
    assert_eq!(head(&repo.path().join("sub")), Some(first.clone()), "from a folder inside, loose ref");

    git(repo.path(), &["pack-refs", "--all"]);
    assert!(!repo.path().join(".git/refs/heads/main").exists());
    assert_eq!(head(repo.path()), Some(first.clone()), "packed ref");

    git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    let second = git(repo.path(), &["rev-parse", "HEAD"]);
    let worktree = repo.path().join("wt");
    git(repo.path(), &["worktree", "add", "-q", "-b", "side", worktree.to_str().unwrap()]);
    assert!(worktree.join(".git").is_file());
    assert_eq!(head(&worktree), Some(second.clone()), "a worktree's gitdir and commondir");
    let found = Repository::find(&worktree).unwrap();
    assert_eq!(
        (found.top.as_path(), found.common_dir.canonicalize().unwrap()),
        (worktree.as_path(), repo.path().join(".git").canonicalize().unwrap())
    );

    git(repo.path(), &["checkout", "-q", "--detach", &first]);
    assert_eq!(head(repo.path()), Some(first), "detached");
}

#[test]
fn a_fifo_in_git_is_refused_without_waiting_for_a_writer() {
    // HEAD itself.
    let repo = repository();
    let git_dir = repo.path().join(".git");
    std::fs::remove_file(git_dir.join("HEAD")).unwrap();
    mkfifo(&git_dir.join("HEAD"));
    let folder = repo.path().to_owned();
    assert_eq!(within(Duration::from_secs(5), move || head(&folder)), None);

    // The ref HEAD names, packed-refs, commondir and the `.git` file of a worktree.
    let repo = repository();
    let git_dir = repo.path().join(".git");
    std::fs::remove_file(git_dir.join("refs/heads/main")).unwrap();
    mkfifo(&git_dir.join("refs/heads/main"));
    mkfifo(&git_dir.join("packed-refs"));
    mkfifo(&git_dir.join("commondir"));
    let folder = repo.path().to_owned();
    assert_eq!(within(Duration::from_secs(5), move || head(&folder)), None);
    let worktree = tempfile::tempdir().unwrap();
    mkfifo(&worktree.path().join(".git"));
    let folder = worktree.path().to_owned();
    assert_eq!(within(Duration::from_secs(5), move || Repository::find(&folder)), None);
}

#[test]
fn a_symlink_at_the_last_component_is_not_followed() {
    let repo = repository();
    let id = git(repo.path(), &["rev-parse", "HEAD"]);
    let elsewhere = tempfile::tempdir().unwrap();
    let planted = elsewhere.path().join("planted");
    std::fs::write(&planted, format!("{id}\n")).unwrap();
    let git_dir = repo.path().join(".git");

    // HEAD as a symlink to a file holding a perfectly good id.
    std::fs::rename(git_dir.join("HEAD"), git_dir.join("HEAD.real")).unwrap();
    symlink(&planted, git_dir.join("HEAD")).unwrap();
    assert_eq!(head(repo.path()), None, "HEAD is a symlink");
    std::fs::remove_file(git_dir.join("HEAD")).unwrap();
    symlink("/dev/zero", git_dir.join("HEAD")).unwrap();
    assert_eq!(
        within(Duration::from_secs(5), {
            let folder = repo.path().to_owned();
            move || head(&folder)
        }),
        None,
        "HEAD -> /dev/zero"
    );
    std::fs::remove_file(git_dir.join("HEAD")).unwrap();
    std::fs::rename(git_dir.join("HEAD.real"), git_dir.join("HEAD")).unwrap();

    // The branch, and packed-refs.
    std::fs::remove_file(git_dir.join("refs/heads/main")).unwrap();
    symlink(&planted, git_dir.join("refs/heads/main")).unwrap();
    assert_eq!(head(repo.path()), None, "the ref is a symlink");
    std::fs::remove_file(git_dir.join("refs/heads/main")).unwrap();
    let packed = elsewhere.path().join("packed");
    std::fs::write(&packed, format!("{id} refs/heads/main\n")).unwrap();
    symlink(&packed, git_dir.join("packed-refs")).unwrap();
    assert_eq!(head(repo.path()), None, "packed-refs is a symlink");
    std::fs::remove_file(git_dir.join("packed-refs")).unwrap();
    std::fs::copy(&packed, git_dir.join("packed-refs")).unwrap();
    assert_eq!(head(repo.path()), Some(id.clone()), "the same packed-refs as a file");

    // A `.git` file that is a symlink.
    let worktree = tempfile::tempdir().unwrap();
    let dot_git = elsewhere.path().join("dot-git");
    std::fs::write(&dot_git, format!("gitdir: {}\n", git_dir.display())).unwrap();
    symlink(&dot_git, worktree.path().join(".git")).unwrap();
    assert_eq!(head(worktree.path()), None, "a symlinked .git file");
    std::fs::remove_file(worktree.path().join(".git")).unwrap();
    std::fs::copy(&dot_git, worktree.path().join(".git")).unwrap();
    assert_eq!(head(worktree.path()), Some(id.clone()), "the same .git as a file");

    // `gitdir:` and `commondir` naming a symlink to a folder.
    let linked = elsewhere.path().join("linked-git-dir");
    symlink(&git_dir, &linked).unwrap();
    std::fs::write(worktree.path().join(".git"), format!("gitdir: {}\n", linked.display())).unwrap();
    assert_eq!(head(worktree.path()), None, "gitdir: names a symlink");
    let own_git_dir = elsewhere.path().join("own-git-dir");
    std::fs::create_dir(&own_git_dir).unwrap();
    std::fs::write(own_git_dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(own_git_dir.join("commondir"), format!("{}\n", linked.display())).unwrap();
    std::fs::write(worktree.path().join(".git"), format!("gitdir: {}\n", own_git_dir.display())).unwrap();
    assert_eq!(head(worktree.path()), None, "commondir names a symlink");
    std::fs::write(own_git_dir.join("commondir"), format!("{}\n", git_dir.display())).unwrap();
    assert_eq!(head(worktree.path()), Some(id), "the same commondir as a folder");
}

#[test]
fn oversized_files_and_refs_outside_refs_are_not_read() {
    let repo = repository();
    let id = git(repo.path(), &["rev-parse", "HEAD"]);
    let git_dir = repo.path().join(".git");
    std::fs::write(git_dir.join("HEAD"), format!("{id}{}\n", " ".repeat(64 * 1024))).unwrap();
    assert_eq!(head(repo.path()), None, "a HEAD larger than any real one");
    std::fs::write(git_dir.join("HEAD"), format!("{id}\n")).unwrap();
    assert_eq!(head(repo.path()), Some(id.clone()));

    std::fs::write(repo.path().join("outside"), format!("{id}\n")).unwrap();
    for target in ["../outside", "refs/../../outside", "/etc/hostname", "HEAD", "refs//heads/main", "refs/heads/ma in"] {
        std::fs::write(git_dir.join("HEAD"), format!("ref: {target}\n")).unwrap();
        assert_eq!(head(repo.path()), None, "ref: {target}");
    }
    std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    assert_eq!(head(repo.path()), Some(id));
}

#[test]
fn object_ids_are_40_or_64_hex_digits() {
    let sha1 = "4B825DC642CB6EB9A060E54BF8D69288FBEE4904";
    assert_eq!(ObjectId::parse(sha1).map(String::from), Some(sha1.to_ascii_lowercase()));
    assert!(ObjectId::parse(&"a".repeat(64)).is_some_and(|id| id.is_sha256()));
    for forged in
        ["--output=/tmp/x", "HEAD", "", &"a".repeat(39), &"a".repeat(41), &format!("{}g", "a".repeat(39)), &format!(" {}", &sha1[1..])]
    {
        assert_eq!(ObjectId::parse(forged), None, "{forged:?}");
    }
}

#[test]
fn every_call_carries_the_hardening_and_ends_options_before_revisions() {
    let base = ObjectId::parse(&"ab".repeat(20)).unwrap();
    let settings = [("core.filemode".to_owned(), "false".to_owned())];
    let words =
        |query: Query<'_>| -> Vec<String> { argv(&settings, query.args()).into_iter().map(|word| word.into_string().unwrap()).collect() };
    let hardening = [
        "-c",
        "core.fsmonitor=false",
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.sshCommand=false",
        "-c",
        "core.pager=cat",
        "-c",
        "core.untrackedCache=false",
        "-c",
        "protocol.allow=never",
        "-c",
        "submodule.recurse=false",
    ];
    let expected_prefix: Vec<&str> = ["--no-pager", "-c", "core.filemode=false"].into_iter().chain(hardening).collect();
    let diff_options = ["--color=always", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all"];
    let cases: [(Query<'_>, Vec<&str>); 4] = [
        (Query::Status, vec!["status", "--porcelain", "--untracked-files=normal", "--ignore-submodules=all", "--no-renames"]),
        (Query::DiffStat(&base), [&["diff", "--stat"][..], &diff_options, &["--end-of-options", base.as_str(), "--"]].concat()),
        (Query::Diff(&base), [&["diff"][..], &diff_options, &["--end-of-options", base.as_str(), "--"]].concat()),
        (Query::Untracked, vec!["ls-files", "--others", "--exclude-standard", "--"]),
    ];
    for (query, subcommand) in cases {
        let expected: Vec<&str> = expected_prefix.iter().copied().chain(subcommand).collect();
        assert_eq!(words(query), expected, "{query:?}");
    }
}

#[test]
fn the_environment_keeps_no_inherited_git_variable() {
    let hostile = [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_KEY_0",
        "GIT_CONFIG_VALUE_0",
        "GIT_CONFIG_GLOBAL",
        "GIT_EXTERNAL_DIFF",
        "GIT_PAGER",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_ASKPASS",
        "GIT_EXEC_PATH",
        "GIT_TRACE",
        "GIT_OPTIONAL_LOCKS",
        "GIT_CONFIG_NOSYSTEM",
    ];
    let inherited: Vec<(OsString, OsString)> = hostile
        .iter()
        .map(|name| (OsString::from(name), OsString::from("hostile")))
        .chain([("PATH".into(), "/usr/bin".into()), ("HOME".into(), "/home/someone".into()), ("Git_dir".into(), "kept".into())])
        .collect();
    let env = environment(inherited, &[("GIT_DIR", "/private".into())]);
    let pairs: Vec<(String, String)> =
        env.into_iter().map(|(name, value)| (name.into_string().unwrap(), value.into_string().unwrap())).collect();
    let expected: Vec<(String, String)> = [
        ("PATH", "/usr/bin"),
        ("HOME", "/home/someone"),
        ("Git_dir", "kept"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_ATTR_NOSYSTEM", "1"),
        ("GIT_OPTIONAL_LOCKS", "0"),
        ("GIT_TERMINAL_PROMPT", "0"),
        ("GIT_NO_LAZY_FETCH", "1"),
        ("GIT_NO_REPLACE_OBJECTS", "1"),
        ("GIT_DIR", "/private"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    assert_eq!(pairs, expected);
}

/// Every inherited `GIT_*` variable a user's shell or a hook could leave behind, each
/// set to do harm, handed to real git calls: none has any effect.
#[tokio::test]
async fn an_inherited_git_environment_reaches_no_real_call() {
    let repo = repository();
    let other = repository(); // what an inherited GIT_DIR names
    std::fs::write(other.path().join("other-untracked.txt"), "x").unwrap();
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("marker");
    let touch = format!("touch {}", marker.display());
    std::fs::write(repo.path().join(".gitattributes"), "* filter=evil diff=evil\n").unwrap();
    git(repo.path(), &["add", ".gitattributes"]);
    git(repo.path(), &["commit", "-q", "-m", "attributes"]);
    let base = ObjectId::parse(&git(repo.path(), &["rev-parse", "HEAD"])).unwrap();
    // Same size, new content: git must hash it (and would run a clean filter).
    std::fs::write(repo.path().join("a.txt"), "two\n").unwrap();
    let mut inherited: Vec<(OsString, OsString)> =
        std::env::vars_os().filter(|(name, _)| !name.to_string_lossy().starts_with("GIT_")).collect();
    let config_parameters = format!("'filter.evil.clean'='{touch}; cat' 'core.fsmonitor'='{touch}; false'");
    for (name, value) in [
        ("GIT_DIR", other.path().join(".git").display().to_string()),
        ("GIT_WORK_TREE", other.path().display().to_string()),
        ("GIT_CONFIG_PARAMETERS", config_parameters),
        ("GIT_CONFIG_COUNT", "1".to_owned()),
        ("GIT_CONFIG_KEY_0", "diff.evil.textconv".to_owned()),
        ("GIT_CONFIG_VALUE_0", format!("{touch}; cat")),
        ("GIT_EXTERNAL_DIFF", touch.clone()),
        ("GIT_PAGER", touch.clone()),
    ] {
        inherited.push((name.into(), value.into()));
    }
    let session = Session::open_with_environment(repo.path(), inherited).await.unwrap();
    let limits = Limits { deadline: Duration::from_secs(20), max_bytes: 1 << 20 };
    let status = session.run(Query::Status, limits).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&status.bytes), " M a.txt\n", "this repository, not the one GIT_DIR named");
    let diff = session.run(Query::Diff(&base), limits).await.unwrap();
    let diff = crate::term::sanitize_line(&String::from_utf8_lossy(&diff.bytes).replace('\n', " "), usize::MAX, false);
    assert!(diff.contains("-one +two"), "{diff:?}");
    let untracked = session.run(Query::Untracked, limits).await.unwrap();
    assert_eq!(untracked.bytes, b"");
    assert!(!marker.exists(), "an inherited GIT_* variable ran a command");
}

#[test]
fn only_plain_settings_that_change_what_git_sees_are_passed_on() {
    let listed = parse_config_list(
        b"core.filemode\ntrue\0core.FileMode\nfalse\0core.symlinks\0filter.x.clean\ntouch m\0core.fsmonitor\ntouch m\0\
core.autocrlf\n$(touch m)\0core.eol\nlf\0core.ignorecase\nfalse\ntrue\0include.path\n/x\0",
    );
    assert_eq!(listed[2], ("core.symlinks".to_owned(), "true".to_owned()), "a key alone means true");
    let passed = passed_on(&listed);
    let passed: Vec<(&str, &str)> = passed.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
    assert_eq!(passed, [("core.eol", "lf"), ("core.filemode", "false"), ("core.symlinks", "true")]);
}

#[tokio::test]
async fn the_repositorys_own_view_of_its_tree_is_kept() {
    // core.filemode=false (a file system without exec bits): a mode change is no change.
    let repo = repository();
    git(repo.path(), &["config", "core.filemode", "false"]);
    std::fs::set_permissions(repo.path().join("a.txt"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(dirty(repo.path()).await, Some(false));
    // info/exclude is honoured.
    std::fs::write(repo.path().join(".git/info/exclude"), "scratch-*\n").unwrap();
    std::fs::write(repo.path().join("scratch-1"), "x").unwrap();
    assert_eq!(dirty(repo.path()).await, Some(false));
    std::fs::write(repo.path().join("new.txt"), "x").unwrap();
    assert_eq!(dirty(repo.path()).await, Some(true));

    // SHA-256 objects, a linked worktree, a repository without a commit.
    let sha256 = tempfile::tempdir().unwrap();
    git(sha256.path(), &["init", "-q", "--object-format=sha256"]);
    git(sha256.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
    assert_eq!(head(sha256.path()).map(|id| id.len()), Some(64));
    assert_eq!(dirty(sha256.path()).await, Some(false));
    std::fs::write(sha256.path().join("f"), "x").unwrap();
    git(sha256.path(), &["add", "f"]);
    assert_eq!(dirty(sha256.path()).await, Some(true));

    let repo = repository();
    let worktree = repo.path().join("wt");
    git(repo.path(), &["worktree", "add", "-q", "-b", "side", worktree.to_str().unwrap()]);
    assert_eq!(dirty(&worktree).await, Some(false));
    std::fs::write(worktree.join("a.txt"), "changed in the worktree\n").unwrap();
    assert_eq!(dirty(&worktree).await, Some(true));

    let unborn = tempfile::tempdir().unwrap();
    git(unborn.path(), &["init", "-q"]);
    assert_eq!(dirty(unborn.path()).await, Some(false));
    std::fs::write(unborn.path().join("f"), "x").unwrap();
    assert_eq!(dirty(unborn.path()).await, Some(true));
}

#[tokio::test]
async fn a_call_past_its_deadline_or_its_cap_is_ended_with_its_group() {
    let repo = repository();
    let base = ObjectId::parse(&git(repo.path(), &["rev-parse", "HEAD"])).unwrap();
    std::fs::write(repo.path().join("a.txt"), "one\n".repeat(10_000)).unwrap();
    let session = Session::open(repo.path()).await.unwrap();
    let cut = session.run(Query::Diff(&base), Limits { deadline: Duration::from_secs(20), max_bytes: 100 }).await.unwrap();
    assert!(cut.cut && cut.bytes.len() == 100, "{cut:?}");

    // An index that is a FIFO: git waits for a writer that never comes.
    let index = repo.path().join(".git/index");
    std::fs::remove_file(&index).unwrap();
    mkfifo(&index);
    let began = Instant::now();
    let ended = session.run(Query::Status, Limits { deadline: Duration::from_millis(500), max_bytes: 100 }).await;
    assert!(matches!(ended, Err(GitError::TimedOut { query: "status", .. })), "{ended:?}");
    assert!(began.elapsed() < Duration::from_secs(5));
    let index_env = index.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !crate::jobs::process::procfs::with_env("GIT_INDEX_FILE", &index_env).is_empty() {
        assert!(Instant::now() < deadline, "the git that timed out is still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_tree_is_dirty_with_changes_or_new_files_and_the_base_is_recorded() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
    assert_eq!(dirty(repo.path()).await, Some(false));
    std::fs::write(repo.path().join("new.txt"), "x").unwrap();
    assert_eq!(dirty(repo.path()).await, Some(true));
    assert_eq!(dirty(&repo.path().join("missing")).await, None);

    let home = tempfile::tempdir().unwrap();
    let store = crate::jobs::JobStore::new(home.path());
    let id = store.reserve().unwrap();
    let json = serde_json::json!({"job_id": id.as_str(), "status": "running", "prompt": "p", "cwd": repo.path(),
        "approval_policy": "suggest", "pid": null, "started_at": null, "finished_at": null, "exit_code": null, "future": 1});
    let mut meta = crate::jobs::JobMeta::from_json(json.to_string().as_bytes()).unwrap();
    meta.git_head = head(repo.path());
    record_dirty(&crate::jobs::store::kept::KeptMeta::new(&store, meta), repo.path()).await;
    let meta = store.read_meta_raw(&id).unwrap();
    assert_eq!((meta.git_head, meta.git_dirty), (head(repo.path()), Some(true)));
    assert_eq!(meta.extra["future"], 1, "other keys are kept");
}
