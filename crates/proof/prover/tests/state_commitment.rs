//! The known-answer vectors of `docs/state-commitment.md`, checked against the code.
//!
//! The document's ```` ```vectors ```` blocks are `name = value` lines. This test
//! requires them to hold exactly the names below, in order, with exactly the
//! values the code computes, so the document and the code cannot drift apart:
//! change a value in either and it fails (printing the lines the code expects).
//!
//! Every value is computed twice:
//!
//! - by a rebuild from the document's text ([`reference`]), as a third party would
//!   do it: the Poseidon2 permutation (from the parameters and round constants the
//!   document lists, parsed from it), the leaf layout, the sponge, the node
//!   compression, the child order, the empty subtrees and the 32-byte packing, all
//!   written out again without calling the code;
//! - by the code the chain runs: `ghostplane_stark` (leaf hash, native tree,
//!   packing) and the prover's RocksDB [`AccountTree`] under the STARK backend's
//!   tree hash, filled the way `settlement::tree_genesis` fills it for the devnet.
//!
//! The Groth16 vectors come from the prover's tree under [`PoseidonTree`] and are
//! cross-checked with `ghostplane_primitives::merkle`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use ghostplane_groth16::PoseidonTree;
use ghostplane_primitives::merkle::empty_subtree_roots;
use ghostplane_primitives::tx::{code_hash, contract_address};
use ghostplane_primitives::{AccountId, AccountLeaf, FieldBytes, Keypair, L2Genesis, PublicKey};
use ghostplane_prover::stark::DEVNET_SEGMENT_SLOTS;
use ghostplane_prover::{AccountTree, ProofBackend, StarkBackend, TreeHash};
use ghostplane_stark::config::{FriSettings, Val};
use ghostplane_stark::hash::{Digest, LEAF_FIELDS, compress, hash_leaf, permute};
use ghostplane_stark::segment::Account;
use ghostplane_stark::storage::{
    StorageTree, contract_key_field, empty_slot_leaf, slot_fields, slot_index, slot_leaf,
    storage_root_from_path,
};
use ghostplane_stark::tree::{DEPTH, Tree, root_from_path};
use ghostplane_stark::wire::pack_digest;
use ghostplane_test_utils::dev_l2_genesis;

/// The document, read at compile time (editing it rebuilds this test).
const DOC: &str = include_str!("../../../../docs/state-commitment.md");

/// The devnet's genesis: `ghostplane devnet`'s default `--dev-accounts` and
/// `DEV_BALANCE` (bin/ghostplane/src/sequencer.rs), which this crate cannot link.
const DEVNET_ACCOUNTS: u32 = 16;
const DEVNET_BALANCE: u128 = 1_000_000_000_000_000_000;
/// The path vector's tree: the devnet genesis with 3 accounts.
const PATH_ACCOUNTS: u32 = 3;
const PATH_INDEX: u32 = 1;
/// The leaf vector.
const LEAF_KEY: u32 = 1;
const LEAF_NONCE: u64 = 3;
const LEAF_BALANCES: [u128; 4] = [1, 2, 3, 4];
/// The storage vectors: one slot's value (its key is the bytes 0, 1, …, 31).
const SLOT_VALUE: &[u8] = b"hello";
/// The contract leaf vector: the contract account 1 deploys with nonce 0, with
/// the smallest WASM module as its code.
const CONTRACT_DEPLOYER: u32 = 1;
const CONTRACT_NONCE: u64 = 0;
const CONTRACT_CODE: &[u8] = b"\0asm\x01\0\0\0";
const CONTRACT_LEAF_NONCE: u64 = 2;
const CONTRACT_LEAF_BALANCES: [u128; 4] = [5, 0, 7, 0];

/// Plonky3's own known answer for `default_koalabear_poseidon2_16`
/// (p3-koala-bear 0.8.0, `test_default_koalabear_poseidon2_width_16`).
const PLONKY3_IN: [u32; 16] = [
    894848333, 1437655012, 1200606629, 1690012884, 71131202, 1749206695, 1717947831, 120589055,
    19776022, 42382981, 1831865506, 724844064, 171220207, 1299207443, 227047920, 1783754913,
];
const PLONKY3_OUT: [u32; 16] = [
    1934285469, 604889435, 133449501, 1026180808, 1830659359, 176667110, 1391183747, 351743874,
    1238264085, 1292768839, 2023573270, 1201586780, 1360691759, 1230682461, 748270449, 651545025,
];

/// The rebuild from the document: integers in, integers out, nothing from the
/// code. The permutation's parameters and constants are parsed from the document.
mod reference {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    /// KoalaBear: `2^31 − 2^24 + 1`.
    pub const P: u32 = 0x7f00_0001;
    /// Tree depth.
    pub const DEPTH: usize = 24;

