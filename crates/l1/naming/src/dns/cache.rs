//! The answer cache: answers of the committed head, bounded in entries and bytes.

use std::collections::HashMap;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;

use super::kind::Kind;
use super::{Answer, CacheUsage};

/// Answers per (name, kind) for one head height. When a new answer would pass
/// either bound the cache starts over: simple, bounded, and a flood of distinct
/// names costs only the point reads it causes.
pub(crate) struct AnswerCache {
    height: u64,
    entries: HashMap<(String, Kind), Arc<Answer>>,
    bytes: usize,
    bytes_max: usize,
    entries_max: usize,
}

/// A table slot: the key, the `Arc`, and hashbrown's control byte, doubled for the
/// table's spare capacity.
const SLOT_BYTES: usize = 2 * (std::mem::size_of::<((String, Kind), Arc<Answer>)>() + 1);

impl AnswerCache {
    pub(crate) fn new(bytes_max: usize, entries_max: usize) -> Self {
        Self {
            height: u64::MAX,
            entries: HashMap::new(),
            bytes: 0,
            bytes_max,
            entries_max,
        }
    }

    /// The answer for `key` at `height`, if held.
    pub(crate) fn get(&self, height: u64, key: &(String, Kind)) -> Option<Arc<Answer>> {
        (self.height == height)
            .then(|| self.entries.get(key).cloned())
            .flatten()
    }

    /// Keeps `answer` for `key` at `height`. REFUSED answers (names outside the
    /// zone: computing them costs nothing) and SERVFAIL (a storage error, which may
    /// pass) are not kept.
    pub(crate) fn insert(&mut self, height: u64, key: (String, Kind), answer: &Arc<Answer>) {
        if matches!(answer.code, ResponseCode::Refused | ResponseCode::ServFail) {
            return;
        }
        let cost = SLOT_BYTES + key.0.len() + answer.bytes_estimate();
        if cost > self.bytes_max {
            return;
        }
        if self.height != height
            || self.entries.len() >= self.entries_max
            || self.bytes + cost > self.bytes_max
        {
            self.height = height;
            self.entries = HashMap::new();
            self.bytes = 0;
        }
        if self.entries.insert(key, Arc::clone(answer)).is_none() {
            self.bytes += cost;
        }
        debug_assert!(self.bytes <= self.bytes_max && self.entries.len() <= self.entries_max);
    }

    pub(crate) fn usage(&self) -> CacheUsage {
        CacheUsage {
            entries: self.entries.len(),
            bytes: self.bytes,
        }
    }
}
