//! The dashboard end to end: the real binary in a detached tmux session on a temp
//! CODEX_ASYNC_HOME, driven with keys and read with `capture-pane`.
#![allow(clippy::unwrap_used)]

mod common;
mod common_tmux;

use std::time::Duration;

use common::{TestHome, is_alive, wait_until};
use common_tmux::{Tmux, dashboard_command, free_port};

#[test]
fn jobs_appear_live_cancel_with_confirmation_and_quit_leaves_jobs_running() {
    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, free_port(), ""), 140, 36);
    tmux.wait_for("codex-async", Duration::from_secs(10));
    tmux.wait_for("No jobs yet", Duration::from_secs(5));

    // A job started by another process shows up, pushed by notify.
    let survivor = home.start("say:survivor sleep:60");
    tmux.wait_for(&survivor, Duration::from_secs(2));
    let doomed = home.start("say:doomed stubborn-child setsid-grandchild sleep:60");
    tmux.wait_for(&doomed, Duration::from_secs(2));
    wait_until("the doomed job's processes to report", Duration::from_secs(5), || {
        home.reported_pids(&doomed, "stubborn").len() == 1 && home.reported_pids(&doomed, "escaped").len() == 1
    });
    let pids: Vec<i32> = ["agent", "stubborn", "escaped"].iter().flat_map(|role| home.reported_pids(&doomed, role)).collect();
    assert_eq!(pids.len(), 3);

    // Its output streams into the pane once selected: filter to it, it is selected.
    tmux.keys(&["f"]);
    tmux.type_text(&doomed);
    tmux.keys(&["Enter"]);
    tmux.wait_for("doomed", Duration::from_secs(2));
    tmux.wait_for(&format!("output  {doomed}"), Duration::from_secs(2));

    // c asks first; n keeps it running.
    tmux.keys(&["c"]);
    tmux.wait_for(&format!("Cancel job {doomed}?"), Duration::from_secs(2));
    tmux.keys(&["n"]);
    wait_until("the confirmation to close", Duration::from_secs(2), || !tmux.capture().contains("Cancel job"));
    assert_eq!(home.status(&doomed), "running");

    // c, y: cancelled on screen, and every process of the job is gone.
    tmux.keys(&["c"]);
    tmux.wait_for(&format!("Cancel job {doomed}?"), Duration::from_secs(2));
    tmux.keys(&["y"]);
    home.wait_for_status(&doomed, "cancelled", Duration::from_secs(15));
    wait_until("the row to say cancelled", Duration::from_secs(3), || tmux.row_of(&doomed).is_some_and(|line| line.contains("cancelled")));
    wait_until("the job's processes to be gone", Duration::from_secs(10), || {
        pids.iter().all(|&pid| !is_alive(pid)) && home.job_processes(&doomed).is_empty()
    });

    // Resizing to a tiny terminal and back keeps it working.
    tmux.run(&["resize-window", "-t", Tmux::SESSION, "-x", "40", "-y", "10"]);
    tmux.wait_for("codex-async", Duration::from_secs(2));
    tmux.run(&["resize-window", "-t", Tmux::SESSION, "-x", "140", "-y", "36"]);

    // q quits; the other job keeps running and the exit message says so.
    tmux.keys(&["q"]);
    wait_until("the dashboard to exit", Duration::from_secs(5), || tmux.exited_cleanly());
    tmux.wait_for("keep running in the background", Duration::from_secs(2));
    assert!(tmux.capture().contains(&survivor));
    assert_eq!(home.status(&survivor), "running");
    assert!(home.reported_pids(&survivor, "agent").iter().all(|&pid| is_alive(pid)));
}