    pub type Digest = [u32; 8];

    /// The permutation's parameters, as the document states them.
    pub struct Params {
        pub sbox_degree: u64,
        pub external_initial: Vec<[u64; 16]>,
        pub internal: Vec<u64>,
        pub external_final: Vec<[u64; 16]>,
        pub internal_diag: [u64; 16],
    }

    static PARAMS: OnceLock<Params> = OnceLock::new();

    fn params() -> &'static Params {
        PARAMS.get_or_init(super::documented_params)
    }

    const Q: u64 = P as u64;

    fn pow(x: u64, mut e: u64) -> u64 {
        let (mut base, mut acc) = (x % Q, 1u64);
        while e > 0 {
            if e & 1 == 1 {
                acc = acc * base % Q;
            }
            base = base * base % Q;
            e >>= 1;
        }
        acc
    }

    /// `x / 2^k` in the field.
    pub fn inverse_power_of_two(k: u32) -> u64 {
        pow(pow(2, u64::from(k)), Q - 2)
    }

    /// `M_E`: `M4` on each 4 consecutive elements, then each element plus the sum
    /// of the elements at its position mod 4 (`circ(2·M4, M4, M4, M4)`).
    fn external_linear(s: &mut [u64; 16]) {
        for c in s.chunks_exact_mut(4) {
            let x = [c[0], c[1], c[2], c[3]];
            // M4 = [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]]
            c[0] = (2 * x[0] + 3 * x[1] + x[2] + x[3]) % Q;
            c[1] = (x[0] + 2 * x[1] + 3 * x[2] + x[3]) % Q;
            c[2] = (x[0] + x[1] + 2 * x[2] + 3 * x[3]) % Q;
            c[3] = (3 * x[0] + x[1] + x[2] + 2 * x[3]) % Q;
        }
        let sums: [u64; 4] = core::array::from_fn(|k| (0..4).map(|j| s[4 * j + k]).sum());
        for (i, v) in s.iter_mut().enumerate() {
            *v = (*v + sums[i % 4]) % Q;
        }
    }

    fn external_round(s: &mut [u64; 16], rc: &[u64; 16], d: u64) {
        for (v, c) in s.iter_mut().zip(rc) {
            *v = pow(*v + c, d);
        }
        external_linear(s);
    }

    /// Poseidon2, width 16, on canonical integers, from the document alone.
    pub fn permute(state: [u32; 16]) -> [u32; 16] {
        assert!(state.iter().all(|&v| v < P));
        let p = params();
        let mut s = state.map(u64::from);
        external_linear(&mut s);
        for rc in &p.external_initial {
            external_round(&mut s, rc, p.sbox_degree);
        }
        for rc in &p.internal {
            s[0] = pow(s[0] + rc, p.sbox_degree);
            // M_I = 1 + diag(V): each element becomes sum + V_i · x_i.
            let sum = s.iter().sum::<u64>() % Q;
            for (v, d) in s.iter_mut().zip(&p.internal_diag) {
                *v = (sum + d * *v) % Q;
            }
        }
        for rc in &p.external_final {
            external_round(&mut s, rc, p.sbox_degree);
        }
        s.map(|v| v as u32)
    }

    /// Node: the first 8 elements of `P(left ‖ right)`.
    pub fn compress(left: &Digest, right: &Digest) -> Digest {
        let mut state = [0u32; 16];
        state[..8].copy_from_slice(left);
        state[8..].copy_from_slice(right);
        let out = permute(state);
        core::array::from_fn(|i| out[i])
    }

    /// Leaf: overwrite sponge, rate 8, zero initial state, 6 blocks, output the
    /// first 8 elements.
    pub fn hash_leaf(fields: &[u32; 48]) -> Digest {
        let mut state = [0u32; 16];
        for block in fields.chunks_exact(8) {
            state[..8].copy_from_slice(block);
            state = permute(state);
        }
        core::array::from_fn(|i| state[i])
    }

    /// The 48 leaf elements of an account.
    pub fn leaf_fields(key: &[u8; 32], nonce: u64, balances: &[u128; 4]) -> [u32; 48] {
        let mut f = [0u32; 48];
        // Balance of token k: elements 8k..8k+8, 16-bit limbs, least significant first.
        for (k, b) in balances.iter().enumerate() {
            for j in 0..8 {
                f[8 * k + j] = ((b >> (16 * j)) & 0xffff) as u32;
            }
        }
        // Key: the 32 bytes as a little-endian 256-bit integer K; element 32 + i is
        // bits 30i..30i+30 of K (the last, element 40, holds bits 240..256).
        for bit in 0..256 {
            if (key[bit / 8] >> (bit % 8)) & 1 == 1 {
                f[32 + bit / 30] |= 1 << (bit % 30);
            }
        }
        // Nonce: elements 41..45, 16-bit limbs, least significant first.
        for j in 0..4 {
            f[41 + j] = ((nonce >> (16 * j)) & 0xffff) as u32;
        }
        f
    }

    /// `empty[h]`: an empty leaf (48 zeros) hashed, then `compress(e, e)` up.
    pub fn empty() -> [Digest; DEPTH + 1] {
        let mut e = [[0u32; 8]; DEPTH + 1];
        e[0] = hash_leaf(&[0; 48]);
        for h in 1..=DEPTH {
            e[h] = compress(&e[h - 1], &e[h - 1]);
        }
        e
    }

    /// The nodes of a sparse tree of depth `empty.len() − 1` over leaf digests, by
    /// height then index (absent = `empty[h]`): node `j` at height `h + 1` is
    /// `compress(node 2j, node 2j + 1)` at height `h`.
    pub fn levels(leaves: BTreeMap<u128, Digest>, empty: &[Digest]) -> Vec<BTreeMap<u128, Digest>> {
        let mut levels = vec![leaves];
        for h in 0..empty.len() - 1 {
            let below = &levels[h];
            let node = |j: u128| below.get(&j).copied().unwrap_or(empty[h]);
            let above = below
                .keys()
                .map(|&i| (i >> 1, compress(&node(i & !1), &node(i | 1))))
                .collect();
            levels.push(above);
        }
        levels
    }

    /// The root of a sparse tree.
    pub fn tree_root(leaves: BTreeMap<u128, Digest>, empty: &[Digest]) -> Digest {
        let top = empty.len() - 1;
        levels(leaves, empty)[top]
            .get(&0)
            .copied()
            .unwrap_or(empty[top])
    }

    /// The siblings of leaf `index`, leaf level first: at height `h` the node
    /// `(index >> h) ^ 1`.
    pub fn tree_siblings(
        leaves: BTreeMap<u128, Digest>,
        empty: &[Digest],
        index: u128,
    ) -> Vec<Digest> {
        let levels = levels(leaves, empty);
        (0..empty.len() - 1)
            .map(|h| {
                levels[h]
                    .get(&((index >> h) ^ 1))
                    .copied()
                    .unwrap_or(empty[h])
            })
            .collect()
    }

    /// Climbs from a leaf digest: at height `h`, bit `h` of `index` set means the
    /// node is the right child.
    pub fn climb(index: u128, leaf: Digest, siblings: &[Digest]) -> Digest {
        let mut cur = leaf;
        for (h, s) in siblings.iter().enumerate() {
            cur = if (index >> h) & 1 == 1 {
                compress(s, &cur)
            } else {
                compress(&cur, s)
            };
        }
        cur
    }

    fn account_digests(leaves: &BTreeMap<u32, [u32; 48]>) -> BTreeMap<u128, Digest> {
        leaves
            .iter()
            .map(|(&i, f)| (u128::from(i), hash_leaf(f)))
            .collect()
    }

    /// The root of an account tree.
    pub fn root(leaves: &BTreeMap<u32, [u32; 48]>) -> Digest {
        tree_root(account_digests(leaves), &empty())
    }

    /// The siblings of account `index`.
    pub fn siblings(leaves: &BTreeMap<u32, [u32; 48]>, index: u32) -> [Digest; DEPTH] {
        tree_siblings(account_digests(leaves), &empty(), u128::from(index))
            .try_into()
            .unwrap()
    }

    /// The 32 wire bytes: element `i` is bits `31i..31i+31` of a 248-bit integer,
    /// written big-endian in 32 bytes (so byte 0 is always 0). Bit by bit, on
    /// purpose: a second implementation of `pack_digest`.
    pub fn pack(d: &Digest) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, v) in d.iter().enumerate() {
            for b in 0..31 {
                if (v >> b) & 1 == 1 {
                    let bit = 31 * i + b;
                    out[31 - bit / 8] |= 1 << (bit % 8);
                }
            }
        }
        out
    }

    /// The overwrite sponge over any number of elements, zero-padded to whole
    /// 8-element blocks.
    pub fn sponge(elements: &[u32]) -> Digest {
        let mut state = [0u32; 16];
        let mut padded = elements.to_vec();
        padded.resize(elements.len().div_ceil(8).max(1) * 8, 0);
        for block in padded.chunks_exact(8) {
            state[..8].copy_from_slice(block);
            state = permute(state);
        }
        core::array::from_fn(|i| state[i])
    }

    /// Nine 30-bit limbs of 32 bytes read as a little-endian integer.
    pub fn limbs(bytes: &[u8; 32]) -> [u32; 9] {
        let mut f = [0u32; 9];
        for bit in 0..256 {
            if (bytes[bit / 8] >> (bit % 8)) & 1 == 1 {
                f[bit / 30] |= 1 << (bit % 30);
            }
        }
        f
    }

    /// A slot's path: from the sponge of its key's limbs and the domain element 2,
    /// the low 22 bits of e0 and e1, then the low 21 of e2 to e5.
    pub fn slot_index(key: &[u8; 32]) -> u128 {
        let mut input = limbs(key).to_vec();
        input.push(2);
        let e = sponge(&input);
        (u128::from(e[0] & 0x3f_ffff) << 106)
            | (u128::from(e[1] & 0x3f_ffff) << 84)
            | (u128::from(e[2] & 0x1f_ffff) << 63)
            | (u128::from(e[3] & 0x1f_ffff) << 42)
            | (u128::from(e[4] & 0x1f_ffff) << 21)
            | u128::from(e[5] & 0x1f_ffff)
    }

    /// A present slot's leaf elements: key limbs, 1, length, 3 bytes per element
    /// little-endian.
    pub fn slot_fields(key: &[u8; 32], value: &[u8]) -> Vec<u32> {
        let mut f = limbs(key).to_vec();
        f.push(1);
        f.push(value.len() as u32);
        for chunk in value.chunks(3) {
            let mut v = 0u32;
            for (i, b) in chunk.iter().enumerate() {
                v += u32::from(*b) << (8 * i);
            }
            f.push(v);
        }
        f
    }

    pub const STORAGE_DEPTH: usize = 128;

    /// `empty[h]` of a storage tree: the sponge of 16 zeros, then `compress(e, e)`.
    pub fn storage_empty() -> Vec<Digest> {
        let mut e = vec![sponge(&[0; 16])];
        for h in 1..=STORAGE_DEPTH {
            e.push(compress(&e[h - 1], &e[h - 1]));
        }
        e
    }

    /// A contract's key field: the packed sponge of its address limbs, code-hash
    /// limbs, storage root and the domain element 3.
    pub fn contract_key_field(address: &[u8; 32], code_hash: &[u8; 32], root: &Digest) -> [u8; 32] {
        let mut input = limbs(address).to_vec();
        input.extend(limbs(code_hash));
        input.extend(root);
        input.push(3);
        pack(&sponge(&input))
    }
}

