//! `i`: everything known about a job, as a document in the output's place — the
//! whole prompt, how it ended and why, its command line, agent, model, policy, times,
//! session, tokens, queue place, the follow-up chain, and its last message in full.

use crate::jobs::{JobId, JobMeta, JobRecord};

use crate::tui::model::app::App;
use crate::tui::model::document::{DetailFiles, DocKind, Document};
use crate::tui::model::filters::Shown;
use crate::tui::model::message::Effect;
use crate::tui::model::text;

/// The longest chain of follow-ups walked (a loop in hand-edited metas ends here).
const MAX_CHAIN: usize = 50;

impl App {
    pub(super) fn open_detail(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected.clone() else {
            self.flash = Some("no job selected".to_owned());
            return Vec::new();
        };
        self.detail_files = DetailFiles { id: Some(id.clone()), ..DetailFiles::default() };
        let text = self.detail_text(&id);
        self.document = Some(Document::new(DocKind::Detail(id.clone()), format!("detail of {id}"), text, true));
        vec![Effect::ReadDetail(id)]
    }

    /// Writes the detail view again (the job changed, or its files were read).
    pub(super) fn refresh_detail(&mut self) {
        let Some(id) = self.document.as_ref().and_then(|document| match &document.kind {
            DocKind::Detail(id) => Some(id.clone()),
            _ => None,
        }) else {
            return;
        };
        let text = self.detail_text(&id);
        if let Some(document) = self.document.as_mut().filter(|document| document.text != text) {
            document.replace_text(text);
        }
    }

