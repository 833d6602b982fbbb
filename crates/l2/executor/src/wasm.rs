//! The contract runtime: wasmtime configured for determinism, the host ABI, the
//! deterministic rewrite of every module, validation and the compiled-module cache.
//!
//! ## Host ABI (imports from module `env`)
//!
//! | import | signature | effect | fuel |
//! | --- | --- | --- | --- |
//! | `storage_read` | `(key_ptr, val_ptr, val_cap: i32) -> i32` | copies up to `val_cap` bytes of the value under the 32-byte key; returns its full length (0 for an empty value), or -1 if the key is absent | 500 + bytes |
//! | `storage_write` | `(key_ptr, val_ptr, val_len: i32)` | sets the value (at most 1 KiB; an empty value is a value, not a deletion) | 2000 + 4 × bytes |
//! | `storage_delete` | `(key_ptr: i32)` | removes the key (a later read returns -1) | 2000 |
//! | `caller` | `() -> i32` | the immediate caller's account id: the sender for the transaction's own call, the calling contract's account in a sub-call | 10 |
//! | `caller_contract` | `(ptr: i32) -> i32` | 1 and the caller's 32-byte address at `ptr` when a contract called; 0 when an account did | 100 |
//! | `self_address` | `(ptr: i32)` | the contract's own 32-byte address | 100 |
//! | `self_account` | `() -> i32` | the contract's own account id | 10 |
//! | `balance` | `(token, out_ptr: i32) -> i32` | writes the contract's balance of `token` (u128, 16 bytes little-endian) at `out_ptr`; 0, or -1 for a token above 3 | 200 |
//! | `transfer` | `(to, token, amount_ptr: i32) -> i32` | moves the amount at `amount_ptr` (u128 LE) of `token` from the contract to account `to` (a user's or a contract's); returns a [`TransferStatus`]; an amount of 0 moves nothing | [`MOVE_FUEL`] |
//! | `call_value` | `(out_ptr: i32) -> i32` | the value that came with this call: writes its amount (u128 LE) at `out_ptr` and returns its token (0 and 0 when none); it is already in the contract's balance | 100 |
//! | `block_number` | `() -> i64` | current L2 block | 10 |
//! | `block_time` | `() -> i64` | block time, ms since the Unix epoch | 10 |
//! | `input_len` | `() -> i32` | length of the call input | 10 |
//! | `input_read` | `(ptr: i32)` | copies the call input to `ptr` | 100 + bytes |
//! | `emit_event` | `(topic_ptr, data_ptr, data_len: i32)` | emits an event with a 32-byte topic | 500 + bytes |
//! | `set_return` | `(ptr, len: i32)` | sets the call's return data | 100 + bytes |
//! | `revert` | `(ptr, len: i32)` | aborts the call with revert data; all its writes roll back | 100 + bytes |
//! | `call` | `(addr_ptr, input_ptr, input_len: i32, fuel: i64) -> i32` | calls the contract at the 32-byte address with the input (at most 16 KiB), forwarding at most `fuel` (read as a u64: -1 forwards all it may); returns a [`CallStatus`] | 1000 + bytes, plus what the callee burns |
//! | `call_with_value` | `(addr_ptr, input_ptr, input_len: i32, fuel: i64, token, amount_ptr: i32) -> i32` | `call`, moving the amount (u128 LE) of `token` from the caller to the callee first (rolled back with a failing callee); [`CallStatus::InsufficientBalance`] if the caller has less, [`CallStatus::ValueRefused`] if it cannot move | `call`'s, plus [`MOVE_FUEL`] if the amount is not 0 |
//! | `return_data_len` | `() -> i32` | length of the last sub-call's return data (or revert data) | 10 |
//! | `return_data_read` | `(ptr: i32)` | copies it to `ptr` | 100 + bytes |
//!
//! A contract exports `memory` and `call: () -> ()`, optionally `init: () -> ()`
//! (run once at deploy with the deploy's init input), and is at most 128 KiB
//! (`CONTRACT_CODE_BYTES_MAX`). Anything else imported makes the module invalid at
//! deploy, and so does any import or export named `__gp_*` (reserved for the
//! runtime).
//!
//! ## Calls between contracts
//!
//! `call` runs the callee in a wasmtime store of its own over the same transaction
//! state; the caller waits. Semantics (tested in `tests/contracts.rs`):
//!
//! - **Rollback.** A callee that reverts, traps or runs out of fuel leaves nothing:
//!   its storage writes and events, and those of every call nested in it, are rolled
//!   back, and the caller gets the status (and, for a revert, the revert data through
//!   `return_data_*`) and decides. A callee that succeeds keeps its effects, which
//!   the caller's own failure would still roll back.
//! - **Re-entrancy is allowed.** A re-entered contract runs as a new instance (fresh
//!   linear memory) over the transaction's state, and sees every write the outer
//!   frames made so far, committed or not: if A writes `x = 1` and calls B, which
//!   calls A, the inner A reads `x = 1`. Guard with a storage flag if that is unsafe.
//! - **Fuel.** The caller pays [`SUBCALL_FUEL_BASE`] + input bytes, then forwards
//!   `min(fuel, left − left/64)`; the callee's load charge and execution come out of
//!   that, and the caller keeps the rest. Whatever the callee does, the caller keeps
//!   at least 1/64 of what it had.
//! - **Depth.** At most [`CONTRACT_CALL_DEPTH_MAX`] nested `call`s (a deeper one
//!   returns `TooDeep` without running), and the wasm frames of the whole chain count
//!   against one [`WASM_CALL_DEPTH_MAX`] (the callee's counter starts at its
//!   caller's), so the native stack bound holds for the chain. Memory: the chain's
//!   instances live together, [`INSTANCES_PER_THREAD`] × [`WASM_MEMORY_BYTES_MAX`]
//!   at most per transaction.
//! - **Caller identity.** In a sub-call `caller()` is the calling contract's account
//!   and `caller_contract` gives its address: a contract never sees the
//!   transaction's sender as its caller unless the sender called it directly.
//! - **Value.** A contract's balances are its account's. A move (`transfer`, or
//!   the value of `call_with_value`) is checked like a native transfer (the payer's
//!   balance, the receiver's existence and overflow), counts in the contract's
//!   nonce, becomes a `ContractMove` op (a proof slot; hence [`MOVE_FUEL`]) and
//!   rolls back with the frame that made it. At most [`MOVES_PER_TX_MAX`] moves and
//!   [`BALANCE_READS_PER_TX_MAX`] distinct balances read per transaction.
//! - **Node failures are not statuses.** A state read that fails, or an instance the
//!   pool cannot give (it holds [`INSTANCE_POOL_SIZE`], [`INSTANCES_PER_THREAD`] per
//!   executor thread), aborts the block's execution on this node
//!   ([`RuntimeError`]); no contract can observe it.
//! - **Bounds per transaction**, all frames together: [`STORAGE_READS_PER_TX_MAX`]
//!   distinct storage slots read (from state: what the L1 re-executes against),
//!   [`STORAGE_WRITES_PER_CALL_MAX`] storage writes and [`EVENTS_PER_CALL_MAX`]
//!   events.
//!
//! ## Added by the rewrite (consensus; see [`instrument`])
//!
//! Before compiling, every node rewrites the module identically (the stored code and
//! its hash stay the deployer's bytes). The rewrite adds one import, which a contract
//! cannot name itself:
//!
//! | import | inserted | fuel |
//! | --- | --- | --- |
//! | `__gp_call_depth_exceeded ()` | at function entry, when the depth passes [`WASM_CALL_DEPTH_MAX`] | traps |
//!
//! A global counter counts active wasm frames: the ([`WASM_CALL_DEPTH_MAX`] + 1)-th
//! nested call fails with the call-depth trap on every host alike. The counting costs
//! [`CALL_DEPTH_FUEL_PER_CALL`] fuel per call of a contract function.
//!
//! ## Fuel of a call
//!
//! Fuel counts executed wasm operators (one each; `nop`, `drop`, `block`, `loop`,
//! `else`, `end`, `return` and `unreachable` are free), plus
//! [`BULK_MEMORY_FUEL_PER_BYTE`] per byte a `memory.fill`, `memory.copy` or
//! `memory.init` touches and [`BULK_TABLE_FUEL_PER_ELEMENT`] per element of a
//! `table.fill`, `table.copy`, `table.init` or `table.grow` (charged by the engine,
//! and checked against the fuel left, before memory is touched; every one of these
//! costs is set explicitly on the engine, so a wasmtime upgrade cannot change them),
//! plus [`CALL_DEPTH_FUEL_PER_CALL`] per contract function call, plus the host
//! charges above, plus a load charge of [`MODULE_LOAD_FUEL_PER_BYTE`] × code length.
//! The load charge is paid by every call whether the node had the module compiled or
//! not: cache state differs between nodes and must not change a receipt. (What it
//! covers, and the recompile it does not, is measured at the constant.) The executor
//! adds `CALL_FUEL_BASE` on top.
//!
//! ## Determinism and bounds
//!
//! Fuel metering is on and is the gas. The accepted wasm is exactly
//! [`CONTRACT_FEATURES`] (WebAssembly 2.0 without SIMD or GC types), enforced by the
//! rewrite's validation and set on the engine; NaN canonicalization is on. Memories
//! are bounded to [`WASM_MEMORY_BYTES_MAX`], tables to [`WASM_TABLE_ELEMENTS_MAX`],
//! call depth to [`WASM_CALL_DEPTH_MAX`], locals per function to
//! [`WASM_FUNCTION_LOCALS_MAX`], a function's operand stack to
//! [`WASM_OPERAND_STACK_MAX`]; the native stack bound [`WASM_STACK_BYTES_MAX`] is a
//! backstop sized so that the depth limit always hits first. Instances come from a
//! fixed pool. A contract may make at most [`STORAGE_WRITES_PER_CALL_MAX`] storage
//! writes, emit at most [`EVENTS_PER_CALL_MAX`] events and return at most
//! [`RETURN_BYTES_MAX`] bytes. Compiled modules are kept in an LRU cache bounded to
//! [`MODULE_CACHE_BYTES_MAX`] (estimated) bytes.

