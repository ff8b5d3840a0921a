//! The one Ctrl-C idiom, in the two shapes its callers need: a flag that a
//! sync loop checks between steps, and a future that a `select!` races
//! against the work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once Ctrl-C is pressed, so a loop can finish the step under way,
/// record it, and stop. The handler waits on its own thread, so this works
/// from sync code and from inside a runtime alike.
pub fn flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    std::thread::spawn(move || {
        if super::blocking::block_on(pressed()).is_ok() {
            f.store(true, Ordering::SeqCst);
        }
    });
    flag
}

/// Resolves when Ctrl-C is pressed. When the handler cannot be installed it
/// never resolves: a run must not be taken for interrupted because nothing
/// could listen for the key.
pub async fn pressed() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
