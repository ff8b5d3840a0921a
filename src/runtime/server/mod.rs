//! The HTTP server (axum) around the engine.
