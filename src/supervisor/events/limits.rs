//! A provider's usage limit, recognised in each agent's own words (shapes recorded from
//! codex 0.171.0, Claude Code 2.1.197 and Gemini CLI 0.61.0; see docs/agents.md), with
//! when it resets. Transient rate limits (retried by the agent, or a per-minute quota)
//! are not usage limits: they fail the job and hold nothing.

use chrono::{DateTime, Duration, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde_json::Value;

use crate::jobs::{Limit, Timestamp};

/// codex `turn.failed`: `You’ve hit your usage limit[ for MODEL]. … try again at 8:49 PM.`
/// (or `… at Dec 9th, 2026 3:23 AM.`, in codex's local time; or `Try again later.`), and
/// the workspace's credit and spend-cap texts (no time).
pub fn codex(message: &str, now: DateTime<Utc>) -> Option<Limit> {
    let text = message.replace('\u{2019}', "'");
    let kind = if text.starts_with("You've hit your usage limit for ") {
        "model_limit"
    } else if text.starts_with("You've hit your usage limit") {
        "usage_limit"
    } else if text.starts_with("Your workspace is out of credits") || text.starts_with("You hit your spend cap") {
        "credits"
    } else {
        return None;
    };
    let lower = text.to_ascii_lowercase();
    let resets_at = lower.rfind("try again at ").and_then(|at| codex_time(text[at + "try again at ".len()..].trim_end_matches('.'), now));
    Some(Limit { kind: kind.to_owned(), resets_at })
}

/// `8:49 PM` (today, or tomorrow once passed) or `Dec 9th, 2026 3:23 AM`, local time;
/// a minute later, as codex rounds down to the minute.
fn codex_time(text: &str, now: DateTime<Utc>) -> Option<Timestamp> {
    let text = text.trim();
    let local = if let Ok(time) = NaiveTime::parse_from_str(text, "%I:%M %p") {
        let today = now.with_timezone(&Local).date_naive();
        let at = Local.from_local_datetime(&today.and_time(time)).earliest()?;
        if at.with_timezone(&Utc) + Duration::minutes(1) < now { at + Duration::days(1) } else { at }
    } else {
        // `Dec 9th, 2026 3:23 AM`: the ordinal's letters go.
        let mut words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if let Some(day) = words.get_mut(1) {
            *day = day.trim_end_matches(',').trim_end_matches(|c: char| c.is_ascii_alphabetic()).to_owned() + ",";
        }
        let naive = NaiveDateTime::parse_from_str(&words.join(" "), "%b %d, %Y %I:%M %p").ok()?;
        Local.from_local_datetime(&naive).earliest()?
    };
    Some(Timestamp((local + Duration::minutes(1)).with_timezone(&Utc)))
}

/// Claude Code's `rate_limit_event` with `status: rejected` and a `resetsAt` (epoch
/// seconds): a subscription's limit. Without `resetsAt` it is a transient rate limit.
pub fn claude_event(event: &Value) -> Option<Limit> {
    let info = event.get("rate_limit_info")?;
    if info.get("status")?.as_str()? != "rejected" {
        return None;
    }
    let resets = info.get("resetsAt")?.as_i64()?;
    let kind = info.get("rateLimitType").and_then(Value::as_str).filter(|kind| is_word(kind)).unwrap_or("usage_limit");
    Some(Limit { kind: kind.to_owned(), resets_at: Utc.timestamp_opt(resets, 0).single().map(Timestamp) })
}

/// Claude Code's final text when no event said more: `You've hit your … limit · resets …`.
pub fn claude_result(result: &str) -> Option<Limit> {
    let text = result.replace('\u{2019}', "'");
    (text.starts_with("You've hit your") || text.starts_with("You're out of usage credits"))
        .then(|| Limit { kind: "usage_limit".to_owned(), resets_at: None })
}

/// Gemini CLI's error `result`: a terminal quota (daily, `limit: 0`, a reset or a retry
/// delay of more than five minutes, exhausted capacity); the reset from the message's
/// duration after the event's own time, or the next midnight in Pacific time for a daily
/// quota (taken as UTC−8: at most an hour late in summer).
pub fn gemini(message: &str, event_time: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<Limit> {
    let base = event_time.unwrap_or(now);
    if let Some(after) = after_word(message, "Your quota will reset after ") {
        return Some(Limit { kind: "quota".to_owned(), resets_at: hms(after).map(|wait| Timestamp(base + wait)) });
    }
    if let Some(after) = after_word(message, "Suggested retry after ") {
        let seconds: f64 = after.trim_end_matches(['.', ']']).trim_end_matches('s').parse().ok()?;
        if seconds > 300.0 {
            return Some(Limit {
                kind: "quota".to_owned(),
                resets_at: Some(Timestamp(base + Duration::milliseconds((seconds * 1000.0) as i64))),
            });
        }
        return None;
    }
    if message.contains("exhausted your daily quota") || message.contains("limit: 0") {
        let next_day = (base - Duration::hours(8)).date_naive().succ_opt();
        let resets_at = next_day.map(|day: NaiveDate| Timestamp(day.and_time(NaiveTime::MIN).and_utc() + Duration::hours(8)));
        return Some(Limit { kind: "daily_quota".to_owned(), resets_at });
    }
    message.contains("exhausted your capacity").then(|| Limit { kind: "capacity".to_owned(), resets_at: None })
}

fn after_word<'m>(message: &'m str, word: &str) -> Option<&'m str> {
    let at = message.find(word)?;
    message[at + word.len()..].split_whitespace().next()
}

