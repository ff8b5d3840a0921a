//! The machine's ceiling for benches/load.sh: a minimal axum server that
//! answers `POST /` with a fixed JSON body. `cargo bench --bench hello_server
//! -- ADDR` runs it until killed; with no ADDR (as `cargo bench` runs every
//! bench) it exits at once.

use axum::Router;
use axum::routing::post;

fn main() {
    let Some(addr) = std::env::args().skip(1).find(|a| a.contains(':')) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async move {
        let app = Router::new().route(
            "/",
            post(|| async { axum::Json(serde_json::json!({"output": "hello"})) }),
        );
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        axum::serve(listener, app).await.expect("serve");
    });
}
