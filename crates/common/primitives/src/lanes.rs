//! Nonce lanes: the admission rule of a mempool, as a pure state machine.
//!
//! One lane per sender holds the next nonce to release, the transactions parked
//! ahead of it (waiting for a gap to fill, each with a deadline), and how many
//! released transactions are still in flight (not yet executed). The machine does
//! no I/O and reads no clock: callers pass `now` (any monotone unit: milliseconds,
//! L1 blocks) and act on what each step returns.
//!
//! ```text
//! check(sender, nonce, fee) ──► Next ──► take_next ──► released: parked items whose turn came
//!                          └──► Park ──► park ──► replaced item (higher fee won), if any
//! block_done(outcomes) ──► lanes to resync (a released tx was dropped) ──► resync(nonce) ──► stale + released
//! expire(now) ──► parked items past their deadline
//! ```
//!
//! ## Invariants ([`Lanes::assert_invariants`], property-tested)
//!
//! - `pooled` equals the number of parked plus in-flight transactions over all lanes.
//! - Every parked nonce is above its lane's next nonce.
//! - No lane is idle (nothing parked, nothing in flight, no resync pending): an idle
//!   lane's next nonce is the account's, so it is forgotten and read again.
//! - No parked deadline is below the pool's expiry bound, so `expire` before that
//!   bound does nothing without looking at any lane (it is O(1) on the hot path).
//!
//! ## Limits
//!
//! [`LaneLimits`]: at most `gap_max` nonces ahead of the next one, `sender_max`
//! pending per sender and `pool_max` in all (replayed entries, restored after a
//! restart, bypass the two counts: they were admitted once already).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use crate::types::Nonce;

/// The default gap window: how far ahead of its next nonce a sender may queue.
pub const GAP_MAX_DEFAULT: u64 = 64;

/// The nonce window rule alone, for a pool that reads the sender's next nonce
/// from state instead of keeping a lane (ghostd's mempool): `Next` for the next
/// nonce, `Park` within `gap_max` ahead of it, refused otherwise.
pub fn window(next: Nonce, nonce: Nonce, gap_max: u64) -> Result<Verdict, Refusal> {
    if nonce < next {
        return Err(Refusal::NonceTooLow { expected: next });
    }
    if nonce == next {
        return Ok(Verdict::Next);
    }
    if nonce - next > gap_max {
        return Err(Refusal::NonceGap {
            expected: next,
            max: gap_max,
        });
    }
    Ok(Verdict::Park)
}

/// The bounds a pool of lanes enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneLimits {
    /// How far ahead of the next nonce a transaction may be parked.
    pub gap_max: u64,
    /// Most parked plus in-flight transactions per sender.
    pub sender_max: usize,
    /// Most parked plus in-flight transactions in all.
    pub pool_max: usize,
}

/// Why a transaction is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The sender has no open lane ([`Lanes::open`] first): a caller bug.
    NotOpen,
    /// The nonce was already used or released.
    NonceTooLow {
        /// The lane's next nonce.
        expected: Nonce,
    },
    /// The nonce is more than `gap_max` ahead of the next one.
    NonceGap {
        /// The lane's next nonce.
        expected: Nonce,
        /// The window.
        max: u64,
    },
    /// The pool holds `pool_max` transactions.
    PoolFull,
    /// The sender has `sender_max` transactions pending.
    SenderFull {
        /// Parked plus in flight.
        pending: usize,
    },
    /// A transaction with this nonce is parked with a fee at least as high.
    Underpriced {
        /// The parked transaction's fee.
        existing_fee: u128,
    },
}

/// What to do with an admissible transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Its nonce is next: release it now ([`Lanes::take_next`]).
    Next,
    /// Its nonce is ahead: park it ([`Lanes::park`]) until the gap fills.
    Park,
}

/// What a resync did.
#[derive(Debug)]
pub struct Resynced<T> {
    /// Parked items whose nonce is now below the account's: they can never run.
    pub stale: Vec<T>,
    /// Parked items released, in nonce order.
    pub released: Vec<T>,
}

#[derive(Debug)]
struct Parked<T> {
    item: T,
    fee: u128,
    deadline: u64,
}

#[derive(Debug)]
struct Lane<T> {
    next: Nonce,
    parked: BTreeMap<Nonce, Parked<T>>,
    in_flight: usize,
    /// A released transaction was dropped by the executor: `next` is ahead of the
    /// account's real nonce until [`Lanes::resync`].
    resync: bool,
}

impl<T> Lane<T> {
    fn new(next: Nonce) -> Self {
        Self {
            next,
            parked: BTreeMap::new(),
            in_flight: 0,
            resync: false,
        }
    }

