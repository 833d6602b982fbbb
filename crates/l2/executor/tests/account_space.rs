//! The account space (2^24 ids) is split: transfers to new keys may only create ids
//! below `ACCOUNT_ID_LIMIT - DEPOSIT_ACCOUNTS_RESERVED`; the last ids are for
//! deposits, which the L1 only queues for new keys while there is room. So a full
//! account space can never turn a deposit into a block error (issue 33, item 6).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::*;
use ghostplane_executor::{BlockItem, StateKey, StateValue};
use ghostplane_primitives::*;

/// First id a transfer may not create.
const TRANSFER_LIMIT: u32 = TRANSFER_ACCOUNT_ID_LIMIT;

/// Commits an empty block whose writes also set the next account id to `next`, as
/// if that many accounts existed.
fn set_next_account_id(chain: &mut Chain, next: u32) {
    let block = chain.block(Vec::new());
    let mut output = chain.executor.execute(&block).unwrap();
    output
        .writes
        .push((StateKey::NextAccountId, Some(StateValue::Counter(next))));
    output.writes.sort_by_key(|(key, _)| *key);
    chain.executor.commit(&output).unwrap();
    chain.next_block += 1;
}

fn to_new(chain: &Chain, from: u32, key: PublicKey, nonce: u64) -> BlockItem {
    chain.sign(
        from,
        Transaction::Transfer {
            from: id(from),
            to: Recipient::NewAccount(key),
            token: TokenId::Mana,
            amount: 42,
            fee: 1 + ACCOUNT_CREATION_FEE,
            nonce,
        },
    )
}

fn deposit(queue_index: u64, recipient: PublicKey, amount: Amount) -> BlockItem {
    BlockItem::Deposit(DepositEvent {
        queue_index,
        l1_block: 9,
        recipient,
        token: TokenId::Spirit,
        amount,
        l1_tx_hash: Hash32([queue_index as u8; 32]),
    })
}

#[test]
fn at_the_last_free_id_a_transfer_to_a_new_key_fails_and_a_deposit_still_gets_it() {
    let mut chain = Chain::new(3, 2);
    let last = ACCOUNT_ID_LIMIT - 1;
    set_next_account_id(&mut chain, last);
    let stranger = key(7_000).public_key();
    let newcomer = key(7_001).public_key();
    // The attack: take the last id with a transfer, then a deposit to a new key
    // would have no id left (today a block error, and the L2 halts).
    let out = chain.run(vec![
        to_new(&chain, 1, stranger, 0),
        deposit(0, newcomer, 50),
    ]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::AccountsExhausted)
    );
    assert!(matches!(out.ops[0], PubdataOp::FeeOnly { .. }));
    assert_eq!(
        chain.nonce(1),
        1,
        "the failed transfer still consumes its nonce"
    );
    let snapshot = chain.executor.snapshot();
    assert_eq!(snapshot.account_of(&stranger).unwrap(), None);
    assert_eq!(
        snapshot.account_of(&newcomer).unwrap(),
        Some(AccountId::new(last).unwrap())
    );
    assert_eq!(
        snapshot
            .balance(AccountId::new(last).unwrap(), TokenId::Spirit)
            .unwrap(),
        50
    );
    assert!(matches!(
        out.ops[1],
        PubdataOp::Deposit { queue_index: 0, to, .. } if to.get() == last
    ));
}

#[test]
fn transfers_create_accounts_up_to_the_deposit_reserve_and_no_further() {
    let mut chain = Chain::new(3, 2);
    set_next_account_id(&mut chain, TRANSFER_LIMIT - 1);
    let first = key(8_000).public_key();
    let second = key(8_001).public_key();
    let known = chain.keys[2].public_key();
    let newcomer = key(8_002).public_key();
    let out = chain.run(vec![
        to_new(&chain, 1, first, 0),
        to_new(&chain, 1, second, 1),
        // A deposit to a known key, then to a new one: both credited, the new key
        // gets the first reserved id.
        deposit(0, known, 5),
        deposit(1, newcomer, 6),
    ]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    assert!(matches!(
        out.ops[0],
        PubdataOp::TransferToNew { to, .. } if to.get() == TRANSFER_LIMIT - 1
    ));
    assert_eq!(
        out.receipts[1].status,
        ReceiptStatus::Failed(FailureReason::AccountsExhausted)
    );
    let snapshot = chain.executor.snapshot();
    assert_eq!(snapshot.account_of(&second).unwrap(), None);
    assert_eq!(chain.balance(2, TokenId::Spirit), FUNDS + 5);
    assert_eq!(
        snapshot.account_of(&newcomer).unwrap(),
        Some(AccountId::new(TRANSFER_LIMIT).unwrap())
    );
}

#[test]
fn a_transfer_to_a_new_key_pays_the_account_creation_fee() {
    let mut chain = Chain::new(3, 2);
    let fresh = key(9_000).public_key();
    let cheap = chain.sign(
        1,
        Transaction::Transfer {
            from: id(1),
            to: Recipient::NewAccount(fresh),
            token: TokenId::Mana,
            amount: 42,
            fee: ACCOUNT_CREATION_FEE,
            nonce: 0,
        },
    );
    let out = chain.run(vec![cheap]);
    assert!(out.receipts.is_empty(), "{:?}", out.receipts);
    assert_eq!(out.dropped.len(), 1);
    assert_eq!(chain.nonce(1), 0);
    assert_eq!(chain.executor.snapshot().account_of(&fresh).unwrap(), None);

    let out = chain.run(vec![to_new(&chain, 1, fresh, 0)]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    assert_eq!(out.fees_collected, 1 + ACCOUNT_CREATION_FEE);
    assert_eq!(
        chain.balance(1, TokenId::Gcc),
        FUNDS - 1 - ACCOUNT_CREATION_FEE
    );
}
