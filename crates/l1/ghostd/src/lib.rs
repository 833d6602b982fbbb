//! # ghostd
//!
//! The Ghostplane L1 node's chain: blocks of signed L1 transactions, stored in
//! RocksDB, ordered by one sealer or by BFT consensus, served over JSON-RPC; the
//! application modules (ledger, rollup, identity, naming) are crates of their own
//! that it drives through one trait.
//!
//! ## Data flow
//!
//! ```text
//! ghost_sendTransaction[Batch] (JSON-RPC :8545) or Ghostd::submit[_batch] (embedded)
//!    ▼ mempool::check: decode, chain id, ed25519 signature, authorize, nonce, dry
//!      run against the head state (BlockBuilder::dry_run)
//! Mempool (bounded; one synced write to the `pending` column per batch before
//!    hashes are returned)
//!    ▼ solo: producer, one block every block_time_ms (the devnet)
//!    ▼ bft: consensus (Malachite) — the proposer builds, every validator executes
//!      the proposal before voting, the decided block commits with its certificate
//! Ghostd::seal → BlockBuilder::execute, through the module registry (module::Modules):
//!    every module's begin_block      (the ledger expires pending transfers)
//!    each transaction in its own state layer ──► Modules::apply
//!    │   Call::module() picks the module; its authorize, then its apply
//!    │   refused: L1Outcome::Failed { module, code, message } in the receipt
//!    every module's end_block        (invariants: the ledger's totals)
//! ChainStore::write_block, one synced RocksDB write: state, block, receipts, head
//!    (+ commit certificate), the settled `pending` entries deleted ──► ghost_newBlock
//! ```
//!
//! ## Modules
//!
//! The chain ([`node`]) names no module: it calls the hooks of
//! [`module::Module`] on every module of a [`module::Modules`] registry, in
//! registry order (consensus: it fixes the order of effects, so state digests and
//! block hashes): `genesis` when a store is created, `authorize` at admission and
//! before each call, `begin_block`, `apply` for each call of the module's
//! [`ModuleId`](ghostd_types::ModuleId), `end_block`. [`modules::all`] is the one
//! place that builds the registry from the genesis: ledger (double-entry journal,
//! two-phase, mint/burn, linked ops), rollup (deposits, batch commit/prove),
//! identity (did:ghost documents, versions, grants, revoked tokens), naming (.ghost
//! names, records, DNS). Modules that need each other meet through the service
//! traits of [`module`], wired in [`modules::all`]: the naming module pays fees
//! through the ledger's [`module::Payments`]; the ledger resolves `.ghost`
//! receivers through the naming module's [`module::Names`]. Neither imports the
//! other. A refusal is a [`module::Refusal`] (module, stable code, message); each
//! module's error enum documents its codes (`LedgerError::number`,
//! `RollupError::code`, `IdentityError::code`, `NamingError::code`);
//! [`modules::CallError`] is the typed view for callers that match on one module's
//! errors (admission's `SubmitError::Refused`).
//!
//! ## Layout
//!
//! The wire types (transactions, receipts, rollup and ledger records, genesis) and
//! the typed JSON-RPC API live in `ghostd-types`, so clients do not link the node.
//! [`node`]: [`Ghostd`] (`node/ghostd.rs`: every method of the node, delegating to
//! its parts) owns a `ChainStore` (`store`: RocksDB, genesis, head, blocks,
//! receipts, the `pending` column), a `Mempool` (`mempool`: the lanes' nonce
//! window, release order, limits, admission checks), a `BlockBuilder` (`block`:
//! execution through the module registry; build = propose, commit = decided: the
//! seam BFT consensus plugs into) and the BFT status (`bft`: proposal checks, the
//! consensus log); `producer` seals on a fixed interval. [`consensus`]: the BFT validator
//! network (Malachite engine, replica, QUIC transport). [`module`] (the
//! `ghostd-module` crate): the `Module` trait, its contexts, the registry, the
//! service traits and the state layers (no concrete module). [`modules`]: `all`
//! (the registry) and the module crates under their short names:
//! `ghostd-ledger`, `ghostd-rollup`, `ghostd-identity`, `ghostd-naming` (with its
//! DNS server), each with its rules, state, RPC impl and tests. [`rpc`]: the chain's
//! own namespaces (`ghost_`, `consensus_`), the modules' (each module's
//! `Module::rpc` and `Module::http_routes`) and `system_health`, merged on one port.
//! [`EmbeddedL1`]: the rollup's `L1Client` for a node in the same process.
//!
//! ## Invariants
//!
//! - A block is committed in one atomic, synced write; after a crash the head is the
//!   last complete block.
//! - A refused call changes nothing but its sender's nonce (so it cannot be
//!   replayed); its receipt carries the refusing module, its result code and the
//!   message.
//! - After every block, per token, Σ debits_posted = Σ credits_posted, Σ
//!   debits_pending = Σ credits_pending, and the supply counter equals the issuance
//!   account's net debit, or the block is not committed.
//! - Only the signer's own ledger account is ever debited by its transactions; the
//!   escrow is debited only by finalized withdrawals.
//!
//! ## Limits
//!
//! `mempool_max` waiting transactions, `block_txs_max` per block, transactions up
//! to [`types::L1_TX_BYTES_MAX`] bytes, RPC bodies up to `rpc_body_bytes_max`.
//!
//! Identity: at most 32 methods, 32 services, 8 controllers, 16 KiB per document, 64
//! grants per DID, 8 KiB tokens (`ghostd_types::identity`).
//!
//! Ledger: 64 operations per linked call, 4096 expiries per block, 256 entries
//! per audit-trail page (`ghostd_types::ledger`); 4096 transactions per batch
//! submission.
//!
//! Consensus: `solo` (one sealer, fixed block time) or `bft` (a genesis validator
//! set, up to 128; see [`consensus`] for its bounds). Not built: validator-set
//! changes, slashing (equivocation evidence is stored), snapshot sync.

pub mod consensus;
pub mod embedded;
pub mod modules;
pub mod node;
pub mod rpc;

/// The module contract, from [`ghostd_module`].
pub use ghostd_module as module;
/// Module state (layers over the committed state), from [`ghostd_module`].
pub use ghostd_module::state;

/// The L1's wire types, from [`ghostd_types`].
pub use ghostd_types::tx as types;

pub use embedded::EmbeddedL1;
pub use ghostd_types::{
    BatchCommit, Call, Genesis, L1_DEVNET_CHAIN_ID, L1Header, L1Outcome, L1Receipt, L1Transaction,
    LedgerCall, ProofParams, RollupCall, RollupGenesis, RollupState, SignedL1Transaction,
};
pub use node::{Ghostd, GhostdConfig, NodeError, Producer, SubmitError};
