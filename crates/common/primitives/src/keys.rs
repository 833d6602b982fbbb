//! ed25519 keys: generation, signing, and single and batched verification.
//!
//! **Validity rule: ZIP-215**, the rule Zcash, Penumbra and Tendermint use for
//! consensus: the key and `R` must decode to curve points (non-canonical encodings
//! accepted), `s` must be canonical (`s < ℓ`), and the *cofactored* equation
//! `[8](R − [s]B + [k]A) = 0` must hold, with `k = SHA-512(R ‖ A ‖ M)` over the bytes
//! as given. On top of it, keys of small order ("weak" keys) are refused outright.
//!
//! **Batches agree with single checks, whatever the grouping.** [`verify_batch`]
//! checks the cofactored batch equation with random 128-bit coefficients; if every
//! signature holds alone, the batch holds (deterministically: the torsion parts are
//! killed by the cofactor); if one fails alone, the batch fails except with
//! probability about 2^-128, and then it is halved and each half checked the same
//! way, down to single checks, so each result is exactly [`verify`]'s. The
//! sequencer verifies in one group per core (at least 64) and the L1 a whole batch
//! at once; they reach the same verdicts. (The rule before this one,
//! ed25519-dalek's cofactorless batch equation with `verify_strict` as fallback, let
//! a signature whose `R` carries an order-8 component pass about one batch in eight
//! and fail alone: its owner could get it admitted by the sequencer and have the L1
//! refuse the batch forever. `tests/grouping.rs` shows this.) The equations are
//! written on curve25519-dalek 4 (its AVX2 backend), and `tests/grouping.rs` checks
//! every verdict against `ed25519-consensus`, the reference implementation.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signer, SigningKey};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha512};

use crate::tx::{SignedTransaction, Transaction};
use crate::types::{ChainId, PublicKey, Signature};

/// Why a signature was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The public key bytes are not a valid ed25519 point, or the point has small order.
    #[error("public key is not a valid ed25519 key (not a curve point, or a weak key)")]
    InvalidPublicKey,
    /// The signature does not verify for this key and message.
    #[error("signature does not verify for the signer key over this chain id and transaction")]
    BadSignature,
    /// The transaction names another chain.
    #[error("transaction is for chain {got}, this chain is {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The chain the transaction names.
        got: ChainId,
    },
}

/// An ed25519 signing key.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    /// A new key from the operating system's random source.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut OsRng),
        }
    }

    /// The key with this 32-byte secret seed (RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// Development account `index`: seed = blake3 derive-key("ghostplane devnet
    /// account v1", index as u32 little-endian). The seed is public: these keys are for
    /// local devnets and tests only, never for value.
    pub fn dev(index: u32) -> Self {
        let seed = blake3::derive_key("ghostplane devnet account v1", &index.to_le_bytes());
        Self::from_seed(&seed)
    }

    /// The secret seed. Keep it secret.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs raw bytes.
    pub fn sign_bytes(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }

    /// Signs `tx` for `chain_id`.
    pub fn sign(&self, chain_id: ChainId, tx: Transaction) -> SignedTransaction {
        let signature = self.sign_bytes(&tx.signing_message(chain_id));
        SignedTransaction {
            tx,
            chain_id,
            signer: self.public_key(),
            signature,
        }
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({})", self.public_key().to_hex())
    }
}

/// The key rule: the bytes decompress to a curve point (ZIP-215: non-canonical
/// encodings included) that is not of small order.
fn key_point(key: &PublicKey) -> Result<EdwardsPoint, SignatureError> {
    let point = CompressedEdwardsY(key.0)
        .decompress()
        .ok_or(SignatureError::InvalidPublicKey)?;
    if point.is_small_order() {
        return Err(SignatureError::InvalidPublicKey);
    }
    Ok(point)
}

/// Decompressed, checked account keys, so a busy sender's key is decompressed once
/// and not once per signature (decompressing `A` is about a sixth of a batch
/// verification). Only valid keys are kept, so a hit gives exactly what
/// [`key_point`] would. Shared by threads (16 locked shards); bounded in bytes:
/// a shard past its share is cleared.
pub struct KeyCache {
    shards: Vec<std::sync::Mutex<std::collections::HashMap<[u8; 32], EdwardsPoint>>>,
    shard_entries_max: usize,
}

impl KeyCache {
    const SHARDS: usize = 16;
    /// What one entry costs: key, point and the map's overhead.
    pub const ENTRY_BYTES: usize = 32 + std::mem::size_of::<EdwardsPoint>() + 32;

    /// A cache holding at most about `bytes_max` bytes.
    pub fn new(bytes_max: usize) -> Self {
        Self {
            shards: (0..Self::SHARDS).map(|_| Default::default()).collect(),
            shard_entries_max: (bytes_max / Self::ENTRY_BYTES / Self::SHARDS).max(1),
        }
    }

