//! The table's filters and order — the status filter (`s`), the sort (`S`) — and the
//! states a row shows that a stored status does not say (starting, stopping, lost).

use crate::jobs::{JobMeta, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatusFilter {
    All,
    Running,
    Finished,
    Failed,
}

impl StatusFilter {
    const ALL: [StatusFilter; 4] = [StatusFilter::All, StatusFilter::Running, StatusFilter::Finished, StatusFilter::Failed];

    pub(crate) fn next(self) -> Self {
        Self::ALL[(Self::ALL.iter().position(|&filter| filter == self).unwrap_or(0) + 1) % Self::ALL.len()]
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Running => "running",
            StatusFilter::Finished => "finished",
            StatusFilter::Failed => "failed",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|filter| filter.name() == name)
    }

    /// Running: pending or running. Finished: ended in any way. Failed: error,
    /// cancelled or corrupt.
    pub(crate) fn accepts(self, meta: &Result<JobMeta, String>) -> bool {
        match (self, meta) {
            (StatusFilter::All, _) => true,
            (StatusFilter::Running, Ok(meta)) => !meta.status.is_finished(),
            (StatusFilter::Finished, Ok(meta)) => meta.status.is_finished(),
            (StatusFilter::Failed, Ok(meta)) => matches!(meta.status, Status::Error | Status::Cancelled),
            (StatusFilter::Failed, Err(_)) => true,
            (_, Err(_)) => false,
        }
    }
}

/// The table's order (`S` cycles it); ties go newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortKey {
    Newest,
    /// Running, pending, then failed, cancelled, done, corrupt.
    Status,
    /// By working folder.
    Cwd,
    /// Longest running (or ran) first.
    Duration,
}

impl SortKey {
    const ALL: [SortKey; 4] = [SortKey::Newest, SortKey::Status, SortKey::Cwd, SortKey::Duration];

    pub(crate) fn next(self) -> Self {
        Self::ALL[(Self::ALL.iter().position(|&key| key == self).unwrap_or(0) + 1) % Self::ALL.len()]
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            SortKey::Newest => "newest",
            SortKey::Status => "status",
            SortKey::Cwd => "cwd",
            SortKey::Duration => "duration",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.name() == name)
    }
}

/// What a row says of a job's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shown {
    Stored(Status),
    /// No meta yet, moments after its folder was made.
    Starting,
    /// Cancelled from here, not ended yet.
    Stopping,
    /// Its supervisor is gone while its agent runs on.
    Lost,
    Corrupt,
}

impl Shown {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Shown::Stored(status) => status.as_str(),
            Shown::Starting => "starting",
            Shown::Stopping => "stopping",
            Shown::Lost => "lost",
            Shown::Corrupt => "corrupt",
        }
    }
}
