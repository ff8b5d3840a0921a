//! A small Docker Engine API client on the engine's unix socket: only what
//! hal9ctl needs to name a container, stop it, and read its state back.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Answers are small JSON documents; anything bigger is not the engine.
const MAX_BODY: usize = 8 << 20;
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// What `POST /stop` may take beyond the grace it was given.
const STOP_SLACK: Duration = Duration::from_secs(20);

/// A container as the engine describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub image: String,
    pub running: bool,
    pub restart_policy: Option<String>,
    /// Host ports it publishes: stopping the container closes all of them.
    #[serde(default)]
    pub published: Vec<u16>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl ContainerInfo {
    pub fn describe(&self) -> String {
        let short: String = self.id.chars().take(12).collect();
        format!("container {} ({short})", self.name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("no answer in {0:?}")]
    Timeout(Duration),
    #[error("the engine answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("unexpected answer: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("{0:?} is not a container id")]
    BadId(String),
}

/// Engines to ask, in order: the daemon that started the docker-proxy, then
/// `DOCKER_HOST` (unix sockets only), then the default socket.
pub fn candidate_sockets(daemon: Option<&Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let env = std::env::var("DOCKER_HOST").ok();
    let from_env = env
        .as_deref()
        .and_then(|h| h.strip_prefix("unix://"))
        .map(PathBuf::from);
    for p in [
        daemon.map(Path::to_path_buf),
        from_env,
        Some(DEFAULT_SOCKET.into()),
    ]
    .into_iter()
    .flatten()
    {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

async fn request(
    socket: &Path,
    method: Method,
    path: &str,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), EngineError> {
    let exchange = async {
        let stream = tokio::net::UnixStream::connect(socket)
            .await
            .map_err(EngineError::Connect)?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| EngineError::Http(e.to_string()))?;
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "docker")
            .body(Empty::<Bytes>::new())
            .map_err(|e| EngineError::Http(e.to_string()))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| EngineError::Http(e.to_string()))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| EngineError::Http(e.to_string()))?
            .to_bytes();
        Ok((status, body))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(EngineError::Timeout(timeout)),
    }
}

fn call(
    socket: &Path,
    method: Method,
    path: &str,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), EngineError> {
    super::blocking::block_on(request(socket, method, path, timeout))
        .map_err(|e| EngineError::Http(e.to_string()))?
}

fn status_error(status: StatusCode, body: &[u8]) -> EngineError {
    #[derive(Deserialize)]
    struct Msg {
        message: String,
    }
    let message = serde_json::from_slice::<Msg>(body)
        .map(|m| m.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).chars().take(200).collect());
    EngineError::Status {
        status: status.as_u16(),
        message,
    }
}

