//! Identity (ghostd) benches: resolving a DID document to its W3C DID Resolution
//! result (RocksDB reads and JSON), resolving an old version (binary search over
//! stored versions), and verifying an access token at the head (EdDSA and ES256K:
//! decode, document lookup, signature, revocation and permission checks, the
//! self-granted permission accepted because the verifier names its grantor).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

mod common;

use common::run;
use criterion::{Criterion, criterion_group, criterion_main};
use ghostd::modules::identity::{self, VersionQuery};
use ghostd::{Ghostd, L1_DEVNET_CHAIN_ID};
use ghostd_types::identity::jwt::{self, Audience, Claims, TokenKey};
use ghostd_types::identity::{DidId, IdentityCall, KeyMaterial, Relationship, VerificationMethod};
use ghostplane_primitives::Keypair;

/// Document versions written before the benches run (for the historical lookup).
const VERSIONS: u32 = 64;

fn setup() -> (tempfile::TempDir, Ghostd, DidId, u64) {
    let (dir, node) = common::node(&[], 0);
    let key = Keypair::dev(0);
    let did = DidId::derive(L1_DEVNET_CHAIN_ID, &key.public_key());
    run(&node, &key, IdentityCall::Create { soulbound: false });
    let first = node.head().number;
    run(
        &node,
        &key,
        IdentityCall::AddMethod {
            did,
            method: VerificationMethod {
                fragment: "k1".into(),
                key: KeyMaterial::Secp256k1(jwt::compressed(secp().verifying_key())),
                relationships: Relationship::bits(&[Relationship::AssertionMethod]),
            },
        },
    );
    run(
        &node,
        &key,
        IdentityCall::Grant {
            did,
            grantee: did,
            permission: "ledger:mint:GCC".into(),
            expires: None,
        },
    );
    for i in 0..VERSIONS {
        run(
            &node,
            &key,
            IdentityCall::SetAlsoKnownAs {
                did,
                uris: vec![format!("https://v{i}.example")],
            },
        );
    }
    (dir, node, did, first)
}

fn secp() -> k256::ecdsa::SigningKey {
    k256::ecdsa::SigningKey::from_slice(&[42; 32]).unwrap()
}

fn token(did: &DidId, fragment: &str, key: &TokenKey) -> String {
    let claims = Claims {
        iss: did.to_string(),
        sub: did.to_string(),
        aud: Audience::One("svc".into()),
        exp: u64::MAX / 2,
        nbf: 0,
        iat: 0,
        jti: "bench".into(),
        permissions: vec!["ledger:mint:GCC".into()],
    };
    jwt::sign(&claims, &format!("{did}#{fragment}"), key)
}

fn identity(c: &mut Criterion) {
    let (_dir, node, did, first) = setup();
    let text = did.to_string();
    let height = node.head().number;
    let mut group = c.benchmark_group("identity");
    group.bench_function("resolve_latest", |b| {
        b.iter(|| {
            let result = node
                .read(|s| identity::resolve(s, black_box(&text), VersionQuery::Latest))
                .unwrap();
            black_box(result.to_string())
        })
    });
    group.bench_function("resolve_oldest_of_66_versions", |b| {
        b.iter(|| {
            let result = node
                .read(|s| identity::resolve(s, black_box(&text), VersionQuery::Id(first)))
                .unwrap();
            black_box(result.to_string())
        })
    });
    for (name, fragment, key) in [
        (
            "verify_token_eddsa",
            "key-1",
            TokenKey::Ed25519(Keypair::dev(0)),
        ),
        ("verify_token_es256k", "k1", TokenKey::Secp256k1(secp())),
    ] {
        let jwt = token(&did, fragment, &key);
        group.bench_function(name, |b| {
            b.iter(|| {
                // The DID granted itself the permission, which counts only where the
                // verifier names it as a grantor it trusts.
                let verdict = node
                    .read(|s| {
                        identity::verify_token_from(
                            s,
                            black_box(&jwt),
                            Some("svc"),
                            &[did],
                            1,
                            height,
                        )
                    })
                    .unwrap();
                assert!(verdict.is_ok());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, identity);
criterion_main!(benches);
