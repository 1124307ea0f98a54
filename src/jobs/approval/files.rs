//! The request and answer files of a job's folder (see the module above).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::types::{Answered, ApprovalAnswer, ApprovalRequest, Decision, PendingApproval, now};
use crate::jobs::error::{JobError, Result};
use crate::jobs::record::id::JobId;
use crate::jobs::record::jobfile::read_capped;

const PREFIX: &str = "approval-";
const ANSWER_SUFFIX: &str = ".answer.json";
const REQUEST_SUFFIX: &str = ".json";
/// A request carries a file's whole new text at most this long.
const MAX_REQUEST_BYTES: u64 = 4 * 1024 * 1024;
const MAX_ANSWER_BYTES: u64 = 64 * 1024;
/// A job asks at most this many times; past it, a request is denied without asking.
pub const MAX_REQUESTS: u32 = 10_000;

fn request_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("{PREFIX}{number}{REQUEST_SUFFIX}"))
}

fn answer_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("{PREFIX}{number}{ANSWER_SUFFIX}"))
}

/// Whether a file name is one of these files (the feed reports them as record changes).
pub fn is_approval_file(name: &str) -> bool {
    name.starts_with(PREFIX) && name.ends_with(REQUEST_SUFFIX)
}

/// The numbers of the requests in a job's folder, in order; names that are not exactly
/// `approval-<n>.json` are ignored.
fn numbers(dir: &Path, id: &JobId) -> Result<Vec<u32>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(JobError::NotFound(id.to_string())),
        Err(err) => return Err(JobError::io("listing", dir, err)),
    };
    let mut numbers: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let digits = name.strip_prefix(PREFIX)?.strip_suffix(REQUEST_SUFFIX)?;
            (!digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|byte| byte.is_ascii_digit()))
                .then(|| digits.parse().ok())
                .flatten()
        })
        .filter(|number| (1..=MAX_REQUESTS).contains(number))
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, cap: u64) -> Option<T> {
    let bytes = match read_capped(path, cap) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return None,
        Err(err) => {
            tracing::warn!(%err, path = %path.display(), "an approval file that cannot be read");
            return None;
        }
    };
    serde_json::from_slice(&bytes).map_err(|err| tracing::warn!(%err, path = %path.display(), "an approval file that is not one")).ok()
}

fn read_request(dir: &Path, number: u32) -> Option<ApprovalRequest> {
    read_json::<ApprovalRequest>(&request_path(dir, number), MAX_REQUEST_BYTES).filter(|request| request.number == number)
}

/// The answer to request `number`, if it has one.
pub fn read_answer(dir: &Path, number: u32) -> Option<ApprovalAnswer> {
    read_json(&answer_path(dir, number), MAX_ANSWER_BYTES)
}

/// Every request of a job with its answer, in the order asked.
pub fn requests(dir: &Path, id: &JobId) -> Result<Vec<(ApprovalRequest, Option<ApprovalAnswer>)>> {
    Ok(numbers(dir, id)?.into_iter().filter_map(|number| Some((read_request(dir, number)?, read_answer(dir, number)))).collect())
}

/// The oldest request still waiting for an answer, and how many wait.
pub fn pending(dir: &Path, id: &JobId) -> Result<Option<PendingApproval>> {
    let waiting: Vec<ApprovalRequest> =
        requests(dir, id)?.into_iter().filter(|(_, answer)| answer.is_none()).map(|(request, _)| request).collect();
    let count = waiting.len();
    Ok(waiting.into_iter().next().map(|request| PendingApproval { request, waiting: count }))
}

/// Whether an earlier answer allowed `tool_name` for the rest of the job.
pub fn always_allowed(dir: &Path, id: &JobId, tool_name: &str) -> Result<bool> {
    Ok(requests(dir, id)?.iter().any(|(request, answer)| {
        request.tool_name == tool_name && answer.as_ref().is_some_and(|answer| answer.always && answer.decision == Decision::Allow)
    }))
}

