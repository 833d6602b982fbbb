//! What the answer cache holds.

/// What the cache holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUsage {
    /// Answers held.
    pub entries: usize,
    /// Their estimated bytes ([`Answer::bytes_estimate`](super::Answer::bytes_estimate), keys and table
    /// slots).
    pub bytes: usize,
}
