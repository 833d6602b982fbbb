//! # ghostplane-executor
//!
//! Turns an ordered L2 block into receipts, native ops and a state diff, using every
//! core, with exactly the result of executing the block one item at a time.
//!
//! ## Data flow
//!
//! ```text
//! BlockInput (ordered, signatures already verified by the sequencer)
//!   │
//!   ├─ hints: keys each native tx declares (sender, recipient, balances)
//!   │         a tx whose declared keys an earlier tx writes is not speculated
//!   ├─ phase 1 (rayon, N threads): speculative execution of the rest against the
//!   │         committed snapshot; each records its read set and write set
//!   ├─ phase 2 (one thread, in order): a tx whose reads an earlier tx of the block
//!   │         wrote is re-executed against snapshot + block overlay; its writes
//!   │         join the overlay
//!   ├─ fees: summed as commutative deltas, credited to the fee account after the
//!   │         last item (so the fee account never serializes the block)
//!   ▼
//! BlockOutput: header (chained execution digest), receipts, dropped txs, native ops
//!   │          (PubdataOp), contract storage diff, sorted writes
//!   ▼ Executor::commit
//! StateStore: one RocksDB WriteBatch per block (sync), then the in-memory cache
//! ```
//!
//! ## Rules (what a transaction costs)
//!
//! - **Dropped** (no receipt, no state change, no fee): unknown sender, signer key is
//!   not the sender's key, nonce is not exactly the account nonce, GCC balance below
//!   the (maximum) fee, a stateless check fails, or a transfer to a new key offers
//!   less than `fee_min` plus
//!   [`ACCOUNT_CREATION_FEE`](ghostplane_primitives::ACCOUNT_CREATION_FEE).
//! - **Included and failed**: the nonce is consumed and the fee charged; every other
//!   effect is rolled back; the receipt carries a typed
//!   [`FailureReason`](ghostplane_primitives::FailureReason). For native
//!   ops the fee is the transaction's `fee`; for deploys and calls the transaction's
//!   `fee` is a maximum, the charge is fuel used × `fuel_price`, and the rest is
//!   refunded.
//! - **Transfer** to an account id needs the account to exist; to a new key it
//!   creates the account with the next free id (fails if the key has an account, is
//!   not a valid ed25519 point, or the next id is in the deposit reserve: ids from
//!   [`TRANSFER_ACCOUNT_ID_LIMIT`](ghostplane_primitives::TRANSFER_ACCOUNT_ID_LIMIT)
//!   up are made only by deposits, so a deposit always finds one). **Withdraw** debits the sender and emits the op the
//!   L1 releases on finality. **Deposit** credits (creating the account if needed).
//! - Balances never underflow or overflow: every debit and credit is checked.
//! - **Contracts** run in wasmtime with fuel as gas (see [`wasm`] for the ABI, the
//!   fuel table, the determinism settings and every bound); a revert or trap rolls
//!   back the call's storage writes and events. Bulk memory and table operations pay
//!   per byte or element; every call pays a load charge proportional to its code
//!   length, whether or not this node had the module compiled.
//! - Before compiling, every module is **rewritten** the same way on every node
//!   ([`wasm::instrument`], part of consensus): a counter limits nested calls to
//!   [`wasm::WASM_CALL_DEPTH_MAX`], so recursion traps at the same depth whatever the
//!   host's CPU or native stack; deploy refuses functions with more locals or a
//!   deeper operand stack than the bounds that keep the native stack a backstop.
//!
//! ## Invariants
//!
//! - Parallel execution with any thread count gives the same output as
//!   [`Executor::execute_sequential`] (property-tested with 1, 2 and 4 threads).
//! - Execution does not change the store; only [`Executor::commit`] does, atomically.
//! - No receipt depends on node-local state: the compiled-module cache (an LRU bounded
//!   in bytes) changes how much a node compiles, never a result or a fee.
//! - Contracts run only on executor threads, whose native stack
//!   (`WASM_STACK_BYTES_MAX` + `HOST_STACK_BYTES`) holds the deepest call allowed.
//! - The executor trusts that each transaction's signature was verified for the
//!   chain id (the sequencer batch-verifies at ingest, the L1 re-verifies the
//!   pubdata); it checks that the signer key owns the sending account.

