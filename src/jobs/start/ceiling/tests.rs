use std::path::{Path, PathBuf};

use super::*;
use crate::jobs::agent::AgentOptions;

/// A user's home with codex-async's home, codex's folder and a project inside it.
struct Folders {
    _dir: tempfile::TempDir,
    home: PathBuf,
    own: PathBuf,
    codex: PathBuf,
    project: PathBuf,
}

fn folders() -> Folders {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().canonicalize().unwrap().join("me");
    let (own, codex, project) = (home.join(".codex-async"), home.join(".codex"), home.join("src/app"));
    for folder in [&own, &codex, &project] {
        std::fs::create_dir_all(folder).unwrap();
    }
    Folders { _dir: dir, home, own, codex, project }
}

fn ceiling(policy: ApprovalPolicy, at: &Folders) -> Ceiling {
    Ceiling::with_folders(policy, &at.own, Some(&at.home), &|_| None)
}

fn codex() -> AgentSpec {
    AgentSpec::Codex { program: "codex".into() }
}

fn request(cwd: &Path, policy: ApprovalPolicy, options: AgentOptions) -> StartRequest {
    StartRequest::new("p", cwd, policy, codex()).unwrap().with_options(options).unwrap()
}

fn config(entries: &[&str]) -> AgentOptions {
    AgentOptions { config: entries.iter().map(|entry| (*entry).to_owned()).collect(), ..AgentOptions::default() }
}

#[test]
fn full_auto_caps_nothing() {
    let at = folders();
    let anything =
        request(Path::new("/"), ApprovalPolicy::FullAuto, AgentOptions { profile: Some("p".into()), ..config(&["notify=[\"sh\"]"]) });
    ceiling(ApprovalPolicy::FullAuto, &at).admit(&anything).unwrap();
    Ceiling::unlimited().admit(&anything).unwrap();
}

#[test]
fn a_policy_above_the_ceiling_is_refused_saying_how_to_raise_it() {
    let at = folders();
    let err = ceiling(ApprovalPolicy::AutoEdit, &at).admit(&request(&at.project, ApprovalPolicy::FullAuto, AgentOptions::default()));
    let message = err.unwrap_err().to_string();
    assert!(message.contains("approval_policy 'full-auto'") && message.contains("ceiling 'auto-edit'"), "{message}");
    assert!(message.contains("--max-policy full-auto") && message.contains("CODEX_ASYNC_MAX_POLICY"), "{message}");
    ceiling(ApprovalPolicy::AutoEdit, &at).admit(&request(&at.project, ApprovalPolicy::AutoEdit, AgentOptions::default())).unwrap();
}

#[test]
fn only_bare_model_settings_with_one_value_pass_below_full_auto() {
    let at = folders();
    let ceiling = ceiling(ApprovalPolicy::AutoEdit, &at);
    let check = |entries: &[&str]| ceiling.admit(&request(&at.project, ApprovalPolicy::Suggest, config(entries)));
    for (key, _) in ALLOWED_CONFIG {
        check(&[&format!("{key}=high")]).unwrap();
    }
    check(&[
        "model_reasoning_effort=\"high\"",
        "model_reasoning_summary='concise'",
        "model_context_window=200000",
        "model_auto_compact_token_limit=1_000",
        "model_supports_reasoning_summaries=true",
    ])
    .unwrap();
    for refused in [
        "notify=[\"sh\",\"-c\",\"x\"]",
        "mcp_servers.x.command=sh",
        "sandbox_workspace_write.writable_roots=[\"/\"]",
        "sandbox_mode=danger-full-access",
        "approval_policy=never",
        "shell_environment_policy.inherit=all",
        "model_provider=evil",
        "model_providers.evil.base_url=http://x",
        "profile=other",
        "profiles.p.notify=[\"sh\"]",
        "use_legacy_landlock=true",
        "features.anything=true",
        "hooks.x=y",
        "model_instructions_file=/etc/passwd",
        "\"notify\"=[\"sh\"]",
        "'notify'=[\"sh\"]",
        "\"model_reasoning_effort\"=high",
        "model_reasoning_effort.x=1",
        "MODEL_REASONING_EFFORT=high",
        "model_reasoning_effort\u{200b}=high",
        "model_reasoning_effort={notify=[\"sh\"]}",
        "model_reasoning_effort=[\"high\"]",
        "model_verbosity=1979-05-27T07:32:00Z",
        "model_verbosity=high\rnotify=[\"sh\"]",
        "model_verbosity=\"hi\\u0067h\"",
        "model_verbosity=\"high",
        "model_verbosity=\"",
        "model_verbosity=",
        "model_verbosity=high # comment",
    ] {
        let message = check(&["model_verbosity=low", refused]).unwrap_err().to_string();
        let key = refused.split_once('=').unwrap().0;
        assert!(message.contains(&format!("config key {key:?}")) && message.contains("ceiling 'auto-edit'"), "{refused}: {message}");
    }
}

