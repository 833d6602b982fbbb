//! Block building and commit: applying candidates through state layers (what a
//! BFT proposer will propose) and the one synced write that commits the block
//! (what a decided value will commit).

use super::*;

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
                metrics::gauge!("ghostd_mempool_transactions")
                    .set(lock(&self.inner.mempool).len() as f64);
                *self.inner.head.write().unwrap_or_else(|p| p.into_inner()) = header.clone();
                let _ = self.inner.blocks.send(header.clone());
                Ok(header)
            }
            Err(e) => {
                // Nothing was written: the transactions wait for the next attempt.
                lock(&self.inner.mempool).requeue(candidates);
                Err(e)
            }
        }
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
        let committed = Committed::new(&self.inner.db);
        let mut block_layer = Layer::new(&committed);
        // Pending transfers whose timeout ends here expire before any transaction.
        let expired =
            ledger::begin_block(&mut block_layer, number).map_err(|e| NodeError::Invariant {
                block: number,
                reason: e.to_string(),
            })?;
        if expired > 0 {
            metrics::counter!("ghostd_ledger_expired_total").increment(u64::from(expired));
        }
        // Never before the parent (a clock stepping back must not reorder versions).
        let time_ms = self.inner.config.clock.unix_ms().max(parent.timestamp_ms);
        let mut included = Vec::new();
        let mut receipts = Vec::new();
        let mut finished = HashSet::new();
        let mut obsolete = HashSet::new();
        for (seq, hash, tx) in candidates {
            let hash = *hash;
            let nonce_key = nonce_key(&tx.tx.from);
            let next: Nonce = state::get(&block_layer, &nonce_key)?.unwrap_or(0);
            if tx.tx.nonce > next {
                continue;
            }
            finished.insert(*seq);
            if tx.tx.nonce < next {
                obsolete.insert(*seq);
                continue;
            }
            let ctx = CallContext {
                rollup: &self.inner.genesis.rollup,
                naming: &self.inner.genesis.naming,
                backend: self.inner.backend.as_ref(),
                chain_id: self.inner.genesis.chain_id,
                block: number,
                time_ms,
                tx_hash: hash,
                from: tx.tx.from,
            };
            let mut tx_layer = Layer::new(&block_layer);
            let result = modules::apply(&mut tx_layer, &ctx, &tx.tx.call);
            let tx_writes = tx_layer.into_writes();
            let (outcome, deposit_index) = match result {
                Ok(index) => {
                    block_layer.absorb(tx_writes);
                    (L1Outcome::Success, index)
                }
                Err(e) => {
                    tracing::info!(tx = %hash, "L1 transaction refused: {e}");
                    (L1Outcome::Failed(e.to_string()), None)
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
        if let Err(e) = ledger::check_totals(&block_layer) {
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
        let mut tx_hashes = blake3::Hasher::new();
        for receipt in &receipts {
            tx_hashes.update(&receipt.tx_hash.0);
        }
        let header = L1Header {
            number,
            parent_hash: parent.hash(),
            timestamp_ms: time_ms,
            transactions_hash: Hash32(*tx_hashes.finalize().as_bytes()),
            state_digest: Hash32(*digest.finalize().as_bytes()),
            tx_count: included.len() as u32,
        };
        let mut batch = WriteBatch::default();
        Self::stage(
            &self.inner.db,
            &mut batch,
            &writes,
            &header,
            &included,
            &receipts,
        )?;
        let pending = self
            .inner
            .db
            .cf_handle(CF_PENDING)
            .ok_or(NodeError::Corrupt("pending"))?;
        for seq in &finished {
            batch.delete_cf(pending, seq.to_be_bytes());
        }
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.inner.db.write_opt(batch, &options)?;
        Ok((header, finished, obsolete))
    }
}
