//! What a contract transaction's execution saw and did, as the pubdata carries it
//! so that every L1 validator can re-execute the transaction statelessly.
//!
//! A `Deploy` or `Call` is posted as its transaction op (`ContractTx` if it
//! succeeded, `FeeOnly` if it failed: the signed transaction, the fee charged),
//! then one [`ContractTrace`] op, then one `ContractMove` op per token move its
//! contracts made, in execution order. The L1 re-runs the contract with the same
//! pinned runtime and rules code as the sequencer, serving storage reads from
//! [`ContractTrace::reads`], balances from [`ContractTrace::balances`] and code from
//! its own code store, and refuses the batch unless the ops it gets (fee, writes,
//! events, outcome, fuel, moves) equal the posted ones.
//!
//! Limits (per transaction, all its nested calls together): at most
//! [`STORAGE_READS_PER_TX_MAX`] distinct slots read, [`STORAGE_WRITES_PER_TX_MAX`]
//! written, [`EVENTS_PER_TX_MAX`] events of at most [`EVENT_DATA_BYTES_MAX`] bytes,
//! values of at most [`STORAGE_VALUE_BYTES_MAX`](crate::STORAGE_VALUE_BYTES_MAX),
//! [`BALANCE_READS_PER_TX_MAX`] balances read and [`MOVES_PER_TX_MAX`] moves;
//! an encoded trace is at most [`CONTRACT_TRACE_BYTES_MAX`].

use borsh::{BorshDeserialize, BorshSerialize};

use crate::block::{Event, ReceiptStatus};
use crate::codec::Codec;
use crate::constants::STORAGE_VALUE_BYTES_MAX;
use crate::types::{AccountId, Amount, BlockNumber, ContractAddress, Hash32, TokenId};

/// Most distinct storage slots one transaction may read (from state, not from its own
/// writes); one more is an ABI violation.
pub const STORAGE_READS_PER_TX_MAX: usize = 256;
/// Most storage writes one transaction may make.
pub const STORAGE_WRITES_PER_TX_MAX: usize = 256;
/// Most events one transaction may emit.
pub const EVENTS_PER_TX_MAX: usize = 64;
/// Most token moves one transaction's contracts may make (each is a `ContractMove`
/// op and a proof slot).
pub const MOVES_PER_TX_MAX: usize = 64;
/// Most distinct balances one transaction may read from state (each move reads at
/// most two, the call's value two, the `balance` host function one).
pub const BALANCE_READS_PER_TX_MAX: usize = 2 * MOVES_PER_TX_MAX + 64;
/// Largest event payload.
pub const EVENT_DATA_BYTES_MAX: usize = 1024;
/// The default of a rollup genesis's fuel per batch (`RollupGenesis::batch_fuel_max`):
/// the most fuel a batch's contract transactions may be *given*, all together. It
/// bounds the L1's work re-executing a batch even against an operator whose traces
/// lie about the fuel used (the re-execution runs with the fuel given): twenty
/// calls at the per-call maximum, or 2,000 at a million each.
pub const BATCH_FUEL_MAX_DEFAULT: u64 = 20 * crate::constants::CALL_FUEL_MAX;
/// Fuel-equivalent the L1's batch bound counts per byte of deployed code: what
/// compiling it costs the L1 when it re-executes the deploy, at the rate a tight wasm
/// loop burns fuel (about 12,000 per byte: a 128 KiB module compiles in about
/// 200 ms on the 2-vCPU machines; see `MODULE_LOAD_FUEL_PER_BYTE` in the
/// executor's runtime). The deploy's *fee* charges far less per byte; this only
/// bounds a batch's work.
pub const DEPLOY_COMPILE_FUEL_PER_BYTE: u64 = 12_000;

/// The re-execution work `ops` ask of the L1, in fuel: the fuel each contract
/// transaction's code is given (its trace's `fuel`), plus each deploy's code at
/// [`DEPLOY_COMPILE_FUEL_PER_BYTE`]. What `RollupGenesis::batch_fuel_max` bounds
/// per batch and the sequencer per block.
pub fn reexecution_fuel<'a>(ops: impl IntoIterator<Item = &'a crate::PubdataOp>) -> u64 {
    ops.into_iter().fold(0u64, |sum, op| {
        let fuel = match op {
            crate::PubdataOp::ContractTrace(trace) => trace.fuel,
            crate::PubdataOp::FeeOnly {
                tx: crate::Transaction::Deploy { code, .. },
                ..
            }
            | crate::PubdataOp::ContractTx {
                tx: crate::Transaction::Deploy { code, .. },
                ..
            } => (code.len() as u64).saturating_mul(DEPLOY_COMPILE_FUEL_PER_BYTE),
            _ => 0,
        };
        sum.saturating_add(fuel)
    })
}

/// Largest encoded [`ContractTrace`] (its counts and sizes bound it to about
/// 640 KiB; a failure's revert data adds at most 4 KiB).
pub const CONTRACT_TRACE_BYTES_MAX: usize = 1024 * 1024;

