//! Reading output to its last byte: a line taller than the pane, a line wider than it,
//! a match far above the lines kept in memory.

use crate::support::TestHome;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command, output_pane_of};

#[test]
fn a_six_kilobyte_line_is_read_to_its_end_in_wrap_mode() {
    let home = TestHome::new();
    let long = format!("{}THE-END", "0123456789".repeat(600));
    let id = home.start(&format!("say:{long} say:after-the-long-line"));
    home.wait_for_status(&id, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 80, 24);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.wait_for("after-the-long-line", DEADLINE);
    tmux.keys(&["w", "Tab"]);
    tmux.wait_for("· wrap", DEADLINE);
    // Following, wrapped: the real end shows, the long line's last rows above it.
    tmux.wait_until("the end of the long line above the last line", DEADLINE, |screen| {
        let pane = output_pane_of(screen);
        pane.contains("THE-END") && pane.contains("after-the-long-line")
    });
    // From the top, row by row (a page at a time), down to the long line's end.
    tmux.keys(&["g"]);
    tmux.wait_until("the top", DEADLINE, |screen| output_pane_of(screen).contains("pid:agent=") && !screen.contains("THE-END"));
    let screen = tmux.press_until("PageDown", 40, "THE-END paged to", |screen| output_pane_of(screen).contains("THE-END"));
    assert!(screen.contains("scrolled, line 2/3"), "the title names the long line:\n{screen}");
}

#[test]
fn a_wide_line_scrolls_sideways_with_markers_at_its_edges() {
    let home = TestHome::new();
    let id = home.start(&format!("say:LEFT-START{}RIGHT-END", "a".repeat(300)));
    home.wait_for_status(&id, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 80, 24);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.keys(&["Tab"]);
    tmux.wait_until("the line's start, marked as going on", DEADLINE, |screen| {
        output_pane_of(screen).lines().any(|line| line.starts_with("LEFT-START") && line.trim_end().ends_with('›'))
    });
    tmux.keys(&["Right"]);
    tmux.wait_for("from column 41", DEADLINE);
    tmux.keys(&["$"]);
    tmux.wait_until("the line's end, marked as coming from the left", DEADLINE, |screen| {
        output_pane_of(screen).lines().any(|line| line.starts_with('‹') && line.trim_end().ends_with("RIGHT-END"))
    });
    tmux.keys(&["0"]);
    tmux.wait_until("the start again", DEADLINE, |screen| output_pane_of(screen).contains("LEFT-START") && !screen.contains("from column"));
}

#[test]
fn a_search_finds_a_match_thirty_thousand_lines_up_in_the_file() {
    let home = TestHome::new();
    let id = home.start("say:needle-far-up flood:30000");
    home.wait_for_status(&id, "done", DEADLINE);
    let tmux = Tmux::start(&dashboard_command(&home, 0, "--no-mcp"), 120, 32);
    tmux.wait_for(&format!("output  {id}"), DEADLINE);
    tmux.wait_for("line 29999", DEADLINE);
    tmux.keys(&["/"]);
    tmux.type_text("needle-far-up");
    tmux.keys(&["Enter"]);
    // Found by the whole-file search (the pane keeps 10,000 lines), and the lines
    // around it read: the title counts the file's own lines.
    tmux.wait_until("the match on screen", DEADLINE, |screen| {
        output_pane_of(screen).lines().any(|line| line == "needle-far-up" || line.starts_with("needle-far-up "))
    });
    tmux.wait_for("/needle-far-up 1/1", DEADLINE);
    tmux.wait_for("/30,002", DEADLINE);
    // A regular expression over the whole file too: from the needle's line (the first
    // shown), its first match is the first after it; N wraps to the last.
    tmux.escape("the first search ended", |screen| !screen.contains("· /needle-far-up"));
    tmux.keys(&["/"]);
    tmux.type_text("re:^line 1234[0-9]$");
    tmux.keys(&["Enter"]);
    tmux.wait_until("the first match after the cursor", DEADLINE, |screen| {
        screen.contains("/re:^line 1234[0-9]$ 1/10") && output_pane_of(screen).lines().any(|line| line == "line 12340")
    });
    tmux.keys(&["N"]);
    tmux.wait_until("N wrapped to the last match", DEADLINE, |screen| {
        screen.contains("/re:^line 1234[0-9]$ 10/10") && output_pane_of(screen).lines().any(|line| line == "line 12349")
    });
}
