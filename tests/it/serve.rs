//! `hal9ctl serve` and `hal9ctl signal`: the real binary on loopback.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

#[test]
fn every_route_answers_with_its_contract() {
    let s = Server::start(None);
    let h = s.get("/health");
    assert_eq!(h.status, 200);
    let hv = h.json();
    assert_eq!(hv["status"], "healthy");
    assert_eq!(hv["pid"], s.pid());
    assert!(
        hv["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "event_loop")
    );

    let r = s.get("/ready");
    assert_eq!((r.status, r.json()), (200, json!({"ready": true})));

    let st = s.get("/api/v1/status").json();
    assert_eq!(st["pid"], s.pid());
    assert_eq!(st["layers"].as_array().unwrap().len(), 5);
    assert_eq!(
        st["limits"],
        json!({"max_in_flight": 256, "rate_limit_rps": 1000})
    );
    assert_eq!(st["draining"], false);

    let n = s.get("/api/v1/neurons").json();
    assert_eq!(n["neurons"].as_array().unwrap().len(), 6);

    let sig = s.signal(json!({"content": "users report slow answers"}));
    assert_eq!(sig.status, 200, "{}", sig.body);
    let v = sig.json();
    assert_eq!(v["path"], "hierarchical");
    let layers: Vec<&str> = v["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, vec!["L1", "L2", "L2", "L3", "L4", "L5"]);
    assert!(v["id"].as_str().unwrap().starts_with("sig-"));
    assert!(v["trace"][0]["latency_us"].is_u64());

    let m = s.get("/metrics");
    assert_eq!(m.status, 200);
    assert!(m.body.contains("hal9_signals_total 1\n"), "{}", m.body);
    assert!(
        m.body
            .contains("hal9_http_requests_total{route=\"/api/v1/signal\",status=\"200\"} 1")
    );
    assert!(m.body.contains("hal9_in_flight_requests 0"));
    assert!(m.body.contains("hal9_draining 0"));

    let nf = s.get("/no/such/route");
    assert_eq!(nf.status, 404);
    assert_eq!(nf.json()["error"]["code"], "not_found");
}

#[test]
fn bad_requests_get_json_errors_with_the_right_status() {
    let s = Server::start(None);
    let url = format!("{}/api/v1/signal", s.url);
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (
            Some("application/json"),
            b"{\"content\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            Some("text/plain"),
            b"{\"content\": \"x\"}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            None,
            b"{\"content\": \"x\"}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (Some("application/json"), Vec::new(), 400, "empty_body"),
        (
            Some("application/json"),
            format!("{{\"content\": \"{}\"}}", "x".repeat(65 * 1024)).into_bytes(),
            413,
            "body_too_large",
        ),
        (
            Some("application/json"),
            b"{\"content\": \"x\", \"layer\": \"L9\"}".to_vec(),
            400,
            "invalid_request",
        ),
        (
            Some("application/json"),
            b"{\"content\": \"x\", \"neuron_id\": \"ghost\"}".to_vec(),
            404,
            "unknown_neuron",
        ),
        (
            Some("application/json"),
            b"{\"content\": \"   \"}".to_vec(),
            400,
            "empty_content",
        ),
        (
            Some("application/json"),
            b"{\"text\": \"x\"}".to_vec(),
            400,
            "invalid_request",
        ),
    ];
    for (ct, body, status, code) in cases {
        let a = http("POST", &url, None, ct, Some(body));
        assert_eq!(a.status, status, "{ct:?} → {}", a.body);
        assert_eq!(a.json()["error"]["code"], code, "{}", a.body);
        assert!(!a.json()["error"]["message"].as_str().unwrap().is_empty());
    }
    // The server is still healthy after all of that.
    assert_eq!(s.get("/health").json()["status"], "healthy");
}

#[test]
fn admin_needs_the_bearer_token() {
    let s = Server::start(None);
    for (token, want) in [
        (None, 401),
        (Some("wrong"), 401),
        (Some(s.token.as_str()), 200),
    ] {
        let a = http("GET", &format!("{}/admin/limits", s.url), token, None, None);
        assert_eq!(a.status, want, "{}", a.body);
        if want == 401 {
            assert_eq!(a.json()["error"]["code"], "unauthorized");
            assert_eq!(a.headers.get("www-authenticate").unwrap(), "Bearer");
        }
    }
    let a = http("POST", &format!("{}/admin/drain", s.url), None, None, None);
    assert_eq!(a.status, 401);
    assert_eq!(
        s.get("/ready").status,
        200,
        "an unauthenticated drain changes nothing"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(s.dir.path().join("admin.token"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn over_the_rate_limit_answers_429_with_retry_after() {
    let s = Server::start(None);
    let a = s.admin(
        "PUT",
        "/admin/limits",
        Some(json!({"max_in_flight": 256, "rate_limit_rps": 5})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        s.admin("GET", "/admin/limits", None).json(),
        json!({"max_in_flight": 256, "rate_limit_rps": 5})
    );
    let answers: Vec<Answer> = (0..20)
        .map(|i| s.signal(json!({"content": format!("burst {i}")})))
        .collect();
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(
        !limited.is_empty(),
        "20 requests at once over a 5 rps limit"
    );
    assert!(answers.iter().filter(|a| a.status == 200).count() >= 5);
    assert_eq!(limited[0].json()["error"]["code"], "rate_limited");
    assert_eq!(limited[0].headers.get("retry-after").unwrap(), "1");
    let bad = s.admin(
        "PUT",
        "/admin/limits",
        Some(json!({"max_in_flight": 0, "rate_limit_rps": 5})),
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn a_repeated_signal_is_served_from_the_layer_caches() {
    let s = Server::start(None);
    let first = s.signal(json!({"content": "same question"})).json();
    let second = s.signal(json!({"content": "same question"})).json();
    assert_eq!(first["output"], second["output"]);
    for hop in second["trace"].as_array().unwrap() {
        let cached_layer = ["L2", "L3", "L4"].contains(&hop["layer"].as_str().unwrap());
        assert_eq!(hop["cache_hit"], cached_layer, "{hop}");
    }
    let caches = s.get("/api/v1/status").json()["caches"].clone();
    let l4 = caches
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["layer"] == "L4")
        .unwrap()
        .clone();
    assert_eq!(
        (
            l4["hits"].as_u64(),
            l4["misses"].as_u64(),
            l4["ttl_s"].as_u64()
        ),
        (Some(1), Some(1), Some(120))
    );
}

#[test]
fn a_failing_command_opens_its_breaker_and_recovery_closes_it() {
    let dir = tempdir();
    let marker = dir.path().join("healthy");
    let config = format!(
        r#"
[runtime]
breaker_open_for = "1s"

[[neurons]]
id = "entry"
layer = "L1"
processor = "rules"
forward = ["llm"]
rules = [{{ pattern = "*", output = "{{input}}" }}]

[[neurons]]
id = "llm"
layer = "L3"
processor = "command"
command = ["sh", "-c", "test -f {} && cat"]
backward = ["entry"]
"#,
        marker.display()
    );
    let s = Server::start_in(dir, Some(&config), &[]);
    let breaker = |s: &Server| {
        let n = s.get("/api/v1/neurons").json();
        n["neurons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == "llm")
            .unwrap()["breaker"]
            .clone()
    };
    for i in 0..5 {
        let a = s.signal(json!({"content": format!("try {i}")}));
        assert_eq!(a.status, 200, "the entry neuron still answers: {}", a.body);
        let v = a.json();
        assert_eq!(v["gradients"][0]["from"], "llm");
        assert_eq!(v["gradients"][0]["to"], "entry");
    }
    assert_eq!(breaker(&s), "open");
    let a = s.signal(json!({"content": "while open"})).json();
    assert!(
        a["trace"][1]["error"]
            .as_str()
            .unwrap()
            .contains("circuit breaker open")
    );
    let h = s.get("/health");
    assert_eq!(h.status, 200);
    assert_eq!(
        h.json()["status"],
        "degraded",
        "the server stays up, degraded"
    );

    std::fs::write(&marker, "").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    for i in 0..3 {
        let a = s
            .signal(json!({"content": format!("recovered {i}")}))
            .json();
        assert_eq!(a["output"], format!("recovered {i}"), "{a}");
    }
    assert_eq!(breaker(&s), "closed");
    assert_eq!(s.get("/health").json()["status"], "healthy");
}

const SLOW: &str = r#"
[[neurons]]
id = "slow"
layer = "L1"
processor = "command"
command = ["sh", "-c", "sleep 2; cat"]
"#;

#[test]
fn sigterm_drains_in_flight_requests_and_is_not_ready_at_once() {
    let mut s = Server::start(Some(SLOW));
    let url = format!("{}/api/v1/signal", s.url);
    let inflight = std::thread::spawn(move || post_json(&url, &json!({"content": "finish me"})));
    std::thread::sleep(Duration::from_millis(400));
    s.term();
    // Not ready at once, while the slow request is still running. "At once"
    // is within 1 s of the signal: its delivery to a loaded process is not instant.
    let t0 = Instant::now();
    let mut ready = s.get("/ready");
    while ready.status == 200 && t0.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(20));
        ready = s.get("/ready");
    }
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.json(), json!({"ready": false, "reason": "draining"}));
    assert!(t0.elapsed() < Duration::from_secs(1));
    let done = inflight.join().unwrap();
    assert_eq!(
        done.status, 200,
        "the in-flight request completed: {}",
        done.body
    );
    assert_eq!(done.json()["output"], "finish me");
    let status = s.wait();
    assert_eq!(status.code(), Some(0));
    assert!(
        !s.dir.path().join("runtime.json").exists(),
        "runtime.json is removed on a clean stop"
    );
}

#[test]
fn a_second_serve_on_the_same_state_dir_is_refused() {
    let s = Server::start(None);
    let o = run(hal9ctl(s.dir.path()).args(["serve", "--listen", "127.0.0.1:0"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("a runtime (pid {}) is already running", s.pid())),
        "{err}"
    );
    assert!(err.contains("next: hal9ctl health"), "{err}");
    let o = run(hal9ctl(s.dir.path()).args(["serve", "--detach", "--listen", "127.0.0.1:0"]));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(s.get("/ready").status, 200, "the first one is untouched");
}

#[test]
fn detach_returns_once_ready_and_the_runtime_keeps_running() {
    let d = tempdir();
    let o =
        run(hal9ctl(d.path()).args(["serve", "--detach", "--listen", "127.0.0.1:0", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let pid = v["pid"].as_u64().unwrap() as i32;
    let guard = KillOnDrop(pid);
    let url = v["url"].as_str().unwrap().to_string();
    assert_eq!(
        http("GET", &format!("{url}/ready"), None, None, None).status,
        200
    );
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("runtime.json")).unwrap())
            .unwrap();
    assert_eq!(info["pid"], pid);
    assert!(d.path().join("hal9.log").exists());
    // The signal command finds it through --url.
    let o = run(hal9ctl(d.path()).args(["signal", "disk is full", "--url", &url]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains("runbook disk-full"), "{table}");
    assert!(table.contains("L5 Strategic"), "{table}");
    let o = run(hal9ctl(d.path()).args(["signal", "x", "--neuron", "ghost", "--url", &url]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown_neuron"), "{}", stderr(&o));
    drop(guard);
}

struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let t0 = Instant::now();
        while nix::sys::signal::kill(pid, None).is_ok() && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn a_port_held_by_a_foreign_listener_is_named_with_the_next_step() {
    let d = tempdir();
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let o = run(hal9ctl(d.path()).args(["serve", "--listen", &format!("127.0.0.1:{port}")]));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("port {port} on 127.0.0.1 is in use")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "next: hal9ctl emergency port-conflict --port {port}"
        )),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "one line naming the problem: {err}"
    );

    let o = run(hal9ctl(d.path()).args(["serve", "--listen", "not-an-address"]));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--listen \"not-an-address\" is not an IP:PORT address"),
        "{err}"
    );
    assert!(
        err.contains("next: hal9ctl serve --listen 127.0.0.1:8080"),
        "{err}"
    );
}

#[test]
fn signal_to_nothing_listening_is_critical_with_a_next_step() {
    let d = tempdir();
    let port = free_port();
    let o = run(hal9ctl(d.path()).args([
        "signal",
        "hello",
        "--url",
        &format!("http://127.0.0.1:{port}"),
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("next: hal9ctl health"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn client_commands_find_a_detached_runtime_on_another_port_without_url() {
    let d = tempdir();
    let o =
        run(hal9ctl(d.path()).args(["serve", "--detach", "--listen", "127.0.0.1:0", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let _guard = KillOnDrop(json(&o)["pid"].as_u64().unwrap() as i32);
    let o = run(hal9ctl(d.path()).args(["signal", "no url given", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["path"], "hierarchical");
    let o = run(hal9ctl(d.path()).args(["config", "-o", "json"]));
    let v = json(&o);
    let url = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "server.url")
        .unwrap()
        .clone();
    assert_eq!(url["source"]["kind"], "file", "{url}");
    assert!(
        url["source"]["name"]
            .as_str()
            .unwrap()
            .ends_with("runtime.json")
    );
}

/// `serve` in `dir` on `listen`; its exit status and stderr, or `None` if it
/// was still running after `within` (then it was killed).
fn serve_outcome(dir: &std::path::Path, args: &[&str], within: Duration) -> Option<(i32, String)> {
    let mut child = hal9ctl(dir)
        .arg("serve")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("second.stderr")).unwrap())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < within {
        if let Some(st) = child.try_wait().unwrap() {
            let err = std::fs::read_to_string(dir.join("second.stderr")).unwrap_or_default();
            return Some((st.code().unwrap_or(-1), err));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn a_port_another_runtime_serves_is_refused_naming_it() {
    let a = Server::start(None);
    let listen = format!("127.0.0.1:{}", a.port);
    for extra in [&[][..], &["--takeover"][..]] {
        let other = tempdir();
        let mut args = vec!["--listen", listen.as_str()];
        args.extend_from_slice(extra);
        let outcome = serve_outcome(other.path(), &args, Duration::from_secs(10));
        let (code, err) = outcome.unwrap_or_else(|| {
            panic!(
                "serve {args:?} joined port {} beside pid {}",
                a.port,
                a.pid()
            )
        });
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("pid {}", a.pid())), "{err}");
        assert!(
            err.contains(&format!(
                "hal9ctl emergency port-conflict --port {}",
                a.port
            )),
            "{err}"
        );
    }
    assert_eq!(a.get("/health").json()["pid"], a.pid());
}

const FAILING: &str = r#"
[[neurons]]
id = "entry"
layer = "L1"
processor = "rules"
forward = ["llm"]
rules = [{ pattern = "*", output = "{input}" }]

[[neurons]]
id = "llm"
layer = "L3"
processor = "command"
command = ["sh", "-c", "exit 3"]
backward = ["entry"]
"#;

#[test]
fn a_signal_that_a_neuron_failed_on_is_partly_done_not_ok() {
    let s = Server::start(Some(FAILING));
    let o = run(hal9ctl(s.dir.path()).args(["signal", "hello", "--url", &s.url]));
    let out = stdout(&o);
    assert!(out.contains("gradient llm → entry"), "{out}");
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    let o = run(hal9ctl(s.dir.path()).args(["signal", "hello", "--url", &s.url, "-o", "json"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn a_foreground_serve_that_cut_requests_off_at_the_drain_timeout_is_not_ok() {
    let mut s = Server::start_in(tempdir(), Some(SLOW), &["--drain-timeout", "200ms"]);
    let url = format!("{}/api/v1/signal", s.url);
    let inflight = std::thread::spawn(move || post_json(&url, &json!({"content": "cut me"})));
    std::thread::sleep(Duration::from_millis(400));
    s.term();
    let status = s.wait();
    let _ = inflight.join();
    let err = std::fs::read_to_string(s.dir.path().join("serve.stderr")).unwrap_or_default();
    assert_eq!(status.code(), Some(1), "{err}");
}

#[test]
fn a_signal_to_a_split_port_is_critical_and_not_sent() {
    let s = Server::start(None);
    let script = "import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\ns.bind(('127.0.0.1', int(sys.argv[1])))\ns.listen()\nprint('up', flush=True)\ntime.sleep(60)\n";
    let mut py = std::process::Command::new("python3")
        .args(["-c", script, &s.port.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(py.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let o = run(hal9ctl(s.dir.path()).args(["signal", "hello", "--url", &s.url]));
    let _ = py.kill();
    let _ = py.wait();
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("split"), "{}", stderr(&o));
}

#[test]
fn concurrent_limit_writes_leave_the_persisted_limits_equal_to_those_in_force() {
    let s = std::sync::Arc::new(Server::start(None));
    // The race is a window of a few microseconds: enough rounds to hit it on
    // an unserialised handler most runs, cheap enough to run every time.
    for round in 0..40u32 {
        let writers: Vec<_> = (1..=16u32)
            .map(|i| {
                let s = s.clone();
                std::thread::spawn(move || {
                    let n = round * 100 + i;
                    let body = serde_json::json!({"max_in_flight": n, "rate_limit_rps": n});
                    s.admin("PUT", "/admin/limits", Some(body)).status
                })
            })
            .collect();
        for w in writers {
            assert_eq!(w.join().unwrap(), 200);
        }
        let in_force = s.admin("GET", "/admin/limits", None).json();
        let persisted: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(s.dir.path().join("admin-limits.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            persisted, in_force,
            "round {round}: a successor would start with other limits"
        );
    }
}
