//! The law of the parallel scheduler: for any block, executing it on 1, 2 or 4
//! threads gives exactly what executing it one item at a time gives (state writes,
//! receipts, gas, drops, ops, digest).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::*;
use ghostplane_executor::BlockItem;
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::*;
use proptest::prelude::*;

/// One generated action; turned into a block item with the right (or a wrong) nonce.
#[derive(Debug, Clone)]
enum Action {
    Transfer {
        from: u32,
        to: u32,
        token: u8,
        amount: u128,
        fee: u128,
    },
    TransferToNew {
        from: u32,
        fresh: u32,
    },
    Withdraw {
        from: u32,
        amount: u128,
    },
    Deposit {
        to_existing: Option<u32>,
        fresh: u32,
        amount: u128,
    },
    CounterCall {
        from: u32,
    },
    TokenTransfer {
        from: u32,
        to: u32,
        amount: u64,
    },
    LoopCall {
        from: u32,
    },
    /// The relay calls the counter, the token, itself (re-entering, then the counter)
    /// or the looping contract (out of fuel), and maybe reverts after.
    RelayCall {
        from: u32,
        target: u8,
        revert_after: bool,
    },
    StaleNonce {
        from: u32,
    },
    /// A swap of SPIRIT on the first AMM (value in, a contract move out); too large
    /// an amount fails before the pool runs, `greedy` reverts on slippage.
    Swap {
        from: u32,
        amount: u128,
        greedy: bool,
    },
    /// Two hops through the router (value paid contract to contract), maybe
    /// reverting at the second pool, which rolls back every move.
    RouterSwap {
        from: u32,
        amount: u128,
        greedy: bool,
    },
}

const ACCOUNTS: u32 = 40;

fn action(senders: u32) -> impl Strategy<Value = Action> {
    let who = 1..senders + 1;
    prop_oneof![
        6 => (who.clone(), 0..ACCOUNTS + 3, 0u8..4, prop_oneof![0u128..1000, Just(FUNDS * 2)], 0u128..20)
            .prop_map(|(from, to, token, amount, fee)| Action::Transfer { from, to, token, amount, fee }),
        1 => (who.clone(), 1000u32..1004).prop_map(|(from, fresh)| Action::TransferToNew { from, fresh }),
        1 => (who.clone(), prop_oneof![1u128..500, Just(FUNDS * 3)]).prop_map(|(from, amount)| Action::Withdraw { from, amount }),
        1 => (proptest::option::of(0..ACCOUNTS), 2000u32..2003, 1u128..10_000)
            .prop_map(|(to_existing, fresh, amount)| Action::Deposit { to_existing, fresh, amount }),
        2 => who.clone().prop_map(|from| Action::CounterCall { from }),
        2 => (who.clone(), 1..senders + 1, 0u64..400).prop_map(|(from, to, amount)| Action::TokenTransfer { from, to, amount }),
        1 => who.clone().prop_map(|from| Action::LoopCall { from }),
        3 => (who.clone(), 0u8..4, proptest::bool::weighted(0.2))
            .prop_map(|(from, target, revert_after)| Action::RelayCall { from, target, revert_after }),
        1 => who.clone().prop_map(|from| Action::StaleNonce { from }),
        2 => (who.clone(), prop_oneof![1u128..5_000, Just(FUNDS * 2)], proptest::bool::weighted(0.2))
            .prop_map(|(from, amount, greedy)| Action::Swap { from, amount, greedy }),
        2 => (who, 1u128..5_000, proptest::bool::weighted(0.2))
            .prop_map(|(from, amount, greedy)| Action::RouterSwap { from, amount, greedy }),
    ]
}

/// A block plan: whether senders are few (high contention) or many, and the actions.
fn plan() -> impl Strategy<Value = Vec<Vec<Action>>> {
    prop_oneof![Just(3u32), Just(ACCOUNTS - 1)].prop_flat_map(|senders| {
        proptest::collection::vec(proptest::collection::vec(action(senders), 0..48), 1..3)
    })
}

struct Contracts {
    counter: ContractAddress,
    token: ContractAddress,
    spin: ContractAddress,
    relay: ContractAddress,
    /// SPIRIT/MANA and MANA/GHOST pools, and the router.
    amm: [ContractAddress; 2],
    router: ContractAddress,
}

