//! # ghostplane-proof-api
//!
//! The proof system's vocabulary, apart from the provers: which system a deployment
//! uses ([`ProofSystem`]) and what its rollup genesis records so that the L1 can
//! build that system's verifier ([`ProofParams`]). Plain data: no circuit, STARK,
//! arkworks or Plonky3 here, so `ghostd-types` and every client link it cheaply
//! (`testing/tests/tests/layering.rs` checks it).
//!
//! ## Data flow
//!
//! ```text
//! prover:  ProofBackend ──ghostplane_prover::proof_params──► ProofParams ──► rollup genesis (borsh)
//! ghostd:  genesis ProofParams ──rollup::verifier──► the backend's verifier (ghostplane-prover)
//! ```
//!
//! ## Invariants
//!
//! - The encodings are consensus: [`ProofParams`] is part of the L1 genesis (its
//!   hash), and [`ProofSystem`]'s borsh discriminants (`Groth16 = 0`, `Stark = 1`)
//!   and serde names (`groth16`, `stark`) never change.
//! - The parameters are fixed for the chain's life; nothing here checks them: the
//!   verifier built from them checks `params_hash` against `verifier_params`.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// The proof system of a deployment.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[borsh(use_discriminant = true)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum ProofSystem {
    /// Groth16 over BN254 (trusted setup; 128-byte proofs).
    Groth16 = 0,
    /// Plonky3 STARK over KoalaBear with FRI (no setup; ~0.4 MB proofs).
    Stark = 1,
}

impl ProofSystem {
    /// The lowercase name (`groth16`, `stark`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Groth16 => "groth16",
            Self::Stark => "stark",
        }
    }
}

impl fmt::Display for ProofSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ProofSystem {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "groth16" => Ok(Self::Groth16),
            "stark" => Ok(Self::Stark),
            other => Err(format!("unknown proof system `{other}` (groth16 or stark)")),
        }
    }
}

/// The proof backend a rollup genesis fixes. The prover builds it from a backend
/// (`ghostplane_prover::proof_params`); ghostd builds the verifier from it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProofParams {
    /// The proof system.
    pub system: ProofSystem,
    /// Most ops per segment (chunk): the cutter closes a segment at this many.
    pub chunk_ops: u32,
    /// Hash of the backend's statement and parameters (checked against
    /// `verifier_params` when the node starts).
    pub params_hash: [u8; 32],
    /// The backend's verifier parameters (Groth16: the compressed verifying key;
    /// STARK: the FRI setting).
    pub verifier_params: Vec<u8>,
}

impl ProofParams {
    /// Most ops per segment as a count (at least 1, whatever the genesis says).
    pub fn segment_ops_max(&self) -> usize {
        self.chunk_ops.max(1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_encodings_are_fixed() {
        assert_eq!(borsh::to_vec(&ProofSystem::Groth16).ok(), Some(vec![0]));
        assert_eq!(borsh::to_vec(&ProofSystem::Stark).ok(), Some(vec![1]));
        for system in [ProofSystem::Groth16, ProofSystem::Stark] {
            assert_eq!(system.name().parse::<ProofSystem>(), Ok(system));
        }
    }
}
