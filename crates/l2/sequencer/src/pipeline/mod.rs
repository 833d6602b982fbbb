//! The ingest pipeline: one type per stage, each in its own file and owning its
//! state and its ends of the bounded crossbeam channels that join them. [`start`]
//! builds every stage and runs each on its own thread; the [`Pipeline`] holds the
//! handles.
//!
//! ```text
//! Ingest::submit (any thread) ── decode, size, chain id, stateless checks
//!   │ bounded ingest queue (full → Busy)
//!   ▼
//! Verifier thread ── batches of up to verify_batch_max, ed25519 batch verify on rayon
//!   │ bounded
//!   ▼
//! Admission thread (the single writer) ── nonce lanes, pool bounds, replacement,
//!   │ gap timeouts; assigns sequence numbers and releases txs in nonce order
//!   │ bounded
//!   ▼
//! WalWriter thread ── group commit (one fsync) ──► reply "accepted" ──► released txs
//!   │ bounded (full → the WAL thread waits, and pressure flows back to Busy)
//!   ▼
//! Builder thread ── cuts a block every block_time_ms or at block_txs_max, executes,
//!                   commits; statuses → executed / dropped; trims the WAL; tells
//!                   admission which lanes moved; broadcasts the block
//! ```
//!
//! Besides their channels, stages share only the [`StatusBoard`] (lock-free for
//! in-flight statuses, through each stage's `StatusSink`), the pending-nonce map and
//! pool size that admission publishes, and the byte budget (an atomic).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded};
use ghostplane_executor::Executor;
use ghostplane_primitives::{
    AccountId, Codec, Hash32, L2BlockHeader, Nonce, SignedTransaction, tx_hash,
};
use tokio::sync::{broadcast, oneshot};

use crate::config::SequencerConfig;
use crate::error::SubmitError;
use crate::status::StatusBoard;
use crate::wal::{Wal, WalOp};
use ghostplane_l2_api::TxStatus;

mod admission;
mod builder;
mod ingest;
mod verify;
mod wal;

use admission::Admission;
use builder::Builder;
pub use ingest::Ingest;
use verify::Verifier;
use wal::WalWriter;

/// Most deposits in one block (and, apart, most forced withdrawals).
const DEPOSITS_PER_BLOCK_MAX: usize = 1024;

/// How often idle stages look at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// The answer to one submission.
pub type SubmitReply = Result<Hash32, SubmitError>;

/// A block as announced to subscribers.
#[derive(Debug, Clone)]
pub struct BlockEvent {
    /// The header.
    pub header: L2BlockHeader,
    /// Included transaction hashes, in order.
    pub transactions: Vec<Hash32>,
}

/// Bytes the pipeline holds for transactions between submission and execution,
/// against [`SequencerConfig::pipeline_bytes_max`]. Counted bounds alone let a flood
/// of maximum-size transactions take many GiB across the stage queues and the pool.
struct ByteBudget {
    used: AtomicUsize,
    max: usize,
}

impl ByteBudget {
    fn new(max: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// What one transaction of `encoded_len` bytes costs while it is held: its
    /// encoding plus the decoded copy, and a fixed overhead for the queue entries.
    fn cost(encoded_len: usize) -> usize {
        2 * encoded_len + 256
    }

    /// Takes `cost` bytes if they fit; the permit gives them back when dropped.
    fn try_take(self: &Arc<Self>, cost: usize) -> Option<BytePermit> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used + cost <= self.max).then_some(used + cost)
            })
            .ok()
            .map(|_| BytePermit {
                budget: Arc::clone(self),
                cost,
            })
    }
}

/// Bytes held for one transaction; released when the transaction leaves the
/// pipeline, whichever way (executed, dropped, rejected, replaced).
struct BytePermit {
    budget: Arc<ByteBudget>,
    cost: usize,
}

impl Drop for BytePermit {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.cost, Ordering::AcqRel);
    }
}

/// A decoded transaction moving through the pipeline.
struct Incoming {
    tx: SignedTransaction,
    hash: Hash32,
    bytes: Vec<u8>,
    /// Its share of the byte budget (none for transactions replayed from the WAL).
    permit: Option<BytePermit>,
    reply: Option<oneshot::Sender<SubmitReply>>,
    /// Set for transactions replayed from the WAL: they keep their sequence number.
    replayed_seq: Option<u64>,
    /// When ingest took it (or replay read it): the start of its
    /// ingest-to-executed latency.
    received: Instant,
}

