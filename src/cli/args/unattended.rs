//! Options of a job that runs unattended: what it waits for before it starts.

use std::time::Duration;

use clap::Args;

use crate::human::parse_duration;
use crate::jobs::{JobError, Schedule, Timestamp, parse_at};

#[derive(Debug, Clone, Default, Args)]
pub struct UnattendedArgs {
    /// Start only after these jobs have all ended done (ids, comma-separated or repeated);
    /// if one ends otherwise, this job is cancelled ("dependency failed") without running.
    #[arg(long, value_name = "ID[,ID…]", value_delimiter = ',')]
    pub after: Vec<String>,
    /// Start no sooner than this from now: seconds, or 90s, 20m, 2h.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "at")]
    pub delay: Option<Duration>,
    /// Start no sooner than this time: HH:MM (local; tomorrow once passed today) or RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Cancel the job (reason: over budget) once its tokens in + out pass N (0: none; default: the config's max_tokens).
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u64>,
    /// When a provider's usage limit stops the job, follow it up at the reset (config: resume_on_limit, resume_prompt, max_limit_waits).
    #[arg(long)]
    pub resume_on_limit: bool,
    /// A word to find the job by (`list --label`, the dashboard's `label:` filter); repeat it for more.
    #[arg(long, value_name = "LABEL")]
    pub label: Vec<String>,
    /// The named queue the job waits in, with its own limit ([groups.NAME] max_running in the config).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// Pending jobs of a group start highest priority first, ties in order of arrival (default 0).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub priority: Option<i64>,
}

impl UnattendedArgs {
    /// What the job waits for (its ids checked by the engine when it starts).
    pub fn schedule(&self) -> Result<Schedule, JobError> {
        let now = chrono::Utc::now();
        let not_before = match (&self.at, self.delay) {
            (Some(at), _) => Some(parse_at(at, now)?),
            (None, Some(delay)) if !delay.is_zero() => {
                let delay = chrono::Duration::from_std(delay).map_err(|_| JobError::BadRequest("--delay is too long".to_owned()))?;
                Some(Timestamp(now + delay))
            }
            _ => None,
        };
        let after = self.after.iter().map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect();
        Schedule { after, not_before, labels: self.label.clone(), group: self.group.clone(), priority: self.priority }.checked()
    }
}

/// `pause ID` and `resume ID`.
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The job: its id, or the start of exactly one id.
    pub job_id: String,
    /// Print the result as JSON: {"job_id", "status", "changed"} (and "message").
    #[arg(long)]
    pub json: bool,
}
