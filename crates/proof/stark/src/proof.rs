//! Proving and verifying segments: the backend's boundary.
//!
//! A proof travels as bytes (postcard over Plonky3's serde proof), at most
//! [`MAX_PROOF_BYTES`]. Verification takes the public values the verifier rebuilt
//! itself (roots it tracks, the seed and commitment from its pubdata), never ones
//! that came with the proof.

use p3_field::BasedVectorSpace;
use p3_uni_stark::Proof;

use crate::config::{self, Challenge, Config, FriSettings, Val};
use crate::security::air_digest;
use crate::segment::{OpError, SEGMENT_VERSION, SegmentWitness};
use crate::segment_air::{OP_ROWS, PUBLIC_VALUES, SegmentAir, TraceError, WIDTH, generate_trace};

/// The proof system's name, as `prover info` and the genesis record it.
pub const PROOF_SYSTEM: &str = "stark";

/// A serialized proof larger than this is refused before decoding (a 1024-op
/// segment's proof is about 0.5 MB).
pub const MAX_PROOF_BYTES: usize = 4 << 20;

/// A segment proof, serialized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentProof(pub Vec<u8>);

/// Why a segment could not be proven.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The witness does not make a trace.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// An op cannot be committed to (so there are no public values).
    #[error(transparent)]
    Op(#[from] OpError),
    /// The proving system failed (a witness that breaks the rules ends here or in
    /// a proof that does not verify).
    #[error("proving failed: {0}")]
    Prover(String),
    /// The proof could not be serialized.
    #[error("proof encoding failed: {0}")]
    Encode(String),
}

/// Why a segment proof is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// More bytes than any honest proof has.
    #[error("proof of {0} bytes exceeds the {MAX_PROOF_BYTES}-byte limit")]
    TooLarge(usize),
    /// The bytes are not a proof.
    #[error("proof bytes do not decode: {0}")]
    Malformed(String),
    /// Public values of the wrong length.
    #[error("{0} public values; a segment has {PUBLIC_VALUES}")]
    PublicValues(usize),
    /// The proof does not prove this statement.
    #[error("proof rejected: {0}")]
    Rejected(String),
}

/// The parameters hash of `settings` for the AIR whose digest is `air`.
fn params_hash(settings: FriSettings, air: &[u8; 32]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(PROOF_SYSTEM.as_bytes());
    h.update(config::COMMITMENT_HASH.as_bytes());
    h.update(air);
    for v in [
        u64::from(SEGMENT_VERSION),
        WIDTH as u64,
        OP_ROWS as u64,
        <Challenge as BasedVectorSpace<Val>>::DIMENSION as u64,
        settings.log_blowup as u64,
        settings.num_queries as u64,
        settings.query_pow_bits as u64,
        config::FRI_LOG_ARITY as u64,
        config::FRI_LOG_FINAL_POLY_LEN as u64,
    ] {
        h.update(&v.to_le_bytes());
    }
    *h.finalize().as_bytes()
}

/// Proves and verifies segments with one FRI setting.
pub struct SegmentProver {
    settings: FriSettings,
    config: Config,
    air: SegmentAir,
}

impl SegmentProver {
    /// A prover/verifier for `settings` ([`FriSettings::SETTLEMENT`] in production).
    pub fn new(settings: FriSettings) -> Self {
        Self {
            settings,
            config: config::config(settings),
            air: SegmentAir::new(),
        }
    }

    /// The FRI setting.
    pub fn settings(&self) -> FriSettings {
        self.settings
    }

    /// Identifies the statement and its parameters: workers and the L1 compare it,
    /// and the genesis records it. It binds the AIR itself ([`air_digest`]: every
    /// constraint, the periodic columns, the width), the challenge field and the
    /// FRI setting, so two binaries that prove different constraints never agree on
    /// it.
    pub fn params_hash(&self) -> [u8; 32] {
        params_hash(self.settings, &air_digest())
    }

    /// Proves a witness on the current rayon pool.
    pub fn prove(&self, witness: &SegmentWitness) -> Result<SegmentProof, ProveError> {
        let trace = generate_trace(witness, self.settings.log_blowup)?;
        let public = witness.public_values()?;
        let proof = p3_uni_stark::prove(&self.config, &self.air, trace, &public)
            .map_err(|e| ProveError::Prover(format!("{e:?}")))?;
        postcard::to_allocvec(&proof)
            .map(SegmentProof)
            .map_err(|e| ProveError::Encode(e.to_string()))
    }

    /// Verifies `proof` for `public` (see [`crate::segment::public_values`]), a
    /// segment of `ops` ops (its trace height is fixed by them, so the prover cannot
    /// choose the verifier's work).
    pub fn verify(
        &self,
        proof: &SegmentProof,
        public: &[Val],
        ops: usize,
    ) -> Result<(), VerifyError> {
        if proof.0.len() > MAX_PROOF_BYTES {
            return Err(VerifyError::TooLarge(proof.0.len()));
        }
        if public.len() != PUBLIC_VALUES {
            return Err(VerifyError::PublicValues(public.len()));
        }
        let decoded: Proof<Config> =
            postcard::from_bytes(&proof.0).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let rows = ops.saturating_mul(OP_ROWS);
        if !rows.is_power_of_two() || decoded.degree_bits != rows.trailing_zeros() as usize {
            return Err(VerifyError::Rejected(format!(
                "proof is for a trace of 2^{} rows; a segment of {ops} ops has {rows}",
                decoded.degree_bits
            )));
        }
        p3_uni_stark::verify(&self.config, &self.air, &decoded, public)
            .map_err(|e| VerifyError::Rejected(format!("{e:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_params_hash_binds_the_air() {
        let s = FriSettings::SETTLEMENT;
        let prover = SegmentProver::new(s);
        assert_eq!(prover.params_hash(), params_hash(s, &air_digest()));
        let mut other_air = air_digest();
        other_air[0] ^= 1;
        assert_ne!(params_hash(s, &other_air), prover.params_hash());
    }
}
