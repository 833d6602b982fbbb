//! Signing and verification of transactions: chain binding, tampering, batches.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use ghostplane_primitives::*;
use proptest::prelude::*;

fn sample_tx(nonce: u64) -> Transaction {
    Transaction::Transfer {
        from: AccountId::new(7).unwrap(),
        to: Recipient::NewAccount(PublicKey([3; 32])),
        token: TokenId::Mana,
        amount: 1_000,
        fee: 2,
        nonce,
    }
}

#[test]
fn signed_transaction_verifies_on_its_chain_only() {
    let keypair = Keypair::from_seed(&[42; 32]);
    let signed = keypair.sign(DEVNET_CHAIN_ID, sample_tx(0));
    assert_eq!(signed.verify(DEVNET_CHAIN_ID), Ok(()));
    let other_chain = ChainId(DEVNET_CHAIN_ID.0 + 1);
    assert_eq!(
        signed.verify(other_chain),
        Err(SignatureError::WrongChain {
            expected: other_chain,
            got: DEVNET_CHAIN_ID
        })
    );
    // Signed for another chain, checked on ours.
    let other = keypair.sign(ChainId(1), sample_tx(0));
    assert_eq!(
        other.verify(DEVNET_CHAIN_ID),
        Err(SignatureError::WrongChain {
            expected: DEVNET_CHAIN_ID,
            got: ChainId(1)
        })
    );
    assert!(matches!(
        verify_transactions(std::slice::from_ref(&other), DEVNET_CHAIN_ID)[0],
        Err(SignatureError::WrongChain { .. })
    ));
    // Relabelled with our chain id, the signature (made over chain 1) fails.
    let relabelled = SignedTransaction {
        chain_id: DEVNET_CHAIN_ID,
        ..other
    };
    assert_eq!(
        relabelled.verify(DEVNET_CHAIN_ID),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn the_signed_message_is_domain_chain_and_encoding() {
    let tx = sample_tx(5);
    let message = tx.signing_message(ChainId(0x0102));
    assert_eq!(&message[..TX_SIGNING_DOMAIN.len()], TX_SIGNING_DOMAIN);
    let rest = &message[TX_SIGNING_DOMAIN.len()..];
    assert_eq!(&rest[..8], &0x0102u64.to_le_bytes());
    assert_eq!(&rest[8..], tx.encode().as_slice());
}

#[test]
fn another_signer_key_fails() {
    let signed = Keypair::from_seed(&[1; 32]).sign(DEVNET_CHAIN_ID, sample_tx(0));
    let impostor = SignedTransaction {
        signer: Keypair::from_seed(&[2; 32]).public_key(),
        ..signed
    };
    assert_eq!(
        impostor.verify(DEVNET_CHAIN_ID),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn generated_keys_are_distinct_and_sign() {
    let a = Keypair::generate();
    let b = Keypair::generate();
    assert_ne!(a.public_key(), b.public_key());
    assert_eq!(Keypair::from_seed(&a.seed()).public_key(), a.public_key());
    assert_eq!(
        a.sign(DEVNET_CHAIN_ID, sample_tx(1))
            .verify(DEVNET_CHAIN_ID),
        Ok(())
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Flipping any one bit of the signature makes it fail.
    #[test]
    fn one_flipped_signature_bit_fails(seed in any::<[u8; 32]>(), bit in 0usize..512) {
        let mut signed = Keypair::from_seed(&seed).sign(DEVNET_CHAIN_ID, sample_tx(3));
        signed.signature.0[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(signed.verify(DEVNET_CHAIN_ID).is_err());
        prop_assert!(verify_transactions(&[signed], DEVNET_CHAIN_ID)[0].is_err());
    }

    /// Flipping any one bit of the signed message makes it fail.
    #[test]
    fn one_flipped_message_bit_fails(seed in any::<[u8; 32]>(), bit in any::<prop::sample::Index>()) {
        let keypair = Keypair::from_seed(&seed);
        let message = sample_tx(9).signing_message(DEVNET_CHAIN_ID);
        let signature = keypair.sign_bytes(&message);
        let mut tampered = message.clone();
        let bit = bit.index(tampered.len() * 8);
        tampered[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(keys::verify(&keypair.public_key(), &message, &signature), Ok(()));
        prop_assert_eq!(
            keys::verify(&keypair.public_key(), &tampered, &signature),
            Err(SignatureError::BadSignature)
        );
    }

    /// A transaction whose encoded bytes have one flipped bit either no longer decodes
    /// or no longer verifies.
    #[test]
    fn one_flipped_encoded_bit_never_verifies(bit in any::<prop::sample::Index>()) {
        let signed = Keypair::from_seed(&[8; 32]).sign(DEVNET_CHAIN_ID, sample_tx(4));
        let mut bytes = signed.encode();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        if let Ok(decoded) = SignedTransaction::decode(&bytes) {
            prop_assert!(decoded.verify(DEVNET_CHAIN_ID).is_err());
        }
    }

    /// The batch result equals verifying each item on its own.
    #[test]
    fn batch_equals_single(bad in proptest::collection::vec(any::<bool>(), 1..40)) {
        let txs: Vec<SignedTransaction> = bad
            .iter()
            .enumerate()
            .map(|(i, is_bad)| {
                let mut signed = Keypair::from_seed(&[i as u8; 32]).sign(DEVNET_CHAIN_ID, sample_tx(i as u64));
                if *is_bad {
                    signed.signature.0[40] ^= 0x10;
                }
                signed
            })
            .collect();
        let batch = verify_transactions(&txs, DEVNET_CHAIN_ID);
        let single: Vec<_> = txs.iter().map(|tx| tx.verify(DEVNET_CHAIN_ID)).collect();
        prop_assert_eq!(&batch, &single);
        for (result, is_bad) in batch.iter().zip(&bad) {
            prop_assert_eq!(result.is_err(), *is_bad);
        }
    }
}