    fn pending(&self) -> usize {
        self.parked.len() + self.in_flight
    }

    fn idle(&self) -> bool {
        self.in_flight == 0 && self.parked.is_empty() && !self.resync
    }

    /// Releases parked items from `next` on while they are contiguous.
    fn release_ready(&mut self) -> Vec<T> {
        let mut ready = Vec::new();
        while let Some(entry) = self.parked.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            ready.push(entry.remove().item);
            self.next += 1;
            self.in_flight += 1;
        }
        ready
    }
}

/// The lanes of one pool. `K` names a sender, `T` is what a parked entry carries.
#[derive(Debug)]
pub struct Lanes<K, T> {
    limits: LaneLimits,
    lanes: HashMap<K, Lane<T>>,
    pooled: usize,
    /// No parked deadline is below this (a lower bound, tightened by each full
    /// scan): [`Lanes::expire`] before it returns at once instead of scanning
    /// every lane, so callers may call it as often as they like.
    earliest_deadline: u64,
}

fn decrement(counter: &mut usize, what: &str) {
    debug_assert!(*counter > 0, "{what} counter would go below zero");
    *counter = counter.checked_sub(1).unwrap_or_default();
}

impl<K: Hash + Eq + Copy, T> Lanes<K, T> {
    /// An empty pool.
    pub fn new(limits: LaneLimits) -> Self {
        Self {
            limits,
            lanes: HashMap::new(),
            pooled: 0,
            earliest_deadline: u64::MAX,
        }
    }

    /// The bounds.
    pub fn limits(&self) -> LaneLimits {
        self.limits
    }

    /// Parked plus in-flight transactions.
    pub fn pooled(&self) -> usize {
        self.pooled
    }

    /// Open lanes.
    pub fn len(&self) -> usize {
        self.lanes.len()
    }

    /// Whether no lane is open.
    pub fn is_empty(&self) -> bool {
        self.lanes.is_empty()
    }

    /// The next nonce of `sender`'s lane, if open.
    pub fn next_nonce(&self, sender: &K) -> Option<Nonce> {
        self.lanes.get(sender).map(|lane| lane.next)
    }

    /// Whether `sender` has an open lane.
    pub fn is_open(&self, sender: &K) -> bool {
        self.lanes.contains_key(sender)
    }

    /// Opens `sender`'s lane at the account's next nonce (no-op if open).
    pub fn open(&mut self, sender: K, next: Nonce) {
        self.lanes.entry(sender).or_insert_with(|| Lane::new(next));
    }

    /// The admission rule, without changing anything. `replay` marks an entry
    /// restored after a restart: it bypasses the pool and sender bounds.
    pub fn check(
        &self,
        sender: &K,
        nonce: Nonce,
        fee: u128,
        replay: bool,
    ) -> Result<Verdict, Refusal> {
        let lane = self.lanes.get(sender).ok_or(Refusal::NotOpen)?;
        if nonce < lane.next {
            return Err(Refusal::NonceTooLow {
                expected: lane.next,
            });
        }
        if !replay && self.pooled >= self.limits.pool_max {
            return Err(Refusal::PoolFull);
        }
        let existing_fee = lane.parked.get(&nonce).map(|p| p.fee);
        let pending = lane.pending();
        if !replay && existing_fee.is_none() && pending >= self.limits.sender_max {
            return Err(Refusal::SenderFull { pending });
        }
        if window(lane.next, nonce, self.limits.gap_max)? == Verdict::Next {
            return Ok(Verdict::Next);
        }
        match existing_fee {
            Some(existing_fee) if fee <= existing_fee => Err(Refusal::Underpriced { existing_fee }),
            _ => Ok(Verdict::Park),
        }
    }

    /// Releases the transaction whose nonce is next (after [`Verdict::Next`]) and
    /// returns the parked items that follow it without a gap, in nonce order.
    pub fn take_next(&mut self, sender: &K) -> Vec<T> {
        let Some(lane) = self.lanes.get_mut(sender) else {
            debug_assert!(false, "take_next on a closed lane");
            return Vec::new();
        };
        lane.next += 1;
        lane.in_flight += 1;
        self.pooled += 1;
        lane.release_ready()
    }