#[test]
fn a_job_started_from_the_form_runs_and_its_output_streams() {
    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, free_port(), "--no-mcp"), 120, 30);
    tmux.wait_for("No jobs yet", Duration::from_secs(10));
    assert!(tmux.capture().contains("MCP off (--no-mcp)"));

    tmux.keys(&["n"]);
    tmux.wait_for("New job", Duration::from_secs(2));
    // The cwd defaults to where the dashboard started.
    assert!(tmux.capture().contains(&home.path().display().to_string()));
    tmux.type_text("say:hello-from-the-form sleep:1 say:second-line");
    tmux.keys(&["Enter"]);
    tmux.wait_for("started job", Duration::from_secs(5));
    tmux.wait_for("say:hello-from-the-form", Duration::from_secs(2));
    let line = tmux.line_with("hello-from-the-form").expect("the row shows the prompt");
    let id = line.split_whitespace().find(|word| word.len() == 8 && word.bytes().all(|b| b.is_ascii_hexdigit())).unwrap().to_owned();
    tmux.wait_for("second-line", Duration::from_secs(5));
    home.wait_for_status(&id, "done", Duration::from_secs(10));
    wait_until("the row to say done", Duration::from_secs(3), || tmux.row_of(&id).is_some_and(|line| line.contains("done")));

    // Scrolling up stops following (the title says so); G follows again.
    tmux.keys(&["Tab", "Up"]);
    tmux.wait_for("scrolled, line", Duration::from_secs(2));
    tmux.keys(&["G"]);
    tmux.wait_for("· following", Duration::from_secs(2));
    tmux.keys(&["Tab"]);

    // Search, help, zoom: the screen answers and comes back.
    tmux.keys(&["?"]);
    tmux.wait_for("Keys (Esc closes)", Duration::from_secs(2));
    tmux.keys(&["Escape"]);
    tmux.keys(&["/"]);
    tmux.type_text("second");
    tmux.keys(&["Enter"]);
    tmux.wait_for("/second 1/1", Duration::from_secs(2));
    tmux.keys(&["Enter"]);
    tmux.wait_for("Esc unzoom", Duration::from_secs(2));
    tmux.keys(&["C-c"]);
    wait_until("Ctrl-C to quit", Duration::from_secs(5), || tmux.exited_cleanly());
    tmux.wait_for("no job is running", Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_started_over_the_dashboards_mcp_endpoint_appears_within_two_seconds() {
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::StreamableHttpClientTransport;

    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, 0, ""), 140, 30);
    // The header says a token is needed and how to print it.
    tmux.wait_for("token: codex-async token", Duration::from_secs(10));
    let url = common_tmux::mcp_url(&tmux);

    // Without the token the endpoint refuses; with the home's token it serves.
    let refused = ().serve(StreamableHttpClientTransport::from_uri(url.clone())).await;
    assert!(refused.is_err(), "a client without the token was served");
    let token = std::fs::read_to_string(home.path().join("token")).unwrap().trim().to_owned();
    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
    let client = ().serve(StreamableHttpClientTransport::from_config(config)).await.unwrap();
    let arguments = serde_json::json!({ "prompt": "say:over-mcp sleep:30", "cwd": home.path() });
    let params = CallToolRequestParams::new("codex_start").with_arguments(arguments.as_object().cloned().unwrap());
    let result = client.call_tool(params).await.unwrap();
    let started: serde_json::Value = result.structured_content.clone().unwrap_or_else(|| {
        let text = result.content.iter().find_map(|content| content.as_text().map(|text| text.text.clone())).unwrap();
        serde_json::from_str(&text).unwrap()
    });
    let id = started["job_id"].as_str().unwrap().to_owned();
    let started_at = std::time::Instant::now();
    tmux.wait_for(&id, Duration::from_secs(2));
    assert!(started_at.elapsed() < Duration::from_secs(2));
    let _ = client.cancel().await;
}

#[test]
fn a_taken_port_turns_mcp_off_and_the_dashboard_keeps_working() {
    let home = TestHome::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let tmux = Tmux::start(&dashboard_command(&home, port, ""), 160, 20);
    tmux.wait_for("MCP off:", Duration::from_secs(10));
    assert!(tmux.capture().contains("in use"), "the header says why:\n{}", tmux.capture());
    let id = home.start("say:still-works");
    tmux.wait_for(&id, Duration::from_secs(2));
    tmux.keys(&["q"]);
    wait_until("the dashboard to exit", Duration::from_secs(5), || tmux.exited_cleanly());
}

#[test]
fn the_demo_shows_simulated_jobs_and_cleans_up_on_quit() {
    let home = TestHome::new();
    let tmux = Tmux::start(&dashboard_command(&home, free_port(), "--demo --no-mcp"), 140, 30);
    tmux.wait_for("(4 / 4)", Duration::from_secs(15));
    tmux.wait_for("OpenAI Codex", Duration::from_secs(5));
    let screen = tmux.capture();
    let folder = screen
        .split_whitespace()
        .find(|word| word.contains("codex-async-demo-"))
        .map(|word| std::path::PathBuf::from(word.trim_end_matches("/jobs")))
        .expect("the header names the demo folder");
    assert!(folder.is_dir());
    tmux.keys(&["q"]);
    wait_until("the demo to exit", Duration::from_secs(15), || tmux.exited_cleanly());
    tmux.wait_for("demo closed", Duration::from_secs(2));
    assert!(!folder.exists(), "the demo folder is removed");
}
