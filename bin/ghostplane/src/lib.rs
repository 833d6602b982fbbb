//! # ghostplane (library)
//!
//! What the two binaries of this package's workspace share, so that nothing is
//! copied between them:
//!
//! ```text
//! ghostplane (bin)        operator and user commands: devnet, l1, sequencer, prover,
//!      │                  key, tx; dispatches wallet/contract/id/name/ledger here
//!      ▼
//! ghostplane (lib)  ◄──── ghostplane-bench (bin): load, soak, l1-load, prove,
//!                         identity, dns — harnesses, not shipped with the node
//! ```
//!
//! - [`backend`]: the proof-backend options (`--proof-system`, `--chunk-ops`, keys)
//!   and the one place a `ProofBackend` is built from them;
//! - [`wallet`]: named keys, the node endpoints (`--rpc`, `--l1-rpc`), JSON-RPC
//!   clients and [`wallet::send_l1`] (sign, send and wait for an L1 transaction),
//!   and the `wallet` / `tx` commands;
//! - [`contract`]: the `contract deploy|call` commands (WASM contracts on the L2;
//!   they print the receipt, and every L2 command prints a failed transaction's
//!   reason from its receipt);
//! - [`identity`], [`naming`], [`ledger`]: the `id`, `name` and `ledger` commands
//!   over the L1 JSON-RPC (the harnesses use [`identity::did_of`] and
//!   [`ledger::new_id`]);
//! - [`parse_seed`], [`parse_token`]: command-line values;
//! - [`main_with`], [`runtime`]: the process frame both binaries' `main` uses
//!   (logging to stderr, `error: …` and a failing exit code, the async runtime).
//!
//! No protocol logic lives here: these are clients of the node crates' RPC APIs.

pub mod backend;
// The command modules' public items are clap types, whose doc comments are `--help`
// text (they are documented where the user reads them, on the `ghostplane`
// subcommands, and a doc comment here would change the help), and the functions
// the binaries call.
#[allow(missing_docs)]
pub mod contract;
#[allow(missing_docs)]
pub mod exit;
#[allow(missing_docs)]
pub mod identity;
#[allow(missing_docs)]
pub mod ledger;
#[allow(missing_docs)]
pub mod naming;
#[allow(missing_docs)]
pub mod wallet;

use std::process::ExitCode;

use anyhow::{Context, Result};
use ghostplane_primitives::{Keypair, TokenId};

/// A binary's `main`: logs to stderr (filter from `RUST_LOG`, default `info` with
/// the consensus engine's chatter at `warn`), runs `run`, and on an error prints
/// `error: …` with its causes and exits with failure.
pub fn main_with(run: impl FnOnce() -> Result<()>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,arc_malachitebft_core_consensus=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The multi-threaded async runtime a command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A key from its 32-byte secret seed, hex (with or without `0x`).
pub fn parse_seed(text: &str) -> Result<Keypair> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut seed)
        .context("--seed must be 64 hex digits")?;
    Ok(Keypair::from_seed(&seed))
}

/// A token from its symbol (GCC, SPIRIT, MANA or GHOST; any case).
pub fn parse_token(text: &str) -> Result<TokenId> {
    TokenId::ALL
        .into_iter()
        .find(|token| token.symbol().eq_ignore_ascii_case(text))
        .with_context(|| format!("unknown token {text:?}: use GCC, SPIRIT, MANA or GHOST"))
}
