//! The ledger: a double-entry journal of GCC, SPIRIT, MANA and GHOST in the
//! TigerBeetle model.
//!
//! - An account is `(owner, token)` with two counters, `debits_posted` and
//!   `credits_posted`; its balance is `credits - debits`. User and escrow accounts
//!   may never be debited past their credits; the issuer (the source of genesis
//!   allocations) may.
//! - A transfer debits one account and credits another of the same token by the
//!   same amount, and is stored forever under its 128-bit id. Ids with the top bit
//!   clear are the client's to choose; ids with it set are reserved for the node's
//!   own transfers (genesis, deposits, withdrawals), so a client cannot squat on them.
//! - Posting the same transfer twice is a no-op; reusing an id for a different
//!   transfer is [`LedgerError::ExistsWithDifferent`], naming the first field that
//!   differs (TigerBeetle's `exists_with_different_*` results).
//! - Per-token totals of all debits and all credits are kept as accounts change;
//!   after every block [`check_totals`] asserts they are equal.
//!
//! Not built yet: pending/post/void transfers (two-phase locks) and mint/burn by
//! issuers after genesis.

use ghostplane_primitives::{Amount, L1Address, TokenId};

use crate::state::{self, Layer, Read, StateError};

const PREFIX: &str = "ledger";

pub use ghostd_types::ledger::{
    LedgerAccount, LedgerTransfer, SYSTEM_ID_BIT, TransferCode, TransferField, bridge_escrow,
    issuer, naming_treasury, system_transfer_id,
};

/// What posting a transfer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Newly posted.
    Created,
    /// Already posted with the same fields: nothing changed.
    AlreadyExists,
}

/// Why a transfer was refused.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Zero amounts are not transfers.
    #[error("transfer amount must be greater than zero")]
    ZeroAmount,
    /// Id zero is reserved.
    #[error("transfer id must not be zero")]
    ZeroId,
    /// Client ids must have the top bit clear.
    #[error("transfer id {0:#x} has the top bit set: those ids are reserved for the node")]
    ReservedId(u128),
    /// Debit and credit are the same account.
    #[error("a transfer must move value between two different accounts")]
    SameAccount,
    /// The id is taken by a transfer that differs in `field`.
    #[error(
        "transfer id {id:#x} already exists with a different {field}; a retry must repeat the transfer exactly, a new transfer needs a new id"
    )]
    ExistsWithDifferent {
        /// The id.
        id: u128,
        /// The first field that differs.
        field: TransferField,
    },
    /// The debited account cannot cover the amount.
    #[error("{token} balance {balance} is less than the {amount} to move")]
    InsufficientFunds {
        /// Token.
        token: TokenId,
        /// Available.
        balance: Amount,
        /// Asked.
        amount: Amount,
    },
    /// A counter would overflow u128.
    #[error("{token} counter would overflow")]
    Overflow {
        /// Token.
        token: TokenId,
    },
    /// After a block, a token's debits and credits differ: a bug, the block is refused.
    #[error("ledger out of balance for {token}: debits {debits} != credits {credits}")]
    OutOfBalance {
        /// Token.
        token: TokenId,
        /// Total debits.
        debits: Amount,
        /// Total credits.
        credits: Amount,
    },
    /// State could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

fn account_key(owner: &L1Address, token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"account", &owner.0, &[token.id()]])
}

fn transfer_key(id: u128) -> Vec<u8> {
    state::key(PREFIX, &[b"transfer", &id.to_be_bytes()])
}

fn totals_key(token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"totals", &[token.id()]])
}

/// An account's counters (zero if it was never touched).
pub fn account(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
) -> Result<LedgerAccount, StateError> {
    Ok(state::get(state, &account_key(owner, token))?.unwrap_or_default())
}

/// The balance of `owner` in `token`.
pub fn balance(state: &dyn Read, owner: &L1Address, token: TokenId) -> Result<Amount, StateError> {
    Ok(account(state, owner, token)?.balance())
}

/// A posted transfer.
pub fn transfer_by_id(state: &dyn Read, id: u128) -> Result<Option<LedgerTransfer>, StateError> {
    state::get(state, &transfer_key(id))
}

/// Checks a client-chosen id.
pub fn check_client_id(id: u128) -> Result<(), LedgerError> {
    if id == 0 {
        return Err(LedgerError::ZeroId);
    }
    if id & SYSTEM_ID_BIT != 0 {
        return Err(LedgerError::ReservedId(id));
    }
    Ok(())
}

