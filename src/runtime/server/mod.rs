//! The HTTP server around the engine: routes (ARCHITECTURE §4), admission,
//! admin API, graceful drain over an SO_REUSEPORT listener.

mod admin;
pub mod admission;
pub mod connections;
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
use connections::{ConnLimits, ConnRef, Connections, Tracked};
pub use errors::ApiError;
use metrics::ServerMetrics;

const STARTING: u8 = 0;
const READY: u8 = 1;
const DRAINING: u8 = 2;

/// After a drain starts, the listener keeps accepting this long (answering
/// with `Connection: close`), so connections the kernel already queued on
/// this socket are served rather than reset while a successor takes over.
pub const HANDOFF: Duration = Duration::from_millis(300);

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
    /// One `PUT /admin/limits` at a time, so the persisted limits and the
    /// ones in force are always the same pair.
    pub limits_write: tokio::sync::Mutex<()>,
    pub connections: Arc<Connections>,
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
        let settings = runtime.settings();
        let connections = Connections::new(ConnLimits {
            max: settings.max_connections,
            header_read_timeout: settings.header_read_timeout,
            idle_timeout: settings.idle_timeout,
        });
        let started_at = crate::system::clock::now_rfc3339();
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
            limits_write: tokio::sync::Mutex::new(()),
            connections,
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

/// Largest request head (and read buffer) a connection may hold: hyper's
/// default of about 400 KiB, times every connection, is too much to promise.
const MAX_HEAD: usize = 32 * 1024;

fn http1() -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.max_buf_size(MAX_HEAD);
    b
}

/// Back off accept errors (EMFILE and friends) exponentially, and log the
/// first of a run and then one line per 10 s, not one per attempt.
#[derive(Debug, Default)]
struct AcceptErrors {
    run: u64,
    delay: Duration,
    logged_at: Option<Instant>,
}

impl AcceptErrors {
    fn failed(&mut self, e: &std::io::Error) -> Duration {
        self.run += 1;
        self.delay = (self.delay * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        let now = Instant::now();
        if self
            .logged_at
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(10))
        {
            tracing::warn!(
                "accept failed ({} in a row): {e}; retrying in {:?}",
                self.run,
                self.delay
            );
            self.logged_at = Some(now);
        }
        self.delay
    }

    /// The log throttle outlives the run: errors that alternate with
    /// successes must not log a line each either.
    fn recovered(&mut self) {
        self.run = 0;
        self.delay = Duration::ZERO;
    }
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
    crate::runtime::sd_notify::ready();
    let conns = state.connections.clone();
    let reaper = tokio::spawn({
        let conns = conns.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                conns.reap();
            }
        }
    });
    let serve = |stream: tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
        let registered = conns.register();
        let conn = registered.conn.clone();
        let inner = TowerToHyperService::new(app.clone());
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            // `read_body` marks the connection busy once the body is in.
            req.extensions_mut().insert(ConnRef(conn.clone()));
            let fut = hyper::service::Service::call(&inner, req);
            let conn = conn.clone();
            async move {
                let r = fut.await;
                conn.request_done();
                r
            }
        });
        let io = TokioIo::new(Tracked::new(stream, registered.conn.clone()));
        let conn = http1().serve_connection(io, svc);
        let fut = graceful.watch(conn);
        tokio::spawn(async move {
            tokio::select! {
                r = fut => if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                },
                () = registered.conn.closed() => tracing::debug!("connection closed: overstayed or evicted"),
            }
            drop(registered);
        });
    };
    let mut accept_errors = AcceptErrors::default();
    loop {
        // Over the cap after the last accept: make room first. At the cap:
        // accept only when a waiting connection can be closed for the new one.
        tokio::select! {
            () = async { conns.shed().await; conns.room().await } => {}
            _ = drain_rx.wait_for(|d| *d) => break,
        }
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    accept_errors.recovered();
                    serve(stream);
                }
                Err(e) => tokio::time::sleep(accept_errors.failed(&e)).await,
            },
            _ = drain_rx.wait_for(|d| *d) => break,
        }
    }
    crate::runtime::sd_notify::stopping();
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
        let conn = http1()
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
    // The reaper runs on through the drain: a client that never finishes
    // its headers must not hold the shutdown up until drain_timeout.
    let clean = tokio::time::timeout(drain_timeout, all_done).await.is_ok();
    reaper.abort();
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_back_off_exponentially_to_a_second_and_reset_on_success() {
        let mut a = AcceptErrors::default();
        let e = std::io::Error::from_raw_os_error(libc::EMFILE);
        let delays: Vec<Duration> = (0..10).map(|_| a.failed(&e)).collect();
        assert_eq!(delays[0], Duration::from_millis(5));
        assert_eq!(delays[1], Duration::from_millis(10));
        assert!(delays.windows(2).all(|w| w[1] >= w[0]), "{delays:?}");
        assert_eq!(delays[9], Duration::from_secs(1));
        let logged = a.logged_at;
        a.recovered();
        assert_eq!(a.failed(&e), Duration::from_millis(5));
        assert_eq!(a.logged_at, logged, "the next run within 10 s logs nothing");
    }
}
