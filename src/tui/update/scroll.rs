//! Moving around the pane shown (the output or a document): by screen rows (a line
//! taller than the pane is read to its end), sideways without wrap, to the end, and to
//! search matches anywhere in the file.

use crate::tui::model::app::App;
use crate::tui::model::document::DocKind;
use crate::tui::model::layout;
use crate::tui::model::message::{Effect, LoaderCommand};
use crate::tui::model::pane::Fetch;
use crate::tui::model::search::{Matcher, Search};
use crate::tui::model::text;

/// Where the view goes sideways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sideways {
    Left,
    Right,
    Start,
    End,
}

impl App {
    /// Scrolls by `rows` screen rows (negative: up). Scrolling up stops following;
    /// going past the lines in memory reads more from the file.
    pub(super) fn scroll_output(&mut self, rows: i32) -> Vec<Effect> {
        let (width, height) = layout::output_size(self);
        let current = self.output_position();
        let pane = self.shown();
        let bottom = layout::bottom(pane, width, height);
        if rows < 0 {
            self.shown_mut().follow = false;
        }
        if self.shown().follow {
            return Vec::new();
        }
        let (moved, beyond) = layout::advance(self.shown(), current, i64::from(rows), width);
        let position = moved.min(bottom);
        let past_bottom = beyond > 0 || moved > bottom;
        let pane = self.shown_mut();
        (pane.top, pane.top_row) = position;
        let Some(job) = pane.job.clone() else { return Vec::new() };
        if pane.fetching {
            return Vec::new();
        }
        if beyond < 0 && pane.has_older() {
            pane.fetching = true;
            return vec![Effect::Load(LoaderCommand::Fetch(Fetch::Older { job, before: pane.start() }))];
        }
        if past_bottom && !pane.at_file_end {
            pane.fetching = true;
            return vec![Effect::Load(LoaderCommand::Fetch(Fetch::Newer { job, after: pane.end }))];
        }
        Vec::new()
    }

    /// ←/→ by half a screen, or to either end of the longest line on screen.
    pub(super) fn scroll_sideways(&mut self, to: Sideways) -> Vec<Effect> {
        if self.shown().wrap {
            self.flash = Some("lines wrap: w turns wrap off to scroll sideways".to_owned());
            return Vec::new();
        }
        let (width, height) = layout::output_size(self);
        let step = usize::from(width / 2).max(1);
        let (top, _) = self.output_position();
        let pane = self.shown();
        let widest =
            (top..top + usize::from(height)).filter_map(|index| pane.line(index)).map(|line| text::line_width(line, usize::MAX)).max();
        let pane = self.shown_mut();
        pane.left = match to {
            Sideways::Left => pane.left.saturating_sub(step),
            Sideways::Right => (pane.left + step).min(widest.unwrap_or(0).saturating_sub(1)),
            Sideways::Start => 0,
            Sideways::End => widest.unwrap_or(0).saturating_sub(usize::from(width)),
        };
        Vec::new()
    }

