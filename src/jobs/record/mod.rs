//! What a job's folder says, before anyone believes it: the job's id (its folder's
//! name), its record (`meta.json`), and the one way any file of the folder is opened.
//! The folder is the job's to write, so everything read here is untrusted until the
//! store judges it against what the kernel says (see [`super::store`]).

pub mod change;
pub mod id;
pub mod jobfile;
pub mod meta;
pub mod timestamp;
