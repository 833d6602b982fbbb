//! Read calls (`l2_call`): a contract's `call` export run against the latest
//! committed state, with no transaction, no fee and no nonce.
//!
//! # What a read call is
//!
//! - **A simulation, then discarded.** The call runs exactly as a transaction's
//!   call would (same runtime, same host ABI, same fuel table, sub-calls included)
//!   over a private overlay of the committed state. Whatever it writes (storage,
//!   balances a `transfer` would move, events) is reported and thrown away: nothing
//!   reaches the store. So a read call of a state-changing method answers "what
//!   would this return now", as Ethereum's `eth_call` does.
//! - **Context.** `caller()` is the `from` account the request names (default
//!   [`READ_CALLER_NONE`], an id no account has); the block number and time are the
//!   last executed block's; no value comes with the call.
//! - **Consistency.** Each state read sees one committed block (a block commits in
//!   one RocksDB write batch). A block committed while a call runs may be visible
//!   to its later reads: reads are not pinned to one block (known gap).
//!
//! # Fee estimates
//!
//! [`ReadCaller::estimate`] answers `l2_estimateFee`: a native transaction's
//! floor ([`crate::fees::native_floor`]), or a deploy or call run exactly as the
//! executor would include it next (the sender's key and nonce, all of its GCC
//! but a GCC value as the maximum fee, the next block's number) on a private overlay, and its
//! charge in parts. Offering that total, the same transaction on the same state
//! is charged exactly it. It runs on the read-call pool, under the same permits.
//!
//! # Limits
//!
//! - Fuel: at most [`READ_CALL_FUEL_MAX`] per call (the load charge included).
//! - Input: at most [`CALL_INPUT_BYTES_MAX`] bytes, as a transaction's.
//! - Concurrency: read calls run on their own pool of big-stack threads (never the
//!   executor's, so reads cannot starve sequencing of CPU beyond that pool), with
//!   their own runtime and module cache (so reads cannot evict the executor's
//!   compiled modules). At most [`READ_CALLS_IN_FLIGHT_MAX`] calls wait or run at
//!   once; one more is refused with [`ReadCallError::Busy`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ghostplane_primitives::{
    AccountId, BlockNumber, CALL_INPUT_BYTES_MAX, ChainId, ContractAddress, Event, FailureReason,
    PubdataOp, ReceiptStatus, Signature, SignedTransaction, TokenId, Transaction,
};

use crate::block::BlockItem;
use crate::fees::{self, FeeParts, Prices};
use crate::rules::Env;
use crate::state::{StateKey, StateReader, StateValue};
use crate::view::{Overlay, TxView};
use crate::wasm::{BlockEnv, Entry, WasmRuntime};
use crate::{ExecError, StoreError};

/// Most fuel one read call may burn (100 times an AMM swap's).
pub const READ_CALL_FUEL_MAX: u64 = 10_000_000;
/// Read calls waiting or running at once, over all clients.
pub const READ_CALLS_IN_FLIGHT_MAX: usize = 64;
/// The `caller()` a read call sees when the request names no account.
pub const READ_CALLER_NONE: AccountId = AccountId::MAX;

/// One read call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadCall {
    /// The contract to run.
    pub contract: ContractAddress,
    /// Its input (what `input_read` gives).
    pub input: Vec<u8>,
    /// What `caller()` answers.
    pub caller: AccountId,
    /// Fuel for the call, at most [`READ_CALL_FUEL_MAX`].
    pub fuel: u64,
}

/// What a read call did (and would have done as a transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOutcome {
    /// The block whose state it ran on (the last executed one when it started).
    pub block: BlockNumber,
    /// `Ok` for a call that returned; the failure otherwise (a revert carries its
    /// data).
    pub result: Result<(), FailureReason>,
    /// Return data (empty for a failed call).
    pub return_data: Vec<u8>,
    /// Fuel burnt, the load charge included (a transaction adds its base charge).
    pub fuel_used: u64,
    /// Events it would emit (empty for a failed call).
    pub events: Vec<Event>,
    /// Storage writes made and discarded.
    pub discarded_writes: usize,
    /// Token moves made and discarded.
    pub discarded_moves: usize,
}

