//! The segment AIR: proves that a segment's ops, committed to by the public
//! commitment, move the account tree from the public old root to the public new
//! root, under the rules of [`crate::segment`].
//!
//! # Rows
//!
//! Every row holds two Poseidon2 permutations side by side (`OLD`, `NEW`), the path
//! bit, the running root and the index accumulator, the op's columns (constant over
//! the op's rows), 8 carry columns and 9 range-check lanes. An op takes
//! [`OP_ROWS`] = 64 rows on a fixed schedule given by periodic selectors:
//!
//! ```text
//! rows  0..6    leg A (sender, or the inactive leg) leaf sponge: OLD absorbs the old
//!               leaf, NEW the new leaf, block r = leaf block r
//! rows  6..30   leg A tree levels 0..23: OLD and NEW hash the same sibling
//! rows 30..36   leg B (receiver) leaf sponge
//! rows 36..60   leg B tree levels
//! row  60       idle
//! rows 61..64   commitment: OLD absorbs op block 2j, NEW block 2j+1
//! ```
//!
//! # What the constraints say
//!
//! - Kind flags are booleans, at most one set; the token is one-hot.
//! - Leg A (transfer, withdrawal, fee-only): the old leaf's key and nonce are the
//!   op's; the new nonce is old + 1; the token balance loses `amount` and GCC loses
//!   `fee`, limb by limb with carries in {0, 1, 2}, no borrow out of the top limb;
//!   every other cell is unchanged. An inactive leg A changes nothing.
//! - Leg B (transfer, deposit, fee credit): the token balance gains `amount`, no carry
//!   out of the top limb; with `b_new` the old leaf is all zeros and the new key is
//!   `b_data`; otherwise the key is unchanged and, for transfers and deposits, is
//!   `b_data`. An inactive leg B changes nothing.
//! - The leg's path index is the op's `a_index` / `b_index`.
//! - `amount` is zero for no-ops and fee-only ops, `fee` is zero without a sender;
//!   the running fee total (limbs, carried) gains each op's fee, a fee credit moves
//!   exactly the total and resets it, and the total is zero at the end.
//! - Every new balance limb, new nonce limb and fee-total limb is in [0, 2^16): each
//!   is shifted out of a lane over 16 rows, one bit per row.
//! - The commitment chain absorbs the op's six blocks, built from the op columns.
//!
//! Public values: old root, new root, seed, commitment (8 elements each). A segment
//! has at least 2 ops (the constraint degree is 3 only from 128 rows on).

use std::borrow::Cow;

use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::{
    GenericPoseidon2LinearLayersKoalaBear, KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS,
    KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16, KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL, KOALABEAR_POSEIDON2_RC_16_INTERNAL,
    KOALABEAR_S_BOX_DEGREE,
};
use p3_matrix::Matrix;
use p3_matrix::dense::RowMajorMatrix;
use p3_maybe_rayon::prelude::*;
use p3_poseidon2_air::{Poseidon2Air, RoundConstants, generate_trace_rows, num_cols};
use p3_uni_stark::SubAirBuilder;

#[cfg(feature = "test-utils")]
pub mod forge;

use crate::config::Val;
use crate::hash::{
    DIGEST, Digest, LEAF_BLOCKS, LeafFields, leaf_inputs, parent_input, permute, truncate,
};
use crate::segment::{
    BALANCE_LIMBS, KEY_LIMBS, NONCE_LIMBS, OpError, OpKind, OpWitness, SegmentWitness, TOKENS,
    commit_inputs, key_limbs, u64_limbs, u128_limbs,
};
use crate::tree::{CAPACITY, DEPTH, LeafUpdate};

const HALF_FULL: usize = KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS;
const PARTIAL: usize = KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16;

type Constants = RoundConstants<Val, 16, HALF_FULL, PARTIAL>;
type PermAir = Poseidon2Air<
    Val,
    GenericPoseidon2LinearLayersKoalaBear,
    16,
    KOALABEAR_S_BOX_DEGREE,
    0,
    HALF_FULL,
    PARTIAL,
>;

/// Columns of one Poseidon2 permutation.
pub const PERM_COLS: usize = num_cols::<16, KOALABEAR_S_BOX_DEGREE, 0, HALF_FULL, PARTIAL>();
/// Rows of one leaf update: the leaf sponge, then one per tree level.
pub const UPDATE_ROWS: usize = LEAF_BLOCKS + DEPTH;
/// Rows per op.
pub const OP_ROWS: usize = 64;
const B_AT: usize = UPDATE_ROWS;
const IDLE_ROW: usize = 2 * UPDATE_ROWS;
const COMMIT_AT: usize = IDLE_ROW + 1;
const COMMIT_ROWS: usize = 3;
const _: () = assert!(COMMIT_AT + COMMIT_ROWS == OP_ROWS);
const FEE_ROW: usize = LEAF_BLOCKS;
const LANE_BITS: usize = 16;
const WINDOWS: usize = OP_ROWS / LANE_BITS;

