//! A job's repository attacks the git codex-async runs: the supervisor's `git status`
//! as a job starts (the real binary, the fake agent) and the dashboard's `D` view
//! (its code, and once end to end in tmux). Each attack is a command the repository
//! names — in `.git/config`, a file it includes, `.gitattributes`,
//! `.git/info/attributes`, a submodule's config, the inherited environment — and
//! each command would create a marker file: it must never appear.
#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::tmux::{Tmux, dashboard_command, pane_below};
use crate::support::{TestHome, wait_until};
use codex_async::tui::git_diff;

const DEADLINE: Duration = Duration::from_secs(30);

fn git(folder: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
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

/// A home with a repository (`a.txt`, one commit) and a folder for markers outside it.
struct Scene {
    home: TestHome,
    repo: PathBuf,
    markers: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let home = TestHome::new();
        let repo = home.path().join("repo");
        let markers = home.path().join("markers");
        std::fs::create_dir(&repo).unwrap();
        std::fs::create_dir(&markers).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("a.txt"), "one\n").unwrap();
        git(&repo, &["add", "a.txt"]);
        git(&repo, &["commit", "-q", "-m", "base"]);
        Scene { home, repo, markers }
    }

    /// A shell command that leaves `name` behind as proof it ran.
    fn touch(&self, name: &str) -> String {
        format!("touch {}", self.markers.join(name).display())
    }

    fn ran(&self, name: &str) -> bool {
        self.markers.join(name).exists()
    }

    fn config(&self, key: &str, value: &str) {
        git(&self.repo, &["config", key, value]);
    }

    fn head(&self) -> String {
        git(&self.repo, &["rev-parse", "HEAD"])
    }

    /// `a.txt` gets new content of the same size: git must read and hash it to know
    /// it changed (where a clean filter runs).
    fn change_a_tracked_file(&self) {
        std::fs::write(self.repo.join("a.txt"), "two\n").unwrap();
    }

    fn start_in(&self, folder: &Path, prompt: &str, env: &[(&str, &str)]) -> String {
        let mut command = self.home.command();
        command.args(["start", "--json", "--cwd", folder.to_str().unwrap(), "--", prompt]);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        started["job_id"].as_str().unwrap().to_owned()
    }

    /// Starts a job in the repository whose agent waits until the supervisor's
    /// `git status` has answered (or `marker` appeared), then ends it. Asserts the
    /// answer was recorded and `marker` never appeared.
    fn start_and_check_git_status(&self, marker: &str, env: &[(&str, &str)]) {
        let release = self.markers.join("release");
        let id = self.start_in(&self.repo, &format!("await-file:{}", release.display()), env);
        wait_until("the supervisor's git status to answer", DEADLINE, || !self.home.meta(&id)["git_dirty"].is_null() || self.ran(marker));
        std::fs::write(&release, "").unwrap();
        self.home.wait_for_status(&id, "done", DEADLINE);
        assert!(!self.ran(marker), "the supervisor's git status ran a command the repository named");
        assert_eq!(self.home.meta(&id)["git_dirty"], true, "git status still answers for this repository");
    }

    /// `D`'s text for this repository against its first commit; asserts `marker` never
    /// appeared and the change to `a.txt` is shown.
    async fn check_d_view(&self, base: &str, marker: &str) -> String {
        let text = git_diff(&self.repo, Some(base)).await;
        assert!(!self.ran(marker), "D ran a command the repository named:\n{text}");
        let plain = codex_async::term::sanitize_line(&text.replace('\n', " "), usize::MAX, false);
        assert!(plain.contains("-one +two"), "the change is still shown: {plain}");
        plain
    }
}

/// A FIFO that answers its first reader with `first` and every later one with
/// `then`: a file that is one thing when read once and another when read again.
struct ChangingFile {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    server: Option<std::thread::JoinHandle<()>>,
}

impl ChangingFile {
    fn serve(path: PathBuf, first: String, then: String) -> ChangingFile {
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let server = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                for served in 0.. {
                    let Ok(mut reader) = OpenOptions::new().write(true).open(&path) else { return };
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let _ = reader.write_all(if served == 0 { first.as_bytes() } else { then.as_bytes() });
                }
            })
        };
        ChangingFile { path, stop, server: Some(server) }
    }
}

impl Drop for ChangingFile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // A reader of our own lets the server's open return (and see `stop`); held
        // until it has.
        let _reader = OpenOptions::new().read(true).custom_flags(nix::libc::O_NONBLOCK).open(&self.path);
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

// ---- The supervisor's `git status` as a job starts ----

#[test]
fn fsmonitor_in_the_repository_config_does_not_run_as_a_job_starts() {
    let scene = Scene::new();
    scene.config("core.fsmonitor", &format!("{}; false", scene.touch("fsmonitor")));
    scene.change_a_tracked_file();
    scene.start_and_check_git_status("fsmonitor", &[]);
}

