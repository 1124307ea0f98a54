//! Hooks: programs of the user's (`[hooks]` in config.toml) told when a job starts or
//! ends — a phone, a desktop notice, a chat message.
//!
//! A hook is fired by whoever records the event, right after recording it: the job's
//! supervisor (its start, its result), or the process that records the end of a job whose
//! supervisor is gone (under the job's lock) or of a pending job cancelled before it
//! started (under the queue's lock). Each event is recorded once, so each hook fires once;
//! nothing else has to run. The event is recorded first, so a hook never changes it.
//!
//! Only trusted values reach a hook's argv: `{job_id}` (checked), `{status}` (one of five
//! words), `{exit_code}` (a number) and `{agent}` (a checked name). Prompts and output are
//! untrusted: they come on the hook's stdin, as the job's `poll --json` view.
//!
//! Firing costs the recorder one spawn: a detached runner (this binary's hidden
//! `__hook` command, see [`runner`]) starts the hook in its own process group, feeds its
//! stdin, ends it at its timeout and writes what happened to the job folder's
//! `hooks.log` and `hook_<event>.json`, which poll shows when the hook failed.

pub mod owed;
pub mod runner;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::atomic::{self, Durability};
use crate::jobs::record::id::JobId;
use crate::jobs::record::jobfile;
use crate::jobs::record::meta::JobMeta;
use crate::jobs::store::JobStore;

/// The hidden subcommand that runs one hook.
pub const HOOK_COMMAND: &str = "__hook";
/// The environment variable that names the event to the hook.
pub const EVENT_ENV: &str = "CODEX_ASYNC_HOOK_EVENT";
/// A hook still running after this long is killed (`hook_timeout` changes it).
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// The log every hook of a job writes to, in its folder.
pub const HOOKS_LOG: &str = "hooks.log";

/// When a hook fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookEvent {
    /// The job's agent started.
    OnStart,
    /// The job's result is recorded (done, error or cancelled).
    OnFinish,
}

impl HookEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::OnStart => "on_start",
            HookEvent::OnFinish => "on_finish",
        }
    }

    /// The event a record names (`hooks_owed`).
    pub fn named(name: &str) -> Option<HookEvent> {
        [HookEvent::OnStart, HookEvent::OnFinish].into_iter().find(|event| event.as_str() == name)
    }

    /// The file that says how the hook of this event ended.
    pub fn result_file(self) -> String {
        format!("hook_{}.json", self.as_str())
    }
}

/// The `[hooks]` table: an argv per event (no shell), and how long a hook may run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hooks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_start: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_finish: Option<Vec<String>>,
}

impl Hooks {
    /// Checks the argvs: each starts with a program, and names only known placeholders.
    pub fn check(&self) -> Result<(), String> {
        for (event, argv) in [("on_start", &self.on_start), ("on_finish", &self.on_finish)] {
            let Some(argv) = argv else { continue };
            if argv.first().is_none_or(|program| program.trim().is_empty() || program.contains('{')) {
                return Err(format!("{event}: the command must start with the program to run"));
            }
            for arg in argv {
                let mut rest = arg.as_str();
                while let Some(open) = rest.find('{') {
                    let after = &rest[open + 1..];
                    let Some(close) = after.find('}') else { break };
                    let name = &after[..close];
                    if !PLACEHOLDERS.contains(&name) {
                        return Err(format!(
                            "{event}: unknown placeholder {{{name}}}; the known ones are {{job_id}}, {{status}}, {{exit_code}}, {{agent}}"
                        ));
                    }
                    rest = &after[close + 1..];
                }
            }
        }
        Ok(())
    }

    fn argv(&self, event: HookEvent) -> Option<&Vec<String>> {
        match event {
            HookEvent::OnStart => self.on_start.as_ref(),
            HookEvent::OnFinish => self.on_finish.as_ref(),
        }
    }
}

const PLACEHOLDERS: [&str; 4] = ["job_id", "status", "exit_code", "agent"];

/// The hooks of a home and their timeout, as its config.toml says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HookSet {
    pub hooks: Hooks,
    pub timeout: Duration,
}