// Column layout.
const OLD: usize = 0;
const NEW: usize = PERM_COLS;
const BIT: usize = 2 * PERM_COLS;
/// The running-root column (8 wide).
pub const ROOT: usize = BIT + 1;
const INDEX: usize = ROOT + DIGEST;
/// First op column: everything from here to `CARRIED_END` is constant within an op.
const KIND: usize = INDEX + 1; // T, D, X, F, FC
const K_T: usize = KIND;
const K_D: usize = KIND + 1;
const K_X: usize = KIND + 2;
const K_F: usize = KIND + 3;
const K_FC: usize = KIND + 4;
const OH: usize = KIND + 5;
const TOK_A: usize = OH + TOKENS;
const TOK_B: usize = TOK_A + TOKENS;
const B_NEW: usize = TOK_B + TOKENS;
const A_IDX: usize = B_NEW + 1;
const B_IDX: usize = A_IDX + 1;
const NONCE: usize = B_IDX + 1;
/// The op's amount limbs (8 wide).
pub const AMOUNT: usize = NONCE + NONCE_LIMBS;
const FEE: usize = AMOUNT + BALANCE_LIMBS;
const A_KEY: usize = FEE + BALANCE_LIMBS;
const B_KEY: usize = A_KEY + KEY_LIMBS;
/// The range-checked values, in lane order.
const RC: usize = B_KEY + KEY_LIMBS;
const NEW_A_TOK: usize = RC;
const NEW_A_GCC: usize = NEW_A_TOK + BALANCE_LIMBS;
const NEW_A_NONCE: usize = NEW_A_GCC + BALANCE_LIMBS;
const NEW_B_TOK: usize = NEW_A_NONCE + NONCE_LIMBS;
const FEE_OUT: usize = NEW_B_TOK + BALANCE_LIMBS;
const RC_VALUES: usize = FEE_OUT + BALANCE_LIMBS - RC;
const FEE_IN: usize = FEE_OUT + BALANCE_LIMBS;
const COMMIT: usize = FEE_IN + BALANCE_LIMBS;
const CARRIED_END: usize = COMMIT + DIGEST;
/// The carry columns (8 wide).
pub const BOR: usize = CARRIED_END;
const LANES: usize = RC_VALUES / WINDOWS;
const _: () = assert!(LANES * WINDOWS == RC_VALUES);
const LANE_BIT: usize = BOR + BALANCE_LIMBS;
const LANE_ACC: usize = LANE_BIT + LANES;
/// Trace width.
pub const WIDTH: usize = LANE_ACC + LANES;
/// Where a permutation's output sits within its columns.
const OUT: usize = PERM_COLS - 16;

/// Public values: old root, new root, seed, commitment.
pub const PUBLIC_VALUES: usize = 4 * DIGEST;

/// Periodic selectors, each of period [`OP_ROWS`].
#[derive(Clone, Copy)]
enum Sel {
    FirstBlock,
    Absorb,
    Chain,
    Level,
    Top,
    IndexStep,
    Pow2Next,
    FirstLevel,
    ATop,
    BTop,
    FeeRow,
    CommitFirst,
    CommitChain,
    Commit,
    OpLast,
    WinStart,
    WinStep,
    ALeaf0,
    BLeaf0 = Sel::ALeaf0 as isize + LEAF_BLOCKS as isize,
    Commit0 = Sel::BLeaf0 as isize + LEAF_BLOCKS as isize,
    WinEnd0 = Sel::Commit0 as isize + COMMIT_ROWS as isize,
    Count = Sel::WinEnd0 as isize + WINDOWS as isize,
}

fn periodic_columns() -> Vec<Vec<Val>> {
    let mut cols = vec![vec![Val::ZERO; OP_ROWS]; Sel::Count as usize];
    let mut set = |sel: usize, row: usize, v: Val| cols[sel][row] = v;
    let last = UPDATE_ROWS - 1;
    for (leg, at) in [(0usize, 0usize), (1, B_AT)] {
        for u in 0..UPDATE_ROWS {
            let r = at + u;
            let one = Val::ONE;
            if u == 0 {
                set(Sel::FirstBlock as usize, r, one);
            }
            if u + 1 < LEAF_BLOCKS {
                set(Sel::Absorb as usize, r, one);
            }
            if u + 1 >= LEAF_BLOCKS && u < last {
                set(Sel::Chain as usize, r, one);
            }
            if u >= LEAF_BLOCKS {
                set(Sel::Level as usize, r, one);
            }
            if u == last {
                set(Sel::Top as usize, r, one);
                set(
                    if leg == 0 { Sel::ATop } else { Sel::BTop } as usize,
                    r,
                    one,
                );
            }
            if u >= LEAF_BLOCKS && u < last {
                set(Sel::IndexStep as usize, r, one);
                set(
                    Sel::Pow2Next as usize,
                    r,
                    Val::from_u32(1 << (u - LEAF_BLOCKS + 1)),
                );
            }
            if u == LEAF_BLOCKS {
                set(Sel::FirstLevel as usize, r, one);
            }
            if u < LEAF_BLOCKS {
                let base = if leg == 0 { Sel::ALeaf0 } else { Sel::BLeaf0 } as usize;
                set(base + u, r, one);
            }
        }
    }
    set(Sel::FeeRow as usize, FEE_ROW, Val::ONE);
    set(Sel::CommitFirst as usize, COMMIT_AT, Val::ONE);
    for j in 0..COMMIT_ROWS {
        set(Sel::Commit as usize, COMMIT_AT + j, Val::ONE);
        set(Sel::Commit0 as usize + j, COMMIT_AT + j, Val::ONE);
        if j + 1 < COMMIT_ROWS {
            set(Sel::CommitChain as usize, COMMIT_AT + j, Val::ONE);
        }
    }
    set(Sel::OpLast as usize, OP_ROWS - 1, Val::ONE);
    for r in 0..OP_ROWS {
        if r % LANE_BITS == 0 {
            set(Sel::WinStart as usize, r, Val::ONE);
        }
        if r % LANE_BITS != LANE_BITS - 1 {
            set(Sel::WinStep as usize, r, Val::ONE);
        } else {
            set(Sel::WinEnd0 as usize + r / LANE_BITS, r, Val::ONE);
        }
    }
    cols
}

