//! The segment statement, natively: the leaf layout, the ops, the ops commitment,
//! and applying a segment's ops to the tree to get the witness the segment AIR
//! proves.
//!
//! # Leaf layout (48 elements, 6 sponge blocks)
//!
//! ```text
//! block 0..4   balance k (GCC, SPIRIT, MANA, GHOST): 8 limbs of 16 bits, low first
//! block 4      key limbs 0..8 (30 bits each, the key read as a little-endian integer)
//! block 5      key limb 8 (16 bits), nonce: 4 limbs of 16 bits, then 3 zeros
//! ```
//!
//! An absent account is all zeros. Every leaf the AIR writes has range-checked
//! balance and nonce limbs and a key copied from a committed op, so by induction
//! every leaf in the tree is canonical.
//!
//! # Ops and the commitment
//!
//! A segment is `slots` ops (a power of two, at least 2): the user ops, [`OpKind::Noop`]
//! padding, and one [`OpKind::FeeCredit`] last, which credits the segment's fees to
//! the fee account. Each op is six blocks of 8 elements ([`Op::blocks`]); the
//! commitment is a chain of width-16 permutations starting at the header's seed:
//!
//! ```text
//! s_0 = seed(header)
//! per op, for j in 0..3:  t = P(block_2j ‖ s)[..8];  s = P(block_2j+1 ‖ t)[..8]
//! C = s after the last op
//! ```
//!
//! The L1 rebuilds `C` from the pubdata with [`commitment`]: every element is a
//! canonical limb, so the AIR's ops are exactly the L1's. That holds only for ops
//! in range: a token of 4 would pack into the tag as `b_new` does, and an index of
//! `p` or more would reduce to a smaller one, so [`Op::blocks`] refuses both
//! ([`OpError`]) and no two different ops share a commitment.

use borsh::{BorshDeserialize, BorshSerialize};
use p3_field::{PrimeCharacteristicRing, PrimeField32};

use crate::config::Val;
use crate::hash::{DIGEST, Digest, LEAF_FIELDS, LeafFields, permute, truncate};
use crate::tree::{CAPACITY, LeafUpdate, Tree, TreeError};

/// Bits of a balance, amount, fee or nonce limb.
pub const LIMB_BITS: u32 = 16;
/// Limbs of a 128-bit value.
pub const BALANCE_LIMBS: usize = 8;
/// Limbs of a 64-bit nonce.
pub const NONCE_LIMBS: usize = 4;
/// Bits of a key limb (the last one holds the remaining 16).
pub const KEY_LIMB_BITS: u32 = 30;
/// Limbs of a 256-bit key.
pub const KEY_LIMBS: usize = 9;
/// Tokens per account.
pub const TOKENS: usize = 4;
/// Where the key's limbs start in a leaf.
pub const KEY_AT: usize = TOKENS * BALANCE_LIMBS;
/// Where the nonce's limbs start in a leaf.
pub const NONCE_AT: usize = KEY_AT + KEY_LIMBS;
/// Blocks of 8 elements an op adds to the commitment.
pub const COMMIT_BLOCKS: usize = 6;
/// Version tag in the seed: bumped whenever the statement changes.
pub const SEGMENT_VERSION: u32 = 3;

const LIMB_MASK: u128 = (1 << LIMB_BITS) - 1;

/// The kind of an op; the discriminant is what enters the commitment.
///
/// The one op kind of the workspace: the prover's slots
/// (`ghostplane_prover::ChunkOp`) and the L1's commit check use it too. A pubdata
/// op maps to `Noop` to `FeeOnly`; [`OpKind::FeeCredit`] is the segment's own last
/// op, never a pubdata op's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum OpKind {
    /// Padding: changes nothing.
    Noop = 0,
    /// Sender pays `amount` of `token` and `fee` GCC; receiver (maybe new) gets `amount`.
    Transfer = 1,
    /// Receiver (maybe new) gets `amount` of `token` from the L1 bridge.
    Deposit = 2,
    /// Sender pays `amount` of `token` and `fee` GCC; `amount` leaves for L1.
    Withdraw = 3,
    /// Sender pays `fee` GCC and uses a nonce.
    FeeOnly = 4,
    /// The segment's fees (its `amount`) go to the fee account (`b_index`).
    FeeCredit = 5,
    /// A contract's account (`a_index`, key field `a_key`) takes the key field
    /// `b_data`: the digest that commits the contract's code and storage root
    /// changes (`crate::storage::contract_key_field`), and nothing else does: no
    /// balance, no nonce, no fee.
    ContractKey = 6,
    /// A withdrawal the L1 forced: the sender (`a_index`, key `a_key`) pays
    /// `amount` of `token`, no fee, and its nonce is unchanged (`nonce` is the
    /// L1 queue index; the L1 checked the owner's signature when it queued the
    /// request). With `b_new` set (here: "the whole balance") the token balance
    /// is zero after it. `b_data` is the L1 recipient.
    ForcedWithdraw = 7,
}

