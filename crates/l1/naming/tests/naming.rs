//! The naming module on a real node, with short years (10 blocks) and grace (5
//! blocks): registration and its fee, records, the lifecycle (active → frozen grace
//! → released → registered anew with empty records), subnames dying with their
//! parent, owner and manager rights, forward-verified reverse names, DID links, and
//! refused names. (DNS serving is not built yet.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::node as common;

use common::{FUNDS, Fixture, fixture_with, tx};
use ghostd::L1_DEVNET_CHAIN_ID;
use ghostd::SubmitError;
use ghostd::modules::{CallError, ledger, naming};
use ghostd_types::identity::{DidId, IdentityCall};
use ghostd_types::naming::{
    COIN_L1, COIN_L2, DnsKind, NameState, NamingCall, NamingParams, Record, RecordKey,
};
use ghostplane_primitives::{Keypair, L1Address, TokenId};

const YEAR: u64 = 10;
const GRACE: u64 = 5;

fn params() -> NamingParams {
    NamingParams {
        blocks_per_year: YEAR,
        grace_blocks: GRACE,
        price_per_year: [640, 160, 40, 10, 5],
    }
}

fn register(name: &str, owner: &Keypair) -> NamingCall {
    NamingCall::Register {
        name: name.into(),
        owner: owner.public_key(),
        years: 1,
    }
}

fn set(name: &str, record: Record) -> NamingCall {
    NamingCall::SetRecord {
        name: name.into(),
        record,
    }
}

fn txt(value: &str) -> Record {
    Record::Dns {
        kind: DnsKind::Txt,
        value: value.into(),
        ttl: 60,
    }
}

trait NamingFixture {
    fn refused(&self, key: &Keypair, call: NamingCall) -> String;
    fn lookup(&self, name: &str) -> Option<(NameState, Vec<Record>, Keypair)>;
    fn state(&self, name: &str) -> Option<NameState>;
    fn records(&self, name: &str) -> Vec<Record>;
    fn gcc(&self, owner: &L1Address) -> u128;
    fn seal_until(&self, height: u64);
}

impl NamingFixture for Fixture {
    /// Submits `call`, which must be refused with a naming error at admission.
    fn refused(&self, key: &Keypair, call: NamingCall) -> String {
        match self.node.submit(tx(key, self.nonce(key), call.into())) {
            Err(SubmitError::Refused(CallError::Naming(e))) => e.to_string(),
            other => panic!("expected a naming refusal, got {other:?}"),
        }
    }

    fn lookup(&self, name: &str) -> Option<(NameState, Vec<Record>, Keypair)> {
        let height = self.node.head().number;
        let found = self
            .node
            .read(|s| naming::resolve(s, name, height, &params()))
            .unwrap()?;
        let owner = (0..8)
            .map(Keypair::dev)
            .find(|k| k.public_key() == found.0.owner)
            .expect("owners are dev keys");
        Some((found.1, found.2, owner))
    }

    fn state(&self, name: &str) -> Option<NameState> {
        self.lookup(name).map(|(s, _, _)| s)
    }

    fn records(&self, name: &str) -> Vec<Record> {
        self.lookup(name).map(|(_, r, _)| r).unwrap_or_default()
    }

    fn gcc(&self, owner: &L1Address) -> u128 {
        self.node
            .read(|s| ledger::balance(s, owner, TokenId::Gcc))
            .unwrap()
    }

    /// Seals blocks until the head is `height`.
    fn seal_until(&self, height: u64) {
        while self.node.head().number < height {
            self.seal();
        }
    }
}

fn addr(key: &Keypair) -> L1Address {
    L1Address(key.public_key().0)
}

