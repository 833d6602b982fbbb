//! A `ghostplane sequencer` process for the process tests: started on free ports in
//! a data directory, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running standalone L2 node with 8 development accounts (account 0 takes fees).
pub struct Node {
    pub child: Child,
    /// Its JSON-RPC URL.
    pub rpc: String,
}

impl Drop for Node {
    /// A failing test must not leave a node running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the sequencer and waits for it to print its RPC address.
pub fn start(dir: &Path) -> Node {
    let child = Command::new(env!("CARGO_BIN_EXE_ghostplane"))
        .args(["sequencer", "--data-dir"])
        .arg(dir)
        .args([
            "--rpc-addr",
            "127.0.0.1:0",
            "--quic-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--dev-accounts",
            "8",
        ])
        .args(["--block-time-ms", "20", "--executor-threads", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut node = Node {
        child,
        rpc: String::new(),
    };
    let stdout = node.child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "sequencer did not start");
        let line = lines.next().expect("sequencer exited").unwrap();
        if let Some(rest) = line.trim().strip_prefix("json-rpc  http://") {
            let addr = rest.split_whitespace().next().unwrap().to_string();
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            node.rpc = format!("http://{addr}");
            return node;
        }
    }
}
