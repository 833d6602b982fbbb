//! The verify stage: batches of signatures checked on rayon.

use super::*;

pub(super) fn verify_loop(
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
