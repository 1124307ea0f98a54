//! The options that name another machine: `--host NAME` on the verbs that act on one
//! job (or start one), and `hosts` itself.

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct HostArg {
    /// Act on this host of config.toml's [hosts.NAME] (`codex-async hosts` lists them); an id may say it too, as NAME:ID.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HostsArgs {
    /// Print each host's state as one JSON array.
    #[arg(long)]
    pub json: bool,
}