fn canonical(v: &Val) -> u32 {
    // KoalaBear's Display is the canonical value (Plonky3 keeps Montgomery form).
    v.to_string().parse().unwrap()
}

fn ints<const N: usize>(d: &[Val; N]) -> [u32; N] {
    d.map(|v| canonical(&v))
}

fn list(values: &[u32]) -> String {
    let items: Vec<String> = values.iter().map(u32::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn hex(bytes: &[u8; 32]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap()
}

fn dev_key(i: u32) -> PublicKey {
    Keypair::dev(i).public_key()
}

fn stark_tree_hash() -> Arc<dyn TreeHash> {
    StarkBackend::new(FriSettings::SETTLEMENT, DEVNET_SEGMENT_SLOTS)
        .unwrap()
        .tree_hash()
}

/// A genesis in the prover's RocksDB tree, as `settlement::tree_genesis` writes it.
fn genesis_tree(
    dir: &std::path::Path,
    hash: Arc<dyn TreeHash>,
    genesis: &L2Genesis,
) -> AccountTree {
    let db = ghostplane_prover::open_db(dir).unwrap();
    let mut tree = AccountTree::open(db, hash).unwrap();
    tree.update_many(&genesis.leaves().unwrap()).unwrap();
    tree.commit(0, rocksdb::WriteBatch::default()).unwrap();
    tree
}

fn reference_leaves(genesis: &L2Genesis) -> BTreeMap<u32, [u32; 48]> {
    genesis
        .accounts()
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let fields = reference::leaf_fields(&a.key.0, 0, &a.balances);
            (i as u32, fields)
        })
        .collect()
}

