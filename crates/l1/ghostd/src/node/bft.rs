//! What BFT consensus needs from the chain: candidates for a proposal, checking a
//! block someone else built (by executing it), committing a decided block with its
//! certificate, and the consensus column (write-ahead log, equivocation evidence).

use ghostd_types::consensus::{BftParams, Commit, ConsensusMode, verify_commit};

use super::block::{Mode, Prepared};
use std::collections::HashSet;

use borsh::BorshDeserialize;
use ghostplane_primitives::codec::to_bytes;
use ghostplane_primitives::{Codec, Hash32};
use rocksdb::{WriteBatch, WriteOptions};

use super::{
    BLOCK_BYTES_MAX, CF_COMMITS, CF_CONSENSUS, Ghostd, NodeError, Pending, StoredBlock, lock,
};
use crate::consensus::wire::{BlockMsg, WalEntry, WireVote};
use crate::types::{L1_TX_BYTES_MAX, L1Header, SignedL1Transaction};

/// How far past the local clock a proposed block's timestamp may be.
pub const BLOCK_FUTURE_MS_MAX: u64 = 10_000;

const WAL_PREFIX: &[u8] = b"wal/";
const EVIDENCE_PREFIX: &[u8] = b"evidence/";
const BLOCK_PREFIX: &[u8] = b"proposed/";

impl Ghostd {
    /// The BFT parameters, if this chain runs BFT.
    pub fn bft(&self) -> Option<&BftParams> {
        match &self.inner.genesis.consensus {
            ConsensusMode::Bft(params) => Some(params),
            ConsensusMode::Solo => None,
        }
    }

    /// What the consensus thread last published (BFT), or the solo view.
    pub fn consensus_status(&self) -> ghostd_types::consensus::ConsensusStatus {
        let published = self
            .inner
            .consensus
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match published {
            Some(status) => (*status).clone(),
            None => ghostd_types::consensus::ConsensusStatus {
                mode: if self.bft().is_some() { "bft" } else { "solo" }.into(),
                height: self.head().number,
                ..Default::default()
            },
        }
    }

    /// Called by the consensus thread after each event.
    pub(crate) fn set_consensus_status(
        &self,
        status: std::sync::Arc<ghostd_types::consensus::ConsensusStatus>,
    ) {
        *self
            .inner
            .consensus
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(status);
    }

    /// The commit certificate stored with block `height` (BFT chains).
    pub fn commit_certificate(&self, height: u64) -> Result<Option<Commit>, NodeError> {
        let cf = self.cf(CF_COMMITS)?;
        match self.inner.db.get_cf(cf, height.to_be_bytes())? {
            Some(bytes) => Ok(Some(
                Commit::decode(&bytes).map_err(|_| NodeError::Corrupt("commit certificate"))?,
            )),
            None => Ok(None),
        }
    }

    fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily, NodeError> {
        self.inner
            .db
            .cf_handle(name)
            .ok_or(NodeError::Corrupt(name))
    }

    /// Takes transactions for a proposal (as for a solo block).
    pub(crate) fn take_candidates(&self) -> Result<Vec<Pending>, NodeError> {
        self.pick_candidates()
    }

    /// Gives back candidates whose proposal was not decided.
    pub(crate) fn return_candidates(&self, candidates: Vec<Pending>) {
        lock(&self.inner.mempool).requeue(candidates);
    }

    /// Builds our proposal for the next height from `candidates`.
    pub(crate) fn build_proposal(&self, candidates: &[Pending]) -> Result<Prepared, NodeError> {
        let parent = self.head();
        let time_ms = self.inner.config.clock.unix_ms().max(parent.timestamp_ms);
        self.execute(parent.number + 1, &parent, candidates, time_ms, Mode::Build)
    }

