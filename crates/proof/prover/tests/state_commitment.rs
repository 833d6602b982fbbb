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
mod reference;

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
    let doc = reference::doc_map();
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

#[test]
fn the_documented_vectors_are_what_the_code_computes() {
    let computed = computed();
    let documented = reference::documented();
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
    let doc = reference::doc_map();
    for (elements, packed) in [
        ("leaf_digest", "leaf_packed"),
        ("empty_leaf_digest", "empty_0"),
    ] {
        let d: Vec<u32> = reference::parse_list(&doc[elements])
            .iter()
            .map(|&x| x as u32)
            .collect();
        let d: reference::Digest = d.try_into().unwrap();
        assert_eq!(hex(&reference::pack(&d)), doc[packed], "{packed}");
    }
}
