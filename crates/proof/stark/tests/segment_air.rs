//! The segment AIR proves honest segments and refuses forged ones. Every forgery
//! here is consistent as a tree (its paths and roots are right), so only the op
//! constraints can catch it; each must fail to prove (the debug constraint check,
//! or a proof that does not verify) or fail to verify.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ghostplane_stark::config::{self, FriSettings, Val};
use ghostplane_stark::hash::{DIGEST, LeafFields};
use ghostplane_stark::segment::{
    Account, Op, OpKind, OpWitness, SegmentError, SegmentHeader, SegmentWitness, build_segment,
    public_values,
};
use ghostplane_stark::segment_air::{
    AMOUNT, BOR, OP_ROWS, ROOT, SegmentAir, TraceError, generate_trace,
};
use ghostplane_stark::tree::Tree;
use p3_field::PrimeCharacteristicRing;
use p3_matrix::dense::RowMajorMatrix;

/// Few queries: these tests check the constraints, not FRI.
const TEST_FRI: FriSettings = FriSettings {
    log_blowup: 1,
    num_queries: 8,
    query_pow_bits: 1,
};

const HEADER: SegmentHeader = SegmentHeader {
    chain_id: 42,
    batch: 3,
    segment: 1,
    fee_account: 9,
};

fn key(i: u8) -> [u8; 32] {
    core::array::from_fn(|j| i.wrapping_mul(31).wrapping_add(j as u8) | 1)
}

/// Accounts 1..=4 funded, 9 the fee account; 6 and 7 empty.
fn genesis() -> Tree {
    let mut tree = Tree::new();
    for i in [1u8, 2, 3, 4, 9] {
        let mut a = Account::new(key(i));
        a.balances = [1_000_000 + u128::from(i), 5_000, 0, 70_000];
        a.nonce = u64::from(i);
        tree.update(u32::from(i), a.fields()).unwrap();
    }
    tree
}

fn transfer(from: u8, nonce: u64, to: u8, token: u8, amount: u128, fee: u128) -> Op {
    Op {
        kind: OpKind::Transfer,
        token,
        a_index: u32::from(from),
        a_key: key(from),
        b_index: u32::from(to),
        b_data: key(to),
        b_new: false,
        nonce,
        amount,
        fee,
    }
}

/// One of each kind, an account creation and a self-transfer.
fn user_ops() -> Vec<Op> {
    let mut create = transfer(2, 2, 6, 3, 65_000, 2);
    create.b_new = true;
    let deposit = Op {
        kind: OpKind::Deposit,
        nonce: 17,
        ..transfer(0, 0, 4, 1, 123, 0)
    };
    let deposit = Op {
        a_index: 0,
        a_key: [0; 32],
        ..deposit
    };
    let withdraw = Op {
        kind: OpKind::Withdraw,
        b_index: 0,
        b_data: [0xee; 32],
        ..transfer(3, 3, 0, 0, 77, 1)
    };
    let fee_only = Op {
        kind: OpKind::FeeOnly,
        amount: 0,
        b_index: 0,
        b_data: [0; 32],
        ..transfer(1, 2, 0, 0, 0, 4)
    };
    vec![
        transfer(1, 1, 2, 0, 999, 5),
        create,
        deposit,
        withdraw,
        fee_only,
        transfer(4, 4, 4, 3, 10, 1),
        transfer(6, 0, 1, 3, 5, 0),
    ]
}

fn honest() -> SegmentWitness {
    build_segment(&mut genesis(), HEADER, &user_ops(), 16).unwrap()
}

/// Replays a witness's ops and new leaves on the genesis tree, so paths and roots
/// are consistent with whatever the leaves say.
fn replay(steps: Vec<(Op, u32, LeafFields, u32, LeafFields)>) -> SegmentWitness {
    let mut tree = genesis();
    let old_root = tree.root();
    let ops = steps
        .into_iter()
        .map(|(op, ai, a_new, bi, b_new)| {
            let a = tree.update(ai, a_new).unwrap();
            let b = tree.update(bi, b_new).unwrap();
            OpWitness { op, a, b }
        })
        .collect();
    SegmentWitness {
        header: HEADER,
        old_root,
        new_root: tree.root(),
        ops,
    }
}

