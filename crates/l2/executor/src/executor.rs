//! The [`Executor`]: opens the store, writes genesis, executes a block (the
//! scheduler, `crate::scheduler`, plans and runs its items) and assembles the block output:
//! receipts, drops, fees, sorted writes and the execution digest.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ghostplane_primitives::{
    AccountId, Amount, BlockNumber, Codec, GenesisAccount, Hash32, L2BlockHeader, L2Genesis,
    PubdataOp, Receipt, TokenId,
};
use rayon::prelude::*;

use crate::block::{BlockInput, BlockItem, BlockOutput, DroppedTx};
use crate::error::ExecError;
use crate::fees::Prices;
use crate::rules::{Env, ItemOutcome};
use crate::scheduler::{self, Executed};
use crate::state::{AccountRecord, StateKey, StateReader, StateValue, StateWrite};
use crate::store::{self, QueuesNext, Snapshot, StateStore};
use crate::view::Overlay;
use crate::wasm::{self, WasmRuntime};

/// Most items one block may hold.
pub const BLOCK_ITEMS_MAX: usize = 65_536;

/// Default of [`ExecutorConfig::parallel_items_min`].
pub const PARALLEL_ITEMS_MIN_DEFAULT: usize = 64;

pub use ghostplane_primitives::trace::BATCH_FUEL_MAX_DEFAULT;

/// Executor settings.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Threads for speculative execution (1 = no parallelism).
    pub threads: usize,
    /// The genesis's prices: fuel, the least fee (each transaction takes a proof
    /// slot; lower offers are dropped) and pubdata (see [`crate::fees`]).
    pub prices: Prices,
    /// Most fuel a block's contract code may be given, all its transactions
    /// together (the rollup genesis's fuel per batch, so that every block fits a
    /// batch the L1 takes); a contract transaction past it is dropped.
    pub block_fuel_max: u64,
    /// Bound on the state cache, in bytes (table and values).
    pub cache_bytes_max: usize,
    /// Blocks with fewer items run sequentially: below this, spreading the work
    /// costs more than it saves.
    pub parallel_items_min: usize,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(2, usize::from),
            prices: Prices::default(),
            block_fuel_max: BATCH_FUEL_MAX_DEFAULT,
            cache_bytes_max: store::CACHE_BYTES_MAX_DEFAULT,
            parallel_items_min: PARALLEL_ITEMS_MIN_DEFAULT,
        }
    }
}

/// The folder of an executor's store that holds compiled contract artifacts
/// ([`WasmRuntime::with_artifacts`]).
pub const ARTIFACTS_DIR: &str = "compiled-artifacts";

/// Executes blocks against a [`StateStore`].
pub struct Executor {
    store: StateStore,
    runtime: WasmRuntime,
    pool: rayon::ThreadPool,
    config: ExecutorConfig,
}

/// Native stack for executor threads: room for the wasm stack bound plus host frames.
/// Every contract runs on one of these threads (see [`Executor::execute`]), never on
/// the caller's, whose stack may be smaller.
const THREAD_STACK_BYTES: usize = wasm::WASM_STACK_BYTES_MAX + wasm::HOST_STACK_BYTES;

impl Executor {
    /// Opens the store in `path` (its compiled contract artifacts in
    /// `path/`[`ARTIFACTS_DIR`]) and starts the thread pool.
    pub fn open(path: &Path, config: ExecutorConfig) -> Result<Self, ExecError> {
        let store = StateStore::open(path, config.cache_bytes_max)?;
        let pool = thread_pool(config.threads)?;
        Ok(Self {
            store,
            runtime: WasmRuntime::with_artifacts(&path.join(ARTIFACTS_DIR))?,
            pool,
            config,
        })
    }

    /// What the compiled-artifact store did since the executor opened.
    pub fn artifact_stats(&self) -> Option<wasm::ArtifactStats> {
        self.runtime.artifact_stats()
    }

