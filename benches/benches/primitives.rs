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
}

criterion_group!(benches, ed25519, hashing, codec);
criterion_main!(benches);