fn constants() -> Constants {
    RoundConstants::new(
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL,
        KOALABEAR_POSEIDON2_RC_16_INTERNAL,
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    )
}

/// The AIR.
pub struct SegmentAir {
    perm: PermAir,
    periodic: Vec<Vec<Val>>,
}

impl Default for SegmentAir {
    fn default() -> Self {
        Self::new()
    }
}

impl SegmentAir {
    /// The AIR with the canonical Poseidon2 constants.
    pub fn new() -> Self {
        Self {
            perm: PermAir::new(constants()),
            periodic: periodic_columns(),
        }
    }
}

impl BaseAir<Val> for SegmentAir {
    fn width(&self) -> usize {
        WIDTH
    }

    fn num_public_values(&self) -> usize {
        PUBLIC_VALUES
    }

    fn num_periodic_columns(&self) -> usize {
        self.periodic.len()
    }

    fn periodic_columns(&self) -> Cow<'_, [Vec<Val>]> {
        Cow::Borrowed(&self.periodic)
    }

    fn max_constraint_degree(&self) -> Option<usize> {
        Some(3)
    }
}

/// 2^16 as a field element.
fn radix<E: PrimeCharacteristicRing>() -> E {
    E::from_u32(1 << 16)
}

impl<AB: AirBuilder<F = Val>> Air<AB> for SegmentAir {
    #[allow(clippy::too_many_lines)]
    fn eval(&self, builder: &mut AB) {
        for base in [OLD, NEW] {
            self.perm
                .eval(&mut SubAirBuilder::<AB, PermAir, AB::Var>::new(
                    builder,
                    base..base + PERM_COLS,
                ));
        }
        let main = builder.main();
        let local = main.current_slice();
        let next = main.next_slice();
        let periodic: Vec<AB::Expr> = builder
            .periodic_values()
            .iter()
            .map(|&v| v.into())
            .collect();
        let sel = |s: Sel| -> AB::Expr { periodic[s as usize].clone() };
        let sel_at = |s: Sel, k: usize| -> AB::Expr { periodic[s as usize + k].clone() };
        let public: Vec<AB::Expr> = builder.public_values().iter().map(|&v| v.into()).collect();
        let c = |i: usize| -> AB::Expr { local[i].into() };
        let n = |i: usize| -> AB::Expr { next[i].into() };
        let one = AB::Expr::ONE;

        self.eval_tree(builder, local, next, &sel, &public);

        // Op columns: constant within an op; the fee total and the commitment pass
        // from op to op.
        for col in KIND..CARRIED_END {
            builder
                .when_transition()
                .assert_zero((one.clone() - sel(Sel::OpLast)) * (n(col) - c(col)));
        }
        for i in 0..BALANCE_LIMBS {
            builder
                .when_transition()
                .assert_zero(sel(Sel::OpLast) * (n(FEE_IN + i) - c(FEE_OUT + i)));
            builder.when_first_row().assert_zero(c(FEE_IN + i));
            builder.when_last_row().assert_zero(c(FEE_OUT + i));
        }

        // Kind and token.
        let (t, d, x, f, fc) = (c(K_T), c(K_D), c(K_X), c(K_F), c(K_FC));
        let mut any = AB::Expr::ZERO;
        for k in KIND..KIND + 5 {
            builder.assert_bool(c(k));
            any += c(k);
        }
        builder.assert_bool(any.clone());
        let mut one_hot = AB::Expr::ZERO;
        for k in 0..TOKENS {
            builder.assert_bool(c(OH + k));
            one_hot += c(OH + k);
            builder.assert_zero(c(TOK_A + k) - c(OH + k) * (t.clone() + x.clone()));
            builder.assert_zero(c(TOK_B + k) - c(OH + k) * (t.clone() + d.clone() + fc.clone()));
        }
        builder.assert_one(one_hot);
        builder.assert_zero(fc.clone() * (one.clone() - c(OH)));
        let inc = t.clone() + x.clone() + f.clone();
        let binds_b = t.clone() + d.clone();
        let moves = t.clone() + d.clone() + x.clone() + fc.clone();
        builder.assert_bool(c(B_NEW));
        builder.assert_zero(c(B_NEW) * (one.clone() - binds_b.clone()));
        for i in 0..BALANCE_LIMBS {
            builder.assert_zero((one.clone() - moves.clone()) * c(AMOUNT + i));
            builder.assert_zero((one.clone() - inc.clone()) * c(FEE + i));
            builder.assert_zero(fc.clone() * (c(AMOUNT + i) - c(FEE_IN + i)));
            builder.assert_zero(fc.clone() * c(FEE_OUT + i));
        }

        // Carries are in {0, 1, 2}; lane bits are bits.
        for i in 0..BALANCE_LIMBS {
            let b = c(BOR + i);
            builder.assert_zero(b.clone() * (b.clone() - one.clone()) * (b - AB::Expr::TWO));
        }
        let carry_in = |i: usize| -> AB::Expr {
            if i == 0 {
                AB::Expr::ZERO
            } else {
                c(BOR + i - 1)
            }
        };
        let old = |i: usize| c(OLD + i);
        let new = |i: usize| c(NEW + i);

        // Leg A, balance rows: GCC pays the fee (and the amount if the token is GCC).
        let a0 = sel_at(Sel::ALeaf0, 0);
        for i in 0..BALANCE_LIMBS {
            builder.assert_zero(
                a0.clone()
                    * (old(i) - c(TOK_A) * c(AMOUNT + i) - c(FEE + i) - carry_in(i)
                        + c(BOR + i) * radix::<AB::Expr>()
                        - c(NEW_A_GCC + i)),
            );
            builder.assert_zero(a0.clone() * (new(i) - c(NEW_A_GCC + i)));
        }
        for k in 1..TOKENS {
            let ak = sel_at(Sel::ALeaf0, k);
            let hit = c(TOK_A + k);
            for i in 0..BALANCE_LIMBS {
                builder.assert_zero(
                    ak.clone()
                        * hit.clone()
                        * (old(i) - c(AMOUNT + i) - carry_in(i) + c(BOR + i) * radix::<AB::Expr>()
                            - c(NEW_A_TOK + i)),
                );
                builder.assert_zero(ak.clone() * hit.clone() * (new(i) - c(NEW_A_TOK + i)));
                builder.assert_zero(ak.clone() * (one.clone() - hit.clone()) * (new(i) - old(i)));
            }
        }
        // Leg A, key rows: unchanged, and the op's key when there is a sender.
        let a4 = sel_at(Sel::ALeaf0, 4);
        let a5 = sel_at(Sel::ALeaf0, 5);
        for i in 0..DIGEST {
            builder.assert_zero(a4.clone() * (new(i) - old(i)));
            builder.assert_zero(a4.clone() * inc.clone() * (old(i) - c(A_KEY + i)));
        }
        builder.assert_zero(a5.clone() * (new(0) - old(0)));
        builder.assert_zero(a5.clone() * inc.clone() * (old(0) - c(A_KEY + 8)));
        // Leg A, nonce: the op's, plus one when there is a sender.
        for j in 0..NONCE_LIMBS {
            let cin = if j == 0 { inc.clone() } else { c(BOR + j - 1) };
            builder.assert_zero(
                a5.clone()
                    * (old(1 + j) + cin - c(BOR + j) * radix::<AB::Expr>() - c(NEW_A_NONCE + j)),
            );
            builder.assert_zero(a5.clone() * (new(1 + j) - c(NEW_A_NONCE + j)));
            builder.assert_zero(a5.clone() * inc.clone() * (old(1 + j) - c(NONCE + j)));
        }
        for i in 1 + NONCE_LIMBS..DIGEST {
            builder.assert_zero(a5.clone() * (new(i) - old(i)));
        }
        // No borrow out of a balance or the nonce.
        for k in 0..TOKENS {
            builder.assert_zero(sel_at(Sel::ALeaf0, k) * c(BOR + BALANCE_LIMBS - 1));
            builder.assert_zero(sel_at(Sel::BLeaf0, k) * c(BOR + BALANCE_LIMBS - 1));
        }
        builder.assert_zero(a5 * c(BOR + NONCE_LIMBS - 1));

        // Leg B, balance rows: the token balance gains `amount`.
        for k in 0..TOKENS {
            let bk = sel_at(Sel::BLeaf0, k);
            let hit = c(TOK_B + k);
            for i in 0..BALANCE_LIMBS {
                builder.assert_zero(
                    bk.clone()
                        * hit.clone()
                        * (old(i) + c(AMOUNT + i) + carry_in(i)
                            - c(BOR + i) * radix::<AB::Expr>()
                            - c(NEW_B_TOK + i)),
                );
                builder.assert_zero(bk.clone() * hit.clone() * (new(i) - c(NEW_B_TOK + i)));
                builder.assert_zero(bk.clone() * (one.clone() - hit.clone()) * (new(i) - old(i)));
            }
        }
        // Leg B: a created account starts from the empty leaf with the op's key.
        for r in 0..LEAF_BLOCKS {
            let br = sel_at(Sel::BLeaf0, r);
            for i in 0..DIGEST {
                builder.assert_zero(br.clone() * c(B_NEW) * old(i));
            }
        }
        let b4 = sel_at(Sel::BLeaf0, 4);
        let b5 = sel_at(Sel::BLeaf0, 5);
        for (row, i, limb) in (0..DIGEST)
            .map(|i| (b4.clone(), i, i))
            .chain(std::iter::once((b5.clone(), 0, 8)))
        {
            builder.assert_zero(row.clone() * (one.clone() - c(B_NEW)) * (new(i) - old(i)));
            builder.assert_zero(row * binds_b.clone() * (new(i) - c(B_KEY + limb)));
        }
        for i in 1..DIGEST {
            builder.assert_zero(b5.clone() * (new(i) - old(i)));
        }

        // The legs' indexes.
        builder.assert_zero(sel(Sel::ATop) * (c(INDEX) - c(A_IDX)));
        builder.assert_zero(sel(Sel::BTop) * (c(INDEX) - c(B_IDX)));

        // The fee total.
        let fee_row = sel(Sel::FeeRow);
        for i in 0..BALANCE_LIMBS {
            builder.assert_zero(
                fee_row.clone()
                    * (one.clone() - fc.clone())
                    * (c(FEE_IN + i) + c(FEE + i) + carry_in(i)
                        - c(BOR + i) * radix::<AB::Expr>()
                        - c(FEE_OUT + i)),
            );
        }
        builder.assert_zero(fee_row * c(BOR + BALANCE_LIMBS - 1));

        // Range-check lanes: lane L, window w shifts out value RC + WINDOWS·L + w.
        for lane in 0..LANES {
            let bit = c(LANE_BIT + lane);
            let acc = c(LANE_ACC + lane);
            builder.assert_bool(bit.clone());
            builder.assert_zero(sel(Sel::WinStart) * (acc.clone() - bit));
            builder.when_transition().assert_zero(
                sel(Sel::WinStep)
                    * (n(LANE_ACC + lane) - acc.clone() * AB::Expr::TWO - n(LANE_BIT + lane)),
            );
            for w in 0..WINDOWS {
                builder.assert_zero(
                    sel_at(Sel::WinEnd0, w) * (acc.clone() - c(RC + WINDOWS * lane + w)),
                );
            }
        }

        // The commitment.
        let tag = t
            + d * AB::Expr::TWO
            + x * AB::Expr::from_u32(3)
            + f * AB::Expr::from_u32(4)
            + fc * AB::Expr::from_u32(5)
            + (c(OH + 1) + c(OH + 2) * AB::Expr::TWO + c(OH + 3) * AB::Expr::from_u32(3))
                * AB::Expr::from_u32(8)
            + c(B_NEW) * AB::Expr::from_u32(32);
        let mut elements: Vec<AB::Expr> = vec![tag, c(A_IDX), c(B_IDX)];
        elements.extend((0..NONCE_LIMBS).map(|j| c(NONCE + j)));
        elements.push(AB::Expr::ZERO);
        elements.extend((0..BALANCE_LIMBS).map(|j| c(AMOUNT + j)));
        elements.extend((0..BALANCE_LIMBS).map(|j| c(FEE + j)));
        elements.extend((0..KEY_LIMBS).map(|j| c(A_KEY + j)));
        elements.extend((0..KEY_LIMBS).map(|j| c(B_KEY + j)));
        elements.resize(2 * COMMIT_ROWS * DIGEST, AB::Expr::ZERO);
        for j in 0..COMMIT_ROWS {
            let cj = sel_at(Sel::Commit0, j);
            for i in 0..DIGEST {
                builder.assert_zero(cj.clone() * (old(i) - elements[2 * j * DIGEST + i].clone()));
                builder.assert_zero(
                    cj.clone() * (new(i) - elements[(2 * j + 1) * DIGEST + i].clone()),
                );
            }
        }
        for i in 0..DIGEST {
            builder.assert_zero(sel(Sel::CommitFirst) * (old(DIGEST + i) - c(COMMIT + i)));
            builder.assert_zero(sel(Sel::Commit) * (new(DIGEST + i) - c(OLD + OUT + i)));
            builder
                .when_transition()
                .assert_zero(sel(Sel::CommitChain) * (n(OLD + DIGEST + i) - c(NEW + OUT + i)));
            builder
                .when_transition()
                .assert_zero(sel(Sel::OpLast) * (n(COMMIT + i) - c(NEW + OUT + i)));
            builder
                .when_first_row()
                .assert_eq(c(COMMIT + i), public[2 * DIGEST + i].clone());
            builder
                .when_last_row()
                .assert_eq(c(NEW + OUT + i), public[3 * DIGEST + i].clone());
        }
    }
}

