//! WASM contracts: the example contracts work, hostile ones fail deterministically
//! with no effect beyond fee and nonce.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::*;
use ghostplane_executor::rules::{CALL_FUEL_BASE, DEPLOY_FUEL_BASE, DEPLOY_FUEL_PER_BYTE};
use ghostplane_executor::wasm::{
    BULK_MEMORY_FUEL_PER_BYTE, BULK_TABLE_FUEL_PER_ELEMENT, CONTRACT_CALL_DEPTH_MAX, CallStatus,
    WASM_CALL_DEPTH_MAX, WASM_FUNCTION_LOCALS_MAX, WASM_OPERAND_STACK_MAX,
};
use ghostplane_executor::{BlockItem, BlockOutput, StateKey, StateReader};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::*;

/// Deploys `code` from account 1 and returns its address.
fn deploy(chain: &mut Chain, code: Vec<u8>) -> (ContractAddress, BlockOutput) {
    let nonce = chain.nonce(1);
    let out = chain.run(vec![chain.deploy(1, code, nonce)]);
    (contract_address(id(1), nonce), out)
}

fn u64_le(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap())
}

#[test]
fn counter_counts_and_charges_fuel() {
    let mut chain = Chain::new(3, 2);
    let code = contract("counter");
    let code_len = code.len() as u64;
    let (counter, out) = deploy(&mut chain, code);
    let receipt = &out.receipts[0];
    assert_eq!(receipt.status, ReceiptStatus::Success);
    assert_eq!(receipt.return_data, counter.0.to_vec());
    // Its fuel, and the account it creates.
    let deploy_fee =
        u128::from(DEPLOY_FUEL_BASE + DEPLOY_FUEL_PER_BYTE * code_len) + ACCOUNT_CREATION_FEE;
    assert_eq!(receipt.fee_paid, deploy_fee);
    assert_eq!(
        chain.balance(1, TokenId::Gcc),
        FUNDS - deploy_fee,
        "unused max fee refunded"
    );

    let gcc_before = chain.balance(2, TokenId::Gcc);
    let out = chain.run(vec![
        chain.call(2, counter, vec![], 0),
        chain.call(2, counter, vec![], 1),
    ]);
    assert_eq!(u64_le(&out.receipts[0].return_data), 1);
    assert_eq!(u64_le(&out.receipts[1].return_data), 2);
    let gas: u64 = out.receipts.iter().map(|r| r.gas_used).sum();
    assert!(out.receipts.iter().all(|r| r.gas_used > CALL_FUEL_BASE));
    assert_eq!(
        chain.balance(2, TokenId::Gcc),
        gcc_before - u128::from(gas),
        "fee = fuel used × price 1"
    );
    assert_eq!(
        out.storage_diff,
        vec![(counter, [0u8; 32], Some(2u64.to_le_bytes().to_vec()))]
    );
    // Each call: its ContractTx (a success), then its trace (what the L1
    // re-executes against).
    assert_eq!(out.ops.len(), 4);
    let PubdataOp::ContractTrace(first) = &out.ops[1] else {
        panic!("{:?}", out.ops[1]);
    };
    let slot = |value: Option<u64>| StorageSlot {
        contract: counter,
        key: Hash32([0; 32]),
        value: value.map(|v| v.to_le_bytes().to_vec()),
    };
    assert!(matches!(out.ops[0], PubdataOp::ContractTx { .. }));
    assert_eq!(first.reads, vec![slot(None)], "the slot was absent");
    assert_eq!(first.writes, vec![slot(Some(1))]);
    assert_eq!(first.gas_used, out.receipts[0].gas_used);
    assert_eq!(first.status, ReceiptStatus::Success);
    let PubdataOp::ContractTrace(second) = &out.ops[3] else {
        panic!("{:?}", out.ops[3]);
    };
    assert_eq!(
        second.reads,
        vec![slot(Some(1))],
        "it read the first call's write"
    );
    assert_eq!(second.writes, vec![slot(Some(2))]);
}

#[test]
fn registry_enforces_owners_and_reverts_cleanly() {
    let mut chain = Chain::new(4, 2);
    let (registry, _) = deploy(&mut chain, contract("registry"));
    let name = [7u8; 32];
    let set = |value: &[u8]| [&[0u8][..], &name, value].concat();
    let get = [&[1u8][..], &name].concat();

    let out = chain.run(vec![
        chain.call(2, registry, set(b"alice.ghost"), 0),
        chain.call(3, registry, set(b"mallory"), 0),
        chain.call(3, registry, get.clone(), 1),
    ]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    assert_eq!(out.receipts[0].events.len(), 1);
    assert_eq!(
        out.receipts[1].status,
        ReceiptStatus::Failed(FailureReason::Revert(b"not owner".to_vec()))
    );
    assert!(out.receipts[1].events.is_empty());
    assert_eq!(out.receipts[2].return_data, b"alice.ghost");
    assert_eq!(
        chain.nonce(3),
        2,
        "a reverted call still consumes its nonce"
    );

    // Bad input reverts; delete by the owner works.
    let out = chain.run(vec![
        chain.call(2, registry, vec![9; 40], 1),
        chain.call(2, registry, [&[2u8][..], &name].concat(), 2),
        chain.call(2, registry, get, 3),
    ]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::Revert(b"bad input".to_vec()))
    );
    assert_eq!(out.receipts[1].status, ReceiptStatus::Success);
    assert!(out.receipts[2].return_data.is_empty());
    assert_eq!(
        out.storage_diff,
        vec![(
            registry,
            {
                let mut slot = [0u8; 32];
                slot.copy_from_slice(&name);
                slot
            },
            None
        )]
    );
}