/// Every vector, as the code computes it, in the document's order; each one
/// checked against the reference rebuild on the way.
fn computed() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    let mut put = |name: &str, value: String| v.push((name.to_string(), value));

    // The field.
    let p = reference::P;
    assert_eq!(canonical(&(Val::new(p - 1) + Val::new(1))), 0);
    put("modulus", p.to_string());

    // The permutation: the document's parameters and constants, run by the
    // reference, are the code's permutation.
    let doc = doc_map();
    for name in PERMUTATION_PARAMS {
        put(name, doc[name].clone());
    }
    let mut x = [0u32; 16];
    for round in 0..8u32 {
        let code = ints(&permute(x.map(Val::new)));
        assert_eq!(reference::permute(x), code, "permutation, input {x:?}");
        x = core::array::from_fn(|i| code[(i + round as usize) % 16] ^ ((i as u32) << round));
        x = x.map(|v| v % reference::P);
    }
    let input: [u32; 16] = core::array::from_fn(|i| i as u32);
    let out = ints(&permute(input.map(Val::new)));
    assert_eq!(out, reference::permute(input));
    put("permutation_in", list(&input));
    put("permutation_out", list(&out));
    let p3 = ints(&permute(PLONKY3_IN.map(Val::new)));
    assert_eq!(p3, PLONKY3_OUT, "Plonky3's own known answer");
    put("plonky3_in", list(&PLONKY3_IN));
    put("plonky3_out", list(&p3));
    // A node is the truncated permutation: compress([0..8], [8..16]) = out[..8].
    let left: Digest = core::array::from_fn(|i| Val::new(i as u32));
    let right: Digest = core::array::from_fn(|i| Val::new(8 + i as u32));
    assert_eq!(ints(&compress(&left, &right)), out[..8]);

    // A leaf.
    let key = dev_key(LEAF_KEY);
    let account = Account {
        key: key.0,
        nonce: LEAF_NONCE,
        balances: LEAF_BALANCES,
    };
    let fields = ints(&account.fields());
    assert_eq!(
        fields,
        reference::leaf_fields(&key.0, LEAF_NONCE, &LEAF_BALANCES)
    );
    let digest = hash_leaf(&account.fields());
    assert_eq!(ints(&digest), reference::hash_leaf(&fields));
    assert_eq!(pack_digest(&digest), reference::pack(&ints(&digest)));
    let leaf = AccountLeaf {
        public_key: key,
        nonce: LEAF_NONCE,
        balances: LEAF_BALANCES,
    };
    assert_eq!(stark_tree_hash().leaf(&leaf), pack_digest(&digest));
    put("leaf_key", hex(&key.0));
    put("leaf_nonce", LEAF_NONCE.to_string());
    put("leaf_balances", format!("{LEAF_BALANCES:?}"));
    for (b, block) in fields.chunks_exact(8).enumerate() {
        put(&format!("leaf_block_{b}"), list(block));
    }
    put("leaf_digest", list(&ints(&digest)));
    put("leaf_packed", hex(&pack_digest(&digest)));

    // The empty tree.
    let empty = reference::empty();
    let stark_hash = stark_tree_hash();
    let native_empty = Tree::new();
    assert_eq!(ints(&hash_leaf(&[Val::new(0); LEAF_FIELDS])), empty[0]);
    put("empty_leaf_digest", list(&empty[0]));
    for (h, e) in empty.iter().enumerate() {
        assert_eq!(stark_hash.empty(h), reference::pack(e), "empty[{h}]");
        put(&format!("empty_{h}"), hex(&reference::pack(e)));
    }
    assert_eq!(
        pack_digest(&native_empty.root()),
        reference::pack(&empty[DEPTH])
    );
    let dir = tempfile::tempdir().unwrap();
    let empty_tree = genesis_tree(dir.path(), stark_tree_hash(), &L2Genesis::default());
    assert_eq!(
        *empty_tree.root_at(0).unwrap().as_bytes(),
        reference::pack(&empty[DEPTH])
    );
    put(
        "empty_tree_root",
        empty_tree.root_at(0).unwrap().to_string(),
    );

    // The devnet genesis root.
    let devnet = dev_l2_genesis(DEVNET_ACCOUNTS, [DEVNET_BALANCE; 4]);
    let dir = tempfile::tempdir().unwrap();
    let tree = genesis_tree(dir.path(), stark_tree_hash(), &devnet);
    let root = tree.root_at(0).unwrap();
    let reference_root = reference::root(&reference_leaves(&devnet));
    assert_eq!(*root.as_bytes(), reference::pack(&reference_root));
    let mut native = Tree::new();
    for (i, a) in devnet.accounts().iter().enumerate() {
        let account = Account {
            key: a.key.0,
            nonce: 0,
            balances: a.balances,
        };
        native.update(i as u32, account.fields()).unwrap();
    }
    assert_eq!(pack_digest(&native.root()), *root.as_bytes());
    put("devnet_accounts", DEVNET_ACCOUNTS.to_string());
    put("devnet_balance", DEVNET_BALANCE.to_string());
    put("devnet_genesis_root", root.to_string());

    // One account path.
    let small = dev_l2_genesis(PATH_ACCOUNTS, [DEVNET_BALANCE; 4]);
    let dir = tempfile::tempdir().unwrap();
    let mut tree = genesis_tree(dir.path(), stark_tree_hash(), &small);
    let path = tree.path(id(PATH_INDEX)).unwrap();
    let leaves = reference_leaves(&small);
    let siblings = reference::siblings(&leaves, PATH_INDEX);
    assert_eq!(path.len(), DEPTH);
    for (h, (node, s)) in path.iter().zip(&siblings).enumerate() {
        assert_eq!(*node, reference::pack(s), "sibling {h}");
        if h >= 2 {
            assert_eq!(*s, empty[h], "sibling {h} is empty[{h}]");
        }
    }
    let leaf_digest = reference::hash_leaf(&leaves[&PATH_INDEX]);
    let root = reference::climb(u128::from(PATH_INDEX), leaf_digest, &siblings);
    assert_eq!(root, reference::root(&leaves));
    assert_eq!(*tree.root_at(0).unwrap().as_bytes(), reference::pack(&root));
    let native_siblings: [Digest; DEPTH] = core::array::from_fn(|h| siblings[h].map(Val::new));
    let native_leaf = Account {
        key: small.accounts()[PATH_INDEX as usize].key.0,
        nonce: 0,
        balances: [DEVNET_BALANCE; 4],
    }
    .fields();
    assert_eq!(
        ints(&root_from_path(PATH_INDEX, &native_leaf, &native_siblings)),
        root
    );
    put("path_accounts", PATH_ACCOUNTS.to_string());
    put("path_index", PATH_INDEX.to_string());
    put("path_leaf", hex(&reference::pack(&leaf_digest)));
    put("path_sibling_0", hex(&path[0]));
    put("path_sibling_1", hex(&path[1]));
    put("path_root", hex(&reference::pack(&root)));

    // An exit claim of that account's GCC, built from the document's rule: the
    // message, the key's signature, and the path climbed with the backend's hash
    // (what ghostd checks) to the documented root.
    let owner = Keypair::dev(PATH_INDEX);
    let recipient = owner.public_key().0;
    let mut message = b"ghostplane/exit-claim/v1".to_vec();
    message.extend_from_slice(&ghostplane_primitives::DEVNET_CHAIN_ID.0.to_le_bytes());
    message.extend_from_slice(&PATH_INDEX.to_le_bytes());
    message.push(0);
    message.extend_from_slice(&recipient);
    let signature = owner.sign_bytes(&message);
    ghostplane_primitives::keys::verify(&owner.public_key(), &message, &signature).unwrap();
    let claimed = AccountLeaf {
        public_key: owner.public_key(),
        nonce: 0,
        balances: [DEVNET_BALANCE; 4],
    };
    let climbed = ghostplane_prover::backend::root_from_path(
        stark_tree_hash().as_ref(),
        PATH_INDEX,
        &claimed,
        &path,
    )
    .unwrap();
    assert_eq!(climbed, reference::pack(&root));
    put(
        "claim_l2_chain_id",
        ghostplane_primitives::DEVNET_CHAIN_ID.0.to_string(),
    );
    put("claim_account", PATH_INDEX.to_string());
    put("claim_token", "0".into());
    put("claim_recipient", hex(&recipient));
    put("claim_message", format!("0x{}", ::hex::encode(&message)));
    put(
        "claim_signature",
        format!("0x{}", ::hex::encode(signature.0)),
    );
    put("claim_amount", DEVNET_BALANCE.to_string());

    // The Groth16 tree.
    let groth16_leaf = FieldBytes::from(leaf.hash());
    assert_eq!(PoseidonTree.leaf(&leaf), *groth16_leaf.as_bytes());
    put("groth16_leaf", groth16_leaf.to_string());
    let dir = tempfile::tempdir().unwrap();
    let tree = genesis_tree(dir.path(), Arc::new(PoseidonTree), &L2Genesis::default());
    let groth16_empty = tree.root_at(0).unwrap();
    assert_eq!(groth16_empty, FieldBytes::from(empty_subtree_roots()[12]));
    put("groth16_empty_tree_root", groth16_empty.to_string());
    let dir = tempfile::tempdir().unwrap();
    let tree = genesis_tree(dir.path(), Arc::new(PoseidonTree), &devnet);
    put(
        "groth16_devnet_genesis_root",
        tree.root_at(0).unwrap().to_string(),
    );

    // Storage: one slot, the empty values, and a path in a three-slot tree.
    let slot_key: [u8; 32] = core::array::from_fn(|i| i as u8);
    let slot_sponge = {
        let mut input = reference::limbs(&slot_key).to_vec();
        input.push(2);
        reference::sponge(&input)
    };
    let slot_idx = reference::slot_index(&slot_key);
    assert_eq!(slot_index(&slot_key), slot_idx);
    let slot_elements = reference::slot_fields(&slot_key, SLOT_VALUE);
    assert_eq!(
        slot_fields(&slot_key, SLOT_VALUE)
            .unwrap()
            .iter()
            .map(canonical)
            .collect::<Vec<_>>(),
        slot_elements
    );
    let slot_digest = reference::sponge(&slot_elements);
    assert_eq!(
        ints(&slot_leaf(&slot_key, Some(SLOT_VALUE)).unwrap()),
        slot_digest
    );
    let empty_value = reference::sponge(&reference::slot_fields(&slot_key, b""));
    assert_eq!(ints(&slot_leaf(&slot_key, Some(b"")).unwrap()), empty_value);
    let storage_empty = reference::storage_empty();
    assert_eq!(ints(&empty_slot_leaf()), storage_empty[0]);
    assert_eq!(
        ints(&StorageTree::new().root()),
        storage_empty[reference::STORAGE_DEPTH]
    );
    put("storage_key", hex(&slot_key));
    put("storage_value", format!("0x{}", ::hex::encode(SLOT_VALUE)));
    put("storage_path_sponge", list(&slot_sponge));
    put("storage_path_index", slot_idx.to_string());
    put("storage_leaf_elements", list(&slot_elements));
    put("storage_leaf", hex(&reference::pack(&slot_digest)));
    put(
        "storage_empty_value_leaf",
        hex(&reference::pack(&empty_value)),
    );
    put(
        "storage_empty_leaf",
        hex(&reference::pack(&storage_empty[0])),
    );
    put(
        "storage_empty_root",
        hex(&reference::pack(&storage_empty[reference::STORAGE_DEPTH])),
    );

    let slots: [([u8; 32], &[u8]); 3] = [
        (slot_key, SLOT_VALUE),
        ([0xff; 32], b""),
        ([0; 32], &[0x2a]),
    ];
    let mut storage = StorageTree::new();
    let mut reference_slots = BTreeMap::new();
    for (key, value) in slots {
        storage.set(&key, Some(value)).unwrap();
        let leaf = reference::sponge(&reference::slot_fields(&key, value));
        reference_slots.insert(reference::slot_index(&key), leaf);
    }
    let storage_root = reference::tree_root(reference_slots.clone(), &storage_empty);
    assert_eq!(ints(&storage.root()), storage_root);
    let siblings = reference::tree_siblings(reference_slots, &storage_empty, slot_idx);
    let (index, native_siblings) = storage.path(&slot_key);
    assert_eq!(index, slot_idx);
    for (h, (native, s)) in native_siblings.iter().zip(&siblings).enumerate() {
        assert_eq!(ints(native), *s, "storage sibling {h}");
    }
    assert_eq!(
        reference::climb(slot_idx, slot_digest, &siblings),
        storage_root
    );
    assert_eq!(
        ints(&storage_root_from_path(
            slot_idx,
            slot_leaf(&slot_key, Some(SLOT_VALUE)).unwrap(),
            &native_siblings
        )),
        storage_root
    );
    let occupied: Vec<usize> = (0..reference::STORAGE_DEPTH)
        .filter(|&h| siblings[h] != storage_empty[h])
        .collect();
    put("storage_path_occupied", format!("{occupied:?}"));
    for h in occupied {
        put(
            &format!("storage_path_sibling_{h}"),
            hex(&reference::pack(&siblings[h])),
        );
    }
    put("storage_root", hex(&reference::pack(&storage_root)));

    // A contract leaf with that storage.
    let address = contract_address(id(CONTRACT_DEPLOYER), CONTRACT_NONCE);
    let code = code_hash(CONTRACT_CODE);
    let field = reference::contract_key_field(&address.0, &code.0, &storage_root);
    assert_eq!(
        contract_key_field(&address.0, &code.0, &storage.root()),
        field
    );
    let contract = Account {
        key: field,
        nonce: CONTRACT_LEAF_NONCE,
        balances: CONTRACT_LEAF_BALANCES,
    };
    let contract_leaf = reference::hash_leaf(&reference::leaf_fields(
        &field,
        CONTRACT_LEAF_NONCE,
        &CONTRACT_LEAF_BALANCES,
    ));
    assert_eq!(ints(&hash_leaf(&contract.fields())), contract_leaf);
    put("contract_address", hex(&address.0));
    put("contract_code_hash", hex(&code.0));
    put("contract_key_field", hex(&field));
    put("contract_leaf_nonce", CONTRACT_LEAF_NONCE.to_string());
    put(
        "contract_leaf_balances",
        format!("{CONTRACT_LEAF_BALANCES:?}"),
    );
    put("contract_leaf", hex(&reference::pack(&contract_leaf)));

    v
}

