//! The account-tree hash: Poseidon2 (KoalaBear, width 16, canonical constants).
//!
//! - A node is `compress(left, right)`: the permutation of `left ‖ right`, truncated
//!   to its first 8 elements (Plonky3's `TruncatedPermutation`).
//! - A leaf is the overwrite sponge (rate 8, zero initial state) over exactly
//!   [`LEAF_FIELDS`] elements: 6 permutations, output the first 8 elements.
//!
//! Both are exactly what one row of the update AIR proves, so the native tree and
//! the AIR cannot disagree.
//!
//! [`compress_many`] and [`hash_leaves`] hash many independent inputs at once,
//! `LANES` permutations per vector instruction (8 with AVX2, the
//! workspace's default build; 1 without, which is the scalar permutation).

use std::sync::OnceLock;

use p3_field::{Field, PackedValue, PrimeCharacteristicRing};
use p3_symmetric::Permutation;

use crate::config::{Perm, Val, permutation};

/// Field elements in a digest (~248 bits).
pub const DIGEST: usize = 8;
/// Field elements in a leaf's content.
pub const LEAF_FIELDS: usize = 48;
/// Sponge absorptions per leaf (`LEAF_FIELDS / DIGEST`).
pub const LEAF_BLOCKS: usize = LEAF_FIELDS / DIGEST;

/// A node or leaf digest.
pub type Digest = [Val; DIGEST];
/// A leaf's content.
pub type LeafFields = [Val; LEAF_FIELDS];

fn perm() -> &'static Perm {
    static PERM: OnceLock<Perm> = OnceLock::new();
    PERM.get_or_init(permutation)
}

/// The full width-16 permutation.
pub fn permute(state: [Val; 16]) -> [Val; 16] {
    let mut state = state;
    perm().permute_mut(&mut state);
    state
}

type Packed = <Val as Field>::Packing;
/// Permutations one packed call computes.
pub const LANES: usize = <Packed as PackedValue>::WIDTH;

/// Permutes every state in place, `LANES` at a time.
pub fn permute_many(states: &mut [[Val; 16]]) {
    let perm = perm();
    let mut chunks = states.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        let mut packed: [Packed; 16] =
            core::array::from_fn(|j| Packed::from_fn(|lane| chunk[lane][j]));
        perm.permute_mut(&mut packed);
        for (lane, state) in chunk.iter_mut().enumerate() {
            for (out, p) in state.iter_mut().zip(&packed) {
                *out = p.as_slice()[lane];
            }
        }
    }
    for state in chunks.into_remainder() {
        perm.permute_mut(state);
    }
}

/// [`compress`] of each `(pairs[2k], pairs[2k + 1])`, in order (a trailing odd
/// digest is ignored).
pub fn compress_many(pairs: &[Digest]) -> Vec<Digest> {
    let mut states: Vec<[Val; 16]> = pairs
        .chunks_exact(2)
        .map(|p| node_input(&p[0], &p[1]))
        .collect();
    permute_many(&mut states);
    states.iter().map(truncate).collect()
}

/// [`hash_leaf`] of each leaf, in order.
pub fn hash_leaves(leaves: &[LeafFields]) -> Vec<Digest> {
    let mut states = vec![[Val::ZERO; 16]; leaves.len()];
    for block in 0..LEAF_BLOCKS {
        for (state, fields) in states.iter_mut().zip(leaves) {
            state[..DIGEST].copy_from_slice(&fields[block * DIGEST..(block + 1) * DIGEST]);
        }
        permute_many(&mut states);
    }
    states.iter().map(truncate).collect()
}

/// The 16-element input of a node's permutation.
pub fn node_input(left: &Digest, right: &Digest) -> [Val; 16] {
    let mut state = [Val::ZERO; 16];
    state[..DIGEST].copy_from_slice(left);
    state[DIGEST..].copy_from_slice(right);
    state
}

/// The input of the parent of `cur` and `sibling`, where `cur_is_right` says which
/// child `cur` is.
pub fn parent_input(cur: &Digest, sibling: &Digest, cur_is_right: bool) -> [Val; 16] {
    if cur_is_right {
        node_input(sibling, cur)
    } else {
        node_input(cur, sibling)
    }
}

/// A node's digest.
pub fn compress(left: &Digest, right: &Digest) -> Digest {
    truncate(&permute(node_input(left, right)))
}

/// The first [`DIGEST`] elements of a permutation output.
pub fn truncate(state: &[Val; 16]) -> Digest {
    let mut digest = [Val::ZERO; DIGEST];
    digest.copy_from_slice(&state[..DIGEST]);
    digest
}