impl OpKind {
    /// Debits a sender and increments its nonce (leg A active).
    pub fn has_sender(self) -> bool {
        matches!(self, Self::Transfer | Self::Withdraw | Self::FeeOnly)
    }

    /// Credits a receiver (leg B active).
    pub fn has_receiver(self) -> bool {
        matches!(self, Self::Transfer | Self::Deposit | Self::FeeCredit)
    }

    /// The receiver's key is the op's `b_data` (the fee account's key is free).
    pub fn binds_receiver_key(self) -> bool {
        matches!(self, Self::Transfer | Self::Deposit)
    }

    /// Debits the sender's token balance by `amount` (leg A's token row).
    pub fn debits(self) -> bool {
        matches!(self, Self::Transfer | Self::Withdraw | Self::ForcedWithdraw)
    }

    /// `amount` may be non-zero.
    pub fn moves_amount(self) -> bool {
        !matches!(self, Self::Noop | Self::FeeOnly | Self::ContractKey)
    }
}

/// An account: what a leaf holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Public key.
    pub key: [u8; 32],
    /// Next nonce.
    pub nonce: u64,
    /// Balances by token id.
    pub balances: [u128; TOKENS],
}

impl Account {
    /// A new account with nothing in it.
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key,
            nonce: 0,
            balances: [0; TOKENS],
        }
    }

    /// The leaf content.
    pub fn fields(&self) -> LeafFields {
        let mut f = [Val::ZERO; LEAF_FIELDS];
        for (k, balance) in self.balances.iter().enumerate() {
            let at = k * BALANCE_LIMBS;
            f[at..at + BALANCE_LIMBS].copy_from_slice(&vals(&u128_limbs(*balance)));
        }
        f[KEY_AT..KEY_AT + KEY_LIMBS].copy_from_slice(&vals(&key_limbs(&self.key)));
        f[NONCE_AT..NONCE_AT + NONCE_LIMBS].copy_from_slice(&vals(&u64_limbs(self.nonce)));
        f
    }

    /// Decodes a leaf; `None` if it is not canonical.
    pub fn from_fields(f: &LeafFields) -> Option<Self> {
        let limb = |i: usize, bits: u32| -> Option<u128> {
            let v = f[i].as_canonical_u32();
            (v < (1 << bits)).then_some(u128::from(v))
        };
        let mut balances = [0u128; TOKENS];
        for (k, balance) in balances.iter_mut().enumerate() {
            for j in (0..BALANCE_LIMBS).rev() {
                *balance = (*balance << LIMB_BITS) | limb(k * BALANCE_LIMBS + j, LIMB_BITS)?;
            }
        }
        let mut nonce = 0u64;
        for j in (0..NONCE_LIMBS).rev() {
            nonce = (nonce << LIMB_BITS) | limb(NONCE_AT + j, LIMB_BITS)? as u64;
        }
        let mut key = [0u8; 32];
        for bit in 0..256 {
            let i = bit / KEY_LIMB_BITS as usize;
            let top = if i + 1 == KEY_LIMBS {
                16
            } else {
                KEY_LIMB_BITS
            };
            let v = limb(KEY_AT + i, top)?;
            if (v >> (bit % KEY_LIMB_BITS as usize)) & 1 == 1 {
                key[bit / 8] |= 1 << (bit % 8);
            }
        }
        if f[NONCE_AT + NONCE_LIMBS..].iter().any(|v| *v != Val::ZERO) {
            return None;
        }
        Some(Self {
            key,
            nonce,
            balances,
        })
    }
}

