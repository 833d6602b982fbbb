//! Executor throughput: native transfers (low and high contention, 1 and 2 threads),
//! contract calls, deploys, and the L1's re-execution of contract calls from their
//! pubdata traces, and read calls (`l2_call`'s engine) of the AMM's quote. State is
//! in the executor's cache; blocks are executed, not
//! committed, so every iteration runs the same block on the same state.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_executor::readcall::READ_CALLER_NONE;
use ghostplane_executor::{
    ARTIFACTS_DIR, BlockInput, BlockItem, ContractRecord, Executor, ExecutorConfig, Prices,
    ReadCall, ReadCaller, ReexecutionJob, ReexecutionStore, Reexecutor, StateKey, StateReader,
    StateValue, StoreError,
};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    AccountId, BlockNumber, ContractAddress, ContractTrace, DEVNET_CHAIN_ID, Hash32, Keypair,
    L2Genesis, PubdataOp, PublicKey, Recipient, SignedTransaction, TokenId, Transaction,
};

const TRANSFERS: u32 = 10_000;
const ACCOUNTS: u32 = 2 * TRANSFERS + 1;
const CALLS: u32 = 2_000;

fn key(i: u32) -> Keypair {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    Keypair::from_seed(&seed)
}

fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap_or(AccountId::MAX)
}

struct Bench {
    executor: Executor,
    keys: Vec<Keypair>,
    next: u64,
}

impl Bench {
    fn new(dir: &Path) -> Self {
        let mut executor = Executor::open(
            dir,
            ExecutorConfig {
                threads: 2,
                ..ExecutorConfig::default()
            },
        )
        .unwrap_or_else(|e| panic!("open: {e}"));
        let keys: Vec<Keypair> = (0..ACCOUNTS).map(key).collect();
        let genesis = L2Genesis::new(keys.iter().map(|k| (k.public_key(), [1u128 << 100; 4])));
        executor
            .genesis(genesis, 0)
            .unwrap_or_else(|e| panic!("genesis: {e}"));
        Self {
            executor,
            keys,
            next: 1,
        }
    }

    fn block(&self, items: Vec<BlockItem>) -> BlockInput {
        BlockInput {
            number: BlockNumber(self.next),
            timestamp_ms: 0,
            fee_account: id(0),
            items,
        }
    }

    fn sign(&self, from: u32, tx: Transaction) -> BlockItem {
        BlockItem::transaction(self.keys[from as usize].sign(DEVNET_CHAIN_ID, tx))
    }

    fn commit(&mut self, items: Vec<BlockItem>) {
        let block = self.block(items);
        let output = self
            .executor
            .execute(&block)
            .unwrap_or_else(|e| panic!("execute: {e}"));
        self.executor
            .commit(&output)
            .unwrap_or_else(|e| panic!("commit: {e}"));
        self.next += 1;
    }

    fn nonce(&self, account: u32) -> u64 {
        self.executor
            .snapshot()
            .account(id(account))
            .ok()
            .flatten()
            .map_or(0, |a| a.nonce)
    }

    fn transfer(&self, from: u32, to: u32, nonce: u64) -> BlockItem {
        self.sign(
            from,
            Transaction::Transfer {
                from: id(from),
                to: Recipient::Account(id(to)),
                token: TokenId::Spirit,
                amount: 1,
                fee: 1,
                nonce,
            },
        )
    }

    fn call(&self, from: u32, contract: ContractAddress, input: Vec<u8>) -> BlockItem {
        self.call_with_value(from, contract, input, (TokenId::Gcc, 0))
    }

    fn call_with_value(
        &self,
        from: u32,
        contract: ContractAddress,
        input: Vec<u8>,
        (token, value): (TokenId, u128),
    ) -> BlockItem {
        self.sign(
            from,
            Transaction::Call {
                token,
                value,
                from: id(from),
                contract,
                input,
                fuel_limit: 1_000_000,
                fee: 1_000_000,
                nonce: self.nonce(from),
            },
        )
    }
}

