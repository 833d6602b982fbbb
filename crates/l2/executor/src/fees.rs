//! Fees: what a transaction pays for, and the estimate a wallet asks for.
//!
//! # The rule (part of consensus: the L1 re-executes contract transactions with it)
//!
//! A fee has two parts, both in GCC base units:
//!
//! ```text
//! fee = execution + data_price × pubdata_bytes
//! ```
//!
//! - **execution**: for a native transaction (transfer, withdrawal), `fee_min`
//!   (its proof slot), plus [`ACCOUNT_CREATION_FEE`] for a transfer to a new key;
//!   for a deploy or call, `max(gas_used × fuel_price, fee_min)`, plus the account
//!   creation fee for a deploy that created its contract.
//! - **pubdata_bytes**: the bytes the transaction adds to its batch's pubdata
//!   (the L1 data it costs), counted exactly from the ops' encoding
//!   (`ghostplane_primitives::pubdata`), except a contract transaction's storage
//!   proof, which settlement adds later: it counts
//!   [`STORAGE_PROOF_SLOT_BYTES`] per slot its trace read or wrote.
//!   A native transaction counts the larger of its op and the `FeeOnly` op it
//!   posts if it fails, so a failing transaction pays for what it posts.
//! - **data_price**: the L1 data price ghostd publishes (`rollup_fees`: a genesis
//!   parameter, as L1 transactions are free today), used as is: the L2 per-byte
//!   price is the L1's, with no smoothing, because a genesis constant does not
//!   move. The byte count is exact, not a compressed-size estimate (pubdata is
//!   posted uncompressed).
//!
//! A transaction offering less than its floor ([`floor`]: a native one's
//! execution and pubdata; a deploy or call's `fee_min` and the pubdata of its own
//! bytes) is refused at submission (with the floor in the error) and dropped by
//! the executor. A native transaction pays the fee it offers (a wallet offers the
//! floor). A deploy or call's fee is a maximum: the charge is the rule above, at most the fee; the
//! rest is refunded. Its fuel is what the fee buys after reserving the pubdata of
//! its own transaction bytes ([`contract_reserve_bytes`]): `(fee − data_price ×
//! reserve) / fuel_price`, at most its `fuel_limit`. A trace bigger than the fee
//! left can pay for is charged the whole fee (the trace's size is bounded by the
//! fuel it had).

use ghostplane_primitives::pubdata::{
    CONTRACT_MOVE_BYTES, CONTRACT_TRACE_FIXED_BYTES, CONTRACT_TX_FIXED_BYTES, FEE_ONLY_FIXED_BYTES,
    STORAGE_PROOF_FIXED_BYTES, TRANSFER_BYTES, TRANSFER_TO_NEW_BYTES, WITHDRAW_BYTES,
};
use ghostplane_primitives::trace::ContractTrace;
use ghostplane_primitives::{ACCOUNT_CREATION_FEE, Amount, Recipient, Transaction};

/// Pubdata counted per storage slot a contract transaction read or wrote, for
/// the storage proof settlement adds (a proof step is ~100–500 bytes: a path of
/// 128 levels, shared siblings compressed).
pub const STORAGE_PROOF_SLOT_BYTES: u64 = 320;

/// The prices a rollup's genesis fixes (the sequencer's executor must use the
/// same, or the L1 refuses its contract batches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    /// GCC base units per unit of fuel.
    pub fuel_price: Amount,
    /// Least fee any included transaction pays (each takes a proof slot).
    pub fee_min: Amount,
    /// GCC base units per byte of pubdata: the L1 data price.
    pub data_price: Amount,
}

impl Default for Prices {
    /// 1 per unit of fuel, at least 1, and free pubdata (tests' default; the
    /// devnet prices pubdata).
    fn default() -> Self {
        Self {
            fuel_price: 1,
            fee_min: 1,
            data_price: 0,
        }
    }
}

/// A fee, in its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeeParts {
    /// The execution part (see the module docs).
    pub execution: Amount,
    /// Pubdata bytes counted.
    pub pubdata_bytes: u64,
    /// `data_price × pubdata_bytes`.
    pub pubdata: Amount,
    /// What is charged: `execution + pubdata`, for a contract transaction at most
    /// its fee.
    pub total: Amount,
}

impl FeeParts {
    fn new(prices: Prices, execution: Amount, pubdata_bytes: u64) -> Self {
        let pubdata = prices
            .data_price
            .saturating_mul(Amount::from(pubdata_bytes));
        Self {
            execution,
            pubdata_bytes,
            pubdata,
            total: execution.saturating_add(pubdata),
        }
    }
}

/// The least fee native transaction `tx` must offer; `None` for a deploy or call
/// (whose fee is a maximum: estimate it by running it).
pub fn native_floor(prices: Prices, tx: &Transaction) -> Option<FeeParts> {
    let (execution, op_bytes) = match tx {
        Transaction::Transfer {
            to: Recipient::NewAccount(_),
            ..
        } => (
            prices.fee_min.saturating_add(ACCOUNT_CREATION_FEE),
            TRANSFER_TO_NEW_BYTES,
        ),
        Transaction::Transfer { .. } => (prices.fee_min, TRANSFER_BYTES),
        Transaction::Withdraw { .. } => (prices.fee_min, WITHDRAW_BYTES),
        Transaction::Deploy { .. } | Transaction::Call { .. } => return None,
    };
    let bytes = if prices.data_price == 0 {
        // Free pubdata: skip measuring the transaction (the sequencer's hot path).
        0
    } else {
        op_bytes.max(FEE_ONLY_FIXED_BYTES + tx_bytes(tx))
    };
    Some(FeeParts::new(prices, execution, bytes as u64))
}

