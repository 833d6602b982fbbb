//! [`Ghostd`]: the node's API, composed of its parts (see the [`super`] docs).
//! Every method is here; each delegates to the part that does the work, and the
//! ones that span parts (sealing, committing a decided block) hold the order of
//! locks and writes in one place.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ghostd_types::Genesis;
use ghostd_types::consensus::{BftParams, Commit, ConsensusMode, ConsensusStatus, verify_commit};
use ghostplane_primitives::{Codec, Hash32, Nonce, PublicKey};
use tokio::sync::broadcast;

use super::bft::{self, StatusCell};
use super::block::{BlockBuilder, Mode, Prepared};
use super::mempool::{self, Gossip, Mempool};
use super::store::ChainStore;
use super::{
    BLOCK_TXS_MAX, GhostdConfig, NodeError, PARKED_MS_MAX, Pending, Producer, StoredBlock,
    SubmitError, lock,
};
use crate::consensus::wire::{BlockMsg, WalEntry, WireVote};
use crate::module::{Chain, ChainView, Modules};
use crate::modules;
use crate::state::{Read, StateError};
use crate::types::{L1Header, L1Receipt, SignedL1Transaction};

/// A running L1 node (cheap to clone).
#[derive(Clone)]
pub struct Ghostd {
    inner: Arc<Inner>,
}

/// The node's parts. Locks: `seal`, then `mempool` (see the [`super`] docs).
struct Inner {
    config: GhostdConfig,
    genesis: Genesis,
    /// RocksDB and the head.
    store: ChainStore,
    /// The waiting transactions (their durable copy is in `store`).
    mempool: Mutex<Mempool>,
    /// Executes blocks through the module registry.
    builder: BlockBuilder,
    /// Held while a block is built and committed: one at a time.
    seal: Mutex<()>,
    /// New heads, as they are committed.
    blocks: broadcast::Sender<L1Header>,
    /// Where admitted transactions go for the other validators (BFT).
    gossip: OnceLock<Gossip>,
    /// What the consensus thread last published (BFT).
    consensus: StatusCell,
}

