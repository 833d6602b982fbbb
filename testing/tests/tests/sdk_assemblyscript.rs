//! The AssemblyScript contract SDK, end to end: `npm ci` and `npm run build` in
//! `sdk/assemblyscript` (the real compiler, from the registry), then the built
//! modules deployed and called on a real executor (RocksDB in a temp dir,
//! wasmtime), the token driven by its interface description. Prints each
//! method's fuel.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use ghostplane_executor::readcall::READ_CALLER_NONE;
use ghostplane_executor::{
    ARTIFACTS_DIR, BlockInput, BlockItem, Executor, ExecutorConfig, ReadCall, ReadCaller,
};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    AccountId, BlockNumber, ContractAddress, DEVNET_CHAIN_ID, Event, FailureReason, Keypair,
    L2Genesis, Receipt, ReceiptStatus, TokenId, Transaction,
};
use serde_json::Value;

fn sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/assemblyscript")
}

fn npm(args: &[&str]) {
    let out = Command::new("npm")
        .args(args)
        .current_dir(sdk())
        .output()
        .expect("npm runs (scripts/install-deps installs Node.js and npm)");
    assert!(
        out.status.success(),
        "npm {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the SDK's contracts; returns the build folder.
fn build() -> PathBuf {
    if !sdk().join("node_modules/assemblyscript").exists() {
        npm(&["ci", "--no-audit", "--no-fund"]);
    }
    npm(&["run", "build"]);
    sdk().join("build")
}

struct Chain {
    dir: tempfile::TempDir,
    executor: Executor,
    next: u64,
}

fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap()
}

impl Chain {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = Executor::open(dir.path(), ExecutorConfig::default()).unwrap();
        let genesis =
            L2Genesis::new((0..5).map(|i| (Keypair::dev(i).public_key(), [1u128 << 40; 4])));
        executor.genesis(genesis, 1_700_000_000_000).unwrap();
        Self {
            dir,
            executor,
            next: 1,
        }
    }

    fn nonce(&self, i: u32) -> u64 {
        self.executor
            .snapshot()
            .account(id(i))
            .unwrap()
            .unwrap()
            .nonce
    }

    fn run(&mut self, from: u32, tx: Transaction) -> Receipt {
        let item = BlockItem::transaction(Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx));
        let block = BlockInput {
            number: BlockNumber(self.next),
            timestamp_ms: 1_700_000_000_000 + self.next,
            fee_account: id(0),
            items: vec![item],
        };
        let out = self.executor.execute(&block).unwrap();
        assert!(out.dropped.is_empty(), "{:?}", out.dropped);
        self.executor.commit(&out).unwrap();
        self.next += 1;
        out.receipts[0].clone()
    }

    fn deploy(&mut self, from: u32, code: Vec<u8>, init: Vec<u8>) -> (ContractAddress, Receipt) {
        let nonce = self.nonce(from);
        let receipt = self.run(
            from,
            Transaction::Deploy {
                from: id(from),
                code,
                init,
                token: TokenId::Gcc,
                value: 0,
                fee: 10_000_000,
                nonce,
            },
        );
        assert_eq!(receipt.status, ReceiptStatus::Success, "{receipt:?}");
        (contract_address(id(from), nonce), receipt)
    }

    fn call(&mut self, from: u32, contract: ContractAddress, input: Vec<u8>) -> Receipt {
        self.call_with_value(from, contract, input, (TokenId::Gcc, 0))
    }

    fn call_with_value(
        &mut self,
        from: u32,
        contract: ContractAddress,
        input: Vec<u8>,
        (token, value): (TokenId, u128),
    ) -> Receipt {
        let nonce = self.nonce(from);
        self.run(
            from,
            Transaction::Call {
                from: id(from),
                contract,
                input,
                token,
                value,
                fuel_limit: 1_000_000,
                fee: 1_000_000,
                nonce,
            },
        )
    }

    fn balance(&self, account: u32, token: TokenId) -> u128 {
        self.executor
            .snapshot()
            .balance(id(account), token)
            .unwrap()
    }
}

