//! # ghostplane-test-utils
//!
//! The setup that Ghostplane's tests, benches and fuzz targets share, written once
//! so that each test reads the same and says only what it changes:
//!
//! ```text
//! L1GenesisBuilder::new(proof_params)      the devnet defaults (below)
//!     .fund(keys, TokenId::Gcc, amount)    what a test varies, one method each
//!     .operator(key).genesis_root(root)
//!     .build()  ──► ghostd_types::Genesis  ──► Ghostd::open(config, &genesis)
//!
//! sign_l1(key, nonce, call)  ──► SignedL1Transaction  ──► Ghostd::submit / L1Client
//!
//! dev_l2_genesis(count, balances)  ──► L2Genesis  ──► Sequencer::start, Executor::genesis,
//!                                                     tree_genesis, RollupGenesis keys
//! ```
//!
//! ## Defaults of [`L1GenesisBuilder`]
//!
//! What the copies it replaced had in common: the devnet L1 chain id
//! ([`L1_DEVNET_CHAIN_ID`]), time 0, no allocations, default naming parameters, no
//! token issuers, solo consensus; a rollup for the devnet L2 chain id
//! ([`DEVNET_CHAIN_ID`]) with no operators, the zero genesis root, no genesis
//! accounts, a forced-inclusion window of 100 blocks and room for 100 queued
//! deposits. Everything else is a method, so a test's values stay its own.
//!
//! ## Limits
//!
//! - Without its `node` feature the crate links neither ghostd nor a prover: a
//!   genesis needs only values from a backend. With it, [`node`] holds the real-node
//!   fixture of the L1 module crates' and ghostd's integration tests (integration
//!   tests link one ghostd with it; no unit test in `src/` may use it, which
//!   would link two). So the caller passes
//!   the backend's `ProofParams` (`ghostplane_prover::proof_params`) and the L2 tree
//!   root, and the nonce it reads from its node.
//! - Dev keys ([`Keypair::dev`]) are public seeds: test and devnet use only.
//!
//! [`L1_DEVNET_CHAIN_ID`]: ghostd_types::tx::L1_DEVNET_CHAIN_ID
//! [`DEVNET_CHAIN_ID`]: ghostplane_primitives::DEVNET_CHAIN_ID
//! [`Keypair::dev`]: ghostplane_primitives::Keypair::dev

#[cfg(feature = "prover")]
pub mod batch;
mod l1;
mod l2;
#[cfg(feature = "node")]
pub mod node;

pub use l1::{L1GenesisBuilder, l1_address, sign_l1, sign_l1_on};
pub use l2::dev_l2_genesis;
