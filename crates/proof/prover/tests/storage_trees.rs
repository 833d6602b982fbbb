//! The prover's contract storage trees (`StorageTrees`): the same steps and roots as
//! the in-memory reference tree (`ghostplane_stark::storage::StorageTree`), per
//! contract, across a commit and a reopen, and rewound with the account tree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ghostplane_primitives::{AccountId, AccountLeaf, Keypair};
use ghostplane_prover::{AccountTree, ProofBackend, StarkBackend, StorageTrees};
use ghostplane_stark::config::FriSettings;
use ghostplane_stark::storage::{SlotStep, StorageTree, apply_steps, empty_storage_root};

fn key(i: u32) -> [u8; 32] {
    *blake3::hash(&i.to_le_bytes()).as_bytes()
}

fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap()
}

/// Writes (contract, slot, value) in order on both stores; checks each step is the
/// reference's and verifies against the reference's root before it.
fn run(
    trees: &mut StorageTrees,
    reference: &mut [StorageTree; 2],
    writes: &[(u32, u32, Option<Vec<u8>>)],
) -> Vec<SlotStep> {
    writes
        .iter()
        .map(|(c, k, v)| {
            let r = &mut reference[*c as usize - 1];
            let before = r.root();
            let expected = r.step(&key(*k), Some(v.as_deref())).unwrap();
            let step = trees.step(id(*c), &key(*k), Some(v.as_deref())).unwrap();
            assert_eq!(step, expected);
            let after =
                apply_steps(before, std::slice::from_ref(&step), |_| Some(v.as_deref())).unwrap();
            assert_eq!(after, r.root());
            assert_eq!(trees.root(id(*c)).unwrap(), r.root());
            step
        })
        .collect()
}

#[test]
fn steps_and_roots_match_the_reference_through_commit_reopen_and_rewind() {
    let dir = tempfile::tempdir().unwrap();
    let db = ghostplane_prover::open_db(dir.path()).unwrap();
    let hash = StarkBackend::new(FriSettings::SETTLEMENT, 1024)
        .unwrap()
        .tree_hash();
    let mut accounts = AccountTree::open(Arc::clone(&db), Arc::clone(&hash)).unwrap();
    accounts
        .update_many(&[(id(1), AccountLeaf::new(Keypair::dev(1).public_key()))])
        .unwrap();
    accounts.commit(1, rocksdb::WriteBatch::default()).unwrap();
    let mut trees = StorageTrees::open(Arc::clone(&db)).unwrap();
    let mut reference = [StorageTree::new(), StorageTree::new()];
    assert_eq!(trees.root(id(1)).unwrap(), empty_storage_root());

    // Version 2: two contracts, interleaved; updates, an empty value, a delete.
    let first: Vec<_> = (0..40)
        .map(|i| (1 + i % 2, i, Some(vec![i as u8; 3])))
        .chain([
            (1, 4, Some(Vec::new())),
            (2, 5, None),
            (1, 6, Some(b"six".to_vec())),
        ])
        .collect();
    run(&mut trees, &mut reference, &first);
    let mut batch = rocksdb::WriteBatch::default();
    trees.stage(2, &mut batch).unwrap();
    accounts.commit(2, batch).unwrap();
    let at_2 = [reference[0].root(), reference[1].root()];

    // Reopened, the trees are where version 2 left them, and steps go on.
    drop(trees);
    let mut trees = StorageTrees::open(Arc::clone(&db)).unwrap();
    assert_eq!(trees.root(id(1)).unwrap(), at_2[0]);
    assert_eq!(trees.root(id(2)).unwrap(), at_2[1]);
    // A read step: no write, the root stays.
    let read = trees.step(id(1), &key(6), None).unwrap();
    assert_eq!(
        read.old,
        ghostplane_stark::storage::SlotLeaf::Present(b"six".to_vec())
    );
    assert_eq!(apply_steps(at_2[0], &[read], |_| None), Ok(at_2[0]));

    // Version 3, then rewound to 2 with the account tree.
    let more: Vec<_> = (40..50).map(|i| (1, i, Some(vec![9; 40]))).collect();
    run(&mut trees, &mut reference, &more);
    let mut batch = rocksdb::WriteBatch::default();
    trees.stage(3, &mut batch).unwrap();
    accounts.commit(3, batch).unwrap();
    assert_ne!(trees.root(id(1)).unwrap(), at_2[0]);
    accounts.rewind(2, rocksdb::WriteBatch::default()).unwrap();
    let trees = StorageTrees::open(Arc::clone(&db)).unwrap();
    assert_eq!(trees.root(id(1)).unwrap(), at_2[0]);
    assert_eq!(trees.root(id(2)).unwrap(), at_2[1]);
}