/// The least fee `tx` must offer: a native transaction's [`native_floor`]; for a
/// deploy or call, `fee_min` plus the pubdata of its own bytes
/// ([`contract_reserve_bytes`]), which it posts however it ends (a call that
/// fails at once still posts its input in a `FeeOnly` op).
pub fn floor(prices: Prices, tx: &Transaction) -> FeeParts {
    native_floor(prices, tx).unwrap_or_else(|| {
        let bytes = if prices.data_price == 0 {
            0
        } else {
            contract_reserve_bytes(tx)
        };
        FeeParts::new(prices, prices.fee_min, bytes)
    })
}

/// Pubdata a deploy or call's fee reserves before buying fuel: its op (the
/// larger of `ContractTx` and `FeeOnly`, both carrying its transaction) and its
/// trace op's fixed bytes.
pub fn contract_reserve_bytes(tx: &Transaction) -> u64 {
    (CONTRACT_TX_FIXED_BYTES.max(FEE_ONLY_FIXED_BYTES) + tx_bytes(tx) + CONTRACT_TRACE_FIXED_BYTES)
        as u64
}

/// Pubdata a deploy or call adds: its op (`ContractTx` if it succeeded, else
/// `FeeOnly`), its trace, its moves and its storage proof (estimated per slot).
pub fn contract_pubdata_bytes(
    tx: &Transaction,
    succeeded: bool,
    trace: &ContractTrace,
    moves: usize,
) -> u64 {
    let op = if succeeded {
        CONTRACT_TX_FIXED_BYTES
    } else {
        FEE_ONLY_FIXED_BYTES
    } + tx_bytes(tx);
    let trace_bytes = CONTRACT_TRACE_FIXED_BYTES + borsh::object_length(trace).unwrap_or(0);
    let slots = (trace.reads.len() + trace.writes.len()) as u64;
    (op + trace_bytes + moves * CONTRACT_MOVE_BYTES + STORAGE_PROOF_FIXED_BYTES) as u64
        + slots * STORAGE_PROOF_SLOT_BYTES
}

/// What a deploy or call is charged: `max(gas × fuel_price, fee_min) + surcharge
/// + data_price × pubdata_bytes`, at most `fee`.
pub fn contract_charge(
    prices: Prices,
    gas_used: u64,
    surcharge: Amount,
    pubdata_bytes: u64,
    fee: Amount,
) -> FeeParts {
    let execution = Amount::from(gas_used)
        .saturating_mul(prices.fuel_price)
        .max(prices.fee_min)
        .saturating_add(surcharge);
    let mut parts = FeeParts::new(prices, execution, pubdata_bytes);
    parts.total = parts.total.min(fee);
    parts
}

/// Length of a transaction's canonical encoding, without allocating it.
fn tx_bytes(tx: &Transaction) -> usize {
    borsh::object_length(tx).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghostplane_primitives::{AccountId, Codec, TokenId};

    fn transfer(to: Recipient) -> Transaction {
        Transaction::Transfer {
            from: AccountId::new(1).unwrap(),
            to,
            token: TokenId::Gcc,
            amount: 5,
            fee: 0,
            nonce: 0,
        }
    }

    #[test]
    fn tx_bytes_is_the_encoding_length() {
        let tx = transfer(Recipient::Account(AccountId::new(2).unwrap()));
        assert_eq!(tx_bytes(&tx), tx.encode().len());
    }

    #[test]
    fn native_floor_prices_the_larger_of_its_op_and_a_failure() {
        let prices = Prices {
            data_price: 3,
            ..Prices::default()
        };
        let tx = transfer(Recipient::Account(AccountId::new(2).unwrap()));
        let floor = native_floor(prices, &tx).unwrap();
        let bytes = (TRANSFER_BYTES.max(FEE_ONLY_FIXED_BYTES + tx.encode().len())) as u64;
        assert_eq!(floor.pubdata_bytes, bytes);
        assert_eq!(floor.total, 1 + 3 * u128::from(bytes));
        let to_new = native_floor(
            prices,
            &transfer(Recipient::NewAccount(ghostplane_primitives::PublicKey(
                [7; 32],
            ))),
        );
        let to_new = to_new.unwrap();
        assert!(to_new.pubdata_bytes > floor.pubdata_bytes);
        assert_eq!(to_new.execution, 1 + ACCOUNT_CREATION_FEE);
        let free = native_floor(Prices::default(), &tx).unwrap();
        assert_eq!((free.pubdata_bytes, free.total), (0, 1));
    }

    #[test]
    fn contract_charge_is_capped_by_the_fee() {
        let prices = Prices {
            data_price: 2,
            ..Prices::default()
        };
        let parts = contract_charge(prices, 1_000, 0, 100, u128::MAX);
        assert_eq!(
            (parts.execution, parts.pubdata, parts.total),
            (1_000, 200, 1_200)
        );
        assert_eq!(contract_charge(prices, 1_000, 0, 100, 1_100).total, 1_100);
    }
}