#[test]
fn registration_pays_and_records_resolve() {
    let f = fixture_with(params());
    let alice = Keypair::dev(0);
    f.ok(&alice, register("Alice.GHOST", &alice));
    // 5+ bytes: 5 a year, to the treasury.
    assert_eq!(f.gcc(&addr(&alice)), FUNDS - 5);
    assert_eq!(f.gcc(&ledger::naming_treasury()), 5);
    f.ok(&alice, register("ab.gcc", &alice));
    assert_eq!(f.gcc(&ledger::naming_treasury()), 165);
    assert_eq!(f.state("alice.ghost"), Some(NameState::Active));
    assert_eq!(f.state("nobody.ghost"), None);

    f.ok(
        &alice,
        set(
            "alice.ghost",
            Record::Dns {
                kind: DnsKind::A,
                value: "10.0.0.7".into(),
                ttl: 300,
            },
        ),
    );
    f.ok(&alice, set("alice.ghost", txt("hello")));
    f.ok(&alice, set("alice.ghost", txt("world")));
    let mut l2 = alice.public_key().0.to_vec();
    l2.extend_from_slice(&7u32.to_be_bytes());
    f.ok(
        &alice,
        set(
            "alice.ghost",
            Record::Addr {
                coin: COIN_L2,
                value: l2,
            },
        ),
    );
    f.ok(
        &alice,
        set(
            "alice.ghost",
            Record::Text {
                key: "com.github".into(),
                value: "alice".into(),
            },
        ),
    );
    let records = f.records("alice.ghost");
    assert_eq!(records.len(), 5, "{records:?}");
    // Setting a text key again replaces it; clearing a type removes all of it.
    f.ok(
        &alice,
        set(
            "alice.ghost",
            Record::Text {
                key: "com.github".into(),
                value: "alice2".into(),
            },
        ),
    );
    assert_eq!(f.records("alice.ghost").len(), 5);
    f.ok(
        &alice,
        NamingCall::ClearRecord {
            name: "alice.ghost".into(),
            key: RecordKey::Dns(DnsKind::Txt),
        },
    );
    assert_eq!(f.records("alice.ghost").len(), 3);

    // Taken; bad records; bad names; and a subname cannot be registered.
    let r = f.refused(&Keypair::dev(1), register("alice.ghost", &Keypair::dev(1)));
    assert!(r.contains("registered"), "{r}");
    let r = f.refused(
        &alice,
        set(
            "alice.ghost",
            Record::Dns {
                kind: DnsKind::A,
                value: "::1".into(),
                ttl: 1,
            },
        ),
    );
    assert!(r.contains("invalid record"), "{r}");
    for bad in ["alice.eth", "раураl.ghost", "-x.ghost", "a..ghost"] {
        f.refused(&alice, register(bad, &alice));
    }
    let r = f.refused(&alice, register("pay.alice.ghost", &alice));
    assert!(r.contains("subname"), "{r}");
    // Too poor.
    let poor = Keypair::dev(9);
    let r = match f
        .node
        .submit(tx(&poor, 0, register("poor.ghost", &poor).into()))
    {
        Err(SubmitError::Refused(CallError::Naming(e))) => e.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(r.contains("balance"), "{r}");

    let height = f.node.head().number;
    let events = f
        .node
        .read(|s| naming::events(s, &ghostd_types::naming::namehash("alice.ghost"), 0, 100))
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds[0], "registered");
    assert!(kinds.contains(&"record-set") && kinds.contains(&"record-cleared"));
    assert!(events.iter().all(|e| e.height <= height));
}

