//! Other hosts' jobs, as each host's task reports them (`crate::hosts::watch`): shown
//! in the hosts view (`H`) among this machine's newest, each host's state above the
//! rows, the selected job's last lines (or its change) below. A host's rows stay while
//! it cannot be reached (its jobs run on there).

use crate::hosts::watch::{HostLink, WatchEvent};
use crate::jobs::ListView;

/// One configured host, as last heard (or this machine, `local`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct HostPanel {
    pub(crate) name: String,
    pub(crate) link: HostLink,
    /// Its jobs, newest first, ids as `NAME:ID`.
    pub(crate) rows: Vec<ListView>,
}

impl HostPanel {
    pub(crate) fn reachable(&self) -> bool {
        !matches!(self.link, HostLink::Unreachable { .. })
    }
}

/// The most of this machine's jobs the hosts view shows (the newest; the main table
/// has them all).
pub(crate) const LOCAL_ROWS: usize = 500;

/// The hosts view's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Hosts {
    /// The configured hosts.
    pub(crate) panels: Vec<HostPanel>,
    /// This machine's newest jobs (ids as `local:ID`), among the hosts' in the view.
    pub(crate) local: HostPanel,
    /// Every row together, newest first (a job not started yet first of all): (host,
    /// row) indices, `None` for this machine. A job started anywhere comes in at the top.
    order: Vec<(Option<usize>, usize)>,
    /// The person chose the selected row; until then the first row is selected.
    chosen: bool,
    /// The selected job (`NAME:ID`): kept by id as rows come and go.
    pub(crate) selected: Option<String>,
    /// What `c`, `a` or `x` asked to do to this job: `y` does it on its host.
    pub(crate) asking: Option<(HostAct, String)>,
    /// The selected job's last lines, as its host gave them.
    pub(crate) output: Option<(String, String)>,
    /// The selected job's change (`D`), shown instead of its output until the selection
    /// moves: the job, and the text (none while it is asked for).
    pub(crate) change: Option<(String, Option<String>)>,
    /// A job started from here on a host: selected once its host lists it.
    pub(crate) wanted: Option<String>,
}

/// What the hosts view does to a job on its host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostAct {
    Cancel,
    Apply,
    Discard,
    /// Read its change.
    Diff,
}

impl HostAct {
    /// The question asked before it is done (`None`: done at once).
    pub(crate) fn question(self, job: &str) -> Option<String> {
        match self {
            HostAct::Cancel => Some(format!("Cancel job {job} on its host?")),
            HostAct::Apply => Some(format!("Apply job {job}'s change to its folder on its host?")),
            HostAct::Discard => Some(format!("Discard job {job}'s worktree and branch on its host?")),
            HostAct::Diff => None,
        }
    }

    /// What the footer says while it is done.
    pub(crate) fn doing(self) -> &'static str {
        match self {
            HostAct::Cancel => "cancelling",
            HostAct::Apply => "applying",
            HostAct::Discard => "discarding",
            HostAct::Diff => "reading the change of",
        }
    }
}