/// A transaction's fee, estimated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeEstimate {
    /// The fee in parts; `total` is what to offer.
    pub parts: FeeParts,
    /// Fuel charged (0 for a native transaction).
    pub gas_used: u64,
    /// A deploy or call's outcome if included now (`Ok` for a native one).
    pub result: Result<(), FailureReason>,
    /// The last executed block when it ran.
    pub block: BlockNumber,
}

/// Why a read call was not run (the sequencer's `l2_call` answers each with a
/// stable JSON-RPC code of `ghostplane_rpc::codes`).
#[derive(Debug, thiserror::Error)]
pub enum ReadCallError {
    /// No contract at the address.
    #[error("no contract is deployed at {0}")]
    UnknownContract(ContractAddress),
    /// More fuel than a read call may burn.
    #[error("fuel {asked} exceeds the read-call limit of {READ_CALL_FUEL_MAX}")]
    FuelTooHigh {
        /// Asked for.
        asked: u64,
    },
    /// Input over the limit.
    #[error("input of {0} bytes exceeds the {CALL_INPUT_BYTES_MAX}-byte limit")]
    InputTooLarge(usize),
    /// Too many read calls in flight: retry later.
    #[error("{READ_CALLS_IN_FLIGHT_MAX} read calls are in flight; retry later")]
    Busy,
    /// A fee estimate's transaction would not be included (unknown sender, a
    /// contract as sender, too little GCC for the least fee, a stateless check).
    #[error("the transaction would be dropped: {0}")]
    WouldBeDropped(String),
    /// The node failed (state read, runtime): not the contract's doing.
    #[error("node error: {0}")]
    Node(String),
}

impl From<StoreError> for ReadCallError {
    fn from(e: StoreError) -> Self {
        Self::Node(e.to_string())
    }
}

impl ReadCall {
    /// The bounds a call is checked against before it waits for a thread.
    pub fn check(&self) -> Result<(), ReadCallError> {
        if self.fuel > READ_CALL_FUEL_MAX {
            return Err(ReadCallError::FuelTooHigh { asked: self.fuel });
        }
        if self.input.len() > CALL_INPUT_BYTES_MAX {
            return Err(ReadCallError::InputTooLarge(self.input.len()));
        }
        Ok(())
    }
}

/// Runs read calls on a pool of its own (see the module docs).
pub struct ReadCaller {
    runtime: WasmRuntime,
    pool: rayon::ThreadPool,
    in_flight: Arc<AtomicUsize>,
}

/// One of the [`READ_CALLS_IN_FLIGHT_MAX`] places; released when dropped. Taken
/// before a caller hands the call to a blocking thread, so a flood of requests is
/// refused without starting threads.
pub struct ReadPermit(Arc<AtomicUsize>);

