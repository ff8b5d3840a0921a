//! The kube-rs client layer: deployments, HPA, pods, events, rollout status.

pub mod client;
pub mod facts;
pub mod rollout;

pub use client::{Kube, Op, Target, api_error, connect};
