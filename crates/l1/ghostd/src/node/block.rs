//! Block building and commit: applying candidates through state layers (what a
//! BFT proposer will propose) and the one synced write that commits the block
//! (what a decided value will commit).

use std::collections::HashSet;

use ghostd_types::consensus::Commit;
use ghostplane_primitives::{Codec, Hash32, Nonce};
use rocksdb::{WriteBatch, WriteOptions};

use super::mempool::Settled;
use super::{BLOCK_BYTES_MAX, CF_COMMITS, CF_PENDING, Ghostd, NodeError, Pending, lock, nonce_key};
use crate::module::{BlockContext, CallContext, ModuleError};
use crate::state::{self, Committed, Layer};
use crate::types::{L1Header, L1Outcome, L1Receipt, SignedL1Transaction};

impl Ghostd {
    /// Seals one block from the mempool (possibly empty) and commits it.
    pub fn seal(&self) -> Result<L1Header, NodeError> {
        let _sealing = lock(&self.inner.seal);
        let parent = self.head();
        let number = parent.number + 1;
        let candidates = self.pick_candidates()?;
        let started = std::time::Instant::now();
        match self.build_and_commit(number, &parent, &candidates) {
            Ok((header, finished, obsolete)) => {
                metrics::histogram!("ghostd_block_seal_seconds")
                    .record(started.elapsed().as_secs_f64());
                self.after_commit(&header, candidates, &finished, &obsolete);
                Ok(header)
            }
            Err(e) => {
                // Nothing was written: the transactions wait for the next attempt.
                lock(&self.inner.mempool).requeue(candidates);
                Err(e)
            }
        }
    }

    /// After a block is written: settles the candidates this node took for it in
    /// the mempool (included or obsolete ones leave; the rest wait), makes it the
    /// head and announces it.
    pub(crate) fn after_commit(
        &self,
        header: &L1Header,
        candidates: Vec<Pending>,
        finished: &HashSet<u64>,
        obsolete: &HashSet<u64>,
    ) {
        metrics::histogram!("ghostd_block_transactions").record(f64::from(header.tx_count));
        metrics::counter!("ghostd_blocks_total").increment(1);
        metrics::gauge!("ghostd_head").set(header.number as f64);
        let settled = candidates
            .into_iter()
            .map(|entry| {
                let settled = if obsolete.contains(&entry.0) {
                    Settled::Obsolete
                } else if finished.contains(&entry.0) {
                    Settled::Included
                } else {
                    Settled::NotRun
                };
                (entry, settled)
            })
            .collect();
        let committed = Committed::new(&self.inner.db);
        let stale = lock(&self.inner.mempool).settle(settled, |from| {
            state::get::<Nonce>(&committed, &nonce_key(from))
                .ok()
                .map(Option::unwrap_or_default)
        });
        if !stale.is_empty()
            && let Err(e) = self.forget_pending(&stale)
        {
            // Harmless: they are refused as obsolete when reloaded.
            tracing::warn!("could not delete obsolete mempool entries: {e}");
        }
        metrics::gauge!("ghostd_mempool_transactions").set(lock(&self.inner.mempool).len() as f64);
        *self.inner.head.write().unwrap_or_else(|p| p.into_inner()) = header.clone();
        let _ = self.inner.blocks.send(header.clone());
    }

    /// Applies `candidates` on top of `parent` and commits block `number`; returns
    /// its header, the sequence numbers of the transactions it settled (included, or
    /// obsolete because their nonce was used) and, among those, the obsolete ones.
    fn build_and_commit(
        &self,
        number: u64,
        parent: &L1Header,
        candidates: &[Pending],
    ) -> Result<(L1Header, HashSet<u64>, HashSet<u64>), NodeError> {
        // Never before the parent (a clock stepping back must not reorder versions).
        let time_ms = self.inner.config.clock.unix_ms().max(parent.timestamp_ms);
        let prepared = self.execute(number, parent, candidates, time_ms, Mode::Build)?;
        self.commit_prepared(&prepared, None)?;
        Ok((prepared.header, prepared.finished, prepared.obsolete))
    }

