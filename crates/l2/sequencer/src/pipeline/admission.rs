//! [`Admission`], the admission stage, the pool's single writer: the nonce lanes
//! ([`ghostplane_primitives::lanes`]) and the effects they ask for (WAL messages,
//! status changes, the pending-nonce view).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};
use ghostplane_executor::StoreReader;
use ghostplane_primitives::lanes::{LaneLimits, Lanes, Refusal, Verdict};
use ghostplane_primitives::{AccountId, Hash32, Nonce, PublicKey, SignedTransaction};

use super::{BlockDone, BytePermit, Incoming, StatusSink, WalMsg};
use crate::api::TxStatus;
use crate::config::SequencerConfig;
use crate::error::SubmitError;

/// A parked transaction (its fee and deadline live in the lane).
struct Waiting {
    seq: u64,
    hash: Hash32,
    tx: SignedTransaction,
    /// The byte budget share moves with the pooled copy.
    permit: Option<BytePermit>,
    received: Instant,
}

/// The admission stage: the nonce lanes ([`ghostplane_primitives::lanes`]) plus the
/// effects they ask for (WAL messages, status changes, the pending-nonce view).
pub(super) struct Admission {
    config: Arc<SequencerConfig>,
    reader: StoreReader,
    statuses: StatusSink,
    /// Verified transactions.
    input: Receiver<Incoming>,
    /// What each committed block did to the lanes.
    done: Receiver<BlockDone>,
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
    pub(super) fn new(
        config: Arc<SequencerConfig>,
        reader: StoreReader,
        statuses: StatusSink,
        input: Receiver<Incoming>,
        done: Receiver<BlockDone>,
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
            statuses,
            input,
            done,
            wal,
            lanes: Lanes::new(limits),
            pending,
            pooled_gauge,
            next_seq,
            epoch,
        }
    }

    /// Runs until a channel closes or `stop` is set.
    pub(super) fn run(mut self, stop: &AtomicBool) {
        let tick = Duration::from_millis(100);
        let depth = metrics::gauge!("ghostplane_sequencer_queue_depth", "stage" => "admission");
        let pool = metrics::gauge!("ghostplane_sequencer_pool_transactions");
        loop {
            select! {
                recv(self.input) -> item => match item {
                    Ok(item) => {
                        if self.admit(item).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                recv(self.done) -> block => match block {
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
            depth.set(self.input.len() as f64);
            pool.set(self.lanes.pooled() as f64);
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
            received: waiting.received,
        })
    }

    fn drop_waiting(&self, waiting: &Waiting, reason: String) -> Result<(), ()> {
        self.statuses
            .publish(waiting.hash, TxStatus::Dropped { reason });
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
        if item.replayed_seq.is_none() && self.statuses.board.is_pending(&item.hash) {
            let error = SubmitError::AlreadyKnown(item.hash);
            item.answer(Err(error));
            return Ok(());
        }
        if !self.lanes.is_open(&from)
            && let Err(error) = self.open_lane(from, &item.tx.signer)
        {
            self.statuses.reject(&mut item, error);
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
                    received: item.received,
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
                self.statuses.reject(&mut item, error);
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
