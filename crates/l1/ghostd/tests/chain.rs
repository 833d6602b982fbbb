//! ghostd: submission checks, ledger idempotency, restart safety, and the rollup
//! module against real proofs of both backends: Groth16 (a one-slot circuit keeps
//! setup short) and the STARK (two-op segments).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use ghostd::modules::{ledger, rollup};
use ghostd::{
    BatchCommit, Call, Genesis, Ghostd, GhostdConfig, L1_DEVNET_CHAIN_ID, L1Outcome, L1Transaction,
    LedgerCall, RollupCall, SignedL1Transaction, SubmitError,
};
use ghostplane_primitives::{
    AccountId, AccountLeaf, BatchNumber, ChainId, FieldBytes, Keypair, L1Address, PubdataOp,
    PublicKey, TokenId, Transaction, encode_pubdata,
};
use ghostplane_prover::{
    AccountTree, ChunkKeys, Groth16Backend, Merkleizer, ProofBackend, StarkBackend,
};
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::{L1GenesisBuilder, dev_l2_genesis, sign_l1};

const L2: ChainId = ChainId(0x6768_6f73);
const FUNDS: u128 = 1_000_000;

fn groth16() -> Arc<dyn ProofBackend> {
    static KEYS: OnceLock<Arc<ChunkKeys>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| Arc::new(ChunkKeys::devnet_setup(1).unwrap()));
    Arc::new(Groth16Backend::new(Arc::clone(keys)))
}

/// The STARK backend with one op per segment (segments of two, the fee credit last).
fn stark() -> Arc<dyn ProofBackend> {
    Arc::new(StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap())
}

fn operator() -> Keypair {
    Keypair::from_seed(&[9; 32])
}

fn l1(key: &Keypair) -> L1Address {
    L1Address(key.public_key().0)
}

/// L2 genesis: dev0 (fee account) and dev1.
fn l2_leaves() -> Vec<(AccountId, AccountLeaf)> {
    dev_l2_genesis(2, [FUNDS; 4]).leaves().unwrap()
}

fn genesis(root: FieldBytes, forced_inclusion_blocks: u64, backend: &dyn ProofBackend) -> Genesis {
    let mut builder = L1GenesisBuilder::new(ghostplane_prover::proof_params(backend));
    for i in 0..3 {
        builder = builder.fund_all_tokens(l1(&Keypair::dev(i)), FUNDS);
    }
    builder
        .fund_escrow(2 * FUNDS)
        .l2_chain_id(L2)
        .operator(operator().public_key())
        .genesis_root(root)
        .genesis_accounts(l2_leaves().iter().map(|(_, l)| l.public_key))
        .forced_inclusion_blocks(forced_inclusion_blocks)
        .build()
}

fn tree(dir: &Path, backend: &dyn ProofBackend) -> AccountTree {
    let db = ghostplane_prover::open_db(&dir.join("prover")).unwrap();
    let mut tree = AccountTree::open(db, backend.tree_hash()).unwrap();
    tree.update_many(&l2_leaves()).unwrap();
    tree.commit(0, rocksdb::WriteBatch::default()).unwrap();
    tree
}

fn node(dir: &Path, genesis: &Genesis) -> Ghostd {
    Ghostd::open(GhostdConfig::new(dir.to_path_buf()), genesis).unwrap()
}

fn sign(key: &Keypair, node: &Ghostd, call: Call) -> SignedL1Transaction {
    sign_l1(key, node.nonce(&key.public_key()).unwrap(), call)
}

/// Submits, seals, and returns the receipt's outcome.
fn run(node: &Ghostd, tx: SignedL1Transaction) -> L1Outcome {
    let hash = node.submit(tx).unwrap();
    node.seal().unwrap();
    node.receipt(&hash).unwrap().unwrap().outcome
}

fn balance(node: &Ghostd, owner: &L1Address, token: TokenId) -> u128 {
    node.read(|s| ledger::balance(s, owner, token)).unwrap()
}

fn transfer(id: u128, to: L1Address, amount: u128) -> Call {
    Call::Ledger(LedgerCall::Transfer {
        id,
        to,
        token: TokenId::Mana,
        amount,
    })
}

#[test]
fn submission_checks_ledger_idempotency_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(
        FieldBytes::from_bytes([0; 32]).unwrap(),
        100,
        stark().as_ref(),
    );
    let alice = Keypair::dev(0);
    let bob = l1(&Keypair::from_seed(&[3; 32]));
    let head;
    {
        let node = node(dir.path(), &genesis);
        assert_eq!(
            run(&node, sign(&alice, &node, transfer(5, bob, 100))),
            L1Outcome::Success
        );
        // The same transfer again (new nonce, same id and fields): a no-op.
        assert_eq!(
            run(&node, sign(&alice, &node, transfer(5, bob, 100))),
            L1Outcome::Success
        );
        assert_eq!(balance(&node, &bob, TokenId::Mana), 100);
        assert_eq!(balance(&node, &l1(&alice), TokenId::Mana), FUNDS - 100);
        // Same id, other amount: refused before the mempool.
        let conflict = node.submit(sign(&alice, &node, transfer(5, bob, 101)));
        assert!(
            matches!(&conflict, Err(SubmitError::Refused(e)) if e.to_string().contains("different amount")),
            "{conflict:?}"
        );
        // Reserved (node) ids, overdrafts, replays, other chains, bad signatures.
        let reserved = node.submit(sign(&alice, &node, transfer(1 << 127, bob, 1)));
        assert!(matches!(reserved, Err(SubmitError::Refused(_))));
        let overdraft = node.submit(sign(&alice, &node, transfer(6, bob, FUNDS)));
        assert!(matches!(overdraft, Err(SubmitError::Refused(_))));
        let mut replay = sign(&alice, &node, transfer(7, bob, 1));
        replay.tx.nonce = 0;
        let replay = replay.tx.clone().sign(&alice);
        assert!(matches!(
            node.submit(replay),
            Err(SubmitError::NonceTooLow { expected: 2, .. })
        ));
        let mut other_chain = sign(&alice, &node, transfer(7, bob, 1)).tx;
        other_chain.chain_id += 1;
        assert!(matches!(
            node.submit(other_chain.sign(&alice)),
            Err(SubmitError::WrongChain { .. })
        ));
        let mut forged = sign(&alice, &node, transfer(7, bob, 1));
        forged.tx.call = transfer(7, bob, 2);
        assert!(matches!(
            node.submit(forged),
            Err(SubmitError::BadSignature)
        ));
        assert!(matches!(
            node.submit_bytes(&[1, 2, 3]),
            Err(SubmitError::Malformed(_))
        ));
        // A sender cannot park transactions far ahead of its nonce, and one waiting
        // for an earlier nonce does not hold back others.
        let carol = Keypair::dev(1);
        let mut far = sign(&carol, &node, transfer(20, bob, 1)).tx;
        far.nonce = 65;
        assert!(matches!(
            node.submit(far.clone().sign(&carol)),
            Err(SubmitError::NonceGap { max: 64, .. })
        ));
        far.nonce = 1;
        let parked = node.submit(far.sign(&carol)).unwrap();
        let runnable = node
            .submit(sign(&Keypair::dev(2), &node, transfer(21, bob, 1)))
            .unwrap();
        node.seal().unwrap();
        assert!(node.receipt(&runnable).unwrap().is_some());
        assert!(node.is_pending(&parked));
        let unblock = node
            .submit(sign(&carol, &node, transfer(22, bob, 1)))
            .unwrap();
        node.seal().unwrap();
        node.seal().unwrap();
        assert!(node.receipt(&unblock).unwrap().is_some());
        assert!(node.receipt(&parked).unwrap().is_some());
        // Nobody can move the escrow.
        let escrow_before = balance(&node, &ledger::bridge_escrow(), TokenId::Mana);
        assert_eq!(escrow_before, 2 * FUNDS);
        node.read(ledger::check_totals).unwrap();
        head = node.head();
        // Acknowledged but not yet in a block when the node goes away.
        let waiting = node
            .submit(sign(&alice, &node, transfer(8, bob, 5)))
            .unwrap();
        assert!(node.is_pending(&waiting));
    }
    // Reopen: same head, same balances, the acknowledged transaction still waits and
    // makes it into the next block; another genesis is refused.
    let node = node(dir.path(), &genesis);
    assert_eq!(node.head(), head);
    assert_eq!(node.mempool_len(), 1);
    node.seal().unwrap();
    assert_eq!(node.mempool_len(), 0);
    assert_eq!(balance(&node, &bob, TokenId::Mana), 108);
    let head = node.head();
    drop(node);
    let node = self::node(dir.path(), &genesis);
    assert_eq!(node.mempool_len(), 0, "an included transaction came back");
    assert_eq!(node.head(), head);
    assert_eq!(balance(&node, &bob, TokenId::Mana), 108);
    assert_eq!(node.block(head.number).unwrap().unwrap().header, head);
    let other = Genesis {
        timestamp_ms: 1,
        ..genesis.clone()
    };
    drop(node);
    assert!(Ghostd::open(GhostdConfig::new(dir.path().to_path_buf()), &other).is_err());
}

fn deposit_call(to: PublicKey, amount: u128) -> Call {
    Call::Rollup(RollupCall::Deposit {
        recipient: to,
        token: TokenId::Spirit,
        amount,
    })
}

#[test]
fn overdue_deposit_blocks_batches_that_skip_it() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(
        FieldBytes::from_bytes([0; 32]).unwrap(),
        2,
        stark().as_ref(),
    );
    let node = node(dir.path(), &genesis);
    let depositor = Keypair::dev(2);
    let recipient = Keypair::from_seed(&[4; 32]).public_key();
    assert_eq!(
        run(&node, sign(&depositor, &node, deposit_call(recipient, 10))),
        L1Outcome::Success
    );
    assert_eq!(balance(&node, &l1(&depositor), TokenId::Spirit), FUNDS - 10);
    // A bad recipient key (the identity point: small order) and zero deposits are
    // refused.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let bad = node.submit(sign(
        &depositor,
        &node,
        deposit_call(PublicKey(identity), 1),
    ));
    assert!(matches!(bad, Err(SubmitError::Refused(_))), "{bad:?}");
    assert!(
        node.submit(sign(&depositor, &node, deposit_call(recipient, 0)))
            .is_err()
    );
    for _ in 0..3 {
        node.seal().unwrap();
    }
    let empty = Call::Rollup(RollupCall::Commit(BatchCommit {
        number: 1,
        first_block: 1,
        last_block: 1,
        fee_account: AccountId::ZERO,
        pubdata: Vec::new(),
        new_root: FieldBytes::from_bytes([0; 32]).unwrap(),
        chunk_count: 1,
    }));
    let refused = node.submit(sign(&operator(), &node, empty));
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("must be included by block")),
        "{refused:?}"
    );
    assert_eq!(node.read(rollup::status).unwrap().committed, 0);
}

#[test]
fn rollup_batch_commit_prove_finalize_with_real_groth16_proofs() {
    let stark_proof = {
        // A real proof from the other backend, for the refusal check.
        let dir = tempfile::tempdir().unwrap();
        let backend = stark();
        let mut tree = tree(dir.path(), backend.as_ref());
        let jobs = Merkleizer::new(&mut tree, backend.as_ref(), L2)
            .build_batch(BatchNumber(1), AccountId::ZERO, &[])
            .unwrap();
        backend.prove(&jobs[0].witness).unwrap()
    };
    rollup_flow(groth16(), stark_proof);
}

#[test]
fn rollup_batch_commit_prove_finalize_with_real_stark_proofs() {
    rollup_flow(stark(), vec![7; 128]);
}