#[test]
fn token_transfers_inside_contract_storage() {
    let mut chain = Chain::new(4, 2);
    let (token, _) = deploy(&mut chain, contract("token"));
    let mint = [&[0u8][..], &1_000u64.to_le_bytes()].concat();
    let transfer =
        |to: u32, amount: u64| [&[1u8][..], &to.to_le_bytes(), &amount.to_le_bytes()].concat();
    let balance_of = |account: u32| [&[2u8][..], &account.to_le_bytes()].concat();

    let out = chain.run(vec![
        chain.call(2, token, mint.clone(), 0),
        chain.call(2, token, transfer(3, 250), 1),
        chain.call(3, token, transfer(2, 251), 0),
        chain.call(3, token, mint, 1),
        chain.call(3, token, balance_of(3), 2),
        chain.call(3, token, balance_of(2), 3),
    ]);
    let status: Vec<&ReceiptStatus> = out.receipts.iter().map(|r| &r.status).collect();
    assert_eq!(status[0], &ReceiptStatus::Success);
    assert_eq!(status[1], &ReceiptStatus::Success);
    assert_eq!(
        status[2],
        &ReceiptStatus::Failed(FailureReason::Revert(b"insufficient balance".to_vec()))
    );
    assert_eq!(
        status[3],
        &ReceiptStatus::Failed(FailureReason::Revert(b"already minted".to_vec()))
    );
    assert_eq!(u64_le(&out.receipts[4].return_data), 250);
    assert_eq!(u64_le(&out.receipts[5].return_data), 750);
    assert_eq!(
        out.receipts[1].events[0].data,
        [&3u32.to_le_bytes()[..], &250u64.to_le_bytes()].concat()
    );
}

/// A hostile call: it must fail with `expected`, charge only its fee, consume its
/// nonce and write nothing else.
fn assert_contained(
    chain: &mut Chain,
    address: ContractAddress,
    input: Vec<u8>,
    fuel: u64,
    expected: impl Fn(&FailureReason) -> bool,
) -> Receipt {
    let gcc_before = chain.balance(2, TokenId::Gcc);
    let nonce_before = chain.nonce(2);
    let block = chain.block(vec![call_with_fuel(
        chain,
        address,
        input,
        fuel,
        nonce_before,
    )]);
    let first = chain.executor.execute(&block).unwrap();
    // Deterministic: the same block executes to the same output every time, on any
    // number of threads.
    assert_eq!(first, chain.executor.execute(&block).unwrap());
    assert_eq!(first, chain.executor.execute_sequential(&block).unwrap());
    let out = chain.run(block.items);
    let receipt = &out.receipts[0];
    match &receipt.status {
        ReceiptStatus::Failed(reason) => assert!(expected(reason), "unexpected failure {reason:?}"),
        ReceiptStatus::Success => panic!("hostile call succeeded"),
    }
    assert!(
        out.storage_diff.is_empty(),
        "hostile call wrote storage: {:?}",
        out.storage_diff
    );
    assert!(receipt.events.is_empty());
    assert_eq!(chain.nonce(2), nonce_before + 1);
    assert_eq!(
        chain.balance(2, TokenId::Gcc),
        gcc_before - receipt.fee_paid
    );
    assert!(receipt.fee_paid > 0);
    let touched: Vec<&StateKey> = out.writes.iter().map(|(k, _)| k).collect();
    assert_eq!(
        touched,
        vec![
            &StateKey::Account(id(2)),
            &StateKey::Balance(id(0), TokenId::Gcc),
            &StateKey::Balance(id(2), TokenId::Gcc),
        ]
    );
    receipt.clone()
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let mut chain = Chain::new(3, 2);
    let (address, _) = deploy(&mut chain, contract("hostile/infinite_loop"));
    assert_contained(&mut chain, address, vec![], CALL_FUEL, |r| {
        matches!(r, FailureReason::OutOfFuel { .. })
    });
}

#[test]
fn memory_growth_past_the_limit_traps_and_rolls_back() {
    let mut chain = Chain::new(3, 2);
    let (address, _) = deploy(&mut chain, contract("hostile/memory_bomb"));
    assert_contained(
        &mut chain,
        address,
        vec![],
        CALL_FUEL,
        |r| matches!(r, FailureReason::Trap(msg) if msg.contains("unreachable")),
    );
}

#[test]
fn unbounded_recursion_hits_the_call_depth_limit() {
    let mut chain = Chain::new(3, 2);
    let (address, _) = deploy(&mut chain, contract("hostile/deep_recursion"));
    assert_contained(&mut chain, address, vec![], CALL_FUEL, is_depth_trap);
}

