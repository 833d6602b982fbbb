//! Unit tests of the ledger: double entry, idempotent ids, two-phase transfers,
//! closed accounts, the totals check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use ghostplane_primitives::{Amount, L1Address, TokenId};

use super::store::{account_key, totals_key};
use super::*;

use ghostd_module::state::MemState as Mem;

fn transfer(id: u128, debit: L1Address, credit: L1Address, amount: Amount) -> LedgerTransfer {
    LedgerTransfer::posted(
        id,
        debit,
        credit,
        TokenId::Spirit,
        amount,
        TransferCode::Transfer,
        1,
    )
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
        Err(LedgerError::InsufficientFunds { available: 40, .. })
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
    assert_eq!(totals(&state, TokenId::Spirit).unwrap().supply, 100);
}

#[test]
fn closed_accounts_still_receive_the_nodes_movements() {
    let base = Mem(HashMap::new());
    let mut state = Layer::new(&base);
    let user = L1Address([4; 32]);
    let genesis = LedgerTransfer::posted(
        system_transfer_id(&[b"g"]),
        issuer(),
        bridge_escrow(),
        TokenId::Gcc,
        100,
        TransferCode::Genesis,
        0,
    );
    post(&mut state, &genesis).unwrap();
    let mut closed = LedgerAccount::opened(&user);
    closed.flags.0 |= AccountFlags::CLOSED;
    state.put(account_key(&user, TokenId::Gcc), &closed);
    // A user transfer is refused; a withdrawal from the bridge is not (a user
    // closing an account must not be able to stall finality).
    let deposit_like = LedgerTransfer::posted(
        system_transfer_id(&[b"d"]),
        bridge_escrow(),
        user,
        TokenId::Gcc,
        10,
        TransferCode::Transfer,
        1,
    );
    assert!(matches!(
        post(&mut state, &deposit_like),
        Err(LedgerError::AccountClosed { .. })
    ));
    let withdrawal = LedgerTransfer {
        code: TransferCode::Withdrawal,
        ..deposit_like
    };
    post(&mut state, &withdrawal).unwrap();
    assert_eq!(balance(&state, &user, TokenId::Gcc).unwrap(), 10);
    check_totals(&state).unwrap();
}

#[test]
fn out_of_balance_totals_are_caught() {
    let base = Mem(HashMap::new());
    let mut state = Layer::new(&base);
    state.put(
        totals_key(TokenId::Mana),
        &Totals {
            debits_posted: 5,
            credits_posted: 4,
            ..Totals::default()
        },
    );
    assert!(matches!(
        check_totals(&state),
        Err(LedgerError::OutOfBalance {
            token: TokenId::Mana,
            ..
        })
    ));
    state.put(
        totals_key(TokenId::Mana),
        &Totals {
            supply: 3,
            ..Totals::default()
        },
    );
    assert!(matches!(
        check_totals(&state),
        Err(LedgerError::OutOfBalance {
            what: "supply vs issuance account net",
            ..
        })
    ));
}