fn vals<const N: usize>(limbs: &[u32; N]) -> [Val; N] {
    limbs.map(Val::from_u32)
}

/// A 128-bit value's 16-bit limbs, low first.
pub fn u128_limbs(v: u128) -> [u32; BALANCE_LIMBS] {
    core::array::from_fn(|j| ((v >> (LIMB_BITS as usize * j)) & LIMB_MASK) as u32)
}

/// A nonce's 16-bit limbs, low first.
pub fn u64_limbs(v: u64) -> [u32; NONCE_LIMBS] {
    core::array::from_fn(|j| ((v >> (LIMB_BITS as usize * j)) & 0xffff) as u32)
}

/// A key's 30-bit limbs: the 32 bytes as a little-endian integer, low limb first.
pub fn key_limbs(key: &[u8; 32]) -> [u32; KEY_LIMBS] {
    core::array::from_fn(|i| {
        let mut v = 0u32;
        for b in 0..KEY_LIMB_BITS as usize {
            let bit = i * KEY_LIMB_BITS as usize + b;
            if bit < 256 && (key[bit / 8] >> (bit % 8)) & 1 == 1 {
                v |= 1 << b;
            }
        }
        v
    })
}

/// One op of a segment: everything that enters the commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// Kind.
    pub kind: OpKind,
    /// Token id, 0 (GCC) to 3; GCC for ops that move no token.
    pub token: u8,
    /// Sender account (zero if none).
    pub a_index: u32,
    /// Sender key (zero if none).
    pub a_key: [u8; 32],
    /// Receiver account (the fee account for a fee credit; zero if none).
    pub b_index: u32,
    /// Receiver key, or the L1 recipient of a withdrawal (zero if none).
    pub b_data: [u8; 32],
    /// The receiver account is created by this op; for a
    /// [`OpKind::ForcedWithdraw`] (which has no receiver), the whole balance is
    /// withdrawn. It is the same tag bit.
    pub b_new: bool,
    /// Sender nonce before the op, or the deposit's queue index.
    pub nonce: u64,
    /// Amount of `token` (the segment's total fee for a fee credit).
    pub amount: u128,
    /// Fee in GCC.
    pub fee: u128,
}

impl Op {
    /// The padding op.
    pub fn noop() -> Self {
        Self {
            kind: OpKind::Noop,
            token: 0,
            a_index: 0,
            a_key: [0; 32],
            b_index: 0,
            b_data: [0; 32],
            b_new: false,
            nonce: 0,
            amount: 0,
            fee: 0,
        }
    }

    /// The fee credit that closes a segment.
    pub fn fee_credit(fee_account: u32, total_fee: u128) -> Self {
        Self {
            kind: OpKind::FeeCredit,
            b_index: fee_account,
            amount: total_fee,
            ..Self::noop()
        }
    }

    /// The packed first element: kind, token and `b_new`.
    pub fn tag(&self) -> u32 {
        self.kind as u32 + 8 * u32::from(self.token) + 32 * u32::from(self.b_new)
    }

    /// Checks the ranges that make [`Op::blocks`] injective: the token below
    /// [`TOKENS`] (the tag packs it in 2 bits under `b_new`) and both indices inside
    /// the tree (below 2^24, so also below the field's modulus).
    pub fn check_ranges(&self) -> Result<(), OpError> {
        if usize::from(self.token) >= TOKENS {
            return Err(OpError::Token(self.token));
        }
        for (leg, index) in [("a_index", self.a_index), ("b_index", self.b_index)] {
            if u64::from(index) >= CAPACITY {
                return Err(OpError::Index { leg, index });
            }
        }
        Ok(())
    }