#[test]
fn a_profile_is_refused_below_full_auto() {
    let at = folders();
    let options = AgentOptions { profile: Some("work".into()), ..AgentOptions::default() };
    let message = ceiling(ApprovalPolicy::AutoEdit, &at).admit(&request(&at.project, ApprovalPolicy::Suggest, options)).unwrap_err();
    assert!(message.to_string().contains("profile \"work\"") && message.to_string().contains("ceiling 'auto-edit'"), "{message}");
}

#[test]
fn an_agent_that_may_write_is_kept_out_of_guarded_folders_and_read_only_ones_are_not() {
    let at = folders();
    let ceiling = ceiling(ApprovalPolicy::AutoEdit, &at);
    let inside_own = at.own.join("jobs");
    let inside_codex = at.codex.join("sessions");
    for folder in [&inside_own, &inside_codex] {
        std::fs::create_dir_all(folder).unwrap();
    }
    let linked = at.home.join("src/link-to-home");
    std::os::unix::fs::symlink(&at.home, &linked).unwrap();
    for (cwd, why) in [
        (PathBuf::from("/"), "root of the file system"),
        (at.home.clone(), "it is your home folder"),
        (linked.clone(), "it is your home folder"),
        (at.home.parent().unwrap().to_owned(), "it holds your home folder"),
        (at.own.clone(), "it is codex-async's own folder"),
        (inside_own.clone(), "inside codex-async's own folder"),
        (at.codex.clone(), "it is codex's configuration folder"),
        (inside_codex.clone(), "inside codex's configuration folder"),
    ] {
        let message = ceiling.admit(&request(&cwd, ApprovalPolicy::AutoEdit, AgentOptions::default())).unwrap_err().to_string();
        let shown = format!("{:?}", cwd.canonicalize().unwrap().display().to_string());
        assert!(message.contains(&shown) && message.contains(why) && message.contains("ceiling 'auto-edit'"), "{cwd:?}: {message}");
        ceiling.admit(&request(&cwd, ApprovalPolicy::Suggest, AgentOptions::default())).unwrap();
        // A custom agent's command decides what it does, whatever the policy.
        let custom = AgentSpec::Custom { name: "mine".into(), command: vec!["t".into(), "--".into(), "{prompt}".into()] };
        assert!(ceiling.admit(&StartRequest::new("p", &cwd, ApprovalPolicy::Suggest, custom).unwrap()).is_err(), "{cwd:?}");
    }
    ceiling.admit(&request(&at.project, ApprovalPolicy::AutoEdit, AgentOptions::default())).unwrap();
    ceiling.admit(&request(&at.home.join("src"), ApprovalPolicy::AutoEdit, AgentOptions::default())).unwrap();
}

#[test]
fn the_agents_folders_follow_their_environment_variables() {
    let at = folders();
    let elsewhere = at.home.join("src/codex-home");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let env = |name: &str| (name == "CODEX_HOME").then(|| elsewhere.clone());
    let ceiling = Ceiling::with_folders(ApprovalPolicy::AutoEdit, &at.own, Some(&at.home), &env);
    assert!(ceiling.admit(&request(&elsewhere, ApprovalPolicy::AutoEdit, AgentOptions::default())).is_err());
    ceiling.admit(&request(&at.codex, ApprovalPolicy::AutoEdit, AgentOptions::default())).unwrap();
}
