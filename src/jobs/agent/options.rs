//! The model and settings a job asks its agent for, each checked to be one plain
//! argument before it reaches a command line.

use serde::{Deserialize, Serialize};

use crate::jobs::error::JobError;

/// Model and settings a job asks its agent for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A codex profile (`-p`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Codex settings as `key=value` (`-c`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
}

impl AgentOptions {
    /// Refuses what could be read as a flag or cannot be one argument.
    pub fn check(&self) -> Result<(), JobError> {
        let bad = |what: &str, value: &str, why: &str| JobError::BadRequest(format!("{what} {value:?} {why}"));
        let plain = |what: &str, value: &str| -> Result<(), JobError> {
            if value.trim().is_empty() {
                return Err(bad(what, value, "is empty"));
            }
            if value.starts_with('-') {
                return Err(bad(what, value, "starts with '-': it would be read as a flag"));
            }
            if value.contains('\0') || value.contains('\n') {
                return Err(bad(what, value, "holds a NUL or a line break"));
            }
            Ok(())
        };
        if let Some(model) = &self.model {
            plain("model", model)?;
        }
        if let Some(profile) = &self.profile {
            plain("profile", profile)?;
        }
        for entry in &self.config {
            plain("config", entry)?;
            match entry.split_once('=') {
                Some((key, _)) if !key.trim().is_empty() && !key.contains(char::is_whitespace) => {}
                _ => return Err(bad("config", entry, "is not key=value (for example model_reasoning_effort=high)")),
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.model.is_none() && self.profile.is_none() && self.config.is_empty()
    }
}