    /// The six blocks this op adds to the commitment; refused for an op out of
    /// range ([`Op::check_ranges`]), whose blocks would equal another op's.
    pub fn blocks(&self) -> Result<[[Val; DIGEST]; COMMIT_BLOCKS], OpError> {
        self.check_ranges()?;
        let mut e = [0u32; COMMIT_BLOCKS * DIGEST];
        e[0] = self.tag();
        e[1] = self.a_index;
        e[2] = self.b_index;
        e[3..7].copy_from_slice(&u64_limbs(self.nonce));
        e[8..16].copy_from_slice(&u128_limbs(self.amount));
        e[16..24].copy_from_slice(&u128_limbs(self.fee));
        e[24..33].copy_from_slice(&key_limbs(&self.a_key));
        e[33..42].copy_from_slice(&key_limbs(&self.b_data));
        Ok(core::array::from_fn(|b| {
            core::array::from_fn(|i| Val::from_u32(e[b * DIGEST + i]))
        }))
    }
}

/// Why an op cannot be committed to.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpError {
    /// A token id with no balance (it would commit like a lower token with `b_new`).
    #[error("token {0}: tokens are 0 to {max}", max = TOKENS - 1)]
    Token(u8),
    /// An account index outside the tree (one of `p` or more would commit like a
    /// smaller one).
    #[error("{leg} {index}: account indices are below {CAPACITY} (2^24)")]
    Index {
        /// Which index.
        leg: &'static str,
        /// The index.
        index: u32,
    },
}

/// The public context of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// L2 chain id.
    pub chain_id: u64,
    /// Batch the segment belongs to.
    pub batch: u64,
    /// Position of the segment in its batch.
    pub segment: u32,
    /// Account the segment's fees are credited to.
    pub fee_account: u32,
}

impl SegmentHeader {
    /// The commitment's starting state.
    pub fn seed(&self) -> Digest {
        let limbs = |v: u64| u64_limbs(v).map(Val::from_u32);
        let mut first = [Val::ZERO; 16];
        first[..4].copy_from_slice(&limbs(self.chain_id));
        first[4..8].copy_from_slice(&limbs(self.batch));
        let state = truncate(&permute(first));
        let mut second = [Val::ZERO; 16];
        second[..2].copy_from_slice(&limbs(u64::from(self.segment))[..2]);
        second[2..4].copy_from_slice(&limbs(u64::from(self.fee_account))[..2]);
        second[4] = Val::from_u32(SEGMENT_VERSION);
        second[DIGEST..].copy_from_slice(&state);
        truncate(&permute(second))
    }
}

/// The permutation inputs of one op's commitment step from state `s`, in order
/// (three pairs, the second of each pair taking the first's output), and the state
/// after it.
pub fn commit_inputs(s: &Digest, op: &Op) -> Result<([[Val; 16]; COMMIT_BLOCKS], Digest), OpError> {
    let blocks = op.blocks()?;
    let mut inputs = [[Val::ZERO; 16]; COMMIT_BLOCKS];
    let mut state = *s;
    for (block, input) in blocks.iter().zip(inputs.iter_mut()) {
        input[..DIGEST].copy_from_slice(block);
        input[DIGEST..].copy_from_slice(&state);
        state = truncate(&permute(*input));
    }
    Ok((inputs, state))
}

/// The commitment to a segment's ops; refused if an op is out of range.
pub fn commitment(header: &SegmentHeader, ops: &[Op]) -> Result<Digest, OpError> {
    ops.iter()
        .try_fold(header.seed(), |s, op| Ok(commit_inputs(&s, op)?.1))
}

/// The AIR's public values: old root, new root, seed, commitment.
pub fn public_values(
    old_root: &Digest,
    new_root: &Digest,
    header: &SegmentHeader,
    ops: &[Op],
) -> Result<Vec<Val>, OpError> {
    Ok([
        *old_root,
        *new_root,
        header.seed(),
        commitment(header, ops)?,
    ]
    .concat())
}

/// One op with its two leaf updates (an inactive leg rewrites a leaf with itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpWitness {
    /// The op.
    pub op: Op,
    /// Sender leg.
    pub a: LeafUpdate,
    /// Receiver leg.
    pub b: LeafUpdate,
}

/// Everything the prover needs for one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentWitness {
    /// Public context.
    pub header: SegmentHeader,
    /// Root before.
    pub old_root: Digest,
    /// Root after.
    pub new_root: Digest,
    /// Exactly `slots` ops, the fee credit last.
    pub ops: Vec<OpWitness>,
}

impl SegmentWitness {
    /// The ops alone (what the L1 rebuilds).
    pub fn ops(&self) -> Vec<Op> {
        self.ops.iter().map(|o| o.op.clone()).collect()
    }

