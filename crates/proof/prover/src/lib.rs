//! # ghostplane-prover
//!
//! Turns executed batches into proofs (DESIGN §3.2, §3.3) through one seam,
//! [`backend::ProofBackend`] (from `ghostplane-proof-backend`), and chooses the
//! backend: [`stark::StarkBackend`] (Plonky3, the devnet default; the adapter over
//! `ghostplane-stark` lives here) or [`Groth16Backend`] (the `ghostplane-groth16`
//! crate: a development backend for native transfers, seeded keys).
//!
//! ```text
//! executor ops (per block) ──► Merkleizer ──► AccountTree (RocksDB, versioned per batch,
//!                                  │           the backend's TreeHash)
//!                                  └─► Segment ──► backend.job ──► Job ──► job queue
//! job queue (RocksDB) ──► Coordinator (JSON-RPC) ──lease──► worker: backend.prove
//!                              ▲                                    │
//!                              └───── backend.verify, mark proven ◄─┘
//! ```
//!
//! Crates below this one (each arrow a dependency):
//!
//! ```text
//! ghostplane-prover ──► ghostplane-groth16 ──► ghostplane-proof-backend ──► ghostplane-proof-api
//!         │                                      ▲          │
//!         ├──────────────────────────────────────┘          └──► ghostplane-stark (OpKind)
//!         └──► ghostplane-stark (the StarkBackend adapter)
//! ```
//!
//! - [`backend`]: the seam re-exported (tree hash, jobs, ops commitment, prove,
//!   verify, what a genesis records of a backend: [`proof_params`]) and the choice of
//!   verifier a genesis fixes (`backend::verifier_from_params`). The recorded data,
//!   [`ProofSystem`] and [`ProofParams`], live in `ghostplane-proof-api`, so the
//!   L1's types need not link this crate.
//! - [`tree`]: the sparse account tree in the backend's shape and hash; every
//!   committed batch stays readable (roots and paths by version).
//! - [`merkleizer`]: applies a batch's native ops in order and cuts them into
//!   segments, each a self-contained proof job; each op's slot comes from
//!   [`ChunkOp::from_pubdata`], the rule ghostd's commit check uses too.
//! - The statement, re-exported from `ghostplane-proof-backend`: public inputs
//!   `old_root`, `new_root` and the commitment `C` to the chunk's ops
//!   ([`ChunkHeader`], [`ChunkOp`]); ops `Transfer`, `Deposit`, `Withdraw`,
//!   `FeeOnly`, `Noop`.
//! - Groth16, re-exported from `ghostplane-groth16`: [`Groth16Backend`], the chunk
//!   circuit ([`ChunkCircuit`], [`CircuitShape`]), keys ([`ChunkKeys`]: insecure
//!   seeded devnet setup, or keys loaded from files), 128-byte proofs, the worker's
//!   [`ChunkWitness`].
//! - [`stark`]: the STARK backend (Poseidon2 tree, power-of-two segments, FRI).
//! - [`coordinator`] and [`worker`]: the fleet. Jobs are queued → leased until a
//!   deadline (renewed by heartbeat, up to a hold limit) → proven; a lost lease or a
//!   refused proof puts the job back (after a capped exponential backoff for a lost
//!   lease), so nothing a worker does makes a job terminal. The coordinator verifies
//!   every proof before accepting it, refuses workers whose parameter hash differs
//!   from its own, and admits only workers presenting a token the operator listed
//!   ([`auth`]); refused proofs and lost leases are strikes against the worker's
//!   token, and a worker at the strike limit is banned. The coordinator owns a
//!   `JobStore` (the job records on disk) and a `JobTable` (jobs, workers and
//!   leases, each step at an explicit `now` from the config's clock), and is served
//!   by `CoordinatorRpc`; [`api`] is its typed JSON-RPC API (`ProverApi`), served by
//!   the coordinator and called by workers.
//! - [`cut`]: the chunk rule (where a segment closes), shared with the L1's commit
//!   check so the two can never drift.
//!
//! Invariants: the tree's committed version and the jobs of that batch are written in
//! one RocksDB batch; a job is marked proven only with a proof that verified.
//! Limits: `CHUNK_OPS` is fixed per Groth16 circuit (keys are per shape), a STARK
//! segment holds at most its power-of-two size; job and proof payloads are bounded
//! by the RPC request limit and the backend's proof size; lease time and hold, backoff,
//! strikes, queue and registry sizes are bounded by [`coordinator::CoordinatorConfig`].

pub mod api;
pub mod auth;
pub mod backend;
pub mod coordinator;
pub mod cut;
pub mod error;
pub mod merkleizer;
pub mod stark;
pub mod storage_trees;
pub mod tree;
pub mod worker;

pub use auth::{WorkerAuth, WorkerToken};
pub use backend::{
    BackendError, Job, ProofBackend, ProofParams, ProofSystem, Statement, TreeHash, proof_params,
};
pub use coordinator::{Coordinator, CoordinatorConfig};
pub use cut::{CutError, Cutter};
pub use error::ProverError;
pub use ghostplane_groth16::{
    ChunkCircuit, ChunkKeys, ChunkProof, ChunkVerifier, ChunkWitness, CircuitShape, Groth16Backend,
    Groth16Error,
};
pub use ghostplane_proof_backend::{ChunkHeader, ChunkOp, OpKind, SlotAccounts};
pub use merkleizer::Merkleizer;
pub use stark::StarkBackend;
pub use storage_trees::StorageTrees;
pub use tree::AccountTree;
pub use worker::{WorkerConfig, run_worker};

/// Op slots per chunk in the devnet circuit.
pub const DEVNET_CHUNK_OPS: usize = 16;

/// Opens (creating if needed) a RocksDB with the prover's column families.
pub fn open_db(path: &std::path::Path) -> Result<std::sync::Arc<rocksdb::DB>, ProverError> {
    open_db_with(path, &[])
}

/// [`open_db`] with extra column families for a caller that commits its own records
/// atomically with the prover's (settlement).
pub fn open_db_with(
    path: &std::path::Path,
    extra: &[&str],
) -> Result<std::sync::Arc<rocksdb::DB>, ProverError> {
    let mut options = rocksdb::Options::default();
    options.create_if_missing(true);
    options.create_missing_column_families(true);
    // All column families' memtables together (each would otherwise take up to two
    // 64 MiB memtables).
    options.set_db_write_buffer_size(64 * 1024 * 1024);
    let columns = [
        tree::CF_NODES,
        tree::CF_LEAVES,
        tree::CF_META,
        storage_trees::CF_STORAGE_NODES,
        storage_trees::CF_STORAGE_SLOTS,
        storage_trees::CF_STORAGE_CONTRACTS,
        coordinator::CF_JOBS,
        coordinator::CF_WITNESSES,
    ]
    .into_iter()
    .chain(extra.iter().copied());
    let db = rocksdb::DB::open_cf(&options, path, columns)?;
    Ok(std::sync::Arc::new(db))
}
