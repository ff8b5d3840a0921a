//! Migration state (flat → hierarchical), its persistence, sticky routing,
//! and what each flag switches.

pub mod features;
pub mod router;
pub mod state;
pub mod store;

pub use features::Features;
pub use state::{MigrationDoc, MigrationError, Phase};
