//! [`Builder`], the builder stage: cuts, executes and commits blocks; reports to
//! admission which lanes moved; trims the WAL; broadcasts each block.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ghostplane_executor::{BlockInput, BlockItem, DropReason, ExecError, Executor, StoreReader};
use ghostplane_primitives::{BlockNumber, DepositEvent, ForcedWithdrawalEvent, ReceiptStatus};
use tokio::sync::broadcast;

use super::{BlockDone, BlockEvent, DEPOSITS_PER_BLOCK_MAX, Ordered, StatusSink};
use crate::api::TxStatus;
use crate::config::SequencerConfig;
use crate::l1_feed::QueuedEvent;

/// One L1 queue as the builder consumes it: the events handed in, and the queue
/// index of the next one to include.
pub(super) struct Queue<E> {
    events: Receiver<E>,
    next: u64,
}

impl<E: QueuedEvent> Queue<E> {
    pub(super) fn new(
        events: Receiver<E>,
        reader: &StoreReader,
    ) -> Result<Self, ghostplane_executor::StoreError> {
        Ok(Self {
            next: E::consumed_next(reader)?,
            events,
        })
    }

    /// Moves events, in queue order, into `items` while it holds fewer than
    /// `items_max` and this block took fewer than `DEPOSITS_PER_BLOCK_MAX` of
    /// them. Returns the index to go back to if the block fails.
    fn drain(&mut self, items: &mut Vec<BlockItem>, items_max: usize) -> u64 {
        let before = self.next;
        while items.len() < items_max {
            let Ok(event) = self.events.try_recv() else {
                break;
            };
            let index = event.queue_index();
            if index < self.next {
                continue;
            }
            if index > self.next {
                tracing::warn!(
                    "{} {index} arrived before {}: skipped, the watcher resends it",
                    E::QUEUE,
                    self.next
                );
                continue;
            }
            self.next += 1;
            items.push(event.into_item());
            if self.next - before >= DEPOSITS_PER_BLOCK_MAX as u64 {
                break;
            }
        }
        before
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// The builder stage, the only user of the [`Executor`]: owns the chain's head and
/// the next L1 deposit and forced withdrawal it expects.
pub(super) struct Builder {
    pub(super) config: Arc<SequencerConfig>,
    pub(super) executor: Executor,
    /// Admitted transactions, in sequence order.
    pub(super) input: Receiver<Ordered>,
    pub(super) deposits: Queue<DepositEvent>,
    pub(super) forced: Queue<ForcedWithdrawalEvent>,
    pub(super) statuses: StatusSink,
    pub(super) blocks: broadcast::Sender<BlockEvent>,
    pub(super) done_tx: Sender<BlockDone>,
    pub(super) trim_tx: Sender<Vec<u64>>,
}

impl Builder {
    /// Runs until the input closes, a block fails (production stops), or `stop` is
    /// set while idle.
    pub(super) fn run(mut self, stop: &AtomicBool) {
        let block_time = Duration::from_millis(self.config.block_time_ms.max(1));
        let depth = metrics::gauge!("ghostplane_sequencer_queue_depth", "stage" => "builder");
        // From a block's first transaction to the cut.
        let fill = metrics::histogram!("ghostplane_sequencer_block_fill_seconds");
        loop {
            let mut txs: Vec<Ordered> = Vec::new();
            let started = Instant::now();
            // Wait for the first transaction, then fill the block until it is full
            // or its time is up.
            match self.input.recv_timeout(Duration::from_millis(200)) {
                Ok(first) => txs.push(first),
                Err(RecvTimeoutError::Timeout) => {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // L1 events alone also make a block.
                    if !(self.deposits.is_empty() && self.forced.is_empty())
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
                match self.input.recv_timeout(left) {
                    Ok(tx) => txs.push(tx),
                    Err(_) => break,
                }
            }
            depth.set(self.input.len() as f64);
            fill.record(started.elapsed().as_secs_f64());
            if let Err(e) = self.build(txs) {
                tracing::error!("block production stopped: {e}");
                return;
            }
            // Forced withdrawals go in blocks of their own (see `build`): one
            // follows whenever some wait, so load never holds them back.
            if !self.forced.is_empty()
                && let Err(e) = self.build(Vec::new())
            {
                tracing::error!("block production stopped: {e}");
                return;
            }
        }
    }

    fn build(&mut self, txs: Vec<Ordered>) -> Result<(), ExecError> {
        let parent = self
            .executor
            .store()
            .last_header()
            .map_or(0, |h| h.number.0);
        let timestamp_ms = self.config.clock.unix_ms();
        let mut seqs = Vec::with_capacity(txs.len());
        let mut senders = Vec::with_capacity(txs.len());
        let mut received = Vec::with_capacity(txs.len());
        let mut items = Vec::with_capacity(txs.len());
        for ordered in txs {
            seqs.push(ordered.seq);
            received.push(ordered.received);
            senders.push(ordered.sender);
            items.push(BlockItem::Transaction {
                tx: ordered.tx,
                hash: ordered.hash,
            });
        }
        // L1 events go after the transactions (item indexes of transactions stay
        // aligned with `senders`), each queue strictly in its L1 order. Forced
        // withdrawals only into a block without transactions: the executor credits
        // a block's fees at its end while a proof segment credits them before a
        // debit of the fee account, so only where a block collects no fees do the
        // two agree on the fee account's balance, which a whole-balance forced
        // withdrawal must empty exactly.
        let items_max = ghostplane_executor::BLOCK_ITEMS_MAX
            .min(self.config.block_txs_max + 2 * DEPOSITS_PER_BLOCK_MAX);
        let deposits_before = self.deposits.drain(&mut items, items_max);
        let forced_before = if seqs.is_empty() {
            self.forced.drain(&mut items, items_max)
        } else {
            self.forced.next
        };
        if items.is_empty() {
            // Only stale or out-of-order events: no block.
            return Ok(());
        }
        let block = BlockInput {
            number: BlockNumber(parent + 1),
            timestamp_ms,
            fee_account: self.config.fee_account,
            items,
        };
        let execute_started = Instant::now();
        let output = match self.executor.execute(&block) {
            Ok(output) => output,
            Err(e) => {
                self.deposits.next = deposits_before;
                self.forced.next = forced_before;
                return Err(e);
            }
        };
        let commit_started = Instant::now();
        if let Err(e) = self.executor.commit(&output) {
            self.deposits.next = deposits_before;
            self.forced.next = forced_before;
            return Err(e);
        }
        metrics::histogram!("ghostplane_sequencer_block_execute_seconds")
            .record((commit_started - execute_started).as_secs_f64());
        metrics::histogram!("ghostplane_sequencer_block_commit_seconds")
            .record(commit_started.elapsed().as_secs_f64());
        metrics::histogram!("ghostplane_sequencer_block_items").record(block.items.len() as f64);
        metrics::counter!("ghostplane_sequencer_blocks_total").increment(1);
        metrics::gauge!("ghostplane_executor_cache_bytes")
            .set(self.executor.store().cache_bytes() as f64);
        metrics::counter!("ghostplane_sequencer_dropped_total")
            .increment(output.dropped.len() as u64);

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
            let _ = self.statuses.events.send((receipt.tx_hash, status));
            // Executed transactions are served from the receipt store from now on.
            self.statuses.board.forget(&receipt.tx_hash);
        }
        let latency = metrics::histogram!("ghostplane_sequencer_ingest_to_executed_seconds");
        let now = Instant::now();
        for at in &received {
            latency.record(now.saturating_duration_since(*at).as_secs_f64());
        }
        for dropped in &output.dropped {
            let reason = dropped.reason.to_string();
            self.statuses
                .publish(dropped.hash, TxStatus::Dropped { reason });
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
