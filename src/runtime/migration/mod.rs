//! Migration state (flat → hierarchical), its persistence, and sticky routing.

pub mod router;
pub mod state;
pub mod store;

pub use state::{MigrationDoc, MigrationError, Phase};