#[test]
fn a_clean_filter_named_by_gitattributes_does_not_run_as_a_job_starts() {
    let scene = Scene::new();
    std::fs::write(scene.repo.join(".gitattributes"), "* filter=evil\n").unwrap();
    git(&scene.repo, &["add", ".gitattributes"]);
    git(&scene.repo, &["commit", "-q", "-m", "attributes"]);
    scene.config("filter.evil.clean", &format!("{}; cat", scene.touch("clean")));
    scene.change_a_tracked_file();
    scene.start_and_check_git_status("clean", &[]);
}

#[test]
fn a_process_filter_from_an_included_config_and_info_attributes_does_not_run_as_a_job_starts() {
    let scene = Scene::new();
    let included = scene.repo.join(".git/more.config");
    std::fs::write(&included, format!("[filter \"evil\"]\n\tprocess = {}; cat\n", scene.touch("process"))).unwrap();
    scene.config("include.path", "more.config");
    std::fs::write(scene.repo.join(".git/info/attributes"), "* filter=evil\n").unwrap();
    scene.change_a_tracked_file();
    scene.start_and_check_git_status("process", &[]);
}

#[test]
fn a_config_that_reads_differently_the_second_time_runs_nothing_as_a_job_starts() {
    let scene = Scene::new();
    std::fs::write(scene.repo.join(".git/info/attributes"), "* filter=evil\n").unwrap();
    let evil = format!("[filter \"evil\"]\n\tclean = {}; cat\n[core]\n\tfsmonitor = {}; false\n", scene.touch("race"), scene.touch("race"));
    let _changing = ChangingFile::serve(scene.repo.join(".git/changing.config"), "[core]\n".to_owned(), evil);
    scene.config("include.path", "changing.config");
    scene.change_a_tracked_file();
    scene.start_and_check_git_status("race", &[]);
}

#[test]
fn a_submodules_own_config_does_not_run_as_a_job_starts() {
    let scene = Scene::new();
    let source = scene.home.path().join("sub-source");
    std::fs::create_dir(&source).unwrap();
    git(&source, &["init", "-q", "-b", "main"]);
    git(&source, &["commit", "-q", "--allow-empty", "-m", "sub"]);
    git(&scene.repo, &["submodule", "add", "-q", source.to_str().unwrap(), "sub"]);
    git(&scene.repo, &["commit", "-q", "-m", "submodule"]);
    git(&scene.repo.join("sub"), &["config", "core.fsmonitor", &format!("{}; false", scene.touch("submodule"))]);
    scene.change_a_tracked_file();
    scene.start_and_check_git_status("submodule", &[]);
}

#[test]
fn an_inherited_git_environment_does_not_reach_the_supervisors_git() {
    let scene = Scene::new();
    std::fs::write(scene.repo.join(".git/info/attributes"), "* filter=evil\n").unwrap();
    scene.change_a_tracked_file();
    let parameters = format!("'core.fsmonitor'='{}; false'", scene.touch("inherited"));
    let clean = format!("{}; cat", scene.touch("inherited"));
    let env = [
        ("GIT_CONFIG_PARAMETERS", parameters.as_str()),
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "filter.evil.clean"),
        ("GIT_CONFIG_VALUE_0", clean.as_str()),
    ];
    scene.start_and_check_git_status("inherited", &env);
}