    /// Builds block `number` on `parent` from `candidates` without writing it: the
    /// state writes, header, receipts and what it settled. In [`Mode::Build`] a
    /// candidate whose nonce is not the sender's next is left out (ahead: it waits;
    /// behind: obsolete); in [`Mode::Replay`] (a block someone else built) such a
    /// candidate makes the block invalid.
    pub(crate) fn execute(
        &self,
        number: u64,
        parent: &L1Header,
        candidates: &[Pending],
        time_ms: u64,
        mode: Mode,
    ) -> Result<Prepared, NodeError> {
        let committed = Committed::new(&self.inner.db);
        let mut block_layer = Layer::new(&committed);
        let block = BlockContext {
            chain_id: self.inner.genesis.chain_id,
            number,
            time_ms,
        };
        // The modules' block-start hooks run before any transaction (the ledger
        // expires pending transfers whose timeout ends here).
        self.inner
            .modules
            .begin_block(&mut block_layer, &block)
            .map_err(|e| NodeError::Invariant {
                block: number,
                reason: e.to_string(),
            })?;
        let mut included = Vec::new();
        let mut receipts = Vec::new();
        let mut finished = HashSet::new();
        let mut obsolete = HashSet::new();
        let mut bytes = 0usize;
        for (seq, hash, tx) in candidates {
            let hash = *hash;
            // A block must fit one peer frame (BFT); a solo block keeps the same
            // bound. What does not fit waits for the next block.
            // (A replayed block's size was checked with its signatures.)
            let len = match mode {
                Mode::Build => tx.encode().len(),
                Mode::Replay => 0,
            };
            if bytes + len > BLOCK_BYTES_MAX {
                continue;
            }
            let nonce_key = nonce_key(&tx.tx.from);
            let next: Nonce = state::get(&block_layer, &nonce_key)?.unwrap_or(0);
            if tx.tx.nonce != next && mode == Mode::Replay {
                return Err(NodeError::InvalidBlock(format!(
                    "transaction {hash} has nonce {} where its sender's next is {next}",
                    tx.tx.nonce
                )));
            }
            if tx.tx.nonce > next {
                continue;
            }
            finished.insert(*seq);
            if tx.tx.nonce < next {
                obsolete.insert(*seq);
                continue;
            }
            bytes += len;
            let ctx = CallContext {
                block,
                tx_hash: hash,
                from: tx.tx.from,
            };
            let mut tx_layer = Layer::new(&block_layer);
            let result = self.inner.modules.apply(&mut tx_layer, &ctx, &tx.tx.call);
            let tx_writes = tx_layer.into_writes();
            let (outcome, deposit_index) = match result {
                Ok(applied) => {
                    block_layer.absorb(tx_writes);
                    (L1Outcome::Success, applied.deposit_index)
                }
                // A storage failure is this node's, not the transaction's: abort
                // the block (nothing is written; the candidates wait) rather than
                // commit a receipt and a state digest no other node has.
                Err(ModuleError::Storage(storage)) => {
                    tracing::error!(tx = %hash, block = number, "storage failed while executing an L1 transaction; block aborted: {storage}");
                    return Err(NodeError::State(storage));
                }
                // The dry run a parked transaction skipped at admission: one whose
                // call fails is dropped, not included (its nonce stays unused; the
                // mempool drops it as obsolete).
                Err(ModuleError::Refused(refusal))
                    if mode == Mode::Build && lock(&self.inner.mempool).is_unchecked(&hash) =>
                {
                    tracing::info!(tx = %hash, "parked L1 transaction dropped at release: its dry run failed: {refusal}");
                    metrics::counter!("ghostd_mempool_dropped_at_release_total").increment(1);
                    bytes -= len;
                    obsolete.insert(*seq);
                    continue;
                }
                Err(ModuleError::Refused(refusal)) => {
                    tracing::info!(tx = %hash, module = %refusal.module(), code = refusal.code(), "L1 transaction refused: {refusal}");
                    (
                        L1Outcome::Failed {
                            module: refusal.module(),
                            code: refusal.code(),
                            message: refusal.message().to_string(),
                        },
                        None,
                    )
                }
            };
            block_layer.put(nonce_key, &(next + 1));
            receipts.push(L1Receipt {
                tx_hash: hash,
                block: number,
                index: included.len() as u32,
                outcome,
                deposit_index,
            });
            included.push(tx.clone());
        }
        // The modules' block-end hooks: their invariants (the ledger's totals).
        if let Err(e) = self.inner.modules.end_block(&block_layer, &block) {
            return Err(NodeError::Invariant {
                block: number,
                reason: e.to_string(),
            });
        }
        let writes = block_layer.into_writes();
        let mut digest = blake3::Hasher::new();
        digest.update(&parent.state_digest.0);
        for (key, value) in &writes {
            digest.update(&(key.len() as u64).to_le_bytes());
            digest.update(key);
            match value {
                Some(value) => {
                    digest.update(&[1]);
                    digest.update(&(value.len() as u64).to_le_bytes());
                    digest.update(value);
                }
                None => {
                    digest.update(&[0]);
                }
            }
        }
        let header = L1Header {
            number,
            parent_hash: parent.hash(),
            timestamp_ms: time_ms,
            transactions_hash: L1Header::transactions_hash(receipts.iter().map(|r| &r.tx_hash)),
            state_digest: Hash32(*digest.finalize().as_bytes()),
            tx_count: included.len() as u32,
        };
        Ok(Prepared {
            header,
            included,
            receipts,
            writes,
            finished,
            obsolete,
        })
    }

    /// Commits a prepared block (with its commit certificate on a BFT chain) in one
    /// synced write, deletes the mempool entries it settled from the pending
    /// column, and makes it the head. The caller holds no mempool lock.
    pub(crate) fn commit_prepared(
        &self,
        prepared: &Prepared,
        commit: Option<&Commit>,
    ) -> Result<(), NodeError> {
        let mut batch = WriteBatch::default();
        Self::stage(
            &self.inner.db,
            &mut batch,
            &prepared.writes,
            &prepared.header,
            &prepared.included,
            &prepared.receipts,
        )?;
        let pending = self
            .inner
            .db
            .cf_handle(CF_PENDING)
            .ok_or(NodeError::Corrupt("pending"))?;
        for seq in &prepared.finished {
            batch.delete_cf(pending, seq.to_be_bytes());
        }
        if let Some(commit) = commit {
            let commits = self
                .inner
                .db
                .cf_handle(CF_COMMITS)
                .ok_or(NodeError::Corrupt("commits"))?;
            batch.put_cf(commits, commit.height.to_be_bytes(), commit.encode());
        }
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.inner.db.write_opt(batch, &options)?;
        Ok(())
    }
}

/// How [`Ghostd::execute`] treats a candidate whose nonce is not the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Building our own block: leave it out.
    Build,
    /// Replaying a block someone else built: the block is invalid.
    Replay,
}

/// A block executed but not yet written.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// Its header.
    pub header: L1Header,
    /// Included transactions, in order.
    pub included: Vec<SignedL1Transaction>,
    /// Their receipts.
    pub receipts: Vec<L1Receipt>,
    /// State writes.
    pub writes: state::Writes,
    /// Mempool sequence numbers it settled (included or obsolete).
    pub finished: HashSet<u64>,
    /// Among those, the obsolete ones.
    pub obsolete: HashSet<u64>,
}
