//! The header, the table's title, the output's title and the footer at the widths
//! terminals have, with a text filter, a sort, a marked job and a running one: each
//! says what it says whole, or cut where it shows (`…`), never clipped mid-word.

use super::*;
use crate::tui::model::filters::SortKey;

/// The widths snapshotted.
const WIDTHS: [u16; 5] = [80, 100, 120, 140, 200];

/// A loaded app filtered by text, sorted by status, one job marked, searching the
/// running job's output.
fn busy(width: u16) -> App {
    let mut app = loaded(width, 20);
    app.queue_limit = Some(3);
    app.apply(Action::EditFilter);
    for ch in "re".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::Submit);
    while app.sort != SortKey::Status {
        app.apply(Action::CycleSort);
    }
    app.apply(Action::First);
    select(&mut app, "a1b2c3d4");
    app.apply(Action::ToggleMark);
    app.apply(Action::First);
    select(&mut app, "a1b2c3d4");
    output(&mut app, "a1b2c3d4", &["compiling", "running 12 tests", "test storage::sqlite ... ok"], None);
    app.apply(Action::EditSearch);
    for ch in "test".chars() {
        app.apply(Action::Edit(Edit::Insert(ch)));
    }
    app.apply(Action::Submit);
    app.flash = None;
    app
}

/// The lines that carry the words: header, the table's title row, the output's title
/// and the footer.
fn framing(app: &App) -> String {
    let screen = screen(app);
    let lines: Vec<&str> = screen.lines().collect();
    let output_title = lines.iter().find(|line| line.contains(" output ")).copied().unwrap_or_default();
    [lines[0], lines[1], output_title, lines[lines.len() - 1]].join("\n")
}

#[test]
fn header_titles_and_footer_are_legible_at_every_width() {
    for width in WIDTHS {
        let app = busy(width);
        let framing = framing(&app);
        let lines: Vec<&str> = framing.lines().collect();
        let (header, title, output_title, footer) = (lines[0], lines[1], lines[2], lines[3]);
        // The header keeps the running count and says how to reach the MCP endpoint.
        assert!(header.contains("● 1 running") || header.contains("●1"), "{width}: {header}");
        assert!(header.contains("MCP "), "{width}: {header}");
        // The table's title says what it shows, whole.
        for part in ["[f: re]", "[by status]", "[1 marked]"] {
            assert!(title.contains(part), "{width}: {part} in {title}");
        }
        assert!(output_title.contains("/test"), "{width}: the search in the output's title: {output_title}");
        assert!(footer.contains("? help") && footer.contains("q quit"), "{width}: {footer}");
        // Nothing runs into the right edge mid-word without a mark.
        for line in [header, title, output_title, footer] {
            let last = line.trim_end_matches(['"']).chars().last().unwrap_or(' ');
            assert!(
                last == ' '
                    || last == '─'
                    || last == '…'
                    || !line.trim_end().ends_with(char::is_alphanumeric)
                    || line.trim_end().len() < line.len(),
                "{width}: {line}"
            );
        }
        insta::assert_snapshot!(format!("framing_{width}"), framing);
    }
}
