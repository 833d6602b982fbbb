//! What a Groth16 chunk proves: the commitment `C` to its op slots (the slots
//! themselves, [`ChunkOp`], are the shared statement's), and the self-contained
//! witness a worker proves from.
//!
//! # The commitment `C`
//!
//! Each op slot is reduced to six field elements and absorbed into a running Poseidon
//! hash, starting from the chunk header:
//!
//! ```text
//! acc_0 = Poseidon(chain_id, batch_number, chunk_index, fee_account)
//! e1    = kind + token * 2^3 + nonce * 2^5 + amount * 2^69          (197 bits)
//! e2    = fee + a_index * 2^128 + b_index * 2^152 + b_new * 2^176  (177 bits)
//! acc_i = Poseidon(acc_{i-1}, e1, e2, a_hi, a_lo, b_hi, b_lo)
//! C     = acc_n
//! ```
//!
//! `a` is the sender (its key's two 128-bit limbs), `b` the receiver's key for a
//! transfer or deposit and the L1 recipient for a withdrawal. `nonce` is the sender's
//! nonce before the op, or the deposit's queue index. Unused fields are zero. Every
//! packed field is range-checked in the circuit, so the packing is injective, and the
//! L1 can rebuild `C` from pubdata plus the keys and nonces it tracks.

use ark_ff::AdditiveGroup as _;
use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::merkle::public_key_limbs;
use ghostplane_primitives::poseidon::poseidon_n;
use ghostplane_primitives::{
    ACCOUNT_TREE_ARITY, ACCOUNT_TREE_DEPTH, AccountLeaf, Amount, FieldBytes, Fr, PublicKey,
};
use ghostplane_proof_backend::{ChunkHeader, ChunkOp, OpKind};

/// A slot's fields as field elements: what the circuit allocates. Amounts, fees and
/// nonces are field elements here so that tests can build out-of-range witnesses;
/// honest slots come from [`ChunkOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotFields {
    /// Kind.
    pub kind: OpKind,
    /// Token id (0 to 3).
    pub token: u8,
    /// Sender nonce or deposit queue index.
    pub nonce: Fr,
    /// Amount.
    pub amount: Fr,
    /// Fee.
    pub fee: Fr,
    /// Sender index.
    pub a_index: u64,
    /// Receiver index.
    pub b_index: u64,
    /// Receiver created.
    pub b_new: bool,
    /// Sender key limbs.
    pub a_key: [Fr; 2],
    /// Receiver key (or L1 recipient) limbs.
    pub b_key: [Fr; 2],
}

impl SlotFields {
    /// An op's fields as the circuit allocates them.
    pub fn of(op: &ChunkOp) -> Self {
        let (a_hi, a_lo) = public_key_limbs(&op.a_key);
        let (b_hi, b_lo) = public_key_limbs(&PublicKey(op.b_data));
        Self {
            kind: op.kind,
            token: op.token.id(),
            nonce: Fr::from(op.nonce),
            amount: Fr::from(op.amount),
            fee: Fr::from(op.fee),
            a_index: op.a_index.index() as u64,
            b_index: op.b_index.index() as u64,
            b_new: op.b_new,
            a_key: [a_hi, a_lo],
            b_key: [b_hi, b_lo],
        }
    }
}

fn shift(bits: u32) -> Fr {
    let mut w = Fr::from(1u64);
    for _ in 0..bits {
        w.double_in_place();
    }
    w
}

/// The six field elements a slot adds to `C`: `[e1, e2, a_hi, a_lo, b_hi, b_lo]`.
pub fn slot_elements(f: &SlotFields) -> [Fr; 6] {
    let e1 = Fr::from(f.kind as u64)
        + Fr::from(u64::from(f.token)) * shift(3)
        + f.nonce * shift(5)
        + f.amount * shift(69);
    let e2 = f.fee
        + Fr::from(f.a_index) * shift(128)
        + Fr::from(f.b_index) * shift(152)
        + Fr::from(u64::from(f.b_new)) * shift(176);
    [e1, e2, f.a_key[0], f.a_key[1], f.b_key[0], f.b_key[1]]
}

/// One absorption step of `C`.
pub fn absorb(acc: Fr, elements: &[Fr; 6]) -> Fr {
    let [e1, e2, a_hi, a_lo, b_hi, b_lo] = *elements;
    poseidon_n(&[acc, e1, e2, a_hi, a_lo, b_hi, b_lo])
}

/// `acc_0`: the header's part of `C`.
pub fn header_seed(header: &ChunkHeader) -> Fr {
    poseidon_n(&[
        Fr::from(header.chain_id.0),
        Fr::from(header.batch.0),
        Fr::from(u64::from(header.chunk_index)),
        Fr::from(header.fee_account.index() as u64),
    ])
}

/// The six field elements an op adds to `C`.
pub fn op_elements(op: &ChunkOp) -> [Fr; 6] {
    slot_elements(&SlotFields::of(op))
}

/// `C` for a header and its op slots.
pub fn chunk_commitment(header: &ChunkHeader, ops: &[ChunkOp]) -> Fr {
    ops.iter()
        .fold(header_seed(header), |acc, op| absorb(acc, &op_elements(op)))
}

/// One leaf update: the leaf before, and the siblings of its path (which the update
/// does not change). An inactive leg carries zeros.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LegWitness {
    /// The account before the update (zero for a leaf that does not exist yet).
    pub leaf: AccountLeaf,
    /// Siblings from the leaf level up, in child order without the leaf's own slot.
    pub siblings: [[FieldBytes; ACCOUNT_TREE_ARITY - 1]; ACCOUNT_TREE_DEPTH],
}

impl LegWitness {
    /// An inactive leg.
    pub fn inactive() -> Self {
        Self {
            leaf: AccountLeaf::new(PublicKey([0; 32])),
            siblings: [[FieldBytes::ZERO; ACCOUNT_TREE_ARITY - 1]; ACCOUNT_TREE_DEPTH],
        }
    }
}

/// One slot: its public fields and its two legs (sender, receiver).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SlotWitness {
    /// The op.
    pub op: ChunkOp,
    /// Sender leg (inactive if the op has no sender).
    pub a: LegWitness,
    /// Receiver leg (inactive if the op has no receiver).
    pub b: LegWitness,
}

/// Everything a worker needs to prove one chunk: a proof job.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChunkWitness {
    /// Public context.
    pub header: ChunkHeader,
    /// Accounts root before the chunk.
    pub old_root: FieldBytes,
    /// Accounts root after the chunk (including the fee credit).
    pub new_root: FieldBytes,
    /// Exactly `chunk_ops` slots.
    pub slots: Vec<SlotWitness>,
    /// The fee account's leg, applied once after the last slot.
    pub fee: LegWitness,
}

impl ChunkWitness {
    /// The three public inputs in circuit order: old root, new root, `C`.
    pub fn public_inputs(&self) -> [Fr; 3] {
        let ops: Vec<ChunkOp> = self.slots.iter().map(|s| s.op.clone()).collect();
        [
            self.old_root.to_fr(),
            self.new_root.to_fr(),
            chunk_commitment(&self.header, &ops),
        ]
    }

    /// Number of op slots.
    pub fn chunk_ops(&self) -> usize {
        self.slots.len()
    }

    /// Total fee the chunk credits to the fee account.
    pub fn total_fee(&self) -> Option<Amount> {
        self.slots
            .iter()
            .try_fold(0u128, |acc, s| acc.checked_add(s.op.fee))
    }
}
