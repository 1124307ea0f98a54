use super::*;

#[test]
fn timeouts_are_capped_and_checked() {
    let cap = Duration::from_secs(45);
    assert_eq!(capped_timeout(None, cap).ok(), Some(Duration::from_secs(30)));
    assert_eq!(capped_timeout(Some(100.0), cap).ok(), Some(cap));
    assert_eq!(capped_timeout(Some(0.5), cap).ok(), Some(Duration::from_millis(500)));
    assert!(capped_timeout(Some(-1.0), cap).is_err());
    assert!(capped_timeout(Some(f64::NAN), cap).is_err());
}
