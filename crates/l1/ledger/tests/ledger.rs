//! The ledger module end to end on a real node: two-phase transfers (partial post,
//! void, expiry exactly at the timeout block, each resolving once), mint and burn
//! by key and DID issuers with grants, issuer rotation, linked chains rolled back by
//! a failing leg, idempotent ids, account flags, DID and name receivers, the audit
//! trail and history pages, batch submission, and the block invariants after
//! every block.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::node as common;

use common::{FUNDS, Fixture, fixture_genesis, tx};
use ghostd::modules::CallError;
use ghostd::{Call, L1_DEVNET_CHAIN_ID, L1Outcome, LedgerCall, SubmitError};
use ghostd_ledger::{self as ledger, LedgerError};
use ghostd_types::identity::{DidId, IdentityCall};
use ghostd_types::ledger::{
    AccountFlags, IssuerAuthority, LedgerOp, Payee, PendingStatus, TransferCode, TransferFlags,
    mint_permission,
};
use ghostd_types::naming::{COIN_L1, NamingCall, NamingParams, Record};
use ghostplane_primitives::{Keypair, L1Address, TokenId};

const GCC: TokenId = TokenId::Gcc;

fn addr(key: &Keypair) -> L1Address {
    L1Address(key.public_key().0)
}

fn trail_page(from_block: u64, cursor: Option<u64>, limit: u32) -> ledger::PageQuery {
    ledger::PageQuery {
        from_block,
        cursor,
        limit,
    }
}

fn ops(ops: Vec<LedgerOp>) -> Call {
    Call::Ledger(LedgerCall::Ops(ops))
}

fn send(id: u128, to: &Keypair, amount: u128) -> LedgerOp {
    LedgerOp::Transfer {
        id,
        to: Payee::Address(addr(to)),
        token: GCC,
        amount,
        pending: None,
    }
}

fn hold(id: u128, to: &Keypair, amount: u128, timeout: u64) -> LedgerOp {
    LedgerOp::Transfer {
        id,
        to: Payee::Address(addr(to)),
        token: GCC,
        amount,
        pending: Some(timeout),
    }
}

/// A node whose GCC is issued by `issuer` (names cost 1 GCC a year).
fn fixture_issued(issuer: IssuerAuthority) -> Fixture {
    let naming = NamingParams {
        price_per_year: [1; 5],
        ..NamingParams::default()
    };
    fixture_genesis(naming, vec![(GCC, issuer)])
}

/// Ledger checks on the shared fixture; every block is followed by the
/// invariants.
trait LedgerFixture {
    fn account(&self, key: &Keypair) -> ghostd_types::ledger::LedgerAccount;
    fn exec(&self, key: &Keypair, call: Call) -> L1Outcome;
    fn done(&self, key: &Keypair, call: Call);
    fn refused(&self, key: &Keypair, call: Call) -> LedgerError;
    fn tick(&self) -> u64;
    fn status(&self, id: u128) -> Option<PendingStatus>;
}

impl LedgerFixture for Fixture {
    fn account(&self, key: &Keypair) -> ghostd_types::ledger::LedgerAccount {
        self.node
            .read(|s| ledger::account(s, &addr(key), GCC))
            .unwrap()
    }

    /// Runs `call` in its own block, then checks the invariants.
    fn exec(&self, key: &Keypair, call: Call) -> L1Outcome {
        let hash = self.node.submit(tx(key, self.nonce(key), call)).unwrap();
        self.tick();
        self.node.receipt(&hash).unwrap().unwrap().outcome
    }

    fn done(&self, key: &Keypair, call: Call) {
        assert_eq!(self.exec(key, call), L1Outcome::Success);
    }

    /// `call` must be refused at admission with a ledger error; nothing changes
    /// (the node's state digest after an empty block equals a node that never saw
    /// it: checked through every account of the dev keys).
    fn refused(&self, key: &Keypair, call: Call) -> LedgerError {
        let before: Vec<_> = (0..8).map(|i| self.account(&Keypair::dev(i))).collect();
        let error = match self.node.submit(tx(key, self.nonce(key), call)) {
            Err(SubmitError::Refused(CallError::Ledger(e))) => e,
            other => panic!("expected a ledger refusal, got {other:?}"),
        };
        self.tick();
        let after: Vec<_> = (0..8).map(|i| self.account(&Keypair::dev(i))).collect();
        assert_eq!(before, after, "a refused call changed an account");
        error
    }