mod cache;
pub mod instrument;

use std::sync::Arc;

use ghostplane_primitives::block::Event;
use ghostplane_primitives::trace::{BALANCE_READS_PER_TX_MAX, MOVES_PER_TX_MAX};
use ghostplane_primitives::{
    AccountId, Amount, BlockNumber, CALL_INPUT_BYTES_MAX, CONTRACT_CODE_BYTES_MAX, ContractAddress,
    FailureReason, Hash32, PubdataOp, STORAGE_VALUE_BYTES_MAX, TokenId,
};
use wasmtime::{
    Caller, Config, Enabled, Engine, InstanceAllocationStrategy, InstancePre, Linker, Memory,
    Module, OperatorCost, PoolingAllocationConfig, Store, Trap, VariableOperatorCost, WasmFeatures,
};

use crate::rules::{Target, contract_move};
use crate::state::{StateKey, StateValue, StoreError};
use crate::view::TxView;
use cache::ModuleCache;
pub use cache::ModuleCacheUsage;
pub use instrument::{
    CONTRACT_FEATURES, WASM_CALL_DEPTH_MAX, WASM_FUNCTION_LOCALS_MAX, WASM_OPERAND_STACK_MAX,
};

/// Largest linear memory a contract may have (4 MiB = 64 pages).
pub const WASM_MEMORY_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Largest table a contract may have.
pub const WASM_TABLE_ELEMENTS_MAX: usize = 1024;
/// Native stack the wasm frames of one call may use: a backstop that must never be
/// what stops a contract (where a native stack runs out differs between CPUs and
/// compiler versions), so it is sized for [`WASM_CALL_DEPTH_MAX`] of the largest
/// frames the deploy-time bounds allow.
///
/// A frame holds at most its locals ([`WASM_FUNCTION_LOCALS_MAX`]) and operand stack
/// ([`WASM_OPERAND_STACK_MAX`]) in 8-byte slots (SIMD is off, so no value is wider),
/// plus a fixed part (return address, frame pointer, callee-saved registers, spill
/// slots for the engine's own values), under 1 KiB: (512 + 512) × 8 + 1024 = 9 KiB.
/// 1024 such frames need 9 MiB; the bound is 16 MiB, a margin of 1.75 for register
/// allocators that do not share slots perfectly. (Measured with wasmtime 48 /
/// cranelift on x86-64: the largest frame deploy allows, all its values live across
/// the recursive call, takes about 4 KiB, so 1024 of them 4 MiB.) The contract test
/// `recursion_just_under_the_depth_limit_succeeds_and_one_more_traps` runs such frames
/// at depth [`WASM_CALL_DEPTH_MAX`] on every build.
pub const WASM_STACK_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Native stack kept free under the wasm bound for host functions (state reads go
/// into RocksDB) and the executor's own frames. Threads that run contracts have
/// [`WASM_STACK_BYTES_MAX`] + this.
pub const HOST_STACK_BYTES: usize = 4 * 1024 * 1024;
/// Fuel per byte a `memory.fill`, `memory.copy` or `memory.init` touches, on top of
/// the operator's own 1: about what a loop of 8-byte stores costs per byte (a little
/// over 1), so the bulk form buys speed, not work below cost. The engine charges it
/// (wasmtime's variable operator cost, set explicitly here) and traps out of fuel
/// before the operation touches memory, so no rewrite is needed for it.
pub const BULK_MEMORY_FUEL_PER_BYTE: u8 = 1;
/// Fuel per element a `table.fill`, `table.copy`, `table.init` or `table.grow`
/// touches, on top of the operator's own 1 (tables hold at most
/// [`WASM_TABLE_ELEMENTS_MAX`] elements).
pub const BULK_TABLE_FUEL_PER_ELEMENT: u8 = 1;
/// Fuel per page `memory.grow` asks for, on top of the operator's own 1. Growing only
/// moves the pooled memory's bound (its pages are zeroed when the slot is reused) and
/// at most 64 pages exist, so it is not charged.
pub const MEMORY_GROW_FUEL_PER_PAGE: u8 = 0;
/// Fuel the rewrite's depth counting adds to each call of a contract function (the
/// counter's increment, check and decrement).
pub const CALL_DEPTH_FUEL_PER_CALL: u64 = 12;
/// Fuel per byte of (original) code that every call pays to load its module, whether
/// or not this node had it compiled (cache state differs between nodes and must not
/// change a fee). The same rate as a deploy's validation and compilation.
///
/// Measured (wasmtime 48, cranelift, x86-64, shared 2-core machine): compiling a
/// 128 KiB module takes about 200 ms, about 12 000 fuel per byte at the rate a tight
/// wasm loop burns fuel; loading a serialized compiled module takes 0.3 ms, about 18
/// fuel per byte. So this rate pays for a load from a compiled-artifact store, not
/// for a recompile: a node keeps one ([`WasmRuntime::with_artifacts`]: the
/// executor and the L1's re-executor do), written when a module is first compiled
/// (its deploy), so a caller who cycles through more contracts than the in-memory
/// cache holds (about 500 of the largest) makes the node load artifacts. (Charging
/// the compile price on every call instead would make a 10 KiB contract cost 120 M
/// fuel per call.) A node whose store lost an artifact (evicted past
/// [`ARTIFACT_STORE_BYTES_SOFT_MAX`], a new node) recompiles it once.
pub const MODULE_LOAD_FUEL_PER_BYTE: u64 = 50;
/// Storage writes one transaction's contract execution may make (all its frames).
pub const STORAGE_WRITES_PER_CALL_MAX: usize = STORAGE_WRITES_PER_TX_MAX;
/// Events one transaction's contract execution may emit (all its frames).
pub const EVENTS_PER_CALL_MAX: usize = EVENTS_PER_TX_MAX;
pub use ghostplane_primitives::trace::{
    EVENT_DATA_BYTES_MAX, EVENTS_PER_TX_MAX, STORAGE_READS_PER_TX_MAX, STORAGE_WRITES_PER_TX_MAX,
};
/// Largest return data (also bounds revert data).
pub const RETURN_BYTES_MAX: usize = 4096;
/// Bound on the compiled-module cache, in estimated bytes (see
/// [`MODULE_CACHE_ENTRY_OVERHEAD_BYTES`]); least recently used modules go first.
pub const MODULE_CACHE_BYTES_MAX: usize = 256 * 1024 * 1024;
/// A cached module is estimated at its compiled image (machine code, trap and address
/// tables, data segments: what wasmtime maps), plus its wasm length again for the
/// module's metadata (types, function tables), plus this for the entry itself.
/// (Measured: the image is about 2.7 times the wasm of a code-heavy module, and
/// 13 KiB for an empty one.)
pub const MODULE_CACHE_ENTRY_OVERHEAD_BYTES: usize = 4096;
/// Instances alive at once. A thread runs one transaction at a time, which holds at
/// most [`INSTANCES_PER_THREAD`] instances (its own call and the sub-calls nested in
/// it), so this bounds the executor's threads ([`EXECUTOR_THREADS_MAX`]); exhausting
/// the pool is an internal error, never a receipt.
pub const INSTANCE_POOL_SIZE: u32 = 128;
/// Most contract-to-contract calls nested in one transaction (its own call is at
/// nesting 0). A deeper `call` returns [`CallStatus::TooDeep`]. The instances of a
/// nested chain are alive together: at most `INSTANCES_PER_THREAD` ×
/// [`WASM_MEMORY_BYTES_MAX`] (36 MiB) of linear memory per executing transaction.
pub const CONTRACT_CALL_DEPTH_MAX: u32 = 8;
/// Instances one executing transaction may hold at once.
pub const INSTANCES_PER_THREAD: u32 = CONTRACT_CALL_DEPTH_MAX + 1;
/// Most executor threads: each may hold [`INSTANCES_PER_THREAD`] pooled instances.
pub const EXECUTOR_THREADS_MAX: usize = (INSTANCE_POOL_SIZE / INSTANCES_PER_THREAD) as usize;
/// Fuel a token move costs the contract making it (`transfer`, or a
/// `call_with_value` with an amount): a move is a pubdata op and a proof slot, as a
/// native transfer is, so it costs about what a native transfer pays at the devnet's
/// prices.
pub const MOVE_FUEL: u64 = 20_000;
/// Fuel a `call` costs its caller before the callee runs (plus one per input byte;
/// the callee's load charge comes out of the fuel forwarded to it).
pub const SUBCALL_FUEL_BASE: u64 = 1000;
/// A caller forwards at most `1 - 1/64` of the fuel it has left (EIP-150's rule), so
/// that it can always handle a callee's failure.
pub const SUBCALL_FUEL_KEPT_DIVISOR: u64 = 64;

/// Errors of the runtime itself (not of a contract).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be configured.
    #[error("cannot configure wasmtime: {0}")]
    Config(String),
    /// Instantiation failed for a reason that is not the contract's fault (the
    /// instance pool is exhausted, memory could not be mapped): the block cannot be
    /// executed on this node. Never a receipt.
    #[error("contract runtime failed: {0}")]
    Internal(String),
    /// State could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who called the running frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invoker {
    /// The transaction's sender (the frame is the transaction's own call).
    Account(AccountId),
    /// Another contract (its address and account), through `call` or
    /// `call_with_value`.
    Contract(ContractAddress, AccountId),
}

