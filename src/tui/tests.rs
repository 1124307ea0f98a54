//! State transitions driven by actions, and snapshots of each screen.
