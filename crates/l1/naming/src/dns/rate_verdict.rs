//! What the rate limiter says about one query.

/// What to do with one UDP query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    /// Within the client's rate: answer.
    Answer,
    /// Over it: a TC=1 reply no larger than the query (a real client retries over
    /// TCP, where addresses cannot be spoofed).
    Slip,
    /// Over it: nothing.
    Drop,
}