    /// Seals a block and checks the invariants.
    fn tick(&self) -> u64 {
        let height = self.seal();
        self.node.read(ledger::check_totals).unwrap();
        height
    }

    fn status(&self, id: u128) -> Option<PendingStatus> {
        self.node.read(|s| ledger::pending_status(s, id)).unwrap()
    }
}

#[test]
fn pending_partial_post_releases_the_rest_and_resolves_once() {
    let f = fixture_issued(IssuerAuthority::Key(Keypair::dev(7).public_key()));
    let (alice, bob, carol) = (Keypair::dev(0), Keypair::dev(1), Keypair::dev(2));
    f.done(&alice, ops(vec![hold(1, &bob, 600_000, 0)]));
    let a = f.account(&alice);
    assert_eq!((a.debits_pending, a.debits_posted), (600_000, 0));
    assert_eq!(a.available(), FUNDS - 600_000);
    assert_eq!(f.account(&bob).credits_pending, 600_000);
    assert_eq!(f.status(1), Some(PendingStatus::Pending));
    // Balance checks count the reservation.
    let e = f.refused(&alice, ops(vec![send(2, &carol, FUNDS - 600_000 + 1)]));
    assert_eq!(e.code(), "exceeds_credits");
    // Only the debtor or the creditor may post; only the creditor may void.
    let e = f.refused(
        &carol,
        ops(vec![LedgerOp::Post {
            id: 3,
            pending_id: 1,
            amount: None,
        }]),
    );
    assert!(matches!(e, LedgerError::Unauthorized(_)), "{e}");
    let e = f.refused(
        &alice,
        ops(vec![LedgerOp::Void {
            id: 3,
            pending_id: 1,
        }]),
    );
    assert!(matches!(e, LedgerError::Unauthorized(_)), "{e}");
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 3,
            pending_id: 1,
            amount: Some(600_001),
        }]),
    );
    assert_eq!(e.code(), "exceeds_pending_transfer_amount");
    // The creditor captures 250k; the other 350k goes back to alice.
    f.done(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 3,
            pending_id: 1,
            amount: Some(250_000),
        }]),
    );
    let a = f.account(&alice);
    assert_eq!((a.debits_pending, a.debits_posted), (0, 250_000));
    assert_eq!(a.balance(), FUNDS - 250_000);
    let b = f.account(&bob);
    assert_eq!((b.credits_pending, b.balance()), (0, FUNDS + 250_000));
    assert_eq!(f.status(1), Some(PendingStatus::Posted(3)));
    // Resolving again: typed refusals.
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 4,
            pending_id: 1,
            amount: None,
        }]),
    );
    assert!(
        matches!(e, LedgerError::AlreadyPosted { pending: 1, by: 3 }),
        "{e}"
    );
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Void {
            id: 4,
            pending_id: 1,
        }]),
    );
    assert!(matches!(e, LedgerError::AlreadyPosted { .. }), "{e}");
    // A retry of the post itself is a no-op; the id with another amount is not.
    f.done(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 3,
            pending_id: 1,
            amount: Some(250_000),
        }]),
    );
    assert_eq!(f.account(&bob).balance(), FUNDS + 250_000);
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 3,
            pending_id: 1,
            amount: Some(1),
        }]),
    );
    assert_eq!(e.code(), "exists_with_different_amount");
    // A void releases everything, once.
    f.done(&alice, ops(vec![hold(5, &bob, 1_000, 0)]));
    f.done(
        &bob,
        ops(vec![LedgerOp::Void {
            id: 6,
            pending_id: 5,
        }]),
    );
    assert_eq!(f.account(&alice).debits_pending, 0);
    assert_eq!(f.status(5), Some(PendingStatus::Voided(6)));
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 7,
            pending_id: 5,
            amount: None,
        }]),
    );
    assert!(matches!(e, LedgerError::AlreadyVoided { by: 6, .. }), "{e}");
    // A post must name a pending transfer.
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 7,
            pending_id: 3,
            amount: None,
        }]),
    );
    assert_eq!(e.code(), "pending_transfer_not_pending");
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 7,
            pending_id: 999,
            amount: None,
        }]),
    );
    assert_eq!(e.code(), "pending_transfer_not_found");
}

