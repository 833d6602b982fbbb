//! The STARK backend: the segment AIR of `ghostplane-stark` behind [`ProofBackend`].
//!
//! The tree is binary of depth 24 over KoalaBear Poseidon2 (digests packed into 32
//! bytes, see `ghostplane_stark::wire`). A segment of `n` user ops is padded with
//! no-ops to `2^k − 1` ops (the smallest power of two above `n`, at least 2, at most
//! `slots_max`) and closed by the fee credit, so a lone transfer proves a 2-op trace
//! and a full segment a `slots_max`-op one. The statement's public values are
//! `old_root ‖ new_root ‖ seed(header) ‖ C`; the verifier rebuilds all four itself.

use std::sync::Arc;

use rayon::prelude::*;

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{AccountLeaf, FieldBytes};
use ghostplane_proof_backend::{ChunkHeader, ChunkOp};
use ghostplane_stark::config::FriSettings;
use ghostplane_stark::hash::{DIGEST, Digest, compress, compress_many, hash_leaf, hash_leaves};
use ghostplane_stark::proof::{SegmentProof, SegmentProver};
use ghostplane_stark::segment::{
    Account, Op, OpWitness, SegmentHeader, SegmentWitness, commitment,
};
use ghostplane_stark::segment_air::OP_ROWS;
use ghostplane_stark::tree::{DEPTH, LeafUpdate};
use ghostplane_stark::wire::{decode_witness, encode_witness, pack_digest, unpack_digest};

use crate::backend::{
    BackendError, Job, Leg, Node, ProofBackend, ProofSystem, Segment, Statement, TreeHash,
};

/// Default ops per full segment, fee credit included (a power of two).
pub const DEVNET_SEGMENT_SLOTS: usize = 1024;

/// Hashes per rayon task when a tree level is hashed in parallel (a multiple of
/// the packed lanes; small enough that a segment's level splits across threads).
const HASH_CHUNK: usize = 256;

/// The KoalaBear Poseidon2 tree: binary, depth 24.
pub struct Poseidon2Tree {
    empty: [Node; DEPTH + 1],
}

impl Default for Poseidon2Tree {
    fn default() -> Self {
        let mut digest = hash_leaf(&Account::new([0; 32]).fields());
        let mut empty = [[0u8; 32]; DEPTH + 1];
        empty[0] = pack_digest(&digest);
        for slot in empty.iter_mut().skip(1) {
            digest = compress(&digest, &digest);
            *slot = pack_digest(&digest);
        }
        Self { empty }
    }
}

fn digest(node: &Node) -> Digest {
    // Nodes come from this tree, which only stores packed digests.
    unpack_digest(node).unwrap_or([Default::default(); DIGEST])
}

fn account(leaf: &AccountLeaf) -> Account {
    Account {
        key: leaf.public_key.0,
        nonce: leaf.nonce,
        balances: leaf.balances,
    }
}

impl TreeHash for Poseidon2Tree {
    fn name(&self) -> &'static str {
        "poseidon2-koalabear-binary-24"
    }
    fn arity(&self) -> usize {
        2
    }
    fn depth(&self) -> usize {
        DEPTH
    }
    fn leaf(&self, leaf: &AccountLeaf) -> Node {
        pack_digest(&hash_leaf(&account(leaf).fields()))
    }
    fn node(&self, children: &[Node]) -> Node {
        match children {
            [left, right] => pack_digest(&compress(&digest(left), &digest(right))),
            _ => self.empty[1],
        }
    }
    fn leaves(&self, leaves: &[AccountLeaf]) -> Vec<Node> {
        leaves
            .par_chunks(HASH_CHUNK)
            .flat_map_iter(|chunk| {
                let fields: Vec<_> = chunk.iter().map(|l| account(l).fields()).collect();
                hash_leaves(&fields).into_iter().map(|d| pack_digest(&d))
            })
            .collect()
    }
    fn nodes(&self, children: &[Node]) -> Vec<Node> {
        children
            .par_chunks(2 * HASH_CHUNK)
            .flat_map_iter(|chunk| {
                let digests: Vec<Digest> = chunk.iter().map(digest).collect();
                compress_many(&digests).into_iter().map(|d| pack_digest(&d))
            })
            .collect()
    }
    fn empty(&self, height: usize) -> Node {
        self.empty[height.min(DEPTH)]
    }
    fn idle_legs_need_paths(&self) -> bool {
        true
    }
}

/// What the genesis records: the FRI setting.
#[derive(BorshSerialize, BorshDeserialize)]
struct Params {
    log_blowup: u32,
    num_queries: u32,
    query_pow_bits: u32,
}

/// The STARK backend (proves and verifies: there are no keys).
pub struct StarkBackend {
    prover: SegmentProver,
    tree: Arc<Poseidon2Tree>,
    slots_max: usize,
}