    /// Keys held (for metrics and tests).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map_or(0, |map| map.len()))
            .sum()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn point(&self, key: &PublicKey) -> Result<EdwardsPoint, SignatureError> {
        let shard = &self.shards[usize::from(key.0[0]) % Self::SHARDS];
        if let Ok(map) = shard.lock()
            && let Some(point) = map.get(&key.0)
        {
            return Ok(*point);
        }
        let point = key_point(key)?;
        if let Ok(mut map) = shard.lock() {
            if map.len() >= self.shard_entries_max {
                map.clear();
            }
            map.insert(key.0, point);
        }
        Ok(point)
    }
}

/// Checks that `key` is usable as an account key (a valid point, not of small order).
pub fn validate_public_key(key: &PublicKey) -> Result<(), SignatureError> {
    key_point(key).map(|_| ())
}

/// `R`, `s` and the challenge `k = SHA-512(R ‖ A ‖ M)` of a signature, over the
/// bytes as given (ZIP-215): `R` must decompress, `s` must be canonical (`s < ℓ`).
fn signature_parts(
    key: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(EdwardsPoint, Scalar, Scalar), SignatureError> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&signature.0[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature.0[32..]);
    let r = CompressedEdwardsY(r_bytes)
        .decompress()
        .ok_or(SignatureError::BadSignature)?;
    let s: Option<Scalar> = Scalar::from_canonical_bytes(s_bytes).into();
    let s = s.ok_or(SignatureError::BadSignature)?;
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.0)
            .chain_update(message),
    );
    Ok((r, s, k))
}

/// Verifies one signature with the ZIP-215 rule: `[8](R − [s]B + [k]A) = 0`.
pub fn verify(
    key: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let a = key_point(key)?;
    let (r, s, k) = signature_parts(key, message, signature)?;
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &(-a), &s);
    if (r - sb_minus_ka).mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(SignatureError::BadSignature)
    }
}

impl SignedTransaction {
    /// Verifies that the transaction is for `chain_id` and that its signature holds.
    pub fn verify(&self, chain_id: ChainId) -> Result<(), SignatureError> {
        if self.chain_id != chain_id {
            return Err(SignatureError::WrongChain {
                expected: chain_id,
                got: self.chain_id,
            });
        }
        verify(
            &self.signer,
            &self.tx.signing_message(chain_id),
            &self.signature,
        )
    }
}

/// Verifies `(key, message, signature)` triples as one batch; returns one result per
/// item, in order, each equal to [`verify`] of that item (see the module docs).
pub fn verify_batch(items: &[(&PublicKey, &[u8], &Signature)]) -> Vec<Result<(), SignatureError>> {
    verify_batch_with(items, None)
}

fn verify_batch_with(
    items: &[(&PublicKey, &[u8], &Signature)],
    keys: Option<&KeyCache>,
) -> Vec<Result<(), SignatureError>> {
    if items.is_empty() {
        return Vec::new();
    }
    if batch_equation_holds(items, keys) == Some(true) {
        return vec![Ok(()); items.len()];
    }
    // Something failed: halve and check each half as a batch, down to single
    // checks, so one bad signature costs about two batch checks and not a single
    // check of every other item (the verdicts are the same either way).
    if items.len() > BISECT_BELOW {
        let (left, right) = items.split_at(items.len() / 2);
        let mut results = verify_batch_with(left, keys);
        results.extend(verify_batch_with(right, keys));
        return results;
    }
    items
        .iter()
        .map(|(key, message, signature)| verify(key, message, signature))
        .collect()
}

/// A failed batch at most this long is checked one signature at a time.
const BISECT_BELOW: usize = 8;