/// Commit checks, forged and honest proofs, finality, for one backend. `other` is
/// a proof of the other backend (the L1 must refuse it).
fn rollup_flow(backend: Arc<dyn ProofBackend>, other: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let mut tree = tree(dir.path(), backend.as_ref());
    let root = tree.root().unwrap();
    let genesis = genesis(root, 100, backend.as_ref());
    let node = node(dir.path(), &genesis);
    let operator = operator();

    // L1: dev2 deposits 700 SPIRIT for a new L2 key.
    let newcomer = Keypair::from_seed(&[5; 32]).public_key();
    let depositor = Keypair::dev(2);
    assert_eq!(
        run(&node, sign(&depositor, &node, deposit_call(newcomer, 700))),
        L1Outcome::Success
    );
    // A key the L1 has not seen: it may need a new account, counted until committed.
    assert_eq!(
        node.read(rollup::status).unwrap().new_key_deposits_pending,
        1
    );

    // L2 batch: dev0 → dev1 transfer, the deposit (creates account 2), dev1 withdraws.
    let recipient = l1(&Keypair::from_seed(&[6; 32]));
    let dev0 = Keypair::dev(0);
    let dev1 = Keypair::dev(1);
    let transfer_tx = Transaction::Transfer {
        from: AccountId::new(0).unwrap(),
        to: ghostplane_primitives::Recipient::Account(AccountId::new(1).unwrap()),
        token: TokenId::Gcc,
        amount: 50,
        fee: 1,
        nonce: 0,
    };
    let withdraw_tx = Transaction::Withdraw {
        from: AccountId::new(1).unwrap(),
        to: recipient,
        token: TokenId::Ghost,
        amount: 300,
        fee: 2,
        nonce: 0,
    };
    let to_escrow = Transaction::Withdraw {
        from: AccountId::new(0).unwrap(),
        to: ledger::bridge_escrow(),
        token: TokenId::Gcc,
        amount: 10,
        fee: 0,
        nonce: 1,
    };
    let ops = vec![
        PubdataOp::Transfer {
            from: AccountId::new(0).unwrap(),
            to: AccountId::new(1).unwrap(),
            token: TokenId::Gcc,
            amount: 50,
            fee: 1,
            signature: dev0.sign(L2, transfer_tx).signature,
        },
        PubdataOp::Deposit {
            queue_index: 0,
            to: AccountId::new(2).unwrap(),
            to_key: newcomer,
            token: TokenId::Spirit,
            amount: 700,
        },
        PubdataOp::Withdraw {
            from: AccountId::new(1).unwrap(),
            to: recipient,
            token: TokenId::Ghost,
            amount: 300,
            fee: 2,
            signature: dev1.sign(L2, withdraw_tx).signature,
        },
        // A withdrawal to the escrow itself: must not block finality.
        PubdataOp::Withdraw {
            from: AccountId::new(0).unwrap(),
            to: ledger::bridge_escrow(),
            token: TokenId::Gcc,
            amount: 10,
            fee: 0,
            signature: dev0.sign(L2, to_escrow).signature,
        },
    ];
    let chunks = Merkleizer::new(&mut tree, backend.as_ref(), L2)
        .build_batch(BatchNumber(1), AccountId::ZERO, &ops)
        .unwrap();
    let new_root = tree.root().unwrap();
    let commit = |pubdata: Vec<u8>, chunk_count: u32| {
        Call::Rollup(RollupCall::Commit(BatchCommit {
            number: 1,
            first_block: 1,
            last_block: 3,
            fee_account: AccountId::ZERO,
            pubdata,
            new_root,
            chunk_count,
        }))
    };

    // Forged commits: a skipped deposit, a deposit with another amount, a stranger
    // as committer.
    let skipped = encode_pubdata(&[ops[0].clone(), ops[2].clone(), ops[3].clone()]).unwrap();
    let wrong_amount = {
        let mut ops = ops.clone();
        if let PubdataOp::Deposit { amount, .. } = &mut ops[1] {
            *amount = 701;
        }
        encode_pubdata(&ops).unwrap()
    };
    let pubdata = encode_pubdata(&ops).unwrap();
    let status_before = node.read(rollup::status).unwrap();
    // Skipping a deposit is allowed (within the forced-inclusion window) but then
    // the chunk count and commitments differ; here the count is what gives it away.
    let refused = node.submit(sign(&operator, &node, commit(skipped, 4)));
    assert!(
        matches!(refused, Err(SubmitError::Refused(_))),
        "{refused:?}"
    );
    let refused = node.submit(sign(&operator, &node, commit(wrong_amount, 4)));
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("does not match the queue")),
        "{refused:?}"
    );
    let refused = node.submit(sign(&depositor, &node, commit(pubdata.clone(), 4)));
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("not a rollup operator")),
        "{refused:?}"
    );
    // A fee-only op charging more than the signed maximum fee (operator theft). A
    // failed transfer: both backends take it (a contract op would be refused first
    // under Groth16).
    let failed_tx = Transaction::Transfer {
        from: AccountId::new(1).unwrap(),
        to: ghostplane_primitives::Recipient::Account(AccountId::new(0).unwrap()),
        token: TokenId::Ghost,
        amount: 10 * FUNDS,
        fee: 5,
        nonce: 0,
    };
    let greedy = encode_pubdata(&[PubdataOp::FeeOnly {
        fee_paid: 6,
        signature: dev1.sign(L2, failed_tx.clone()).signature,
        tx: failed_tx,
    }])
    .unwrap();
    let refused = node.submit(sign(&operator, &node, commit(greedy, 1)));
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("allows at most 5")),
        "{refused:?}"
    );
    // A correctly signed zero-amount withdrawal: the sequencer refuses it (stateless
    // checks), and the circuit could never pay it out, so the L1 must refuse the
    // commit rather than accept a batch that can never be proven.
    let zero_withdraw = Transaction::Withdraw {
        from: AccountId::new(1).unwrap(),
        to: recipient,
        token: TokenId::Ghost,
        amount: 0,
        fee: 2,
        nonce: 0,
    };
    let unprovable = encode_pubdata(&[PubdataOp::Withdraw {
        from: AccountId::new(1).unwrap(),
        to: recipient,
        token: TokenId::Ghost,
        amount: 0,
        fee: 2,
        signature: dev1.sign(L2, zero_withdraw).signature,
    }])
    .unwrap();
    let refused = node.submit(sign(&operator, &node, commit(unprovable, 1)));
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("the transaction is invalid")),
        "{refused:?}"
    );
    assert_eq!(node.read(rollup::status).unwrap(), status_before);

    // The honest commit.
    assert_eq!(chunks.len(), 4);
    assert_eq!(
        run(&node, sign(&operator, &node, commit(pubdata, 4))),
        L1Outcome::Success
    );
    let status = node.read(rollup::status).unwrap();
    assert_eq!((status.committed, status.finalized), (1, 0));
    assert_eq!(status.deposits_consumed, 1);
    assert_eq!(status.next_account, 3);
    assert_eq!(status.new_key_deposits_pending, 0);

    // Real proofs.
    let proofs: Vec<Vec<u8>> = chunks
        .iter()
        .map(|c| backend.prove(&c.witness).unwrap())
        .collect();
    let roots: Vec<FieldBytes> = chunks.iter().map(|c| c.statement.new_root).collect();
    let prove_from = |first_chunk: u32, roots: Vec<FieldBytes>, proofs: Vec<Vec<u8>>| {
        Call::Rollup(RollupCall::Prove {
            number: 1,
            first_chunk,
            chunk_roots: roots,
            proofs,
        })
    };
    let prove = |roots, proofs| prove_from(0, roots, proofs);
    // A forged proof (a flipped byte in the middle), proofs of other ops (swapped),
    // a wrong intermediate root, a proof from the other backend, chunks out of order:
    // refused, with the chunk named.
    let mut flipped = proofs.clone();
    let mid = flipped[1].len() / 2;
    flipped[1][mid] ^= 1;
    let mut foreign = proofs.clone();
    foreign[0] = other;
    let mut swapped = proofs.clone();
    swapped.swap(0, 1);
    let mut wrong_roots = roots.clone();
    wrong_roots[0] = roots[1];
    for (r, p, chunk) in [
        (roots.clone(), flipped, "chunk 1"),
        (roots.clone(), swapped, "chunk 0"),
        (wrong_roots, proofs.clone(), "chunk 0"),
        (roots.clone(), foreign, "chunk 0"),
    ] {
        let refused = node.submit(sign(&operator, &node, prove(r, p)));
        assert!(
            matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains(chunk) && e.to_string().contains("does not verify")),
            "{refused:?}"
        );
    }
    let refused = node.submit(sign(
        &operator,
        &node,
        prove_from(1, roots[1..].to_vec(), proofs[1..].to_vec()),
    ));
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("must start at chunk 0")),
        "{refused:?}"
    );
    assert_eq!(node.read(rollup::status).unwrap(), status);
    assert_eq!(balance(&node, &recipient, TokenId::Ghost), 0);

    // Proofs come from the rollup operators only (issue 33 item 9): each costs
    // every validator a verification, so a stranger's is refused at admission, and
    // the module refuses it too (a parked one skips the admission dry run).
    let refused = node.submit(sign(
        &depositor,
        &node,
        prove(roots.clone(), proofs.clone()),
    ));
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("is not a rollup operator")),
        "{refused:?}"
    );
    let nonce = node.nonce(&depositor.public_key()).unwrap();
    let parked = L1Transaction {
        chain_id: L1_DEVNET_CHAIN_ID,
        from: depositor.public_key(),
        nonce: nonce + 1,
        call: prove(roots.clone(), proofs.clone()),
    }
    .sign(&depositor);
    let refused = node.submit(parked);
    assert!(
        matches!(&refused, Err(SubmitError::Refused(e)) if e.to_string().contains("is not a rollup operator")),
        "a parked Prove from a stranger was admitted: {refused:?}"
    );

    // Proofs may arrive in parts: the first two chunks, then the rest. Nothing is
    // final until the last chunk is proven.
    assert_eq!(
        run(
            &node,
            sign(
                &operator,
                &node,
                prove(roots[..2].to_vec(), proofs[..2].to_vec())
            )
        ),
        L1Outcome::Success
    );
    let partial = node.read(rollup::status).unwrap();
    assert_eq!((partial.finalized, partial.proving_chunks), (0, 2));
    assert_eq!(partial.proving_root, roots[1]);
    assert_eq!(balance(&node, &recipient, TokenId::Ghost), 0);

    // The honest proof, from the operator: final, and the withdrawal is released.
    let escrow_before = balance(&node, &ledger::bridge_escrow(), TokenId::Ghost);
    assert_eq!(
        run(
            &node,
            sign(
                &operator,
                &node,
                prove_from(2, roots[2..].to_vec(), proofs[2..].to_vec())
            )
        ),
        L1Outcome::Success
    );
    let status = node.read(rollup::status).unwrap();
    assert_eq!(status.finalized, 1);
    assert_eq!(status.proving_chunks, 0);
    assert_eq!(status.finalized_root, new_root);
    assert_eq!(status.finalized_l2_block, 3);
    assert_eq!(balance(&node, &recipient, TokenId::Ghost), 300);
    // The withdrawal to the escrow left the escrow's GCC where it was.
    assert_eq!(
        balance(&node, &ledger::bridge_escrow(), TokenId::Gcc),
        2 * FUNDS
    );
    assert_eq!(
        balance(&node, &ledger::bridge_escrow(), TokenId::Ghost),
        escrow_before - 300
    );
    node.read(ledger::check_totals).unwrap();
    // Proving it again is refused.
    let again = node.submit(sign(
        &operator,
        &node,
        prove(vec![new_root], vec![vec![0; 128]]),
    ));
    assert!(matches!(again, Err(SubmitError::Refused(_))));
}

/// Batch 1's commit of `ops`, covering L2 blocks 1..=`last_block`, in `chunk_count`
/// segments, with a zero root (these tests stop at commit).
fn first_commit(ops: &[PubdataOp], last_block: u64, chunk_count: u32) -> Call {
    Call::Rollup(RollupCall::Commit(BatchCommit {
        number: 1,
        first_block: 1,
        last_block,
        fee_account: AccountId::ZERO,
        pubdata: encode_pubdata(ops).unwrap(),
        new_root: FieldBytes::from_bytes([0; 32]).unwrap(),
        chunk_count,
    }))
}