    /// Parks `item` (after [`Verdict::Park`]) until `deadline`; returns the item it
    /// replaces (same nonce, lower fee), if any.
    pub fn park(
        &mut self,
        sender: &K,
        nonce: Nonce,
        fee: u128,
        item: T,
        deadline: u64,
    ) -> Option<T> {
        let Some(lane) = self.lanes.get_mut(sender) else {
            debug_assert!(false, "park on a closed lane");
            return None;
        };
        let parked = Parked {
            item,
            fee,
            deadline,
        };
        self.earliest_deadline = self.earliest_deadline.min(deadline);
        match lane.parked.insert(nonce, parked) {
            Some(replaced) => Some(replaced.item),
            None => {
                self.pooled += 1;
                None
            }
        }
    }

    /// Records executed transactions: `(sender, dropped)` per transaction, where
    /// `dropped` means the executor refused it (its nonce was not used). Returns the
    /// senders whose lanes must be [resynced](Self::resync) with the account's
    /// nonce; idle lanes are closed.
    pub fn block_done(&mut self, outcomes: impl IntoIterator<Item = (K, bool)>) -> Vec<K> {
        let mut touched = Vec::new();
        for (sender, dropped) in outcomes {
            decrement(&mut self.pooled, "pooled");
            if let Some(lane) = self.lanes.get_mut(&sender) {
                decrement(&mut lane.in_flight, "lane in-flight");
                lane.resync |= dropped;
                touched.push(sender);
            }
        }
        let mut resync = Vec::new();
        for sender in touched {
            match self.lanes.get(&sender) {
                Some(lane) if lane.resync && lane.in_flight == 0 => {
                    if !resync.contains(&sender) {
                        resync.push(sender);
                    }
                }
                _ => self.close_if_idle(&sender),
            }
        }
        resync
    }

    /// Resets `sender`'s next nonce to the account's (`nonce`, read after its
    /// in-flight transactions ran): parked items below it are returned as stale,
    /// and those that now follow without a gap are released.
    pub fn resync(&mut self, sender: &K, nonce: Nonce) -> Resynced<T> {
        let mut out = Resynced {
            stale: Vec::new(),
            released: Vec::new(),
        };
        let Some(lane) = self.lanes.get_mut(sender) else {
            return out;
        };
        lane.next = nonce;
        lane.resync = false;
        let keep = lane.parked.split_off(&nonce);
        let stale = std::mem::replace(&mut lane.parked, keep);
        for parked in stale.into_values() {
            decrement(&mut self.pooled, "pooled");
            out.stale.push(parked.item);
        }
        out.released = lane.release_ready();
        self.close_if_idle(sender);
        out
    }

    /// Removes parked items whose deadline is at or before `now`; returns them.
    pub fn expire(&mut self, now: u64) -> Vec<(K, T)> {
        let mut expired = Vec::new();
        if now < self.earliest_deadline {
            return expired;
        }
        let mut emptied = Vec::new();
        let mut earliest = u64::MAX;
        for (sender, lane) in &mut self.lanes {
            let lane_earliest = lane.parked.values().map(|p| p.deadline).min();
            if lane_earliest.is_none_or(|deadline| deadline > now) {
                earliest = earliest.min(lane_earliest.unwrap_or(u64::MAX));
                continue;
            }
            let parked = std::mem::take(&mut lane.parked);
            for (nonce, p) in parked {
                if p.deadline <= now {
                    expired.push((*sender, p.item));
                } else {
                    earliest = earliest.min(p.deadline);
                    lane.parked.insert(nonce, p);
                }
            }
            if lane.idle() {
                emptied.push(*sender);
            }
        }
        for _ in &expired {
            decrement(&mut self.pooled, "pooled");
        }
        for sender in emptied {
            self.lanes.remove(&sender);
        }
        self.earliest_deadline = earliest;
        expired
    }

    /// Closes `sender`'s lane if nothing is parked or in flight (its next nonce is
    /// then the account's, read again on its next transaction).
    pub fn close_if_idle(&mut self, sender: &K) {
        if self.lanes.get(sender).is_some_and(Lane::idle) {
            self.lanes.remove(sender);
        }
    }

    /// Checks the invariants of the module doc; panics on a broken one.
    pub fn assert_invariants(&self) {
        let mut pooled = 0;
        for lane in self.lanes.values() {
            pooled += lane.pending();
            assert!(!lane.idle(), "an idle lane stayed open");
            if let Some((&first, _)) = lane.parked.first_key_value() {
                assert!(
                    first > lane.next,
                    "parked nonce {first} is not above next {}",
                    lane.next
                );
            }
            for parked in lane.parked.values() {
                assert!(
                    parked.deadline >= self.earliest_deadline,
                    "deadline {} is below the expiry bound {}",
                    parked.deadline,
                    self.earliest_deadline
                );
            }
        }
        assert_eq!(pooled, self.pooled, "pooled count drifted");
    }
}
