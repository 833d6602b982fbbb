//! ed25519 keys: generation, signing, and single and batched verification.
//!
//! **Validity rule.** A signature is valid iff `ed25519-dalek`'s `verify_strict`
//! accepts it: canonical `s`, and neither `R` nor the public key of small order.
//! Public keys of small order ("weak" keys) are rejected outright.
//!
//! **Batches.** [`verify_batch`] first runs dalek's batch equation over the whole
//! batch (one multiscalar multiplication, about half the cost of verifying one by
//! one). If the batch equation fails, every signature is re-verified on its own with
//! the strict rule, so the per-item result names exactly the bad ones. Honestly made
//! signatures (torsion-free `R` and key) pass both paths alike; a signature whose
//! `R` carries a torsion component can only be made by the key's owner and may pass
//! the batch equation while failing the strict rule, which is why the L1 re-verifies
//! every signature in the posted pubdata deterministically.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::OsRng;

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

fn verifying_key(key: &PublicKey) -> Result<VerifyingKey, SignatureError> {
    let key = VerifyingKey::from_bytes(&key.0).map_err(|_| SignatureError::InvalidPublicKey)?;
    if key.is_weak() {
        return Err(SignatureError::InvalidPublicKey);
    }
    Ok(key)
}

/// Checks that `key` is usable as an account key (a valid point, not of small order).
pub fn validate_public_key(key: &PublicKey) -> Result<(), SignatureError> {
    verifying_key(key).map(|_| ())
}

/// Verifies one signature with the strict rule.
pub fn verify(
    key: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let key = verifying_key(key)?;
    let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
    key.verify_strict(message, &signature)
        .map_err(|_| SignatureError::BadSignature)
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
/// item, in order. See the module docs for how this relates to [`verify`].
pub fn verify_batch(items: &[(&PublicKey, &[u8], &Signature)]) -> Vec<Result<(), SignatureError>> {
    let mut keys = Vec::with_capacity(items.len());
    let mut key_errors = false;
    for (key, _, _) in items {
        match verifying_key(key) {
            Ok(key) => keys.push(key),
            Err(_) => {
                key_errors = true;
                break;
            }
        }
    }
    if !key_errors && !items.is_empty() {
        let messages: Vec<&[u8]> = items.iter().map(|(_, message, _)| *message).collect();
        let signatures: Vec<ed25519_dalek::Signature> = items
            .iter()
            .map(|(_, _, signature)| ed25519_dalek::Signature::from_bytes(&signature.0))
            .collect();
        if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
            return vec![Ok(()); items.len()];
        }
    }
    items
        .iter()
        .map(|(key, message, signature)| verify(key, message, signature))
        .collect()
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
    for (i, result) in on_chain.iter().zip(verify_batch(&items)) {
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
