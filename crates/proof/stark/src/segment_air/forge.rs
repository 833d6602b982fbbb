//! Trace forgery (feature `test-utils`): edit cells of a generated trace, then prove
//! with the real prover and verify with the real verifier.
//!
//! A bad witness fed to [`generate_trace`] gets its derived columns (carries,
//! flags, lanes, the commitment rows) rebuilt honestly, so a test that only forges
//! witnesses cannot show that a constraint is load-bearing. Here a test starts from
//! the trace of any witness (honest, or replayed with forged leaves so that paths
//! and roots agree), edits cells, and asks whether the result can still be made
//! into an accepted proof:
//!
//! ```text
//! witness ──► generate_trace ──► ForgedTrace ──edits──► (re)derive what the forger
//!                                  │                    would make consistent:
//!                                  │                    carries, lanes, permutation
//!                                  │                    rows, roots, commitment
//!                                  └──► check_all_constraints (where it breaks)
//!                                  └──► p3_uni_stark::prove ──► verify ──► Outcome
//! ```
//!
//! A forgery is *tight* when it breaks exactly the constraint it targets: then
//! deleting that constraint lets it prove, which is what the mutation check
//! (`scripts/stark_mutation_check.sh`) looks for.
//!
//! In a build with debug assertions (`cargo test`), Plonky3's prover first checks
//! every constraint on the trace and panics on a violation
//! ([`Outcome::ProverPanicked`]); without them (for example with
//! `--config 'profile.dev.package.p3-uni-stark.debug-assertions=false'`) it commits
//! to the trace, and the verifier refuses the proof ([`Outcome::Rejected`]). Either
//! way the trace does not become an accepted proof.

use std::collections::BTreeSet;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::GenericPoseidon2LinearLayersKoalaBear;
use p3_matrix::dense::RowMajorMatrix;

use super::air::SegmentAir;
use super::columns::{
    A_IDX, A_KEY, AMOUNT, B_AT, B_IDX, B_KEY, B_NEW, BIT, BOR, CARRIED_END, COMMIT, COMMIT_AT,
    COMMIT_ROWS, FEE, FEE_IN, FEE_OUT, FEE_ROW, FULL, HALF_FULL, IDLE_ROW, INDEX, K_CK, K_D, K_F,
    K_FC, K_FW, K_T, K_X, KIND, LANE_ACC, LANE_BIT, LANE_BITS, LANES, NEW, NEW_A_GCC, NEW_A_NONCE,
    NEW_A_TOK, NEW_B_TOK, NONCE, OH, OLD, OP_ROWS, OUT, PARTIAL, PERM_COLS, RC, ROOT, TOK_A, TOK_B,
    UPDATE_ROWS, WIDTH, WINDOWS, constants,
};
use super::generation::{TraceError, generate_trace};
use crate::config::{self, FriSettings, Val};
use crate::hash::{
    DIGEST, Digest, LEAF_BLOCKS, LeafFields, leaf_inputs, parent_input, permute, truncate,
};
use crate::segment::{BALANCE_LIMBS, KEY_LIMBS, NONCE_LIMBS, OpError, SegmentWitness, TOKENS};
use crate::tree::DEPTH;

