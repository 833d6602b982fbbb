//! The chunk circuit: honest batches satisfy it; each kind of bad witness does not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::batch as common;

use std::collections::HashMap;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use common::*;
use ghostplane_groth16::circuit::{Assignment, LegAssignment, SlotAssignment};
use ghostplane_groth16::witness::SlotFields;
use ghostplane_groth16::{ChunkCircuit, CircuitShape};
use ghostplane_primitives::merkle::{empty_subtree_roots, node_hash, public_key_limbs};
use ghostplane_primitives::poseidon::poseidon_n;
use ghostplane_primitives::{ACCOUNT_TREE_DEPTH, AccountLeaf, Fr, TokenId};
use ghostplane_proof_backend::OpKind;

fn satisfied(assignment: Assignment) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    ChunkCircuit { assignment }
        .generate_constraints(cs.clone())
        .unwrap();
    cs.is_satisfied().unwrap()
}

#[test]
fn honest_batch_satisfies_every_chunk_and_roots_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, mut tree) = open_tree(dir.path());
    genesis(&mut tree);
    let genesis_root = tree.root().unwrap().to_fr();
    let chunks = build(&mut tree, 2, &mixed_ops());
    // 7 provable ops; the fee account's own transfer closes a chunk early.
    assert_eq!(chunks.len(), 4);
    assert_eq!(chunks[0].old_root.to_fr(), genesis_root);
    for pair in chunks.windows(2) {
        assert_eq!(pair[0].new_root, pair[1].old_root);
    }
    assert_eq!(
        chunks.last().unwrap().new_root.to_fr(),
        tree.root().unwrap().to_fr()
    );
    for chunk in &chunks {
        assert!(satisfied(Assignment::from_witness(chunk)));
    }

    // The tree ends where the executor's rules say it should.
    let mut leaf = |i| tree.leaf(id(i)).unwrap().unwrap();
    let fees = 7 + 5 + 3 + 2 + 1;
    assert_eq!(
        leaf(0).balances,
        [1_000_000 - 1 - 1 + fees, 5_000, 7_000, 9_000]
    );
    assert_eq!(leaf(0).nonce, 1);
    assert_eq!(
        leaf(1).balances,
        [1_000_000 - 300 - 7 - 5 - 2 + 1, 5_000 - 40, 7_000, 9_000]
    );
    assert_eq!(leaf(1).nonce, 3);
    assert_eq!(
        leaf(2).balances,
        [1_000_000 + 300 - 3, 5_000, 7_011, 9_000 - 13]
    );
    assert_eq!(leaf(3).balances, [0, 40, 0, 0]);
    assert_eq!(leaf(4).balances, [0, 0, 0, 12]);

    // The same leaves written in one parallel batch give the same root.
    let other = tempfile::tempdir().unwrap();
    let (_db2, mut fresh) = open_tree(other.path());
    let finals: Vec<_> = (0..5).map(|i| (id(i), leaf(i))).collect();
    fresh.update_many(&finals).unwrap();
    assert_eq!(fresh.root().unwrap(), tree.root().unwrap());
}

#[test]
fn constraint_counts_per_slot() {
    let per_op = CircuitShape::constraints_per_op().unwrap();
    let one = CircuitShape::measure(1).unwrap();
    println!(
        "constraints: chunk_ops=1 {} (fee leg and header {}), per op slot {per_op}",
        one.constraints,
        one.constraints - per_op
    );
    assert_eq!(one.public_inputs, 3);
    assert!(per_op > 10_000, "a slot holds two leaf updates: {per_op}");
}

// ---------------------------------------------------------------------------
// Dishonest witnesses. Each is built consistently (the public roots and C are
// recomputed from the tampered values) so that only the targeted check can fail,
// and each has an honest control built by the same code that must pass.

/// A sparse tree over raw field elements (leaves may hold out-of-range values).
#[derive(Default, Clone)]
struct FieldTree {
    nodes: HashMap<(usize, u64), Fr>,
}

impl FieldTree {
    fn node(&self, h: usize, i: u64) -> Fr {
        self.nodes
            .get(&(h, i))
            .copied()
            .unwrap_or(empty_subtree_roots()[h])
    }

    fn siblings(&self, index: u64) -> [[Fr; 3]; ACCOUNT_TREE_DEPTH] {
        let mut out = [[Fr::from(0u64); 3]; ACCOUNT_TREE_DEPTH];
        let mut i = index;
        for (h, level) in out.iter_mut().enumerate() {
            let first = i - i % 4;
            let mut k = 0;
            for c in first..first + 4 {
                if c != i {
                    level[k] = self.node(h, c);
                    k += 1;
                }
            }
            i /= 4;
        }
        out
    }