#[test]
fn expiry_freezes_then_grace_then_release_with_empty_records() {
    let f = fixture_with(params());
    let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
    f.ok(&alice, register("alice.ghost", &alice));
    let registered = f.node.head().number;
    f.ok(&alice, set("alice.ghost", txt("secret of the first owner")));
    // Anyone may renew while active; expiry moves by a year, never back.
    f.ok(
        &bob,
        NamingCall::Renew {
            name: "alice.ghost".into(),
            years: 1,
        },
    );
    let expires = registered + 2 * YEAR;
    f.seal_until(expires - 1);
    assert_eq!(f.state("alice.ghost"), Some(NameState::Active));
    f.seal_until(expires);
    // Expired: resolves, frozen.
    assert_eq!(f.state("alice.ghost"), Some(NameState::Grace));
    let r = f.refused(&alice, set("alice.ghost", txt("x")));
    assert!(r.contains("frozen"), "{r}");
    let r = f.refused(
        &alice,
        NamingCall::Transfer {
            name: "alice.ghost".into(),
            to: bob.public_key(),
        },
    );
    assert!(r.contains("frozen"), "{r}");
    // Only the owner renews in grace.
    let r = f.refused(
        &bob,
        NamingCall::Renew {
            name: "alice.ghost".into(),
            years: 1,
        },
    );
    assert!(r.contains("owner"), "{r}");
    f.ok(
        &alice,
        NamingCall::Renew {
            name: "alice.ghost".into(),
            years: 1,
        },
    );
    assert_eq!(f.state("alice.ghost"), Some(NameState::Active));
    // This time it lapses: grace, then released.
    let expires = expires + YEAR;
    f.seal_until(expires + GRACE - 1);
    assert_eq!(f.state("alice.ghost"), Some(NameState::Grace));
    f.seal_until(expires + GRACE);
    assert_eq!(f.state("alice.ghost"), None);
    let r = f.refused(&alice, set("alice.ghost", txt("x")));
    assert!(r.contains("not registered"), "{r}");
    // Registered anew by bob: bob owns it and none of alice's records come back.
    f.ok(&bob, register("alice.ghost", &bob));
    let (state, records, owner) = f.lookup("alice.ghost").unwrap();
    assert_eq!(state, NameState::Active);
    assert!(records.is_empty(), "{records:?}");
    assert_eq!(owner.public_key(), bob.public_key());
    f.refused(&alice, set("alice.ghost", txt("x")));
}

#[test]
fn owners_managers_and_subnames() {
    let f = fixture_with(params());
    let (alice, bob, carol) = (Keypair::dev(0), Keypair::dev(1), Keypair::dev(2));
    f.ok(&alice, register("alice.ghost", &alice));
    // Unauthorized edits are refused.
    let r = f.refused(&bob, set("alice.ghost", txt("x")));
    assert!(r.contains("owner or manager"), "{r}");
    // A manager edits records, but cannot transfer.
    f.ok(
        &alice,
        NamingCall::SetManager {
            name: "alice.ghost".into(),
            manager: Some(bob.public_key()),
        },
    );
    f.ok(&bob, set("alice.ghost", txt("by the manager")));
    let r = f.refused(
        &bob,
        NamingCall::Transfer {
            name: "alice.ghost".into(),
            to: bob.public_key(),
        },
    );
    assert!(r.contains("owner"), "{r}");

    // Subnames: only the parent's owner creates them; they expire with the parent.
    let r = f.refused(
        &bob,
        NamingCall::CreateSubname {
            name: "pay.alice.ghost".into(),
            owner: bob.public_key(),
        },
    );
    assert!(r.contains("parent's owner"), "{r}");
    f.ok(
        &alice,
        NamingCall::CreateSubname {
            name: "pay.alice.ghost".into(),
            owner: carol.public_key(),
        },
    );
    f.ok(&carol, set("pay.alice.ghost", txt("sub")));
    assert_eq!(f.state("pay.alice.ghost"), Some(NameState::Active));
    // The owner transfers the parent; the subname stays.
    f.ok(
        &alice,
        NamingCall::Transfer {
            name: "alice.ghost".into(),
            to: carol.public_key(),
        },
    );
    let (_, _, owner) = f.lookup("alice.ghost").unwrap();
    assert_eq!(owner.public_key(), carol.public_key());
    let expires = f
        .node
        .read(|s| naming::record(s, &ghostd_types::naming::namehash("alice.ghost")))
        .unwrap()
        .unwrap()
        .expires;
    f.seal_until(expires);
    assert_eq!(f.state("pay.alice.ghost"), Some(NameState::Grace));
    f.seal_until(expires + GRACE);
    assert_eq!(f.state("alice.ghost"), None);
    assert_eq!(f.state("pay.alice.ghost"), None);
    // The parent registered anew: the old subname does not come back.
    f.ok(&bob, register("alice.ghost", &bob));
    assert_eq!(f.state("pay.alice.ghost"), None);
}

