//! A context served by procmond, what needs no daemon: an endpoint with no
//! daemon fails the open, "" reads this machine whatever PROCMON_ENDPOINT
//! says, and a local context refuses what only a daemon has.
use procmon::{Context, ErrorKind, Options, SubscribeOptions};

#[test]
fn an_endpoint_with_no_daemon_fails_the_open_and_says_start_procmond() {
    let dir = std::env::temp_dir().join(format!("procmon-rust-remote-{}", std::process::id()));
    let err = Context::with_options(&Options::default().endpoint(dir.join("procmond.sock"))).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{}", err);
    assert!(err.message().contains("is procmond running?"), "{}", err);
}

#[test]
fn a_local_context_refuses_from_seq_history_and_the_daemon_status() {
    let ctx = Context::with_options(&Options::default().endpoint("")).unwrap();
    let e = ctx.subscribe(&SubscribeOptions::new().from_seq(3)).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{}", e);
    let e = ctx.subscribe(&SubscribeOptions::new().history(true)).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{}", e);
    let e = ctx.daemon_status().err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{}", e);
}
