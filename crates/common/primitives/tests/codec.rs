//! Round trips and rejections for every encoded type.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use ghostplane_primitives::block::Event;
use ghostplane_primitives::pubdata::{
    CONTRACT_KEY_BYTES, CONTRACT_MOVE_BYTES, DEPOSIT_BYTES, FORCED_WITHDRAW_BYTES,
    PUBDATA_BYTES_MAX, TRANSFER_BYTES, TRANSFER_TO_NEW_BYTES, WITHDRAW_BYTES,
};
use ghostplane_primitives::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn account_id() -> impl Strategy<Value = AccountId> {
    (0u32..(1 << 24)).prop_map(|v| AccountId::new(v).unwrap())
}

fn token() -> impl Strategy<Value = TokenId> {
    (0u8..4).prop_map(|t| TokenId::from_id(t).unwrap())
}

fn bytes32() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

fn signature() -> impl Strategy<Value = Signature> {
    vec(any::<u8>(), 64).prop_map(|v| Signature(v.try_into().unwrap()))
}

fn recipient() -> impl Strategy<Value = Recipient> {
    prop_oneof![
        account_id().prop_map(Recipient::Account),
        bytes32().prop_map(|k| Recipient::NewAccount(PublicKey(k))),
    ]
}

fn transaction() -> impl Strategy<Value = Transaction> {
    prop_oneof![
        (
            account_id(),
            recipient(),
            token(),
            any::<u128>(),
            any::<u128>(),
            any::<u64>()
        )
            .prop_map(
                |(from, to, token, amount, fee, nonce)| Transaction::Transfer {
                    from,
                    to,
                    token,
                    amount,
                    fee,
                    nonce
                }
            ),
        (
            account_id(),
            bytes32(),
            token(),
            any::<u128>(),
            any::<u128>(),
            any::<u64>()
        )
            .prop_map(
                |(from, to, token, amount, fee, nonce)| Transaction::Withdraw {
                    from,
                    to: L1Address(to),
                    token,
                    amount,
                    fee,
                    nonce
                }
            ),
        (
            account_id(),
            vec(any::<u8>(), 0..512),
            any::<u128>(),
            any::<u64>()
        )
            .prop_map(|(from, code, fee, nonce)| Transaction::Deploy {
                token: TokenId::Gcc,
                value: 0,
                from,
                code,
                init: Vec::new(),
                fee,
                nonce
            }),
        (
            account_id(),
            bytes32(),
            vec(any::<u8>(), 0..256),
            any::<u64>(),
            any::<u128>(),
            any::<u64>()
        )
            .prop_map(|(from, contract, input, fuel_limit, fee, nonce)| {
                Transaction::Call {
                    token: TokenId::ALL[(nonce % 4) as usize],
                    value: u128::from(nonce / 3),
                    from,
                    contract: ContractAddress(contract),
                    input,
                    fuel_limit,
                    fee,
                    nonce,
                }
            }),
    ]
}

fn signed_transaction() -> impl Strategy<Value = SignedTransaction> {
    (transaction(), any::<u64>(), bytes32(), signature()).prop_map(
        |(tx, chain, signer, signature)| SignedTransaction {
            tx,
            chain_id: ChainId(chain),
            signer: PublicKey(signer),
            signature,
        },
    )
}

fn field_bytes() -> impl Strategy<Value = FieldBytes> {
    any::<u128>().prop_map(|v| FieldBytes::from(Fr::from(v)))
}

fn failure() -> impl Strategy<Value = FailureReason> {
    prop_oneof![
        (token(), any::<u128>(), any::<u128>()).prop_map(|(token, needed, available)| {
            FailureReason::InsufficientBalance {
                token,
                needed,
                available,
            }
        }),
        account_id().prop_map(FailureReason::UnknownAccount),
        bytes32().prop_map(|k| FailureReason::AccountExists(PublicKey(k))),
        any::<u64>().prop_map(|fuel_used| FailureReason::OutOfFuel { fuel_used }),
        ".{0,40}".prop_map(FailureReason::Trap),
        vec(any::<u8>(), 0..64).prop_map(FailureReason::Revert),
        any::<u32>().prop_map(|max| FailureReason::CallDepthExceeded { max }),
    ]
}

