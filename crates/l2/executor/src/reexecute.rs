//! Stateless re-execution of one contract transaction from its pubdata: what every
//! L1 validator runs when it commits a batch, with the same rules and runtime code
//! as the sequencer (this crate; no copy).
//!
//! ```text
//! ContractTx | FeeOnly { tx, fee_paid, … } ‖ ContractTrace { block, time, reads,
//!   │  balances, … } ‖ ContractMove*
//!   ▼ TraceState: the sender's account as the transaction needs it (key, nonce),
//!   │  storage from trace.reads (a slot not listed is absent), balances from
//!   │  trace.balances (one not listed is 0), contracts, code and other accounts
//!   │  from the caller's ReexecutionStore (the L1's records), the next account id
//!   │  from the caller (the L1's count at the op)
//!   ▼ rules::transaction, on a thread with the executor's stack
//! the ops it produces ── must equal the posted ones exactly
//! ```
//!
//! The comparison is the caller's (the L1's rollup module): equal ops mean the
//! posted writes, events, moves, outcome, fuel and fee are what the code does given
//! the posted reads and balances (a read the trace leaves out is re-executed as
//! absent or 0, and then recorded, so the traces differ); the proofs then bind the
//! reads, balances, writes and moves to the state.
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
    TokenId,
};

use crate::block::BlockItem;
use crate::error::ExecError;
use crate::fees::Prices;
use crate::rules::{Env, execute_item};
use crate::state::{AccountRecord, ContractRecord, StateKey, StateReader, StateValue, StoreError};
use crate::view::Overlay;
use crate::wasm::WasmRuntime;
use ghostplane_primitives::tx::contract_account_key;

/// What a re-execution asks of the re-executing node's records: deployed
/// contracts, their code, and the accounts contracts pay.
pub trait ReexecutionStore {
    /// The contract at `address`, if one is deployed.
    fn contract(&self, address: &ContractAddress) -> Result<Option<ContractRecord>, StoreError>;
    /// The code with `hash`, if stored.
    fn code(&self, hash: &Hash32) -> Result<Option<Arc<[u8]>>, StoreError>;
    /// Account `id`, if it exists: its key and whether it is a contract's. (Its
    /// nonce is not asked: no contract reads one, and the L1 tracks them.)
    fn account(
        &self,
        id: AccountId,
    ) -> Result<Option<(ghostplane_primitives::PublicKey, bool)>, StoreError>;
}

/// One contract transaction to re-execute.
#[derive(Debug, Clone, Copy)]
pub struct ReexecutionJob<'a> {
    /// The signed deploy or call (its signature already verified).
    pub signed: &'a SignedTransaction,
    /// Its posted trace.
    pub trace: &'a ContractTrace,
    /// The next free account id where its op stands in the batch (a deploy takes
    /// it).
    pub next_account: u32,
}

/// What re-executing one contract transaction produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reexecuted {
    /// Its pubdata ops (`ContractTx` or `FeeOnly`, its `ContractTrace`, its
    /// `ContractMove`s), to compare with the posted.
    pub ops: Vec<PubdataOp>,
    /// The contract a successful deploy created.
    pub deployed: Option<(ContractAddress, ContractRecord)>,
}

/// Re-executes contract transactions; owns a runtime and one thread with the
/// executor's stack (contracts never run on the caller's thread).
pub struct Reexecutor {
    runtime: Arc<WasmRuntime>,
    thread: rayon::ThreadPool,
}

/// A code lookup sent to the calling thread, with where to answer.
enum Lookup {
    Contract(
        ContractAddress,
        Sender<Result<Option<ContractRecord>, StoreError>>,
    ),
    Code(Hash32, Sender<Result<Option<Arc<[u8]>>, StoreError>>),
    Account(
        AccountId,
        Sender<Result<Option<(ghostplane_primitives::PublicKey, bool)>, StoreError>>,
    ),
}

impl Reexecutor {
    /// A re-executor with its own runtime (and compiled-module cache, in memory
    /// only: for tests and tools).
    pub fn new() -> Result<Self, ExecError> {
        Ok(Self {
            runtime: Arc::new(WasmRuntime::new()?),
            thread: crate::executor::thread_pool(1)?,
        })
    }