impl SegmentAir {
    /// The tree part: leaf sponges, paths, the shared siblings, the running root and
    /// the index accumulator.
    fn eval_tree<AB: AirBuilder<F = Val>>(
        &self,
        builder: &mut AB,
        local: &[AB::Var],
        next: &[AB::Var],
        sel: &dyn Fn(Sel) -> AB::Expr,
        public: &[AB::Expr],
    ) {
        let bit: AB::Expr = local[BIT].into();
        let next_bit: AB::Expr = next[BIT].into();
        let level = sel(Sel::Level);
        builder.assert_zero(level.clone() * bit.clone() * (bit.clone() - AB::Expr::ONE));
        builder.assert_zero((AB::Expr::ONE - level.clone()) * bit.clone());
        for base in [OLD, NEW] {
            for i in 0..DIGEST {
                let input = |row: &[AB::Var], j: usize| -> AB::Expr { row[base + j].into() };
                // Leaf sponge: zero initial capacity, capacity carried between blocks.
                builder.assert_zero(sel(Sel::FirstBlock) * input(local, DIGEST + i));
                builder.when_transition().assert_zero(
                    sel(Sel::Absorb)
                        * (input(next, DIGEST + i) - local[base + OUT + DIGEST + i].into()),
                );
                // The next level's `cur` is this row's output.
                let next_cur =
                    input(next, i) + next_bit.clone() * (input(next, DIGEST + i) - input(next, i));
                builder
                    .when_transition()
                    .assert_zero(sel(Sel::Chain) * (next_cur - local[base + OUT + i].into()));
            }
        }
        let top = sel(Sel::Top);
        for i in 0..DIGEST {
            let old = |j: usize| -> AB::Expr { local[OLD + j].into() };
            let new = |j: usize| -> AB::Expr { local[NEW + j].into() };
            // The same sibling in the old and the new path.
            builder.assert_zero(
                level.clone()
                    * ((AB::Expr::ONE - bit.clone()) * (old(DIGEST + i) - new(DIGEST + i))
                        + bit.clone() * (old(i) - new(i))),
            );
            let root: AB::Expr = local[ROOT + i].into();
            let next_root: AB::Expr = next[ROOT + i].into();
            builder
                .when_transition()
                .assert_zero((AB::Expr::ONE - top.clone()) * (next_root.clone() - root.clone()));
            builder.assert_zero(top.clone() * (local[OLD + OUT + i].into() - root.clone()));
            builder
                .when_transition()
                .assert_zero(top.clone() * (next_root - local[NEW + OUT + i].into()));
            builder
                .when_first_row()
                .assert_eq(root.clone(), public[i].clone());
            builder
                .when_last_row()
                .assert_eq(root, public[DIGEST + i].clone());
        }
        let index: AB::Expr = local[INDEX].into();
        builder.assert_zero(sel(Sel::FirstLevel) * (index.clone() - bit));
        builder.when_transition().assert_zero(
            sel(Sel::IndexStep) * (next[INDEX].into() - index) - sel(Sel::Pow2Next) * next_bit,
        );
    }
}

