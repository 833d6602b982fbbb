//! Forgeries of the trace, not the witness (issue 33, item 8). Each test starts
//! from the trace of a witness (honest, or replayed with forged leaves so that the
//! tree stays consistent), edits the cells the honest generator would have derived,
//! re-derives what a forger would make consistent (carries, lanes, permutation rows,
//! roots, the commitment), and shows that no accepted proof comes of it. Each
//! forgery is meant to break one constraint only, so that deleting that constraint
//! lets it prove: `scripts/stark_mutation_check.sh` checks that.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_stark::config::Val;
use ghostplane_stark::forge::{ForgedTrace, Leg, Outcome, Side, col, rows};
use ghostplane_stark::hash::{DIGEST, Digest, LeafFields, permute, truncate};
use ghostplane_stark::segment::{
    Account, Op, OpKind, OpWitness, SegmentHeader, SegmentWitness, build_segment, commitment,
    u64_limbs, u128_limbs,
};
use ghostplane_stark::tree::{DEPTH, Tree};
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};

const HEADER: SegmentHeader = SegmentHeader {
    chain_id: 42,
    batch: 3,
    segment: 1,
    fee_account: 9,
};

fn key(i: u8) -> [u8; 32] {
    core::array::from_fn(|j| i.wrapping_mul(31).wrapping_add(j as u8) | 1)
}

/// Accounts 1..=4 funded in all four tokens, 9 the fee account; the rest empty.
fn genesis() -> Tree {
    let mut tree = Tree::new();
    for i in [1u8, 2, 3, 4, 9] {
        let mut a = Account::new(key(i));
        a.balances = [1_000_000 + u128::from(i), 5_000, 5_000, 70_000];
        a.nonce = u64::from(i);
        tree.update(u32::from(i), a.fields()).unwrap();
    }
    tree
}

fn transfer(from: u8, to: u8, token: u8, amount: u128, fee: u128) -> Op {
    Op {
        kind: OpKind::Transfer,
        token,
        a_index: u32::from(from),
        a_key: key(from),
        b_index: u32::from(to),
        b_data: key(to),
        b_new: false,
        nonce: u64::from(from),
        amount,
        fee,
    }
}

fn withdraw(from: u8, token: u8, amount: u128, fee: u128) -> Op {
    Op {
        kind: OpKind::Withdraw,
        b_index: 0,
        b_data: [0xee; 32],
        ..transfer(from, 0, token, amount, fee)
    }
}

fn deposit(to: u32, to_key: [u8; 32], b_new: bool, amount: u128) -> Op {
    Op {
        kind: OpKind::Deposit,
        token: 0,
        a_index: 0,
        a_key: [0; 32],
        b_index: to,
        b_data: to_key,
        b_new,
        nonce: 17,
        amount,
        fee: 0,
    }
}

fn fee_only(from: u8, fee: u128) -> Op {
    Op {
        kind: OpKind::FeeOnly,
        b_index: 0,
        b_data: [0; 32],
        ..transfer(from, 0, 0, 0, fee)
    }
}

fn account(leaf: &LeafFields) -> Account {
    Account::from_fields(leaf).unwrap()
}

fn edit(leaf: &LeafFields, f: impl FnOnce(&mut Account)) -> LeafFields {
    let mut a = account(leaf);
    f(&mut a);
    a.fields()
}

/// One op and the leaves its legs write: (op, a index, a new, b index, b new).
type Step = (Op, u32, LeafFields, u32, LeafFields);

fn honest_on(tree: &Tree, header: SegmentHeader, ops: &[Op], slots: usize) -> SegmentWitness {
    build_segment(&mut tree.clone(), header, ops, slots).unwrap()
}

fn honest(ops: &[Op], slots: usize) -> SegmentWitness {
    honest_on(&genesis(), HEADER, ops, slots)
}

fn steps(w: &SegmentWitness) -> Vec<Step> {
    w.ops
        .iter()
        .map(|o| (o.op.clone(), o.a.index, o.a.new, o.b.index, o.b.new))
        .collect()
}

/// Replays steps on `tree`, so paths and roots are consistent with whatever the
/// leaves say; `silent` changes a leaf, with no op, before the step at its position
/// (its first leg is `a`, or between the legs).
struct Replay {
    tree: Tree,
    header: SegmentHeader,
    old_root: Digest,
    ops: Vec<OpWitness>,
}

impl Replay {
    fn new(tree: &Tree, header: SegmentHeader) -> Self {
        Self {
            tree: tree.clone(),
            header,
            old_root: tree.root(),
            ops: Vec::new(),
        }
    }

    fn step(&mut self, (op, ai, a_new, bi, b_new): Step) -> &mut Self {
        let a = self.tree.update(ai, a_new).unwrap();
        let b = self.tree.update(bi, b_new).unwrap();
        self.ops.push(OpWitness { op, a, b });
        self
    }

    fn finish(&self) -> SegmentWitness {
        SegmentWitness {
            header: self.header,
            old_root: self.old_root,
            new_root: self.tree.root(),
            ops: self.ops.clone(),
        }
    }
}

fn replay(steps: Vec<Step>) -> SegmentWitness {
    let mut r = Replay::new(&genesis(), HEADER);
    for s in steps {
        r.step(s);
    }
    r.finish()
}

fn forge(w: &SegmentWitness) -> ForgedTrace {
    ForgedTrace::new(w).unwrap()
}

fn vals<const N: usize>(limbs: [u32; N]) -> [Val; N] {
    limbs.map(Val::from_u32)
}

/// The ops the L1 commits to for these user ops (as `ghostplane-prover` builds
/// them): the user ops, no-op padding, and the fee credit of their fees to the
/// header's fee account, last.
fn l1_ops(header: &SegmentHeader, user: &[Op], slots: usize) -> Vec<Op> {
    let total = user.iter().map(|o| o.fee).sum();
    let mut ops = user.to_vec();
    ops.resize(slots - 1, Op::noop());
    ops.push(Op::fee_credit(header.fee_account, total));
    ops
}

const fn row(op: usize, r: usize) -> usize {
    op * col::OP_ROWS + r
}

// ---------------------------------------------------------------------------------
// The control: the harness can accept.

#[test]
fn control_an_unedited_trace_proves_and_rederiving_it_changes_nothing() {
    let mut create = transfer(2, 6, 3, 65_000, 2);
    create.b_new = true;
    create.b_data = key(6);
    let w = honest(
        &[transfer(1, 2, 0, 999, 5), create, withdraw(3, 1, 77, 1)],
        4,
    );
    let clean = forge(&w);
    clean.assert_accepted();

    // Every re-derivation the forgeries use is the identity on an honest trace.
    let mut again = clean.clone();
    for op in 0..again.ops() {
        again.settle(op);
        for leg in [Leg::A, Leg::B] {
            let leaf = again.leaf(op, leg, Side::New);
            let _ = again.set_new_leaf(op, leg, &leaf);
        }
    }
    again.recommit(0);
    again.reroot();
    assert!(again.trace.values == clean.trace.values);
    assert_eq!(again.public, clean.public);

    // And one cell off is refused.
    let mut off = clean;
    off.set(row(1, 40), col::AMOUNT + 2, Val::ONE);
    assert!(off.prove_and_verify() != Outcome::Accepted);
}

