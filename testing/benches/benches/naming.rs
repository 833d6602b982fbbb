//! Naming (ghostd) benches: resolving a name from committed state (the cache-miss
//! path), and the name server's answers from its per-head cache in wire format
//! (decode the query, encode the response: what UDP, TCP and RFC 8484 DoH cost) and
//! in the DoH JSON form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

mod common;

use common::run;
use criterion::{Criterion, criterion_group, criterion_main};
use ghostd::Ghostd;
use ghostd::modules::naming;
use ghostd_naming::dns::{NameServer, query_message};
use ghostd_types::naming::{DnsKind, NamingCall, Record};
use ghostplane_primitives::Keypair;
use hickory_proto::rr::RecordType;

fn setup() -> (tempfile::TempDir, Ghostd) {
    let key = Keypair::dev(0);
    let (dir, node) = common::node(std::slice::from_ref(&key), 1u128 << 100);
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
    let server = NameServer::new(node.chain_view(), node.genesis().naming.clone());
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