/// A method's input from the interface description: its selector, then each
/// argument little-endian as its type says.
fn encode(interface: &Value, method: &str, args: &[u64]) -> Vec<u8> {
    let m = interface["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == method)
        .unwrap_or_else(|| panic!("no method {method}"));
    let mut input = vec![m["selector"].as_u64().unwrap() as u8];
    let types = m["args"].as_array().unwrap();
    assert_eq!(types.len(), args.len(), "{method}'s arguments");
    for (ty, value) in types.iter().zip(args) {
        match ty["type"].as_str().unwrap() {
            "u8" => input.push(*value as u8),
            "u32" => input.extend_from_slice(&(*value as u32).to_le_bytes()),
            "u64" => input.extend_from_slice(&value.to_le_bytes()),
            other => panic!("type {other}"),
        }
    }
    input
}

fn topic(name: &str) -> [u8; 32] {
    let mut t = [0u8; 32];
    t[..name.len()].copy_from_slice(name.as_bytes());
    t
}

fn transfer_event(token: ContractAddress, from: u32, to: u32, amount: u64) -> Event {
    Event {
        contract: token,
        topic: ghostplane_primitives::Hash32(topic("transfer")),
        data: [
            &from.to_le_bytes()[..],
            &to.to_le_bytes(),
            &amount.to_le_bytes(),
        ]
        .concat(),
    }
}

fn u64_of(receipt: &Receipt) -> u64 {
    assert_eq!(receipt.status, ReceiptStatus::Success, "{receipt:?}");
    u64::from_le_bytes(receipt.return_data.as_slice().try_into().unwrap())
}

#[test]
fn assemblyscript_contracts_build_deploy_and_run() {
    let build = build();
    let mut chain = Chain::new();

    // The counter.
    let counter_code = std::fs::read(build.join("counter.wasm")).unwrap();
    let (counter, _) = chain.deploy(1, counter_code.clone(), vec![]);
    for expected in [1, 2] {
        let r = chain.call(2, counter, vec![]);
        assert_eq!(u64_of(&r), expected);
        println!(
            "counter increment: {} fuel ({} bytes of code)",
            r.gas_used,
            counter_code.len()
        );
    }

    // The token, through its interface description.
    let interface: Value =
        serde_json::from_slice(&std::fs::read(build.join("token.interface.json")).unwrap())
            .unwrap();
    assert_eq!(interface["standard"], "grc20");
    let token_code = std::fs::read(build.join("token.wasm")).unwrap();
    let (token, deployed) = chain.deploy(1, token_code.clone(), 1_000u64.to_le_bytes().to_vec());
    assert_eq!(
        deployed.events,
        vec![transfer_event(token, u32::MAX, 1, 1_000)]
    );
    let mut fuel = Vec::new();
    let mut call = |chain: &mut Chain, from: u32, method: &str, args: &[u64]| {
        let r = chain.call(from, token, encode(&interface, method, args));
        fuel.push(format!("{method} {}", r.gas_used));
        r
    };
    assert_eq!(u64_of(&call(&mut chain, 1, "totalSupply", &[])), 1_000);
    let r = call(&mut chain, 1, "transfer", &[2, 300]);
    assert_eq!(r.status, ReceiptStatus::Success);
    assert_eq!(r.events, vec![transfer_event(token, 1, 2, 300)]);
    assert_eq!(u64_of(&call(&mut chain, 1, "balanceOf", &[1])), 700);
    assert_eq!(u64_of(&call(&mut chain, 1, "balanceOf", &[2])), 300);
    let r = call(&mut chain, 2, "transfer", &[3, 5_000]);
    assert_eq!(
        r.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"insufficient balance".to_vec()))
    );
    // Allowances.
    assert_eq!(
        call(&mut chain, 2, "approve", &[3, 100]).status,
        ReceiptStatus::Success
    );
    let r = call(&mut chain, 3, "transferFrom", &[2, 4, 60]);
    assert_eq!(r.events, vec![transfer_event(token, 2, 4, 60)]);
    assert_eq!(u64_of(&call(&mut chain, 1, "allowance", &[2, 3])), 40);
    let r = call(&mut chain, 3, "transferFrom", &[2, 4, 50]);
    assert_eq!(
        r.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"insufficient allowance".to_vec()))
    );
    assert_eq!(u64_of(&call(&mut chain, 1, "balanceOf", &[4])), 60);
    // Malformed input reverts.
    let r = chain.call(1, token, vec![0x01, 2]);
    assert_eq!(
        r.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"bad input".to_vec()))
    );
    println!(
        "token ({} bytes of code), fuel per call: {}",
        token_code.len(),
        fuel.join(", ")
    );

    // A read call of a view method answers without a transaction.
    let reads = ReadCaller::new(1, &chain.dir.path().join(ARTIFACTS_DIR)).unwrap();
    let header = chain.executor.store().last_header().unwrap().clone();
    let out = reads
        .call(
            reads.reserve().unwrap(),
            Arc::new(chain.executor.snapshot()),
            header.number,
            header.timestamp_ms,
            ReadCall {
                contract: token,
                input: encode(&interface, "balanceOf", &[2]),
                caller: READ_CALLER_NONE,
                fuel: 1_000_000,
            },
        )
        .unwrap();
    assert_eq!(out.return_data, 240u64.to_le_bytes());

    // The AMM: a SPIRIT/MANA pool, liquidity from its owner, a quote, a swap that
    // pays what the quote said, a swap refused for slippage, a stranger refused.
    let interface: Value =
        serde_json::from_slice(&std::fs::read(build.join("amm.interface.json")).unwrap()).unwrap();
    let amm_code = std::fs::read(build.join("amm.wasm")).unwrap();
    let (amm, _) = chain.deploy(
        1,
        amm_code.clone(),
        vec![TokenId::Spirit.id(), TokenId::Mana.id()],
    );
    let add = encode(&interface, "add", &[]);
    for token in [TokenId::Spirit, TokenId::Mana] {
        let r = chain.call_with_value(1, amm, add.clone(), (token, 1_000_000));
        assert_eq!(r.status, ReceiptStatus::Success, "{r:?}");
    }
    let r = chain.call_with_value(2, amm, add.clone(), (TokenId::Spirit, 5));
    assert_eq!(
        r.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"unauthorized".to_vec()))
    );
    // out = 1e6·1000·997 / (1e6·1000 + 1000·997) = 996
    let quote = chain.call(3, amm, encode(&interface, "quote", &[1, 1_000]));
    assert_eq!(u64_of(&quote), 996);
    let mana_before = chain.balance(3, TokenId::Mana);
    let swap = chain.call_with_value(
        3,
        amm,
        encode(&interface, "swap", &[996]),
        (TokenId::Spirit, 1_000),
    );
    assert_eq!(u64_of(&swap), 996);
    assert_eq!(chain.balance(3, TokenId::Mana), mana_before + 996);
    assert_eq!(swap.events.len(), 1);
    assert_eq!(swap.events[0].data[0], TokenId::Spirit.id());
    let greedy = chain.call_with_value(
        3,
        amm,
        encode(&interface, "swap", &[10_000]),
        (TokenId::Spirit, 1_000),
    );
    assert_eq!(
        greedy.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"slippage".to_vec()))
    );
    println!(
        "amm ({} bytes of code): quote {} fuel, swap {} fuel",
        amm_code.len(),
        quote.gas_used,
        swap.gas_used
    );

    escrow_and_router_on_the_harness(&build);
}