// ---------------------------------------------------------------------------------
// The sender debit column zeroed.

#[test]
fn a_zeroed_debit_column_neither_pays_a_withdrawal_nor_mints_a_transfer() {
    // A withdrawal of 77 SPIRIT paid on L1 but not debited on L2.
    let w = honest(&[withdraw(3, 1, 77, 1)], 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[1] += 77);
    let mut f = forge(&replay(s));
    f.set_op(0, col::TOK_A + 1, Val::ZERO);
    f.settle(0);
    f.assert_refused(0);

    // A GCC transfer that credits the receiver without debiting the sender.
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[0] += 999);
    let mut f = forge(&replay(s));
    f.set_op(0, col::TOK_A, Val::ZERO);
    f.settle(0);
    f.assert_refused(0);
}

// ---------------------------------------------------------------------------------
// Public values.

#[test]
fn a_public_value_changed_alone_is_refused() {
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let clean = forge(&w);
    let last = clean.ops() - 1;
    // Old root (checked on the first row), new root and commitment (last row), seed
    // (first row).
    for (at, op) in [
        (0, 0),
        (DIGEST + 3, last),
        (3 * DIGEST + 7, last),
        (2 * DIGEST, 0),
    ] {
        let mut f = clean.clone();
        f.public[at] += Val::ONE;
        f.assert_refused(op);
    }
}

// ---------------------------------------------------------------------------------
// Kind and token flags.

#[test]
fn two_kind_flags_at_once_are_refused() {
    // The L1 sees a fee-only op (tag 4 = T + X); the trace runs it as transfer and
    // withdrawal at once, and the sender's nonce moves by 2.
    let w = honest(&[fee_only(1, 0)], 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.nonce += 1);
    let mut f = forge(&replay(s));
    f.set_op(0, col::K_F, Val::ZERO);
    f.set_op(0, col::K_T, Val::ONE);
    f.set_op(0, col::K_X, Val::ONE);
    f.set_op(0, col::TOK_A, Val::TWO);
    f.set_op(0, col::TOK_B, Val::ONE);
    f.settle(0);
    f.assert_refused(0);
}

#[test]
fn a_non_boolean_kind_flag_is_refused() {
    // Padding (tag 0 = 2·T − D) that raises leaf 0's nonce by 2.
    let w = honest(&[], 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.nonce = 2);
    s[0].4 = s[0].2;
    s[1].2 = s[0].2;
    let mut f = forge(&replay(s));
    f.set_op(0, col::K_T, Val::TWO);
    f.set_op(0, col::K_D, -Val::ONE);
    f.set_op(0, col::TOK_A, Val::TWO);
    f.set_op(0, col::TOK_B, Val::ONE);
    f.settle(0);
    f.assert_refused(0);
}

#[test]
fn a_token_one_hot_that_is_not_one_hot_is_refused() {
    // No token at all: the L1 pays a 77 GCC withdrawal that nobody is debited for.
    let w = honest(&[withdraw(3, 0, 77, 1)], 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[0] += 77);
    let mut f = forge(&replay(s));
    f.set_op(0, col::OH, Val::ZERO);
    f.set_op(0, col::TOK_A, Val::ZERO);
    f.settle(0);
    f.assert_refused(0);

    // Entries that sum to one but are not bits, (−1, 1, 1, 0): the L1 pays a 77
    // GHOST withdrawal (token weight 1 + 2 = 3); the sender loses 77 SPIRIT and 77
    // MANA and gains 77 GCC, and keeps its GHOST.
    let w = honest(&[withdraw(3, 3, 77, 1)], 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| {
        a.balances[3] += 77;
        a.balances[0] += 77;
        a.balances[1] -= 77;
        a.balances[2] -= 77;
    });
    let mut f = forge(&replay(s));
    let spirit = u128_limbs(account(&w.ops[0].a.old).balances[1] - 77);
    for (k, v) in [(0, -Val::ONE), (1, Val::ONE), (2, Val::ONE), (3, Val::ZERO)] {
        f.set_op(0, col::OH + k, v);
        f.set_op(0, col::TOK_A + k, v);
    }
    f.set_op_limbs(0, col::NEW_A_TOK, &vals(spirit));
    f.settle(0);
    f.assert_refused(0);
}

#[test]
fn a_fee_credit_in_another_token_is_refused() {
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let mut s = steps(&w);
    let fees = account(&w.ops[1].b.old);
    s[1].4 = edit(&w.ops[1].b.old, |a| a.balances[1] += 5);
    let mut f = forge(&replay(s));
    for (k, v) in [(0, Val::ZERO), (1, Val::ONE)] {
        f.set_op(1, col::OH + k, v);
        f.set_op(1, col::TOK_B + k, v);
    }
    f.set_op_limbs(1, col::NEW_B_TOK, &vals(u128_limbs(fees.balances[1] + 5)));
    f.settle(1);
    f.recommit(0);
    f.assert_refused(1);
}

// ---------------------------------------------------------------------------------
// Paths.

#[test]
fn a_non_boolean_path_bit_is_refused() {
    // The fee account sits in an empty region, so at levels 0 and 1 the old path's
    // node equals its sibling. Bits (2, 0) instead of (0, 1) sum to the same index,
    // leave the old path valid, and let the new path go through a node of the
    // forger's choosing: the fees land in no account, and the L1 would see its own
    // ops (the committed index is the fee account's).
    let fee_account = (1 << 20) + 2;
    let header = SegmentHeader {
        fee_account,
        ..HEADER
    };
    let w = honest_on(&genesis(), header, &[transfer(1, 2, 0, 999, 5)], 2);
    let mut f = forge(&w);
    let level = |h: usize| row(1, rows::B_AT + rows::UPDATE_ROWS - DEPTH + h);
    let siblings = f.siblings(1, Leg::B);
    let bits = f.bits(1, Leg::B);
    assert_eq!((bits[0], bits[1]), (Val::ZERO, Val::ONE));
    f.set(level(0), col::BIT, Val::TWO);
    f.set(level(1), col::BIT, Val::ZERO);
    f.set(level(0), col::INDEX, Val::TWO);
    // New side: L + 2(R − L) = cur, and the shared-sibling constraint
    // −(R_old − R) + 2(L_old − L) = 0 with L_old = R_old = E.
    let leaf_out = f.perm_output(level(0) - 1, Side::New);
    let e = siblings[0];
    let third = Val::from_u32(3).inverse();
    let left: Digest = core::array::from_fn(|i| (leaf_out[i] + e[i].double()) * third);
    let right: Digest = core::array::from_fn(|i| left[i].double() - e[i]);
    let mut inputs = Vec::new();
    let mut pair = [Val::ZERO; 16];
    pair[..DIGEST].copy_from_slice(&left);
    pair[DIGEST..].copy_from_slice(&right);
    inputs.push(pair);
    let mut cur = truncate(&permute(pair));
    for (h, sibling) in siblings.iter().enumerate().skip(1) {
        let right_child = h != 1 && bits[h] == Val::ONE;
        let input = ghostplane_stark::hash::parent_input(&cur, sibling, right_child);
        inputs.push(input);
        cur = truncate(&permute(input));
    }
    f.set_perm_inputs(level(0), Side::New, &inputs);
    f.reroot();
    assert_eq!(
        f.public[2 * DIGEST..],
        w.public_values().unwrap()[2 * DIGEST..]
    );
    f.assert_refused(1);
}

