//! Native rules: transfers, new accounts, withdrawals, deposits, fees, failures,
//! drops, and the store's atomic commit and reopen.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::*;
use ghostplane_executor::{BlockItem, DropReason, Executor, ExecutorConfig, StateKey};
use ghostplane_primitives::*;

#[test]
fn transfer_moves_value_and_fee_goes_to_the_fee_account_after_the_block() {
    let mut chain = Chain::new(4, 2);
    let out = chain.run(vec![
        chain.transfer(1, 2, TokenId::Spirit, 500, 7, 0),
        chain.transfer(2, 3, TokenId::Gcc, 100, 3, 0),
    ]);
    assert_eq!(out.receipts.len(), 2);
    assert!(
        out.receipts
            .iter()
            .all(|r| r.status == ReceiptStatus::Success)
    );
    assert_eq!(out.fees_collected, 10);
    assert_eq!(chain.balance(1, TokenId::Spirit), FUNDS - 500);
    assert_eq!(chain.balance(2, TokenId::Spirit), FUNDS + 500);
    assert_eq!(chain.balance(1, TokenId::Gcc), FUNDS - 7);
    assert_eq!(chain.balance(2, TokenId::Gcc), FUNDS - 100 - 3);
    assert_eq!(chain.balance(3, TokenId::Gcc), FUNDS + 100);
    assert_eq!(chain.balance(0, TokenId::Gcc), FUNDS + 10);
    assert_eq!((chain.nonce(1), chain.nonce(2)), (1, 1));
    assert!(matches!(
        out.ops[0],
        PubdataOp::Transfer {
            amount: 500,
            fee: 7,
            ..
        }
    ));
}

#[test]
fn transfer_to_a_new_key_creates_the_next_account() {
    let mut chain = Chain::new(3, 2);
    let fresh = key(1000);
    let tx = Transaction::Transfer {
        from: id(1),
        to: Recipient::NewAccount(fresh.public_key()),
        token: TokenId::Mana,
        amount: 42,
        fee: 1 + ACCOUNT_CREATION_FEE,
        nonce: 0,
    };
    let out = chain.run(vec![chain.sign(1, tx)]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    let snapshot = chain.executor.snapshot();
    assert_eq!(
        snapshot.account_of(&fresh.public_key()).unwrap(),
        Some(id(3))
    );
    assert_eq!(snapshot.balance(id(3), TokenId::Mana).unwrap(), 42);
    assert!(matches!(out.ops[0], PubdataOp::TransferToNew { to, .. } if to == id(3)));

    // The same key again: the account exists, so the transfer fails (fee paid).
    let again = Transaction::Transfer {
        from: id(1),
        to: Recipient::NewAccount(fresh.public_key()),
        token: TokenId::Mana,
        amount: 42,
        fee: 1 + ACCOUNT_CREATION_FEE,
        nonce: 1,
    };
    let out = chain.run(vec![chain.sign(1, again)]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::AccountExists(fresh.public_key()))
    );
    assert_eq!(chain.nonce(1), 2);
    assert_eq!(
        chain.balance(1, TokenId::Gcc),
        FUNDS - 2 * (1 + ACCOUNT_CREATION_FEE)
    );
    assert!(
        matches!(out.ops[0], PubdataOp::FeeOnly { fee_paid, .. } if fee_paid == 1 + ACCOUNT_CREATION_FEE)
    );
}

#[test]
fn failed_transfer_charges_fee_bumps_nonce_and_changes_nothing_else() {
    let mut chain = Chain::new(3, 2);
    let out = chain.run(vec![
        chain.transfer(1, 2, TokenId::Ghost, FUNDS + 1, 5, 0),
        chain.transfer(1, 77, TokenId::Ghost, 1, 5, 1),
    ]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::InsufficientBalance {
            token: TokenId::Ghost,
            needed: FUNDS + 1,
            available: FUNDS
        })
    );
    assert_eq!(
        out.receipts[1].status,
        ReceiptStatus::Failed(FailureReason::UnknownAccount(id(77)))
    );
    assert_eq!(chain.nonce(1), 2);
    assert_eq!(chain.balance(1, TokenId::Gcc), FUNDS - 10);
    assert_eq!(chain.balance(1, TokenId::Ghost), FUNDS);
    assert_eq!(chain.balance(2, TokenId::Ghost), FUNDS);
    assert_eq!(chain.balance(0, TokenId::Gcc), FUNDS + 10);
}