pub mod block;
pub mod rules;
pub mod state;
pub mod store;
mod view;
pub mod wasm;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ahash::AHashSet;
use ghostplane_primitives::{
    AccountId, Amount, BLOCK_PUBDATA_BYTES_MAX, BlockNumber, Codec, GenesisAccount, Hash32,
    L2BlockHeader, L2Genesis, PubdataOp, Receipt, TokenId,
};
use rayon::prelude::*;

pub use block::{BlockInput, BlockItem, BlockOutput, DropReason, DroppedTx};
pub use state::{AccountRecord, StateKey, StateReader, StateValue, StateWrite, StoreError};
pub use store::{Snapshot, StateStore, StoreReader};
pub use wasm::{RuntimeError, WasmRuntime};

use rules::{Env, ItemOutcome, declared_keys, execute_item};
use view::Overlay;

/// Errors that stop a block from being executed or committed. None of them is a
/// transaction's fault: those end in receipts or drops.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The contract runtime failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The store has no genesis block yet.
    #[error("the state store has no genesis: run genesis first")]
    NoGenesis,
    /// Genesis was asked for on a store that already has blocks.
    #[error("the state store already has a genesis block")]
    GenesisExists,
    /// Genesis lists more accounts than the tree holds, or a key twice.
    #[error("invalid genesis: {0}")]
    BadGenesis(String),
    /// The block's fee account does not exist.
    #[error("fee account {0} does not exist")]
    UnknownFeeAccount(AccountId),
    /// The block does not follow the last committed block.
    #[error("block {got} does not follow block {last}")]
    OutOfOrder {
        /// The block offered.
        got: u64,
        /// The last committed block.
        last: u64,
    },
    /// Crediting fees would overflow the fee account (impossible with a bounded supply).
    #[error("fee account balance would overflow")]
    FeeOverflow,
    /// A deposit would overflow a balance (impossible with a bounded supply).
    #[error("deposit {queue_index} would overflow a balance")]
    DepositOverflow {
        /// The deposit.
        queue_index: u64,
    },
    /// A deposit needs a new account and the tree is full. Unreachable while the
    /// L1 enforces the deposit reserve (see `rules::deposit_item`); kept as a block
    /// error because pubdata has no op to hand the deposit back for a refund.
    #[error("deposit {queue_index} needs a new account and all 2^24 ids are taken")]
    AccountsExhausted {
        /// The deposit.
        queue_index: u64,
    },
    /// The block's pubdata cannot be encoded (a value over the format's limits).
    #[error("block pubdata: {0}")]
    Pubdata(#[from] ghostplane_primitives::PubdataError),
    /// The thread pool could not be built.
    #[error("cannot start the executor thread pool: {0}")]
    ThreadPool(String),
    /// The block has more items than allowed.
    #[error("block has {got} items, over the {max} limit")]
    BlockTooLarge {
        /// Items in the block.
        got: usize,
        /// The limit.
        max: usize,
    },
}

/// Most items one block may hold.
pub const BLOCK_ITEMS_MAX: usize = 65_536;

/// Default of [`ExecutorConfig::parallel_items_min`].
pub const PARALLEL_ITEMS_MIN_DEFAULT: usize = 64;

