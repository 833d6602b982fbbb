//! The account tree's hashing (DESIGN §3.2) and its Merkle proofs.
//!
//! The tree is sparse, index-addressed, 4-ary and [`ACCOUNT_TREE_DEPTH`] (12) levels
//! deep, so it has 4^12 = 2^24 leaves, one per [`AccountId`].
//!
//! ```text
//! leaf  = Poseidon(pk_hi, pk_lo, nonce, bal_GCC, bal_SPIRIT, bal_MANA, bal_GHOST)
//!         (0 for an account that does not exist)
//! node  = Poseidon(c0, c1, c2, c3)
//! state = Poseidon(accounts_root, contracts_root)
//! ```
//!
//! `pk_hi` and `pk_lo` are the first and last 16 bytes of the public key, each read as
//! a big-endian integer. The child of a node that holds leaf `i` is digit `d` of `i` in
//! base 4, most significant digit first (level 0 is just under the root).

use std::sync::OnceLock;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::constants::{ACCOUNT_TREE_ARITY, ACCOUNT_TREE_DEPTH};
use crate::poseidon::{FieldBytes, Fr, poseidon_n};
use crate::types::{AccountId, Amount, Nonce, PublicKey, TokenId};

/// What the account tree commits to for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub struct AccountLeaf {
    /// The account's key, fixed at creation.
    pub public_key: PublicKey,
    /// The account's next nonce.
    pub nonce: Nonce,
    /// Balances, indexed by [`TokenId::id`].
    pub balances: [Amount; 4],
}

impl AccountLeaf {
    /// A fresh account: nonce 0, empty balances.
    pub fn new(public_key: PublicKey) -> Self {
        Self {
            public_key,
            nonce: 0,
            balances: [0; 4],
        }
    }

    /// The balance of `token`.
    pub fn balance(&self, token: TokenId) -> Amount {
        self.balances[usize::from(token.id())]
    }

    /// The leaf hash.
    pub fn hash(&self) -> Fr {
        let (pk_hi, pk_lo) = public_key_limbs(&self.public_key);
        let [b0, b1, b2, b3] = self.balances.map(Fr::from);
        poseidon_n(&[pk_hi, pk_lo, Fr::from(self.nonce), b0, b1, b2, b3])
    }
}

/// The two 128-bit limbs `(pk_hi, pk_lo)` a public key enters the leaf as.
pub fn public_key_limbs(key: &PublicKey) -> (Fr, Fr) {
    let mut hi = [0u8; 16];
    let mut lo = [0u8; 16];
    hi.copy_from_slice(&key.0[..16]);
    lo.copy_from_slice(&key.0[16..]);
    (
        Fr::from(u128::from_be_bytes(hi)),
        Fr::from(u128::from_be_bytes(lo)),
    )
}

/// Hash of an inner node from its four children.
pub fn node_hash(children: &[Fr; ACCOUNT_TREE_ARITY]) -> Fr {
    poseidon_n(children)
}

/// `state_root = Poseidon(accounts_root, contracts_root)`.
pub fn state_root(accounts_root: Fr, contracts_root: Fr) -> Fr {
    poseidon_n(&[accounts_root, contracts_root])
}

/// `empty_subtree_roots()[h]` is the root of an empty subtree of height `h`
/// (`[0]` = empty leaf = 0, `[12]` = root of the empty account tree).
pub fn empty_subtree_roots() -> &'static [Fr; ACCOUNT_TREE_DEPTH + 1] {
    static ROOTS: OnceLock<[Fr; ACCOUNT_TREE_DEPTH + 1]> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = [Fr::from(0u64); ACCOUNT_TREE_DEPTH + 1];
        for height in 1..=ACCOUNT_TREE_DEPTH {
            let child = roots[height - 1];
            roots[height] = node_hash(&[child; ACCOUNT_TREE_ARITY]);
        }
        roots
    })
}

/// The child position (0 to 3) of `index` at each level, from the leaf up.
pub fn path_positions(index: AccountId) -> [usize; ACCOUNT_TREE_DEPTH] {
    let mut positions = [0usize; ACCOUNT_TREE_DEPTH];
    let mut rest = index.index();
    for position in &mut positions {
        *position = rest % ACCOUNT_TREE_ARITY;
        rest /= ACCOUNT_TREE_ARITY;
    }
    positions
}

/// A Merkle proof that a leaf sits at `index` under some root.
///
/// `siblings[h]` holds the three siblings at height `h` (0 = next to the leaf), in
/// child order with the leaf's own position left out.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MerkleProof {
    /// The leaf's position.
    pub index: AccountId,
    /// Three siblings per level, leaf level first.
    pub siblings: [[FieldBytes; ACCOUNT_TREE_ARITY - 1]; ACCOUNT_TREE_DEPTH],
}

impl MerkleProof {
    /// The root this proof yields for a leaf whose hash is `leaf`.
    pub fn compute_root(&self, leaf: Fr) -> Fr {
        let mut current = leaf;
        for (siblings, position) in self.siblings.iter().zip(path_positions(self.index)) {
            let mut children = [Fr::from(0u64); ACCOUNT_TREE_ARITY];
            let mut others = siblings.iter();
            for (slot, child) in children.iter_mut().enumerate() {
                *child = if slot == position {
                    current
                } else {
                    others.next().map_or(Fr::from(0u64), |s| s.to_fr())
                };
            }
            current = node_hash(&children);
        }
        current
    }

    /// Whether `leaf` (`None` = empty) sits at `self.index` under `root`.
    pub fn verify(&self, root: Fr, leaf: Option<&AccountLeaf>) -> bool {
        let leaf_hash = leaf.map_or(Fr::from(0u64), AccountLeaf::hash);
        self.compute_root(leaf_hash) == root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_roots_chain() {
        let roots = empty_subtree_roots();
        assert_eq!(roots[0], Fr::from(0u64));
        for h in 1..=ACCOUNT_TREE_DEPTH {
            assert_eq!(roots[h], node_hash(&[roots[h - 1]; 4]));
        }
    }

    #[test]
    fn positions_are_base4_digits() {
        let id = AccountId::new(0b11_10_01_00).unwrap();
        let positions = path_positions(id);
        assert_eq!(&positions[..5], &[0, 1, 2, 3, 0]);
        assert_eq!(path_positions(AccountId::MAX), [3; ACCOUNT_TREE_DEPTH]);
    }

    #[test]
    fn limbs_split_big_endian() {
        let mut key = [0u8; 32];
        key[15] = 1;
        key[31] = 2;
        let (hi, lo) = public_key_limbs(&PublicKey(key));
        assert_eq!(hi, Fr::from(1u64));
        assert_eq!(lo, Fr::from(2u64));
    }
}