fn wat(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../crates/l2/executor/contracts/{name}.wat",
        env!("CARGO_MANIFEST_DIR")
    );
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn native(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut bench = Bench::new(dir.path());
    // Low contention: disjoint sender/receiver pairs.
    let low: Vec<BlockItem> = (0..TRANSFERS)
        .map(|i| bench.transfer(1 + i, 1 + TRANSFERS + i, 0))
        .collect();
    // High contention: ten senders, each sending a thousand in nonce order, to ten
    // receivers.
    let high: Vec<BlockItem> = (0..TRANSFERS)
        .map(|i| bench.transfer(1 + i % 10, 11 + (i / 10) % 10, u64::from(i / 10)))
        .collect();
    let low = bench.block(low);
    let high = bench.block(high);

    let mut group = c.benchmark_group("executor_native_transfers");
    group.throughput(Throughput::Elements(u64::from(TRANSFERS)));
    group.sample_size(10);
    group.bench_function("sequential_low_contention", |b| {
        b.iter(|| bench.executor.execute_sequential(black_box(&low)))
    });
    for threads in [1, 2] {
        bench
            .executor
            .set_threads(threads)
            .unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(format!("{threads}_threads_low_contention"), |b| {
            b.iter(|| bench.executor.execute(black_box(&low)))
        });
        group.bench_function(format!("{threads}_threads_high_contention"), |b| {
            b.iter(|| bench.executor.execute(black_box(&high)))
        });
    }
    group.finish();
    bench.commit(Vec::new());
}

fn contracts(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut bench = Bench::new(dir.path());
    bench.commit(vec![
        bench.sign(
            0,
            Transaction::Deploy {
                token: TokenId::Gcc,
                value: 0,
                from: id(0),
                code: wat("counter"),
                init: Vec::new(),
                fee: 1 << 40,
                nonce: 0,
            },
        ),
        bench.sign(
            0,
            Transaction::Deploy {
                token: TokenId::Gcc,
                value: 0,
                from: id(0),
                code: wat("token"),
                init: Vec::new(),
                fee: 1 << 40,
                nonce: 1,
            },
        ),
    ]);
    let counter = contract_address(id(0), 0);
    let token = contract_address(id(0), 1);
    // Mint, then give each of the first 2 × CALLS accounts some tokens.
    bench.commit(vec![bench.call(
        0,
        token,
        [&[0u8][..], &u64::MAX.to_le_bytes()].concat(),
    )]);
    let fund: Vec<BlockItem> = (1..=2 * CALLS)
        .map(|to| {
            let input = [&[1u8][..], &to.to_le_bytes(), &1_000u64.to_le_bytes()].concat();
            bench.sign(
                0,
                Transaction::Call {
                    token: TokenId::Gcc,
                    value: 0,
                    from: id(0),
                    contract: token,
                    input,
                    fuel_limit: 1_000_000,
                    fee: 1_000_000,
                    nonce: bench.nonce(0) + u64::from(to) - 1,
                },
            )
        })
        .collect();
    bench.commit(fund);

    let token_calls: Vec<BlockItem> = (1..=CALLS)
        .map(|from| {
            let input = [
                &[1u8][..],
                &(from + CALLS).to_le_bytes(),
                &7u64.to_le_bytes(),
            ]
            .concat();
            bench.call(from, token, input)
        })
        .collect();
    let counter_calls: Vec<BlockItem> = (1..=CALLS)
        .map(|from| bench.call(from, counter, Vec::new()))
        .collect();
    let token_block = bench.block(token_calls);
    let counter_block = bench.block(counter_calls);

    let mut group = c.benchmark_group("executor_contract_calls");
    group.throughput(Throughput::Elements(u64::from(CALLS)));
    group.sample_size(10);
    for threads in [1, 2] {
        bench
            .executor
            .set_threads(threads)
            .unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(format!("token_transfer_{threads}_threads"), |b| {
            b.iter(|| bench.executor.execute(black_box(&token_block)))
        });
        group.bench_function(format!("counter_same_slot_{threads}_threads"), |b| {
            b.iter(|| bench.executor.execute(black_box(&counter_block)))
        });
    }
    group.finish();

    let deploy = bench.block(vec![bench.sign(
        5,
        Transaction::Deploy {
            token: TokenId::Gcc,
            value: 0,
            from: id(5),
            code: wat("token"),
            init: Vec::new(),
            fee: 1 << 40,
            nonce: bench.nonce(5),
        },
    )]);
    // What every L1 validator does at commit: re-execute each contract transaction
    // from its pubdata trace (the token transfers above, in one hand-off).
    let output = bench
        .executor
        .execute(&token_block)
        .unwrap_or_else(|e| panic!("{e}"));
    let (signed, traces) = contract_runs(&token_block, &output);
    let bytes: usize = output.ops.iter().map(PubdataOp::encoded_len).sum();
    println!(
        "pubdata per token-transfer call (ContractTx + ContractTrace): {} bytes (a native transfer: {} bytes)",
        bytes / signed.len(),
        ghostplane_primitives::pubdata::TRANSFER_BYTES
    );
    let code = SnapshotStore(bench.executor.snapshot());
    let prices = Prices::default();
    let reexecutor = Reexecutor::new().unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("l1_reexecute");
    group.throughput(Throughput::Elements(u64::from(CALLS)));
    group.sample_size(10);
    let pairs = jobs(&signed, &traces);
    group.bench_function("token_transfer_calls", |b| {
        b.iter(|| {
            let again = reexecutor
                .reexecute_all(black_box(&pairs), prices, &code)
                .unwrap_or_else(|e| panic!("{e}"));
            black_box(again);
        })
    });
    group.finish();

    let mut group = c.benchmark_group("executor_deploy");
    group.throughput(Throughput::Elements(1));
    group.bench_function("token_wat", |b| {
        b.iter(|| bench.executor.execute(black_box(&deploy)))
    });
    group.finish();
}

