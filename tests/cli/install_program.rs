//! `install` / `uninstall` through the real binary: the backup holds what was there
//! before the first install and goes when uninstall took everything back; one account
//! per file; a binary inside a cargo build folder (this test binary is one) is swapped for
//! the same program on `PATH`, or registered with a warning that says how to install it.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::BIN;

/// A private home, codex-async home and `PATH`.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let place = Place { dir: tempfile::tempdir().unwrap() };
        for folder in ["home", "cah", "bin"] {
            fs::create_dir_all(place.dir.path().join(folder)).unwrap();
        }
        place
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn run(&self, args: &[&str]) -> Output {
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin().display());
        std::process::Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.home())
            .env("CODEX_ASYNC_HOME", self.dir.path().join("cah"))
            .env("PATH", path)
            .env_remove("CODEX_HOME")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("CODEX_ASYNC_TOKEN")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let output = self.run(args);
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
        assert!(output.status.success(), "{args:?}: {stderr}\n{stdout}");
        (stdout, stderr)
    }
}

fn backup(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.codex-async.bak", path.display()))
}

fn command_in(codex_config: &Path) -> String {
    let table: toml::Table = toml::from_str(&fs::read_to_string(codex_config).unwrap()).unwrap();
    table["mcp_servers"]["codex-async"]["command"].as_str().unwrap().to_owned()
}

#[test]
fn the_backup_keeps_the_text_from_before_the_first_install_and_goes_with_the_uninstall() {
    let place = Place::new();
    let config = place.home().join(".codex/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = "model = \"o3\"\n\n[mcp_servers.other]\ncommand = \"other\"\n";
    fs::write(&config, original).unwrap();

    let (said, _) = place.ok(&["install", "codex"]);
    assert!(said.contains("the previous version is in ~/.codex/config.toml.codex-async.bak"), "{said}");
    assert_eq!(fs::read_to_string(backup(&config)).unwrap(), original);
    // A second install that changes the file (the approvals) keeps the first backup.
    let (said, _) = place.ok(&["install", "codex", "--approve"]);
    assert!(said.contains("what it held before the first install stays in ~/.codex/config.toml.codex-async.bak"), "{said}");
    assert_eq!(fs::read_to_string(backup(&config)).unwrap(), original, "the backup never holds an installed entry");

    let (said, _) = place.ok(&["uninstall", "codex"]);
    assert_eq!(fs::read_to_string(&config).unwrap(), original);
    assert!(!backup(&config).exists(), "restored: the backup is gone");
    assert!(said.contains("~/.codex/config.toml.codex-async.bak is removed"), "{said}");
}

#[test]
fn uninstall_says_one_true_thing_of_an_entry_someone_edited() {
    let place = Place::new();
    let file = place.home().join(".claude.json");
    fs::write(&file, "{\n  \"numStartups\": 3\n}\n").unwrap();
    place.ok(&["install", "claude-code"]);
    let edited = fs::read_to_string(&file).unwrap().replace("\"serve\"", "\"serve\", \"--max-wait\", \"30\"");
    fs::write(&file, &edited).unwrap();
    let output = place.run(&["uninstall", "claude-code"]);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stdout);
    let about: Vec<&str> = said.lines().filter(|line| line.starts_with("~/.claude.json")).collect();
    assert_eq!(about.len(), 1, "one account of the file: {said}");
    assert!(about[0].contains("was changed since codex-async install wrote it; left as it is"), "{said}");
    assert!(!said.contains("nothing to remove"), "{said}");
    assert_eq!(fs::read_to_string(&file).unwrap(), edited);

    // An entry removed by hand: that is what is said of the file, once.
    let config = place.home().join(".codex/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = "model = \"o3\"\n";
    fs::write(&config, original).unwrap();
    place.ok(&["install", "codex"]);
    fs::write(&config, original).unwrap();
    let (said, _) = place.ok(&["uninstall", "codex"]);
    let about: Vec<&str> = said.lines().filter(|line| line.contains("~/.codex/config.toml")).collect();
    assert_eq!(about, ["~/.codex/config.toml: mcp_servers.\"codex-async\" was removed already."], "{said}");
}

#[test]
fn a_build_in_a_cargo_target_folder_is_registered_from_path_or_with_a_warning() {
    let place = Place::new();
    let config = place.home().join(".codex/config.toml");

    // Nothing on PATH: the build's own path, and how to install it.
    let (_, warned) = place.ok(&["install", "codex"]);
    assert!(warned.contains("runs from a cargo build folder") && warned.contains("cargo install --locked --path ."), "{warned}");
    assert_eq!(command_in(&config), fs::canonicalize(BIN).unwrap().to_str().unwrap());
    place.ok(&["uninstall", "codex"]);

    // Another program named codex-async on PATH is not taken for this one.
    let on_path = place.bin().join("codex-async");
    fs::write(&on_path, "#!/bin/sh\necho another build\n").unwrap();
    fs::set_permissions(&on_path, fs::Permissions::from_mode(0o755)).unwrap();
    let (_, warned) = place.ok(&["install", "codex"]);
    assert!(warned.contains(&format!("the codex-async on PATH, {}, is another build", on_path.display())), "{warned}");
    assert_eq!(command_in(&config), fs::canonicalize(BIN).unwrap().to_str().unwrap());
    place.ok(&["uninstall", "codex"]);

    // The same program installed on PATH (a copy: the same bytes) is what the client gets.
    fs::remove_file(&on_path).unwrap();
    fs::copy(BIN, &on_path).unwrap();
    let (_, said) = place.ok(&["install", "codex"]);
    assert!(said.contains("the same program as installed on PATH") && !said.contains("warning"), "{said}");
    assert_eq!(command_in(&config), on_path.to_str().unwrap());
    let (removed, _) = place.ok(&["uninstall", "codex"]);
    assert!(!config.exists(), "uninstall finds the entry it wrote: {removed}");
}