/// Posts `transfer`. The caller has checked who may debit the account.
pub fn post(state: &mut Layer<'_>, transfer: &LedgerTransfer) -> Result<Posted, LedgerError> {
    if transfer.amount == 0 {
        return Err(LedgerError::ZeroAmount);
    }
    if transfer.id == 0 {
        return Err(LedgerError::ZeroId);
    }
    if transfer.debit == transfer.credit {
        return Err(LedgerError::SameAccount);
    }
    if let Some(existing) = transfer_by_id(state, transfer.id)? {
        return match existing.first_difference(transfer) {
            None => Ok(Posted::AlreadyExists),
            Some(field) => Err(LedgerError::ExistsWithDifferent {
                id: transfer.id,
                field,
            }),
        };
    }
    let token = transfer.token;
    let overflow = LedgerError::Overflow { token };
    let mut debit = account(state, &transfer.debit, token)?;
    if transfer.debit != issuer() && debit.balance() < transfer.amount {
        return Err(LedgerError::InsufficientFunds {
            token,
            balance: debit.balance(),
            amount: transfer.amount,
        });
    }
    debit.debits_posted = debit
        .debits_posted
        .checked_add(transfer.amount)
        .ok_or(LedgerError::Overflow { token })?;
    let mut credit = account(state, &transfer.credit, token)?;
    credit.credits_posted = credit
        .credits_posted
        .checked_add(transfer.amount)
        .ok_or(overflow)?;
    let (mut debits, mut credits): (Amount, Amount) =
        state::get(state, &totals_key(token))?.unwrap_or_default();
    debits = debits
        .checked_add(transfer.amount)
        .ok_or(LedgerError::Overflow { token })?;
    credits = credits
        .checked_add(transfer.amount)
        .ok_or(LedgerError::Overflow { token })?;
    state.put(account_key(&transfer.debit, token), &debit);
    state.put(account_key(&transfer.credit, token), &credit);
    state.put(totals_key(token), &(debits, credits));
    state.put(transfer_key(transfer.id), transfer);
    Ok(Posted::Created)
}

/// Asserts that, for every token, total debits equal total credits. Run after every
/// block; a failure means a bug and the block is not committed.
pub fn check_totals(state: &dyn Read) -> Result<(), LedgerError> {
    for token in TokenId::ALL {
        let (debits, credits): (Amount, Amount) =
            state::get(state, &totals_key(token))?.unwrap_or_default();
        if debits != credits {
            return Err(LedgerError::OutOfBalance {
                token,
                debits,
                credits,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use super::*;

    struct Mem(HashMap<Vec<u8>, Vec<u8>>);
    impl Read for Mem {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
            Ok(self.0.get(key).cloned())
        }
    }

    fn transfer(id: u128, debit: L1Address, credit: L1Address, amount: Amount) -> LedgerTransfer {
        LedgerTransfer {
            id,
            debit,
            credit,
            token: TokenId::Spirit,
            amount,
            code: TransferCode::Transfer,
            block: 1,
        }
    }

    #[test]
    fn double_entry_idempotent_ids_and_no_overdraft() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        let alice = L1Address([1; 32]);
        let bob = L1Address([2; 32]);
        let genesis = LedgerTransfer {
            code: TransferCode::Genesis,
            ..transfer(system_transfer_id(&[b"g"]), issuer(), alice, 100)
        };
        assert_eq!(post(&mut state, &genesis).unwrap(), Posted::Created);
        let t = transfer(7, alice, bob, 60);
        assert_eq!(post(&mut state, &t).unwrap(), Posted::Created);
        // Same id, same fields: a retry, nothing moves twice.
        assert_eq!(post(&mut state, &t).unwrap(), Posted::AlreadyExists);
        assert_eq!(balance(&state, &alice, TokenId::Spirit).unwrap(), 40);
        assert_eq!(balance(&state, &bob, TokenId::Spirit).unwrap(), 60);
        // Same id, other fields: refused.
        let other = transfer(7, alice, bob, 61);
        assert!(matches!(
            post(&mut state, &other),
            Err(LedgerError::ExistsWithDifferent {
                id: 7,
                field: TransferField::Amount
            })
        ));
        // The first differing field is named, in TigerBeetle's order.
        let carol = L1Address([3; 32]);
        assert!(matches!(
            post(&mut state, &transfer(7, alice, carol, 61)),
            Err(LedgerError::ExistsWithDifferent {
                field: TransferField::Credit,
                ..
            })
        ));
        assert!(matches!(
            post(&mut state, &transfer(7, carol, bob, 60)),
            Err(LedgerError::ExistsWithDifferent {
                field: TransferField::Debit,
                ..
            })
        ));
        // Overdraft refused, nothing written.
        let before = state.writes().clone();
        assert!(matches!(
            post(&mut state, &transfer(8, alice, bob, 41)),
            Err(LedgerError::InsufficientFunds { balance: 40, .. })
        ));
        assert_eq!(&before, state.writes());
        assert!(matches!(
            post(&mut state, &transfer(9, alice, alice, 1)),
            Err(LedgerError::SameAccount)
        ));
        assert!(matches!(
            post(&mut state, &transfer(10, alice, bob, 0)),
            Err(LedgerError::ZeroAmount)
        ));
        assert!(check_client_id(SYSTEM_ID_BIT | 5).is_err());
        assert!(check_client_id(5).is_ok());
        check_totals(&state).unwrap();
        let issuer_account = account(&state, &issuer(), TokenId::Spirit).unwrap();
        assert_eq!(issuer_account.debits_posted, 100);
    }

    #[test]
    fn out_of_balance_totals_are_caught() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        state.put(totals_key(TokenId::Mana), &(5u128, 4u128));
        assert!(matches!(
            check_totals(&state),
            Err(LedgerError::OutOfBalance {
                token: TokenId::Mana,
                ..
            })
        ));
    }
}