/// The column layout, for tests that edit cells by name. Op columns (from [`KIND`]
/// to [`CARRIED_END`]) hold the same value on all of an op's rows.
pub mod col {
    pub use crate::segment_air::{AMOUNT, BOR, OP_ROWS, PERM_COLS, ROOT, WIDTH};
    /// The old-side permutation's columns; its input is the first 16.
    pub const OLD: usize = super::OLD;
    /// The new-side permutation's columns.
    pub const NEW: usize = super::NEW;
    /// Where a permutation's output sits within its columns.
    pub const OUT: usize = super::OUT;
    /// The path bit.
    pub const BIT: usize = super::BIT;
    /// The index accumulator.
    pub const INDEX: usize = super::INDEX;
    /// First op column.
    pub const KIND: usize = super::KIND;
    /// Kind flags: transfer, deposit, withdrawal, fee-only, fee credit, contract
    /// key, forced withdrawal.
    pub const K_T: usize = super::K_T;
    /// Deposit flag.
    pub const K_D: usize = super::K_D;
    /// Withdrawal flag.
    pub const K_X: usize = super::K_X;
    /// Fee-only flag.
    pub const K_F: usize = super::K_F;
    /// Fee-credit flag.
    pub const K_FC: usize = super::K_FC;
    /// Contract-key flag.
    pub const K_CK: usize = super::K_CK;
    /// Forced-withdrawal flag.
    pub const K_FW: usize = super::K_FW;
    /// Token one-hot (4 wide).
    pub const OH: usize = super::OH;
    /// Sender debit flags per token (`OH · (T + X + FW)`).
    pub const TOK_A: usize = super::TOK_A;
    /// Receiver credit flags per token (`OH · (T + D + FC)`).
    pub const TOK_B: usize = super::TOK_B;
    /// The op creates the receiver.
    pub const B_NEW: usize = super::B_NEW;
    /// A forced withdrawal of the whole balance.
    pub const FULL: usize = super::FULL;
    /// The op's sender index.
    pub const A_IDX: usize = super::A_IDX;
    /// The op's receiver index.
    pub const B_IDX: usize = super::B_IDX;
    /// The op's nonce limbs.
    pub const NONCE: usize = super::NONCE;
    /// The op's fee limbs.
    pub const FEE: usize = super::FEE;
    /// The op's sender key limbs.
    pub const A_KEY: usize = super::A_KEY;
    /// The op's receiver key limbs.
    pub const B_KEY: usize = super::B_KEY;
    /// The sender's new token balance limbs (range-checked).
    pub const NEW_A_TOK: usize = super::NEW_A_TOK;
    /// The sender's new GCC limbs (range-checked).
    pub const NEW_A_GCC: usize = super::NEW_A_GCC;
    /// The sender's new nonce limbs (range-checked).
    pub const NEW_A_NONCE: usize = super::NEW_A_NONCE;
    /// The receiver's new token balance limbs (range-checked).
    pub const NEW_B_TOK: usize = super::NEW_B_TOK;
    /// The fee total after the op (range-checked).
    pub const FEE_OUT: usize = super::FEE_OUT;
    /// The fee total before the op.
    pub const FEE_IN: usize = super::FEE_IN;
    /// The commitment state before the op.
    pub const COMMIT: usize = super::COMMIT;
    /// End of the op columns.
    pub const CARRIED_END: usize = super::CARRIED_END;
    /// First range-checked value (lane `L`, window `w` checks `RC + WINDOWS·L + w`).
    pub const RC: usize = super::RC;
    /// Range-check lane bits.
    pub const LANE_BIT: usize = super::LANE_BIT;
    /// Range-check lane accumulators.
    pub const LANE_ACC: usize = super::LANE_ACC;
    /// Lanes.
    pub const LANES: usize = super::LANES;
    /// Windows per op (each `LANE_BITS` rows).
    pub const WINDOWS: usize = super::WINDOWS;
    /// Bits per lane window.
    pub const LANE_BITS: usize = super::LANE_BITS;
}

/// Rows within an op (see the module docs of `segment_air`).
pub mod rows {
    /// Leg B's first row.
    pub const B_AT: usize = super::B_AT;
    /// Rows of one leaf update (6 sponge rows, 24 levels).
    pub const UPDATE_ROWS: usize = super::UPDATE_ROWS;
    /// The idle row.
    pub const IDLE_ROW: usize = super::IDLE_ROW;
    /// The first commitment row.
    pub const COMMIT_AT: usize = super::COMMIT_AT;
    /// The row whose carries add the fee to the running total.
    pub const FEE_ROW: usize = super::FEE_ROW;
}

/// Test FRI parameters: these tests check the constraints, not FRI.
pub const TEST_FRI: FriSettings = FriSettings {
    log_blowup: 1,
    num_queries: 8,
    query_pow_bits: 1,
};

/// A leaf update's leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// The sender leg (rows 0..30).
    A,
    /// The receiver leg (rows 30..60).
    B,
}

impl Leg {
    fn at(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => B_AT,
        }
    }
}

/// One of the two permutations of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The old leaf and path (and commitment blocks 2j).
    Old,
    /// The new leaf and path (and commitment blocks 2j+1).
    New,
}

impl Side {
    fn base(self) -> usize {
        match self {
            Self::Old => OLD,
            Self::New => NEW,
        }
    }
}

/// What became of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Proven and verified: the forgery went through.
    Accepted,
    /// The prover panicked (the debug constraint check, with debug assertions on).
    ProverPanicked(String),
    /// The prover returned an error.
    ProverFailed(String),
    /// Proven, but the verifier refused the proof.
    Rejected(String),
}