    fn set(&mut self, index: u64, leaf: Fr) {
        let siblings = self.siblings(index);
        self.nodes.insert((0, index), leaf);
        let mut i = index;
        let mut current = leaf;
        for (h, s) in siblings.iter().enumerate() {
            current = parent(current, i % 4, s);
            i /= 4;
            self.nodes.insert((h + 1, i), current);
        }
    }

    fn root(&self) -> Fr {
        self.node(ACCOUNT_TREE_DEPTH, 0)
    }
}

fn parent(current: Fr, position: u64, s: &[Fr; 3]) -> Fr {
    let mut children = [Fr::from(0u64); 4];
    let mut k = 0;
    for (slot, child) in children.iter_mut().enumerate() {
        if slot as u64 == position {
            *child = current;
        } else {
            *child = s[k];
            k += 1;
        }
    }
    node_hash(&children)
}

fn root_from(index: u64, leaf: Fr, siblings: &[[Fr; 3]; ACCOUNT_TREE_DEPTH]) -> Fr {
    let mut i = index;
    let mut current = leaf;
    for s in siblings {
        current = parent(current, i % 4, s);
        i /= 4;
    }
    current
}

#[derive(Clone, Copy)]
struct Fields {
    key: [Fr; 2],
    nonce: Fr,
    balances: [Fr; 4],
}

impl Fields {
    fn of(leaf: &AccountLeaf) -> Self {
        let (hi, lo) = public_key_limbs(&leaf.public_key);
        Self {
            key: [hi, lo],
            nonce: Fr::from(leaf.nonce),
            balances: leaf.balances.map(Fr::from),
        }
    }

    fn hash(&self) -> Fr {
        let [b0, b1, b2, b3] = self.balances;
        poseidon_n(&[self.key[0], self.key[1], self.nonce, b0, b1, b2, b3])
    }
}

fn genesis_field_tree() -> (FieldTree, Vec<Fields>) {
    let mut tree = FieldTree::default();
    let leaves: Vec<Fields> = genesis_leaves()
        .iter()
        .map(|(_, l)| Fields::of(l))
        .collect();
    for (i, f) in leaves.iter().enumerate() {
        tree.set(i as u64, f.hash());
    }
    (tree, leaves)
}

fn leg(f: &Fields, siblings: [[Fr; 3]; ACCOUNT_TREE_DEPTH]) -> LegAssignment {
    LegAssignment {
        nonce: f.nonce,
        balances: f.balances,
        siblings,
    }
}

fn zero_leg() -> LegAssignment {
    LegAssignment {
        nonce: Fr::from(0u64),
        balances: [Fr::from(0u64); 4],
        siblings: [[Fr::from(0u64); 3]; ACCOUNT_TREE_DEPTH],
    }
}

fn finish(mut a: Assignment) -> Assignment {
    a.commitment = a.recompute_commitment();
    a
}

#[derive(Default, Clone, Copy)]
struct TransferTamper {
    amount: Option<Fr>,
    nonce_offset: u64,
}

/// A one-slot chunk: account 1 sends SPIRIT to account 2, fee to account 0.
fn transfer(t: TransferTamper) -> Assignment {
    let (mut tree, leaves) = genesis_field_tree();
    let old_root = tree.root();
    let amount = t.amount.unwrap_or(Fr::from(40u64));
    let fee = Fr::from(7u64);
    let token = TokenId::Spirit.id() as usize;

    let a_old = leaves[1];
    let a_siblings = tree.siblings(1);
    let mut a_new = a_old;
    a_new.nonce += Fr::from(1u64);
    a_new.balances[token] -= amount;
    a_new.balances[0] -= fee;
    tree.set(1, a_new.hash());

    let b_old = leaves[2];
    let b_siblings = tree.siblings(2);
    let mut b_new = b_old;
    b_new.balances[token] += amount;
    tree.set(2, b_new.hash());

    let f_old = leaves[0];
    let f_siblings = tree.siblings(0);
    let mut f_new = f_old;
    f_new.balances[0] += fee;
    tree.set(0, f_new.hash());

    finish(Assignment {
        old_root,
        new_root: tree.root(),
        commitment: Fr::from(0u64),
        header: [Fr::from(CHAIN.0), Fr::from(1u64), Fr::from(0u64)],
        fee_account: 0,
        fee_key: f_old.key,
        fee: leg(&f_old, f_siblings),
        slots: vec![SlotAssignment {
            fields: SlotFields {
                kind: OpKind::Transfer,
                token: token as u8,
                nonce: a_old.nonce + Fr::from(t.nonce_offset),
                amount,
                fee,
                a_index: 1,
                b_index: 2,
                b_new: false,
                a_key: a_old.key,
                b_key: b_old.key,
            },
            a: leg(&a_old, a_siblings),
            b: leg(&b_old, b_siblings),
        }],
    })
}