    /// Checks a block someone else built for the next height by executing it;
    /// `live` also bounds its timestamp by our clock (a synced, certified block is
    /// not held to our clock).
    pub(crate) fn check_block(
        &self,
        header: &L1Header,
        transactions: &[SignedL1Transaction],
        live: bool,
    ) -> Result<Prepared, NodeError> {
        let parent = self.head();
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
        if live
            && header.timestamp_ms
                > self
                    .inner
                    .config
                    .clock
                    .unix_ms()
                    .saturating_add(BLOCK_FUTURE_MS_MAX)
        {
            return invalid("its time is too far in the future".into());
        }
        if transactions.len() > super::BLOCK_TXS_MAX {
            return invalid(format!(
                "{} transactions is over the {}-transaction limit",
                transactions.len(),
                super::BLOCK_TXS_MAX
            ));
        }
        let chain_id = self.inner.genesis.chain_id;
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
        let mut prepared = self.execute(
            header.number,
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

    /// Commits a decided block with its certificate. `own` is what we took from the
    /// mempool for our proposal at this height (settled if this is our block, else
    /// given back).
    pub(crate) fn commit_decided(
        &self,
        mut prepared: Prepared,
        commit: &Commit,
        own: Option<(Hash32, Vec<Pending>)>,
    ) -> Result<(), NodeError> {
        let _sealing = lock(&self.inner.seal);
        if prepared.header.number != self.head().number + 1 {
            return Err(NodeError::InvalidBlock(format!(
                "block {} does not follow the head",
                prepared.header.number
            )));
        }
        let (candidates, finished, obsolete) = match own {
            Some((hash, candidates)) if hash == prepared.header.hash() => (
                candidates,
                prepared.finished.clone(),
                prepared.obsolete.clone(),
            ),
            other => {
                if let Some((_, candidates)) = other {
                    self.return_candidates(candidates);
                }
                // Someone else's block: our copies of its transactions leave the
                // mempool with it (in the same write, for the pending column).
                let hashes: HashSet<Hash32> = prepared.receipts.iter().map(|r| r.tx_hash).collect();
                let taken = lock(&self.inner.mempool).take_matching(&hashes);
                let finished = taken.iter().map(|entry| entry.0).collect();
                (taken, finished, HashSet::new())
            }
        };
        prepared.finished = finished.clone();
        if let Err(e) = self.commit_prepared(&prepared, Some(commit)) {
            lock(&self.inner.mempool).requeue(candidates);
            return Err(e);
        }
        self.after_commit(&prepared.header, candidates, &finished, &obsolete);
        Ok(())
    }

    /// Applies a decided block from a peer: checks its certificate against the
    /// validator set, executes it, and commits it.
    pub fn apply_synced(&self, block: &StoredBlock, commit: &Commit) -> Result<(), NodeError> {
        let params = self
            .bft()
            .ok_or_else(|| NodeError::InvalidBlock("this chain does not run BFT".into()))?;
        verify_commit(
            self.inner.genesis.chain_id,
            params,
            block.header.number,
            block.header.hash(),
            commit,
        )
        .map_err(|e| NodeError::InvalidBlock(format!("block {}: {e}", block.header.number)))?;
        let prepared = self.check_block(&block.header, &block.transactions, false)?;
        self.commit_decided(prepared, commit, None)
    }

    /// Appends consensus write-ahead-log entries for `height`, numbered from
    /// `first` (the caller counts them), in one write, synced
    /// if `sync` (RocksDB's log is sequential: a synced write makes every earlier
    /// one durable too).
    pub(crate) fn wal_append(
        &self,
        height: u64,
        first: u64,
        entries: &[WalEntry],
        sync: bool,
    ) -> Result<(), NodeError> {
        if entries.is_empty() {
            return Ok(());
        }
        let cf = self.cf(CF_CONSENSUS)?;
        let mut batch = WriteBatch::default();
        for (seq, entry) in (first..).zip(entries) {
            batch.put_cf(cf, wal_key(height, seq), to_bytes(entry));
        }
        let mut options = WriteOptions::default();
        options.set_sync(sync);
        self.inner.db.write_opt(batch, &options)?;
        Ok(())
    }

    /// The write-ahead log of `height`, in order.
    pub(crate) fn wal_load(&self, height: u64) -> Result<Vec<WalEntry>, NodeError> {
        let cf = self.cf(CF_CONSENSUS)?;
        let prefix = wal_key(height, 0);
        let prefix = &prefix[..WAL_PREFIX.len() + 8];
        let mut out = Vec::new();
        for item in self.inner.db.prefix_iterator_cf(cf, prefix) {
            let (key, value) = item?;
            if !key.starts_with(prefix) {
                break;
            }
            out.push(
                WalEntry::try_from_slice(&value).map_err(|_| NodeError::Corrupt("wal entry"))?,
            );
        }
        Ok(out)
    }

    /// Drops the write-ahead log and the kept proposals of heights below `height`.
    pub(crate) fn wal_prune(&self, height: u64) -> Result<(), NodeError> {
        let cf = self.cf(CF_CONSENSUS)?;
        self.inner
            .db
            .delete_range_cf(cf, wal_key(0, 0), wal_key(height, 0))?;
        self.inner.db.delete_range_cf(
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
    pub(crate) fn keep_proposal(&self, height: u64, msg: &BlockMsg) -> Result<(), NodeError> {
        let cf = self.cf(CF_CONSENSUS)?;
        self.inner
            .db
            .put_cf(cf, block_key(height, &msg.header.hash()), to_bytes(msg))?;
        Ok(())
    }

    /// The proposals kept for `height`.
    pub(crate) fn kept_proposals(&self, height: u64) -> Result<Vec<BlockMsg>, NodeError> {
        let cf = self.cf(CF_CONSENSUS)?;
        let mut prefix = BLOCK_PREFIX.to_vec();
        prefix.extend_from_slice(&height.to_be_bytes());
        let mut out = Vec::new();
        for item in self.inner.db.prefix_iterator_cf(cf, &prefix) {
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            out.push(
                BlockMsg::try_from_slice(&value)
                    .map_err(|_| NodeError::Corrupt("kept proposal"))?,
            );
        }
        Ok(out)
    }

    /// Stores evidence that a validator signed two conflicting votes.
    pub(crate) fn store_evidence(&self, a: &WireVote, b: &WireVote) -> Result<(), NodeError> {
        let cf = self.cf(CF_CONSENSUS)?;
        let mut key = EVIDENCE_PREFIX.to_vec();
        key.extend_from_slice(&a.height.to_be_bytes());
        key.extend_from_slice(&a.validator.0);
        key.extend_from_slice(&a.round.to_be_bytes());
        key.push(a.kind as u8);
        self.inner.db.put_cf(cf, key, to_bytes(&(a, b)))?;
        metrics::counter!("ghostd_consensus_equivocations_total").increment(1);
        Ok(())
    }

    /// Stored equivocation evidence: pairs of conflicting votes by one validator.
    pub fn evidence(&self) -> Result<Vec<(WireVote, WireVote)>, NodeError> {
        let cf = self.cf(CF_CONSENSUS)?;
        let mut out = Vec::new();
        for item in self.inner.db.prefix_iterator_cf(cf, EVIDENCE_PREFIX) {
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