/// The inputs of the [`LEAF_BLOCKS`] sponge permutations of a leaf, in order.
pub fn leaf_inputs(fields: &LeafFields) -> [[Val; 16]; LEAF_BLOCKS] {
    let mut inputs = [[Val::ZERO; 16]; LEAF_BLOCKS];
    let mut state = [Val::ZERO; 16];
    for (block, input) in fields.chunks_exact(DIGEST).zip(inputs.iter_mut()) {
        state[..DIGEST].copy_from_slice(block);
        *input = state;
        state = permute(state);
    }
    inputs
}

/// The overwrite sponge of a leaf, over any number of elements: zero-padded to a
/// whole number of [`DIGEST`]-element blocks (at least one), rate 8, zero initial
/// state, output the first 8 elements. With exactly [`LEAF_FIELDS`] elements it is
/// [`hash_leaf`]. Callers hash inputs whose length the content fixes (a length
/// element, or a fixed layout), so the zero padding is unambiguous.
pub fn sponge(elements: &[Val]) -> Digest {
    let mut state = [Val::ZERO; 16];
    let blocks = elements.len().div_ceil(DIGEST).max(1);
    for b in 0..blocks {
        let block =
            &elements[(b * DIGEST).min(elements.len())..((b + 1) * DIGEST).min(elements.len())];
        state[..DIGEST].fill(Val::ZERO);
        state[..block.len()].copy_from_slice(block);
        state = permute(state);
    }
    truncate(&state)
}

/// A leaf's digest.
pub fn hash_leaf(fields: &LeafFields) -> Digest {
    let inputs = leaf_inputs(fields);
    truncate(&permute(inputs[LEAF_BLOCKS - 1]))
}

#[cfg(test)]
mod tests {
    use p3_symmetric::TruncatedPermutation;
    use p3_symmetric::{CryptographicHasher, PaddingFreeSponge, PseudoCompressionFunction};

    use super::*;

    #[test]
    fn leaf_hash_is_plonky3s_sponge() {
        let fields: LeafFields = core::array::from_fn(|i| Val::from_u32(i as u32 * 7 + 1));
        let sponge = PaddingFreeSponge::<Perm, 16, 8, 8>::new(permutation());
        assert_eq!(hash_leaf(&fields), sponge.hash_iter(fields));
    }

    #[test]
    fn sponge_pads_with_zeros_and_is_the_leaf_hash_at_leaf_length() {
        let fields: LeafFields = core::array::from_fn(|i| Val::from_u32(i as u32 + 3));
        assert_eq!(sponge(&fields), hash_leaf(&fields));
        let short = [Val::from_u32(5), Val::from_u32(6), Val::from_u32(7)];
        let mut padded = [Val::ZERO; 8];
        padded[..3].copy_from_slice(&short);
        assert_eq!(sponge(&short), sponge(&padded));
        assert_eq!(sponge(&[]), sponge(&[Val::ZERO; 8]));
        assert_ne!(sponge(&padded), sponge(&[Val::ZERO; 16]));
    }

    #[test]
    fn batched_hashes_equal_one_at_a_time() {
        // Sizes around the lane count, so full vectors and the scalar tail both run.
        for n in [1, LANES - 1, LANES, LANES + 3, 3 * LANES + 1] {
            let leaves: Vec<LeafFields> = (0..n)
                .map(|k| core::array::from_fn(|i| Val::from_u32((k * 97 + i) as u32)))
                .collect();
            let one: Vec<Digest> = leaves.iter().map(hash_leaf).collect();
            assert_eq!(hash_leaves(&leaves), one);
            let pairs: Vec<Digest> = one.iter().chain(one.iter().rev()).copied().collect();
            let nodes: Vec<Digest> = pairs
                .chunks_exact(2)
                .map(|p| compress(&p[0], &p[1]))
                .collect();
            assert_eq!(compress_many(&pairs), nodes);
        }
    }

    #[test]
    fn node_hash_is_plonky3s_truncated_permutation() {
        let left: Digest = core::array::from_fn(|i| Val::from_u32(i as u32));
        let right: Digest = core::array::from_fn(|i| Val::from_u32(100 + i as u32));
        let compress_fn = TruncatedPermutation::<Perm, 2, 8, 16>::new(permutation());
        assert_eq!(compress(&left, &right), compress_fn.compress([left, right]));
        assert_ne!(compress(&left, &right), compress(&right, &left));
    }
}
