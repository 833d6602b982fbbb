//! [`Ingest`]: submission from any thread (decode, size, chain id, no contract
//! transactions on a Groth16 rollup, stateless checks, the settlement
//! back-pressure check) into the bounded ingest queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crossbeam_channel::{Sender, TrySendError};
use ghostplane_primitives::{Codec, SignedTransaction, Transaction, tx_hash};
use ghostplane_proof_api::ProofSystem;
use tokio::sync::oneshot;

use super::{ByteBudget, Incoming, SubmitReply};
use crate::api::TxStatus;
use crate::config::SequencerConfig;
use crate::error::SubmitError;
use crate::l1_feed::Marks;
use crate::status::StatusBoard;

/// Submits transactions to the pipeline. Cheap to clone; used by every RPC handler
/// and QUIC stream.
#[derive(Clone)]
pub struct Ingest {
    queue: Sender<Incoming>,
    status: Arc<StatusBoard>,
    config: Arc<SequencerConfig>,
    /// Settlement's reported backlog.
    marks: Marks,
    /// Admitted and not yet executed or dropped (the admission thread's count).
    pooled: Arc<AtomicUsize>,
    /// Bytes held between submission and execution.
    bytes: Arc<ByteBudget>,
    /// Submissions seen (a handle: no registry lookup per transaction).
    received: metrics::Counter,
}

impl Ingest {
    /// Submission into `queue`, the verify stage's input, with a byte budget of
    /// `config.pipeline_bytes_max`.
    pub(super) fn new(
        queue: Sender<Incoming>,
        status: Arc<StatusBoard>,
        config: Arc<SequencerConfig>,
        marks: Marks,
        pooled: Arc<AtomicUsize>,
    ) -> Self {
        Self {
            queue,
            status,
            bytes: Arc::new(ByteBudget::new(config.pipeline_bytes_max)),
            config,
            marks,
            pooled,
            received: metrics::counter!("ghostplane_sequencer_received_total"),
        }
    }

    /// Checks what can be checked at once and queues the transaction; the receiver
    /// yields the hash once it is durably accepted, or the reason it was not.
    pub fn submit(&self, bytes: Vec<u8>) -> Result<oneshot::Receiver<SubmitReply>, SubmitError> {
        self.received.increment(1);
        let queued = self.check_and_queue(bytes);
        if let Err(e) = &queued {
            metrics::counter!("ghostplane_sequencer_rejected_total", "reason" => e.kind())
                .increment(1);
        }
        queued
    }

    fn check_and_queue(
        &self,
        bytes: Vec<u8>,
    ) -> Result<oneshot::Receiver<SubmitReply>, SubmitError> {
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
        // Contract state is proven by the STARK only: a Groth16 rollup's L1 refuses
        // to commit a batch holding a contract transaction, so none is taken here.
        if self.config.proof_system == ProofSystem::Groth16
            && matches!(tx.tx, Transaction::Deploy { .. } | Transaction::Call { .. })
        {
            return Err(SubmitError::ContractsUnsupported);
        }
        tx.tx.check_stateless()?;
        // The executor's floor: a native transaction pays its proof slot, the
        // account it creates and its pubdata; a deploy or call its slot and the
        // pubdata of its own bytes (the executor drops lower offers).
        let prices = self.config.prices;
        let min = ghostplane_executor::fees::floor(prices, &tx.tx);
        if tx.tx.fee() < min.total {
            return Err(SubmitError::FeeBelowMinimum {
                offered: tx.tx.fee(),
                min,
                data_price: prices.data_price,
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
            received: Instant::now(),
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
        if let Some(reason) = self.marks.stopped() {
            return Err(SubmitError::SettlementStopped {
                reason: reason.to_string(),
            });
        }
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
