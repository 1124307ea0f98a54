//! What a process costs, read from `/proc`.

/// A process's CPU and wake-ups at one moment.
#[derive(Clone, Copy)]
pub struct Usage {
    /// utime + stime from `/proc/<pid>/stat`, in clock ticks.
    pub stat_ticks: u64,
    /// Every thread's run time from its `schedstat`, in nanoseconds.
    pub sched_ns: u64,
    /// Every thread's context switches, voluntary or not.
    pub switches: u64,
}

pub fn usage(pid: i32) -> Usage {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |n: usize| fields.get(n).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    let stat_ticks = field(11) + field(12);
    let (mut sched_ns, mut switches) = (0, 0);
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        sched_ns += schedstat.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()).unwrap_or(0);
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(count) = line.strip_prefix("voluntary_ctxt_switches:").or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += count.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    Usage { stat_ticks, sched_ns, switches }
}
