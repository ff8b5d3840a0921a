//! Integration tests: the real binary, real processes, real files, loopback sockets.
//! One test binary with modules, so the crate is linked once.

mod common;

mod advice;
mod audit;
mod cli;
mod cluster;
mod containers;
mod disk;
mod fuzz;
mod health;
mod incident;
mod migrate;
mod migration_flags;
mod migration_put;
mod non_utf8;
mod notify;
mod oncall_health;
mod oncall_metrics;
mod oncall_slo;
mod oom;
mod packaging;
mod port_conflict;
mod restart;
mod rollback;
mod runbooks;
mod runtime_bounds;
mod scale;
mod serve;
mod state_dir;
mod streams;
mod systemd;
