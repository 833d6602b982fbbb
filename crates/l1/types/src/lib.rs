//! # ghostd-types
//!
//! What the ghostd L1 and its users share without linking the node: the L1's wire
//! types and the boundary the rollup settles through.
//!
//! ## Data flow
//!
//! ```text
//! wallet / settlement ──► L1Transaction { Call::Ledger | Call::Rollup | Call::Identity } ──sign──►
//!    SignedL1Transaction (borsh, ≤ L1_TX_BYTES_MAX) ──► L1Client::submit
//!    │                                                   ├─ RpcL1 (JSON-RPC)
//!    │                                                   └─ ghostd::EmbeddedL1
//!    ▼
//! ghostd seals it ──► L1Receipt; the rollup module's records (RollupState,
//! BatchRecord, deposits) are read back through the same client
//! ```
//!
//! ## Invariants
//!
//! - Every encoding here is borsh and consensus-critical: a transaction hashes and
//!   signs over exactly these bytes (domain tag [`tx::L1_TX_DOMAIN`]).
//! - Nothing here touches storage or the network except [`client::RpcL1`]; the
//!   node (`ghostd`) owns the rules that act on these types.
//! - Light to link: no prover, executor, wasmtime or RocksDB. The rollup genesis
//!   records its proof system as data ([`ProofParams`], from `ghostplane-proof-api`);
//!   ghostd builds the verifier (`testing/tests/tests/layering.rs` checks the graph).
//!
//! ## Limits
//!
//! An L1 transaction encodes to at most [`L1_TX_BYTES_MAX`] bytes; headers and
//! receipts have their own [`ghostplane_primitives::Codec`] bounds.

pub mod api;
pub mod client;
pub mod consensus;
pub mod genesis;
pub mod identity;
pub mod ledger;
pub mod naming;
pub mod rollup;
pub mod tx;

pub use client::{L1Client, L1Error, RpcL1};
pub use genesis::Genesis;
pub use rollup::{ProofParams, RollupGenesis, RollupState};
pub use tx::{
    BatchCommit, Call, L1_DEVNET_CHAIN_ID, L1_TX_BYTES_MAX, L1Header, L1Outcome, L1Receipt,
    L1Transaction, LedgerCall, ModuleId, RollupCall, SignedL1Transaction,
};