/// Issue 33 item 9: a name is priced by the length of its label in Unicode code
/// points (as ENS counts it), not by the bytes of its punycode form: `ü.ghost` is
/// stored as `xn--tda.ghost` (7 bytes) and was sold at the 5+ tier.
#[test]
fn names_are_priced_by_their_unicode_length() {
    let f = fixture_with(params());
    let alice = Keypair::dev(0);
    for (name, tier) in [("ü.ghost", 0), ("bü.ghost", 1), ("abcde.ghost", 4)] {
        let before = f.gcc(&addr(&alice));
        f.ok(&alice, register(name, &alice));
        assert_eq!(
            before - f.gcc(&addr(&alice)),
            params().price_per_year[tier],
            "{name} priced as if it were longer"
        );
    }
}

/// Issue 33 item 9: a parent's owner re-created a live subname it had given away
/// (a new generation, records gone, owner replaced). Once given to another key, a
/// live subname is its owner's: the parent cannot take it back. (ENS lets a parent
/// replace a subname until it burns PARENT_CANNOT_CONTROL; here that fuse is burnt
/// for every subname, and none unburns it.) It comes back to the parent only when
/// it dies: its owner's transfer, or the parent's registration ending.
#[test]
fn a_parent_cannot_take_back_a_live_subname() {
    let f = fixture_with(params());
    let (alice, carol) = (Keypair::dev(0), Keypair::dev(2));
    f.ok(&alice, register("alice.ghost", &alice));
    let sub = |owner: &Keypair| NamingCall::CreateSubname {
        name: "pay.alice.ghost".into(),
        owner: owner.public_key(),
    };
    // A subname the parent's owner keeps may be re-created (it takes nothing).
    f.ok(&alice, sub(&alice));
    f.ok(&alice, sub(&carol));
    f.ok(&carol, set("pay.alice.ghost", txt("carol's")));
    let r = f.refused(&alice, sub(&alice));
    assert!(r.contains("cannot take it back"), "{r}");
    assert_eq!(f.records("pay.alice.ghost"), vec![txt("carol's")]);
    // Carol gives it back: then the parent may re-create it.
    f.ok(
        &carol,
        NamingCall::Transfer {
            name: "pay.alice.ghost".into(),
            to: alice.public_key(),
        },
    );
    f.ok(&alice, sub(&alice));
}

/// Issue 33 item 9: a transfer kept the old owner's manager, who could then point
/// the name's payment address at itself. A transfer clears the manager; the new
/// owner appoints its own.
#[test]
fn a_transfer_clears_the_manager() {
    let f = fixture_with(params());
    let (alice, bob, carol) = (Keypair::dev(0), Keypair::dev(1), Keypair::dev(2));
    f.ok(&alice, register("shop.ghost", &alice));
    f.ok(
        &alice,
        NamingCall::SetManager {
            name: "shop.ghost".into(),
            manager: Some(bob.public_key()),
        },
    );
    f.ok(
        &alice,
        NamingCall::Transfer {
            name: "shop.ghost".into(),
            to: carol.public_key(),
        },
    );
    let record = f
        .node
        .read(|s| naming::record(s, &ghostd_types::naming::namehash("shop.ghost")))
        .unwrap()
        .unwrap();
    assert_eq!(
        record.manager, None,
        "the old owner's manager survived a transfer"
    );
    let r = f.refused(
        &bob,
        set(
            "shop.ghost",
            Record::Addr {
                coin: COIN_L1,
                value: bob.public_key().0.to_vec(),
            },
        ),
    );
    assert!(r.contains("owner or manager"), "{r}");
    // The new owner may appoint a manager of its own.
    f.ok(
        &carol,
        NamingCall::SetManager {
            name: "shop.ghost".into(),
            manager: Some(alice.public_key()),
        },
    );
    f.ok(&alice, set("shop.ghost", txt("by carol's manager")));
}