#[test]
fn invalid_transactions_are_dropped_without_effects() {
    let mut chain = Chain::new(3, 2);
    let wrong_signer = BlockItem::transaction(key(2).sign(
        DEVNET_CHAIN_ID,
        Transaction::Transfer {
            from: id(1),
            to: Recipient::Account(id(2)),
            token: TokenId::Gcc,
            amount: 1,
            fee: 1,
            nonce: 0,
        },
    ));
    let out = chain.run(vec![
        chain.transfer(1, 2, TokenId::Gcc, 1, 1, 5), // nonce too high
        wrong_signer,                                // key of account 2 signs for 1
        chain.transfer(1, 2, TokenId::Gcc, 1, FUNDS + 1, 0), // cannot pay the fee
        BlockItem::transaction(key(9).sign(
            DEVNET_CHAIN_ID,
            Transaction::Transfer {
                from: id(9), // no such sender
                to: Recipient::Account(id(1)),
                token: TokenId::Gcc,
                amount: 1,
                fee: 1,
                nonce: 0,
            },
        )),
        chain.transfer(1, 2, TokenId::Gcc, 0, 1, 0), // zero amount
        chain.transfer(1, 2, TokenId::Gcc, 1, 1, 0), // valid
        chain.transfer(1, 2, TokenId::Gcc, 1, 1, 0), // replay of the nonce just used
    ]);
    let reasons: Vec<&DropReason> = out.dropped.iter().map(|d| &d.reason).collect();
    assert_eq!(
        reasons,
        vec![
            &DropReason::BadNonce {
                expected: 0,
                got: 5
            },
            &DropReason::SignerMismatch(id(1)),
            &DropReason::CannotPayFee {
                needed: FUNDS + 1,
                available: FUNDS
            },
            &DropReason::UnknownSender(id(9)),
            &DropReason::Stateless(StatelessError::ZeroAmount),
            &DropReason::BadNonce {
                expected: 1,
                got: 0
            },
        ]
    );
    assert_eq!(
        out.dropped.iter().map(|d| d.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4, 6]
    );
    assert_eq!(out.receipts.len(), 1);
    assert_eq!(out.receipts[0].index, 5);
    assert_eq!(chain.nonce(1), 1);
    assert_eq!(chain.balance(1, TokenId::Gcc), FUNDS - 2);
}

#[test]
fn withdraw_and_deposit() {
    let mut chain = Chain::new(3, 2);
    let newcomer = key(500).public_key();
    let deposit = |queue_index, recipient, amount| {
        BlockItem::Deposit(DepositEvent {
            queue_index,
            l1_block: 9,
            recipient,
            token: TokenId::Spirit,
            amount,
            l1_tx_hash: Hash32([queue_index as u8; 32]),
        })
    };
    let out = chain.run(vec![
        chain.sign(
            2,
            Transaction::Withdraw {
                from: id(2),
                to: L1Address([0xee; 32]),
                token: TokenId::Spirit,
                amount: 300,
                fee: 2,
                nonce: 0,
            },
        ),
        deposit(0, chain.keys[1].public_key(), 1000),
        deposit(1, newcomer, 50),
    ]);
    assert!(
        out.receipts
            .iter()
            .all(|r| r.status == ReceiptStatus::Success)
    );
    assert_eq!(chain.balance(2, TokenId::Spirit), FUNDS - 300);
    assert_eq!(chain.balance(1, TokenId::Spirit), FUNDS + 1000);
    assert_eq!(
        chain.executor.snapshot().account_of(&newcomer).unwrap(),
        Some(id(3))
    );
    assert_eq!(chain.balance(3, TokenId::Spirit), 50);
    assert!(matches!(
        out.ops[0],
        PubdataOp::Withdraw { amount: 300, .. }
    ));
    assert!(matches!(out.ops[2], PubdataOp::Deposit { queue_index: 1, to, .. } if to == id(3)));
    assert_eq!(out.receipts[1].fee_paid, 0);
}

#[test]
fn a_forced_withdrawal_pays_the_request_or_the_whole_balance_and_keeps_the_nonce() {
    let mut chain = Chain::new(3, 2);
    let forced = |queue_index, account, amount| {
        BlockItem::ForcedWithdrawal(ForcedWithdrawalEvent {
            queue_index,
            l1_block: 9,
            account: id(account),
            token: TokenId::Mana,
            amount,
            recipient: L1Address([0xee; 32]),
            l1_tx_hash: Hash32([queue_index as u8; 32]),
        })
    };
    let out = chain.run(vec![forced(0, 1, 400), forced(1, 2, Amount::MAX)]);
    assert_eq!(chain.balance(1, TokenId::Mana), FUNDS - 400);
    assert_eq!(chain.balance(2, TokenId::Mana), 0);
    assert_eq!((chain.nonce(1), chain.nonce(2)), (0, 0));
    assert!(matches!(
        out.ops[0],
        PubdataOp::ForcedWithdraw {
            queue_index: 0,
            amount: 400,
            full: false,
            ..
        }
    ));
    assert!(matches!(
        out.ops[1],
        PubdataOp::ForcedWithdraw {
            queue_index: 1,
            amount: FUNDS,
            full: true,
            ..
        }
    ));
    // A second one on an empty balance pays nothing, and is still "whole".
    let out = chain.run(vec![forced(2, 2, 5)]);
    assert!(matches!(
        out.ops[0],
        PubdataOp::ForcedWithdraw {
            amount: 0,
            full: true,
            ..
        }
    ));
    assert_eq!(chain.executor.store().reader().forced_next().unwrap(), 3);
}

