//! # ghostplane-stark
//!
//! The STARK proof backend (issue 11, in progress): the account tree hashed with
//! Poseidon2 over KoalaBear, and AIRs proven with Plonky3's uni-STARK and FRI.
//!
//! ```text
//! Tree::update ──► LeafUpdate witnesses ──► update_air::generate_trace ──► prove
//!                                                     (UpdateAir, config::config)
//! ```
//!
//! - [`config`]: the one proof-system configuration (Poseidon2 Merkle commitments
//!   and challenger, FRI at 116 conjectured bits).
//! - [`hash`]: leaf sponge and node compression, the exact permutations an AIR row
//!   proves.
//! - [`tree`]: a sparse binary tree of depth 28 in memory, producing update
//!   witnesses.
//! - [`update_air`]: proves that a power-of-two sequence of leaf updates moves the
//!   public old root to the public new root.
//!
//! Not built yet: the op constraints (balances, nonces, keys, fees) over the leaf
//! contents, the ops commitment, the `ProofBackend` seam and the RocksDB tree.
//! Limits: a trace has `32 × updates` rows; updates must be a power of two.

pub mod config;
pub mod hash;
pub mod tree;
pub mod update_air;
