//! The fixture the L1 module and chain tests share (feature `node`): a real node
//! on a temporary directory with a manual clock, dev keys funded with GCC, a STARK
//! rollup, and helpers to sign, submit and seal. A setup failure panics: it is a
//! broken test, not a case to handle.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use ghostd::{Call, Genesis, Ghostd, GhostdConfig, L1Outcome, SignedL1Transaction};
use ghostd_types::consensus::ConsensusMode;
use ghostd_types::ledger::IssuerAuthority;
use ghostd_types::naming::NamingParams;
use ghostplane_primitives::clock::ManualClock;
use ghostplane_primitives::{ChainId, Keypair, TokenId};
use ghostplane_prover::{ProofBackend, StarkBackend};
use ghostplane_stark::config::FriSettings;

use crate::{L1GenesisBuilder, sign_l1};

/// 2026-12-05T00:00:00Z.
pub const T0_MS: u64 = 1_796_428_800_000;
/// GCC each of dev0..dev7 starts with.
pub const FUNDS: u128 = 1_000_000;

/// A node on a temporary directory, on a manual clock.
pub struct Fixture {
    /// The node's directory (removed on drop).
    pub _dir: tempfile::TempDir,
    /// The node.
    pub node: Ghostd,
    /// Its clock.
    pub clock: Arc<ManualClock>,
}

/// A node with the default naming parameters.
pub fn fixture() -> Fixture {
    fixture_with(NamingParams::default())
}

/// A node whose genesis has these naming parameters.
pub fn fixture_with(naming: NamingParams) -> Fixture {
    fixture_genesis(naming, Vec::new())
}

/// A node whose genesis has these naming parameters and token issuers.
pub fn fixture_genesis(naming: NamingParams, issuers: Vec<(TokenId, IssuerAuthority)>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(&dir, naming, issuers, ConsensusMode::Solo);
    let (node, clock) = open(&dir, &genesis, ManualClock::new(T0_MS));
    Fixture {
        _dir: dir,
        node,
        clock,
    }
}

/// The test genesis: dev0..dev7 funded with GCC, a STARK rollup, `consensus`.
pub fn genesis(
    dir: &tempfile::TempDir,
    naming: NamingParams,
    issuers: Vec<(TokenId, IssuerAuthority)>,
    consensus: ConsensusMode,
) -> Genesis {
    let backend: Arc<dyn ProofBackend> =
        Arc::new(StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap());
    let db = ghostplane_prover::open_db(&dir.path().join("prover")).unwrap();
    let mut tree = ghostplane_prover::AccountTree::open(db, backend.tree_hash()).unwrap();
    tree.commit(0, rocksdb::WriteBatch::default()).unwrap();
    L1GenesisBuilder::new(ghostplane_prover::proof_params(backend.as_ref()))
        .timestamp_ms(T0_MS)
        .fund(
            (0..8).map(|i| Keypair::dev(i).public_key()),
            TokenId::Gcc,
            FUNDS,
        )
        .naming(naming)
        .issuers(issuers)
        .consensus(consensus)
        .l2_chain_id(ChainId(7))
        .operator(Keypair::dev(99).public_key())
        .genesis_root(tree.root().unwrap())
        .build()
}

/// Opens a node on `dir` with `genesis`, on `clock`.
pub fn open(
    dir: &tempfile::TempDir,
    genesis: &Genesis,
    clock: Arc<ManualClock>,
) -> (Ghostd, Arc<ManualClock>) {
    open_with(dir, genesis, clock, |_| {})
}

/// [`open`], with the node's settings changed by `configure` first.
pub fn open_with(
    dir: &tempfile::TempDir,
    genesis: &Genesis,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut GhostdConfig),
) -> (Ghostd, Arc<ManualClock>) {
    let mut config = GhostdConfig::new(dir.path().join("l1"));
    config.clock = clock.clone();
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    configure(&mut config);
    (Ghostd::open(config, genesis).unwrap(), clock)
}

/// `call` signed by `key` at `nonce` ([`sign_l1`]).
pub fn tx(key: &Keypair, nonce: u64, call: Call) -> SignedL1Transaction {
    sign_l1(key, nonce, call)
}

impl Fixture {
    /// The next nonce of `key`.
    pub fn nonce(&self, key: &Keypair) -> u64 {
        self.node.nonce(&key.public_key()).unwrap()
    }

    /// Submits `call` signed by `key`, seals a block a second later, and returns the
    /// outcome.
    pub fn run(&self, key: &Keypair, call: impl Into<Call>) -> L1Outcome {
        let hash = self
            .node
            .submit(tx(key, self.nonce(key), call.into()))
            .unwrap();
        self.seal();
        self.node.receipt(&hash).unwrap().unwrap().outcome
    }

    /// [`Fixture::run`], which must succeed.
    pub fn ok(&self, key: &Keypair, call: impl Into<Call>) {
        assert_eq!(self.run(key, call), L1Outcome::Success);
    }

    /// Seals a block a second after the last; returns its height.
    pub fn seal(&self) -> u64 {
        self.clock.advance(Duration::from_secs(1));
        self.node.seal().unwrap().number
    }
}
