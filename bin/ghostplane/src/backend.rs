//! The proof-backend options every command that proves or verifies shares, and the
//! one place a [`ProofBackend`] is built from them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use ghostplane_prover::stark::DEVNET_SEGMENT_SLOTS;
use ghostplane_prover::{
    ChunkKeys, DEVNET_CHUNK_OPS, Groth16Backend, ProofBackend, ProofSystem, StarkBackend,
};
use ghostplane_stark::config::FriSettings;

/// Which proof system, and its size and keys.
#[derive(Args, Clone, Debug)]
pub struct BackendArgs {
    /// Proof system: `stark` (Plonky3, no trusted setup) or `groth16` (BN254; devnet
    /// keys from a public seed, INSECURE). Fixed at genesis.
    #[arg(long, default_value = "stark")]
    pub proof_system: ProofSystem,
    /// Ops per proof segment. groth16: the circuit's chunk size (default 16; keys are
    /// built per size). stark: the full segment, a power of two (default 1024; one
    /// slot holds the fee credit, and a segment that is not full is proven at the
    /// smallest power of two that holds it).
    #[arg(long)]
    pub chunk_ops: Option<usize>,
    /// groth16: where devnet keys are cached (built on first use from the public
    /// seed: INSECURE).
    #[arg(long, default_value = "./.ghostplane/keys")]
    pub keys_dir: PathBuf,
    /// groth16: a proving key made elsewhere (e.g. by a ceremony); needs --vk.
    #[arg(long, requires = "vk")]
    pub pk: Option<PathBuf>,
    /// groth16: a verifying key made elsewhere; needs --pk.
    #[arg(long, requires = "pk")]
    pub vk: Option<PathBuf>,
}

impl BackendArgs {
    /// The groth16 keys these options name (built or loaded).
    pub fn groth16_keys(&self, report: bool) -> anyhow::Result<ChunkKeys> {
        let chunk_ops = self.chunk_ops.unwrap_or(DEVNET_CHUNK_OPS);
        match (&self.pk, &self.vk) {
            (Some(pk), Some(vk)) => ChunkKeys::load(pk, vk, chunk_ops)
                .with_context(|| format!("loading keys {} and {}", pk.display(), vk.display())),
            _ => ChunkKeys::load_or_setup(&self.keys_dir, chunk_ops, report)
                .with_context(|| format!("keys in {}", self.keys_dir.display())),
        }
    }

    /// The backend (Groth16 setup or key loading can take a while: call it off the
    /// async workers).
    pub fn load(&self, report: bool) -> anyhow::Result<Arc<dyn ProofBackend>> {
        Ok(match self.proof_system {
            ProofSystem::Groth16 => {
                Arc::new(Groth16Backend::new(Arc::new(self.groth16_keys(report)?)))
            }
            ProofSystem::Stark => Arc::new(StarkBackend::new(
                FriSettings::SETTLEMENT,
                self.chunk_ops.unwrap_or(DEVNET_SEGMENT_SLOTS),
            )?),
        })
    }
}
