//! The README's screenshot is the real demo: `assets/dashboard.txt` is what
//! `codex-async --demo` shows in tmux once every ending is on screen, with what
//! changes from run to run masked — ids and other hex runs, the MCP port, the AGE and
//! TIME cells, what the running job is doing, the `•` of jobs that ended unseen (which
//! depends on what was selected as the demo started). This test plays the demo again
//! and fails, with the difference and the command that retakes it, when the screen no
//! longer matches: a change to the dashboard that shows comes with its screenshot.
//!
//! `scripts/dashboard_screenshot.sh` retakes it: it runs this test with
//! `CODEX_ASYNC_SCREENSHOT=write` (the masked text goes to `assets/dashboard.txt`, the
//! capture with its colours to `CODEX_ASYNC_SCREENSHOT_ANSI`) and renders the colours
//! as `assets/dashboard.svg`, the README's image.

use crate::support::TestHome;
use crate::support::tmux::{DEADLINE, Tmux, dashboard_command, output_pane_of, row_in};

/// The screenshot's size.
const WIDTH: u16 = 140;
const HEIGHT: u16 = 32;

/// The command that retakes the screenshot.
const RETAKE: &str = "scripts/dashboard_screenshot.sh";

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join("dashboard.txt")
}

#[test]
fn the_committed_screenshot_is_what_the_demo_shows() {
    let home = TestHome::new();
    let tmp = home.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let _demo_jobs = super::DemoJobs { tmp: tmp.clone() };
    // HOME is the test's, so the folders show as ~/…; MCP on a free port.
    let command = format!("export TMPDIR={} HOME={}; {}", tmp.display(), home.path().display(), dashboard_command(&home, 0, "--demo"));
    let tmux = Tmux::start(&command, WIDTH, HEIGHT);
    // Every ending on screen: done with tokens, failed, cancelled, the follow-up done.
    let screen = tmux.wait_until("the demo's endings", super::DEMO_DEADLINE, |screen| {
        let rows: Vec<&str> = screen.lines().collect();
        let has = |status: &str, also: &str| rows.iter().any(|row| row.contains(status) && row.contains(also));
        screen.contains("(6 / 6)")
            && has("done", "19.6k")
            && has("error", "stream disconnected")
            && has("cancelled", "Benchmark")
            && has("done", "↳ Suggest")
    });
    // The job that edited the repository, its output to its end.
    let edit_row = screen.lines().find(|line| line.contains("Add a --json flag")).expect("the edit job's row");
    let edit = crate::support::tmux::job_id_in(edit_row).expect("its id");
    tmux.keys(&["G", "k"]);
    let screen = tmux.wait_until("the edit job selected, its output to its last line", DEADLINE, |screen| {
        screen.contains(&format!("output  {edit} ✓ done"))
            && output_pane_of(screen).contains("tokens: 18204 in")
            && row_in(screen, &edit).is_some_and(|row| !row.starts_with('•'))
    });
    let shown = mask(&screen);
    if std::env::var("CODEX_ASYNC_SCREENSHOT").as_deref() == Ok("write") {
        std::fs::write(committed_path(), &shown).unwrap();
        if let Ok(path) = std::env::var("CODEX_ASYNC_SCREENSHOT_ANSI") {
            let colours = tmux.run(&["capture-pane", "-e", "-p", "-t", Tmux::SESSION]).stdout;
            std::fs::write(path, colours).unwrap();
        }
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    if committed != shown {
        panic!(
            "assets/dashboard.txt is not what the demo shows now (masked fields aside):\n{}\nRetake it with `{RETAKE}` and commit \
             assets/dashboard.txt and assets/dashboard.svg.",
            difference(&committed, &shown)
        );
    }
    tmux.keys(&["q"]);
    crate::support::wait_until("the demo to exit", DEADLINE, || tmux.exited_cleanly());
}

/// The lines that differ, numbered: `-` the committed one, `+` the one shown now.
fn difference(committed: &str, shown: &str) -> String {
    let (old, new): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), shown.lines().collect());
    let mut out = String::new();
    for at in 0..old.len().max(new.len()) {
        let (was, is) = (old.get(at).copied(), new.get(at).copied());
        if was != is {
            out.push_str(&format!("line {}:\n- {}\n+ {}\n", at + 1, was.unwrap_or("(none)"), is.unwrap_or("(none)")));
        }
    }
    out
}