    /// The public values this witness proves (refused if an op is out of range).
    pub fn public_values(&self) -> Result<Vec<Val>, OpError> {
        public_values(&self.old_root, &self.new_root, &self.header, &self.ops())
    }
}

/// Why ops cannot form a segment. Nothing is changed when one is returned.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SegmentError {
    /// The slot count is not a power of two of at least 2.
    #[error("{0} slots: a segment needs a power of two, at least 2")]
    Slots(usize),
    /// More ops than slots (one slot is the fee credit).
    #[error("{ops} ops do not fit {slots} slots (one is kept for the fee credit)")]
    TooManyOps {
        /// Ops given.
        ops: usize,
        /// Slots.
        slots: usize,
    },
    /// An op field is not allowed for its kind.
    #[error(
        "op {0}: a field is set that its kind does not allow (amount, fee, token, b_new or a fee credit among user ops)"
    )]
    Malformed(usize),
    /// An index beyond the tree.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The leaf's key is not the op's.
    #[error("op {0}: the account's key is not the op's key")]
    KeyMismatch(usize),
    /// The op's nonce is not the sender's.
    #[error("op {op}: nonce {got}, the account expects {expected}")]
    Nonce {
        /// Op position.
        op: usize,
        /// Nonce in the op.
        got: u64,
        /// The sender's nonce.
        expected: u64,
    },
    /// The sender cannot pay.
    #[error("op {0}: insufficient balance")]
    InsufficientBalance(usize),
    /// A forced withdrawal marked whole leaves a balance behind.
    #[error("op {0}: a forced withdrawal of the whole balance leaves some of it")]
    NotWhole(usize),
    /// A balance, nonce or the fee total would pass its limit.
    #[error("op {0}: a balance, the nonce or the fee total would overflow")]
    Overflow(usize),
    /// `b_new` names a leaf that holds an account.
    #[error("op {0}: account creation into a leaf that is not empty")]
    AccountExists(usize),
    /// A leaf in the tree is not canonical (the tree was not built by segments).
    #[error("op {0}: a leaf in the tree is not canonical")]
    NonCanonicalLeaf(usize),
}

fn account_at(tree: &Tree, index: u32, op: usize) -> Result<Account, SegmentError> {
    Account::from_fields(&tree.leaf(index)).ok_or(SegmentError::NonCanonicalLeaf(op))
}

/// Applies `ops` and the closing fee credit to `tree`, padded with no-ops to
/// `slots`, and returns the witness. On error the tree is left as it was.
pub fn build_segment(
    tree: &mut Tree,
    header: SegmentHeader,
    ops: &[Op],
    slots: usize,
) -> Result<SegmentWitness, SegmentError> {
    if slots < 2 || !slots.is_power_of_two() {
        return Err(SegmentError::Slots(slots));
    }
    if ops.len() >= slots {
        return Err(SegmentError::TooManyOps {
            ops: ops.len(),
            slots,
        });
    }
    let old_root = tree.root();
    let mut undo: Vec<(u32, LeafFields)> = Vec::with_capacity(2 * slots);
    let result = apply_all(tree, header, ops, slots, &mut undo);
    if result.is_err() {
        for (index, leaf) in undo.into_iter().rev() {
            // The index was updated a moment ago, so it is inside the tree.
            let _ = tree.update(index, leaf);
        }
    }
    let ops = result?;
    Ok(SegmentWitness {
        header,
        old_root,
        new_root: tree.root(),
        ops,
    })
}

fn apply_all(
    tree: &mut Tree,
    header: SegmentHeader,
    ops: &[Op],
    slots: usize,
    undo: &mut Vec<(u32, LeafFields)>,
) -> Result<Vec<OpWitness>, SegmentError> {
    let mut out = Vec::with_capacity(slots);
    let mut total_fee = 0u128;
    let padding = slots - 1 - ops.len();
    let noop = Op::noop();
    for (i, op) in ops
        .iter()
        .chain(std::iter::repeat_n(&noop, padding))
        .enumerate()
    {
        if op.kind == OpKind::FeeCredit {
            return Err(SegmentError::Malformed(i));
        }
        total_fee = total_fee
            .checked_add(op.fee)
            .ok_or(SegmentError::Overflow(i))?;
        out.push(apply(tree, op, i, undo)?);
    }
    let credit = Op::fee_credit(header.fee_account, total_fee);
    out.push(apply(tree, &credit, slots - 1, undo)?);
    Ok(out)
}

