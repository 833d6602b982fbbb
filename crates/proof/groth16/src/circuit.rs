//! The chunk circuit (DESIGN §3.3): `CHUNK_OPS` op slots and one fee credit, proving
//! `old_accounts_root → new_accounts_root` for the ops committed to by `C`.
//!
//! Public inputs, in order: `old_root`, `new_root`, `C` (see [`crate::witness`]).
//!
//! Per slot the circuit checks:
//! - the kind flags are booleans and at most one is set; `amount` is zero unless the
//!   kind moves an amount, `fee` is zero unless the kind has a sender;
//! - `nonce` < 2^64, `amount` < 2^128, `fee` < 2^128, account indexes < 2^24 (so the
//!   packing into `C` is injective), and the slot's fields are absorbed into `C`;
//! - leg A (sender): the old leaf, whose key is the committed sender key, is a member
//!   of the running root; the committed nonce is the leaf's; the new leaf has nonce + 1,
//!   `amount` less of `token` and `fee` less GCC, both without underflow (128-bit
//!   range checks); the running root becomes the root with the new leaf;
//! - leg B (receiver): either the slot is empty and `b_new` is set (the old leaf is all
//!   zeros and hashes to the empty value 0), or the existing leaf's key is the committed
//!   receiver key; the new leaf gains `amount` of `token` without overflow;
//! - then, once per chunk, the fee account gains the sum of the slots' fees.
//!
//! A leg that a kind does not use is inactive: its membership check is multiplied
//! out and it leaves the running root as it was.

use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ghostplane_primitives::merkle::public_key_limbs;
use ghostplane_primitives::{ACCOUNT_TREE_DEPTH, AccountId, Fr};

use crate::gadgets::{PathLevel, alloc_bits, poseidon, range_check};
use ghostplane_proof_backend::{ChunkHeader, ChunkOp, OpKind};

use crate::witness::{ChunkWitness, LegWitness, SlotFields, SlotWitness, absorb, slot_elements};

/// Bits of an account index (4^12 = 2^24 leaves).
const INDEX_BITS: usize = 2 * ACCOUNT_TREE_DEPTH;

/// A leg's private values as field elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegAssignment {
    /// Leaf nonce before the update.
    pub nonce: Fr,
    /// Leaf balances before the update.
    pub balances: [Fr; 4],
    /// Path siblings, leaf level first.
    pub siblings: [[Fr; 3]; ACCOUNT_TREE_DEPTH],
}

impl LegAssignment {
    /// From a typed leg.
    pub fn from_leg(leg: &LegWitness) -> Self {
        Self {
            nonce: Fr::from(leg.leaf.nonce),
            balances: leg.leaf.balances.map(Fr::from),
            siblings: leg.siblings.map(|level| level.map(|s| s.to_fr())),
        }
    }
}

/// One slot's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotAssignment {
    /// Public fields (absorbed into `C`).
    pub fields: SlotFields,
    /// Sender leg.
    pub a: LegAssignment,
    /// Receiver leg.
    pub b: LegAssignment,
}

/// Every value the circuit allocates, as field elements. Built from a
/// [`ChunkWitness`] for real proofs; tests build dishonest ones directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Public input: accounts root before.
    pub old_root: Fr,
    /// Public input: accounts root after.
    pub new_root: Fr,
    /// Public input: `C`.
    pub commitment: Fr,
    /// Header: chain id, batch, chunk index.
    pub header: [Fr; 3],
    /// Header: fee account index.
    pub fee_account: u64,
    /// Fee account key limbs.
    pub fee_key: [Fr; 2],
    /// Fee account leg.
    pub fee: LegAssignment,
    /// The slots.
    pub slots: Vec<SlotAssignment>,
}

impl Assignment {
    /// The honest assignment of a chunk witness.
    pub fn from_witness(w: &ChunkWitness) -> Self {
        let [old_root, new_root, commitment] = w.public_inputs();
        let (fee_hi, fee_lo) = public_key_limbs(&w.fee.leaf.public_key);
        Self {
            old_root,
            new_root,
            commitment,
            header: [
                Fr::from(w.header.chain_id.0),
                Fr::from(w.header.batch.0),
                Fr::from(u64::from(w.header.chunk_index)),
            ],
            fee_account: w.header.fee_account.index() as u64,
            fee_key: [fee_hi, fee_lo],
            fee: LegAssignment::from_leg(&w.fee),
            slots: w
                .slots
                .iter()
                .map(|slot| SlotAssignment {
                    fields: SlotFields::of(&slot.op),
                    a: LegAssignment::from_leg(&slot.a),
                    b: LegAssignment::from_leg(&slot.b),
                })
                .collect(),
        }
    }

