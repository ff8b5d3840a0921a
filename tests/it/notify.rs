//! `[notify]`: a receiver the test runs on loopback takes the webhook and
//! PagerDuty posts; dedup, resolve, a hanging receiver, a failing one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;

#[derive(Clone, Copy)]
enum Mode {
    Answer(u16),
    Hang,
}

/// A tiny HTTP server: records (path, JSON body) of every POST.
struct Receiver {
    port: u16,
    seen: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
}

impl Receiver {
    fn start(mode: Mode) -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(c.try_clone().unwrap());
                    let mut line = String::new();
                    r.read_line(&mut line).unwrap_or(0);
                    let path = line.split(' ').nth(1).unwrap_or("").to_string();
                    let mut len = 0usize;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    let _ = r.read_exact(&mut body);
                    let v = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    log.lock().unwrap().push((path, v));
                    let mut c = c;
                    match mode {
                        Mode::Hang => std::thread::sleep(Duration::from_secs(30)),
                        Mode::Answer(code) => {
                            let _ = c.write_all(
                                format!("HTTP/1.1 {code} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}")
                                    .as_bytes(),
                            );
                        }
                    }
                });
            }
        });
        Receiver { port, seen }
    }

    fn config(&self, extra: &str) -> String {
        format!(
            "[notify]\nwebhook = \"http://127.0.0.1:{p}/hook/T0-SECRET\"\npagerduty_routing_key = \"ROUTINGKEY-0123456789\"\n\
             pagerduty_url = \"http://127.0.0.1:{p}/v2/enqueue\"\ntimeout = \"500ms\"\n{extra}",
            p = self.port
        )
    }

    fn take(&self) -> Vec<(String, serde_json::Value)> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    fn pagerduty(posts: &[(String, serde_json::Value)]) -> Vec<serde_json::Value> {
        posts
            .iter()
            .filter(|(p, _)| p == "/v2/enqueue")
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The host's own load must not page or resolve in the middle of a test.
const QUIET_HOST: &str =
    "[slo]\nwindow = \"0s\"\n[health]\nload_warn_per_core = 1000.0\nload_crit_per_core = 2000.0\n";

fn health(dir: &std::path::Path, url: &str) -> std::process::Output {
    run(hal9ctl(dir).args(["-c", "hal9.toml", "health", "--url", url, "-o", "json"]))
}

#[test]
fn a_critical_verdict_pages_once_and_resolves_when_the_check_recovers() {
    let rx = Receiver::start(Mode::Answer(202));
    let d = tempdir();
    std::fs::write(d.path().join("hal9.toml"), rx.config(QUIET_HOST)).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");

    // Nothing listens: the runtime is down, CRITICAL.
    let o = health(d.path(), &url);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let posts = rx.take();
    let pd = Receiver::pagerduty(&posts);
    assert!(!pd.is_empty(), "a page was sent: {posts:?}");
    let hooks: Vec<_> = posts
        .iter()
        .filter(|(p, _)| p == "/hook/T0-SECRET")
        .collect();
    assert_eq!(hooks.len(), pd.len(), "one webhook post per page");
    assert!(
        hooks[0].1["text"].as_str().unwrap().contains("CRITICAL"),
        "{:?}",
        hooks[0]
    );
    for e in &pd {
        assert_eq!(e["routing_key"], "ROUTINGKEY-0123456789");
        assert_eq!(e["event_action"], "trigger");
        assert_eq!(e["payload"]["severity"], "critical");
        assert!(
            e["payload"]["source"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        assert!(
            e["payload"]["summary"]
                .as_str()
                .unwrap()
                .contains("CRITICAL")
        );
        assert!(e["dedup_key"].as_str().unwrap().starts_with("hal9ctl:"));
    }
    let keys: Vec<String> = pd
        .iter()
        .map(|e| e["dedup_key"].as_str().unwrap().to_string())
        .collect();

    // Still down: the same pages are open, nothing is sent again.
    let o = health(d.path(), &url);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        rx.take().is_empty(),
        "a repeated CRITICAL must not page twice"
    );

    // The runtime of this state dir comes up on that port: the open pages
    // resolve, by the same keys.
    let s = Server::start_in(d, None, &["--listen", &format!("127.0.0.1:{port}")]);
    let o = health(s.dir.path(), &url);
    let v = json(&o);
    let runtime_ok = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "runtime process" && c["status"] == "ok");
    assert!(runtime_ok, "{v}");
    let resolved = Receiver::pagerduty(&rx.take());
    assert!(!resolved.is_empty(), "a resolve was sent");
    for e in &resolved {
        assert_eq!(e["event_action"], "resolve");
        assert!(
            keys.contains(&e["dedup_key"].as_str().unwrap().to_string()),
            "{e} not in {keys:?}"
        );
    }
}

#[test]
fn a_destructive_action_posts_one_event_and_never_the_admin_token() {
    let rx = Receiver::start(Mode::Answer(200));
    let s = Server::start(Some(&rx.config("")));
    let o = run(hal9ctl(s.dir.path()).args(["scale", "--emergency", "--yes"]));
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&o)
    );
    let posts = rx.take();
    assert_eq!(
        posts.len(),
        2,
        "one event, to the webhook and to PagerDuty: {posts:?}"
    );
    for (_, body) in &posts {
        let text = body.to_string();
        assert!(text.contains("scale"), "{text}");
        assert!(
            !text.contains(&s.token),
            "the admin token is in a body: {text}"
        );
    }
    let pd = Receiver::pagerduty(&posts);
    assert_eq!(pd[0]["event_action"], "trigger");
    assert!(
        pd[0]["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("hal9ctl scale")
    );

    // A dry run acts on nothing and tells nobody.
    let o = run(hal9ctl(s.dir.path()).args(["scale", "--restore", "--dry-run"]));
    assert!(o.status.code().is_some());
    assert!(rx.take().is_empty(), "a dry run posts nothing");
}