fn is_depth_trap(reason: &FailureReason) -> bool {
    *reason
        == FailureReason::CallDepthExceeded {
            max: WASM_CALL_DEPTH_MAX,
        }
}

/// A contract whose `call` reads `n` (u32) and recurses `n` levels below one frame of
/// `$down`, so `n + 2` contract frames are active at the deepest point. `$down` has the
/// largest frame deploy allows: every local it may declare and a near-full operand
/// stack, all distinct values live across the recursive call, so the native stack
/// holds them all. If the native stack bound were too small for
/// `WASM_CALL_DEPTH_MAX` such frames, the deepest allowed call would trap.
fn max_frame_recursion() -> Vec<u8> {
    let locals = WASM_FUNCTION_LOCALS_MAX as usize - 1; // plus the parameter
    let pushed = WASM_OPERAND_STACK_MAX as usize - 4; // plus the call's own operands
    let mut body = String::new();
    for i in 1..=locals {
        body += &format!(
            "(local.set {i} (i64.add (i64.extend_i32_u (local.get 0)) (i64.const {i})))\n"
        );
    }
    body += "(if (result i64) (i32.eqz (local.get 0)) (then (i64.const 0)) (else\n";
    for i in 0..pushed {
        body += &format!(
            "(i64.mul (local.get {}) (i64.const {}))\n",
            1 + i % locals,
            i + 3
        );
    }
    body += "(call $down (i32.sub (local.get 0) (i32.const 1)))\n";
    body += &"i64.add\n".repeat(pushed);
    body += "))\n";
    for i in 1..=locals {
        body += &format!("(local.get {i}) i64.xor\n");
    }
    let wat = format!(
        r#"(module
            (import "env" "input_read" (func $input_read (param i32)))
            (import "env" "set_return" (func $set_return (param i32 i32)))
            (memory (export "memory") 1)
            (func $down (param i32) (result i64) (local {})
              {body})
            (func (export "call")
              (call $input_read (i32.const 0))
              (i64.store (i32.const 8) (call $down (i32.load (i32.const 0))))
              (call $set_return (i32.const 8) (i32.const 8))))"#,
        "i64 ".repeat(locals)
    );
    wat::parse_str(&wat).unwrap()
}

#[test]
fn recursion_just_under_the_depth_limit_succeeds_and_one_more_traps() {
    let mut chain = Chain::new(3, 2);
    let (address, out) = deploy(&mut chain, max_frame_recursion());
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    let fuel = 20_000_000;
    let deepest = WASM_CALL_DEPTH_MAX - 2; // `call` + (deepest + 1) frames of `$down`
    let out = chain.run(vec![call_with_fuel(
        &chain,
        address,
        deepest.to_le_bytes().to_vec(),
        fuel,
        0,
    )]);
    let receipt = &out.receipts[0];
    assert_eq!(
        receipt.status,
        ReceiptStatus::Success,
        "depth {WASM_CALL_DEPTH_MAX}"
    );
    assert_eq!(receipt.return_data.len(), 8);
    assert!(receipt.gas_used < fuel);

    let receipt = assert_contained(
        &mut chain,
        address,
        (deepest + 1).to_le_bytes().to_vec(),
        fuel,
        is_depth_trap,
    );
    assert!(receipt.gas_used < fuel, "the trap is the depth, not fuel");
}

/// Input of `hostile/bulk_memory`: run operation `op` on `len` bytes, `reps` times.
fn bulk(op: u8, len: u32, reps: u32) -> Vec<u8> {
    [&[op][..], &len.to_le_bytes(), &reps.to_le_bytes()].concat()
}

/// Fuel the test chain gives a call (`Chain::call`'s `fuel_limit`).
const CALL_FUEL: u64 = 1_000_000;

/// A call from account 2 with its own fuel limit (and a fee that covers it).
fn call_with_fuel(
    chain: &Chain,
    address: ContractAddress,
    input: Vec<u8>,
    fuel: u64,
    nonce: u64,
) -> BlockItem {
    chain.sign(
        2,
        Transaction::Call {
            token: TokenId::Gcc,
            value: 0,
            from: id(2),
            contract: address,
            input,
            fuel_limit: fuel,
            fee: u128::from(fuel),
            nonce,
        },
    )
}

