//! The one way sync code waits on async code.

/// Run a future to completion from sync code, on a current-thread runtime:
/// it starts in microseconds, which matters for a health check that is timed
/// as a whole process.
pub fn block_on<F: std::future::Future>(f: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(f))
}
