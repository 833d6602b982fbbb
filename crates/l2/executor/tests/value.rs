//! Contracts that hold and move tokens: a deploy or call carries a value to the
//! contract's account, contracts pay (`transfer`) and pay each other
//! (`call_with_value`), every move is a `ContractMove` op, and a failure anywhere
//! rolls back the moves of the frames it undoes. Driven through the example
//! contracts `amm.wat`, `escrow.wat` and `router.wat`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::*;
use ghostplane_executor::{BlockOutput, DropReason};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::*;

const SPIRIT: TokenId = TokenId::Spirit;
const MANA: TokenId = TokenId::Mana;
const GHOST: TokenId = TokenId::Ghost;

/// Deploys `name` from account 1 with `init` and returns its address and account.
fn deploy(chain: &mut Chain, name: &str, init: Vec<u8>) -> (ContractAddress, u32) {
    let nonce = chain.nonce(1);
    let out = chain.run(vec![chain.deploy_with_init(1, contract(name), init, nonce)]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success, "{name}");
    let PubdataOp::ContractTx {
        contract: account, ..
    } = out.ops[0]
    else {
        panic!("a successful deploy is a ContractTx op: {:?}", out.ops[0]);
    };
    (contract_address(id(1), nonce), account.get())
}

/// An AMM of `a` and `b` owned by account 1, with `ra` and `rb` of liquidity.
fn pool(
    chain: &mut Chain,
    (a, ra): (TokenId, Amount),
    (b, rb): (TokenId, Amount),
) -> (ContractAddress, u32) {
    let (amm, account) = deploy(chain, "amm", vec![a.id(), b.id()]);
    for (token, amount) in [(a, ra), (b, rb)] {
        let nonce = chain.nonce(1);
        let out = chain.run(vec![chain.call_with_value(
            1,
            amm,
            vec![1],
            (token, amount),
            nonce,
        )]);
        assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    }
    (amm, account)
}

fn swap_input(min_out: u64) -> Vec<u8> {
    let mut input = vec![2];
    input.extend_from_slice(&min_out.to_le_bytes());
    input
}

fn quote(reserve_in: u128, reserve_out: u128, amount_in: u128) -> u128 {
    reserve_out * amount_in * 997 / (reserve_in * 1000 + amount_in * 997)
}