#[test]
fn bulk_memory_fuel_covers_every_byte_touched() {
    let mut chain = Chain::new(3, 2);
    let (address, _) = deploy(&mut chain, contract("hostile/bulk_memory"));
    let memory = u64::from(BULK_MEMORY_FUEL_PER_BYTE);
    let table = u64::from(BULK_TABLE_FUEL_PER_ELEMENT);
    // (op, len, reps, fuel per unit): fill, copy, init (4 KiB segment), table copy
    // (1024 elements).
    let cases = [
        (0, 65_536, 8, memory),
        (1, 65_536, 8, memory),
        (2, 4096, 64, memory),
        (3, 1024, 64, table),
    ];
    let mut nonce = 0;
    let mut gas = |chain: &mut Chain, input: Vec<u8>| {
        let out = chain.run(vec![chain.call(2, address, input, nonce)]);
        nonce += 1;
        let receipt = &out.receipts[0];
        assert_eq!(receipt.status, ReceiptStatus::Success);
        receipt.gas_used
    };
    for (op, len, reps, per_unit) in cases {
        let touched = u64::from(len) * u64::from(reps);
        let full = gas(&mut chain, bulk(op, len, reps));
        assert!(
            full >= touched * per_unit,
            "op {op}: {full} fuel for {touched} bytes (elements) touched"
        );
        // Exactly the per-unit rate: halving the length saves half the units.
        let half = gas(&mut chain, bulk(op, len / 2, reps));
        assert_eq!(full - half, touched / 2 * per_unit, "op {op}");
    }
}

#[test]
fn bulk_memory_bomb_runs_out_of_fuel() {
    let mut chain = Chain::new(3, 2);
    let (address, _) = deploy(&mut chain, contract("hostile/bulk_memory"));
    // 1000 fills of the whole 4 MiB memory (4 GiB written), then 1000 copies of 2 MiB:
    // the first operation alone costs more than the call's fuel.
    for input in [bulk(0, 4 << 20, 1000), bulk(1, 2 << 20, 1000)] {
        let receipt = assert_contained(&mut chain, address, input, CALL_FUEL, |r| {
            matches!(r, FailureReason::OutOfFuel { .. })
        });
        assert_eq!(receipt.gas_used, CALL_FUEL, "all the fuel, and no more");
    }
}

#[test]
fn invalid_modules_fail_at_deploy() {
    let oversize = {
        // A valid module padded with a custom section past the size limit.
        let mut code = contract("counter");
        let padding = CONTRACT_CODE_BYTES_MAX;
        code.push(0); // custom section id
        let mut len = padding + 5;
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                code.push(byte);
                break;
            }
            code.push(byte | 0x80);
        }
        code.push(4);
        code.extend_from_slice(b"junk");
        code.extend(std::iter::repeat_n(0u8, padding));
        code
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad import", contract("hostile/bad_import"), "fd_write"),
        (
            "reserved import",
            wat::parse_str(
                r#"(module (import "env" "__gp_call_depth_exceeded" (func))
                    (memory (export "memory") 1) (func (export "call")))"#,
            )
            .unwrap(),
            "reserved",
        ),
        (
            "huge memory",
            contract("hostile/huge_memory"),
            "exceeds the limit",
        ),
        ("oversize", oversize, "over the"),
        ("garbage", vec![0, 1, 2, 3, 4, 5], ""),
        (
            "no call export",
            wat::parse_str("(module (memory (export \"memory\") 1))").unwrap(),
            "call",
        ),
    ];
    for (name, code, needle) in cases {
        let mut chain = Chain::new(3, 2);
        let gcc_before = chain.balance(1, TokenId::Gcc);
        let (address, out) = deploy(&mut chain, code);
        let receipt = &out.receipts[0];
        match &receipt.status {
            ReceiptStatus::Failed(FailureReason::InvalidModule(reason)) => {
                assert!(reason.contains(needle), "{name}: {reason}")
            }
            other => panic!("{name}: expected InvalidModule, got {other:?}"),
        }
        assert_eq!(chain.nonce(1), 1, "{name}");
        assert_eq!(
            chain.balance(1, TokenId::Gcc),
            gcc_before - receipt.fee_paid,
            "{name}"
        );
        assert!(
            chain
                .executor
                .snapshot()
                .get(&StateKey::Contract(address))
                .unwrap()
                .is_none(),
            "{name}"
        );
    }
}

#[test]
fn calls_to_missing_contracts_and_low_fees_fail() {
    let mut chain = Chain::new(3, 2);
    let nowhere = ContractAddress([3; 32]);
    let out = chain.run(vec![
        chain.call(2, nowhere, vec![], 0),
        chain.sign(
            2,
            Transaction::Deploy {
                token: TokenId::Gcc,
                value: 0,
                from: id(2),
                code: contract("counter"),
                init: Vec::new(),
                fee: 10,
                nonce: 1,
            },
        ),
    ]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::UnknownContract(nowhere))
    );
    assert_eq!(out.receipts[0].fee_paid, u128::from(CALL_FUEL_BASE));
    assert!(matches!(
        out.receipts[1].status,
        ReceiptStatus::Failed(FailureReason::FeeTooLow { offered: 10, .. })
    ));
    assert_eq!(out.receipts[1].fee_paid, 10);
}

/// A valid contract of about `bytes` bytes (a data segment of that size).
fn big_contract(bytes: usize) -> Vec<u8> {
    let wat = format!(
        r#"(module (memory (export "memory") 2) (func (export "call")) (data (i32.const 0) "{}"))"#,
        "g".repeat(bytes)
    );
    wat::parse_str(&wat).unwrap()
}

