#[cfg(test)]
pub(crate) mod built;
pub(crate) mod draw;
pub(crate) mod footer;
pub(crate) mod output;
pub(crate) mod overlay;
pub(crate) mod symbols;
pub(crate) mod table;