/// Why a trace cannot be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TraceError {
    /// The AIR needs a power-of-two number of ops, at least 2.
    #[error("{0} ops: a segment needs a power of two, at least 2 (pad with no-ops)")]
    OpCount(usize),
    /// An update's index does not fit the tree.
    #[error("account index {0} is outside the tree (capacity 2^{DEPTH})")]
    IndexOutOfRange(u32),
    /// An op cannot be committed to.
    #[error("op {op}: {error}")]
    Op {
        /// Its position.
        op: usize,
        /// Why.
        error: OpError,
    },
}

fn val_i64(v: i64) -> Val {
    if v >= 0 {
        Val::from_u64(v as u64)
    } else {
        -Val::from_u64(v.unsigned_abs())
    }
}

fn canon(v: Val) -> i64 {
    i64::from(v.as_canonical_u32())
}

/// The carries of `out = inp + delta` limb by limb (`delta` signed per limb), as the
/// AIR checks them: `inp + delta + c_in - c_out·2^16 = out`. For a dishonest witness
/// the values do not satisfy the AIR, which is the point.
fn carries(inp: &[Val], delta: &[i64], out: &[Val], first_in: i64, row: &mut [Val]) {
    let mut cin = first_in;
    for i in 0..inp.len() {
        let cout = (canon(inp[i]) + delta[i] + cin - canon(out[i])) >> 16;
        row[BOR + i] = val_i64(cout.abs());
        cin = cout;
    }
}

