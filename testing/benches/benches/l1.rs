//! L1 (ghostd) benches: what a validator spends checking a committed batch (decode,
//! ed25519 per signed op, chunk commitments under each proof backend), and sealing a block of ledger
//! transfers (one synced RocksDB write per block).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ghostd::modules::rollup;
use ghostd::state::Layer;
use ghostd::{BatchCommit, Call, Ghostd, GhostdConfig, LedgerCall};
use ghostplane_primitives::{
    AccountId, ChainId, FieldBytes, Keypair, L1Address, PubdataOp, Recipient, TokenId, Transaction,
    encode_pubdata,
};
use ghostplane_prover::stark::DEVNET_SEGMENT_SLOTS;
use ghostplane_prover::{Groth16Backend, ProofBackend, StarkBackend};
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::{L1GenesisBuilder, sign_l1};

const L2: ChainId = ChainId(0x6768_6f73);
const ACCOUNTS: u32 = 64;
const BATCH_OPS: usize = 512;
const BLOCK_TXS: usize = 256;

fn stark() -> StarkBackend {
    StarkBackend::new(FriSettings::SETTLEMENT, DEVNET_SEGMENT_SLOTS).unwrap()
}

fn setup() -> (tempfile::TempDir, Ghostd, Vec<Keypair>) {
    let l2_keys: Vec<Keypair> = (0..ACCOUNTS).map(Keypair::dev).collect();
    let genesis = L1GenesisBuilder::new(ghostplane_prover::proof_params(&stark()))
        .fund(
            l2_keys.iter().map(Keypair::public_key),
            TokenId::Gcc,
            1u128 << 100,
        )
        .l2_chain_id(L2)
        .operator(l2_keys[0].public_key())
        .genesis_accounts(l2_keys.iter().map(Keypair::public_key))
        .forced_inclusion_blocks(1000)
        .deposit_queue_max(1000)
        .build();
    let dir = tempfile::tempdir().unwrap();
    let mut config = GhostdConfig::new(dir.path().to_path_buf());
    config.block_txs_max = BLOCK_TXS;
    let node = Ghostd::open(config, &genesis).unwrap();
    (dir, node, l2_keys)
}

/// `BATCH_OPS` signed transfers among accounts 1..64 (account 0 takes fees), cut
/// into segments of `segment_ops`.
fn batch(keys: &[Keypair], segment_ops: usize) -> BatchCommit {
    let mut nonces = vec![0u64; keys.len()];
    let ops: Vec<PubdataOp> = (0..BATCH_OPS)
        .map(|i| {
            let from = 1 + (i % (keys.len() - 1));
            let to = 1 + ((i + 7) % (keys.len() - 1));
            let (from_id, to_id) = (
                AccountId::new(from as u32).unwrap(),
                AccountId::new(to as u32).unwrap(),
            );
            let tx = Transaction::Transfer {
                from: from_id,
                to: Recipient::Account(to_id),
                token: TokenId::Gcc,
                amount: 10,
                fee: 1,
                nonce: nonces[from],
            };
            nonces[from] += 1;
            PubdataOp::Transfer {
                from: from_id,
                to: to_id,
                token: TokenId::Gcc,
                amount: 10,
                fee: 1,
                signature: keys[from].sign(L2, tx).signature,
            }
        })
        .collect();
    BatchCommit {
        number: 1,
        first_block: 1,
        last_block: 1,
        fee_account: AccountId::ZERO,
        pubdata: encode_pubdata(&ops).unwrap(),
        new_root: FieldBytes::from_bytes([0; 32]).unwrap(),
        chunk_count: BATCH_OPS.div_ceil(segment_ops) as u32,
    }
}

fn benches(c: &mut Criterion) {
    let (_dir, node, keys) = setup();
    let operator = keys[0].public_key();
    let genesis = Arc::new(node.genesis().clone());
    let mut group = c.benchmark_group("l1");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH_OPS as u64));
    // Groth16 chunks of 16 (its commitment is BN254 Poseidon) and STARK segments of
    // 1024 (KoalaBear Poseidon2); the signature check is the same.
    let backends: [(&str, Box<dyn ProofBackend>); 2] = [
        ("stark", Box::new(stark())),
        ("groth16", Box::new(Groth16Backend::witnesses_only(16))),
    ];
    for (name, backend) in backends {
        let mut rollup_genesis = genesis.rollup.clone();
        rollup_genesis.proof = ghostplane_prover::proof_params(backend.as_ref());
        let commit = batch(&keys, backend.segment_ops_max());
        let reexecutor = ghostplane_executor::Reexecutor::new().unwrap();
        group.bench_function(
            format!("commit batch check (512 signed transfers, {name})"),
            |b| {
                b.iter(|| {
                    node.read(|state| {
                        let mut layer = Layer::new(state);
                        rollup::commit_call(
                            &mut layer,
                            &rollup_genesis,
                            backend.as_ref(),
                            &reexecutor,
                            &operator,
                            black_box(&commit),
                            1,
                        )
                        .unwrap();
                        black_box(layer.writes().len())
                    })
                })
            },
        );
    }
    // An exit claim's check (issue 37): the leaf key's signature and the leaf's
    // path climbed to the root with the STARK tree hash: ghostd's work per claim
    // besides one ledger posting.
    {
        use ghostd_types::rollup::ExitClaim;
        let hash = stark().tree_hash();
        let owner = Keypair::dev(1);
        let leaf = ghostplane_primitives::AccountLeaf::new(owner.public_key());
        let path = vec![[0u8; 32]; hash.depth()];
        let account = ghostplane_primitives::AccountId::new(1).unwrap();
        let recipient = L1Address(owner.public_key().0);
        let message = ExitClaim::signing_message(
            ghostplane_primitives::DEVNET_CHAIN_ID,
            account,
            TokenId::Gcc,
            &recipient,
        );
        let signature = owner.sign_bytes(&message);
        group.throughput(Throughput::Elements(1));
        group.bench_function("exit claim check (signature and path, stark)", |b| {
            b.iter(|| {
                ghostplane_primitives::keys::verify(&owner.public_key(), &message, &signature)
                    .unwrap();
                black_box(ghostplane_prover::backend::root_from_path(
                    hash.as_ref(),
                    1,
                    black_box(&leaf),
                    &path,
                ))
            })
        });
    }
    group.throughput(Throughput::Elements(BLOCK_TXS as u64));
    let mut id = 1u128;
    group.bench_function("seal block (256 ledger transfers)", |b| {
        b.iter_batched(
            || {
                for i in 0..BLOCK_TXS {
                    let key = &keys[i % keys.len()];
                    let nonce = node.nonce(&key.public_key()).unwrap() + (i / keys.len()) as u64;
                    id += 1;
                    let call = Call::Ledger(LedgerCall::Transfer {
                        id,
                        to: L1Address([9; 32]),
                        token: TokenId::Gcc,
                        amount: 1,
                    });
                    let tx = sign_l1(key, nonce, call);
                    node.submit(tx).unwrap();
                }
            },
            |()| black_box(node.seal().unwrap()),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(l1, benches);
criterion_main!(l1);
