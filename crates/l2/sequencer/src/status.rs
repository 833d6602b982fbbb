//! Transaction statuses for queries, in a lock-free map.
//!
//! In-flight statuses (received, accepted) are written on the hot path without locks
//! (papaya). Executed transactions are removed at once: their receipts are durable
//! in the executor's store, which answers for them. Final statuses that have no
//! receipt (rejected, dropped) are kept for the `statuses_retained_max` most recent
//! ones; only that eviction order takes a lock, and only on those paths.

use std::collections::VecDeque;
use std::sync::Mutex;

use ghostplane_primitives::Hash32;

use ghostplane_l2_api::TxStatus;

/// Statuses of transactions that have no receipt yet, or never will.
pub struct StatusBoard {
    map: papaya::HashMap<Hash32, TxStatus>,
    finished: Mutex<Recent>,
}

impl StatusBoard {
    /// A board keeping at most `retained_max` final statuses.
    pub fn new(retained_max: usize) -> Self {
        Self {
            map: papaya::HashMap::new(),
            finished: Mutex::new(Recent::new(retained_max)),
        }
    }

    /// Records a status. A rejection never overwrites an accepted transaction's
    /// status (a duplicate submission must not hide the original).
    pub fn set(&self, hash: Hash32, status: TxStatus) {
        let map = self.map.pin();
        if matches!(status, TxStatus::Rejected { .. })
            && matches!(map.get(&hash), Some(TxStatus::Accepted))
        {
            return;
        }
        let is_final = status.is_final();
        map.insert(hash, status);
        if is_final {
            let evicted = self
                .finished
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(hash);
            if let Some(old) = evicted {
                map.remove(&old);
            }
        }
    }

    /// The status, if the board has one.
    pub fn get(&self, hash: &Hash32) -> Option<TxStatus> {
        self.map.pin().get(hash).cloned()
    }

    /// Whether the transaction is already admitted and waiting to run.
    pub fn is_pending(&self, hash: &Hash32) -> bool {
        matches!(self.map.pin().get(hash), Some(TxStatus::Accepted))
    }

    /// Removes an entry (its receipt answers from now on).
    pub fn forget(&self, hash: &Hash32) {
        self.map.pin().remove(hash);
    }

    /// Entries on the board.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the board is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Bounded FIFO of recently finished hashes, for status eviction.
struct Recent {
    order: VecDeque<Hash32>,
    max: usize,
}

impl Recent {
    fn new(max: usize) -> Self {
        Self {
            order: VecDeque::new(),
            max,
        }
    }

    /// Remembers `hash`; returns the hash that falls out, if any.
    fn push(&mut self, hash: Hash32) -> Option<Hash32> {
        self.order.push_back(hash);
        if self.order.len() > self.max {
            self.order.pop_front()
        } else {
            None
        }
    }
}