    /// Replaces the thread pool with one of `threads` threads.
    pub fn set_threads(&mut self, threads: usize) -> Result<(), ExecError> {
        self.pool = thread_pool(threads)?;
        self.config.threads = threads;
        Ok(())
    }

    /// How full the compiled-module cache is (bounded in bytes; never affects results).
    pub fn module_cache_usage(&self) -> wasm::ModuleCacheUsage {
        self.runtime.module_cache_usage()
    }

    /// The state store.
    pub fn store(&self) -> &StateStore {
        &self.store
    }

    /// A read view of committed state.
    pub fn snapshot(&self) -> Snapshot {
        self.store.snapshot()
    }

    /// Writes block 0: one account per genesis entry (ids from 0, in order) with
    /// its balances. Account 0 is the conventional fee account.
    pub fn genesis(
        &mut self,
        genesis: impl Into<L2Genesis>,
        timestamp_ms: u64,
    ) -> Result<L2BlockHeader, ExecError> {
        if self.store.last_header().is_some() {
            return Err(ExecError::GenesisExists);
        }
        let genesis = genesis.into();
        let accounts = genesis.accounts();
        let mut overlay = Overlay::default();
        for (i, GenesisAccount { key, balances }) in accounts.iter().enumerate() {
            let id = u32::try_from(i)
                .ok()
                .and_then(|i| AccountId::new(i).ok())
                .ok_or_else(|| ExecError::BadGenesis("more accounts than ids".into()))?;
            if overlay
                .insert(StateKey::KeyIndex(*key), Some(StateValue::AccountId(id)))
                .is_some()
            {
                return Err(ExecError::BadGenesis(format!("key {key} listed twice")));
            }
            overlay.insert(
                StateKey::Account(id),
                Some(StateValue::Account(AccountRecord::user(*key))),
            );
            for token in TokenId::ALL {
                let amount = balances[usize::from(token.id())];
                if amount > 0 {
                    overlay.insert(
                        StateKey::Balance(id, token),
                        Some(StateValue::Balance(amount)),
                    );
                }
            }
        }
        let next = u32::try_from(accounts.len()).unwrap_or(u32::MAX);
        overlay.insert(StateKey::NextAccountId, Some(StateValue::Counter(next)));
        let writes = sorted(overlay);
        let header = L2BlockHeader {
            number: BlockNumber(0),
            parent_hash: Hash32([0; 32]),
            timestamp_ms,
            fee_account: AccountId::new(0).unwrap_or(AccountId::MAX),
            tx_count: 0,
            transactions_hash: Hash32(*blake3::hash(&[]).as_bytes()),
            execution_digest: digest(&Hash32([0; 32]), BlockNumber(0), &writes, &[]),
        };
        self.store
            .commit(&header, &writes, &[], &[], &[], QueuesNext::default())?;
        Ok(header)
    }

    /// Executes `block` with the configured threads. Does not change the store.
    pub fn execute(&self, block: &BlockInput) -> Result<BlockOutput, ExecError> {
        self.run(block, true)
    }

    /// Executes `block` one item at a time: the reference the parallel path must equal.
    pub fn execute_sequential(&self, block: &BlockInput) -> Result<BlockOutput, ExecError> {
        self.run(block, false)
    }

    /// Makes `output` durable and visible: one atomic write.
    pub fn commit(&mut self, output: &BlockOutput) -> Result<(), ExecError> {
        let pubdata = output.pubdata()?;
        let queues = QueuesNext {
            deposits: output.ops.iter().rev().find_map(|op| match op {
                PubdataOp::Deposit { queue_index, .. } => Some(queue_index + 1),
                _ => None,
            }),
            forced: output.ops.iter().rev().find_map(|op| match op {
                PubdataOp::ForcedWithdraw { queue_index, .. } => Some(queue_index + 1),
                _ => None,
            }),
        };
        self.store.commit(
            &output.header,
            &output.writes,
            &output.receipts,
            &output.bodies,
            &pubdata,
            queues,
        )?;
        Ok(())
    }