/// The screen with what changes between runs masked (see the module's doc).
fn mask(screen: &str) -> String {
    let lines: Vec<String> = screen.lines().map(|line| line.trim_end().to_owned()).collect();
    let titles = lines.iter().find(|line| line.contains(" ID ") && line.contains("STATUS")).cloned().unwrap_or_default();
    let column = |name: &str| titles.find(name).map(|at| titles[..at].chars().count());
    let cells = [("AGE", "TIME"), ("TIME", "EXIT")];
    let activity = (column("ACTIVITY"), column("PROMPT").or_else(|| column("(")));
    let mut masked = Vec::new();
    for line in &lines {
        let mut chars: Vec<char> = line.chars().collect();
        let mut words = line.split_whitespace();
        let (symbol, id) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        if symbol.chars().count() <= 2 && id.len() == 8 && id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            // A table row: the unseen marker, the id (with or without a digit in it), the
            // clock cells, a running job's doing.
            if chars.first() == Some(&'•') {
                chars[0] = ' ';
            }
            if let Some(at) = line.find(id) {
                let from = line[..at].chars().count();
                chars[from..from + 8].fill('#');
            }
            for (from, to) in cells {
                if let (Some(from), Some(to)) = (column(from), column(to)) {
                    blank(&mut chars, from, to.saturating_sub(1));
                }
            }
            if let (true, Some(from), Some(to)) = (line.contains(" running "), activity.0, activity.1) {
                blank(&mut chars, from, to.saturating_sub(1));
            }
        }
        masked.push(mask_hex(&mask_demo_folder(&mask_port(&chars.into_iter().collect::<String>()))));
    }
    let mut text = masked.join("\n");
    text.push('\n');
    text
}

/// Replaces the non-blank cell in `chars[from..to]` with `*`s over the whole range.
fn blank(chars: &mut Vec<char>, from: usize, to: usize) {
    if chars.len() < to {
        chars.resize(to, ' ');
    }
    if chars[from..to].iter().any(|ch| !ch.is_whitespace()) {
        for ch in &mut chars[from..to] {
            *ch = '*';
        }
    }
}

/// `127.0.0.1:37305` → `127.0.0.1:#####`.
fn mask_port(line: &str) -> String {
    let Some(at) = line.find("127.0.0.1:") else { return line.to_owned() };
    let start = at + "127.0.0.1:".len();
    let digits = line[start..].chars().take_while(char::is_ascii_digit).count();
    format!("{}{}{}", &line[..start], "#".repeat(digits), &line[start + digits..])
}

/// The demo folder's random suffix in the header (`…cccebacb/home/jobs`), digits or not.
fn mask_demo_folder(line: &str) -> String {
    let Some(at) = line.find("/home/jobs") else { return line.to_owned() };
    let suffix = line[..at].chars().rev().take_while(char::is_ascii_alphanumeric).count();
    let start = at - suffix;
    format!("{}{}{}", &line[..start], "#".repeat(suffix), &line[at..])
}

/// Runs of hex digits and dashes 8 long or more with a digit in them (ids, the demo
/// folder's suffix, session ids) → `#`s.
fn mask_hex(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    while at < chars.len() {
        let is_part = |ch: char| ch.is_ascii_digit() || ('a'..='f').contains(&ch) || ch == '-';
        let starts_word = at == 0 || !chars[at - 1].is_ascii_alphanumeric();
        if starts_word && is_part(chars[at]) {
            let end = (at..chars.len()).find(|&end| !is_part(chars[end])).unwrap_or(chars.len());
            let run = &chars[at..end];
            let ends_word = end == chars.len() || !chars[end].is_ascii_alphanumeric();
            if run.len() >= 8 && ends_word && run.iter().any(char::is_ascii_digit) {
                out.extend(std::iter::repeat_n('#', run.len()));
                at = end;
                continue;
            }
        }
        out.push(chars[at]);
        at += 1;
    }
    out
}

#[test]
fn masking_hides_ids_ports_and_clocks_and_nothing_else() {
    assert_eq!(
        mask_hex("job 4dc6d5a3 and e26cd058-2fa3-47b2-a10a-6514478a8795."),
        "job ######## and ####################################."
    );
    assert_eq!(mask_hex("…a35fdc3e/home/jobs"), "…########/home/jobs");
    assert_eq!(mask_demo_folder("│ …cccebacb/home/jobs"), "│ …########/home/jobs", "a suffix without a digit");
    assert_eq!(mask_hex("added deadbeef 0.13 faced-bad"), "added deadbeef 0.13 faced-bad", "hex words without a digit stay");
    assert_eq!(mask_port("MCP http://127.0.0.1:37305/mcp"), "MCP http://127.0.0.1:#####/mcp");
    let screen = "   ID       STATUS    AGE   TIME    EXIT POLICY\n•✓ 4dc6d5a3 done      30s   2s      0    suggest\n output  4dc6d5a3 ✓ done · demo\n";
    assert_eq!(
        mask(screen),
        "   ID       STATUS    AGE   TIME    EXIT POLICY\n ✓ ######## done      ***** ******* 0    suggest\n output  ######## ✓ done · demo\n"
    );
}
