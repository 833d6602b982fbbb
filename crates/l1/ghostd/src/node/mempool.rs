//! The mempool: admission (chain, signature, the lanes' nonce window, a dry run),
//! durable queueing, and picking the candidates of the next block.

use ghostplane_primitives::lanes::{LaneLimits, Lanes};
use std::collections::{HashSet, VecDeque};

use ghostplane_primitives::lanes::{self, Refusal, Verdict};
use ghostplane_primitives::{Codec, Hash32, Nonce, PublicKey};
use ghostplane_rpc::codes;
use rocksdb::{WriteBatch, WriteOptions};

use super::{
    CF_PENDING, Ghostd, MEMPOOL_OPERATOR_RESERVED, NONCE_GAP_MAX, NodeError, PARKED_BLOCKS_MAX,
    lock,
};
use crate::module::{BlockContext, CallContext, ModuleError};
use crate::modules::CallError;
use crate::state::{Committed, Layer};
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

/// A waiting transaction: arrival sequence (its `pending` key), hash, transaction.
pub(crate) type Pending = (u64, Hash32, SignedL1Transaction);

/// The waiting transactions: per-sender nonce lanes ([`lanes`]) hold the ones
/// parked for an earlier nonce; released ones (their nonce is next) wait in `ready`,
/// in release order, for a block.
pub(super) struct Mempool {
    lanes: Lanes<PublicKey, Pending>,
    ready: VecDeque<Pending>,
    hashes: HashSet<Hash32>,
    /// Parked at admission, so not dry-run then: dry-run when a block is built
    /// ([`Mempool::is_unchecked`]).
    unchecked: HashSet<Hash32>,
    next_seq: u64,
}

/// What a block did with a candidate.
pub(super) enum Settled {
    /// Included: its nonce is used.
    Included,
    /// Its nonce was already used: it can never run.
    Obsolete,
    /// Not run (its nonce is ahead): it waits for the next block.
    NotRun,
}

