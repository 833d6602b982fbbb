//! Primitives on the hot path: signature checks, hashing, encoding.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_primitives::merkle::node_hash;
use ghostplane_primitives::{
    AccountId, AccountLeaf, Codec, DEVNET_CHAIN_ID, Fr, Keypair, PublicKey, Recipient,
    SignedTransaction, TokenId, Transaction, keys, poseidon, tx_hash, verify_transactions,
};

fn transfer(keypair: &Keypair, from: u32, nonce: u64) -> SignedTransaction {
    let tx = Transaction::Transfer {
        from: AccountId::new(from).unwrap_or(AccountId::MAX),
        to: Recipient::Account(AccountId::new(from + 1).unwrap_or(AccountId::MAX)),
        token: TokenId::Spirit,
        amount: 1_000_000,
        fee: 10,
        nonce,
    };
    keypair.sign(DEVNET_CHAIN_ID, tx)
}

fn signed_transfers(count: usize) -> Vec<SignedTransaction> {
    (0..count)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            transfer(&Keypair::from_seed(&seed), i as u32, i as u64)
        })
        .collect()
}

fn ed25519(c: &mut Criterion) {
    let mut group = c.benchmark_group("ed25519_verify");
    let one = signed_transfers(1).remove(0);
    let message = one.tx.signing_message(DEVNET_CHAIN_ID);
    group.throughput(Throughput::Elements(1));
    group.bench_function("single", |b| {
        b.iter(|| keys::verify(black_box(&one.signer), black_box(&message), &one.signature))
    });
    for size in [64usize, 256, 1024] {
        let txs = signed_transfers(size);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(format!("batch_{size}"), |b| {
            b.iter(|| verify_transactions(black_box(&txs), DEVNET_CHAIN_ID))
        });
    }
    group.finish();
}

/// The verifier before issue 19 (`primitives/src/keys.rs` at 2939ea1~), kept here
/// only to measure the rule change: key parse and weak-key check per item, then
/// ed25519-dalek's cofactorless batch equation.
fn pre_zip215_batch(items: &[(&PublicKey, &[u8], &ghostplane_primitives::Signature)]) -> bool {
    use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};
    let mut keys = Vec::with_capacity(items.len());
    for (key, _, _) in items {
        match VerifyingKey::from_bytes(&key.0) {
            Ok(key) if !key.is_weak() => keys.push(key),
            _ => return false,
        }
    }
    let messages: Vec<&[u8]> = items.iter().map(|(_, message, _)| *message).collect();
    let signatures: Vec<DalekSignature> = items
        .iter()
        .map(|(_, _, signature)| DalekSignature::from_bytes(&signature.0))
        .collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// The single check before issue 19: key parse, weak-key check, `verify_strict`.
fn pre_zip215_single(
    key: &PublicKey,
    message: &[u8],
    signature: &ghostplane_primitives::Signature,
) -> bool {
    match ed25519_dalek::VerifyingKey::from_bytes(&key.0) {
        Ok(key) if !key.is_weak() => key
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature.0))
            .is_ok(),
        _ => false,
    }
}

/// The same signatures under the rule before issue 19 (ed25519-dalek's cofactorless
/// `verify_strict` and `verify_batch`) and under ed25519-consensus (ZIP-215 on
/// curve25519-dalek-ng), in the same run as [`ed25519`], so the cost of the rule
/// change is measured on one machine at one time.
fn ed25519_rules(c: &mut Criterion) {
    let mut group = c.benchmark_group("ed25519_rules");
    let txs = signed_transfers(1024);
    let messages: Vec<Vec<u8>> = txs
        .iter()
        .map(|tx| tx.tx.signing_message(DEVNET_CHAIN_ID))
        .collect();
    let consensus_keys: Vec<ed25519_consensus::VerificationKey> = txs
        .iter()
        .filter_map(|tx| ed25519_consensus::VerificationKey::try_from(tx.signer.0).ok())
        .collect();
    let consensus_signatures: Vec<ed25519_consensus::Signature> = txs
        .iter()
        .map(|tx| ed25519_consensus::Signature::from(tx.signature.0))
        .collect();
    assert_eq!(consensus_keys.len(), txs.len());

    group.throughput(Throughput::Elements(1));
    group.bench_function("ours_single", |b| {
        b.iter(|| keys::verify(black_box(&txs[0].signer), &messages[0], &txs[0].signature))
    });
    group.bench_function("pre_zip215_single", |b| {
        b.iter(|| pre_zip215_single(black_box(&txs[0].signer), &messages[0], &txs[0].signature))
    });
    group.bench_function("consensus_single", |b| {
        b.iter(|| black_box(&consensus_keys[0]).verify(&consensus_signatures[0], &messages[0]))
    });

    group.throughput(Throughput::Elements(txs.len() as u64));
    let items: Vec<(&PublicKey, &[u8], &ghostplane_primitives::Signature)> = txs
        .iter()
        .zip(&messages)
        .map(|(tx, m)| (&tx.signer, m.as_slice(), &tx.signature))
        .collect();
    group.bench_function("ours_batch_1024", |b| {
        b.iter(|| keys::verify_batch(black_box(&items)))
    });
    let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    assert!(pre_zip215_batch(&items));
    group.bench_function("pre_zip215_batch_1024", |b| {
        b.iter(|| pre_zip215_batch(black_box(&items)))
    });
    group.bench_function("consensus_batch_1024", |b| {
        b.iter(|| {
            let mut verifier = ed25519_consensus::batch::Verifier::new();
            for ((key, signature), message) in
                txs.iter().zip(&consensus_signatures).zip(&message_refs)
            {
                verifier.queue((
                    ed25519_consensus::VerificationKeyBytes::from(key.signer.0),
                    *signature,
                    message,
                ));
            }
            verifier.verify(rand_core::OsRng)
        })
    });
    group.finish();
}

