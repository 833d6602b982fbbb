//! The proof-backend seam (issue 11) and the choice of backend. The seam itself
//! (the [`ProofBackend`] and [`TreeHash`] traits, [`Statement`], [`Segment`], [`Job`],
//! [`BackendError`], [`proof_params`]) lives in `ghostplane-proof-backend`, below the
//! prover and both backends, and is re-exported here. Two implementations:
//! [`ghostplane_groth16::Groth16Backend`] (BN254 Poseidon tree, fixed-size chunk
//! circuit, seeded development keys) and [`crate::stark::StarkBackend`] (KoalaBear
//! Poseidon2 tree, power-of-two segment AIR, FRI, no setup). The backend is fixed at
//! genesis: the L1 genesis records its [`ProofSystem`], parameter hash and verifier
//! parameters, and workers of another backend are refused at registration. This
//! module chooses the verifier a genesis fixes ([`verifier_from_params`]).
//!
//! Data flow:
//!
//! ```text
//! merkleizer ── Segment (ops, legs with paths) ──► backend.job ──► Job {statement, witness}
//! worker:  backend.prove(witness) ──► proof bytes
//! coordinator, ghostd:  backend.verify(statement, proof)
//! ghostd commit check:  backend.commitment(header, ops) ──► (C, slots)
//! ```

use std::sync::Arc;

pub use ghostplane_proof_backend::backend::{
    BackendError, Job, Leg, Node, ProofBackend, Segment, Slot, TreeHash, proof_params,
    root_from_path,
};
pub use ghostplane_proof_backend::{ProofParams, ProofSystem, Statement};

/// A backend's verifier from the parameters a genesis recorded.
pub fn verifier_from_params(
    system: ProofSystem,
    params_hash: [u8; 32],
    params: &[u8],
    segment_ops_max: usize,
) -> Result<Arc<dyn ProofBackend>, BackendError> {
    let backend: Arc<dyn ProofBackend> = match system {
        ProofSystem::Groth16 => Arc::new(ghostplane_groth16::Groth16Backend::verifier(
            params_hash,
            params,
            segment_ops_max,
        )?),
        ProofSystem::Stark => Arc::new(crate::stark::StarkBackend::from_params(
            params,
            segment_ops_max,
        )?),
    };
    if backend.params_hash() != params_hash {
        return Err(BackendError::Params(format!(
            "the {system} parameters hash to {}, the genesis records {}",
            hex::encode(backend.params_hash()),
            hex::encode(params_hash)
        )));
    }
    Ok(backend)
}
