//! What `poll` and `list` print of a job's worktree, change and attempt set.

/// What `poll` says of a job's worktree and change, a line each.
pub fn poll_lines(view: &crate::jobs::PollView) -> Vec<String> {
    let mut out = Vec::new();
    let details = &view.details;
    if let Some(worktree) = &details.worktree {
        out.push(format!("worktree  {worktree}"));
    }
    if let Some(branch) = &details.branch {
        let base = details.base_commit.as_deref().map(|base| format!(" (from {})", base.get(..12).unwrap_or(base))).unwrap_or_default();
        out.push(format!("branch    {branch}{base}"));
    }
    if let (Some(group), Some(attempt)) = (&details.attempt_group, details.attempt) {
        out.push(format!("attempt   {attempt} of set {group}"));
    }
    if let Some(change) = &details.change {
        let mut line = format!("change    {} (codex-async diff {})", change.summary(), view.job_id);
        if change.patch_dropped {
            line.push_str("; the patch was too large to keep");
        }
        if let Some(problem) = &change.problem {
            line.push_str(&format!("; {problem}"));
        }
        out.push(line);
    }
    if let Some(applied) = details.applied_at {
        out.push(format!("applied   {}", applied.0.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %Z")));
    }
    if let Some(discarded) = details.discarded_at {
        out.push(format!("discarded {}", discarded.0.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %Z")));
    }
    out
}

/// The rows with every attempt set together: its first attempt where the set's newest
/// member was, the other attempts right under it, in order.
pub fn attempt_sets_together(rows: &[crate::jobs::ListView]) -> Vec<crate::jobs::ListView> {
    let mut placed = std::collections::BTreeSet::new();
    let mut ordered = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(group) = &row.attempt_group else {
            ordered.push(row.clone());
            continue;
        };
        if !placed.insert(group.clone()) {
            continue;
        }
        let mut members: Vec<&crate::jobs::ListView> = rows.iter().filter(|other| other.attempt_group.as_ref() == Some(group)).collect();
        members.sort_by_key(|member| member.attempt.unwrap_or(0));
        ordered.extend(members.into_iter().cloned());
    }
    ordered
}

/// The ID column: an attempt after the first is drawn under its set's first.
pub fn id_cell(row: &crate::jobs::ListView) -> String {
    match (row.attempt_group.as_deref(), row.attempt) {
        (Some(group), Some(attempt)) if group != row.job_id => format!("└{attempt} {}", row.job_id),
        _ => row.job_id.clone(),
    }
}

/// Before the prompt: the frozen change's size, and whether it was applied or discarded.
pub fn change_cell(row: &crate::jobs::ListView) -> String {
    let Some(change) = &row.change else { return String::new() };
    if change.files == 0 {
        return String::new();
    }
    let state = if row.applied_at.is_some() {
        " applied"
    } else if row.discarded_at.is_some() {
        " discarded"
    } else {
        ""
    };
    format!("[{} +{} −{}{state}] ", change.files, change.insertions, change.deletions)
}
