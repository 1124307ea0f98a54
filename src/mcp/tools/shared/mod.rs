//! What several tools share besides their context: the JSON-schema helpers, the
//! progress a waiting tool sends, the arguments of unattended work.

pub mod hosts;
pub mod schema;
pub mod unattended;
pub mod waiting;
