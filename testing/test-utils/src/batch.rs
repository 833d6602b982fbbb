//! The prover's and the Groth16 backend's shared test fixtures (feature `prover`):
//! a tree with a few genesis accounts and a batch of every op kind, merkleized into
//! jobs or Groth16 chunk witnesses. A setup failure panics: it is a broken test.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use crate::dev_l2_genesis;
use ghostplane_groth16::PoseidonTree;
use ghostplane_primitives::{
    AccountId, AccountLeaf, BatchNumber, ChainId, ContractAddress, Keypair, L1Address, PubdataOp,
    PublicKey, Signature, TokenId, Transaction,
};
use ghostplane_prover::{AccountTree, ChunkWitness, Groth16Backend, Job, Merkleizer, ProofBackend};

pub const CHAIN: ChainId = ChainId(0x6768_6f73);

pub fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap()
}

pub fn key(i: u32) -> PublicKey {
    Keypair::dev(i).public_key()
}

/// Accounts 0 (fee account), 1 and 2 with some of every token.
pub fn genesis_leaves() -> Vec<(AccountId, AccountLeaf)> {
    dev_l2_genesis(3, [1_000_000, 5_000, 7_000, 9_000])
        .leaves()
        .unwrap()
}

pub fn open_tree(dir: &std::path::Path) -> (Arc<rocksdb::DB>, AccountTree) {
    let db = ghostplane_prover::open_db(dir).unwrap();
    let tree = AccountTree::open(db.clone(), Arc::new(PoseidonTree)).unwrap();
    (db, tree)
}

pub fn genesis(tree: &mut AccountTree) {
    tree.update_many(&genesis_leaves()).unwrap();
    tree.commit(0, rocksdb::WriteBatch::default()).unwrap();
}

/// One op of every provable kind plus a storage write (skipped by the merkleizer).
pub fn mixed_ops() -> Vec<PubdataOp> {
    let sig = Signature([0; 64]);
    vec![
        PubdataOp::Transfer {
            from: id(1),
            to: id(2),
            token: TokenId::Gcc,
            amount: 300,
            fee: 7,
            signature: sig,
        },
        PubdataOp::TransferToNew {
            from: id(1),
            to: id(3),
            to_key: key(3),
            token: TokenId::Spirit,
            amount: 40,
            fee: 5,
            signature: sig,
        },
        PubdataOp::ContractTrace(Box::new(ghostplane_primitives::ContractTrace {
            block: ghostplane_primitives::BlockNumber(1),
            time_ms: 0,
            fuel: 0,
            gas_used: 0,
            status: ghostplane_primitives::ReceiptStatus::Success,
            reads: Vec::new(),
            writes: vec![ghostplane_primitives::StorageSlot {
                contract: ContractAddress([9; 32]),
                key: ghostplane_primitives::Hash32([1; 32]),
                value: Some(vec![1, 2, 3]),
            }],
            balances: Vec::new(),
            events: Vec::new(),
        })),
        PubdataOp::Deposit {
            queue_index: 0,
            to: id(2),
            to_key: key(2),
            token: TokenId::Mana,
            amount: 11,
        },
        PubdataOp::Deposit {
            queue_index: 1,
            to: id(4),
            to_key: key(4),
            token: TokenId::Ghost,
            amount: 12,
        },
        PubdataOp::Withdraw {
            from: id(2),
            to: L1Address([7; 32]),
            token: TokenId::Ghost,
            amount: 13,
            fee: 3,
            signature: sig,
        },
        PubdataOp::FeeOnly {
            fee_paid: 2,
            tx: Transaction::Call {
                token: TokenId::Gcc,
                value: 0,
                from: id(1),
                contract: ContractAddress([9; 32]),
                input: vec![],
                fuel_limit: 1000,
                fee: 2,
                nonce: 2,
            },
            signature: sig,
        },
        // The fee account spends: closes the chunk early if fees are pending.
        PubdataOp::Transfer {
            from: id(0),
            to: id(1),
            token: TokenId::Gcc,
            amount: 1,
            fee: 1,
            signature: sig,
        },
    ]
}

/// The Groth16 chunk witnesses of a batch (the jobs' witness bytes, decoded).
pub fn build(tree: &mut AccountTree, chunk_ops: usize, ops: &[PubdataOp]) -> Vec<ChunkWitness> {
    let backend = Groth16Backend::witnesses_only(chunk_ops);
    Merkleizer::new(tree, &backend, CHAIN)
        .build_batch(BatchNumber(1), id(0), ops)
        .unwrap()
        .iter()
        .map(|job| borsh::from_slice(&job.witness).unwrap())
        .collect()
}

/// The proof jobs of a batch under `backend`.
pub fn jobs(tree: &mut AccountTree, backend: &dyn ProofBackend, ops: &[PubdataOp]) -> Vec<Job> {
    Merkleizer::new(tree, backend, CHAIN)
        .build_batch(BatchNumber(1), id(0), ops)
        .unwrap()
}
