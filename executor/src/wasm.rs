//! The contract runtime: wasmtime configured for determinism, the host ABI, module
//! validation and the compiled-module cache.
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
//! deploy.
//!
//! ## Determinism and bounds
//!
//! Fuel metering is on and is the gas; SIMD, relaxed SIMD, threads and every other
//! post-MVP proposal that could differ between hosts are off; NaN canonicalization is
//! on. Memories are bounded to [`WASM_MEMORY_BYTES_MAX`], tables to
//! [`WASM_TABLE_ELEMENTS_MAX`], the wasm stack to [`WASM_STACK_BYTES_MAX`], and
//! instances come from a fixed pool. A contract may make at most
//! [`STORAGE_WRITES_PER_CALL_MAX`] storage writes, emit at most [`EVENTS_PER_CALL_MAX`]
//! events and return at most [`RETURN_BYTES_MAX`] bytes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ghostplane_primitives::block::Event;
use ghostplane_primitives::{
    AccountId, BlockNumber, CONTRACT_CODE_BYTES_MAX, ContractAddress, FailureReason, Hash32,
    STORAGE_VALUE_BYTES_MAX,
};
use wasmtime::{
    Caller, Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Memory, Module,
    PoolingAllocationConfig, Store, Trap,
};

use crate::state::{StateKey, StateValue, StoreError};
use crate::view::TxView;

/// Largest linear memory a contract may have (4 MiB = 64 pages).
pub const WASM_MEMORY_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Largest table a contract may have.
pub const WASM_TABLE_ELEMENTS_MAX: usize = 1024;
/// Largest wasm stack (recursion deeper than this traps).
pub const WASM_STACK_BYTES_MAX: usize = 256 * 1024;
/// Storage writes one call may make.
pub const STORAGE_WRITES_PER_CALL_MAX: usize = 256;
/// Events one call may emit.
pub const EVENTS_PER_CALL_MAX: usize = 64;
/// Largest event payload.
pub const EVENT_DATA_BYTES_MAX: usize = 1024;
/// Largest return data (also bounds revert data).
pub const RETURN_BYTES_MAX: usize = 4096;
/// Compiled modules kept in memory; the cache is cleared when it grows past this.
pub const MODULE_CACHE_ENTRIES_MAX: usize = 1024;
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

/// The engine, the linked ABI and the compiled-module cache.
pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<HostCtx>,
    modules: RwLock<HashMap<Hash32, InstancePre<HostCtx>>>,
}

impl WasmRuntime {
    /// A runtime with the deterministic configuration described in the module docs.
    pub fn new() -> Result<Self, RuntimeError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(INSTANCE_POOL_SIZE)
            .total_memories(INSTANCE_POOL_SIZE)
            .total_tables(INSTANCE_POOL_SIZE)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .max_memory_size(WASM_MEMORY_BYTES_MAX)
            .table_elements(WASM_TABLE_ELEMENTS_MAX)
            .max_core_instance_size(1024 * 1024);

        // Threads (shared memories, atomics), the component model, GC, reference types
        // and exceptions are not compiled into wasmtime at all (its `threads`,
        // `component-model` and `gc` cargo features are off), so modules using them
        // fail validation. Everything else that could differ between hosts is turned
        // off here explicitly.
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .wasm_simd(false)
            .wasm_relaxed_simd(false)
            .wasm_multi_memory(false)
            .wasm_memory64(false)
            .wasm_gc(false)
            .wasm_tail_call(false)
            .wasm_wide_arithmetic(false)
            .wasm_custom_page_sizes(false)
            .wasm_stack_switching(false)
            .wasm_bulk_memory(true)
            .wasm_multi_value(true)
            .cranelift_nan_canonicalization(true)
            .max_wasm_stack(WASM_STACK_BYTES_MAX)
            // Memories are small: reserve exactly the bound (explicit bounds checks)
            // rather than 4 GiB of address space per pooled slot.
            .memory_reservation(WASM_MEMORY_BYTES_MAX as u64)
            .memory_guard_size(64 * 1024)
            .memory_reservation_for_growth(0)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Config(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        link_abi(&mut linker).map_err(|e| RuntimeError::Config(e.to_string()))?;
        Ok(Self {
            engine,
            linker,
            modules: RwLock::new(HashMap::new()),
        })
    }

    /// Compiles and validates a contract module: it must compile under this
    /// configuration, import only the ABI, export `memory` and `call: () -> ()`, and
    /// instantiate within the bounds. On success the module is cached under `hash`.
    pub(crate) fn validate(&self, hash: Hash32, code: &[u8]) -> Result<(), String> {
        if code.len() > CONTRACT_CODE_BYTES_MAX {
            return Err(format!(
                "module is {} bytes, over the {CONTRACT_CODE_BYTES_MAX}-byte limit",
                code.len()
            ));
        }
        let module = Module::new(&self.engine, code).map_err(|e| format!("{e:#}"))?;
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
        if let Err(e) = pre.instantiate(&mut store)
            && !e.is::<Trap>()
        {
            return Err(format!("module does not fit the instance limits: {e:#}"));
        }
        self.cache(hash, pre);
        Ok(())
    }

    fn cache(&self, hash: Hash32, pre: InstancePre<HostCtx>) {
        // A poisoned lock only means another thread panicked mid-insert; the map is
        // still a valid cache.
        let mut modules = self.modules.write().unwrap_or_else(|e| e.into_inner());
        if modules.len() >= MODULE_CACHE_ENTRIES_MAX {
            modules.clear();
        }
        modules.insert(hash, pre);
    }

    fn cached(&self, hash: &Hash32) -> Option<InstancePre<HostCtx>> {
        self.modules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
            .cloned()
    }

    /// Runs `call` of the contract whose code hash is `code_hash` with at most `fuel`.
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
        let pre = match self.cached(&code_hash) {
            Some(pre) => pre,
            None => {
                let code = match view.get(&StateKey::Code(code_hash))? {
                    Some(StateValue::Bytes(code)) => code,
                    _ => {
                        return Err(RuntimeError::Internal(format!(
                            "code {code_hash} of contract {contract} is missing"
                        )));
                    }
                };
                // The code passed validation at deploy, so compiling it again cannot
                // fail except for reasons internal to this node.
                self.validate(code_hash, &code)
                    .map_err(RuntimeError::Internal)?;
                self.cached(&code_hash).ok_or_else(|| {
                    RuntimeError::Internal("module cache lost a module just inserted".into())
                })?
            }
        };
        let ctx = HostCtx::new(view, contract, caller, block, block_time_ms, input);
        let mut store = Store::new(&self.engine, ctx);
        store
            .set_fuel(fuel)
            .map_err(|e| RuntimeError::Internal(e.to_string()))?;
        let outcome = match pre.instantiate(&mut store) {
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