/// A trace and the public values it is proven against, open to edits.
#[derive(Clone)]
pub struct ForgedTrace {
    /// The trace (`ops · OP_ROWS` rows × `WIDTH`).
    pub trace: RowMajorMatrix<Val>,
    /// Old root, new root, seed, commitment.
    pub public: Vec<Val>,
}

/// Why a witness gives no trace to forge.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// See [`TraceError`].
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// See [`OpError`].
    #[error(transparent)]
    Op(#[from] OpError),
}

fn limb_vals<const N: usize>(limbs: [u32; N]) -> [Val; N] {
    limbs.map(Val::from_u32)
}

impl ForgedTrace {
    /// The honest trace of `witness` (which may itself be forged) and the public
    /// values it claims.
    pub fn new(witness: &SegmentWitness) -> Result<Self, ForgeError> {
        Ok(Self {
            trace: generate_trace(witness, TEST_FRI.log_blowup)?,
            public: witness.public_values()?,
        })
    }

    /// Ops in the trace.
    pub fn ops(&self) -> usize {
        self.trace.values.len() / WIDTH / OP_ROWS
    }

    /// The trace row of op `op`'s row `r`.
    pub fn row(op: usize, r: usize) -> usize {
        op * OP_ROWS + r
    }

    /// One cell.
    pub fn get(&self, row: usize, col: usize) -> Val {
        self.trace.values[row * WIDTH + col]
    }

    /// Sets one cell.
    pub fn set(&mut self, row: usize, col: usize, v: Val) {
        self.trace.values[row * WIDTH + col] = v;
    }

    /// An op column's value (its first row).
    pub fn get_op(&self, op: usize, col: usize) -> Val {
        self.get(Self::row(op, 0), col)
    }

    /// Sets an op column on all of the op's rows.
    pub fn set_op(&mut self, op: usize, col: usize, v: Val) {
        self.set_op_rows(op, 0..OP_ROWS, col, v);
    }

    /// Sets a column on rows `rows` of op `op` only.
    pub fn set_op_rows(&mut self, op: usize, rows: Range<usize>, col: usize, v: Val) {
        for r in rows {
            self.set(Self::row(op, r), col, v);
        }
    }

    /// Sets consecutive op columns from `col` to `values` on all of the op's rows.
    pub fn set_op_limbs(&mut self, op: usize, col: usize, values: &[Val]) {
        for (j, v) in values.iter().enumerate() {
            self.set_op(op, col + j, *v);
        }
    }

    /// Reads consecutive op columns.
    pub fn op_limbs(&self, op: usize, col: usize, n: usize) -> Vec<Val> {
        (0..n).map(|j| self.get_op(op, col + j)).collect()
    }

    /// Sets a 128-bit value's limbs into op columns.
    pub fn set_op_u128(&mut self, op: usize, col: usize, v: u128) {
        self.set_op_limbs(op, col, &limb_vals(crate::segment::u128_limbs(v)));
    }

    /// A permutation's input on `row`.
    pub fn perm_input(&self, row: usize, side: Side) -> [Val; 16] {
        core::array::from_fn(|i| self.get(row, side.base() + i))
    }

    /// A permutation's output on `row`.
    pub fn perm_output(&self, row: usize, side: Side) -> [Val; 16] {
        core::array::from_fn(|i| self.get(row, side.base() + OUT + i))
    }

    /// Rewrites the permutation columns of `side` from `first_row` on, one row per
    /// input, with honest Poseidon2 rows for those inputs.
    pub fn set_perm_inputs(&mut self, first_row: usize, side: Side, inputs: &[[Val; 16]]) {
        let mut padded = inputs.to_vec();
        padded.resize(inputs.len().next_power_of_two().max(1), [Val::ZERO; 16]);
        let rows = p3_poseidon2_air::generate_trace_rows::<
            _,
            GenericPoseidon2LinearLayersKoalaBear,
            16,
            { p3_koala_bear::KOALABEAR_S_BOX_DEGREE },
            0,
            HALF_FULL,
            PARTIAL,
        >(padded, &constants(), 0);
        for k in 0..inputs.len() {
            let at = (first_row + k) * WIDTH + side.base();
            self.trace.values[at..at + PERM_COLS]
                .copy_from_slice(&rows.values[k * PERM_COLS..(k + 1) * PERM_COLS]);
        }
    }

    /// The path bits of a leg, as the trace holds them.
    pub fn bits(&self, op: usize, leg: Leg) -> [Val; DEPTH] {
        core::array::from_fn(|h| self.get(Self::row(op, leg.at() + LEAF_BLOCKS + h), BIT))
    }