#[test]
fn block_pubdata_budget_drops_what_does_not_fit() {
    // No fuel budget here: it would stop these deploys first (their compile work).
    let mut chain = Chain::with_config(
        24,
        ghostplane_executor::ExecutorConfig {
            threads: 2,
            parallel_items_min: 0,
            block_fuel_max: u64::MAX,
            ..Default::default()
        },
    );
    // Each deploy's pubdata is its whole transaction (~120 KiB): 17 fit in 2 MiB.
    let code = big_contract(120_000);
    let items: Vec<_> = (1..=20).map(|i| chain.deploy(i, code.clone(), 0)).collect();
    let out = chain.run(items);
    assert_eq!(out.receipts.len() + out.dropped.len(), 20);
    assert!(!out.dropped.is_empty(), "nothing was dropped");
    for dropped in &out.dropped {
        assert!(
            matches!(
                dropped.reason,
                ghostplane_executor::DropReason::BlockPubdataFull { .. }
            ),
            "{:?}",
            dropped.reason
        );
        // Dropped means untouched: the sender may resubmit.
        let sender = 1 + dropped.index;
        assert_eq!(chain.nonce(sender), 0);
    }
    // Block order decides: the first ones are in, the last ones are out.
    assert!(
        out.dropped
            .iter()
            .all(|d| d.index as usize >= out.receipts.len())
    );
    let pubdata = out.pubdata().unwrap();
    assert!(
        pubdata.len() <= BLOCK_PUBDATA_BYTES_MAX,
        "{}",
        pubdata.len()
    );
    // The dropped ones fit in the next block.
    let retry: Vec<_> = out
        .dropped
        .iter()
        .map(|d| chain.deploy(1 + d.index, code.clone(), 0))
        .collect();
    let next = chain.run(retry);
    assert!(next.dropped.is_empty());
}

// ---- Calls between contracts (the `call` host function) -------------------------

/// Input of `relay.wat`: call `target` with `fuel` and `inner`; `revert_after`
/// makes the relay revert once the call returned.
fn relay_input(target: ContractAddress, fuel: u64, revert_after: bool, inner: &[u8]) -> Vec<u8> {
    [
        &target.0[..],
        &fuel.to_le_bytes(),
        &[u8::from(revert_after)],
        inner,
    ]
    .concat()
}

/// What a relay returned: the call's status, what it saw under key 0 before writing
/// it (-1: absent), and the callee's return or revert data.
fn relay_result(data: &[u8]) -> (i32, i32, &[u8]) {
    let word = |at: usize| i32::from_le_bytes(data[at..at + 4].try_into().unwrap());
    (word(0), word(4), &data[8..])
}

/// Storage key 0, which the relay and the counter use.
const KEY0: [u8; 32] = [0; 32];

/// A contract that writes key `[5; 32]` and then fails: reverts with "nope", or traps.
fn write_then(fail: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
            (import "env" "emit_event" (func $emit_event (param i32 i32 i32)))
            (import "env" "revert" (func $revert (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05nope")
            (func (export "call")
              (call $storage_write (i32.const 0) (i32.const 32) (i32.const 4))
              (call $emit_event (i32.const 0) (i32.const 32) (i32.const 4))
              {fail}))"#
    ))
    .unwrap()
}

fn looper() -> Vec<u8> {
    wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "call") (loop (br 0))))"#)
        .unwrap()
}

fn call_fuel(chain: &Chain, to: ContractAddress, input: Vec<u8>, fuel: u64) -> BlockItem {
    let nonce = chain.nonce(2);
    call_with_fuel(chain, to, input, fuel, nonce)
}

#[test]
fn a_call_returns_the_callee_result_and_keeps_its_effects() {
    let mut chain = Chain::new(3, 2);
    let (relay, _) = deploy(&mut chain, contract("relay"));
    let (counter, _) = deploy(&mut chain, contract("counter"));
    let input = relay_input(counter, 200_000, false, &[]);
    let out = chain.run(vec![call_fuel(&chain, relay, input, 1_000_000)]);
    let receipt = &out.receipts[0];
    assert_eq!(receipt.status, ReceiptStatus::Success);
    let (status, seen, data) = relay_result(&receipt.return_data);
    assert_eq!((status, seen), (0, -1));
    assert_eq!(u64_le(data), 1, "the counter's return data");
    assert_eq!(receipt.events.len(), 1, "the relay's event");
    assert_eq!(
        out.storage_diff,
        vec![
            (relay, KEY0, Some(vec![0xaa])),
            (counter, KEY0, Some(1u64.to_le_bytes().to_vec())),
        ]
    );
}