#[test]
fn an_edited_index_accumulator_is_refused() {
    // The op names account 5 (or 1 + 2^23) while leaf 1 pays.
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let level = |h: usize| row(0, rows::UPDATE_ROWS - DEPTH + h);
    for (from, delta) in [(0usize, 4u32), (DEPTH - 1, 1 << 23)] {
        let mut f = forge(&w);
        for h in from..DEPTH {
            let v = f.get(level(h), col::INDEX) + Val::from_u32(delta);
            f.set(level(h), col::INDEX, v);
        }
        f.set_op(0, col::A_IDX, Val::from_u32(1 + delta));
        f.recommit(0);
        f.assert_refused(0);
    }
}

#[test]
fn different_siblings_on_the_old_and_new_path_are_refused() {
    // Leaf 1's new path uses a level-1 sibling (leaves 2, 3) in which account 3
    // holds a billion more GCC: the tree after the op has it, with no op for it.
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let s = steps(&w);
    let mut r = Replay::new(&genesis(), HEADER);
    let a = r.tree.update(1, s[0].2).unwrap();
    let rich = edit(&r.tree.leaf(3), |a| a.balances[0] += 1_000_000_000);
    r.tree.update(3, rich).unwrap();
    let new_siblings = r.tree.siblings(1).unwrap();
    assert_ne!(new_siblings[1], a.siblings[1]);
    let b = r.tree.update(2, s[0].4).unwrap();
    r.ops.push(OpWitness {
        op: s[0].0.clone(),
        a,
        b,
    });
    r.step(s[1].clone());
    let mut f = forge(&r.finish());
    let _ = f.rehash_update(0, Leg::A, Side::New, &s[0].2, &new_siblings);
    f.reroot();
    f.assert_refused(0);
}

#[test]
fn an_op_naming_one_account_while_another_leaf_changes_is_refused() {
    // Deposits create account 5 with account 1's key and account 6 with account
    // 2's. Account 5 pays, but the op names account 1; account 6 is paid, but the
    // op names account 2.
    let ops = [
        deposit(5, key(1), true, 1_000),
        deposit(6, key(2), true, 1_000),
        Op {
            a_index: 5,
            nonce: 0,
            b_index: 6,
            ..transfer(1, 2, 0, 500, 1)
        },
    ];
    let w = honest(&ops, 4);
    for leg in [Leg::A, Leg::B] {
        let mut s = steps(&w);
        match leg {
            Leg::A => s[2].0.a_index = 1,
            Leg::B => s[2].0.b_index = 2,
        }
        forge(&replay(s)).assert_refused(2);
    }
}

// ---------------------------------------------------------------------------------
// Keys.

fn with_byte(mut k: [u8; 32], at: usize) -> [u8; 32] {
    k[at] ^= 0x40;
    k
}

#[test]
fn a_key_takeover_is_refused() {
    let w = honest(&[transfer(2, 3, 0, 999, 5)], 2);
    // Bytes 0 and 31 sit in key limbs 0 and 8, checked on different rows.
    for at in [0, 31] {
        // The op is signed for another key than the sender's.
        let mut s = steps(&w);
        s[0].0.a_key = with_byte(key(2), at);
        forge(&replay(s)).assert_refused(0);
        // The sender's leaf gets another key.
        let mut s = steps(&w);
        s[0].2 = edit(&s[0].2, |a| a.key = with_byte(key(2), at));
        forge(&replay(s)).assert_refused(0);
    }
    // The receiver's leaf gets the op's key, which is not its own.
    let attacker = key(7);
    let mut s = steps(&w);
    s[0].0.b_data = attacker;
    s[0].4 = edit(&s[0].4, |a| a.key = attacker);
    forge(&replay(s)).assert_refused(0);
    // The op pays a key the receiver does not have.
    let mut s = steps(&w);
    s[0].0.b_data = attacker;
    forge(&replay(s)).assert_refused(0);
}

#[test]
fn other_cells_of_the_key_and_nonce_block_are_refused() {
    let w = honest(&[transfer(2, 3, 0, 999, 5)], 2);
    // The receiver's nonce is reset.
    let mut s = steps(&w);
    s[0].4 = edit(&s[0].4, |a| a.nonce = 0);
    forge(&replay(s)).assert_refused(0);
    // The sender's leaf gets a non-zero padding cell.
    let mut s = steps(&w);
    s[0].2[ghostplane_stark::segment::NONCE_AT + 4] = Val::ONE;
    forge(&replay(s)).assert_refused(0);
    // The receiver's padding cell.
    let mut s = steps(&w);
    s[0].4[ghostplane_stark::segment::NONCE_AT + 4] = Val::ONE;
    forge(&replay(s)).assert_refused(0);
}

// ---------------------------------------------------------------------------------
// Account creation.

#[test]
fn b_new_on_a_withdrawal_a_fee_credit_or_a_live_leaf_is_refused() {
    let attacker = key(7);
    // A withdrawal that also claims the empty leaf 6 for the forger's key.
    let mut x = withdraw(3, 0, 77, 1);
    x.b_index = 6;
    let w = honest(&[x], 2);
    let mut s = steps(&w);
    s[0].0.b_new = true;
    s[0].4 = Account::new(attacker).fields();
    forge(&replay(s)).assert_refused(0);

    // A fee credit that claims the (empty) fee account for the forger's key.
    let header = SegmentHeader {
        fee_account: 6,
        ..HEADER
    };
    let w = honest_on(&genesis(), header, &[transfer(1, 2, 0, 999, 5)], 2);
    let mut s = steps(&w);
    s[1].0.b_new = true;
    s[1].4 = edit(&s[1].4, |a| a.key = attacker);
    let mut r = Replay::new(&genesis(), header);
    for st in s {
        r.step(st);
    }
    forge(&r.finish()).assert_refused(1);

    // Creation over live account 3: its funds stay, its key becomes the forger's.
    let mut t = transfer(1, 3, 0, 10, 0);
    let w = honest(std::slice::from_ref(&t), 2);
    t.b_new = true;
    t.b_data = attacker;
    let mut s = steps(&w);
    s[0].0 = t;
    s[0].4 = edit(&s[0].4, |a| a.key = attacker);
    forge(&replay(s)).assert_refused(0);
}

