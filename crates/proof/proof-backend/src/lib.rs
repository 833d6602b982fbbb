//! # ghostplane-proof-backend
//!
//! The seam between the prover and its proof systems, below both: the prover
//! (`ghostplane-prover`: tree, merkleizer, coordinator, workers, and the choice of
//! backend) and each backend (`ghostplane-groth16`; the STARK adapter in the prover
//! over `ghostplane-stark`) depend on this crate, never on each other's internals.
//!
//! ```text
//! executor's PubdataOp ──ChunkOp::from_pubdata──► ChunkOp (slot) ──┐
//!                                                                  ▼
//! merkleizer ── Segment (header, slots with legs and paths) ──► backend.job ──► Job {Statement, witness}
//! worker:               backend.prove(witness) ──► proof bytes
//! coordinator, ghostd:  backend.verify(Statement, proof)
//! ghostd commit check:  ChunkOp::from_pubdata, backend.commitment(header, ops) ──► (C, slots)
//! genesis:              proof_params(backend) ──► ProofParams (ghostplane-proof-api)
//! ```
//!
//! - [`statement`]: what a proof states. [`ChunkHeader`] (chain, batch, position,
//!   fee account), [`ChunkOp`] (one slot's public fields; its kind is the one
//!   [`OpKind`]), [`SlotAccounts`] and [`ChunkOp::from_pubdata`] (the one rule that
//!   turns a pubdata op into its slot, used by the merkleizer and the L1's commit
//!   check), and the [`Statement`] a verifier checks.
//! - [`backend`]: [`ProofBackend`] (tree hash, jobs, commitment, prove, verify),
//!   [`TreeHash`] (the account tree's hash and shape), the merkleizer's [`Segment`]
//!   ([`Slot`]s with [`Leg`]s), the [`Job`] it becomes, [`BackendError`], and
//!   [`proof_params`] (what a genesis records of a backend).
//!
//! Invariants: the borsh encodings of [`ChunkHeader`], [`ChunkOp`], [`Statement`] and
//! [`Job`] are wire formats (jobs on disk, the coordinator's RPC, witnesses) and do
//! not change; a decoded [`ChunkOp`] is never of kind [`OpKind::FeeCredit`] (the
//! STARK segment's own last op, refused on decode).
//!
//! Limits: [`OpKind`] is the STARK's (`ghostplane_stark::segment::OpKind`, one enum
//! for both backends) and [`BackendError::Settings`] carries the STARK's FRI settings
//! error, so this crate links `ghostplane-stark` (and with it Plonky3): it is not a
//! light crate, and clients link `ghostplane-proof-api` instead.

pub mod backend;
pub mod statement;

pub use backend::{
    BackendError, Job, Leg, Node, ProofBackend, Segment, Slot, TreeHash, proof_params,
};
pub use ghostplane_proof_api::{ProofParams, ProofSystem};
pub use statement::{ChunkHeader, ChunkOp, OpKind, SlotAccounts, Statement};
