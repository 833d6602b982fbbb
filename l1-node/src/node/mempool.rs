//! The mempool: admission (chain, signature, the lanes' nonce window, a dry run),
//! durable queueing, and picking the candidates of the next block.

use super::*;

/// Why a transaction was not taken into the mempool.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Not a valid encoding.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// Signed for another chain.
    #[error("transaction is for chain {got:#x}, this chain is {expected:#x}")]
    WrongChain {
        /// This chain.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// Nonce already used.
    #[error("nonce {got} too low: next nonce of {from} is {expected}")]
    NonceTooLow {
        /// Sender.
        from: PublicKey,
        /// Next nonce.
        expected: Nonce,
        /// Given.
        got: Nonce,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error("nonce {got} is more than {max} ahead of the next nonce {expected}")]
    NonceGap {
        /// Next nonce.
        expected: Nonce,
        /// Given.
        got: Nonce,
        /// Largest allowed gap.
        max: u64,
    },
    /// The sender already has a transaction with this nonce waiting.
    #[error("a transaction with nonce {0} from this sender is already pending")]
    NoncePending(Nonce),
    /// Already included.
    #[error("transaction {0} is already included")]
    AlreadyIncluded(Hash32),
    /// The mempool is full.
    #[error("mempool is full ({0} transactions); retry later")]
    MempoolFull(usize),
    /// The call would fail against the current state.
    #[error("{0}")]
    Refused(#[from] modules::CallError),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(String),
}

impl SubmitError {
    /// Stable JSON-RPC error code, from the project-wide table ([`codes`]).
    pub fn code(&self) -> i32 {
        match self {
            SubmitError::Malformed(_) => codes::MALFORMED,
            SubmitError::WrongChain { .. } => codes::WRONG_CHAIN,
            SubmitError::BadSignature => codes::BAD_SIGNATURE,
            SubmitError::NonceTooLow { .. } => codes::NONCE_TOO_LOW,
            SubmitError::NoncePending(_) => codes::NONCE_PENDING,
            SubmitError::NonceGap { .. } => codes::NONCE_GAP,
            SubmitError::AlreadyIncluded(_) => codes::ALREADY_KNOWN,
            SubmitError::MempoolFull(_) => codes::POOL_FULL,
            SubmitError::Refused(_) => codes::CALL_REFUSED,
            SubmitError::Storage(_) => codes::INTERNAL,
        }
    }
}

/// A waiting transaction: arrival sequence (its `pending` key), hash, transaction.
pub(super) type Pending = (u64, Hash32, SignedL1Transaction);

pub(super) struct Mempool {
    pub(super) queue: VecDeque<Pending>,
    pub(super) hashes: HashSet<Hash32>,
    pub(super) senders: HashSet<(PublicKey, Nonce)>,
    /// Since which L1 block each parked entry (waiting for an earlier nonce) has
    /// waited, by sequence number.
    pub(super) parked_since: HashMap<u64, u64>,
    pub(super) next_seq: u64,
}

impl Ghostd {
    /// Transactions waiting in the mempool.
    pub fn mempool_len(&self) -> usize {
        lock(&self.inner.mempool).queue.len()
    }

    /// Whether `hash` is waiting in the mempool.
    pub fn is_pending(&self, hash: &Hash32) -> bool {
        lock(&self.inner.mempool).hashes.contains(hash)
    }

    /// Decodes and submits an encoded transaction.
    pub fn submit_bytes(&self, bytes: &[u8]) -> Result<Hash32, SubmitError> {
        let tx = SignedL1Transaction::decode(bytes)
            .map_err(|e| SubmitError::Malformed(e.to_string()))?;
        self.submit(tx)
    }

    /// Checks `tx` (chain, signature, nonce, and a dry run against the current state
    /// when its nonce is next) and queues it for the next block.
    pub fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, SubmitError> {
        let expected = self.inner.genesis.chain_id;
        if tx.tx.chain_id != expected {
            return Err(SubmitError::WrongChain {
                expected,
                got: tx.tx.chain_id,
            });
        }
        let encoded_len = tx.encode().len();
        if encoded_len > L1_TX_BYTES_MAX {
            return Err(SubmitError::Malformed(format!(
                "{encoded_len} bytes is over the {L1_TX_BYTES_MAX}-byte limit"
            )));
        }
        tx.verify().map_err(|_| SubmitError::BadSignature)?;
        let hash = tx.hash();
        if self
            .receipt(&hash)
            .map_err(|e| SubmitError::Storage(e.to_string()))?
            .is_some()
        {
            return Err(SubmitError::AlreadyIncluded(hash));
        }
        let next = self
            .nonce(&tx.tx.from)
            .map_err(|e| SubmitError::Storage(e.to_string()))?;
        // The lanes' window rule; it bounds what one sender can park in the mempool
        // (at most NONCE_GAP_MAX + 1).
        let verdict =
            lanes::window(next, tx.tx.nonce, NONCE_GAP_MAX).map_err(|refusal| match refusal {
                Refusal::NonceGap { expected, max } => SubmitError::NonceGap {
                    expected,
                    got: tx.tx.nonce,
                    max,
                },
                _ => SubmitError::NonceTooLow {
                    from: tx.tx.from,
                    expected: next,
                    got: tx.tx.nonce,
                },
            })?;
        if verdict == Verdict::Next {
            // Dry run: refuse now what the block would refuse.
            let committed = Committed::new(&self.inner.db);
            let mut layer = Layer::new(&committed);
            let ctx = CallContext {
                rollup: &self.inner.genesis.rollup,
                backend: self.inner.backend.as_ref(),
                block: self.head().number + 1,
                tx_hash: hash,
                from: tx.tx.from,
            };
            modules::apply(&mut layer, &ctx, &tx.tx.call)?;
        }
        let mut pool = lock(&self.inner.mempool);
        if pool.hashes.contains(&hash) {
            return Ok(hash);
        }
        if pool.senders.contains(&(tx.tx.from, tx.tx.nonce)) {
            return Err(SubmitError::NoncePending(tx.tx.nonce));
        }
        let operator = self.inner.genesis.rollup.operators.contains(&tx.tx.from);
        let room = if operator {
            self.inner.config.mempool_max
        } else {
            self.inner
                .config
                .mempool_max
                .saturating_sub(MEMPOOL_OPERATOR_RESERVED)
        };
        if pool.queue.len() >= room {
            return Err(SubmitError::MempoolFull(pool.queue.len()));
        }
        // Durable before acknowledged.
        let seq = pool.next_seq;
        let pending = self
            .inner
            .db
            .cf_handle(CF_PENDING)
            .ok_or_else(|| SubmitError::Storage("pending column is missing".into()))?;
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.inner
            .db
            .put_cf_opt(pending, seq.to_be_bytes(), tx.encode(), &options)
            .map_err(|e| SubmitError::Storage(e.to_string()))?;
        pool.next_seq += 1;
        pool.hashes.insert(hash);
        pool.senders.insert((tx.tx.from, tx.tx.nonce));
        pool.queue.push_back((seq, hash, tx));
        Ok(hash)
    }

    /// Takes from the mempool, in arrival order, the transactions that can run now
    /// (nonce = the sender's next, counting earlier picks) up to `block_txs_max`, and
    /// the stale ones (nonce already used) so the block clears them. Transactions
    /// waiting for an earlier nonce stay where they are and never take a block's
    /// room from executable ones.
    pub(super) fn pick_candidates(&self) -> Result<Vec<Pending>, NodeError> {
        let mut pool = lock(&self.inner.mempool);
        let committed = Committed::new(&self.inner.db);
        let mut expected: HashMap<PublicKey, Nonce> = HashMap::new();
        let mut take = Vec::with_capacity(pool.queue.len());
        let mut runnable = 0;
        for (_, _, tx) in &pool.queue {
            let from = tx.tx.from;
            let next = match expected.get(&from) {
                Some(next) => *next,
                None => state::get(&committed, &nonce_key(&from))?.unwrap_or(0),
            };
            let pick = if tx.tx.nonce < next {
                true
            } else if tx.tx.nonce == next && runnable < self.inner.config.block_txs_max {
                runnable += 1;
                expected.insert(from, next + 1);
                true
            } else {
                expected.insert(from, next);
                false
            };
            // Waiting for an earlier nonce (not merely for room in this block).
            take.push((pick, tx.tx.nonce > next));
        }
        let head = self.head().number;
        let mut candidates = Vec::new();
        let mut rest = VecDeque::with_capacity(pool.queue.len());
        let mut expired = Vec::new();
        let queue = std::mem::take(&mut pool.queue);
        for (entry, (pick, parked)) in queue.into_iter().zip(take) {
            if pick {
                candidates.push(entry);
                continue;
            }
            if !parked {
                pool.parked_since.remove(&entry.0);
                rest.push_back(entry);
                continue;
            }
            let since = *pool.parked_since.entry(entry.0).or_insert(head);
            if head.saturating_sub(since) > PARKED_BLOCKS_MAX {
                expired.push(entry);
            } else {
                rest.push_back(entry);
            }
        }
        pool.queue = rest;
        for (seq, hash, tx) in &expired {
            pool.parked_since.remove(seq);
            pool.hashes.remove(hash);
            pool.senders.remove(&(tx.tx.from, tx.tx.nonce));
        }
        drop(pool);
        if !expired.is_empty() {
            // Mempool policy, not chain state: an expired entry that survives a crash
            // is parked again after the restart and expires again.
            let pending = self
                .inner
                .db
                .cf_handle(CF_PENDING)
                .ok_or(NodeError::Corrupt("pending"))?;
            let mut batch = WriteBatch::default();
            for (seq, hash, _) in &expired {
                tracing::info!(tx = %hash, "L1 transaction dropped: waited more than {PARKED_BLOCKS_MAX} blocks for an earlier nonce");
                batch.delete_cf(pending, seq.to_be_bytes());
            }
            self.inner.db.write(batch)?;
        }
        Ok(candidates)
    }
}
