//! A job's token budget (`--max-tokens`): taken only by an agent that reports its usage
//! (codex, Claude Code, Gemini CLI: their streams say how many tokens each turn took), so
//! that a budget is never set and then silently never kept.

use super::request::StartRequest;
use crate::jobs::agent::Stream;
use crate::jobs::error::{JobError, Result};

impl StartRequest {
    /// The budget asked for (`asked`), else the configured default already in the
    /// request's limits. An agent that reports no usage refuses a budget asked for, and
    /// runs without the default.
    pub fn with_max_tokens(mut self, asked: Option<u64>) -> Result<Self> {
        let reports_usage = self.agent.stream() != Stream::Plain;
        match asked {
            Some(0) => self.limits.max_tokens = None,
            Some(limit) if reports_usage => self.limits.max_tokens = Some(limit),
            Some(_) => {
                return Err(JobError::BadRequest(format!(
                    "agent '{}' reports no token usage, so it cannot keep to a budget (max_tokens): leave the budget out, \
                     or run an agent that reports its usage (codex, claude, gemini)",
                    self.agent.name()
                )));
            }
            None if !reports_usage => self.limits.max_tokens = None,
            None => {}
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use crate::jobs::{AgentSpec, ApprovalPolicy, JobLimits, StartRequest};

    #[test]
    fn only_an_agent_that_reports_usage_takes_a_budget() {
        let dir = tempfile::tempdir().unwrap();
        let codex = StartRequest::new("p", dir.path(), ApprovalPolicy::Suggest, AgentSpec::Codex { program: "codex".into() }).unwrap();
        assert_eq!(codex.clone().with_max_tokens(Some(50_000)).unwrap().limits.max_tokens, Some(50_000));
        let custom = AgentSpec::Custom { name: "mine".into(), command: vec!["mine".into(), "{prompt}".into()] };
        let custom = StartRequest::new("p", dir.path(), ApprovalPolicy::Suggest, custom).unwrap();
        let err = custom.clone().with_max_tokens(Some(10)).unwrap_err().to_string();
        assert!(err.contains("reports no token usage"), "{err}");
        let defaulted = custom.with_limits(JobLimits { max_tokens: Some(10), ..JobLimits::default() }).with_max_tokens(None).unwrap();
        assert_eq!(defaulted.limits.max_tokens, None, "the configured default does not apply to it");
    }
}