#[test]
fn pending_expires_exactly_at_its_timeout_block() {
    let f = fixture_issued(IssuerAuthority::Key(Keypair::dev(7).public_key()));
    let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
    f.done(&alice, ops(vec![hold(10, &bob, 5_000, 3)]));
    let created = f.node.head().number;
    // Blocks created+1 and created+2: still pending.
    for _ in 0..2 {
        f.tick();
        assert_eq!(f.status(10), Some(PendingStatus::Pending));
        assert_eq!(f.account(&alice).debits_pending, 5_000);
    }
    // The next block is created+3, which begins by expiring it: a post is refused
    // (already at admission, whose dry run starts the next block the same way).
    let post = ops(vec![LedgerOp::Post {
        id: 11,
        pending_id: 10,
        amount: None,
    }]);
    match f.node.submit(tx(&bob, f.nonce(&bob), post)) {
        Err(SubmitError::Refused(CallError::Ledger(LedgerError::Expired(10)))) => {}
        other => panic!("expected Expired, got {other:?}"),
    }
    let expired_at = f.tick();
    assert_eq!(expired_at, created + 3);
    let Some(PendingStatus::Expired(by)) = f.status(10) else {
        panic!("not expired: {:?}", f.status(10));
    };
    // One block before its timeout, a pending transfer still posts.
    f.done(&alice, ops(vec![hold(13, &bob, 100, 2)]));
    f.done(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 14,
            pending_id: 13,
            amount: None,
        }]),
    );
    assert_eq!(f.status(13), Some(PendingStatus::Posted(14)));
    let a = f.account(&alice);
    assert_eq!((a.debits_pending, a.balance()), (0, FUNDS - 100));
    assert_eq!(f.account(&bob).credits_pending, 0);
    // The release is a node transfer in both audit trails.
    let void = f
        .node
        .read(|s| ledger::transfer_by_id(s, by))
        .unwrap()
        .unwrap();
    assert_eq!(void.code, TransferCode::Expiry);
    assert_eq!(void.block, expired_at);
    assert!(void.flags.has(TransferFlags::VOID_PENDING));
    let (entries, next) = f
        .node
        .read(|s| ledger::account_entries(s, &addr(&alice), GCC, trail_page(0, None, 10)))
        .unwrap();
    assert_eq!(next, None);
    let ids: Vec<u128> = entries.iter().map(|(_, t)| t.id).collect();
    assert_eq!(ids[1..3], [10, by]);
    // Once expired, a void is refused too.
    let e = f.refused(
        &bob,
        ops(vec![LedgerOp::Void {
            id: 12,
            pending_id: 10,
        }]),
    );
    assert!(matches!(e, LedgerError::Expired(10)), "{e}");
}