impl Ghostd {
    /// Opens the node's store, writing `genesis` if the store is new. An existing
    /// store keeps its own genesis (a different one given here is an error).
    /// Waiting transactions of the `pending` column go back into the mempool.
    pub fn open(config: GhostdConfig, genesis: &Genesis) -> Result<Self, NodeError> {
        if let ConsensusMode::Bft(params) = &genesis.consensus {
            params.validate().map_err(NodeError::Genesis)?;
        }
        let modules = modules::all(genesis, &config.data_dir).map_err(NodeError::Genesis)?;
        let store = ChainStore::open(&config.data_dir.join("l1"), genesis, &modules)?;
        let mut mempool = Mempool::new(
            config.mempool_max,
            config.block_txs_max.min(BLOCK_TXS_MAX),
            genesis.rollup.operators.clone(),
            config.clock.clone(),
        );
        store.restore_pending(|seq, tx| {
            let next = store.nonce(&tx.tx.from)?;
            let hash = tx.hash();
            Ok(mempool.restore((seq, hash, tx), next).is_some())
        })?;
        let builder = BlockBuilder::new(genesis.chain_id, modules, config.clock.clone());
        let (blocks, _) = broadcast::channel(256);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                genesis: genesis.clone(),
                store,
                mempool: Mutex::new(mempool),
                builder,
                seal: Mutex::new(()),
                blocks,
                gossip: OnceLock::new(),
                consensus: StatusCell::default(),
            }),
        })
    }

    // ---- Chain queries ----------------------------------------------------

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
        self.inner.store.head()
    }

    /// New block headers as they are sealed.
    pub fn subscribe(&self) -> broadcast::Receiver<L1Header> {
        self.inner.blocks.subscribe()
    }

    /// The modules this node runs, in hook order.
    pub fn modules(&self) -> &Modules {
        self.inner.builder.modules()
    }

    /// The read-only view of this node that modules serve RPC over.
    pub fn chain_view(&self) -> ChainView {
        ChainView::new(Arc::new(self.clone()))
    }

    /// Runs `f` against the committed state.
    pub fn read<T>(&self, f: impl FnOnce(&dyn Read) -> T) -> T {
        f(&self.inner.store.committed())
    }

    /// The next nonce of `address` (committed state).
    pub fn nonce(&self, address: &PublicKey) -> Result<Nonce, StateError> {
        self.inner.store.nonce(address)
    }

    /// The receipt of an included transaction.
    pub fn receipt(&self, hash: &Hash32) -> Result<Option<L1Receipt>, NodeError> {
        self.inner.store.receipt(hash)
    }

    /// A stored block.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>, NodeError> {
        self.inner.store.block(number)
    }

    // ---- Mempool ----------------------------------------------------------

    /// Transactions waiting in the mempool.
    pub fn mempool_len(&self) -> usize {
        lock(&self.inner.mempool).len()
    }

    /// Whether `hash` is waiting in the mempool.
    pub fn is_pending(&self, hash: &Hash32) -> bool {
        lock(&self.inner.mempool).contains(hash)
    }

    /// Decodes and submits an encoded transaction.
    pub fn submit_bytes(&self, bytes: &[u8]) -> Result<Hash32, SubmitError> {
        let tx = SignedL1Transaction::decode(bytes)
            .map_err(|e| SubmitError::Malformed(e.to_string()))?;
        self.submit(tx)
    }

    /// Checks `tx` (chain, signature, nonce, and a dry run against the current state
    /// when its nonce is next) and queues it for the next block, durably.
    pub fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, SubmitError> {
        self.submit_batch(vec![tx])
            .pop()
            .unwrap_or_else(|| Err(SubmitError::Storage("empty submission".into())))
    }

    /// Submits up to [`SEND_BATCH_MAX`](ghostd_types::api::SEND_BATCH_MAX)
    /// transactions: each is checked as by [`Ghostd::submit`] (signatures in
    /// parallel), and the accepted ones reach the pending column in one synced
    /// write before any is acknowledged. One result per transaction, in order.
    pub fn submit_batch(&self, txs: Vec<SignedL1Transaction>) -> Vec<Result<Hash32, SubmitError>> {
        self.submit_inner(txs, true)
    }

    /// As [`Ghostd::submit_batch`], for transactions a peer gossiped: they are not
    /// gossiped on.
    pub fn submit_batch_from_peer(
        &self,
        txs: Vec<SignedL1Transaction>,
    ) -> Vec<Result<Hash32, SubmitError>> {
        self.submit_inner(txs, false)
    }

    /// Where admitted transactions go for the network's other nodes (BFT).
    pub fn set_gossip(&self, hook: Box<dyn Fn(Vec<SignedL1Transaction>) + Send + Sync>) {
        let _ = self.inner.gossip.set(hook);
    }

    fn submit_inner(
        &self,
        txs: Vec<SignedL1Transaction>,
        gossip: bool,
    ) -> Vec<Result<Hash32, SubmitError>> {
        let inner = &*self.inner;
        let hook = if gossip { inner.gossip.get() } else { None };
        mempool::submit(&inner.store, &inner.builder, &inner.mempool, txs, hook)
    }

    // ---- Blocks -----------------------------------------------------------

    /// Seals one block from the mempool (possibly empty) and commits it.
    pub fn seal(&self) -> Result<L1Header, NodeError> {
        let _sealing = lock(&self.inner.seal);
        let parent = self.head();
        let candidates = self.pick_candidates()?;
        let started = Instant::now();
        let built = self
            .build(&parent, &candidates)
            .and_then(|prepared| prepared.commit(&self.inner.store, None).map(|()| prepared));
        match built {
            Ok(Prepared {
                header,
                finished,
                obsolete,
                ..
            }) => {
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

    /// Starts the single-validator block producer: one block every `block_time_ms`.
    pub fn start_producer(&self) -> Producer {
        let interval = Duration::from_millis(self.inner.config.block_time_ms.max(1));
        Producer::start(self.clone(), interval)
    }

    /// Takes the candidates of the next block from the mempool, after dropping
    /// parked transactions that waited more than [`PARKED_MS_MAX`] ms for an
    /// earlier nonce.
    fn pick_candidates(&self) -> Result<Vec<Pending>, NodeError> {
        let (candidates, expired) = lock(&self.inner.mempool).candidates();
        if !expired.is_empty() {
            for (_, hash, _) in &expired {
                tracing::info!(tx = %hash, "L1 transaction dropped: waited more than {PARKED_MS_MAX} ms for an earlier nonce");
            }
            // Mempool policy, not chain state: an expired entry that survives a crash
            // is parked again after the restart and expires again.
            self.inner
                .store
                .delete_pending(expired.iter().map(|entry| entry.0))?;
        }
        Ok(candidates)
    }

    /// Builds our block on `parent` from `candidates` (timestamped now, never
    /// before the parent), without writing it.
    fn build(&self, parent: &L1Header, candidates: &[Pending]) -> Result<Prepared, NodeError> {
        let inner = &*self.inner;
        let unchecked = |hash: &Hash32| lock(&inner.mempool).is_unchecked(hash);
        let time_ms = inner.builder.time_ms(parent);
        inner.builder.execute(
            &inner.store,
            &unchecked,
            parent,
            candidates,
            time_ms,
            Mode::Build,
        )
    }

    /// After a block is written: settles the candidates this node took for it in
    /// the mempool (included or obsolete ones leave; the rest wait), makes it the
    /// head and announces it.
    fn after_commit(
        &self,
        header: &L1Header,
        candidates: Vec<Pending>,
        finished: &HashSet<u64>,
        obsolete: &HashSet<u64>,
    ) {
        metrics::histogram!("ghostd_block_transactions").record(f64::from(header.tx_count));
        metrics::counter!("ghostd_blocks_total").increment(1);
        metrics::gauge!("ghostd_head").set(header.number as f64);
        let store = &self.inner.store;
        let stale = lock(&self.inner.mempool).settle(candidates, finished, obsolete, |from| {
            store.nonce(from).ok()
        });
        if !stale.is_empty()
            && let Err(e) = store.delete_pending(stale.iter().map(|entry| entry.0))
        {
            // Harmless: they are refused as obsolete when reloaded.
            tracing::warn!("could not delete obsolete mempool entries: {e}");
        }
        metrics::gauge!("ghostd_mempool_transactions").set(lock(&self.inner.mempool).len() as f64);
        store.set_head(header);
        let _ = self.inner.blocks.send(header.clone());
    }

    // ---- BFT --------------------------------------------------------------

    /// The BFT parameters, if this chain runs BFT.
    pub fn bft(&self) -> Option<&BftParams> {
        match &self.inner.genesis.consensus {
            ConsensusMode::Bft(params) => Some(params),
            ConsensusMode::Solo => None,
        }
    }

    /// What the consensus thread last published (BFT), or the solo view.
    pub fn consensus_status(&self) -> ConsensusStatus {
        match self.inner.consensus.get() {
            Some(status) => (*status).clone(),
            None => ConsensusStatus {
                mode: if self.bft().is_some() { "bft" } else { "solo" }.into(),
                height: self.head().number,
                ..Default::default()
            },
        }
    }

    /// Called by the consensus thread after each event.
    pub(crate) fn set_consensus_status(&self, status: Arc<ConsensusStatus>) {
        self.inner.consensus.set(status);
    }

    /// The commit certificate stored with block `height` (BFT chains).
    pub fn commit_certificate(&self, height: u64) -> Result<Option<Commit>, NodeError> {
        self.inner.store.commit_certificate(height)
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
        self.build(&self.head(), candidates)
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
        bft::check_block(
            &self.inner.store,
            &self.inner.builder,
            header,
            transactions,
            live,
        )
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
        if let Err(e) = prepared.commit(&self.inner.store, Some(commit)) {
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
        bft::wal_append(&self.inner.store, height, first, entries, sync)
    }

    /// The write-ahead log of `height`, in order.
    pub(crate) fn wal_load(&self, height: u64) -> Result<Vec<WalEntry>, NodeError> {
        bft::wal_load(&self.inner.store, height)
    }

    /// Drops the write-ahead log and the kept proposals of heights below `height`.
    pub(crate) fn wal_prune(&self, height: u64) -> Result<(), NodeError> {
        bft::wal_prune(&self.inner.store, height)
    }

    /// Keeps a block proposed at `height` (ours or a peer's) until the height is
    /// decided (see [`bft::keep_proposal`]).
    pub(crate) fn keep_proposal(&self, height: u64, msg: &BlockMsg) -> Result<(), NodeError> {
        bft::keep_proposal(&self.inner.store, height, msg)
    }

    /// The proposals kept for `height`.
    pub(crate) fn kept_proposals(&self, height: u64) -> Result<Vec<BlockMsg>, NodeError> {
        bft::kept_proposals(&self.inner.store, height)
    }

    /// Stores evidence that a validator signed two conflicting votes.
    pub(crate) fn store_evidence(&self, a: &WireVote, b: &WireVote) -> Result<(), NodeError> {
        bft::store_evidence(&self.inner.store, a, b)
    }

    /// Stored equivocation evidence: pairs of conflicting votes by one validator.
    pub fn evidence(&self) -> Result<Vec<(WireVote, WireVote)>, NodeError> {
        bft::evidence(&self.inner.store)
    }
}

impl Chain for Ghostd {
    fn head_number(&self) -> u64 {
        self.head().number
    }

    fn now_ms(&self) -> u64 {
        self.inner.config.clock.unix_ms()
    }

    fn committed(&self) -> Box<dyn Read + '_> {
        Box::new(self.inner.store.committed())
    }
}
