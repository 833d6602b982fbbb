//! Block building and commit: [`BlockBuilder`] applies candidates through the
//! module registry in state layers (what a BFT proposer proposes, what every
//! validator re-executes before voting) and [`Prepared::commit`] writes the result
//! in one synced write (what a decided value commits).

use std::collections::HashSet;

use ghostd_types::consensus::Commit;
use ghostplane_primitives::clock::SharedClock;
use ghostplane_primitives::{Codec, Hash32, Nonce};

use super::store::ChainStore;
use super::{BLOCK_BYTES_MAX, NodeError, Pending, nonce_key};
use crate::module::{BlockContext, CallContext, ModuleError, Modules};
use crate::state::{self, Layer};
use crate::types::{L1Header, L1Outcome, L1Receipt, SignedL1Transaction};

/// Executes blocks (and admission dry runs) through the module registry: the
/// chain's one path from transactions to state writes, header and receipts.
pub(super) struct BlockBuilder {
    chain_id: u64,
    modules: Modules,
    /// Block timestamps.
    clock: SharedClock,
}

impl BlockBuilder {
    /// A builder for chain `chain_id` running `modules`, timing blocks by `clock`.
    pub(super) fn new(chain_id: u64, modules: Modules, clock: SharedClock) -> Self {
        Self {
            chain_id,
            modules,
            clock,
        }
    }

    /// The chain id.
    pub(super) fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The local clock, in ms since the Unix epoch.
    pub(super) fn now_ms(&self) -> u64 {
        self.clock.unix_ms()
    }

    /// The timestamp of a block built now on `parent`: never before the parent
    /// (a clock stepping back must not reorder versions).
    pub(super) fn time_ms(&self, parent: &L1Header) -> u64 {
        self.now_ms().max(parent.timestamp_ms)
    }

    /// The module registry blocks run through.
    pub(super) fn modules(&self) -> &Modules {
        &self.modules
    }

    /// Whether the modules let `tx`'s sender send its call (at admission).
    pub(super) fn authorize(&self, tx: &SignedL1Transaction) -> Result<(), ModuleError> {
        self.modules.authorize(&tx.tx.from, &tx.tx.call)
    }

    /// Runs `tx` (hash `hash`) alone in a block on the head, writing nothing: what
    /// the block would refuse, admission refuses now.
    pub(super) fn dry_run(
        &self,
        store: &ChainStore,
        tx: &SignedL1Transaction,
        hash: Hash32,
    ) -> Result<(), ModuleError> {
        let committed = store.committed();
        let mut layer = Layer::new(&committed);
        let block = BlockContext {
            chain_id: self.chain_id,
            number: store.head().number + 1,
            time_ms: self.now_ms(),
        };
        self.modules.begin_block(&mut layer, &block)?;
        let ctx = CallContext {
            block,
            tx_hash: hash,
            from: tx.tx.from,
        };
        self.modules.apply(&mut layer, &ctx, &tx.tx.call)?;
        Ok(())
    }

    /// Builds the block after `parent` from `candidates` without writing it: the
    /// state writes, header, receipts and what it settled. In [`Mode::Build`] a
    /// candidate whose nonce is not the sender's next is left out (ahead: it waits;
    /// behind: obsolete); in [`Mode::Replay`] (a block someone else built) such a
    /// candidate makes the block invalid. `unchecked` says whether a candidate
    /// skipped its admission dry run ([`super::mempool::Mempool::is_unchecked`]):
    /// in [`Mode::Build`] one whose call is refused is dropped, not included.
    pub(super) fn execute(
        &self,
        store: &ChainStore,
        unchecked: &dyn Fn(&Hash32) -> bool,
        parent: &L1Header,
        candidates: &[Pending],
        time_ms: u64,
        mode: Mode,
    ) -> Result<Prepared, NodeError> {
        let number = parent.number + 1;
        let committed = store.committed();
        let mut block_layer = Layer::new(&committed);
        let block = BlockContext {
            chain_id: self.chain_id,
            number,
            time_ms,
        };
        // The modules' block-start hooks run before any transaction (the ledger
        // expires pending transfers whose timeout ends here).
        self.modules
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
            let result = self.modules.apply(&mut tx_layer, &ctx, &tx.tx.call);
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
                Err(ModuleError::Refused(refusal)) if mode == Mode::Build && unchecked(&hash) => {
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
        if let Err(e) = self.modules.end_block(&block_layer, &block) {
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
}

/// How [`BlockBuilder::execute`] treats a candidate whose nonce is not the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
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

impl Prepared {
    /// Commits the block (with its commit certificate on a BFT chain) in one synced
    /// write, deleting the mempool entries it settled from the `pending` column.
    /// The caller holds no mempool lock and moves the head afterwards.
    pub(super) fn commit(
        &self,
        store: &ChainStore,
        commit: Option<&Commit>,
    ) -> Result<(), NodeError> {
        store.write_block(
            &self.writes,
            &self.header,
            &self.included,
            &self.receipts,
            &self.finished,
            commit,
        )
    }
}
