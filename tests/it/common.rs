//! Helpers shared by the integration tests. Everything here creates its own
//! resources (temp dirs, child processes, loopback ports) and cleans them up.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_hal9ctl");

/// A `hal9ctl` command isolated from the machine: its own state dir, no
/// config file from the search path, no colour.
pub fn hal9ctl(state_dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", state_dir)
        .env("XDG_CONFIG_HOME", state_dir.join("xdg-config"))
        .env("HAL9_STATE_DIR", state_dir)
        .env("NO_COLOR", "1")
        .current_dir(state_dir);
    c
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawn hal9ctl")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hal9-it-")
        .tempdir()
        .expect("tempdir")
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An HTTP answer: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP request on a fresh connection, from a blocking test.
pub fn http(
    method: &str,
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> Answer {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        let mut r = c.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            r = r.header("content-type", ct);
        }
        if let Some(b) = body {
            r = r.body(b);
        }
        let resp = r.send().await.unwrap_or_else(|e| {
            let mut chain = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(c) = src {
                chain.push_str(&format!(": {c}"));
                src = c.source();
            }
            panic!("{method} {url}: {chain}")
        });
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    })
}

pub fn post_json(url: &str, v: &serde_json::Value) -> Answer {
    http(
        "POST",
        url,
        None,
        Some("application/json"),
        Some(serde_json::to_vec(v).unwrap()),
    )
}

/// A `hal9ctl serve` the test started, on a free loopback port, in its own
/// state dir; killed when dropped.
pub struct Server {
    pub child: Option<std::process::Child>,
    pub dir: tempfile::TempDir,
    pub url: String,
    pub port: u16,
    pub token: String,
}

impl Server {
    pub fn start(config: Option<&str>) -> Server {
        Self::start_in(tempdir(), config, &[])
    }

    pub fn start_in(dir: tempfile::TempDir, config: Option<&str>, extra: &[&str]) -> Server {
        if let Some(c) = config {
            std::fs::write(dir.path().join("hal9.toml"), c).unwrap();
        }
        let mut cmd = hal9ctl(dir.path());
        cmd.arg("serve");
        if !extra.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(extra)
            .stdout(std::process::Stdio::null())
            // A file, not a pipe: nobody reads a pipe while the test runs, and
            // a full pipe would block the server on its next log line.
            .stderr(std::fs::File::create(dir.path().join("serve.stderr")).expect("stderr file"));
        let child = cmd.spawn().expect("spawn serve");
        let pid = child.id();
        let mut s = Server {
            child: Some(child),
            dir,
            url: String::new(),
            port: 0,
            token: String::new(),
        };
        let t0 = std::time::Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(s.dir.path().join("runtime.json"))
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                && v["pid"] == pid
            {
                let listen = v["listen"].as_str().unwrap().to_string();
                s.port = listen.rsplit(':').next().unwrap().parse().unwrap();
                s.url = format!("http://{listen}");
                s.token = std::fs::read_to_string(s.dir.path().join("admin.token"))
                    .unwrap()
                    .trim()
                    .to_string();
                return s;
            }
            if let Some(st) = s.child.as_mut().unwrap().try_wait().unwrap() {
                let err =
                    std::fs::read_to_string(s.dir.path().join("serve.stderr")).unwrap_or_default();
                panic!("serve exited at start ({st}): {err}");
            }
            assert!(
                t0.elapsed() < std::time::Duration::from_secs(15),
                "serve did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn get(&self, path: &str) -> Answer {
        http("GET", &format!("{}{path}", self.url), None, None, None)
    }

    pub fn signal(&self, v: serde_json::Value) -> Answer {
        post_json(&format!("{}/api/v1/signal", self.url), &v)
    }

    pub fn admin(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Answer {
        let ct = body.as_ref().map(|_| "application/json");
        http(
            method,
            &format!("{}{path}", self.url),
            Some(&self.token),
            ct,
            body.map(|b| serde_json::to_vec(&b).unwrap()),
        )
    }

    pub fn term(&self) {
        let pid = nix::unistd::Pid::from_raw(self.pid() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    }

    /// Wait for the process to exit; its status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.take().unwrap().wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A listener the test owns that records every request it is sent.
pub fn recording_listener() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let _ = c.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let mut buf = [0u8; 4096];
            if let Ok(n) = c.read(&mut buf) {
                log.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            let _ =
                c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    (port, seen)
}

/// A parent process (a python script given `args`) that starts a child which
/// holds a port, and prints that child's pid as its first line: how a
/// supervisor or process manager looks to /proc. Both are killed by pid on drop.
pub struct ParentOfHolder {
    pub parent: std::process::Child,
    pub holder: i32,
}

impl ParentOfHolder {
    pub fn start(script: &str, args: &[&std::ffi::OsStr]) -> ParentOfHolder {
        use std::io::BufRead;
        let mut parent = Command::new("python3")
            .args(["-c", script])
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let out = parent.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(out)
            .read_line(&mut line)
            .expect("the parent names its child");
        let holder = line.trim().parse().expect("a pid");
        ParentOfHolder { parent, holder }
    }
}

impl Drop for ParentOfHolder {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.holder),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.parent.kill();
        let _ = self.parent.wait();
    }
}

/// Run `args` on a pseudo-terminal, answer `answer` to the first `[y/N]`,
/// and return everything the terminal showed up to the question, then after it.
pub fn at_a_terminal(state: &Path, args: &[&str], answer: &str) -> (String, String) {
    const PTY: &str = r#"
import fcntl, os, pty, struct, sys, termios
answer = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    # A terminal 200 columns wide: a fresh pty is 0x0, which squeezes tables to a column.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    os.execv(sys.argv[2], sys.argv[2:])
before, after, asked = b"", b"", False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    if asked:
        after += chunk
    else:
        before += chunk
        if b"[y/N]" in before:
            asked = True
            os.write(fd, answer + b"\n")
os.waitpid(pid, 0)
sys.stdout.buffer.write(before + b"\0" + after)
"#;
    let mut c = Command::new("python3");
    c.args(["-c", PTY, answer, BIN])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", state)
        .env("XDG_CONFIG_HOME", state.join("xdg-config"))
        .env("HAL9_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .current_dir(state)
        .stdin(std::process::Stdio::null());
    let out = run(&mut c);
    let text = stdout(&out);
    let (before, after) = text.split_once('\0').unwrap_or((&text, ""));
    (before.to_string(), after.to_string())
}