fn setup() -> (Chain, Contracts) {
    let mut chain = Chain::new(ACCOUNTS, 2);
    let spin = wat::parse_str(
        r#"(module (memory (export "memory") 1)
             (func (export "call") (local $i i32)
               (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br_if $l (i32.lt_u (local.get $i) (i32.const 5000))))))"#,
    )
    .unwrap();
    chain.run(vec![
        chain.deploy(0, contract("counter"), 0),
        chain.deploy(0, contract("token"), 1),
        chain.deploy(0, spin, 2),
        chain.deploy(0, contract("relay"), 3),
        chain.deploy_with_init(0, contract("amm"), vec![1, 2], 4),
        chain.deploy_with_init(0, contract("amm"), vec![2, 3], 5),
        chain.deploy(0, contract("router"), 6),
    ]);
    let contracts = Contracts {
        counter: contract_address(id(0), 0),
        token: contract_address(id(0), 1),
        spin: contract_address(id(0), 2),
        relay: contract_address(id(0), 3),
        amm: [contract_address(id(0), 4), contract_address(id(0), 5)],
        router: contract_address(id(0), 6),
    };
    let mut nonce = 7;
    let mut liquidity = Vec::new();
    for (pool, tokens) in contracts.amm.iter().zip([
        [TokenId::Spirit, TokenId::Mana],
        [TokenId::Mana, TokenId::Ghost],
    ]) {
        for token in tokens {
            liquidity.push(chain.call_with_value(0, *pool, vec![1], (token, 1_000_000), nonce));
            nonce += 1;
        }
    }
    chain.run(liquidity);
    // Give every account some contract tokens.
    let mint = [&[0u8][..], &1_000_000u64.to_le_bytes()].concat();
    let mut items = vec![chain.call(0, contracts.token, mint, nonce)];
    for to in 1..ACCOUNTS {
        let transfer = [&[1u8][..], &to.to_le_bytes(), &1_000u64.to_le_bytes()].concat();
        items.push(chain.call(0, contracts.token, transfer, nonce + u64::from(to)));
    }
    chain.run(items);
    (chain, contracts)
}