/// Ids go into a URL path: only hex, as the engine makes them.
fn checked_id(id: &str) -> Result<&str, EngineError> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(EngineError::BadId(id.to_string()))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inspect {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    config: InspectConfig,
    #[serde(default)]
    state: InspectState,
    #[serde(default)]
    host_config: InspectHostConfig,
    #[serde(default)]
    network_settings: InspectNetwork,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct InspectConfig {
    #[serde(default)]
    image: String,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct InspectState {
    #[serde(default)]
    running: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct InspectHostConfig {
    #[serde(default)]
    restart_policy: Option<RestartPolicy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RestartPolicy {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct InspectNetwork {
    #[serde(default)]
    ports: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PortBinding {
    #[serde(default)]
    host_port: String,
}

impl From<Inspect> for ContainerInfo {
    fn from(i: Inspect) -> ContainerInfo {
        let mut published: Vec<u16> = i
            .network_settings
            .ports
            .unwrap_or_default()
            .into_values()
            .flatten()
            .flatten()
            .filter_map(|b| b.host_port.parse().ok())
            .collect();
        published.sort_unstable();
        published.dedup();
        ContainerInfo {
            id: i.id,
            name: i.name.trim_start_matches('/').to_string(),
            image: i.config.image,
            running: i.state.running,
            restart_policy: i
                .host_config
                .restart_policy
                .map(|r| r.name)
                .filter(|n| !n.is_empty()),
            published,
            labels: i.config.labels.unwrap_or_default(),
        }
    }
}

/// `GET /containers/ID/json`; `None` when the engine has no such container.
pub fn inspect(socket: &Path, id: &str) -> Result<Option<ContainerInfo>, EngineError> {
    let id = checked_id(id)?;
    let (status, body) = call(
        socket,
        Method::GET,
        &format!("/containers/{id}/json"),
        QUERY_TIMEOUT,
    )?;
    match status {
        StatusCode::OK => Ok(Some(serde_json::from_slice::<Inspect>(&body)?.into())),
        StatusCode::NOT_FOUND => Ok(None),
        s => Err(status_error(s, &body)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    id: String,
    #[serde(default)]
    ports: Vec<SummaryPort>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SummaryPort {
    #[serde(default, rename = "IP")]
    ip: Option<String>,
    #[serde(default)]
    public_port: Option<u16>,
}

/// The running container that publishes host `port` on one of the `bound`
/// addresses (all of them, when `bound` is empty).
pub fn publishing(
    socket: &Path,
    port: u16,
    bound: &[IpAddr],
) -> Result<Option<ContainerInfo>, EngineError> {
    let (status, body) = call(socket, Method::GET, "/containers/json", QUERY_TIMEOUT)?;
    if status != StatusCode::OK {
        return Err(status_error(status, &body));
    }
    let list: Vec<Summary> = serde_json::from_slice(&body)?;
    let found = list.into_iter().find(|c| {
        c.ports.iter().any(|p| {
            p.public_port == Some(port)
                && (bound.is_empty()
                    || p.ip
                        .as_deref()
                        .and_then(|ip| ip.parse::<IpAddr>().ok())
                        .is_some_and(|ip| bound.contains(&ip)))
        })
    });
    match found {
        Some(c) => inspect(socket, &c.id),
        None => Ok(None),
    }
}

/// Stop `id` through the engine (SIGTERM, SIGKILL after `grace`, as the engine
/// does it, so restart policies and port mappings stay consistent), then read
/// its state back. `Ok` says what the re-read showed; `Err` why it is not stopped.
/// With `port`, the container must still publish it, or nothing is done.
pub fn stop_verified(
    socket: &Path,
    id: &str,
    port: Option<u16>,
    grace: Duration,
) -> Result<String, String> {
    let before = inspect(socket, id)
        .map_err(|e| format!("cannot re-check the container: {e}"))?
        .ok_or_else(|| "the container is gone (nothing to stop)".to_string())?;
    if !before.running {
        return Ok(format!("{} was already stopped", before.describe()));
    }
    if let Some(p) = port
        && !before.published.contains(&p)
    {
        return Err(format!(
            "{} no longer publishes port {p}; not stopped",
            before.describe()
        ));
    }
    let secs = grace.as_secs_f64().ceil().max(1.0) as u64;
    let (status, body) = call(
        socket,
        Method::POST,
        &format!("/containers/{}/stop?t={secs}", before.id),
        grace + STOP_SLACK,
    )
    .map_err(|e| format!("stop failed: {e}"))?;
    if !matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED) {
        return Err(format!("stop failed: {}", status_error(status, &body)));
    }
    match inspect(socket, &before.id) {
        Ok(Some(after)) if !after.running => Ok(format!(
            "{} stopped (re-read from the engine: not running)",
            before.describe()
        )),
        Ok(Some(_)) => Err(format!("{} is still running after stop", before.describe())),
        Ok(None) => Ok(format!(
            "{} stopped and removed (re-read from the engine: gone)",
            before.describe()
        )),
        Err(e) => Err(format!(
            "stop was accepted, but its state could not be re-read: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_documents_decode_with_missing_parts() {
        let full = r#"{"Id":"abc","Name":"/web","Config":{"Image":"busybox","Labels":{"a":"b"}},
            "State":{"Running":true},"HostConfig":{"RestartPolicy":{"Name":"always"}},
            "NetworkSettings":{"Ports":{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"18555"},{"HostIp":"::1","HostPort":"18555"}],"9/udp":null}}}"#;
        let c: ContainerInfo = serde_json::from_str::<Inspect>(full).unwrap().into();
        assert_eq!(c.name, "web");
        assert_eq!(c.published, vec![18555]);
        assert_eq!(c.restart_policy.as_deref(), Some("always"));
        assert!(c.running);
        let bare: ContainerInfo =
            serde_json::from_str::<Inspect>(r#"{"Id":"abc","Config":{"Labels":null}}"#)
                .unwrap()
                .into();
        assert!(!bare.running && bare.published.is_empty() && bare.labels.is_empty());
    }

    #[test]
    fn ids_are_hex_only() {
        assert!(checked_id("0123abcdef").is_ok());
        for bad in ["", "../x", "abc?all=1", "web", &"a".repeat(65)] {
            assert!(checked_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn candidates_put_the_daemon_first_and_never_repeat() {
        let c = candidate_sockets(Some(Path::new(DEFAULT_SOCKET)));
        assert_eq!(
            c.first().map(PathBuf::as_path),
            Some(Path::new(DEFAULT_SOCKET))
        );
        assert_eq!(
            c.iter()
                .filter(|p| p.as_path() == Path::new(DEFAULT_SOCKET))
                .count(),
            1
        );
    }

    #[test]
    fn a_missing_socket_is_a_connect_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = inspect(&dir.path().join("none.sock"), "abc").unwrap_err();
        assert!(matches!(e, EngineError::Connect(_)), "{e}");
    }
}
