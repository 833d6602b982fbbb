//! The contract runtime: wasmtime configured for determinism, the host ABI, the
//! deterministic rewrite of every module, validation and the compiled-module cache.
//!
//! ## Host ABI (imports from module `env`)
//!
//! | import | signature | effect | fuel |
//! | --- | --- | --- | --- |
//! | `storage_read` | `(key_ptr, val_ptr, val_cap: i32) -> i32` | copies up to `val_cap` bytes of the value under the 32-byte key; returns its full length, or -1 if absent | 500 + bytes |
//! | `storage_write` | `(key_ptr, val_ptr, val_len: i32)` | sets the value (at most 1 KiB; length 0 deletes) | 2000 + 4 × bytes |
//! | `caller` | `() -> i32` | the calling account id | 10 |
//! | `block_number` | `() -> i64` | current L2 block | 10 |
//! | `block_time` | `() -> i64` | block time, ms since the Unix epoch | 10 |
//! | `input_len` | `() -> i32` | length of the call input | 10 |
//! | `input_read` | `(ptr: i32)` | copies the call input to `ptr` | 100 + bytes |
//! | `emit_event` | `(topic_ptr, data_ptr, data_len: i32)` | emits an event with a 32-byte topic | 500 + bytes |
//! | `set_return` | `(ptr, len: i32)` | sets the call's return data | 100 + bytes |
//! | `revert` | `(ptr, len: i32)` | aborts the call with revert data; all its writes roll back | 100 + bytes |
//!
//! A contract exports `memory` and `call: () -> ()` and is at most 128 KiB
//! (`CONTRACT_CODE_BYTES_MAX`). Anything else imported makes the module invalid at
//! deploy, and so does any import named `__gp_*` (reserved for the runtime).
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
use ghostplane_primitives::{
    AccountId, BlockNumber, CONTRACT_CODE_BYTES_MAX, ContractAddress, FailureReason, Hash32,
    STORAGE_VALUE_BYTES_MAX,
};
use wasmtime::{
    Caller, Config, Enabled, Engine, InstanceAllocationStrategy, InstancePre, Linker, Memory,
    Module, OperatorCost, PoolingAllocationConfig, Store, Trap, VariableOperatorCost, WasmFeatures,
};

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
/// for a recompile: a caller who cycles through more contracts than the cache holds
/// (about 500 of the largest) makes each call cost a compile for about 1/240 of its
/// price. Charging the compile price on every call instead would make a 10 KiB
/// contract cost 120 M fuel per call. The fix is a node-local store of compiled
/// artifacts (serialized at deploy, loaded on a miss), which does not exist yet.
pub const MODULE_LOAD_FUEL_PER_BYTE: u64 = 50;
/// Storage writes one call may make.
pub const STORAGE_WRITES_PER_CALL_MAX: usize = 256;
/// Events one call may emit.
pub const EVENTS_PER_CALL_MAX: usize = 64;
/// Largest event payload.
pub const EVENT_DATA_BYTES_MAX: usize = 1024;
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
/// Instances alive at once. The executor runs at most one call per thread, so this
/// bounds its thread count; exhausting the pool is an internal error, never a receipt.
pub const INSTANCE_POOL_SIZE: u32 = 128;

/// Errors of the runtime itself (not of a contract).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be configured.
    #[error("cannot configure wasmtime: {0}")]
    Config(String),
    /// Instantiation failed for a reason that is not the contract's fault.
    #[error("contract runtime failed: {0}")]
    Internal(String),
    /// State could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Data a contract call runs with; owned by the wasmtime `Store`.
pub(crate) struct HostCtx {
    pub(crate) view: TxView,
    contract: ContractAddress,
    caller: AccountId,
    block: BlockNumber,
    block_time_ms: u64,
    input: Vec<u8>,
    pub(crate) events: Vec<Event>,
    pub(crate) return_data: Vec<u8>,
    storage_writes: usize,
    /// A state read failed: the block cannot be executed on this node.
    store_error: Option<StoreError>,
}

