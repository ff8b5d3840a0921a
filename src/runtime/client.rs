//! A small HTTP client for the runtime's API, used by hal9ctl's commands.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::api::{ErrorBody, HealthBody, Limits, ReadyBody, SignalRequest, SignalResponse};

/// What went wrong talking to the runtime. Callers branch on it: a refused
/// connection means "down" (CRITICAL), a wrong body means "not HAL9".
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("{url} did not answer within {}", crate::output::human_duration(*timeout))]
    Timeout { url: String, timeout: Duration },
    #[error("{url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{url} answered with a body that is not the HAL9 runtime's: {detail}")]
    NotHal9 { url: String, detail: String },
    #[error("request to {url} failed: {detail}")]
    Other { url: String, detail: String },
}

impl ClientError {
    /// What a failed admin call means to the operator: down (check health),
    /// the wrong token (the wrong state dir), or whatever the runtime said,
    /// with `next` as the way on. `token_file` names the token that was
    /// rejected, when the caller knows it.
    pub fn into_admin_failure(
        self,
        url: &str,
        token_file: Option<&std::path::Path>,
        next: &str,
    ) -> crate::exit::Failure {
        use crate::exit::Failure;
        match self {
            ClientError::Connect { .. } | ClientError::Timeout { .. } => {
                Failure::critical(format!("the runtime at {url} is not answering: {self}"))
                    .with_next("hal9ctl health")
            }
            ClientError::Status { status: 401, .. } => {
                let file = token_file
                    .map(|f| format!(" in {}", f.display()))
                    .unwrap_or_default();
                Failure::critical(format!(
                    "the runtime at {url} rejected the admin token{file}"
                ))
                .with_next("pass the --state-dir of the running runtime")
            }
            other => Failure::critical(other.to_string()).with_next(next),
        }
    }
}

/// An answer and how long it took.
#[derive(Debug, Clone)]
pub struct Timed<T> {
    pub status: u16,
    pub body: T,
    pub latency: Duration,
}

#[derive(Debug, Clone)]
pub struct RuntimeClient {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl RuntimeClient {
    pub fn new(base_url: &str, timeout: Duration) -> Result<RuntimeClient, ClientError> {
        Self::build(base_url, timeout, true)
    }

    /// A client that opens a new connection per request. With SO_REUSEPORT
    /// two instances share a port, and a kept-alive connection would only
    /// ever see one of them.
    pub fn fresh_connections(
        base_url: &str,
        timeout: Duration,
    ) -> Result<RuntimeClient, ClientError> {
        Self::build(base_url, timeout, false)
    }

