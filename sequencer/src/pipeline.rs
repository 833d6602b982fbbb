//! The ingest pipeline: threads joined by bounded crossbeam channels.
//!
//! ```text
//! Ingest::submit (any thread) ── decode, size, chain id, stateless checks
//!   │ bounded ingest queue (full → Busy)
//!   ▼
//! verify thread ── batches of up to verify_batch_max, ed25519 batch verify on rayon
//!   │ bounded
//!   ▼
//! admission thread (the single writer) ── nonce lanes, pool bounds, replacement,
//!   │ gap timeouts; assigns sequence numbers and releases txs in nonce order
//!   │ bounded
//!   ▼
//! WAL thread ── group commit (one fsync) ──► reply "accepted" ──► released txs
//!   │ bounded (full → the WAL thread waits, and pressure flows back to Busy)
//!   ▼
//! builder thread ── cuts a block every block_time_ms or at block_txs_max, executes,
//!                   commits; statuses → executed / dropped; trims the WAL; tells
//!                   admission which lanes moved; broadcasts the block
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{
    Receiver, RecvTimeoutError, Sender, TrySendError, bounded, select, unbounded,
};
use ghostplane_executor::{BlockInput, BlockItem, DropReason, Executor, StoreReader};
use ghostplane_primitives::lanes::{LaneLimits, Lanes, Refusal, Verdict};
use ghostplane_primitives::{
    AccountId, BlockNumber, Codec, DepositEvent, Hash32, L2BlockHeader, Nonce, PublicKey,
    ReceiptStatus, SignedTransaction, tx_hash, verify_transaction_refs,
};
use rayon::prelude::*;
use tokio::sync::{broadcast, oneshot};

use crate::api::TxStatus;
use crate::config::SequencerConfig;
use crate::error::SubmitError;
use crate::status::StatusBoard;
use crate::wal::{Wal, WalOp};

/// Most deposits in one block.
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
}

