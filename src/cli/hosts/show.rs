//! `codex-async hosts`: each configured host with its state, all asked at once, each
//! within its own deadline. Exit status 0 when every host answered.

use std::process::ExitCode;

use super::context::emit_json;
use crate::cli::args::HostsArgs;
use crate::cli::render::Out;
use crate::config::Settings;
use crate::hosts::{HostPool, HostState, probe_all};

pub fn hosts(settings: &Settings, args: &HostsArgs) -> anyhow::Result<ExitCode> {
    let pool = HostPool::new(&settings.hosts);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let states = runtime.block_on(probe_all(&pool));
    if args.json {
        emit_json(&states)?;
    } else {
        let mut out = Out::default();
        if states.is_empty() {
            out.line(format!(
                "no hosts: add one to {} as [hosts.NAME] with command = [\"ssh\", \"box\", \"codex-async\", \"serve\"] (or url and token_env)",
                settings.path.display()
            ));
        } else {
            table(&mut out, &states);
        }
        out.flush();
    }
    Ok(if states.iter().all(|state| state.connected && state.error.is_none()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn table(out: &mut Out, states: &[HostState]) {
    let count = |value: Option<usize>| value.map_or_else(|| "-".to_owned(), |count| count.to_string());
    let millis = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1} ms"));
    let mut rows = vec![["HOST", "STATE", "VERSION", "RUNNING", "PENDING", "JOBS", "ROUND TRIP", "VIA"].map(str::to_owned).to_vec()];
    for state in states {
        rows.push(vec![
            state.host.clone(),
            if state.connected { "connected" } else { "unreachable" }.to_owned(),
            state.version.clone().unwrap_or_else(|| "-".to_owned()),
            count(state.running),
            count(state.pending),
            count(state.jobs),
            millis(state.round_trip_ms),
            state.target.clone(),
        ]);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|column| rows.iter().map(|row| row[column].chars().count()).max().unwrap_or(0)).collect();
    for row in &rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        out.line(line.join("  ").trim_end());
    }
    for state in states {
        if let Some(error) = &state.error {
            out.line(format!("{}: {error}", state.host));
        }
    }
}
