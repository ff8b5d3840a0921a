//! Connections in count and time. Every accepted connection is registered
//! here and closed when it overstays: its request (headers and body) takes
//! longer than `header_read_timeout` from the first byte (or from accept),
//! or it sits between requests longer than `idle_timeout`. Only a handler
//! at work makes a connection "busy"; one still sending its body is not. At the cap, the connection
//! that has waited longest without a request in progress is closed to make
//! room; when every connection is busy, accepting pauses and the kernel's
//! backlog holds the rest. So clients that never finish their headers cannot
//! keep a healthy client out, and the fd limit is never reached by accept.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// File descriptors kept free for everything that is not a connection: the
/// listener, logs, state files, command processors' pipes.
const FD_RESERVE_MIN: u64 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    pub max: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
}

/// What the registry knows of one connection, as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSeen {
    pub id: u64,
    /// A handler is working on its request (the request has fully arrived).
    pub busy: bool,
    /// It has not sent a request yet since it was accepted.
    pub fresh: bool,
    /// When it last became ready for a request (accept, or end of a response).
    pub waiting_since: Duration,
    /// The first byte of its next request, if one arrived.
    pub first_byte: Option<Duration>,
}

/// When a connection must be closed, on the registry's clock; `None` while busy.
pub fn deadline(c: &ConnectionSeen, l: &ConnLimits) -> Option<Duration> {
    if c.busy {
        return None;
    }
    Some(match c.first_byte {
        Some(t) => t + l.header_read_timeout,
        None if c.fresh => c.waiting_since + l.header_read_timeout,
        None => c.waiting_since + l.idle_timeout,
    })
}

/// The connection to close for room: the one waiting longest for a request.
pub fn victim(conns: &[ConnectionSeen]) -> Option<u64> {
    conns
        .iter()
        .filter(|c| !c.busy)
        .min_by_key(|c| (c.waiting_since, c.id))
        .map(|c| c.id)
}

/// The cap: the configured one, kept under the open-file limit.
pub fn cap(max: usize, fd_limit: Option<u64>) -> usize {
    let Some(fds) = fd_limit else {
        return max;
    };
    let reserve = FD_RESERVE_MIN.max(fds / 8);
    let room = usize::try_from(fds.saturating_sub(reserve)).unwrap_or(usize::MAX);
    max.min(room).max(1)
}

/// The soft RLIMIT_NOFILE, read each time: `prlimit` can change it live.
fn fd_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and keeps no pointer.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur)
}

#[derive(Debug)]
pub struct Conn {
    id: u64,
    epoch: Instant,
    busy: AtomicBool,
    fresh: AtomicBool,
    waiting_since_ms: AtomicU64,
    /// `u64::MAX` when no byte of the next request has arrived.
    first_byte_ms: AtomicU64,
    close: Notify,
}

impl Conn {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn seen(&self) -> ConnectionSeen {
        let first = self.first_byte_ms.load(Ordering::Relaxed);
        ConnectionSeen {
            id: self.id,
            busy: self.busy.load(Ordering::Relaxed),
            fresh: self.fresh.load(Ordering::Relaxed),
            waiting_since: Duration::from_millis(self.waiting_since_ms.load(Ordering::Relaxed)),
            first_byte: (first != u64::MAX).then(|| Duration::from_millis(first)),
        }
    }

    /// Bytes arrived: the first of a request starts its clock.
    fn saw_bytes(&self) {
        if !self.busy.load(Ordering::Relaxed)
            && self.first_byte_ms.load(Ordering::Relaxed) == u64::MAX
        {
            self.first_byte_ms.store(self.now_ms(), Ordering::Relaxed);
        }
    }

    /// The whole request is in and a handler works on it: no deadline, and
    /// not closed for room, until the handler is done.
    pub fn processing(self: &Arc<Self>) -> Busy {
        self.fresh.store(false, Ordering::Relaxed);
        self.busy.store(true, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// A response is done: the connection waits for its next request.
    pub fn request_done(&self) {
        self.waiting_since_ms
            .store(self.now_ms(), Ordering::Relaxed);
        self.first_byte_ms.store(u64::MAX, Ordering::Relaxed);
        self.fresh.store(false, Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
    }

    /// Resolves when the registry wants this connection closed.
    pub async fn closed(&self) {
        self.close.notified().await;
    }
}

/// Held while a handler works on a request.
pub struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Relaxed);
    }
}

/// The request extension through which a handler's middleware finds its
/// connection.
#[derive(Debug, Clone)]
pub struct ConnRef(pub Arc<Conn>);

#[derive(Debug)]
pub struct Connections {
    limits: ConnLimits,
    epoch: Instant,
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Signalled when a connection goes, so a paused accept loop looks again.
    freed: Notify,
    pub evicted: AtomicU64,
    pub timed_out: AtomicU64,
}