    /// `C` recomputed from the assignment's own fields.
    pub fn recompute_commitment(&self) -> Fr {
        let seed = ghostplane_primitives::poseidon::poseidon_n(&[
            self.header[0],
            self.header[1],
            self.header[2],
            Fr::from(self.fee_account),
        ]);
        self.slots
            .iter()
            .fold(seed, |acc, s| absorb(acc, &slot_elements(&s.fields)))
    }
}

/// The circuit for one chunk. Its shape depends only on the number of slots.
#[derive(Debug, Clone)]
pub struct ChunkCircuit {
    /// The values to prove with (for key generation any assignment of the right size
    /// will do).
    pub assignment: Assignment,
}

impl ChunkCircuit {
    /// The circuit proving `witness`.
    pub fn new(witness: &ChunkWitness) -> Self {
        Self {
            assignment: Assignment::from_witness(witness),
        }
    }

    /// A circuit of `chunk_ops` empty slots, for key generation and counting.
    pub fn blank(chunk_ops: usize) -> Self {
        Self::new(&ChunkWitness {
            header: ChunkHeader {
                chain_id: ghostplane_primitives::ChainId(0),
                batch: ghostplane_primitives::BatchNumber(0),
                chunk_index: 0,
                fee_account: AccountId::ZERO,
            },
            old_root: ghostplane_primitives::FieldBytes::ZERO,
            new_root: ghostplane_primitives::FieldBytes::ZERO,
            slots: (0..chunk_ops)
                .map(|_| SlotWitness {
                    op: ChunkOp::noop(),
                    a: LegWitness::inactive(),
                    b: LegWitness::inactive(),
                })
                .collect(),
            fee: LegWitness::inactive(),
        })
    }
}

fn witness(cs: &ConstraintSystemRef<Fr>, value: Fr) -> Result<FpVar<Fr>, SynthesisError> {
    FpVar::new_witness(cs.clone(), || Ok(value))
}

fn flag(cs: &ConstraintSystemRef<Fr>, value: bool) -> Result<FpVar<Fr>, SynthesisError> {
    Ok(FpVar::from(Boolean::new_witness(cs.clone(), || Ok(value))?))
}

fn pow2(bits: u32) -> Fr {
    let mut w = Fr::from(1u64);
    for _ in 0..bits {
        w += w;
    }
    w
}

