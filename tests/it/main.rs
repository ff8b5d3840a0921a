//! Integration tests: the real binary, real processes, real files, loopback sockets.
//! One test binary with modules, so the crate is linked once.

mod common;

mod cli;
mod port_conflict;