/// One contract frame: which contract runs, for whom, with what input and value.
struct Frame {
    contract: ContractAddress,
    /// The contract's account.
    account: AccountId,
    invoker: Invoker,
    input: Vec<u8>,
    /// The value that came with the call (already in the contract's balance).
    value: Option<(TokenId, Amount)>,
}

/// The block a call runs in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockEnv {
    pub(crate) number: BlockNumber,
    pub(crate) time_ms: u64,
}

/// Data a contract call runs with; owned by the wasmtime `Store`. A sub-call moves
/// the transaction's effects (`view`, `events`, `storage_writes`) into the callee's
/// store and back, so that every frame of a transaction sees, and adds to, the same
/// uncommitted state.
pub(crate) struct HostCtx {
    pub(crate) view: TxView,
    pub(crate) events: Vec<Event>,
    /// Token moves of the whole transaction (all its frames), `ContractMove` ops.
    pub(crate) moves: Vec<PubdataOp>,
    /// Storage writes of the whole transaction (all its frames).
    pub(crate) storage_writes: usize,
    frame: Frame,
    block: BlockEnv,
    /// Sub-calls this frame is nested in (0: the transaction's own call).
    nesting: u32,
    runtime: Arc<Shared>,
    pub(crate) return_data: Vec<u8>,
    /// Return (or revert) data of this frame's last sub-call.
    sub_return: Vec<u8>,
    /// The node failed under a host call (a state read, a sub-call's instance): the
    /// transaction cannot be executed on this node.
    failure: Option<RuntimeError>,
}

impl HostCtx {
    fn new(view: TxView, frame: Frame, block: BlockEnv, runtime: Arc<Shared>) -> Self {
        Self {
            view,
            events: Vec::new(),
            moves: Vec::new(),
            storage_writes: 0,
            frame,
            block,
            nesting: 0,
            runtime,
            return_data: Vec::new(),
            sub_return: Vec::new(),
            failure: None,
        }
    }
}

/// State with nothing in it (probing a module at deploy; stand-in views).
pub(crate) struct EmptyState;

impl crate::state::StateReader for EmptyState {
    fn get(&self, _key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        Ok(None)
    }
}

/// A view with nothing behind it: the stand-in left where a view was moved out.
fn empty_view() -> TxView {
    TxView::new(Arc::new(EmptyState), Default::default())
}

/// What a call produced.
pub(crate) struct CallResult {
    pub(crate) ctx: HostCtx,
    pub(crate) fuel_used: u64,
    pub(crate) outcome: Result<(), FailureReason>,
}

/// A contract asked to revert.
#[derive(Debug)]
struct Revert(Vec<u8>);

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "revert with {} bytes", self.0.len())
    }
}
impl std::error::Error for Revert {}

/// A contract broke an ABI rule (bad pointer, oversize value, too many writes).
#[derive(Debug)]
struct AbiViolation(String);

impl std::fmt::Display for AbiViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for AbiViolation {}

/// The node failed under a host call (see [`HostCtx::failure`]).
#[derive(Debug)]
struct HostFailure;

impl std::fmt::Display for HostFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the node failed during a host call")
    }
}
impl std::error::Error for HostFailure {}

/// A contract's call depth went past [`WASM_CALL_DEPTH_MAX`].
#[derive(Debug)]
struct CallDepthExceeded;

impl std::fmt::Display for CallDepthExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "call depth exceeded: more than {WASM_CALL_DEPTH_MAX} nested calls"
        )
    }
}
impl std::error::Error for CallDepthExceeded {}

/// A module ready to instantiate, with what its calls are charged by.
#[derive(Clone)]
struct Compiled {
    pre: InstancePre<HostCtx>,
    /// Length of the original (stored) code.
    code_len: usize,
    /// Whether it exports `init: () -> ()` (run at deploy).
    has_init: bool,
    /// Estimated memory held, for the cache bound.
    cache_bytes: usize,
}

/// Fuel every call of a module of `code_len` bytes pays to load it.
fn load_fuel(code_len: usize) -> u64 {
    (code_len as u64).saturating_mul(MODULE_LOAD_FUEL_PER_BYTE)
}

/// The exported function a run enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `call`: every call.
    Call,
    /// `init`: once, at deploy.
    Init,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Call => "call",
            Entry::Init => "init",
        }
    }
}

/// The engine, the linked ABI, the compiled-module cache and, on a node, the
/// compiled-artifact store.
pub struct WasmRuntime {
    shared: Arc<Shared>,
    /// wasmtime's on-disk store of compiled artifacts, if this runtime has one.
    artifacts: Option<wasmtime::Cache>,
}

/// What every call (and every nested sub-call) of the runtime uses.
struct Shared {
    engine: Engine,
    linker: Linker<HostCtx>,
    modules: ModuleCache<Compiled>,
}

/// Soft bound of a node's compiled-artifact store (wasmtime's cache worker deletes
/// the least recently used files past it). Artifacts are about three times their
/// code (compressed on disk), and every contract's is written once, at deploy: 8 GiB
/// holds the artifacts of about 20 000 contracts at the 128 KiB size limit, or far
/// more of typical size. Past it, a call to an evicted contract recompiles.
pub const ARTIFACT_STORE_BYTES_SOFT_MAX: u64 = 8 * 1024 * 1024 * 1024;

/// What the compiled-artifact store did since the runtime started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactStats {
    /// Modules loaded from a stored artifact (no compile).
    pub hits: usize,
    /// Modules compiled (then stored).
    pub misses: usize,
}

impl WasmRuntime {
    /// A runtime with the deterministic configuration described in the module docs
    /// and a module cache of [`MODULE_CACHE_BYTES_MAX`].
    pub fn new() -> Result<Self, RuntimeError> {
        Self::with_module_cache_bytes(MODULE_CACHE_BYTES_MAX)
    }

    /// The same runtime with a module cache bounded to `bytes_max` estimated bytes.
    /// The bound changes memory use and compile work, never a result or a fee.
    pub fn with_module_cache_bytes(bytes_max: usize) -> Result<Self, RuntimeError> {
        Self::with_limits(bytes_max, INSTANCE_POOL_SIZE, None)
    }

    /// A node's runtime ([`WasmRuntime::new`]) with a store of compiled artifacts in
    /// `dir` (wasmtime's cache: each module compiled once, at deploy or at its first
    /// call after a restart, then loaded from disk in well under a millisecond per
    /// 100 KiB instead of recompiled in ~200 ms). This is what the load charge
    /// ([`MODULE_LOAD_FUEL_PER_BYTE`]) pays for: a caller cycling through more
    /// contracts than the in-memory cache holds makes this node load artifacts,
    /// not compile. Node-local: it changes no result or fee.
    pub fn with_artifacts(dir: &std::path::Path) -> Result<Self, RuntimeError> {
        Self::with_limits(MODULE_CACHE_BYTES_MAX, INSTANCE_POOL_SIZE, Some(dir))
    }

