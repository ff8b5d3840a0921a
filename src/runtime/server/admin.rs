//! `/admin/*`: bearer-token protected drain, limits and migration state.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::AppState;
use super::errors::ApiError;
use super::routes::json_body;
use crate::runtime::api::Limits;
use crate::runtime::migration::state::MigrationPatch;
use crate::runtime::migration::store::StoreError;
use crate::runtime::migration::{MigrationDoc, MigrationError};

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/drain", post(drain))
        .route("/limits", get(get_limits).put(put_limits))
        .route("/migration", get(get_migration).put(put_migration))
        .layer(middleware::from_fn_with_state(state, auth))
}

/// Compare without an early exit, so response time does not leak the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(t) if same(t.trim().as_bytes(), st.token.as_bytes()) => next.run(req).await,
        _ => {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send Authorization: Bearer <token from admin.token>",
            )
            .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        }
    }
}

#[derive(serde::Deserialize)]
struct DrainQuery {
    pid: Option<u32>,
}

/// `POST /admin/drain[?pid=N]`. Two instances share the port during a
/// restart, so the caller names the one it means; the other answers 409 and
/// the caller retries on a new connection.
async fn drain(
    State(st): State<Arc<AppState>>,
    axum::extract::Query(q): axum::extract::Query<DrainQuery>,
) -> Response {
    if let Some(pid) = q.pid
        && pid != std::process::id()
    {
        return ApiError::new(
            StatusCode::CONFLICT,
            "wrong_instance",
            format!("this is pid {}, not {pid}", std::process::id()),
        )
        .into_response();
    }
    st.begin_drain();
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"draining": true, "in_flight": st.admission.in_flight()})),
    )
        .into_response()
}

async fn get_limits(State(st): State<Arc<AppState>>) -> Json<Limits> {
    Json(st.admission.limits())
}

async fn put_limits(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Limits>, ApiError> {
    let l: Limits = json_body(&headers, body)?;
    if l.max_in_flight == 0 || l.rate_limit_rps == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limits",
            "max_in_flight and rate_limit_rps must be at least 1",
        ));
    }
    let _one_writer = st.limits_write.lock().await;
    // Persisted before applied: limits a successor would not inherit are refused.
    if let Some(sd) = st.admin_state.get()
        && let Err(e) = sd.write_admin_limits(&l)
    {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "persist_failed",
            format!(
                "cannot record the limits in {}: {e}",
                sd.admin_limits_file().display()
            ),
        ));
    }
    st.admission.set_limits(l);
    tracing::info!(
        "limits set: {} in flight, {} req/s",
        l.max_in_flight,
        l.rate_limit_rps
    );
    Ok(Json(st.admission.limits()))
}

async fn get_migration(State(st): State<Arc<AppState>>) -> Json<MigrationDoc> {
    Json(st.migration.get())
}

async fn put_migration(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MigrationDoc>, ApiError> {
    if let Some(src) = st.migration.external() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "managed_externally",
            format!(
                "the migration state follows {src}; change it there (hal9ctl rollback --cluster)"
            ),
        ));
    }
    let patch: MigrationPatch = json_body(&headers, body)?;
    match st.migration.patch(&patch) {
        Ok(d) => {
            tracing::info!(
                "migration: phase {} at {:.2} % (version {})",
                d.phase,
                d.hierarchical_percent,
                d.version
            );
            Ok(Json(d))
        }
        Err(StoreError::Rejected(e @ MigrationError::Stale { .. })) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "stale_version",
            e.to_string(),
        )),
        Err(StoreError::Rejected(e @ MigrationError::NoSnapshot(_))) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_snapshot",
            e.to_string(),
        )),
        Err(StoreError::Rejected(e)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_migration",
            e.to_string(),
        )),
        Err(e @ StoreError::Io { .. }) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "persist_failed",
            e.to_string(),
        )),
    }
}
