//! How long this node took to verify each chunk proof, and how large it was:
//! node-local and not consensus (a wall-clock time differs between nodes and
//! runs), kept in memory for the last [`VERIFY_LOG_BATCHES_MAX`] batches (and
//! at most [`VERIFY_LOG_ENTRIES_MAX`] measurements) and
//! served beside the batch by `rollup_getBatch` (`verify`), for the explorer and
//! operators. A proof applied more than once (a dry run at admission, then its
//! block) keeps its latest measurement; a restart forgets them all.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use ghostd_types::api::ChunkVerifyView;

/// Batches whose verify times are kept (older ones are dropped first).
pub const VERIFY_LOG_BATCHES_MAX: usize = 4096;

/// Chunks recorded per batch (a batch has at most this many proofs in practice;
/// more are not recorded).
pub const VERIFY_LOG_CHUNKS_MAX: usize = 1024;

/// Measurements kept over all batches (oldest batches are dropped first): about
/// 80 bytes each with the maps' overhead, so ~5 MiB at most.
pub const VERIFY_LOG_ENTRIES_MAX: usize = 65_536;

/// The log: batch number to its chunks' measurements.
#[derive(Debug, Default)]
pub struct VerifyLog {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    batches: BTreeMap<u64, BTreeMap<u32, ChunkVerifyView>>,
    /// Measurements in `batches`, all batches together.
    entries: usize,
}

impl VerifyLog {
    /// Records that chunk `chunk` of batch `batch`, `proof_bytes` long, verified in
    /// `took`.
    pub fn record(&self, batch: u64, chunk: u32, took: Duration, proof_bytes: usize) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let chunks = inner.batches.entry(batch).or_default();
        if chunks.len() < VERIFY_LOG_CHUNKS_MAX || chunks.contains_key(&chunk) {
            let view = ChunkVerifyView {
                chunk,
                micros: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                proof_bytes: proof_bytes as u64,
            };
            if chunks.insert(chunk, view).is_none() {
                inner.entries += 1;
            }
        }
        while inner.batches.len() > VERIFY_LOG_BATCHES_MAX
            || (inner.entries > VERIFY_LOG_ENTRIES_MAX && inner.batches.len() > 1)
        {
            if let Some((_, dropped)) = inner.batches.pop_first() {
                inner.entries -= dropped.len();
            }
        }
    }

    /// The measurements of `batch`, by chunk (empty if none were taken here).
    pub fn batch(&self, batch: u64) -> Vec<ChunkVerifyView> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .batches
            .get(&batch)
            .map(|chunks| chunks.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_measurement_and_a_bounded_number_of_batches() {
        let log = VerifyLog::default();
        log.record(1, 0, Duration::from_micros(900), 370_000);
        log.record(1, 0, Duration::from_micros(800), 370_000);
        log.record(1, 1, Duration::from_micros(700), 360_000);
        let chunks = log.batch(1);
        assert_eq!(chunks.len(), 2);
        assert_eq!((chunks[0].chunk, chunks[0].micros), (0, 800));
        assert_eq!(chunks[1].proof_bytes, 360_000);
        assert!(log.batch(2).is_empty());
        for batch in 2..(VERIFY_LOG_BATCHES_MAX as u64 + 2) {
            log.record(batch, 0, Duration::from_micros(1), 1);
        }
        assert!(log.batch(1).is_empty(), "the oldest batch was dropped");
        assert_eq!(log.batch(VERIFY_LOG_BATCHES_MAX as u64 + 1).len(), 1);
    }

    #[test]
    fn is_bounded_in_measurements_over_all_batches() {
        let log = VerifyLog::default();
        let per_batch = VERIFY_LOG_CHUNKS_MAX as u32;
        let batches = (VERIFY_LOG_ENTRIES_MAX / VERIFY_LOG_CHUNKS_MAX) as u64 + 2;
        for batch in 0..batches {
            for chunk in 0..per_batch {
                log.record(batch, chunk, Duration::from_micros(1), 1);
            }
        }
        let kept: usize = (0..batches).map(|b| log.batch(b).len()).sum();
        assert!(kept <= VERIFY_LOG_ENTRIES_MAX, "{kept} measurements kept");
        assert!(log.batch(0).is_empty(), "the oldest batches were dropped");
        assert_eq!(log.batch(batches - 1).len(), VERIFY_LOG_CHUNKS_MAX);
    }
}