    fn build(base_url: &str, timeout: Duration, pool: bool) -> Result<RuntimeClient, ClientError> {
        let mut b = reqwest::Client::builder();
        if !pool {
            b = b.pool_max_idle_per_host(0);
        }
        let http = b
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| ClientError::Other {
                url: base_url.to_string(),
                detail: e.to_string(),
            })?;
        Ok(RuntimeClient {
            base: base_url.trim_end_matches('/').to_string(),
            http,
            timeout,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /health`. 503 still carries the body, so it is returned, not an error.
    pub async fn health(&self) -> Result<Timed<HealthBody>, ClientError> {
        self.send(self.http.get(self.url("/health")), &[200, 503])
            .await
    }

    /// `GET /ready`; 503 while starting or draining.
    pub async fn ready(&self) -> Result<Timed<ReadyBody>, ClientError> {
        self.send(self.http.get(self.url("/ready")), &[200, 503])
            .await
    }

    pub async fn status(&self) -> Result<Timed<serde_json::Value>, ClientError> {
        self.send(self.http.get(self.url("/api/v1/status")), &[200])
            .await
    }

    pub async fn signal(&self, req: &SignalRequest) -> Result<Timed<SignalResponse>, ClientError> {
        self.send(self.http.post(self.url("/api/v1/signal")).json(req), &[200])
            .await
    }

    /// `GET /metrics`, the Prometheus text.
    pub async fn metrics_text(&self) -> Result<String, ClientError> {
        let url = self.url("/metrics");
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.classify(&url, e))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| self.classify(&url, e))?;
        if status != 200 {
            return Err(ClientError::Status {
                url,
                status,
                code: String::new(),
                message: snippet(text.as_bytes()),
            });
        }
        Ok(text)
    }

    pub async fn drain(&self, token: &str) -> Result<Timed<serde_json::Value>, ClientError> {
        self.send(
            self.http.post(self.url("/admin/drain")).bearer_auth(token),
            &[200, 202],
        )
        .await
    }

    /// Drain one instance by pid; another instance on the same port answers
    /// 409 `wrong_instance` (use a `fresh_connections` client and retry).
    pub async fn drain_pid(
        &self,
        token: &str,
        pid: u32,
    ) -> Result<Timed<serde_json::Value>, ClientError> {
        let url = self.url(&format!("/admin/drain?pid={pid}"));
        self.send(self.http.post(url).bearer_auth(token), &[200, 202])
            .await
    }

    pub async fn limits(&self, token: &str) -> Result<Timed<Limits>, ClientError> {
        self.send(
            self.http.get(self.url("/admin/limits")).bearer_auth(token),
            &[200],
        )
        .await
    }

    pub async fn set_limits(
        &self,
        token: &str,
        limits: &Limits,
    ) -> Result<Timed<Limits>, ClientError> {
        self.send(
            self.http
                .put(self.url("/admin/limits"))
                .bearer_auth(token)
                .json(limits),
            &[200],
        )
        .await
    }

    /// Any admin document: `GET path`.
    pub async fn admin_get<T: DeserializeOwned>(
        &self,
        token: &str,
        path: &str,
    ) -> Result<Timed<T>, ClientError> {
        self.send(self.http.get(self.url(path)).bearer_auth(token), &[200])
            .await
    }

    /// Any admin document: `PUT path` with a JSON body.
    pub async fn admin_put<B: Serialize, T: DeserializeOwned>(
        &self,
        token: &str,
        path: &str,
        body: &B,
    ) -> Result<Timed<T>, ClientError> {
        self.send(
            self.http.put(self.url(path)).bearer_auth(token).json(body),
            &[200],
        )
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
        ok: &[u16],
    ) -> Result<Timed<T>, ClientError> {
        let started = Instant::now();
        let req = rb.build().map_err(|e| ClientError::Other {
            url: self.base.clone(),
            detail: e.to_string(),
        })?;
        let url = req.url().to_string();
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| self.classify(&url, e))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| self.classify(&url, e))?;
        let latency = started.elapsed();
        if ok.contains(&status) {
            let body = serde_json::from_slice(&bytes).map_err(|e| ClientError::NotHal9 {
                url: url.clone(),
                detail: format!("{e}: {}", snippet(&bytes)),
            })?;
            return Ok(Timed {
                status,
                body,
                latency,
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(eb) => Err(ClientError::Status {
                url,
                status,
                code: eb.error.code,
                message: eb.error.message,
            }),
            Err(_) => Err(ClientError::Status {
                url,
                status,
                code: String::new(),
                message: snippet(&bytes),
            }),
        }
    }

    fn classify(&self, url: &str, e: reqwest::Error) -> ClientError {
        if e.is_timeout() {
            ClientError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            }
        } else if e.is_connect() {
            let mut detail = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                detail = s.to_string();
                src = s.source();
            }
            ClientError::Connect {
                url: url.to_string(),
                detail,
            }
        } else {
            ClientError::Other {
                url: url.to_string(),
                detail: e.to_string(),
            }
        }
    }
}

fn snippet(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(120)]).replace('\n', " ");
    if s.is_empty() {
        "(empty body)".into()
    } else {
        s
    }
}