/// `2h13m5s`, `4s`, `43.2s`.
fn hms(text: &str) -> Option<Duration> {
    let text = text.trim_end_matches(['.', ']']);
    let mut total = 0.0;
    let mut number = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'h' | 'm' | 's' => {
                let value: f64 = number.parse().ok()?;
                total += value
                    * match c {
                        'h' => 3600.0,
                        'm' => 60.0,
                        _ => 1.0,
                    };
                number.clear();
            }
            _ => return None,
        }
    }
    (number.is_empty() && total > 0.0).then(|| Duration::milliseconds((total * 1000.0) as i64))
}

fn is_word(text: &str) -> bool {
    !text.is_empty() && text.len() <= 40 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn codex_messages_as_recorded() {
        let now = Utc::now();
        let plus = "You\u{2019}ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit https://chatgpt.com/settings/usage to purchase more credits or try again at 8:49 PM.";
        let limit = codex(plus, now).unwrap();
        assert_eq!(limit.kind, "usage_limit");
        let reset = limit.resets_at.unwrap().0;
        assert!(reset > now - Duration::minutes(1) && reset <= now + Duration::days(1) + Duration::minutes(1));
        assert_eq!(reset.with_timezone(&Local).format("%H:%M").to_string(), "20:50");
        let other_day = codex("You\u{2019}ve hit your usage limit. … or try again at Dec 9th, 2026 3:23 AM.", now).unwrap();
        let expected = Local.with_ymd_and_hms(2026, 12, 9, 3, 24, 0).unwrap().with_timezone(&Utc);
        assert_eq!(other_day.resets_at.unwrap().0, expected);
        assert_eq!(
            codex("You\u{2019}ve hit your usage limit for GPT-6-Sol-Max. Switch to another model now, or try again at 8:50 PM.", now)
                .unwrap()
                .kind,
            "model_limit"
        );
        assert_eq!(codex("You\u{2019}ve hit your usage limit. Try again later.", now).unwrap().resets_at, None);
        assert_eq!(codex("Your workspace is out of credits. Add credits to continue.", now).unwrap().kind, "credits");
        assert!(codex("exceeded retry limit, last status: 429 Too Many Requests", now).is_none());
        assert!(codex("rate limit exceeded: Please try again in 1.5s", now).is_none());
    }

    #[test]
    fn claude_events_as_recorded() {
        let event: Value = serde_json::from_str(r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1796590543,"rateLimitType":"five_hour","overageStatus":"rejected","isUsingOverage":false}}"#).unwrap();
        let limit = claude_event(&event).unwrap();
        assert_eq!((limit.kind.as_str(), limit.resets_at.unwrap().0.timestamp()), ("five_hour", 1796590543));
        let plain: Value =
            serde_json::from_str(r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","isUsingOverage":false}}"#).unwrap();
        assert!(claude_event(&plain).is_none(), "without resetsAt: transient");
        let warning: Value =
            serde_json::from_str(r#"{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1796588758}}"#)
                .unwrap();
        assert!(claude_event(&warning).is_none());
        assert!(claude_result("You've hit your session limit · resets 8:55pm (UTC)").is_some());
        assert!(claude_result("API Error: Server is temporarily limiting requests (not your usage limit)").is_none());
    }

    #[test]
    fn gemini_messages_as_recorded() {
        let now = Utc::now();
        let time = at("2026-12-06T19:57:36.372Z");
        let codeassist = "[API Error: Quota exceeded for quota metric 'x' and limit 'y per day'. Your quota will reset after 2h13m5s.]";
        assert_eq!(gemini(codeassist, Some(time), now).unwrap().resets_at.unwrap().0, time + Duration::seconds(2 * 3600 + 13 * 60 + 5));
        let long = "[API Error: Quota exceeded.\nSuggested retry after 3600s.]\nPlease wait and try again later.";
        assert_eq!(gemini(long, Some(time), now).unwrap().resets_at.unwrap().0, time + Duration::hours(1));
        assert!(gemini("[API Error: …Please retry in 2.1s.\nSuggested retry after 2s.]", Some(time), now).is_none(), "short: transient");
        let daily =
            gemini("[API Error: You have exhausted your daily quota on this model.]\nPlease wait and try again later.", Some(time), now)
                .unwrap();
        assert_eq!((daily.kind.as_str(), daily.resets_at.unwrap().0), ("daily_quota", at("2026-12-07T08:00:00Z")));
        assert!(gemini("[API Error: Resource has been exhausted (e.g. check quota).]", Some(time), now).is_none());
    }
}