    fn run(&self, block: &BlockInput, parallel: bool) -> Result<BlockOutput, ExecError> {
        // All of it on a pool thread, the in-order phase and sequential execution too:
        // contracts need the native stack those threads are sized for.
        self.pool.install(|| self.run_on_pool(block, parallel))
    }

    fn run_on_pool(&self, block: &BlockInput, parallel: bool) -> Result<BlockOutput, ExecError> {
        let parent = self.store.last_header().ok_or(ExecError::NoGenesis)?;
        if block.number.0 != parent.number.0 + 1 {
            return Err(ExecError::OutOfOrder {
                got: block.number.0,
                last: parent.number.0,
            });
        }
        if block.items.len() > BLOCK_ITEMS_MAX {
            return Err(ExecError::BlockTooLarge {
                got: block.items.len(),
                max: BLOCK_ITEMS_MAX,
            });
        }
        let snapshot = self.store.snapshot();
        if snapshot.account(block.fee_account)?.is_none() {
            return Err(ExecError::UnknownFeeAccount(block.fee_account));
        }
        let base: Arc<dyn StateReader> = Arc::new(snapshot);
        let env = Env {
            runtime: &self.runtime,
            block: block.number,
            timestamp_ms: block.timestamp_ms,
            prices: self.config.prices,
            block_fuel_max: self.config.block_fuel_max,
        };

        let plan_started = Instant::now();
        let plan = if parallel {
            scheduler::schedule(
                &block.items,
                self.config.threads,
                self.config.parallel_items_min,
            )
        } else {
            None
        };
        let plan_time = plan_started.elapsed();
        let Executed {
            overlay,
            outcomes,
            speculated,
            hits,
            conflicts,
            speculate_time,
            ordered_time,
        } = scheduler::execute(&env, &base, &block.items, plan.as_deref())?;
        let finish_started = Instant::now();
        let output = self.finish(block, parent, &base, outcomes, overlay);
        let done = Instant::now();
        let mode = if plan.is_some() {
            "parallel"
        } else {
            "sequential"
        };
        metrics::counter!("ghostplane_executor_blocks_total", "mode" => mode).increment(1);
        metrics::counter!("ghostplane_executor_speculated_total").increment(speculated);
        metrics::counter!("ghostplane_executor_speculative_hits_total").increment(hits);
        metrics::counter!("ghostplane_executor_conflicts_total").increment(conflicts);
        metrics::counter!("ghostplane_executor_reexecuted_total")
            .increment(block.items.len() as u64 - hits);
        for (phase, time) in [
            ("plan", plan_time),
            ("speculate", speculate_time),
            ("ordered", ordered_time),
            ("finish", done - finish_started),
        ] {
            metrics::histogram!("ghostplane_executor_phase_seconds", "phase" => phase)
                .record(time.as_secs_f64());
        }
        output
    }