/// The permutation inputs of one update's rows, old and new; returns the root the
/// new path reaches.
fn update_inputs(
    update: &LeafUpdate,
    old: &mut Vec<[Val; 16]>,
    new: &mut Vec<[Val; 16]>,
) -> Digest {
    let sponge = |leaf: &LeafFields, out: &mut Vec<[Val; 16]>| {
        let inputs = leaf_inputs(leaf);
        out.extend(inputs);
        truncate(&permute(inputs[LEAF_BLOCKS - 1]))
    };
    let mut old_cur = sponge(&update.old, old);
    let mut new_cur = sponge(&update.new, new);
    for (h, sibling) in update.siblings.iter().enumerate() {
        let right = (update.index >> h) & 1 == 1;
        let old_in = parent_input(&old_cur, sibling, right);
        let new_in = parent_input(&new_cur, sibling, right);
        old.push(old_in);
        new.push(new_in);
        old_cur = truncate(&permute(old_in));
        new_cur = truncate(&permute(new_in));
    }
    new_cur
}

/// One op's rows apart from the permutations: `rows` is `OP_ROWS × WIDTH`, with the
/// permutation columns still empty.
fn fill_op(w: &OpWitness, roots: &[Digest; 3], fee_in: u128, commit: Digest, rows: &mut [Val]) {
    let op = &w.op;
    let kind = op.kind;
    let token = usize::from(op.token).min(TOKENS - 1);
    let fee_out = fee_after(w, fee_in);
    let mut carried = vec![Val::ZERO; CARRIED_END - KIND];
    let mut put = |col: usize, v: Val| carried[col - KIND] = v;
    let flag = |k: OpKind| Val::from_bool(kind == k);
    put(K_T, flag(OpKind::Transfer));
    put(K_D, flag(OpKind::Deposit));
    put(K_X, flag(OpKind::Withdraw));
    put(K_F, flag(OpKind::FeeOnly));
    put(K_FC, flag(OpKind::FeeCredit));
    let debits = matches!(kind, OpKind::Transfer | OpKind::Withdraw);
    for k in 0..TOKENS {
        put(OH + k, Val::from_bool(k == token));
        put(TOK_A + k, Val::from_bool(k == token && debits));
        put(TOK_B + k, Val::from_bool(k == token && kind.has_receiver()));
    }
    put(B_NEW, Val::from_bool(op.b_new));
    put(A_IDX, Val::from_u32(op.a_index));
    put(B_IDX, Val::from_u32(op.b_index));
    let limbs = |put: &mut dyn FnMut(usize, Val), at: usize, v: &[u32]| {
        for (j, l) in v.iter().enumerate() {
            put(at + j, Val::from_u32(*l));
        }
    };
    limbs(&mut put, NONCE, &u64_limbs(op.nonce));
    limbs(&mut put, AMOUNT, &u128_limbs(op.amount));
    limbs(&mut put, FEE, &u128_limbs(op.fee));
    limbs(&mut put, A_KEY, &key_limbs(&op.a_key));
    limbs(&mut put, B_KEY, &key_limbs(&op.b_data));
    let bal = |leaf: &[Val], k: usize| leaf[k * BALANCE_LIMBS..(k + 1) * BALANCE_LIMBS].to_vec();
    for (j, v) in bal(&w.a.new, 0).into_iter().enumerate() {
        put(NEW_A_GCC + j, v);
    }
    if debits && token != 0 {
        for (j, v) in bal(&w.a.new, token).into_iter().enumerate() {
            put(NEW_A_TOK + j, v);
        }
    }
    let nonce_at = crate::segment::NONCE_AT;
    for j in 0..NONCE_LIMBS {
        put(NEW_A_NONCE + j, w.a.new[nonce_at + j]);
    }
    if kind.has_receiver() {
        for (j, v) in bal(&w.b.new, token).into_iter().enumerate() {
            put(NEW_B_TOK + j, v);
        }
    }
    limbs(&mut put, FEE_IN, &u128_limbs(fee_in));
    limbs(&mut put, FEE_OUT, &u128_limbs(fee_out));
    for (j, v) in commit.iter().enumerate() {
        put(COMMIT + j, *v);
    }

    let amount: Vec<i64> = u128_limbs(op.amount)
        .iter()
        .map(|l| i64::from(*l))
        .collect();
    let fee: Vec<i64> = u128_limbs(op.fee).iter().map(|l| i64::from(*l)).collect();
    let zero = vec![0i64; BALANCE_LIMBS];
    for (r, row) in rows.chunks_exact_mut(WIDTH).enumerate() {
        row[KIND..CARRIED_END].copy_from_slice(&carried);
        row[ROOT..ROOT + DIGEST].copy_from_slice(&roots[r / UPDATE_ROWS]);
        let (leg, u) = if r < B_AT {
            (&w.a, r)
        } else {
            (&w.b, r - B_AT)
        };
        if r < IDLE_ROW && u >= LEAF_BLOCKS {
            let h = u - LEAF_BLOCKS;
            row[BIT] = Val::from_bool((leg.index >> h) & 1 == 1);
            let mask = (1u64 << (h + 1)) - 1;
            row[INDEX] = Val::from_u64(u64::from(leg.index) & mask);
        }
        // Carries of the rows that add or subtract limbs.
        let block = |leaf: &[Val; crate::hash::LEAF_FIELDS], u: usize| {
            leaf[u * DIGEST..(u + 1) * DIGEST].to_vec()
        };
        if r < B_AT && u < TOKENS {
            let k = u;
            let neg = |v: &[i64]| v.iter().map(|x| -x).collect::<Vec<_>>();
            let delta: Vec<i64> = if k == 0 {
                (0..BALANCE_LIMBS)
                    .map(|i| -fee[i] - if debits && token == 0 { amount[i] } else { 0 })
                    .collect()
            } else if debits && token == k {
                neg(&amount)
            } else {
                zero.clone()
            };
            if k == 0 || (debits && token == k) {
                carries(&block(&w.a.old, k), &delta, &block(&w.a.new, k), 0, row);
            }
        } else if r < B_AT && u == LEAF_BLOCKS - 1 {
            let old: Vec<Val> = w.a.old[nonce_at..nonce_at + NONCE_LIMBS].to_vec();
            let new: Vec<Val> = w.a.new[nonce_at..nonce_at + NONCE_LIMBS].to_vec();
            carries(
                &old,
                &[0; NONCE_LIMBS],
                &new,
                i64::from(kind.has_sender()),
                row,
            );
        } else if (B_AT..IDLE_ROW).contains(&r) && u < TOKENS && kind.has_receiver() && u == token {
            carries(&block(&w.b.old, u), &amount, &block(&w.b.new, u), 0, row);
        } else if r == FEE_ROW && kind != OpKind::FeeCredit {
            let fin: Vec<Val> = u128_limbs(fee_in).map(Val::from_u32).to_vec();
            let fout: Vec<Val> = u128_limbs(fee_out).map(Val::from_u32).to_vec();
            carries(&fin, &fee, &fout, 0, row);
        }
    }
    // Lanes: value RC + WINDOWS·L + w, most significant bit first, over window w.
    for lane in 0..LANES {
        for win in 0..WINDOWS {
            let v = carried[RC + WINDOWS * lane + win - KIND].as_canonical_u32();
            let mut acc = 0u32;
            for t in 0..LANE_BITS {
                let bit = (v >> (LANE_BITS - 1 - t)) & 1;
                acc = 2 * acc + bit;
                let row = &mut rows[(win * LANE_BITS + t) * WIDTH..][..WIDTH];
                row[LANE_BIT + lane] = Val::from_u32(bit);
                row[LANE_ACC + lane] = Val::from_u32(acc);
            }
        }
    }
}

