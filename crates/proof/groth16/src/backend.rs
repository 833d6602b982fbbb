//! The Groth16 backend: today's chunk circuit behind [`ProofBackend`].
//!
//! The tree is 4-ary of depth 12 over BN254 Poseidon; a chunk has exactly
//! `chunk_ops` slots (keys are per shape); the statement's public inputs are
//! `[old_root, new_root, C]` with `C` from [`crate::witness::chunk_commitment`].

use std::sync::Arc;

use rayon::prelude::*;

use ghostplane_primitives::merkle::{empty_subtree_roots, node_hash};
use ghostplane_primitives::{
    ACCOUNT_TREE_ARITY, ACCOUNT_TREE_DEPTH, AccountLeaf, FieldBytes, Fr, PublicKey,
};
use ghostplane_proof_backend::{
    BackendError, ChunkHeader, ChunkOp, Job, Leg, Node, ProofBackend, ProofSystem, Segment,
    Statement, TreeHash,
};

use crate::keys::{ChunkKeys, ChunkProof, ChunkVerifier, PROOF_BYTES};
use crate::witness::{ChunkWitness, LegWitness, SlotWitness, chunk_commitment};

/// The BN254 Poseidon tree: 4-ary, depth 12.
pub struct PoseidonTree;

fn fr(node: &Node) -> Fr {
    FieldBytes::from_bytes(*node)
        .map(FieldBytes::to_fr)
        .unwrap_or_else(|_| Fr::from(0u64))
}

impl TreeHash for PoseidonTree {
    fn name(&self) -> &'static str {
        "poseidon-bn254-4ary-12"
    }
    fn arity(&self) -> usize {
        ACCOUNT_TREE_ARITY
    }
    fn depth(&self) -> usize {
        ACCOUNT_TREE_DEPTH
    }
    fn leaf(&self, leaf: &AccountLeaf) -> Node {
        *FieldBytes::from(leaf.hash()).as_bytes()
    }
    fn node(&self, children: &[Node]) -> Node {
        let mut c = [Fr::from(0u64); ACCOUNT_TREE_ARITY];
        for (out, child) in c.iter_mut().zip(children) {
            *out = fr(child);
        }
        *FieldBytes::from(node_hash(&c)).as_bytes()
    }
    fn leaves(&self, leaves: &[AccountLeaf]) -> Vec<Node> {
        leaves.par_iter().map(|l| self.leaf(l)).collect()
    }
    fn nodes(&self, children: &[Node]) -> Vec<Node> {
        children
            .par_chunks_exact(ACCOUNT_TREE_ARITY)
            .map(|c| self.node(c))
            .collect()
    }
    fn empty(&self, height: usize) -> Node {
        *FieldBytes::from(empty_subtree_roots()[height]).as_bytes()
    }
    fn idle_legs_need_paths(&self) -> bool {
        false
    }
}

/// Groth16 over the chunk circuit: a verifier, and the proving key when it proves.
pub struct Groth16Backend {
    verifier: Option<ChunkVerifier>,
    keys: Option<Arc<ChunkKeys>>,
    chunk_ops: usize,
}

impl Groth16Backend {
    /// A backend that proves with `keys`.
    pub fn new(keys: Arc<ChunkKeys>) -> Self {
        Self {
            verifier: Some(keys.verifier().clone()),
            chunk_ops: keys.shape().chunk_ops,
            keys: Some(keys),
        }
    }

    /// A backend without keys: it builds jobs and commitments (tests, benches, tools
    /// that only merkleize) but refuses to prove or verify.
    pub fn witnesses_only(chunk_ops: usize) -> Self {
        Self {
            verifier: None,
            keys: None,
            chunk_ops: chunk_ops.max(1),
        }
    }

    fn verifier_ref(&self) -> Result<&ChunkVerifier, BackendError> {
        self.verifier
            .as_ref()
            .ok_or(BackendError::VerifierOnly(ProofSystem::Groth16))
    }

    /// A verifier from the genesis's circuit hash and verifying key.
    pub fn verifier(
        circuit_hash: [u8; 32],
        vk: &[u8],
        chunk_ops: usize,
    ) -> Result<Self, BackendError> {
        let verifier = ChunkVerifier::from_bytes(circuit_hash, vk)
            .map_err(|e| BackendError::Params(e.to_string()))?;
        Ok(Self {
            verifier: Some(verifier),
            keys: None,
            chunk_ops: chunk_ops.max(1),
        })
    }
}

