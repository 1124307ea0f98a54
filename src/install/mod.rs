//! `codex-async install CLIENT` and `uninstall CLIENT`: registering the server with an
//! MCP client by merging one entry into the client's own configuration file (and, on
//! request, the approvals that let it call the tools unattended).
//!
//! Every file is edited in place, keeping what else it holds byte for byte (comments
//! included); a backup of the old text goes beside it; nothing is written when any file
//! is malformed or holds an entry of ours that someone changed. What was changed is
//! remembered in `$CODEX_ASYNC_HOME/installs.json`, so `uninstall` gives back the file
//! as it was — or removes it, and its folders, when `install` made them.

mod client;
mod edit;
mod files;
mod json;
mod plan;
mod program;
mod record;
mod report;
mod restore;
mod secrets;
mod toml;

use std::path::{Path, PathBuf};

pub use client::{ASK_THE_USER, Client, Places, SERVER_NAME, Scope, TOKEN_VARIABLE, TOOLS};
pub use files::BACKUP_SUFFIX;
pub use plan::{CODEX_TOOL_TIMEOUT_SECS, Transport};
pub use program::{INSTALL_HINT, Program};
pub use record::RECORD_FILE;
pub use report::{Backup, FileReport, Report};

use client::{Format, show_path};
use edit::{Applied, ApplyError, Doc, Edit, Undone, show_key_path};
use files::Found;
use record::{Before, FileRecord, Records, finish};
use restore::Restore;
use secrets::{TOKEN_STAND_IN, known_token, make_token, secrets};

/// What was asked for on the command line.
#[derive(Clone, Debug)]
pub struct Request {
    pub client: Client,
    pub scope: Scope,
    pub http: bool,
    /// The file the server reads its token from (`serve --token-file`), when not the home's
    /// (with `http` only: the command line requires it).
    pub token_file: Option<PathBuf>,
    pub approve: bool,
    pub dry_run: bool,
    pub force: bool,
}

/// Where things are: this program, its home, the client's places, the HTTP port.
#[derive(Clone, Debug)]
pub struct Context {
    /// `$CODEX_ASYNC_HOME`.
    pub home: PathBuf,
    /// Whether `$CODEX_ASYNC_HOME` was set: a stdio entry then passes it on.
    pub home_from_env: bool,
    pub places: Places,
    /// The absolute path of the `codex-async` binary a client should start.
    pub program: PathBuf,
    /// The port of the HTTP endpoint (`port` in config.toml).
    pub port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Usage(String),
    #[error("{path}: line {line}, column {column}: {message}. Nothing was changed; fix the file first.")]
    Malformed { path: String, line: usize, column: usize, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Io(String),
}

/// A file's parsed content, JSON or TOML alike.
fn parse(format: Format, text: &str, path: &Path) -> Result<Box<dyn Doc>, InstallError> {
    let malformed = |line, column, message| InstallError::Malformed { path: path.display().to_string(), line, column, message };
    match format {
        Format::Toml => {
            toml::TomlDoc::parse(text).map(|doc| Box::new(doc) as Box<dyn Doc>).map_err(|err| malformed(err.line, err.column, err.message))
        }
        Format::Json | Format::Jsonc => json::JsonDoc::parse(text, format == Format::Jsonc)
            .map(|doc| Box::new(doc) as Box<dyn Doc>)
            .map_err(|err| malformed(err.line, err.column, err.message)),
    }
}

/// The format of a remembered file: the client's, else (a file the client no longer
/// keeps there) by its name, JSON read leniently since it is only taken from.
fn format_of(path: &Path, request: &Request, places: &Places) -> Format {
    if let Ok(files) = client::files(request.client, request.scope, places) {
        if files.servers == path {
            return files.servers_format;
        }
        if let Some((approvals, format)) = files.approvals
            && approvals == path
        {
            return format;
        }
    }
    if path.extension().is_some_and(|ext| ext == "toml") { Format::Toml } else { Format::Jsonc }
}

/// The client's setup; `token` is the one an HTTP entry carries.
fn setup(context: &Context, request: &Request, token: &str) -> Result<plan::Setup, InstallError> {
    let transport = if request.http {
        if context.port == 0 {
            return Err(InstallError::Usage(
                "the configured port is 0 (a free one picked at start): set `port` in config.toml to the one the server uses".to_owned(),
            ));
        }
        Transport::Http { url: format!("http://127.0.0.1:{}/mcp", context.port), token: token.to_owned() }
    } else {
        Transport::Stdio { command: context.program.clone(), home: context.home_from_env.then(|| context.home.clone()) }
    };
    Ok(plan::Setup { client: request.client, scope: request.scope, transport, approve: request.approve })
}

/// "Codex, user scope, over stdio"; the transport only for an install (uninstall takes
/// back whichever was written).
fn title(request: &Request, transport: bool) -> String {
    let scope = if request.client == Client::ClaudeDesktop { String::new() } else { format!(", {} scope", request.scope) };
    let over = if !transport {
        ""
    } else if request.http {
        ", over HTTP"
    } else {
        ", over stdio"
    };
    format!("{}{scope}{over}", request.client.title())
}

/// A file's change, computed before anything is written.
struct Pending {
    record: FileRecord,
    found: Found,
    after: Option<String>,
    /// Whether `record` is to be kept (not when `uninstall` had none and guessed).
    remember: bool,
    /// What becomes of the backup beside the file when it changes.
    backup: KeepBackup,
}

/// The backup beside a file holds what was there before the first install touched it:
/// made then, kept while install's changes are in the file, removed once `uninstall`
/// has taken them all out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeepBackup {
    /// The first change since no install touched the file: the old text is saved.
    Save,
    /// A later change: the backup of the first stays as it is.
    Keep,
    /// Uninstall took back everything: the backup is not needed any more.
    Remove,
}

