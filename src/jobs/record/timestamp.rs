//! The instants a job's record holds, written as the Python original wrote them.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC instant written the way Python's `datetime.now(timezone.utc).isoformat()` writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Now, to the microsecond: the precision the file keeps.
    pub fn now() -> Self {
        Timestamp(Utc::now().trunc_subsecs(6))
    }

    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp(at.with_timezone(&Utc)));
        }
        // Python's isoformat() of a naive datetime has no offset; the original always
        // wrote UTC, so read it as UTC.
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|naive| Timestamp(naive.and_utc()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_rfc3339_opts(SecondsFormat::Micros, false);
        // Python omits the fraction when it is zero; so do we, to match byte for byte.
        let text = text.replace(".000000+", "+");
        f.write_str(&text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not an ISO-8601 time: {text:?}")))
    }
}
