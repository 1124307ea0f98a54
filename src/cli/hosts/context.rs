//! One command's way to a host: the configured hosts, the one named checked, and a
//! runtime to wait on it with.

use std::time::Duration;

use rmcp::model::JsonObject;
use serde_json::Value;

use crate::config::Settings;
use crate::hosts::{HostError, HostPool};

pub struct Remote {
    pub pool: HostPool,
    pub host: String,
    runtime: tokio::runtime::Runtime,
}

impl Remote {
    /// The way to `host`, which must be one of the settings' hosts.
    pub fn new(settings: &Settings, host: &str) -> anyhow::Result<Remote> {
        let pool = HostPool::new(&settings.hosts);
        pool.spec(host)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Remote { pool, host: host.to_owned(), runtime })
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Calls a tool about one job; the answer checked (ids as `NAME:ID`, `host` added).
    pub fn call_job(&self, tool: &str, arguments: Value, deadline: Duration) -> Result<Value, HostError> {
        let arguments = match arguments {
            Value::Object(map) => map,
            _ => JsonObject::new(),
        };
        self.runtime.block_on(self.pool.call_job(&self.host, tool, arguments, deadline))
    }
}

/// The answer as the local verb's view, or why it is not one.
pub fn view<T: serde::de::DeserializeOwned>(host: &str, answer: &Value) -> Result<T, HostError> {
    serde_json::from_value(answer.clone()).map_err(|err| HostError::BadAnswer {
        host: host.to_owned(),
        message: crate::hosts::shown(&format!("not the shape expected: {err}"), 300),
    })
}

/// One line of JSON on stdout.
pub fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = crate::cli::render::Out::default();
    out.line(serde_json::to_string(value)?);
    out.flush();
    Ok(())
}
