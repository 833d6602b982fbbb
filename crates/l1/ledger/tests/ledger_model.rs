//! Model-based test of the ledger: random sequences of every operation (transfers,
//! pending transfers with timeouts, posts, voids, mints, burns, linked chains,
//! account flags, reused ids, idle blocks for expiries) run against ghostd's ledger
//! and against a small reference model written here from the rules alone. After
//! every block: every account, every result code, every pending status, the supply
//! and the block invariants must agree.
//!
//! Two backends run the ledger: the module over in-memory state, through the same
//! block and transaction layers the node uses (thousands of cases), and a real node
//! (RocksDB, admission, sealing, receipts; fewer cases). Each transaction is its
//! own block, so the node's admission dry run and its block agree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::node as common;

use std::collections::{BTreeMap, HashMap};

use common::{FUNDS, Fixture, fixture_genesis, tx};
use ghostd::modules::CallError;
use ghostd::state::{Layer, Read, StateError};
use ghostd::{Call, L1Outcome, LedgerCall, SubmitError};
use ghostd_ledger::{self as ledger, LedgerContext};
use ghostd_types::ledger::{
    AccountFlags, IssuerAuthority, LedgerAccount, LedgerOp, Payee, PendingStatus, TransferCode,
    TransferFlags, issuer, system_transfer_id,
};
use ghostd_types::naming::NamingParams;
use ghostplane_primitives::{Amount, Keypair, L1Address, TokenId};
use proptest::prelude::*;

/// dev0..dev3 trade (with dev4..dev7 as receivers too); dev4 issues GCC; MANA has
/// no issuer and no holders.
const USERS: u32 = 4;
const ISSUER_KEY: u32 = 4;
/// Owner index of the issuance account in the model.
const ISSUANCE: u32 = 99;
const TOKENS: [TokenId; 2] = [TokenId::Gcc, TokenId::Mana];

fn key(i: u32) -> Keypair {
    Keypair::dev(i)
}

fn address(owner: u32) -> L1Address {
    if owner == ISSUANCE {
        issuer()
    } else {
        L1Address(key(owner).public_key().0)
    }
}

/// Every account the model tracks.
fn owners() -> impl Iterator<Item = u32> {
    (0..8).chain([ISSUANCE])
}

// ---------------------------------------------------------------- the operations

#[derive(Debug, Clone)]
enum Op {
    Transfer {
        id: u128,
        to: u32,
        token: TokenId,
        amount: Amount,
        pending: Option<u64>,
    },
    Post {
        id: u128,
        pending_id: u128,
        amount: Option<Amount>,
    },
    Void {
        id: u128,
        pending_id: u128,
    },
    Mint {
        id: u128,
        to: u32,
        token: TokenId,
        amount: Amount,
    },
    Burn {
        id: u128,
        token: TokenId,
        amount: Amount,
    },
}

#[derive(Debug, Clone)]
enum Step {
    /// One transaction (its own block): a linked chain of ops, or a flags change.
    Ops {
        signer: u32,
        ops: Vec<Op>,
    },
    Flags {
        signer: u32,
        set: u16,
        clear: u16,
    },
    /// Empty blocks (expiries happen).
    Idle(u64),
}

fn to_wire(op: &Op) -> LedgerOp {
    match op {
        Op::Transfer {
            id,
            to,
            token,
            amount,
            pending,
        } => LedgerOp::Transfer {
            id: *id,
            to: Payee::Address(address(*to)),
            token: *token,
            amount: *amount,
            pending: *pending,
        },
        Op::Post {
            id,
            pending_id,
            amount,
        } => LedgerOp::Post {
            id: *id,
            pending_id: *pending_id,
            amount: *amount,
        },
        Op::Void { id, pending_id } => LedgerOp::Void {
            id: *id,
            pending_id: *pending_id,
        },
        Op::Mint {
            id,
            to,
            token,
            amount,
        } => LedgerOp::Mint {
            id: *id,
            to: Payee::Address(address(*to)),
            token: *token,
            amount: *amount,
            as_did: None,
        },
        Op::Burn { id, token, amount } => LedgerOp::Burn {
            id: *id,
            token: *token,
            amount: *amount,
            as_did: None,
        },
    }
}

