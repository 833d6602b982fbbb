//! Settlement progress as the sequencer reports it, and the L1 queues' feeds
//! (deposits, forced withdrawals).
//!
//! Settlement tells the sequencer the last L2 block covered by a committed batch and
//! by a finalized one ([`SettledMarks`]); a transaction's status is derived from its
//! receipt's block and these two marks, so no per-transaction write is needed. When
//! a mark moves, the transactions of the newly covered blocks are announced to
//! status subscribers.
//!
//! Deposits and forced withdrawals arrive through an [`L1Feed`] each, a bounded
//! queue the builder drains in queue order into each block; a full queue is
//! backpressure to the watcher, which retries from where it stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use ghostplane_executor::{BlockItem, StoreError, StoreReader};
use ghostplane_primitives::{
    BlockNumber, DepositEvent, ForcedWithdrawalEvent, Hash32, ReceiptStatus,
};
use tokio::sync::broadcast;

use ghostplane_l2_api::TxStatus;

/// The last L2 blocks covered by committed and by finalized batches, and
/// settlement's backlog (what admission slows down for).
pub struct SettledMarks {
    committed: AtomicU64,
    finalized: AtomicU64,
    /// Executed transactions in no planned batch yet, as settlement last counted.
    unplanned_txs: AtomicU64,
    /// Chunk proof jobs not proven yet.
    unproven_jobs: AtomicU64,
    /// Whether settlement has ever reported a backlog (a sequencer without
    /// settlement applies no settlement back-pressure).
    backlog_reported: std::sync::atomic::AtomicBool,
    /// Whether settlement has reported once since start (the first report restores
    /// the marks; only later moves are announced).
    primed: std::sync::atomic::AtomicBool,
    /// Why settlement stopped for good, once it has.
    /// (Read on every submission: a lock-free load.)
    stopped: std::sync::OnceLock<String>,
    reader: StoreReader,
    statuses: broadcast::Sender<(Hash32, TxStatus)>,
    /// The last finalized L1 batch and its account root, as settlement last read
    /// them (what `l2_getProof` answers against).
    finalized_root: std::sync::Mutex<Option<(u64, [u8; 32])>>,
    /// What answers `l2_getProof` (settlement's trees), once given.
    proofs: std::sync::OnceLock<std::sync::Arc<dyn crate::proofs::StateProofs>>,
}

impl SettledMarks {
    pub(crate) fn new(
        reader: StoreReader,
        statuses: broadcast::Sender<(Hash32, TxStatus)>,
    ) -> Self {
        Self {
            committed: AtomicU64::new(0),
            finalized: AtomicU64::new(0),
            unplanned_txs: AtomicU64::new(0),
            unproven_jobs: AtomicU64::new(0),
            backlog_reported: std::sync::atomic::AtomicBool::new(false),
            primed: std::sync::atomic::AtomicBool::new(false),
            stopped: std::sync::OnceLock::new(),
            reader,
            statuses,
            finalized_root: std::sync::Mutex::new(None),
            proofs: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn set_state_proofs(&self, proofs: std::sync::Arc<dyn crate::proofs::StateProofs>) {
        let _ = self.proofs.set(proofs);
    }

    /// What answers `l2_getProof`, if settlement gave it.
    pub fn state_proofs(&self) -> Option<std::sync::Arc<dyn crate::proofs::StateProofs>> {
        self.proofs.get().cloned()
    }

    /// Reports the L1's last finalized batch and its account root (32 bytes).
    pub fn report_finalized_root(&self, batch: u64, root: [u8; 32]) {
        if let Ok(mut mark) = self.finalized_root.lock() {
            *mark = Some((batch, root));
        }
    }

    /// The last finalized batch and its root, once settlement reported them.
    pub fn finalized_root(&self) -> Option<(u64, [u8; 32])> {
        self.finalized_root.lock().ok().and_then(|mark| *mark)
    }

    /// Last L2 block in a committed batch.
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// Last L2 block in a finalized batch.
    pub fn finalized(&self) -> u64 {
        self.finalized.load(Ordering::Acquire)
    }

    /// Reports the L1's view: blocks up to `committed` are in committed batches,
    /// up to `finalized` in finalized ones. The first report after a start restores
    /// the marks silently; later ones announce the newly covered transactions.
    pub fn report(&self, committed: u64, finalized: u64) {
        if self.primed.swap(true, Ordering::AcqRel) {
            self.set_finalized(finalized);
            self.set_committed(committed);
        } else {
            self.finalized.fetch_max(finalized, Ordering::AcqRel);
            self.committed
                .fetch_max(committed.max(finalized), Ordering::AcqRel);
        }
    }

    /// Reports settlement's backlog: executed transactions that no planned batch
    /// covers yet, and chunk proof jobs not proven yet. Admission refuses new
    /// transactions while either is over its bound
    /// ([`SubmitError::SettlementBehind`](crate::SubmitError::SettlementBehind)).
    pub fn report_backlog(&self, unplanned_txs: u64, unproven_jobs: u64) {
        self.unplanned_txs.store(unplanned_txs, Ordering::Release);
        self.unproven_jobs.store(unproven_jobs, Ordering::Release);
        self.backlog_reported.store(true, Ordering::Release);
    }

    /// Reports that settlement stopped for good (exit mode, contracts diverged):
    /// admission refuses every new transaction from now on
    /// ([`SubmitError::SettlementStopped`](crate::SubmitError::SettlementStopped)).
    pub fn report_stopped(&self, reason: String) {
        let _ = self.stopped.set(reason);
    }

    /// Why settlement stopped for good, if it has.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.get().map(String::as_str)
    }

    /// The last reported backlog, `(unplanned_txs, unproven_jobs)`, or `None` if
    /// no settlement ever reported one.
    pub fn backlog(&self) -> Option<(u64, u64)> {
        self.backlog_reported.load(Ordering::Acquire).then(|| {
            (
                self.unplanned_txs.load(Ordering::Acquire),
                self.unproven_jobs.load(Ordering::Acquire),
            )
        })
    }

    /// Moves the committed mark to `block` (never backwards).
    pub fn set_committed(&self, block: u64) {
        let old = self.committed.fetch_max(block, Ordering::AcqRel);
        self.announce(old, block, false);
    }

    /// Moves the finalized mark to `block` (never backwards; also commits).
    pub fn set_finalized(&self, block: u64) {
        self.set_committed(block);
        let old = self.finalized.fetch_max(block, Ordering::AcqRel);
        self.announce(old, block, true);
    }

    /// The settlement status of a transaction executed in `block`.
    pub fn status(&self, block: u64, success: bool) -> TxStatus {
        if block <= self.finalized() {
            TxStatus::Finalized { block, success }
        } else if block <= self.committed() {
            TxStatus::Committed { block, success }
        } else {
            TxStatus::Executed { block, success }
        }
    }

    fn announce(&self, old: u64, new: u64, finalized: bool) {
        // Only subscribers care; skip the reads when nobody listens.
        if new <= old || self.statuses.receiver_count() == 0 {
            return;
        }
        for block in old + 1..=new {
            let Ok(Some(hashes)) = self.reader.block_transactions(BlockNumber(block)) else {
                continue;
            };
            for hash in hashes {
                let success = matches!(
                    self.reader.receipt(&hash),
                    Ok(Some(r)) if r.status == ReceiptStatus::Success
                );
                let status = if finalized {
                    TxStatus::Finalized { block, success }
                } else {
                    TxStatus::Committed { block, success }
                };
                let _ = self.statuses.send((hash, status));
            }
        }
    }
}

/// An event of an L1 queue (deposits, forced withdrawals) that the builder
/// includes strictly in queue order.
pub trait QueuedEvent: Send + 'static {
    /// The queue's name, for logs.
    const QUEUE: &'static str;
    /// Its position in the L1 queue.
    fn queue_index(&self) -> u64;
    /// The block item that carries it.
    fn into_item(self) -> BlockItem;
    /// The next queue index the L2 expects (as committed to its store).
    fn consumed_next(reader: &StoreReader) -> Result<u64, StoreError>;
}

