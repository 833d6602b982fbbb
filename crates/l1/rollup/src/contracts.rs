//! Contract transactions at commit: every L1 validator re-executes each deploy and
//! call of a batch from its pubdata, with the same runtime and rules code as the
//! sequencer (`ghostplane-executor`), and refuses the batch unless it gets exactly
//! the posted transaction op (`ContractTx` or `FeeOnly`: outcome and fee charged),
//! `ContractTrace` (reads, balances, writes, events, outcome, fuel) and
//! `ContractMove`s.
//!
//! ```text
//! ops: … ContractTx|FeeOnly{Deploy|Call} ContractTrace ContractMove* StorageProof …
//!   ▼ the work asked, within the genesis's `batch_fuel_max`: the fuel the
//!   │  traces were given and each deploy's code to compile
//!   │  (`reexecution_fuel`; it bounds the work below)
//!   ▼ shape: a trace after every contract tx, none elsewhere (moves only right
//!   │  after a trace or a move: the commit loop checks it); trace blocks within
//!   │  the batch's range, blocks and times never going back
//!   ▼ Reexecutor::reexecute_all(tx, trace, next account id, genesis prices,
//!   │  this module's records): storage and balances from the trace; contracts,
//!   │  code and accounts from the records
//!   ▼ equal ops, or RollupError::Reexecution naming the op and what differs
//!   ▼ a successful deploy: its contract (code hash, account) and code recorded
//!     (`contract/<address>`, `code/<hash>`), so later calls, in this batch or
//!     later, find them
//! ```
//!
//! The commit loop ([`crate::commit`]) has already checked each op in order: a
//! move follows a trace or a move, its payer is a contract's account and its
//! receiver exists at that point, no
//! signed op comes from a contract's account, and a deploy's account id is the next
//! one; the comparison here checks that the code made exactly those moves.
//!
//! The storage proofs bind the reads and writes to the tracked storage roots
//! ([`crate::storage`]), the `ContractKey` slots bind those roots to the proven
//! account tree; re-execution binds the contract logic to them. A change of the wasmtime
//! version, of the module rewrite or of the fuel table is a consensus change.

use std::sync::Arc;

use ghostd_module::state::{self, Layer, StateError};
use ghostplane_executor::state::StoreError;
use ghostplane_executor::{
    ContractRecord, ExecError, Prices, ReexecutionJob, ReexecutionStore, Reexecutor,
};
use ghostplane_primitives::{
    AccountId, ContractAddress, Hash32, PubdataOp, PublicKey, SignedTransaction, Transaction,
};

use super::{PREFIX, RollupError, RollupGenesis, l2_account};

fn contract_key(address: &ContractAddress) -> Vec<u8> {
    state::key(PREFIX, &[b"contract", &address.0])
}

fn code_key(hash: &Hash32) -> Vec<u8> {
    state::key(PREFIX, &[b"code", &hash.0])
}

/// The code hash and account of the contract at `address`, if it is deployed (by
/// a committed batch).
pub fn contract_record(
    state: &dyn state::Read,
    address: &ContractAddress,
) -> Result<Option<(Hash32, AccountId)>, StateError> {
    state::get(state, &contract_key(address))
}

/// This module's records of deployed contracts, as the re-executor reads them.
struct Records<'s, 'a> {
    state: &'s Layer<'a>,
}

impl ReexecutionStore for Records<'_, '_> {
    fn contract(&self, address: &ContractAddress) -> Result<Option<ContractRecord>, StoreError> {
        contract_record(self.state, address)
            .map(|record| record.map(|(code_hash, account)| ContractRecord { code_hash, account }))
            .map_err(|e| StoreError::CodeStore(e.to_string()))
    }

    fn account(&self, id: AccountId) -> Result<Option<(PublicKey, bool)>, StoreError> {
        l2_account(self.state, id)
            .map(|account| account.map(|a| (a.key, a.contract)))
            .map_err(|e| StoreError::CodeStore(e.to_string()))
    }

    fn code(&self, hash: &Hash32) -> Result<Option<Arc<[u8]>>, StoreError> {
        state::get::<Vec<u8>>(self.state, &code_key(hash))
            .map(|code| code.map(Arc::from))
            .map_err(|e| StoreError::CodeStore(e.to_string()))
    }
}

/// Is `op` a deploy or a call (its `ContractTx` or fee-only op)?
fn is_contract_tx(op: &PubdataOp) -> bool {
    op.contract_tx().is_some()
}