#[test]
fn a_failed_callee_leaves_nothing_and_the_caller_decides() {
    let mut chain = Chain::new(3, 2);
    let (relay, _) = deploy(&mut chain, contract("relay"));
    let (reverts, _) = deploy(
        &mut chain,
        write_then(r#"(call $revert (i32.const 32) (i32.const 4))"#),
    );
    let (traps, _) = deploy(&mut chain, write_then("unreachable"));
    let (loops, _) = deploy(&mut chain, looper());
    for (target, want_status, want_data) in [
        (reverts, 1, b"nope".to_vec()),
        (traps, 3, Vec::new()),
        (loops, 2, Vec::new()),
        (ContractAddress([9; 32]), 4, Vec::new()),
    ] {
        // The looper gets all it can: the caller still keeps 1/64 to finish.
        let input = relay_input(target, u64::MAX, false, &[]);
        let out = chain.run(vec![call_fuel(&chain, relay, input, 1_000_000)]);
        let receipt = &out.receipts[0];
        assert_eq!(receipt.status, ReceiptStatus::Success, "target {target}");
        let (status, _, data) = relay_result(&receipt.return_data);
        assert_eq!(
            (status, data),
            (want_status, &want_data[..]),
            "target {target}"
        );
        assert_eq!(receipt.events.len(), 1, "only the relay's event stands");
        assert_eq!(
            out.storage_diff,
            vec![(relay, KEY0, Some(vec![0xaa]))],
            "the callee's write rolled back"
        );
        assert!(
            receipt.gas_used < 1_000_000,
            "the caller kept fuel to finish"
        );
    }
}

#[test]
fn a_caller_that_fails_after_a_call_rolls_the_call_back() {
    let mut chain = Chain::new(3, 2);
    let (relay, _) = deploy(&mut chain, contract("relay"));
    let (counter, _) = deploy(&mut chain, contract("counter"));
    let input = relay_input(counter, 200_000, true, &[]);
    let out = chain.run(vec![call_fuel(&chain, relay, input, 1_000_000)]);
    let receipt = &out.receipts[0];
    assert_eq!(
        receipt.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"outer".to_vec()))
    );
    assert!(receipt.events.is_empty());
    assert!(out.storage_diff.is_empty(), "{:?}", out.storage_diff);
}

#[test]
fn a_reentered_contract_sees_the_outer_frames_uncommitted_writes() {
    let mut chain = Chain::new(3, 2);
    let (relay, _) = deploy(&mut chain, contract("relay"));
    let (counter, _) = deploy(&mut chain, contract("counter"));
    // relay → relay → counter: the outer relay writes key 0 before calling itself.
    let inner = relay_input(counter, 100_000, false, &[]);
    let input = relay_input(relay, 400_000, false, &inner);
    let out = chain.run(vec![call_fuel(&chain, relay, input, 1_000_000)]);
    let receipt = &out.receipts[0];
    assert_eq!(receipt.status, ReceiptStatus::Success);
    let (status, seen, data) = relay_result(&receipt.return_data);
    assert_eq!((status, seen), (0, -1), "the outer relay saw nothing");
    let (status, seen, data) = relay_result(data);
    assert_eq!(
        (status, seen),
        (0, 1),
        "the inner relay saw the outer's write"
    );
    assert_eq!(u64_le(data), 1);
    assert_eq!(receipt.events.len(), 2);
}

#[test]
fn calls_nest_at_most_the_limit() {
    let mut chain = Chain::new(3, 2);
    let (relay, _) = deploy(&mut chain, contract("relay"));
    let (counter, _) = deploy(&mut chain, contract("counter"));
    // Ten relays nested, the innermost calling the counter.
    let levels = CONTRACT_CALL_DEPTH_MAX as usize + 2;
    let mut input = relay_input(counter, u64::MAX, false, &[]);
    for _ in 1..levels {
        input = relay_input(relay, u64::MAX, false, &input);
    }
    let out = chain.run(vec![call_fuel(&chain, relay, input, 5_000_000)]);
    let receipt = &out.receipts[0];
    assert_eq!(receipt.status, ReceiptStatus::Success);
    let mut statuses = Vec::new();
    let mut data = &receipt.return_data[..];
    while data.len() >= 8 {
        let (status, _, inner) = relay_result(data);
        statuses.push(status);
        data = inner;
    }
    // Relays at nesting 0..=7 made their call; the one at nesting 8 (the limit) got
    // TooDeep without running anything.
    let mut want = vec![CallStatus::Success as i32; CONTRACT_CALL_DEPTH_MAX as usize];
    want.push(CallStatus::TooDeep as i32);
    assert_eq!(statuses, want);
}

#[test]
fn wasm_frames_count_across_the_whole_chain() {
    let mut chain = Chain::new(3, 2);
    let (relay, _) = deploy(&mut chain, contract("relay"));
    let (deep, _) = deploy(&mut chain, max_frame_recursion());
    let fuel = 20_000_000;
    // Alone, `deepest` is the most the recursion may go (see the test above). Under a
    // relay, whose `call` frame is active, one level less is the most.
    let deepest = WASM_CALL_DEPTH_MAX - 2;
    for (n, want) in [
        (deepest - 1, CallStatus::Success),
        (deepest, CallStatus::TooDeep),
    ] {
        let input = relay_input(deep, u64::MAX, false, &n.to_le_bytes());
        let out = chain.run(vec![call_fuel(&chain, relay, input, fuel)]);
        let receipt = &out.receipts[0];
        assert_eq!(receipt.status, ReceiptStatus::Success, "n = {n}");
        assert_eq!(relay_result(&receipt.return_data).0, want as i32, "n = {n}");
    }
}

