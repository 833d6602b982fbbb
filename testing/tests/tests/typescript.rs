//! The TypeScript client (`sdk/ts`) and the block explorer (`explorer/`), each
//! tested by its own Node suite against one real devnet that this test starts:
//!
//! 1. the devnet (the debug `ghostplane` binary), a name (`alice.ghost`, owned by
//!    dev2, its `l2` record at dev2's account) and a GRC-20 token compiled from the
//!    AssemblyScript SDK, deployed by dev1 with two other holders, all through the
//!    CLI;
//! 2. `sdk/ts`: `npm ci`, `npm run build`, `npm test` (`node --test`: the shared
//!    encoding vectors, the state-commitment vectors, and live tests: a transfer to
//!    `finalized`, a deposit and a withdrawal, the AMM driven by its bindings, a
//!    proof verified, every typed error);
//! 3. `explorer/`: `npm ci`, `npm run build`, which must reproduce the committed
//!    `explorer/dist` byte for byte (the node embeds it), then `npm test`:
//!    Playwright driving Debian's Chromium (`scripts/install-deps` installs it)
//!    against the explorer the devnet serves at `/explorer/`. Screenshots go to
//!    `target/explorer-artifacts/`.
//!
//! The suites print their figures as load lines (the client's transfers/s, the
//! explorer's first render and bundle size); this test forwards their output.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Devnet, Ports, cli, ok, wait_up};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `npm args` in `dir` with `envs`; fails the test with its output if npm
/// fails, else prints its output (the suites' load lines).
fn npm(dir: &Path, args: &[&str], envs: &[(&str, String)]) {
    let out = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("npm runs (scripts/install-deps installs Node.js and npm)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "npm {args:?} in {}:\n{stdout}\n{stderr}",
        dir.display()
    );
    println!("npm {args:?} in {}:\n{stdout}", dir.display());
}

/// `npm ci`: exactly the lockfile's packages (a few seconds from npm's cache).
fn install(dir: &Path) {
    npm(dir, &["ci", "--no-audit", "--no-fund"], &[]);
}

fn le_hex(parts: &[&[u8]]) -> String {
    hex::encode(parts.concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_client_and_explorer_against_a_devnet() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let ports = Ports::free();
    let _devnet = Devnet::start(data, &ports, &[]);
    wait_up(ports.l2, "l2_blockNumber", &data.join("devnet.log")).await;
    wait_up(ports.l1, "ghost_blockNumber", &data.join("devnet.log")).await;

    // Contracts from the AssemblyScript SDK.
    let contracts = repo().join("sdk/assemblyscript");
    install(&contracts);
    npm(&contracts, &["run", "build"], &[]);
    let build = contracts.join("build");

    // A name and a token for the explorer's pages.
    let run = |args: &[&str]| ok(cli(data, &ports, args));
    run(&[
        "name",
        "register",
        "alice.ghost",
        "--from",
        "dev0",
        "--owner",
        "dev2",
    ]);
    run(&[
        "name",
        "set-record",
        "alice.ghost",
        "--type",
        "l2",
        "--value",
        "dev2",
        "--from",
        "dev2",
    ]);
    let token_wasm = build.join("token.wasm");
    let deployed = run(&[
        "contract",
        "deploy",
        token_wasm.to_str().unwrap(),
        "--from",
        "dev1",
        "--init",
        &le_hex(&[&1_000_000u64.to_le_bytes()]),
        "--wait",
        "executed",
    ]);
    let token = deployed
        .lines()
        .find_map(|line| line.strip_prefix("contract "))
        .expect("the deploy prints the contract's address")
        .trim()
        .to_string();
    for (to, amount) in [(2u32, 2_500u64), (3, 700)] {
        let input = le_hex(&[&[1], &to.to_le_bytes(), &amount.to_le_bytes()]);
        run(&[
            "contract", "call", &token, "--from", "dev1", "--input", &input, "--wait", "executed",
        ]);
    }

    let env = vec![
        ("GHOSTPLANE_L2_URL", format!("http://{}", ports.l2)),
        ("GHOSTPLANE_L1_URL", format!("http://{}", ports.l1)),
        ("GHOSTPLANE_TOKEN_WASM", token_wasm.display().to_string()),
        (
            "GHOSTPLANE_AMM_WASM",
            build.join("amm.wasm").display().to_string(),
        ),
        ("GHOSTPLANE_NAME", "alice.ghost".to_string()),
        ("GHOSTPLANE_TOKEN", token.clone()),
    ];

    // The client's suite.
    let client = repo().join("sdk/ts");
    install(&client);
    npm(&client, &["run", "build"], &[]);
    npm(&client, &["test"], &env);

    // The explorer: the committed bundle is what its sources build to.
    let explorer = repo().join("explorer");
    install(&explorer);
    let dist = explorer.join("dist");
    let committed: Vec<Vec<u8>> = ["index.html", "app.js", "app.css"]
        .iter()
        .map(|f| std::fs::read(dist.join(f)).unwrap())
        .collect();
    npm(&explorer, &["run", "build"], &[]);
    for (file, before) in ["index.html", "app.js", "app.css"].iter().zip(&committed) {
        let built = std::fs::read(dist.join(file)).unwrap();
        assert!(
            &built == before,
            "explorer/dist/{file} is not what `npm run build` makes from the sources: \
             commit the rebuilt file (the node embeds explorer/dist)"
        );
    }
    let artifacts = common::binary()
        .parent()
        .unwrap()
        .join("../explorer-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let mut env = env;
    env.push(("GHOSTPLANE_ARTIFACTS", artifacts.display().to_string()));
    npm(&explorer, &["test"], &env);
}
