//! The `ghostplane` binary, run as a real process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod support;

use std::process::{Command, Output};

fn ghostplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ghostplane"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn help_and_version_list_only_what_exists() {
    let version = ghostplane(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("ghostplane {}", env!("CARGO_PKG_VERSION"))
    );

    let help = ghostplane(&["--help"]);
    assert!(help.status.success());
    let text = stdout(&help);
    for present in [
        "devnet",
        "wallet",
        "key",
        "tx",
        "contract",
        "sequencer",
        "prover",
    ] {
        assert!(text.contains(present), "help lacks {present}:\n{text}");
    }
    let tx_help = stdout(&ghostplane(&["tx", "--help"]));
    for present in ["transfer", "deposit", "withdraw", "status"] {
        assert!(
            tx_help.contains(present),
            "tx help lacks {present}:\n{tx_help}"
        );
    }
}

#[test]
fn sign_then_inspect() {
    let seed = "11".repeat(32);
    let public = ghostplane(&["key", "public", "--seed", &seed]);
    assert!(public.status.success());
    let public_key = stdout(&public)
        .trim()
        .strip_prefix("public_key=")
        .unwrap()
        .to_string();
    assert_eq!(public_key.len(), 64);

    let signed = ghostplane(&[
        "tx",
        "sign-transfer",
        "--seed",
        &seed,
        "--from",
        "3",
        "--to",
        &"ab".repeat(32),
        "--token",
        "spirit",
        "--amount",
        "500",
        "--fee",
        "1",
        "--nonce",
        "0",
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let hex = stdout(&signed).trim().to_string();

    let inspect = ghostplane(&["tx", "inspect", &hex]);
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let text = stdout(&inspect);
    assert!(text.contains(&format!("signer=0x{public_key}")), "{text}");
    assert!(text.contains("signature=valid"), "{text}");

    // Another chain id: the signature does not verify.
    let wrong_chain = ghostplane(&["tx", "inspect", &hex, "--chain-id", "1"]);
    assert!(!wrong_chain.status.success());
    assert!(String::from_utf8_lossy(&wrong_chain.stderr).contains("is for chain"));

    // One trailing byte: rejected by the codec.
    let trailing = ghostplane(&["tx", "inspect", &format!("{hex}00")]);
    assert!(!trailing.status.success());
    assert!(String::from_utf8_lossy(&trailing.stderr).contains("trailing"));

    // Truncated.
    let truncated = ghostplane(&["tx", "inspect", &hex[..hex.len() - 2]]);
    assert!(!truncated.status.success());
    assert!(String::from_utf8_lossy(&truncated.stderr).contains("ended early"));
}

#[test]
fn bad_arguments_fail_with_a_reason() {
    let zero = ghostplane(&[
        "tx",
        "sign-transfer",
        "--seed",
        &"22".repeat(32),
        "--from",
        "1",
        "--to",
        "2",
        "--amount",
        "0",
        "--nonce",
        "0",
    ]);
    assert!(!zero.status.success());
    assert!(String::from_utf8_lossy(&zero.stderr).contains("amount must be greater than zero"));

    let token = ghostplane(&[
        "tx",
        "sign-transfer",
        "--seed",
        &"22".repeat(32),
        "--from",
        "1",
        "--to",
        "2",
        "--token",
        "DOGE",
        "--amount",
        "1",
        "--nonce",
        "0",
    ]);
    assert!(!token.status.success());
    assert!(String::from_utf8_lossy(&token.stderr).contains("unknown token"));

    let big_id = ghostplane(&[
        "tx",
        "sign-transfer",
        "--seed",
        &"22".repeat(32),
        "--from",
        "16777216",
        "--to",
        "2",
        "--amount",
        "1",
        "--nonce",
        "0",
    ]);
    assert!(!big_id.status.success());
    assert!(String::from_utf8_lossy(&big_id.stderr).contains("out of range"));
}

#[test]
fn new_keys_differ() {
    let a = stdout(&ghostplane(&["key", "new"]));
    let b = stdout(&ghostplane(&["key", "new"]));
    assert!(a.contains("public_key=") && a.contains("seed="));
    assert_ne!(a, b);
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The example contracts the executor's tests run.
const CONTRACTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/l2/executor/contracts"
);

/// Runs a client command against the node, waiting for execution.
fn on_node(node: &support::Node, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--rpc", &node.rpc, "--wait", "executed"]);
    ghostplane(&all)
}

/// The value of the first stdout line starting with `key`.
fn field(output: &Output, key: &str) -> String {
    let text = stdout(output);
    text.lines()
        .find_map(|line| line.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key:?} line in:\n{text}"))
        .trim()
        .to_string()
}

#[test]
fn contracts_deploy_call_and_failure_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let node = support::start(&dir.path().join("node"));

    // The counter, from its text: each call returns the incremented u64.
    let counter = format!("{CONTRACTS}/counter.wat");
    let deploy = on_node(&node, &["contract", "deploy", &counter, "--from", "dev1"]);
    assert!(deploy.status.success(), "{}", stderr(&deploy));
    assert_eq!(field(&deploy, "outcome"), "success");
    let address = field(&deploy, "contract");
    for expected in ["0x0100000000000000", "0x0200000000000000"] {
        let call = on_node(&node, &["contract", "call", &address, "--from", "dev2"]);
        assert!(call.status.success(), "{}", stderr(&call));
        assert_eq!(field(&call, "outcome"), "success");
        assert_eq!(field(&call, "return"), expected);
    }
    // Read-only: a view runs the same code on the latest state and keeps nothing,
    // so it says 3 twice; the slot still holds 2.
    for _ in 0..2 {
        let view = ghostplane(&["contract", "view", &address, "--rpc", &node.rpc]);
        assert!(view.status.success(), "{}", stderr(&view));
        assert_eq!(field(&view, "outcome"), "success");
        assert_eq!(field(&view, "return"), "0x0300000000000000");
        assert_eq!(field(&view, "discarded"), "1 storage writes, 0 token moves");
    }
    let slot = "00".repeat(32);
    let storage = ghostplane(&["contract", "storage", &address, &slot, "--rpc", &node.rpc]);
    assert!(storage.status.success(), "{}", stderr(&storage));
    assert_eq!(stdout(&storage).trim(), "0x0200000000000000");
    let absent = ghostplane(&[
        "contract",
        "storage",
        &address,
        &"01".repeat(32),
        "--rpc",
        &node.rpc,
    ]);
    assert_eq!(stdout(&absent).trim(), "(absent)");
    let unknown = ghostplane(&["contract", "view", &"07".repeat(32), "--rpc", &node.rpc]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no contract is deployed"),
        "{}",
        stderr(&unknown)
    );

    // The registry, compiled to a .wasm file first: a set emits an event whose topic
    // is the key and whose data is the owner (dev1 = account 1).
    let wasm = dir.path().join("registry.wasm");
    std::fs::write(
        &wasm,
        wat::parse_file(format!("{CONTRACTS}/registry.wat")).unwrap(),
    )
    .unwrap();
    let deploy = on_node(
        &node,
        &[
            "contract",
            "deploy",
            wasm.to_str().unwrap(),
            "--from",
            "dev1",
        ],
    );
    assert!(deploy.status.success(), "{}", stderr(&deploy));
    let registry = field(&deploy, "contract");
    for key in ["11", "22"] {
        let input = format!("00{}6869", key.repeat(32));
        let set = on_node(
            &node,
            &[
                "contract", "call", &registry, "--from", "dev1", "--input", &input,
            ],
        );
        assert!(set.status.success(), "{}", stderr(&set));
        assert_eq!(
            field(&set, "event"),
            format!(
                "topic 0x{} data 0x01000000 (contract {registry})",
                key.repeat(32)
            )
        );
    }

    // The registry's events, from the index: both sets, one line each; by topic.
    let logs = ghostplane(&["contract", "logs", &registry, "--rpc", &node.rpc]);
    assert!(logs.status.success(), "{}", stderr(&logs));
    let lines: Vec<String> = stdout(&logs).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, key) in lines.iter().zip(["11", "22"]) {
        assert!(
            line.ends_with(&format!("{registry} 0x{} 0x01000000", key.repeat(32))),
            "{line}"
        );
    }
    let by_topic = ghostplane(&[
        "contract",
        "logs",
        "--topic",
        &"22".repeat(32),
        "--rpc",
        &node.rpc,
    ]);
    assert_eq!(
        stdout(&by_topic).lines().count(),
        1,
        "{}",
        stdout(&by_topic)
    );

    // Another account may not overwrite dev1's key: the call reverts, and the
    // command prints the receipt and fails with the revert data.
    let input = format!("00{}6869", "11".repeat(32));
    let revert = on_node(
        &node,
        &[
            "contract", "call", &registry, "--from", "dev2", "--input", &input,
        ],
    );
    assert!(!revert.status.success());
    assert_eq!(field(&revert, "outcome"), "failed");
    assert_eq!(field(&revert, "return"), "(none)");
    assert!(
        stderr(&revert)
            .contains(r#"transaction failed: revert: 0x6e6f74206f776e6572 ("not owner")"#),
        "{}",
        stderr(&revert)
    );

    // A transfer that fails says why, waited for or looked up.
    let transfer = on_node(
        &node,
        &[
            "tx",
            "transfer",
            "--from",
            "dev3",
            "--to",
            "4",
            "--token",
            "SPIRIT",
            "--amount",
            "2000000000000000000",
        ],
    );
    assert!(!transfer.status.success());
    let reason = "transaction failed: insufficient SPIRIT balance: needed 2000000000000000000";
    assert!(stderr(&transfer).contains(reason), "{}", stderr(&transfer));
    let hash = field(&transfer, "transaction");
    let status = ghostplane(&["tx", "status", &hash, "--rpc", &node.rpc]);
    assert!(!status.status.success());
    assert!(stderr(&status).contains(reason), "{}", stderr(&status));
}
