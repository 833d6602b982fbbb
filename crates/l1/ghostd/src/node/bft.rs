//! What BFT consensus needs from the chain, as free functions over the node's
//! parts: checking a block someone else built (by executing it,
//! `check_block`), the consensus column (write-ahead log, kept proposals,
//! equivocation evidence), and the status the consensus thread publishes
//! (`StatusCell`). Proposing and committing decided blocks are
//! `Ghostd::build_proposal` and `Ghostd::commit_decided` (they take the mempool
//! and the seal lock).

use std::sync::{Arc, RwLock};

use borsh::BorshDeserialize;
use ghostd_types::consensus::ConsensusStatus;
use ghostplane_primitives::codec::to_bytes;
use ghostplane_primitives::{Codec, Hash32};
use rocksdb::{WriteBatch, WriteOptions};

use super::block::{BlockBuilder, Mode, Prepared};
use super::store::ChainStore;
use super::{BLOCK_BYTES_MAX, BLOCK_TXS_MAX, CF_CONSENSUS, NodeError, Pending};
use crate::consensus::wire::{BlockMsg, WalEntry, WireVote};
use crate::types::{L1_TX_BYTES_MAX, L1Header, SignedL1Transaction};

/// How far past the local clock a proposed block's timestamp may be.
pub const BLOCK_FUTURE_MS_MAX: u64 = 10_000;

const WAL_PREFIX: &[u8] = b"wal/";
const EVIDENCE_PREFIX: &[u8] = b"evidence/";
const BLOCK_PREFIX: &[u8] = b"proposed/";

/// What the consensus thread last published (none on a solo chain).
#[derive(Default)]
pub(super) struct StatusCell {
    published: RwLock<Option<Arc<ConsensusStatus>>>,
}

