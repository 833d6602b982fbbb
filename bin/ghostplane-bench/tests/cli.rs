//! The `ghostplane-bench` binary, run as a real process. (Its presence here also makes
//! `cargo test --workspace` build the binary, which the end-to-end tests in
//! `testing/tests` run.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ghostplane-bench"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn help_lists_every_harness() {
    let help = bench(&["--help"]);
    assert!(help.status.success());
    let text = stdout(&help);
    for present in ["load", "l1-load", "identity", "dns", "prove", "soak"] {
        assert!(text.contains(present), "help lacks {present}:\n{text}");
    }
}

#[test]
fn prove_proves_and_prints_one_line_of_figures() {
    let out = bench(&[
        "prove",
        "--ops",
        "3",
        "--accounts",
        "16",
        "--threads",
        "1",
        "--proof-system",
        "stark",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout(&out);
    for field in [
        "proof_system=stark",
        "ops=3 ",
        "slots=3 ",
        "segments=1 ",
        "prove_s=",
        "ops_per_s=",
        "verify_ms=",
        "proof_bytes=",
        "witness_ops_per_s=",
        "commit_check_ops_per_s=",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    assert_eq!(line.lines().count(), 1);

    let refused = bench(&["prove", "--ops", "0"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--ops must be"));
}