/// Returns `caller()` (i32 LE: the sender's account, or the calling contract's),
/// `caller_contract`'s flag (i32 LE) and the address it
/// wrote (32 bytes), then its own address (32 bytes).
fn whoami() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (import "env" "caller" (func $caller (result i32)))
            (import "env" "caller_contract" (func $caller_contract (param i32) (result i32)))
            (import "env" "self_address" (func $self_address (param i32)))
            (import "env" "set_return" (func $set_return (param i32 i32)))
            (memory (export "memory") 1)
            (func (export "call")
              (i32.store (i32.const 0) (call $caller))
              (i32.store (i32.const 4) (call $caller_contract (i32.const 8)))
              (call $self_address (i32.const 40))
              (call $set_return (i32.const 0) (i32.const 72))))"#,
    )
    .unwrap()
}

#[test]
fn a_callee_sees_the_calling_contract_not_the_sender() {
    let mut chain = Chain::new(3, 2);
    let (relay, deployed) = deploy(&mut chain, contract("relay"));
    let PubdataOp::ContractTx {
        contract: relay_account,
        ..
    } = deployed.ops[0]
    else {
        panic!("{:?}", deployed.ops[0]);
    };
    let (who, _) = deploy(&mut chain, whoami());
    let out = chain.run(vec![call_fuel(&chain, who, vec![], 1_000_000)]);
    let direct = &out.receipts[0].return_data;
    assert_eq!(i32::from_le_bytes(direct[0..4].try_into().unwrap()), 2);
    assert_eq!(&direct[4..8], &0i32.to_le_bytes());
    assert_eq!(&direct[40..72], &who.0);

    let input = relay_input(who, 200_000, false, &[]);
    let out = chain.run(vec![call_fuel(&chain, relay, input, 1_000_000)]);
    let (_, _, via) = relay_result(&out.receipts[0].return_data);
    assert_eq!(
        i32::from_le_bytes(via[0..4].try_into().unwrap()),
        relay_account.get() as i32,
        "caller() is the relay's account"
    );
    assert_eq!(&via[4..8], &1i32.to_le_bytes());
    assert_eq!(&via[8..40], &relay.0, "the caller is the relay");
    assert_eq!(&via[40..72], &who.0);
}

/// `init` stores its input under key 0; `call` returns what is stored there.
fn with_init(init_body: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (import "env" "input_len" (func $input_len (result i32)))
            (import "env" "input_read" (func $input_read (param i32)))
            (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
            (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
            (import "env" "set_return" (func $set_return (param i32 i32)))
            (import "env" "revert" (func $revert (param i32 i32)))
            (memory (export "memory") 1)
            (func (export "init")
              (call $input_read (i32.const 64))
              (call $storage_write (i32.const 0) (i32.const 64) (call $input_len))
              {init_body})
            (func (export "call")
              (call $set_return (i32.const 64)
                (call $storage_read (i32.const 0) (i32.const 64) (i32.const 1024)))))"#
    ))
    .unwrap()
}

#[test]
fn deploy_runs_init_with_its_input_and_a_failing_init_deploys_nothing() {
    let mut chain = Chain::new(3, 2);
    let nonce = chain.nonce(1);
    let out = chain.run(vec![chain.deploy_with_init(
        1,
        with_init(""),
        b"hello".to_vec(),
        nonce,
    )]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    let address = contract_address(id(1), nonce);
    let out = chain.run(vec![call_fuel(&chain, address, vec![], 1_000_000)]);
    assert_eq!(out.receipts[0].return_data, b"hello");

    // init reverts: no contract, no code, no storage.
    let nonce = chain.nonce(1);
    let code = with_init("(call $revert (i32.const 64) (i32.const 2))");
    let out = chain.run(vec![chain.deploy_with_init(1, code, b"no".to_vec(), nonce)]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::Revert(b"no".to_vec()))
    );
    assert!(out.storage_diff.is_empty());
    let failed = contract_address(id(1), nonce);
    let out = chain.run(vec![call_fuel(&chain, failed, vec![], 1_000_000)]);
    assert_eq!(
        out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::UnknownContract(failed))
    );

    // Init input for a module without `init`.
    let nonce = chain.nonce(1);
    let out = chain.run(vec![chain.deploy_with_init(
        1,
        contract("counter"),
        b"x".to_vec(),
        nonce,
    )]);
    assert!(matches!(
        &out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::InvalidModule(m)) if m.contains("init")
    ));
}

#[test]
fn reserved_exports_are_refused_at_deploy() {
    let mut chain = Chain::new(3, 2);
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (global (export "__gp_depth") (mut i32) (i32.const 0)) (func (export "call")))"#,
    )
    .unwrap();
    let (_, out) = deploy(&mut chain, code);
    assert!(matches!(
        &out.receipts[0].status,
        ReceiptStatus::Failed(FailureReason::InvalidModule(m)) if m.contains("reserved")
    ));
}