type Step = (Op, u32, LeafFields, u32, LeafFields);

fn steps(w: &SegmentWitness) -> Vec<Step> {
    w.ops
        .iter()
        .map(|o| (o.op.clone(), o.a.index, o.a.new, o.b.index, o.b.new))
        .collect()
}

fn proves_trace(trace: RowMajorMatrix<Val>, public: &[Val]) -> bool {
    let config = config::config(TEST_FRI);
    let air = SegmentAir::new();
    let proof = catch_unwind(AssertUnwindSafe(|| {
        p3_uni_stark::prove(&config, &air, trace, public)
    }));
    match proof {
        Ok(Ok(proof)) => p3_uni_stark::verify(&config, &air, &proof, public).is_ok(),
        _ => false,
    }
}

/// Proves `w` against the public values the L1 would compute from its ops.
fn proves(w: &SegmentWitness) -> bool {
    let trace = generate_trace(w, TEST_FRI.log_blowup).unwrap();
    proves_trace(trace, &w.public_values().unwrap())
}

/// The ops whose rows break a constraint (empty: the trace satisfies the AIR).
fn failing_ops(trace: &RowMajorMatrix<Val>, public: &[Val]) -> BTreeSet<usize> {
    let report = p3_air::check_all_constraints(&SegmentAir::new(), trace, public, Some(256));
    report.failures.iter().map(|f| f.row / OP_ROWS).collect()
}

/// `w` breaks a constraint in the rows of op `op`, and no proof of it verifies.
#[track_caller]
fn assert_refused(w: &SegmentWitness, op: usize) {
    let trace = generate_trace(w, TEST_FRI.log_blowup).unwrap();
    let public = w.public_values().unwrap();
    let ops = failing_ops(&trace, &public);
    assert!(
        ops.contains(&op),
        "expected a failure in op {op}, got {ops:?}"
    );
    assert!(!proves_trace(trace, &public));
}

fn account(leaf: &LeafFields) -> Account {
    Account::from_fields(leaf).unwrap()
}

#[test]
fn an_honest_segment_proves_and_the_proof_binds_its_public_values() {
    let w = honest();
    assert!(proves(&replay(steps(&w))), "replay is the same witness");
    let config = config::config(TEST_FRI);
    let air = SegmentAir::new();
    let public = w.public_values().unwrap();
    let trace = generate_trace(&w, TEST_FRI.log_blowup).unwrap();
    let proof = p3_uni_stark::prove(&config, &air, trace, &public).unwrap();
    assert!(p3_uni_stark::verify(&config, &air, &proof, &public).is_ok());

    // Other pubdata: one amount differs, or the header does.
    let mut ops = w.ops();
    ops[0].amount += 1;
    let other = public_values(&w.old_root, &w.new_root, &HEADER, &ops).unwrap();
    assert!(p3_uni_stark::verify(&config, &air, &proof, &other).is_err());
    let header = SegmentHeader { batch: 4, ..HEADER };
    let other = public_values(&w.old_root, &w.new_root, &header, &w.ops()).unwrap();
    assert!(p3_uni_stark::verify(&config, &air, &proof, &other).is_err());
    // Other roots.
    let mut root = w.new_root;
    root[3] += Val::ONE;
    let other = public_values(&w.old_root, &root, &HEADER, &w.ops()).unwrap();
    assert!(p3_uni_stark::verify(&config, &air, &proof, &other).is_err());
}

#[test]
fn honest_balances_nonces_and_fees_land_in_the_tree() {
    let w = honest();
    let mut tree = genesis();
    build_segment(&mut tree, HEADER, &user_ops(), 16).unwrap();
    assert_eq!(tree.root(), w.new_root);
    let one = account(&tree.leaf(1));
    assert_eq!(one.nonce, 3);
    assert_eq!(one.balances[0], 1_000_001 - 999 - 5 - 4);
    assert_eq!(one.balances[3], 70_005);
    let six = account(&tree.leaf(6));
    assert_eq!(six.key, key(6));
    assert_eq!((six.nonce, six.balances[3]), (1, 64_995));
    let fees = 5 + 2 + 1 + 4 + 1;
    assert_eq!(account(&tree.leaf(9)).balances[0], 1_000_009 + fees);
    assert_eq!(
        w.ops.last().map(|o| (o.op.kind, o.op.amount)),
        Some((OpKind::FeeCredit, fees))
    );
}

