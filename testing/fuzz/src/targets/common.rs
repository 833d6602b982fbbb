//! What several targets share: chain constants, the one-encoding check, the
//! decoder bound, seed inputs and a real ghostd with a manual clock.

use std::sync::Arc;

use ghostd::{Call, Ghostd, GhostdConfig};
use ghostd_types::identity::IdentityCall;
use ghostd_types::naming::NamingCall;
use ghostd_types::tx::{LedgerCall, RollupCall};
use ghostplane_primitives::clock::ManualClock;
use ghostplane_primitives::{
    AccountId, ChainId, Codec, ContractAddress, Keypair, L1Address, Recipient, TokenId, Transaction,
};
use ghostplane_prover::{AccountTree, ProofBackend, StarkBackend};
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::L1GenesisBuilder;
pub(super) use ghostplane_test_utils::sign_l1;

pub(super) const L2_CHAIN: ChainId = ChainId(7);
/// 2026-12-05T00:00:00Z.
pub(super) const T0_MS: u64 = 1_796_428_800_000;

pub(super) fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap_or(AccountId::MAX)
}

/// An accepted input must re-encode to exactly its bytes.
pub(super) fn same_bytes(input: &[u8], encoded: &[u8], what: &str) -> Result<(), String> {
    if input == encoded {
        Ok(())
    } else {
        Err(format!(
            "{what}: an accepted {}-byte input re-encodes to {} different bytes (two encodings of one value)",
            input.len(),
            encoded.len()
        ))
    }
}

/// A [`Codec`] decode: `Ok(Some)` if accepted and canonical, `Ok(None)` if refused.
pub(super) fn codec<T: Codec>(input: &[u8]) -> Result<Option<T>, String> {
    match T::decode(input) {
        Ok(value) => {
            same_bytes(input, &value.encode(), T::TYPE_NAME)?;
            Ok(Some(value))
        }
        Err(_typed) => Ok(None),
    }
}

/// A bound for decoders: the input a few times over plus a small constant. Byte
/// strings from outside decode through `codec::bounded` (borsh's own decoder would
/// reserve up to 1 MiB for a lying length prefix: found by these targets).
pub(super) fn decoder_bound(input_len: usize) -> usize {
    16 * input_len + 64 * 1024
}

pub(super) fn l2_seeds() -> Vec<Vec<u8>> {
    let key = Keypair::dev(1);
    let counter = wat::parse_str(include_str!(
        "../../../../crates/l2/executor/contracts/counter.wat"
    ))
    .unwrap_or_default();
    [
        Transaction::Transfer {
            from: id(1),
            to: Recipient::Account(id(2)),
            token: TokenId::Spirit,
            amount: 5,
            fee: 1,
            nonce: 0,
        },
        Transaction::Transfer {
            from: id(1),
            to: Recipient::NewAccount(Keypair::dev(9).public_key()),
            token: TokenId::Gcc,
            amount: 1,
            fee: 1,
            nonce: 3,
        },
        Transaction::Withdraw {
            from: id(1),
            to: L1Address(key.public_key().0),
            token: TokenId::Mana,
            amount: 9,
            fee: 1,
            nonce: 1,
        },
        Transaction::Deploy {
            token: TokenId::Gcc,
            value: 0,
            from: id(1),
            code: counter,
            init: Vec::new(),
            fee: 100,
            nonce: 2,
        },
        Transaction::Call {
            token: TokenId::Gcc,
            value: 0,
            from: id(1),
            contract: ContractAddress([3; 32]),
            input: vec![1, 2, 3],
            fuel_limit: 10_000,
            fee: 10,
            nonce: 4,
        },
    ]
    .into_iter()
    .map(|tx| key.sign(L2_CHAIN, tx).encode())
    .collect()
}

pub(super) fn l1_calls() -> Vec<Call> {
    let dev2 = Keypair::dev(2).public_key();
    vec![
        Call::Ledger(LedgerCall::Transfer {
            id: 7,
            to: L1Address(dev2.0),
            token: TokenId::Gcc,
            amount: 10,
        }),
        Call::Rollup(RollupCall::Deposit {
            recipient: dev2,
            token: TokenId::Gcc,
            amount: 3,
        }),
        Call::Identity(IdentityCall::Create { soulbound: false }),
        Call::Naming(NamingCall::Register {
            name: "fuzz.ghost".into(),
            owner: dev2,
            years: 1,
        }),
    ]
}

/// A real ghostd on a temporary directory with a manual clock; dev0..dev7 funded.
pub(super) struct Node {
    _dir: tempfile::TempDir,
    pub(super) node: Ghostd,
    pub(super) clock: Arc<ManualClock>,
}

impl Node {
    pub(super) fn open() -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let backend: Arc<dyn ProofBackend> =
            Arc::new(StarkBackend::new(FriSettings::SETTLEMENT, 2).map_err(|e| e.to_string())?);
        let db =
            ghostplane_prover::open_db(&dir.path().join("prover")).map_err(|e| e.to_string())?;
        let mut tree = AccountTree::open(db, backend.tree_hash()).map_err(|e| e.to_string())?;
        tree.commit(0, rocksdb::WriteBatch::default())
            .map_err(|e| e.to_string())?;
        let genesis = L1GenesisBuilder::new(ghostplane_prover::proof_params(backend.as_ref()))
            .timestamp_ms(T0_MS)
            .fund(
                (0..8).map(|i| Keypair::dev(i).public_key()),
                TokenId::Gcc,
                1 << 60,
            )
            .l2_chain_id(L2_CHAIN)
            .operator(Keypair::dev(99).public_key())
            .genesis_root(tree.root().map_err(|e| e.to_string())?)
            .build();
        let clock = ManualClock::new(T0_MS);
        let mut config = GhostdConfig::new(dir.path().join("l1"));
        config.clock = clock.clone();
        config.rpc_addr = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
        let node = Ghostd::open(config, &genesis).map_err(|e| e.to_string())?;
        Ok(Self {
            _dir: dir,
            node,
            clock,
        })
    }

    pub(super) fn seal(&self) -> Result<(), String> {
        self.clock.advance(std::time::Duration::from_secs(1));
        self.node
            .seal()
            .map(|_| ())
            .map_err(|e| format!("seal failed: {e}"))
    }
}
