//! Numbers for people: durations, ages, byte counts, token counts and costs as the
//! command line and the dashboard show them — one form each, so the two never
//! disagree — and durations and sizes as people write them in flags and the config.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::jobs::{JobMeta, Usage};

/// A duration written as seconds (`90`, `0.5`) or with a unit: `90s`, `20m`, `2h`, `7d`
/// (a fraction is fine: `1.5h`), or `500ms` — the one syntax of every duration flag,
/// variable and config key.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, "s"),
    };
    let seconds_per = match unit.trim() {
        "ms" => 0.001,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        other => {
            return Err(format!("{text:?}: unknown unit {other:?}; write seconds or a number with ms, s, m, h or d (90s, 20m, 2h, 7d)"));
        }
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a duration; write seconds or 90s, 20m, 2h, 7d"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?}: a duration must be 0 or more"));
    }
    Duration::try_from_secs_f64(value * seconds_per).map_err(|_| format!("{text:?} is too long"))
}

/// `90s`, `20m`, `2h30m`: a duration as a person writes it.
pub fn show_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if duration.subsec_millis() != 0 && seconds < 60 {
        return format!("{}s", duration.as_secs_f64());
    }
    match seconds {
        s if s % 86_400 == 0 && s > 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A size written as bytes (`1048576`) or with a unit: `500KB`, `200MB`, `2GB` (powers
/// of 1000) or `512KiB`, `200MiB`, `2GiB` (powers of 1024); a fraction is fine (`1.5GB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, "B"),
    };
    let per_unit: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" | "byte" | "bytes" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("{text:?}: unknown unit {other:?}; write bytes or a number with KB, MB, GB (or KiB, MiB, GiB)")),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a size; write bytes or 500KB, 200MB, 2GB"))?;
    let bytes = value * per_unit;
    if !bytes.is_finite() || bytes < 0.0 || bytes >= u64::MAX as f64 {
        return Err(format!("{text:?}: a size must be 0 or more bytes"));
    }
    Ok(bytes.round() as u64)
}

/// `200MB`, `1.5GB`, `4096 bytes`: a size as a person writes it in the config, exact
/// (what [`parse_size`] reads back). An amount of disk is shown by [`bytes_text`].
pub fn show_size(bytes: u64) -> String {
    match bytes {
        bytes if bytes >= 1_000_000_000 && bytes % 10_000_000 == 0 => format!("{}GB", bytes as f64 / 1e9),
        bytes if bytes >= 1_000_000 && bytes % 10_000 == 0 => format!("{}MB", bytes as f64 / 1e6),
        bytes if bytes >= 1_000 && bytes % 10 == 0 => format!("{}KB", bytes as f64 / 1e3),
        bytes => format!("{bytes} bytes"),
    }
}

/// How long something ran, read at a glance: `42s`, `3m04s`, `1h02m`, `2d03h`.
pub fn duration_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        3600..86_400 => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{}d{:02}h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

/// How long the job has run (running) or ran (finished), as [`duration_text`]; `None`
/// for a job that never started, or ended without saying when.
pub fn elapsed(meta: &JobMeta, now: DateTime<Utc>) -> Option<String> {
    let started = meta.started_at.or(meta.details.created_at)?.0;
    let ended = match meta.finished_at {
        Some(finished) => finished.0,
        None if meta.status.is_finished() => return None,
        None => now,
    };
    Some(duration_text((ended - started).num_seconds()))
}

/// How long ago, in its largest unit: `45s`, `12m`, `3h`, `5d`.
pub fn age_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m", seconds / 60),
        3_600..86_400 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// An amount of disk, in binary units: `12 B`, `512 KiB`, `3.2 MiB`, `1.5 GiB`.
pub fn bytes_text(count: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    match count {
        0..KIB => format!("{count} B"),
        KIB..MIB => format!("{:.0} KiB", count as f64 / KIB as f64),
        MIB..GIB => format!("{:.1} MiB", count as f64 / MIB as f64),
        _ => format!("{:.1} GiB", count as f64 / GIB as f64),
    }
}

