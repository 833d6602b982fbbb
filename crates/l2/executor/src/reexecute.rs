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
use std::sync::Arc;

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
        if !matches!(
            signed.tx,
            Transaction::Deploy { .. } | Transaction::Call { .. }
        ) {
            return Err(ExecError::NotAContractTransaction);
        }
        let (lookups, requests) = crossbeam_channel::bounded::<Lookup>(1);
        let (done, result) = crossbeam_channel::bounded(1);
        let state = TraceState::new(signed, trace, lookups);
        let runtime = Arc::clone(&self.runtime);
        let item = BlockItem::transaction(signed.clone());
        let (block, timestamp_ms) = (trace.block, trace.time_ms);
        self.thread.spawn(move || {
            let env = Env {
                runtime: &runtime,
                block,
                timestamp_ms,
                fuel_price: prices.fuel_price,
                fee_min: prices.fee_min,
                // One transaction: the batch bound is the L1's to check.
                block_fuel_max: u64::MAX,
            };
            let outcome = execute_item(&env, &item, Arc::new(state), Overlay::default());
            // The caller waits for this; if it is gone there is no one to tell.
            let _ = done.send(outcome.map(|(outcome, _)| outcome));
        });
        // Serve the contract's code lookups until it is done.
        let outcome = loop {
            crossbeam_channel::select! {
                recv(requests) -> lookup => match lookup {
                    Ok(Lookup::Contract(address, answer)) => {
                        let _ = answer.send(code.code_hash(&address));
                    }
                    Ok(Lookup::Code(hash, answer)) => {
                        let _ = answer.send(code.code(&hash));
                    }
                    // The state (and its sender) is dropped with the run: the
                    // result is on its way.
                    Err(_) => break result.recv(),
                },
                recv(result) -> outcome => break outcome,
            }
        };
        let outcome = outcome.map_err(|_| {
            ExecError::Store(StoreError::CodeStore(
                "the re-execution thread stopped without a result".into(),
            ))
        })??;
        let included = outcome
            .result
            .map_err(|reason| ExecError::DroppedOnReexecution(reason.to_string()))?;
        let deployed = outcome
            .writes
            .iter()
            .find_map(|(key, value)| match (key, value) {
                (StateKey::Contract(address), Some(StateValue::CodeHash(hash))) => {
                    Some((*address, *hash))
                }
                _ => None,
            });
        Ok(Reexecuted {
            ops: included.ops,
            deployed,
        })
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
    lookups: Sender<Lookup>,
}

impl TraceState {
    fn new(signed: &SignedTransaction, trace: &ContractTrace, lookups: Sender<Lookup>) -> Self {
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
            lookups,
        }
    }

    /// Asks the calling thread, and waits for its answer.
    fn ask<T>(&self, lookup: impl FnOnce(Sender<T>) -> Lookup) -> Result<T, StoreError> {
        let (answer, reply) = crossbeam_channel::bounded(1);
        let gone = || StoreError::CodeStore("the re-executing caller went away".into());
        self.lookups.send(lookup(answer)).map_err(|_| gone())?;
        reply.recv().map_err(|_| gone())
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
            StateKey::Contract(address) => self
                .ask(|answer| Lookup::Contract(*address, answer))??
                .map(StateValue::CodeHash),
            StateKey::Code(hash) => self
                .ask(|answer| Lookup::Code(*hash, answer))??
                .map(StateValue::Bytes),
            _ => None,
        })
    }
}