/// One op's permutation inputs (old, new) and the roots after its legs.
type OpInputs = (Vec<[Val; 16]>, Vec<[Val; 16]>, Digest, Digest);

/// The fee total after an op (wrapping only for dishonest witnesses, which the AIR
/// then refuses).
fn fee_after(w: &OpWitness, fee_in: u128) -> u128 {
    match w.op.kind {
        OpKind::FeeCredit => 0,
        _ => fee_in.wrapping_add(w.op.fee),
    }
}

/// Builds the trace of a segment witness. The witness is not checked: a dishonest
/// one gives a trace that does not satisfy the AIR.
pub fn generate_trace(
    witness: &SegmentWitness,
    log_blowup: usize,
) -> Result<RowMajorMatrix<Val>, TraceError> {
    let ops = &witness.ops;
    if ops.len() < 2 || !ops.len().is_power_of_two() {
        return Err(TraceError::OpCount(ops.len()));
    }
    let out_of_tree = ops
        .iter()
        .flat_map(|o| [o.a.index, o.b.index])
        .find(|i| u64::from(*i) >= CAPACITY);
    if let Some(index) = out_of_tree {
        return Err(TraceError::IndexOutOfRange(index));
    }
    let rows = ops.len() * OP_ROWS;

    // Per op, in parallel: the permutation inputs and the roots the legs reach.
    let per_op: Vec<OpInputs> = ops
        .par_iter()
        .map(|w| {
            let mut old = Vec::with_capacity(OP_ROWS);
            let mut new = Vec::with_capacity(OP_ROWS);
            let a_root = update_inputs(&w.a, &mut old, &mut new);
            let b_root = update_inputs(&w.b, &mut old, &mut new);
            (old, new, a_root, b_root)
        })
        .collect();

    // In order: the running root, fee total and commitment state.
    let mut old_inputs = Vec::with_capacity(rows);
    let mut new_inputs = Vec::with_capacity(rows);
    let mut starts = Vec::with_capacity(ops.len());
    let mut root = witness.old_root;
    let mut fee_in = 0u128;
    let mut commit = witness.header.seed();
    for (i, (w, (old, new, a_root, b_root))) in ops.iter().zip(per_op).enumerate() {
        old_inputs.extend(old);
        new_inputs.extend(new);
        let (inputs, after) =
            commit_inputs(&commit, &w.op).map_err(|error| TraceError::Op { op: i, error })?;
        old_inputs.push([Val::ZERO; 16]);
        new_inputs.push([Val::ZERO; 16]);
        for pair in inputs.chunks_exact(2) {
            old_inputs.push(pair[0]);
            new_inputs.push(pair[1]);
        }
        starts.push(([root, a_root, b_root], fee_in, commit));
        root = b_root;
        fee_in = fee_after(w, fee_in);
        commit = after;
    }

    let constants = constants();
    let generate = |inputs: Vec<[Val; 16]>| {
        generate_trace_rows::<
            _,
            GenericPoseidon2LinearLayersKoalaBear,
            16,
            KOALABEAR_S_BOX_DEGREE,
            0,
            HALF_FULL,
            PARTIAL,
        >(inputs, &constants, 0)
    };
    let old = generate(old_inputs);
    let new = generate(new_inputs);
    let mut values = Vec::with_capacity((rows * WIDTH) << log_blowup);
    values.resize(rows * WIDTH, Val::ZERO);
    values
        .par_chunks_mut(OP_ROWS * WIDTH)
        .zip(ops.par_iter().zip(starts.par_iter()))
        .for_each(|(chunk, (w, (roots, fee_in, commit)))| {
            fill_op(w, roots, *fee_in, *commit, chunk);
        });
    values
        .par_chunks_mut(WIDTH)
        .enumerate()
        .for_each(|(r, row)| {
            row[OLD..OLD + PERM_COLS].copy_from_slice(old.row_slice(r).as_deref().unwrap_or(&[]));
            row[NEW..NEW + PERM_COLS].copy_from_slice(new.row_slice(r).as_deref().unwrap_or(&[]));
        });
    Ok(RowMajorMatrix::new(values, WIDTH))
}
