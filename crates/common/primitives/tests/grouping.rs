//! Signature verdicts must not depend on how signatures are grouped into batches.
//!
//! The sequencer verifies in groups of 64 in arrival order; the L1 verifies a whole
//! batch's pubdata at once. If a signature could pass one grouping and fail another,
//! its owner could resubmit until the sequencer admits it and the L1 would then
//! refuse the batch forever. These tests craft the signatures that told the two
//! apart (an `R` carrying an order-8 component, keys with a torsion component,
//! small-order `R` in non-canonical encodings) and check every grouping agrees with
//! the single-signature verdict, and that verdict with the ZIP-215 reference.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)] // Tests: a panic is a failure; byte arithmetic by index.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ghostplane_primitives::*;
use sha2::{Digest, Sha512};

/// The secret scalar of an RFC 8032 seed (clamped, reduced).
fn secret_scalar(seed: &[u8; 32]) -> Scalar {
    let hash = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&hash[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    Scalar::from_bytes_mod_order(a)
}

fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    Scalar::from_hash(
        Sha512::new()
            .chain_update(r)
            .chain_update(a)
            .chain_update(message),
    )
}

/// Signs `message` for the key `a·B + key_torsion` with `R = r·B + r_torsion`:
/// valid under the cofactored (ZIP-215) equation, and under the strict
/// (cofactorless) one only if the torsion parts happen to cancel.
fn sign_with_torsion(
    seed: &[u8; 32],
    key_torsion: EdwardsPoint,
    r_torsion: EdwardsPoint,
    message: &[u8],
    nonce: u64,
) -> (PublicKey, Signature) {
    let a = secret_scalar(seed);
    let key = (a * ED25519_BASEPOINT_POINT + key_torsion).compress();
    let r = Scalar::from_hash(
        Sha512::new()
            .chain_update(b"grouping test nonce")
            .chain_update(seed)
            .chain_update(nonce.to_le_bytes()),
    );
    let big_r = (r * ED25519_BASEPOINT_POINT + r_torsion).compress();
    let k = challenge(big_r.as_bytes(), key.as_bytes(), message);
    let s = r + k * a;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(big_r.as_bytes());
    signature[32..].copy_from_slice(s.as_bytes());
    (PublicKey(key.to_bytes()), Signature(signature))
}

fn transfer(nonce: u64) -> Transaction {
    Transaction::Transfer {
        from: AccountId::new(1).unwrap(),
        to: Recipient::Account(AccountId::new(2).unwrap()),
        token: TokenId::Gcc,
        amount: 5,
        fee: 1,
        nonce,
    }
}

/// A transaction signed with an `R` that carries an order-8 component.
fn torsion_r_transaction(nonce: u64) -> SignedTransaction {
    let seed = [9u8; 32];
    let tx = transfer(nonce);
    let message = tx.signing_message(DEVNET_CHAIN_ID);
    let (signer, signature) = sign_with_torsion(
        &seed,
        EdwardsPoint::default(),
        EIGHT_TORSION[1],
        &message,
        nonce,
    );
    assert_eq!(
        signer,
        Keypair::from_seed(&seed).public_key(),
        "the crafted key is the seed's key"
    );
    SignedTransaction {
        tx,
        chain_id: DEVNET_CHAIN_ID,
        signer,
        signature,
    }
}

fn honest(i: u64) -> SignedTransaction {
    Keypair::dev(i as u32).sign(DEVNET_CHAIN_ID, transfer(i))
}

/// Every way the sequencer and the L1 group signatures gives the same verdicts as
/// verifying each one alone. (On the old rule, cofactorless batches with fallback
/// to `verify_strict`, the crafted signature failed alone and in most batches but
/// passed about one batch in eight, so this failed.)
#[test]
fn verdicts_do_not_depend_on_grouping() {
    let cache = KeyCache::new(40 * KeyCache::ENTRY_BYTES);
    for trial in 0..64u64 {
        let mut txs: Vec<SignedTransaction> = (0..130).map(honest).collect();
        let position = (trial * 37 % 130) as usize;
        txs[position] = torsion_r_transaction(trial);
        let refs: Vec<&SignedTransaction> = txs.iter().collect();
        let alone: Vec<_> = txs.iter().map(|tx| tx.verify(DEVNET_CHAIN_ID)).collect();
        let whole = verify_transaction_refs(&refs, DEVNET_CHAIN_ID);
        assert_eq!(
            whole, alone,
            "trial {trial}: the whole batch (as the L1 checks)"
        );
        for group in [1, 7, 64] {
            let grouped: Vec<_> = refs
                .chunks(group)
                .flat_map(|chunk| verify_transaction_refs(chunk, DEVNET_CHAIN_ID))
                .collect();
            assert_eq!(grouped, alone, "trial {trial}: groups of {group}");
            // With decompressed keys from a cache (small enough to be cleared
            // on the way), the verdicts are the same.
            let grouped: Vec<_> = refs
                .chunks(group)
                .flat_map(|chunk| {
                    verify_transaction_refs_cached(chunk, DEVNET_CHAIN_ID, Some(&cache))
                })
                .collect();
            assert_eq!(grouped, alone, "trial {trial}: cached, groups of {group}");
        }
    }
}