/// Puts `bytes` at `target` only if nothing is there yet: written aside, synced, then
/// linked into place, so a reader never sees half a file and of two writers one wins.
fn place_new(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = target.parent().unwrap_or(Path::new("."));
    let name = target.file_name().and_then(|name| name.to_str()).unwrap_or("approval");
    let aside = folder.join(format!(".{name}.{}.{}", std::process::id(), now().timestamp_nanos_opt().unwrap_or(0)));
    let written = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(nix::libc::O_NOFOLLOW).open(&aside)?;
        file.write_all(bytes)?;
        file.sync_data()
    })();
    let linked = written.and_then(|()| fs::hard_link(&aside, target));
    let _ = fs::remove_file(&aside);
    linked?;
    if let Err(err) = crate::atomic::sync_folder(folder) {
        tracing::debug!(%err, "syncing the job folder after an approval file");
    }
    Ok(())
}

/// What the agent asks, recorded as the next request (or, when the same tool call was
/// asked before — the endpoint restarted — that request).
pub struct Question<'a> {
    pub tool_name: &'a str,
    pub input: Value,
    pub tool_use_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub timeout: Duration,
}

/// Records a request; the request as recorded.
pub fn ask(dir: &Path, id: &JobId, question: Question<'_>) -> Result<ApprovalRequest> {
    let known = requests(dir, id)?;
    if let Some(tool_use_id) = question.tool_use_id
        && let Some((request, _)) = known.iter().find(|(request, _)| request.tool_use_id.as_deref() == Some(tool_use_id))
    {
        return Ok(request.clone());
    }
    let asked_at = now();
    let deadline =
        chrono::Duration::from_std(question.timeout).ok().and_then(|timeout| asked_at.checked_add_signed(timeout)).unwrap_or(asked_at);
    let mut number = numbers(dir, id)?.last().copied().unwrap_or(0) + 1;
    loop {
        if number > MAX_REQUESTS {
            return Err(JobError::BadRequest(format!("job '{id}' asked more than {MAX_REQUESTS} times")));
        }
        let request = ApprovalRequest {
            number,
            tool_name: question.tool_name.to_owned(),
            input: question.input.clone(),
            tool_use_id: question.tool_use_id.map(str::to_owned),
            reason: question.reason.map(str::to_owned),
            asked_at,
            deadline,
        };
        let bytes = serde_json::to_vec_pretty(&request).map_err(|err| JobError::BadRequest(err.to_string()))?;
        let path = request_path(dir, number);
        match place_new(&path, &bytes) {
            Ok(()) => return Ok(request),
            // Asked at the same moment by another call: take the next number.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => number += 1,
            Err(err) => return Err(JobError::io("recording the approval request", path, err)),
        }
    }
}

/// Answers request `number` (the oldest waiting one when `None`). The first answer
/// wins: a second is refused with the first one's decision and who gave it.
pub fn answer(dir: &Path, id: &JobId, number: Option<u32>, answer: ApprovalAnswer) -> Result<Answered> {
    let request = match number {
        Some(number) => {
            read_request(dir, number).ok_or_else(|| JobError::BadRequest(format!("job '{id}' has no approval request {number}")))?
        }
        None => match pending(dir, id)? {
            Some(pending) => pending.request,
            None => {
                let last = requests(dir, id)?.pop();
                return Err(match last {
                    // The one just answered by someone else: say who, as for a numbered one.
                    Some((request, Some(first))) => JobError::AlreadyAnswered {
                        id: id.to_string(),
                        number: request.number,
                        decision: first.decision.as_str().to_owned(),
                        by: first.by.as_str().to_owned(),
                    },
                    _ => JobError::BadRequest(format!("job '{id}' has no approval request waiting for an answer")),
                });
            }
        },
    };
    let bytes = serde_json::to_vec_pretty(&answer).map_err(|err| JobError::BadRequest(err.to_string()))?;
    let path = answer_path(dir, request.number);
    match place_new(&path, &bytes) {
        Ok(()) => Ok(Answered { job_id: id.to_string(), request, answer }),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            let first = read_answer(dir, request.number);
            Err(JobError::AlreadyAnswered {
                id: id.to_string(),
                number: request.number,
                decision: first.as_ref().map_or("an answer", |first| first.decision.as_str()).to_owned(),
                by: first.as_ref().map_or("someone", |first| first.by.as_str()).to_owned(),
            })
        }
        Err(err) => Err(JobError::io("recording the approval answer", path, err)),
    }
}