impl Incoming {
    /// Answers the client (a replayed item has none) and counts a refusal.
    fn answer(&mut self, reply: SubmitReply) {
        if let Some(sender) = self.reply.take() {
            // Acceptances are counted once per WAL group (`WalWriter`).
            if let Err(e) = &reply {
                metrics::counter!("ghostplane_sequencer_rejected_total", "reason" => e.kind())
                    .increment(1);
            }
            // The client may have gone away; nothing to do then.
            let _ = sender.send(reply);
        }
    }
}

/// An admitted transaction as the builder sees it.
struct Ordered {
    seq: u64,
    hash: Hash32,
    sender: AccountId,
    tx: SignedTransaction,
    /// When ingest took it.
    received: Instant,
    /// Released once the builder is done with the transaction.
    _permit: Option<BytePermit>,
}

enum WalMsg {
    /// Record (and acknowledge) an admitted transaction; `release` sends it on to the
    /// builder right after the write.
    Admit {
        seq: u64,
        item: Incoming,
        release: bool,
    },
    /// Send an already-recorded transaction on to the builder.
    Release {
        seq: u64,
        hash: Hash32,
        tx: SignedTransaction,
        permit: Option<BytePermit>,
        received: Instant,
    },
    /// Delete a recorded transaction that will not run (replaced, timed out).
    Forget { seq: u64 },
}

/// What a block did to the lanes, for the admission thread.
struct BlockDone {
    /// One entry per executed or dropped transaction: its sender, and whether the
    /// executor dropped it (its nonce was then not consumed).
    outcomes: Vec<(AccountId, bool)>,
}