/// The cofactored batch equation `[8]([−Σ zᵢsᵢ]B + Σ [zᵢ]Rᵢ + Σ [zᵢkᵢ]Aᵢ) = 0` with
/// random 128-bit `zᵢ`; `None` if an item does not even parse.
fn batch_equation_holds(
    items: &[(&PublicKey, &[u8], &Signature)],
    keys: Option<&KeyCache>,
) -> Option<bool> {
    let mut randomness = vec![0u8; 16 * items.len()];
    OsRng.fill_bytes(&mut randomness);
    let mut scalars = Vec::with_capacity(2 * items.len() + 1);
    let mut points = Vec::with_capacity(2 * items.len() + 1);
    let mut b_coefficient = Scalar::ZERO;
    for ((key, message, signature), z) in items.iter().zip(randomness.chunks_exact(16)) {
        let a = match keys {
            Some(cache) => cache.point(key),
            None => key_point(key),
        }
        .ok()?;
        let (r, s, k) = signature_parts(key, message, signature).ok()?;
        let mut z_bytes = [0u8; 16];
        z_bytes.copy_from_slice(z);
        let z = Scalar::from(u128::from_le_bytes(z_bytes));
        b_coefficient -= z * s;
        scalars.push(z);
        points.push(r);
        scalars.push(z * k);
        points.push(a);
    }
    scalars.push(b_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    let check = EdwardsPoint::vartime_multiscalar_mul(scalars, points);
    Some(check.mul_by_cofactor().is_identity())
}

/// Verifies the signatures of `txs` for `chain_id` as one batch; one result per
/// transaction, in order. Transactions for another chain fail with
/// [`SignatureError::WrongChain`] without being verified.
pub fn verify_transactions(
    txs: &[SignedTransaction],
    chain_id: ChainId,
) -> Vec<Result<(), SignatureError>> {
    let refs: Vec<&SignedTransaction> = txs.iter().collect();
    verify_transaction_refs(&refs, chain_id)
}

/// [`verify_transactions`] over borrowed transactions, for callers that hold them
/// inside other structures (no copy needed).
pub fn verify_transaction_refs(
    txs: &[&SignedTransaction],
    chain_id: ChainId,
) -> Vec<Result<(), SignatureError>> {
    verify_transaction_refs_cached(txs, chain_id, None)
}

/// [`verify_transaction_refs`] taking decompressed signer keys from `keys` (and
/// adding the ones it decompresses): the same verdicts, less work for repeat senders.
pub fn verify_transaction_refs_cached(
    txs: &[&SignedTransaction],
    chain_id: ChainId,
    keys: Option<&KeyCache>,
) -> Vec<Result<(), SignatureError>> {
    let mut results: Vec<Result<(), SignatureError>> = txs
        .iter()
        .map(|tx| {
            if tx.chain_id == chain_id {
                Ok(())
            } else {
                Err(SignatureError::WrongChain {
                    expected: chain_id,
                    got: tx.chain_id,
                })
            }
        })
        .collect();
    let on_chain: Vec<usize> = (0..txs.len()).filter(|i| results[*i].is_ok()).collect();
    let messages: Vec<Vec<u8>> = on_chain
        .iter()
        .map(|i| txs[*i].tx.signing_message(chain_id))
        .collect();
    let items: Vec<(&PublicKey, &[u8], &Signature)> = on_chain
        .iter()
        .zip(&messages)
        .map(|(i, message)| (&txs[*i].signer, message.as_slice(), &txs[*i].signature))
        .collect();
    for (i, result) in on_chain.iter().zip(verify_batch_with(&items, keys)) {
        results[*i] = result;
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
    #[test]
    fn rfc8032_vectors() {
        let cases = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
                "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            ),
        ];
        for (seed, public, message, signature) in cases {
            let seed: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
            let keypair = Keypair::from_seed(&seed);
            assert_eq!(keypair.public_key().to_hex(), public);
            let message = hex::decode(message).unwrap();
            let produced = keypair.sign_bytes(&message);
            assert_eq!(hex::encode(produced.0), signature);
            assert_eq!(verify(&keypair.public_key(), &message, &produced), Ok(()));
        }
    }

    #[test]
    fn weak_and_invalid_keys_are_rejected() {
        // The identity point (small order) is a weak key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            validate_public_key(&PublicKey(identity)),
            Err(SignatureError::InvalidPublicKey)
        );
        let signature = Signature([0u8; 64]);
        assert_eq!(
            verify(&PublicKey(identity), b"m", &signature),
            Err(SignatureError::InvalidPublicKey)
        );
    }

    #[test]
    fn batch_reports_exactly_the_bad_items() {
        let keys: Vec<Keypair> = (0u8..8).map(|i| Keypair::from_seed(&[i; 32])).collect();
        let messages: Vec<Vec<u8>> = (0u8..8).map(|i| vec![i; 40]).collect();
        let mut signatures: Vec<Signature> = keys
            .iter()
            .zip(&messages)
            .map(|(k, m)| k.sign_bytes(m))
            .collect();
        let publics: Vec<PublicKey> = keys.iter().map(Keypair::public_key).collect();
        let build = |signatures: &[Signature]| {
            publics
                .iter()
                .zip(&messages)
                .zip(signatures)
                .map(|((k, m), s)| verify_batch(&[(k, m.as_slice(), s)]).remove(0))
                .collect::<Vec<_>>()
        };
        assert!(build(&signatures).iter().all(Result::is_ok));

        signatures[3].0[10] ^= 1;
        signatures[6] = keys[6].sign_bytes(b"another message");
        let items: Vec<(&PublicKey, &[u8], &Signature)> = publics
            .iter()
            .zip(&messages)
            .zip(&signatures)
            .map(|((k, m), s)| (k, m.as_slice(), s))
            .collect();
        let results = verify_batch(&items);
        for (i, result) in results.iter().enumerate() {
            if i == 3 || i == 6 {
                assert_eq!(*result, Err(SignatureError::BadSignature), "item {i}");
            } else {
                assert_eq!(*result, Ok(()), "item {i}");
            }
        }
        assert_eq!(build(&signatures), results);
        assert!(verify_batch(&[]).is_empty());
    }
}