// ---------------------------------------------------------------------------------
// Carries.

#[test]
fn negative_or_oversized_carries_are_refused() {
    // A 77 SPIRIT withdrawal whose sender keeps limbs 1..7 of its balance: limb 0 is
    // searched so that carries (field elements, most of them "negative") close the
    // chain with no borrow out of the top limb. The new balance is canonical and
    // range-checked; only the carries give it away.
    let w = honest(&[withdraw(3, 1, 77, 1)], 2);
    let old = account(&w.ops[0].a.old).balances[1];
    let old_limbs = vals(u128_limbs(old));
    let amount = vals(u128_limbs(77));
    let radix_inv = Val::from_u32(1 << 16).inverse();
    let mut found = None;
    'search: for l1 in 0..64u32 {
        for l0 in 0..(1u32 << 16) {
            let mut new = old_limbs;
            new[0] = Val::from_u32(l0);
            new[1] = old_limbs[1] + Val::from_u32(l1);
            let mut cin = Val::ZERO;
            for i in 0..7 {
                cin = (new[i] - old_limbs[i] + amount[i] + cin) * radix_inv;
            }
            let top = old_limbs[7] - amount[7] - cin;
            // A top limb above the old one: the honest limb 0 (carries 0) is not it.
            let top_u32 = top.as_canonical_u32();
            if top_u32 < 1 << 16
                && top_u32 > old_limbs[7].as_canonical_u32()
                && new[1].as_canonical_u32() < 1 << 16
            {
                new[7] = top;
                found = Some(new);
                break 'search;
            }
        }
    }
    let new = found.expect("a closing limb 0");
    let balance = new.iter().rev().fold(0u128, |acc, l| {
        (acc << 16) | u128::from(l.as_canonical_u32())
    });
    assert!(balance > old, "the forger gains from the withdrawal");
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[1] = balance);
    let mut f = forge(&replay(s));
    f.settle(0);
    let carries: Vec<u32> = (0..8)
        .map(|i| f.get(row(0, 1), col::BOR + i).as_canonical_u32())
        .collect();
    assert!(carries.iter().any(|c| *c > 2), "carries {carries:?}");
    f.assert_refused(0);
}

// ---------------------------------------------------------------------------------
// Fee credits: the AIR does not place them; the L1's commitment does.

#[test]
fn a_fee_credit_mid_segment_twice_or_elsewhere_is_refused_by_the_l1_commitment() {
    let user = [transfer(1, 2, 0, 999, 5), transfer(2, 3, 0, 10, 3)];
    let l1 = l1_ops(&HEADER, &user, 4);
    let honest_w = honest(&user, 4);
    assert_eq!(honest_w.ops(), l1);
    let l1_commitment = commitment(&HEADER, &l1).unwrap();
    let fee = |index: u32, amount: u128| Op::fee_credit(index, amount);
    let cases: [Vec<Op>; 3] = [
        // Mid-segment: the first transfer's fee is credited before the second.
        vec![user[0].clone(), fee(9, 5), user[1].clone(), fee(9, 3)],
        // Twice: the second credit moves nothing but is there.
        vec![user[0].clone(), user[1].clone(), fee(9, 8), fee(9, 0)],
        // To another account.
        vec![user[0].clone(), user[1].clone(), Op::noop(), fee(4, 8)],
    ];
    for ops in cases {
        // Applied natively, one op at a time, so the tree is consistent.
        let mut r = Replay::new(&genesis(), HEADER);
        for op in &ops {
            let (a_new, b_new) = apply_one(&mut r.tree.clone(), op);
            r.step((op.clone(), op.a_index, a_new, op.b_index, b_new));
        }
        let forged = forge(&r.finish());
        // The AIR alone accepts it ...
        forged.assert_accepted();
        // ... but its commitment is not the L1's, and against the L1's public values
        // the trace is refused.
        let claimed: Digest = core::array::from_fn(|i| forged.public[3 * DIGEST + i]);
        assert_ne!(claimed, l1_commitment);
        let mut at_l1 = forged.clone();
        at_l1.public[3 * DIGEST..].copy_from_slice(&l1_commitment);
        at_l1.assert_refused(3);
    }
}

/// The leaves one op writes, applied to `tree` by the native rules (a fee credit
/// alone is allowed here).
fn apply_one(tree: &mut Tree, op: &Op) -> (LeafFields, LeafFields) {
    let mut a = tree.leaf(op.a_index);
    if op.kind.has_sender() {
        a = edit(&a, |acc| {
            acc.nonce += 1;
            acc.balances[usize::from(op.token)] -= op.amount;
            acc.balances[0] -= op.fee;
        });
    }
    tree.update(op.a_index, a).unwrap();
    let mut b = tree.leaf(op.b_index);
    if op.kind.has_receiver() {
        b = edit(&b, |acc| acc.balances[usize::from(op.token)] += op.amount);
    }
    tree.update(op.b_index, b).unwrap();
    (a, b)
}

// ---------------------------------------------------------------------------------
// The rest of the op constraints, one forgery each.

#[test]
fn a_withdrawal_that_also_credits_is_refused() {
    // Paid on L1 and kept on L2: the receiver leg (leaf 0) gets the 77 GCC too.
    let w = honest(&[withdraw(3, 0, 77, 1)], 2);
    let mut s = steps(&w);
    s[0].4 = edit(&s[0].4, |a| a.balances[0] += 77);
    s[1].2 = s[0].4;
    let mut f = forge(&replay(s));
    f.set_op(0, col::TOK_B, Val::ONE);
    f.set_op_u128(0, col::NEW_B_TOK, 77);
    f.settle(0);
    f.assert_refused(0);
}

#[test]
fn a_fractional_b_new_that_turns_a_transfer_into_a_deposit_is_refused() {
    // A transfer into empty leaf 6 (zero key), whose tag 1 + 32·(1/32) = 2 reads as
    // a deposit on the L1.
    let mut t = transfer(1, 6, 0, 500, 1);
    t.b_data = [0; 32];
    let w = honest(&[t], 2);
    let mut f = forge(&w);
    f.set_op(0, col::B_NEW, Val::from_u32(32).inverse());
    f.recommit(0);
    f.assert_refused(0);
}

