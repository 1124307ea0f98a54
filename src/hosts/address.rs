//! Naming a job of another host: `NAME:ID` wherever an id goes, or `--host NAME` with
//! the id alone. A local id never holds `:`, and a host name never does, so an id
//! splits one way only; `local:ID` (or `--host local`) is this machine's job `ID`.

use crate::config::{LOCAL_HOST, valid_host_name};
use crate::jobs::{JobError, JobId};

/// Where a job named on the command line or in a tool call lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobRef {
    /// This machine's job: the id (or the start of one) as given.
    Local(String),
    /// Job `id` (or the start of one) of host `host`; both checked for shape.
    Remote { host: String, id: String },
}

impl JobRef {
    /// The job as a person types it back: `ID` or `NAME:ID`.
    pub fn qualified(&self) -> String {
        match self {
            JobRef::Local(id) => id.clone(),
            JobRef::Remote { host, id } => qualified(host, id),
        }
    }
}

/// `NAME:ID`.
pub fn qualified(host: &str, id: &str) -> String {
    format!("{host}:{id}")
}

/// Splits `raw` (`ID`, `NAME:ID`) and puts it together with a `--host NAME`, checking
/// both parts' shapes: a remote id must look like an id before it is sent anywhere.
/// Whether the host is configured is the caller's to check.
pub fn job_ref(host_flag: Option<&str>, raw: &str) -> Result<JobRef, JobError> {
    let (named_host, id) = match raw.split_once(':') {
        Some((host, id)) => {
            if !valid_host_name(host) && host != LOCAL_HOST {
                return Err(JobError::BadRequest(format!("{:?} is not NAME:ID: a host name is letters, digits, '-' or '_'", shorten(raw))));
            }
            (Some(host), id)
        }
        None => (None, raw),
    };
    let host = match (host_flag, named_host) {
        (Some(flag), Some(named)) if flag != named => {
            return Err(JobError::BadRequest(format!("--host {flag} and the id's host {named} differ: give one of them")));
        }
        (Some(flag), _) => Some(flag),
        (None, named) => named,
    };
    // The id's shape is checked here for a host's job (it is sent there), and by the
    // engine for a local one, as before.
    match host {
        None => Ok(JobRef::Local(id.to_owned())),
        Some(LOCAL_HOST) => Ok(JobRef::Local(JobId::parse(id)?.to_string())),
        Some(host) if !valid_host_name(host) => {
            Err(JobError::BadRequest(format!("{:?} is not a host name: letters, digits, '-' or '_'", shorten(host))))
        }
        Some(host) => Ok(JobRef::Remote { host: host.to_owned(), id: JobId::parse(id)?.to_string() }),
    }
}

fn shorten(text: &str) -> String {
    let mut shown: String = text.chars().take(80).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(host: &str, id: &str) -> JobRef {
        JobRef::Remote { host: host.to_owned(), id: id.to_owned() }
    }

    #[test]
    fn ids_split_one_way() {
        assert_eq!(job_ref(None, "3f2a9c1d").unwrap(), JobRef::Local("3f2a9c1d".into()));
        assert_eq!(job_ref(None, "box:3f2a").unwrap(), remote("box", "3f2a"));
        assert_eq!(job_ref(Some("box"), "3f2a").unwrap(), remote("box", "3f2a"));
        assert_eq!(job_ref(Some("box"), "box:3f2a").unwrap(), remote("box", "3f2a"));
        assert_eq!(job_ref(None, "local:3f2a").unwrap(), JobRef::Local("3f2a".into()));
        assert_eq!(job_ref(Some("local"), "3f2a").unwrap(), JobRef::Local("3f2a".into()));
        assert_eq!(remote("box", "3f2a").qualified(), "box:3f2a");
    }

    #[test]
    fn bad_shapes_are_refused_before_anything_is_sent() {
        for (flag, raw, expected) in [
            (Some("gpu"), "box:3f2a", "differ"),
            (None, "b/x:3f2a", "not NAME:ID"),
            (None, "box:../../etc", "invalid job id"),
            (None, "box:a:b", "invalid job id"),
            (None, "box:", "invalid job id"),
            (Some("a b"), "3f2a", "not a host name"),
        ] {
            let err = job_ref(flag, raw).expect_err(raw).to_string();
            assert!(err.contains(expected), "{flag:?} {raw}: {err}");
        }
    }
}