/// Enforces `a * b == 0`.
fn enforce_zero_product(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<(), SynthesisError> {
    a.mul_equals(b, &FpVar::Constant(Fr::from(0u64)))
}

/// A leaf's fields as circuit variables (the key limbs are passed in, shared with `C`).
struct LeafVars {
    key: [FpVar<Fr>; 2],
    nonce: FpVar<Fr>,
    balances: [FpVar<Fr>; 4],
}

impl LeafVars {
    fn alloc(
        cs: &ConstraintSystemRef<Fr>,
        key: [FpVar<Fr>; 2],
        leg: &LegAssignment,
    ) -> Result<Self, SynthesisError> {
        let nonce = witness(cs, leg.nonce)?;
        let mut balances = Vec::with_capacity(4);
        for b in leg.balances {
            balances.push(witness(cs, b)?);
        }
        let balances: [FpVar<Fr>; 4] = balances
            .try_into()
            .map_err(|_| SynthesisError::Unsatisfiable)?;
        Ok(Self {
            key,
            nonce,
            balances,
        })
    }

    fn hash(&self) -> Result<FpVar<Fr>, SynthesisError> {
        hash_leaf(&self.key, &self.nonce, &self.balances)
    }
}

fn hash_leaf(
    key: &[FpVar<Fr>; 2],
    nonce: &FpVar<Fr>,
    balances: &[FpVar<Fr>; 4],
) -> Result<FpVar<Fr>, SynthesisError> {
    poseidon(&[
        key[0].clone(),
        key[1].clone(),
        nonce.clone(),
        balances[0].clone(),
        balances[1].clone(),
        balances[2].clone(),
        balances[3].clone(),
    ])
}

/// The 12 levels of a path, from the index bits and the leg's siblings.
fn path(
    cs: &ConstraintSystemRef<Fr>,
    bits: &[Boolean<Fr>],
    leg: &LegAssignment,
) -> Result<Vec<PathLevel>, SynthesisError> {
    let mut levels = Vec::with_capacity(ACCOUNT_TREE_DEPTH);
    for (height, siblings) in leg.siblings.iter().enumerate() {
        let s = [
            witness(cs, siblings[0])?,
            witness(cs, siblings[1])?,
            witness(cs, siblings[2])?,
        ];
        levels.push(PathLevel::new(&bits[2 * height], &bits[2 * height + 1], s)?);
    }
    Ok(levels)
}

fn root_of(levels: &[PathLevel], leaf: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let mut current = leaf.clone();
    for level in levels {
        current = level.parent(&current)?;
    }
    Ok(current)
}

/// `if active { new } else { old }` (one constraint).
fn select(active: &FpVar<Fr>, new: &FpVar<Fr>, old: &FpVar<Fr>) -> FpVar<Fr> {
    old + active * (new - old)
}

fn key_limbs(
    cs: &ConstraintSystemRef<Fr>,
    limbs: [Fr; 2],
) -> Result<[FpVar<Fr>; 2], SynthesisError> {
    Ok([witness(cs, limbs[0])?, witness(cs, limbs[1])?])
}

impl ConstraintSynthesizer<Fr> for ChunkCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let w = self.assignment;
        let old_root = FpVar::new_input(cs.clone(), || Ok(w.old_root))?;
        let new_root = FpVar::new_input(cs.clone(), || Ok(w.new_root))?;
        let commitment = FpVar::new_input(cs.clone(), || Ok(w.commitment))?;

        let chain = witness(&cs, w.header[0])?;
        let batch = witness(&cs, w.header[1])?;
        let chunk_index = witness(&cs, w.header[2])?;
        let (fee_bits, fee_index) = alloc_bits(&cs, w.fee_account, INDEX_BITS)?;
        let mut acc = poseidon(&[chain, batch, chunk_index, fee_index])?;

        let one = FpVar::Constant(Fr::from(1u64));
        let mut root = old_root;
        let mut fees: Vec<FpVar<Fr>> = Vec::with_capacity(w.slots.len());

        for slot in &w.slots {
            let op = &slot.fields;
            // Kind flags: booleans, at most one set.
            let t = flag(&cs, op.kind == OpKind::Transfer)?;
            let d = flag(&cs, op.kind == OpKind::Deposit)?;
            let x = flag(&cs, op.kind == OpKind::Withdraw)?;
            let f = flag(&cs, op.kind == OpKind::FeeOnly)?;
            let any = &t + &d + &x + &f;
            enforce_zero_product(&any, &(&any - &one))?;
            let kind = &t + &d * Fr::from(2u64) + &x * Fr::from(3u64) + &f * Fr::from(4u64);
            let has_a = &t + &x + &f;
            let has_b = &t + &d;
            let moves = &t + &d + &x;

            let (token_bits, token) = alloc_bits(&cs, u64::from(op.token), 2)?;
            let both = FpVar::from(&token_bits[0] & &token_bits[1]);
            let b0 = FpVar::from(token_bits[0].clone());
            let b1 = FpVar::from(token_bits[1].clone());
            let selector = [
                &one - &b0 - &b1 + &both,
                &b0 - &both,
                &b1 - &both,
                both.clone(),
            ];

            let nonce = witness(&cs, op.nonce)?;
            range_check(&cs, &nonce, 64)?;
            let amount = witness(&cs, op.amount)?;
            range_check(&cs, &amount, 128)?;
            let fee = witness(&cs, op.fee)?;
            range_check(&cs, &fee, 128)?;
            enforce_zero_product(&amount, &(&one - &moves))?;
            enforce_zero_product(&fee, &(&one - &has_a))?;

            let (a_bits, a_index) = alloc_bits(&cs, op.a_index, INDEX_BITS)?;
            let (b_bits, b_index) = alloc_bits(&cs, op.b_index, INDEX_BITS)?;
            let b_new = flag(&cs, op.b_new)?;
            enforce_zero_product(&b_new, &(&one - &has_b))?;
            let a_key = key_limbs(&cs, op.a_key)?;
            let b_key = key_limbs(&cs, op.b_key)?;

            let e1 = &kind + &token * pow2(3) + &nonce * pow2(5) + &amount * pow2(69);
            let e2 = &fee + &a_index * pow2(128) + &b_index * pow2(152) + &b_new * pow2(176);
            acc = poseidon(&[
                acc,
                e1,
                e2,
                a_key[0].clone(),
                a_key[1].clone(),
                b_key[0].clone(),
                b_key[1].clone(),
            ])?;

            // amount split by token (shared by both legs).
            let moved: Vec<FpVar<Fr>> = selector.iter().map(|s| s * &amount).collect();

            // Leg A: the sender.
            let a = LeafVars::alloc(&cs, a_key, &slot.a)?;
            enforce_zero_product(&has_a, &(&nonce - &a.nonce))?;
            let levels = path(&cs, &a_bits, &slot.a)?;
            let computed = root_of(&levels, &a.hash()?)?;
            enforce_zero_product(&has_a, &(&computed - &root))?;
            let token_before: FpVar<Fr> = selector
                .iter()
                .zip(&a.balances)
                .map(|(s, b)| s * b)
                .sum::<FpVar<Fr>>();
            range_check(&cs, &(&has_a * (&token_before - &amount)), 128)?;
            let mut balances: [FpVar<Fr>; 4] = [0, 1, 2, 3].map(|i| &a.balances[i] - &moved[i]);
            balances[0] = &balances[0] - &fee;
            range_check(&cs, &(&has_a * &balances[0]), 128)?;
            let new_leaf = hash_leaf(&a.key, &(&a.nonce + &one), &balances)?;
            let computed = root_of(&levels, &new_leaf)?;
            root = select(&has_a, &computed, &root);

            // Leg B: the receiver.
            let b = LeafVars::alloc(&cs, b_key, &slot.b)?;
            enforce_zero_product(&b_new, &b.nonce)?;
            for balance in &b.balances {
                enforce_zero_product(&b_new, balance)?;
            }
            let levels = path(&cs, &b_bits, &slot.b)?;
            let old_leaf = b.hash()? * (&one - &b_new);
            let computed = root_of(&levels, &old_leaf)?;
            enforce_zero_product(&has_b, &(&computed - &root))?;
            let token_before: FpVar<Fr> = selector
                .iter()
                .zip(&b.balances)
                .map(|(s, bal)| s * bal)
                .sum::<FpVar<Fr>>();
            range_check(&cs, &(&has_b * (&token_before + &amount)), 128)?;
            let balances: [FpVar<Fr>; 4] = [0, 1, 2, 3].map(|i| &b.balances[i] + &moved[i]);
            let new_leaf = hash_leaf(&b.key, &b.nonce, &balances)?;
            let computed = root_of(&levels, &new_leaf)?;
            root = select(&has_b, &computed, &root);

            fees.push(fee);
        }

        // The fee credit, once per chunk.
        let fee_total: FpVar<Fr> = fees.iter().sum();
        let fee_key = key_limbs(&cs, w.fee_key)?;
        let account = LeafVars::alloc(&cs, fee_key, &w.fee)?;
        let levels = path(&cs, &fee_bits, &w.fee)?;
        root_of(&levels, &account.hash()?)?.enforce_equal(&root)?;
        let mut balances = account.balances.clone();
        balances[0] = &balances[0] + &fee_total;
        range_check(&cs, &balances[0], 128)?;
        let new_leaf = hash_leaf(&account.key, &account.nonce, &balances)?;
        root_of(&levels, &new_leaf)?.enforce_equal(&new_root)?;
        acc.enforce_equal(&commitment)?;
        Ok(())
    }
}

