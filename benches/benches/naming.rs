//! Naming (ghostd) benches: resolving a name from committed state (the cache-miss
//! path), and the name server's answers from its per-head cache in wire format
//! (decode the query, encode the response: what UDP, TCP and RFC 8484 DoH cost) and
//! in the DoH JSON form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ghostd::dns::{NameServer, query_message};
use ghostd::modules::naming;
use ghostd::{
    Call, Genesis, Ghostd, GhostdConfig, L1_DEVNET_CHAIN_ID, L1Transaction, ProofParams,
    RollupGenesis,
};
use ghostd_types::naming::{DnsKind, NamingCall, Record};
use ghostplane_primitives::{ChainId, FieldBytes, Keypair, L1Address, TokenId};
use ghostplane_prover::StarkBackend;
use ghostplane_stark::config::FriSettings;
use hickory_proto::rr::RecordType;

fn run(node: &Ghostd, key: &Keypair, call: NamingCall) {
    let tx = L1Transaction {
        chain_id: L1_DEVNET_CHAIN_ID,
        from: key.public_key(),
        nonce: node.nonce(&key.public_key()).unwrap(),
        call: Call::Naming(call),
    }
    .sign(key);
    node.submit(tx).unwrap();
    node.seal().unwrap();
}

fn setup() -> (tempfile::TempDir, Ghostd) {
    let backend = StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap();
    let key = Keypair::dev(0);
    let genesis = Genesis {
        chain_id: L1_DEVNET_CHAIN_ID,
        timestamp_ms: 0,
        allocations: vec![(L1Address(key.public_key().0), TokenId::Gcc, 1u128 << 100)],
        naming: Default::default(),
        rollup: RollupGenesis {
            l2_chain_id: ChainId(7),
            operators: vec![Keypair::dev(99).public_key()],
            proof: ProofParams::of(&backend),
            genesis_root: FieldBytes::from_bytes([0; 32]).unwrap(),
            genesis_accounts: Vec::new(),
            forced_inclusion_blocks: 1000,
            deposit_queue_max: 1000,
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let node = Ghostd::open(GhostdConfig::new(dir.path().to_path_buf()), &genesis).unwrap();
    run(
        &node,
        &key,
        NamingCall::Register {
            name: "alice.ghost".into(),
            owner: key.public_key(),
            years: 1,
        },
    );
    for (kind, value) in [
        (DnsKind::A, "10.0.0.1"),
        (DnsKind::Txt, "hello"),
        (DnsKind::Mx, "10 mail.example.com"),
    ] {
        run(
            &node,
            &key,
            NamingCall::SetRecord {
                name: "alice.ghost".into(),
                record: Record::Dns {
                    kind,
                    value: value.into(),
                    ttl: 300,
                },
            },
        );
    }
    (dir, node)
}

fn names(c: &mut Criterion) {
    let (_dir, node) = setup();
    let height = node.head().number;
    let params = node.genesis().naming.clone();
    let server = NameServer::new(node.clone());
    let query = query_message(7, "alice.ghost.", RecordType::TXT).unwrap();
    let mut group = c.benchmark_group("naming");
    group.bench_function("resolve_from_state", |b| {
        b.iter(|| {
            node.read(|s| naming::resolve(s, black_box("alice.ghost"), height, &params))
                .unwrap()
                .unwrap()
        })
    });
    group.bench_function("answer_wire_cached", |b| {
        b.iter(|| server.answer_wire(black_box(&query)).unwrap())
    });
    group.bench_function("answer_json_cached", |b| {
        b.iter(|| server.answer_json(black_box("alice.ghost"), "TXT").unwrap())
    });
    group.finish();
}

criterion_group!(benches, names);
criterion_main!(benches);