impl Drop for ReadPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ReadCaller {
    /// A read caller with `threads` threads (at least 1) whose runtime keeps its
    /// compiled artifacts in `artifacts` (the executor's folder may be shared: an
    /// artifact is written once, under its code hash, and read by either).
    pub fn new(threads: usize, artifacts: &std::path::Path) -> Result<Self, ExecError> {
        Ok(Self {
            runtime: WasmRuntime::with_artifacts(artifacts)?,
            pool: crate::executor::thread_pool(threads.max(1))?,
            in_flight: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Takes a place among the calls in flight, or [`ReadCallError::Busy`].
    pub fn reserve(&self) -> Result<ReadPermit, ReadCallError> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= READ_CALLS_IN_FLIGHT_MAX {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(ReadCallError::Busy);
        }
        Ok(ReadPermit(Arc::clone(&self.in_flight)))
    }

    /// Runs `call` against `state`, whose last executed block is `block`
    /// (`time_ms` its time), holding `permit` (from [`ReadCaller::reserve`]) until
    /// it is done. Blocks the calling thread until the call ran: call it from a
    /// blocking context.
    pub fn call(
        &self,
        permit: ReadPermit,
        state: Arc<dyn StateReader>,
        block: BlockNumber,
        time_ms: u64,
        call: ReadCall,
    ) -> Result<ReadOutcome, ReadCallError> {
        let _permit = permit;
        call.check()?;
        let record = match state.get(&StateKey::Contract(call.contract))? {
            Some(StateValue::Contract(record)) => record,
            _ => return Err(ReadCallError::UnknownContract(call.contract)),
        };
        let target = crate::rules::Target {
            address: call.contract,
            record,
        };
        let view = TxView::new(state, Overlay::default());
        let env = BlockEnv {
            number: block,
            time_ms,
        };
        let run = self.pool.install(|| {
            self.runtime.call(
                view,
                target,
                Entry::Call,
                call.caller,
                env,
                call.input,
                None,
                call.fuel,
            )
        });
        let run = run.map_err(|e| ReadCallError::Node(e.to_string()))?;
        let discarded_writes = run.ctx.storage_writes;
        let discarded_moves = run.ctx.moves.len();
        let result = run.outcome;
        let (return_data, events) = match result {
            Ok(()) => (run.ctx.return_data, run.ctx.events),
            Err(_) => (Vec::new(), Vec::new()),
        };
        Ok(ReadOutcome {
            block,
            result,
            return_data,
            fuel_used: run.fuel_used,
            events,
            discarded_writes,
            discarded_moves,
        })
    }

    /// Estimates `tx`'s fee on `state`, whose last executed block is `block`
    /// (see the module docs), holding `permit` until it is done. `prices` and
    /// `block_fuel_max` are the executor's. Blocks the calling thread.
    #[allow(clippy::too_many_arguments)]
    pub fn estimate(
        &self,
        permit: ReadPermit,
        state: Arc<dyn StateReader>,
        block: BlockNumber,
        time_ms: u64,
        prices: Prices,
        block_fuel_max: u64,
        mut tx: Transaction,
    ) -> Result<FeeEstimate, ReadCallError> {
        let _permit = permit;
        if let Some(parts) = fees::native_floor(prices, &tx) {
            return Ok(FeeEstimate {
                parts,
                gas_used: 0,
                result: Ok(()),
                block,
            });
        }
        let from = tx.from();
        let Some(StateValue::Account(account)) = state.get(&StateKey::Account(from))? else {
            return Err(ReadCallError::WouldBeDropped(format!(
                "account {from} does not exist"
            )));
        };
        let gcc = match state.get(&StateKey::Balance(from, TokenId::Gcc))? {
            Some(StateValue::Balance(amount)) => amount,
            _ => 0,
        };
        match &mut tx {
            Transaction::Deploy {
                fee,
                nonce,
                token,
                value,
                ..
            }
            | Transaction::Call {
                fee,
                nonce,
                token,
                value,
                ..
            } => {
                // All its GCC but a GCC value it carries: the value must still be
                // there to move once the maximum fee is taken.
                *fee = match token {
                    TokenId::Gcc => gcc.saturating_sub(*value),
                    _ => gcc,
                };
                *nonce = account.nonce;
            }
            Transaction::Transfer { .. } | Transaction::Withdraw { .. } => {}
        }
        let signed = SignedTransaction {
            tx,
            // Not signed: the executor trusts that the sequencer verified it.
            chain_id: ChainId(0),
            signer: account.public_key,
            signature: Signature([0; 64]),
        };
        let env = Env {
            runtime: &self.runtime,
            block: BlockNumber(block.0 + 1),
            timestamp_ms: time_ms,
            prices,
            block_fuel_max,
        };
        let item = BlockItem::transaction(signed.clone());
        let (outcome, _) = self
            .pool
            .install(|| crate::rules::execute_item(&env, &item, state, Overlay::default()))
            .map_err(|e| ReadCallError::Node(e.to_string()))?;
        let included = outcome
            .result
            .map_err(|reason| ReadCallError::WouldBeDropped(reason.to_string()))?;
        let pubdata_bytes = match &included.trace {
            Some(PubdataOp::ContractTrace(trace)) if prices.data_price > 0 => {
                let succeeded = matches!(included.op, Some(PubdataOp::ContractTx { .. }));
                fees::contract_pubdata_bytes(&signed.tx, succeeded, trace, included.moves.len())
            }
            _ => 0,
        };
        let pubdata = prices.data_price.saturating_mul(u128::from(pubdata_bytes));
        Ok(FeeEstimate {
            parts: FeeParts {
                execution: included.fee_paid.saturating_sub(pubdata),
                pubdata_bytes,
                pubdata,
                total: included.fee_paid,
            },
            gas_used: included.gas_used,
            result: match included.status {
                ReceiptStatus::Success => Ok(()),
                ReceiptStatus::Failed(reason) => Err(reason),
            },
            block,
        })
    }
}
