//! Moving around the output pane: scrolling, following, search matches.

use super::app::App;
use super::message::Effect;
use super::pane::{Fetch, Search};

impl App {
    /// Scrolls the output by `lines` (negative: up). Scrolling up stops following.
    pub(super) fn scroll_output(&mut self, lines: i32) -> Vec<Effect> {
        let Some(job) = self.pane.job.clone() else { return Vec::new() };
        let (width, height) = super::layout::output_size(self);
        let bottom = super::layout::bottom_top(&self.pane, width, height);
        let current = if self.pane.follow { bottom } else { self.pane.top.min(bottom) };
        let wanted = current as i64 + i64::from(lines);
        if lines < 0 {
            self.pane.follow = false;
        }
        if self.pane.follow {
            return Vec::new();
        }
        self.pane.top = wanted.clamp(0, bottom as i64) as usize;
        let mut effects = Vec::new();
        if wanted < 0 && self.pane.has_older() && !self.pane.fetching {
            self.pane.fetching = true;
            effects.push(Effect::Fetch(Fetch::Older { job, before: self.pane.start() }));
        } else if wanted > bottom as i64 && !self.pane.at_file_end && !self.pane.fetching {
            self.pane.fetching = true;
            effects.push(Effect::Fetch(Fetch::Newer { job, after: self.pane.end }));
        }
        effects
    }

    pub(super) fn output_home(&mut self) -> Vec<Effect> {
        let Some(job) = self.pane.job.clone() else { return Vec::new() };
        self.pane.follow = false;
        self.pane.top = 0;
        if self.pane.has_older() {
            self.pane.fetching = true;
            return vec![Effect::Fetch(Fetch::Start { job })];
        }
        Vec::new()
    }

    pub(super) fn output_follow(&mut self) -> Vec<Effect> {
        let Some(job) = self.pane.job.clone() else { return Vec::new() };
        self.pane.follow = true;
        if !self.pane.at_file_end {
            self.pane.fetching = true;
            return vec![Effect::Fetch(Fetch::Tail { job })];
        }
        Vec::new()
    }

    pub(super) fn start_search(&mut self, query: String) -> Vec<Effect> {
        if query.is_empty() {
            self.pane.search = None;
            return Vec::new();
        }
        self.pane.search = Some(Search { query, ..Default::default() });
        self.pane.refresh_search();
        // Start from the newest match: the end is what a person was looking at.
        if let Some(search) = self.pane.search.as_mut() {
            search.current = search.matches.len().checked_sub(1);
        }
        self.show_current_match()
    }

    pub(super) fn jump_match(&mut self, forward: bool) -> Vec<Effect> {
        let Some(search) = self.pane.search.as_mut() else { return Vec::new() };
        if search.matches.is_empty() {
            self.flash = Some(format!("no match for {:?} in the loaded output", search.query));
            return Vec::new();
        }
        let count = search.matches.len();
        search.current = Some(match (search.current, forward) {
            (None, _) => count - 1,
            (Some(at), true) => (at + 1) % count,
            (Some(at), false) => (at + count - 1) % count,
        });
        self.show_current_match()
    }

    fn show_current_match(&mut self) -> Vec<Effect> {
        let Some(search) = &self.pane.search else { return Vec::new() };
        let Some(line) = search.current.and_then(|at| search.matches.get(at).copied()) else {
            self.flash = Some(format!("no match for {:?} in the loaded output", search.query));
            return Vec::new();
        };
        let (width, height) = super::layout::output_size(self);
        let bottom = super::layout::bottom_top(&self.pane, width, height);
        self.pane.follow = false;
        self.pane.top = line.saturating_sub(usize::from(height) / 2).min(bottom);
        Vec::new()
    }
}
