//! The public routes: health, readiness, metrics, status, neurons, signals.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::admission::AdmissionRefusal;
use super::connections::ConnRef;
use super::errors::ApiError;
use super::{AppState, admin};
use crate::runtime::api::{CheckBody, HealthBody, HealthStatus, Path, ReadyBody, SignalRequest};
use crate::runtime::layer::Layer;
use crate::runtime::migration::Features;
use crate::runtime::migration::router::route;

/// Request bodies above this are refused with 413.
pub const MAX_BODY: usize = 64 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/api/v1/status", get(status))
        .route("/api/v1/neurons", get(neurons))
        .route("/api/v1/signal", post(signal))
        .nest("/admin", admin::router(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), read_body))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Count every answer by route and status; while draining, ask clients to
/// reconnect (to the successor) instead of reusing this connection.
async fn observe(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route: &'static str = match req.extensions().get::<MatchedPath>().map(|m| m.as_str()) {
        Some("/health") => "/health",
        Some("/ready") => "/ready",
        Some("/metrics") => "/metrics",
        Some("/api/v1/status") => "/api/v1/status",
        Some("/api/v1/neurons") => "/api/v1/neurons",
        Some("/api/v1/signal") => "/api/v1/signal",
        Some(p) if p.starts_with("/admin") => "/admin",
        _ => "other",
    };
    let mut resp = next.run(req).await;
    st.served.fetch_add(1, Ordering::Relaxed);
    st.metrics.record_http(route, resp.status().as_u16());
    if st.is_draining() {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is over {} KiB", MAX_BODY / 1024),
    )
}

/// Read the whole body before any handler runs, within `idle_timeout` and
/// `MAX_BODY` (the connection registry also closes a request still arriving
/// `header_read_timeout` after its first byte): a client trickling its body
/// cannot hold a connection and an in-flight slot without end.
async fn read_body(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    use futures::StreamExt;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large().into_response();
    }
    let (parts, body) = req.into_parts();
    let limit = st.runtime.settings().idle_timeout;
    let collect = async {
        let mut stream = body.into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.to_string())
            })?;
            if buf.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    };
    match tokio::time::timeout(limit, collect).await {
        Ok(Ok(buf)) => {
            // Only now is the connection busy: one still sending its body
            // may be closed for room, like one that never sent its headers.
            let _busy = parts.extensions.get::<ConnRef>().map(|c| c.0.processing());
            next.run(Request::from_parts(parts, axum::body::Body::from(buf)))
                .await
        }
        Ok(Err(e)) => e.into_response(),
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the body did not arrive within {} (idle_timeout)",
                humantime::format_duration(limit)
            ),
        )
        .into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see GET /api/v1/status",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

fn worst(a: HealthStatus, b: HealthStatus) -> HealthStatus {
    use HealthStatus::*;
    match (a, b) {
        (Unhealthy, _) | (_, Unhealthy) => Unhealthy,
        (Degraded, _) | (_, Degraded) => Degraded,
        _ => Healthy,
    }
}

/// Never a static answer: the network's own checks plus the event loop,
/// admission saturation and draining, judged now.
pub fn health_body(st: &AppState) -> HealthBody {
    let mut checks = st.runtime.checks();
    let lag_ms = st.loop_lag_us.load(Ordering::Relaxed) as f64 / 1000.0;
    checks.push(CheckBody {
        name: "event_loop".into(),
        status: if lag_ms < 100.0 {
            HealthStatus::Healthy
        } else if lag_ms < 1000.0 {
            HealthStatus::Degraded
        } else {
            HealthStatus::Unhealthy
        },
        detail: format!("timer lag {lag_ms:.1} ms"),
    });
    let limits = st.admission.limits();
    let in_flight = st.admission.in_flight();
    checks.push(CheckBody {
        name: "admission".into(),
        status: if in_flight >= limits.max_in_flight {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        },
        detail: format!(
            "{in_flight}/{} in flight, {} req/s limit",
            limits.max_in_flight, limits.rate_limit_rps
        ),
    });
    checks.push(CheckBody {
        name: "lifecycle".into(),
        status: if st.is_draining() {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        },
        detail: st.not_ready_reason().into(),
    });
    let status = checks
        .iter()
        .fold(HealthStatus::Healthy, |acc, c| worst(acc, c.status));
    HealthBody {
        status,
        version: crate::VERSION.into(),
        pid: std::process::id(),
        uptime_s: st.started.elapsed().as_secs(),
        checks,
    }
}