    pub(super) fn output_home(&mut self) -> Vec<Effect> {
        let pane = self.shown_mut();
        pane.follow = false;
        pane.top = 0;
        pane.top_row = 0;
        match pane.job.clone() {
            Some(job) if pane.has_older() => {
                pane.fetching = true;
                vec![Effect::Load(LoaderCommand::Fetch(Fetch::Start { job }))]
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn output_follow(&mut self) -> Vec<Effect> {
        let pane = self.shown_mut();
        pane.follow = true;
        match pane.job.clone() {
            Some(job) if !pane.at_file_end => {
                pane.fetching = true;
                vec![Effect::Load(LoaderCommand::Fetch(Fetch::Tail { job }))]
            }
            _ => Vec::new(),
        }
    }

    /// A search of what is shown: the lines in memory at once, and for the output the
    /// whole file on the loader thread. It goes to the first match at or after the
    /// cursor (the first line on screen), wrapping to the first of all; when the lines
    /// in memory cannot tell, the whole-file search decides as it reads.
    pub(super) fn start_search(&mut self, query: &str) -> Vec<Effect> {
        if query.is_empty() {
            self.shown_mut().search = None;
            return Vec::new();
        }
        let matcher = match Matcher::parse(query) {
            Ok(matcher) => matcher,
            Err(why) => {
                self.flash = Some(why);
                return Vec::new();
            }
        };
        let document = self.document.is_some();
        let (top, _) = self.output_position();
        let pane = self.shown_mut();
        let here = pane.offset_of(top).unwrap_or_else(|| pane.start());
        pane.search = Some(Search::new(matcher, 0));
        pane.refresh_search();
        let mut effects = if document { Vec::new() } else { self.search_file() };
        let pane = self.shown_mut();
        // Everything is in memory when the window holds the whole file.
        let whole = document || (!pane.has_older() && pane.at_file_end);
        let after = pane.match_offsets().find(|&offset| offset >= here);
        let first = match after {
            Some(offset) => Some(offset),
            None if whole => pane.match_offsets().next(),
            None => {
                if let Some(search) = pane.search.as_mut() {
                    search.anchor = Some(here);
                }
                return effects;
            }
        };
        if let Some(search) = pane.search.as_mut() {
            search.current = first;
        }
        match first {
            Some(offset) => effects.extend(self.show_offset(offset)),
            None => self.flash = Some(format!("no match for {query:?}")),
        }
        effects
    }

    /// Asks the loader to search the followed job's whole file for the pane's search.
    pub(crate) fn search_file(&mut self) -> Vec<Effect> {
        let (Some(job), Some(search)) = (self.pane.job.clone(), self.pane.search.as_mut()) else { return Vec::new() };
        self.search_count += 1;
        *search = Search::new(search.matcher.clone(), self.search_count);
        self.pane.refresh_search();
        let matcher = self.pane.search.as_ref().map(|search| search.matcher.clone());
        matcher.map(|matcher| Effect::Load(LoaderCommand::Search { job, id: self.search_count, matcher })).into_iter().collect()
    }

    pub(super) fn jump_match(&mut self, forward: bool) -> Vec<Effect> {
        let pane = self.shown();
        let Some(search) = &pane.search else {
            self.flash = Some("no search on: / searches the output".to_owned());
            return Vec::new();
        };
        let offsets = search.all_offsets(pane.match_offsets());
        if offsets.is_empty() {
            let place = if search.done { "" } else { " yet (still searching)" };
            self.flash = Some(format!("no match for {:?}{place}", search.query()));
            return Vec::new();
        }
        // With no current match yet, the first line on screen is the cursor, and a match
        // on it is the next one.
        let (here, next_from) = match search.current {
            Some(current) => (current, current + 1),
            None => {
                let top = pane.offset_of(self.output_position().0).unwrap_or(0);
                (top, top)
            }
        };
        let next = if forward {
            offsets.iter().copied().find(|&offset| offset >= next_from).unwrap_or(offsets[0])
        } else {
            offsets.iter().rev().copied().find(|&offset| offset < here).unwrap_or(offsets[offsets.len() - 1])
        };
        if let Some(search) = self.shown_mut().search.as_mut() {
            search.current = Some(next);
            search.anchor = None;
        }
        self.show_offset(next)
    }

    /// Shows the line that starts at `offset`: in memory, in the middle of the pane;
    /// else the loader reads the lines around it first.
    pub(super) fn show_offset(&mut self, offset: u64) -> Vec<Effect> {
        let (width, height) = layout::output_size(self);
        let pane = self.shown_mut();
        pane.follow = false;
        match pane.index_of(offset) {
            Some(index) => {
                pane.jump_to = None;
                let bottom = layout::bottom(pane, width, height);
                (pane.top, pane.top_row) = (index.saturating_sub(usize::from(height) / 2), 0).min(bottom);
                Vec::new()
            }
            None => match pane.job.clone() {
                Some(job) => {
                    pane.jump_to = Some(offset);
                    pane.fetching = true;
                    vec![Effect::Load(LoaderCommand::Fetch(Fetch::Around { job, offset }))]
                }
                None => Vec::new(),
            },
        }
    }

    /// The window moved to where a jump asked: show the line.
    pub(super) fn after_jump(&mut self) -> Vec<Effect> {
        match self.pane.jump_to.take() {
            Some(offset) if self.document.is_none() && self.pane.index_of(offset).is_some() => self.show_offset(offset),
            _ => Vec::new(),
        }
    }

    /// Reads the first cut line on screen whole.
    pub(super) fn open_whole_line(&mut self) -> Vec<Effect> {
        match (self.pane.job.clone(), self.cut_line_on_screen()) {
            (Some(job), Some(offset)) => {
                self.flash = Some("reading the whole line…".to_owned());
                vec![Effect::Load(LoaderCommand::Fetch(Fetch::WholeLine { job, offset }))]
            }
            _ => {
                self.flash = Some("no cut line on screen (a cut line ends in \"… (N more bytes on this line)\")".to_owned());
                Vec::new()
            }
        }
    }

    /// A line read whole, shown as a document in whole rows.
    pub(super) fn show_whole_line(&mut self, job: crate::jobs::JobId, offset: u64, text: &str, total: u64) {
        if self.pane.job.as_ref() != Some(&job) {
            return;
        }
        let (width, _) = layout::output_size(self);
        let pieces = crate::tui::model::document::line_pieces(text, usize::from(width.max(1)) * 16);
        let shown = text.len() as u64;
        let title = if shown < total {
            format!("line at byte {offset} of {job} ({shown} of {total} bytes)")
        } else {
            format!("line at byte {offset} of {job} ({total} bytes)")
        };
        let mut document = crate::tui::model::document::Document::new(DocKind::Line { job, offset }, title, pieces, true);
        document.pane.wrap = true;
        self.document = Some(document);
        self.flash = None;
    }
}
