//! Groth16 keys, proving and verification for the chunk circuit (BN254, ark-groth16).
//!
//! Devnet keys come from a setup whose randomness is derived from a fixed public seed
//! and the circuit hash. Anyone can recompute the toxic waste, so anyone can forge
//! proofs: **these keys are insecure and for development only.** Real deployments
//! load keys produced by a ceremony with [`ChunkKeys::load`].
//!
//! Key files: `<dir>/chunk<ops>-<circuit hash prefix>.pk` and `.vk`, each starting
//! with the magic `GPKEY1` and the full 32-byte circuit hash, then the arkworks
//! serialization (proving key uncompressed; verifying key compressed). Loading checks
//! the circuit hash; the verifying key's points are validated on load. The proving key
//! is not (a bad proving key can only produce proofs that fail verification).
//!
//! Proofs are 128 bytes: arkworks' compressed `(A ∈ G1, B ∈ G2, C ∈ G1)`.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ark_bn254::Bn254;
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ghostplane_primitives::Fr;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::circuit::{ChunkCircuit, CircuitShape, without_tracing};
use crate::error::Groth16Error;
use crate::witness::ChunkWitness;

/// Size of a serialized proof.
pub const PROOF_BYTES: usize = 128;

const MAGIC: &[u8; 6] = b"GPKEY1";

/// The seed the insecure devnet setup derives its randomness from.
pub const DEVNET_SETUP_CONTEXT: &str = "ghostplane devnet groth16 setup v1 (INSECURE)";

/// A serialized Groth16 proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkProof(pub [u8; PROOF_BYTES]);

impl ChunkProof {
    /// Hex form (what travels in JSON).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex form.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; PROOF_BYTES];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

/// The verifying side: enough to check chunk proofs (what the coordinator and the L1
/// hold).
#[derive(Clone)]
pub struct ChunkVerifier {
    circuit_hash: [u8; 32],
    vk: VerifyingKey<Bn254>,
    pvk: PreparedVerifyingKey<Bn254>,
}

impl ChunkVerifier {
    /// From a verifying key's compressed bytes (validated) and its circuit hash.
    pub fn from_bytes(circuit_hash: [u8; 32], vk_bytes: &[u8]) -> Result<Self, Groth16Error> {
        let vk =
            VerifyingKey::<Bn254>::deserialize_with_mode(vk_bytes, Compress::Yes, Validate::Yes)
                .map_err(|source| Groth16Error::Serialization {
                    what: "verifying key",
                    source,
                })?;
        Ok(Self::new(circuit_hash, vk))
    }

    fn new(circuit_hash: [u8; 32], vk: VerifyingKey<Bn254>) -> Self {
        let pvk = ark_groth16::prepare_verifying_key(&vk);
        Self {
            circuit_hash,
            vk,
            pvk,
        }
    }

    /// The circuit this key verifies.
    pub fn circuit_hash(&self) -> [u8; 32] {
        self.circuit_hash
    }

    /// The verifying key, compressed (for the L1 genesis).
    pub fn vk_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.vk.serialize_compressed(&mut out);
        out
    }

    /// Checks `proof` against the public inputs `[old_root, new_root, C]`.
    pub fn verify_inputs(&self, inputs: &[Fr; 3], proof: &ChunkProof) -> Result<(), Groth16Error> {
        let proof =
            Proof::<Bn254>::deserialize_with_mode(&proof.0[..], Compress::Yes, Validate::Yes)
                .map_err(|source| Groth16Error::Serialization {
                    what: "proof",
                    source,
                })?;
        match Groth16::<Bn254>::verify_proof(&self.pvk, &proof, inputs) {
            Ok(true) => Ok(()),
            _ => Err(Groth16Error::BadProof),
        }
    }

    /// Checks `proof` for the chunk `witness` describes.
    pub fn verify(&self, witness: &ChunkWitness, proof: &ChunkProof) -> Result<(), Groth16Error> {
        self.verify_inputs(&witness.public_inputs(), proof)
    }
}