#[test]
fn a_wrong_old_leaf_or_path_does_not_prove() {
    let w = honest();
    let mut bad = w.clone();
    bad.ops[0].a.old[2] += Val::ONE;
    assert_refused(&bad, 0);
    let mut bad = w.clone();
    bad.ops[3].b.siblings[11][4] += Val::ONE;
    assert_refused(&bad, 3);
    let mut bad = w;
    bad.ops[1].a.siblings[0][0] += Val::ONE;
    assert_refused(&bad, 1);
}

#[test]
fn spending_more_than_the_balance_does_not_prove() {
    let w = honest();
    let mut s = steps(&w);
    // Account 4 sends 70_001 GHOST of its 70_000 (to itself: the credit follows).
    let mut a = account(&s[5].2);
    a.balances[3] = a.balances[3].wrapping_sub(70_001 - 10);
    s[5].0.amount = 70_001;
    s[5].2 = a.fields();
    let mut b = a.clone();
    b.balances[3] = b.balances[3].wrapping_add(70_001);
    s[5].4 = b.fields();
    assert_refused(&replay(s), 5);
}

#[test]
fn a_fee_beyond_the_gcc_balance_does_not_prove() {
    let w = honest();
    let mut s = steps(&w);
    let mut a = account(&s[4].2);
    a.balances[0] = a.balances[0].wrapping_sub(2_000_000);
    s[4].0.fee += 2_000_000;
    s[4].2 = a.fields();
    // The fee credit takes the larger total too.
    let last = s.len() - 1;
    s[last].0.amount += 2_000_000;
    let mut fee_account = account(&s[last].4);
    fee_account.balances[0] += 2_000_000;
    s[last].4 = fee_account.fields();
    assert_refused(&replay(s), 4);
}

#[test]
fn a_wrong_nonce_or_key_does_not_prove() {
    let w = honest();
    let mut s = steps(&w);
    s[0].0.nonce = 2; // the account's nonce is 1
    assert_refused(&replay(s), 0);
    let mut s = steps(&w);
    s[0].0.a_key = key(2); // the account's key is key(1)
    assert_refused(&replay(s), 0);
    let mut s = steps(&w);
    s[0].0.b_data = key(3); // the receiver's key is key(2)
    assert_refused(&replay(s), 0);
    let mut s = steps(&w);
    let mut a = account(&s[0].2);
    a.nonce += 1; // nonce + 2
    s[0].2 = a.fields();
    assert_refused(&replay(s), 0);
}

#[test]
fn a_receiver_overflow_does_not_prove() {
    let mut tree = genesis();
    let mut rich = account(&tree.leaf(2));
    rich.balances[1] = u128::MAX - 10;
    tree.update(2, rich.fields()).unwrap();
    let ops = vec![transfer(1, 1, 2, 1, 11, 0)];
    assert_eq!(
        build_segment(&mut tree.clone(), HEADER, &ops, 2).err(),
        Some(SegmentError::Overflow(0))
    );
    // Forged: the receiver's balance wraps to 0.
    let old_root = tree.root();
    let mut a = account(&tree.leaf(1));
    a.nonce += 1;
    a.balances[1] -= 11;
    let upd_a = tree.update(1, a.fields()).unwrap();
    let mut b = rich.clone();
    b.balances[1] = b.balances[1].wrapping_add(11);
    let upd_b = tree.update(2, b.fields()).unwrap();
    let credit = Op::fee_credit(HEADER.fee_account, 0);
    let fee_leaf = tree.leaf(9);
    let fa = tree.update(0, tree.leaf(0)).unwrap();
    let fb = tree.update(9, fee_leaf).unwrap();
    let forged = SegmentWitness {
        header: HEADER,
        old_root,
        new_root: tree.root(),
        ops: vec![
            OpWitness {
                op: ops[0].clone(),
                a: upd_a,
                b: upd_b,
            },
            OpWitness {
                op: credit,
                a: fa,
                b: fb,
            },
        ],
    };
    assert_refused(&forged, 0);
}