/// The permutation's parameters in the document, in order.
const PERMUTATION_PARAMS: [&str; 13] = [
    "sbox_degree",
    "external_rounds",
    "internal_rounds",
    "internal_diag",
    "rc_external_initial_0",
    "rc_external_initial_1",
    "rc_external_initial_2",
    "rc_external_initial_3",
    "rc_internal",
    "rc_external_final_0",
    "rc_external_final_1",
    "rc_external_final_2",
    "rc_external_final_3",
];

fn doc_map() -> BTreeMap<String, String> {
    documented().into_iter().collect()
}

/// `[a, b, …]` of decimal or `0x` hex integers.
fn parse_list(s: &str) -> Vec<u64> {
    s.trim_matches(['[', ']'])
        .split(", ")
        .map(|x| match x.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => x.parse().unwrap(),
        })
        .collect()
}

/// The permutation as the document states it (what [`reference::permute`] runs).
fn documented_params() -> reference::Params {
    let doc = doc_map();
    let get = |name: &str| {
        doc.get(name)
            .unwrap_or_else(|| panic!("docs/state-commitment.md has no `{name}`"))
    };
    let rows = |prefix: &str| -> Vec<[u64; 16]> {
        (0..)
            .map_while(|r| doc.get(&format!("{prefix}_{r}")))
            .map(|row| parse_list(row).try_into().unwrap())
            .collect()
    };
    let params = reference::Params {
        sbox_degree: get("sbox_degree").parse().unwrap(),
        external_initial: rows("rc_external_initial"),
        internal: parse_list(get("rc_internal")),
        external_final: rows("rc_external_final"),
        internal_diag: parse_list(get("internal_diag")).try_into().unwrap(),
    };
    let external: usize = get("external_rounds").parse().unwrap();
    let internal: usize = get("internal_rounds").parse().unwrap();
    assert_eq!(params.external_initial.len(), external / 2);
    assert_eq!(params.external_final.len(), external / 2);
    assert_eq!(params.internal.len(), internal);
    // V = [−2, 1, 2, 1/2, 3, 4, −1/2, −3, −4, 1/2^8, 1/8, 1/2^24, −1/2^8, −1/8, −1/16, −1/2^24]
    let q = u64::from(reference::P);
    let inv = reference::inverse_power_of_two;
    let neg = |x: u64| (q - x) % q;
    let v = [
        neg(2),
        1,
        2,
        inv(1),
        3,
        4,
        neg(inv(1)),
        neg(3),
        neg(4),
        inv(8),
        inv(3),
        inv(24),
        neg(inv(8)),
        neg(inv(3)),
        neg(inv(4)),
        neg(inv(24)),
    ];
    assert_eq!(params.internal_diag, v, "internal_diag");
    params
}

