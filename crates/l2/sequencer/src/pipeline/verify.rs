//! The verify stage: batches of signatures checked on rayon.

use super::*;

/// Smallest share of a batch verified as one equation.
const VERIFY_CHUNK_MIN: usize = 64;

pub(super) fn verify_loop(
    config: &SequencerConfig,
    input: &Receiver<Incoming>,
    output: &Sender<Incoming>,
    status: &StatusBoard,
    statuses: &broadcast::Sender<(Hash32, TxStatus)>,
    stop: &AtomicBool,
) {
    let mut batch: Vec<Incoming> = Vec::with_capacity(config.verify_batch_max);
    let keys = KeyCache::new(config.verify_key_cache_bytes);
    let depth = metrics::gauge!("ghostplane_sequencer_queue_depth", "stage" => "verify");
    let batch_size = metrics::histogram!("ghostplane_sequencer_verify_batch_size");
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
        depth.set(input.len() as f64);
        batch_size.record(batch.len() as f64);
        let txs: Vec<&SignedTransaction> = batch.iter().map(|item| &item.tx).collect();
        // One chunk per core (at least 64): the batch equation gets cheaper per
        // signature as it grows (past ~95 signatures curve25519-dalek switches to
        // Pippenger), and every core gets a share.
        let chunk = txs
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(VERIFY_CHUNK_MIN);
        let results: Vec<_> = txs
            .par_chunks(chunk)
            .flat_map_iter(|chunk| {
                verify_transaction_refs_cached(chunk, config.chain_id, Some(&keys))
            })
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
