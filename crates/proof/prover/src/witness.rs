//! What a chunk proves: its op slots, the commitment `C` to them, and the
//! self-contained witness a worker proves from.
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
    ACCOUNT_TREE_ARITY, ACCOUNT_TREE_DEPTH, AccountId, AccountLeaf, Amount, BatchNumber, ChainId,
    FieldBytes, Fr, Nonce, PubdataOp, PublicKey, TokenId,
};

/// The kind of an op slot (the STARK's, one enum for both backends). The
/// discriminant is what enters `C`. [`OpKind::FeeCredit`] is the STARK segment's
/// own last op: it is never a slot here, and a Groth16 witness naming it is
/// refused on decode.
pub use ghostplane_stark::segment::OpKind;

/// Decodes a slot kind, refusing [`OpKind::FeeCredit`] (not a slot kind).
fn deserialize_slot_kind<R: std::io::Read>(reader: &mut R) -> std::io::Result<OpKind> {
    match OpKind::deserialize_reader(reader)? {
        OpKind::FeeCredit => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "op kind 5 (the STARK's fee credit) is not a slot kind",
        )),
        kind => Ok(kind),
    }
}

/// One op slot's public fields (everything that enters `C`).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChunkOp {
    /// Kind (never [`OpKind::FeeCredit`]).
    #[borsh(deserialize_with = "deserialize_slot_kind")]
    pub kind: OpKind,
    /// Token moved (GCC for fee-only ops and no-ops).
    pub token: TokenId,
    /// Sender account (zero if none).
    pub a_index: AccountId,
    /// Sender key (zero if none).
    pub a_key: PublicKey,
    /// Receiver account (zero if none).
    pub b_index: AccountId,
    /// Receiver key, or the L1 recipient of a withdrawal (zero if none).
    pub b_data: [u8; 32],
    /// Whether the receiver account is created by this op.
    pub b_new: bool,
    /// Sender nonce before the op, or the deposit queue index.
    pub nonce: Nonce,
    /// Amount of `token`.
    pub amount: Amount,
    /// Fee in GCC.
    pub fee: Amount,
}

impl ChunkOp {
    /// The empty slot.
    pub fn noop() -> Self {
        Self {
            kind: OpKind::Noop,
            token: TokenId::Gcc,
            a_index: AccountId::ZERO,
            a_key: PublicKey([0; 32]),
            b_index: AccountId::ZERO,
            b_data: [0; 32],
            b_new: false,
            nonce: 0,
            amount: 0,
            fee: 0,
        }
    }

    /// The slot a pubdata op takes in its segment: the one rule both the prover's
    /// merkleizer and the L1's commit check build slots with. `accounts` holds what
    /// the pubdata does not carry, read before the op. `None` for a storage write
    /// (attested, not proven: it takes no slot).
    pub fn from_pubdata(op: &PubdataOp, accounts: &SlotAccounts) -> Option<Self> {
        let (a_index, a_key, nonce) = match op.sender() {
            Some(from) => (from, accounts.sender_key, accounts.sender_nonce),
            None => (AccountId::ZERO, PublicKey([0; 32]), 0),
        };
        let sent = |kind, token, amount, fee| Self {
            kind,
            token,
            a_index,
            a_key,
            nonce,
            amount,
            fee,
            ..Self::noop()
        };
        Some(match op {
            PubdataOp::Transfer {
                to,
                token,
                amount,
                fee,
                ..
            } => Self {
                b_index: *to,
                b_data: accounts.receiver_key.0,
                ..sent(OpKind::Transfer, *token, *amount, *fee)
            },
            PubdataOp::TransferToNew {
                to,
                to_key,
                token,
                amount,
                fee,
                ..
            } => Self {
                b_index: *to,
                b_data: to_key.0,
                b_new: true,
                ..sent(OpKind::Transfer, *token, *amount, *fee)
            },
            PubdataOp::Deposit {
                queue_index,
                to,
                to_key,
                token,
                amount,
            } => Self {
                kind: OpKind::Deposit,
                token: *token,
                b_index: *to,
                b_data: to_key.0,
                b_new: accounts.receiver_new,
                nonce: *queue_index,
                amount: *amount,
                ..Self::noop()
            },
            PubdataOp::Withdraw {
                to,
                token,
                amount,
                fee,
                ..
            } => Self {
                b_data: to.0,
                ..sent(OpKind::Withdraw, *token, *amount, *fee)
            },
            PubdataOp::FeeOnly { fee_paid, .. } => {
                sent(OpKind::FeeOnly, TokenId::Gcc, 0, *fee_paid)
            }
            PubdataOp::StorageWrite { .. } => return None,
        })
    }

    /// The op's fields as the circuit allocates them.
    pub fn fields(&self) -> SlotFields {
        let (a_hi, a_lo) = public_key_limbs(&self.a_key);
        let (b_hi, b_lo) = public_key_limbs(&PublicKey(self.b_data));
        SlotFields {
            kind: self.kind,
            token: self.token.id(),
            nonce: Fr::from(self.nonce),
            amount: Fr::from(self.amount),
            fee: Fr::from(self.fee),
            a_index: self.a_index.index() as u64,
            b_index: self.b_index.index() as u64,
            b_new: self.b_new,
            a_key: [a_hi, a_lo],
            b_key: [b_hi, b_lo],
        }
    }

    /// The six field elements this op adds to `C`.
    pub fn elements(&self) -> [Fr; 6] {
        slot_elements(&self.fields())
    }
}

/// What a slot needs of the account state that its pubdata op does not carry,
/// read before the op ([`ChunkOp::from_pubdata`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotAccounts {
    /// The sender's key (ignored for an op without a sender).
    pub sender_key: PublicKey,
    /// The sender's nonce before the op (ignored for an op without a sender).
    pub sender_nonce: Nonce,
    /// The receiver's key, for a transfer to an existing account.
    pub receiver_key: PublicKey,
    /// Whether a deposit creates its receiver's account.
    pub receiver_new: bool,
}

impl SlotAccounts {
    /// Nothing known: for ops that need none of it (deposits to an existing
    /// account, storage writes).
    pub const NONE: Self = Self {
        sender_key: PublicKey([0; 32]),
        sender_nonce: 0,
        receiver_key: PublicKey([0; 32]),
        receiver_new: false,
    };
}

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

/// The public context of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChunkHeader {
    /// L2 chain id.
    pub chain_id: ChainId,
    /// Batch the chunk belongs to.
    pub batch: BatchNumber,
    /// Position of the chunk in its batch.
    pub chunk_index: u32,
    /// Account the chunk's fees are credited to.
    pub fee_account: AccountId,
}

impl ChunkHeader {
    /// `acc_0`.
    pub fn seed(&self) -> Fr {
        poseidon_n(&[
            Fr::from(self.chain_id.0),
            Fr::from(self.batch.0),
            Fr::from(u64::from(self.chunk_index)),
            Fr::from(self.fee_account.index() as u64),
        ])
    }
}

/// `C` for a header and its op slots.
pub fn chunk_commitment(header: &ChunkHeader, ops: &[ChunkOp]) -> Fr {
    ops.iter()
        .fold(header.seed(), |acc, op| absorb(acc, &op.elements()))
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