fn receipt() -> impl Strategy<Value = Receipt> {
    (
        bytes32(),
        any::<u64>(),
        any::<u32>(),
        prop_oneof![
            Just(ReceiptStatus::Success),
            failure().prop_map(ReceiptStatus::Failed)
        ],
        any::<u64>(),
        any::<u128>(),
        vec((bytes32(), bytes32(), vec(any::<u8>(), 0..64)), 0..4),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(hash, block, index, status, gas_used, fee_paid, events, return_data)| Receipt {
                tx_hash: Hash32(hash),
                block: BlockNumber(block),
                index,
                status,
                gas_used,
                fee_paid,
                events: events
                    .into_iter()
                    .map(|(contract, topic, data)| Event {
                        contract: ContractAddress(contract),
                        topic: Hash32(topic),
                        data,
                    })
                    .collect(),
                return_data,
            },
        )
}

fn pubdata_op() -> impl Strategy<Value = PubdataOp> {
    prop_oneof![
        (
            account_id(),
            account_id(),
            token(),
            any::<u128>(),
            any::<u128>(),
            signature()
        )
            .prop_map(
                |(from, to, token, amount, fee, signature)| PubdataOp::Transfer {
                    from,
                    to,
                    token,
                    amount,
                    fee,
                    signature
                }
            ),
        (
            account_id(),
            account_id(),
            bytes32(),
            token(),
            any::<u128>(),
            any::<u128>(),
            signature()
        )
            .prop_map(|(from, to, key, token, amount, fee, signature)| {
                PubdataOp::TransferToNew {
                    from,
                    to,
                    to_key: PublicKey(key),
                    token,
                    amount,
                    fee,
                    signature,
                }
            }),
        (
            any::<u64>(),
            account_id(),
            bytes32(),
            token(),
            any::<u128>(),
            any::<bool>()
        )
            .prop_map(|(queue_index, from, to, token, amount, full)| {
                PubdataOp::ForcedWithdraw {
                    queue_index,
                    from,
                    to: L1Address(to),
                    token,
                    amount,
                    full,
                }
            }),
        (
            any::<u64>(),
            account_id(),
            bytes32(),
            token(),
            any::<u128>()
        )
            .prop_map(|(queue_index, to, key, token, amount)| PubdataOp::Deposit {
                queue_index,
                to,
                to_key: PublicKey(key),
                token,
                amount
            }),
        (
            account_id(),
            bytes32(),
            token(),
            any::<u128>(),
            any::<u128>(),
            signature()
        )
            .prop_map(
                |(from, to, token, amount, fee, signature)| PubdataOp::Withdraw {
                    from,
                    to: L1Address(to),
                    token,
                    amount,
                    fee,
                    signature
                }
            ),
        (any::<u128>(), transaction(), signature()).prop_map(|(fee_paid, tx, signature)| {
            PubdataOp::FeeOnly {
                fee_paid,
                tx,
                signature,
            }
        }),
        (any::<u128>(), account_id(), transaction(), signature()).prop_map(
            |(fee_paid, contract, tx, signature)| {
                if tx.is_contract() {
                    PubdataOp::ContractTx {
                        fee_paid,
                        contract,
                        tx,
                        signature,
                    }
                } else {
                    PubdataOp::FeeOnly {
                        fee_paid,
                        tx,
                        signature,
                    }
                }
            }
        ),
        (account_id(), account_id(), token(), any::<u128>()).prop_map(
            |(from, to, token, amount)| PubdataOp::ContractMove {
                from,
                to,
                token,
                amount,
            }
        ),
        (
            any::<u64>(),
            vec(
                (
                    bytes32(),
                    bytes32(),
                    proptest::option::of(vec(any::<u8>(), 0..=64))
                ),
                0..4
            ),
            vec(
                (
                    bytes32(),
                    bytes32(),
                    proptest::option::of(vec(any::<u8>(), 0..=STORAGE_VALUE_BYTES_MAX))
                ),
                0..3
            ),
        )
            .prop_map(|(n, reads, writes)| {
                let slot = |(contract, key, value)| StorageSlot {
                    contract: ContractAddress(contract),
                    key: Hash32(key),
                    value,
                };
                PubdataOp::ContractTrace(Box::new(ContractTrace {
                    block: BlockNumber(n),
                    time_ms: n / 3,
                    fuel: n / 5,
                    gas_used: n / 7,
                    status: if n % 2 == 0 {
                        ReceiptStatus::Success
                    } else {
                        ReceiptStatus::Failed(FailureReason::Revert(vec![1, 2]))
                    },
                    reads: reads.into_iter().map(slot).collect(),
                    writes: writes.into_iter().map(slot).collect(),
                    balances: vec![BalanceRead {
                        account: AccountId::new((n % 1000) as u32).unwrap(),
                        token: TokenId::Mana,
                        amount: u128::from(n),
                    }],
                    events: vec![Event {
                        contract: ContractAddress([1; 32]),
                        topic: Hash32([2; 32]),
                        data: vec![3],
                    }],
                }))
            }),
        (account_id(), bytes32()).prop_map(|(contract, key)| PubdataOp::ContractKey {
            contract,
            key: PublicKey(key),
        }),
        vec(
            (
                bytes32(),
                0u8..3,
                vec(any::<u8>(), 0..=40),
                any::<u128>(),
                vec(bytes32(), 0..3)
            ),
            0..3
        )
        .prop_map(|steps| {
            let steps = steps
                .into_iter()
                .map(|(key, kind, value, occupied, nodes)| SlotStep {
                    key,
                    old: match kind {
                        0 => SlotLeaf::Absent,
                        1 => SlotLeaf::Present(value),
                        _ => SlotLeaf::Held { key, value },
                    },
                    path: CompactPath { occupied, nodes },
                })
                .collect();
            PubdataOp::StorageProof(Box::new(StorageProof { steps }))
        }),
    ]
}

