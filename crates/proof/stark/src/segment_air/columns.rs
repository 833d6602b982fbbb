//! The segment AIR's layout: the row schedule within an op (periodic selectors,
//! [`OP_ROWS`] rows), the column offsets of one row ([`WIDTH`] columns) and the
//! Poseidon2 permutation both sides use. See the module docs of
//! [`crate::segment_air`] for what the rows hold.

use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::{
    GenericPoseidon2LinearLayersKoalaBear, KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS,
    KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16, KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL, KOALABEAR_POSEIDON2_RC_16_INTERNAL,
    KOALABEAR_S_BOX_DEGREE,
};
use p3_poseidon2_air::{Poseidon2Air, RoundConstants, num_cols};

use crate::config::Val;
use crate::hash::{DIGEST, LEAF_BLOCKS};
use crate::segment::{BALANCE_LIMBS, KEY_LIMBS, NONCE_LIMBS, TOKENS};
use crate::tree::DEPTH;

pub(super) const HALF_FULL: usize = KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS;
pub(super) const PARTIAL: usize = KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16;

pub(super) type Constants = RoundConstants<Val, 16, HALF_FULL, PARTIAL>;
pub(super) type PermAir = Poseidon2Air<
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
pub(super) const B_AT: usize = UPDATE_ROWS;
pub(super) const IDLE_ROW: usize = 2 * UPDATE_ROWS;
pub(super) const COMMIT_AT: usize = IDLE_ROW + 1;
pub(super) const COMMIT_ROWS: usize = 3;
const _: () = assert!(COMMIT_AT + COMMIT_ROWS == OP_ROWS);
pub(super) const FEE_ROW: usize = LEAF_BLOCKS;
pub(super) const LANE_BITS: usize = 16;
pub(super) const WINDOWS: usize = OP_ROWS / LANE_BITS;

// Column layout.
pub(super) const OLD: usize = 0;
pub(super) const NEW: usize = PERM_COLS;
pub(super) const BIT: usize = 2 * PERM_COLS;
/// The running-root column (8 wide).
pub const ROOT: usize = BIT + 1;
pub(super) const INDEX: usize = ROOT + DIGEST;
/// First op column: everything from here to `CARRIED_END` is constant within an op.
pub(super) const KIND: usize = INDEX + 1; // T, D, X, F, FC, CK, FW
pub(super) const K_T: usize = KIND;
pub(super) const K_D: usize = KIND + 1;
pub(super) const K_X: usize = KIND + 2;
pub(super) const K_F: usize = KIND + 3;
pub(super) const K_FC: usize = KIND + 4;
pub(super) const K_CK: usize = KIND + 5;
pub(super) const K_FW: usize = KIND + 6;
/// Kind flags.
pub(super) const KINDS: usize = 7;
pub(super) const OH: usize = KIND + KINDS;
pub(super) const TOK_A: usize = OH + TOKENS;
pub(super) const TOK_B: usize = TOK_A + TOKENS;
pub(super) const B_NEW: usize = TOK_B + TOKENS;
/// A forced withdrawal of the whole balance (the op's `b_new` tag bit).
pub(super) const FULL: usize = B_NEW + 1;
pub(super) const A_IDX: usize = FULL + 1;
pub(super) const B_IDX: usize = A_IDX + 1;
pub(super) const NONCE: usize = B_IDX + 1;
/// The op's amount limbs (8 wide).
pub const AMOUNT: usize = NONCE + NONCE_LIMBS;
pub(super) const FEE: usize = AMOUNT + BALANCE_LIMBS;
pub(super) const A_KEY: usize = FEE + BALANCE_LIMBS;
pub(super) const B_KEY: usize = A_KEY + KEY_LIMBS;
/// The range-checked values, in lane order.
pub(super) const RC: usize = B_KEY + KEY_LIMBS;
pub(super) const NEW_A_TOK: usize = RC;
pub(super) const NEW_A_GCC: usize = NEW_A_TOK + BALANCE_LIMBS;
pub(super) const NEW_A_NONCE: usize = NEW_A_GCC + BALANCE_LIMBS;
pub(super) const NEW_B_TOK: usize = NEW_A_NONCE + NONCE_LIMBS;
pub(super) const FEE_OUT: usize = NEW_B_TOK + BALANCE_LIMBS;
pub(super) const RC_VALUES: usize = FEE_OUT + BALANCE_LIMBS - RC;
pub(super) const FEE_IN: usize = FEE_OUT + BALANCE_LIMBS;
pub(super) const COMMIT: usize = FEE_IN + BALANCE_LIMBS;
pub(super) const CARRIED_END: usize = COMMIT + DIGEST;
/// The carry columns (8 wide).
pub const BOR: usize = CARRIED_END;
pub(super) const LANES: usize = RC_VALUES / WINDOWS;
const _: () = assert!(LANES * WINDOWS == RC_VALUES);
pub(super) const LANE_BIT: usize = BOR + BALANCE_LIMBS;
pub(super) const LANE_ACC: usize = LANE_BIT + LANES;
/// Trace width.
pub const WIDTH: usize = LANE_ACC + LANES;
/// Where a permutation's output sits within its columns.
pub(super) const OUT: usize = PERM_COLS - 16;

/// Public values: old root, new root, seed, commitment.
pub const PUBLIC_VALUES: usize = 4 * DIGEST;

/// Periodic selectors, each of period [`OP_ROWS`].
#[derive(Clone, Copy)]
pub(super) enum Sel {
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

pub(super) fn periodic_columns() -> Vec<Vec<Val>> {
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

pub(super) fn constants() -> Constants {
    RoundConstants::new(
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL,
        KOALABEAR_POSEIDON2_RC_16_INTERNAL,
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    )
}