    fn finish(
        &self,
        block: &BlockInput,
        parent: &L2BlockHeader,
        base: &Arc<dyn StateReader>,
        outcomes: Vec<ItemOutcome>,
        mut overlay: Overlay,
    ) -> Result<BlockOutput, ExecError> {
        let mut receipts = Vec::new();
        let mut bodies = Vec::new();
        let mut dropped = Vec::new();
        let mut ops = Vec::new();
        let mut fees_collected: Amount = 0;
        let mut transactions = blake3::Hasher::new();
        for (index, (item, outcome)) in block.items.iter().zip(outcomes).enumerate() {
            let hash = item.hash();
            // BLOCK_ITEMS_MAX keeps the index within u32.
            let index = index as u32;
            match outcome.result {
                Ok(included) => {
                    transactions.update(&hash.0);
                    if let BlockItem::Transaction { tx, .. } = item {
                        bodies.push((hash, tx.encode()));
                    }
                    fees_collected = fees_collected
                        .checked_add(included.fee_paid)
                        .ok_or(ExecError::FeeOverflow)?;
                    ops.extend(included.op);
                    ops.extend(included.trace);
                    ops.extend(included.moves);
                    receipts.push(Receipt {
                        tx_hash: hash,
                        block: block.number,
                        index,
                        status: included.status,
                        gas_used: included.gas_used,
                        fee_paid: included.fee_paid,
                        events: included.events,
                        return_data: included.return_data,
                    });
                }
                Err(reason) => dropped.push(DroppedTx {
                    index,
                    hash,
                    reason,
                }),
            }
        }
        if fees_collected > 0 {
            let key = StateKey::Balance(block.fee_account, TokenId::Gcc);
            let current = match overlay.get(&key) {
                Some(value) => value.clone(),
                None => base.get(&key)?,
            };
            let current = match current {
                Some(StateValue::Balance(amount)) => amount,
                _ => 0,
            };
            let total = current
                .checked_add(fees_collected)
                .ok_or(ExecError::FeeOverflow)?;
            overlay.insert(key, Some(StateValue::Balance(total)));
        }
        let writes = sorted(overlay);
        let storage_diff = writes
            .iter()
            .filter_map(|(key, value)| match key {
                StateKey::Storage(contract, slot) => {
                    let value = match value {
                        Some(StateValue::Bytes(bytes)) => Some(bytes.to_vec()),
                        _ => None,
                    };
                    Some((*contract, *slot, value))
                }
                _ => None,
            })
            .collect();
        let header = L2BlockHeader {
            number: block.number,
            parent_hash: parent.hash(),
            timestamp_ms: block.timestamp_ms,
            fee_account: block.fee_account,
            tx_count: receipts.len() as u32,
            transactions_hash: Hash32(*transactions.finalize().as_bytes()),
            execution_digest: digest(&parent.execution_digest, block.number, &writes, &receipts),
        };
        Ok(BlockOutput {
            header,
            receipts,
            bodies,
            dropped,
            ops,
            storage_diff,
            writes,
            fees_collected,
        })
    }
}

/// A thread's transaction holds at most `wasm::INSTANCES_PER_THREAD` pooled
/// instances (its call and the sub-calls nested in it), so the instance pool bounds
/// the thread count (`wasm::EXECUTOR_THREADS_MAX`).
pub(crate) fn thread_pool(threads: usize) -> Result<rayon::ThreadPool, ExecError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.clamp(1, wasm::EXECUTOR_THREADS_MAX))
        .stack_size(THREAD_STACK_BYTES)
        .thread_name(|i| format!("executor-{i}"))
        .build()
        .map_err(|e| ExecError::ThreadPool(e.to_string()))
}

/// The overlay's writes in key order. Keys are unique, so the parallel sort gives
/// the one order a sequential sort would (it runs on the executor's pool).
fn sorted(overlay: Overlay) -> Vec<StateWrite> {
    let mut writes: Vec<StateWrite> = overlay.into_iter().collect();
    writes.par_sort_unstable_by_key(|write| write.0);
    writes
}

/// Writes and receipts per encoding task of the digest.
const DIGEST_CHUNK: usize = 2048;