fn leg_witness(leg: &Leg) -> Result<LegWitness, BackendError> {
    let mut out = LegWitness::inactive();
    if leg.siblings.len() != ACCOUNT_TREE_DEPTH * (ACCOUNT_TREE_ARITY - 1) {
        return Err(BackendError::Segment(format!(
            "a leg has {} siblings, the 4-ary tree of depth 12 has 36",
            leg.siblings.len()
        )));
    }
    for (level, siblings) in out
        .siblings
        .iter_mut()
        .zip(leg.siblings.chunks_exact(ACCOUNT_TREE_ARITY - 1))
    {
        for (slot, node) in level.iter_mut().zip(siblings) {
            *slot = FieldBytes::from_bytes(*node)
                .map_err(|_| BackendError::Segment("a sibling is not a BN254 scalar".into()))?;
        }
    }
    out.leaf = leg.before;
    Ok(out)
}

impl ProofBackend for Groth16Backend {
    fn system(&self) -> ProofSystem {
        ProofSystem::Groth16
    }

    fn params_hash(&self) -> [u8; 32] {
        self.verifier
            .as_ref()
            .map_or([0; 32], ChunkVerifier::circuit_hash)
    }

    fn verifier_params(&self) -> Vec<u8> {
        self.verifier
            .as_ref()
            .map_or_else(Vec::new, ChunkVerifier::vk_bytes)
    }

    fn tree_hash(&self) -> Arc<dyn TreeHash> {
        Arc::new(PoseidonTree)
    }

    fn segment_ops_max(&self) -> usize {
        self.chunk_ops
    }

    fn padded_ops(&self, _ops: usize) -> usize {
        self.chunk_ops
    }

    fn commitment(&self, header: &ChunkHeader, ops: &[ChunkOp]) -> (FieldBytes, u32) {
        let mut padded = ops.to_vec();
        padded.resize(self.chunk_ops.max(ops.len()), ChunkOp::noop());
        (
            FieldBytes::from(chunk_commitment(header, &padded)),
            padded.len() as u32,
        )
    }

    fn job(&self, segment: &Segment) -> Result<Job, BackendError> {
        let slots = segment
            .slots
            .iter()
            .map(|s| {
                Ok(SlotWitness {
                    op: s.op.clone(),
                    a: if s.op.kind.has_sender() {
                        leg_witness(&s.a)?
                    } else {
                        LegWitness::inactive()
                    },
                    b: if s.op.kind.has_receiver() {
                        let mut leg = leg_witness(&s.b)?;
                        if s.op.b_new {
                            // The circuit reads a created account's old leaf as the
                            // new key with nothing in it.
                            leg.leaf = AccountLeaf::new(PublicKey(s.op.b_data));
                        }
                        leg
                    } else {
                        LegWitness::inactive()
                    },
                })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        let witness = ChunkWitness {
            header: segment.header,
            old_root: segment.old_root,
            new_root: segment.new_root,
            slots,
            fee: leg_witness(&segment.fee)?,
        };
        let [_, _, c] = witness.public_inputs();
        Ok(Job {
            statement: Statement {
                header: segment.header,
                old_root: segment.old_root,
                new_root: segment.new_root,
                commitment: FieldBytes::from(c),
                slots: witness.slots.len() as u32,
            },
            witness: borsh::to_vec(&witness).map_err(|e| BackendError::Segment(e.to_string()))?,
        })
    }

    fn prove(&self, witness: &[u8]) -> Result<Vec<u8>, BackendError> {
        let keys = self
            .keys
            .as_ref()
            .ok_or(BackendError::VerifierOnly(ProofSystem::Groth16))?;
        let witness: ChunkWitness =
            borsh::from_slice(witness).map_err(|e| BackendError::Witness(e.to_string()))?;
        keys.prove(&witness)
            .map(|p| p.0.to_vec())
            .map_err(|e| BackendError::Prove(e.to_string()))
    }

    fn verify(&self, statement: &Statement, proof: &[u8]) -> Result<(), BackendError> {
        let proof: [u8; PROOF_BYTES] = proof.try_into().map_err(|_| {
            BackendError::Refused(format!(
                "{} bytes; a Groth16 proof has {PROOF_BYTES}",
                proof.len()
            ))
        })?;
        if statement.slots as usize != self.chunk_ops {
            return Err(BackendError::Refused(format!(
                "the statement has {} slots, the circuit {}",
                statement.slots, self.chunk_ops
            )));
        }
        let inputs = [
            statement.old_root.to_fr(),
            statement.new_root.to_fr(),
            statement.commitment.to_fr(),
        ];
        self.verifier_ref()?
            .verify_inputs(&inputs, &ChunkProof(proof))
            .map_err(|e| BackendError::Refused(e.to_string()))
    }

    fn proof_bytes_max(&self) -> usize {
        PROOF_BYTES
    }
}