/// Re-executes every contract transaction of a batch covering L2 blocks
/// `first..=last`. `signed(i)` is the signed transaction behind op `i` (its
/// signature already verified) and the next free account id at op `i`.
pub(crate) fn reexecute_batch<'t>(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    reexecutor: &Reexecutor,
    ops: &[PubdataOp],
    (first, last): (u64, u64),
    signed: impl Fn(usize) -> Option<(&'t SignedTransaction, u32)>,
) -> Result<(), RollupError> {
    let prices = Prices {
        fuel_price: genesis.contract_fees.fuel_price,
        fee_min: genesis.contract_fees.fee_min,
        data_price: genesis.contract_fees.data_price,
    };
    // The fuel bound first: it bounds the work below.
    let fuel = ghostplane_primitives::trace::reexecution_fuel(ops);
    if fuel > genesis.batch_fuel_max {
        return Err(RollupError::BatchFuel {
            fuel,
            max: genesis.batch_fuel_max,
        });
    }
    let mut previous = (first, 0u64);
    let mut txs: Vec<(usize, ReexecutionJob<'_>, usize)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if let PubdataOp::ContractTrace(_) = op
            && !(i > 0 && is_contract_tx(&ops[i - 1]))
        {
            return Err(RollupError::ContractTraceStray { op: i });
        }
        if !is_contract_tx(op) {
            continue;
        }
        let Some(PubdataOp::ContractTrace(trace)) = ops.get(i + 1) else {
            return Err(RollupError::ContractTraceMissing { op: i });
        };
        let at = (trace.block.0, trace.time_ms);
        if trace.block.0 < first || trace.block.0 > last || at < previous {
            return Err(RollupError::ContractTraceOrder {
                op: i + 1,
                block: trace.block.0,
                time_ms: trace.time_ms,
                first,
                last,
            });
        }
        previous = at;
        let Some((tx, next_account)) = signed(i) else {
            return Err(RollupError::Reexecution {
                op: i,
                reason: "no signed transaction behind the op".into(),
            });
        };
        // Its moves: the run of `ContractMove`s after the trace.
        let moves = ops[i + 2..]
            .iter()
            .take_while(|op| matches!(op, PubdataOp::ContractMove { .. }))
            .count();
        // And its storage proof (checked in the commit loop, `crate::storage`).
        if !matches!(ops.get(i + 2 + moves), Some(PubdataOp::StorageProof(_))) {
            return Err(RollupError::StorageProofPlacement {
                op: i,
                detail: "a contract transaction whose trace and moves are not followed by its storage proof",
            });
        }
        let job = ReexecutionJob {
            signed: tx,
            trace,
            next_account,
        };
        txs.push((i, job, moves));
    }
    if txs.is_empty() {
        return Ok(());
    }
    // One hand-off for the whole batch; deploys in it are seen by later calls.
    let records = Records { state: &*state };
    let runs: Vec<ReexecutionJob<'_>> = txs.iter().map(|(_, job, _)| *job).collect();
    let results = reexecutor
        .reexecute_all(&runs, prices, &records)
        .map_err(|e| RollupError::from(StateError::Reexecution(e.to_string())))?;
    for ((i, job, moves), result) in txs.into_iter().zip(results) {
        let again = match result {
            Ok(again) => again,
            Err(ExecError::DroppedOnReexecution(reason)) => {
                return Err(RollupError::Reexecution { op: i, reason });
            }
            Err(e) => return Err(StateError::Reexecution(e.to_string()).into()),
        };
        let posted = &ops[i..i + 2 + moves];
        if let Some(reason) = first_difference(posted, &again.ops) {
            return Err(RollupError::Reexecution { op: i, reason });
        }
        if let (Some((address, record)), Transaction::Deploy { code, .. }) =
            (again.deployed, &job.signed.tx)
        {
            state.put(contract_key(&address), &(record.code_hash, record.account));
            state.put(code_key(&record.code_hash), code);
        }
    }
    Ok(())
}

/// What differs between the posted ops (the transaction op, its trace, its moves)
/// and the re-executed ones, if anything.
fn first_difference(posted: &[PubdataOp], again: &[PubdataOp]) -> Option<String> {
    let (
        [
            op,
            PubdataOp::ContractTrace(posted_trace),
            posted_moves @ ..,
        ],
        [op_again, PubdataOp::ContractTrace(trace), moves @ ..],
    ) = (posted, again)
    else {
        return Some("it produces other ops".into());
    };
    let differs = |what: &str, differ: bool| differ.then(|| format!("its {what} differ"));
    let fee = |op: &PubdataOp| match op {
        PubdataOp::FeeOnly { fee_paid, .. } | PubdataOp::ContractTx { fee_paid, .. } => *fee_paid,
        _ => 0,
    };
    (fee(op) != fee(op_again))
        .then(|| {
            format!(
                "its fee charged differs (posted {}, re-executed {})",
                fee(op),
                fee(op_again)
            )
        })
        .or_else(|| {
            (posted_trace.status != trace.status).then(|| {
                format!(
                    "its outcome differs (posted {:?}, re-executed {:?})",
                    posted_trace.status, trace.status
                )
            })
        })
        .or_else(|| {
            let posted = (posted_trace.fuel, posted_trace.gas_used);
            let again = (trace.fuel, trace.gas_used);
            (posted != again).then(|| {
                format!("its fuel differs (given, used: posted {posted:?}, re-executed {again:?})")
            })
        })
        .or_else(|| differs("storage reads", posted_trace.reads != trace.reads))
        .or_else(|| differs("balances read", posted_trace.balances != trace.balances))
        .or_else(|| differs("storage writes", posted_trace.writes != trace.writes))
        .or_else(|| differs("events", posted_trace.events != trace.events))
        .or_else(|| differs("token moves", posted_moves != moves))
        .or_else(|| differs("trace", posted_trace != trace))
        .or_else(|| differs("transaction ops (contract account or kind)", op != op_again))
}