#[derive(Default, Clone, Copy)]
struct WithdrawTamper {
    old_leaf: bool,
    path: bool,
    key: bool,
}

/// A one-slot chunk: the fee account itself withdraws GHOST. The fee leg then reuses
/// the sender's path, so tampering with the sender's leaf, path or key keeps the rest
/// of the chunk consistent and only the sender's membership check can fail.
fn self_withdraw(t: WithdrawTamper) -> Assignment {
    let (tree, leaves) = genesis_field_tree();
    let old_root = tree.root();
    let amount = Fr::from(13u64);
    let fee = Fr::from(3u64);
    let mut a_old = leaves[0];
    if t.old_leaf {
        a_old.balances[3] += Fr::from(1_000u64);
    }
    if t.key {
        a_old.key = leaves[1].key;
    }
    let mut siblings = tree.siblings(0);
    if t.path {
        siblings[5][1] += Fr::from(1u64);
    }
    let mut a_new = a_old;
    a_new.nonce += Fr::from(1u64);
    a_new.balances[3] -= amount;
    a_new.balances[0] -= fee;
    let mut f_new = a_new;
    f_new.balances[0] += fee;
    finish(Assignment {
        old_root,
        new_root: root_from(0, f_new.hash(), &siblings),
        commitment: Fr::from(0u64),
        header: [Fr::from(CHAIN.0), Fr::from(1u64), Fr::from(0u64)],
        fee_account: 0,
        fee_key: a_new.key,
        fee: leg(&a_new, siblings),
        slots: vec![SlotAssignment {
            fields: SlotFields {
                kind: OpKind::Withdraw,
                token: 3,
                nonce: a_old.nonce,
                amount,
                fee,
                a_index: 0,
                b_index: 0,
                b_new: false,
                a_key: a_old.key,
                b_key: [Fr::from(5u64), Fr::from(6u64)],
            },
            a: leg(&a_old, siblings),
            b: zero_leg(),
        }],
    })
}

#[test]
fn honest_controls_are_satisfied() {
    assert!(satisfied(transfer(TransferTamper::default())));
    assert!(satisfied(self_withdraw(WithdrawTamper::default())));
}

#[test]
fn wrong_old_leaf_is_unsatisfiable() {
    assert!(!satisfied(self_withdraw(WithdrawTamper {
        old_leaf: true,
        ..Default::default()
    })));
}

#[test]
fn wrong_path_is_unsatisfiable() {
    assert!(!satisfied(self_withdraw(WithdrawTamper {
        path: true,
        ..Default::default()
    })));
}

#[test]
fn public_key_mismatch_is_unsatisfiable() {
    assert!(!satisfied(self_withdraw(WithdrawTamper {
        key: true,
        ..Default::default()
    })));
}

#[test]
fn insufficient_balance_is_unsatisfiable() {
    // The sender holds 5 000 SPIRIT.
    let exact = transfer(TransferTamper {
        amount: Some(Fr::from(5_000u64)),
        ..Default::default()
    });
    assert!(satisfied(exact));
    assert!(!satisfied(transfer(TransferTamper {
        amount: Some(Fr::from(5_001u64)),
        ..Default::default()
    })));
}

#[test]
fn wrong_nonce_is_unsatisfiable() {
    assert!(!satisfied(transfer(TransferTamper {
        nonce_offset: 1,
        ..Default::default()
    })));
}

#[test]
fn amount_over_128_bits_is_unsatisfiable() {
    // "-1": the sender would gain one SPIRIT and the receiver lose one; every balance
    // stays in range, only the amount's range check can catch it.
    assert!(!satisfied(transfer(TransferTamper {
        amount: Some(-Fr::from(1u64)),
        ..Default::default()
    })));
    let mut too_wide = Fr::from(u128::MAX);
    too_wide += Fr::from(1u64);
    assert!(!satisfied(transfer(TransferTamper {
        amount: Some(too_wide),
        ..Default::default()
    })));
}

#[test]
fn commitment_mismatch_is_unsatisfiable() {
    let mut a = transfer(TransferTamper::default());
    a.commitment += Fr::from(1u64);
    assert!(!satisfied(a));
    // Changing a committed field without updating C is caught the same way.
    let mut b = transfer(TransferTamper::default());
    b.slots[0].fields.b_key[0] += Fr::from(1u64);
    assert!(!satisfied(b));
}

#[test]
fn tampered_new_root_is_unsatisfiable() {
    let mut a = transfer(TransferTamper::default());
    a.new_root += Fr::from(1u64);
    assert!(!satisfied(a));
}