/// The honest pubdata of contract transaction `tx` (a deploy or a call) signed by
/// `key`, run in L2 block 1 over empty storage and no deployed contract: its
/// `FeeOnly` and `ContractTrace`, made by the executor's own rules (the re-executor
/// runs them).
fn contract_ops(key: &Keypair, tx: Transaction) -> Vec<PubdataOp> {
    struct NoCode;
    impl ghostplane_executor::ReexecutionStore for NoCode {
        fn contract(
            &self,
            _: &ghostplane_primitives::ContractAddress,
        ) -> Result<Option<ghostplane_executor::ContractRecord>, ghostplane_executor::StoreError>
        {
            Ok(None)
        }
        fn code(
            &self,
            _: &ghostplane_primitives::Hash32,
        ) -> Result<Option<Arc<[u8]>>, ghostplane_executor::StoreError> {
            Ok(None)
        }
        fn account(
            &self,
            _: AccountId,
        ) -> Result<Option<(ghostplane_primitives::PublicKey, bool)>, ghostplane_executor::StoreError>
        {
            Ok(None)
        }
    }
    let trace = ghostplane_primitives::ContractTrace {
        block: ghostplane_primitives::BlockNumber(1),
        time_ms: 0,
        fuel: 0,
        gas_used: 0,
        status: ghostplane_primitives::ReceiptStatus::Success,
        reads: Vec::new(),
        writes: Vec::new(),
        // The sender holds exactly its maximum fee.
        balances: vec![ghostplane_primitives::BalanceRead {
            account: tx.from(),
            token: TokenId::Gcc,
            amount: tx.fee(),
        }],
        events: Vec::new(),
    };
    let prices = ghostplane_executor::Prices::default();
    let signed = key.sign(L2, tx);
    let job = ghostplane_executor::ReexecutionJob {
        signed: &signed,
        trace: &trace,
        next_account: 2,
    };
    let mut ops = ghostplane_executor::Reexecutor::new()
        .unwrap()
        .reexecute(job, prices, &NoCode)
        .unwrap()
        .ops;
    // It touches no storage: its storage proof has no step.
    ops.push(PubdataOp::StorageProof(Box::default()));
    ops
}

/// `ops` as settlement's planning completes them: with a storage proof after each
/// contract transaction's trace and moves and the batch's `ContractKey` tail, from
/// `tree`'s storage trees (which it leaves unchanged). Ops that carry proofs
/// already have them made again, so a forgery of a trace gets the proof an
/// operator would post for it.
fn completed(tree: &mut AccountTree, ops: &[PubdataOp]) -> Vec<PubdataOp> {
    let raw: Vec<PubdataOp> = ops
        .iter()
        .filter(|op| !op.is_storage_completion())
        .cloned()
        .collect();
    let out = tree.storage().complete(&raw).unwrap();
    tree.discard();
    out
}

/// A Groth16 rollup takes no contracts: a commit holding a deploy, a call (as
/// fee-only ops) or a contract trace is refused with rollup code 29, naming the op,
/// and changes nothing, while native ops still commit. The same deploy commits
/// under the STARK. (Before the check, Groth16 committed them like the STARK.)
#[test]
fn a_groth16_genesis_refuses_contract_ops_at_commit() {
    let dev0 = Keypair::dev(0);
    let dev1 = Keypair::dev(1);
    let account = |i| AccountId::new(i).unwrap();
    let deploy_tx = Transaction::Deploy {
        token: TokenId::Gcc,
        value: 0,
        from: account(1),
        code: b"\0asm\x01\0\0\0".to_vec(),
        init: Vec::new(),
        fee: 5,
        nonce: 0,
    };
    let deploy = contract_ops(&dev1, deploy_tx);
    let call_tx = Transaction::Call {
        token: TokenId::Gcc,
        value: 0,
        from: account(1),
        contract: ghostplane_primitives::ContractAddress([3; 32]),
        input: vec![],
        fuel_limit: 1_000,
        fee: 5,
        nonce: 0,
    };
    let call = contract_ops(&dev1, call_tx);
    let transfer_tx = Transaction::Transfer {
        from: account(0),
        to: ghostplane_primitives::Recipient::Account(account(1)),
        token: TokenId::Gcc,
        amount: 50,
        fee: 1,
        nonce: 0,
    };
    let transfer = PubdataOp::Transfer {
        from: account(0),
        to: account(1),
        token: TokenId::Gcc,
        amount: 50,
        fee: 1,
        signature: dev0.sign(L2, transfer_tx).signature,
    };
    let trace = call[1].clone();
    let commit = |ops: &[PubdataOp], chunk_count: u32| first_commit(ops, 1, chunk_count);
    // The chunk count the honest commit of `ops` needs.
    let chunks = |tree: &mut AccountTree, backend: &dyn ProofBackend, ops: &[PubdataOp]| {
        Merkleizer::new(tree, backend, L2)
            .build_batch(BatchNumber(1), AccountId::ZERO, ops)
            .unwrap()
            .len() as u32
    };

    // Groth16 (a scope: `tree` and `node` are the helpers' names outside it).
    {
        let dir = tempfile::tempdir().unwrap();
        let backend = groth16();
        let mut tree = tree(dir.path(), backend.as_ref());
        let node = node(
            dir.path(),
            &genesis(tree.root().unwrap(), 100, backend.as_ref()),
        );
        let before = node.read(rollup::status).unwrap();
        let accounts_before = node.read(|s| rollup::l2_account(s, account(1))).unwrap();
        let cases = [
            (deploy.clone(), 0, "deploy"),
            ([vec![transfer.clone()], call].concat(), 1, "call"),
            (vec![transfer.clone(), trace], 1, "contract trace"),
        ];
        for (ops, index, kind) in cases {
            match node.submit(sign(&operator(), &node, commit(&ops, 1))) {
                Err(SubmitError::Refused(e)) => {
                    assert_eq!(e.code(), 29, "{e}");
                    assert!(
                        matches!(
                            &e,
                            ghostd::modules::CallError::Rollup(rollup::RollupError::ContractsUnsupported { op, what })
                                if *op == index && *what == kind
                        ),
                        "{e}"
                    );
                    assert!(
                        e.to_string()
                            .contains("contract transactions need the STARK backend"),
                        "{e}"
                    );
                }
                other => panic!("{kind}: {other:?}"),
            }
        }
        assert_eq!(node.read(rollup::status).unwrap(), before);
        assert_eq!(
            node.read(|s| rollup::l2_account(s, account(1))).unwrap(),
            accounts_before
        );
        // Native transfers: still the development backend's business.
        let native = chunks(&mut tree, backend.as_ref(), std::slice::from_ref(&transfer));
        assert_eq!(
            run(&node, sign(&operator(), &node, commit(&[transfer], native))),
            L1Outcome::Success
        );
        assert_eq!(node.read(rollup::status).unwrap().committed, 1);
    }

    // STARK: the same deploy passes the check and commits.
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let mut tree = tree(dir.path(), backend.as_ref());
    let node = node(
        dir.path(),
        &genesis(tree.root().unwrap(), 100, backend.as_ref()),
    );
    let count = chunks(&mut tree, backend.as_ref(), &deploy);
    assert_eq!(
        run(&node, sign(&operator(), &node, commit(&deploy, count))),
        L1Outcome::Success
    );
    let status = node.read(rollup::status).unwrap();
    assert_eq!(status.committed, 1);
    assert_eq!(
        node.read(|s| rollup::l2_account(s, account(1)))
            .unwrap()
            .map(|a| a.nonce),
        Some(1)
    );
}

#[test]
fn parked_transactions_expire_and_operators_keep_room() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(
        FieldBytes::from_bytes([0; 32]).unwrap(),
        100,
        stark().as_ref(),
    );
    let mut config = GhostdConfig::new(dir.path().to_path_buf());
    // Two places for everyone, the rest reserved for rollup operators.
    config.mempool_max = ghostd::node::MEMPOOL_OPERATOR_RESERVED + 2;
    let clock = ghostplane_primitives::clock::ManualClock::new(1_700_000_000_000);
    config.clock = clock.clone();
    let node = Ghostd::open(config, &genesis).unwrap();
    let dev0 = Keypair::dev(0);
    let at = |key: &Keypair, nonce: u64, call: Call| {
        L1Transaction {
            chain_id: L1_DEVNET_CHAIN_ID,
            from: key.public_key(),
            nonce,
            call,
        }
        .sign(key)
    };
    let friend = l1(&Keypair::dev(1));
    // Nonces 1 and 2 wait for nonce 0, which never comes: they fill the open room.
    let parked: Vec<_> = (1..=2)
        .map(|nonce| {
            node.submit(at(&dev0, nonce, transfer(nonce.into(), friend, 1)))
                .unwrap()
        })
        .collect();
    let full = node.submit(at(&dev0, 3, transfer(3, friend, 1)));
    assert!(matches!(full, Err(SubmitError::MempoolFull(2))), "{full:?}");
    let other = node.submit(sign(&Keypair::dev(2), &node, transfer(9, friend, 1)));
    assert!(
        matches!(other, Err(SubmitError::MempoolFull(2))),
        "{other:?}"
    );
    // The operator still gets in (a gapped nonce skips the dry run; what matters
    // here is the room).
    node.submit(at(&operator(), 1, transfer(10, friend, 1)))
        .unwrap();
    // Parked entries wait in time, not blocks: many short blocks drop none (a solo
    // node with 20 ms blocks must not drop what waits a few seconds for its gap).
    for _ in 0..200 {
        clock.advance(std::time::Duration::from_millis(20));
        node.seal().unwrap();
    }
    for hash in &parked {
        assert!(
            node.is_pending(hash),
            "a parked transaction expired by block count"
        );
    }
    // They give their room back after PARKED_MS_MAX, and are forgotten (no receipt
    // ever comes).
    clock.advance(std::time::Duration::from_millis(
        ghostd::node::PARKED_MS_MAX,
    ));
    node.seal().unwrap();
    for hash in &parked {
        assert!(!node.is_pending(hash));
        assert!(node.receipt(hash).unwrap().is_none());
    }
    assert_eq!(
        run(
            &node,
            sign(&Keypair::dev(2), &node, transfer(11, friend, 1))
        ),
        L1Outcome::Success
    );
    // The expired nonces can be sent again once their gap is filled.
    assert_eq!(
        run(&node, at(&dev0, 0, transfer(12, friend, 1))),
        L1Outcome::Success
    );
    assert_eq!(
        run(&node, at(&dev0, 1, transfer(13, friend, 1))),
        L1Outcome::Success
    );
}

/// One random op of the cutting proptest: `(kind, sender, fee)`. `kind` picks
/// every pubdata op kind: 0 transfer (to the other genesis account), 1 transfer to
/// a new account, 2 deposit to a new key, 3 deposit to genesis account 1,
/// 4 withdrawal, 5 fee-only (a contract call), 6 storage write (no slot).
type RandomOp = (u8, u32, u128);

/// The op kinds a [`RandomOp`] picks from.
const RANDOM_OP_KINDS: u8 = 7;