/// A backup rule for a file an earlier install touched (`earlier`) or not.
fn backup_for_install(earlier: bool) -> KeepBackup {
    if earlier { KeepBackup::Keep } else { KeepBackup::Save }
}

/// Writes every pending change (unless a dry run) and what is to be remembered. A file
/// whose new text holds one of `secrets` is written private (see [`files::mode_for`]).
fn commit(
    pending: Vec<Pending>,
    records: &mut Records,
    context: &Context,
    secrets: &[String],
    dry_run: bool,
) -> Result<Vec<FileReport>, InstallError> {
    let io = |path: &Path, err: std::io::Error| InstallError::Io(format!("writing {}: {err}", path.display()));
    let before_records = records.clone();
    let mut reports = Vec::new();
    for Pending { mut record, found, after, remember, backup: rule } in pending {
        let mut backup = Backup::None;
        if after != found.text && !dry_run {
            match &after {
                Some(text) => {
                    if found.text.is_none() {
                        let dirs = files::missing_dirs(&found.target);
                        files::make_dirs(&dirs).map_err(|err| io(&found.target, err))?;
                        record.before = Before::Absent { created_dirs: dirs };
                    }
                    let holds_secret = secrets.iter().any(|secret| text.contains(secret.as_str()));
                    let mode = files::mode_for(found.mode, holds_secret, &mut record.shared_mode);
                    let saved = files::write(&found, text, mode, rule == KeepBackup::Save).map_err(|err| io(&found.target, err))?;
                    let beside = files::backup_path(&found.target);
                    backup = match (saved, rule) {
                        (Some(path), _) => Backup::Saved(path),
                        (None, KeepBackup::Keep) if beside.is_file() => Backup::Kept(beside),
                        (None, KeepBackup::Remove) => match files::remove_backup(&found.target).map_err(|err| io(&beside, err))? {
                            true => Backup::Removed(beside),
                            false => Backup::None,
                        },
                        (None, _) => Backup::None,
                    };
                }
                None => {
                    let dirs = match &record.before {
                        Before::Absent { created_dirs } => created_dirs.clone(),
                        _ => Vec::new(),
                    };
                    files::remove(&found, &dirs).map_err(|err| io(&found.target, err))?;
                }
            }
        }
        reports.push(FileReport { path: record.path.clone(), before: found.text.clone(), after, backup });
        if remember {
            records.put(record);
        }
    }
    if !dry_run && *records != before_records {
        records.save(&context.home).map_err(|err| io(&record::path(&context.home), err))?;
    }
    Ok(reports)
}

fn conflict_message(path: &Path, error: ApplyError, secrets: &[String], request: &Request) -> InstallError {
    match error {
        ApplyError::Conflict { path: key, found, ours_edited } => InstallError::Conflict(format!(
            "{}: {} {} ({}). Nothing was changed: `codex-async install {} --force` replaces it (and `uninstall` then puts it back).",
            path.display(),
            show_key_path(&key),
            if ours_edited {
                "was changed since codex-async install wrote it"
            } else {
                "exists already and was not written by codex-async install"
            },
            secrets::mask(&found.to_string(), secrets),
            request.client,
        )),
        ApplyError::Blocked { path: key, reason } => {
            InstallError::Conflict(format!("{}: cannot add {}: {reason}. Nothing was changed.", path.display(), show_key_path(&key)))
        }
    }
}