fn hashing(c: &mut Criterion) {
    let signed = signed_transfers(1).remove(0).encode();
    c.bench_function("blake3_tx_hash", |b| b.iter(|| tx_hash(black_box(&signed))));

    let a = Fr::from(7u64);
    let b2 = Fr::from(11u64);
    let mut group = c.benchmark_group("poseidon");
    group.bench_function("2_to_1", |b| b.iter(|| poseidon(black_box(&[a, b2]))));
    group.bench_function("4_to_1_node", |b| {
        b.iter(|| node_hash(black_box(&[a, b2, a, b2])))
    });
    let leaf = AccountLeaf {
        public_key: PublicKey([0x5a; 32]),
        nonce: 42,
        balances: [1_000_000, 2, u128::MAX, 0],
    };
    group.bench_function("leaf_7_inputs", |b| b.iter(|| black_box(&leaf).hash()));
    group.finish();
}

fn codec(c: &mut Criterion) {
    let signed = signed_transfers(1).remove(0);
    let bytes = signed.encode();
    let mut group = c.benchmark_group("codec_transfer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| b.iter(|| black_box(&signed).encode()));
    group.bench_function("decode", |b| {
        b.iter(|| SignedTransaction::decode(black_box(&bytes)))
    });
    group.finish();

    // A contract call with 256 bytes of input: its input decodes through
    // `codec::bounded::bytes` (no up-front buffer sized by the length prefix).
    let call = Keypair::dev(1).sign(
        DEVNET_CHAIN_ID,
        Transaction::Call {
            token: TokenId::Gcc,
            value: 0,
            from: AccountId::new(1).unwrap_or(AccountId::MAX),
            contract: ghostplane_primitives::ContractAddress([7; 32]),
            input: vec![0xab; 256],
            fuel_limit: 100_000,
            fee: 1 << 32,
            nonce: 9,
        },
    );
    let bytes = call.encode();
    let mut group = c.benchmark_group("codec_call_256");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode", |b| {
        b.iter(|| SignedTransaction::decode(black_box(&bytes)))
    });
    group.finish();

    // What every JSON-RPC request now costs at the server edge: the id check of
    // `l2_sendTransaction` with a readable id (passes as is), and with a float id
    // (carried, then the reply restored).
    let hex_tx = hex::encode(&bytes);
    let plain = format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"l2_sendTransaction","params":["{hex_tx}"]}}"#
    );
    let float = plain.replace(r#""id":7"#, r#""id":7.5"#);
    let reply = r#"{"jsonrpc":"2.0","id":"\u0000#7.5","result":{"hash":"0x00"}}"#;
    assert!(ghostplane_rpc::ids::rewrite_request(plain.as_bytes()).is_none());
    assert!(ghostplane_rpc::ids::rewrite_request(float.as_bytes()).is_some());
    assert!(ghostplane_rpc::ids::restore_response(reply.as_bytes()).is_some());
    let mut group = c.benchmark_group("rpc_ids");
    group.throughput(Throughput::Elements(1));
    group.bench_function("request_readable_id", |b| {
        b.iter(|| ghostplane_rpc::ids::rewrite_request(black_box(plain.as_bytes())))
    });
    group.bench_function("request_float_id", |b| {
        b.iter(|| ghostplane_rpc::ids::rewrite_request(black_box(float.as_bytes())))
    });
    group.bench_function("reply_float_id", |b| {
        b.iter(|| ghostplane_rpc::ids::restore_response(black_box(reply.as_bytes())))
    });
    group.finish();
}

criterion_group!(benches, ed25519, ed25519_rules, hashing, codec);
criterion_main!(benches);