/// Constraint counts of a circuit shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitShape {
    /// Op slots.
    pub chunk_ops: usize,
    /// R1CS constraints.
    pub constraints: usize,
    /// Public inputs (without the constant one).
    pub public_inputs: usize,
    /// Witness variables.
    pub witnesses: usize,
}

impl CircuitShape {
    /// Synthesizes a blank circuit of `chunk_ops` slots and counts it.
    pub fn measure(chunk_ops: usize) -> Result<Self, SynthesisError> {
        without_tracing(|| Self::measure_inner(chunk_ops))
    }

    fn measure_inner(chunk_ops: usize) -> Result<Self, SynthesisError> {
        let cs = ark_relations::gr1cs::ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(ark_relations::gr1cs::OptimizationGoal::Constraints);
        ChunkCircuit::blank(chunk_ops).generate_constraints(cs.clone())?;
        cs.finalize();
        Ok(Self {
            chunk_ops,
            constraints: cs.num_constraints(),
            public_inputs: cs.num_instance_variables().saturating_sub(1),
            witnesses: cs.num_witness_variables(),
        })
    }

    /// Constraints one op slot adds (measured as the difference of two shapes).
    pub fn constraints_per_op() -> Result<usize, SynthesisError> {
        let one = Self::measure(1)?;
        let two = Self::measure(2)?;
        Ok(two.constraints - one.constraints)
    }

    /// The circuit identity workers and coordinator compare: blake3 over the circuit
    /// version and the shape.
    pub fn circuit_hash(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(CIRCUIT_VERSION.as_bytes());
        for v in [
            self.chunk_ops,
            self.constraints,
            self.public_inputs,
            self.witnesses,
        ] {
            h.update(&(v as u64).to_le_bytes());
        }
        *h.finalize().as_bytes()
    }
}

/// Runs `f` with no tracing subscriber on this thread.
///
/// arkworks' gadgets open a tracing span per namespace and leak it on purpose; under
/// a real subscriber (the CLI's) every span stays registered and synthesis of a
/// 25k-constraint circuit grows by gigabytes. Synthesis therefore runs untraced.
pub fn without_tracing<T>(f: impl FnOnce() -> T) -> T {
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), f)
}

/// Bumped whenever the statement changes.
pub const CIRCUIT_VERSION: &str = "ghostplane/chunk-circuit/v1";
