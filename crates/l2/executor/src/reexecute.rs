//! Stateless re-execution of one contract transaction from its pubdata: what every
//! L1 validator runs when it commits a batch, with the same rules and runtime code
//! as the sequencer (this crate; no copy).
//!
//! ```text
//! FeeOnly { fee_paid, tx, signature } ‖ ContractTrace { block, time, reads, … }
//!   ▼ TraceState: the sender's account as the transaction needs it (key, nonce,
//!   │  GCC = its fee), storage from trace.reads (a slot not listed is absent),
//!   │  contracts and code from the caller's CodeStore (the L1's records)
//!   ▼ rules::transaction, on a thread with the executor's stack
//! the ops it produces ── must equal the posted FeeOnly and ContractTrace exactly
//! ```
//!
//! The comparison is the caller's (the L1's rollup module): equal ops mean the
//! posted writes, events, outcome, fuel and fee are what the code does given the
//! posted reads; the proofs then bind the reads and writes to the state.
//!
//! The contract runs on the re-executor's own thread (sized like the executor's:
//! wasm stack bound plus host frames). Its code lookups come back to the calling
//! thread over a channel and are answered there from the caller's [`CodeStore`],
//! so the store may borrow the caller's state (it need be neither `Send` nor
//! `'static`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;

use ghostplane_primitives::{
    AccountId, Amount, ContractAddress, ContractTrace, Hash32, PubdataOp, SignedTransaction,
    TokenId, Transaction,
};

use crate::block::BlockItem;
use crate::error::ExecError;
use crate::rules::{Env, execute_item};
use crate::state::{AccountRecord, StateKey, StateReader, StateValue, StoreError};
use crate::view::Overlay;
use crate::wasm::WasmRuntime;

/// The prices a rollup's genesis fixes for contract transactions (the sequencer's
/// executor must use the same, or the L1 refuses its contract batches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractPrices {
    /// GCC base units per unit of fuel.
    pub fuel_price: Amount,
    /// Least fee any included transaction pays.
    pub fee_min: Amount,
}

/// Deployed contracts and their code, as the re-executing node records them.
pub trait CodeStore {
    /// The code hash of the contract at `address`, if one is deployed.
    fn code_hash(&self, address: &ContractAddress) -> Result<Option<Hash32>, StoreError>;
    /// The code with `hash`, if stored.
    fn code(&self, hash: &Hash32) -> Result<Option<Arc<[u8]>>, StoreError>;
}

/// What re-executing one contract transaction produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reexecuted {
    /// Its pubdata ops (`FeeOnly` then `ContractTrace`), to compare with the posted.
    pub ops: Vec<PubdataOp>,
    /// The contract a successful deploy created, and its code hash.
    pub deployed: Option<(ContractAddress, Hash32)>,
}

/// Re-executes contract transactions; owns a runtime and one thread with the
/// executor's stack (contracts never run on the caller's thread).
pub struct Reexecutor {
    runtime: Arc<WasmRuntime>,
    thread: rayon::ThreadPool,
}

/// A code lookup sent to the calling thread, with where to answer.
enum Lookup {
    Contract(ContractAddress, Sender<Result<Option<Hash32>, StoreError>>),
    Code(Hash32, Sender<Result<Option<Arc<[u8]>>, StoreError>>),
}

impl Reexecutor {
    /// A re-executor with its own runtime (and compiled-module cache).
    pub fn new() -> Result<Self, ExecError> {
        Ok(Self {
            runtime: Arc::new(WasmRuntime::new()?),
            thread: crate::executor::thread_pool(1)?,
        })
    }

    /// Re-executes `signed` (a `Deploy` or `Call`) as `trace` says it ran: in its
    /// block and time, against its reads, with `code` for contracts and code.
    /// Errors: the transaction is not a contract transaction, or it would be dropped
    /// (then the posted ops cannot be right), or this node failed.
    pub fn reexecute(
        &self,
        signed: &SignedTransaction,
        trace: &ContractTrace,
        prices: ContractPrices,
        code: &dyn CodeStore,
    ) -> Result<Reexecuted, ExecError> {
        let mut all = self.reexecute_all(&[(signed, trace)], prices, code)?;
        all.pop().unwrap_or(Err(ExecError::NotAContractTransaction))
    }