    /// The siblings of a leg's path, read from the old side's level inputs.
    pub fn siblings(&self, op: usize, leg: Leg) -> [Digest; DEPTH] {
        core::array::from_fn(|h| {
            let row = Self::row(op, leg.at() + LEAF_BLOCKS + h);
            let input = self.perm_input(row, Side::Old);
            let right = self.get(row, BIT) == Val::ONE;
            let at = if right { 0 } else { DIGEST };
            core::array::from_fn(|i| input[at + i])
        })
    }

    /// The leaf a side of a leg absorbs.
    pub fn leaf(&self, op: usize, leg: Leg, side: Side) -> LeafFields {
        core::array::from_fn(|f| {
            let row = Self::row(op, leg.at() + f / DIGEST);
            self.get(row, side.base() + f % DIGEST)
        })
    }

    /// Rewrites one side of a leg (leaf sponge and path) for `leaf`, `siblings` and
    /// boolean `bits`; returns the root it reaches.
    pub fn rehash_update(
        &mut self,
        op: usize,
        leg: Leg,
        side: Side,
        leaf: &LeafFields,
        siblings: &[Digest; DEPTH],
    ) -> Digest {
        let bits = self.bits(op, leg);
        let mut inputs: Vec<[Val; 16]> = leaf_inputs(leaf).to_vec();
        let mut cur = truncate(&permute(inputs[LEAF_BLOCKS - 1]));
        for (h, sibling) in siblings.iter().enumerate() {
            let input = parent_input(&cur, sibling, bits[h] == Val::ONE);
            inputs.push(input);
            cur = truncate(&permute(input));
        }
        self.set_perm_inputs(Self::row(op, leg.at()), side, &inputs);
        cur
    }

    /// Rewrites the new side of a leg for `leaf`, over the trace's own siblings.
    pub fn set_new_leaf(&mut self, op: usize, leg: Leg, leaf: &LeafFields) -> Digest {
        let siblings = self.siblings(op, leg);
        self.rehash_update(op, leg, Side::New, leaf, &siblings)
    }

    /// Solves the carry columns of op `op` from the cells around them, as a forger
    /// would: each carry is whatever makes its limb equation hold (so a forged
    /// value shows up as a carry outside {0, 1, 2}); carries no equation uses are 0.
    pub fn resolve_carries(&mut self, op: usize) {
        let inv_radix = Val::from_u32(1 << 16).inverse();
        for r in 0..OP_ROWS {
            let row = Self::row(op, r);
            let c = |col: usize| self.get(row, col);
            let old = |i: usize| self.get(row, OLD + i);
            let (t, x, f, fc) = (c(K_T), c(K_X), c(K_F), c(K_FC));
            // Each limb: bor_i = (lhs_i + cin_i) / 2^16, with cin_i = bor_{i-1}.
            let lhs: Option<Vec<Val>> = if r < TOKENS {
                let k = r;
                if k == 0 {
                    Some(
                        (0..BALANCE_LIMBS)
                            .map(|i| {
                                c(NEW_A_GCC + i) - old(i) + c(TOK_A) * c(AMOUNT + i) + c(FEE + i)
                            })
                            .collect(),
                    )
                } else if c(TOK_A + k) != Val::ZERO {
                    Some(
                        (0..BALANCE_LIMBS)
                            .map(|i| c(NEW_A_TOK + i) - old(i) + c(AMOUNT + i))
                            .collect(),
                    )
                } else {
                    None
                }
            } else if r == LEAF_BLOCKS - 1 {
                // The nonce: old + inc = new, carries negated (old + cin - bor·R = new).
                let inc = t + x + f;
                let mut bor = vec![Val::ZERO; BALANCE_LIMBS];
                let mut cin = inc;
                for (j, b) in bor.iter_mut().enumerate().take(NONCE_LIMBS) {
                    *b = (old(1 + j) + cin - c(NEW_A_NONCE + j)) * inv_radix;
                    cin = *b;
                }
                for (j, b) in bor.into_iter().enumerate() {
                    self.set(row, BOR + j, b);
                }
                continue;
            } else if r == FEE_ROW && Val::ONE - fc != Val::ZERO {
                Some(
                    (0..BALANCE_LIMBS)
                        .map(|i| -(c(FEE_IN + i) + c(FEE + i) - c(FEE_OUT + i)))
                        .collect(),
                )
            } else if (B_AT..B_AT + TOKENS).contains(&r) && c(TOK_B + r - B_AT) != Val::ZERO {
                Some(
                    (0..BALANCE_LIMBS)
                        .map(|i| -(old(i) + c(AMOUNT + i) - c(NEW_B_TOK + i)))
                        .collect(),
                )
            } else {
                None
            };
            let bor: Vec<Val> = match lhs {
                None => vec![Val::ZERO; BALANCE_LIMBS],
                Some(lhs) => {
                    // Debits: old - sub - cin + bor·R = new → bor = (new - old + sub + cin)/R.
                    // Credits and the fee total: in + add + cin - bor·R = out →
                    // bor = (in + add + cin - out)/R; `lhs` holds the negation of
                    // (in + add - out) there, so cin enters with the opposite sign.
                    let credit = r >= B_AT || r == FEE_ROW;
                    let mut out = Vec::with_capacity(BALANCE_LIMBS);
                    let mut cin = Val::ZERO;
                    for l in lhs {
                        let b = if credit {
                            (cin - l) * inv_radix
                        } else {
                            (l + cin) * inv_radix
                        };
                        out.push(b);
                        cin = b;
                    }
                    out
                }
            };
            for (j, b) in bor.into_iter().enumerate() {
                self.set(row, BOR + j, b);
            }
        }
    }