/// Signed ops of every kind, the two genesis accounts as senders (the fee account
/// 0 among them, so segments also close early), each sender's nonces in order,
/// created accounts numbered from 2. Also returns the deposits to queue on the L1
/// first, in queue order: `(recipient, amount)`.
fn signed_ops(plan: &[RandomOp]) -> (Vec<PubdataOp>, Vec<(PublicKey, u128)>) {
    let mut nonces = [0u64; 2];
    let mut next_account = 2u32;
    let mut deposits = Vec::new();
    let ops = plan
        .iter()
        .enumerate()
        .flat_map(|(i, &(kind, from, fee))| {
            let key = Keypair::dev(from);
            let from_id = AccountId::new(from).unwrap();
            let fresh = Keypair::from_seed(&[u8::try_from(i).unwrap() + 100; 32]).public_key();
            let mut new_account = || {
                let id = AccountId::new(next_account).unwrap();
                next_account += 1;
                id
            };
            let mut deposit = |to: AccountId, to_key: PublicKey| {
                deposits.push((to_key, 4));
                PubdataOp::Deposit {
                    queue_index: deposits.len() as u64 - 1,
                    to,
                    to_key,
                    token: TokenId::Spirit,
                    amount: 4,
                }
            };
            match kind {
                2 => return vec![deposit(new_account(), fresh)],
                3 => {
                    return vec![deposit(
                        AccountId::new(1).unwrap(),
                        Keypair::dev(1).public_key(),
                    )];
                }
                _ => {}
            }
            let nonce = nonces[from as usize];
            nonces[from as usize] += 1;
            match kind {
                0 | 1 => {
                    let (to, recipient) = if kind == 0 {
                        let to = AccountId::new(1 - from).unwrap();
                        (to, ghostplane_primitives::Recipient::Account(to))
                    } else {
                        (
                            new_account(),
                            ghostplane_primitives::Recipient::NewAccount(fresh),
                        )
                    };
                    let tx = Transaction::Transfer {
                        from: from_id,
                        to: recipient,
                        token: TokenId::Gcc,
                        amount: 5,
                        fee,
                        nonce,
                    };
                    let signature = key.sign(L2, tx).signature;
                    vec![if kind == 0 {
                        PubdataOp::Transfer {
                            from: from_id,
                            to,
                            token: TokenId::Gcc,
                            amount: 5,
                            fee,
                            signature,
                        }
                    } else {
                        PubdataOp::TransferToNew {
                            from: from_id,
                            to,
                            to_key: fresh,
                            token: TokenId::Gcc,
                            amount: 5,
                            fee,
                            signature,
                        }
                    }]
                }
                4 => {
                    let to = l1(&Keypair::from_seed(&[7; 32]));
                    let tx = Transaction::Withdraw {
                        from: from_id,
                        to,
                        token: TokenId::Spirit,
                        amount: 3,
                        fee,
                        nonce,
                    };
                    vec![PubdataOp::Withdraw {
                        from: from_id,
                        to,
                        token: TokenId::Spirit,
                        amount: 3,
                        fee,
                        signature: key.sign(L2, tx).signature,
                    }]
                }
                5 => {
                    // A failed native transfer: fee and nonce only. The operator
                    // may charge up to the signed maximum.
                    let tx = Transaction::Transfer {
                        from: from_id,
                        to: ghostplane_primitives::Recipient::Account(
                            AccountId::new(1 - from).unwrap(),
                        ),
                        token: TokenId::Mana,
                        amount: u128::MAX,
                        fee: fee + 1,
                        nonce,
                    };
                    vec![PubdataOp::FeeOnly {
                        fee_paid: fee,
                        signature: key.sign(L2, tx.clone()).signature,
                        tx,
                    }]
                }
                _ => {
                    // A contract call (to no contract: it fails), with its trace,
                    // as the executor makes them.
                    let tx = Transaction::Call {
                        token: TokenId::Gcc,
                        value: 0,
                        from: from_id,
                        contract: ghostplane_primitives::ContractAddress([3; 32]),
                        input: vec![],
                        fuel_limit: 5_000,
                        fee: 5_000 + fee,
                        nonce,
                    };
                    contract_ops(&key, tx)
                }
            }
        })
        .collect();
    (ops, deposits)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 12,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// The L1 cuts a committed batch into the segments the merkleizer cut (one rule,
    /// `ghostplane_prover::Cutter`), builds the same slots (one rule,
    /// `ChunkOp::from_pubdata`) and rebuilds the same commitment for each, for
    /// random sequences of every op kind in which the fee account also spends.
    #[test]
    fn the_l1_cuts_and_commits_segments_as_the_merkleizer_does(
        plan in proptest::collection::vec((0u8..RANDOM_OP_KINDS, 0u32..2, 0u128..3), 0..24),
        slots in proptest::sample::select(vec![2usize, 4, 8]),
    ) {
        let backend: Arc<dyn ProofBackend> =
            Arc::new(StarkBackend::new(FriSettings::SETTLEMENT, slots).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let mut tree = tree(dir.path(), backend.as_ref());
        let genesis = genesis(tree.root().unwrap(), 100, backend.as_ref());
        let node = node(dir.path(), &genesis);
        let (ops, deposits) = signed_ops(&plan);
        for (recipient, amount) in deposits {
            let queued = run(&node, sign(&Keypair::dev(2), &node, deposit_call(recipient, amount)));
            proptest::prop_assert_eq!(queued, L1Outcome::Success);
        }
        let jobs = Merkleizer::new(&mut tree, backend.as_ref(), L2)
            .build_batch(BatchNumber(1), AccountId::ZERO, &ops)
            .unwrap();
        let commit = Call::Rollup(RollupCall::Commit(BatchCommit {
            number: 1,
            first_block: 1,
            last_block: 1,
            fee_account: AccountId::ZERO,
            pubdata: encode_pubdata(&ops).unwrap(),
            new_root: tree.root().unwrap(),
            chunk_count: jobs.len() as u32,
        }));
        proptest::prop_assert_eq!(run(&node, sign(&operator(), &node, commit)), L1Outcome::Success);
        let record = node.read(|s| rollup::batch(s, 1)).unwrap().unwrap();
        let expected: Vec<(FieldBytes, u32)> = jobs
            .iter()
            .map(|j| (j.statement.commitment, j.statement.slots))
            .collect();
        let rebuilt: Vec<(FieldBytes, u32)> =
            record.commitments.into_iter().zip(record.slots).collect();
        proptest::prop_assert_eq!(rebuilt, expected);
    }
}

/// The mempool's lanes: one transaction per nonce, parked ones released in nonce
/// order once the gap fills, all in the next block.
#[test]
fn one_transaction_per_nonce_released_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(
        FieldBytes::from_bytes([0; 32]).unwrap(),
        100,
        stark().as_ref(),
    );
    let node = node(dir.path(), &genesis);
    let dev0 = Keypair::dev(0);
    let friend = l1(&Keypair::dev(1));
    let at = |nonce: u64, id: u128| {
        L1Transaction {
            chain_id: L1_DEVNET_CHAIN_ID,
            from: dev0.public_key(),
            nonce,
            call: transfer(id, friend, 1),
        }
        .sign(&dev0)
    };
    let two = node.submit(at(2, 2)).unwrap();
    let one = node.submit(at(1, 1)).unwrap();
    assert!(matches!(
        node.submit(at(1, 11)),
        Err(SubmitError::NoncePending(1))
    ));
    let zero = node.submit(at(0, 10)).unwrap();
    assert!(matches!(
        node.submit(at(0, 12)),
        Err(SubmitError::NoncePending(0))
    ));
    assert_eq!(node.mempool_len(), 3);
    let header = node.seal().unwrap();
    assert_eq!(node.mempool_len(), 0);
    for (index, hash) in [zero, one, two].iter().enumerate() {
        let receipt = node.receipt(hash).unwrap().unwrap();
        assert_eq!(
            (receipt.block, receipt.index),
            (header.number, index as u32)
        );
        assert_eq!(receipt.outcome, L1Outcome::Success);
    }
}

// ---- Contract transactions re-executed at commit --------------------------------

/// An L2 executor over the same genesis as the L1's rollup (`l2_leaves`), at the
/// prices the L1 genesis fixes (the defaults).
struct L2Chain {
    _dir: tempfile::TempDir,
    executor: ghostplane_executor::Executor,
    block: u64,
}

impl L2Chain {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = ghostplane_executor::ExecutorConfig {
            threads: 1,
            ..Default::default()
        };
        let mut executor = ghostplane_executor::Executor::open(dir.path(), config).unwrap();
        executor
            .genesis(dev_l2_genesis(2, [FUNDS; 4]), 1_000)
            .unwrap();
        Self {
            _dir: dir,
            executor,
            block: 1,
        }
    }

    /// Executes and commits one block of `txs` (from account 1, signed by dev 1);
    /// returns its pubdata ops.
    fn block(&mut self, txs: Vec<Transaction>) -> Vec<PubdataOp> {
        let items = txs
            .into_iter()
            .map(|tx| ghostplane_executor::BlockItem::transaction(Keypair::dev(1).sign(L2, tx)))
            .collect();
        let input = ghostplane_executor::BlockInput {
            number: ghostplane_primitives::BlockNumber(self.block),
            timestamp_ms: 1_000 + self.block * 100,
            fee_account: AccountId::ZERO,
            items,
        };
        let output = self.executor.execute(&input).unwrap();
        assert!(output.dropped.is_empty(), "{:?}", output.dropped);
        self.executor.commit(&output).unwrap();
        self.block += 1;
        output.ops
    }
}

fn example_contract(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../l2/executor/contracts/{name}.wat",
        env!("CARGO_MANIFEST_DIR")
    );
    wat::parse_file(&path).unwrap()
}

fn deploy_tx(code: Vec<u8>, nonce: u64) -> Transaction {
    Transaction::Deploy {
        token: TokenId::Gcc,
        value: 0,
        from: AccountId::new(1).unwrap(),
        code,
        init: Vec::new(),
        fee: 500_000,
        nonce,
    }
}

fn call_tx(
    contract: ghostplane_primitives::ContractAddress,
    input: Vec<u8>,
    nonce: u64,
) -> Transaction {
    Transaction::Call {
        token: TokenId::Gcc,
        value: 0,
        from: AccountId::new(1).unwrap(),
        contract,
        input,
        fuel_limit: 100_000,
        fee: 100_000,
        nonce,
    }
}

/// A relay's input: call `target` with all the fuel it may forward.
fn relay(target: ghostplane_primitives::ContractAddress) -> Vec<u8> {
    [&target.0[..], &u64::MAX.to_le_bytes(), &[0u8]].concat()
}