#[test]
fn reverse_names_are_forward_verified_and_did_links_need_both_sides() {
    let f = fixture_with(params());
    let (alice, mallory) = (Keypair::dev(0), Keypair::dev(3));
    f.ok(&alice, register("alice.ghost", &alice));
    let reverse = |key: &Keypair| {
        let height = f.node.head().number;
        f.node
            .read(|s| naming::reverse(s, &key.public_key(), height, &params()))
            .unwrap()
    };
    f.ok(
        &alice,
        NamingCall::SetPrimary {
            name: Some("alice.ghost".into()),
        },
    );
    // No address record points back yet.
    assert_eq!(reverse(&alice), None);
    f.ok(
        &alice,
        set(
            "alice.ghost",
            Record::Addr {
                coin: COIN_L1,
                value: alice.public_key().0.to_vec(),
            },
        ),
    );
    assert_eq!(reverse(&alice).as_deref(), Some("alice.ghost"));
    // Mallory claims alice.ghost as her primary name: not verified.
    f.ok(
        &mallory,
        NamingCall::SetPrimary {
            name: Some("alice.ghost".into()),
        },
    );
    assert_eq!(reverse(&mallory), None);

    // DID link: the name's did record and the DID's alsoKnownAs must agree.
    let linked = || {
        let records = f.records("alice.ghost");
        f.node
            .read(|s| naming::did_linked(s, "alice.ghost", &records))
            .unwrap()
    };
    let did = DidId::derive(L1_DEVNET_CHAIN_ID, &alice.public_key());
    f.ok(&alice, IdentityCall::Create { soulbound: false });
    f.ok(&alice, set("alice.ghost", Record::Did(did)));
    assert!(!linked());
    f.ok(
        &alice,
        IdentityCall::SetAlsoKnownAs {
            did,
            uris: vec!["dns:alice.ghost".into()],
        },
    );
    assert!(linked());
    // Mallory points her name at alice's DID: one side only, no link.
    f.ok(&mallory, register("mallory.ghost", &mallory));
    f.ok(&mallory, set("mallory.ghost", Record::Did(did)));
    let records = f.records("mallory.ghost");
    assert!(
        !f.node
            .read(|s| naming::did_linked(s, "mallory.ghost", &records))
            .unwrap()
    );
}

/// The `naming_*` JSON-RPC methods on a served node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_over_json_rpc() {
    use ghostd_types::api::{NamingApiClient, RecordView};

    let f = fixture_with(params());
    let alice = Keypair::dev(0);
    f.ok(&alice, register("alice.ghost", &alice));
    f.ok(&alice, set("alice.ghost", txt("hello")));
    let (_server, addr) = ghostd::rpc::serve(&f.node).await.unwrap();
    let client = jsonrpsee::http_client::HttpClientBuilder::default()
        .build(format!("http://{addr}"))
        .unwrap();
    let view = client.resolve("ALICE.ghost".into()).await.unwrap().unwrap();
    assert_eq!(view.name, "alice.ghost");
    assert_eq!(view.state, "active");
    assert_eq!(view.owner, alice.public_key().to_hex());
    assert_eq!(
        view.records,
        vec![RecordView::Dns {
            kind: "TXT".into(),
            value: "hello".into(),
            ttl: 60
        }]
    );
    assert!(
        client
            .resolve("nobody.ghost".into())
            .await
            .unwrap()
            .is_none()
    );
    assert!(client.resolve("not a name".into()).await.unwrap().is_none());
    assert_eq!(client.price("ab.ghost".into(), 2).await.unwrap(), "320");
    assert_eq!(client.price("ü.ghost".into(), 1).await.unwrap(), "640");
    assert!(client.price("x.eth".into(), 1).await.is_err());
    let events = client.events("alice.ghost".into(), 0, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        client.reverse(alice.public_key().to_hex()).await.unwrap(),
        None
    );
}