fn check_shape(op: &Op, i: usize) -> Result<(), SegmentError> {
    let k = op.kind;
    let ok = usize::from(op.token) < TOKENS
        && (k.moves_amount() || op.amount == 0)
        && (k.has_sender() || op.fee == 0)
        && (k.binds_receiver_key() || k == OpKind::ForcedWithdraw || !op.b_new)
        && (k != OpKind::FeeCredit || op.token == 0)
        && (k != OpKind::ForcedWithdraw || op.b_index == 0)
        && (k != OpKind::ContractKey
            || (op.token == 0 && op.b_index == 0 && op.nonce == 0 && op.a_key != [0; 32]));
    if ok {
        Ok(())
    } else {
        Err(SegmentError::Malformed(i))
    }
}

fn apply(
    tree: &mut Tree,
    op: &Op,
    i: usize,
    undo: &mut Vec<(u32, LeafFields)>,
) -> Result<OpWitness, SegmentError> {
    check_shape(op, i)?;
    for index in [op.a_index, op.b_index] {
        if u64::from(index) >= CAPACITY {
            return Err(TreeError::IndexOutOfRange(index).into());
        }
    }
    let token = usize::from(op.token);
    let mut update = |tree: &mut Tree, index: u32, new: LeafFields| {
        undo.push((index, tree.leaf(index)));
        tree.update(index, new)
    };

    let a_new = if op.kind.has_sender() {
        let mut a = account_at(tree, op.a_index, i)?;
        if a.key != op.a_key {
            return Err(SegmentError::KeyMismatch(i));
        }
        if a.nonce != op.nonce {
            return Err(SegmentError::Nonce {
                op: i,
                got: op.nonce,
                expected: a.nonce,
            });
        }
        a.nonce = a.nonce.checked_add(1).ok_or(SegmentError::Overflow(i))?;
        let short = SegmentError::InsufficientBalance(i);
        a.balances[token] = a.balances[token]
            .checked_sub(op.amount)
            .ok_or(short.clone())?;
        a.balances[0] = a.balances[0].checked_sub(op.fee).ok_or(short)?;
        a.fields()
    } else if op.kind == OpKind::ForcedWithdraw {
        let mut a = account_at(tree, op.a_index, i)?;
        if a.key != op.a_key {
            return Err(SegmentError::KeyMismatch(i));
        }
        a.balances[token] = a.balances[token]
            .checked_sub(op.amount)
            .ok_or(SegmentError::InsufficientBalance(i))?;
        if op.b_new && a.balances[token] != 0 {
            return Err(SegmentError::NotWhole(i));
        }
        a.fields()
    } else if op.kind == OpKind::ContractKey {
        let mut a = account_at(tree, op.a_index, i)?;
        if a.key != op.a_key {
            return Err(SegmentError::KeyMismatch(i));
        }
        a.key = op.b_data;
        a.fields()
    } else {
        tree.leaf(op.a_index)
    };
    let a = update(tree, op.a_index, a_new)?;

    let b_new = if op.kind.has_receiver() {
        let old = tree.leaf(op.b_index);
        let mut b = if op.b_new {
            if old.iter().any(|v| *v != Val::ZERO) {
                return Err(SegmentError::AccountExists(i));
            }
            Account::new(op.b_data)
        } else {
            let b = account_at(tree, op.b_index, i)?;
            if op.kind.binds_receiver_key() && b.key != op.b_data {
                return Err(SegmentError::KeyMismatch(i));
            }
            b
        };
        b.balances[token] = b.balances[token]
            .checked_add(op.amount)
            .ok_or(SegmentError::Overflow(i))?;
        b.fields()
    } else {
        tree.leaf(op.b_index)
    };
    let b = update(tree, op.b_index, b_new)?;
    Ok(OpWitness {
        op: op.clone(),
        a,
        b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_key_op_changes_the_key_only_and_is_checked() {
        let key = |b: u8| [b; 32];
        let mut tree = Tree::new();
        let mut a = Account::new(key(7));
        a.balances = [5, 6, 7, 8];
        a.nonce = 3;
        tree.update(2, a.fields()).unwrap();
        let header = SegmentHeader {
            chain_id: 1,
            batch: 1,
            segment: 0,
            fee_account: 2,
        };
        let rekey = Op {
            kind: OpKind::ContractKey,
            a_index: 2,
            a_key: key(7),
            b_data: key(9),
            ..Op::noop()
        };
        let w = build_segment(&mut tree.clone(), header, std::slice::from_ref(&rekey), 2).unwrap();
        let after = Account::from_fields(&w.ops[0].a.new).unwrap();
        assert_eq!(after, Account { key: key(9), ..a });
        // Another old key, an empty account, or any amount, fee, nonce or receiver.
        let root = tree.root();
        for bad in [
            Op {
                a_key: key(8),
                ..rekey.clone()
            },
            Op {
                a_index: 3,
                a_key: [0; 32],
                ..rekey.clone()
            },
            Op {
                amount: 1,
                ..rekey.clone()
            },
            Op {
                fee: 1,
                ..rekey.clone()
            },
            Op {
                nonce: 3,
                ..rekey.clone()
            },
            Op {
                b_index: 1,
                ..rekey.clone()
            },
        ] {
            assert!(build_segment(&mut tree, header, &[bad], 2).is_err());
            assert_eq!(tree.root(), root, "a refused segment changes nothing");
        }
    }

    #[test]
    fn accounts_round_trip_through_leaves() {
        let account = Account {
            key: core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xa5),
            nonce: u64::MAX - 1,
            balances: [u128::MAX, 1, 0, 1 << 100],
        };
        assert_eq!(Account::from_fields(&account.fields()), Some(account));
        assert_eq!(
            Account::from_fields(&[Val::ZERO; LEAF_FIELDS]),
            Some(Account::new([0; 32]))
        );
        let mut bad = Account::new([1; 32]).fields();
        bad[3] = Val::from_u32(1 << 16);
        assert_eq!(Account::from_fields(&bad), None);
    }

    /// Before the range check, a token of 4 packed into the tag like `b_new` with
    /// token 0, and an index of `p + 1` reduced to 1: two different ops, one
    /// commitment. Now the out-of-range one is refused.
    #[test]
    fn out_of_range_ops_are_refused_not_aliased() {
        let header = SegmentHeader {
            chain_id: 1,
            batch: 2,
            segment: 0,
            fee_account: 0,
        };
        let created = Op {
            kind: OpKind::Transfer,
            token: 0,
            a_index: 1,
            a_key: [1; 32],
            b_index: 2,
            b_data: [2; 32],
            b_new: true,
            nonce: 0,
            amount: 5,
            fee: 1,
        };
        let token_4 = Op {
            token: 4,
            b_new: false,
            ..created.clone()
        };
        assert_eq!(token_4.tag(), created.tag());
        assert!(commitment(&header, std::slice::from_ref(&created)).is_ok());
        assert_eq!(commitment(&header, &[token_4]), Err(OpError::Token(4)));

        let p = <Val as PrimeField32>::ORDER_U32;
        let wrapped = Op {
            a_index: p + 1,
            ..created.clone()
        };
        assert_eq!(Val::from_u32(p + 1), Val::from_u32(created.a_index));
        assert_eq!(
            commitment(&header, &[created.clone(), wrapped]),
            Err(OpError::Index {
                leg: "a_index",
                index: p + 1
            })
        );
        let outside = Op {
            b_index: CAPACITY as u32,
            ..created
        };
        assert!(matches!(
            outside.blocks(),
            Err(OpError::Index { leg: "b_index", .. })
        ));
    }

    #[test]
    fn key_limbs_are_injective_and_canonical() {
        let mut key = [0u8; 32];
        key[31] = 0x80;
        let limbs = key_limbs(&key);
        assert_eq!(limbs[8], 1 << 15);
        assert!(limbs[..8].iter().all(|l| *l == 0));
        key[0] = 1;
        assert_eq!(key_limbs(&key)[0], 1);
    }
}