#[test]
fn an_amount_or_fee_where_the_kind_has_none_is_refused() {
    // A fee-only op that commits to an amount.
    let w = honest(&[fee_only(1, 4)], 2);
    let mut s = steps(&w);
    s[0].0.amount = 5;
    forge(&replay(s)).assert_refused(0);
    // A deposit with a fee: the fee account is paid a fee nobody paid.
    let w = honest(&[deposit(4, key(4), false, 100)], 2);
    let mut s = steps(&w);
    s[0].0.fee = 7;
    s[1].0.amount = 7;
    s[1].4 = edit(&s[1].4, |a| a.balances[0] += 7);
    forge(&replay(s)).assert_refused(0);
}

/// A transfer with fee 5, then the fee credit; the fee account gets `extra` more
/// than the fees, and the trace's fee total says so from op `at` on.
fn fee_mint(extra: u128) -> (SegmentWitness, ForgedTrace) {
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let mut s = steps(&w);
    s[1].0.amount += extra;
    s[1].4 = edit(&s[1].4, |a| a.balances[0] += extra);
    let f = forge(&replay(s));
    (w, f)
}

#[test]
fn a_fee_total_that_is_not_the_fees_is_refused() {
    // The fee credit moves more than the total.
    let (_, f) = fee_mint(1_000);
    f.assert_refused(1);
    // The total starts at 1,000.
    let (_, mut f) = fee_mint(1_000);
    f.set_op_u128(0, col::FEE_IN, 1_000);
    f.set_op_u128(0, col::FEE_OUT, 1_005);
    f.set_op_u128(1, col::FEE_IN, 1_005);
    f.settle(0);
    f.assert_refused(0);
    // The total grows by 1,000 between ops.
    let (_, mut f) = fee_mint(1_000);
    f.set_op_u128(1, col::FEE_IN, 1_005);
    f.assert_refused(0);
    // The op adds 1,005 for a fee of 5 (carries left honest).
    let (_, mut f) = fee_mint(1_000);
    f.set_op_u128(0, col::FEE_OUT, 1_005);
    f.set_op_u128(1, col::FEE_IN, 1_005);
    f.settle(0);
    for i in 0..8 {
        f.set(row(0, rows::FEE_ROW), col::BOR + i, Val::ZERO);
    }
    f.assert_refused(0);
    // Fees left uncredited at the end (the fee credit replaced by padding).
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let mut s = steps(&w);
    s[1] = (Op::noop(), 0, genesis().leaf(0), 0, genesis().leaf(0));
    forge(&replay(s)).assert_refused(1);
}

#[test]
fn a_fee_credit_that_does_not_reset_the_total_is_refused() {
    // The fees are credited twice: the first credit leaves the total at 5.
    let user = [transfer(1, 2, 0, 999, 5)];
    let mut r = Replay::new(&genesis(), HEADER);
    for op in [
        user[0].clone(),
        Op::fee_credit(9, 5),
        Op::noop(),
        Op::fee_credit(9, 5),
    ] {
        let (a_new, b_new) = apply_one(&mut r.tree.clone(), &op);
        r.step((op.clone(), op.a_index, a_new, op.b_index, b_new));
    }
    let mut f = forge(&r.finish());
    f.set_op_u128(1, col::FEE_OUT, 5);
    for op in 2..4 {
        f.set_op_u128(op, col::FEE_IN, 5);
    }
    f.set_op_u128(2, col::FEE_OUT, 5);
    for op in 1..4 {
        f.settle(op);
    }
    f.assert_refused(1);
}

#[test]
fn a_fee_total_that_wraps_is_refused() {
    let mut tree = genesis();
    for i in [1u32, 2] {
        let rich = edit(&tree.leaf(i), |a| a.balances[0] = u128::MAX);
        tree.update(i, rich).unwrap();
    }
    let half = 1u128 << 127;
    let mut r = Replay::new(&tree, HEADER);
    for op in [
        fee_only(1, half),
        fee_only(2, half),
        Op::noop(),
        Op::fee_credit(9, 0),
    ] {
        let (a_new, b_new) = apply_one(&mut r.tree.clone(), &op);
        r.step((op.clone(), op.a_index, a_new, op.b_index, b_new));
    }
    forge(&r.finish()).assert_refused(1);
}

#[test]
fn sender_arithmetic_forgeries_are_refused() {
    let t = transfer(1, 2, 0, 999, 5);
    let gcc = account(&genesis().leaf(1)).balances[0];
    // The fee-only sender keeps its fee (carries left honest).
    let w = honest(&[fee_only(1, 4)], 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[0] += 4);
    let mut f = forge(&replay(s));
    f.settle(0);
    for i in 0..8 {
        f.set(row(0, 0), col::BOR + i, Val::ZERO);
    }
    f.assert_refused(0);
    // The sender's leaf keeps its GCC; the checked column says it paid.
    let w = honest(std::slice::from_ref(&t), 2);
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[0] = gcc);
    let mut f = forge(&replay(s));
    f.set_op_u128(0, col::NEW_A_GCC, gcc - 999 - 5);
    f.settle(0);
    f.assert_refused(0);
    // The same for a token: a SPIRIT withdrawal, not debited (carries left honest),
    // and debited only in the checked column.
    let w = honest(&[withdraw(3, 1, 77, 1)], 2);
    let spirit = account(&w.ops[0].a.old).balances[1];
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[1] = spirit);
    let forged = replay(s);
    let mut f = forge(&forged);
    f.settle(0);
    for i in 0..8 {
        f.set(row(0, 1), col::BOR + i, Val::ZERO);
    }
    f.assert_refused(0);
    let mut f = forge(&forged);
    f.set_op_u128(0, col::NEW_A_TOK, spirit - 77);
    f.settle(0);
    f.assert_refused(0);
    // The sender's MANA grows during a GCC transfer.
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.balances[2] += 1_000_000);
    forge(&replay(s)).assert_refused(0);
    // Overdraft: 5,001 SPIRIT of 5,000, with a borrow out of the top limb.
    let w = honest(&[withdraw(3, 1, 77, 1)], 2);
    let mut s = steps(&w);
    s[0].0.amount = 5_001;
    s[0].2 = edit(&s[0].2, |a| a.balances[1] = 5_000u128.wrapping_sub(5_001));
    forge(&replay(s)).assert_refused(0);
}