fn call_of(step: &Step) -> Option<(u32, Call)> {
    match step {
        Step::Ops { signer, ops } => Some((
            *signer,
            Call::Ledger(LedgerCall::Ops(ops.iter().map(to_wire).collect())),
        )),
        Step::Flags { signer, set, clear } => Some((
            *signer,
            Call::Ledger(LedgerCall::SetAccountFlags {
                token: TokenId::Gcc,
                set: *set,
                clear: *clear,
            }),
        )),
        Step::Idle(_) => None,
    }
}

fn id() -> impl Strategy<Value = u128> {
    // Few ids: retries, reuse with other fields, and posts of real pending ids.
    prop_oneof![40 => 1u128..12, 1 => Just(0u128)]
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![12 => 1u128..300_000, 1 => Just(0u128), 2 => 900_000u128..1_100_000]
}

fn token() -> impl Strategy<Value = TokenId> {
    prop_oneof![8 => Just(TokenId::Gcc), 1 => Just(TokenId::Mana)]
}

fn op() -> impl Strategy<Value = Op> {
    let to = prop_oneof![16 => 0u32..USERS + 1, 2 => USERS + 1..8, 1 => Just(ISSUANCE)];
    prop_oneof![
        6 => (id(), to.clone(), token(), amount(), prop_oneof![Just(None), (0u64..5).prop_map(Some), (1u64..3).prop_map(Some)])
            .prop_map(|(id, to, token, amount, pending)| Op::Transfer { id, to, token, amount, pending }),
        4 => (id(), 0u128..12, prop_oneof![Just(None), amount().prop_map(Some)])
            .prop_map(|(id, pending_id, amount)| Op::Post { id, pending_id, amount }),
        2 => (id(), 0u128..12).prop_map(|(id, pending_id)| Op::Void { id, pending_id }),
        2 => (id(), to, token(), amount())
            .prop_map(|(id, to, token, amount)| Op::Mint { id, to, token, amount }),
        1 => (id(), token(), amount()).prop_map(|(id, token, amount)| Op::Burn { id, token, amount }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let signer = prop_oneof![6 => 0u32..USERS, 1 => Just(ISSUER_KEY)];
    let flag = prop_oneof![
        4 => Just(0u16),
        3 => Just(AccountFlags::HISTORY),
        3 => Just(AccountFlags::CLOSED),
        1 => Just(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
    ];
    prop_oneof![
        10 => (signer.clone(), prop::collection::vec(op(), 1..2))
            .prop_map(|(signer, ops)| Step::Ops { signer, ops }),
        3 => (signer.clone(), prop::collection::vec(op(), 2..5))
            .prop_map(|(signer, ops)| Step::Ops { signer, ops }),
        1 => (signer, flag.clone(), flag).prop_map(|(signer, set, clear)| Step::Flags { signer, set, clear }),
        2 => (1u64..4).prop_map(Step::Idle),
    ]
}

// ---------------------------------------------------------------- the reference model

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Acct {
    dp: Amount,
    dpo: Amount,
    cp: Amount,
    cpo: Amount,
    closed: bool,
    history: bool,
    entries: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Tr {
    debit: u32,
    credit: u32,
    token: TokenId,
    amount: Amount,
    pending_id: u128,
    timeout: u64,
    /// 0 posted, PENDING, POST_PENDING or VOID_PENDING.
    kind: u16,
    code: TransferCode,
}

#[derive(Debug, Clone, Default)]
struct Model {
    accounts: BTreeMap<(u32, u8), Acct>,
    transfers: HashMap<u128, Tr>,
    status: BTreeMap<u128, PendingStatus>,
    expiries: BTreeMap<u64, Vec<u128>>,
    supply: BTreeMap<u8, Amount>,
    issuer_of_gcc: u32,
    block: u64,
}

type Outcome = Result<(), String>;

impl Model {
    fn new() -> Self {
        let mut m = Model {
            issuer_of_gcc: ISSUER_KEY,
            ..Model::default()
        };
        for owner in 0..8 {
            m.acct(owner, TokenId::Gcc).cpo = FUNDS;
            m.acct(owner, TokenId::Gcc).entries = 1;
        }
        let issued = m.acct(ISSUANCE, TokenId::Gcc);
        issued.dpo = 8 * FUNDS;
        issued.entries = 8;
        m.supply.insert(TokenId::Gcc.id(), 8 * FUNDS);
        m
    }

    /// `step` with each post's and void's `pending_id`, a symbolic reference when
    /// generated, made concrete: the n-th pending transfer ever made (whatever its
    /// status now, so second resolutions and expiries are hit), or the raw number
    /// when there is none yet.
    fn concretize(&self, step: &Step) -> Step {
        let mut pendings: Vec<u128> = self
            .transfers
            .iter()
            .filter(|(_, t)| t.kind == TransferFlags::PENDING)
            .map(|(id, _)| *id)
            .collect();
        pendings.sort_unstable();
        let pick = |r: u128| {
            if pendings.is_empty() || r == 0 {
                r
            } else {
                pendings[(r as usize) % pendings.len()]
            }
        };
        match step {
            Step::Ops { signer, ops } => Step::Ops {
                signer: *signer,
                ops: ops
                    .iter()
                    .map(|op| match op {
                        Op::Post {
                            id,
                            pending_id,
                            amount,
                        } => Op::Post {
                            id: *id,
                            pending_id: pick(*pending_id),
                            amount: *amount,
                        },
                        Op::Void { id, pending_id } => Op::Void {
                            id: *id,
                            pending_id: pick(*pending_id),
                        },
                        other => other.clone(),
                    })
                    .collect(),
            },
            other => other.clone(),
        }
    }

    fn acct(&mut self, owner: u32, token: TokenId) -> &mut Acct {
        self.accounts.entry((owner, token.id())).or_default()
    }

    fn get(&self, owner: u32, token: TokenId) -> Acct {
        self.accounts
            .get(&(owner, token.id()))
            .copied()
            .unwrap_or_default()
    }

    /// Starts block `number`: expiries first.
    fn begin_block(&mut self, number: u64) {
        self.block = number;
        for id in self.expiries.remove(&number).unwrap_or_default() {
            if self.status.get(&id) != Some(&PendingStatus::Pending) {
                continue;
            }
            let p = self.transfers[&id].clone();
            let void_id = system_transfer_id(&[b"expiry", &id.to_be_bytes()]);
            self.release(&p);
            self.status.insert(id, PendingStatus::Expired(void_id));
            self.acct(p.debit, p.token).entries += 1;
            self.acct(p.credit, p.token).entries += 1;
            self.transfers.insert(
                void_id,
                Tr {
                    kind: TransferFlags::VOID_PENDING,
                    pending_id: id,
                    code: TransferCode::Expiry,
                    timeout: 0,
                    ..p
                },
            );
        }
    }

    fn release(&mut self, p: &Tr) {
        self.acct(p.debit, p.token).dp -= p.amount;
        self.acct(p.credit, p.token).cp -= p.amount;
    }

    fn step(&mut self, step: &Step) -> Outcome {
        match step {
            Step::Idle(_) => Ok(()),
            Step::Flags { signer, set, clear } => {
                let bad = (set | clear) & !(AccountFlags::HISTORY | AccountFlags::CLOSED);
                if bad != 0 {
                    return Err("flags_not_settable".into());
                }
                let a = self.acct(*signer, TokenId::Gcc);
                if set & AccountFlags::HISTORY != 0 {
                    a.history = true;
                }
                if set & AccountFlags::CLOSED != 0 {
                    a.closed = true;
                }
                if clear & AccountFlags::HISTORY != 0 {
                    a.history = false;
                }
                if clear & AccountFlags::CLOSED != 0 {
                    a.closed = false;
                }
                Ok(())
            }
            Step::Ops { signer, ops } => {
                let saved = self.clone();
                for op in ops {
                    if let Err(code) = self.op(*signer, op) {
                        *self = saved;
                        return Err(code);
                    }
                }
                Ok(())
            }
        }
    }

    fn op(&mut self, signer: u32, op: &Op) -> Outcome {
        let id = match op {
            Op::Transfer { id, .. }
            | Op::Post { id, .. }
            | Op::Void { id, .. }
            | Op::Mint { id, .. }
            | Op::Burn { id, .. } => *id,
        };
        if id == 0 {
            return Err("id_must_not_be_zero".into());
        }
        let t = match op {
            Op::Transfer {
                to,
                token,
                amount,
                pending,
                ..
            } => {
                if *to == ISSUANCE {
                    return Err("issuance_account".into());
                }
                Tr {
                    debit: signer,
                    credit: *to,
                    token: *token,
                    amount: *amount,
                    pending_id: 0,
                    timeout: pending.unwrap_or(0),
                    kind: if pending.is_some() {
                        TransferFlags::PENDING
                    } else {
                        0
                    },
                    code: TransferCode::Transfer,
                }
            }
            Op::Post {
                pending_id, amount, ..
            } => {
                let p = self
                    .transfers
                    .get(pending_id)
                    .ok_or("pending_transfer_not_found")?
                    .clone();
                if signer != p.debit && signer != p.credit {
                    return Err("unauthorized".into());
                }
                Tr {
                    amount: amount.unwrap_or(p.amount),
                    pending_id: *pending_id,
                    timeout: 0,
                    kind: TransferFlags::POST_PENDING,
                    ..p
                }
            }
            Op::Void { pending_id, .. } => {
                let p = self
                    .transfers
                    .get(pending_id)
                    .ok_or("pending_transfer_not_found")?
                    .clone();
                if signer != p.credit {
                    return Err("unauthorized".into());
                }
                Tr {
                    pending_id: *pending_id,
                    timeout: 0,
                    kind: TransferFlags::VOID_PENDING,
                    ..p
                }
            }
            Op::Mint {
                to, token, amount, ..
            } => {
                if *token != TokenId::Gcc || signer != self.issuer_of_gcc {
                    return Err("unauthorized".into());
                }
                Tr {
                    debit: ISSUANCE,
                    credit: *to,
                    token: *token,
                    amount: *amount,
                    pending_id: 0,
                    timeout: 0,
                    kind: 0,
                    code: TransferCode::Mint,
                }
            }
            Op::Burn { token, amount, .. } => {
                if *token != TokenId::Gcc || signer != self.issuer_of_gcc {
                    return Err("unauthorized".into());
                }
                Tr {
                    debit: signer,
                    credit: ISSUANCE,
                    token: *token,
                    amount: *amount,
                    pending_id: 0,
                    timeout: 0,
                    kind: 0,
                    code: TransferCode::Burn,
                }
            }
        };
        self.apply(id, t)
    }

    fn apply(&mut self, id: u128, t: Tr) -> Outcome {
        let resolving = t.kind & (TransferFlags::POST_PENDING | TransferFlags::VOID_PENDING) != 0;
        if t.amount == 0 && !resolving {
            return Err("amount_must_not_be_zero".into());
        }
        if t.debit == t.credit {
            return Err("accounts_must_be_different".into());
        }
        if let Some(e) = self.transfers.get(&id) {
            let field = if e.kind != t.kind {
                Some("flags")
            } else if e.pending_id != t.pending_id {
                Some("pending_id")
            } else if e.timeout != t.timeout {
                Some("timeout")
            } else if e.debit != t.debit {
                Some("debit_account")
            } else if e.credit != t.credit {
                Some("credit_account")
            } else if e.token != t.token {
                Some("ledger")
            } else if e.amount != t.amount {
                Some("amount")
            } else if e.code != t.code {
                Some("code")
            } else {
                None
            };
            return match field {
                None => Ok(()),
                Some(f) => Err(format!("exists_with_different_{f}")),
            };
        }
        let (debit, credit) = (self.get(t.debit, t.token), self.get(t.credit, t.token));
        if resolving {
            let p = self.transfers[&t.pending_id].clone();
            match self.status.get(&t.pending_id) {
                None => return Err("pending_transfer_not_pending".into()),
                Some(PendingStatus::Posted(_)) => {
                    return Err("pending_transfer_already_posted".into());
                }
                Some(PendingStatus::Voided(_)) => {
                    return Err("pending_transfer_already_voided".into());
                }
                Some(PendingStatus::Expired(_)) => return Err("pending_transfer_expired".into()),
                Some(PendingStatus::Pending) => {}
            }
            let post = t.kind == TransferFlags::POST_PENDING;
            if post {
                if t.amount == 0 {
                    return Err("amount_must_not_be_zero".into());
                }
                if t.amount > p.amount {
                    return Err("exceeds_pending_transfer_amount".into());
                }
            }
            self.release(&p);
            if post {
                self.acct(t.debit, t.token).dpo += t.amount;
                self.acct(t.credit, t.token).cpo += t.amount;
                self.move_supply(&t);
                self.status.insert(t.pending_id, PendingStatus::Posted(id));
            } else {
                self.status.insert(t.pending_id, PendingStatus::Voided(id));
            }
        } else {
            if debit.closed || credit.closed {
                return Err("account_closed".into());
            }
            // Every account but the issuance account: no overdraft, pending counts.
            if t.debit != ISSUANCE && debit.dp + debit.dpo + t.amount > debit.cpo {
                return Err("exceeds_credits".into());
            }
            if t.credit == ISSUANCE && credit.cp + credit.cpo + t.amount > credit.dpo {
                return Err("exceeds_debits".into());
            }
            if t.kind == TransferFlags::PENDING {
                self.acct(t.debit, t.token).dp += t.amount;
                self.acct(t.credit, t.token).cp += t.amount;
                self.status.insert(id, PendingStatus::Pending);
                if t.timeout > 0 {
                    self.expiries
                        .entry(self.block + t.timeout)
                        .or_default()
                        .push(id);
                }
            } else {
                self.acct(t.debit, t.token).dpo += t.amount;
                self.acct(t.credit, t.token).cpo += t.amount;
                self.move_supply(&t);
            }
        }
        self.acct(t.debit, t.token).entries += 1;
        self.acct(t.credit, t.token).entries += 1;
        self.transfers.insert(id, t);
        Ok(())
    }

    fn move_supply(&mut self, t: &Tr) {
        let supply = self.supply.entry(t.token.id()).or_default();
        if t.debit == ISSUANCE {
            *supply += t.amount;
        } else if t.credit == ISSUANCE {
            *supply -= t.amount;
        }
    }

    /// Checks the ledger's state read through `state` against the model.
    fn compare(&self, state: &dyn Read, context: &str) {
        for owner in owners() {
            for token in TOKENS {
                let real = ledger::account(state, &address(owner), token).unwrap();
                let m = self.get(owner, token);
                let flags = |a: &LedgerAccount| {
                    (
                        a.flags.has(AccountFlags::CLOSED),
                        a.flags.has(AccountFlags::HISTORY),
                    )
                };
                assert_eq!(
                    (
                        real.debits_pending,
                        real.debits_posted,
                        real.credits_pending,
                        real.credits_posted,
                        flags(&real),
                        real.entries
                    ),
                    (m.dp, m.dpo, m.cp, m.cpo, (m.closed, m.history), m.entries),
                    "{context}: account {owner} {token}"
                );
            }
        }
        for id in 1..12u128 {
            assert_eq!(
                ledger::pending_status(state, id).unwrap(),
                self.status.get(&id).copied(),
                "{context}: status of {id}"
            );
        }
        for token in TOKENS {
            assert_eq!(
                ledger::totals(state, token).unwrap().supply,
                self.supply.get(&token.id()).copied().unwrap_or(0),
                "{context}: {token} supply"
            );
        }
        ledger::check_totals(state).unwrap();
    }
}

// ---------------------------------------------------------------- backend 1: the module over memory

#[derive(Default)]
struct Mem(HashMap<Vec<u8>, Vec<u8>>);

impl Read for Mem {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.0.get(key).cloned())
    }
}

impl Mem {
    fn commit(&mut self, writes: ghostd::state::Writes) {
        for (key, value) in writes {
            match value {
                Some(value) => self.0.insert(key, value),
                None => self.0.remove(&key),
            };
        }
    }

    /// The genesis the node writes: the same allocations, ids and issuer.
    fn genesis() -> Self {
        let mut mem = Mem::default();
        let mut layer = Layer::new(&mem);
        for i in 0..8u32 {
            ledger::post(
                &mut layer,
                &ledger::LedgerTransfer::posted(
                    system_transfer_id(&[b"genesis", &u64::from(i).to_be_bytes()]),
                    issuer(),
                    address(i),
                    TokenId::Gcc,
                    FUNDS,
                    TransferCode::Genesis,
                    0,
                ),
            )
            .unwrap();
        }
        ledger::set_genesis_issuers(
            &mut layer,
            &[(
                TokenId::Gcc,
                IssuerAuthority::Key(key(ISSUER_KEY).public_key()),
            )],
        );
        let writes = layer.into_writes();
        mem.commit(writes);
        mem
    }

    /// One block holding `call` (if any), as the node builds it.
    fn block(&mut self, number: u64, call: Option<&(u32, Call)>) -> Option<Outcome> {
        let naming = ghostd::modules::naming::NameResolver::default();
        let (writes, outcome) = {
            let mut block = Layer::new(&*self);
            ledger::begin_block(&mut block, number).unwrap();
            let outcome = call.map(|(signer, call)| {
                let Call::Ledger(call) = call else {
                    unreachable!()
                };
                let ctx = LedgerContext {
                    from: key(*signer).public_key(),
                    block: number,
                    naming: &naming,
                };
                let mut tx = Layer::new(&block);
                let result = ledger::apply(&mut tx, &ctx, call);
                let writes = tx.into_writes();
                match result {
                    Ok(()) => {
                        block.absorb(writes);
                        Ok(())
                    }
                    Err(e) => Err(e.code()),
                }
            });
            ledger::check_totals(&block).unwrap();
            (block.into_writes(), outcome)
        };
        self.commit(writes);
        outcome
    }
}

fn run_in_memory(steps: &[Step]) {
    let mut mem = Mem::genesis();
    let mut model = Model::new();
    model.compare(&mem, "genesis");
    let mut number = 0;
    for (i, step) in steps.iter().enumerate() {
        let blocks = match step {
            Step::Idle(n) => *n,
            _ => 1,
        };
        for b in 0..blocks {
            number += 1;
            model.begin_block(number);
            let step = &model.concretize(step);
            let call = call_of(step);
            let real = mem.block(number, if b == 0 { call.as_ref() } else { None });
            if b == 0 && call.is_some() {
                let expected = model.step(step);
                assert_eq!(real, Some(expected), "step {i}: {step:?}");
            }
            model.compare(&mem, &format!("after step {i} ({step:?})"));
        }
    }
}

// ---------------------------------------------------------------- backend 2: a real node

fn run_on_node(steps: &[Step]) {
    let f: Fixture = fixture_genesis(
        NamingParams::default(),
        vec![(
            TokenId::Gcc,
            IssuerAuthority::Key(key(ISSUER_KEY).public_key()),
        )],
    );
    let mut model = Model::new();
    f.node.read(|s| model.compare(s, "genesis"));
    for (i, step) in steps.iter().enumerate() {
        let blocks = match step {
            Step::Idle(n) => *n,
            _ => 1,
        };
        for b in 0..blocks {
            let number = f.node.head().number + 1;
            model.begin_block(number);
            let step = &model.concretize(step);
            let call = if b == 0 { call_of(step) } else { None };
            let real = call.map(|(signer, call)| {
                let signer = key(signer);
                match f.node.submit(tx(&signer, f.nonce(&signer), call)) {
                    Err(SubmitError::Refused(CallError::Ledger(e))) => Err(e.code()),
                    Err(other) => panic!("step {i}: unexpected admission error {other}"),
                    Ok(hash) => Ok(hash),
                }
            });
            assert_eq!(f.seal(), number);
            if let Some(real) = real {
                let real: Outcome = match real {
                    Err(code) => Err(code),
                    Ok(hash) => match f.node.receipt(&hash).unwrap().unwrap().outcome {
                        L1Outcome::Success => Ok(()),
                        L1Outcome::Failed { message: m, .. } => {
                            panic!("step {i}: admitted but failed: {m}")
                        }
                    },
                };
                assert_eq!(real, model.step(step), "step {i}: {step:?}");
            }
            f.node
                .read(|s| model.compare(s, &format!("after step {i} ({step:?})")));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        ..ProptestConfig::default()
    })]

    /// The module over memory agrees with the model, block by block.
    #[test]
    fn ledger_matches_the_model(steps in prop::collection::vec(step(), 1..40)) {
        run_in_memory(&steps);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    })]

    /// A real node (admission, sealing, receipts, RocksDB) agrees with the model.
    #[test]
    fn node_ledger_matches_the_model(steps in prop::collection::vec(step(), 1..30)) {
        run_on_node(&steps);
    }
}
