//! # ghostplane-bench
//!
//! The harnesses, apart from the shipped `ghostplane` binary (as reth's
//! `bin/reth-bench`): load generators and benchmarks against running nodes, and the
//! kill-and-restart soak. Each prints its figures as one line (`key=value …`) that
//! scripts and the end-to-end tests parse.
//!
//! ```text
//! ghostplane-bench load --target rpc|quic      L2 transfers against a running sequencer
//! ghostplane-bench l1-load --tps N --duration-s S   ledger transfers against ghostd
//! ghostplane-bench identity --l1 ADDR          DID resolution and token verification
//! ghostplane-bench dns --target udp|doh        ghostd's name server
//! ghostplane-bench prove --ops N               prove N transfers with one proof system
//! ghostplane-bench read-call                   l2_call (the AMM's quote) over JSON-RPC, in-process sequencer
//! ghostplane-bench soak --duration-s S         a `ghostplane devnet` SIGKILLed under load
//! ```
//!
//! `soak` runs the `ghostplane` binary found next to this one (or `--ghostplane`).
//! Shared client code (endpoints, `send_l1`, proof-backend options) comes from the
//! `ghostplane` package's library; nothing here is copied from it.

mod dns;
mod identity;
mod l1_load;
mod load;
mod prove;
mod read_call;
mod soak;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use ghostplane::runtime;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ghostplane-bench",
    version,
    about = "Ghostplane harnesses: load generators, benchmarks and the kill-and-restart soak"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a running sequencer and report throughput and latency.
    Load(load::LoadArgs),
    /// Prove N random transfers with one proof system and print one line of figures.
    Prove(prove::ProveArgs),
    /// Read calls (`l2_call`, the AMM's quote) over JSON-RPC against an in-process
    /// sequencer: calls per second and latency.
    ReadCall(read_call::ReadCallArgs),
    /// Load a running ghostd's DID resolver and token verification.
    Identity(identity::IdentityBenchArgs),
    /// Load a running ghostd's name server over UDP or DoH.
    Dns(dns::DnsBenchArgs),
    /// Load a running ghostd with ledger transfers and time them to inclusion.
    L1Load(l1_load::L1LoadArgs),
    /// A devnet under mixed load, SIGKILLed and restarted every few seconds; checks
    /// that nothing acknowledged was lost or doubled and that balances are conserved.
    Soak(soak::SoakArgs),
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Load(args) => runtime()?.block_on(load::run(args)),
        Command::Prove(args) => prove::run(args),
        Command::ReadCall(args) => runtime()?.block_on(read_call::run(args)),
        Command::Identity(args) => runtime()?.block_on(identity::run(args)),
        Command::Dns(args) => runtime()?.block_on(dns::run(args)),
        Command::L1Load(args) => runtime()?.block_on(l1_load::run(args)),
        Command::Soak(args) => runtime()?.block_on(soak::run(args)),
    }
}

fn main() -> ExitCode {
    ghostplane::main_with(|| run(Cli::parse()))
}