/// Input byte 0: 1 writes an empty value under key 0, 2 deletes key 0, 0 does
/// nothing; then returns what `storage_read` says of key 0 (i32 LE).
fn empty_or_absent() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (import "env" "input_read" (func $input_read (param i32)))
            (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
            (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
            (import "env" "storage_delete" (func $storage_delete (param i32)))
            (import "env" "set_return" (func $set_return (param i32 i32)))
            (memory (export "memory") 1)
            (func (export "call")
              (call $input_read (i32.const 64))
              (if (i32.eq (i32.load8_u (i32.const 64)) (i32.const 1))
                (then (call $storage_write (i32.const 0) (i32.const 0) (i32.const 0))))
              (if (i32.eq (i32.load8_u (i32.const 64)) (i32.const 2))
                (then (call $storage_delete (i32.const 0))))
              (i32.store (i32.const 96) (call $storage_read (i32.const 0) (i32.const 128) (i32.const 8)))
              (call $set_return (i32.const 96) (i32.const 4))))"#,
    )
    .unwrap()
}

#[test]
fn an_empty_value_is_present_and_a_deleted_key_is_absent() {
    let mut chain = Chain::new(3, 2);
    let (address, _) = deploy(&mut chain, empty_or_absent());
    let read = |chain: &mut Chain, op: u8| {
        let out = chain.run(vec![call_fuel(chain, address, vec![op], 1_000_000)]);
        assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
        let length = i32::from_le_bytes(out.receipts[0].return_data[..].try_into().unwrap());
        (length, out.storage_diff)
    };
    assert_eq!(read(&mut chain, 0), (-1, vec![]), "never written: absent");
    assert_eq!(
        read(&mut chain, 1),
        (0, vec![(address, KEY0, Some(vec![]))]),
        "empty: present, length 0"
    );
    assert_eq!(read(&mut chain, 0).0, 0, "still present after commit");
    assert_eq!(
        read(&mut chain, 2),
        (-1, vec![(address, KEY0, None)]),
        "deleted: absent"
    );
    assert_eq!(read(&mut chain, 0).0, -1);
}

/// A block asks at most `block_fuel_max` of re-execution work, all its
/// transactions together (fuel given to contract code, deploys' code to compile): a
/// call past it is dropped (and the block still fits a batch the L1 takes).
#[test]
fn a_block_gives_its_contracts_at_most_the_fuel_budget() {
    let code = contract("counter");
    // A call's fuel limit as large as the deploy's compile weight, so that the
    // deploy fits the budget and two calls do not.
    let limit = code.len() as u64 * ghostplane_primitives::trace::DEPLOY_COMPILE_FUEL_PER_BYTE;
    let fuel = limit - ghostplane_executor::rules::CALL_FUEL_BASE; // one call's
    let mut chain = Chain::with_config(
        3,
        ghostplane_executor::ExecutorConfig {
            threads: 2,
            parallel_items_min: 0,
            block_fuel_max: fuel + fuel / 2,
            ..Default::default()
        },
    );
    let (counter, out) = deploy(&mut chain, code);
    assert_eq!(out.receipts.len(), 1, "the deploy fits");
    let out = chain.run(vec![
        call_with_fuel(&chain, counter, vec![], limit, 0),
        call_with_fuel(&chain, counter, vec![], limit, 1),
    ]);
    assert_eq!(out.receipts.len(), 1);
    assert!(matches!(
        out.dropped[0].reason,
        ghostplane_executor::DropReason::BlockFuelFull { needed, left, .. }
            if needed == fuel && left == fuel / 2
    ));
}

/// A node compiles a contract once: at deploy it stores the compiled artifact
/// (`ARTIFACTS_DIR` in its store), and after a restart (an empty in-memory module
/// cache, as after more distinct contracts than the cache holds) a call loads that
/// artifact instead of compiling. What the load charge pays for.
#[test]
fn a_restarted_node_loads_a_contracts_compiled_artifact_instead_of_compiling() {
    let mut chain = Chain::new(3, 1);
    let (counter, _) = deploy(&mut chain, contract("counter"));
    // The deploy ran twice (`Chain::run` checks parallel against sequential
    // execution), each validating the module: compiled once, then loaded.
    let stats = chain.executor.artifact_stats().unwrap();
    assert_eq!(
        (stats.hits, stats.misses),
        (1, 1),
        "compiled once, at deploy"
    );
    assert!(
        std::fs::read_dir(chain.dir.path().join(ghostplane_executor::ARTIFACTS_DIR))
            .unwrap()
            .next()
            .is_some(),
        "the artifact is on disk"
    );
    let config = ghostplane_executor::ExecutorConfig {
        threads: 1,
        ..Default::default()
    };
    let dir = chain.dir;
    drop(chain.executor);
    let mut chain = Chain {
        executor: ghostplane_executor::Executor::open(dir.path(), config).unwrap(),
        dir,
        keys: chain.keys,
        next_block: chain.next_block,
    };
    let nonce = chain.nonce(2);
    let out = chain.run(vec![chain.call(2, counter, vec![], nonce)]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    let stats = chain.executor.artifact_stats().unwrap();
    assert_eq!((stats.hits, stats.misses), (1, 0), "loaded, not compiled");
}