impl StarkBackend {
    /// A backend with FRI `settings` and full segments of `slots_max` ops (a power
    /// of two, at least 2; the fee credit takes one). A setting below the provable
    /// floor for segments of that size is refused ([`FriSettings::check`]).
    pub fn new(settings: FriSettings, slots_max: usize) -> Result<Self, BackendError> {
        if slots_max < 2 || !slots_max.is_power_of_two() {
            return Err(BackendError::Params(format!(
                "{slots_max} ops per segment: a STARK segment holds a power of two, at least 2"
            )));
        }
        let log_rows = slots_max.saturating_mul(OP_ROWS).trailing_zeros() as usize;
        settings.check(log_rows)?;
        Ok(Self {
            prover: SegmentProver::new(settings),
            tree: Arc::new(Poseidon2Tree::default()),
            slots_max,
        })
    }

    /// From the genesis's parameters and its ops per segment (`slots_max − 1`). Any
    /// blowup, query count and grinding are read as recorded, and refused unless
    /// they clear the provable floor at that segment size.
    pub fn from_params(params: &[u8], segment_ops_max: usize) -> Result<Self, BackendError> {
        let p = Params::try_from_slice(params)
            .map_err(|e| BackendError::Params(format!("STARK parameters: {e}")))?;
        let settings = FriSettings {
            log_blowup: p.log_blowup as usize,
            num_queries: p.num_queries as usize,
            query_pow_bits: p.query_pow_bits as usize,
        };
        Self::new(settings, segment_ops_max.saturating_add(1))
    }

    /// The FRI setting.
    pub fn settings(&self) -> FriSettings {
        self.prover.settings()
    }

    fn header(h: &ChunkHeader) -> SegmentHeader {
        SegmentHeader {
            chain_id: h.chain_id.0,
            batch: h.batch.0,
            segment: h.chunk_index,
            fee_account: h.fee_account.get(),
        }
    }

    /// The segment's ops as the AIR sees them: user ops, no-op padding, fee credit.
    fn ops(&self, header: &ChunkHeader, ops: &[ChunkOp]) -> Vec<Op> {
        let padded = self.padded_ops(ops.len());
        let total_fee = ops.iter().fold(0u128, |t, op| t.saturating_add(op.fee));
        ops.iter()
            .map(stark_op)
            .chain(std::iter::repeat_n(
                Op::noop(),
                padded - ops.len().min(padded),
            ))
            .chain([Op::fee_credit(header.fee_account.get(), total_fee)])
            .collect()
    }
}

fn stark_op(op: &ChunkOp) -> Op {
    Op {
        kind: op.kind,
        token: op.token.id(),
        a_index: op.a_index.get(),
        a_key: op.a_key.0,
        b_index: op.b_index.get(),
        b_data: op.b_data,
        b_new: op.b_new,
        nonce: op.nonce,
        amount: op.amount,
        fee: op.fee,
    }
}

fn update(leg: &Leg) -> Result<LeafUpdate, BackendError> {
    if leg.siblings.len() != DEPTH {
        return Err(BackendError::Segment(format!(
            "a leg has {} siblings, the binary tree of depth {DEPTH} has {DEPTH}",
            leg.siblings.len()
        )));
    }
    let mut siblings = [[Default::default(); DIGEST]; DEPTH];
    for (out, node) in siblings.iter_mut().zip(&leg.siblings) {
        *out = unpack_digest(node).map_err(|e| BackendError::Segment(e.to_string()))?;
    }
    Ok(LeafUpdate {
        index: leg.index.get(),
        old: account(&leg.before).fields(),
        new: account(&leg.after).fields(),
        siblings,
    })
}

fn root(bytes: &FieldBytes) -> Result<Digest, BackendError> {
    unpack_digest(bytes.as_bytes()).map_err(|e| BackendError::Refused(e.to_string()))
}

fn packed(d: &Digest) -> FieldBytes {
    // A packed digest is below 2^248, so always a canonical scalar.
    FieldBytes::from_bytes(pack_digest(d)).unwrap_or(FieldBytes::ZERO)
}

impl ProofBackend for StarkBackend {
    fn system(&self) -> ProofSystem {
        ProofSystem::Stark
    }

    fn params_hash(&self) -> [u8; 32] {
        self.prover.params_hash()
    }

    fn verifier_params(&self) -> Vec<u8> {
        let s = self.prover.settings();
        ghostplane_primitives::codec::to_bytes(&Params {
            log_blowup: s.log_blowup as u32,
            num_queries: s.num_queries as u32,
            query_pow_bits: s.query_pow_bits as u32,
        })
    }

    fn tree_hash(&self) -> Arc<dyn TreeHash> {
        Arc::clone(&self.tree) as Arc<dyn TreeHash>
    }

    fn segment_ops_max(&self) -> usize {
        self.slots_max - 1
    }

    fn padded_ops(&self, ops: usize) -> usize {
        (ops + 1).next_power_of_two().clamp(2, self.slots_max) - 1
    }

    fn commitment(&self, header: &ChunkHeader, ops: &[ChunkOp]) -> (FieldBytes, u32) {
        // `AccountId` (< 2^24) and `TokenId` (0 to 3) keep every op in range, so
        // this is never refused. Were it to be, zero is returned, which no proof
        // can open (the AIR's commitment is a Poseidon2 output): nothing is accepted
        // for such ops, rather than the commitment of other ops they alias.
        let c = commitment(&Self::header(header), &self.ops(header, ops))
            .map_or(FieldBytes::ZERO, |c| packed(&c));
        (c, self.padded_ops(ops.len()) as u32)
    }