/// One storage slot and its value (`None`: absent, or deleted).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StorageSlot {
    /// The contract.
    pub contract: ContractAddress,
    /// The 32-byte key.
    pub key: Hash32,
    /// The value read or written; an empty value is a value.
    pub value: Option<Vec<u8>>,
}

/// One token balance as a transaction first read it from state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BalanceRead {
    /// The account.
    pub account: AccountId,
    /// The token.
    pub token: TokenId,
    /// The balance found.
    pub amount: Amount,
}

/// A contract transaction's execution, as the L1 re-executes it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ContractTrace {
    /// The L2 block it ran in.
    pub block: BlockNumber,
    /// That block's time, ms since the Unix epoch.
    pub time_ms: u64,
    /// Fuel its contract call (or deploy's `init`) was given.
    pub fuel: u64,
    /// Fuel the transaction was charged for (the receipt's `gas_used`).
    pub gas_used: u64,
    /// Its outcome.
    pub status: ReceiptStatus,
    /// The storage slots it read from state, first read first, each once, with the
    /// value it found.
    pub reads: Vec<StorageSlot>,
    /// The storage slots it changed, with their final values, in first-write order.
    pub writes: Vec<StorageSlot>,
    /// The balances it read from state (the sender's, the contracts', the
    /// receivers' of its moves), first read first, each once, with the amount found.
    pub balances: Vec<BalanceRead>,
    /// Its events (empty if it failed).
    pub events: Vec<Event>,
}

/// A trace outside the limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// Too many entries of one kind.
    #[error("{count} {what} in one contract trace, over the limit of {max}")]
    TooMany {
        /// What.
        what: &'static str,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A value or payload over its size limit.
    #[error("a {what} of {len} bytes is over the {max}-byte limit")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl ContractTrace {
    /// Checks every count and size against the limits.
    pub fn check(&self) -> Result<(), TraceError> {
        let count = |what, count, max| {
            if count > max {
                Err(TraceError::TooMany { what, count, max })
            } else {
                Ok(())
            }
        };
        let size = |what, len, max| {
            if len > max {
                Err(TraceError::TooLarge { what, len, max })
            } else {
                Ok(())
            }
        };
        count("reads", self.reads.len(), STORAGE_READS_PER_TX_MAX)?;
        count("writes", self.writes.len(), STORAGE_WRITES_PER_TX_MAX)?;
        count("events", self.events.len(), EVENTS_PER_TX_MAX)?;
        count("balances", self.balances.len(), BALANCE_READS_PER_TX_MAX)?;
        for slot in self.reads.iter().chain(&self.writes) {
            let len = slot.value.as_ref().map_or(0, Vec::len);
            size("storage value", len, STORAGE_VALUE_BYTES_MAX)?;
        }
        for event in &self.events {
            size("event payload", event.data.len(), EVENT_DATA_BYTES_MAX)?;
        }
        Ok(())
    }
}

/// One slot a transaction touched: its contract and key, and what it read and
/// wrote there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageAccess<'t> {
    /// The contract.
    pub contract: &'t ContractAddress,
    /// The slot's key.
    pub key: &'t [u8; 32],
    /// The value read (`Some(None)`: read as absent), if it was read from state.
    pub read: Option<Option<&'t [u8]>>,
    /// The value written (`Some(None)`: deleted), if it was written.
    pub write: Option<Option<&'t [u8]>>,
}

impl ContractTrace {
    /// The slots this transaction read or wrote, each once: its reads in order,
    /// then the slots it wrote without reading them from state, in write order.
    /// A storage proof has one step per access, in this order.
    pub fn storage_accesses(&self) -> Vec<StorageAccess<'_>> {
        let writes: std::collections::HashMap<(&ContractAddress, &[u8; 32]), Option<&[u8]>> = self
            .writes
            .iter()
            .map(|w| ((&w.contract, &w.key.0), w.value.as_deref()))
            .collect();
        let mut read = std::collections::HashSet::with_capacity(self.reads.len());
        let mut out = Vec::with_capacity(self.reads.len() + self.writes.len());
        for r in &self.reads {
            if read.insert((&r.contract, &r.key.0)) {
                out.push(StorageAccess {
                    contract: &r.contract,
                    key: &r.key.0,
                    read: Some(r.value.as_deref()),
                    write: writes.get(&(&r.contract, &r.key.0)).copied(),
                });
            }
        }
        let mut written = std::collections::HashSet::with_capacity(self.writes.len());
        for w in &self.writes {
            let at = (&w.contract, &w.key.0);
            if !read.contains(&at) && written.insert(at) {
                out.push(StorageAccess {
                    contract: &w.contract,
                    key: &w.key.0,
                    read: None,
                    write: Some(w.value.as_deref()),
                });
            }
        }
        out
    }
}

impl Codec for ContractTrace {
    const ENCODED_BYTES_MAX: usize = CONTRACT_TRACE_BYTES_MAX;
    const TYPE_NAME: &'static str = "contract trace";
}
