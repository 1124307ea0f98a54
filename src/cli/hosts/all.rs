//! `list --all-hosts`: every host's jobs beside this machine's, each host asked at
//! once within its own deadline; a host that fails is named, the others still listed.

use crate::config::Settings;
use crate::hosts::{HostError, HostPool};
use crate::jobs::ListView;

/// Each host's rows (checked, ids as `NAME:ID`), or why there are none.
pub type HostRows = Vec<(String, Result<Vec<ListView>, HostError>)>;

/// Every configured host's newest `limit` jobs (0: all), asked concurrently.
pub fn gather(settings: &Settings, limit: usize) -> anyhow::Result<HostRows> {
    let pool = HostPool::new(&settings.hosts);
    if pool.is_empty() {
        return Ok(Vec::new());
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let names = pool.names();
    let asked = names.iter().map(|name| {
        let pool = pool.clone();
        async move {
            let rows = pool.list_within_deadline(name, limit).await.and_then(|rows| {
                rows.into_iter()
                    .map(|row| {
                        serde_json::from_value::<ListView>(row).map_err(|err| HostError::BadAnswer {
                            host: name.clone(),
                            message: crate::hosts::shown(&format!("a row is not a job: {err}"), 300),
                        })
                    })
                    .collect()
            });
            (name.clone(), rows)
        }
    });
    Ok(runtime.block_on(futures::future::join_all(asked)))
}