/// The rule is ZIP-215: the cofactored equation, so a torsion component in `R`
/// does not make an otherwise correct signature invalid.
#[test]
fn torsion_in_r_is_valid_under_zip215() {
    let tx = torsion_r_transaction(3);
    assert_eq!(tx.verify(DEVNET_CHAIN_ID), Ok(()));
    let vk = ed25519_consensus::VerificationKey::try_from(tx.signer.0).unwrap();
    let sig = ed25519_consensus::Signature::from(tx.signature.0);
    assert!(
        vk.verify(&sig, &tx.tx.signing_message(DEVNET_CHAIN_ID))
            .is_ok()
    );
}

/// Encodings of small-order points, canonical and not (y + p where that fits in
/// 255 bits): ZIP-215 accepts non-canonical encodings of `R` and of keys.
fn small_order_encodings() -> Vec<[u8; 32]> {
    let mut found = Vec::new();
    for point in EIGHT_TORSION {
        let canonical = point.compress().to_bytes();
        found.push(canonical);
        // y < 19: y + p < 2^255 is a second, non-canonical encoding.
        let y_is_small = canonical[1..31].iter().all(|b| *b == 0) && (canonical[31] & 0x7f) == 0;
        if y_is_small && canonical[0] < 19 {
            // p = 2^255 - 19, little endian.
            let mut p = [0xffu8; 32];
            p[0] = 0xed;
            p[31] = 0x7f;
            let mut sum = [0u8; 32];
            let mut carry = canonical[0] as u16;
            for i in 0..32 {
                let v = p[i] as u16 + carry;
                sum[i] = v as u8;
                carry = v >> 8;
            }
            sum[31] |= canonical[31] & 0x80;
            found.push(sum);
        }
    }
    found
}

/// Our verdict equals ed25519-consensus (the ZIP-215 reference) for honest, torsion,
/// mixed-order-key, small-order-`R`, non-canonical and corrupted signatures, alone
/// and in one batch; small-order keys are refused outright by our key rule.
#[test]
fn verdicts_match_the_zip215_reference() {
    let mut cases: Vec<(PublicKey, Vec<u8>, Signature)> = Vec::new();
    for i in 0..8u64 {
        let seed = [i as u8 + 1; 32];
        let message = format!("message {i}").into_bytes();
        let keypair = Keypair::from_seed(&seed);
        let good = keypair.sign_bytes(&message);
        cases.push((keypair.public_key(), message.clone(), good));
        // Corrupted: s + 1, a flipped R byte, s non-canonical (s + l).
        let mut s_plus_one = good;
        let s = Scalar::from_canonical_bytes(good.0[32..].try_into().unwrap()).unwrap();
        s_plus_one.0[32..].copy_from_slice((s + Scalar::ONE).as_bytes());
        cases.push((keypair.public_key(), message.clone(), s_plus_one));
        let mut flipped = good;
        flipped.0[3] ^= 0x10;
        cases.push((keypair.public_key(), message.clone(), flipped));
        let mut s_plus_l = good;
        // l, the group order, little endian.
        let l = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap();
        let mut carry = 0u16;
        for j in 0..32 {
            let v = l[j] as u16 + good.0[32 + j] as u16 + carry;
            s_plus_l.0[32 + j] = v as u8;
            carry = v >> 8;
        }
        cases.push((keypair.public_key(), message.clone(), s_plus_l));
        // Torsion in R, in the key, in both.
        for (key_torsion, r_torsion) in [
            (EdwardsPoint::default(), EIGHT_TORSION[(i % 7 + 1) as usize]),
            (EIGHT_TORSION[(i % 7 + 1) as usize], EdwardsPoint::default()),
            (EIGHT_TORSION[4], EIGHT_TORSION[(i % 8) as usize]),
        ] {
            let (key, signature) = sign_with_torsion(&seed, key_torsion, r_torsion, &message, i);
            cases.push((key, message.clone(), signature));
        }
        // R of small order (any encoding) with s = k·a: valid under ZIP-215.
        let a = secret_scalar(&seed);
        for r in small_order_encodings() {
            let key = keypair.public_key();
            let k = challenge(&r, &key.0, &message);
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(&r);
            signature[32..].copy_from_slice((k * a).as_bytes());
            cases.push((key, message.clone(), Signature(signature)));
        }
    }
    let mut verdicts = Vec::new();
    for (key, message, signature) in &cases {
        let ours = keys::verify(key, message, signature);
        let reference = ed25519_consensus::VerificationKey::try_from(key.0)
            .and_then(|vk| vk.verify(&ed25519_consensus::Signature::from(signature.0), message));
        assert_eq!(
            ours.is_ok(),
            reference.is_ok(),
            "key {} signature {}",
            key.to_hex(),
            hex::encode(signature.0)
        );
        verdicts.push(ours);
    }
    assert!(verdicts.iter().any(Result::is_ok) && verdicts.iter().any(Result::is_err));
    let items: Vec<(&PublicKey, &[u8], &Signature)> =
        cases.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
    assert_eq!(verify_batch(&items), verdicts, "one batch of every case");
    // Keys of small order are refused whatever the signature.
    for key in small_order_encodings() {
        let signature = Signature([0u8; 64]);
        assert_eq!(
            keys::verify(&PublicKey(key), b"m", &signature),
            Err(SignatureError::InvalidPublicKey)
        );
    }
}
