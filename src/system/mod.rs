//! Facts about this host: sockets, processes, disks, signals, the audit log.
//! No printing, no policy.

pub mod audit;
pub mod blocking;
pub mod clock;
pub mod disk;
pub mod docker;
pub mod fsio;
pub mod glob;
pub mod interrupt;
pub mod oom;
pub mod open_files;
pub mod owner;
pub mod process;
pub mod root_dir;
pub mod runtime_identity;
pub mod safe_delete;
pub mod safety;
pub mod scan;
pub mod serve_detached;
pub mod signals;
pub mod sock_diag;
pub mod sockets;
pub mod systemctl;
pub mod systemd;