#[test]
fn discarded_updates_leave_the_committed_trees() {
    let dir = tempfile::tempdir().unwrap();
    let db = ghostplane_prover::open_db(dir.path()).unwrap();
    let mut trees = StorageTrees::open(Arc::clone(&db)).unwrap();
    trees.step(id(3), &key(1), Some(Some(b"x"))).unwrap();
    assert!(trees.is_dirty());
    assert_ne!(trees.root(id(3)).unwrap(), empty_storage_root());
    trees.discard();
    assert!(!trees.is_dirty());
    assert_eq!(trees.root(id(3)).unwrap(), empty_storage_root());
    // A value over the bound is refused and changes nothing.
    let long = vec![0u8; ghostplane_stark::storage::SLOT_VALUE_BYTES_MAX + 1];
    assert!(trees.step(id(3), &key(1), Some(Some(&long))).is_err());
    assert_eq!(trees.root(id(3)).unwrap(), empty_storage_root());
}

/// `complete`: a deploy registers its contract, each contract transaction gets its
/// storage proof after its trace and moves (checked here against the steps'
/// rule), the batch ends with one `ContractKey` per contract whose root changed;
/// the registry and trees commit with the account tree and rewind with it; ops
/// that already carry proofs are refused.
#[test]
fn complete_adds_proofs_and_the_contract_key_tail() {
    use ghostplane_primitives::tx::{code_hash, contract_address};
    use ghostplane_primitives::{
        BlockNumber, ContractTrace, Hash32, PubdataOp, ReceiptStatus, Signature, StorageSlot,
        TokenId, Transaction,
    };
    use ghostplane_prover::storage_trees::contract_leaf_key;
    let dir = tempfile::tempdir().unwrap();
    let db = ghostplane_prover::open_db(dir.path()).unwrap();
    let hash = StarkBackend::new(FriSettings::SETTLEMENT, 1024)
        .unwrap()
        .tree_hash();
    let mut tree = AccountTree::open(Arc::clone(&db), hash).unwrap();
    let deployer = id(1);
    let code = b"code".to_vec();
    let address = contract_address(deployer, 0);
    let slot = |k: u8, v: Option<&[u8]>| StorageSlot {
        contract: address,
        key: Hash32([k; 32]),
        value: v.map(<[u8]>::to_vec),
    };
    let trace = |reads, writes| {
        PubdataOp::ContractTrace(Box::new(ContractTrace {
            block: BlockNumber(1),
            time_ms: 0,
            fuel: 1,
            gas_used: 1,
            status: ReceiptStatus::Success,
            reads,
            writes,
            balances: Vec::new(),
            events: Vec::new(),
        }))
    };
    let deploy = PubdataOp::ContractTx {
        fee_paid: 1,
        contract: id(7),
        tx: Transaction::Deploy {
            from: deployer,
            code: code.clone(),
            init: Vec::new(),
            token: TokenId::Gcc,
            value: 0,
            fee: 1,
            nonce: 0,
        },
        signature: Signature([0; 64]),
    };
    let call = PubdataOp::ContractTx {
        fee_paid: 1,
        contract: id(7),
        tx: Transaction::Call {
            from: deployer,
            contract: address,
            input: Vec::new(),
            fuel_limit: 1,
            token: TokenId::Gcc,
            value: 0,
            fee: 1,
            nonce: 1,
        },
        signature: Signature([0; 64]),
    };
    let moved = PubdataOp::ContractMove {
        from: id(7),
        to: deployer,
        token: TokenId::Gcc,
        amount: 1,
    };
    let ops = vec![
        deploy,
        trace(vec![slot(1, None)], vec![slot(1, Some(b"a"))]),
        call,
        trace(vec![slot(1, Some(b"a"))], vec![slot(2, Some(b"b"))]),
        moved,
    ];
    let done = tree.storage().complete(&ops).unwrap();
    assert_eq!(done.len(), ops.len() + 3);
    let root = tree.storage().root(id(7)).unwrap();
    let mut reference = StorageTree::new();
    reference.step(&[1; 32], Some(Some(b"a"))).unwrap();
    reference.step(&[2; 32], Some(Some(b"b"))).unwrap();
    assert_eq!(root, reference.root());
    assert!(matches!(&done[2], PubdataOp::StorageProof(p) if p.steps.len() == 1));
    assert!(matches!(&done[6], PubdataOp::StorageProof(p) if p.steps.len() == 2));
    assert_eq!(
        done[7],
        PubdataOp::ContractKey {
            contract: id(7),
            key: contract_leaf_key(&address, &code_hash(&code), &root),
        }
    );
    // Completed ops are not completed twice.
    assert!(tree.storage().complete(&done).is_err());
    tree.commit(1, rocksdb::WriteBatch::default()).unwrap();
    assert!(tree.storage().contract(&address).unwrap().is_some());
    assert_eq!(tree.storage().root(id(7)).unwrap(), root);
    // A rewound plan forgets the deploy and the writes.
    tree.rewind(0, rocksdb::WriteBatch::default()).unwrap();
    let mut tree = AccountTree::open(
        db,
        StarkBackend::new(FriSettings::SETTLEMENT, 1024)
            .unwrap()
            .tree_hash(),
    )
    .unwrap();
    assert_eq!(tree.storage().contract(&address).unwrap(), None);
    assert_eq!(tree.storage().root(id(7)).unwrap(), empty_storage_root());
}