impl Hosts {
    pub(crate) fn new(names: impl IntoIterator<Item = String>) -> Self {
        let panels = names.into_iter().map(|name| HostPanel { name, link: HostLink::Connecting, rows: Vec::new() }).collect();
        Hosts { panels, ..Hosts::default() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.panels.is_empty()
    }

    /// Whether what the view shows changes with time: a running job's age, the
    /// countdown to trying a host again.
    pub(crate) fn ticking(&self) -> bool {
        self.panels.iter().any(|panel| {
            matches!(panel.link, HostLink::Unreachable { .. } | HostLink::Connecting)
                || panel.rows.iter().any(|row| matches!(row.status.as_str(), "running" | "pending"))
        })
    }

    /// Whether the header counts down to trying a host again.
    pub(crate) fn counting_down(&self) -> bool {
        self.panels.iter().any(|panel| matches!(panel.link, HostLink::Unreachable { .. }))
    }

    fn panel(&self, panel: Option<usize>) -> &HostPanel {
        panel.map_or(&self.local, |panel| &self.panels[panel])
    }

    /// Every row, newest first, with its host.
    pub(crate) fn rows(&self) -> impl Iterator<Item = (&HostPanel, &ListView)> {
        self.order.iter().map(|&(panel, row)| (self.panel(panel), &self.panel(panel).rows[row]))
    }

    fn reorder(&mut self) {
        let local = (0..self.local.rows.len()).map(|row| (None, row));
        let hosts = self.panels.iter().enumerate().flat_map(|(panel, host)| (0..host.rows.len()).map(move |row| (Some(panel), row)));
        let mut order: Vec<(Option<usize>, usize)> = local.chain(hosts).collect();
        // Stable: a host's own order (newest first) stands among equals.
        order.sort_by_key(|&(panel, row)| std::cmp::Reverse(self.panel(panel).rows[row].started_at.map(|started| started.0)));
        order.sort_by_key(|&(panel, row)| self.panel(panel).rows[row].started_at.is_some());
        self.order = order;
    }

    /// This machine's newest jobs, as the main table has them; whether the selection
    /// changed.
    pub(crate) fn set_local(&mut self, rows: Vec<ListView>) -> bool {
        self.local = HostPanel { name: crate::config::LOCAL_HOST.to_owned(), link: HostLink::Connected { version: None }, rows };
        self.reorder();
        self.keep_selection()
    }

    pub(crate) fn selected_index(&self) -> Option<usize> {
        let selected = self.selected.as_deref()?;
        self.rows().position(|(_, row)| row.job_id == selected)
    }

    pub(crate) fn selected_row(&self) -> Option<(&HostPanel, &ListView)> {
        let selected = self.selected.as_deref()?;
        self.rows().find(|(_, row)| row.job_id == selected)
    }

    /// Takes in what a host's task said; whether the selection changed (a job to follow).
    pub(crate) fn heard(&mut self, event: WatchEvent) -> bool {
        match event {
            WatchEvent::Link { host, link } => {
                if let Some(panel) = self.panels.iter_mut().find(|panel| panel.name == host) {
                    panel.link = link;
                }
                false
            }
            WatchEvent::Rows { host, rows } => {
                if let Some(panel) = self.panels.iter_mut().find(|panel| panel.name == host) {
                    panel.rows = rows;
                }
                self.reorder();
                let listed = self.wanted.as_ref().is_some_and(|wanted| self.rows().any(|(_, row)| row.job_id == *wanted));
                if listed && let Some(wanted) = self.wanted.take() {
                    let changed = self.selected.as_ref() != Some(&wanted);
                    self.select(wanted);
                    return changed;
                }
                self.keep_selection()
            }
            WatchEvent::Output { job, text } => {
                if self.selected.as_deref() == Some(job.as_str()) {
                    self.output = Some((job, text));
                }
                false
            }
        }
    }

    /// Selects the first row while the person has chosen none, or when the chosen one
    /// went; whether the selection changed.
    pub(crate) fn keep_selection(&mut self) -> bool {
        if self.chosen && self.selected_index().is_some() {
            return false;
        }
        self.chosen = false;
        let first = self.rows().next().map(|(_, row)| row.job_id.clone());
        let changed = first != self.selected;
        if changed {
            self.selected = first;
            self.output = None;
            self.change = None;
        }
        changed
    }

    /// Chooses job `job` (`NAME:ID`).
    fn select(&mut self, job: String) {
        self.chosen = true;
        if self.selected.as_ref() != Some(&job) {
            self.output = None;
            self.change = None;
        }
        self.selected = Some(job);
    }

    /// Moves the selection `by` rows; whether it moved.
    pub(crate) fn move_by(&mut self, by: isize) -> bool {
        let count = self.rows().count();
        if count == 0 {
            return false;
        }
        let at = self.selected_index().unwrap_or(0);
        let to = at.saturating_add_signed(by).min(count - 1);
        let Some(job) = self.rows().nth(to).map(|(_, row)| row.job_id.clone()) else { return false };
        if Some(&job) == self.selected.as_ref() {
            return false;
        }
        self.select(job);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of a job that started `ago` seconds before a fixed moment (none: pending).
    fn row(id: &str, status: &str, ago: Option<i64>) -> ListView {
        let started =
            ago.map(|ago| (chrono::DateTime::<chrono::Utc>::UNIX_EPOCH + chrono::Duration::seconds(1_800_000_000 - ago)).to_rfc3339());
        serde_json::from_value(serde_json::json!({"job_id": id, "status": status, "prompt": "p", "cwd": "/", "started_at": started,
            "finished_at": null, "exit_code": null}))
        .unwrap()
    }

    #[test]
    fn every_hosts_rows_are_newest_first_and_the_selection_follows_its_job() {
        let mut hosts = Hosts::new(["box".to_owned(), "gpu".to_owned()]);
        hosts.heard(WatchEvent::Rows { host: "gpu".into(), rows: vec![row("gpu:c3", "running", Some(50))] });
        assert_eq!(hosts.selected.as_deref(), Some("gpu:c3"));
        // Until a row is chosen, the first (the newest) is selected, from any host.
        assert!(hosts.heard(WatchEvent::Rows {
            host: "box".into(),
            rows: vec![row("box:a1", "running", Some(10)), row("box:b2", "done", Some(900))]
        }));
        assert_eq!(hosts.selected.as_deref(), Some("box:a1"));
        let order: Vec<&str> = hosts.rows().map(|(_, row)| row.job_id.as_str()).collect();
        assert_eq!(order, ["box:a1", "gpu:c3", "box:b2"], "newest first across hosts");
        assert!(hosts.heard(WatchEvent::Rows {
            host: "gpu".into(),
            rows: vec![row("gpu:d4", "pending", None), row("gpu:c3", "running", Some(50))]
        }));
        assert_eq!(hosts.selected.as_deref(), Some("gpu:d4"), "a job not started yet comes first");
        // Chosen, the selection stays with its job as rows come in above it.
        assert!(hosts.move_by(2));
        assert_eq!(hosts.selected.as_deref(), Some("gpu:c3"));
        assert!(!hosts.heard(WatchEvent::Rows {
            host: "box".into(),
            rows: vec![row("box:e5", "running", Some(1)), row("box:a1", "running", Some(10)), row("box:b2", "done", Some(900))]
        }));
        assert_eq!(hosts.selected.as_deref(), Some("gpu:c3"));
        assert!(hosts.move_by(10));
        assert_eq!(hosts.selected.as_deref(), Some("box:b2"), "as far as the last row");
        assert!(!hosts.move_by(1), "the last row stays selected");
        // Output for another job than the selected one is not shown.
        hosts.heard(WatchEvent::Output { job: "box:a1".into(), text: "old".into() });
        assert_eq!(hosts.output, None);
        hosts.heard(WatchEvent::Output { job: "box:b2".into(), text: "new".into() });
        assert_eq!(hosts.output.as_ref().map(|(_, text)| text.as_str()), Some("new"));
        // The chosen job went: the first row is selected again.
        assert!(hosts.heard(WatchEvent::Rows { host: "box".into(), rows: vec![row("box:e5", "running", Some(1))] }));
        assert_eq!(hosts.selected.as_deref(), Some("gpu:d4"));
        assert_eq!(hosts.output, None);
    }
}