fn moves(out: &BlockOutput) -> Vec<(u32, u32, TokenId, Amount)> {
    out.ops
        .iter()
        .filter_map(|op| match op {
            PubdataOp::ContractMove {
                from,
                to,
                token,
                amount,
            } => Some((from.get(), to.get(), *token, *amount)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_swap_moves_the_value_in_and_pays_out_by_a_contract_move() {
    let mut chain = Chain::new(3, 2);
    let (amm, pool_account) = pool(&mut chain, (SPIRIT, 1_000_000), (MANA, 2_000_000));
    assert_eq!(chain.balance(pool_account, SPIRIT), 1_000_000);
    assert_eq!(chain.balance(pool_account, MANA), 2_000_000);

    let (spirit, mana) = (chain.balance(2, SPIRIT), chain.balance(2, MANA));
    let nonce = chain.nonce(2);
    let out = chain.run(vec![chain.call_with_value(
        2,
        amm,
        swap_input(1),
        (SPIRIT, 10_000),
        nonce,
    )]);
    let receipt = &out.receipts[0];
    assert_eq!(receipt.status, ReceiptStatus::Success);
    let paid = quote(1_000_000, 2_000_000, 10_000);
    assert_eq!(
        u128::from(u64::from_le_bytes(
            receipt.return_data[..8].try_into().unwrap()
        )),
        paid
    );
    assert_eq!(chain.balance(2, SPIRIT), spirit - 10_000);
    assert_eq!(chain.balance(2, MANA), mana + paid);
    assert_eq!(chain.balance(pool_account, SPIRIT), 1_010_000);
    assert_eq!(chain.balance(pool_account, MANA), 2_000_000 - paid);
    // The ops: the call (its value to the pool), its trace, the pool's one move.
    assert!(matches!(
        &out.ops[0],
        PubdataOp::ContractTx { contract, tx, .. }
            if contract.get() == pool_account && tx.value() == Some((SPIRIT, 10_000))
    ));
    assert!(matches!(out.ops[1], PubdataOp::ContractTrace(_)));
    assert_eq!(moves(&out), vec![(pool_account, 2, MANA, paid)]);
    // The pool's nonce counts its moves (as its leaf's will when proven).
    assert_eq!(chain.nonce(pool_account), 1);
}

#[test]
fn a_failed_swap_keeps_the_value_with_the_sender_and_moves_nothing() {
    let mut chain = Chain::new(3, 1);
    let (amm, pool_account) = pool(&mut chain, (SPIRIT, 1_000_000), (MANA, 2_000_000));
    let (spirit, mana) = (chain.balance(2, SPIRIT), chain.balance(2, MANA));
    let nonce = chain.nonce(2);
    // Slippage: asks for more than the pool gives.
    let out = chain.run(vec![chain.call_with_value(
        2,
        amm,
        swap_input(1_000_000),
        (SPIRIT, 10_000),
        nonce,
    )]);
    assert!(
        matches!(&out.receipts[0].status, ReceiptStatus::Failed(FailureReason::Revert(data)) if data == b"slippage")
    );
    assert!(
        matches!(out.ops[0], PubdataOp::FeeOnly { .. }),
        "a failed call is fee-only"
    );
    assert!(moves(&out).is_empty());
    assert_eq!(
        (chain.balance(2, SPIRIT), chain.balance(2, MANA)),
        (spirit, mana)
    );
    assert_eq!(chain.balance(pool_account, SPIRIT), 1_000_000);
    assert_eq!(chain.nonce(2), nonce + 1, "the nonce is consumed");

    // A value the sender does not have: the call fails before the contract runs.
    let nonce = chain.nonce(2);
    let out = chain.run(vec![chain.call_with_value(
        2,
        amm,
        swap_input(0),
        (SPIRIT, FUNDS + 1),
        nonce,
    )]);
    assert!(matches!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::InsufficientBalance { .. })
    ));
    assert_eq!(
        out.receipts[0].gas_used,
        ghostplane_executor::rules::CALL_FUEL_BASE
    );
}

#[test]
fn an_escrow_pays_the_seller_only_when_the_buyer_or_arbiter_releases() {
    let mut chain = Chain::new(5, 2);
    // Seller 3, arbiter 4.
    let mut init = 3u32.to_le_bytes().to_vec();
    init.extend_from_slice(&4u32.to_le_bytes());
    let (escrow, account) = deploy(&mut chain, "escrow", init);
    let seller = chain.balance(3, GHOST);
    let n2 = chain.nonce(2);
    let out = chain.run(vec![chain.call_with_value(
        2,
        escrow,
        vec![1],
        (GHOST, 500),
        n2,
    )]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    assert_eq!(chain.balance(account, GHOST), 500);

    // The seller cannot release to itself; a stranger cannot either.
    let n3 = chain.nonce(3);
    let out = chain.run(vec![chain.call(3, escrow, vec![2], n3)]);
    assert!(
        matches!(&out.receipts[0].status, ReceiptStatus::Failed(FailureReason::Revert(d)) if d == b"unauthorized")
    );
    assert_eq!(chain.balance(account, GHOST), 500);

    // The buyer releases: the escrow pays the seller.
    let n2 = chain.nonce(2);
    let out = chain.run(vec![chain.call(2, escrow, vec![2], n2)]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    assert_eq!(moves(&out), vec![(account, 3, GHOST, 500)]);
    assert_eq!(chain.balance(3, GHOST), seller + 500);
    assert_eq!(chain.balance(account, GHOST), 0);
    // Closed: a refund now has nothing to pay.
    let n4 = chain.nonce(4);
    let out = chain.run(vec![chain.call(4, escrow, vec![3], n4)]);
    assert!(matches!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::Revert(_))
    ));
}

/// A router swap input: two hops through `amm1` (to `mid`) and `amm2` (to `out`).
fn swap2(
    amm1: ContractAddress,
    mid: TokenId,
    amm2: ContractAddress,
    out: TokenId,
    min_out: u64,
) -> Vec<u8> {
    let mut input = vec![2];
    input.extend_from_slice(&amm1.0);
    input.push(mid.id());
    input.extend_from_slice(&amm2.0);
    input.push(out.id());
    input.extend_from_slice(&min_out.to_le_bytes());
    input
}

#[test]
fn a_router_swaps_through_two_pools_paying_contract_to_contract() {
    let mut chain = Chain::new(3, 2);
    let (amm1, pool1) = pool(&mut chain, (SPIRIT, 1_000_000), (MANA, 1_000_000));
    let (amm2, pool2) = pool(&mut chain, (MANA, 1_000_000), (GHOST, 4_000_000));
    let (router, router_account) = deploy(&mut chain, "router", Vec::new());

    let (spirit, ghost) = (chain.balance(2, SPIRIT), chain.balance(2, GHOST));
    let nonce = chain.nonce(2);
    let input = swap2(amm1, MANA, amm2, GHOST, 1);
    let out = chain.run(vec![chain.call_with_value(
        2,
        router,
        input,
        (SPIRIT, 20_000),
        nonce,
    )]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Success,
        "{:?}",
        out.receipts[0]
    );
    let mid = quote(1_000_000, 1_000_000, 20_000);
    let end = quote(1_000_000, 4_000_000, mid);
    assert_eq!(
        moves(&out),
        vec![
            (router_account, pool1, SPIRIT, 20_000), // value of the call to amm1
            (pool1, router_account, MANA, mid),      // amm1 pays its caller
            (router_account, pool2, MANA, mid),      // value of the call to amm2
            (pool2, router_account, GHOST, end),     // amm2 pays its caller
            (router_account, 2, GHOST, end),         // the router pays the user
        ]
    );
    assert_eq!(chain.balance(2, SPIRIT), spirit - 20_000);
    assert_eq!(chain.balance(2, GHOST), ghost + end);
    for token in [SPIRIT, MANA, GHOST] {
        assert_eq!(
            chain.balance(router_account, token),
            0,
            "the router keeps nothing"
        );
    }
    assert_eq!(chain.nonce(router_account), 3);

    // The same swap asking too much: the second pool reverts, and every move of
    // the transaction (the first hop's included) rolls back.
    let before: Vec<Amount> = [pool1, pool2, router_account, 2]
        .iter()
        .flat_map(|a| [SPIRIT, MANA, GHOST].map(|t| chain.balance(*a, t)))
        .collect();
    let nonce = chain.nonce(2);
    let input = swap2(amm1, MANA, amm2, GHOST, u64::MAX);
    let out = chain.run(vec![chain.call_with_value(
        2,
        router,
        input,
        (SPIRIT, 20_000),
        nonce,
    )]);
    assert!(matches!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::Revert(_))
    ));
    assert!(moves(&out).is_empty());
    let after: Vec<Amount> = [pool1, pool2, router_account, 2]
        .iter()
        .flat_map(|a| [SPIRIT, MANA, GHOST].map(|t| chain.balance(*a, t)))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_contract_account_sends_no_transaction() {
    let mut chain = Chain::new(3, 1);
    let (_, account) = deploy(&mut chain, "escrow", vec![0; 8]);
    // Whatever key signs it, a transaction from a contract's account is dropped.
    let tx = Transaction::Transfer {
        from: id(account),
        to: Recipient::Account(id(2)),
        token: TokenId::Gcc,
        amount: 1,
        fee: 1,
        nonce: 0,
    };
    let item = ghostplane_executor::BlockItem::transaction(key(1).sign(DEVNET_CHAIN_ID, tx));
    let out = chain.run(vec![item]);
    assert!(out.receipts.is_empty());
    assert_eq!(
        out.dropped[0].reason,
        DropReason::ContractSender(id(account))
    );
}

#[test]
fn a_deploy_with_value_funds_the_new_contract() {
    let mut chain = Chain::new(3, 1);
    let nonce = chain.nonce(1);
    let code = contract("amm");
    let out = chain.run(vec![chain.deploy_with_value(
        1,
        code,
        vec![1, 2],
        (SPIRIT, 777),
        nonce,
    )]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    let PubdataOp::ContractTx {
        contract: account, ..
    } = out.ops[0]
    else {
        panic!("{:?}", out.ops[0]);
    };
    assert_eq!(chain.balance(account.get(), SPIRIT), 777);
    assert_eq!(chain.balance(1, SPIRIT), FUNDS - 777);
}