/// The signed contract transactions of `block` and the traces its `output`
/// posted for them, in order: what an L1 re-executes.
fn contract_runs(
    block: &BlockInput,
    output: &ghostplane_executor::BlockOutput,
) -> (Vec<SignedTransaction>, Vec<ContractTrace>) {
    let signed = block
        .items
        .iter()
        .filter_map(|item| match item {
            BlockItem::Transaction { tx, .. } => Some(tx.clone()),
            BlockItem::Deposit(_) | BlockItem::ForcedWithdrawal(_) => None,
        })
        .collect();
    let traces = output
        .ops
        .iter()
        .filter_map(|op| match op {
            PubdataOp::ContractTrace(trace) => Some((**trace).clone()),
            _ => None,
        })
        .collect();
    (signed, traces)
}

/// Re-execution jobs for `signed` with their `traces` (no deploys among them).
fn jobs<'a>(
    signed: &'a [SignedTransaction],
    traces: &'a [ContractTrace],
) -> Vec<ReexecutionJob<'a>> {
    signed
        .iter()
        .zip(traces)
        .map(|(signed, trace)| ReexecutionJob {
            signed,
            trace,
            next_account: u32::MAX,
        })
        .collect()
}

/// AMM swaps (`amm.wat`): each a call carrying SPIRIT to the pool, which pays MANA
/// back by a contract move. `CALLS` distinct users swap on one pool (every swap
/// reads and writes the pool's balances: the contended case), and on `POOLS`
/// pools, users spread over them.
fn amm_swaps(c: &mut Criterion) {
    const POOLS: u32 = 16;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut bench = Bench::new(dir.path());
    let deploys = (0..POOLS)
        .map(|nonce| {
            bench.sign(
                0,
                Transaction::Deploy {
                    token: TokenId::Gcc,
                    value: 0,
                    from: id(0),
                    code: wat("amm"),
                    init: vec![TokenId::Spirit.id(), TokenId::Mana.id()],
                    fee: 1 << 40,
                    nonce: u64::from(nonce),
                },
            )
        })
        .collect();
    bench.commit(deploys);
    let pools: Vec<ContractAddress> = (0..POOLS)
        .map(|nonce| contract_address(id(0), u64::from(nonce)))
        .collect();
    let mut nonce = bench.nonce(0);
    let mut liquidity = Vec::new();
    for pool in &pools {
        for token in [TokenId::Spirit, TokenId::Mana] {
            liquidity.push(bench.sign(
                0,
                Transaction::Call {
                    token,
                    value: 1 << 40,
                    from: id(0),
                    contract: *pool,
                    input: vec![1],
                    fuel_limit: 1_000_000,
                    fee: 1_000_000,
                    nonce,
                },
            ));
            nonce += 1;
        }
    }
    bench.commit(liquidity);
    let swap = [&[2u8][..], &1u64.to_le_bytes()].concat();
    let one_pool = bench.block(
        (1..=CALLS)
            .map(|from| {
                bench.call_with_value(from, pools[0], swap.clone(), (TokenId::Spirit, 1_000))
            })
            .collect(),
    );
    let spread = bench.block(
        (1..=CALLS)
            .map(|from| {
                let pool = pools[(from % POOLS) as usize];
                bench.call_with_value(from, pool, swap.clone(), (TokenId::Spirit, 1_000))
            })
            .collect(),
    );
    let output = bench
        .executor
        .execute(&one_pool)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(output.dropped.is_empty(), "{:?}", output.dropped);
    assert!(
        output
            .receipts
            .iter()
            .all(|r| r.status == ghostplane_primitives::ReceiptStatus::Success),
        "every swap succeeds"
    );
    let bytes: usize = output.ops.iter().map(PubdataOp::encoded_len).sum();
    let gas: u64 = output.receipts.iter().map(|r| r.gas_used).sum();
    println!(
        "per AMM swap: {} pubdata bytes (ContractTx + ContractTrace + ContractMove), {} fuel",
        bytes / CALLS as usize,
        gas / u64::from(CALLS)
    );
    // What every L1 validator does at commit for these swaps: re-execute each from
    // its trace (value in, the pool's move out), in one hand-off.
    let (signed, traces) = contract_runs(&one_pool, &output);
    let jobs = jobs(&signed, &traces);
    let store = SnapshotStore(bench.executor.snapshot());
    let prices = Prices::default();
    let reexecutor = Reexecutor::new().unwrap_or_else(|e| panic!("{e}"));
    let again = reexecutor
        .reexecute_all(&jobs, prices, &store)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.iter().all(Result::is_ok), "every swap re-executes");
    let mut group = c.benchmark_group("l1_reexecute");
    group.throughput(Throughput::Elements(u64::from(CALLS)));
    group.sample_size(10);
    group.bench_function("amm_swaps", |b| {
        b.iter(|| {
            let again = reexecutor
                .reexecute_all(black_box(&jobs), prices, &store)
                .unwrap_or_else(|e| panic!("{e}"));
            black_box(again);
        })
    });
    group.finish();
    // Read calls: the pool's quote (what a swap of 1 000 SPIRIT would give), on a
    // fresh snapshot each (as `l2_call` takes one per request), one thread.
    let reads =
        ReadCaller::new(1, &dir.path().join(ARTIFACTS_DIR)).unwrap_or_else(|e| panic!("{e}"));
    let header = bench
        .executor
        .store()
        .last_header()
        .cloned()
        .unwrap_or_else(|| panic!("no block"));
    let quote = [&[4u8, TokenId::Spirit.id()][..], &1_000u64.to_le_bytes()].concat();
    let read = |reads: &ReadCaller| {
        let permit = reads.reserve().unwrap_or_else(|e| panic!("{e}"));
        let state: Arc<dyn StateReader> = Arc::new(bench.executor.snapshot());
        let call = ReadCall {
            contract: pools[0],
            input: quote.clone(),
            caller: READ_CALLER_NONE,
            fuel: 1_000_000,
        };
        reads
            .call(permit, state, header.number, header.timestamp_ms, call)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let out = read(&reads);
    assert_eq!(out.result, Ok(()), "the quote answers");
    println!("AMM quote read call: {} fuel", out.fuel_used);
    let mut group = c.benchmark_group("read_call");
    group.throughput(Throughput::Elements(1));
    group.bench_function("amm_quote_1_thread", |b| b.iter(|| black_box(read(&reads))));
    group.finish();

    let code_bytes = wat("amm").len();
    println!(
        "code store: amm.wasm {code_bytes} bytes (escrow {}, router {})",
        wat("escrow").len(),
        wat("router").len()
    );

    let mut group = c.benchmark_group("executor_amm_swaps");
    group.throughput(Throughput::Elements(u64::from(CALLS)));
    group.sample_size(10);
    for threads in [1, 2] {
        bench
            .executor
            .set_threads(threads)
            .unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(format!("one_pool_{threads}_threads"), |b| {
            b.iter(|| bench.executor.execute(black_box(&one_pool)))
        });
        group.bench_function(format!("{POOLS}_pools_{threads}_threads"), |b| {
            b.iter(|| bench.executor.execute(black_box(&spread)))
        });
    }
    group.finish();
}

/// The executor's committed state as a re-executing L1 would serve it.
struct SnapshotStore(ghostplane_executor::Snapshot);

impl ReexecutionStore for SnapshotStore {
    fn contract(&self, address: &ContractAddress) -> Result<Option<ContractRecord>, StoreError> {
        Ok(match self.0.get(&StateKey::Contract(*address))? {
            Some(StateValue::Contract(record)) => Some(record),
            _ => None,
        })
    }

    fn code(&self, hash: &Hash32) -> Result<Option<Arc<[u8]>>, StoreError> {
        Ok(match self.0.get(&StateKey::Code(*hash))? {
            Some(StateValue::Bytes(code)) => Some(code),
            _ => None,
        })
    }

    fn account(&self, id: AccountId) -> Result<Option<(PublicKey, bool)>, StoreError> {
        Ok(match self.0.get(&StateKey::Account(id))? {
            Some(StateValue::Account(a)) => Some((a.public_key, false)),
            Some(StateValue::ContractAccount(a)) => Some((a.public_key, true)),
            _ => None,
        })
    }
}

criterion_group!(benches, native, contracts, amm_swaps);
criterion_main!(benches);