/// The `name = value` lines of the document's ```` ```vectors ```` blocks.
fn documented() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in DOC.lines() {
        let line = line.trim();
        if !inside {
            inside = line == "```vectors";
            continue;
        }
        if line.starts_with("```") {
            inside = false;
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("not a `name = value` line: {line}"));
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
    out
}

#[test]
fn the_documented_vectors_are_what_the_code_computes() {
    let computed = computed();
    let documented = documented();
    let expected: String = computed
        .iter()
        .map(|(n, v)| format!("{n} = {v}\n"))
        .collect();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&documented),
        names(&computed),
        "the document's vectors are not the test's; the code computes:\n{expected}"
    );
    for ((name, doc), (_, code)) in documented.iter().zip(&computed) {
        assert_eq!(
            doc, code,
            "`{name}` in docs/state-commitment.md is not what the code computes; the code computes:\n{expected}"
        );
    }
}

/// The document's packing rule, run backwards on its own numbers: every packed
/// digest in the document is its elements at 31 bits each.
#[test]
fn the_documented_packings_match_their_elements() {
    let doc = doc_map();
    for (elements, packed) in [
        ("leaf_digest", "leaf_packed"),
        ("empty_leaf_digest", "empty_0"),
    ] {
        let d: Vec<u32> = parse_list(&doc[elements])
            .iter()
            .map(|&x| x as u32)
            .collect();
        let d: reference::Digest = d.try_into().unwrap();
        assert_eq!(hex(&reference::pack(&d)), doc[packed], "{packed}");
    }
}