impl QueuedEvent for DepositEvent {
    const QUEUE: &'static str = "deposit";
    fn queue_index(&self) -> u64 {
        self.queue_index
    }
    fn into_item(self) -> BlockItem {
        BlockItem::Deposit(self)
    }
    fn consumed_next(reader: &StoreReader) -> Result<u64, StoreError> {
        reader.deposits_next()
    }
}

impl QueuedEvent for ForcedWithdrawalEvent {
    const QUEUE: &'static str = "forced withdrawal";
    fn queue_index(&self) -> u64 {
        self.queue_index
    }
    fn into_item(self) -> BlockItem {
        BlockItem::ForcedWithdrawal(self)
    }
    fn consumed_next(reader: &StoreReader) -> Result<u64, StoreError> {
        reader.forced_next()
    }
}

/// Why an L1 event was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The queue is full: retry later, from this event.
    #[error("L1 event queue is full ({0} waiting); retry later")]
    Full(usize),
    /// The sequencer stopped.
    #[error("the sequencer is stopped")]
    Stopped,
}

/// Hands one L1 queue's events to the block builder.
pub struct L1Feed<E> {
    pub(crate) sender: Sender<E>,
    pub(crate) reader: StoreReader,
    pub(crate) capacity: usize,
}

impl<E> Clone for L1Feed<E> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            reader: self.reader.clone(),
            capacity: self.capacity,
        }
    }
}

/// The deposit queue's feed.
pub type DepositFeed = L1Feed<DepositEvent>;
/// The forced-withdrawal queue's feed.
pub type ForcedFeed = L1Feed<ForcedWithdrawalEvent>;

impl<E: QueuedEvent> L1Feed<E> {
    /// The next queue index the L2 has not consumed yet (as committed).
    pub fn consumed_next(&self) -> Result<u64, StoreError> {
        E::consumed_next(&self.reader)
    }

    /// Queues an event. Events must be pushed in queue order; the builder skips
    /// ones already consumed, so pushing one twice is harmless.
    pub fn push(&self, event: E) -> Result<(), FeedError> {
        self.sender.try_send(event).map_err(|e| match e {
            TrySendError::Full(_) => FeedError::Full(self.capacity),
            TrySendError::Disconnected(_) => FeedError::Stopped,
        })
    }

    /// Events waiting for a block.
    pub fn waiting(&self) -> usize {
        self.sender.len()
    }
}

pub(crate) fn channel<E>(capacity: usize) -> (Sender<E>, Receiver<E>) {
    crossbeam_channel::bounded(capacity)
}

/// Shared handle type.
pub type Marks = Arc<SettledMarks>;
