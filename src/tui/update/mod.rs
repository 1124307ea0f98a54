pub mod apply;
pub mod data;
pub mod detail;
pub mod diff_view;
pub mod keys;
pub mod normal;
pub mod results;
pub mod scroll;
