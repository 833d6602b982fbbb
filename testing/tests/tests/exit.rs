//! Walkaway (issue 37): the operator disappears and users leave through the L1
//! alone. A standalone `ghostplane l1` and a devnet settling on it; deposits and a
//! transfer finalize, an AMM takes liquidity, and a forced withdrawal queued on
//! the L1 (`ghostplane tx force-withdraw`) is included in time and paid; the
//! devnet is killed (SIGKILL) and its data deleted; a new forced withdrawal and a
//! new deposit go overdue; anyone switches exit mode on (`ghostplane exit
//! activate`), naming the forced withdrawal; every user rebuilds the state from
//! the L1 alone and claims its finalized balances (`ghostplane exit claim`); the
//! overdue deposit is refunded; a second claim is refused; the bridge escrow ends
//! holding exactly the AMM's pool (contracts' balances are not claimable: the
//! documented loss, docs/security.md) and nothing else in any token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use ghostplane_primitives::{Keypair, TokenId};
use jsonrpsee::rpc_params;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_leave_without_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("devnet.log");
    let ports = Ports::free();
    // Short windows: a deposit or forced withdrawal is overdue after 30 L1
    // blocks, exit is due 20 blocks later (5 s at 100 ms blocks).
    let windows = [
        "--forced-inclusion-blocks",
        "30",
        "--exit-window-blocks",
        "20",
        "--dev-accounts",
        "6",
    ];
    let mut l1_command = Command::new(binary());
    l1_command
        .args(["l1", "--chunk-ops", "2", "--block-time-ms", "100"])
        .args(windows)
        .arg("--data-dir")
        .arg(data.join("l1"))
        .arg("--keys-dir")
        .arg(data.join("keys"))
        .args(["--rpc-addr", &ports.l1.to_string()])
        .args(["--metrics-addr", &free_tcp().to_string()])
        .args(["--dns-addr", "127.0.0.1:0"]);
    let _l1 = Devnet::spawn(data, l1_command);
    wait_up(ports.l1, "ghost_blockNumber", &log).await;
    let l1_url = format!("http://{}", ports.l1);
    let mut extra = vec!["--l1-url", &l1_url];
    extra.extend(windows);
    let devnet = Devnet::start(data, &ports, &extra);
    wait_up(ports.l2, "l2_blockNumber", &log).await;

    // Users: dev4 deposits MANA and pays dev5 in GCC; all finalized.
    ok(cli(
        data,
        &ports,
        &[
            "tx", "deposit", "--from", "dev4", "--token", "MANA", "--amount", "900", "--wait",
            "executed",
        ],
    ));
    ok(cli(
        data,
        &ports,
        &[
            "tx",
            "transfer",
            "--from",
            "dev4",
            "--to",
            "dev5",
            "--token",
            "GCC",
            "--amount",
            "1000",
            "--wait",
            "finalized",
        ],
    ));
    let l1 = client(ports.l1);
    let l2 = client(ports.l2);
    // An AMM of SPIRIT and MANA with dev4's liquidity: the pool's balances are a
    // contract's, which exit mode cannot pay (no key signs for them).
    let amm = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/l2/executor/contracts/amm.wat"
    );
    let out = ok(cli(
        data,
        &ports,
        &[
            "contract", "deploy", amm, "--from", "dev4", "--init", "0102", "--wait", "executed",
        ],
    ));
    let pool = out
        .lines()
        .find_map(|line| line.strip_prefix("contract "))
        .unwrap_or_else(|| panic!("no address printed: {out}"))
        .trim()
        .to_string();
    const POOL: u128 = 100_000;
    for token in ["SPIRIT", "MANA"] {
        let out = ok(cli(
            data,
            &ports,
            &[
                "contract",
                "call",
                &pool,
                "--from",
                "dev4",
                "--input",
                "01",
                "--token",
                token,
                "--value",
                &POOL.to_string(),
                "--wait",
                "finalized",
            ],
        ));
        assert!(out.contains("outcome    success"), "{token}: {out}");
    }
    // A forced withdrawal while the operator is live: included in time, paid on
    // the L1 once its batch is final.
    let dev1_l1 = Keypair::dev(1).public_key().to_hex();
    let spirit_before = l1_balance(&l1, &dev1_l1, TokenId::Spirit).await;
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx",
            "force-withdraw",
            "--from",
            "dev1",
            "--token",
            "SPIRIT",
            "--amount",
            "300",
        ],
    ));
    assert!(out.contains("queued forced withdrawal 0"), "{out}");
    let started = Instant::now();
    while l1_balance(&l1, &dev1_l1, TokenId::Spirit).await != spirit_before + 300 {
        assert!(started.elapsed() < Duration::from_secs(120), "never paid");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dev5 = Keypair::dev(5);
    let started = Instant::now();
    loop {
        let status = call(&l1, "rollup_status", rpc_params![]).await;
        if status["committedBatch"] == status["finalizedBatch"] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every account's finalized balances (all batches are final, and nothing
    // else is sent).
    let mut finalized = Vec::new();
    for i in 0..6 {
        let key = Keypair::dev(i);
        for token in TokenId::ALL {
            let amount = l2_balance(&l2, &key, token).await;
            if amount > 0 {
                finalized.push((key.clone(), format!("dev{i}"), token, amount));
            }
        }
    }
    assert!(
        finalized
            .iter()
            .any(|(_, name, token, amount)| name == "dev4"
                && *token == TokenId::Mana
                && *amount == DEV + 900 - POOL)
    );

    // The operator walks away: SIGKILL, data deleted.
    devnet.kill();
    std::fs::remove_dir_all(data.join("chain")).unwrap();
    // Not yet: nothing is owed.
    let early = cli(data, &ports, &["exit", "activate", "--from", "dev6"]);
    assert!(!early.status.success());
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("not due"),
        "{early:?}"
    );
    // dev2's forced withdrawal (the sequencer is gone: the account id is given)
    // and dev5's deposit will never be included.
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx",
            "force-withdraw",
            "--from",
            "dev2",
            "--token",
            "GCC",
            "--account",
            "2",
        ],
    ));
    assert!(out.contains("queued forced withdrawal 1"), "{out}");
    let dev5_l1 = dev5.public_key().to_hex();
    let spirit_before = l1_balance(&l1, &dev5_l1, TokenId::Spirit).await;
    ok(cli(
        data,
        &ports,
        &[
            "tx", "deposit", "--from", "dev5", "--token", "SPIRIT", "--amount", "50",
        ],
    ));
    assert_eq!(
        l1_balance(&l1, &dev5_l1, TokenId::Spirit).await,
        spirit_before - 50
    );
    // Once it is overdue past the exit window, anyone switches exit mode on.
    let started = Instant::now();
    let out = loop {
        let attempt = cli(data, &ports, &["exit", "activate", "--from", "dev6"]);
        if attempt.status.success() {
            break String::from_utf8_lossy(&attempt.stdout).to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{attempt:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(out.contains("exit mode  on since"), "{out}");
    assert!(out.contains("forced withdrawal 1"), "{out}");
    // The overdue deposit is refunded.
    assert_eq!(
        l1_balance(&l1, &dev5_l1, TokenId::Spirit).await,
        spirit_before
    );

    // Each user claims exactly its finalized balances, from the L1 alone.
    let claim = |name: &str, token: TokenId| {
        let state_dir = data.join(format!("exit-{name}"));
        cli(
            data,
            &ports,
            &[
                "exit",
                "claim",
                "--from",
                name,
                "--token",
                token.symbol(),
                "--state-dir",
                state_dir.to_str().unwrap(),
            ],
        )
    };
    for (key, name, token, amount) in &finalized {
        let address = key.public_key().to_hex();
        let before = l1_balance(&l1, &address, *token).await;
        let out = ok(claim(name, *token));
        assert!(out.contains("matches the L1's finalized root"), "{out}");
        assert_eq!(
            l1_balance(&l1, &address, *token).await - before,
            *amount,
            "{out}"
        );
    }
    // Once only.
    let again = claim("dev4", TokenId::Mana);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already claimed"),
        "{again:?}"
    );
    let exit = call(&l1, "rollup_getExit", rpc_params![]).await;
    assert_eq!(exit["refunded"], 1, "{exit}");
    // Conservation: the escrow held exactly the L2's share, all of it paid out
    // but the AMM's pool (a contract's balances: the documented loss).
    let escrow = ghostd::modules::ledger::bridge_escrow().to_hex();
    for token in TokenId::ALL {
        let held = call(
            &l1,
            "ledger_getAccount",
            rpc_params![escrow.clone(), token.symbol()],
        )
        .await;
        let pooled = match token {
            TokenId::Spirit | TokenId::Mana => POOL,
            _ => 0,
        };
        assert_eq!(held["balance"], pooled.to_string(), "{token}: {held}");
    }
}