/// Keeps a connection registered while its task runs.
pub struct Registered {
    conns: Arc<Connections>,
    pub conn: Arc<Conn>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.conns.live).remove(&self.conn.id);
        self.conns.freed.notify_one();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connections {
    pub fn new(limits: ConnLimits) -> Arc<Connections> {
        Arc::new(Connections {
            limits,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            freed: Notify::new(),
            evicted: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
        })
    }

    pub fn len(&self) -> usize {
        lock(&self.live).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn cap(&self) -> usize {
        cap(self.limits.max, fd_limit())
    }

    pub fn register(self: &Arc<Self>) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            epoch: self.epoch,
            busy: AtomicBool::new(false),
            fresh: AtomicBool::new(true),
            waiting_since_ms: AtomicU64::new(0),
            first_byte_ms: AtomicU64::new(u64::MAX),
            close: Notify::new(),
        });
        conn.waiting_since_ms
            .store(conn.now_ms(), Ordering::Relaxed);
        lock(&self.live).insert(id, Arc::clone(&conn));
        Registered {
            conns: Arc::clone(self),
            conn,
        }
    }

    fn snapshot(&self) -> Vec<ConnectionSeen> {
        lock(&self.live).values().map(|c| c.seen()).collect()
    }

    fn close(&self, id: u64) {
        if let Some(c) = lock(&self.live).get(&id) {
            // notify_one keeps the wake-up if the task is not waiting yet.
            c.close.notify_one();
        }
    }

    /// Wait until another connection may be accepted: there is room under
    /// the cap, or a waiting connection can be closed for it.
    pub async fn room(&self) {
        loop {
            if self.len() < self.cap() || victim(&self.snapshot()).is_some() {
                return;
            }
            // A busy connection turning idle does not signal; look again soon.
            let _ = tokio::time::timeout(Duration::from_millis(50), self.freed.notified()).await;
        }
    }

    /// After an accept: while that left more connections than the cap,
    /// close the one waiting longest for a request and wait until it is
    /// gone, so the open files never run past the cap by more than one.
    pub async fn shed(&self) {
        let mut closing = None;
        loop {
            let seen = self.snapshot();
            if seen.len() <= self.cap() {
                return;
            }
            let v = victim(&seen);
            if v.is_some() && v != closing {
                closing = v;
                self.evicted.fetch_add(1, Ordering::Relaxed);
                if let Some(id) = v {
                    self.close(id);
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), self.freed.notified()).await;
        }
    }

    /// Close every connection past its deadline; run periodically.
    pub fn reap(&self) {
        let now = self.epoch.elapsed();
        for c in self.snapshot() {
            if deadline(&c, &self.limits).is_some_and(|d| d <= now) {
                self.timed_out.fetch_add(1, Ordering::Relaxed);
                self.close(c.id);
            }
        }
    }
}

/// The socket of a registered connection: reads start the header clock.
pub struct Tracked<S> {
    inner: S,
    conn: Arc<Conn>,
}

impl<S> Tracked<S> {
    pub fn new(inner: S, conn: Arc<Conn>) -> Tracked<S> {
        Tracked { inner, conn }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.saw_bytes();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: ConnLimits = ConnLimits {
        max: 4,
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
    };

    fn seen(id: u64, busy: bool, fresh: bool, since: u64, first: Option<u64>) -> ConnectionSeen {
        ConnectionSeen {
            id,
            busy,
            fresh,
            waiting_since: Duration::from_secs(since),
            first_byte: first.map(Duration::from_secs),
        }
    }

    #[test]
    fn deadlines_follow_what_the_connection_is_doing() {
        let s = Duration::from_secs;
        assert_eq!(deadline(&seen(1, true, false, 0, None), &L), None);
        assert_eq!(
            deadline(&seen(1, false, true, 5, None), &L),
            Some(s(15)),
            "fresh, silent"
        );
        assert_eq!(
            deadline(&seen(1, false, false, 5, None), &L),
            Some(s(65)),
            "kept alive, idle"
        );
        assert_eq!(
            deadline(&seen(1, false, false, 5, Some(50)), &L),
            Some(s(60)),
            "headers started arriving at 50 s"
        );
    }

    #[test]
    fn the_victim_is_the_longest_waiting_and_never_a_busy_one() {
        let conns = [
            seen(1, true, false, 0, None),
            seen(2, false, true, 3, Some(3)),
            seen(3, false, false, 2, None),
        ];
        assert_eq!(victim(&conns), Some(3));
        assert_eq!(victim(&conns[..1]), None);
    }

    #[test]
    fn the_cap_stays_under_the_fd_limit() {
        assert_eq!(cap(1024, Some(256)), 192);
        assert_eq!(cap(1024, Some(1 << 20)), 1024);
        assert_eq!(cap(100, None), 100);
        assert_eq!(
            cap(1024, Some(10)),
            1,
            "never zero: one connection is always served"
        );
    }
}