    /// Refills the range-check lanes of op `op` from the values they check (each
    /// read on its window's last row); a value of 2^16 or more leaves the lane at
    /// its low 16 bits, which the window-end constraint refuses.
    pub fn refill_lanes(&mut self, op: usize) {
        for lane in 0..LANES {
            for win in 0..WINDOWS {
                let end = Self::row(op, win * LANE_BITS + LANE_BITS - 1);
                let v = self.get(end, RC + WINDOWS * lane + win).as_canonical_u32();
                let mut acc = 0u32;
                for t in 0..LANE_BITS {
                    let bit = (v >> (LANE_BITS - 1 - t)) & 1;
                    acc = 2 * acc + bit;
                    let row = Self::row(op, win * LANE_BITS + t);
                    self.set(row, LANE_BIT + lane, Val::from_u32(bit));
                    self.set(row, LANE_ACC + lane, Val::from_u32(acc));
                }
            }
        }
    }

    /// Carries and lanes of op `op` ([`Self::resolve_carries`], [`Self::refill_lanes`]).
    pub fn settle(&mut self, op: usize) {
        self.resolve_carries(op);
        self.refill_lanes(op);
    }

    /// The six commitment blocks the AIR builds from op `op`'s columns.
    pub fn op_blocks(&self, op: usize) -> [[Val; DIGEST]; 6] {
        let c = |col: usize| self.get_op(op, col);
        let tag = c(K_T)
            + c(K_D).double()
            + c(K_X) * Val::from_u32(3)
            + c(K_F) * Val::from_u32(4)
            + c(K_FC) * Val::from_u32(5)
            + c(K_CK) * Val::from_u32(6)
            + c(K_FW) * Val::from_u32(7)
            + (c(OH + 1) + c(OH + 2).double() + c(OH + 3) * Val::from_u32(3)) * Val::from_u32(8)
            + (c(B_NEW) + c(FULL)) * Val::from_u32(32);
        let mut e = vec![tag, c(A_IDX), c(B_IDX)];
        e.extend((0..NONCE_LIMBS).map(|j| c(NONCE + j)));
        e.push(Val::ZERO);
        e.extend((0..BALANCE_LIMBS).map(|j| c(AMOUNT + j)));
        e.extend((0..BALANCE_LIMBS).map(|j| c(FEE + j)));
        e.extend((0..KEY_LIMBS).map(|j| c(A_KEY + j)));
        e.extend((0..KEY_LIMBS).map(|j| c(B_KEY + j)));
        e.resize(6 * DIGEST, Val::ZERO);
        core::array::from_fn(|b| core::array::from_fn(|i| e[b * DIGEST + i]))
    }

    /// Rewrites op `op`'s commitment rows to absorb `blocks` from state `from`;
    /// returns the state after.
    pub fn set_commit_rows(
        &mut self,
        op: usize,
        from: &Digest,
        blocks: &[[Val; DIGEST]; 6],
    ) -> Digest {
        let mut state = *from;
        let mut old = Vec::with_capacity(COMMIT_ROWS);
        let mut new = Vec::with_capacity(COMMIT_ROWS);
        for j in 0..COMMIT_ROWS {
            let mut a = [Val::ZERO; 16];
            a[..DIGEST].copy_from_slice(&blocks[2 * j]);
            a[DIGEST..].copy_from_slice(&state);
            state = truncate(&permute(a));
            let mut b = [Val::ZERO; 16];
            b[..DIGEST].copy_from_slice(&blocks[2 * j + 1]);
            b[DIGEST..].copy_from_slice(&state);
            state = truncate(&permute(b));
            old.push(a);
            new.push(b);
        }
        let first = Self::row(op, COMMIT_AT);
        self.set_perm_inputs(first, Side::Old, &old);
        self.set_perm_inputs(first, Side::New, &new);
        state
    }