#[test]
fn nonce_forgeries_are_refused() {
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    // Not consumed (a replayable op).
    let mut s = steps(&w);
    s[0].2 = edit(&s[0].2, |a| a.nonce -= 1);
    forge(&replay(s.clone())).assert_refused(0);
    // Not consumed in the leaf, consumed in the checked column.
    let mut f = forge(&replay(s));
    f.set_op_limbs(0, col::NEW_A_NONCE, &vals(u64_limbs(2)));
    f.settle(0);
    f.assert_refused(0);
    // An old nonce (the op was signed for nonce 0).
    let mut s = steps(&w);
    s[0].0.nonce = 0;
    forge(&replay(s)).assert_refused(0);
    // A nonce at u64::MAX wraps to 0.
    let mut tree = genesis();
    let old = edit(&tree.leaf(1), |a| a.nonce = u64::MAX);
    tree.update(1, old).unwrap();
    let mut t = transfer(1, 2, 0, 999, 5);
    t.nonce = u64::MAX;
    let mut r = Replay::new(&tree, HEADER);
    let a_new = edit(&old, |acc| {
        acc.nonce = 0;
        acc.balances[0] -= 999 + 5;
    });
    let b_new = edit(&tree.leaf(2), |acc| acc.balances[0] += 999);
    r.step((t, 1, a_new, 2, b_new));
    let credit = Op::fee_credit(9, 5);
    let (fa, fb) = apply_one(&mut r.tree.clone(), &credit);
    r.step((credit, 0, fa, 9, fb));
    forge(&r.finish()).assert_refused(0);
}

#[test]
fn receiver_arithmetic_forgeries_are_refused() {
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let gcc = account(&w.ops[0].b.old).balances[0];
    // The receiver gets 10,000 for 999 (carries left honest: no carry either way).
    let mut s = steps(&w);
    s[0].4 = edit(&s[0].4, |a| a.balances[0] = gcc + 10_000);
    let forged = replay(s);
    let mut f = forge(&forged);
    f.settle(0);
    for i in 0..8 {
        f.set(row(0, rows::B_AT), col::BOR + i, Val::ZERO);
    }
    f.assert_refused(0);
    // ... with the checked column saying 999.
    let mut f = forge(&forged);
    f.set_op_u128(0, col::NEW_B_TOK, gcc + 999);
    f.settle(0);
    f.assert_refused(0);
    // ... with the amount 10,000 on the receiver's rows only.
    let mut f = forge(&forged);
    for (j, v) in vals(u128_limbs(10_000)).iter().enumerate() {
        f.set_op_rows(0, rows::B_AT..rows::IDLE_ROW, col::AMOUNT + j, *v);
    }
    f.settle(0);
    f.assert_refused(0);
    // The receiver's MANA grows too.
    let mut s = steps(&w);
    s[0].4 = edit(&s[0].4, |a| a.balances[2] += 1_000_000);
    forge(&replay(s)).assert_refused(0);
    // Overflow: a SPIRIT balance at u128::MAX − 10 gets 11 and wraps to 0.
    let mut tree = genesis();
    let full = edit(&tree.leaf(2), |a| a.balances[1] = u128::MAX - 10);
    tree.update(2, full).unwrap();
    let t = transfer(1, 2, 1, 11, 0);
    let mut r = Replay::new(&tree, HEADER);
    let (a_new, _) = apply_one(
        &mut r.tree.clone(),
        &Op {
            amount: 0,
            ..t.clone()
        },
    );
    let a_new = edit(&a_new, |a| a.balances[1] -= 11);
    let b_new = edit(&full, |a| a.balances[1] = 0);
    r.step((t, 1, a_new, 2, b_new));
    let credit = Op::fee_credit(9, 0);
    let (fa, fb) = apply_one(&mut r.tree.clone(), &credit);
    r.step((credit, 0, fa, 9, fb));
    forge(&r.finish()).assert_refused(0);
}

// ---------------------------------------------------------------------------------
// Range checks: a "negative" limb gets through a lane only by breaking it.

#[test]
fn a_limb_outside_the_range_check_is_refused() {
    // Account 3 holds 70,536 SPIRIT (limbs 5,000 and 1) and withdraws 6,000: limb 0
    // goes to −1,000 with no borrow, limb 1 stays. Carries are all 0.
    let mut tree = genesis();
    let spirit = 5_000 + (1u128 << 16);
    let old = edit(&tree.leaf(3), |a| a.balances[1] = spirit);
    tree.update(3, old).unwrap();
    let x = withdraw(3, 1, 6_000, 1);
    let mut a_new = edit(&old, |a| {
        a.nonce += 1;
        a.balances[0] -= 1;
    });
    a_new[8] = -Val::from_u32(1_000);
    let mut r = Replay::new(&tree, HEADER);
    r.step((x, 3, a_new, 0, tree.leaf(0)));
    let credit = Op::fee_credit(9, 1);
    let (fa, fb) = apply_one(&mut r.tree.clone(), &credit);
    r.step((credit, 0, fa, 9, fb));
    let mut base = forge(&r.finish());
    base.settle(0);
    // The value sits in lane 0, window 0: rows 0..16 of the op.
    let value = base.get(row(0, 15), col::NEW_A_TOK);
    assert_eq!(col::NEW_A_TOK, col::RC);
    let v = value.as_canonical_u32();
    let low = v & 0xffff;
    let honest_acc = |t: usize| Val::from_u32(low >> (15 - t));
    let bit = |t: usize| Val::from_u32((low >> (15 - t)) & 1);
    let excess = value - Val::from_u32(low);
    let set_lane = |f: &mut ForgedTrace, t: usize, b: Val, acc: Val| {
        f.set(row(0, t), col::LANE_BIT, b);
        f.set(row(0, t), col::LANE_ACC, acc);
    };
    // The lane ends at the low 16 bits, not the value.
    base.assert_refused(0);
    // The last bit is not a bit.
    let mut f = base.clone();
    set_lane(&mut f, 15, bit(15) + excess, value);
    f.assert_refused(0);
    // The accumulator starts off its first bit.
    let mut f = base.clone();
    let shift = excess * Val::from_u32(1 << 15).inverse();
    for t in 0..16 {
        set_lane(
            &mut f,
            t,
            bit(t),
            honest_acc(t) + shift * Val::from_u32(1 << t),
        );
    }
    f.assert_refused(0);
    // One step of the accumulator is not 2·acc + bit.
    let mut f = base;
    set_lane(&mut f, 15, bit(15), value);
    f.assert_refused(0);
}

// ---------------------------------------------------------------------------------
// The commitment chain.

