#[cfg(test)]
pub mod built;
pub mod draw;
pub mod footer;
pub mod output;
pub mod overlay;
pub mod symbols;
pub mod table;