    /// Re-executes each of `txs` in order, in one hand-off to the re-executor's
    /// thread: a deploy earlier in `txs` is seen by later ones (as its re-execution
    /// made it), and each contract's code is asked of `code` once. The outer error
    /// is this node's failure; each inner one a verdict on that transaction (see
    /// [`Reexecutor::reexecute`]).
    pub fn reexecute_all(
        &self,
        txs: &[(&SignedTransaction, &ContractTrace)],
        prices: ContractPrices,
        code: &dyn CodeStore,
    ) -> Result<Vec<Result<Reexecuted, ExecError>>, ExecError> {
        let (lookups, requests) = crossbeam_channel::bounded::<Lookup>(1);
        let (done, result) = crossbeam_channel::bounded(1);
        let jobs: Vec<(SignedTransaction, ContractTrace)> = txs
            .iter()
            .map(|(signed, trace)| ((*signed).clone(), (*trace).clone()))
            .collect();
        let runtime = Arc::clone(&self.runtime);
        self.thread.spawn(move || {
            let known = Arc::new(Known::new(lookups));
            let outcomes: Result<Vec<_>, ExecError> = jobs
                .iter()
                .map(|(signed, trace)| run_one(&runtime, prices, &known, signed, trace))
                .collect();
            drop(known);
            // The caller waits for this; if it is gone there is no one to tell.
            let _ = done.send(outcomes);
        });
        // Serve the contracts' code lookups until the run is done.
        let outcomes = loop {
            crossbeam_channel::select! {
                recv(requests) -> lookup => match lookup {
                    Ok(Lookup::Contract(address, answer)) => {
                        let _ = answer.send(code.code_hash(&address));
                    }
                    Ok(Lookup::Code(hash, answer)) => {
                        let _ = answer.send(code.code(&hash));
                    }
                    // The lookups' sender is dropped with the run: the result is
                    // on its way.
                    Err(_) => break result.recv(),
                },
                recv(result) -> outcome => break outcome,
            }
        };
        outcomes.map_err(|_| {
            ExecError::Store(StoreError::CodeStore(
                "the re-execution thread stopped without a result".into(),
            ))
        })?
    }
}

/// Runs one transaction on the re-executor's thread. `Err` is this node's failure;
/// `Ok(Err)` a verdict.
fn run_one(
    runtime: &WasmRuntime,
    prices: ContractPrices,
    known: &Arc<Known>,
    signed: &SignedTransaction,
    trace: &ContractTrace,
) -> Result<Result<Reexecuted, ExecError>, ExecError> {
    if !matches!(
        signed.tx,
        Transaction::Deploy { .. } | Transaction::Call { .. }
    ) {
        return Ok(Err(ExecError::NotAContractTransaction));
    }
    let env = Env {
        runtime,
        block: trace.block,
        timestamp_ms: trace.time_ms,
        fuel_price: prices.fuel_price,
        fee_min: prices.fee_min,
        // One transaction at a time: the batch bound is the L1's to check.
        block_fuel_max: u64::MAX,
    };
    let state = TraceState::new(signed, trace, Arc::clone(known));
    let item = BlockItem::transaction(signed.clone());
    let (outcome, _) = execute_item(&env, &item, Arc::new(state), Overlay::default())?;
    let included = match outcome.result {
        Ok(included) => included,
        Err(reason) => return Ok(Err(ExecError::DroppedOnReexecution(reason.to_string()))),
    };
    let mut deployed = None;
    for (key, value) in &outcome.writes {
        match (key, value) {
            (StateKey::Contract(address), Some(StateValue::CodeHash(hash))) => {
                deployed = Some((*address, *hash));
            }
            (StateKey::Code(hash), Some(StateValue::Bytes(bytes))) => {
                known.learn_code(*hash, Arc::clone(bytes));
            }
            _ => {}
        }
    }
    if let Some((address, hash)) = deployed {
        known.learn_contract(address, hash);
    }
    Ok(Ok(Reexecuted {
        ops: included.op.into_iter().chain(included.trace).collect(),
        deployed,
    }))
}