/// The running pipeline threads.
pub struct Pipeline {
    /// Submission handle.
    pub ingest: Ingest,
    /// New blocks.
    pub blocks: broadcast::Sender<BlockEvent>,
    /// Status changes.
    pub statuses: broadcast::Sender<(Hash32, TxStatus)>,
    /// Status lookups.
    pub status: Arc<StatusBoard>,
    /// L1 deposits into the builder.
    pub deposits: crate::l1_feed::DepositFeed,
    /// L1 forced withdrawals into the builder.
    pub forced: crate::l1_feed::ForcedFeed,
    /// Settlement progress.
    pub marks: crate::l1_feed::Marks,
    /// Next nonce of each sender with transactions in the pool.
    pub pending_nonces: Arc<papaya::HashMap<AccountId, Nonce>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Starts the pipeline over `executor` (which must have its genesis), replaying
/// whatever the WAL still holds before any new submission is taken.
pub fn start(
    config: Arc<SequencerConfig>,
    executor: Executor,
    wal: Wal,
) -> Result<Pipeline, crate::StartError> {
    let reader = executor.store().reader();
    let status = Arc::new(StatusBoard::new(config.statuses_retained_max));
    let (blocks, _) = broadcast::channel(256);
    let (statuses, _) = broadcast::channel(8192);
    let sink = StatusSink {
        board: Arc::clone(&status),
        events: statuses.clone(),
    };
    let stop = Arc::new(AtomicBool::new(false));

    let (ingest_tx, ingest_rx) = bounded::<Incoming>(config.ingest_queue_max);
    let (admit_tx, admit_rx) = bounded::<Incoming>(config.verify_batch_max * 2);
    let (wal_tx, wal_rx) = bounded::<WalMsg>(config.wal_batch_max * 2);
    let (build_tx, build_rx) = bounded::<Ordered>(config.builder_queue_max);
    // Feedback flows back up as events on unbounded channels: one message per block
    // (and one trim list per block), so their length is bounded by the pool itself.
    let (done_tx, done_rx) = unbounded::<BlockDone>();
    let (trim_tx, trim_rx) = unbounded::<Vec<u64>>();
    let (deposit_tx, deposit_rx) = crate::l1_feed::channel(config.deposits_queue_max);
    let (forced_tx, forced_rx) = crate::l1_feed::channel(config.deposits_queue_max);
    let deposits = builder::Queue::new(deposit_rx, &reader)
        .map_err(|e| crate::StartError::Executor(e.into()))?;
    let forced = builder::Queue::new(forced_rx, &reader)
        .map_err(|e| crate::StartError::Executor(e.into()))?;
    let marks = Arc::new(crate::l1_feed::SettledMarks::new(
        reader.clone(),
        statuses.clone(),
    ));
    let pending_nonces: Arc<papaya::HashMap<AccountId, Nonce>> = Arc::new(papaya::HashMap::new());
    let pooled = Arc::new(AtomicUsize::new(0));

    // Replay: pending transactions from before a restart go first, in their order.
    let mut max_seq = 0;
    for (seq, bytes) in wal.entries().map_err(crate::StartError::Wal)? {
        max_seq = max_seq.max(seq + 1);
        match SignedTransaction::decode(&bytes) {
            Ok(tx) => {
                let hash = tx_hash(&bytes);
                let item = Incoming {
                    tx,
                    hash,
                    bytes,
                    permit: None,
                    reply: None,
                    replayed_seq: Some(seq),
                    received: Instant::now(),
                };
                admit_tx
                    .send(item)
                    .map_err(|_| crate::StartError::Thread("replay".into()))?;
            }
            // A record this version cannot decode is dropped from the WAL.
            Err(_) => wal
                .write([WalOp::Delete(seq)])
                .map_err(crate::StartError::Wal)?,
        }
    }

    // Each stage owns its state and its ends of the channels; its thread owns it.
    let verifier = Verifier::new(Arc::clone(&config), ingest_rx, admit_tx, sink.clone());
    let admission = Admission::new(
        Arc::clone(&config),
        reader.clone(),
        sink.clone(),
        admit_rx,
        done_rx,
        wal_tx,
        max_seq,
        Arc::clone(&pending_nonces),
        Arc::clone(&pooled),
    );
    let wal_writer = WalWriter {
        config: Arc::clone(&config),
        wal,
        input: wal_rx,
        trims: trim_rx,
        builder: build_tx,
        statuses: sink.clone(),
    };
    let builder = Builder {
        config: Arc::clone(&config),
        executor,
        input: build_rx,
        deposits,
        forced,
        statuses: sink,
        blocks: blocks.clone(),
        done_tx,
        trim_tx,
    };

    let mut threads = Vec::new();
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .map_err(|e| crate::StartError::Thread(e.to_string()))
    };
    let stage_stop = || Arc::clone(&stop);
    threads.push(spawn("verify", {
        let stop = stage_stop();
        Box::new(move || verifier.run(&stop))
    })?);
    threads.push(spawn("admission", {
        let stop = stage_stop();
        Box::new(move || admission.run(&stop))
    })?);
    threads.push(spawn("wal", {
        let stop = stage_stop();
        Box::new(move || wal_writer.run(&stop))
    })?);
    threads.push(spawn("builder", {
        let stop = stage_stop();
        Box::new(move || builder.run(&stop))
    })?);
    for reason in SubmitError::KINDS {
        metrics::counter!("ghostplane_sequencer_rejected_total", "reason" => reason).increment(0);
    }
    let deposits = crate::l1_feed::DepositFeed {
        sender: deposit_tx,
        reader: reader.clone(),
        capacity: config.deposits_queue_max,
    };
    let forced = crate::l1_feed::ForcedFeed {
        sender: forced_tx,
        reader: reader.clone(),
        capacity: config.deposits_queue_max,
    };
    let ingest = Ingest::new(
        ingest_tx,
        Arc::clone(&status),
        config,
        Arc::clone(&marks),
        pooled,
    );
    Ok(Pipeline {
        ingest,
        blocks,
        statuses,
        status,
        deposits,
        forced,
        marks,
        pending_nonces,
        stop,
        threads,
    })
}

impl Pipeline {
    /// Stops the threads (after the builder finishes its current block).
    pub fn shutdown(self) {
        self.stop.store(true, Ordering::SeqCst);
        let Pipeline {
            ingest, threads, ..
        } = self;
        // Dropping the last ingest sender lets the verify thread, and then each stage
        // after it, see its input close.
        drop(ingest);
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// Where stages report status changes: the lookup board and the subscribers.
/// Cheap to clone; each stage holds its own.
#[derive(Clone)]
struct StatusSink {
    board: Arc<StatusBoard>,
    events: broadcast::Sender<(Hash32, TxStatus)>,
}

impl StatusSink {
    fn publish(&self, hash: Hash32, value: TxStatus) {
        self.board.set(hash, value.clone());
        // No subscriber is not an error.
        let _ = self.events.send((hash, value));
    }

    fn reject(&self, item: &mut Incoming, error: SubmitError) {
        self.publish(
            item.hash,
            TxStatus::Rejected {
                reason: error.to_string(),
            },
        );
        item.answer(Err(error));
    }
}
