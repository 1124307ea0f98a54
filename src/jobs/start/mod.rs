//! Starting a job: the request, checked (and held under the policy ceiling) before
//! anything runs; a supervisor launched for it, or a place in the queue when a limit
//! says wait; and follow-ups, which continue a finished job's conversation.

mod budget;
pub mod ceiling;
pub mod follow;
pub mod queue;
pub mod request;
pub mod spawn;
