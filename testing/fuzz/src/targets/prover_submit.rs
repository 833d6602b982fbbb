//! `prover-submit` and `prover-submit-groth16`: what a coordinator of either backend
//! receives: job ids, witnesses, and proofs (a mutated proof never verifies).

use std::sync::Arc;

use ghostplane_primitives::{AccountLeaf, BatchNumber, Keypair, PubdataOp, Signature, TokenId};
use ghostplane_prover::coordinator::JobId;
use ghostplane_prover::{
    AccountTree, ChunkKeys, ChunkWitness, Groth16Backend, Merkleizer, ProofBackend, StarkBackend,
    Statement,
};
use ghostplane_stark::config::FriSettings;

use super::common::{L2_CHAIN, id, same_bytes};
use crate::Harness;

/// What the coordinator receives from workers, and workers from it.
pub(super) struct ProverSubmit {
    backend: Box<dyn ProofBackend>,
    witness_round_trip: WitnessRoundTrip,
    statement: Statement,
    proof: Vec<u8>,
    witness: Vec<u8>,
}

/// Decodes a witness as a backend's workers do (`None`: refused), then re-encodes
/// it.
type WitnessRoundTrip = fn(&[u8]) -> Option<Result<Vec<u8>, String>>;

/// Input tags: which decoder a [`ProverSubmit`] case feeds.
const JOB_ID: u8 = 0;
const WITNESS: u8 = 1;

fn stark_witness(body: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let witness = ghostplane_stark::wire::decode_witness(body).ok()?;
    Some(ghostplane_stark::wire::encode_witness(&witness).map_err(|e| e.to_string()))
}

fn groth16_witness(body: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let witness: ChunkWitness = borsh::from_slice(body).ok()?;
    Some(borsh::to_vec(&witness).map_err(|e| e.to_string()))
}

impl ProverSubmit {
    pub(super) fn stark() -> Result<Self, String> {
        let backend = StarkBackend::new(FriSettings::SETTLEMENT, 2).map_err(|e| e.to_string())?;
        Self::new(Box::new(backend), stark_witness)
    }

    /// The devnet's deterministic Groth16 setup, for one slot (the real chunk size
    /// takes minutes to set up; the decoders and the verifier are the same).
    pub(super) fn groth16() -> Result<Self, String> {
        let keys = ChunkKeys::devnet_setup(1).map_err(|e| e.to_string())?;
        Self::new(
            Box::new(Groth16Backend::new(Arc::new(keys))),
            groth16_witness,
        )
    }

    /// Proves one real transfer so that the seeds hold a witness and a proof that
    /// verify against a real statement.
    pub(super) fn new(
        backend: Box<dyn ProofBackend>,
        witness_round_trip: WitnessRoundTrip,
    ) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let db = ghostplane_prover::open_db(dir.path()).map_err(|e| e.to_string())?;
        let mut tree = AccountTree::open(db, backend.tree_hash()).map_err(|e| e.to_string())?;
        let leaves: Vec<_> = (0..3)
            .map(|i| {
                let mut leaf = AccountLeaf::new(Keypair::dev(i).public_key());
                leaf.balances = [1_000_000, 5_000, 7_000, 9_000];
                (id(i), leaf)
            })
            .collect();
        tree.update_many(&leaves).map_err(|e| e.to_string())?;
        tree.commit(0, rocksdb::WriteBatch::default())
            .map_err(|e| e.to_string())?;
        let ops = [PubdataOp::Transfer {
            from: id(1),
            to: id(2),
            token: TokenId::Gcc,
            amount: 300,
            fee: 7,
            signature: Signature([0; 64]),
        }];
        let job = Merkleizer::new(&mut tree, backend.as_ref(), L2_CHAIN)
            .build_batch(BatchNumber(1), id(0), &ops)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or("no job")?;
        let proof = backend.prove(&job.witness).map_err(|e| e.to_string())?;
        backend
            .verify(&job.statement, &proof)
            .map_err(|e| format!("the seed proof does not verify: {e}"))?;
        Ok(Self {
            backend,
            witness_round_trip,
            statement: job.statement,
            proof,
            witness: job.witness,
        })
    }
}

impl Harness for ProverSubmit {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut job_id = vec![JOB_ID];
        job_id.extend_from_slice(b"12:3");
        let mut witness = vec![WITNESS];
        witness.extend_from_slice(&self.witness);
        let mut proof = vec![2];
        proof.extend_from_slice(&self.proof);
        vec![job_id, witness, proof]
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some((&tag, body)) = input.split_first() else {
            return Ok(false);
        };
        match tag {
            JOB_ID => {
                let Some(job) = std::str::from_utf8(body).ok().and_then(JobId::parse) else {
                    return Ok(false);
                };
                if JobId::parse(&job.to_text()) != Some(job) {
                    return Err(format!("job id {:?} does not round-trip", job.to_text()));
                }
                Ok(true)
            }
            WITNESS => {
                let Some(encoded) = (self.witness_round_trip)(body) else {
                    return Ok(false);
                };
                let encoded =
                    encoded.map_err(|e| format!("a decoded witness does not re-encode: {e}"))?;
                same_bytes(body, &encoded, "witness")?;
                Ok(true)
            }
            _ => {
                // The coordinator's bound comes first, then verification.
                let verified = body.len() <= self.backend.proof_bytes_max()
                    && self.backend.verify(&self.statement, body).is_ok();
                if verified && body != self.proof.as_slice() {
                    return Err("a mutated proof verified".into());
                }
                Ok(verified)
            }
        }
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // Verification allocates its own working set regardless of the input.
        64 * 1024 * 1024 + 16 * input_len
    }
}