/// Executor settings.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Threads for speculative execution (1 = no parallelism).
    pub threads: usize,
    /// GCC base units charged per unit of fuel.
    pub fuel_price: Amount,
    /// Least fee a transaction must offer (and pays when included), in GCC base
    /// units: each transaction takes a proof slot. Lower offers are dropped.
    pub fee_min: Amount,
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
            fuel_price: 1,
            fee_min: 1,
            cache_bytes_max: store::CACHE_BYTES_MAX_DEFAULT,
            parallel_items_min: PARALLEL_ITEMS_MIN_DEFAULT,
        }
    }
}

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
    /// Opens the store in `path` and starts the thread pool.
    pub fn open(path: &Path, config: ExecutorConfig) -> Result<Self, ExecError> {
        let store = StateStore::open(path, config.cache_bytes_max)?;
        let pool = thread_pool(config.threads)?;
        Ok(Self {
            store,
            runtime: WasmRuntime::new()?,
            pool,
            config,
        })
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
                Some(StateValue::Account(AccountRecord {
                    public_key: *key,
                    nonce: 0,
                })),
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
        self.store.commit(&header, &writes, &[], &[], None)?;
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
        let deposits_next = output.ops.iter().rev().find_map(|op| match op {
            PubdataOp::Deposit { queue_index, .. } => Some(queue_index + 1),
            _ => None,
        });
        self.store.commit(
            &output.header,
            &output.writes,
            &output.receipts,
            &pubdata,
            deposits_next,
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
            fuel_price: self.config.fuel_price,
            fee_min: self.config.fee_min,
        };

        let plan_started = Instant::now();
        let plan = if parallel {
            schedule(
                &block.items,
                self.config.threads,
                self.config.parallel_items_min,
            )
        } else {
            None
        };
        let plan_time = plan_started.elapsed();
        // In-order commit: keep a speculative result only if nothing it read was
        // written by an earlier item of this block; otherwise execute again on top
        // of those writes. Speculation goes window by window, one window ahead: while
        // one thread commits window k in order, the others speculate window k + 1.
        // A window whose results mostly conflict (contention the declared keys did
        // not show, such as contract storage) ends speculation for the rest of the
        // block (the window already speculated is still used).
        let speculate = |range: std::ops::Range<usize>, plan: &[bool]| -> Speculative {
            block.items[range.clone()]
                .par_iter()
                .zip(plan[range].par_iter())
                .map(|(item, go)| {
                    go.then(|| {
                        execute_item(&env, item, Arc::clone(&base), Overlay::default())
                            .map(|(outcome, _)| outcome)
                    })
                })
                .collect()
        };
        let mut ordered = InOrder {
            // Sized for a native transfer's writes per item, so it does not rehash as
            // it grows (a rehash of tens of thousands of entries is on one thread).
            overlay: Overlay::with_capacity(block.items.len() * 4),
            outcomes: Vec::with_capacity(block.items.len()),
            pubdata_bytes: 0,
            hits: 0,
            conflicts: 0,
        };
        let len = block.items.len();
        let window_end = |start: usize| (start + SPECULATION_WINDOW).min(len);
        let speculate_started = Instant::now();
        let mut next: Option<Speculative> = plan
            .as_deref()
            .map(|plan| speculate(0..window_end(0), plan));
        let speculate_time = speculate_started.elapsed();
        let ordered_started = Instant::now();
        let mut speculated = 0u64;
        let mut start = 0;
        while start < len {
            let current = next.take();
            let end = if current.is_some() {
                window_end(start)
            } else {
                len
            };
            let window_speculated = current
                .as_ref()
                .map_or(0, |s| s.iter().filter(|s| s.is_some()).count() as u64);
            let conflicts_before = ordered.conflicts;
            let ahead = plan.as_deref().filter(|_| current.is_some() && end < len);
            let (speculated_next, done) = rayon::join(
                || ahead.map(|plan| speculate(end..window_end(end), plan)),
                || ordered.apply(&env, &base, &block.items[start..end], current),
            );
            done?;
            speculated += window_speculated;
            let contended = (ordered.conflicts - conflicts_before) * 100
                > window_speculated * CONTENTION_PERCENT_MAX as u64;
            next = speculated_next.filter(|_| !contended);
            start = end;
        }
        let ordered_time = ordered_started.elapsed();
        let InOrder {
            overlay,
            outcomes,
            hits,
            conflicts,
            ..
        } = ordered;
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
                    fees_collected = fees_collected
                        .checked_add(included.fee_paid)
                        .ok_or(ExecError::FeeOverflow)?;
                    ops.extend(included.op);
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
            dropped,
            ops,
            storage_diff,
            writes,
            fees_collected,
        })
    }
}

