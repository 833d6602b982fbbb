//! The verifier a rollup genesis fixes: the genesis records its proof system as data
//! ([`ProofParams`], `ghostplane-proof-api`); the node builds the backend that checks
//! proofs from it once, when it opens the chain. Here, not in `ghostd-types`, so that
//! the types stay free of the prover.

use std::sync::Arc;

use ghostd_types::rollup::ProofParams;
use ghostplane_prover::backend::verifier_from_params;
use ghostplane_prover::{BackendError, ProofBackend};

/// The verifier `params` describe; refused when its parameters do not decode or do
/// not hash to `params.params_hash`.
pub fn verifier(params: &ProofParams) -> Result<Arc<dyn ProofBackend>, BackendError> {
    verifier_from_params(
        params.system,
        params.params_hash,
        &params.verifier_params,
        params.segment_ops_max(),
    )
}
