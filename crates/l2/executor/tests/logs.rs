//! The event index: every event of a committed block is found by contract, by
//! topic and by block range, in chain order, page by page, exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::*;
use ghostplane_executor::logs::{LOG_BLOCK_RANGE_MAX, LOG_TOPICS_MAX};
use ghostplane_executor::{BlockItem, Log, LogFilter, LogPosition, LogQueryError};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::*;

fn deploy(chain: &mut Chain, code: Vec<u8>) -> ContractAddress {
    let nonce = chain.nonce(1);
    let out = chain.run(vec![chain.deploy(1, code, nonce)]);
    assert_eq!(out.receipts[0].status, ReceiptStatus::Success);
    contract_address(id(1), nonce)
}

/// A registry `set` of `key` by `from`: one event, topic = key.
fn set(chain: &Chain, from: u32, registry: ContractAddress, key: u8, nonce: u64) -> BlockItem {
    let input = [&[0u8][..], &[key; 32], b"hi"].concat();
    chain.call(from, registry, input, nonce)
}

/// Every page of `filter`, followed to the end.
fn all_pages(chain: &Chain, mut filter: LogFilter) -> Vec<Log> {
    let reader = chain.executor.store().reader();
    let mut logs = Vec::new();
    for _ in 0..1000 {
        let page = reader.logs(&filter).unwrap();
        assert!(page.logs.len() <= filter.limit);
        logs.extend(page.logs);
        match page.next {
            Some(next) => filter.after = Some(next),
            None => return logs,
        }
    }
    panic!("paging did not end");
}

fn filter(contract: Option<ContractAddress>, topics: &[u8], from: u64, to: u64) -> LogFilter {
    LogFilter {
        contract,
        topics: topics.iter().map(|t| Hash32([*t; 32])).collect(),
        from_block: BlockNumber(from),
        to_block: BlockNumber(to),
        after: None,
        limit: 3,
    }
}

#[test]
fn events_are_found_by_contract_topic_and_range_in_pages_exactly_once() {
    let mut chain = Chain::new(6, 2);
    let a = deploy(&mut chain, contract("registry"));
    let b = deploy(&mut chain, contract("registry"));
    // Blocks 3..=7: accounts 2..=5 set keys on both registries; a failed call
    // (another owner's key) emits nothing.
    let mut expected: Vec<Log> = Vec::new();
    for round in 0..5u8 {
        let mut items = Vec::new();
        for from in 2..=5u32 {
            let registry = if (u32::from(round) + from) % 2 == 0 {
                a
            } else {
                b
            };
            let key = 10 * from as u8 + round % 2;
            items.push(set(&chain, from, registry, key, chain.nonce(from)));
        }
        // Account 2 tries account 3's key on registry a: reverts, no event.
        let taken = 10 * 3;
        items.push(set(&chain, 2, a, taken, chain.nonce(2) + 1));
        let out = chain.run(items);
        for receipt in &out.receipts {
            for (i, event) in receipt.events.iter().enumerate() {
                expected.push(Log {
                    position: LogPosition {
                        block: receipt.block.0,
                        tx: receipt.index,
                        log: i as u32,
                    },
                    tx_hash: receipt.tx_hash,
                    contract: event.contract,
                    topic: event.topic,
                    data: event.data.clone(),
                });
            }
        }
    }
    assert!(expected.len() >= 15, "{}", expected.len());
    let head = chain.next_block - 1;
    let check = |f: LogFilter| {
        let want: Vec<Log> = expected
            .iter()
            .filter(|l| f.contract.is_none_or(|c| l.contract == c))
            .filter(|l| f.topics.is_empty() || f.topics.contains(&l.topic))
            .filter(|l| (f.from_block.0..=f.to_block.0).contains(&l.position.block))
            .cloned()
            .collect();
        let got = all_pages(&chain, f.clone());
        assert_eq!(got, want, "{f:?}");
        want.len()
    };
    assert_eq!(check(filter(None, &[], 0, head)), expected.len());
    assert!(check(filter(Some(a), &[], 0, head)) > 0);
    assert!(check(filter(Some(b), &[], 4, 6)) > 0);
    assert!(check(filter(None, &[20], 0, head)) > 0);
    assert!(check(filter(None, &[20, 31, 50], 0, head)) > 0);
    assert!(check(filter(Some(a), &[20, 41], 0, head)) > 0);
    assert_eq!(check(filter(None, &[99], 0, head)), 0);
    assert_eq!(
        check(filter(Some(ContractAddress([7; 32])), &[], 0, head)),
        0
    );
    assert_eq!(check(filter(None, &[], head + 1, head + 5)), 0);
    // One log per page, resumed each time: the same logs.
    let mut one = filter(None, &[], 0, head);
    one.limit = 1;
    assert_eq!(all_pages(&chain, one), expected);

    // Bounds.
    let reader = chain.executor.store().reader();
    assert!(matches!(
        reader.logs(&filter(None, &[], 5, 4)),
        Err(LogQueryError::Range { .. })
    ));
    assert!(matches!(
        reader.logs(&filter(None, &[], 0, LOG_BLOCK_RANGE_MAX)),
        Err(LogQueryError::Range { .. })
    ));
    let many: Vec<u8> = (0..=LOG_TOPICS_MAX as u8).collect();
    assert!(matches!(
        reader.logs(&filter(None, &many, 0, head)),
        Err(LogQueryError::Topics(_))
    ));
}
