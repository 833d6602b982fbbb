//! The leaf-update AIR: proves that a sequence of leaf updates moves the account
//! tree from the public old root to the public new root.
//!
//! One row holds two Poseidon2 permutations side by side, the old and the new value
//! of the same node, plus the path bit, the running root and the index
//! accumulator. Each update takes [`ROWS_PER_UPDATE`] rows on a fixed schedule
//! given by periodic selectors:
//!
//! ```text
//! rows 0..4   leaf sponge: capacity of row k+1 = output of row k, row 0 capacity = 0
//! rows 4..32  tree levels 0..27: input = (cur, sibling) or (sibling, cur) by `bit`;
//!             the sibling half is the same in old and new; cur = previous output
//! row 31      top: old output = running root; the next update's root = new output
//! ```
//!
//! Public values: old root (8 elements), then new root (8). The leaf contents (the
//! rate part of rows 0..4) and the index are trace values that the op constraints
//! (not built yet) will bind to the segment's ops. The number of updates must be a
//! power of two; callers pad with no-op updates (a leaf rewritten with itself).

use std::borrow::Cow;

use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
use p3_field::PrimeCharacteristicRing;
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

use crate::config::Val;
use crate::hash::{
    DIGEST, Digest, LEAF_BLOCKS, hash_leaf, leaf_inputs, parent_input, permute, truncate,
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
/// Rows per leaf update: the leaf sponge, then one per tree level.
pub const ROWS_PER_UPDATE: usize = LEAF_BLOCKS + DEPTH;
const _: () = assert!(ROWS_PER_UPDATE.is_power_of_two());

const OLD: usize = 0;
const NEW: usize = PERM_COLS;
const BIT: usize = 2 * PERM_COLS;
const ROOT: usize = BIT + 1;
const INDEX: usize = ROOT + DIGEST;
/// Trace width.
pub const WIDTH: usize = INDEX + 1;
/// Where a permutation's output sits within its columns (the last full round's
/// post-state).
const OUT: usize = PERM_COLS - 16;

/// Periodic selector indices.
const FIRST_BLOCK: usize = 0;
const ABSORB: usize = 1;
const CHAIN: usize = 2;
const LEVEL: usize = 3;
const TOP: usize = 4;
const INDEX_STEP: usize = 5;
const POW2_NEXT: usize = 6;
const FIRST_LEVEL: usize = 7;

fn constants() -> Constants {
    RoundConstants::new(
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL,
        KOALABEAR_POSEIDON2_RC_16_INTERNAL,
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    )
}

/// The AIR.
pub struct UpdateAir {
    perm: PermAir,
    periodic: Vec<Vec<Val>>,
}

impl Default for UpdateAir {
    fn default() -> Self {
        Self::new()
    }
}

impl UpdateAir {
    /// The AIR with the canonical Poseidon2 constants.
    pub fn new() -> Self {
        let selector = |f: &dyn Fn(usize) -> bool| -> Vec<Val> {
            (0..ROWS_PER_UPDATE)
                .map(|r| if f(r) { Val::ONE } else { Val::ZERO })
                .collect()
        };
        let last = ROWS_PER_UPDATE - 1;
        let mut periodic = vec![
            selector(&|r| r == 0),
            selector(&|r| r + 1 < LEAF_BLOCKS),
            selector(&|r| r + 1 >= LEAF_BLOCKS && r < last),
            selector(&|r| r >= LEAF_BLOCKS),
            selector(&|r| r == last),
            selector(&|r| r >= LEAF_BLOCKS && r < last),
        ];
        periodic.push(
            (0..ROWS_PER_UPDATE)
                .map(|r| {
                    if r >= LEAF_BLOCKS && r < last {
                        Val::from_u32(1 << (r - LEAF_BLOCKS + 1))
                    } else {
                        Val::ZERO
                    }
                })
                .collect(),
        );
        periodic.push(selector(&|r| r == LEAF_BLOCKS));
        Self {
            perm: PermAir::new(constants()),
            periodic,
        }
    }
}

impl BaseAir<Val> for UpdateAir {
    fn width(&self) -> usize {
        WIDTH
    }

    fn num_public_values(&self) -> usize {
        2 * DIGEST
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

impl<AB: AirBuilder<F = Val>> Air<AB> for UpdateAir {
    fn eval(&self, builder: &mut AB) {
        self.perm
            .eval(&mut SubAirBuilder::<AB, PermAir, AB::Var>::new(
                builder,
                OLD..OLD + PERM_COLS,
            ));
        self.perm
            .eval(&mut SubAirBuilder::<AB, PermAir, AB::Var>::new(
                builder,
                NEW..NEW + PERM_COLS,
            ));

        let main = builder.main();
        let local = main.current_slice();
        let next = main.next_slice();
        let periodic = builder.periodic_values();
        let p = |i: usize| -> AB::Expr { periodic[i].into() };
        let (first_block, absorb, chain, level, top) =
            (p(FIRST_BLOCK), p(ABSORB), p(CHAIN), p(LEVEL), p(TOP));
        let (index_step, pow2_next, first_level) = (p(INDEX_STEP), p(POW2_NEXT), p(FIRST_LEVEL));
        let public: Vec<AB::Expr> = builder.public_values().iter().map(|&v| v.into()).collect();

        let bit: AB::Expr = local[BIT].into();
        let next_bit: AB::Expr = next[BIT].into();
        builder.assert_zero(level.clone() * bit.clone() * (bit.clone() - AB::Expr::ONE));
        builder.assert_zero((AB::Expr::ONE - level.clone()) * bit.clone());

        for base in [OLD, NEW] {
            for i in 0..DIGEST {
                let input = |row: &[AB::Var], j: usize| -> AB::Expr { row[base + j].into() };
                // Leaf sponge: zero initial capacity, capacity carried between blocks.
                builder.assert_zero(first_block.clone() * input(local, DIGEST + i));
                builder.when_transition().assert_zero(
                    absorb.clone()
                        * (input(next, DIGEST + i) - local[base + OUT + DIGEST + i].into()),
                );
                // The next level's `cur` is this row's output.
                let next_cur =
                    input(next, i) + next_bit.clone() * (input(next, DIGEST + i) - input(next, i));
                builder
                    .when_transition()
                    .assert_zero(chain.clone() * (next_cur - local[base + OUT + i].into()));
            }
        }
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
            builder.when_first_row().assert_eq(root, public[i].clone());
            builder
                .when_last_row()
                .assert_eq(local[NEW + OUT + i], public[DIGEST + i].clone());
        }
        let index: AB::Expr = local[INDEX].into();
        builder.assert_zero(first_level * (index.clone() - bit));
        builder
            .when_transition()
            .assert_zero(index_step * (next[INDEX].into() - index) - pow2_next * next_bit);
    }
}

/// Why a trace cannot be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TraceError {
    /// The AIR needs a power-of-two number of updates.
    #[error("{0} updates: a segment needs a power of two (pad with no-op updates)")]
    UpdateCount(usize),
    /// An update's index does not fit the tree.
    #[error("account index {0} is outside the tree (capacity 2^{DEPTH})")]
    IndexOutOfRange(u32),
}

/// Builds the trace for `updates` applied in order to a tree whose root is
/// `old_root`. `updates.len()` must be a power of two (pad with no-op updates).
///
/// Each permutation is computed twice, once here to chain the inputs and once by
/// Plonky3's column generator; filling the columns directly would need `unsafe`.
pub fn generate_trace(
    old_root: Digest,
    updates: &[LeafUpdate],
    log_blowup: usize,
) -> Result<RowMajorMatrix<Val>, TraceError> {
    if !updates.len().is_power_of_two() {
        return Err(TraceError::UpdateCount(updates.len()));
    }
    if let Some(update) = updates.iter().find(|u| u64::from(u.index) >= CAPACITY) {
        return Err(TraceError::IndexOutOfRange(update.index));
    }
    let rows = updates.len() * ROWS_PER_UPDATE;
    let mut old_inputs = Vec::with_capacity(rows);
    let mut new_inputs = Vec::with_capacity(rows);
    let mut extras = Vec::with_capacity(rows);
    let mut root = old_root;
    for update in updates {
        old_inputs.extend(leaf_inputs(&update.old));
        new_inputs.extend(leaf_inputs(&update.new));
        for _ in 0..LEAF_BLOCKS {
            extras.push((Val::ZERO, root, Val::ZERO));
        }
        let mut old_cur = hash_leaf(&update.old);
        let mut new_cur = hash_leaf(&update.new);
        for (h, sibling) in update.siblings.iter().enumerate() {
            let right = (update.index >> h) & 1 == 1;
            let old_in = parent_input(&old_cur, sibling, right);
            let new_in = parent_input(&new_cur, sibling, right);
            old_inputs.push(old_in);
            new_inputs.push(new_in);
            let mask = (1u64 << (h + 1)) - 1;
            extras.push((
                Val::from_bool(right),
                root,
                Val::from_u64(u64::from(update.index) & mask),
            ));
            old_cur = truncate(&permute(old_in));
            new_cur = truncate(&permute(new_in));
        }
        root = new_cur;
    }
    let constants = constants();
    let old = generate_trace_rows::<
        _,
        GenericPoseidon2LinearLayersKoalaBear,
        16,
        KOALABEAR_S_BOX_DEGREE,
        0,
        HALF_FULL,
        PARTIAL,
    >(old_inputs, &constants, 0);
    let new = generate_trace_rows::<
        _,
        GenericPoseidon2LinearLayersKoalaBear,
        16,
        KOALABEAR_S_BOX_DEGREE,
        0,
        HALF_FULL,
        PARTIAL,
    >(new_inputs, &constants, 0);
    let mut values = Vec::with_capacity((rows * WIDTH) << log_blowup);
    values.resize(rows * WIDTH, Val::ZERO);
    values
        .par_chunks_mut(WIDTH)
        .enumerate()
        .for_each(|(r, row)| {
            row[OLD..OLD + PERM_COLS].copy_from_slice(old.row_slice(r).as_deref().unwrap_or(&[]));
            row[NEW..NEW + PERM_COLS].copy_from_slice(new.row_slice(r).as_deref().unwrap_or(&[]));
            let (bit, root, index) = extras[r];
            row[BIT] = bit;
            row[ROOT..ROOT + DIGEST].copy_from_slice(&root);
            row[INDEX] = index;
        });
    Ok(RowMajorMatrix::new(values, WIDTH))
}