    /// What the artifact store did so far (`None` without one).
    pub fn artifact_stats(&self) -> Option<ArtifactStats> {
        self.artifacts.as_ref().map(|cache| ArtifactStats {
            hits: cache.cache_hits(),
            misses: cache.cache_misses(),
        })
    }

    /// A runtime whose instance pool holds `instances` (the executor's is
    /// [`INSTANCE_POOL_SIZE`]; a smaller one lets tests exhaust it), with an
    /// artifact store in `artifacts` if given.
    fn with_limits(
        bytes_max: usize,
        instances: u32,
        artifacts: Option<&std::path::Path>,
    ) -> Result<Self, RuntimeError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(instances)
            .total_memories(instances)
            .total_tables(instances)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .max_memory_size(WASM_MEMORY_BYTES_MAX)
            .table_elements(WASM_TABLE_ELEMENTS_MAX)
            .max_core_instance_size(1024 * 1024)
            // Reset a freed slot's memory and table with memset (only the pages it
            // touched, found with PAGEMAP_SCAN where the kernel has it) instead of
            // madvise: every madvise flushes the TLB of every core running the
            // process, and with two executor threads that IPI storm took ~38 % of
            // the time of a block of contract calls. The slot is zeroed either way.
            .linear_memory_keep_resident(WASM_MEMORY_BYTES_MAX)
            .table_keep_resident(WASM_TABLE_ELEMENTS_MAX * 16)
            .pagemap_scan(Enabled::Auto)
            // What still needs madvise is flushed in batches.
            .decommit_batch_size(instances as usize);

        // The proposals are exactly CONTRACT_FEATURES: everything else wasmtime knows
        // is switched off here, so a wasmtime upgrade that turns a new proposal on by
        // default changes nothing. (The rewrite validates against the same set before
        // the engine sees a module.) Threads, the component model and GC are not even
        // compiled into wasmtime (cargo features off).
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .operator_cost(operator_cost())
            .wasm_features(WasmFeatures::all().difference(CONTRACT_FEATURES), false)
            .wasm_features(CONTRACT_FEATURES, true)
            .cranelift_nan_canonicalization(true)
            // A backstop: the rewrite's call-depth limit stops recursion first.
            .max_wasm_stack(WASM_STACK_BYTES_MAX)
            // Checked against max_wasm_stack even without async support.
            .async_stack_size(WASM_STACK_BYTES_MAX + HOST_STACK_BYTES)
            // Memories are small: reserve exactly the bound (explicit bounds checks)
            // rather than 4 GiB of address space per pooled slot.
            .memory_reservation(WASM_MEMORY_BYTES_MAX as u64)
            .memory_guard_size(64 * 1024)
            .memory_reservation_for_growth(0)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let artifacts = match artifacts {
            None => None,
            Some(dir) => {
                let mut cache = wasmtime::CacheConfig::new();
                cache
                    .with_directory(dir)
                    .with_files_total_size_soft_limit(ARTIFACT_STORE_BYTES_SOFT_MAX);
                let cache = wasmtime::Cache::new(cache).map_err(|e| {
                    RuntimeError::Config(format!(
                        "compiled-artifact store in {}: {e}",
                        dir.display()
                    ))
                })?;
                config.cache(Some(cache.clone()));
                Some(cache)
            }
        };
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Config(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        link_abi(&mut linker).map_err(|e| RuntimeError::Config(e.to_string()))?;
        link_instrumentation(&mut linker).map_err(|e| RuntimeError::Config(e.to_string()))?;
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                linker,
                modules: ModuleCache::new(bytes_max),
            }),
            artifacts,
        })
    }

    /// How full the compiled-module cache is.
    pub fn module_cache_usage(&self) -> ModuleCacheUsage {
        self.shared.modules.usage()
    }

    /// Validates a contract module at deploy: it must be within the size limit, pass
    /// the rewrite's validation and bounds, compile under this configuration, import
    /// only the ABI, export `memory`, `call: () -> ()` and optionally
    /// `init: () -> ()`, and instantiate within the bounds. On success the module is
    /// cached under `hash`.
    pub fn validate(&self, hash: Hash32, code: &[u8]) -> Result<(), String> {
        let shared = &self.shared;
        let compiled = shared.compile(code)?;
        // Instantiate once with no fuel: a module whose memories or tables do not fit
        // the pool fails here, at deploy, instead of at every call. (A start function
        // traps out of fuel at once, which is fine: resources were already allocated.)
        let frame = Frame {
            contract: ContractAddress([0; 32]),
            account: AccountId::MAX,
            invoker: Invoker::Account(AccountId::MAX),
            input: Vec::new(),
            value: None,
        };
        let block = BlockEnv {
            number: BlockNumber(0),
            time_ms: 0,
        };
        let mut store = Store::new(
            &shared.engine,
            HostCtx::new(empty_view(), frame, block, Arc::clone(shared)),
        );
        store.set_fuel(0).map_err(|e| e.to_string())?;
        if let Err(e) = compiled.pre.instantiate(&mut store)
            && !e.is::<Trap>()
        {
            return Err(format!("module does not fit the instance limits: {e:#}"));
        }
        let bytes = compiled.cache_bytes;
        shared.modules.insert(hash, compiled, bytes);
        Ok(())
    }

    /// Whether the (deployed) module `code_hash` exports `init`.
    pub(crate) fn has_init(
        &self,
        view: &mut TxView,
        code_hash: Hash32,
    ) -> Result<bool, RuntimeError> {
        Ok(self.shared.load(view, code_hash)?.has_init)
    }

    /// Runs `entry` of the contract `target` for the account `caller`, which sent
    /// it `value` (already moved), with at most `fuel` (the load charge included).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn call(
        &self,
        view: TxView,
        target: Target,
        entry: Entry,
        caller: AccountId,
        block: BlockEnv,
        input: Vec<u8>,
        value: Option<(TokenId, Amount)>,
        fuel: u64,
    ) -> Result<CallResult, RuntimeError> {
        let frame = Frame {
            contract: target.address,
            account: target.record.account,
            invoker: Invoker::Account(caller),
            input,
            value,
        };
        let ctx = HostCtx::new(view, frame, block, Arc::clone(&self.shared));
        self.shared
            .run(ctx, target.record.code_hash, entry, fuel, 0)
    }
}

impl Shared {
    /// Rewrites and compiles `code` (see [`WasmRuntime::validate`]).
    fn compile(&self, code: &[u8]) -> Result<Compiled, String> {
        if code.len() > CONTRACT_CODE_BYTES_MAX {
            return Err(format!(
                "module is {} bytes, over the {CONTRACT_CODE_BYTES_MAX}-byte limit",
                code.len()
            ));
        }
        let rewritten = instrument::instrument(code).map_err(|e| e.to_string())?;
        let module = Module::new(&self.engine, &rewritten).map_err(|e| format!("{e:#}"))?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| format!("{e:#}"))?;
        match module.get_export("memory") {
            Some(wasmtime::ExternType::Memory(memory)) => {
                let max_pages = (WASM_MEMORY_BYTES_MAX / 65536) as u64;
                if memory.minimum() > max_pages {
                    return Err(format!(
                        "memory starts at {} pages, over the {max_pages}-page limit",
                        memory.minimum()
                    ));
                }
            }
            _ => return Err("module does not export a memory named `memory`".into()),
        }
        let unit = |name: &str| match module.get_export(name) {
            Some(wasmtime::ExternType::Func(func)) => {
                Some(func.params().len() == 0 && func.results().len() == 0)
            }
            Some(_) => Some(false),
            None => None,
        };
        if unit("call") != Some(true) {
            return Err("module does not export a function `call: () -> ()`".into());
        }
        let has_init = match unit("init") {
            None => false,
            Some(true) => true,
            Some(false) => return Err("export `init` must be a function `() -> ()`".into()),
        };
        let image = module.image_range();
        let image_bytes = (image.end as usize).saturating_sub(image.start as usize);
        Ok(Compiled {
            pre,
            code_len: code.len(),
            has_init,
            cache_bytes: image_bytes + code.len() + MODULE_CACHE_ENTRY_OVERHEAD_BYTES,
        })
    }

    /// The compiled module `code_hash`: from the cache, or compiled from the code
    /// in state (it passed validation at deploy, so only this node can fail here).
    fn load(&self, view: &mut TxView, code_hash: Hash32) -> Result<Compiled, RuntimeError> {
        if let Some(compiled) = self.modules.get(&code_hash) {
            return Ok(compiled);
        }
        let code = match view.get(&StateKey::Code(code_hash))? {
            Some(StateValue::Bytes(code)) => code,
            _ => {
                return Err(RuntimeError::Internal(format!(
                    "code {code_hash} is missing from the state"
                )));
            }
        };
        let compiled = self.compile(&code).map_err(RuntimeError::Internal)?;
        self.modules
            .insert(code_hash, compiled.clone(), compiled.cache_bytes);
        Ok(compiled)
    }

    /// Runs `entry` of module `code_hash` in a store of its own, with `ctx` as its
    /// data and at most `fuel` (the load charge included); the module's call-depth
    /// counter starts at `depth` (the caller's, for a sub-call).
    fn run(
        self: &Arc<Self>,
        mut ctx: HostCtx,
        code_hash: Hash32,
        entry: Entry,
        fuel: u64,
        depth: i32,
    ) -> Result<CallResult, RuntimeError> {
        // The load charge is known before compiling: a call that cannot pay it does
        // not make this node compile.
        let code_len = match self.modules.get(&code_hash) {
            Some(compiled) => compiled.code_len,
            None => match ctx.view.get(&StateKey::Code(code_hash))? {
                Some(StateValue::Bytes(code)) => code.len(),
                _ => {
                    return Err(RuntimeError::Internal(format!(
                        "code {code_hash} of contract {} is missing",
                        ctx.frame.contract
                    )));
                }
            },
        };
        let Some(fuel_after_load) = fuel.checked_sub(load_fuel(code_len)) else {
            return Ok(CallResult {
                ctx,
                fuel_used: fuel,
                outcome: Err(FailureReason::OutOfFuel { fuel_used: fuel }),
            });
        };
        let compiled = self.load(&mut ctx.view, code_hash)?;
        let mut store = Store::new(&self.engine, ctx);
        store
            .set_fuel(fuel_after_load)
            .map_err(|e| RuntimeError::Internal(e.to_string()))?;
        let outcome = match compiled.pre.instantiate(&mut store) {
            Ok(instance) => enter(&mut store, &instance, entry, depth),
            Err(e) if e.is::<Trap>() => Err(e),
            Err(e) => {
                return Err(RuntimeError::Internal(format!(
                    "instantiation failed: {e:#}"
                )));
            }
        };
        let remaining = store
            .get_fuel()
            .map_err(|e| RuntimeError::Internal(e.to_string()))?;
        let fuel_used = fuel.saturating_sub(remaining);
        let mut ctx = store.into_data();
        if let Some(error) = ctx.failure.take() {
            return Err(error);
        }
        let outcome = outcome.map_err(|e| classify(&e, fuel_used));
        Ok(CallResult {
            ctx,
            fuel_used,
            outcome,
        })
    }
}