/// Only what hooks need from config.toml; every other key is the config's business.
#[derive(Deserialize)]
struct HooksOnly {
    #[serde(default)]
    hooks: Option<Hooks>,
    #[serde(default)]
    hook_timeout: Option<toml::Value>,
}

impl HookSet {
    /// Reads `[hooks]` and `hook_timeout` from the home's config.toml. A file that is
    /// missing, unreadable or wrong gives no hooks (the config command names the mistake).
    pub fn load(home: &Path) -> HookSet {
        let Ok(text) = std::fs::read_to_string(home.join("config.toml")) else { return HookSet::default() };
        match Self::parse(&text) {
            Ok(set) => set,
            Err(err) => {
                tracing::warn!(%err, "config.toml's hooks are not usable; no hook runs");
                HookSet::default()
            }
        }
    }

    pub fn parse(text: &str) -> Result<HookSet, String> {
        let only: HooksOnly = toml::from_str(text).map_err(|err| err.message().to_owned())?;
        let hooks = only.hooks.unwrap_or_default();
        hooks.check()?;
        let timeout = match only.hook_timeout {
            None => DEFAULT_HOOK_TIMEOUT,
            Some(toml::Value::Integer(seconds)) => Duration::from_secs(u64::try_from(seconds).map_err(|_| "hook_timeout is negative")?),
            Some(toml::Value::String(text)) => {
                seconds_of(&text).ok_or_else(|| format!("hook_timeout {text:?}: give seconds or 30s, 2m, 1h"))?
            }
            Some(_) => return Err("hook_timeout: expected a duration".to_owned()),
        };
        Ok(HookSet { hooks, timeout: if timeout.is_zero() { DEFAULT_HOOK_TIMEOUT } else { timeout } })
    }
}

/// `30`, `30s`, `2m`, `1h`, `0.5s` (the config command checks the text with the full
/// duration parser; the engine reads it without the people's formatters).
fn seconds_of(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let factor = match unit.trim() {
        "ms" => 0.001,
        "s" | "" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let value: f64 = number.trim().parse().ok()?;
    Duration::try_from_secs_f64(value * factor).ok()
}

/// The hooks of the home this process serves, read once, when first needed.
static LOADED: OnceLock<(std::path::PathBuf, HookSet)> = OnceLock::new();

fn hooks_of(home: &Path) -> HookSet {
    let (loaded_home, set) = LOADED.get_or_init(|| (home.to_owned(), HookSet::load(home)));
    // A process that serves another home (tests) reads that one's.
    if loaded_home == home { set.clone() } else { HookSet::load(home) }
}

/// A name fit for an argv: an agent's name as config.toml allows it.
fn checked_name(name: Option<&str>) -> &str {
    match name {
        Some(name) if !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            name
        }
        _ => "unknown",
    }
}

/// The argv with the job's trusted facts in place of the placeholders.
pub fn fill(argv: &[String], id: &JobId, meta: &JobMeta) -> Vec<String> {
    let exit_code = meta.exit_code.map(|code| code.to_string()).unwrap_or_default();
    let agent = checked_name(meta.details.agent.as_deref());
    argv.iter()
        .map(|arg| {
            arg.replace("{job_id}", id.as_str())
                .replace("{status}", meta.status.as_str())
                .replace("{exit_code}", &exit_code)
                .replace("{agent}", agent)
        })
        .collect()
}

/// What the recorder hands the runner on its stdin.
#[derive(Debug, Serialize, Deserialize)]
pub struct HookRun {
    pub job_id: String,
    pub event: HookEvent,
    pub argv: Vec<String>,
    pub timeout_ms: u64,
    /// The job's poll view, for the hook's stdin.
    pub view: serde_json::Value,
}

/// Fires `event`'s hook for job `id`, whose record `meta` was just written: starts the
/// runner and returns (a thread reaps it, so a long-lived recorder keeps no zombie).
pub fn fire(store: &JobStore, id: &JobId, meta: &JobMeta, event: HookEvent) {
    let set = hooks_of(store.home());
    let Some(argv) = set.hooks.argv(event) else { return };
    let output = store.tail(id, crate::jobs::output::tail::TAIL_LINES, crate::jobs::output::tail::MAX_OUTPUT_CHARS).unwrap_or_default();
    let view = crate::jobs::view::PollView::new(meta.clone(), output, store.last_message(id));
    let run = HookRun {
        job_id: id.to_string(),
        event,
        argv: fill(argv, id, meta),
        timeout_ms: u64::try_from(set.timeout.as_millis()).unwrap_or(u64::MAX),
        view: serde_json::to_value(&view).unwrap_or_default(),
    };
    if let Err(err) = launch(store, &run) {
        tracing::warn!(job = %id, event = event.as_str(), %err, "could not run the hook");
        record(&store.job_dir(id), event, false, &format!("could not be run: {err}"));
    }
}