/// A value whose encoding decodes back to it, and whose every strict prefix and
/// every one-byte extension are rejected with the right error.
fn check_codec<T: Codec + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.encode();
    prop_assert_eq!(&T::decode(&bytes).unwrap(), value);
    // Determinism: encoding twice gives the same bytes.
    prop_assert_eq!(&value.encode(), &bytes);
    for cut in [0, bytes.len() / 2, bytes.len() - 1] {
        prop_assert!(
            matches!(T::decode(&bytes[..cut]), Err(CodecError::Truncated { .. })),
            "prefix of {} bytes must be truncated",
            cut
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    prop_assert!(
        matches!(
            T::decode(&longer),
            Err(CodecError::TrailingBytes { extra: 1, .. })
        ),
        "an extra byte must be trailing"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn signed_transactions_round_trip(tx in signed_transaction()) {
        check_codec(&tx)?;
        prop_assert_eq!(tx.hash(), tx_hash(&tx.encode()));
    }

    #[test]
    fn transactions_round_trip(tx in transaction()) {
        check_codec(&tx)?;
    }

    #[test]
    fn receipts_round_trip(receipt in receipt()) {
        check_codec(&receipt)?;
    }

    #[test]
    fn headers_round_trip(
        numbers in any::<(u64, u64, u64, u64)>(),
        hashes in any::<([u8; 32], [u8; 32], [u8; 32])>(),
        roots in (field_bytes(), field_bytes(), field_bytes()),
        fee_account in account_id(),
        counts in any::<(u32, u32)>(),
    ) {
        let block = L2BlockHeader {
            number: BlockNumber(numbers.0),
            parent_hash: Hash32(hashes.0),
            timestamp_ms: numbers.1,
            fee_account,
            tx_count: counts.0,
            transactions_hash: Hash32(hashes.1),
            execution_digest: Hash32(hashes.2),
        };
        check_codec(&block)?;
        let batch = BatchHeader {
            number: BatchNumber(numbers.2),
            first_block: BlockNumber(numbers.0),
            last_block: BlockNumber(numbers.1),
            old_accounts_root: roots.0,
            new_accounts_root: roots.1,
            new_contracts_root: roots.2,
            pubdata_hash: Hash32(hashes.0),
            chunk_count: counts.1,
            deposits_consumed_to: numbers.3,
        };
        check_codec(&batch)?;
        prop_assert_ne!(batch.hash(), Hash32([0; 32]));
    }

    #[test]
    fn deposits_round_trip(
        queue_index in any::<u64>(),
        l1_block in any::<u64>(),
        recipient in bytes32(),
        token in token(),
        amount in any::<u128>(),
        l1_tx_hash in bytes32(),
    ) {
        check_codec(&DepositEvent {
            queue_index,
            l1_block,
            recipient: PublicKey(recipient),
            token,
            amount,
            l1_tx_hash: Hash32(l1_tx_hash),
        })?;
    }

    #[test]
    fn pubdata_round_trips(ops in vec(pubdata_op(), 0..12)) {
        let bytes = encode_pubdata(&ops).unwrap();
        prop_assert_eq!(bytes.len(), ops.iter().map(PubdataOp::encoded_len).sum::<usize>());
        prop_assert_eq!(&decode_pubdata(&bytes).unwrap(), &ops);
        if !bytes.is_empty() {
            let cut = &bytes[..bytes.len() - 1];
            let truncated = matches!(decode_pubdata(cut), Err(PubdataError::Truncated { .. }));
            prop_assert!(truncated);
        }
    }
}

#[test]
fn pubdata_op_sizes_match_the_documented_table() {
    let signature = Signature([7; 64]);
    let id = AccountId::new(5).unwrap();
    let key = PublicKey([9; 32]);
    let cases = [
        (
            PubdataOp::Transfer {
                from: id,
                to: id,
                token: TokenId::Gcc,
                amount: 1,
                fee: 1,
                signature,
            },
            TRANSFER_BYTES,
        ),
        (
            PubdataOp::TransferToNew {
                from: id,
                to: id,
                to_key: key,
                token: TokenId::Gcc,
                amount: 1,
                fee: 1,
                signature,
            },
            TRANSFER_TO_NEW_BYTES,
        ),
        (
            PubdataOp::Deposit {
                queue_index: 3,
                to: id,
                to_key: key,
                token: TokenId::Mana,
                amount: 1,
            },
            DEPOSIT_BYTES,
        ),
        (
            PubdataOp::Withdraw {
                from: id,
                to: L1Address([1; 32]),
                token: TokenId::Ghost,
                amount: 1,
                fee: 1,
                signature,
            },
            WITHDRAW_BYTES,
        ),
        (
            PubdataOp::ContractMove {
                from: id,
                to: id,
                token: TokenId::Spirit,
                amount: 1,
            },
            CONTRACT_MOVE_BYTES,
        ),
        (
            PubdataOp::ContractKey {
                contract: id,
                key: PublicKey([7; 32]),
            },
            CONTRACT_KEY_BYTES,
        ),
        (
            PubdataOp::ForcedWithdraw {
                queue_index: 9,
                from: id,
                to: L1Address([2; 32]),
                token: TokenId::Spirit,
                amount: 1,
                full: true,
            },
            FORCED_WITHDRAW_BYTES,
        ),
    ];
    for (op, size) in cases {
        let bytes = encode_pubdata(std::slice::from_ref(&op)).unwrap();
        assert_eq!(bytes.len(), size, "{op:?}");
        assert_eq!(op.encoded_len(), size);
    }
    assert_eq!(
        (
            TRANSFER_BYTES,
            TRANSFER_TO_NEW_BYTES,
            DEPOSIT_BYTES,
            WITHDRAW_BYTES
        ),
        (104, 136, 61, 133)
    );
}

#[test]
fn pubdata_rejects_bad_input() {
    assert_eq!(
        decode_pubdata(&[0x7f, 0, 0]),
        Err(PubdataError::UnknownOpcode {
            opcode: 0x7f,
            offset: 0
        })
    );
    let transfer = PubdataOp::Transfer {
        from: AccountId::new(1).unwrap(),
        to: AccountId::new(2).unwrap(),
        token: TokenId::Spirit,
        amount: 10,
        fee: 1,
        signature: Signature([0; 64]),
    };
    let mut bytes = encode_pubdata(&[transfer.clone(), transfer]).unwrap();
    // Second op's token byte (opcode + two 3-byte ids) set to an unknown token.
    bytes[TRANSFER_BYTES + 7] = 4;
    assert_eq!(
        decode_pubdata(&bytes),
        Err(PubdataError::UnknownToken {
            token: 4,
            offset: TRANSFER_BYTES
        })
    );
    // A contract trace with a value over the limit (the old storage-write opcode
    // 0x06 is no longer an op).
    let trace = ContractTrace {
        block: BlockNumber(1),
        time_ms: 0,
        fuel: 0,
        gas_used: 0,
        status: ReceiptStatus::Success,
        reads: Vec::new(),
        writes: vec![StorageSlot {
            contract: ContractAddress([0; 32]),
            key: Hash32([0; 32]),
            value: Some(vec![0; STORAGE_VALUE_BYTES_MAX + 1]),
        }],
        balances: Vec::new(),
        events: Vec::new(),
    };
    let bytes = trace.encode();
    let mut write = vec![0x07];
    write.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    write.extend_from_slice(&bytes);
    assert!(matches!(
        decode_pubdata(&write),
        Err(PubdataError::BadTrace { .. })
    ));
    assert!(matches!(
        decode_pubdata(&[0x0c]),
        Err(PubdataError::UnknownOpcode { opcode: 0x0c, .. })
    ));
    // A forced withdrawal whose `full` flag is neither 0 nor 1.
    let mut forced = encode_pubdata(&[PubdataOp::ForcedWithdraw {
        queue_index: 1,
        from: AccountId::new(1).unwrap(),
        to: L1Address([3; 32]),
        token: TokenId::Gcc,
        amount: 5,
        full: false,
    }])
    .unwrap();
    *forced.last_mut().unwrap() = 2;
    assert!(matches!(
        decode_pubdata(&forced),
        Err(PubdataError::BadFlag { flag: 2, offset: 0 })
    ));
    // A storage proof with a value over the storage bound.
    let proof = StorageProof {
        steps: vec![SlotStep {
            key: [1; 32],
            old: SlotLeaf::Present(vec![0; STORAGE_VALUE_BYTES_MAX + 1]),
            path: CompactPath::default(),
        }],
    };
    let bytes = proof.encode();
    let mut long = vec![0x09];
    long.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    long.extend_from_slice(&bytes);
    assert!(matches!(
        decode_pubdata(&long),
        Err(PubdataError::BadStorageProof { .. })
    ));
    assert!(matches!(
        encode_pubdata(&[PubdataOp::StorageProof(Box::new(proof))]),
        Err(PubdataError::BadStorageProof { .. })
    ));
    assert!(matches!(
        decode_pubdata(&[0x06]),
        Err(PubdataError::Truncated { offset: 0 })
    ));
    // A contract op whose transaction is a transfer.
    let transfer = Transaction::Transfer {
        from: AccountId::new(1).unwrap(),
        to: Recipient::Account(AccountId::new(2).unwrap()),
        token: TokenId::Gcc,
        amount: 1,
        fee: 1,
        nonce: 0,
    };
    let tx_bytes = transfer.encode();
    let mut op = vec![0x06];
    op.extend_from_slice(&1u128.to_be_bytes());
    op.extend_from_slice(&[0, 0, 3]);
    op.extend_from_slice(&(tx_bytes.len() as u32).to_be_bytes());
    op.extend_from_slice(&tx_bytes);
    op.extend_from_slice(&[0; 64]);
    assert!(matches!(
        decode_pubdata(&op),
        Err(PubdataError::NotAContractTransaction { offset: 0 })
    ));
    // A fee-only op whose transaction has a trailing byte.
    let tx = Transaction::Deploy {
        token: TokenId::Gcc,
        value: 0,
        from: AccountId::new(1).unwrap(),
        code: vec![0],
        init: Vec::new(),
        fee: 1,
        nonce: 0,
    };
    let mut tx_bytes = tx.encode();
    tx_bytes.push(0);
    let mut op = vec![0x05];
    op.extend_from_slice(&1u128.to_be_bytes());
    op.extend_from_slice(&(tx_bytes.len() as u32).to_be_bytes());
    op.extend_from_slice(&tx_bytes);
    op.extend_from_slice(&[0; 64]);
    assert!(matches!(
        decode_pubdata(&op),
        Err(PubdataError::BadTransaction {
            source: CodecError::TrailingBytes { extra: 1, .. },
            ..
        })
    ));
    let huge = vec![0u8; PUBDATA_BYTES_MAX + 1];
    assert!(matches!(
        decode_pubdata(&huge),
        Err(PubdataError::Oversize { .. })
    ));
}

#[test]
fn oversize_input_is_rejected_before_parsing() {
    let bytes = vec![0u8; SIGNED_TX_BYTES_MAX + 1];
    assert_eq!(
        SignedTransaction::decode(&bytes),
        Err(CodecError::Oversize {
            len: SIGNED_TX_BYTES_MAX + 1,
            max: SIGNED_TX_BYTES_MAX,
            type_name: "signed transaction"
        })
    );
    assert!(matches!(
        Receipt::decode(&vec![0u8; RECEIPT_BYTES_MAX + 1]),
        Err(CodecError::Oversize { .. })
    ));
}

#[test]
fn invalid_values_are_rejected() {
    let keypair = Keypair::from_seed(&[1; 32]);
    let tx = Transaction::Withdraw {
        from: AccountId::new(1).unwrap(),
        to: L1Address([2; 32]),
        token: TokenId::Gcc,
        amount: 5,
        fee: 1,
        nonce: 0,
    };
    let bytes = keypair.sign(DEVNET_CHAIN_ID, tx).encode();
    // Variant tag 9 does not exist.
    let mut bad_tag = bytes.clone();
    bad_tag[0] = 9;
    assert!(matches!(
        SignedTransaction::decode(&bad_tag),
        Err(CodecError::Invalid { .. })
    ));
    // Account id 2^24 (bytes 1..5 hold `from`, little-endian).
    let mut bad_id = bytes.clone();
    bad_id[1..5].copy_from_slice(&(1u32 << 24).to_le_bytes());
    assert!(matches!(
        SignedTransaction::decode(&bad_id),
        Err(CodecError::Invalid { .. })
    ));
    // Token id 4 (after tag, from and the 32-byte L1 address).
    let mut bad_token = bytes;
    bad_token[1 + 4 + 32] = 4;
    assert!(matches!(
        SignedTransaction::decode(&bad_token),
        Err(CodecError::Invalid { .. })
    ));
    // A length prefix far beyond the input is truncation, not an allocation.
    let mut huge_len = Transaction::Deploy {
        token: TokenId::Gcc,
        value: 0,
        from: AccountId::new(1).unwrap(),
        code: vec![1, 2, 3],
        init: Vec::new(),
        fee: 0,
        nonce: 0,
    }
    .encode();
    huge_len[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        Transaction::decode(&huge_len),
        Err(CodecError::Truncated { .. })
    ));
    // A field element not below the modulus.
    let mut header = BatchHeader {
        number: BatchNumber(1),
        first_block: BlockNumber(1),
        last_block: BlockNumber(2),
        old_accounts_root: FieldBytes::ZERO,
        new_accounts_root: FieldBytes::ZERO,
        new_contracts_root: FieldBytes::ZERO,
        pubdata_hash: Hash32([0; 32]),
        chunk_count: 1,
        deposits_consumed_to: 0,
    }
    .encode();
    header[24..56].copy_from_slice(&[0xff; 32]);
    assert!(matches!(
        BatchHeader::decode(&header),
        Err(CodecError::Invalid { .. })
    ));
}

#[test]
fn stateless_checks() {
    let from = AccountId::new(3).unwrap();
    let transfer = |amount, to| Transaction::Transfer {
        from,
        to,
        token: TokenId::Gcc,
        amount,
        fee: 0,
        nonce: 0,
    };
    assert_eq!(
        transfer(1, Recipient::Account(AccountId::new(4).unwrap())).check_stateless(),
        Ok(())
    );
    assert_eq!(
        transfer(0, Recipient::Account(AccountId::new(4).unwrap())).check_stateless(),
        Err(StatelessError::ZeroAmount)
    );
    assert_eq!(
        transfer(1, Recipient::Account(from)).check_stateless(),
        Err(StatelessError::SelfTransfer(from))
    );
    let deploy = |code: Vec<u8>| Transaction::Deploy {
        token: TokenId::Gcc,
        value: 0,
        from,
        code,
        init: Vec::new(),
        fee: 0,
        nonce: 0,
    };
    // Code is validated by the executor, not statelessly.
    assert_eq!(deploy(vec![]).check_stateless(), Ok(()));
    // The largest deploy still fits a signed transaction.
    let signed = Keypair::from_seed(&[2; 32])
        .sign(DEVNET_CHAIN_ID, deploy(vec![0; CONTRACT_CODE_BYTES_MAX]));
    assert!(SignedTransaction::decode(&signed.encode()).is_ok());
    let call = |input: Vec<u8>, fuel_limit| Transaction::Call {
        token: TokenId::Gcc,
        value: 0,
        from,
        contract: ContractAddress([0; 32]),
        input,
        fuel_limit,
        fee: 0,
        nonce: 0,
    };
    assert_eq!(call(vec![], 1000).check_stateless(), Ok(()));
    assert!(matches!(
        call(vec![0; CALL_INPUT_BYTES_MAX + 1], 1000).check_stateless(),
        Err(StatelessError::InputTooLarge { .. })
    ));
    assert!(matches!(
        call(vec![], 0).check_stateless(),
        Err(StatelessError::BadFuelLimit { .. })
    ));
    assert!(matches!(
        call(vec![], CALL_FUEL_MAX + 1).check_stateless(),
        Err(StatelessError::BadFuelLimit { .. })
    ));
}