#[test]
fn a_commitment_that_is_not_of_the_trace_ops_is_refused() {
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let clean = forge(&w);
    let seed: Digest = core::array::from_fn(|i| clean.public[2 * DIGEST + i]);
    let resume = |f: &mut ForgedTrace, state: Digest| {
        f.set_op_limbs(1, col::COMMIT, &state);
        f.recommit(1);
    };
    // The L1 sees a withdrawal (tag 3) where the trace runs a transfer: paid on L1
    // and credited on L2.
    let mut f = clean.clone();
    let mut blocks = f.op_blocks(0);
    blocks[0][0] = Val::from_u32(3);
    let state = f.set_commit_rows(0, &seed, &blocks);
    resume(&mut f, state);
    f.assert_refused(0);
    // The L1 sees an amount of 9,999 where the trace moves 999.
    let mut f = clean.clone();
    let mut blocks = f.op_blocks(0);
    blocks[1][0] += Val::from_u32(9_000);
    let state = f.set_commit_rows(0, &seed, &blocks);
    resume(&mut f, state);
    f.assert_refused(0);
    // The fee credit's rows restart from the seed: the transfer is hidden.
    let mut f = clean.clone();
    let blocks = f.op_blocks(1);
    let state = f.set_commit_rows(1, &seed, &blocks);
    f.public[3 * DIGEST..].copy_from_slice(&state);
    f.assert_refused(1);
    // The op column carries the seed into the fee credit: the transfer is hidden.
    let mut f = clean.clone();
    resume(&mut f, seed);
    f.assert_refused(0);
    // Inside an op: the second half of a pair, or the next pair, starts from the
    // wrong state (a block skipped).
    for skip in [0usize, 1] {
        let mut f = clean.clone();
        let blocks = f.op_blocks(0);
        let mut state = seed;
        let (mut olds, mut news) = (Vec::new(), Vec::new());
        for j in 0..3 {
            let mut a = [Val::ZERO; 16];
            a[..DIGEST].copy_from_slice(&blocks[2 * j]);
            a[DIGEST..].copy_from_slice(&state);
            let after_a = truncate(&permute(a));
            let mut b = [Val::ZERO; 16];
            b[..DIGEST].copy_from_slice(&blocks[2 * j + 1]);
            // skip 0: the pair's second half ignores the first; skip 1: the next
            // pair ignores this one.
            b[DIGEST..].copy_from_slice(if skip == 0 && j == 0 {
                &state
            } else {
                &after_a
            });
            let after_b = truncate(&permute(b));
            state = if skip == 1 && j == 0 { state } else { after_b };
            olds.push(a);
            news.push(b);
        }
        f.set_perm_inputs(row(0, rows::COMMIT_AT), Side::Old, &olds);
        f.set_perm_inputs(row(0, rows::COMMIT_AT), Side::New, &news);
        resume(&mut f, state);
        f.assert_refused(0);
    }
}

// ---------------------------------------------------------------------------------
// The tree: sponges, chains, roots, permutations.

/// A transfer and its fee credit; the fee credit's receiver leg is the last update,
/// so its new side can be rewritten without touching anything after it.
fn last_update() -> (ForgedTrace, LeafFields, [Digest; DEPTH]) {
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let f = forge(&w);
    let leaf = f.leaf(1, Leg::B, Side::New);
    let siblings = f.siblings(1, Leg::B);
    (f, leaf, siblings)
}

/// The new side of the fee credit's receiver leg from `inputs` (sponge and levels),
/// recomputing each level's input from the previous output unless `keep_level`.
fn rewrite_last(
    f: &mut ForgedTrace,
    mut sponge: Vec<[Val; 16]>,
    siblings: &[Digest; DEPTH],
    cur: Digest,
) {
    let bits = f.bits(1, Leg::B);
    let mut cur = cur;
    for (h, s) in siblings.iter().enumerate() {
        let input = ghostplane_stark::hash::parent_input(&cur, s, bits[h] == Val::ONE);
        sponge.push(input);
        cur = truncate(&permute(input));
    }
    f.set_perm_inputs(row(1, rows::B_AT), Side::New, &sponge);
    f.reroot();
}

#[test]
fn leaf_sponge_and_chain_forgeries_are_refused() {
    let (clean, leaf, siblings) = last_update();
    let sponge = |cap0: Option<Val>, cap2: Option<Val>| {
        let mut inputs = ghostplane_stark::hash::leaf_inputs(&leaf).to_vec();
        if let Some(c) = cap0 {
            inputs[0][DIGEST] = c;
        }
        for r in 1..inputs.len() {
            let out = permute(inputs[r - 1]);
            inputs[r][DIGEST..].copy_from_slice(&out[DIGEST..]);
            if r == 2
                && let Some(c) = cap2
            {
                inputs[r][DIGEST] = c;
            }
        }
        let cur = truncate(&permute(inputs[inputs.len() - 1]));
        (inputs, cur)
    };
    // The sponge starts from a non-zero capacity.
    let mut f = clean.clone();
    let (inputs, cur) = sponge(Some(Val::ONE), None);
    rewrite_last(&mut f, inputs, &siblings, cur);
    f.assert_refused(1);
    // The capacity is not carried into block 2.
    let mut f = clean.clone();
    let (inputs, cur) = sponge(None, Some(Val::ONE));
    rewrite_last(&mut f, inputs, &siblings, cur);
    f.assert_refused(1);
    // The path starts from a leaf digest of the forger's choosing (the fee account
    // with a billion GCC), not from the sponge's output.
    let mut f = clean.clone();
    let (inputs, _) = sponge(None, None);
    let rich = edit(&leaf, |a| a.balances[0] += 1_000_000_000);
    rewrite_last(
        &mut f,
        inputs,
        &siblings,
        ghostplane_stark::hash::hash_leaf(&rich),
    );
    f.assert_refused(1);
    // A permutation output edited: the new root is the forger's.
    let mut f = clean;
    let top = row(1, rows::IDLE_ROW - 1);
    let v = f.get(top, col::NEW + col::OUT) + Val::ONE;
    f.set(top, col::NEW + col::OUT, v);
    f.reroot();
    f.assert_refused(1);
}

