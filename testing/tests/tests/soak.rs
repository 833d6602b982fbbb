//! The kill-and-restart soak, CI-sized: `ghostplane-bench soak` SIGKILLs a devnet
//! twice under mixed load (transfers over JSON-RPC and QUIC, deposits, withdrawals,
//! contract calls) and checks that nothing acknowledged was lost or doubled, that
//! balances are conserved across L1 and L2, and that finality resumed after each
//! restart.

mod common;

use std::process::Command;

#[test]
fn two_kills_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(common::bench_binary())
        .args(["soak", "--duration-s", "30", "--kill-every-s", "12"])
        .args(["--tps", "10", "--settle-timeout-s", "240", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let log = std::fs::read_to_string(dir.path().join("devnet.log")).unwrap_or_default();
    let tail: String = log.lines().rev().take(40).collect::<Vec<_>>().join("\n");
    assert!(
        output.status.success(),
        "{stdout}\n{}\nlog tail (newest first):\n{tail}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("kills="))
        .expect("the soak's summary line");
    assert!(line.starts_with("kills=2 "), "{line}");
    assert!(line.contains(" lost=0 doubled=0 "), "{line}");
    assert!(line.contains(" resumed=2/2 conserved=true "), "{line}");
    assert!(field(line, "acked") > 50, "{line}");
    // Three in ten submissions go over QUIC: its acknowledgements are checked too.
    assert!(field(line, "quic_acked") > 10, "{line}");
}

/// The number after `name=` in the summary line.
fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in {line}"))
}
