//! The one way sync code waits on async code, and the one Ctrl-C idiom.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Run a future to completion from sync code, on a current-thread runtime:
/// it starts in microseconds, which matters for a health check that is timed
/// as a whole process.
pub fn block_on<F: std::future::Future>(f: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(f))
}

/// Set once Ctrl-C is pressed, so a loop can finish the step under way,
/// record it, and stop. The handler waits on its own thread, so this works
/// from sync code and from inside a runtime alike.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    std::thread::spawn(move || {
        if let Ok(Ok(())) = block_on(tokio::signal::ctrl_c()) {
            f.store(true, Ordering::SeqCst);
        }
    });
    flag
}
