use std::time::Duration;

use serde_json::json;

use super::shared::waiting::capped_timeout;
use super::*;

#[test]
fn every_tool_has_object_schemas_and_unique_names() {
    let tools = definitions(Duration::from_secs(45), &Agents::default());
    assert!(tools.iter().any(|tool| tool.description.as_deref().is_some_and(|text| text.contains("at most 45 s"))));
    let mut names: Vec<_> = tools.iter().map(|tool| tool.name.to_string()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), NAMES.len());
    for tool in &tools {
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        let output = tool.output_schema.as_ref().map(|schema| schema.get("type").cloned());
        assert_eq!(output, Some(Some(json!("object"))), "{}", tool.name);
    }
}

#[test]
fn timeouts_are_capped_and_checked() {
    let cap = Duration::from_secs(45);
    assert_eq!(capped_timeout(None, cap).ok(), Some(Duration::from_secs(30)));
    assert_eq!(capped_timeout(Some(100.0), cap).ok(), Some(cap));
    assert_eq!(capped_timeout(Some(0.5), cap).ok(), Some(Duration::from_millis(500)));
    assert!(capped_timeout(Some(-1.0), cap).is_err());
    assert!(capped_timeout(Some(f64::NAN), cap).is_err());
}