fn launch(store: &JobStore, run: &HookRun) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    let payload = serde_json::to_vec(run).map_err(std::io::Error::other)?;
    let program = crate::jobs::process::this_program().map_err(std::io::Error::other)?;
    let mut child = Command::new(program)
        .arg(HOOK_COMMAND)
        .env("CODEX_ASYNC_HOME", store.home())
        .env_remove(crate::jobs::process::marker::JOB_ENV)
        .env_remove("CODEX_ASYNC_TOKEN")
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(&payload));
    // Reaped by whoever is its parent when it ends: this thread, or (the recorder gone)
    // the process that adopts it.
    let _ = std::thread::Builder::new().name("hook-reaper".into()).spawn(move || child.wait());
    written.unwrap_or(Ok(()))
}

/// How a hook ended, kept in the job folder.
#[derive(Debug, Serialize, Deserialize)]
pub struct HookResult {
    pub ok: bool,
    pub detail: String,
}

/// Writes how a hook ended, and a line of it to the job's `hooks.log`.
pub fn record(folder: &Path, event: HookEvent, ok: bool, detail: &str) {
    let result = HookResult { ok, detail: detail.to_owned() };
    if let Ok(bytes) = serde_json::to_vec(&result) {
        let _ = atomic::write(&folder.join(event.result_file()), &bytes, Durability::Quick);
    }
    if let Ok(mut log) = jobfile::open_append(&folder.join(HOOKS_LOG)) {
        let _ = writeln!(log, "codex-async: {} hook {detail}", event.as_str());
    }
}

/// A hook that failed, as poll shows it: `on_finish: exit status 3`.
pub fn failures(store: &JobStore, id: &JobId) -> Vec<String> {
    [HookEvent::OnStart, HookEvent::OnFinish]
        .into_iter()
        .filter_map(|event| {
            let path = store.job_dir(id).join(event.result_file());
            let bytes = jobfile::read_capped(&path, 4096).ok()?;
            let result: HookResult = serde_json::from_slice(&bytes).ok()?;
            (!result.ok).then(|| format!("{}: {}", event.as_str(), result.detail.chars().take(200).collect::<String>()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_take_only_trusted_facts() {
        let meta = JobMeta::from_json(
            br#"{"job_id":"0123abcd","status":"error","prompt":"{job_id} $(rm -rf ~)","cwd":"/","exit_code":3,"agent":"evil; rm"}"#,
        )
        .unwrap();
        let id = JobId::parse("0123abcd").unwrap();
        let argv: Vec<String> = ["notify", "{job_id} {status}", "code={exit_code}", "{agent}"].map(String::from).to_vec();
        assert_eq!(fill(&argv, &id, &meta), ["notify", "0123abcd error", "code=3", "unknown"]);
    }

    #[test]
    fn the_table_is_checked() {
        let set = HookSet::parse("max_running = 2\nhook_timeout = \"2s\"\n[hooks]\non_finish = [\"notify-send\", \"{job_id}\"]\n").unwrap();
        assert_eq!(set.timeout, Duration::from_secs(2));
        assert_eq!(set.hooks.on_finish.as_deref(), Some(&["notify-send".to_owned(), "{job_id}".to_owned()][..]));
        assert!(HookSet::parse("[hooks]\non_start = [\"x\", \"{prompt}\"]\n").unwrap_err().contains("unknown placeholder"));
        assert!(HookSet::parse("[hooks]\non_start = [\"{job_id}\"]\n").unwrap_err().contains("program"));
        assert!(HookSet::parse("[hooks]\non_stop = [\"x\"]\n").is_err());
        assert_eq!(HookSet::parse("").unwrap().timeout, DEFAULT_HOOK_TIMEOUT);
    }
}
