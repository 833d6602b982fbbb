//! The `ghostplane` binary, run as a real process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

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
    for present in ["devnet", "wallet", "key", "tx", "sequencer", "prover"] {
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