#[test]
fn a_fifo_as_head_does_not_hang_the_supervisor() {
    let scene = Scene::new();
    let head = scene.repo.join(".git/HEAD");
    std::fs::remove_file(&head).unwrap();
    nix::unistd::mkfifo(&head, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let id = scene.start_in(&scene.repo, "say:started", &[]);
    scene.home.wait_for_status(&id, "done", DEADLINE);
    assert!(scene.home.meta(&id)["git_head"].is_null());

    // The same FIFO behind a symlink named HEAD in a worktree's git directory.
    let other = scene.home.path().join("other");
    std::fs::create_dir_all(other.join("gitdir")).unwrap();
    symlink(&head, other.join("gitdir/HEAD")).unwrap();
    std::fs::write(other.join(".git"), "gitdir: gitdir\n").unwrap();
    let id = scene.start_in(&other, "say:started", &[]);
    scene.home.wait_for_status(&id, "done", DEADLINE);
    assert!(scene.home.meta(&id)["git_head"].is_null());
}

// ---- The dashboard's `D` view ----

#[tokio::test]
async fn d_runs_no_external_diff() {
    let scene = Scene::new();
    let base = scene.head();
    scene.config("diff.external", &scene.touch("external"));
    scene.change_a_tracked_file();
    scene.check_d_view(&base, "external").await;
}

#[tokio::test]
async fn d_runs_no_textconv_and_no_diff_driver_command() {
    let scene = Scene::new();
    let base = scene.head();
    scene.config("diff.conv.textconv", &format!("{}; cat", scene.touch("driver")));
    scene.config("diff.cmd.command", &scene.touch("driver"));
    std::fs::write(scene.repo.join(".git/info/attributes"), "a.txt diff=conv\n").unwrap();
    std::fs::write(scene.repo.join(".gitattributes"), "*.md diff=cmd\n").unwrap();
    std::fs::write(scene.repo.join("notes.md"), "x\n").unwrap();
    git(&scene.repo, &["add", "notes.md"]);
    scene.change_a_tracked_file();
    scene.check_d_view(&base, "driver").await;
    std::fs::write(scene.repo.join(".git/info/attributes"), "a.txt diff=cmd\n").unwrap();
    scene.check_d_view(&base, "driver").await;
}

#[tokio::test]
async fn d_runs_no_clean_filter_and_no_fsmonitor() {
    let scene = Scene::new();
    let base = scene.head();
    scene.config("filter.evil.clean", &format!("{}; cat", scene.touch("tree")));
    scene.config("core.fsmonitor", &format!("{}; false", scene.touch("tree")));
    std::fs::write(scene.repo.join(".gitattributes"), "* filter=evil\n").unwrap();
    scene.change_a_tracked_file();
    let plain = scene.check_d_view(&base, "tree").await;
    assert!(plain.contains("New files git does not track yet (not in the diff): 1   .gitattributes"), "{plain}");
}

#[tokio::test]
async fn d_does_not_fetch_a_missing_object_with_the_repositorys_ssh_command() {
    let scene = Scene::new();
    let base = scene.head();
    // A partial clone whose base blob is missing: git would fetch it from the remote,
    // over ssh, with the repository's own ssh command.
    let blob = git(&scene.repo, &["rev-parse", "HEAD:a.txt"]);
    std::fs::remove_file(scene.repo.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    scene.config("remote.origin.url", "ssh://example.invalid/repo");
    scene.config("remote.origin.promisor", "true");
    scene.config("extensions.partialClone", "origin");
    scene.config("core.sshCommand", &format!("{}; false", scene.touch("ssh")));
    scene.change_a_tracked_file();
    let text = git_diff(&scene.repo, Some(&base)).await;
    assert!(!scene.ran("ssh"), "D ran the repository's ssh command:\n{text}");
    assert!(text.contains("git diff against"), "the missing object is reported as a failure: {text}");
}

#[tokio::test]
async fn d_does_not_walk_into_a_submodule_with_its_own_config() {
    let scene = Scene::new();
    let source = scene.home.path().join("sub-source");
    std::fs::create_dir(&source).unwrap();
    git(&source, &["init", "-q", "-b", "main"]);
    git(&source, &["commit", "-q", "--allow-empty", "-m", "sub"]);
    let base = scene.head();
    git(&scene.repo, &["submodule", "add", "-q", source.to_str().unwrap(), "sub"]);
    git(&scene.repo, &["commit", "-q", "-m", "submodule"]);
    git(&scene.repo.join("sub"), &["config", "core.fsmonitor", &format!("{}; false", scene.touch("submodule"))]);
    std::fs::write(scene.repo.join("sub/new.txt"), "x").unwrap();
    scene.change_a_tracked_file();
    scene.check_d_view(&base, "submodule").await;
}

/// A job's meta says its base is `--output=FILE`: D must not hand that to git (which
/// would write FILE) and says the base is invalid.
#[tokio::test]
async fn a_forged_git_head_never_reaches_git() {
    let scene = Scene::new();
    let id = scene.start_in(&scene.repo, "say:done", &[]);
    scene.home.wait_for_status(&id, "done", DEADLINE);
    let written = scene.markers.join("written-by-git");
    forge_git_head(&scene, &id, &format!("--output={}", written.display()));

    // What the dashboard's D runs for this job: its meta as the engine reads it.
    let meta = scene.home.store().read_meta_raw(&codex_async::jobs::JobId::parse(&id).unwrap()).unwrap();
    let text = git_diff(Path::new(&meta.cwd), meta.git_head.as_deref()).await;
    assert!(!written.exists(), "git was given the forged base as an option");
    assert!(text.contains("is not a commit id"), "{text}");
}

#[test]
fn a_forged_git_head_in_the_dashboard_says_the_base_is_invalid() {
    let scene = Scene::new();
    let id = scene.start_in(&scene.repo, "say:done", &[]);
    scene.home.wait_for_status(&id, "done", DEADLINE);
    let written = scene.markers.join("written-by-git");
    forge_git_head(&scene, &id, &format!("--output={}", written.display()));

    let tmux = Tmux::start(&dashboard_command(&scene.home, 0, "--no-mcp"), 160, 45);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.keys(&["D"]);
    tmux.wait_for(&format!("changes of {id}"), DEADLINE);
    tmux.wait_until("the view to say the base is invalid", DEADLINE, |screen| {
        pane_below(screen, &format!(" changes of {id} ")).contains("is not a commit id")
    });
    assert!(!written.exists(), "git was given the forged base as an option");
}

/// Rewrites a finished job's `git_head` once its supervisor is gone (it would write its
/// own record back).
fn forge_git_head(scene: &Scene, id: &str, forged: &str) {
    scene.home.wait_for_supervisor_exit(id);
    let path = scene.home.job_dir(id).join("meta.json");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    meta["git_head"] = forged.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
}
