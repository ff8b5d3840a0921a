//! The HTTP server around the engine: routes (ARCHITECTURE §4), admission,
//! admin API, graceful drain over an SO_REUSEPORT listener.

mod admin;
pub mod admission;
mod errors;
pub mod listener;
pub mod metrics;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

use super::api::Limits;
use super::engine::Runtime;
use super::migration::store::MigrationStore;
use admission::Admission;
pub use errors::ApiError;
use metrics::ServerMetrics;

const STARTING: u8 = 0;
const READY: u8 = 1;
const DRAINING: u8 = 2;

/// After a drain starts, the listener keeps accepting this long (answering
/// with `Connection: close`), so connections the kernel already queued on
/// this socket are served rather than reset while a successor takes over.
const HANDOFF: Duration = Duration::from_millis(300);

/// Everything the handlers share.
pub struct AppState {
    pub runtime: Runtime,
    pub admission: Admission,
    pub metrics: ServerMetrics,
    pub migration: MigrationStore,
    pub token: String,
    pub listen: SocketAddr,
    pub started: Instant,
    pub started_at: String,
    pub server_id: String,
    phase: AtomicU8,
    drain_tx: watch::Sender<bool>,
    pub loop_lag_us: AtomicU64,
    pub served: AtomicU64,
    /// Where admin changes are persisted so that a successor starts with
    /// them; unset for a runtime without a state dir (benches, unit tests).
    pub admin_state: std::sync::OnceLock<crate::runtime::state::StateDir>,
}

impl AppState {
    pub fn new(
        runtime: Runtime,
        limits: Limits,
        migration: MigrationStore,
        token: String,
        listen: SocketAddr,
    ) -> Arc<AppState> {
        let (drain_tx, _) = watch::channel(false);
        let started_at =
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        Arc::new(AppState {
            server_id: format!(
                "{}-{}",
                nix::unistd::gethostname()
                    .map(|h| h.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                std::process::id()
            ),
            runtime,
            admission: Admission::new(limits),
            metrics: ServerMetrics::default(),
            migration,
            token,
            listen,
            started: Instant::now(),
            started_at,
            phase: AtomicU8::new(STARTING),
            drain_tx,
            loop_lag_us: AtomicU64::new(0),
            served: AtomicU64::new(0),
            admin_state: std::sync::OnceLock::new(),
        })
    }

    pub fn is_ready(&self) -> bool {
        self.phase.load(Ordering::SeqCst) == READY
    }

    pub fn is_draining(&self) -> bool {
        self.phase.load(Ordering::SeqCst) == DRAINING
    }

    /// Not ready at once; the accept loop stops after the hand-off window.
    pub fn begin_drain(&self) {
        self.phase.store(DRAINING, Ordering::SeqCst);
        self.drain_tx.send_replace(true);
    }

    pub fn not_ready_reason(&self) -> &'static str {
        match self.phase.load(Ordering::SeqCst) {
            STARTING => "starting",
            DRAINING => "draining",
            _ => "ready",
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    routes::router(state)
}

/// Measure how late a 100 ms tick fires: a blocked or starved event loop shows here.
fn spawn_lag_probe(state: Arc<AppState>) {
    tokio::spawn(async move {
        let period = Duration::from_millis(100);
        loop {
            let t0 = Instant::now();
            tokio::time::sleep(period).await;
            let lag = t0.elapsed().saturating_sub(period);
            state
                .loop_lag_us
                .store(lag.as_micros() as u64, Ordering::Relaxed);
        }
    });
}

/// Serve until a drain is requested (SIGTERM, SIGINT, or POST /admin/drain),
/// then let in-flight requests finish within `drain_timeout`. Returns whether
/// every connection finished in time.
pub async fn run(
    listener: std::net::TcpListener,
    state: Arc<AppState>,
    drain_timeout: Duration,
) -> std::io::Result<bool> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = router(state.clone());
    let graceful = GracefulShutdown::new();
    let mut drain_rx = state.drain_tx.subscribe();
    spawn_lag_probe(state.clone());
    state.phase.store(READY, Ordering::SeqCst);
    let serve = |stream: tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(app.clone());
        let conn =
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
        let fut = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = fut.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    };
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => serve(stream),
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = drain_rx.wait_for(|d| *d) => break,
        }
    }
    tracing::info!(
        "draining: not ready; in-flight requests have {} to finish",
        humantime::format_duration(drain_timeout)
    );
    // Connections accepted from now on answer exactly one request and close.
    // They are not handed to the graceful shutdown, which would close them
    // before their first request is read.
    let mut late = tokio::task::JoinSet::new();
    let mut serve_once = |stream: tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(app.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .keep_alive(false)
            .serve_connection(TokioIo::new(stream), svc);
        late.spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    };
    let handoff_end = tokio::time::Instant::now() + HANDOFF;
    loop {
        tokio::select! {
            r = listener.accept() => if let Ok((stream, _)) = r { serve_once(stream) },
            _ = tokio::time::sleep_until(handoff_end) => break,
        }
    }
    // Serve whatever is still queued on the socket, then close it.
    loop {
        tokio::select! {
            biased;
            r = listener.accept() => match r { Ok((stream, _)) => serve_once(stream), Err(_) => break },
            _ = std::future::ready(()) => break,
        }
    }
    drop(listener);
    let all_done = async {
        graceful.shutdown().await;
        while late.join_next().await.is_some() {}
    };
    Ok(tokio::time::timeout(drain_timeout, all_done).await.is_ok())
}