#[test]
fn creating_an_account_over_an_existing_one_does_not_prove() {
    let mut tree = genesis();
    let mut op = transfer(1, 1, 3, 0, 10, 0);
    op.b_new = true;
    op.b_data = key(8);
    assert_eq!(
        build_segment(&mut tree, HEADER, std::slice::from_ref(&op), 2).err(),
        Some(SegmentError::AccountExists(0))
    );
    let w = honest();
    let mut s = steps(&w);
    // Op 1 creates account 6; forge it to replace account 3 instead.
    s[1].0.b_index = 3;
    s[1].3 = 3;
    let mut fresh = Account::new(key(6));
    fresh.balances[3] = 65_000;
    s[1].4 = fresh.fields();
    assert_refused(&replay(s), 1);
}

#[test]
fn forged_padding_does_not_prove() {
    let w = honest();
    let pad = w
        .ops
        .iter()
        .position(|o| o.op.kind == OpKind::Noop)
        .unwrap();
    // A no-op that mints 100 GCC into account 0's leaf.
    let mut s = steps(&w);
    let mut leaf = s[pad].2;
    leaf[0] += Val::from_u32(100);
    s[pad].2 = leaf;
    assert_refused(&replay(s), pad);
    // A no-op that carries an amount.
    let mut s = steps(&w);
    s[pad].0.amount = 5;
    assert_refused(&replay(s), pad);
    // A no-op that bumps a nonce of a real account.
    let mut s = steps(&w);
    s[pad].1 = 2;
    let mut a = account(&genesis().leaf(2));
    a.nonce += 1;
    s[pad].2 = a.fields();
    assert_refused(&replay(s), pad);
}

#[test]
fn fees_must_be_credited_exactly() {
    let w = honest();
    let last = w.ops.len() - 1;
    // The fee account gets one GCC more than the fees.
    let mut s = steps(&w);
    s[last].0.amount += 1;
    let mut f = account(&s[last].4);
    f.balances[0] += 1;
    s[last].4 = f.fields();
    assert_refused(&replay(s), last);
    // The fee credit is replaced by a no-op: the fees vanish.
    let mut s = steps(&w);
    s[last] = (Op::noop(), 0, genesis().leaf(0), 0, genesis().leaf(0));
    assert_refused(&replay(s), last);
}

#[test]
fn non_canonical_limbs_do_not_prove() {
    let w = honest();
    // Sender 1's new GCC balance with limb 0 ≥ 2^16 and limb 1 one less: the same
    // integer, so only the range check refuses it.
    let mut s = steps(&w);
    let mut leaf = s[0].2;
    leaf[0] += Val::from_u32(1 << 16);
    leaf[1] -= Val::ONE;
    s[0].2 = leaf;
    assert_refused(&replay(s), 0);

    // An amount limb ≥ 2^16 in the trace (limb 1 one less): the commitment the L1
    // rebuilds from canonical limbs no longer matches.
    let mut trace = generate_trace(&w, TEST_FRI.log_blowup).unwrap();
    let width = trace.width;
    for r in 0..OP_ROWS {
        let row = &mut trace.values[r * width..(r + 1) * width];
        row[AMOUNT] += Val::from_u32(1 << 16);
        row[AMOUNT + 1] -= Val::ONE;
    }
    assert!(!failing_ops(&trace, &w.public_values().unwrap()).is_empty());
    assert!(!proves_trace(trace, &w.public_values().unwrap()));
}

#[test]
fn tampered_trace_cells_do_not_prove() {
    let w = honest();
    let clean = generate_trace(&w, TEST_FRI.log_blowup).unwrap();
    let width = clean.width;
    for (row, col) in [
        (40usize, ROOT),
        (100, ROOT + 7),
        (5, 17),
        (128, BOR),
        (200, AMOUNT + 3),
    ] {
        let mut trace = clean.clone();
        trace.values[row * width + col] += Val::ONE;
        let ops = failing_ops(&trace, &w.public_values().unwrap());
        assert!(
            ops.contains(&(row / OP_ROWS)),
            "row {row} col {col}: {ops:?}"
        );
        assert!(
            !proves_trace(trace, &w.public_values().unwrap()),
            "row {row} col {col}"
        );
    }
    assert_eq!(w.public_values().unwrap().len(), 4 * DIGEST);
}