impl Incoming {
    fn answer(&mut self, reply: SubmitReply) {
        if let Some(sender) = self.reply.take() {
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

/// Submits transactions to the pipeline. Cheap to clone; used by every RPC handler
/// and QUIC stream.
#[derive(Clone)]
pub struct Ingest {
    queue: Sender<Incoming>,
    status: Arc<StatusBoard>,
    config: Arc<SequencerConfig>,
    /// Settlement's reported backlog.
    marks: crate::settled::Marks,
    /// Admitted and not yet executed or dropped (the admission thread's count).
    pooled: Arc<AtomicUsize>,
    /// Bytes held between submission and execution.
    bytes: Arc<ByteBudget>,
}

impl Ingest {
    /// Checks what can be checked at once and queues the transaction; the receiver
    /// yields the hash once it is durably accepted, or the reason it was not.
    pub fn submit(&self, bytes: Vec<u8>) -> Result<oneshot::Receiver<SubmitReply>, SubmitError> {
        if bytes.len() > self.config.tx_bytes_max {
            return Err(SubmitError::TooLarge {
                len: bytes.len(),
                max: self.config.tx_bytes_max,
            });
        }
        let tx = SignedTransaction::decode(&bytes)?;
        if tx.chain_id != self.config.chain_id {
            return Err(SubmitError::WrongChain {
                expected: self.config.chain_id,
                got: tx.chain_id,
            });
        }
        tx.tx.check_stateless()?;
        if tx.tx.fee() < self.config.fee_min {
            return Err(SubmitError::FeeBelowMinimum {
                offered: tx.tx.fee(),
                min: self.config.fee_min,
            });
        }
        self.check_settlement_backlog()?;
        let hash = tx_hash(&bytes);
        if self.status.is_pending(&hash) {
            return Err(SubmitError::AlreadyKnown(hash));
        }
        let permit =
            self.bytes
                .try_take(ByteBudget::cost(bytes.len()))
                .ok_or(SubmitError::Busy {
                    retry_after_ms: self.config.retry_after_ms,
                })?;
        let (reply, receiver) = oneshot::channel();
        let incoming = Incoming {
            tx,
            hash,
            bytes,
            permit: Some(permit),
            reply: Some(reply),
            replayed_seq: None,
        };
        // Recorded before the hand-off so a later stage's status cannot be overwritten.
        if self.status.get(&hash).is_none() {
            self.status.set(hash, TxStatus::Received);
        }
        match self.queue.try_send(incoming) {
            Ok(()) => Ok(receiver),
            Err(error) => {
                if self.status.get(&hash) == Some(TxStatus::Received) {
                    self.status.forget(&hash);
                }
                Err(match error {
                    TrySendError::Full(_) => SubmitError::Busy {
                        retry_after_ms: self.config.retry_after_ms,
                    },
                    TrySendError::Disconnected(_) => {
                        SubmitError::Unavailable("the ingest pipeline has stopped".into())
                    }
                })
            }
        }
    }

    /// Back-pressure from settlement: while planning or proving is further behind
    /// execution than the configured bounds, new transactions wait. (L1 deposits do
    /// not come through here, so they are never held back.)
    fn check_settlement_backlog(&self) -> Result<(), SubmitError> {
        let Some((unplanned, unproven)) = self.marks.backlog() else {
            return Ok(());
        };
        let unplanned_txs = unplanned.saturating_add(self.pooled.load(Ordering::Relaxed) as u64);
        if unplanned_txs > self.config.settlement_unplanned_txs_max
            || unproven > self.config.settlement_unproven_jobs_max
        {
            return Err(SubmitError::SettlementBehind {
                unplanned_txs,
                unproven_jobs: unproven,
                retry_after_ms: self.config.retry_after_ms,
            });
        }
        Ok(())
    }

    /// Submits and waits for the answer.
    pub async fn submit_and_wait(&self, bytes: Vec<u8>) -> SubmitReply {
        let receiver = self.submit(bytes)?;
        receiver.await.unwrap_or_else(|_| {
            Err(SubmitError::Unavailable(
                "the pipeline dropped the request".into(),
            ))
        })
    }
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
    pub deposits: crate::settled::DepositFeed,
    /// Settlement progress.
    pub marks: crate::settled::Marks,
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
    let stop = Arc::new(AtomicBool::new(false));
    let wal = Arc::new(wal);

    let (ingest_tx, ingest_rx) = bounded::<Incoming>(config.ingest_queue_max);
    let (admit_tx, admit_rx) = bounded::<Incoming>(config.verify_batch_max * 2);
    let (wal_tx, wal_rx) = bounded::<WalMsg>(config.wal_batch_max * 2);
    let (build_tx, build_rx) = bounded::<Ordered>(config.builder_queue_max);
    // Feedback flows back up as events on unbounded channels: one message per block
    // (and one trim list per block), so their length is bounded by the pool itself.
    let (done_tx, done_rx) = unbounded::<BlockDone>();
    let (trim_tx, trim_rx) = unbounded::<Vec<u64>>();
    let (deposit_tx, deposit_rx) = crate::settled::channel(config.deposits_queue_max);
    let deposits_next = reader
        .deposits_next()
        .map_err(|e| crate::StartError::Executor(e.into()))?;
    let marks = Arc::new(crate::settled::SettledMarks::new(
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

    let mut threads = Vec::new();
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .map_err(|e| crate::StartError::Thread(e.to_string()))
    };
    {
        let config = Arc::clone(&config);
        let status = Arc::clone(&status);
        let statuses = statuses.clone();
        threads.push(spawn("verify", {
            let stop = Arc::clone(&stop);
            Box::new(move || verify_loop(&config, &ingest_rx, &admit_tx, &status, &statuses, &stop))
        })?);
    }
    {
        let config = Arc::clone(&config);
        let status = Arc::clone(&status);
        let statuses = statuses.clone();
        let reader = reader.clone();
        let stop = Arc::clone(&stop);
        let pending = Arc::clone(&pending_nonces);
        let pooled = Arc::clone(&pooled);
        threads.push(spawn(
            "admission",
            Box::new(move || {
                Admission::new(
                    config, reader, status, statuses, wal_tx, max_seq, pending, pooled,
                )
                .run(&admit_rx, &done_rx, &stop)
            }),
        )?);
    }
    {
        let status = Arc::clone(&status);
        let statuses = statuses.clone();
        let wal = Arc::clone(&wal);
        let config = Arc::clone(&config);
        threads.push(spawn("wal", {
            let stop = Arc::clone(&stop);
            Box::new(move || {
                wal_loop(
                    &config, &wal, &wal_rx, &trim_rx, &build_tx, &status, &statuses, &stop,
                )
            })
        })?);
    }
    {
        let config = Arc::clone(&config);
        let status = Arc::clone(&status);
        let statuses = statuses.clone();
        let blocks = blocks.clone();
        let stop = Arc::clone(&stop);
        threads.push(spawn(
            "builder",
            Box::new(move || {
                Builder {
                    config,
                    executor,
                    deposits: deposit_rx,
                    deposits_next,
                    status,
                    statuses,
                    blocks,
                    done_tx,
                    trim_tx,
                }
                .run(&build_rx, &stop)
            }),
        )?);
    }
    let config_bytes_max = config.pipeline_bytes_max;
    let ingest = Ingest {
        queue: ingest_tx,
        status: Arc::clone(&status),
        config,
        marks: Arc::clone(&marks),
        pooled,
        bytes: Arc::new(ByteBudget {
            used: AtomicUsize::new(0),
            max: config_bytes_max,
        }),
    };
    let deposits_capacity = ingest.config.deposits_queue_max;
    let deposits = crate::settled::DepositFeed {
        sender: deposit_tx,
        reader: reader.clone(),
        capacity: deposits_capacity,
    };
    Ok(Pipeline {
        ingest,
        blocks,
        statuses,
        status,
        deposits,
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

fn publish(
    status: &StatusBoard,
    statuses: &broadcast::Sender<(Hash32, TxStatus)>,
    hash: Hash32,
    value: TxStatus,
) {
    status.set(hash, value.clone());
    // No subscriber is not an error.
    let _ = statuses.send((hash, value));
}

fn reject(
    item: &mut Incoming,
    error: SubmitError,
    status: &StatusBoard,
    statuses: &broadcast::Sender<(Hash32, TxStatus)>,
) {
    publish(
        status,
        statuses,
        item.hash,
        TxStatus::Rejected {
            reason: error.to_string(),
        },
    );
    item.answer(Err(error));
}

fn verify_loop(
    config: &SequencerConfig,
    input: &Receiver<Incoming>,
    output: &Sender<Incoming>,
    status: &StatusBoard,
    statuses: &broadcast::Sender<(Hash32, TxStatus)>,
    stop: &AtomicBool,
) {
    let mut batch: Vec<Incoming> = Vec::with_capacity(config.verify_batch_max);
    loop {
        match input.recv_timeout(STOP_POLL) {
            Ok(first) => batch.push(first),
            Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => continue,
            Err(_) => return,
        }
        while batch.len() < config.verify_batch_max {
            match input.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let txs: Vec<&SignedTransaction> = batch.iter().map(|item| &item.tx).collect();
        // Chunks of 64 keep the batch equation's win while spreading over the cores.
        let results: Vec<_> = txs
            .par_chunks(64)
            .flat_map_iter(|chunk| verify_transaction_refs(chunk, config.chain_id))
            .collect();
        drop(txs);
        for (mut item, result) in batch.drain(..).zip(results) {
            match result {
                Ok(()) => {
                    if output.send(item).is_err() {
                        return;
                    }
                }
                Err(e) => reject(&mut item, SubmitError::BadSignature(e), status, statuses),
            }
        }
    }
}

/// A parked transaction (its fee and deadline live in the lane).
struct Waiting {
    seq: u64,
    hash: Hash32,
    tx: SignedTransaction,
    /// The byte budget share moves with the pooled copy.
    permit: Option<BytePermit>,
}

/// The admission stage: the nonce lanes ([`ghostplane_primitives::lanes`]) plus the
/// effects they ask for (WAL messages, status changes, the pending-nonce view).
struct Admission {
    config: Arc<SequencerConfig>,
    reader: StoreReader,
    status: Arc<StatusBoard>,
    statuses: broadcast::Sender<(Hash32, TxStatus)>,
    wal: Sender<WalMsg>,
    lanes: Lanes<AccountId, Waiting>,
    /// Each active lane's next nonce, for queries (`l2_getAccount`'s `pendingNonce`).
    pending: Arc<papaya::HashMap<AccountId, Nonce>>,
    /// The pool's size, published for ingest's settlement back-pressure check.
    pooled_gauge: Arc<AtomicUsize>,
    next_seq: u64,
    /// Lane deadlines are milliseconds since this instant of the config's clock.
    epoch: Instant,
}

impl Admission {
    #[allow(clippy::too_many_arguments)] // Each is one of the stage's channels or views.
    fn new(
        config: Arc<SequencerConfig>,
        reader: StoreReader,
        status: Arc<StatusBoard>,
        statuses: broadcast::Sender<(Hash32, TxStatus)>,
        wal: Sender<WalMsg>,
        next_seq: u64,
        pending: Arc<papaya::HashMap<AccountId, Nonce>>,
        pooled_gauge: Arc<AtomicUsize>,
    ) -> Self {
        let limits = LaneLimits {
            gap_max: config.nonce_gap_max,
            sender_max: config.sender_pending_max,
            pool_max: config.pool_txs_max,
        };
        let epoch = config.clock.now();
        Self {
            config,
            reader,
            status,
            statuses,
            wal,
            lanes: Lanes::new(limits),
            pending,
            pooled_gauge,
            next_seq,
            epoch,
        }
    }

    fn run(mut self, input: &Receiver<Incoming>, done: &Receiver<BlockDone>, stop: &AtomicBool) {
        let tick = Duration::from_millis(100);
        loop {
            select! {
                recv(input) -> item => match item {
                    Ok(item) => {
                        if self.admit(item).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                recv(done) -> block => match block {
                    Ok(block) => {
                        if self.block_done(block).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                default(tick) => {}
            }
            self.pooled_gauge
                .store(self.lanes.pooled(), Ordering::Relaxed);
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if self.expire().is_err() {
                return;
            }
        }
    }

    fn now_ms(&self) -> u64 {
        let elapsed = self
            .config
            .clock
            .now()
            .saturating_duration_since(self.epoch);
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }

    fn send(&self, message: WalMsg) -> Result<(), ()> {
        self.wal.send(message).map_err(|_| ())
    }

    fn release(&self, waiting: Waiting) -> Result<(), ()> {
        self.send(WalMsg::Release {
            seq: waiting.seq,
            hash: waiting.hash,
            tx: waiting.tx,
            permit: waiting.permit,
        })
    }

    fn drop_waiting(&self, waiting: &Waiting, reason: String) -> Result<(), ()> {
        publish(
            &self.status,
            &self.statuses,
            waiting.hash,
            TxStatus::Dropped { reason },
        );
        self.send(WalMsg::Forget { seq: waiting.seq })
    }

    /// Publishes `sender`'s lane's next nonce (or that it has none).
    fn sync_pending(&self, sender: AccountId) {
        match self.lanes.next_nonce(&sender) {
            Some(next) => self.pending.pin().insert(sender, next),
            None => self.pending.pin().remove(&sender),
        };
    }

    fn take_seq(&mut self, item: &Incoming) -> u64 {
        match item.replayed_seq {
            Some(seq) => seq,
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                seq
            }
        }
    }

    /// Opens `from`'s lane from its account, or says why it cannot send.
    fn open_lane(&mut self, from: AccountId, signer: &PublicKey) -> Result<(), SubmitError> {
        match self.reader.state().account(from) {
            Err(e) => Err(SubmitError::Unavailable(e.to_string())),
            Ok(None) => Err(SubmitError::UnknownSender(from)),
            Ok(Some(account)) if account.public_key != *signer => {
                Err(SubmitError::SignerMismatch(from))
            }
            Ok(Some(account)) => {
                self.lanes.open(from, account.nonce);
                Ok(())
            }
        }
    }

    /// Err only when the WAL thread is gone.
    fn admit(&mut self, mut item: Incoming) -> Result<(), ()> {
        let tx = &item.tx.tx;
        let from = tx.from();
        let nonce = tx.nonce();
        let fee = tx.fee();
        if item.replayed_seq.is_none() && self.status.is_pending(&item.hash) {
            let error = SubmitError::AlreadyKnown(item.hash);
            item.answer(Err(error));
            return Ok(());
        }
        if !self.lanes.is_open(&from)
            && let Err(error) = self.open_lane(from, &item.tx.signer)
        {
            reject(&mut item, error, &self.status, &self.statuses);
            return Ok(());
        }
        let replay = item.replayed_seq.is_some();
        match self.lanes.check(&from, nonce, fee, replay) {
            Ok(Verdict::Next) => {
                let seq = self.take_seq(&item);
                let ready = self.lanes.take_next(&from);
                self.sync_pending(from);
                self.send(WalMsg::Admit {
                    seq,
                    item,
                    release: true,
                })?;
                ready
                    .into_iter()
                    .try_for_each(|waiting| self.release(waiting))
            }
            Ok(Verdict::Park) => {
                let seq = self.take_seq(&item);
                let waiting = Waiting {
                    seq,
                    hash: item.hash,
                    tx: item.tx.clone(),
                    permit: item.permit.take(),
                };
                let deadline = self
                    .now_ms()
                    .saturating_add(self.config.nonce_gap_timeout_ms);
                if let Some(replaced) = self.lanes.park(&from, nonce, fee, waiting, deadline) {
                    let reason = format!("replaced by {} with a higher fee", item.hash);
                    self.drop_waiting(&replaced, reason)?;
                }
                self.sync_pending(from);
                self.send(WalMsg::Admit {
                    seq,
                    item,
                    release: false,
                })
            }
            Err(refusal) => {
                self.lanes.close_if_idle(&from);
                self.sync_pending(from);
                if let (Refusal::NonceTooLow { .. }, Some(seq)) = (refusal, item.replayed_seq) {
                    // Executed before the restart: the WAL entry is stale.
                    return self.send(WalMsg::Forget { seq });
                }
                let error = self.refusal_error(refusal, from, nonce);
                reject(&mut item, error, &self.status, &self.statuses);
                Ok(())
            }
        }
    }

    fn refusal_error(&self, refusal: Refusal, account: AccountId, nonce: Nonce) -> SubmitError {
        let retry_after_ms = self.config.retry_after_ms;
        match refusal {
            Refusal::NotOpen => SubmitError::Unavailable("admission lane missing".into()),
            Refusal::NonceTooLow { expected } => SubmitError::NonceTooLow {
                account,
                expected,
                got: nonce,
            },
            Refusal::NonceGap { expected, max } => SubmitError::NonceGapTooLarge {
                expected,
                got: nonce,
                max_gap: max,
            },
            Refusal::PoolFull => SubmitError::PoolFull { retry_after_ms },
            Refusal::SenderFull { pending } => SubmitError::SenderPoolFull {
                account,
                pending,
                retry_after_ms,
            },
            Refusal::Underpriced { existing_fee } => SubmitError::ReplacementUnderpriced {
                nonce,
                existing_fee,
            },
        }
    }

    fn block_done(&mut self, block: BlockDone) -> Result<(), ()> {
        let mut touched: Vec<AccountId> = block.outcomes.iter().map(|(s, _)| *s).collect();
        touched.sort_unstable();
        touched.dedup();
        for sender in self.lanes.block_done(block.outcomes) {
            let nonce = self
                .reader
                .state()
                .account(sender)
                .ok()
                .flatten()
                .map(|a| a.nonce);
            // On a read failure the lane stays marked and is resynced after its
            // next executed transaction.
            let Some(nonce) = nonce else { continue };
            let resynced = self.lanes.resync(&sender, nonce);
            for waiting in &resynced.stale {
                self.drop_waiting(waiting, "nonce already used".into())?;
            }
            for waiting in resynced.released {
                self.release(waiting)?;
            }
        }
        for sender in touched {
            self.sync_pending(sender);
        }
        Ok(())
    }

    /// Drops waiting transactions whose gap did not fill in time.
    fn expire(&mut self) -> Result<(), ()> {
        let now = self.now_ms();
        for (sender, waiting) in self.lanes.expire(now) {
            let reason = format!(
                "nonce gap not filled within {} ms",
                self.config.nonce_gap_timeout_ms
            );
            self.drop_waiting(&waiting, reason)?;
            self.sync_pending(sender);
        }
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn wal_loop(
    config: &SequencerConfig,
    wal: &Wal,
    input: &Receiver<WalMsg>,
    trims: &Receiver<Vec<u64>>,
    builder: &Sender<Ordered>,
    status: &StatusBoard,
    statuses: &broadcast::Sender<(Hash32, TxStatus)>,
    stop: &AtomicBool,
) {
    let mut group: Vec<WalMsg> = Vec::with_capacity(config.wal_batch_max);
    let mut deletes: Vec<u64> = Vec::new();
    loop {
        select! {
            recv(input) -> message => match message {
                Ok(message) => group.push(message),
                Err(_) => return,
            },
            recv(trims) -> trim => match trim {
                Ok(trim) => deletes.extend(trim),
                Err(_) => return,
            },
            default(STOP_POLL) => {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                continue;
            }
        }
        while group.len() < config.wal_batch_max {
            match input.try_recv() {
                Ok(message) => group.push(message),
                Err(_) => break,
            }
        }
        while let Ok(trim) = trims.try_recv() {
            deletes.extend(trim);
        }
        let ops = group
            .iter()
            .filter_map(|message| match message {
                WalMsg::Admit { seq, item, .. } => Some(WalOp::Put(*seq, item.bytes.as_slice())),
                WalMsg::Forget { seq } => Some(WalOp::Delete(*seq)),
                WalMsg::Release { .. } => None,
            })
            .chain(deletes.iter().map(|seq| WalOp::Delete(*seq)));
        if let Err(e) = wal.write(ops) {
            // Durability cannot be promised: refuse everything in the group and stop.
            tracing::error!("{e}; the sequencer stops accepting transactions");
            for message in group.drain(..) {
                if let WalMsg::Admit { mut item, .. } = message {
                    item.answer(Err(SubmitError::Unavailable(e.to_string())));
                }
            }
            return;
        }
        deletes.clear();
        for message in group.drain(..) {
            let ordered = match message {
                WalMsg::Admit {
                    seq,
                    mut item,
                    release,
                } => {
                    publish(status, statuses, item.hash, TxStatus::Accepted);
                    item.answer(Ok(item.hash));
                    if !release {
                        continue;
                    }
                    Ordered {
                        seq,
                        hash: item.hash,
                        sender: item.tx.tx.from(),
                        _permit: item.permit.take(),
                        tx: item.tx,
                    }
                }
                WalMsg::Release {
                    seq,
                    hash,
                    tx,
                    permit,
                } => Ordered {
                    seq,
                    hash,
                    sender: tx.tx.from(),
                    tx,
                    _permit: permit,
                },
                WalMsg::Forget { .. } => continue,
            };
            if builder.send(ordered).is_err() {
                return;
            }
        }
    }
}

struct Builder {
    config: Arc<SequencerConfig>,
    executor: Executor,
    deposits: Receiver<DepositEvent>,
    deposits_next: u64,
    status: Arc<StatusBoard>,
    statuses: broadcast::Sender<(Hash32, TxStatus)>,
    blocks: broadcast::Sender<BlockEvent>,
    done_tx: Sender<BlockDone>,
    trim_tx: Sender<Vec<u64>>,
}

impl Builder {
    fn run(mut self, input: &Receiver<Ordered>, stop: &AtomicBool) {
        let block_time = Duration::from_millis(self.config.block_time_ms.max(1));
        loop {
            let mut txs: Vec<Ordered> = Vec::new();
            let started = Instant::now();
            // Wait for the first transaction, then fill the block until it is full
            // or its time is up.
            match input.recv_timeout(Duration::from_millis(200)) {
                Ok(first) => txs.push(first),
                Err(RecvTimeoutError::Timeout) => {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // Deposits alone also make a block.
                    if !self.deposits.is_empty()
                        && let Err(e) = self.build(Vec::new())
                    {
                        tracing::error!("block production stopped: {e}");
                        return;
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while txs.len() < self.config.block_txs_max {
                let left = block_time.saturating_sub(started.elapsed());
                if left.is_zero() {
                    break;
                }
                match input.recv_timeout(left) {
                    Ok(tx) => txs.push(tx),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.build(txs) {
                tracing::error!("block production stopped: {e}");
                return;
            }
        }
    }

    fn build(&mut self, txs: Vec<Ordered>) -> Result<(), ghostplane_executor::ExecError> {
        let parent = self
            .executor
            .store()
            .last_header()
            .map_or(0, |h| h.number.0);
        let timestamp_ms = self.config.clock.unix_ms();
        let mut seqs = Vec::with_capacity(txs.len());
        let mut senders = Vec::with_capacity(txs.len());
        let mut items = Vec::with_capacity(txs.len());
        for ordered in txs {
            seqs.push(ordered.seq);
            senders.push(ordered.sender);
            items.push(BlockItem::Transaction {
                tx: ordered.tx,
                hash: ordered.hash,
            });
        }
        // Deposits go after the transactions (item indexes of transactions stay
        // aligned with `senders`), strictly in L1 queue order.
        let deposits_before = self.deposits_next;
        let items_max = ghostplane_executor::BLOCK_ITEMS_MAX
            .min(self.config.block_txs_max + DEPOSITS_PER_BLOCK_MAX);
        while items.len() < items_max {
            let Ok(deposit) = self.deposits.try_recv() else {
                break;
            };
            if deposit.queue_index < self.deposits_next {
                continue;
            }
            if deposit.queue_index > self.deposits_next {
                tracing::warn!(
                    "deposit {} arrived before {}: skipped, the watcher resends it",
                    deposit.queue_index,
                    self.deposits_next
                );
                continue;
            }
            self.deposits_next += 1;
            items.push(BlockItem::Deposit(deposit));
            if self.deposits_next - deposits_before >= DEPOSITS_PER_BLOCK_MAX as u64 {
                break;
            }
        }
        if items.is_empty() {
            // Only stale or out-of-order deposits: no block.
            return Ok(());
        }
        let block = BlockInput {
            number: BlockNumber(parent + 1),
            timestamp_ms,
            fee_account: self.config.fee_account,
            items,
        };
        let output = match self.executor.execute(&block) {
            Ok(output) => output,
            Err(e) => {
                self.deposits_next = deposits_before;
                return Err(e);
            }
        };
        if let Err(e) = self.executor.commit(&output) {
            self.deposits_next = deposits_before;
            return Err(e);
        }

        let mut dropped_at = vec![None::<&DropReason>; block.items.len()];
        for dropped in &output.dropped {
            if let Some(slot) = dropped_at.get_mut(dropped.index as usize) {
                *slot = Some(&dropped.reason);
            }
        }
        for receipt in &output.receipts {
            let success = receipt.status == ReceiptStatus::Success;
            let status = TxStatus::Executed {
                block: block.number.0,
                success,
            };
            let _ = self.statuses.send((receipt.tx_hash, status));
            // Executed transactions are served from the receipt store from now on.
            self.status.forget(&receipt.tx_hash);
        }
        for dropped in &output.dropped {
            let reason = dropped.reason.to_string();
            publish(
                &self.status,
                &self.statuses,
                dropped.hash,
                TxStatus::Dropped { reason },
            );
        }
        let outcomes = senders
            .iter()
            .zip(&dropped_at)
            .map(|(sender, dropped)| (*sender, dropped.is_some()))
            .collect();
        // The block is durable: its transactions can leave the WAL.
        let _ = self.trim_tx.send(seqs);
        let _ = self.done_tx.send(BlockDone { outcomes });
        let transactions = output.receipts.iter().map(|r| r.tx_hash).collect();
        let _ = self.blocks.send(BlockEvent {
            header: output.header,
            transactions,
        });
        Ok(())
    }
}