/// The escrow and the router, on the contract authors' harness (an in-memory
/// chain: no database, no devnet): an escrow funded and released, a stranger
/// refused; a router swapping SPIRIT → MANA → GHOST through two AMMs, paying the
/// caller what the pools' quotes said, and passing an AMM's revert on.
fn escrow_and_router_on_the_harness(build: &Path) {
    use ghostplane_executor::harness::Harness;
    let read = |name: &str| std::fs::read(build.join(name)).unwrap();
    let mut chain = Harness::new(5, [1u128 << 40; 4]).unwrap();

    let init = [2u32.to_le_bytes(), 3u32.to_le_bytes()].concat();
    let (escrow, _) = chain.deploy(1, &read("escrow.wasm"), &init).unwrap();
    let funded = chain
        .call(4, escrow, &[0x01], (TokenId::Ghost, 7_000))
        .unwrap();
    assert_eq!(funded.status, ReceiptStatus::Success, "{funded:?}");
    let stranger = chain.call(2, escrow, &[0x02], (TokenId::Gcc, 0)).unwrap();
    assert_eq!(
        stranger.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"unauthorized".to_vec()))
    );
    let seller_before = chain.balance(2, TokenId::Ghost).unwrap();
    let released = chain.call(4, escrow, &[0x02], (TokenId::Gcc, 0)).unwrap();
    assert_eq!(released.status, ReceiptStatus::Success, "{released:?}");
    assert_eq!(
        chain.balance(2, TokenId::Ghost).unwrap(),
        seller_before + 7_000
    );
    let status = chain.view(escrow, &[0x04]).unwrap();
    assert_eq!(
        status.return_data[..6],
        [2, 4, 0, 0, 0, TokenId::Ghost.id()]
    );

    // Two pools: SPIRIT/MANA and MANA/GHOST, 1,000,000 of each side.
    let amm = read("amm.wasm");
    let (pool1, _) = chain
        .deploy(1, &amm, &[TokenId::Spirit.id(), TokenId::Mana.id()])
        .unwrap();
    let (pool2, _) = chain
        .deploy(1, &amm, &[TokenId::Mana.id(), TokenId::Ghost.id()])
        .unwrap();
    for (pool, token) in [
        (pool1, TokenId::Spirit),
        (pool1, TokenId::Mana),
        (pool2, TokenId::Mana),
        (pool2, TokenId::Ghost),
    ] {
        let added = chain.call(1, pool, &[0x01], (token, 1_000_000)).unwrap();
        assert_eq!(added.status, ReceiptStatus::Success, "{added:?}");
    }
    let (router, _) = chain.deploy(1, &read("router.wasm"), &[]).unwrap();
    let quote = |chain: &Harness, pool, token: TokenId, amount: u64| {
        let input = [&[0x04, token.id()][..], &amount.to_le_bytes()].concat();
        u64::from_le_bytes(
            chain.view(pool, &input).unwrap().return_data[..8]
                .try_into()
                .unwrap(),
        )
    };
    let mid = quote(&chain, pool1, TokenId::Spirit, 10_000);
    let out = quote(&chain, pool2, TokenId::Mana, mid);
    let swap2 = [
        &[0x02][..],
        &pool1.0,
        &[TokenId::Mana.id()],
        &pool2.0,
        &[TokenId::Ghost.id()],
        &out.to_le_bytes(),
    ]
    .concat();
    let ghost_before = chain.balance(3, TokenId::Ghost).unwrap();
    let swapped = chain
        .call(3, router, &swap2, (TokenId::Spirit, 10_000))
        .unwrap();
    assert_eq!(swapped.status, ReceiptStatus::Success, "{swapped:?}");
    assert_eq!(swapped.return_data, out.to_le_bytes());
    assert_eq!(
        chain.balance(3, TokenId::Ghost).unwrap(),
        ghost_before + u128::from(out)
    );
    for token in TokenId::ALL {
        assert_eq!(chain.contract_balance(router, token).unwrap(), 0);
    }
    // Asking for more than the pools give: the last AMM's revert, passed on; the
    // SPIRIT comes back.
    let spirit_before = chain.balance(3, TokenId::Spirit).unwrap();
    let mut greedy = swap2.clone();
    let at = greedy.len() - 8;
    greedy[at..].copy_from_slice(&(out * 2).to_le_bytes());
    let refused = chain
        .call(3, router, &greedy, (TokenId::Spirit, 10_000))
        .unwrap();
    assert_eq!(
        refused.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"slippage".to_vec()))
    );
    assert_eq!(chain.balance(3, TokenId::Spirit).unwrap(), spirit_before);
    println!(
        "harness: escrow fund {} fuel, release {} fuel; router swap2 {} fuel ({} GCC)",
        funded.gas_used, released.gas_used, swapped.gas_used, swapped.fee_paid
    );
}