fn to_items(
    chain: &Chain,
    contracts: &Contracts,
    actions: &[Action],
    nonces: &mut [u64],
) -> Vec<BlockItem> {
    let mut next = |from: u32, advance: bool| {
        let nonce = nonces[from as usize];
        if advance {
            nonces[from as usize] += 1;
        }
        nonce
    };
    actions
        .iter()
        .map(|action| match action {
            Action::Transfer {
                from,
                to,
                token,
                amount,
                fee,
            } => chain.transfer(
                *from,
                *to,
                TokenId::from_id(*token).unwrap(),
                *amount.max(&1),
                *fee,
                next(*from, true),
            ),
            Action::TransferToNew { from, fresh } => chain.sign(
                *from,
                Transaction::Transfer {
                    from: id(*from),
                    to: Recipient::NewAccount(key(*fresh).public_key()),
                    token: TokenId::Mana,
                    amount: 5,
                    fee: 1 + ACCOUNT_CREATION_FEE,
                    nonce: next(*from, true),
                },
            ),
            Action::Withdraw { from, amount } => chain.sign(
                *from,
                Transaction::Withdraw {
                    from: id(*from),
                    to: L1Address([9; 32]),
                    token: TokenId::Spirit,
                    amount: *amount,
                    fee: 2,
                    nonce: next(*from, true),
                },
            ),
            Action::Deposit {
                to_existing,
                fresh,
                amount,
            } => BlockItem::Deposit(DepositEvent {
                queue_index: u64::from(*fresh) + u64::try_from(*amount).unwrap(),
                l1_block: 1,
                recipient: to_existing.map_or(key(*fresh).public_key(), |i| key(i).public_key()),
                token: TokenId::Ghost,
                amount: *amount,
                l1_tx_hash: Hash32([1; 32]),
            }),
            Action::CounterCall { from } => {
                chain.call(*from, contracts.counter, vec![], next(*from, true))
            }
            Action::TokenTransfer { from, to, amount } => {
                let input = [&[1u8][..], &to.to_le_bytes(), &amount.to_le_bytes()].concat();
                chain.call(*from, contracts.token, input, next(*from, true))
            }
            Action::LoopCall { from } => {
                chain.call(*from, contracts.spin, vec![], next(*from, true))
            }
            Action::RelayCall {
                from,
                target,
                revert_after,
            } => {
                let relay = |target: &ContractAddress, revert: bool, inner: &[u8]| {
                    [
                        &target.0[..],
                        &u64::MAX.to_le_bytes(),
                        &[u8::from(revert)],
                        inner,
                    ]
                    .concat()
                };
                // The token's input moves 1 of the relay's own (absent) tokens: it
                // fails inside the callee, rolling back.
                let input = match target {
                    0 => relay(&contracts.counter, *revert_after, &[]),
                    1 => {
                        let inner = [&[1u8][..], &from.to_le_bytes(), &1u64.to_le_bytes()].concat();
                        relay(&contracts.token, *revert_after, &inner)
                    }
                    2 => relay(
                        &contracts.relay,
                        *revert_after,
                        &relay(&contracts.counter, false, &[]),
                    ),
                    _ => relay(&contracts.spin, *revert_after, &[]),
                };
                chain.call(*from, contracts.relay, input, next(*from, true))
            }
            Action::StaleNonce { from } => {
                let nonce = next(*from, false).saturating_sub(1);
                chain.transfer(*from, 0, TokenId::Gcc, 1, 1, nonce)
            }
            Action::Swap {
                from,
                amount,
                greedy,
            } => {
                let min_out: u64 = if *greedy { u64::MAX } else { 0 };
                let input = [&[2u8][..], &min_out.to_le_bytes()].concat();
                let value = (TokenId::Spirit, *amount);
                chain.call_with_value(*from, contracts.amm[0], input, value, next(*from, true))
            }
            Action::RouterSwap {
                from,
                amount,
                greedy,
            } => {
                let min_out: u64 = if *greedy { u64::MAX } else { 0 };
                let input = [
                    &[2u8][..],
                    &contracts.amm[0].0,
                    &[TokenId::Mana.id()],
                    &contracts.amm[1].0,
                    &[TokenId::Ghost.id()],
                    &min_out.to_le_bytes(),
                ]
                .concat();
                let value = (TokenId::Spirit, *amount);
                chain.call_with_value(*from, contracts.router, input, value, next(*from, true))
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn parallel_equals_sequential(blocks in plan()) {
        let (mut chain, contracts) = setup();
        let mut nonces: Vec<u64> = (0..ACCOUNTS).map(|i| chain.nonce(i)).collect();
        for actions in &blocks {
            let items = to_items(&chain, &contracts, actions, &mut nonces);
            let block = chain.block(items);
            let sequential = chain.executor.execute_sequential(&block).unwrap();
            for threads in [1, 2, 4] {
                chain.executor.set_threads(threads).unwrap();
                let parallel = chain.executor.execute(&block).unwrap();
                prop_assert_eq!(&parallel, &sequential, "{} threads", threads);
            }
            chain.executor.commit(&sequential).unwrap();
            chain.next_block += 1;
            // Resynchronise the generator with what actually happened (failed and
            // dropped transactions).
            nonces = (0..ACCOUNTS).map(|i| chain.nonce(i)).collect();
        }
    }
}

/// A block longer than several speculation windows, whose first windows are
/// contract calls that all hit one storage slot (contention the declared keys do not
/// show, so speculation stops after a window) followed by disjoint transfers, gives
/// the sequential result with 2 and 4 threads.
#[test]
fn windows_and_the_contention_stop_give_the_sequential_result() {
    let (mut chain, contracts) = setup();
    let mut nonces: Vec<u64> = (0..ACCOUNTS).map(|i| chain.nonce(i)).collect();
    let mut items = Vec::new();
    // Many calls to the counter (one shared slot), round-robin over senders.
    for n in 0..1200u32 {
        let from = n % ACCOUNTS;
        items.push(chain.call(from, contracts.counter, vec![0], nonces[from as usize]));
        nonces[from as usize] += 1;
    }
    // Then transfers, each sender to the next.
    for from in 0..ACCOUNTS {
        let to = (from + 1) % ACCOUNTS;
        items.push(chain.transfer(from, to, TokenId::Spirit, 1, 1, nonces[from as usize]));
        nonces[from as usize] += 1;
    }
    let block = chain.block(items);
    let sequential = chain.executor.execute_sequential(&block).unwrap();
    assert!(
        sequential.dropped.is_empty(),
        "{:?}",
        sequential.dropped.first()
    );
    for threads in [2, 4] {
        chain.executor.set_threads(threads).unwrap();
        assert_eq!(
            chain.executor.execute(&block).unwrap(),
            sequential,
            "{threads} threads"
        );
    }
}