#[test]
fn running_root_forgeries_are_refused() {
    // The segment runs on a tree where account 1 holds a billion more GCC; the
    // public old root is the real one.
    let real = genesis();
    let mut fake = genesis();
    let rich = edit(&fake.leaf(1), |a| a.balances[0] += 1_000_000_000);
    fake.update(1, rich).unwrap();
    let w = honest_on(&fake, HEADER, &[transfer(1, 2, 0, 999, 5)], 2);
    let root = real.root();
    // The running root changes between rows 0 and 1.
    let mut f = forge(&w);
    for (i, v) in root.iter().enumerate() {
        f.set(0, col::ROOT + i, *v);
    }
    f.public[..DIGEST].copy_from_slice(&root);
    f.assert_refused(0);
    // The old path's top is not the running root.
    let mut f = forge(&w);
    for r in 0..rows::B_AT {
        for (i, v) in root.iter().enumerate() {
            f.set(row(0, r), col::ROOT + i, *v);
        }
    }
    f.public[..DIGEST].copy_from_slice(&root);
    f.assert_refused(0);
    // Between the legs the root becomes that of a tree where account 3 is rich:
    // leg B and everything after run on it.
    let w = honest(&[transfer(1, 2, 0, 999, 5)], 2);
    let s = steps(&w);
    let mut r = Replay::new(&genesis(), HEADER);
    let a = r.tree.update(1, s[0].2).unwrap();
    let rich = edit(&r.tree.leaf(3), |a| a.balances[0] += 1_000_000_000);
    r.tree.update(3, rich).unwrap();
    let jumped = r.tree.root();
    let b = r.tree.update(2, s[0].4).unwrap();
    r.ops.push(OpWitness {
        op: s[0].0.clone(),
        a,
        b,
    });
    r.step(s[1].clone());
    let mut f = forge(&r.finish());
    for rr in rows::B_AT..rows::IDLE_ROW {
        for (i, v) in jumped.iter().enumerate() {
            f.set(row(0, rr), col::ROOT + i, *v);
        }
    }
    f.assert_refused(0);
}

// ---------------------------------------------------------------------------------
// A contract's key field (issue 36): only a `ContractKey` op changes a key, to the
// op's new key, and it changes nothing else.

fn rekey(index: u8, new_key: [u8; 32]) -> Op {
    Op {
        kind: OpKind::ContractKey,
        token: 0,
        a_index: u32::from(index),
        a_key: key(index),
        b_index: 0,
        b_data: new_key,
        b_new: false,
        nonce: 0,
        amount: 0,
        fee: 0,
    }
}

#[test]
fn a_contract_key_op_moves_the_key_to_the_ops_and_nothing_else() {
    let new_key = key(40);
    // Then a transfer to the contract, which names its new key.
    let pay = Op {
        b_data: new_key,
        ..transfer(1, 4, 2, 10, 1)
    };
    let w = honest(&[rekey(4, new_key), pay], 4);
    let (before, after) = (account(&w.ops[0].a.old), account(&w.ops[0].a.new));
    assert_eq!(after.key, new_key);
    assert_eq!(
        (after.nonce, after.balances),
        (before.nonce, before.balances)
    );
    forge(&w).assert_accepted();
    // The forgeries, on the re-key alone (so that no later op notices).
    let w = honest(&[rekey(4, new_key)], 2);
    forge(&w).assert_accepted();
    // The leaf takes another key than the op's new key (limb 0 and limb 8).
    for at in [0, 31] {
        let mut s = steps(&w);
        s[0].2 = edit(&s[0].2, |a| a.key = with_byte(new_key, at));
        forge(&replay(s)).assert_refused(0);
    }
    // The op names another old key than the leaf's.
    let mut s = steps(&w);
    s[0].0.a_key = key(5);
    forge(&replay(s)).assert_refused(0);
    // It also mints, burns, or moves the nonce.
    for change in [
        (|a: &mut Account| a.balances[2] += 1) as fn(&mut Account),
        |a| a.balances[0] -= 1,
        |a| a.nonce += 1,
    ] {
        let mut s = steps(&w);
        s[0].2 = edit(&s[0].2, change);
        forge(&replay(s)).assert_refused(0);
    }
}

#[test]
fn no_other_op_changes_a_key() {
    // A fee-only op (leg A bound to the op's key) whose leaf takes the op's
    // `b_data` as its key, as a contract-key op would.
    let w = honest(&[fee_only(2, 5)], 2);
    let mut s = steps(&w);
    s[0].0.b_data = key(40);
    s[0].2 = edit(&s[0].2, |a| a.key = key(40));
    forge(&replay(s)).assert_refused(0);
    // A no-op whose (inactive) leg A re-keys account 3.
    let w = honest(&[fee_only(2, 5)], 4);
    let mut s = steps(&w);
    s[1].0.a_index = 3;
    s[1].1 = 3;
    s[1].0.b_data = key(40);
    s[1].2 = edit(&genesis().leaf(3), |a| a.key = key(40));
    forge(&replay(s)).assert_refused(1);
}

// ---------------------------------------------------------------------------------
// Forced withdrawals (issue 37): the owner's account pays `min(requested,
// balance)`, no fee, its nonce unchanged; `b_new` ("full") binds a zero balance.

fn forced(from: u8, token: u8, amount: u128, full: bool) -> Op {
    Op {
        kind: OpKind::ForcedWithdraw,
        token,
        a_index: u32::from(from),
        a_key: key(from),
        b_index: 0,
        b_data: [0xee; 32],
        b_new: full,
        nonce: 5,
        amount,
        fee: 0,
    }
}

#[test]
fn a_forced_withdrawal_pays_its_amount_and_binds_a_whole_balance() {
    // A part of SPIRIT, the whole of GHOST, the whole of GCC.
    let w = honest(
        &[
            forced(2, 1, 100, false),
            forced(3, 3, 70_000, true),
            forced(4, 0, 1_000_004, true),
        ],
        4,
    );
    for (op, token, left) in [(0usize, 1usize, 4_900u128), (1, 3, 0), (2, 0, 0)] {
        let (before, after) = (account(&w.ops[op].a.old), account(&w.ops[op].a.new));
        assert_eq!(after.balances[token], left);
        assert_eq!((after.nonce, after.key), (before.nonce, before.key));
    }
    forge(&w).assert_accepted();

    // Natively: "whole" with a balance left, or a fee, is refused.
    let mut tree = genesis();
    let root = tree.root();
    for bad in [
        forced(3, 3, 69_999, true),
        Op {
            fee: 1,
            ..forced(3, 3, 10, false)
        },
    ] {
        assert!(build_segment(&mut tree, HEADER, &[bad], 2).is_err());
        assert_eq!(tree.root(), root);
    }

    // In the trace: "whole", yet the leaf keeps 1 GHOST (and GCC).
    for (token, amount) in [(3u8, 69_999u128), (0, 1_000_002)] {
        let w = honest(&[forced(3, token, amount, false)], 2);
        let mut s = steps(&w);
        s[0].0.b_new = true;
        forge(&replay(s)).assert_refused(0);
    }
    // It moves the nonce, charges a fee on GCC, or names another key.
    let w = honest(&[forced(2, 1, 100, false)], 2);
    for change in [
        (|a: &mut Account| a.nonce += 1) as fn(&mut Account),
        |a| a.balances[0] -= 1,
        |a| a.balances[1] += 100,
    ] {
        let mut s = steps(&w);
        s[0].2 = edit(&s[0].2, change);
        forge(&replay(s)).assert_refused(0);
    }
    let mut s = steps(&w);
    s[0].0.a_key = key(5);
    forge(&replay(s)).assert_refused(0);
}