/// Sets the instance's call-depth counter to `depth` and calls `entry`.
fn enter(
    store: &mut Store<HostCtx>,
    instance: &wasmtime::Instance,
    entry: Entry,
    depth: i32,
) -> wasmtime::Result<()> {
    if depth > 0 {
        let counter = instance
            .get_global(&mut *store, instrument::DEPTH_EXPORT)
            .ok_or_else(|| violation("the rewritten module lost its depth counter"))?;
        counter.set(&mut *store, wasmtime::Val::I32(depth))?;
    }
    let func = instance.get_typed_func::<(), ()>(&mut *store, entry.name())?;
    func.call(&mut *store, ())
}

fn classify(error: &wasmtime::Error, fuel_used: u64) -> FailureReason {
    if let Some(Revert(data)) = error.downcast_ref::<Revert>() {
        return FailureReason::Revert(data.clone());
    }
    if let Some(AbiViolation(reason)) = error.downcast_ref::<AbiViolation>() {
        return FailureReason::Trap(reason.clone());
    }
    if error.is::<CallDepthExceeded>() {
        return FailureReason::CallDepthExceeded {
            max: WASM_CALL_DEPTH_MAX,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => FailureReason::OutOfFuel { fuel_used },
        Some(trap) => FailureReason::Trap(trap.to_string()),
        None => FailureReason::Trap("contract aborted".into()),
    }
}

type HostResult<T> = wasmtime::Result<T>;

fn violation(reason: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(AbiViolation(reason.into()))
}

fn charge(caller: &mut Caller<'_, HostCtx>, fuel: u64) -> HostResult<()> {
    let remaining = caller.get_fuel()?;
    match remaining.checked_sub(fuel) {
        Some(left) => caller.set_fuel(left),
        None => {
            caller.set_fuel(0)?;
            Err(wasmtime::Error::new(Trap::OutOfFuel))
        }
    }
}

fn memory(caller: &mut Caller<'_, HostCtx>) -> HostResult<Memory> {
    match caller.get_export("memory") {
        Some(wasmtime::Extern::Memory(memory)) => Ok(memory),
        _ => Err(violation("contract has no exported memory")),
    }
}

fn read_bytes(caller: &mut Caller<'_, HostCtx>, ptr: i32, len: usize) -> HostResult<Vec<u8>> {
    let memory = memory(caller)?;
    let mut buf = vec![0u8; len];
    memory
        .read(&*caller, ptr as u32 as usize, &mut buf)
        .map_err(|_| violation(format!("read of {len} bytes at {ptr} is out of bounds")))?;
    Ok(buf)
}

fn write_bytes(caller: &mut Caller<'_, HostCtx>, ptr: i32, data: &[u8]) -> HostResult<()> {
    let memory = memory(caller)?;
    memory
        .write(&mut *caller, ptr as u32 as usize, data)
        .map_err(|_| {
            violation(format!(
                "write of {} bytes at {ptr} is out of bounds",
                data.len()
            ))
        })
}

fn length(len: i32, max: usize, what: &str) -> HostResult<usize> {
    let len = usize::try_from(len).map_err(|_| violation(format!("negative {what} length")))?;
    if len > max {
        return Err(violation(format!(
            "{what} of {len} bytes is over the {max}-byte limit"
        )));
    }
    Ok(len)
}

fn key32(caller: &mut Caller<'_, HostCtx>, ptr: i32) -> HostResult<[u8; 32]> {
    let bytes = read_bytes(caller, ptr, 32)?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes);
    Ok(key)
}

fn state_get(caller: &mut Caller<'_, HostCtx>, key: StateKey) -> HostResult<Option<StateValue>> {
    match caller.data_mut().view.get(&key) {
        Ok(value) => Ok(value),
        Err(error) => {
            caller.data_mut().failure = Some(RuntimeError::Store(error));
            Err(wasmtime::Error::new(HostFailure))
        }
    }
}

/// Fuel per operator: wasmtime's flat defaults (1, and 0 for the free control
/// operators) written out here so that an engine upgrade cannot change them silently,
/// and the per-byte and per-element costs of bulk operations.
fn operator_cost() -> OperatorCost {
    let mut cost = OperatorCost::new();
    cost.variable = VariableOperatorCost {
        memory_copy_per_byte: BULK_MEMORY_FUEL_PER_BYTE,
        memory_fill_per_byte: BULK_MEMORY_FUEL_PER_BYTE,
        memory_init_per_byte: BULK_MEMORY_FUEL_PER_BYTE,
        memory_grow_per_page: MEMORY_GROW_FUEL_PER_PAGE,
        table_copy_per_element: BULK_TABLE_FUEL_PER_ELEMENT,
        table_fill_per_element: BULK_TABLE_FUEL_PER_ELEMENT,
        table_init_per_element: BULK_TABLE_FUEL_PER_ELEMENT,
        table_grow_per_element: BULK_TABLE_FUEL_PER_ELEMENT,
        ..VariableOperatorCost::new()
    };
    cost
}

/// The import the rewrite adds ([`instrument`]); contracts cannot import it.
fn link_instrumentation(linker: &mut Linker<HostCtx>) -> wasmtime::Result<()> {
    linker.func_wrap(
        instrument::IMPORT_MODULE,
        instrument::CALL_DEPTH_EXCEEDED,
        |_caller: Caller<'_, HostCtx>| -> HostResult<()> {
            Err(wasmtime::Error::new(CallDepthExceeded))
        },
    )?;
    Ok(())
}

