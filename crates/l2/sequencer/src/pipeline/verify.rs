//! [`Verifier`], the verify stage: batches of signatures checked on rayon.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ghostplane_primitives::{KeyCache, SignedTransaction, verify_transaction_refs_cached};
use rayon::prelude::*;

use super::{Incoming, STOP_POLL, StatusSink};
use crate::config::SequencerConfig;
use crate::error::SubmitError;

/// Smallest share of a batch verified as one equation.
const VERIFY_CHUNK_MIN: usize = 64;

/// The verify stage: takes decoded transactions from the ingest queue in batches of
/// up to `verify_batch_max`, verifies their signatures, hands the good ones to
/// admission and rejects the rest.
pub(super) struct Verifier {
    config: Arc<SequencerConfig>,
    input: Receiver<Incoming>,
    output: Sender<Incoming>,
    statuses: StatusSink,
    /// Decompressed signer keys, shared by the batch's rayon tasks.
    keys: KeyCache,
    /// The batch being verified (kept to reuse its allocation).
    batch: Vec<Incoming>,
}

impl Verifier {
    pub(super) fn new(
        config: Arc<SequencerConfig>,
        input: Receiver<Incoming>,
        output: Sender<Incoming>,
        statuses: StatusSink,
    ) -> Self {
        Self {
            keys: KeyCache::new(config.verify_key_cache_bytes),
            batch: Vec::with_capacity(config.verify_batch_max),
            config,
            input,
            output,
            statuses,
        }
    }

    /// Runs until the input closes, admission is gone, or `stop` is set while idle.
    pub(super) fn run(mut self, stop: &AtomicBool) {
        let depth = metrics::gauge!("ghostplane_sequencer_queue_depth", "stage" => "verify");
        let batch_size = metrics::histogram!("ghostplane_sequencer_verify_batch_size");
        loop {
            match self.input.recv_timeout(STOP_POLL) {
                Ok(first) => self.batch.push(first),
                Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => continue,
                Err(_) => return,
            }
            while self.batch.len() < self.config.verify_batch_max {
                match self.input.try_recv() {
                    Ok(item) => self.batch.push(item),
                    Err(_) => break,
                }
            }
            depth.set(self.input.len() as f64);
            batch_size.record(self.batch.len() as f64);
            if self.verify_batch().is_err() {
                return;
            }
        }
    }

    /// Verifies the batch and empties it; Err only when admission is gone.
    fn verify_batch(&mut self) -> Result<(), ()> {
        let txs: Vec<&SignedTransaction> = self.batch.iter().map(|item| &item.tx).collect();
        // One chunk per core (at least 64): the batch equation gets cheaper per
        // signature as it grows (past ~95 signatures curve25519-dalek switches to
        // Pippenger), and every core gets a share.
        let chunk = txs
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(VERIFY_CHUNK_MIN);
        let chain_id = self.config.chain_id;
        let keys = &self.keys;
        let results: Vec<_> = txs
            .par_chunks(chunk)
            .flat_map_iter(|chunk| verify_transaction_refs_cached(chunk, chain_id, Some(keys)))
            .collect();
        drop(txs);
        for (mut item, result) in self.batch.drain(..).zip(results) {
            match result {
                Ok(()) => self.output.send(item).map_err(|_| ())?,
                Err(e) => self
                    .statuses
                    .reject(&mut item, SubmitError::BadSignature(e)),
            }
        }
        Ok(())
    }
}