/// Two blocks of contract transactions from account 1, run by a real executor:
/// deploys of `first_code` (nonce 0: the "counter" address), the relay (nonce 1) and
/// a contract that writes then reverts (nonce 2); then the relay calling the counter
/// and the relay calling the reverting contract.
fn contract_batch(first_code: Vec<u8>) -> Vec<PubdataOp> {
    let from = AccountId::new(1).unwrap();
    let counter = ghostplane_primitives::tx::contract_address(from, 0);
    let relay_at = ghostplane_primitives::tx::contract_address(from, 1);
    let reverter = ghostplane_primitives::tx::contract_address(from, 2);
    let reverts = wat::parse_str(
        r#"(module
            (import "env" "storage_write" (func $w (param i32 i32 i32)))
            (import "env" "revert" (func $r (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05")
            (func (export "call") (call $w (i32.const 0) (i32.const 0) (i32.const 4)) (call $r (i32.const 0) (i32.const 1))))"#,
    )
    .unwrap();
    let mut l2 = L2Chain::new();
    let mut ops = l2.block(vec![
        deploy_tx(first_code, 0),
        deploy_tx(example_contract("relay"), 1),
        deploy_tx(reverts, 2),
    ]);
    ops.extend(l2.block(vec![
        call_tx(relay_at, relay(counter), 3),
        call_tx(relay_at, relay(reverter), 4),
    ]));
    ops
}

/// The index of the `n`-th contract trace of `ops`.
fn nth_trace(ops: &[PubdataOp], n: usize) -> usize {
    ops.iter()
        .enumerate()
        .filter(|(_, op)| matches!(op, PubdataOp::ContractTrace(_)))
        .nth(n)
        .unwrap()
        .0
}

fn trace_mut(ops: &mut [PubdataOp], at: usize) -> &mut ghostplane_primitives::ContractTrace {
    match &mut ops[at] {
        PubdataOp::ContractTrace(trace) => trace,
        other => panic!("{other:?}"),
    }
}

/// Every L1 validator re-executes each deploy and call of a committed batch: the
/// honest batch (a relay calling a counter, and calling a contract that writes and
/// reverts) commits and records the deployed code; a batch whose traces differ from
/// what the code does is refused naming the transaction, and changes nothing.
#[test]
fn contract_transactions_are_re_executed_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let mut tree = tree(dir.path(), backend.as_ref());
    let honest = completed(&mut tree, &contract_batch(example_contract("counter")));
    let swapped = completed(&mut tree, &contract_batch(example_contract("registry")));
    let node = node(
        dir.path(),
        &genesis(tree.root().unwrap(), 100, backend.as_ref()),
    );
    let commit = |ops: &[PubdataOp], chunk_count: u32| first_commit(ops, 2, chunk_count);
    let refused_raw = |ops: &[PubdataOp]| -> rollup::RollupError {
        match node.submit(sign(&operator(), &node, commit(ops, 1))) {
            Err(SubmitError::Refused(ghostd::modules::CallError::Rollup(e))) => e,
            other => panic!("{other:?}"),
        }
    };
    // Forgeries of traces come with the storage proofs an operator would post.
    let mut refused = |ops: &[PubdataOp]| -> rollup::RollupError {
        let ops = completed(&mut tree, ops);
        refused_raw(&ops)
    };
    let before = node.read(rollup::status).unwrap();
    let call_counter = nth_trace(&honest, 3) - 1; // the relay calling the counter
    let call_reverter = nth_trace(&honest, 4) - 1;

    let differs = |op: usize, what: &str, e: rollup::RollupError| {
        assert_eq!(e.code(), 33, "{e}");
        assert!(
            matches!(&e, rollup::RollupError::Reexecution { op: o, reason } if *o == op && reason.contains(what)),
            "{e}"
        );
    };
    let from = AccountId::new(1).unwrap();
    let counter = ghostplane_primitives::tx::contract_address(from, 0);
    // A storage write the code did not make (its storage proof in order: the
    // re-execution refuses it).
    let mut ops = honest.clone();
    trace_mut(&mut ops, call_counter + 1)
        .writes
        .push(ghostplane_primitives::StorageSlot {
            contract: counter,
            key: ghostplane_primitives::Hash32([7; 32]),
            value: Some(vec![1]),
        });
    differs(call_counter, "storage writes", refused(&ops));
    // A read value, or an absence, that differs from the state: the storage
    // proof shows the tree's (the counter's and the relay's slots were absent),
    // so the commit check refuses it before any re-execution (code 40).
    for contract in [
        counter,
        ghostplane_primitives::tx::contract_address(from, 1),
    ] {
        let mut ops = honest.clone();
        let reads = &mut trace_mut(&mut ops, call_counter + 1).reads;
        let slot = reads.iter_mut().find(|r| r.contract == contract).unwrap();
        assert_eq!(slot.value, None);
        slot.value = Some(5u64.to_le_bytes().to_vec());
        let e = refused(&ops);
        assert_eq!(e.code(), 40, "{e}");
        assert!(
            matches!(&e, rollup::RollupError::StorageProof { op, reason }
                if *op == call_counter + 2 && reason.contains("does not hold")),
            "{e}"
        );
    }
    // A sub-call's writes kept after it failed (the reverting contract's).
    let mut ops = honest.clone();
    trace_mut(&mut ops, call_reverter + 1)
        .writes
        .push(ghostplane_primitives::StorageSlot {
            contract: ghostplane_primitives::tx::contract_address(from, 2),
            key: ghostplane_primitives::Hash32([5; 32]),
            value: Some(vec![5; 4]),
        });
    differs(call_reverter, "storage writes", refused(&ops));
    // Events and outcome.
    let mut ops = honest.clone();
    trace_mut(&mut ops, call_counter + 1).events.clear();
    differs(call_counter, "events", refused(&ops));
    let mut ops = honest.clone();
    trace_mut(&mut ops, call_counter + 1).status = ghostplane_primitives::ReceiptStatus::Failed(
        ghostplane_primitives::FailureReason::Revert(vec![]),
    );
    differs(call_counter, "outcome", refused(&ops));
    // A posted fee other than what the run costs.
    let mut ops = honest.clone();
    if let PubdataOp::FeeOnly { fee_paid, .. } | PubdataOp::ContractTx { fee_paid, .. } =
        &mut ops[call_counter]
    {
        *fee_paid -= 1;
    }
    differs(call_counter, "fee charged", refused(&ops));
    // Code swapped after deploy: the calls ran against other code at the
    // counter's address than the deploy in this pubdata.
    let at = nth_trace(&honest, 2) + 2; // the first op of block 2 (after a proof)
    let ops = [&honest[..at], &swapped[at..]].concat();
    let e = refused(&ops);
    assert!(
        matches!(&e, rollup::RollupError::Reexecution { op, .. } if *op == call_counter),
        "{e}"
    );
    // Shape: a missing trace (the batch ends at the call: no proof, no tail), a
    // stray one, one outside the batch's blocks.
    let mut ops = honest.clone();
    ops.truncate(call_counter + 1);
    let e = refused_raw(&ops);
    assert!(
        matches!(e, rollup::RollupError::ContractTraceMissing { op } if op == call_counter),
        "{e}"
    );
    let mut ops = honest.clone();
    let stray = ops[call_counter + 1].clone();
    ops.insert(0, stray);
    assert!(matches!(
        refused(&ops),
        rollup::RollupError::ContractTraceStray { op: 0 }
    ));
    let mut ops = honest.clone();
    trace_mut(&mut ops, call_counter + 1).block = ghostplane_primitives::BlockNumber(9);
    assert!(matches!(
        refused(&ops),
        rollup::RollupError::ContractTraceOrder { .. }
    ));
    assert_eq!(
        node.read(rollup::status).unwrap(),
        before,
        "nothing changed"
    );

    // The honest batch commits, and the L1 records what was deployed.
    let jobs = Merkleizer::new(&mut tree, backend.as_ref(), L2)
        .build_batch(BatchNumber(1), AccountId::ZERO, &honest)
        .unwrap();
    assert_eq!(
        run(
            &node,
            sign(&operator(), &node, commit(&honest, jobs.len() as u32))
        ),
        L1Outcome::Success
    );
    let hash = node
        .read(|s| rollup::contract_record(s, &counter))
        .unwrap()
        .map(|(hash, _)| hash);
    assert_eq!(
        hash,
        Some(ghostplane_primitives::tx::code_hash(&example_contract(
            "counter"
        )))
    );
}

/// Storage proofs and the `ContractKey` tail at commit (issue 36, design B): the
/// honest contract batch commits, the L1 then tracks the counter's storage root and
/// its leaf's key field as the prover's tree has them. Refused, changing nothing:
/// a step for another key or a read value the tree does not hold, even with a
/// matching step (40); a write to a contract that is not deployed (40); a proof
/// missing or stray (41); the tail missing, with a wrong key field (a code hash
/// changed, a byte flipped), naming a contract whose root did not change, or
/// followed by another op (42).
#[test]
fn storage_proofs_and_contract_keys_are_checked_at_commit() {
    use ghostplane_primitives::{CompactPath, Hash32, SlotLeaf, SlotStep, StorageSlot};
    use ghostplane_prover::storage_trees::contract_leaf_key;
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let mut tree = tree(dir.path(), backend.as_ref());
    let raw = contract_batch(example_contract("counter"));
    let honest = completed(&mut tree, &raw);
    let from = AccountId::new(1).unwrap();
    let counter = ghostplane_primitives::tx::contract_address(from, 0);
    let call_counter = nth_trace(&honest, 3) - 1;
    let proof_at = call_counter + 2;
    assert!(matches!(honest[proof_at], PubdataOp::StorageProof(_)));
    let PubdataOp::ContractTx { contract, .. } = honest[0] else {
        panic!("{:?}", honest[0]);
    };
    let reverter = match honest[nth_trace(&honest, 2) - 1] {
        PubdataOp::ContractTx { contract, .. } => contract,
        ref other => panic!("{other:?}"),
    };
    // The tail re-keys the counter (and the relay, if its storage changed).
    let tail_at = honest
        .iter()
        .position(|op| matches!(op, PubdataOp::ContractKey { contract: c, .. } if *c == contract))
        .unwrap();
    let PubdataOp::ContractKey { key, .. } = honest[tail_at] else {
        unreachable!()
    };
    // The counter's storage root after the batch, as the prover's trees have it.
    tree.storage().complete(&raw).unwrap();
    let root = tree.storage().root(contract).unwrap();
    tree.discard();
    assert_eq!(
        key,
        contract_leaf_key(
            &counter,
            &ghostplane_primitives::tx::code_hash(&example_contract("counter")),
            &root
        )
    );
    let node = node(
        dir.path(),
        &genesis(tree.root().unwrap(), 100, backend.as_ref()),
    );
    let refused = |ops: &[PubdataOp], code: u16, op: usize, what: &str| match node.submit(sign(
        &operator(),
        &node,
        first_commit(ops, 2, 1),
    )) {
        Err(SubmitError::Refused(ghostd::modules::CallError::Rollup(e))) => {
            assert_eq!(e.code(), code, "{e}");
            let at = match &e {
                rollup::RollupError::StorageProof { op, .. }
                | rollup::RollupError::StorageProofPlacement { op, .. }
                | rollup::RollupError::ContractKey { op, .. } => *op,
                other => panic!("{other}"),
            };
            assert_eq!(at, op, "{e}");
            assert!(e.to_string().contains(what), "{e}");
        }
        other => panic!("{other:?}"),
    };
    fn proof_mut(ops: &mut [PubdataOp], at: usize) -> &mut ghostplane_primitives::StorageProof {
        match &mut ops[at] {
            PubdataOp::StorageProof(proof) => proof,
            other => panic!("{other:?}"),
        }
    }
    let before = node.read(rollup::status).unwrap();

    // A step for another key than the trace's.
    let mut ops = honest.clone();
    proof_mut(&mut ops, proof_at).steps[0].key[0] ^= 1;
    refused(&ops, 40, proof_at, "another key");
    // A read value the tree does not hold, with the step's old leaf forged to
    // match it: the path no longer reaches the root.
    let mut ops = honest.clone();
    let read = trace_mut(&mut ops, call_counter + 1)
        .reads
        .iter()
        .position(|r| r.contract == counter)
        .unwrap();
    trace_mut(&mut ops, call_counter + 1).reads[read].value = Some(vec![5; 8]);
    proof_mut(&mut ops, proof_at).steps[read].old = SlotLeaf::Present(vec![5; 8]);
    refused(&ops, 40, proof_at, "does not reach the storage root");
    // A write to an address where no contract is deployed.
    let mut ops = honest.clone();
    let nowhere = ghostplane_primitives::ContractAddress([7; 32]);
    trace_mut(&mut ops, call_counter + 1)
        .writes
        .push(StorageSlot {
            contract: nowhere,
            key: Hash32([7; 32]),
            value: Some(vec![1]),
        });
    proof_mut(&mut ops, proof_at).steps.push(SlotStep {
        key: [7; 32],
        old: SlotLeaf::Absent,
        path: CompactPath::default(),
    });
    refused(&ops, 40, proof_at, "not a deployed contract");
    // No proof (the batch ends at the trace), and a stray one.
    refused(
        &honest[..proof_at],
        41,
        call_counter,
        "not followed by its storage proof",
    );
    let mut ops = honest.clone();
    ops.insert(0, PubdataOp::StorageProof(Box::default()));
    refused(&ops, 41, 0, "does not end a contract transaction");
    // The tail: missing, a flipped byte, another code hash, a contract whose
    // root did not change, an op after it.
    let n = honest.len();
    refused(&honest[..n - 1], 42, n - 1, "has no ContractKey op");
    let rekeyed = |key: PublicKey| {
        let mut ops = honest.clone();
        ops[tail_at] = PubdataOp::ContractKey { contract, key };
        ops
    };
    let mut flipped = key;
    flipped.0[31] ^= 1;
    refused(&rekeyed(flipped), 42, tail_at, "not its storage root's");
    let other_code = ghostplane_primitives::tx::code_hash(&example_contract("registry"));
    let swapped = contract_leaf_key(&counter, &other_code, &root);
    refused(&rekeyed(swapped), 42, tail_at, "not its storage root's");
    let mut ops = honest.clone();
    ops.push(PubdataOp::ContractKey {
        contract: reverter,
        key,
    });
    refused(&ops, 42, n, "unchanged");
    let mut ops = honest.clone();
    ops.push(ops[proof_at].clone());
    refused(&ops, 42, n, "after the batch's ContractKey ops");
    assert_eq!(
        node.read(rollup::status).unwrap(),
        before,
        "nothing changed"
    );

    // The honest batch commits; the L1 tracks the counter's root and key field,
    // which the merkleized tree's leaf holds too.
    let jobs = Merkleizer::new(&mut tree, backend.as_ref(), L2)
        .build_batch(BatchNumber(1), AccountId::ZERO, &honest)
        .unwrap();
    assert_eq!(
        run(
            &node,
            sign(
                &operator(),
                &node,
                first_commit(&honest, 2, jobs.len() as u32)
            )
        ),
        L1Outcome::Success
    );
    let tracked = node
        .read(|s| rollup::storage::contract_storage(s, &counter))
        .unwrap()
        .unwrap();
    assert_eq!(tracked.account, contract.get());
    assert_eq!(tracked.root, ghostplane_stark::wire::pack_digest(&root));
    let account = node
        .read(|s| rollup::l2_account(s, contract))
        .unwrap()
        .unwrap();
    assert_eq!(account.key, key);
    assert_eq!(tree.leaf(contract).unwrap().unwrap().public_key, key);
}

/// A call of `contract` from account 1 moving `value` to it.
fn value_call(
    contract: ghostplane_primitives::ContractAddress,
    input: Vec<u8>,
    value: (TokenId, u128),
    nonce: u64,
) -> Transaction {
    // A swap pays a move and loads a larger module than the counter: more fuel.
    Transaction::Call {
        from: AccountId::new(1).unwrap(),
        contract,
        input,
        fuel_limit: 200_000,
        token: value.0,
        value: value.1,
        fee: 200_000,
        nonce,
    }
}

/// Contracts hold and move tokens under the L1's re-execution: the honest batch (an
/// AMM deployed, funded by calls with value, and a swap paying out by a contract
/// move) commits, and its merkleizer proves the same moves as transfers. Forged
/// moves are refused: a move the code did not make (code 33), a move from a user's
/// account or outside a contract transaction (36), a transaction signed from a
/// contract's account (35), a balance the trace misreports (33).
#[test]
fn contract_value_moves_are_re_executed_and_forgeries_refused() {
    let from = AccountId::new(1).unwrap();
    let amm = ghostplane_primitives::tx::contract_address(from, 0);
    let mut l2 = L2Chain::new();
    let mut deploy = deploy_tx(example_contract("amm"), 0);
    if let Transaction::Deploy { init, .. } = &mut deploy {
        *init = vec![TokenId::Spirit.id(), TokenId::Mana.id()];
    }
    let mut honest = l2.block(vec![
        deploy,
        value_call(amm, vec![1], (TokenId::Spirit, 100_000), 1),
        value_call(amm, vec![1], (TokenId::Mana, 100_000), 2),
    ]);
    let mut swap = vec![2];
    swap.extend_from_slice(&1u64.to_le_bytes());
    honest.extend(l2.block(vec![value_call(amm, swap, (TokenId::Spirit, 1_000), 3)]));
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let mut tree = tree(dir.path(), backend.as_ref());
    let honest = completed(&mut tree, &honest);
    let pool = match honest[0] {
        PubdataOp::ContractTx { contract, .. } => contract,
        ref other => panic!("{other:?}"),
    };
    let swap_at = nth_trace(&honest, 3) - 1;
    let move_at = swap_at + 2;
    let PubdataOp::ContractMove {
        to, token, amount, ..
    } = honest[move_at].clone()
    else {
        panic!("{:?}", honest[move_at]);
    };
    assert_eq!((to, token), (from, TokenId::Mana));
    assert!(amount > 0);

    let node = node(
        dir.path(),
        &genesis(tree.root().unwrap(), 100, backend.as_ref()),
    );
    // Forgeries come with the storage proofs an operator would post for them.
    let mut refused = |ops: &[PubdataOp]| -> rollup::RollupError {
        let ops = completed(&mut tree, ops);
        match node.submit(sign(&operator(), &node, first_commit(&ops, 2, 1))) {
            Err(SubmitError::Refused(ghostd::modules::CallError::Rollup(e))) => e,
            other => panic!("{other:?}"),
        }
    };
    let before = node.read(rollup::status).unwrap();
    // The pool pays out more than the code did, or pays twice.
    let mut ops = honest.clone();
    if let PubdataOp::ContractMove { amount, .. } = &mut ops[move_at] {
        *amount += 1;
    }
    let e = refused(&ops);
    assert!(
        matches!(&e, rollup::RollupError::Reexecution { op, reason } if *op == swap_at && reason.contains("token moves")),
        "{e}"
    );
    let mut ops = honest.clone();
    ops.insert(move_at, ops[move_at].clone());
    assert_eq!(refused(&ops).code(), 33);
    // A move the operator adds after another transaction's trace: after the
    // deploy's, the pool holds nothing yet (an overdraft, refused before any
    // re-execution); after the first liquidity call's, it holds the SPIRIT, and
    // re-execution finds its code made no move.
    let mut ops = honest.clone();
    ops.insert(2, honest[move_at].clone());
    assert_eq!(refused(&ops).code(), 38);
    // (The batch ends there: a later read of the pool's SPIRIT would be refused
    // first, code 37, as the L1 tracks the stray move's debit.)
    let after_liquidity = nth_trace(&honest, 1) + 1;
    let mut ops = honest[..after_liquidity].to_vec();
    ops.insert(
        after_liquidity,
        PubdataOp::ContractMove {
            from: pool,
            to: from,
            token: TokenId::Spirit,
            amount: 1,
        },
    );
    let e = refused(&ops);
    assert!(
        matches!(&e, rollup::RollupError::Reexecution { op, reason } if *op == after_liquidity - 2 && reason.contains("token moves")),
        "{e}"
    );
    // A move at the head of the batch, and a move from a user's account.
    let mut ops = honest.clone();
    ops.insert(0, honest[move_at].clone());
    assert!(matches!(
        refused(&ops),
        rollup::RollupError::ContractMoveStray { op: 0 }
    ));
    let mut ops = honest.clone();
    if let PubdataOp::ContractMove {
        from: payer, to, ..
    } = &mut ops[move_at]
    {
        *payer = from;
        *to = pool;
    }
    assert!(matches!(
        refused(&ops),
        rollup::RollupError::ContractMoveStray { op } if op == move_at
    ));
    // A transfer signed "by" the pool's account.
    let mut ops = honest.clone();
    ops.push(PubdataOp::Transfer {
        from: pool,
        to: from,
        token: TokenId::Spirit,
        amount: 1,
        fee: 1,
        signature: ghostplane_primitives::Signature([0; 64]),
    });
    assert!(matches!(
        refused(&ops),
        rollup::RollupError::ContractSender { account, .. } if account == pool
    ));
    // The swap's trace claims the pool held more: the code pays another amount.
    let mut ops = honest.clone();
    let balances = &mut trace_mut(&mut ops, swap_at + 1).balances;
    let read = balances
        .iter_mut()
        .find(|read| read.account == pool && read.token == TokenId::Mana)
        .unwrap();
    let held = read.amount;
    read.amount *= 2;
    let e = refused(&ops);
    assert!(
        matches!(
            e,
            rollup::RollupError::ContractBalanceRead { op, account, token, posted, tracked }
                if op == swap_at && account == pool && token == TokenId::Mana
                    && posted == 2 * held && tracked == held
        ),
        "{e}"
    );
    // The pool moves more than it holds (checked before any re-execution).
    let mut ops = honest.clone();
    if let PubdataOp::ContractMove { amount, .. } = &mut ops[move_at] {
        *amount = held + 1;
    }
    let e = refused(&ops);
    assert!(
        matches!(
            e,
            rollup::RollupError::ContractOverdraft { op, account, balance, amount, .. }
                if op == move_at && account == pool && balance == held && amount == held + 1
        ),
        "{e}"
    );
    assert_eq!(e.code(), 38);
    assert_eq!(
        node.read(rollup::status).unwrap(),
        before,
        "nothing changed"
    );

    // The honest batch: the merkleizer proves the same moves, and it commits.
    let jobs = Merkleizer::new(&mut tree, backend.as_ref(), L2)
        .build_batch(BatchNumber(1), AccountId::ZERO, &honest)
        .unwrap();
    assert_eq!(
        run(
            &node,
            sign(
                &operator(),
                &node,
                first_commit(&honest, 2, jobs.len() as u32)
            )
        ),
        L1Outcome::Success
    );
    let account = node.read(|s| rollup::l2_account(s, pool)).unwrap().unwrap();
    assert!(account.contract);
    assert_eq!(account.nonce, 1, "the pool's nonce counts its one move");
    // The L1 tracks the pool's balances: liquidity and the swap's SPIRIT in, the
    // swap's MANA out.
    assert_eq!(
        node.read(|s| rollup::contract_balances(s, pool)).unwrap(),
        [0, 101_000, 100_000 - amount, 0]
    );
    // Fees go to an operator's account, never a contract's.
    let commit = Call::Rollup(RollupCall::Commit(BatchCommit {
        number: 2,
        first_block: 3,
        last_block: 3,
        fee_account: pool,
        pubdata: encode_pubdata(&[]).unwrap(),
        new_root: FieldBytes::from_bytes([0; 32]).unwrap(),
        chunk_count: 0,
    }));
    match node.submit(sign(&operator(), &node, commit)) {
        Err(SubmitError::Refused(ghostd::modules::CallError::Rollup(e))) => {
            assert!(
                matches!(e, rollup::RollupError::FeeAccountContract(a) if a == pool),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        node.read(|s| rollup::contract_record(s, &amm)).unwrap(),
        Some((
            ghostplane_primitives::tx::code_hash(&example_contract("amm")),
            pool
        ))
    );
}

/// A batch's contract transactions may ask at most the genesis's fuel per batch of
/// re-execution work (fuel given, deploys' code to compile): the honest contract
/// batch commits under a bound equal to its work, and is refused (code 34) under
/// one unit less.
#[test]
fn a_batch_at_the_fuel_cap_commits_and_one_over_it_is_refused() {
    let raw = contract_batch(example_contract("counter"));
    // The fuel the calls' code is given, and the deploys' code to compile.
    let fuel = ghostplane_primitives::trace::reexecution_fuel(&raw);
    assert!(fuel > 0);
    for (cap, commits) in [(fuel - 1, false), (fuel, true)] {
        let dir = tempfile::tempdir().unwrap();
        let backend = stark();
        let mut tree = tree(dir.path(), backend.as_ref());
        let ops = completed(&mut tree, &raw);
        let mut genesis = genesis(tree.root().unwrap(), 100, backend.as_ref());
        genesis.rollup.batch_fuel_max = cap;
        let node = node(dir.path(), &genesis);
        let jobs = Merkleizer::new(&mut tree, backend.as_ref(), L2)
            .build_batch(BatchNumber(1), AccountId::ZERO, &ops)
            .unwrap();
        let commit = first_commit(&ops, 2, jobs.len() as u32);
        let outcome = node.submit(sign(&operator(), &node, commit));
        if commits {
            let hash = outcome.unwrap();
            node.seal().unwrap();
            assert_eq!(
                node.receipt(&hash).unwrap().unwrap().outcome,
                L1Outcome::Success
            );
        } else {
            match outcome {
                Err(SubmitError::Refused(e)) => {
                    assert_eq!(e.code(), 34, "{e}");
                    assert!(e.to_string().contains(&format!("{fuel} fuel")), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

/// A node whose L2 genesis is the two dev accounts (with `tree`, the operator's
/// tree of it), its L1 ledger funding dev0..dev3 in every token, and the given
/// forced-inclusion and exit windows.
fn exit_rollup(
    dir: &Path,
    backend: &dyn ProofBackend,
    forced_inclusion_blocks: u64,
    exit_window_blocks: u64,
) -> (Ghostd, AccountTree) {
    let tree = tree(dir, backend);
    let mut builder = L1GenesisBuilder::new(ghostplane_prover::proof_params(backend));
    for i in 0..4 {
        builder = builder.fund_all_tokens(l1(&Keypair::dev(i)), FUNDS);
    }
    let genesis = builder
        .fund_escrow(2 * FUNDS)
        .l2_chain_id(L2)
        .operator(operator().public_key())
        .genesis_root(tree.root().unwrap())
        .l2_genesis(&dev_l2_genesis(2, [FUNDS; 4]))
        .forced_inclusion_blocks(forced_inclusion_blocks)
        .exit_window_blocks(exit_window_blocks)
        .build();
    (node(dir, &genesis), tree)
}

/// dev0 (account 0) pays account 1 50 GCC, fee 1, with nonce 0.
fn dev0_transfer() -> PubdataOp {
    let tx = Transaction::Transfer {
        from: AccountId::new(0).unwrap(),
        to: ghostplane_primitives::Recipient::Account(AccountId::new(1).unwrap()),
        token: TokenId::Gcc,
        amount: 50,
        fee: 1,
        nonce: 0,
    };
    PubdataOp::Transfer {
        from: AccountId::new(0).unwrap(),
        to: AccountId::new(1).unwrap(),
        token: TokenId::Gcc,
        amount: 50,
        fee: 1,
        signature: Keypair::dev(0).sign(L2, tx).signature,
    }
}

/// Batch `number` of `ops` (fees to account 0, L2 block `number`), cut into the
/// merkleizer's chunks over `tree` (left uncommitted): the commit and the jobs.
fn plan_batch(
    backend: &dyn ProofBackend,
    tree: &mut AccountTree,
    number: u64,
    ops: &[PubdataOp],
) -> (BatchCommit, Vec<ghostplane_prover::Job>) {
    let jobs = Merkleizer::new(tree, backend, L2)
        .build_batch(BatchNumber(number), AccountId::ZERO, ops)
        .unwrap();
    let commit = BatchCommit {
        number,
        first_block: number,
        last_block: number,
        fee_account: AccountId::ZERO,
        pubdata: encode_pubdata(ops).unwrap(),
        new_root: tree.root().unwrap(),
        chunk_count: jobs.len() as u32,
    };
    (commit, jobs)
}

/// Commits batch `number` of `ops` (fees to account 0) as the operator, with the
/// merkleizer's chunks over `tree`; returns the chunks' proof jobs.
fn commit_batch(
    node: &Ghostd,
    backend: &dyn ProofBackend,
    tree: &mut AccountTree,
    number: u64,
    ops: &[PubdataOp],
) -> Vec<ghostplane_prover::Job> {
    let (commit, jobs) = plan_batch(backend, tree, number, ops);
    tree.commit(number, rocksdb::WriteBatch::default()).unwrap();
    let call = Call::Rollup(RollupCall::Commit(commit));
    assert_eq!(run(node, sign(&operator(), node, call)), L1Outcome::Success);
    jobs
}

/// Proves batch `number` whole from its `jobs`.
fn prove_batch(
    node: &Ghostd,
    backend: &dyn ProofBackend,
    number: u64,
    jobs: &[ghostplane_prover::Job],
) {
    let prove = Call::Rollup(RollupCall::Prove {
        number,
        first_chunk: 0,
        chunk_roots: jobs.iter().map(|j| j.statement.new_root).collect(),
        proofs: jobs
            .iter()
            .map(|j| backend.prove(&j.witness).unwrap())
            .collect(),
    });
    assert_eq!(
        run(node, sign(&operator(), node, prove)),
        L1Outcome::Success
    );
}

/// Exit mode (issue 37): with the operator live and on time it cannot be switched
/// on (code 44); once a committed batch stays unproven past the exit window,
/// anyone switches it on: the unproven batch is reverted, the deposits it
/// consumed and the queued one are refunded to their L1 sender, deposits,
/// commits and proofs are refused (43), and each owner claims its balances at the
/// last finalized root, once per (account, token), by a path checked with the
/// STARK's tree hash. Refused claims (45): a second one, a wrong path, another
/// account's path, a leaf of the unproven batch, another key's signature.
#[test]
fn exit_mode_reverts_refunds_and_pays_claims_at_the_finalized_root() {
    use ghostd_types::rollup::ExitClaim;
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let (node, mut tree) = exit_rollup(dir.path(), backend.as_ref(), 100, 3);
    let activate = || {
        node.submit(sign(
            &Keypair::dev(2),
            &node,
            Call::Rollup(RollupCall::ActivateExit),
        ))
    };
    let code = |e: SubmitError| match e {
        SubmitError::Refused(e) => e.code(),
        other => panic!("{other:?}"),
    };
    // A quiet L2: nothing is owed, so no exit.
    assert_eq!(code(activate().unwrap_err()), 44);

    // Three deposits from dev2 for a newcomer: batch 1 consumes the first, batch 2
    // (never proven) the second; the third stays queued.
    let depositor = Keypair::dev(2);
    let newcomer = Keypair::from_seed(&[5; 32]);
    for amount in [700, 300, 200] {
        assert_eq!(
            run(
                &node,
                sign(
                    &depositor,
                    &node,
                    deposit_call(newcomer.public_key(), amount)
                )
            ),
            L1Outcome::Success
        );
    }
    let deposit_op = |queue_index, amount| PubdataOp::Deposit {
        queue_index,
        to: AccountId::new(2).unwrap(),
        to_key: newcomer.public_key(),
        token: TokenId::Spirit,
        amount,
    };
    let batch1 = vec![dev0_transfer(), deposit_op(0, 700)];
    let commit = |number: u64, ops: &[PubdataOp], tree: &mut AccountTree| {
        commit_batch(&node, backend.as_ref(), tree, number, ops)
    };
    let jobs = commit(1, &batch1, &mut tree);
    prove_batch(&node, backend.as_ref(), 1, &jobs);
    let finalized_root = node.read(rollup::status).unwrap().finalized_root;
    commit(2, &[deposit_op(1, 300)], &mut tree);
    // The operator is on time: batch 2 was just committed.
    assert_eq!(code(activate().unwrap_err()), 44);
    for _ in 0..3 {
        node.seal().unwrap();
    }
    assert_eq!(
        balance(&node, &l1(&depositor), TokenId::Spirit),
        FUNDS - 1200
    );
    activate().unwrap();
    node.seal().unwrap();
    let exit = node
        .read(rollup::exit::exit_state)
        .unwrap()
        .expect("exit mode is on");
    assert_eq!(
        (exit.batch, exit.root, exit.reverted, exit.refunded),
        (1, finalized_root, 1, 2)
    );
    assert!(matches!(
        exit.reason,
        ghostd_types::rollup::ExitReason::BatchUnproven { number: 2, .. }
    ));
    let status = node.read(rollup::status).unwrap();
    assert_eq!(
        (status.committed, status.finalized, status.deposits_consumed),
        (1, 1, 1)
    );
    assert_eq!(node.read(|s| rollup::batch(s, 2)).unwrap(), None);
    // Refunded: the deposit batch 2 consumed and the queued one.
    assert_eq!(
        balance(&node, &l1(&depositor), TokenId::Spirit),
        FUNDS - 700
    );
    // No more deposits, commits, proofs, nor a second switch.
    assert_eq!(
        code(
            node.submit(sign(
                &depositor,
                &node,
                deposit_call(newcomer.public_key(), 1)
            ))
            .unwrap_err()
        ),
        43
    );
    assert_eq!(code(activate().unwrap_err()), 43);

    // Claims at the finalized root, from a tree rebuilt from the L1 alone (its
    // genesis and committed pubdata; no operator data). The operator's tree has
    // the reverted batch 2 too, for the forgery below.
    let rebuilt_dir = tempfile::tempdir().unwrap();
    let mut rebuilt = AccountTree::open(
        ghostplane_prover::open_db(rebuilt_dir.path()).unwrap(),
        backend.tree_hash(),
    )
    .unwrap();
    let l1_only = ghostd::EmbeddedL1::new(node.clone());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let done = runtime
        .block_on(ghostplane_settlement::rebuild::rebuild(
            &l1_only,
            backend.as_ref(),
            &mut rebuilt,
        ))
        .unwrap();
    assert_eq!((done.batch, done.root), (1, finalized_root));
    let recipient = l1(&Keypair::from_seed(&[8; 32]));
    let claim = |account: u32, key: &Keypair, token: TokenId, version: u64| {
        let id = AccountId::new(account).unwrap();
        let source = if version == 1 { &rebuilt } else { &tree };
        let (leaf, path) = source.proof_at(id, version).unwrap();
        let message = ExitClaim::signing_message(L2, id, token, &recipient);
        ExitClaim {
            account: id,
            leaf: leaf.unwrap(),
            path,
            token,
            recipient,
            signature: key.sign_bytes(&message),
        }
    };
    let submit = |claim: ExitClaim| {
        node.submit(sign(
            &Keypair::dev(0),
            &node,
            Call::Rollup(RollupCall::ExitClaim(claim)),
        ))
    };
    let refused = |claim: ExitClaim, what: &str| match submit(claim) {
        Err(SubmitError::Refused(e)) => {
            assert_eq!(e.code(), 45, "{e}");
            assert!(e.to_string().contains(what), "{e}");
        }
        other => panic!("{other:?}"),
    };
    // A leaf of the reverted batch 2 (the newcomer's 1,000 SPIRIT) is not at the
    // exit root; its finalized leaf (700) is.
    refused(claim(2, &newcomer, TokenId::Spirit, 2), "do not climb");
    let mut wrong = claim(1, &Keypair::dev(1), TokenId::Gcc, 1);
    wrong.path[3][5] ^= 1;
    refused(wrong, "do not climb");
    let mut elsewhere = claim(0, &Keypair::dev(1), TokenId::Gcc, 1);
    elsewhere.account = AccountId::new(1).unwrap();
    let message = ExitClaim::signing_message(L2, elsewhere.account, TokenId::Gcc, &recipient);
    elsewhere.signature = Keypair::dev(1).sign_bytes(&message);
    refused(elsewhere, "signature");
    refused(claim(1, &Keypair::dev(0), TokenId::Gcc, 1), "signature");
    for (account, key, token, amount) in [
        (1, Keypair::dev(1), TokenId::Gcc, FUNDS + 50),
        (2, newcomer, TokenId::Spirit, 700),
    ] {
        let before = balance(&node, &recipient, token);
        let hash = submit(claim(account, &key, token, 1)).unwrap();
        node.seal().unwrap();
        assert_eq!(
            node.receipt(&hash).unwrap().unwrap().outcome,
            L1Outcome::Success
        );
        assert_eq!(balance(&node, &recipient, token) - before, amount);
        refused(claim(account, &key, token, 1), "already claimed");
    }
}

/// Forced withdrawals (issue 37): an L2 account's owner queues one on the L1
/// (any L1 signer pays the fee); a request replayed, signed by another key, or
/// for nothing is refused (46). A censoring operator's commit after the deadline
/// that leaves it out is refused (48), as is one that pays it wrongly (47); the
/// honest commit pays `min(requested, balance)` and finality releases it on L1.
#[test]
fn forced_withdrawals_are_included_in_time_or_the_next_batch_is_refused() {
    use ghostd_types::rollup::{
        FORCED_WITHDRAWAL_ALL, FORCED_WITHDRAWAL_FEE_DEFAULT, ForcedWithdrawalRequest,
    };
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let (node, mut tree) = exit_rollup(dir.path(), backend.as_ref(), 3, 1_000);
    let code = |e: SubmitError| match e {
        SubmitError::Refused(e) => e.code(),
        other => panic!("{other:?}"),
    };
    let id = |i: u32| AccountId::new(i).unwrap();
    let (r1, r2) = (
        l1(&Keypair::from_seed(&[11; 32])),
        l1(&Keypair::from_seed(&[12; 32])),
    );
    let request = |account: u32, key: &Keypair, token, amount, to, count| {
        let message =
            ForcedWithdrawalRequest::signing_message(L2, id(account), token, amount, &to, count);
        Call::Rollup(RollupCall::ForceWithdraw(ForcedWithdrawalRequest {
            account: id(account),
            token,
            amount,
            recipient: to,
            signature: key.sign_bytes(&message),
        }))
    };
    let payer = Keypair::dev(3);
    let fee_before = balance(&node, &l1(&payer), TokenId::Gcc);
    // Account 1 asks for 400 MANA, account 0 (the fee account: its segment
    // closes before it) for all its SPIRIT.
    let first = request(1, &Keypair::dev(1), TokenId::Mana, 400, r1, 0);
    assert_eq!(
        run(&node, sign(&payer, &node, first.clone())),
        L1Outcome::Success
    );
    assert_eq!(
        run(
            &node,
            sign(
                &payer,
                &node,
                request(
                    0,
                    &Keypair::dev(0),
                    TokenId::Spirit,
                    FORCED_WITHDRAWAL_ALL,
                    r2,
                    0
                )
            )
        ),
        L1Outcome::Success
    );
    assert_eq!(
        fee_before - balance(&node, &l1(&payer), TokenId::Gcc),
        2 * FORCED_WITHDRAWAL_FEE_DEFAULT
    );
    // Replayed (the count moved on), another key's signature, nothing asked.
    for bad in [
        first,
        request(1, &Keypair::dev(2), TokenId::Mana, 400, r1, 1),
        request(1, &Keypair::dev(1), TokenId::Mana, 0, r1, 1),
    ] {
        assert_eq!(code(node.submit(sign(&payer, &node, bad)).unwrap_err()), 46);
    }
    let status = node.read(rollup::status).unwrap();
    assert_eq!((status.forced_queued, status.forced_consumed), (2, 0));

    let transfer = dev0_transfer();
    let forced = |queue_index, from: u32, to, token, amount, full| PubdataOp::ForcedWithdraw {
        queue_index,
        from: id(from),
        to,
        token,
        amount,
        full,
    };
    let honest = [
        transfer.clone(),
        forced(0, 1, r1, TokenId::Mana, 400, false),
        forced(1, 0, r2, TokenId::Spirit, FUNDS, true),
    ];
    let raw_commit = |ops: &[PubdataOp]| {
        Call::Rollup(RollupCall::Commit(BatchCommit {
            number: 1,
            first_block: 1,
            last_block: 1,
            fee_account: AccountId::ZERO,
            pubdata: encode_pubdata(ops).unwrap(),
            new_root: tree.root().unwrap(),
            chunk_count: 1,
        }))
    };
    let refused = |ops: &[PubdataOp]| {
        code(
            node.submit(sign(&operator(), &node, raw_commit(ops)))
                .unwrap_err(),
        )
    };
    // Wrong payments, in time: less than asked without taking the whole
    // balance, more than asked, another recipient, out of order.
    for (bad, at) in [
        (forced(0, 1, r1, TokenId::Mana, 300, false), 1),
        (forced(0, 1, r1, TokenId::Mana, 401, true), 1),
        (forced(0, 1, r2, TokenId::Mana, 400, false), 1),
        (forced(1, 0, r2, TokenId::Spirit, FUNDS, true), 1),
    ] {
        let mut ops = honest.to_vec();
        ops[at] = bad;
        ops.truncate(at + 1);
        assert_eq!(refused(&ops), 47);
    }
    // The censor waits past the deadline and commits without them: refused; with
    // only the first, still refused (the second is overdue too).
    for _ in 0..4 {
        node.seal().unwrap();
    }
    assert_eq!(refused(&honest[..1]), 48);
    assert_eq!(refused(&honest[..2]), 48);

    // The honest batch: proven, final, paid on L1.
    let jobs = commit_batch(&node, backend.as_ref(), &mut tree, 1, &honest);
    prove_batch(&node, backend.as_ref(), 1, &jobs);
    assert_eq!(balance(&node, &r1, TokenId::Mana), 400);
    assert_eq!(balance(&node, &r2, TokenId::Spirit), FUNDS);
    let mut leaf = |i| tree.leaf(id(i)).unwrap().unwrap();
    assert_eq!(leaf(1).balances[TokenId::Mana.id() as usize], FUNDS - 400);
    assert_eq!(leaf(0).balances[TokenId::Spirit.id() as usize], 0);
    // Account 0's one nonce is its transfer's; forced withdrawals use none.
    assert_eq!((leaf(0).nonce, leaf(1).nonce), (1, 0));
    let status = node.read(rollup::status).unwrap();
    assert_eq!((status.finalized, status.forced_consumed), (1, 2));
}

/// Batch revert (issue 37): the operator takes back committed, unproven batches
/// (not a finalized one, and only the operator: 49, 5); the L1's records go back
/// to the kept batch (accounts it created, nonces, deposits and forced
/// withdrawals consumed), so the same batch commits again and is proven.
#[test]
fn the_operator_reverts_unproven_batches_and_commits_again() {
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let (node, mut tree) = exit_rollup(dir.path(), backend.as_ref(), 100, 1_000);
    let code = |e: SubmitError| match e {
        SubmitError::Refused(e) => e.code(),
        other => panic!("{other:?}"),
    };
    let jobs = commit_batch(&node, backend.as_ref(), &mut tree, 1, &[dev0_transfer()]);
    prove_batch(&node, backend.as_ref(), 1, &jobs);
    assert!(!node.read(|s| rollup::revert::has_undo(s, 1)).unwrap());

    // Batch 2: dev1 creates account 2, a deposit and a forced withdrawal are
    // consumed.
    let newcomer = Keypair::from_seed(&[7; 32]).public_key();
    assert_eq!(
        run(
            &node,
            sign(
                &Keypair::dev(2),
                &node,
                deposit_call(Keypair::dev(1).public_key(), 5)
            )
        ),
        L1Outcome::Success
    );
    let recipient = l1(&Keypair::from_seed(&[13; 32]));
    let message = ghostd_types::rollup::ForcedWithdrawalRequest::signing_message(
        L2,
        AccountId::new(0).unwrap(),
        TokenId::Ghost,
        10,
        &recipient,
        0,
    );
    let forced = Call::Rollup(RollupCall::ForceWithdraw(
        ghostd_types::rollup::ForcedWithdrawalRequest {
            account: AccountId::new(0).unwrap(),
            token: TokenId::Ghost,
            amount: 10,
            recipient,
            signature: Keypair::dev(0).sign_bytes(&message),
        },
    ));
    assert_eq!(
        run(&node, sign(&Keypair::dev(3), &node, forced)),
        L1Outcome::Success
    );
    let create = Transaction::Transfer {
        from: AccountId::new(1).unwrap(),
        to: ghostplane_primitives::Recipient::NewAccount(newcomer),
        token: TokenId::Mana,
        amount: 70,
        fee: 2,
        nonce: 0,
    };
    let batch2 = [
        PubdataOp::TransferToNew {
            from: AccountId::new(1).unwrap(),
            to: AccountId::new(2).unwrap(),
            to_key: newcomer,
            token: TokenId::Mana,
            amount: 70,
            fee: 2,
            signature: Keypair::dev(1).sign(L2, create).signature,
        },
        PubdataOp::Deposit {
            queue_index: 0,
            to: AccountId::new(1).unwrap(),
            to_key: Keypair::dev(1).public_key(),
            token: TokenId::Spirit,
            amount: 5,
        },
        PubdataOp::ForcedWithdraw {
            queue_index: 0,
            from: AccountId::new(0).unwrap(),
            to: recipient,
            token: TokenId::Ghost,
            amount: 10,
            full: false,
        },
    ];
    let before = node.read(rollup::status).unwrap();
    commit_batch(&node, backend.as_ref(), &mut tree, 2, &batch2);
    let committed = node.read(rollup::status).unwrap();
    assert_eq!(
        (
            committed.committed,
            committed.next_account,
            committed.deposits_consumed,
            committed.forced_consumed
        ),
        (2, 3, 1, 1)
    );
    let revert = |key: &Keypair, to| {
        node.submit(sign(
            key,
            &node,
            Call::Rollup(RollupCall::RevertBatches { to }),
        ))
    };
    assert_eq!(code(revert(&Keypair::dev(0), 1).unwrap_err()), 5);
    assert_eq!(code(revert(&operator(), 0).unwrap_err()), 49);
    assert_eq!(code(revert(&operator(), 2).unwrap_err()), 49);
    let hash = revert(&operator(), 1).unwrap();
    node.seal().unwrap();
    assert_eq!(
        node.receipt(&hash).unwrap().unwrap().outcome,
        L1Outcome::Success
    );
    let after = node.read(rollup::status).unwrap();
    // All but the proof clock, which a revert keeps (exit mode's deadline).
    assert_eq!(after.unproven_since, committed.unproven_since);
    assert_eq!(
        ghostd::RollupState {
            unproven_since: None,
            ..after
        },
        before,
        "the counters are batch 1's again"
    );
    assert_eq!(node.read(|s| rollup::batch(s, 2)).unwrap(), None);
    assert_eq!(
        node.read(|s| rollup::l2_account(s, AccountId::new(2).unwrap()))
            .unwrap(),
        None
    );
    assert_eq!(
        node.read(|s| rollup::l2_account(s, AccountId::new(1).unwrap()))
            .unwrap()
            .unwrap()
            .nonce,
        0
    );
    assert!(!node.read(|s| rollup::revert::has_undo(s, 2)).unwrap());

    // The same batch commits again (the same nonce, account id, queue indices)
    // and is proven: finality resumes.
    tree.rewind(1, rocksdb::WriteBatch::default()).unwrap();
    let jobs = commit_batch(&node, backend.as_ref(), &mut tree, 2, &batch2);
    prove_batch(&node, backend.as_ref(), 2, &jobs);
    let status = node.read(rollup::status).unwrap();
    assert_eq!(
        (status.finalized, status.finalized_root),
        (2, tree.root().unwrap())
    );
    assert_eq!(balance(&node, &recipient, TokenId::Ghost), 10);
}

/// A revert does not restart exit mode's "batch unproven" clock (review finding
/// of issue 37): the operator who reverts and commits the same batch again before
/// the window ends still owes its proof by the first commit's deadline.
#[test]
fn reverting_and_committing_again_does_not_put_off_exit_mode() {
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let (node, mut tree) = exit_rollup(dir.path(), backend.as_ref(), 100, 3);
    let activate = || {
        node.submit(sign(
            &Keypair::dev(2),
            &node,
            Call::Rollup(RollupCall::ActivateExit),
        ))
    };
    commit_batch(&node, backend.as_ref(), &mut tree, 1, &[dev0_transfer()]);
    let since = node.read(rollup::status).unwrap().unproven_since.unwrap();
    for _ in 0..2 {
        node.seal().unwrap();
    }
    // Reverted and committed again inside the window.
    let revert = Call::Rollup(RollupCall::RevertBatches { to: 0 });
    assert_eq!(
        run(&node, sign(&operator(), &node, revert)),
        L1Outcome::Success
    );
    tree.rewind(0, rocksdb::WriteBatch::default()).unwrap();
    commit_batch(&node, backend.as_ref(), &mut tree, 1, &[dev0_transfer()]);
    assert_eq!(
        node.read(rollup::status).unwrap().unproven_since,
        Some(since)
    );
    // Past the first commit's window: due, though the new commit is recent.
    node.seal().unwrap();
    activate().unwrap();
    node.seal().unwrap();
    let exit = node.read(rollup::exit::exit_state).unwrap().unwrap();
    assert_eq!(
        exit.reason,
        ghostd_types::rollup::ExitReason::BatchUnproven {
            number: 1,
            committed_at: since
        }
    );
}

/// `CommitProven` (issue 38): a batch committed with all its proofs is final in
/// one transaction; with a bad proof the whole transaction is refused and nothing
/// is committed; only the next batch to finalize may go this way.
#[test]
fn a_batch_committed_with_its_proofs_is_final_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let backend = stark();
    let (node, mut tree) = exit_rollup(dir.path(), backend.as_ref(), 100, 1_000);
    let (commit, jobs) = plan_batch(backend.as_ref(), &mut tree, 1, &[dev0_transfer()]);
    let proofs: Vec<Vec<u8>> = jobs
        .iter()
        .map(|j| backend.prove(&j.witness).unwrap())
        .collect();
    let call = |proofs: Vec<Vec<u8>>| {
        Call::Rollup(RollupCall::CommitProven {
            commit: commit.clone(),
            chunk_roots: jobs.iter().map(|j| j.statement.new_root).collect(),
            proofs,
        })
    };
    let mut bad = proofs.clone();
    let last = bad[0].len() - 9;
    bad[0][last] ^= 1;
    let before = node.read(rollup::status).unwrap();
    match node.submit(sign(&operator(), &node, call(bad))) {
        Err(SubmitError::Refused(e)) => {
            assert!((21..=25).contains(&e.code()), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(node.read(rollup::status).unwrap(), before);
    assert_eq!(
        run(&node, sign(&operator(), &node, call(proofs))),
        L1Outcome::Success
    );
    let status = node.read(rollup::status).unwrap();
    assert_eq!(
        (
            status.committed,
            status.finalized,
            status.finalized_root,
            status.unproven_since
        ),
        (1, 1, tree.root().unwrap(), None)
    );
    assert!(!node.read(|s| rollup::revert::has_undo(s, 1)).unwrap());
}