/// `original`, when it means exactly what `undone` (the syntax-tree undo) does: the bytes
/// from before install, which the undo alone may not give back (see [`restore`]).
fn checked_original(original: Option<String>, undone: &dyn Doc, format: Format, path: &Path) -> Option<String> {
    let original = original?;
    let parsed = parse(format, &original, path).ok()?;
    (parsed.get(&[]) == undone.get(&[])).then_some(original)
}

/// The text before the first install, when it can be told from `text`: the text itself
/// when no install touched the file yet, else what the record restores it to.
fn original_of(text: Option<&str>, earlier: Option<&FileRecord>) -> Option<String> {
    match (text, earlier) {
        (Some(text), None) => Some(text.to_owned()),
        (Some(text), Some(record)) => record.restore.as_ref()?.original(text),
        (None, _) => None,
    }
}

/// Registers codex-async with a client (see the module's doc).
pub fn install(context: &Context, request: &Request) -> Result<Report, InstallError> {
    let existing = known_token(&context.home, request.token_file.as_deref()).map_err(InstallError::Io)?;
    let token = match (&existing, request.http && !request.dry_run) {
        (Some(token), _) => token.clone(),
        (None, false) => TOKEN_STAND_IN.to_owned(),
        (None, true) => {
            // Every file is checked before the token is made: a mistake writes nothing.
            prepare(context, request, TOKEN_STAND_IN)?;
            make_token(&context.home).map_err(InstallError::Io)?
        }
    };
    let Prepared { pending, mut records, notes, secrets } = prepare(context, request, &token)?;
    let reports = commit(pending, &mut records, context, &secrets, request.dry_run)?;
    Ok(Report {
        title: title(request, true),
        files: reports,
        notes,
        left: Vec::new(),
        remarks: Vec::new(),
        secrets,
        dry_run: request.dry_run,
        user_home: context.places.home.clone(),
    })
}

/// An install worked out, nothing written yet.
struct Prepared {
    pending: Vec<Pending>,
    records: Records,
    notes: Vec<String>,
    secrets: Vec<String>,
}

/// Every file's change for an install, computed without writing anything.
fn prepare(context: &Context, request: &Request, token: &str) -> Result<Prepared, InstallError> {
    let files = client::files(request.client, request.scope, &context.places).map_err(InstallError::Usage)?;
    let setup = setup(context, request, token)?;
    let plan = plan::plan(&setup, &files).map_err(InstallError::Usage)?;
    let records = Records::load(&context.home).map_err(InstallError::Io)?;
    let secrets = secrets(&context.home, &records, request.http.then_some(token));
    // Files an earlier install changed that this one does not want: their changes are undone.
    let mut targets: Vec<(PathBuf, Format, Vec<Edit>)> =
        plan.files.iter().map(|file| (file.path.clone(), file.format, file.edits.clone())).collect();
    for earlier in records.of(request.client, request.scope) {
        if !targets.iter().any(|(path, ..)| *path == earlier.path) {
            targets.push((earlier.path.clone(), format_of(&earlier.path, request, &context.places), Vec::new()));
        }
    }
    let mut pending = Vec::new();
    for (path, format, edits) in targets {
        let found = files::read(&path).map_err(InstallError::Io)?;
        let earlier = records.find(&path).filter(|_| found.text.is_some()).cloned();
        let earlier_record = earlier.is_some();
        let mut doc = parse(format, found.text.as_deref().unwrap_or(""), &found.target)?;
        let owned = earlier.as_ref().map(|record| record.applied.clone()).unwrap_or_default();
        let applied = edit::apply(doc.as_mut(), &edits, &owned, request.force)
            .map_err(|err| conflict_message(&found.target, err, &secrets, request))?;
        let original = original_of(found.text.as_deref(), earlier.as_ref());
        let shared_mode = earlier.as_ref().and_then(|record| record.shared_mode);
        let before = earlier.map_or_else(|| Before::of(found.text.as_deref()), |record| record.before);
        let (after, restore) = if applied.is_empty() {
            // Nothing of install's is left in this file (`--approve` left out this time).
            let exact = checked_original(original, doc.as_ref(), format, &found.target);
            (exact.or_else(|| finish(doc.as_ref(), &before, true)), None)
        } else {
            let after = finish(doc.as_ref(), &before, false);
            let restore = original.zip(after.as_deref()).map(|(original, after)| Restore::between(&original, after));
            (after, restore)
        };
        let backup = backup_for_install(earlier_record);
        let record = FileRecord { client: request.client, scope: request.scope, path, before, applied, restore, shared_mode };
        pending.push(Pending { record, found, after, remember: true, backup });
    }
    Ok(Prepared { pending, records, notes: plan.notes, secrets })
}