    /// A node's re-executor: its runtime keeps compiled artifacts in `dir`
    /// ([`WasmRuntime::with_artifacts`]), so a batch calling many contracts loads
    /// them instead of compiling them (each was compiled when its deploy was
    /// re-executed).
    pub fn with_artifacts(dir: &std::path::Path) -> Result<Self, ExecError> {
        Ok(Self {
            runtime: Arc::new(WasmRuntime::with_artifacts(dir)?),
            thread: crate::executor::thread_pool(1)?,
        })
    }

    /// What its compiled-artifact store did so far (`None` without one).
    pub fn artifact_stats(&self) -> Option<crate::wasm::ArtifactStats> {
        self.runtime.artifact_stats()
    }

    /// Re-executes `signed` (a `Deploy` or `Call`) as `trace` says it ran: in its
    /// block and time, against its reads, with `code` for contracts and code.
    /// Errors: the transaction is not a contract transaction, or it would be dropped
    /// (then the posted ops cannot be right), or this node failed.
    pub fn reexecute(
        &self,
        job: ReexecutionJob<'_>,
        prices: Prices,
        store: &dyn ReexecutionStore,
    ) -> Result<Reexecuted, ExecError> {
        let mut all = self.reexecute_all(&[job], prices, store)?;
        all.pop().unwrap_or(Err(ExecError::NotAContractTransaction))
    }

