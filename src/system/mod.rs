//! Facts about this host: sockets, processes, disks, signals, the audit log.
//! No printing, no policy.

pub mod audit;
pub mod fsio;
