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
//! - Contract key (`ContractKey`): leg A's old key is the op's `a_key` and its new
//!   key the op's `b_data` (the contract's commitment to its code and storage
//!   root); its balances and nonce are unchanged (no amount, no fee). Every other
//!   op leaves leg A's key unchanged.
//! - Forced withdrawal (`ForcedWithdraw`): leg A's old key is the op's; the token
//!   balance loses `amount` as a withdrawal's does; no fee; the nonce is unchanged
//!   (the op's `nonce` is the L1 queue index, bound by the L1, not the leaf). With
//!   `FULL` (the op's `b_new` tag bit) the new token balance is zero, so the
//!   amount was the whole balance.
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

mod air;
mod columns;
#[cfg(feature = "test-utils")]
pub mod forge;
mod generation;

pub use air::SegmentAir;
pub use columns::{AMOUNT, BOR, OP_ROWS, PERM_COLS, PUBLIC_VALUES, ROOT, UPDATE_ROWS, WIDTH};
pub use generation::{TraceError, generate_trace};
