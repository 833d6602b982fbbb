//! What the L1 module benches share: a node over a temporary directory with the
//! STARK genesis, and a helper that signs, submits and seals one call.
#![allow(dead_code, clippy::unwrap_used)]

use ghostd::{
    Call, Genesis, Ghostd, GhostdConfig, L1_DEVNET_CHAIN_ID, L1Transaction, RollupGenesis,
};
use ghostplane_primitives::{Amount, ChainId, FieldBytes, Keypair, L1Address, TokenId};
use ghostplane_prover::StarkBackend;
use ghostplane_stark::config::FriSettings;

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
    Genesis {
        chain_id: L1_DEVNET_CHAIN_ID,
        timestamp_ms: 0,
        allocations: funded
            .iter()
            .map(|k| (L1Address(k.public_key().0), TokenId::Gcc, gcc))
            .collect(),
        naming: Default::default(),
        issuers: Vec::new(),
        consensus,
        rollup: RollupGenesis {
            l2_chain_id: ChainId(7),
            operators: vec![Keypair::dev(99).public_key()],
            proof: ghostplane_prover::proof_params(&backend),
            genesis_root: FieldBytes::from_bytes([0; 32]).unwrap(),
            genesis_accounts: Vec::new(),
            forced_inclusion_blocks: 1000,
            deposit_queue_max: 1000,
        },
    }
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
    let tx = L1Transaction {
        chain_id: L1_DEVNET_CHAIN_ID,
        from: key.public_key(),
        nonce: node.nonce(&key.public_key()).unwrap(),
        call: call.into(),
    }
    .sign(key);
    node.submit(tx).unwrap();
    node.seal().unwrap();
}