impl HostCtx {
    fn new(
        view: TxView,
        contract: ContractAddress,
        caller: AccountId,
        block: BlockNumber,
        block_time_ms: u64,
        input: Vec<u8>,
    ) -> Self {
        Self {
            view,
            contract,
            caller,
            block,
            block_time_ms,
            input,
            events: Vec::new(),
            return_data: Vec::new(),
            storage_writes: 0,
            store_error: None,
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

/// The state store failed under a host call.
#[derive(Debug)]
struct HostStoreFailure;

impl std::fmt::Display for HostStoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("state store failed during a host call")
    }
}
impl std::error::Error for HostStoreFailure {}

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
    /// Estimated memory held, for the cache bound.
    cache_bytes: usize,
}

/// Fuel every call of a module of `code_len` bytes pays to load it.
fn load_fuel(code_len: usize) -> u64 {
    (code_len as u64).saturating_mul(MODULE_LOAD_FUEL_PER_BYTE)
}

/// The engine, the linked ABI and the compiled-module cache.
pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<HostCtx>,
    modules: ModuleCache<Compiled>,
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
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(INSTANCE_POOL_SIZE)
            .total_memories(INSTANCE_POOL_SIZE)
            .total_tables(INSTANCE_POOL_SIZE)
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
            .decommit_batch_size(INSTANCE_POOL_SIZE as usize);

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
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Config(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        link_abi(&mut linker).map_err(|e| RuntimeError::Config(e.to_string()))?;
        link_instrumentation(&mut linker).map_err(|e| RuntimeError::Config(e.to_string()))?;
        Ok(Self {
            engine,
            linker,
            modules: ModuleCache::new(bytes_max),
        })
    }

    /// How full the compiled-module cache is.
    pub fn module_cache_usage(&self) -> ModuleCacheUsage {
        self.modules.usage()
    }

    /// Rewrites and compiles `code`: it must be within the size limit, pass the
    /// rewrite's validation and bounds, compile under this configuration, import only
    /// the ABI and export `memory` and `call: () -> ()`.
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
        match module.get_export("call") {
            Some(wasmtime::ExternType::Func(func))
                if func.params().len() == 0 && func.results().len() == 0 => {}
            _ => return Err("module does not export a function `call: () -> ()`".into()),
        }
        let image = module.image_range();
        let image_bytes = (image.end as usize).saturating_sub(image.start as usize);
        Ok(Compiled {
            pre,
            code_len: code.len(),
            cache_bytes: image_bytes + code.len() + MODULE_CACHE_ENTRY_OVERHEAD_BYTES,
        })
    }

    /// Validates a contract module at deploy: [`Self::compile`], then one
    /// instantiation within the bounds. On success the module is cached under `hash`.
    pub fn validate(&self, hash: Hash32, code: &[u8]) -> Result<(), String> {
        let compiled = self.compile(code)?;
        // Instantiate once with no fuel: a module whose memories or tables do not fit
        // the pool fails here, at deploy, instead of at every call. (A start function
        // traps out of fuel at once, which is fine: resources were already allocated.)
        let probe = TxView::new(Arc::new(EmptyState), Default::default());
        let mut store = Store::new(
            &self.engine,
            HostCtx::new(
                probe,
                ContractAddress([0; 32]),
                AccountId::MAX,
                BlockNumber(0),
                0,
                Vec::new(),
            ),
        );
        store.set_fuel(0).map_err(|e| e.to_string())?;
        if let Err(e) = compiled.pre.instantiate(&mut store)
            && !e.is::<Trap>()
        {
            return Err(format!("module does not fit the instance limits: {e:#}"));
        }
        let bytes = compiled.cache_bytes;
        self.modules.insert(hash, compiled, bytes);
        Ok(())
    }

    /// Runs `call` of the contract whose code hash is `code_hash` with at most `fuel`
    /// (the load charge included).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn call(
        &self,
        mut view: TxView,
        code_hash: Hash32,
        contract: ContractAddress,
        caller: AccountId,
        block: BlockNumber,
        block_time_ms: u64,
        input: Vec<u8>,
        fuel: u64,
    ) -> Result<CallResult, RuntimeError> {
        let compiled = match self.modules.get(&code_hash) {
            Some(compiled) => compiled,
            None => {
                let code = match view.get(&StateKey::Code(code_hash))? {
                    Some(StateValue::Bytes(code)) => code,
                    _ => {
                        return Err(RuntimeError::Internal(format!(
                            "code {code_hash} of contract {contract} is missing"
                        )));
                    }
                };
                if fuel < load_fuel(code.len()) {
                    // Not even the load is paid for: do not compile.
                    let ctx = HostCtx::new(view, contract, caller, block, block_time_ms, input);
                    return Ok(CallResult {
                        ctx,
                        fuel_used: fuel,
                        outcome: Err(FailureReason::OutOfFuel { fuel_used: fuel }),
                    });
                }
                // The code passed validation at deploy, so compiling it again cannot
                // fail except for reasons internal to this node.
                let compiled = self.compile(&code).map_err(RuntimeError::Internal)?;
                self.modules
                    .insert(code_hash, compiled.clone(), compiled.cache_bytes);
                compiled
            }
        };
        let ctx = HostCtx::new(view, contract, caller, block, block_time_ms, input);
        let Some(fuel_after_load) = fuel.checked_sub(load_fuel(compiled.code_len)) else {
            return Ok(CallResult {
                ctx,
                fuel_used: fuel,
                outcome: Err(FailureReason::OutOfFuel { fuel_used: fuel }),
            });
        };
        let mut store = Store::new(&self.engine, ctx);
        store
            .set_fuel(fuel_after_load)
            .map_err(|e| RuntimeError::Internal(e.to_string()))?;
        let outcome = match compiled.pre.instantiate(&mut store) {
            Ok(instance) => match instance.get_typed_func::<(), ()>(&mut store, "call") {
                Ok(func) => func.call(&mut store, ()),
                Err(e) => Err(e),
            },
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
        if let Some(error) = ctx.store_error.take() {
            return Err(RuntimeError::Store(error));
        }
        let outcome = outcome.map_err(|e| classify(&e, fuel_used));
        Ok(CallResult {
            ctx,
            fuel_used,
            outcome,
        })
    }
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
            caller.data_mut().store_error = Some(error);
            Err(wasmtime::Error::new(HostStoreFailure))
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
            let contract = caller.data().contract;
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
            if caller.data().storage_writes >= STORAGE_WRITES_PER_CALL_MAX {
                return Err(violation(format!(
                    "more than {STORAGE_WRITES_PER_CALL_MAX} storage writes in one call"
                )));
            }
            let key = key32(&mut caller, key_ptr)?;
            let value = read_bytes(&mut caller, val_ptr, len)?;
            let ctx = caller.data_mut();
            ctx.storage_writes += 1;
            let value = (!value.is_empty()).then(|| StateValue::Bytes(Arc::from(value)));
            ctx.view.put(StateKey::Storage(ctx.contract, key), value);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "caller",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i32> {
            charge(&mut caller, 10)?;
            Ok(caller.data().caller.get() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "block_number",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i64> {
            charge(&mut caller, 10)?;
            Ok(caller.data().block.0 as i64)
        },
    )?;
    linker.func_wrap(
        "env",
        "block_time",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i64> {
            charge(&mut caller, 10)?;
            Ok(caller.data().block_time_ms as i64)
        },
    )?;
    linker.func_wrap(
        "env",
        "input_len",
        |mut caller: Caller<'_, HostCtx>| -> HostResult<i32> {
            charge(&mut caller, 10)?;
            Ok(caller.data().input.len() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "input_read",
        |mut caller: Caller<'_, HostCtx>, ptr: i32| -> HostResult<()> {
            let input = std::mem::take(&mut caller.data_mut().input);
            let result = charge(&mut caller, 100 + input.len() as u64)
                .and_then(|()| write_bytes(&mut caller, ptr, &input));
            caller.data_mut().input = input;
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
                    "more than {EVENTS_PER_CALL_MAX} events in one call"
                )));
            }
            let topic = key32(&mut caller, topic_ptr)?;
            let data = read_bytes(&mut caller, data_ptr, len)?;
            let ctx = caller.data_mut();
            let contract = ctx.contract;
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
    Ok(())
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

    fn call(runtime: &WasmRuntime, codes: &Overlay, hash: Hash32, fuel: u64) -> CallResult {
        let view = TxView::new(Arc::new(EmptyState), codes.clone());
        runtime
            .call(
                view,
                hash,
                ContractAddress([1; 32]),
                AccountId::MAX,
                BlockNumber(1),
                0,
                Vec::new(),
                fuel,
            )
            .unwrap()
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