    /// Rebuilds the commitment chain from op `from_op` on, from that op's `COMMIT`
    /// column and every op's columns; sets the public commitment to its end.
    pub fn recommit(&mut self, from_op: usize) {
        let mut state: Digest = core::array::from_fn(|i| self.get_op(from_op, COMMIT + i));
        for op in from_op..self.ops() {
            self.set_op_limbs(op, COMMIT, &state);
            let blocks = self.op_blocks(op);
            state = self.set_commit_rows(op, &state, &blocks);
        }
        self.public[3 * DIGEST..].copy_from_slice(&state);
    }

    /// Rebuilds the running root from the permutations' top rows (keeping the
    /// first row's root) and sets the public roots to the first and last.
    pub fn reroot(&mut self) {
        let mut root: Digest = core::array::from_fn(|i| self.get(0, ROOT + i));
        self.public[..DIGEST].copy_from_slice(&root);
        for op in 0..self.ops() {
            for (leg_at, until) in [(0, B_AT), (B_AT, IDLE_ROW), (IDLE_ROW, OP_ROWS)] {
                for r in leg_at..until {
                    for (i, v) in root.iter().enumerate() {
                        self.set(Self::row(op, r), ROOT + i, *v);
                    }
                }
                if until != OP_ROWS {
                    let top = self.perm_output(Self::row(op, until - 1), Side::New);
                    root = core::array::from_fn(|i| top[i]);
                }
            }
        }
        self.public[DIGEST..2 * DIGEST].copy_from_slice(&root);
    }

    /// The constraint failures `(row, constraint index)`, at most 256.
    pub fn failures(&self) -> Vec<(usize, usize)> {
        let report =
            p3_air::check_all_constraints(&SegmentAir::new(), &self.trace, &self.public, Some(256));
        report
            .failures
            .iter()
            .map(|f| (f.row, f.constraint))
            .collect()
    }

    /// The ops whose rows break a constraint.
    pub fn failing_ops(&self) -> BTreeSet<usize> {
        self.failures().iter().map(|(r, _)| r / OP_ROWS).collect()
    }

    /// Proves the trace with the real prover and verifies the proof with the real
    /// verifier, under [`TEST_FRI`].
    pub fn prove_and_verify(&self) -> Outcome {
        let config = config::config(TEST_FRI);
        let air = SegmentAir::new();
        let trace = self.trace.clone();
        let proved = catch_unwind(AssertUnwindSafe(|| {
            p3_uni_stark::prove(&config, &air, trace, &self.public)
        }));
        match proved {
            Err(panic) => Outcome::ProverPanicked(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect(),
            ),
            Ok(Err(e)) => Outcome::ProverFailed(format!("{e:?}")),
            Ok(Ok(proof)) => match p3_uni_stark::verify(&config, &air, &proof, &self.public) {
                Ok(()) => Outcome::Accepted,
                Err(e) => Outcome::Rejected(format!("{e:?}")),
            },
        }
    }

    /// The forgery breaks a constraint on op `op`'s rows and on no other op's (it
    /// is local), and no accepted proof comes of it.
    #[track_caller]
    pub fn assert_refused(&self, op: usize) {
        let failures = self.failures();
        let ops: BTreeSet<usize> = failures.iter().map(|(r, _)| r / OP_ROWS).collect();
        assert!(
            ops.contains(&op),
            "expected a failing constraint in op {op}; failures (row, constraint): {failures:?}"
        );
        let outcome = self.prove_and_verify();
        assert!(
            outcome != Outcome::Accepted,
            "the forged trace proved and verified"
        );
        assert!(
            ops.len() == 1,
            "failures outside op {op} (not a local forgery): {failures:?}"
        );
    }

    /// The trace satisfies the AIR and its proof verifies.
    #[track_caller]
    pub fn assert_accepted(&self) {
        let failures = self.failures();
        assert!(failures.is_empty(), "constraint failures: {failures:?}");
        assert_eq!(self.prove_and_verify(), Outcome::Accepted);
    }
}
