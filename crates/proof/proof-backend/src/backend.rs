//! The proof-backend seam (issue 11): everything that depends on the proof system
//! sits behind [`ProofBackend`]: the account tree's hash and shape ([`TreeHash`]),
//! turning the merkleizer's [`Segment`]s into proof [`Job`]s, the ops commitment the
//! L1 rebuilds, proving and verifying. See the crate docs for the flow.

use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{AccountId, AccountLeaf, FieldBytes, PublicKey};
use ghostplane_proof_api::{ProofParams, ProofSystem};

use crate::statement::{ChunkHeader, ChunkOp, Statement};

/// A tree node or leaf digest, as stored (32 bytes; its meaning is the backend's).
pub type Node = [u8; 32];

/// The account tree's hash and shape.
pub trait TreeHash: Send + Sync {
    /// Stable name, stored with the tree: a store of another hash is refused.
    fn name(&self) -> &'static str;
    /// Children per node.
    fn arity(&self) -> usize;
    /// Levels above the leaves (the tree holds `arity^depth` accounts).
    fn depth(&self) -> usize;
    /// A leaf's digest.
    fn leaf(&self, leaf: &AccountLeaf) -> Node;
    /// A node's digest from its `arity` children, in order.
    fn node(&self, children: &[Node]) -> Node;
    /// The digests of many leaves, in order. The tree hashes a whole level at once
    /// through this and [`Self::nodes`], so a backend may pack or parallelize.
    fn leaves(&self, leaves: &[AccountLeaf]) -> Vec<Node> {
        leaves.iter().map(|l| self.leaf(l)).collect()
    }
    /// The digests of `children.len() / arity` nodes, each from `arity`
    /// consecutive children, in order.
    fn nodes(&self, children: &[Node]) -> Vec<Node> {
        children
            .chunks_exact(self.arity())
            .map(|c| self.node(c))
            .collect()
    }
    /// The digest of an empty subtree of `height` (0 = an empty leaf).
    fn empty(&self, height: usize) -> Node;
    /// Whether segment witnesses need a path for legs an op does not use (the AIR
    /// has rows for both legs of every op; the circuit skips them).
    fn idle_legs_need_paths(&self) -> bool;
}

/// The root reached from account `index`'s leaf `leaf` with its path's
/// `siblings` (leaf level first, `arity - 1` a level in child order with the
/// path's own child left out: what the prover's `AccountTree::proof_at` gives).
/// `None` when the sibling count is not the tree's. What an exit claim is checked
/// with (issue 37), in every backend's hash.
pub fn root_from_path(
    hash: &dyn TreeHash,
    index: u32,
    leaf: &AccountLeaf,
    siblings: &[Node],
) -> Option<Node> {
    let arity = hash.arity();
    let per_level = arity.checked_sub(1)?;
    if arity < 2 || siblings.len() != hash.depth() * per_level {
        return None;
    }
    let mut node = hash.leaf(leaf);
    let mut index = index as usize;
    let mut children = Vec::with_capacity(arity);
    for level in siblings.chunks_exact(per_level) {
        let position = index % arity;
        children.clear();
        children.extend_from_slice(&level[..position]);
        children.push(node);
        children.extend_from_slice(&level[position..]);
        node = hash.node(&children);
        index /= arity;
    }
    (index == 0).then_some(node)
}

/// One leaf update of a segment: the leaf before and after, and its path's
/// siblings (see the prover's `AccountTree::path`). An idle leg rewrites a leaf
/// with itself; its path is empty when the backend does not need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// The account.
    pub index: AccountId,
    /// Before (an all-zero leaf if the account did not exist).
    pub before: AccountLeaf,
    /// After.
    pub after: AccountLeaf,
    /// Path siblings, leaf level first.
    pub siblings: Vec<Node>,
}

impl Leg {
    /// An idle leg without a path.
    pub fn idle() -> Self {
        Self {
            index: AccountId::ZERO,
            before: AccountLeaf::new(PublicKey([0; 32])),
            after: AccountLeaf::new(PublicKey([0; 32])),
            siblings: Vec::new(),
        }
    }
}