/// Proving and verifying keys of one circuit shape.
pub struct ChunkKeys {
    shape: CircuitShape,
    pk: ProvingKey<Bn254>,
    verifier: ChunkVerifier,
}

fn file_names(dir: &Path, shape: &CircuitShape) -> (PathBuf, PathBuf) {
    let hash = hex::encode(&shape.circuit_hash()[..8]);
    let stem = format!("chunk{}-{hash}", shape.chunk_ops);
    (
        dir.join(format!("{stem}.pk")),
        dir.join(format!("{stem}.vk")),
    )
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Groth16Error {
    move |source| Groth16Error::Io { context, source }
}

impl ChunkKeys {
    /// The insecure, deterministic devnet setup for `chunk_ops` slots.
    pub fn devnet_setup(chunk_ops: usize) -> Result<Self, Groth16Error> {
        let shape = CircuitShape::measure(chunk_ops)?;
        let seed = blake3::derive_key(DEVNET_SETUP_CONTEXT, &shape.circuit_hash());
        let mut rng = ChaCha20Rng::from_seed(seed);
        let pk = without_tracing(|| {
            Groth16::<Bn254>::generate_random_parameters_with_reduction(
                ChunkCircuit::blank(chunk_ops),
                &mut rng,
            )
        })?;
        let verifier = ChunkVerifier::new(shape.circuit_hash(), pk.vk.clone());
        Ok(Self {
            shape,
            pk,
            verifier,
        })
    }

    /// Loads the keys for `chunk_ops` from `dir`, or runs the insecure devnet setup and
    /// stores them there. Reports progress and sizes on stderr when `report` is set.
    pub fn load_or_setup(dir: &Path, chunk_ops: usize, report: bool) -> Result<Self, Groth16Error> {
        let shape = CircuitShape::measure(chunk_ops)?;
        let (pk_path, vk_path) = file_names(dir, &shape);
        if pk_path.exists() && vk_path.exists() {
            return Self::load(&pk_path, &vk_path, chunk_ops);
        }
        let spinner = report.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(format!(
                "INSECURE devnet Groth16 setup (public seed), chunk_ops={} constraints={}",
                shape.chunk_ops, shape.constraints
            ));
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        let started = Instant::now();
        let keys = Self::devnet_setup(chunk_ops)?;
        std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
        keys.store(dir)?;
        if let Some(bar) = spinner {
            bar.finish_and_clear();
        }
        if report {
            let pk_len = std::fs::metadata(&pk_path).map(|m| m.len()).unwrap_or(0);
            let vk_len = std::fs::metadata(&vk_path).map(|m| m.len()).unwrap_or(0);
            eprintln!(
                "generated INSECURE devnet keys in {:.1?}: proving key {} bytes, verifying key {} bytes, in {}",
                started.elapsed(),
                pk_len,
                vk_len,
                dir.display()
            );
        }
        Ok(keys)
    }

    /// Writes both key files to `dir` (via temporary files, renamed into place).
    pub fn store(&self, dir: &Path) -> Result<(PathBuf, PathBuf), Groth16Error> {
        let (pk_path, vk_path) = file_names(dir, &self.shape);
        let hash = self.shape.circuit_hash();
        write_key(&pk_path, &hash, |w| self.pk.serialize_uncompressed(w))?;
        write_key(&vk_path, &hash, |w| self.pk.vk.serialize_compressed(w))?;
        Ok((pk_path, vk_path))
    }

    /// Loads keys made elsewhere (e.g. by a ceremony) for a circuit of `chunk_ops`.
    pub fn load(pk_path: &Path, vk_path: &Path, chunk_ops: usize) -> Result<Self, Groth16Error> {
        let shape = CircuitShape::measure(chunk_ops)?;
        let expected = shape.circuit_hash();
        let vk: VerifyingKey<Bn254> = read_key(vk_path, &expected, |r| {
            VerifyingKey::deserialize_with_mode(r, Compress::Yes, Validate::Yes)
        })?;
        let pk: ProvingKey<Bn254> = read_key(pk_path, &expected, |r| {
            ProvingKey::deserialize_with_mode(r, Compress::No, Validate::No)
        })?;
        if pk.vk != vk {
            return Err(Groth16Error::KeyMismatch {
                path: pk_path.display().to_string(),
                found: "a proving key of another setup".into(),
                expected: "the verifying key's setup".into(),
            });
        }
        Ok(Self {
            shape,
            verifier: ChunkVerifier::new(expected, vk),
            pk,
        })
    }

    /// The circuit's shape.
    pub fn shape(&self) -> &CircuitShape {
        &self.shape
    }

    /// The verifying side.
    pub fn verifier(&self) -> &ChunkVerifier {
        &self.verifier
    }

    /// Proving key size when serialized uncompressed.
    pub fn proving_key_bytes(&self) -> usize {
        self.pk.uncompressed_size()
    }

    /// Proves one chunk. Uses the current rayon pool's threads.
    pub fn prove(&self, witness: &ChunkWitness) -> Result<ChunkProof, Groth16Error> {
        if witness.chunk_ops() != self.shape.chunk_ops {
            return Err(Groth16Error::WrongChunkSize {
                found: witness.chunk_ops(),
                expected: self.shape.chunk_ops,
            });
        }
        let mut rng = ChaCha20Rng::from_rng(rand_core::OsRng).map_err(|e| Groth16Error::Io {
            context: "seed prover randomness".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let proof = without_tracing(|| {
            Groth16::<Bn254>::create_random_proof_with_reduction(
                ChunkCircuit::new(witness),
                &self.pk,
                &mut rng,
            )
        })?;
        let mut bytes = [0u8; PROOF_BYTES];
        proof
            .serialize_compressed(&mut bytes[..])
            .map_err(|source| Groth16Error::Serialization {
                what: "proof",
                source,
            })?;
        Ok(ChunkProof(bytes))
    }
}

fn write_key(
    path: &Path,
    hash: &[u8; 32],
    body: impl FnOnce(&mut BufWriter<std::fs::File>) -> Result<(), ark_serialize::SerializationError>,
) -> Result<(), Groth16Error> {
    let tmp = path.with_extension("tmp");
    let file = std::fs::File::create(&tmp).map_err(io(format!("create {}", tmp.display())))?;
    let mut w = BufWriter::new(file);
    w.write_all(MAGIC)
        .and_then(|()| w.write_all(hash))
        .map_err(io(format!("write {}", tmp.display())))?;
    body(&mut w).map_err(|source| Groth16Error::Serialization {
        what: "key",
        source,
    })?;
    let file = w.into_inner().map_err(|e| Groth16Error::Io {
        context: format!("flush {}", tmp.display()),
        source: e.into_error(),
    })?;
    file.sync_all()
        .map_err(io(format!("sync {}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(io(format!("rename to {}", path.display())))
}

fn read_key<T>(
    path: &Path,
    expected: &[u8; 32],
    body: impl FnOnce(&mut BufReader<std::fs::File>) -> Result<T, ark_serialize::SerializationError>,
) -> Result<T, Groth16Error> {
    let file = std::fs::File::open(path).map_err(io(format!("open {}", path.display())))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut header = [0u8; 38];
    r.read_exact(&mut header)
        .map_err(io(format!("read {}", path.display())))?;
    if &header[..6] != MAGIC || header[6..] != expected[..] {
        return Err(Groth16Error::KeyMismatch {
            path: path.display().to_string(),
            found: if &header[..6] == MAGIC {
                hex::encode(&header[6..])
            } else {
                "(not a ghostplane key file)".into()
            },
            expected: hex::encode(expected),
        });
    }
    body(&mut r).map_err(|source| Groth16Error::Serialization {
        what: "key",
        source,
    })
}