#[test]
fn a_hanging_receiver_times_out_and_the_outcome_is_unchanged() {
    let rx = Receiver::start(Mode::Hang);
    let d = tempdir();
    std::fs::write(d.path().join("hal9.toml"), rx.config(QUIET_HOST)).unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let o = health(d.path(), &url);
    assert_eq!(
        o.status.code(),
        Some(2),
        "CRITICAL as without notifications"
    );
    assert_eq!(json(&o)["status"], "critical", "the report is intact");
    let err = stderr(&o);
    assert_eq!(
        err.matches("could not deliver").count(),
        1,
        "warned once: {err}"
    );
    assert!(err.contains("no answer within 500ms"), "{err}");
    assert!(
        !err.contains("T0-SECRET"),
        "the webhook's secret path is not shown: {err}"
    );
    let a = run(hal9ctl(d.path()).args(["audit", "-o", "json"]));
    let v = json(&a);
    let failed: Vec<_> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "notify")
        .collect();
    assert!(!failed.is_empty(), "recorded in the audit log: {v}");
    assert!(
        failed
            .iter()
            .all(|e| e["result"].as_str().unwrap().starts_with("failed:"))
    );

    // -q: the same outcome, no warning.
    let o = run(hal9ctl(d.path()).args(["-c", "hal9.toml", "-q", "health", "--url", &url]));
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("could not deliver"), "{}", stderr(&o));
}

#[test]
fn a_receiver_answering_500_is_warned_about_and_the_page_is_retried_next_run() {
    let rx = Receiver::start(Mode::Answer(500));
    let d = tempdir();
    std::fs::write(d.path().join("hal9.toml"), rx.config(QUIET_HOST)).unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let o = health(d.path(), &url);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("500"), "{}", stderr(&o));
    let first = Receiver::pagerduty(&rx.take());
    assert!(!first.is_empty());
    // Not delivered, so not recorded as paged: the next run tries again, same key.
    let o = health(d.path(), &url);
    assert_eq!(o.status.code(), Some(2));
    let again = Receiver::pagerduty(&rx.take());
    assert_eq!(
        again
            .iter()
            .map(|e| e["dedup_key"].clone())
            .collect::<Vec<_>>(),
        first
            .iter()
            .map(|e| e["dedup_key"].clone())
            .collect::<Vec<_>>()
    );
}
