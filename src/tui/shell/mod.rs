pub(crate) mod context;
pub(crate) mod effects;
pub(crate) mod external;
pub mod loader;
pub(crate) mod notice;
pub(crate) mod runtime;
