//! The segment AIR's constraints ([`SegmentAir::eval`]): the two permutations,
//! the op's rules, the range-check lanes, the commitment chain, and the tree part
//! ([`SegmentAir::eval_tree`]). The mutation check (`scripts/stark_mutation_check.py`)
//! finds its constraint sites in this file.

use std::borrow::Cow;

use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
use p3_field::PrimeCharacteristicRing;
use p3_uni_stark::SubAirBuilder;

use super::columns::{
    A_IDX, A_KEY, AMOUNT, B_IDX, B_KEY, B_NEW, BIT, BOR, CARRIED_END, COMMIT, COMMIT_ROWS, FEE,
    FEE_IN, FEE_OUT, FULL, INDEX, K_CK, K_D, K_F, K_FC, K_FW, K_T, K_X, KIND, KINDS, LANE_ACC,
    LANE_BIT, LANES, NEW, NEW_A_GCC, NEW_A_NONCE, NEW_A_TOK, NEW_B_TOK, NONCE, OH, OLD, OUT,
    PERM_COLS, PUBLIC_VALUES, PermAir, RC, ROOT, Sel, TOK_A, TOK_B, WIDTH, WINDOWS, constants,
    periodic_columns,
};
use crate::config::Val;
use crate::hash::{DIGEST, LEAF_BLOCKS};
use crate::segment::{BALANCE_LIMBS, KEY_LIMBS, NONCE_LIMBS, TOKENS};

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
        let (t, d, x, f, fc, ck, fw) = (c(K_T), c(K_D), c(K_X), c(K_F), c(K_FC), c(K_CK), c(K_FW));
        let mut any = AB::Expr::ZERO;
        for k in KIND..KIND + KINDS {
            builder.assert_bool(c(k));
            any += c(k);
        }
        builder.assert_bool(any.clone());
        let mut one_hot = AB::Expr::ZERO;
        for k in 0..TOKENS {
            builder.assert_bool(c(OH + k));
            one_hot += c(OH + k);
            builder.assert_zero(c(TOK_A + k) - c(OH + k) * (t.clone() + x.clone() + fw.clone()));
            builder.assert_zero(c(TOK_B + k) - c(OH + k) * (t.clone() + d.clone() + fc.clone()));
        }
        builder.assert_one(one_hot);
        builder.assert_zero(fc.clone() * (one.clone() - c(OH)));
        let inc = t.clone() + x.clone() + f.clone();
        let binds_b = t.clone() + d.clone();
        let moves = t.clone() + d.clone() + x.clone() + fc.clone() + fw.clone();
        builder.assert_bool(c(B_NEW));
        builder.assert_zero(c(B_NEW) * (one.clone() - binds_b.clone()));
        // A forced withdrawal of the whole balance leaves the token's balance zero
        // (its new limbs: GCC's, or the other token's).
        builder.assert_bool(c(FULL));
        builder.assert_zero(c(FULL) * (one.clone() - fw.clone()));
        for i in 0..BALANCE_LIMBS {
            builder.assert_zero(c(FULL) * c(OH) * c(NEW_A_GCC + i));
            builder.assert_zero(c(FULL) * (one.clone() - c(OH)) * c(NEW_A_TOK + i));
        }
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
        // Leg A, key rows: the op's key when there is a sender (forced or not) or
        // a contract is re-keyed; unchanged, except that a re-keyed contract takes
        // the op's new key.
        let a4 = sel_at(Sel::ALeaf0, 4);
        let a5 = sel_at(Sel::ALeaf0, 5);
        let binds_a = inc.clone() + ck.clone() + fw.clone();
        for (row, i, limb) in (0..DIGEST)
            .map(|i| (a4.clone(), i, i))
            .chain(std::iter::once((a5.clone(), 0, 8)))
        {
            builder.assert_zero(row.clone() * (one.clone() - ck.clone()) * (new(i) - old(i)));
            builder.assert_zero(row.clone() * ck.clone() * (new(i) - c(B_KEY + limb)));
            builder.assert_zero(row * binds_a.clone() * (old(i) - c(A_KEY + limb)));
        }
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
            + ck * AB::Expr::from_u32(6)
            + fw * AB::Expr::from_u32(7)
            + (c(OH + 1) + c(OH + 2) * AB::Expr::TWO + c(OH + 3) * AB::Expr::from_u32(3))
                * AB::Expr::from_u32(8)
            + (c(B_NEW) + c(FULL)) * AB::Expr::from_u32(32);
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
