//! # ghostplane-groth16
//!
//! The Groth16 proof backend (DESIGN §3.3), beside `ghostplane-stark`: a development
//! backend for native transfers. It proves a chunk of native ops (transfer, deposit,
//! withdrawal, fee-only, no-op) over the BN254 Poseidon account tree with an R1CS
//! circuit (arkworks), and plugs into the prover through
//! [`ghostplane_proof_backend::ProofBackend`] ([`Groth16Backend`]). The prover
//! (`ghostplane-prover`) chooses it; this crate knows nothing of the prover.
//!
//! ```text
//! merkleizer's Segment ──Groth16Backend::job──► ChunkWitness (borsh: the job's witness)
//!                                         └───► Statement {old_root, new_root, C, slots}
//! worker:  ChunkWitness ──ChunkCircuit──► ChunkKeys::prove ──► 128-byte proof
//! verify:  Statement ──[old_root, new_root, C]──► ChunkVerifier::verify_inputs
//! keys:    CircuitShape (counts, circuit hash) ──► seeded devnet setup, or key files
//! ```
//!
//! - [`backend`]: [`Groth16Backend`] (the seam's implementation: jobs, commitment,
//!   prove, verify; a verifier from a genesis's circuit hash and verifying key) and
//!   [`PoseidonTree`] (the tree hash: 4-ary, depth 12, BN254 Poseidon).
//! - [`witness`]: the commitment `C` to a chunk's slots and the worker's
//!   [`ChunkWitness`].
//! - [`circuit`]: the chunk circuit ([`ChunkCircuit`]) and its shape
//!   ([`CircuitShape`]: constraint counts and the circuit hash keys are bound to);
//!   [`gadgets`]: its Poseidon, range-check and Merkle-path gadgets.
//! - [`keys`]: setup, key files, prove, verify ([`ChunkKeys`], [`ChunkVerifier`],
//!   [`ChunkProof`]); [`error`]: [`Groth16Error`].
//!
//! Invariants: the public inputs are exactly `[old_root, new_root, C]`, in that
//! order; keys are bound to the circuit hash (a key file of another shape or circuit
//! version is refused); the in-circuit Poseidon equals `ghostplane-primitives`'
//! native one (known-answer tests in [`gadgets`]); a proof is 128 bytes
//! ([`keys::PROOF_BYTES`]).
//!
//! Limits: **the devnet keys come from a seeded setup** ([`ChunkKeys::devnet_setup`],
//! randomness derived from a public seed and the circuit hash): anyone can forge
//! proofs, so it is not a trusted setup; a real deployment would load ceremony keys
//! ([`ChunkKeys::load`]). A chunk has exactly `chunk_ops` slots (keys are per shape,
//! about 17k constraints per slot). Only native ops are proven: contract storage is
//! attested, not proven, and a genesis with this backend is to refuse contract
//! transactions (the contracts issue).

pub mod backend;
pub mod circuit;
pub mod error;
pub mod gadgets;
pub mod keys;
pub mod witness;

pub use backend::{Groth16Backend, PoseidonTree};
pub use circuit::{ChunkCircuit, CircuitShape};
pub use error::Groth16Error;
pub use keys::{ChunkKeys, ChunkProof, ChunkVerifier};
pub use witness::ChunkWitness;