/// What the re-executor's thread knows of contracts and code: a contract's code hash
/// asked of the caller once (at most one entry per contract the batch touches), or
/// learnt from a deploy earlier in the run.
struct Known {
    lookups: Sender<Lookup>,
    contracts: Mutex<HashMap<ContractAddress, Option<Hash32>>>,
    /// Code of the run's own deploys (bounded by the batch's deploy bytes).
    codes: Mutex<HashMap<Hash32, Arc<[u8]>>>,
}

impl Known {
    fn new(lookups: Sender<Lookup>) -> Self {
        Self {
            lookups,
            contracts: Mutex::default(),
            codes: Mutex::default(),
        }
    }

    fn learn_contract(&self, address: ContractAddress, hash: Hash32) {
        if let Ok(mut contracts) = self.contracts.lock() {
            contracts.insert(address, Some(hash));
        }
    }

    fn learn_code(&self, hash: Hash32, code: Arc<[u8]>) {
        if let Ok(mut codes) = self.codes.lock() {
            codes.insert(hash, code);
        }
    }

    /// Asks the calling thread, and waits for its answer.
    fn ask<T>(&self, lookup: impl FnOnce(Sender<T>) -> Lookup) -> Result<T, StoreError> {
        let (answer, reply) = crossbeam_channel::bounded(1);
        let gone = || StoreError::CodeStore("the re-executing caller went away".into());
        self.lookups.send(lookup(answer)).map_err(|_| gone())?;
        reply.recv().map_err(|_| gone())
    }

    fn code_hash(&self, address: &ContractAddress) -> Result<Option<Hash32>, StoreError> {
        let cached = self
            .contracts
            .lock()
            .ok()
            .and_then(|c| c.get(address).copied());
        if let Some(hash) = cached {
            return Ok(hash);
        }
        let hash = self.ask(|answer| Lookup::Contract(*address, answer))??;
        if let Ok(mut contracts) = self.contracts.lock() {
            contracts.insert(*address, hash);
        }
        Ok(hash)
    }

    /// Code deployed earlier in the run, else the caller's. Not kept: the runtime
    /// asks only on a compiled-module cache miss and keeps what it compiles (bounded
    /// in bytes), so the run holds no more code than its own deploys.
    fn code(&self, hash: &Hash32) -> Result<Option<Arc<[u8]>>, StoreError> {
        let learnt = self.codes.lock().ok().and_then(|c| c.get(hash).cloned());
        match learnt {
            Some(code) => Ok(Some(code)),
            None => self.ask(|answer| Lookup::Code(*hash, answer))?,
        }
    }
}

/// Storage slots by contract and key, with the value read (`None`: absent).
type ReadSet = HashMap<(ContractAddress, [u8; 32]), Option<Arc<[u8]>>>;

/// The state a re-executed transaction sees.
struct TraceState {
    from: AccountId,
    account: AccountRecord,
    fee: Amount,
    storage: ReadSet,
    known: Arc<Known>,
}

impl TraceState {
    fn new(signed: &SignedTransaction, trace: &ContractTrace, known: Arc<Known>) -> Self {
        let storage = trace
            .reads
            .iter()
            .map(|slot| {
                (
                    (slot.contract, slot.key.0),
                    slot.value.as_deref().map(Arc::from),
                )
            })
            .collect();
        Self {
            from: signed.tx.from(),
            account: AccountRecord {
                public_key: signed.signer,
                nonce: signed.tx.nonce(),
            },
            fee: signed.tx.fee(),
            storage,
            known,
        }
    }
}

impl StateReader for TraceState {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        Ok(match key {
            StateKey::Account(id) if *id == self.from => Some(StateValue::Account(self.account)),
            // Exactly the fee: what the sender must hold for the transaction to be
            // included; the refund it gets back is not in the pubdata.
            StateKey::Balance(id, TokenId::Gcc) if *id == self.from => {
                Some(StateValue::Balance(self.fee))
            }
            StateKey::Storage(contract, slot) => self
                .storage
                .get(&(*contract, *slot))
                .cloned()
                .flatten()
                .map(StateValue::Bytes),
            StateKey::Contract(address) => self.known.code_hash(address)?.map(StateValue::CodeHash),
            StateKey::Code(hash) => self.known.code(hash)?.map(StateValue::Bytes),
            _ => None,
        })
    }
}