/// Takes back what `install` did for this client and scope.
pub fn uninstall(context: &Context, request: &Request) -> Result<Report, InstallError> {
    let mut records = Records::load(&context.home).map_err(InstallError::Io)?;
    let remembered = records.of(request.client, request.scope);
    let mut notes = Vec::new();
    let mut secrets = secrets(&context.home, &records, None);
    let targets = if remembered.is_empty() {
        // No record (another CODEX_ASYNC_HOME, or registered by hand): remove what
        // install would write now, where it equals that exactly.
        let files = client::files(request.client, request.scope, &context.places).map_err(InstallError::Usage)?;
        let token = known_token(&context.home, request.token_file.as_deref())
            .map_err(InstallError::Io)?
            .unwrap_or_else(|| TOKEN_STAND_IN.to_owned());
        let setup = setup(context, request, &token)?;
        if let Transport::Http { token, .. } = &setup.transport
            && token != TOKEN_STAND_IN
            && !secrets.contains(token)
        {
            secrets.push(token.clone());
        }
        let plan = plan::plan(&setup, &files).map_err(InstallError::Usage)?;
        notes.push(format!(
            "{} has no record of an install for {} ({} scope): removing what install would write now, where it matches exactly.",
            record::path(&context.home).display(),
            request.client,
            request.scope
        ));
        plan.files
            .into_iter()
            .map(|file| FileRecord {
                client: request.client,
                scope: request.scope,
                before: Before::Content { trailing_newline: true },
                applied: file
                    .edits
                    .into_iter()
                    .map(|edit| match edit {
                        Edit::Entry { path, value } => Applied::Entry { path, value, created: 0, previous: None },
                        Edit::Items { path, items } => Applied::Items { path, items, created: 0 },
                    })
                    .collect(),
                path: file.path,
                restore: None,
                shared_mode: None,
            })
            .collect()
    } else {
        remembered.clone()
    };
    let mut pending = Vec::new();
    let mut left = Vec::new();
    let mut remarks = Vec::new();
    for mut record in targets {
        let found = files::read(&record.path).map_err(InstallError::Io)?;
        let Some(text) = &found.text else {
            if !remembered.is_empty() {
                remarks.push((
                    record.path.clone(),
                    format!("{} is gone; nothing to remove there.", show_path(&record.path, &context.places.home)),
                ));
            }
            record.applied.clear();
            pending.push(Pending { record, found, after: None, remember: !remembered.is_empty(), backup: KeepBackup::Remove });
            continue;
        };
        let format = format_of(&record.path, request, &context.places);
        let mut doc = parse(format, text, &found.target)?;
        let mut kept = Vec::new();
        for applied in record.applied.iter().rev() {
            match edit::undo(doc.as_mut(), applied, request.force) {
                Undone::Edited(applied) => {
                    left.push((
                        record.path.clone(),
                        format!(
                            "{}: {} {}; left as it is (`codex-async uninstall {} --force` removes it).",
                            show_path(&record.path, &context.places.home),
                            show_key_path(applied.path()),
                            if remembered.is_empty() {
                                "is not what codex-async install writes"
                            } else {
                                "was changed since codex-async install wrote it"
                            },
                            request.client
                        ),
                    ));
                    kept.insert(0, applied);
                }
                Undone::Missing(path) if !remembered.is_empty() => {
                    remarks.push((
                        record.path.clone(),
                        format!("{}: {} was removed already.", show_path(&record.path, &context.places.home), show_key_path(&path)),
                    ));
                }
                Undone::Removed(_) | Undone::Restored(_) | Undone::ItemsRemoved(..) | Undone::Missing(_) => {}
            }
        }
        let exact = match (&record.restore, kept.is_empty()) {
            (Some(restore), true) => checked_original(restore.original(text), doc.as_ref(), format, &found.target),
            _ => None,
        };
        let after = exact.or_else(|| finish(doc.as_ref(), &record.before, kept.is_empty()));
        // Without a record nothing says what the backup holds: this change gets its own.
        let backup = match (remembered.is_empty(), kept.is_empty()) {
            (true, _) => KeepBackup::Save,
            (false, true) => KeepBackup::Remove,
            (false, false) => KeepBackup::Keep,
        };
        record.applied = kept;
        record.restore = None;
        pending.push(Pending { record, found, after, remember: !remembered.is_empty(), backup });
    }
    let reports = commit(pending, &mut records, context, &secrets, request.dry_run)?;
    Ok(Report {
        title: title(request, false),
        files: reports,
        notes,
        left,
        remarks,
        secrets,
        dry_run: request.dry_run,
        user_home: context.places.home.clone(),
    })
}