/// blake3 over the parent digest, the block number, every write (column, key,
/// value or tombstone) and every receipt: two nodes that executed the same blocks
/// agree on it.
fn digest(
    parent: &Hash32,
    number: BlockNumber,
    writes: &[StateWrite],
    receipts: &[Receipt],
) -> Hash32 {
    let mut hasher = blake3::Hasher::new_derive_key("ghostplane execution digest v1");
    hasher.update(&parent.0);
    hasher.update(&number.0.to_le_bytes());
    // The bytes hashed are encoded in parallel, chunk by chunk, and fed to one
    // hasher in order: the same stream (and digest) as encoding one at a time.
    hasher.update(&(writes.len() as u64).to_le_bytes());
    let chunks: Vec<Vec<u8>> = writes
        .par_chunks(DIGEST_CHUNK)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * 64);
            for (key, value) in chunk {
                let key_bytes = key.encode();
                out.extend_from_slice(key.column().as_bytes());
                out.extend_from_slice(&(key_bytes.len() as u32).to_le_bytes());
                out.extend_from_slice(&key_bytes);
                match value {
                    Some(value) => {
                        let value_bytes = value.encode();
                        out.push(1);
                        out.extend_from_slice(&(value_bytes.len() as u32).to_le_bytes());
                        out.extend_from_slice(&value_bytes);
                    }
                    None => out.push(0),
                }
            }
            out
        })
        .collect();
    for chunk in &chunks {
        hasher.update(chunk);
    }
    hasher.update(&(receipts.len() as u64).to_le_bytes());
    let chunks: Vec<Vec<u8>> = receipts
        .par_chunks(DIGEST_CHUNK)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * 96);
            let mut bytes = Vec::with_capacity(128);
            for receipt in chunk {
                bytes.clear();
                receipt.encode_into(&mut bytes);
                out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                out.extend_from_slice(&bytes);
            }
            out
        })
        .collect();
    for chunk in &chunks {
        hasher.update(chunk);
    }
    Hash32(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest as first written: every write and receipt encoded and hashed one
    /// at a time. The chunked, parallel encoding must hash the same bytes.
    fn digest_one_by_one(
        parent: &Hash32,
        number: BlockNumber,
        writes: &[StateWrite],
        receipts: &[Receipt],
    ) -> Hash32 {
        let mut hasher = blake3::Hasher::new_derive_key("ghostplane execution digest v1");
        hasher.update(&parent.0);
        hasher.update(&number.0.to_le_bytes());
        hasher.update(&(writes.len() as u64).to_le_bytes());
        for (key, value) in writes {
            let key_bytes = key.encode();
            hasher.update(key.column().as_bytes());
            hasher.update(&(key_bytes.len() as u32).to_le_bytes());
            hasher.update(&key_bytes);
            match value {
                Some(value) => {
                    let value_bytes = value.encode();
                    hasher.update(&[1]);
                    hasher.update(&(value_bytes.len() as u32).to_le_bytes());
                    hasher.update(&value_bytes);
                }
                None => {
                    hasher.update(&[0]);
                }
            }
        }
        hasher.update(&(receipts.len() as u64).to_le_bytes());
        for receipt in receipts {
            let bytes = receipt.encode();
            hasher.update(&(bytes.len() as u32).to_le_bytes());
            hasher.update(&bytes);
        }
        Hash32(*hasher.finalize().as_bytes())
    }

    #[test]
    fn chunked_digest_hashes_the_same_bytes() {
        let id = |i: u32| AccountId::new(i).unwrap_or(AccountId::MAX);
        let writes: Vec<StateWrite> = (0..5000u32)
            .map(|i| match i % 3 {
                0 => (
                    StateKey::Balance(id(i), TokenId::Gcc),
                    Some(StateValue::Balance(u128::from(i))),
                ),
                1 => (
                    StateKey::Storage(
                        ghostplane_primitives::ContractAddress([i as u8; 32]),
                        [7; 32],
                    ),
                    Some(StateValue::Bytes(vec![i as u8; (i % 50) as usize].into())),
                ),
                _ => (StateKey::Account(id(i)), None),
            })
            .collect();
        let receipts: Vec<Receipt> = (0..DIGEST_CHUNK as u32 + 3)
            .map(|i| Receipt {
                tx_hash: Hash32([i as u8; 32]),
                block: BlockNumber(9),
                index: i,
                status: ghostplane_primitives::ReceiptStatus::Success,
                gas_used: u64::from(i),
                fee_paid: 1,
                events: Vec::new(),
                return_data: vec![1, 2, 3],
            })
            .collect();
        let parent = Hash32([5; 32]);
        let pool = thread_pool(2).unwrap_or_else(|e| panic!("{e}"));
        let chunked = pool.install(|| digest(&parent, BlockNumber(9), &writes, &receipts));
        assert_eq!(
            chunked,
            digest_one_by_one(&parent, BlockNumber(9), &writes, &receipts)
        );
        assert_ne!(
            chunked,
            digest_one_by_one(&parent, BlockNumber(9), &writes[1..], &receipts)
        );
    }
}
