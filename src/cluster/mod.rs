//! The kube-rs client layer: deployments, HPA, pods, events, rollout status.

pub mod client;
pub mod facts;
pub mod migration;
pub mod rollout;
pub mod undo;

pub use client::{Kube, Op, Target, api_error, connect};