impl Mempool {
    pub(super) fn new(mempool_max: usize) -> Self {
        let gap_max = NONCE_GAP_MAX;
        let limits = LaneLimits {
            gap_max,
            sender_max: usize::try_from(gap_max)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
            pool_max: mempool_max,
        };
        Self {
            lanes: Lanes::new(limits),
            ready: VecDeque::new(),
            hashes: HashSet::new(),
            unchecked: HashSet::new(),
            next_seq: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.hashes.len()
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
    /// whatever it unblocks, or parked until block `deadline`.
    fn enqueue(&mut self, verdict: Verdict, entry: Pending, deadline: u64) {
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
    pub(super) fn restore(&mut self, entry: Pending, next: Nonce, deadline: u64) -> Option<()> {
        let from = entry.2.tx.from;
        self.lanes.open(from, next);
        match self.lanes.check(&from, entry.2.tx.nonce, 0, true) {
            Ok(verdict) => {
                self.enqueue(verdict, entry, deadline);
                Some(())
            }
            Err(_) => {
                self.lanes.close_if_idle(&from);
                self.next_seq = self.next_seq.max(entry.0 + 1);
                None
            }
        }
    }

    /// Up to `max` released transactions, in release order, for a block.
    pub(super) fn take(&mut self, max: usize) -> Vec<Pending> {
        let n = max.min(self.ready.len());
        self.ready.drain(..n).collect()
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

    /// Parked entries whose deadline (an L1 height) has come.
    pub(super) fn expire(&mut self, head: u64) -> Vec<Pending> {
        let expired: Vec<Pending> = self
            .lanes
            .expire(head)
            .into_iter()
            .map(|(_, entry)| entry)
            .collect();
        for (_, hash, _) in &expired {
            self.forget(hash);
        }
        expired
    }

    /// Records what a committed block did with its candidates. `nonce_of` reads a
    /// sender's nonce after the block. Returns the parked entries that can never run
    /// now (their nonce is used), for the caller to delete.
    pub(super) fn settle(
        &mut self,
        candidates: Vec<(Pending, Settled)>,
        nonce_of: impl Fn(&PublicKey) -> Option<Nonce>,
    ) -> Vec<Pending> {
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

impl Ghostd {
    /// Transactions waiting in the mempool.
    pub fn mempool_len(&self) -> usize {
        lock(&self.inner.mempool).len()
    }

    /// Whether `hash` is waiting in the mempool.
    pub fn is_pending(&self, hash: &Hash32) -> bool {
        lock(&self.inner.mempool).hashes.contains(hash)
    }

    /// Decodes and submits an encoded transaction.
    pub fn submit_bytes(&self, bytes: &[u8]) -> Result<Hash32, SubmitError> {
        let tx = SignedL1Transaction::decode(bytes)
            .map_err(|e| SubmitError::Malformed(e.to_string()))?;
        self.submit(tx)
    }

    /// Checks `tx` (chain, signature, nonce, and a dry run against the current state
    /// when its nonce is next) and queues it for the next block, durably.
    pub fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, SubmitError> {
        self.submit_batch(vec![tx])
            .pop()
            .unwrap_or_else(|| Err(SubmitError::Storage("empty submission".into())))
    }

    /// Submits up to [`SEND_BATCH_MAX`](ghostd_types::api::SEND_BATCH_MAX)
    /// transactions: each is checked as by [`Ghostd::submit`] (signatures in
    /// parallel), and the accepted ones reach the pending column in one synced
    /// write before any is acknowledged. One result per transaction, in order.
    pub fn submit_batch(&self, txs: Vec<SignedL1Transaction>) -> Vec<Result<Hash32, SubmitError>> {
        self.submit_inner(txs, true)
    }

    /// As [`Ghostd::submit_batch`], for transactions a peer gossiped: they are not
    /// gossiped on.
    pub fn submit_batch_from_peer(
        &self,
        txs: Vec<SignedL1Transaction>,
    ) -> Vec<Result<Hash32, SubmitError>> {
        self.submit_inner(txs, false)
    }

    /// Where admitted transactions go for the network's other nodes (BFT).
    pub fn set_gossip(&self, hook: Box<dyn Fn(Vec<SignedL1Transaction>) + Send + Sync>) {
        let _ = self.inner.gossip.set(hook);
    }

    fn submit_inner(
        &self,
        txs: Vec<SignedL1Transaction>,
        gossip: bool,
    ) -> Vec<Result<Hash32, SubmitError>> {
        use rayon::prelude::*;
        let hook = if gossip {
            self.inner.gossip.get()
        } else {
            None
        };
        let mut outgoing = Vec::new();
        let checked: Vec<_> = if txs.len() > 1 {
            txs.into_par_iter().map(|tx| self.check(tx)).collect()
        } else {
            txs.into_iter().map(|tx| self.check(tx)).collect()
        };
        let mut results = Vec::with_capacity(checked.len());
        let mut pool = lock(&self.inner.mempool);
        let Some(pending) = self.inner.db.cf_handle(CF_PENDING) else {
            let error = || Err(SubmitError::Storage("pending column is missing".into()));
            return checked.iter().map(|_| error()).collect();
        };
        let mut batch = WriteBatch::default();
        let mut staged = Vec::new();
        let deadline = self.head().number + PARKED_BLOCKS_MAX + 1;
        for item in checked {
            let (hash, next, tx) = match item {
                Ok(checked) => checked,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            if pool.hashes.contains(&hash) {
                results.push(Ok(hash));
                continue;
            }
            match self.admit(&mut pool, next, &tx) {
                Ok(verdict) => {
                    let seq = pool.next_seq;
                    batch.put_cf(pending, seq.to_be_bytes(), tx.encode());
                    if hook.is_some() {
                        outgoing.push(tx.clone());
                    }
                    pool.enqueue(verdict, (seq, hash, tx), deadline);
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
        let mut options = WriteOptions::default();
        options.set_sync(true);
        if let Err(e) = self.inner.db.write_opt(batch, &options) {
            // Not acknowledged. They stay queued in memory (a block may still take
            // them; a retry then gets AlreadyIncluded or NoncePending).
            tracing::error!("mempool write failed: {e}");
            for i in staged {
                results[i] = Err(SubmitError::Storage(format!(
                    "{e}; the transaction was not stored durably"
                )));
            }
        } else if let Some(hook) = hook
            && !outgoing.is_empty()
        {
            drop(pool);
            hook(outgoing);
        }
        results
    }

    /// The checks that need no mempool lock: chain, size, signature, inclusion,
    /// the nonce window and (for a next nonce) a dry run. Returns the hash and the
    /// sender's next nonce.
    fn check(
        &self,
        tx: SignedL1Transaction,
    ) -> Result<(Hash32, Nonce, SignedL1Transaction), SubmitError> {
        let expected = self.inner.genesis.chain_id;
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
        self.inner
            .modules
            .authorize(&tx.tx.from, &tx.tx.call)
            .map_err(SubmitError::from_module)?;
        let hash = tx.hash();
        if self
            .receipt(&hash)
            .map_err(|e| SubmitError::Storage(e.to_string()))?
            .is_some()
        {
            return Err(SubmitError::AlreadyIncluded(hash));
        }
        let next = self
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
            let committed = Committed::new(&self.inner.db);
            let mut layer = Layer::new(&committed);
            let block = BlockContext {
                chain_id: self.inner.genesis.chain_id,
                number: self.head().number + 1,
                time_ms: self.inner.config.clock.unix_ms(),
            };
            let modules = &self.inner.modules;
            modules
                .begin_block(&mut layer, &block)
                .map_err(SubmitError::from_module)?;
            let ctx = CallContext {
                block,
                tx_hash: hash,
                from: tx.tx.from,
            };
            modules
                .apply(&mut layer, &ctx, &tx.tx.call)
                .map_err(SubmitError::from_module)?;
        }
        Ok((hash, next, tx))
    }

    /// Room and the sender's lane, under the mempool lock: the verdict to enqueue
    /// `tx` with.
    fn admit(
        &self,
        pool: &mut Mempool,
        next: Nonce,
        tx: &SignedL1Transaction,
    ) -> Result<Verdict, SubmitError> {
        let operator = self.inner.genesis.rollup.operators.contains(&tx.tx.from);
        let room = if operator {
            self.inner.config.mempool_max
        } else {
            self.inner
                .config
                .mempool_max
                .saturating_sub(MEMPOOL_OPERATOR_RESERVED)
        };
        if pool.len() >= room {
            return Err(SubmitError::MempoolFull(pool.len()));
        }
        let from = tx.tx.from;
        pool.lanes.open(from, next);
        pool.lanes
            .check(&from, tx.tx.nonce, 0, false)
            .map_err(|refusal| {
                pool.lanes.close_if_idle(&from);
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
                    Refusal::PoolFull | Refusal::SenderFull { .. } => {
                        SubmitError::MempoolFull(pool.len())
                    }
                    Refusal::NotOpen => SubmitError::Storage("mempool lane missing".into()),
                }
            })
    }

    /// Takes up to `block_txs_max` released transactions (nonce next, in release
    /// order) for the next block, after dropping parked ones that waited more than
    /// [`PARKED_BLOCKS_MAX`] blocks for an earlier nonce. Parked transactions never
    /// take a block's room from executable ones.
    pub(super) fn pick_candidates(&self) -> Result<Vec<Pending>, NodeError> {
        let head = self.head().number;
        let mut pool = lock(&self.inner.mempool);
        let expired = pool.expire(head);
        let candidates = pool.take(self.inner.config.block_txs_max.min(super::BLOCK_TXS_MAX));
        drop(pool);
        if !expired.is_empty() {
            for (_, hash, _) in &expired {
                tracing::info!(tx = %hash, "L1 transaction dropped: waited more than {PARKED_BLOCKS_MAX} blocks for an earlier nonce");
            }
            // Mempool policy, not chain state: an expired entry that survives a crash
            // is parked again after the restart and expires again.
            self.forget_pending(&expired)?;
        }
        Ok(candidates)
    }

    /// Deletes entries from the pending column.
    pub(super) fn forget_pending(&self, entries: &[Pending]) -> Result<(), NodeError> {
        let pending = self
            .inner
            .db
            .cf_handle(CF_PENDING)
            .ok_or(NodeError::Corrupt("pending"))?;
        let mut batch = WriteBatch::default();
        for (seq, _, _) in entries {
            batch.delete_cf(pending, seq.to_be_bytes());
        }
        self.inner.db.write(batch)?;
        Ok(())
    }
}
