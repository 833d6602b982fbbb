//! # ghostplane-stark
//!
//! The STARK proof system (issue 11): the account tree hashed with Poseidon2 over
//! KoalaBear, and the segment AIR proven with Plonky3's uni-STARK and FRI. No
//! trusted setup. `ghostplane-prover`'s `StarkBackend` puts it behind the
//! `ProofBackend` seam (the RocksDB tree, jobs, the L1's verifier).
//!
//! ```text
//! ops ──► segment::build_segment(tree) ──► SegmentWitness ──► segment_air::generate_trace
//!            (checks and applies the ops)        │                      │
//!                                                 └─ public_values ──► prove / verify
//!                                                    (roots, seed, C)   (SegmentAir, config)
//! ```
//!
//! - [`config`]: the one proof-system configuration (Keccak-f Merkle commitments
//!   and a Keccak-256 challenger, KoalaBear⁵ challenges, FRI).
//! - [`security`]: the provable and conjectured soundness of a FRI setting
//!   (`p3-security`), the floor every accepted setting clears, and the AIR digest
//!   the parameters hash binds.
//! - [`hash`]: leaf sponge and node compression, the exact permutations an AIR row
//!   proves.
//! - [`tree`]: sparse binary trees in memory: the account tree (depth 24, 2^24
//!   accounts) and the shape it shares with storage.
//! - [`storage`]: a contract's storage tree (depth 64, hashed slot paths) and the
//!   key field that commits a contract's address, code and storage in its leaf
//!   (the shapes and vectors are fixed; proving their updates is issue 36's).
//! - [`segment`]: the leaf layout (key, nonce, four 128-bit balances as limbs), the
//!   ops, the ops commitment the L1 rebuilds, and the native rules.
//! - [`proof`]: [`proof::SegmentProver`] proves a witness and verifies serialized
//!   proofs against public values the verifier rebuilt, with typed errors.
//! - [`segment_air`]: the AIR: a power-of-two segment of ops (64 rows each, at
//!   least 2 ops, the last a fee credit) moves the public old root to the public new
//!   root under the rules, for the public ops commitment.
//! - [`wire`]: witnesses as bytes (proof jobs) and digests packed into 32 bytes,
//!   decoded with bounds and canonical checks.
//!
//! Invariants: a refused segment leaves the tree as it was; every leaf the AIR
//! writes is canonical (range-checked limbs). Limits: ops per segment are a power of
//! two; the tree holds 2^24 accounts; a decoded witness holds at most 2^14 ops; a
//! proof is at most 4 MiB and the verifier fixes its trace height from the op count.

pub mod config;
pub mod hash;
pub mod proof;
pub mod security;
pub mod segment;
pub mod segment_air;
pub mod storage;
pub mod tree;
pub mod wire;

/// The trace-forgery harness (tests only): see [`segment_air::forge`].
#[cfg(feature = "test-utils")]
pub use segment_air::forge;