    /// Re-executes each of `txs` in order, in one hand-off to the re-executor's
    /// thread: a deploy earlier in `txs` is seen by later ones (as its re-execution
    /// made it), and each contract's code is asked of `store` once. The outer error
    /// is this node's failure; each inner one a verdict on that transaction (see
    /// [`Reexecutor::reexecute`]).
    pub fn reexecute_all(
        &self,
        txs: &[ReexecutionJob<'_>],
        prices: Prices,
        store: &dyn ReexecutionStore,
    ) -> Result<Vec<Result<Reexecuted, ExecError>>, ExecError> {
        let (lookups, requests) = crossbeam_channel::bounded::<Lookup>(1);
        let (done, result) = crossbeam_channel::bounded(1);
        let jobs: Vec<(SignedTransaction, ContractTrace, u32)> = txs
            .iter()
            .map(|job| (job.signed.clone(), job.trace.clone(), job.next_account))
            .collect();
        let runtime = Arc::clone(&self.runtime);
        self.thread.spawn(move || {
            let known = Arc::new(Known::new(lookups));
            let outcomes: Result<Vec<_>, ExecError> = jobs
                .iter()
                .map(|(signed, trace, next)| {
                    run_one(&runtime, prices, &known, signed, trace, *next)
                })
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
                        let _ = answer.send(store.contract(&address));
                    }
                    Ok(Lookup::Code(hash, answer)) => {
                        let _ = answer.send(store.code(&hash));
                    }
                    Ok(Lookup::Account(id, answer)) => {
                        let _ = answer.send(store.account(id));
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
    prices: Prices,
    known: &Arc<Known>,
    signed: &SignedTransaction,
    trace: &ContractTrace,
    next_account: u32,
) -> Result<Result<Reexecuted, ExecError>, ExecError> {
    if !signed.tx.is_contract() {
        return Ok(Err(ExecError::NotAContractTransaction));
    }
    let env = Env {
        runtime,
        block: trace.block,
        timestamp_ms: trace.time_ms,
        prices,
        // One transaction at a time: the batch bound is the L1's to check.
        block_fuel_max: u64::MAX,
    };
    let state = TraceState::new(signed, trace, next_account, Arc::clone(known));
    let item = BlockItem::transaction(signed.clone());
    let (outcome, _) = execute_item(&env, &item, Arc::new(state), Overlay::default())?;
    let included = match outcome.result {
        Ok(included) => included,
        Err(reason) => return Ok(Err(ExecError::DroppedOnReexecution(reason.to_string()))),
    };
    let mut deployed = None;
    for (key, value) in &outcome.writes {
        match (key, value) {
            (StateKey::Contract(address), Some(StateValue::Contract(record))) => {
                deployed = Some((*address, *record));
            }
            (StateKey::Code(hash), Some(StateValue::Bytes(bytes))) => {
                known.learn_code(*hash, Arc::clone(bytes));
            }
            _ => {}
        }
    }
    if let Some((address, record)) = deployed {
        known.learn_contract(address, record);
    }
    Ok(Ok(Reexecuted {
        ops: included
            .op
            .into_iter()
            .chain(included.trace)
            .chain(included.moves)
            .collect(),
        deployed,
    }))
}

/// What the re-executor's thread knows of contracts and code: a contract's code hash
/// asked of the caller once (at most one entry per contract the batch touches), or
/// learnt from a deploy earlier in the run.
struct Known {
    lookups: Sender<Lookup>,
    contracts: Mutex<HashMap<ContractAddress, Option<ContractRecord>>>,
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

    fn learn_contract(&self, address: ContractAddress, record: ContractRecord) {
        if let Ok(mut contracts) = self.contracts.lock() {
            contracts.insert(address, Some(record));
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

    fn contract(&self, address: &ContractAddress) -> Result<Option<ContractRecord>, StoreError> {
        let cached = self
            .contracts
            .lock()
            .ok()
            .and_then(|c| c.get(address).copied());
        if let Some(record) = cached {
            return Ok(record);
        }
        let record = self.ask(|answer| Lookup::Contract(*address, answer))??;
        if let Ok(mut contracts) = self.contracts.lock() {
            contracts.insert(*address, record);
        }
        Ok(record)
    }

    /// Account `id`: a contract deployed earlier in the run, else the caller's.
    fn account(&self, id: AccountId) -> Result<Option<StateValue>, StoreError> {
        let deployed = self.contracts.lock().ok().and_then(|c| {
            c.iter().find_map(|(address, record)| {
                record
                    .filter(|r| r.account == id)
                    .map(|_| contract_account_key(address))
            })
        });
        let found = match deployed {
            Some(key) => Some((key, true)),
            None => self.ask(|answer| Lookup::Account(id, answer))??,
        };
        // The nonce is not asked (see `ReexecutionStore::account`).
        Ok(found.map(|(public_key, contract)| {
            let record = AccountRecord::user(public_key);
            if contract {
                StateValue::ContractAccount(record)
            } else {
                StateValue::Account(record)
            }
        }))
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
    storage: ReadSet,
    balances: HashMap<(AccountId, TokenId), Amount>,
    next_account: u32,
    known: Arc<Known>,
}

impl TraceState {
    fn new(
        signed: &SignedTransaction,
        trace: &ContractTrace,
        next_account: u32,
        known: Arc<Known>,
    ) -> Self {
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
        let balances = trace
            .balances
            .iter()
            .map(|read| ((read.account, read.token), read.amount))
            .collect();
        Self {
            from: signed.tx.from(),
            account: AccountRecord {
                nonce: signed.tx.nonce(),
                ..AccountRecord::user(signed.signer)
            },
            storage,
            balances,
            next_account,
            known,
        }
    }
}

impl StateReader for TraceState {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        Ok(match key {
            StateKey::Account(id) if *id == self.from => Some(StateValue::Account(self.account)),
            StateKey::Account(id) => self.known.account(*id)?,
            StateKey::Balance(id, token) => self
                .balances
                .get(&(*id, *token))
                .map(|amount| StateValue::Balance(*amount)),
            StateKey::Storage(contract, slot) => self
                .storage
                .get(&(*contract, *slot))
                .cloned()
                .flatten()
                .map(StateValue::Bytes),
            StateKey::Contract(address) => self.known.contract(address)?.map(StateValue::Contract),
            StateKey::Code(hash) => self.known.code(hash)?.map(StateValue::Bytes),
            StateKey::NextAccountId => Some(StateValue::Counter(self.next_account)),
            StateKey::KeyIndex(_) => None,
        })
    }
}