fn link_abi(linker: &mut Linker<HostCtx>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "storage_read",
        |mut caller: Caller<'_, HostCtx>,
         key_ptr: i32,
         val_ptr: i32,
         val_cap: i32|
         -> HostResult<i32> {
            charge(&mut caller, 500)?;
            let cap = length(val_cap, usize::MAX, "buffer")?;
            let key = key32(&mut caller, key_ptr)?;
            let contract = caller.data().frame.contract;
            let view = &caller.data().view;
            if view.storage_reads.len() >= STORAGE_READS_PER_TX_MAX
                && view.is_new_storage_read(&contract, &key)
            {
                return Err(violation(format!(
                    "more than {STORAGE_READS_PER_TX_MAX} storage slots read in one transaction"
                )));
            }
            match state_get(&mut caller, StateKey::Storage(contract, key))? {
                Some(StateValue::Bytes(value)) => {
                    charge(&mut caller, value.len() as u64)?;
                    let n = value.len().min(cap);
                    write_bytes(&mut caller, val_ptr, &value[..n])?;
                    Ok(value.len() as i32)
                }
                _ => Ok(-1),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "storage_write",
        |mut caller: Caller<'_, HostCtx>,
         key_ptr: i32,
         val_ptr: i32,
         val_len: i32|
         -> HostResult<()> {
            let len = length(val_len, STORAGE_VALUE_BYTES_MAX, "storage value")?;
            charge(&mut caller, 2000 + 4 * len as u64)?;
            let key = key32(&mut caller, key_ptr)?;
            let value = read_bytes(&mut caller, val_ptr, len)?;
            put_storage(&mut caller, key, Some(StateValue::Bytes(Arc::from(value))))
        },
    )?;
    linker.func_wrap(
        "env",
        "storage_delete",
        |mut caller: Caller<'_, HostCtx>, key_ptr: i32| -> HostResult<()> {
            charge(&mut caller, 2000)?;
            let key = key32(&mut caller, key_ptr)?;
            put_storage(&mut caller, key, None)
        },
    )?;
    linker.func_wrap(
        "env",
        "caller",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i32> {
            charge(&mut caller, 10)?;
            Ok(match caller.data().frame.invoker {
                Invoker::Account(id) | Invoker::Contract(_, id) => id.get() as i32,
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "block_number",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i64> {
            charge(&mut caller, 10)?;
            Ok(caller.data().block.number.0 as i64)
        },
    )?;
    linker.func_wrap(
        "env",
        "block_time",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i64> {
            charge(&mut caller, 10)?;
            Ok(caller.data().block.time_ms as i64)
        },
    )?;
    linker.func_wrap(
        "env",
        "input_len",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i32> {
            charge(&mut caller, 10)?;
            Ok(caller.data().frame.input.len() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "input_read",
        |mut caller: Caller<'_, HostCtx>, ptr: i32| -> HostResult<()> {
            let input = std::mem::take(&mut caller.data_mut().frame.input);
            let result = charge(&mut caller, 100 + input.len() as u64)
                .and_then(|()| write_bytes(&mut caller, ptr, &input));
            caller.data_mut().frame.input = input;
            result
        },
    )?;
    linker.func_wrap(
        "env",
        "emit_event",
        |mut caller: Caller<'_, HostCtx>,
         topic_ptr: i32,
         data_ptr: i32,
         data_len: i32|
         -> HostResult<()> {
            let len = length(data_len, EVENT_DATA_BYTES_MAX, "event data")?;
            charge(&mut caller, 500 + len as u64)?;
            if caller.data().events.len() >= EVENTS_PER_CALL_MAX {
                return Err(violation(format!(
                    "more than {EVENTS_PER_CALL_MAX} events in one transaction"
                )));
            }
            let topic = key32(&mut caller, topic_ptr)?;
            let data = read_bytes(&mut caller, data_ptr, len)?;
            let ctx = caller.data_mut();
            let contract = ctx.frame.contract;
            ctx.events.push(Event {
                contract,
                topic: Hash32(topic),
                data,
            });
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "set_return",
        |mut caller: Caller<'_, HostCtx>, ptr: i32, len: i32| -> HostResult<()> {
            let len = length(len, RETURN_BYTES_MAX, "return data")?;
            charge(&mut caller, 100 + len as u64)?;
            let data = read_bytes(&mut caller, ptr, len)?;
            caller.data_mut().return_data = data;
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "revert",
        |mut caller: Caller<'_, HostCtx>, ptr: i32, len: i32| -> HostResult<()> {
            let len = length(len, RETURN_BYTES_MAX, "revert data")?;
            charge(&mut caller, 100 + len as u64)?;
            let data = read_bytes(&mut caller, ptr, len)?;
            Err(wasmtime::Error::new(Revert(data)))
        },
    )?;
    linker.func_wrap(
        "env",
        "self_address",
        |mut caller: Caller<'_, HostCtx>, ptr: i32| -> HostResult<()> {
            charge(&mut caller, 100)?;
            let address = caller.data().frame.contract;
            write_bytes(&mut caller, ptr, &address.0)
        },
    )?;
    linker.func_wrap(
        "env",
        "caller_contract",
        |mut caller: Caller<'_, HostCtx>, ptr: i32| -> HostResult<i32> {
            charge(&mut caller, 100)?;
            match caller.data().frame.invoker {
                Invoker::Account(_) => Ok(0),
                Invoker::Contract(address, _) => {
                    write_bytes(&mut caller, ptr, &address.0)?;
                    Ok(1)
                }
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "call",
        |mut caller: Caller<'_, HostCtx>,
         address_ptr: i32,
         input_ptr: i32,
         input_len: i32,
         fuel: i64|
         -> HostResult<i32> {
            sub_call(&mut caller, address_ptr, input_ptr, input_len, fuel, None)
        },
    )?;
    linker.func_wrap(
        "env",
        "call_with_value",
        |mut caller: Caller<'_, HostCtx>,
         address_ptr: i32,
         input_ptr: i32,
         input_len: i32,
         fuel: i64,
         token: i32,
         amount_ptr: i32|
         -> HostResult<i32> {
            let amount = read_amount(&mut caller, amount_ptr)?;
            let Some(token) = token_of(token) else {
                return Err(violation(format!(
                    "call_with_value of unknown token {token}"
                )));
            };
            let value = (amount > 0).then_some((token, amount));
            sub_call(&mut caller, address_ptr, input_ptr, input_len, fuel, value)
        },
    )?;
    linker.func_wrap(
        "env",
        "self_account",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i32> {
            charge(&mut caller, 10)?;
            Ok(caller.data().frame.account.get() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "call_value",
        |mut caller: Caller<'_, HostCtx>, out_ptr: i32| -> HostResult<i32> {
            charge(&mut caller, 100)?;
            let (token, amount) = caller.data().frame.value.unwrap_or((TokenId::Gcc, 0));
            write_bytes(&mut caller, out_ptr, &amount.to_le_bytes())?;
            Ok(i32::from(token.id()))
        },
    )?;
    linker.func_wrap(
        "env",
        "balance",
        |mut caller: Caller<'_, HostCtx>, token: i32, out_ptr: i32| -> HostResult<i32> {
            charge(&mut caller, 200)?;
            let Some(token) = token_of(token) else {
                return Ok(-1);
            };
            let account = caller.data().frame.account;
            let amount = balance_of(&mut caller, account, token)?;
            write_bytes(&mut caller, out_ptr, &amount.to_le_bytes())?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        "env",
        "transfer",
        |mut caller: Caller<'_, HostCtx>,
         to: i32,
         token: i32,
         amount_ptr: i32|
         -> HostResult<i32> {
            charge(&mut caller, MOVE_FUEL)?;
            let amount = read_amount(&mut caller, amount_ptr)?;
            let Some(token) = token_of(token) else {
                return Ok(TransferStatus::BadToken as i32);
            };
            let Ok(to) = AccountId::new(to as u32) else {
                return Ok(TransferStatus::NoAccount as i32);
            };
            let from = caller.data().frame.account;
            Ok(move_tokens(&mut caller, from, to, token, amount)? as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "return_data_len",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i32> {
            charge(&mut caller, 10)?;
            Ok(caller.data().sub_return.len() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "return_data_read",
        |mut caller: Caller<'_, HostCtx>, ptr: i32| -> HostResult<()> {
            let data = std::mem::take(&mut caller.data_mut().sub_return);
            let result = charge(&mut caller, 100 + data.len() as u64)
                .and_then(|()| write_bytes(&mut caller, ptr, &data));
            caller.data_mut().sub_return = data;
            result
        },
    )?;
    Ok(())
}

/// What the `call` host function returns (the callee's effects are kept only on
/// [`CallStatus::Success`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum CallStatus {
    /// The callee returned; its writes and events stand; its return data is readable.
    Success = 0,
    /// The callee reverted; its revert data is readable.
    Reverted = 1,
    /// The callee used all the fuel forwarded to it.
    OutOfFuel = 2,
    /// The callee trapped or broke an ABI rule.
    Trapped = 3,
    /// No contract at the address.
    NoContract = 4,
    /// The call would nest deeper than [`CONTRACT_CALL_DEPTH_MAX`], or the chain's
    /// wasm frames went past [`WASM_CALL_DEPTH_MAX`].
    TooDeep = 5,
    /// `call_with_value`: the caller's balance is below the amount (the callee did
    /// not run).
    InsufficientBalance = 6,
    /// `call_with_value`: the value cannot move: a contract calling itself, or the
    /// callee's balance would overflow (the callee did not run).
    ValueRefused = 7,
}

/// What the `transfer` host function returns (nothing moved unless
/// [`TransferStatus::Success`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum TransferStatus {
    /// Moved (or the amount was 0: nothing to move).
    Success = 0,
    /// The contract's balance is below the amount.
    InsufficientBalance = 1,
    /// No account has that id.
    NoAccount = 2,
    /// A token id above 3.
    BadToken = 3,
    /// The receiver is the contract itself.
    ToSelf = 4,
    /// The receiver's balance would overflow.
    Overflow = 5,
}

/// The token with id `token`, if any.
fn token_of(token: i32) -> Option<TokenId> {
    u8::try_from(token).ok().and_then(TokenId::from_id)
}

/// A u128 amount, 16 bytes little-endian at `ptr`.
fn read_amount(caller: &mut Caller<'_, HostCtx>, ptr: i32) -> HostResult<Amount> {
    let bytes = read_bytes(caller, ptr, 16)?;
    let mut le = [0u8; 16];
    le.copy_from_slice(&bytes);
    Ok(Amount::from_le_bytes(le))
}

/// Fails the call if reading `account`'s balance of `token` would take the
/// transaction past [`BALANCE_READS_PER_TX_MAX`] distinct balances.
fn balance_room(
    caller: &Caller<'_, HostCtx>,
    account: AccountId,
    token: TokenId,
) -> HostResult<()> {
    let view = &caller.data().view;
    if view.balance_reads.len() >= BALANCE_READS_PER_TX_MAX
        && view.is_new_balance_read(account, token)
    {
        return Err(violation(format!(
            "more than {BALANCE_READS_PER_TX_MAX} balances read in one transaction"
        )));
    }
    Ok(())
}

/// `account`'s balance of `token`, within the read bound.
fn balance_of(
    caller: &mut Caller<'_, HostCtx>,
    account: AccountId,
    token: TokenId,
) -> HostResult<Amount> {
    balance_room(caller, account, token)?;
    match state_get(caller, StateKey::Balance(account, token))? {
        Some(StateValue::Balance(amount)) => Ok(amount),
        _ => Ok(0),
    }
}

/// Moves `amount` of `token` from contract account `from` to `to` (the rules'
/// [`contract_move`]), recording the move; a refusal is a status, not a trap.
fn move_tokens(
    caller: &mut Caller<'_, HostCtx>,
    from: AccountId,
    to: AccountId,
    token: TokenId,
    amount: Amount,
) -> HostResult<TransferStatus> {
    if amount == 0 {
        return Ok(TransferStatus::Success);
    }
    if to == from {
        return Ok(TransferStatus::ToSelf);
    }
    if caller.data().moves.len() >= MOVES_PER_TX_MAX {
        return Err(violation(format!(
            "more than {MOVES_PER_TX_MAX} token moves in one transaction"
        )));
    }
    balance_room(caller, from, token)?;
    balance_room(caller, to, token)?;
    let ctx = caller.data_mut();
    match contract_move(&mut ctx.view, from, to, token, amount) {
        Ok(Ok(op)) => {
            ctx.moves.push(op);
            Ok(TransferStatus::Success)
        }
        Ok(Err(FailureReason::InsufficientBalance { .. })) => {
            Ok(TransferStatus::InsufficientBalance)
        }
        Ok(Err(FailureReason::BalanceOverflow { .. })) => Ok(TransferStatus::Overflow),
        Ok(Err(_)) => Ok(TransferStatus::NoAccount),
        Err(error) => {
            ctx.failure = Some(RuntimeError::Store(error));
            Err(wasmtime::Error::new(HostFailure))
        }
    }
}

impl CallStatus {
    fn of(reason: &FailureReason) -> Self {
        match reason {
            FailureReason::Revert(_) => Self::Reverted,
            FailureReason::OutOfFuel { .. } => Self::OutOfFuel,
            FailureReason::CallDepthExceeded { .. } => Self::TooDeep,
            _ => Self::Trapped,
        }
    }
}

/// Sets (`Some`) or deletes (`None`) the running contract's storage `key`, within
/// the transaction's write bound.
fn put_storage(
    caller: &mut Caller<'_, HostCtx>,
    key: [u8; 32],
    value: Option<StateValue>,
) -> HostResult<()> {
    let ctx = caller.data_mut();
    if ctx.storage_writes >= STORAGE_WRITES_PER_CALL_MAX {
        return Err(violation(format!(
            "more than {STORAGE_WRITES_PER_CALL_MAX} storage writes in one transaction"
        )));
    }
    ctx.storage_writes += 1;
    ctx.view
        .put(StateKey::Storage(ctx.frame.contract, key), value);
    Ok(())
}

/// The calling frame's wasm call depth (its rewrite's counter).
fn wasm_depth(caller: &mut Caller<'_, HostCtx>) -> HostResult<i32> {
    match caller.get_export(instrument::DEPTH_EXPORT) {
        Some(wasmtime::Extern::Global(global)) => global
            .get(&mut *caller)
            .i32()
            .ok_or_else(|| violation("the depth counter is not an i32")),
        _ => Err(violation("the rewritten module lost its depth counter")),
    }
}

/// `call(address_ptr, input_ptr, input_len, fuel) -> status`: runs the contract at
/// the 32-byte address with the input, forwarding at most `fuel` and never more than
/// 63/64 of what the caller has left (so the caller can always handle a failure).
/// With a `value` (`call_with_value`), the caller's contract first pays it to the
/// callee's account ([`MOVE_FUEL`]); it rolls back with a failing callee.
/// The callee runs in a store of its own over the same transaction state; its
/// writes and events are rolled back unless it succeeds. Fuel it used is the
/// caller's. A node failure under it (a state read, an instance the pool cannot
/// give) aborts the transaction's execution: never a status.
fn sub_call(
    caller: &mut Caller<'_, HostCtx>,
    address_ptr: i32,
    input_ptr: i32,
    input_len: i32,
    fuel: i64,
    value: Option<(TokenId, Amount)>,
) -> HostResult<i32> {
    let len = length(input_len, CALL_INPUT_BYTES_MAX, "call input")?;
    let move_fuel = if value.is_some() { MOVE_FUEL } else { 0 };
    charge(caller, SUBCALL_FUEL_BASE + move_fuel + len as u64)?;
    let address = ContractAddress(key32(caller, address_ptr)?);
    let input = read_bytes(caller, input_ptr, len)?;
    caller.data_mut().sub_return.clear();
    if caller.data().nesting >= CONTRACT_CALL_DEPTH_MAX {
        return Ok(CallStatus::TooDeep as i32);
    }
    let record = match state_get(caller, StateKey::Contract(address))? {
        Some(StateValue::Contract(record)) => record,
        _ => return Ok(CallStatus::NoContract as i32),
    };
    let depth = wasm_depth(caller)?;
    let savepoint = caller.data().view.savepoint();
    let events_before = caller.data().events.len();
    let moves_before = caller.data().moves.len();
    let writes_before = caller.data().storage_writes;
    if let Some((token, amount)) = value {
        let from = caller.data().frame.account;
        match move_tokens(caller, from, record.account, token, amount)? {
            TransferStatus::Success => {}
            TransferStatus::InsufficientBalance => {
                return Ok(CallStatus::InsufficientBalance as i32);
            }
            _ => return Ok(CallStatus::ValueRefused as i32),
        }
    }
    let remaining = caller.get_fuel()?;
    // The i64 carries a u64 (wasm has no unsigned type): -1 is "all it may have".
    let forwarded = (fuel as u64).min(remaining - remaining / SUBCALL_FUEL_KEPT_DIVISOR);
    let ctx = caller.data_mut();
    let mut callee = HostCtx::new(
        std::mem::replace(&mut ctx.view, empty_view()),
        Frame {
            contract: address,
            account: record.account,
            invoker: Invoker::Contract(ctx.frame.contract, ctx.frame.account),
            input,
            value,
        },
        ctx.block,
        Arc::clone(&ctx.runtime),
    );
    callee.events = std::mem::take(&mut ctx.events);
    callee.moves = std::mem::take(&mut ctx.moves);
    callee.storage_writes = ctx.storage_writes;
    callee.nesting = ctx.nesting + 1;
    let runtime = Arc::clone(&ctx.runtime);
    let result = match runtime.run(callee, record.code_hash, Entry::Call, forwarded, depth) {
        Ok(result) => result,
        Err(error) => {
            caller.data_mut().failure = Some(error);
            return Err(wasmtime::Error::new(HostFailure));
        }
    };
    caller.set_fuel(remaining - result.fuel_used.min(forwarded))?;
    let ctx = caller.data_mut();
    let callee = result.ctx;
    ctx.view = callee.view;
    ctx.events = callee.events;
    ctx.moves = callee.moves;
    ctx.storage_writes = callee.storage_writes;
    Ok(match result.outcome {
        Ok(()) => {
            ctx.sub_return = callee.return_data;
            CallStatus::Success as i32
        }
        Err(reason) => {
            ctx.view.rollback(savepoint);
            ctx.events.truncate(events_before);
            ctx.moves.truncate(moves_before);
            ctx.storage_writes = writes_before;
            if let FailureReason::Revert(data) = &reason {
                ctx.sub_return = data.clone();
            }
            CallStatus::of(&reason) as i32
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

    use super::*;
    use crate::view::Overlay;
    use ghostplane_primitives::tx::code_hash;

    /// A contract that returns `tag` as 8 ASCII digits (distinct tags, distinct hashes).
    fn tagged(tag: u32) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(module
                (import "env" "set_return" (func $set_return (param i32 i32)))
                (memory (export "memory") 1)
                (data (i32.const 0) "{tag:08}")
                (func (export "call") (call $set_return (i32.const 0) (i32.const 8))))"#
        ))
        .unwrap()
    }

    /// The contract at `address` with code `hash`, account 1.
    fn target(address: ContractAddress, hash: Hash32) -> Target {
        Target {
            address,
            record: crate::state::ContractRecord {
                code_hash: hash,
                account: AccountId::new(1).unwrap(),
            },
        }
    }

    fn call(runtime: &WasmRuntime, codes: &Overlay, hash: Hash32, fuel: u64) -> CallResult {
        let view = TxView::new(Arc::new(EmptyState), codes.clone());
        runtime
            .call(
                view,
                target(ContractAddress([1; 32]), hash),
                Entry::Call,
                AccountId::MAX,
                BlockEnv {
                    number: BlockNumber(1),
                    time_ms: 0,
                },
                Vec::new(),
                None,
                fuel,
            )
            .unwrap()
    }

    /// The pool runs out under nested calls: the node's failure, not the contract's.
    #[test]
    fn an_exhausted_instance_pool_aborts_execution_and_is_never_a_status() {
        let runtime = WasmRuntime::with_limits(MODULE_CACHE_BYTES_MAX, 2, None).unwrap();
        let path = format!("{}/contracts/relay.wat", env!("CARGO_MANIFEST_DIR"));
        let relay = wat::parse_file(&path).unwrap();
        let relay_hash = code_hash(&relay);
        let mut codes = Overlay::default();
        codes.insert(
            StateKey::Code(relay_hash),
            Some(StateValue::Bytes(Arc::from(relay.as_slice()))),
        );
        let address = ContractAddress([1; 32]);
        codes.insert(
            StateKey::Contract(address),
            Some(StateValue::Contract(target(address, relay_hash).record)),
        );
        // relay → relay → relay: the third instance does not fit a pool of two.
        let relay_input =
            |inner: &[u8]| [&address.0[..], &u64::MAX.to_le_bytes(), &[0u8], inner].concat();
        let input = relay_input(&relay_input(&relay_input(&[])));
        let view = TxView::new(Arc::new(EmptyState), codes);
        let block = BlockEnv {
            number: BlockNumber(1),
            time_ms: 0,
        };
        let result = runtime.call(
            view,
            target(address, relay_hash),
            Entry::Call,
            AccountId::MAX,
            block,
            input,
            None,
            10_000_000,
        );
        assert!(
            matches!(&result, Err(RuntimeError::Internal(m)) if m.contains("instantiation")),
            "{:?}",
            result.as_ref().map(|r| &r.outcome).err()
        );
    }

    #[test]
    fn module_cache_stays_within_its_bound_and_evicted_modules_still_run() {
        let contracts: Vec<Vec<u8>> = (0..24).map(tagged).collect();
        let one = {
            let runtime = WasmRuntime::new().unwrap();
            runtime
                .validate(code_hash(&contracts[0]), &contracts[0])
                .unwrap();
            runtime.module_cache_usage().bytes
        };
        assert!(one > contracts[0].len());
        // Room for three modules and a half.
        let runtime = WasmRuntime::with_module_cache_bytes(3 * one + one / 2).unwrap();
        let mut codes = Overlay::default();
        for code in &contracts {
            let hash = code_hash(code);
            runtime.validate(hash, code).unwrap();
            codes.insert(
                StateKey::Code(hash),
                Some(StateValue::Bytes(Arc::from(code.as_slice()))),
            );
            let usage = runtime.module_cache_usage();
            assert!(usage.bytes <= usage.bytes_max, "{usage:?}");
            assert!(usage.entries <= 3, "{usage:?}");
        }
        // Twice round: every call but those of the three last deployed misses (and
        // evicts); each returns its own tag and costs the same fuel hit or miss.
        let mut fuel_used = vec![None; contracts.len()];
        for _ in 0..2 {
            for (tag, code) in contracts.iter().enumerate() {
                let result = call(&runtime, &codes, code_hash(code), 1_000_000);
                assert!(result.outcome.is_ok(), "{:?}", result.outcome);
                assert_eq!(result.ctx.return_data, format!("{tag:08}").into_bytes());
                assert!(result.fuel_used > load_fuel(code.len()));
                let first = *fuel_used[tag].get_or_insert(result.fuel_used);
                assert_eq!(result.fuel_used, first, "contract {tag}");
                let usage = runtime.module_cache_usage();
                assert!(usage.bytes <= usage.bytes_max, "{usage:?}");
            }
        }
        assert!(
            fuel_used.windows(2).all(|w| w[0] == w[1]),
            "same code size, same fuel"
        );
    }

    #[test]
    fn rewritten_control_flow_keeps_its_meaning() {
        // Early return, a branch to the function's own label, multi-value results,
        // an indirect call and a start function: the rewrite must not change a result,
        // and the depth counter must come back down (depth 1024 reached 3 times over
        // in sequence would trap if it leaked).
        let code = wat::parse_str(
            r#"(module
                (import "env" "set_return" (func $set_return (param i32 i32)))
                (memory (export "memory") 1)
                (table 1 funcref)
                (elem (i32.const 0) $pair)
                (global $started (mut i32) (i32.const 0))
                (start $start)
                (func $start (global.set $started (i32.const 100)))
                (func $pair (param i32) (result i32 i32)
                  (if (i32.eqz (local.get 0)) (then (return (i32.const 1) (i32.const 2))))
                  (br 0 (local.get 0) (i32.const 20)))
                (func $sum (param i32) (result i32)
                  (call_indirect (param i32) (result i32 i32) (local.get 0) (i32.const 0))
                  (i32.add))
                (func $deep (param i32)
                  (br_if 0 (i32.eqz (local.get 0)))
                  (call $deep (i32.sub (local.get 0) (i32.const 1))))
                (func (export "call")
                  (call $deep (i32.const 1000))
                  (call $deep (i32.const 1000))
                  (call $deep (i32.const 1000))
                  (i32.store (i32.const 0)
                    (i32.add (global.get $started)
                      (i32.add (call $sum (i32.const 0)) (call $sum (i32.const 5)))))
                  (call $set_return (i32.const 0) (i32.const 4))))"#,
        )
        .unwrap();
        let hash = code_hash(&code);
        let runtime = WasmRuntime::new().unwrap();
        runtime.validate(hash, &code).unwrap();
        let result = call(&runtime, &Overlay::default(), hash, 1_000_000);
        assert!(result.outcome.is_ok(), "{:?}", result.outcome);
        // 100 (start) + (1 + 2) + (5 + 20)
        assert_eq!(result.ctx.return_data, 128u32.to_le_bytes());
    }

    #[test]
    fn each_contract_function_call_pays_for_depth_counting() {
        let module = |calls: usize| {
            wat::parse_str(format!(
                r#"(module (memory (export "memory") 1) (func $f)
                    (func (export "call") {}))"#,
                "(call $f)".repeat(calls)
            ))
            .unwrap()
        };
        let runtime = WasmRuntime::new().unwrap();
        let mut fuel = Vec::new();
        let mut lens = Vec::new();
        for calls in [1, 2] {
            let code = module(calls);
            let hash = code_hash(&code);
            runtime.validate(hash, &code).unwrap();
            let result = call(&runtime, &Overlay::default(), hash, 1_000_000);
            assert!(result.outcome.is_ok());
            fuel.push(result.fuel_used);
            lens.push(code.len());
        }
        // One more call: its `call` operator (1), the callee's entry (1, the engine's
        // own minimum per function) and the depth counting.
        let load = load_fuel(lens[1]) - load_fuel(lens[0]);
        assert_eq!(fuel[1] - fuel[0], load + 2 + CALL_DEPTH_FUEL_PER_CALL);
    }

    #[test]
    fn a_call_that_cannot_pay_the_load_runs_out_of_fuel_before_compiling() {
        let code = tagged(7);
        let hash = code_hash(&code);
        let mut codes = Overlay::default();
        codes.insert(
            StateKey::Code(hash),
            Some(StateValue::Bytes(Arc::from(code.as_slice()))),
        );
        let runtime = WasmRuntime::new().unwrap();
        let fuel = load_fuel(code.len()) - 1;
        let result = call(&runtime, &codes, hash, fuel);
        assert!(matches!(
            result.outcome,
            Err(FailureReason::OutOfFuel { fuel_used }) if fuel_used == fuel
        ));
        assert_eq!(result.fuel_used, fuel);
        assert_eq!(runtime.module_cache_usage().entries, 0, "nothing compiled");
    }
}