impl StatusCell {
    /// The last published status.
    pub(super) fn get(&self) -> Option<Arc<ConsensusStatus>> {
        self.published
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Publishes `status`.
    pub(super) fn set(&self, status: Arc<ConsensusStatus>) {
        *self.published.write().unwrap_or_else(|p| p.into_inner()) = Some(status);
    }
}

/// Checks a block someone else built for the next height by executing it;
/// `live` also bounds its timestamp by our clock (a synced, certified block is
/// not held to our clock).
pub(super) fn check_block(
    store: &ChainStore,
    builder: &BlockBuilder,
    header: &L1Header,
    transactions: &[SignedL1Transaction],
    live: bool,
) -> Result<Prepared, NodeError> {
    let parent = store.head();
    let invalid = |why: String| Err(NodeError::InvalidBlock(why));
    if header.number != parent.number + 1 {
        return invalid(format!(
            "block {} does not follow the head {}",
            header.number, parent.number
        ));
    }
    if header.parent_hash != parent.hash() {
        return invalid("its parent is not our head".into());
    }
    if header.timestamp_ms < parent.timestamp_ms {
        return invalid("its time is before its parent's".into());
    }
    if live && header.timestamp_ms > builder.now_ms().saturating_add(BLOCK_FUTURE_MS_MAX) {
        return invalid("its time is too far in the future".into());
    }
    if transactions.len() > BLOCK_TXS_MAX {
        return invalid(format!(
            "{} transactions is over the {}-transaction limit",
            transactions.len(),
            BLOCK_TXS_MAX
        ));
    }
    let chain_id = builder.chain_id();
    // Chain, size and signature of each, in parallel; their encoded sizes add
    // up to the block's.
    let checked: Vec<Result<usize, String>> = {
        use rayon::prelude::*;
        transactions
            .par_iter()
            .map(|tx| {
                if tx.tx.chain_id != chain_id {
                    return Err(format!("transaction {} is for another chain", tx.hash()));
                }
                let len = tx.encode().len();
                if len > L1_TX_BYTES_MAX {
                    return Err(format!("transaction {} is oversize", tx.hash()));
                }
                tx.verify()
                    .map_err(|_| format!("transaction {} has a bad signature", tx.hash()))?;
                Ok(len)
            })
            .collect()
    };
    let mut bytes = 0usize;
    for item in checked {
        match item {
            Ok(len) => bytes += len,
            Err(why) => return invalid(why),
        }
    }
    if bytes > BLOCK_BYTES_MAX {
        return invalid(format!(
            "{bytes} bytes of transactions is over the {BLOCK_BYTES_MAX}-byte limit"
        ));
    }
    let candidates: Vec<Pending> = transactions
        .iter()
        .map(|tx| (u64::MAX, tx.hash(), tx.clone()))
        .collect();
    // (A replay never asks whether a candidate skipped its dry run.)
    let mut prepared = builder.execute(
        store,
        &|_| false,
        &parent,
        &candidates,
        header.timestamp_ms,
        Mode::Replay,
    )?;
    if prepared.header != *header {
        return invalid(format!(
            "executing it gives header {}, not {}",
            prepared.header.hash(),
            header.hash()
        ));
    }
    // Our own mempool entries are settled by sequence number, not these.
    prepared.finished.clear();
    prepared.obsolete.clear();
    Ok(prepared)
}

/// Appends consensus write-ahead-log entries for `height`, numbered from
/// `first` (the caller counts them), in one write, synced
/// if `sync` (RocksDB's log is sequential: a synced write makes every earlier
/// one durable too).
pub(super) fn wal_append(
    store: &ChainStore,
    height: u64,
    first: u64,
    entries: &[WalEntry],
    sync: bool,
) -> Result<(), NodeError> {
    if entries.is_empty() {
        return Ok(());
    }
    let cf = store.cf(CF_CONSENSUS)?;
    let mut batch = WriteBatch::default();
    for (seq, entry) in (first..).zip(entries) {
        batch.put_cf(cf, wal_key(height, seq), to_bytes(entry));
    }
    let mut options = WriteOptions::default();
    options.set_sync(sync);
    store.db().write_opt(batch, &options)?;
    Ok(())
}

/// The write-ahead log of `height`, in order.
pub(super) fn wal_load(store: &ChainStore, height: u64) -> Result<Vec<WalEntry>, NodeError> {
    let cf = store.cf(CF_CONSENSUS)?;
    let prefix = wal_key(height, 0);
    let prefix = &prefix[..WAL_PREFIX.len() + 8];
    let mut out = Vec::new();
    for item in store.db().prefix_iterator_cf(cf, prefix) {
        let (key, value) = item?;
        if !key.starts_with(prefix) {
            break;
        }
        out.push(WalEntry::try_from_slice(&value).map_err(|_| NodeError::Corrupt("wal entry"))?);
    }
    Ok(out)
}

/// Drops the write-ahead log and the kept proposals of heights below `height`.
pub(super) fn wal_prune(store: &ChainStore, height: u64) -> Result<(), NodeError> {
    let cf = store.cf(CF_CONSENSUS)?;
    store
        .db()
        .delete_range_cf(cf, wal_key(0, 0), wal_key(height, 0))?;
    store.db().delete_range_cf(
        cf,
        block_key(0, &Hash32([0; 32])),
        block_key(height, &Hash32([0; 32])),
    )?;
    Ok(())
}

/// Keeps a block proposed at `height` (ours or a peer's) until the height is
/// decided: a restarted validator may have voted or locked on it, and must be
/// able to send it again or commit it. Written with the log (made durable by
/// the next synced log write, before we vote).
pub(super) fn keep_proposal(
    store: &ChainStore,
    height: u64,
    msg: &BlockMsg,
) -> Result<(), NodeError> {
    let cf = store.cf(CF_CONSENSUS)?;
    store
        .db()
        .put_cf(cf, block_key(height, &msg.header.hash()), to_bytes(msg))?;
    Ok(())
}

/// The proposals kept for `height`.
pub(super) fn kept_proposals(store: &ChainStore, height: u64) -> Result<Vec<BlockMsg>, NodeError> {
    let cf = store.cf(CF_CONSENSUS)?;
    let mut prefix = BLOCK_PREFIX.to_vec();
    prefix.extend_from_slice(&height.to_be_bytes());
    let mut out = Vec::new();
    for item in store.db().prefix_iterator_cf(cf, &prefix) {
        let (key, value) = item?;
        if !key.starts_with(&prefix) {
            break;
        }
        out.push(
            BlockMsg::try_from_slice(&value).map_err(|_| NodeError::Corrupt("kept proposal"))?,
        );
    }
    Ok(out)
}

/// Stores evidence that a validator signed two conflicting votes.
pub(super) fn store_evidence(
    store: &ChainStore,
    a: &WireVote,
    b: &WireVote,
) -> Result<(), NodeError> {
    let cf = store.cf(CF_CONSENSUS)?;
    let mut key = EVIDENCE_PREFIX.to_vec();
    key.extend_from_slice(&a.height.to_be_bytes());
    key.extend_from_slice(&a.validator.0);
    key.extend_from_slice(&a.round.to_be_bytes());
    key.push(a.kind as u8);
    store.db().put_cf(cf, key, to_bytes(&(a, b)))?;
    metrics::counter!("ghostd_consensus_equivocations_total").increment(1);
    Ok(())
}

/// Stored equivocation evidence: pairs of conflicting votes by one validator.
pub(super) fn evidence(store: &ChainStore) -> Result<Vec<(WireVote, WireVote)>, NodeError> {
    let cf = store.cf(CF_CONSENSUS)?;
    let mut out = Vec::new();
    for item in store.db().prefix_iterator_cf(cf, EVIDENCE_PREFIX) {
        let (key, value) = item?;
        if !key.starts_with(EVIDENCE_PREFIX) {
            break;
        }
        out.push(
            <(WireVote, WireVote)>::try_from_slice(&value)
                .map_err(|_| NodeError::Corrupt("evidence"))?,
        );
    }
    Ok(out)
}

fn block_key(height: u64, hash: &Hash32) -> Vec<u8> {
    let mut key = BLOCK_PREFIX.to_vec();
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(&hash.0);
    key
}

fn wal_key(height: u64, seq: u64) -> Vec<u8> {
    let mut key = WAL_PREFIX.to_vec();
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}
