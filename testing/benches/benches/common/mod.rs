//! What the L1 module benches share: a node over a temporary directory with the
//! STARK genesis, and a helper that signs, submits and seals one call.
#![allow(dead_code, clippy::unwrap_used)]

use ghostd::{Call, Genesis, Ghostd, GhostdConfig};
use ghostplane_primitives::{Amount, ChainId, Keypair, TokenId};
use ghostplane_prover::StarkBackend;
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::{L1GenesisBuilder, sign_l1};

/// A node whose genesis gives each of `funded` `gcc` GCC.
pub fn node(funded: &[Keypair], gcc: Amount) -> (tempfile::TempDir, Ghostd) {
    node_with(funded, gcc, |_| {})
}

/// [`node`], with `tweak` applied to the node's settings.
pub fn node_with(
    funded: &[Keypair],
    gcc: Amount,
    tweak: impl FnOnce(&mut GhostdConfig),
) -> (tempfile::TempDir, Ghostd) {
    let genesis = genesis(funded, gcc, ghostd_types::consensus::ConsensusMode::Solo);
    open(&genesis, tweak)
}

/// The bench genesis: `funded` get `gcc` GCC each; blocks decided by `consensus`.
pub fn genesis(
    funded: &[Keypair],
    gcc: Amount,
    consensus: ghostd_types::consensus::ConsensusMode,
) -> Genesis {
    let backend = StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap();
    L1GenesisBuilder::new(ghostplane_prover::proof_params(&backend))
        .fund(funded.iter().map(Keypair::public_key), TokenId::Gcc, gcc)
        .consensus(consensus)
        .l2_chain_id(ChainId(7))
        .operator(Keypair::dev(99).public_key())
        .forced_inclusion_blocks(1000)
        .deposit_queue_max(1000)
        .build()
}

/// A node on a temporary directory with `genesis`.
pub fn open(
    genesis: &Genesis,
    tweak: impl FnOnce(&mut GhostdConfig),
) -> (tempfile::TempDir, Ghostd) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = GhostdConfig::new(dir.path().to_path_buf());
    tweak(&mut config);
    let node = Ghostd::open(config, genesis).unwrap();
    (dir, node)
}

/// Signs `call` with `key`, submits it and seals a block.
pub fn run(node: &Ghostd, key: &Keypair, call: impl Into<Call>) {
    let tx = sign_l1(key, node.nonce(&key.public_key()).unwrap(), call);
    node.submit(tx).unwrap();
    node.seal().unwrap();
}