    fn job(&self, segment: &Segment) -> Result<Job, BackendError> {
        let header = Self::header(&segment.header);
        let total_fee = segment
            .slots
            .iter()
            .try_fold(0u128, |t, s| t.checked_add(s.op.fee))
            .ok_or_else(|| BackendError::Segment("the segment's fees overflow u128".into()))?;
        let mut ops = segment
            .slots
            .iter()
            .map(|s| {
                Ok(OpWitness {
                    op: stark_op(&s.op),
                    a: update(&s.a)?,
                    b: update(&s.b)?,
                })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        ops.push(OpWitness {
            op: Op::fee_credit(header.fee_account, total_fee),
            a: update(&segment.fee_idle)?,
            b: update(&segment.fee)?,
        });
        if !ops.len().is_power_of_two() || ops.len() > self.slots_max {
            return Err(BackendError::Segment(format!(
                "{} ops with the fee credit; a segment holds a power of two up to {}",
                ops.len(),
                self.slots_max
            )));
        }
        let witness = SegmentWitness {
            header,
            old_root: root(&segment.old_root)?,
            new_root: root(&segment.new_root)?,
            ops,
        };
        let c = commitment(&header, &witness.ops())
            .map_err(|e| BackendError::Segment(e.to_string()))?;
        Ok(Job {
            statement: Statement {
                header: segment.header,
                old_root: segment.old_root,
                new_root: segment.new_root,
                commitment: packed(&c),
                slots: segment.slots.len() as u32,
            },
            witness: encode_witness(&witness).map_err(|e| BackendError::Segment(e.to_string()))?,
        })
    }

    fn prove(&self, witness: &[u8]) -> Result<Vec<u8>, BackendError> {
        let witness = decode_witness(witness).map_err(|e| BackendError::Witness(e.to_string()))?;
        self.prover
            .prove(&witness)
            .map(|p| p.0)
            .map_err(|e| BackendError::Prove(e.to_string()))
    }

    fn verify(&self, statement: &Statement, proof: &[u8]) -> Result<(), BackendError> {
        let slots = statement.slots as usize;
        if slots + 1 > self.slots_max || !(slots + 1).is_power_of_two() || slots == 0 {
            return Err(BackendError::Refused(format!(
                "a statement of {slots} slots; segments hold 2^k − 1 ops up to {}",
                self.slots_max - 1
            )));
        }
        let public = [
            root(&statement.old_root)?,
            root(&statement.new_root)?,
            Self::header(&statement.header).seed(),
            root(&statement.commitment)?,
        ]
        .concat();
        self.prover
            .verify(&SegmentProof(proof.to_vec()), &public, slots + 1)
            .map_err(|e| BackendError::Refused(e.to_string()))
    }

    fn proof_bytes_max(&self) -> usize {
        ghostplane_stark::proof::MAX_PROOF_BYTES
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ghostplane_stark::security::SettingsError;

    use super::*;

    fn params(log_blowup: u32, num_queries: u32, query_pow_bits: u32) -> Vec<u8> {
        ghostplane_primitives::codec::to_bytes(&Params {
            log_blowup,
            num_queries,
            query_pow_bits,
        })
    }

    #[test]
    fn from_params_refuses_a_setting_below_the_provable_floor() {
        // One query and no grinding: a handful of bits.
        let err = StarkBackend::from_params(&params(1, 1, 0), DEVNET_SEGMENT_SLOTS - 1)
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                BackendError::Settings(SettingsError::BelowFloor {
                    log_rows: 16,
                    proven_bits,
                    ..
                }) if proven_bits < 5
            ),
            "{err}"
        );
        // The pre-issue-33 setting (116 "conjectured" bits) is below it too.
        assert!(matches!(
            StarkBackend::from_params(&params(1, 100, 16), DEVNET_SEGMENT_SLOTS - 1),
            Err(BackendError::Settings(SettingsError::BelowFloor { .. }))
        ));
        // No blowup cannot hold the degree-3 quotient.
        assert!(matches!(
            StarkBackend::from_params(&params(0, 200, 16), 1),
            Err(BackendError::Settings(SettingsError::Blowup { .. }))
        ));
    }

    #[test]
    fn from_params_reads_the_blowup_it_is_given() {
        let s = FriSettings::SETTLEMENT;
        let backend = StarkBackend::new(s, DEVNET_SEGMENT_SLOTS).unwrap();
        let again = StarkBackend::from_params(&backend.verifier_params(), DEVNET_SEGMENT_SLOTS - 1)
            .unwrap();
        assert_eq!(again.settings(), s);
        assert_eq!(again.params_hash(), backend.params_hash());
        // Another blowup that clears the floor is read as recorded, not refused.
        let wider = StarkBackend::from_params(&params(3, 80, 16), 1).unwrap();
        assert_eq!(wider.settings().log_blowup, 3);
        assert_ne!(wider.params_hash(), backend.params_hash());
    }
}
