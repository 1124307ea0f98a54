pub mod context;
pub mod effects;
pub mod external;
pub mod loader;
pub mod notice;
pub mod runtime;