#[test]
fn linked_chain_rolled_back_by_its_last_leg() {
    let f = fixture_issued(IssuerAuthority::Key(Keypair::dev(7).public_key()));
    let (alice, bob, carol) = (Keypair::dev(0), Keypair::dev(1), Keypair::dev(2));
    let chain = vec![
        send(20, &bob, 100),
        hold(21, &carol, 200, 5),
        send(22, &carol, FUNDS), // fails: the first two legs took 300
    ];
    let e = f.refused(&alice, ops(chain));
    let LedgerError::Linked {
        index,
        count,
        source,
    } = &e
    else {
        panic!("{e}");
    };
    assert_eq!((*index, *count), (2, 3));
    assert_eq!(source.code(), "exceeds_credits");
    assert!(e.to_string().contains("linked_event_failed"));
    for id in [20, 21, 22] {
        assert!(
            f.node
                .read(|s| ledger::transfer_by_id(s, id))
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(f.status(21), None);
    // The same chain that fits applies whole, and is retried as a whole no-op.
    let chain = vec![
        send(20, &bob, 100),
        hold(21, &carol, 200, 5),
        send(22, &carol, 300),
    ];
    f.done(&alice, ops(chain.clone()));
    f.done(&alice, ops(chain));
    let a = f.account(&alice);
    assert_eq!((a.debits_posted, a.debits_pending), (400, 200));
    let first = f
        .node
        .read(|s| ledger::transfer_by_id(s, 20))
        .unwrap()
        .unwrap();
    assert!(first.flags.has(TransferFlags::LINKED));
    let last = f
        .node
        .read(|s| ledger::transfer_by_id(s, 22))
        .unwrap()
        .unwrap();
    assert!(!last.flags.has(TransferFlags::LINKED));
    // Limits: no ops, or more than 64.
    assert_eq!(f.refused(&alice, ops(vec![])).code(), "op_count");
    let many = (0..65).map(|i| send(100 + i, &bob, 1)).collect();
    assert_eq!(f.refused(&alice, ops(many)).code(), "op_count");
    // A chain may also be a swap: both legs or neither.
    let swap = vec![
        send(30, &bob, 50),
        LedgerOp::Transfer {
            id: 31,
            to: Payee::Address(addr(&alice)),
            token: TokenId::Mana,
            amount: 5,
            pending: None,
        },
    ];
    // (Every leg debits the signer; the second fails on alice's empty MANA
    // account and takes the first with it.)
    let e = f.refused(&alice, ops(swap));
    assert!(matches!(e, LedgerError::Linked { index: 1, .. }), "{e}");
    assert!(
        f.node
            .read(|s| ledger::transfer_by_id(s, 30))
            .unwrap()
            .is_none()
    );
}

#[test]
fn mint_and_burn_by_key_issuer_with_rotation() {
    let issuer = Keypair::dev(7);
    let f = fixture_issued(IssuerAuthority::Key(issuer.public_key()));
    let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
    let supply = |f: &Fixture| f.node.read(|s| ledger::totals(s, GCC)).unwrap().supply;
    assert_eq!(supply(&f), 8 * FUNDS);
    let mint = |id, amount| LedgerOp::Mint {
        id,
        to: Payee::Address(addr(&alice)),
        token: GCC,
        amount,
        as_did: None,
    };
    // A non-issuer's mint is refused and changes nothing.
    let e = f.refused(&alice, ops(vec![mint(40, 1_000)]));
    assert!(matches!(e, LedgerError::Unauthorized(_)), "{e}");
    assert_eq!(supply(&f), 8 * FUNDS);
    // MANA has no issuer: fixed supply.
    let e = f.refused(
        &issuer,
        ops(vec![LedgerOp::Mint {
            id: 40,
            to: Payee::Address(addr(&alice)),
            token: TokenId::Mana,
            amount: 1,
            as_did: None,
        }]),
    );
    assert!(e.to_string().contains("fixed"), "{e}");
    f.done(&issuer, ops(vec![mint(40, 1_000)]));
    assert_eq!(supply(&f), 8 * FUNDS + 1_000);
    assert_eq!(f.account(&alice).balance(), FUNDS + 1_000);
    let minted = f
        .node
        .read(|s| ledger::transfer_by_id(s, 40))
        .unwrap()
        .unwrap();
    assert_eq!(minted.code, TransferCode::Mint);
    assert_eq!(minted.debit, ledger::issuer());
    assert_eq!(minted.authorizer.unwrap().key, issuer.public_key());
    // Burn: the issuer destroys what it holds.
    f.done(
        &issuer,
        ops(vec![LedgerOp::Burn {
            id: 41,
            token: GCC,
            amount: 300_000,
            as_did: None,
        }]),
    );
    assert_eq!(supply(&f), 8 * FUNDS + 1_000 - 300_000);
    assert_eq!(f.account(&issuer).balance(), FUNDS - 300_000);
    let e = f.refused(
        &issuer,
        ops(vec![LedgerOp::Burn {
            id: 42,
            token: GCC,
            amount: FUNDS,
            as_did: None,
        }]),
    );
    assert_eq!(e.code(), "exceeds_credits");
    // Nobody pays into the issuance account but a burn.
    let e = f.refused(
        &alice,
        Call::Ledger(LedgerCall::Transfer {
            id: 43,
            to: ledger::issuer(),
            token: GCC,
            amount: 1,
        }),
    );
    assert_eq!(e.code(), "issuance_account");
    // Rotation: only the issuer, then the old key is out.
    let rotate = |to: &Keypair| {
        Call::Ledger(LedgerCall::SetIssuer {
            token: GCC,
            authority: IssuerAuthority::Key(to.public_key()),
        })
    };
    assert!(matches!(
        f.refused(&bob, rotate(&bob)),
        LedgerError::Unauthorized(_)
    ));
    f.done(&issuer, rotate(&bob));
    assert!(matches!(
        f.refused(&issuer, ops(vec![mint(44, 1)])),
        LedgerError::Unauthorized(_)
    ));
    f.done(&bob, ops(vec![mint(44, 1)]));
    assert_eq!(
        f.node.read(|s| ledger::issuer_of(s, GCC)).unwrap(),
        Some(IssuerAuthority::Key(bob.public_key()))
    );
}

#[test]
fn did_issuer_and_its_mint_grants() {
    let (issuer_key, minter, outsider, alice) = (
        Keypair::dev(5),
        Keypair::dev(6),
        Keypair::dev(4),
        Keypair::dev(0),
    );
    let issuer_did = DidId::derive(L1_DEVNET_CHAIN_ID, &issuer_key.public_key());
    let minter_did = DidId::derive(L1_DEVNET_CHAIN_ID, &minter.public_key());
    let f = fixture_issued(IssuerAuthority::Did(issuer_did));
    let mint = |id, as_did| LedgerOp::Mint {
        id,
        to: Payee::Address(addr(&alice)),
        token: GCC,
        amount: 10,
        as_did,
    };
    // Before the DID exists nobody can mint.
    assert!(matches!(
        f.refused(&issuer_key, ops(vec![mint(50, None)])),
        LedgerError::Unauthorized(_)
    ));
    for key in [&issuer_key, &minter, &outsider] {
        f.done(key, IdentityCall::Create { soulbound: false }.into());
    }
    f.done(&issuer_key, ops(vec![mint(50, None)]));
    let t = f
        .node
        .read(|s| ledger::transfer_by_id(s, 50))
        .unwrap()
        .unwrap();
    assert_eq!(t.authorizer.unwrap().did, Some(issuer_did));
    // Without a grant, another DID is refused.
    assert!(matches!(
        f.refused(&minter, ops(vec![mint(51, Some(minter_did))])),
        LedgerError::Unauthorized(_)
    ));
    f.done(
        &issuer_key,
        IdentityCall::Grant {
            did: issuer_did,
            grantee: minter_did,
            permission: mint_permission(GCC),
            expires: None,
        }
        .into(),
    );
    f.done(&minter, ops(vec![mint(51, Some(minter_did))]));
    assert_eq!(
        f.node
            .read(|s| ledger::transfer_by_id(s, 51))
            .unwrap()
            .unwrap()
            .authorizer
            .unwrap()
            .did,
        Some(minter_did)
    );
    // A grantee cannot act for a DID it does not control, nor replace the issuer.
    assert!(matches!(
        f.refused(&outsider, ops(vec![mint(52, Some(minter_did))])),
        LedgerError::Unauthorized(_)
    ));
    assert!(matches!(
        f.refused(
            &minter,
            Call::Ledger(LedgerCall::SetIssuer {
                token: GCC,
                authority: IssuerAuthority::Did(minter_did),
            })
        ),
        LedgerError::Unauthorized(_)
    ));
    // Revoked: refused again.
    f.done(
        &issuer_key,
        IdentityCall::Revoke {
            did: issuer_did,
            grantee: minter_did,
            grantor: issuer_did,
            permission: mint_permission(GCC),
        }
        .into(),
    );
    assert!(matches!(
        f.refused(&minter, ops(vec![mint(53, Some(minter_did))])),
        LedgerError::Unauthorized(_)
    ));
    assert_eq!(f.account(&alice).balance(), FUNDS + 20);
}

#[test]
fn did_and_name_receivers_resolve_when_applied() {
    let f = fixture_issued(IssuerAuthority::Key(Keypair::dev(7).public_key()));
    let (alice, bob, carol) = (Keypair::dev(0), Keypair::dev(1), Keypair::dev(2));
    let bob_did = DidId::derive(L1_DEVNET_CHAIN_ID, &bob.public_key());
    let to = |id, payee| {
        ops(vec![LedgerOp::Transfer {
            id,
            to: payee,
            token: GCC,
            amount: 7,
            pending: None,
        }])
    };
    let e = f.refused(&alice, to(60, Payee::Did(bob_did)));
    assert_eq!(e.code(), "unresolved_payee");
    f.done(&bob, IdentityCall::Create { soulbound: false }.into());
    f.done(&alice, to(60, Payee::Did(bob_did)));
    let t = f
        .node
        .read(|s| ledger::transfer_by_id(s, 60))
        .unwrap()
        .unwrap();
    assert_eq!(t.credit, addr(&bob));
    assert_eq!(t.via.as_deref(), Some(bob_did.to_string().as_str()));
    // A name pays its L1 address record.
    let e = f.refused(&alice, to(61, Payee::Name("carol.ghost".into())));
    assert_eq!(e.code(), "unresolved_payee");
    f.done(
        &carol,
        NamingCall::Register {
            name: "carol.ghost".into(),
            owner: carol.public_key(),
            years: 1,
        }
        .into(),
    );
    assert_eq!(
        f.refused(&alice, to(61, Payee::Name("carol.ghost".into())))
            .code(),
        "unresolved_payee"
    );
    f.done(
        &carol,
        NamingCall::SetRecord {
            name: "carol.ghost".into(),
            record: Record::Addr {
                coin: COIN_L1,
                value: carol.public_key().0.to_vec(),
            },
        }
        .into(),
    );
    let before = f.account(&carol).balance();
    f.done(&alice, to(61, Payee::Name("Carol.GHOST".into())));
    assert_eq!(f.account(&carol).balance(), before + 7);
    let t = f
        .node
        .read(|s| ledger::transfer_by_id(s, 61))
        .unwrap()
        .unwrap();
    assert_eq!(t.via.as_deref(), Some("carol.ghost"));
}

#[test]
fn account_flags_closed_and_history() {
    let f = fixture_issued(IssuerAuthority::Key(Keypair::dev(7).public_key()));
    let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
    let flags = |set: u16, clear: u16| {
        Call::Ledger(LedgerCall::SetAccountFlags {
            token: GCC,
            set,
            clear,
        })
    };
    // The overdraft rule is not the owner's to drop.
    let e = f.refused(
        &alice,
        flags(0, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
    );
    assert_eq!(e.code(), "flags_not_settable");
    f.done(
        &alice,
        ops(vec![hold(69, &bob, 300, 0), hold(70, &bob, 500, 0)]),
    );
    f.done(&bob, flags(AccountFlags::CLOSED, 0));
    // Closed: no new transfers in or out, posted or pending; a reservation made
    // before still posts (the debtor cannot escape it) and voids.
    assert_eq!(
        f.refused(&alice, ops(vec![send(71, &bob, 1)])).code(),
        "account_closed"
    );
    assert_eq!(
        f.refused(&bob, ops(vec![send(71, &alice, 1)])).code(),
        "account_closed"
    );
    assert_eq!(
        f.refused(&alice, ops(vec![hold(71, &bob, 1, 0)])).code(),
        "account_closed"
    );
    f.done(&alice, flags(AccountFlags::CLOSED, 0));
    f.done(
        &bob,
        ops(vec![LedgerOp::Post {
            id: 71,
            pending_id: 70,
            amount: Some(200),
        }]),
    );
    assert_eq!(f.account(&bob).balance(), FUNDS + 200);
    f.done(&alice, flags(0, AccountFlags::CLOSED));
    f.done(
        &bob,
        ops(vec![LedgerOp::Void {
            id: 75,
            pending_id: 69,
        }]),
    );
    assert_eq!(f.account(&alice).debits_pending, 0);
    f.done(&bob, flags(AccountFlags::HISTORY, AccountFlags::CLOSED));
    f.done(&alice, ops(vec![send(72, &bob, 40)]));
    f.done(&alice, ops(vec![send(73, &bob, 2)]));
    let (history, next) = f
        .node
        .read(|s| ledger::account_history(s, &addr(&bob), GCC, trail_page(0, None, 100)))
        .unwrap();
    assert_eq!(next, None);
    // Only the changes after `history` was set have snapshots.
    let credits: Vec<u128> = history.iter().map(|(_, b)| b.credits_posted).collect();
    assert_eq!(credits, [FUNDS + 240, FUNDS + 242]);
    assert_eq!(history[0].1.transfer, 72);
}

#[test]
fn audit_trail_pages_with_cursors_and_from_block() {
    let f = fixture_issued(IssuerAuthority::Key(Keypair::dev(7).public_key()));
    let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
    let mut blocks = Vec::new();
    for round in 0..5u128 {
        let chain = (0..4)
            .map(|i| send(1_000 + round * 10 + i, &bob, 1))
            .collect();
        f.done(&alice, ops(chain));
        blocks.push(f.node.head().number);
    }
    // Genesis allocation + 20 transfers.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = f
            .node
            .read(|s| ledger::account_entries(s, &addr(&bob), GCC, trail_page(0, cursor, 6)))
            .unwrap();
        assert!(page.len() <= 6);
        seen.extend(page.into_iter().map(|(_, t)| t.id));
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 21);
    assert_eq!(seen[1..5], [1_000, 1_001, 1_002, 1_003]);
    let (page, _) = f
        .node
        .read(|s| ledger::account_entries(s, &addr(&bob), GCC, trail_page(blocks[3], None, 100)))
        .unwrap();
    let ids: Vec<u128> = page.iter().map(|(_, t)| t.id).collect();
    assert_eq!(
        ids,
        [1_030, 1_031, 1_032, 1_033, 1_040, 1_041, 1_042, 1_043]
    );
    // The page size is bounded.
    let (page, next) = f
        .node
        .read(|s| ledger::account_entries(s, &addr(&bob), GCC, trail_page(0, None, 1_000_000)))
        .unwrap();
    assert_eq!((page.len(), next), (21, None));
}

#[test]
fn batch_submission_answers_each_in_order() {
    let f = fixture_issued(IssuerAuthority::Key(Keypair::dev(7).public_key()));
    let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
    let good: Vec<_> = (0..10)
        .map(|n| tx(&alice, n, ops(vec![send(2_000 + n as u128, &bob, 1)])))
        .collect();
    let mut batch = good.clone();
    batch.insert(3, tx(&bob, 5, ops(vec![send(1, &alice, 1)]))); // parked: fine
    let mut bad = tx(&bob, 0, ops(vec![send(2, &alice, 1)]));
    bad.signature.0[0] ^= 1;
    batch.push(bad);
    batch.push(good[0].clone()); // duplicate: same hash again
    let results = f.node.submit_batch(batch);
    assert_eq!(results.len(), 13);
    assert!(results[..11].iter().all(Result::is_ok), "{results:?}");
    assert!(matches!(results[11], Err(SubmitError::BadSignature)));
    assert_eq!(results[12].as_ref().unwrap(), &good[0].hash());
    f.tick();
    assert_eq!(f.nonce(&alice), 10);
    assert_eq!(f.account(&bob).balance(), FUNDS + 10);
}

/// A minter cannot brick its token or the rollup's finality (issue 33, item 5).
/// Minting up to `u128::MAX` is refused and the issuer mints up to the cap; then a
/// batch that withdraws one unit of that token (and one unit of a token the escrow
/// does not hold), committed and proven with real STARK proofs, finalizes; and the
/// whole supply moves back and forth until the running volume counters pass
/// `u128::MAX`, with no transfer refused for it.
#[test]
fn a_token_minted_to_the_edge_still_moves_and_its_withdrawal_finalizes() {
    use ghostd::modules::rollup;
    use ghostd::{BatchCommit, RollupCall};
    use ghostd_types::consensus::ConsensusMode;
    use ghostplane_primitives::clock::ManualClock;
    use ghostplane_primitives::{
        AccountId, AccountLeaf, BatchNumber, ChainId, FieldBytes, PubdataOp, Transaction,
        encode_pubdata,
    };
    use ghostplane_prover::{AccountTree, Merkleizer, ProofBackend, StarkBackend};
    use ghostplane_stark::config::FriSettings;

    const SPIRIT: TokenId = TokenId::Spirit;
    const L2: ChainId = ChainId(7);
    let (issuer, holder, other) = (Keypair::dev(7), Keypair::dev(1), Keypair::dev(2));
    let operator = Keypair::dev(99);
    let withdrawer = Keypair::from_seed(&[11; 32]);
    let recipient = L1Address([0x5a; 32]);

    // L2 genesis: account 0 (the fee account) and the withdrawer, 10 of each token
    // apiece; the escrow holds the 20 SPIRIT behind them.
    let dir = tempfile::tempdir().unwrap();
    let backend = StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap();
    let leaves: Vec<(AccountId, AccountLeaf)> = [Keypair::from_seed(&[10; 32]), withdrawer.clone()]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mut leaf = AccountLeaf::new(key.public_key());
            leaf.balances = [10; 4];
            (AccountId::new(i as u32).unwrap(), leaf)
        })
        .collect();
    let db = ghostplane_prover::open_db(&dir.path().join("l2")).unwrap();
    let mut tree = AccountTree::open(db, backend.tree_hash()).unwrap();
    tree.update_many(&leaves).unwrap();
    tree.commit(0, rocksdb::WriteBatch::default()).unwrap();
    let mut genesis = common::genesis(
        &dir,
        NamingParams::default(),
        vec![(SPIRIT, IssuerAuthority::Key(issuer.public_key()))],
        ConsensusMode::Solo,
    );
    genesis
        .allocations
        .push((ledger::bridge_escrow(), SPIRIT, 20));
    genesis.rollup.genesis_root = tree.root().unwrap();
    genesis.rollup.genesis_accounts = leaves.iter().map(|(_, l)| l.public_key).collect();
    let (node, clock) = common::open(&dir, &genesis, ManualClock::new(common::T0_MS));
    let f = Fixture {
        _dir: dir,
        node,
        clock,
    };
    let spirit = |owner: &L1Address| f.node.read(|s| ledger::balance(s, owner, SPIRIT)).unwrap();
    let supply = || f.node.read(|s| ledger::totals(s, SPIRIT)).unwrap().supply;
    let mint = |id, amount| {
        ops(vec![LedgerOp::Mint {
            id,
            to: Payee::Address(addr(&holder)),
            token: SPIRIT,
            amount,
            as_did: None,
        }])
    };

    // Mint to the edge: u128::MAX is refused (it overflowed every later sum of the
    // token), the cap is taken, one more unit is refused.
    let e = f.refused(&issuer, mint(1, u128::MAX - supply()));
    assert_eq!(e.code(), "exceeds_supply_max", "{e}");
    assert!(e.to_string().contains("past the cap"), "{e}");
    f.done(&issuer, mint(2, ledger::SUPPLY_MAX - supply()));
    assert_eq!(supply(), ledger::SUPPLY_MAX);
    let e = f.refused(&issuer, mint(3, 1));
    assert_eq!(e.code(), "exceeds_supply_max", "{e}");

    // The L2 withdraws one SPIRIT to `recipient`, and one GHOST, which the escrow
    // does not hold (the L2 genesis gave balances nobody deposited): committed,
    // proven, final.
    let withdraw = |token, nonce| {
        let tx = Transaction::Withdraw {
            from: AccountId::new(1).unwrap(),
            to: recipient,
            token,
            amount: 1,
            fee: 0,
            nonce,
        };
        PubdataOp::Withdraw {
            from: AccountId::new(1).unwrap(),
            to: recipient,
            token,
            amount: 1,
            fee: 0,
            signature: withdrawer.sign(L2, tx).signature,
        }
    };
    let batch = vec![withdraw(SPIRIT, 0), withdraw(TokenId::Ghost, 1)];
    let chunks = Merkleizer::new(&mut tree, &backend, L2)
        .build_batch(BatchNumber(1), AccountId::ZERO, &batch)
        .unwrap();
    f.done(
        &operator,
        Call::Rollup(RollupCall::Commit(BatchCommit {
            number: 1,
            first_block: 1,
            last_block: 1,
            fee_account: AccountId::ZERO,
            pubdata: encode_pubdata(&batch).unwrap(),
            new_root: tree.root().unwrap(),
            chunk_count: chunks.len() as u32,
        })),
    );
    let proofs: Vec<Vec<u8>> = chunks
        .iter()
        .map(|c| backend.prove(&c.witness).unwrap())
        .collect();
    let roots: Vec<FieldBytes> = chunks.iter().map(|c| c.statement.new_root).collect();
    let prove = Call::Rollup(RollupCall::Prove {
        number: 1,
        first_chunk: 0,
        chunk_roots: roots,
        proofs,
    });
    match f.node.submit(tx(&operator, f.nonce(&operator), prove)) {
        Ok(hash) => {
            f.tick();
            let outcome = f.node.receipt(&hash).unwrap().unwrap().outcome;
            assert_eq!(outcome, L1Outcome::Success, "the batch did not finalize");
        }
        Err(e) => panic!("the proof of the batch was refused, it can never finalize: {e}"),
    }
    assert_eq!(f.node.read(rollup::status).unwrap().finalized, 1);
    assert_eq!(spirit(&recipient), 1);
    assert_eq!(spirit(&ledger::bridge_escrow()), 19);
    // The unpayable GHOST leg did not stop finality.
    let ghost = f
        .node
        .read(|s| ledger::balance(s, &recipient, TokenId::Ghost))
        .unwrap();
    assert_eq!(ghost, 0);
    assert_eq!(
        f.node
            .read(|s| rollup::unpaid_withdrawal(s, 1, 1))
            .unwrap()
            .as_deref(),
        Some("exceeds_credits")
    );
    assert_eq!(
        f.node.read(|s| rollup::unpaid_withdrawal(s, 1, 0)).unwrap(),
        None
    );

    // The whole minted balance moves back and forth three times: the running
    // volume counters pass u128::MAX, and no transfer is refused for it.
    let mut id = 100;
    for _ in 0..3 {
        for (from, to) in [(&holder, &other), (&other, &holder)] {
            let amount = spirit(&addr(from));
            id += 1;
            f.done(
                from,
                ops(vec![LedgerOp::Transfer {
                    id,
                    to: Payee::Address(addr(to)),
                    token: SPIRIT,
                    amount,
                    pending: None,
                }]),
            );
            assert_eq!(spirit(&addr(to)), amount);
        }
    }
    f.node.read(ledger::check_totals).unwrap();
}