/// Speculative results of one window: `None` for items not speculated.
type Speculative = Vec<Option<Result<ItemOutcome, ExecError>>>;

/// The in-order phase's state: the block overlay and the outcomes so far.
struct InOrder {
    overlay: Overlay,
    outcomes: Vec<ItemOutcome>,
    pubdata_bytes: usize,
    hits: u64,
    conflicts: u64,
}

impl InOrder {
    /// Commits `items` (the next items of the block) in order, reusing each
    /// speculative result that read nothing an earlier item wrote.
    fn apply(
        &mut self,
        env: &Env<'_>,
        base: &Arc<dyn StateReader>,
        items: &[BlockItem],
        mut speculative: Option<Speculative>,
    ) -> Result<(), ExecError> {
        for (i, item) in items.iter().enumerate() {
            let taken = speculative
                .as_mut()
                .and_then(|s| s.get_mut(i))
                .and_then(Option::take);
            let reusable = match taken {
                Some(Ok(outcome))
                    if !outcome
                        .reads
                        .iter()
                        .any(|key| self.overlay.contains_key(key)) =>
                {
                    self.hits += 1;
                    Some(outcome)
                }
                Some(_) => {
                    self.conflicts += 1;
                    None
                }
                None => None,
            };
            let outcome = match reusable {
                Some(outcome) => outcome,
                None => {
                    let overlay = std::mem::take(&mut self.overlay);
                    let (outcome, back) = execute_item(env, item, Arc::clone(base), overlay)?;
                    self.overlay = back;
                    outcome
                }
            };
            // Pubdata budget (in block order, so parallel and sequential agree).
            // Deposits are never dropped: they are small and must go in queue order.
            let needed = pubdata_size(&outcome);
            let left = BLOCK_PUBDATA_BYTES_MAX.saturating_sub(self.pubdata_bytes);
            let outcome = if needed > left && matches!(item, BlockItem::Transaction { .. }) {
                ItemOutcome {
                    result: Err(DropReason::BlockPubdataFull {
                        needed,
                        left,
                        max: BLOCK_PUBDATA_BYTES_MAX,
                    }),
                    reads: outcome.reads,
                    writes: Vec::new(),
                }
            } else {
                self.pubdata_bytes += needed;
                outcome
            };
            for (key, value) in &outcome.writes {
                self.overlay.insert(*key, value.clone());
            }
            self.outcomes.push(outcome);
        }
        Ok(())
    }
}

/// At most one contract instance per thread is alive, so the instance pool bounds
/// the thread count.
/// An upper bound on the pubdata an item adds: its op, plus one storage-write record
/// per storage slot it writes (the block's diff keeps at most one per slot, so this
/// can only over-count).
fn pubdata_size(outcome: &ItemOutcome) -> usize {
    let op = match &outcome.result {
        Ok(included) => included.op.as_ref().map_or(0, PubdataOp::encoded_len),
        Err(_) => 0,
    };
    let storage: usize = outcome
        .writes
        .iter()
        .map(|(key, value)| match (key, value) {
            (StateKey::Storage(..), Some(StateValue::Bytes(bytes))) => {
                ghostplane_primitives::pubdata::STORAGE_WRITE_FIXED_BYTES + bytes.len()
            }
            (StateKey::Storage(..), _) => ghostplane_primitives::pubdata::STORAGE_WRITE_FIXED_BYTES,
            _ => 0,
        })
        .sum();
    op + storage
}