#[test]
fn blocks_commit_atomically_and_reopen_at_the_last_commit() {
    let mut chain = Chain::new(3, 2);
    chain.run(vec![chain.transfer(1, 2, TokenId::Gcc, 10, 1, 0)]);
    let committed = chain.executor.store().last_header().unwrap().clone();

    // Executed but never committed: as if the process died before the write.
    let pending = chain.block(vec![chain.transfer(1, 2, TokenId::Gcc, 10, 1, 1)]);
    let output = chain.executor.execute(&pending).unwrap();
    let path = chain.dir.path().to_path_buf();
    drop(chain.executor);

    let mut reopened = Executor::open(&path, ExecutorConfig::default()).unwrap();
    assert_eq!(reopened.store().last_header(), Some(&committed));
    let snapshot = reopened.snapshot();
    assert_eq!(snapshot.balance(id(2), TokenId::Gcc).unwrap(), FUNDS + 10);
    assert_eq!(snapshot.account(id(1)).unwrap().unwrap().nonce, 1);
    assert!(
        reopened
            .store()
            .receipt(&output.receipts[0].tx_hash)
            .unwrap()
            .is_none()
    );

    // The same block executes to the same output after the restart, and commits.
    assert_eq!(reopened.execute(&pending).unwrap(), output);
    reopened.commit(&output).unwrap();
    assert_eq!(
        reopened.snapshot().balance(id(2), TokenId::Gcc).unwrap(),
        FUNDS + 20
    );
    assert_eq!(
        reopened
            .store()
            .receipt(&output.receipts[0].tx_hash)
            .unwrap(),
        Some(output.receipts[0].clone())
    );
    assert_eq!(
        reopened.store().header(BlockNumber(2)).unwrap(),
        Some(output.header.clone())
    );

    // Committing it twice is refused: the block no longer follows the last one.
    assert!(reopened.commit(&output).is_err());
}

#[test]
fn output_lists_sorted_writes_and_chains_the_digest() {
    let mut chain = Chain::new(4, 2);
    let first = chain.run(vec![chain.transfer(3, 1, TokenId::Gcc, 10, 1, 0)]);
    let keys: Vec<StateKey> = first.writes.iter().map(|(k, _)| *k).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let second = chain.run(vec![chain.transfer(3, 1, TokenId::Gcc, 10, 1, 1)]);
    assert_ne!(
        first.header.execution_digest,
        second.header.execution_digest
    );
    assert_eq!(second.header.parent_hash, first.header.hash());
}

/// The state cache stays within its byte bound however many accounts blocks touch,
/// and reads after it was emptied still see committed state.
#[test]
fn state_cache_is_bounded_in_bytes() {
    let bound = 48 * 1024;
    let mut chain = Chain::with_config(
        401,
        ExecutorConfig {
            threads: 2,
            parallel_items_min: 0,
            cache_bytes_max: bound,
            ..ExecutorConfig::default()
        },
    );
    let mut largest = 0;
    let mut emptied = false;
    for round in 0..10u32 {
        // Twenty new senders and twenty new receivers each block.
        let items = (0..20)
            .map(|i| {
                let from = 1 + 40 * round + i;
                chain.transfer(from, from + 20, TokenId::Spirit, 1, 1, 0)
            })
            .collect();
        let before = chain.executor.store().cache_bytes();
        chain.run(items);
        let after = chain.executor.store().cache_bytes();
        emptied |= after < before;
        largest = largest.max(after);
    }
    assert!(largest > 0, "the cache was never used");
    assert!(
        emptied,
        "the cache never had to be emptied: the test is too small"
    );
    assert!(
        largest <= bound,
        "cache grew to {largest} bytes, bound {bound}"
    );
    // Reads after the cache was emptied still see every committed block.
    assert_eq!(chain.nonce(1), 1);
    assert_eq!(chain.balance(21, TokenId::Spirit), FUNDS + 1);
}
