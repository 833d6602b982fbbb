//! Read calls: what a transaction's call would return, with nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use std::sync::Arc;

use common::*;
use ghostplane_executor::readcall::{
    READ_CALL_FUEL_MAX, READ_CALLER_NONE, READ_CALLS_IN_FLIGHT_MAX,
};
use ghostplane_executor::{
    ARTIFACTS_DIR, ReadCall, ReadCallError, ReadCaller, ReadOutcome, StateKey, StateReader,
};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::*;

fn deploy(chain: &mut Chain, code: Vec<u8>) -> ContractAddress {
    let nonce = chain.nonce(1);
    let out = chain.run(vec![chain.deploy(1, code, nonce)]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    contract_address(id(1), nonce)
}

fn caller(chain: &Chain) -> ReadCaller {
    ReadCaller::new(1, &chain.dir.path().join(ARTIFACTS_DIR)).unwrap()
}

/// Runs `call` on the chain's latest state.
fn read_call(
    chain: &Chain,
    reads: &ReadCaller,
    call: ReadCall,
) -> Result<ReadOutcome, ReadCallError> {
    let header = chain.executor.store().last_header().unwrap().clone();
    reads.call(
        reads.reserve()?,
        Arc::new(chain.executor.snapshot()),
        header.number,
        header.timestamp_ms,
        call,
    )
}

fn read(
    chain: &Chain,
    reads: &ReadCaller,
    contract: ContractAddress,
    input: Vec<u8>,
    from: AccountId,
) -> Result<ReadOutcome, ReadCallError> {
    let call = ReadCall {
        contract,
        input,
        caller: from,
        fuel: 1_000_000,
    };
    read_call(chain, reads, call)
}

fn u64_le(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap())
}

#[test]
fn a_read_call_returns_what_the_transaction_returns_and_writes_nothing() {
    let mut chain = Chain::new(3, 2);
    let token = deploy(&mut chain, contract("token"));
    let mint = [&[0u8][..], &1_000u64.to_le_bytes()].concat();
    let out = chain.run(vec![chain.call(2, token, mint, chain.nonce(2))]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    let reads = caller(&chain);

    // balance_of(2) as a read call and as a transaction: the same answer.
    let balance_of = [&[2u8][..], &2u32.to_le_bytes()].concat();
    let view = read(&chain, &reads, token, balance_of.clone(), READ_CALLER_NONE).unwrap();
    assert_eq!(view.result, Ok(()));
    assert_eq!(u64_le(&view.return_data), 1_000);
    assert_eq!(view.block, BlockNumber(2));
    let out = chain.run(vec![chain.call(
        1,
        token,
        balance_of.clone(),
        chain.nonce(1),
    )]);
    assert_eq!(out.receipts[0].return_data, view.return_data);
    assert_eq!(
        out.receipts[0].gas_used,
        view.fuel_used + ghostplane_executor::rules::CALL_FUEL_BASE,
        "a transaction pays the read call's fuel plus its base charge"
    );

    // A transfer as a read call: it reports its event and its write, and the
    // state does not change.
    let transfer = [&[1u8][..], &1u32.to_le_bytes(), &300u64.to_le_bytes()].concat();
    let sim = read(&chain, &reads, token, transfer.clone(), id(2)).unwrap();
    assert_eq!(sim.result, Ok(()));
    assert_eq!(sim.events.len(), 1);
    assert_eq!(sim.discarded_writes, 2);
    let after = read(&chain, &reads, token, balance_of.clone(), READ_CALLER_NONE).unwrap();
    assert_eq!(
        u64_le(&after.return_data),
        1_000,
        "the read call wrote nothing"
    );
    let slot = {
        let mut k = [0u8; 32];
        k[0] = 1;
        k[1..5].copy_from_slice(&1u32.to_le_bytes());
        k
    };
    assert_eq!(
        chain
            .executor
            .snapshot()
            .get(&StateKey::Storage(token, slot))
            .unwrap(),
        None,
        "account 1 never got a balance"
    );
    // The same transfer as a transaction does what the read call said.
    let out = chain.run(vec![chain.call(2, token, transfer, chain.nonce(2))]);
    assert_eq!(out.receipts[0].events, sim.events);
    let after = read(&chain, &reads, token, balance_of, READ_CALLER_NONE).unwrap();
    assert_eq!(u64_le(&after.return_data), 700);
}

#[test]
fn a_read_call_that_reverts_reports_the_revert() {
    let mut chain = Chain::new(3, 2);
    let token = deploy(&mut chain, contract("token"));
    let reads = caller(&chain);
    // A transfer with no balance reverts "insufficient balance".
    let transfer = [&[1u8][..], &1u32.to_le_bytes(), &300u64.to_le_bytes()].concat();
    let out = read(&chain, &reads, token, transfer, id(2)).unwrap();
    assert_eq!(
        out.result,
        Err(FailureReason::Revert(b"insufficient balance".to_vec()))
    );
    assert!(out.return_data.is_empty() && out.events.is_empty());
}

#[test]
fn read_calls_are_bounded_and_typed() {
    let mut chain = Chain::new(3, 2);
    let counter = deploy(&mut chain, contract("counter"));
    let looper = deploy(&mut chain, contract("hostile/infinite_loop"));
    let deep = deploy(&mut chain, contract("hostile/deep_recursion"));
    let reads = caller(&chain);
    let run = |contract, input: Vec<u8>, fuel| {
        let call = ReadCall {
            contract,
            input,
            caller: READ_CALLER_NONE,
            fuel,
        };
        read_call(&chain, &reads, call)
    };
    // Unknown contract.
    let nobody = ContractAddress([7; 32]);
    assert!(matches!(
        run(nobody, vec![], 1_000),
        Err(ReadCallError::UnknownContract(a)) if a == nobody
    ));
    // Fuel over the cap, input over the cap: refused before running.
    let e = run(counter, vec![], READ_CALL_FUEL_MAX + 1).unwrap_err();
    assert!(matches!(e, ReadCallError::FuelTooHigh { .. }));
    let e = run(counter, vec![0; CALL_INPUT_BYTES_MAX + 1], 1_000).unwrap_err();
    assert!(matches!(e, ReadCallError::InputTooLarge(_)));
    // An endless loop burns the fuel it was given, and stops.
    let out = run(looper, vec![], 200_000).unwrap();
    assert_eq!(
        out.result,
        Err(FailureReason::OutOfFuel { fuel_used: 200_000 })
    );
    // Unbounded recursion hits the call-depth limit.
    let out = run(deep, vec![], READ_CALL_FUEL_MAX).unwrap();
    assert!(
        matches!(out.result, Err(FailureReason::CallDepthExceeded { .. })),
        "{:?}",
        out.result
    );
    // Places in flight are bounded; a dropped permit gives its place back.
    let permits: Vec<_> = (0..READ_CALLS_IN_FLIGHT_MAX)
        .map(|_| reads.reserve().unwrap())
        .collect();
    assert!(matches!(reads.reserve(), Err(ReadCallError::Busy)));
    drop(permits);
    // The counter still counts from zero: nothing any read call did stayed.
    let out = run(counter, vec![], 1_000_000).unwrap();
    assert_eq!(u64_le(&out.return_data), 1);
    assert_eq!(out.discarded_writes, 1);
    let again = run(counter, vec![], 1_000_000).unwrap();
    assert_eq!(u64_le(&again.return_data), 1);
}