    fn detail_text(&self, id: &JobId) -> String {
        let Some(record) = self.jobs.iter().find(|record| &record.id == id) else {
            return format!("Job {id} is gone (deleted).");
        };
        let meta = match &record.meta {
            Ok(meta) => meta,
            Err(reason) => return format!("Job {id}: corrupt\n\n{reason}"),
        };
        let files = Some(&self.detail_files).filter(|files| files.id.as_ref() == Some(id));
        let mut lines = vec![format!("Job {id} — {}", self.shown_status(record).word())];
        let mut field = |name: &str, value: String| {
            if !value.is_empty() {
                lines.push(format!("{name:<12}{}", text::sanitize(&value, 2000, false)));
            }
        };
        field("Status", status_line(meta));
        field("Note", meta.details.note.clone().unwrap_or_default());
        if self.shown_status(record) == Shown::Lost {
            field("Supervisor", "lost while its agent runs on: c cancels (ends the agent's processes)".to_owned());
        }
        field("Activity", meta.details.activity.clone().filter(|_| !meta.status.is_finished()).unwrap_or_default());
        let who = [
            Some(meta.details.agent.clone().unwrap_or_else(|| "codex".to_owned())),
            meta.details.model.clone(),
            meta.details.profile.clone().map(|profile| format!("profile {profile}")),
        ];
        field("Agent", who.into_iter().flatten().collect::<Vec<_>>().join(" · "));
        field("Policy", meta.approval_policy.clone());
        field("Folder", meta.cwd.clone());
        field("Command", meta.details.command.as_ref().map(|argv| shell_words(argv)).unwrap_or_default());
        field("Created", meta.details.created_at.map(|at| at.0.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default());
        field("Started", meta.started_at.map(|at| at.0.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default());
        let ran = crate::human::duration_text(text::run_seconds(meta, self.now));
        field("Finished", meta.finished_at.map(|at| format!("{} (ran {ran})", at.0.format("%Y-%m-%d %H:%M:%S UTC"))).unwrap_or_default());
        if meta.finished_at.is_none() && meta.started_at.is_some() {
            field("Running", ran);
        }
        field("Session", meta.details.session_id.clone().unwrap_or_default());
        field("Tokens", meta.details.usage.map(|usage| crate::human::usage_compact(&usage)).unwrap_or_default());
        for (name, value) in super::unattended::detail_fields(meta) {
            field(name, value);
        }
        // A hook that failed, how, and where what it said went.
        for failure in files.map_or(&[][..], |files| &files.hook_failures[..]) {
            field("Hook failed", failure.clone());
        }
        if let Some(files) = files.filter(|files| !files.hook_failures.is_empty()) {
            field("Hook output", files.hooks_log.clone());
        }
        if let Some(position) = self.queue_positions().get(id) {
            let limit =
                meta.details.queue_limit.or(self.queue_limit).map_or(String::new(), |limit| format!(" (at most {limit} run at once)"));
            field("Queue", format!("#{position} of the pending jobs{limit}"));
        }
        field("Git base", git_line(meta));
        field("Worktree", meta.details.worktree.clone().unwrap_or_default());
        field("Branch", worktree_branch_line(meta));
        field("Change", change_line(meta));
        field("Chain", self.chain(id, meta));
        field("Follow-ups", meta.details.follow_ups.join(", "));
        // The header has room only for "MCP off" at most widths: why is said here whole.
        if let crate::tui::model::app::McpState::Off(reason) = &self.mcp {
            field("MCP", format!("off: {reason}"));
        }
        lines.push(String::new());
        lines.push("Prompt".to_owned());
        let prompt = files.and_then(|files| files.prompt.as_deref()).unwrap_or(&meta.prompt);
        lines.extend(prompt.lines().map(|line| format!("  {line}")));
        if meta.prompt_file.is_some() && files.is_none_or(|files| files.prompt.is_none()) {
            lines.push("  (reading the whole prompt…)".to_owned());
        }
        lines.push(String::new());
        lines.push("Last message".to_owned());
        match files {
            Some(DetailFiles { last_message: Some(message), .. }) => lines.extend(message.lines().map(|line| format!("  {line}"))),
            Some(DetailFiles { read: true, .. }) => lines.push("  (none yet)".to_owned()),
            _ => lines.push("  (reading…)".to_owned()),
        }
        lines.join("\n")
    }

    /// `root → … → this ← follow-ups`: the jobs this one continues, as far as listed.
    fn chain(&self, id: &JobId, meta: &JobMeta) -> String {
        let mut ancestors = Vec::new();
        let mut parent = meta.details.parent_job_id.clone();
        while let Some(raw) = parent.take() {
            if ancestors.len() >= MAX_CHAIN || ancestors.contains(&raw) {
                break;
            }
            parent = self
                .jobs
                .iter()
                .find(|record| record.id.as_str() == raw)
                .and_then(|record: &JobRecord| record.meta.as_ref().ok())
                .and_then(|meta| meta.details.parent_job_id.clone());
            ancestors.push(raw);
        }
        if ancestors.is_empty() && meta.details.follow_ups.is_empty() {
            return String::new();
        }
        ancestors.reverse();
        ancestors.push(format!("[{id}]"));
        ancestors.extend(meta.details.follow_ups.iter().cloned());
        ancestors.join(" → ")
    }
}

fn status_line(meta: &JobMeta) -> String {
    let mut parts = vec![meta.status.to_string()];
    parts.extend(meta.exit_code.map(|code| format!("exit code {code}")));
    parts.extend(meta.details.signal.clone().map(|signal| format!("signal {signal}")));
    parts.extend(meta.details.cancel_reason.clone().map(|reason| format!("cancelled: {reason}")));
    parts.join(" · ")
}

fn worktree_branch_line(meta: &JobMeta) -> String {
    let Some(branch) = &meta.details.branch else { return String::new() };
    let base = meta.details.base_commit.as_deref().and_then(crate::jobs::ObjectId::parse);
    let mut line = match base {
        Some(base) => format!("{branch} (from {})", base.short()),
        None => branch.clone(),
    };
    if let (Some(group), Some(attempt)) = (&meta.details.attempt_group, meta.details.attempt) {
        line.push_str(&format!(" · attempt {attempt} of set {group}"));
    }
    line
}

fn change_line(meta: &JobMeta) -> String {
    let Some(change) = &meta.details.change else { return String::new() };
    let mut parts = vec![format!("{} · D shows it", change.summary())];
    parts.extend(meta.details.applied_at.map(|at| format!("applied {}", at.0.format("%Y-%m-%d %H:%M:%S UTC"))));
    parts.extend(meta.details.discarded_at.map(|at| format!("worktree discarded {}", at.0.format("%Y-%m-%d %H:%M:%S UTC"))));
    if change.patch_dropped {
        parts.push("the patch was too large to keep".to_owned());
    }
    parts.extend(change.problem.clone());
    parts.join(" · ")
}

fn git_line(meta: &JobMeta) -> String {
    let Some(recorded) = &meta.git_head else { return String::new() };
    let Some(head) = crate::jobs::ObjectId::parse(recorded) else { return "not a commit id: ignored".to_owned() };
    let short = head.short();
    match meta.git_dirty {
        Some(true) => format!("{short} (the tree had changes of its own already) · D shows the changes"),
        _ => format!("{short} · D shows the changes"),
    }
}

/// A command line as a person would type it (each argument quoted when it needs it).
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| {
            let plain = !arg.is_empty() && arg.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_./=:,@+%".contains(ch));
            if plain {
                arg.clone()
            } else if arg.chars().any(char::is_control) {
                // Lines and tabs as a shell writes them: $'…\n…'.
                let escaped: String = arg
                    .chars()
                    .map(|ch| match ch {
                        '\n' => "\\n".to_owned(),
                        '\t' => "\\t".to_owned(),
                        '\r' => "\\r".to_owned(),
                        '\'' => "\\'".to_owned(),
                        '\\' => "\\\\".to_owned(),
                        ch if ch.is_control() => format!("\\x{:02x}", u32::from(ch)),
                        ch => ch.to_string(),
                    })
                    .collect();
                format!("$'{escaped}'")
            } else {
                format!("'{}'", arg.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_what_needs_it() {
        let argv = ["codex", "exec", "--json", "fix it's bug", "", "two\nlines"].map(str::to_owned);
        assert_eq!(shell_words(&argv), "codex exec --json 'fix it'\\''s bug' '' $'two\\nlines'");
    }
}