/// One op of a segment with its two legs (sender, receiver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The op's public fields.
    pub op: ChunkOp,
    /// Sender leg.
    pub a: Leg,
    /// Receiver leg.
    pub b: Leg,
}

/// A segment as the merkleizer built it, before it becomes a backend's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Public context.
    pub header: ChunkHeader,
    /// Root before.
    pub old_root: FieldBytes,
    /// Root after (fee credit included).
    pub new_root: FieldBytes,
    /// The ops, padded with no-ops to [`ProofBackend::padded_ops`].
    pub slots: Vec<Slot>,
    /// The fee credit's idle sender leg (a path only where the backend needs it).
    pub fee_idle: Leg,
    /// The fee account's credit.
    pub fee: Leg,
}

/// A proof job: the statement and the backend's witness bytes.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Job {
    /// What the proof must state.
    pub statement: Statement,
    /// The backend's witness encoding.
    pub witness: Vec<u8>,
}

/// Why a backend refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BackendError {
    /// The witness bytes do not decode.
    #[error("job witness does not decode: {0}")]
    Witness(String),
    /// The segment cannot become a job (a broken tree or an op the statement
    /// cannot express).
    #[error("segment cannot be proven: {0}")]
    Segment(String),
    /// A backend without proving keys cannot prove (nor, without a verifying key,
    /// verify).
    #[error("this {0} backend holds no keys for this; give it proving keys")]
    VerifierOnly(ProofSystem),
    /// Proving failed.
    #[error("proving failed: {0}")]
    Prove(String),
    /// The proof does not verify for the statement.
    #[error("proof refused: {0}")]
    Refused(String),
    /// Verifier parameters that do not decode or do not match their hash.
    #[error("verifier parameters: {0}")]
    Params(String),
    /// A STARK FRI setting outside the bounds or below the provable-security floor.
    #[error("STARK parameters refused: {0}")]
    Settings(#[from] ghostplane_stark::security::SettingsError),
}

/// A proof system at the prover's boundary. See the module docs.
pub trait ProofBackend: Send + Sync {
    /// Which system.
    fn system(&self) -> ProofSystem;
    /// Hash of the statement and its parameters: coordinator and workers compare it,
    /// and the genesis records it.
    fn params_hash(&self) -> [u8; 32];
    /// What the genesis records so the L1 can build this backend's verifier.
    fn verifier_params(&self) -> Vec<u8>;
    /// The account tree's hash.
    fn tree_hash(&self) -> Arc<dyn TreeHash>;
    /// Most user ops in one segment.
    fn segment_ops_max(&self) -> usize;
    /// The op count a segment of `ops` user ops is padded to with no-ops.
    fn padded_ops(&self, ops: usize) -> usize;
    /// The commitment to a segment's user ops (`ops` unpadded) and its slot count:
    /// what the L1 rebuilds from pubdata.
    fn commitment(&self, header: &ChunkHeader, ops: &[ChunkOp]) -> (FieldBytes, u32);
    /// The proof job of a segment.
    fn job(&self, segment: &Segment) -> Result<Job, BackendError>;
    /// Proves a job's witness (on the current rayon pool).
    fn prove(&self, witness: &[u8]) -> Result<Vec<u8>, BackendError>;
    /// Verifies a proof for a statement.
    fn verify(&self, statement: &Statement, proof: &[u8]) -> Result<(), BackendError>;
    /// Largest proof this backend produces (bounds what verifiers decode).
    fn proof_bytes_max(&self) -> usize;
}

/// What a rollup genesis records for `backend`, so that the L1 can build its
/// verifier (the prover's `backend::verifier_from_params`).
pub fn proof_params(backend: &dyn ProofBackend) -> ProofParams {
    ProofParams {
        system: backend.system(),
        chunk_ops: backend.segment_ops_max() as u32,
        params_hash: backend.params_hash(),
        verifier_params: backend.verifier_params(),
    }
}
