//! What a scale reports: the change report restart shares, with the undo
//! command set whenever there is capacity to take back.

pub use crate::output::changes::{Change, ChangeReport as ScaleReport};