async fn health(State(st): State<Arc<AppState>>) -> Response {
    let body = health_body(&st);
    let code = if body.status == HealthStatus::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body)).into_response()
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    if st.is_ready() {
        (
            StatusCode::OK,
            Json(ReadyBody {
                ready: true,
                reason: None,
            }),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(ReadyBody {
                ready: false,
                reason: Some(st.not_ready_reason().into()),
            }),
        )
            .into_response()
    }
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let mut out = String::with_capacity(8 * 1024);
    st.runtime.write_metrics(&mut out);
    st.metrics.write(&mut out);
    let limits = st.admission.limits();
    super::metrics::ServerGauges {
        in_flight: u64::from(st.admission.in_flight()),
        draining: st.is_draining(),
        ready: st.is_ready(),
        rejected: st.admission.rejected.load(Ordering::Relaxed),
        max_in_flight: limits.max_in_flight,
        rate_limit_rps: limits.rate_limit_rps,
        loop_lag_seconds: st.loop_lag_us.load(Ordering::Relaxed) as f64 / 1e6,
        uptime_seconds: st.started.elapsed().as_secs(),
        hierarchical_percent: f64::from(st.migration.share_bp()) / 100.0,
    }
    .write(&mut out);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn status(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let neurons = st.runtime.neurons();
    let layers: Vec<serde_json::Value> = Layer::ALL
        .iter()
        .map(|l| json!({"layer": l, "name": l.name(), "neurons": neurons.iter().filter(|n| n.layer == *l).count()}))
        .collect();
    Json(json!({
        "server_id": st.server_id,
        "version": crate::VERSION,
        "pid": std::process::id(),
        "listen": st.listen.to_string(),
        "started_at": st.started_at,
        "uptime_s": st.started.elapsed().as_secs(),
        "ready": st.is_ready(),
        "draining": st.is_draining(),
        "in_flight": st.admission.in_flight(),
        "limits": st.admission.limits(),
        "layers": layers,
        "neurons": neurons,
        "caches": st.runtime.caches(),
        "memory_entries": st.runtime.memory_len(),
        "memory_bytes": st.runtime.memory_bytes().0,
        "memory_max_bytes": st.runtime.memory_bytes().1,
        "connections": st.connections.len(),
        "max_connections": st.connections.cap(),
        "migration": st.migration.get(),
        "features": st.migration.features().in_effect(),
    }))
}

async fn neurons(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({ "neurons": st.runtime.neurons() }))
}

/// Read a JSON body with the API's own errors: 415 for another content type,
/// 413 above 64 KiB, 400 for an empty or malformed body.
pub fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", r.body_text())
        }
    })?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send Content-Type: application/json (got {:?})",
                if ct.is_empty() { "nothing" } else { ct }
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_body",
            "the body is empty; send a JSON document",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "malformed_json"
        } else {
            "invalid_request"
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, e.to_string())
    })
}

async fn signal(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let _permit = st.admission.admit(Instant::now()).map_err(|r| match r {
        AdmissionRefusal::RateLimited => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "over {} requests per second",
                st.admission.limits().rate_limit_rps
            ),
        )
        .retry_after(1),
        AdmissionRefusal::TooManyInFlight => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_in_flight",
            format!(
                "{} requests already in flight",
                st.admission.limits().max_in_flight
            ),
        )
        .retry_after(1),
    })?;
    let req: SignalRequest = json_body(&headers, body)?;
    let id = st.runtime.new_id();
    let key = headers
        .get("x-request-key")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_else(|| id.as_bytes().to_vec());
    let features = st.migration.features();
    let path = if features.routes_hierarchical() {
        route(&key, st.migration.share_bp())
    } else {
        Path::Flat
    };
    let pm = st.metrics.path(path);
    pm.in_flight.fetch_add(1, Ordering::Relaxed);
    let t0 = Instant::now();
    let result = st.runtime.signal_on(&req, path, features, id).await;
    pm.in_flight.fetch_sub(1, Ordering::Relaxed);
    // A path "errs" when the signal failed or any neuron on it failed (a
    // gradient): a degraded answer is what a rollback gate must catch.
    let clean = matches!(&result, Ok(r) if r.gradients.is_empty());
    st.metrics.record_path(path, clean, t0.elapsed());
    if path == Path::Flat && features.shadow() {
        // Shadow mode: the hierarchical architecture runs too, at full
        // strength since that is what is being evaluated; flat answers,
        // differences are counted.
        let shadow = st
            .runtime
            .signal_on(&req, Path::Hierarchical, Features::ALL, st.runtime.new_id())
            .await;
        st.metrics.shadow_compared.fetch_add(1, Ordering::Relaxed);
        let same = matches!((&result, &shadow), (Ok(a), Ok(b)) if a.output == b.output);
        if !same {
            st.metrics.shadow_divergence.fetch_add(1, Ordering::Relaxed);
        }
    }
    match result {
        Ok(r) => Ok(Json(r).into_response()),
        Err(e) => Err(ApiError::new(
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.code(),
            e.to_string(),
        )),
    }
}
