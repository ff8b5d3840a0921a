//! Facts about this host: sockets, processes, disks, signals, the audit log.
//! No printing, no policy.

pub mod audit;
pub mod fsio;
pub mod process;
pub mod safety;
pub mod signals;
pub mod sock_diag;
pub mod sockets;
