//! The mempool: the waiting transactions (`Mempool`: nonce lanes, release order,
//! its limits), the admission checks (`check`: chain, size, signature, the
//! lanes' nonce window, a dry run), and picking the candidates of the next block.
//! Its durable copy is the store's `pending` column (`store`).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use ghostplane_primitives::clock::SharedClock;
use ghostplane_primitives::lanes::{self, LaneLimits, Lanes, Refusal, Verdict};
use ghostplane_primitives::{Codec, Hash32, Nonce, PublicKey};
use ghostplane_rpc::codes;

use super::block::BlockBuilder;
use super::store::ChainStore;
use super::{MEMPOOL_OPERATOR_RESERVED, NONCE_GAP_MAX, NodeError, PARKED_MS_MAX, lock};
use crate::module::ModuleError;
use crate::modules::CallError;
use crate::types::{L1_TX_BYTES_MAX, SignedL1Transaction};

/// Why a transaction was not taken into the mempool.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Not a valid encoding.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// Signed for another chain.
    #[error("transaction is for chain {got:#x}, this chain is {expected:#x}")]
    WrongChain {
        /// This chain.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// Nonce already used.
    #[error("nonce {got} too low: next nonce of {from} is {expected}")]
    NonceTooLow {
        /// Sender.
        from: PublicKey,
        /// Next nonce.
        expected: Nonce,
        /// Given.
        got: Nonce,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error("nonce {got} is more than {max} ahead of the next nonce {expected}")]
    NonceGap {
        /// Next nonce.
        expected: Nonce,
        /// Given.
        got: Nonce,
        /// Largest allowed gap.
        max: u64,
    },
    /// The sender already has a transaction with this nonce waiting.
    #[error("a transaction with nonce {0} from this sender is already pending")]
    NoncePending(Nonce),
    /// Already included.
    #[error("transaction {0} is already included")]
    AlreadyIncluded(Hash32),
    /// The mempool is full.
    #[error("mempool is full ({0} transactions); retry later")]
    MempoolFull(usize),
    /// The call would fail against the current state.
    #[error("{0}")]
    Refused(#[from] CallError),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(String),
}

impl SubmitError {
    /// A module's verdict (refused), or this node's storage failing.
    fn from_module(e: ModuleError) -> Self {
        match e {
            ModuleError::Refused(refusal) => SubmitError::Refused(refusal.into()),
            ModuleError::Storage(e) => SubmitError::Storage(e.to_string()),
        }
    }

    /// Stable JSON-RPC error code, from the project-wide table ([`codes`]).
    pub fn code(&self) -> i32 {
        match self {
            SubmitError::Malformed(_) => codes::MALFORMED,
            SubmitError::WrongChain { .. } => codes::WRONG_CHAIN,
            SubmitError::BadSignature => codes::BAD_SIGNATURE,
            SubmitError::NonceTooLow { .. } => codes::NONCE_TOO_LOW,
            SubmitError::NoncePending(_) => codes::NONCE_PENDING,
            SubmitError::NonceGap { .. } => codes::NONCE_GAP,
            SubmitError::AlreadyIncluded(_) => codes::ALREADY_KNOWN,
            SubmitError::MempoolFull(_) => codes::POOL_FULL,
            SubmitError::Refused(_) => codes::CALL_REFUSED,
            SubmitError::Storage(_) => codes::INTERNAL,
        }
    }
}

/// Where admitted transactions go for the network's other nodes (BFT gossip).
pub(super) type Gossip = Box<dyn Fn(Vec<SignedL1Transaction>) + Send + Sync>;

/// A waiting transaction: arrival sequence (its `pending` key), hash, transaction.
pub(crate) type Pending = (u64, Hash32, SignedL1Transaction);

/// The waiting transactions: per-sender nonce lanes ([`lanes`]) hold the ones
/// parked for an earlier nonce; released ones (their nonce is next) wait in `ready`,
/// in release order, for a block. In memory only: the node keeps it behind one
/// lock and mirrors it in the store's `pending` column.
pub(super) struct Mempool {
    /// Most waiting transactions (`mempool_max`).
    pool_max: usize,
    /// Most candidates for one block (`block_txs_max`, at most
    /// [`BLOCK_TXS_MAX`](super::BLOCK_TXS_MAX)).
    candidates_max: usize,
    /// Rollup operators: they may take the last [`MEMPOOL_OPERATOR_RESERVED`] places.
    operators: Vec<PublicKey>,
    lanes: Lanes<PublicKey, Pending>,
    ready: VecDeque<Pending>,
    hashes: HashSet<Hash32>,
    /// Parked at admission, so not dry-run then: dry-run when a block is built
    /// ([`Mempool::is_unchecked`]).
    unchecked: HashSet<Hash32>,
    next_seq: u64,
    /// Parked entries' deadlines are ms since `origin` on `clock`.
    clock: SharedClock,
    origin: Instant,
}

/// What a block did with a candidate.
enum Settled {
    /// Included: its nonce is used.
    Included,
    /// Its nonce was already used: it can never run.
    Obsolete,
    /// Not run (its nonce is ahead): it waits for the next block.
    NotRun,
}

impl Mempool {
    /// An empty pool of at most `mempool_max` transactions that hands out at most
    /// `candidates_max` per block; `operators` may use the reserved room.
    pub(super) fn new(
        mempool_max: usize,
        candidates_max: usize,
        operators: Vec<PublicKey>,
        clock: SharedClock,
    ) -> Self {
        let gap_max = NONCE_GAP_MAX;
        let limits = LaneLimits {
            gap_max,
            sender_max: usize::try_from(gap_max)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
            pool_max: mempool_max,
        };
        Self {
            pool_max: mempool_max,
            candidates_max,
            operators,
            lanes: Lanes::new(limits),
            ready: VecDeque::new(),
            hashes: HashSet::new(),
            unchecked: HashSet::new(),
            next_seq: 0,
            origin: clock.now(),
            clock,
        }
    }

    /// Now, in ms since the pool was made (monotonic).
    fn now_ms(&self) -> u64 {
        let elapsed = self.clock.now().saturating_duration_since(self.origin);
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether `hash` is waiting.
    pub(super) fn contains(&self, hash: &Hash32) -> bool {
        self.hashes.contains(hash)
    }

    /// Whether the transaction skipped the admission dry run (it was parked for an
    /// earlier nonce): a block builder dry-runs it and drops it if its call fails.
    pub(super) fn is_unchecked(&self, hash: &Hash32) -> bool {
        self.unchecked.contains(hash)
    }

    fn forget(&mut self, hash: &Hash32) {
        self.hashes.remove(hash);
        self.unchecked.remove(hash);
    }

    /// Takes `entry` in (after [`Lanes::check`] said `verdict`): released now, with
    /// whatever it unblocks, or parked for at most [`PARKED_MS_MAX`].
    fn enqueue(&mut self, verdict: Verdict, entry: Pending) {
        let deadline = self.now_ms().saturating_add(PARKED_MS_MAX);
        let from = entry.2.tx.from;
        let nonce = entry.2.tx.nonce;
        self.hashes.insert(entry.1);
        self.next_seq = self.next_seq.max(entry.0 + 1);
        match verdict {
            Verdict::Next => {
                self.ready.push_back(entry);
                let released = self.lanes.take_next(&from);
                self.ready.extend(released);
            }
            Verdict::Park => {
                self.unchecked.insert(entry.1);
                // Checked: no transaction with this nonce is parked.
                let _ = self.lanes.park(&from, nonce, 0, entry, deadline);
            }
        }
    }

    /// Restores an entry of the pending column at open; `None` if it can never run
    /// (its nonce is used or taken): the caller deletes it.
    pub(super) fn restore(&mut self, entry: Pending, next: Nonce) -> Option<()> {
        let from = entry.2.tx.from;
        self.lanes.open(from, next);
        match self.lanes.check(&from, entry.2.tx.nonce, 0, true) {
            Ok(verdict) => {
                self.enqueue(verdict, entry);
                Some(())
            }
            Err(_) => {
                self.lanes.close_if_idle(&from);
                self.next_seq = self.next_seq.max(entry.0 + 1);
                None
            }
        }
    }

    /// Room and the sender's lane for `tx` (its sender's next nonce is `next`,
    /// checked by [`check`]): the verdict to [`Mempool::insert`] it with.
    pub(super) fn admit(
        &mut self,
        next: Nonce,
        tx: &SignedL1Transaction,
    ) -> Result<Verdict, SubmitError> {
        let operator = self.operators.contains(&tx.tx.from);
        let room = if operator {
            self.pool_max
        } else {
            self.pool_max.saturating_sub(MEMPOOL_OPERATOR_RESERVED)
        };
        if self.len() >= room {
            return Err(SubmitError::MempoolFull(self.len()));
        }
        let from = tx.tx.from;
        self.lanes.open(from, next);
        let len = self.len();
        self.lanes
            .check(&from, tx.tx.nonce, 0, false)
            .map_err(|refusal| {
                self.lanes.close_if_idle(&from);
                match refusal {
                    // At or past the account's nonce (checked above) but below the
                    // lane's, or parked: another transaction holds this nonce.
                    Refusal::NonceTooLow { .. } | Refusal::Underpriced { .. } => {
                        SubmitError::NoncePending(tx.tx.nonce)
                    }
                    Refusal::NonceGap { expected, max } => SubmitError::NonceGap {
                        expected,
                        got: tx.tx.nonce,
                        max,
                    },
                    Refusal::PoolFull | Refusal::SenderFull { .. } => SubmitError::MempoolFull(len),
                    Refusal::NotOpen => SubmitError::Storage("mempool lane missing".into()),
                }
            })
    }

    /// Takes in `tx` (admitted with `verdict`): released now, or parked for at most
    /// [`PARKED_MS_MAX`]. Returns its sequence number (its key in the `pending`
    /// column).
    pub(super) fn insert(
        &mut self,
        verdict: Verdict,
        hash: Hash32,
        tx: SignedL1Transaction,
    ) -> u64 {
        let seq = self.next_seq;
        self.enqueue(verdict, (seq, hash, tx));
        seq
    }

    /// The candidates of the block after `head`: up to `candidates_max` released
    /// transactions (nonce next, in release order), after dropping parked ones
    /// whose deadline has come (returned second, for the caller to delete from the
    /// `pending` column). Parked transactions never take a block's room from
    /// executable ones.
    pub(super) fn candidates(&mut self) -> (Vec<Pending>, Vec<Pending>) {
        let expired = self.expire(self.now_ms());
        let n = self.candidates_max.min(self.ready.len());
        (self.ready.drain(..n).collect(), expired)
    }

    /// Takes out the released entries with these hashes (a block someone else
    /// built included them).
    pub(super) fn take_matching(&mut self, hashes: &HashSet<Hash32>) -> Vec<Pending> {
        let mut taken = Vec::new();
        self.ready.retain(|entry| {
            if hashes.contains(&entry.1) {
                taken.push(entry.clone());
                false
            } else {
                true
            }
        });
        taken
    }

    /// Puts candidates back at the front (their block was not committed).
    pub(super) fn requeue(&mut self, candidates: Vec<Pending>) {
        for entry in candidates.into_iter().rev() {
            self.ready.push_front(entry);
        }
    }

    /// Parked entries whose deadline (ms since `origin`) has come.
    fn expire(&mut self, now_ms: u64) -> Vec<Pending> {
        let expired: Vec<Pending> = self
            .lanes
            .expire(now_ms)
            .into_iter()
            .map(|(_, entry)| entry)
            .collect();
        for (_, hash, _) in &expired {
            self.forget(hash);
        }
        expired
    }

    /// Records what a committed block did with the candidates this node took for
    /// it: those in `finished` (by sequence number) were included, those also in
    /// `obsolete` can never run; the rest wait for the next block. `nonce_of` reads
    /// a sender's nonce after the block. Returns the entries that can never run now
    /// (their nonce is used or skipped), for the caller to delete.
    pub(super) fn settle(
        &mut self,
        candidates: Vec<Pending>,
        finished: &HashSet<u64>,
        obsolete: &HashSet<u64>,
        nonce_of: impl Fn(&PublicKey) -> Option<Nonce>,
    ) -> Vec<Pending> {
        let candidates = candidates.into_iter().map(|entry| {
            let settled = if obsolete.contains(&entry.0) {
                Settled::Obsolete
            } else if finished.contains(&entry.0) {
                Settled::Included
            } else {
                Settled::NotRun
            };
            (entry, settled)
        });
        let mut outcomes = Vec::new();
        let mut wait = Vec::new();
        for (entry, settled) in candidates {
            match settled {
                Settled::Included | Settled::Obsolete => {
                    self.forget(&entry.1);
                    outcomes.push((entry.2.tx.from, matches!(settled, Settled::Obsolete)));
                }
                Settled::NotRun => wait.push(entry),
            }
        }
        self.requeue(wait);
        let mut stale = Vec::new();
        // A sender whose transaction left unrun (obsolete, or dropped by its dry
        // run) may have later ones released that now follow a nonce gap: they can
        // never run, so they leave too (the sender sends them again).
        let dropped: HashSet<PublicKey> = outcomes
            .iter()
            .filter(|(_, dropped)| *dropped)
            .map(|(from, _)| *from)
            .collect();
        for sender in dropped {
            let Some(mut expected) = nonce_of(&sender) else {
                continue;
            };
            let mut nonces: Vec<Nonce> = self
                .ready
                .iter()
                .filter(|e| e.2.tx.from == sender)
                .map(|e| e.2.tx.nonce)
                .collect();
            nonces.sort_unstable();
            let mut runnable = HashSet::new();
            for nonce in nonces {
                if nonce == expected {
                    runnable.insert(nonce);
                    expected += 1;
                }
            }
            let mut gapped = Vec::new();
            self.ready.retain(|e| {
                let keep = e.2.tx.from != sender || runnable.contains(&e.2.tx.nonce);
                if !keep {
                    gapped.push(e.clone());
                }
                keep
            });
            for entry in gapped {
                tracing::info!(tx = %entry.1, "L1 transaction dropped: it follows a nonce that was not used");
                self.forget(&entry.1);
                outcomes.push((sender, true));
                stale.push(entry);
            }
        }
        for sender in self.lanes.block_done(outcomes) {
            let Some(nonce) = nonce_of(&sender) else {
                continue;
            };
            let resynced = self.lanes.resync(&sender, nonce);
            for entry in &resynced.stale {
                self.forget(&entry.1);
            }
            stale.extend(resynced.stale);
            self.ready.extend(resynced.released);
        }
        stale
    }
}

/// The admission checks that need no mempool lock: chain, size, signature, the
/// modules' `authorize`, inclusion, the nonce window and (for a next nonce) a dry
/// run against the head state. Returns the hash and the sender's next nonce.
pub(super) fn check(
    store: &ChainStore,
    builder: &BlockBuilder,
    tx: SignedL1Transaction,
) -> Result<(Hash32, Nonce, SignedL1Transaction), SubmitError> {
    let expected = builder.chain_id();
    if tx.tx.chain_id != expected {
        return Err(SubmitError::WrongChain {
            expected,
            got: tx.tx.chain_id,
        });
    }
    let encoded_len = tx.encode().len();
    if encoded_len > L1_TX_BYTES_MAX {
        return Err(SubmitError::Malformed(format!(
            "{encoded_len} bytes is over the {L1_TX_BYTES_MAX}-byte limit"
        )));
    }
    tx.verify().map_err(|_| SubmitError::BadSignature)?;
    // Whatever the nonce: a parked transaction's dry run waits, its sender's
    // right to send the call does not.
    builder.authorize(&tx).map_err(SubmitError::from_module)?;
    let hash = tx.hash();
    if store
        .receipt(&hash)
        .map_err(|e| SubmitError::Storage(e.to_string()))?
        .is_some()
    {
        return Err(SubmitError::AlreadyIncluded(hash));
    }
    let next = store
        .nonce(&tx.tx.from)
        .map_err(|e| SubmitError::Storage(e.to_string()))?;
    // The lanes' window rule; it bounds what one sender can park in the mempool
    // (at most NONCE_GAP_MAX + 1).
    let verdict =
        lanes::window(next, tx.tx.nonce, NONCE_GAP_MAX).map_err(|refusal| match refusal {
            Refusal::NonceGap { expected, max } => SubmitError::NonceGap {
                expected,
                got: tx.tx.nonce,
                max,
            },
            _ => SubmitError::NonceTooLow {
                from: tx.tx.from,
                expected: next,
                got: tx.tx.nonce,
            },
        })?;
    if verdict == Verdict::Next {
        // Dry run: refuse now what the block would refuse.
        builder
            .dry_run(store, &tx, hash)
            .map_err(SubmitError::from_module)?;
    }
    Ok((hash, next, tx))
}

/// Admits `txs`: each is [`check`]ed (in parallel when there are several), then,
/// under the mempool lock, admitted by the pool and written to the `pending`
/// column in one synced write before any is acknowledged; the accepted ones go
/// to `gossip` after the lock is released. One result per transaction, in order.
pub(super) fn submit(
    store: &ChainStore,
    builder: &BlockBuilder,
    mempool: &Mutex<Mempool>,
    txs: Vec<SignedL1Transaction>,
    gossip: Option<&Gossip>,
) -> Vec<Result<Hash32, SubmitError>> {
    use rayon::prelude::*;
    let mut outgoing = Vec::new();
    let checked: Vec<_> = if txs.len() > 1 {
        txs.into_par_iter()
            .map(|tx| check(store, builder, tx))
            .collect()
    } else {
        txs.into_iter()
            .map(|tx| check(store, builder, tx))
            .collect()
    };
    let mut results = Vec::with_capacity(checked.len());
    let mut pool = lock(mempool);
    let mut writes = Vec::new();
    let mut staged = Vec::new();
    for item in checked {
        let (hash, next, tx) = match item {
            Ok(checked) => checked,
            Err(e) => {
                results.push(Err(e));
                continue;
            }
        };
        if pool.contains(&hash) {
            results.push(Ok(hash));
            continue;
        }
        match pool.admit(next, &tx) {
            Ok(verdict) => {
                let encoded = tx.encode();
                if gossip.is_some() {
                    outgoing.push(tx.clone());
                }
                let seq = pool.insert(verdict, hash, tx);
                writes.push((seq, encoded));
                staged.push(results.len());
                results.push(Ok(hash));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    if staged.is_empty() {
        return results;
    }
    // Durable before acknowledged.
    if let Err(e) = store.write_pending(&writes) {
        let e = match e {
            NodeError::Db(e) => e.to_string(),
            other => other.to_string(),
        };
        // Not acknowledged. They stay queued in memory (a block may still take
        // them; a retry then gets AlreadyIncluded or NoncePending).
        tracing::error!("mempool write failed: {e}");
        for i in staged {
            results[i] = Err(SubmitError::Storage(format!(
                "{e}; the transaction was not stored durably"
            )));
        }
    } else if let Some(hook) = gossip
        && !outgoing.is_empty()
    {
        drop(pool);
        hook(outgoing);
    }
    results
}
