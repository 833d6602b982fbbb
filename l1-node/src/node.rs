//! The chain: genesis, mempool, block sealing and storage.
//!
//! One RocksDB holds blocks (by height), receipts (by transaction hash), module
//! state and the head. Sealing a block applies its transactions through state layers
//! and writes everything in one synced `WriteBatch`; a crash leaves the previous
//! block as the head. The mempool is bounded and durable: a transaction is written
//! (synced) to the `pending` column before `submit` returns its hash, removed in the
//! same write as the block that includes (or obsoletes) it, and reloaded on open.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::clock::{self, SharedClock};
use ghostplane_primitives::codec::to_bytes;
use ghostplane_primitives::lanes::{self, Refusal, Verdict};
use ghostplane_primitives::{Codec, Hash32, Nonce, PublicKey};
use ghostplane_prover::ProofBackend;
use rocksdb::{ColumnFamilyDescriptor, DB, Options, WriteBatch, WriteOptions};
use tokio::sync::broadcast;

use crate::modules::{self, CallContext, ledger, rollup};
use crate::state::{self, CF_STATE, Committed, Layer, Read, StateError};
use ghostd_types::Genesis;
use ghostplane_rpc::codes;

use crate::types::{L1_TX_BYTES_MAX, L1Header, L1Outcome, L1Receipt, SignedL1Transaction};

const CF_BLOCKS: &str = "blocks";
const CF_RECEIPTS: &str = "receipts";
const CF_META: &str = "meta";
const CF_PENDING: &str = "pending";

/// How far ahead of its next nonce a sender may queue transactions.
pub const NONCE_GAP_MAX: u64 = lanes::GAP_MAX_DEFAULT;
/// L1 blocks a transaction may wait for an earlier nonce before it is dropped from
/// the mempool (L1 transactions pay no fee, so parked ones must not hold room
/// forever).
pub const PARKED_BLOCKS_MAX: u64 = 120;
/// Mempool room only rollup operators may take: commits and proofs must get in
/// even when others fill the pool.
pub const MEMPOOL_OPERATOR_RESERVED: usize = 64;
const META_HEAD: &[u8] = b"head";
const META_GENESIS: &[u8] = b"genesis";

/// Node settings.
#[derive(Debug, Clone)]
pub struct GhostdConfig {
    /// Where the RocksDB lives.
    pub data_dir: PathBuf,
    /// JSON-RPC (HTTP + WebSocket) address.
    pub rpc_addr: std::net::SocketAddr,
    /// Block interval (the devnet's single validator seals on this clock).
    pub block_time_ms: u64,
    /// Most transactions waiting in the mempool.
    pub mempool_max: usize,
    /// Most transactions per block.
    pub block_txs_max: usize,
    /// Largest JSON-RPC request or response body.
    pub rpc_body_bytes_max: u32,
    /// Time: block timestamps (tests pass a manual clock).
    pub clock: SharedClock,
}

impl GhostdConfig {
    /// Defaults with data in `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            rpc_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 8545)),
            block_time_ms: 500,
            mempool_max: 10_000,
            block_txs_max: 1_000,
            rpc_body_bytes_max: 16 * 1024 * 1024,
            clock: clock::system(),
        }
    }
}

