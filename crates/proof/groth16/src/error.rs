//! The Groth16 backend's error type (keys, setup, proving, verifying). At the
//! [`ghostplane_proof_backend::ProofBackend`] boundary it becomes a
//! [`ghostplane_proof_backend::BackendError`]; the prover's `ProverError` wraps it
//! unchanged (`ProverError::Groth16`).

/// Everything that can go wrong with Groth16 keys, proofs and the chunk circuit.
#[derive(Debug, thiserror::Error)]
pub enum Groth16Error {
    /// The circuit could not be synthesized or proven.
    #[error("circuit: {0}")]
    Synthesis(#[from] ark_relations::gr1cs::SynthesisError),
    /// Key or proof bytes do not decode.
    #[error("cannot decode {what}: {source}")]
    Serialization {
        /// What was being decoded.
        what: &'static str,
        /// Why.
        source: ark_serialize::SerializationError,
    },
    /// A key file is for a different circuit.
    #[error("key file {path} is for circuit {found}, this build's circuit is {expected}")]
    KeyMismatch {
        /// The file.
        path: String,
        /// Its circuit hash.
        found: String,
        /// Ours.
        expected: String,
    },
    /// A proof did not verify.
    #[error("proof does not verify against the chunk's public inputs")]
    BadProof,
    /// A job witness has the wrong number of slots for this circuit.
    #[error("job has {found} op slots, the circuit has {expected}")]
    WrongChunkSize {
        /// Slots in the job.
        found: usize,
        /// Slots in the circuit.
        expected: usize,
    },
    /// File system error (key files).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
}
