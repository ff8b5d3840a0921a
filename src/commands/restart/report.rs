//! What a restart reports: the change report scale shares. A restart has
//! nothing to undo (a later restart or a rollback is the way back), so its
//! `undo` is always `None`.

pub use crate::output::changes::ChangeReport as RestartReport;