/// Why the node could not open or seal.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// RocksDB failed.
    #[error("storage: {0}")]
    Db(#[from] rocksdb::Error),
    /// State failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Stored data is corrupt.
    #[error("stored {0} is corrupt")]
    Corrupt(&'static str),
    /// The genesis is invalid.
    #[error("genesis: {0}")]
    Genesis(String),
    /// A block broke a ledger invariant (a bug): it was not committed.
    #[error("block {block} refused: {reason}")]
    Invariant {
        /// Height.
        block: u64,
        /// What broke.
        reason: String,
    },
    /// The RPC server failed to start.
    #[error("JSON-RPC server: {0}")]
    Rpc(String),
}

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
type Pending = (u64, Hash32, SignedL1Transaction);

struct Mempool {
    queue: VecDeque<Pending>,
    hashes: HashSet<Hash32>,
    senders: HashSet<(PublicKey, Nonce)>,
    /// Since which L1 block each parked entry (waiting for an earlier nonce) has
    /// waited, by sequence number.
    parked_since: HashMap<u64, u64>,
    next_seq: u64,
}

struct Inner {
    db: DB,
    config: GhostdConfig,
    genesis: Genesis,
    backend: Arc<dyn ProofBackend>,
    head: RwLock<L1Header>,
    mempool: Mutex<Mempool>,
    seal: Mutex<()>,
    blocks: broadcast::Sender<L1Header>,
}

/// A running L1 node (cheap to clone).
#[derive(Clone)]
pub struct Ghostd {
    inner: Arc<Inner>,
}

fn nonce_key(address: &PublicKey) -> Vec<u8> {
    state::key("account", &[b"nonce", &address.0])
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ghostd {
    /// Opens the node's store, writing `genesis` if the store is new. An existing
    /// store keeps its own genesis (a different one given here is an error).
    pub fn open(config: GhostdConfig, genesis: &Genesis) -> Result<Self, NodeError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        let columns = [CF_STATE, CF_BLOCKS, CF_RECEIPTS, CF_META, CF_PENDING]
            .into_iter()
            .map(|name| ColumnFamilyDescriptor::new(name, Options::default()));
        let db = DB::open_cf_descriptors(&options, config.data_dir.join("l1"), columns)?;
        let meta = db.cf_handle(CF_META).ok_or(NodeError::Corrupt("meta"))?;
        let head = match db.get_cf(meta, META_HEAD)? {
            Some(bytes) => {
                let stored = db
                    .get_cf(meta, META_GENESIS)?
                    .ok_or(NodeError::Corrupt("genesis"))?;
                if stored != to_bytes(genesis) {
                    return Err(NodeError::Genesis(
                        "the data directory holds a chain with another genesis; use another directory".into(),
                    ));
                }
                L1Header::decode(&bytes).map_err(|_| NodeError::Corrupt("head"))?
            }
            None => Self::write_genesis(&db, genesis)?,
        };
        let proof = &genesis.rollup.proof;
        let backend = proof
            .verifier()
            .map_err(|e| NodeError::Genesis(format!("{} verifier: {e}", proof.system)))?;
        let mut mempool = Mempool {
            queue: VecDeque::new(),
            hashes: HashSet::new(),
            senders: HashSet::new(),
            parked_since: HashMap::new(),
            next_seq: 0,
        };
        let pending = db
            .cf_handle(CF_PENDING)
            .ok_or(NodeError::Corrupt("pending"))?;
        for item in db.iterator_cf(pending, rocksdb::IteratorMode::Start) {
            let (key, value) = item?;
            let seq = <[u8; 8]>::try_from(&key[..])
                .map(u64::from_be_bytes)
                .map_err(|_| NodeError::Corrupt("pending key"))?;
            let tx = SignedL1Transaction::decode(&value)
                .map_err(|_| NodeError::Corrupt("pending transaction"))?;
            let hash = tx.hash();
            mempool.hashes.insert(hash);
            mempool.senders.insert((tx.tx.from, tx.tx.nonce));
            mempool.queue.push_back((seq, hash, tx));
            mempool.next_seq = seq + 1;
        }
        let (blocks, _) = broadcast::channel(256);
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                config,
                genesis: genesis.clone(),
                backend,
                head: RwLock::new(head),
                mempool: Mutex::new(mempool),
                seal: Mutex::new(()),
                blocks,
            }),
        })
    }

    fn write_genesis(db: &DB, genesis: &Genesis) -> Result<L1Header, NodeError> {
        let committed = Committed::new(db);
        let mut layer = Layer::new(&committed);
        for (i, (to, token, amount)) in genesis.allocations.iter().enumerate() {
            ledger::post(
                &mut layer,
                &ledger::LedgerTransfer {
                    id: ledger::system_transfer_id(&[b"genesis", &(i as u64).to_be_bytes()]),
                    debit: ledger::issuer(),
                    credit: *to,
                    token: *token,
                    amount: *amount,
                    code: ledger::TransferCode::Genesis,
                    block: 0,
                },
            )
            .map_err(|e| NodeError::Genesis(format!("allocation {i}: {e}")))?;
        }
        rollup::apply_genesis(&mut layer, &genesis.rollup)
            .map_err(|e| NodeError::Genesis(e.to_string()))?;
        let header = L1Header {
            number: 0,
            parent_hash: Hash32([0; 32]),
            timestamp_ms: genesis.timestamp_ms,
            transactions_hash: Hash32([0; 32]),
            state_digest: genesis.hash(),
            tx_count: 0,
        };
        let writes = layer.into_writes();
        let mut batch = WriteBatch::default();
        Self::stage(db, &mut batch, &writes, &header, &[], &[])?;
        batch.put_cf(
            db.cf_handle(CF_META).ok_or(NodeError::Corrupt("meta"))?,
            META_GENESIS,
            to_bytes(genesis),
        );
        let mut options = WriteOptions::default();
        options.set_sync(true);
        db.write_opt(batch, &options)?;
        Ok(header)
    }

    fn stage(
        db: &DB,
        batch: &mut WriteBatch,
        writes: &state::Writes,
        header: &L1Header,
        txs: &[SignedL1Transaction],
        receipts: &[L1Receipt],
    ) -> Result<(), NodeError> {
        let cf = |name: &'static str| db.cf_handle(name).ok_or(NodeError::Corrupt(name));
        let state_cf = cf(CF_STATE)?;
        for (key, value) in writes {
            match value {
                Some(value) => batch.put_cf(state_cf, key, value),
                None => batch.delete_cf(state_cf, key),
            }
        }
        let block = StoredBlock {
            header: header.clone(),
            transactions: txs.to_vec(),
        };
        batch.put_cf(
            cf(CF_BLOCKS)?,
            header.number.to_be_bytes(),
            to_bytes(&block),
        );
        let receipts_cf = cf(CF_RECEIPTS)?;
        for receipt in receipts {
            batch.put_cf(receipts_cf, receipt.tx_hash.0, receipt.encode());
        }
        batch.put_cf(cf(CF_META)?, META_HEAD, header.encode());
        Ok(())
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.inner.genesis
    }

    /// The settings.
    pub fn config(&self) -> &GhostdConfig {
        &self.inner.config
    }

    /// The latest block header.
    pub fn head(&self) -> L1Header {
        self.inner
            .head
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// New block headers as they are sealed.
    pub fn subscribe(&self) -> broadcast::Receiver<L1Header> {
        self.inner.blocks.subscribe()
    }

    /// Runs `f` against the committed state.
    pub fn read<T>(&self, f: impl FnOnce(&dyn Read) -> T) -> T {
        f(&Committed::new(&self.inner.db))
    }

    /// The next nonce of `address` (committed state).
    pub fn nonce(&self, address: &PublicKey) -> Result<Nonce, StateError> {
        Ok(state::get(&Committed::new(&self.inner.db), &nonce_key(address))?.unwrap_or(0))
    }

    /// Transactions waiting in the mempool.
    pub fn mempool_len(&self) -> usize {
        lock(&self.inner.mempool).queue.len()
    }

    /// Whether `hash` is waiting in the mempool.
    pub fn is_pending(&self, hash: &Hash32) -> bool {
        lock(&self.inner.mempool).hashes.contains(hash)
    }

    /// The receipt of an included transaction.
    pub fn receipt(&self, hash: &Hash32) -> Result<Option<L1Receipt>, NodeError> {
        let cf = self
            .inner
            .db
            .cf_handle(CF_RECEIPTS)
            .ok_or(NodeError::Corrupt("receipts"))?;
        match self.inner.db.get_cf(cf, hash.0)? {
            Some(bytes) => Ok(Some(
                L1Receipt::decode(&bytes).map_err(|_| NodeError::Corrupt("receipt"))?,
            )),
            None => Ok(None),
        }
    }

    /// A stored block.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>, NodeError> {
        let cf = self
            .inner
            .db
            .cf_handle(CF_BLOCKS)
            .ok_or(NodeError::Corrupt("blocks"))?;
        match self.inner.db.get_cf(cf, number.to_be_bytes())? {
            Some(bytes) => Ok(Some(
                StoredBlock::try_from_slice(&bytes).map_err(|_| NodeError::Corrupt("block"))?,
            )),
            None => Ok(None),
        }
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

    /// Seals one block from the mempool (possibly empty) and commits it.
    pub fn seal(&self) -> Result<L1Header, NodeError> {
        let _sealing = lock(&self.inner.seal);
        let parent = self.head();
        let number = parent.number + 1;
        let candidates = self.pick_candidates()?;
        match self.build_and_commit(number, &parent, &candidates) {
            Ok((header, finished)) => {
                let mut pool = lock(&self.inner.mempool);
                let mut requeue = Vec::new();
                for (seq, hash, tx) in candidates {
                    if finished.contains(&seq) {
                        pool.parked_since.remove(&seq);
                        pool.hashes.remove(&hash);
                        pool.senders.remove(&(tx.tx.from, tx.tx.nonce));
                    } else {
                        requeue.push((seq, hash, tx));
                    }
                }
                for entry in requeue.into_iter().rev() {
                    pool.queue.push_front(entry);
                }
                drop(pool);
                *self.inner.head.write().unwrap_or_else(|p| p.into_inner()) = header.clone();
                let _ = self.inner.blocks.send(header.clone());
                Ok(header)
            }
            Err(e) => {
                // Nothing was written: the transactions wait for the next attempt.
                let mut pool = lock(&self.inner.mempool);
                for entry in candidates.into_iter().rev() {
                    pool.queue.push_front(entry);
                }
                Err(e)
            }
        }
    }

    /// Takes from the mempool, in arrival order, the transactions that can run now
    /// (nonce = the sender's next, counting earlier picks) up to `block_txs_max`, and
    /// the stale ones (nonce already used) so the block clears them. Transactions
    /// waiting for an earlier nonce stay where they are and never take a block's
    /// room from executable ones.
    fn pick_candidates(&self) -> Result<Vec<Pending>, NodeError> {
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

    /// Applies `candidates` on top of `parent` and commits block `number`; returns
    /// its header and the sequence numbers of the transactions it settled (included,
    /// or obsolete because their nonce was used).
    fn build_and_commit(
        &self,
        number: u64,
        parent: &L1Header,
        candidates: &[Pending],
    ) -> Result<(L1Header, HashSet<u64>), NodeError> {
        let committed = Committed::new(&self.inner.db);
        let mut block_layer = Layer::new(&committed);
        let mut included = Vec::new();
        let mut receipts = Vec::new();
        let mut finished = HashSet::new();
        for (seq, hash, tx) in candidates {
            let hash = *hash;
            let nonce_key = nonce_key(&tx.tx.from);
            let next: Nonce = state::get(&block_layer, &nonce_key)?.unwrap_or(0);
            if tx.tx.nonce > next {
                continue;
            }
            finished.insert(*seq);
            if tx.tx.nonce < next {
                continue;
            }
            let ctx = CallContext {
                rollup: &self.inner.genesis.rollup,
                backend: self.inner.backend.as_ref(),
                block: number,
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
            timestamp_ms: self.inner.config.clock.unix_ms(),
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
        Ok((header, finished))
    }

    /// Starts the single-validator block producer: one block every `block_time_ms`.
    pub fn start_producer(&self) -> Producer {
        let stop = Arc::new(AtomicBool::new(false));
        let node = self.clone();
        let flag = Arc::clone(&stop);
        let interval = Duration::from_millis(self.inner.config.block_time_ms.max(1));
        let thread = std::thread::Builder::new()
            .name("ghostd-producer".into())
            .spawn(move || {
                let mut next = Instant::now() + interval;
                while !flag.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    if now < next {
                        std::thread::sleep((next - now).min(Duration::from_millis(50)));
                        continue;
                    }
                    next += interval;
                    if let Err(e) = node.seal() {
                        tracing::error!("L1 block production stopped: {e}");
                        return;
                    }
                }
            })
            .ok();
        Producer { stop, thread }
    }
}

/// A block as stored.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub struct StoredBlock {
    /// Header.
    pub header: L1Header,
    /// Included transactions, in order.
    pub transactions: Vec<SignedL1Transaction>,
}

/// The running block producer; stops when dropped or [`Producer::stop`]ped.
pub struct Producer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Producer {
    /// Stops after the block being sealed, if any.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.halt();
    }
}
