//! Contract transactions at commit: every L1 validator re-executes each deploy and
//! call of a batch from its pubdata, with the same runtime and rules code as the
//! sequencer (`ghostplane-executor`), and refuses the batch unless it gets exactly
//! the posted `FeeOnly` (fee charged) and `ContractTrace` (reads, writes, events,
//! outcome, fuel).
//!
//! ```text
//! ops: … FeeOnly{Deploy|Call} ContractTrace …   (each trace right after its tx)
//!   ▼ the work asked, within the genesis's `batch_fuel_max`: the fuel the
//!   │  traces were given and each deploy's code to compile
//!   │  (`reexecution_fuel`; it bounds the work below)
//!   ▼ shape: a trace after every contract tx, none elsewhere; trace blocks within
//!   │  the batch's range, blocks and times never going back
//!   ▼ Reexecutor::reexecute(tx, trace, genesis prices, code store)
//!   │  storage: the trace's reads; contracts and code: this module's records
//!   ▼ equal ops, or RollupError::Reexecution naming the op and what differs
//!   ▼ a successful deploy: its contract and code recorded (`contract/<address>`,
//!     `code/<hash>`), so later calls, in this batch or later, find them
//! ```
//!
//! The proofs bind the reads and writes to the state (the contract-state AIR);
//! re-execution binds the contract logic to them. A change of the wasmtime
//! version, of the module rewrite or of the fuel table is a consensus change.

use std::sync::Arc;

use ghostd_module::state::{self, Layer, StateError};
use ghostplane_executor::state::StoreError;
use ghostplane_executor::{CodeStore, ContractPrices, ExecError, Reexecutor};
use ghostplane_primitives::{
    ContractAddress, ContractTrace, Hash32, PubdataOp, SignedTransaction, Transaction,
};

use super::{PREFIX, RollupError, RollupGenesis};

fn contract_key(address: &ContractAddress) -> Vec<u8> {
    state::key(PREFIX, &[b"contract", &address.0])
}

fn code_key(hash: &Hash32) -> Vec<u8> {
    state::key(PREFIX, &[b"code", &hash.0])
}

/// The code hash of the contract at `address`, if it is deployed (by a committed
/// batch).
pub fn contract_code_hash(
    state: &dyn state::Read,
    address: &ContractAddress,
) -> Result<Option<Hash32>, StateError> {
    state::get(state, &contract_key(address))
}

/// This module's records of deployed contracts, as the re-executor reads them.
struct Records<'s, 'a> {
    state: &'s Layer<'a>,
}

impl CodeStore for Records<'_, '_> {
    fn code_hash(&self, address: &ContractAddress) -> Result<Option<Hash32>, StoreError> {
        contract_code_hash(self.state, address).map_err(|e| StoreError::CodeStore(e.to_string()))
    }

    fn code(&self, hash: &Hash32) -> Result<Option<Arc<[u8]>>, StoreError> {
        state::get::<Vec<u8>>(self.state, &code_key(hash))
            .map(|code| code.map(Arc::from))
            .map_err(|e| StoreError::CodeStore(e.to_string()))
    }
}

/// Is `op` a deploy or a call (its fee-only op)?
fn is_contract_tx(op: &PubdataOp) -> bool {
    matches!(
        op,
        PubdataOp::FeeOnly {
            tx: Transaction::Deploy { .. } | Transaction::Call { .. },
            ..
        }
    )
}

/// Re-executes every contract transaction of a batch covering L2 blocks
/// `first..=last`. `signed(i)` is the signed transaction behind op `i` (its
/// signature already verified).
pub(crate) fn reexecute_batch<'t>(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    reexecutor: &Reexecutor,
    ops: &[PubdataOp],
    (first, last): (u64, u64),
    signed: impl Fn(usize) -> Option<&'t SignedTransaction>,
) -> Result<(), RollupError> {
    let prices = ContractPrices {
        fuel_price: genesis.contract_fees.fuel_price,
        fee_min: genesis.contract_fees.fee_min,
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
    let mut txs: Vec<(usize, &SignedTransaction, &ContractTrace)> = Vec::new();
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
        let Some(tx) = signed(i) else {
            return Err(RollupError::Reexecution {
                op: i,
                reason: "no signed transaction behind the op".into(),
            });
        };
        txs.push((i, tx, trace));
    }
    if txs.is_empty() {
        return Ok(());
    }
    // One hand-off for the whole batch; deploys in it are seen by later calls.
    let records = Records { state: &*state };
    let runs: Vec<(&SignedTransaction, &ContractTrace)> =
        txs.iter().map(|(_, tx, trace)| (*tx, *trace)).collect();
    let results = reexecutor
        .reexecute_all(&runs, prices, &records)
        .map_err(|e| RollupError::from(StateError::Reexecution(e.to_string())))?;
    for ((i, tx, trace), result) in txs.into_iter().zip(results) {
        let again = match result {
            Ok(again) => again,
            Err(ExecError::DroppedOnReexecution(reason)) => {
                return Err(RollupError::Reexecution { op: i, reason });
            }
            Err(e) => return Err(StateError::Reexecution(e.to_string()).into()),
        };
        let posted = [&ops[i], &PubdataOp::ContractTrace(Box::new(trace.clone()))];
        if let Some(reason) = first_difference(&posted, &again.ops) {
            return Err(RollupError::Reexecution { op: i, reason });
        }
        if let (Some((address, hash)), Transaction::Deploy { code, .. }) = (again.deployed, &tx.tx)
        {
            state.put(contract_key(&address), &hash);
            state.put(code_key(&hash), code);
        }
    }
    Ok(())
}

/// What differs between the posted ops and the re-executed ones, if anything.
fn first_difference(posted: &[&PubdataOp; 2], again: &[PubdataOp]) -> Option<String> {
    let (
        [
            PubdataOp::FeeOnly { fee_paid, .. },
            PubdataOp::ContractTrace(posted_trace),
        ],
        [
            PubdataOp::FeeOnly {
                fee_paid: fee_again,
                ..
            },
            PubdataOp::ContractTrace(trace),
        ],
    ) = (posted, again)
    else {
        return Some("it produces other ops".into());
    };
    let differs = |what: &str, differ: bool| differ.then(|| format!("its {what} differ"));
    (fee_paid != fee_again)
        .then(|| format!("its fee charged differs (posted {fee_paid}, re-executed {fee_again})"))
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
        .or_else(|| differs("storage writes", posted_trace.writes != trace.writes))
        .or_else(|| differs("events", posted_trace.events != trace.events))
        .or_else(|| differs("trace", posted_trace != trace))
}