#[test]
fn bad_segments_get_typed_errors_and_leave_the_tree_alone() {
    let mut tree = genesis();
    let root = tree.root();
    let mut ops = user_ops();
    assert_eq!(
        build_segment(&mut tree, HEADER, &ops, 6).err(),
        Some(SegmentError::Slots(6))
    );
    assert_eq!(
        build_segment(&mut tree, HEADER, &ops, 4).err(),
        Some(SegmentError::TooManyOps { ops: 7, slots: 4 })
    );
    ops[4].nonce = 9;
    assert_eq!(
        build_segment(&mut tree, HEADER, &ops, 8).err(),
        Some(SegmentError::Nonce {
            op: 4,
            got: 9,
            expected: 2
        })
    );
    assert_eq!(tree.root(), root, "a refused segment changes nothing");
    let mut ops = user_ops();
    ops[0].amount = 10_000_000;
    assert_eq!(
        build_segment(&mut tree, HEADER, &ops, 8).err(),
        Some(SegmentError::InsufficientBalance(0))
    );
    let mut ops = user_ops();
    ops[0].a_key = key(5);
    assert_eq!(
        build_segment(&mut tree, HEADER, &ops, 8).err(),
        Some(SegmentError::KeyMismatch(0))
    );
    let mut ops = user_ops();
    ops[4].amount = 1; // a fee-only op moves nothing
    assert_eq!(
        build_segment(&mut tree, HEADER, &ops, 8).err(),
        Some(SegmentError::Malformed(4))
    );
    assert_eq!(tree.root(), root);

    let w = honest();
    assert_eq!(
        generate_trace(
            &SegmentWitness {
                ops: w.ops[..3].to_vec(),
                ..w.clone()
            },
            1
        )
        .err(),
        Some(TraceError::OpCount(3))
    );
    let mut bad = w;
    bad.ops[0].b.index = 1 << 24;
    assert_eq!(
        generate_trace(&bad, 1).err(),
        Some(TraceError::IndexOutOfRange(1 << 24))
    );
}

#[test]
fn the_prover_api_refuses_bad_proofs_with_typed_errors() {
    use ghostplane_stark::proof::{MAX_PROOF_BYTES, SegmentProof, SegmentProver, VerifyError};
    let w = honest();
    let prover = SegmentProver::new(TEST_FRI);
    let proof = prover.prove(&w).unwrap();
    let public = w.public_values().unwrap();
    let n = w.ops.len();
    assert_eq!(prover.verify(&proof, &public, n), Ok(()));
    // The trace height is fixed by the op count.
    assert!(matches!(
        prover.verify(&proof, &public, 2 * n),
        Err(VerifyError::Rejected(_))
    ));
    // Another statement: a different commitment (other pubdata).
    let mut ops = w.ops();
    ops[2].nonce += 1;
    let other = public_values(&w.old_root, &w.new_root, &HEADER, &ops).unwrap();
    assert!(matches!(
        prover.verify(&proof, &other, n),
        Err(VerifyError::Rejected(_))
    ));
    assert!(matches!(
        prover.verify(&proof, &public[..8], n),
        Err(VerifyError::PublicValues(8))
    ));
    // Garbled, truncated and oversized bytes.
    let mut garbled = proof.clone();
    let mid = garbled.0.len() / 2;
    garbled.0[mid] ^= 0x55;
    assert!(prover.verify(&garbled, &public, n).is_err());
    let truncated = SegmentProof(proof.0[..proof.0.len() - 9].to_vec());
    assert!(matches!(
        prover.verify(&truncated, &public, n),
        Err(VerifyError::Malformed(_) | VerifyError::Rejected(_))
    ));
    let huge = SegmentProof(vec![0; MAX_PROOF_BYTES + 1]);
    assert_eq!(
        prover.verify(&huge, &public, n),
        Err(VerifyError::TooLarge(MAX_PROOF_BYTES + 1))
    );
    // A proof under other FRI parameters is another proof system.
    let other_params = SegmentProver::new(FriSettings {
        num_queries: 9,
        ..TEST_FRI
    });
    assert_ne!(other_params.params_hash(), prover.params_hash());
    assert!(other_params.verify(&proof, &public, n).is_err());
}