/// A number with its thousands grouped: `29,944`.
pub fn thousands(count: u64) -> String {
    let digits = count.to_string();
    let mut grouped = String::new();
    for (at, digit) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A count as people read it at a glance: `950`, `12.3k`, `4.1M`.
pub fn compact_count(count: u64) -> String {
    match count {
        0..1_000 => count.to_string(),
        1_000..1_000_000 => format!("{:.1}k", count as f64 / 1_000.0),
        _ => format!("{:.1}M", count as f64 / 1_000_000.0),
    }
}

/// The tokens column: `12.4k`, or against the job's budget `12.4k/50k`.
pub fn tokens_column(usage: Option<&Usage>, budget: Option<u64>) -> String {
    let used = usage.map(|usage| compact_count(usage.total()));
    match (used, budget) {
        (used, Some(budget)) => {
            format!("{}/{}", used.unwrap_or_else(|| "0".to_owned()), compact_count(budget).replace(".0k", "k").replace(".0M", "M"))
        }
        (Some(used), None) => used,
        (None, None) => String::new(),
    }
}

/// What a run cost, as the agent reported it (`$0.0420`); nothing for a free one.
pub fn cost_text(usage: &Usage) -> Option<String> {
    usage.cost_usd.filter(|cost| *cost > 0.0).map(|cost| format!("${cost:.4}"))
}

/// Tokens in full, for a report: `12,400 in (3,000 cached), 1,150 out (200 reasoning),
/// $0.0420` (the parts in brackets only when not zero).
pub fn usage_text(usage: &Usage) -> String {
    let mut text = format!("{} in", thousands(usage.input_tokens));
    if usage.cached_input_tokens > 0 {
        text.push_str(&format!(" ({} cached)", thousands(usage.cached_input_tokens)));
    }
    text.push_str(&format!(", {} out", thousands(usage.output_tokens)));
    if usage.reasoning_output_tokens > 0 {
        text.push_str(&format!(" ({} reasoning)", thousands(usage.reasoning_output_tokens)));
    }
    if let Some(cost) = cost_text(usage) {
        text.push_str(&format!(", {cost}"));
    }
    text
}

/// Tokens at a glance, for a screen's line: `12.4k in (3.0k cached) · 1.1k out (200
/// reasoning) · $0.0420`.
pub fn usage_compact(usage: &Usage) -> String {
    let mut line = format!(
        "{} in ({} cached) · {} out ({} reasoning)",
        compact_count(usage.input_tokens),
        compact_count(usage.cached_input_tokens),
        compact_count(usage.output_tokens),
        compact_count(usage.reasoning_output_tokens)
    );
    if let Some(cost) = cost_text(usage) {
        line.push_str(&format!(" · {cost}"));
    }
    line
}

/// A line of a git patch coloured as git colours it: headers bold, hunk heads cyan,
/// added lines green, removed lines red (the line itself is shown through the
/// sanitizer afterwards, like every text).
pub fn colour_patch_line(line: &str) -> String {
    let colour = if line.starts_with("diff --git") || line.starts_with("+++ ") || line.starts_with("--- ") || line.starts_with("index ") {
        "\x1b[1m"
    } else if line.starts_with("@@") {
        "\x1b[36m"
    } else if line.starts_with('+') {
        "\x1b[32m"
    } else if line.starts_with('-') {
        "\x1b[31m"
    } else {
        return line.to_owned();
    };
    // An escape inside the line itself is the sanitizer's to drop, not to extend.
    let plain: String = line.chars().filter(|ch| *ch != '\x1b').collect();
    format!("{colour}{plain}\x1b[m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("20m").unwrap(), Duration::from_secs(1200));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration(" 7d ").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("-3s").is_err());
        assert!(parse_duration("3 fortnights").unwrap_err().contains("unit"));
        assert_eq!(show_duration(Duration::from_secs(5400)), "90m");
        assert_eq!(show_duration(Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("200MB"), Ok(200_000_000));
        assert_eq!(parse_size(" 1.5 GB "), Ok(1_500_000_000));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("2gib"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("12 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_size("-5MB").is_err());
        assert_eq!(show_size(200_000_000), "200MB");
        assert_eq!(show_size(1_500_000_000), "1.5GB");
        assert_eq!(show_size(4097), "4097 bytes");
    }

    #[test]
    fn times_read_at_a_glance() {
        assert_eq!(duration_text(42), "42s");
        assert_eq!(duration_text(184), "3m04s");
        assert_eq!(duration_text(3720), "1h02m");
        assert_eq!(duration_text(183_600), "2d03h");
        assert_eq!(duration_text(-5), "0s");
        assert_eq!(age_text(45), "45s");
        assert_eq!(age_text(750), "12m");
        assert_eq!(age_text(5 * 86_400 + 7), "5d");
    }

    #[test]
    fn disk_amounts_are_in_binary_units() {
        assert_eq!(bytes_text(12), "12 B");
        assert_eq!(bytes_text(512 * 1024), "512 KiB");
        assert_eq!(bytes_text(3_355_443), "3.2 MiB");
        assert_eq!(bytes_text(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }

    #[test]
    fn token_counts_read_at_a_glance() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(29_944), "29,944");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(compact_count(950), "950");
        assert_eq!(compact_count(12_345), "12.3k");
        let usage = Usage {
            input_tokens: 12_400,
            cached_input_tokens: 3_000,
            output_tokens: 1_150,
            reasoning_output_tokens: 200,
            cost_usd: Some(0.042),
        };
        assert_eq!(usage_text(&usage), "12,400 in (3,000 cached), 1,150 out (200 reasoning), $0.0420");
        assert_eq!(usage_compact(&usage), "12.4k in (3.0k cached) · 1.1k out (200 reasoning) · $0.0420");
        let used = Usage { input_tokens: 11_200, output_tokens: 1_200, ..Default::default() };
        assert_eq!(tokens_column(Some(&used), Some(50_000)), "12.4k/50k");
        assert_eq!(tokens_column(None, Some(1_500_000)), "0/1.5M");
        assert_eq!(tokens_column(Some(&used), None), "12.4k");
        assert_eq!(usage_text(&Usage { input_tokens: 5, output_tokens: 1, ..Default::default() }), "5 in, 1 out");
        assert_eq!(
            usage_compact(&Usage { input_tokens: 11_200, output_tokens: 1_150, ..Default::default() }),
            "11.2k in (0 cached) · 1.1k out (0 reasoning)"
        );
    }
}
