//! The kube-rs client layer: deployments, HPA, pods, events, rollout status.

pub mod aggregate;
pub mod await_watch;
pub mod capacity;
pub mod client;
pub mod conflict_retry;
pub mod facts;
pub mod lease;
pub mod migration;
pub mod pod_confirm;
pub mod pod_proxy;
pub mod pod_state;
pub mod quantity;
pub mod rollout;
pub mod stuck;
pub mod undo;
pub mod wait_retry;

pub use client::{Kube, Op, Target, api_error, connect};