fn thread_pool(threads: usize) -> Result<rayon::ThreadPool, ExecError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.clamp(1, wasm::INSTANCE_POOL_SIZE as usize))
        .stack_size(THREAD_STACK_BYTES)
        .thread_name(|i| format!("executor-{i}"))
        .build()
        .map_err(|e| ExecError::ThreadPool(e.to_string()))
}

/// Blocks with more than this share of items (in percent) whose declared keys an
/// earlier item also declares run sequentially: speculation would mostly be thrown
/// away, and its bookkeeping would make the block slower than one thread.
const CONTENTION_PERCENT_MAX: usize = 50;

/// Items speculated together before their results are checked in order; a window
/// that mostly conflicts stops speculation for the rest of the block.
const SPECULATION_WINDOW: usize = 256;

/// How often (in items) the plan checks the contention share, so a contended block
/// falls back after looking at a few hundred items, not the whole block.
const CONTENTION_CHECK_EVERY: usize = 256;

/// Which items to run speculatively, or `None` to run the block sequentially (one
/// thread, a small block, or high contention). An item is speculated when no earlier
/// item declares any of its keys (one that does would only be re-executed).
fn schedule(items: &[BlockItem], threads: usize, items_min: usize) -> Option<Vec<bool>> {
    if threads < 2 || items.len() < items_min.max(2) {
        return None;
    }
    let mut claimed: AHashSet<StateKey> = AHashSet::with_capacity(items.len() * 4);
    let mut keys = Vec::with_capacity(8);
    let mut plan = Vec::with_capacity(items.len());
    let mut contended = 0usize;
    for (i, item) in items.iter().enumerate() {
        keys.clear();
        declared_keys(item, &mut keys);
        let free = !keys.iter().any(|key| claimed.contains(key));
        contended += usize::from(!free);
        claimed.extend(keys.iter().copied());
        plan.push(free);
        let seen = i + 1;
        if (seen % CONTENTION_CHECK_EVERY == 0 || seen == items.len())
            && contended * 100 > seen * CONTENTION_PERCENT_MAX
        {
            return None;
        }
    }
    Some(plan)
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
    use ghostplane_primitives::{DEVNET_CHAIN_ID, Keypair, Recipient, Transaction};

    use super::*;

    fn transfer(from: u32, to: u32, nonce: u64) -> BlockItem {
        let key = Keypair::from_seed(&[from as u8; 32]);
        let id = |i: u32| AccountId::new(i).unwrap_or(AccountId::MAX);
        BlockItem::transaction(key.sign(
            DEVNET_CHAIN_ID,
            Transaction::Transfer {
                from: id(from),
                to: Recipient::Account(id(to)),
                token: TokenId::Spirit,
                amount: 1,
                fee: 1,
                nonce,
            },
        ))
    }

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

    #[test]
    fn disjoint_transfers_are_all_speculated() {
        let items: Vec<BlockItem> = (0..100).map(|i| transfer(i, 1000 + i, 0)).collect();
        let plan = schedule(&items, 2, 0).unwrap_or_default();
        assert_eq!(plan.len(), 100);
        assert!(plan.iter().all(|go| *go));
    }

    #[test]
    fn contended_blocks_small_blocks_and_one_thread_run_sequentially() {
        // One sender: every item after the first shares its keys.
        let contended: Vec<BlockItem> = (0..300).map(|n| transfer(1, 2, n)).collect();
        assert_eq!(schedule(&contended, 2, 0), None);
        let disjoint: Vec<BlockItem> = (0..10).map(|i| transfer(i, 100 + i, 0)).collect();
        assert_eq!(schedule(&disjoint, 2, 64), None);
        assert_eq!(schedule(&disjoint, 1, 0), None);
        // A few conflicts under the threshold keep the parallel path; the
        // conflicting items are not speculated.
        let mut mixed = disjoint.clone();
        mixed.push(transfer(0, 500, 1));
        let plan = schedule(&mixed, 2, 0).unwrap_or_default();
        assert_eq!(plan.iter().filter(|go| !**go).count(), 1);
    }
}
