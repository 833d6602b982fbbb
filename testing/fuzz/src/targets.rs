//! The fuzz targets: one harness per decoder or entry point that takes outside bytes.

use std::sync::Arc;

use borsh::BorshDeserialize;
use ghostd::consensus::wire::{NetMsg, WalEntry};
use ghostd::dns::NameServer;
use ghostd::{Call, Ghostd, GhostdConfig, L1_DEVNET_CHAIN_ID, SignedL1Transaction};
use ghostd_types::consensus::{
    BftParams, Commit, GenesisValidator, Timeouts, VoteKind, verify_commit, vote_signing_bytes,
};
use ghostd_types::identity::IdentityCall;
use ghostd_types::naming::NamingCall;
use ghostd_types::tx::{LedgerCall, RollupCall};
use ghostplane_executor::WasmRuntime;
use ghostplane_primitives::clock::ManualClock;
use ghostplane_primitives::{
    AccountId, AccountLeaf, BatchNumber, ChainId, Codec, ContractAddress, Hash32, Keypair,
    L1Address, PubdataOp, Recipient, Signature, TokenId, Transaction, decode_pubdata,
    encode_pubdata,
};
use ghostplane_prover::coordinator::JobId;
use ghostplane_prover::{
    AccountTree, ChunkKeys, ChunkWitness, Groth16Backend, Merkleizer, ProofBackend, StarkBackend,
    Statement,
};
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::{L1GenesisBuilder, sign_l1};

use crate::{Harness, Target};

/// Every target, in the order `--target all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "l2-tx",
        about: "the signed L2 transaction: strict decode, one encoding per value, stateless checks, signature",
        make: || Ok(Box::new(L2Tx)),
    },
    Target {
        name: "quic-frames",
        about: "the sequencer's QUIC stream: u32 length prefixes (lying ones too), each payload decoded",
        make: || Ok(Box::new(QuicFrames)),
    },
    Target {
        name: "l1-tx",
        about: "the signed L1 transaction and its call: strict decode, one encoding, signature",
        make: || Ok(Box::new(L1Tx)),
    },
    Target {
        name: "l1-calls",
        about: "L1 calls decoded from the input, signed and executed on a real ghostd (blocks sealed)",
        make: || L1Calls::new().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "pubdata",
        about: "batch pubdata as L1 validators decode it: one encoding per op list",
        make: || Ok(Box::new(Pubdata)),
    },
    Target {
        name: "prover-submit",
        about: "what the coordinator receives: job ids, STARK witnesses, and proofs (a mutated proof never verifies)",
        make: || ProverSubmit::stark().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "prover-submit-groth16",
        about: "the same for a Groth16 coordinator (one-slot chunk circuit): job ids, chunk witnesses, proofs",
        make: || ProverSubmit::groth16().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "wasm-deploy",
        about: "contract modules at deploy: rewrite, compile, instantiate within the bounds",
        make: || WasmDeploy::new().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "dns",
        about: "DNS queries in wire format (DoH and UDP) against a real ghostd's .ghost names",
        make: || Dns::new().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "p2p-frames",
        about: "BFT network messages from peers: decode, bounds, one encoding; commit certificates verified",
        make: || Ok(Box::new(P2p::new())),
    },
    Target {
        name: "wal-entry",
        about: "the BFT write-ahead log's entries: decode and one encoding",
        make: || Ok(Box::new(Wal)),
    },
];

/// The target called `name`.
pub fn find(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

const L2_CHAIN: ChainId = ChainId(7);
/// 2026-12-05T00:00:00Z.
const T0_MS: u64 = 1_796_428_800_000;

fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap_or(AccountId::MAX)
}

/// An accepted input must re-encode to exactly its bytes.
fn same_bytes(input: &[u8], encoded: &[u8], what: &str) -> Result<(), String> {
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
fn codec<T: Codec>(input: &[u8]) -> Result<Option<T>, String> {
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
fn decoder_bound(input_len: usize) -> usize {
    16 * input_len + 64 * 1024
}

fn l2_seeds() -> Vec<Vec<u8>> {
    let key = Keypair::dev(1);
    let counter = wat::parse_str(include_str!(
        "../../../crates/l2/executor/contracts/counter.wat"
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
            from: id(1),
            code: counter,
            fee: 100,
            nonce: 2,
        },
        Transaction::Call {
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

struct L2Tx;

impl Harness for L2Tx {
    fn seeds(&self) -> Vec<Vec<u8>> {
        l2_seeds()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some(signed) = codec::<ghostplane_primitives::SignedTransaction>(input)? else {
            return Ok(false);
        };
        let _ = signed.tx.check_stateless();
        let _ = signed.verify(L2_CHAIN);
        let _ = signed.hash();
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

struct QuicFrames;

impl Harness for QuicFrames {
    fn seeds(&self) -> Vec<Vec<u8>> {
        // Streams of framed transactions, one to five per stream.
        let txs = l2_seeds();
        (1..=txs.len())
            .map(|n| {
                let mut stream = Vec::new();
                for tx in &txs[..n] {
                    stream.extend_from_slice(&(tx.len() as u32).to_be_bytes());
                    stream.extend_from_slice(tx);
                }
                stream
            })
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        const MAX: usize = ghostplane_primitives::constants::SIGNED_TX_BYTES_MAX;
        let mut rest = input;
        let mut decoded = false;
        loop {
            match ghostplane_sequencer::quic::next_frame(rest, MAX) {
                Ok(Some(len)) => {
                    if len > MAX || 4 + len > rest.len() {
                        return Err(format!(
                            "frame of {len} bytes reported with {} buffered",
                            rest.len()
                        ));
                    }
                    decoded |=
                        codec::<ghostplane_primitives::SignedTransaction>(&rest[4..4 + len])?
                            .is_some();
                    rest = &rest[4 + len..];
                }
                // Waiting for more, or refused (the stream is closed with the error).
                Ok(None) | Err(_) => return Ok(decoded),
            }
        }
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

fn l1_calls() -> Vec<Call> {
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

struct L1Tx;

impl Harness for L1Tx {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let key = Keypair::dev(1);
        l1_calls()
            .into_iter()
            .map(|call| sign_l1(&key, 0, call).encode())
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some(signed) = codec::<SignedL1Transaction>(input)? else {
            return Ok(false);
        };
        let _ = signed.verify();
        let _ = signed.hash();
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

/// A real ghostd on a temporary directory with a manual clock; dev0..dev7 funded.
struct Node {
    _dir: tempfile::TempDir,
    node: Ghostd,
    clock: Arc<ManualClock>,
}

impl Node {
    fn open() -> Result<Self, String> {
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

    fn seal(&self) -> Result<(), String> {
        self.clock.advance(std::time::Duration::from_secs(1));
        self.node
            .seal()
            .map(|_| ())
            .map_err(|e| format!("seal failed: {e}"))
    }
}

/// Cases between sealed blocks in [`L1Calls`].
const CALLS_PER_BLOCK: u32 = 32;

struct L1Calls {
    node: Node,
    keys: Vec<Keypair>,
    pending: u32,
    case: u64,
}

impl L1Calls {
    fn new() -> Result<Self, String> {
        Ok(Self {
            node: Node::open()?,
            keys: (0..8).map(Keypair::dev).collect(),
            pending: 0,
            case: 0,
        })
    }
}

impl Harness for L1Calls {
    fn seeds(&self) -> Vec<Vec<u8>> {
        l1_calls()
            .iter()
            .map(borsh::to_vec)
            .filter_map(Result::ok)
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        self.case += 1;
        let Ok(call) = Call::try_from_slice(input) else {
            return Ok(false);
        };
        let key = &self.keys[(self.case % self.keys.len() as u64) as usize];
        let nonce = self
            .node
            .node
            .nonce(&key.public_key())
            .map_err(|e| format!("nonce read failed: {e}"))?;
        // Refusals (bad call, over a bound, mempool full) are typed; only execution
        // and sealing must not fail.
        let _ = self.node.node.submit(sign_l1(key, nonce, call));
        self.pending += 1;
        if self.pending >= CALLS_PER_BLOCK {
            self.pending = 0;
            self.node.seal()?;
        }
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // A sealed block executes the calls pooled since the last one.
        64 * 1024 * 1024 + 64 * input_len
    }
}

struct Pubdata;

impl Harness for Pubdata {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let sig = Signature([5; 64]);
        let ops = [
            PubdataOp::Transfer {
                from: id(1),
                to: id(2),
                token: TokenId::Gcc,
                amount: 300,
                fee: 7,
                signature: sig,
            },
            PubdataOp::TransferToNew {
                from: id(1),
                to: id(3),
                to_key: Keypair::dev(3).public_key(),
                token: TokenId::Gcc,
                amount: 1,
                fee: 1,
                signature: sig,
            },
        ];
        (1..=ops.len())
            .filter_map(|n| encode_pubdata(&ops[..n]).ok())
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Ok(ops) = decode_pubdata(input) else {
            return Ok(false);
        };
        let encoded =
            encode_pubdata(&ops).map_err(|e| format!("decoded pubdata does not re-encode: {e}"))?;
        same_bytes(input, &encoded, "pubdata")?;
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

/// What the coordinator receives from workers, and workers from it.
struct ProverSubmit {
    backend: Box<dyn ProofBackend>,
    witness_round_trip: WitnessRoundTrip,
    statement: Statement,
    proof: Vec<u8>,
    witness: Vec<u8>,
}

/// Decodes a witness as a backend's workers do (`None`: refused), then re-encodes
/// it.
type WitnessRoundTrip = fn(&[u8]) -> Option<Result<Vec<u8>, String>>;

/// Input tags: which decoder a [`ProverSubmit`] case feeds.
const JOB_ID: u8 = 0;
const WITNESS: u8 = 1;

fn stark_witness(body: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let witness = ghostplane_stark::wire::decode_witness(body).ok()?;
    Some(ghostplane_stark::wire::encode_witness(&witness).map_err(|e| e.to_string()))
}

fn groth16_witness(body: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let witness: ChunkWitness = borsh::from_slice(body).ok()?;
    Some(borsh::to_vec(&witness).map_err(|e| e.to_string()))
}

impl ProverSubmit {
    fn stark() -> Result<Self, String> {
        let backend = StarkBackend::new(FriSettings::SETTLEMENT, 2).map_err(|e| e.to_string())?;
        Self::new(Box::new(backend), stark_witness)
    }

    /// The devnet's deterministic Groth16 setup, for one slot (the real chunk size
    /// takes minutes to set up; the decoders and the verifier are the same).
    fn groth16() -> Result<Self, String> {
        let keys = ChunkKeys::devnet_setup(1).map_err(|e| e.to_string())?;
        Self::new(
            Box::new(Groth16Backend::new(Arc::new(keys))),
            groth16_witness,
        )
    }

    /// Proves one real transfer so that the seeds hold a witness and a proof that
    /// verify against a real statement.
    fn new(
        backend: Box<dyn ProofBackend>,
        witness_round_trip: WitnessRoundTrip,
    ) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let db = ghostplane_prover::open_db(dir.path()).map_err(|e| e.to_string())?;
        let mut tree = AccountTree::open(db, backend.tree_hash()).map_err(|e| e.to_string())?;
        let leaves: Vec<_> = (0..3)
            .map(|i| {
                let mut leaf = AccountLeaf::new(Keypair::dev(i).public_key());
                leaf.balances = [1_000_000, 5_000, 7_000, 9_000];
                (id(i), leaf)
            })
            .collect();
        tree.update_many(&leaves).map_err(|e| e.to_string())?;
        tree.commit(0, rocksdb::WriteBatch::default())
            .map_err(|e| e.to_string())?;
        let ops = [PubdataOp::Transfer {
            from: id(1),
            to: id(2),
            token: TokenId::Gcc,
            amount: 300,
            fee: 7,
            signature: Signature([0; 64]),
        }];
        let job = Merkleizer::new(&mut tree, backend.as_ref(), L2_CHAIN)
            .build_batch(BatchNumber(1), id(0), &ops)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or("no job")?;
        let proof = backend.prove(&job.witness).map_err(|e| e.to_string())?;
        backend
            .verify(&job.statement, &proof)
            .map_err(|e| format!("the seed proof does not verify: {e}"))?;
        Ok(Self {
            backend,
            witness_round_trip,
            statement: job.statement,
            proof,
            witness: job.witness,
        })
    }
}

impl Harness for ProverSubmit {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut job_id = vec![JOB_ID];
        job_id.extend_from_slice(b"12:3");
        let mut witness = vec![WITNESS];
        witness.extend_from_slice(&self.witness);
        let mut proof = vec![2];
        proof.extend_from_slice(&self.proof);
        vec![job_id, witness, proof]
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some((&tag, body)) = input.split_first() else {
            return Ok(false);
        };
        match tag {
            JOB_ID => {
                let Some(job) = std::str::from_utf8(body).ok().and_then(JobId::parse) else {
                    return Ok(false);
                };
                if JobId::parse(&job.to_text()) != Some(job) {
                    return Err(format!("job id {:?} does not round-trip", job.to_text()));
                }
                Ok(true)
            }
            WITNESS => {
                let Some(encoded) = (self.witness_round_trip)(body) else {
                    return Ok(false);
                };
                let encoded =
                    encoded.map_err(|e| format!("a decoded witness does not re-encode: {e}"))?;
                same_bytes(body, &encoded, "witness")?;
                Ok(true)
            }
            _ => {
                // The coordinator's bound comes first, then verification.
                let verified = body.len() <= self.backend.proof_bytes_max()
                    && self.backend.verify(&self.statement, body).is_ok();
                if verified && body != self.proof.as_slice() {
                    return Err("a mutated proof verified".into());
                }
                Ok(verified)
            }
        }
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // Verification allocates its own working set regardless of the input.
        64 * 1024 * 1024 + 16 * input_len
    }
}

struct WasmDeploy {
    runtime: WasmRuntime,
}

impl WasmDeploy {
    fn new() -> Result<Self, String> {
        Ok(Self {
            runtime: WasmRuntime::with_module_cache_bytes(64 * 1024 * 1024)
                .map_err(|e| e.to_string())?,
        })
    }
}

impl Harness for WasmDeploy {
    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            include_str!("../../../crates/l2/executor/contracts/counter.wat"),
            include_str!("../../../crates/l2/executor/contracts/token.wat"),
            include_str!("../../../crates/l2/executor/contracts/registry.wat"),
            include_str!("../../../crates/l2/executor/contracts/hostile/infinite_loop.wat"),
            include_str!("../../../crates/l2/executor/contracts/hostile/memory_bomb.wat"),
            include_str!("../../../crates/l2/executor/contracts/hostile/deep_recursion.wat"),
            include_str!("../../../crates/l2/executor/contracts/hostile/huge_memory.wat"),
            include_str!("../../../crates/l2/executor/contracts/hostile/bulk_memory.wat"),
            include_str!("../../../crates/l2/executor/contracts/hostile/bad_import.wat"),
        ]
        .iter()
        .filter_map(|text| wat::parse_str(text).ok())
        .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let hash = Hash32(*blake3::hash(input).as_bytes());
        // Err is the typed refusal a deploy receipt carries.
        Ok(self.runtime.validate(hash, input).is_ok())
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // Cranelift's working set for one module, plus the cache entry.
        128 * 1024 * 1024 + 512 * input_len
    }
}

struct Dns {
    _node: Node,
    server: Arc<NameServer>,
}

impl Dns {
    fn new() -> Result<Self, String> {
        let node = Node::open()?;
        let key = Keypair::dev(1);
        let register = Call::Naming(NamingCall::Register {
            name: "fuzz.ghost".into(),
            owner: key.public_key(),
            years: 1,
        });
        node.node
            .submit(sign_l1(&key, 0, register))
            .map_err(|e| e.to_string())?;
        node.seal()?;
        let server = NameServer::new(node.node.clone());
        Ok(Self {
            _node: node,
            server,
        })
    }
}

impl Harness for Dns {
    fn seeds(&self) -> Vec<Vec<u8>> {
        use hickory_proto::op::{Message, MessageType, OpCode, Query};
        use hickory_proto::rr::{Name, RecordType};
        let mut seeds = Vec::new();
        for (name, kind) in [
            ("fuzz.ghost.", RecordType::A),
            ("fuzz.ghost.", RecordType::TXT),
            ("www.fuzz.ghost.", RecordType::MX),
            ("nothing.ghost.", RecordType::AAAA),
            ("example.com.", RecordType::A),
        ] {
            let Ok(name) = Name::from_ascii(name) else {
                continue;
            };
            let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
            message.add_query(Query::query(name, kind));
            if let Ok(bytes) = message.to_vec() {
                seeds.push(bytes);
            }
        }
        seeds
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        match self.server.answer_wire(input) {
            Some(reply) => {
                let message = hickory_proto::op::Message::from_vec(&reply)
                    .map_err(|e| format!("the reply does not parse: {e}"))?;
                if input.len() >= 2
                    && message.metadata.id != u16::from_be_bytes([input[0], input[1]])
                {
                    return Err("the reply's id is not the query's".into());
                }
                Ok(message.metadata.response_code != hickory_proto::op::ResponseCode::FormErr)
            }
            None if input.len() >= 2 => Err("a query with an id got no reply".into()),
            None => Ok(false),
        }
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // The answer cache holds at most `CACHE_ENTRIES_MAX` answers; a case that
        // grows its table may reallocate it (up to twice its size).
        decoder_bound(input_len) + ghostd::dns::CACHE_ENTRIES_MAX * 512
    }
}

/// The BFT frames, with a one-validator set to check certificates against.
struct P2p {
    params: BftParams,
    key: Keypair,
}

impl P2p {
    fn new() -> Self {
        let key = Keypair::dev(5);
        Self {
            params: BftParams {
                validators: vec![GenesisValidator {
                    key: key.public_key(),
                    power: 1,
                    p2p: None,
                }],
                timeouts: Timeouts::default(),
            },
            key,
        }
    }

    fn commit(&self) -> Commit {
        let block = Hash32([9; 32]);
        let message =
            vote_signing_bytes(L1_DEVNET_CHAIN_ID, VoteKind::Precommit, 3, 0, Some(block));
        Commit {
            height: 3,
            round: 0,
            block,
            signatures: vec![(self.key.public_key(), self.key.sign_bytes(&message))],
        }
    }
}

/// Input tags: which decoder a [`P2p`] case feeds.
const NET_MSG: u8 = 0;

impl Harness for P2p {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let key = Keypair::dev(1);
        let messages = [
            NetMsg::Status { height: 7 },
            NetMsg::SyncRequest { from: 3 },
            NetMsg::Transactions(
                l1_calls()
                    .into_iter()
                    .enumerate()
                    .map(|(n, call)| sign_l1(&key, n as u64, call))
                    .collect(),
            ),
        ];
        let mut seeds: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|m| borsh::to_vec(m).ok())
            .map(|m| [vec![NET_MSG], m].concat())
            .collect();
        seeds.push([vec![1], self.commit().encode()].concat());
        seeds
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some((&tag, body)) = input.split_first() else {
            return Ok(false);
        };
        if tag == NET_MSG {
            let Ok(message) = borsh::from_slice::<NetMsg>(body) else {
                return Ok(false);
            };
            let _ = message.within_bounds();
            let encoded = borsh::to_vec(&message).map_err(|e| e.to_string())?;
            same_bytes(body, &encoded, "p2p message")?;
            return Ok(true);
        }
        let Some(commit) = codec::<Commit>(body)? else {
            return Ok(false);
        };
        let verdict = verify_commit(L1_DEVNET_CHAIN_ID, &self.params, 3, commit.block, &commit);
        if verdict.is_ok() && commit != self.commit() {
            return Err("a forged commit certificate verified".into());
        }
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

struct Wal;

impl Harness for Wal {
    fn seeds(&self) -> Vec<Vec<u8>> {
        // Entries come from the node's own store; mutated ones model a damaged one.
        [
            WalEntry::Timeout { kind: 1, round: 2 },
            WalEntry::Value {
                height: 9,
                round: 1,
                valid_round: -1,
                proposer: Keypair::dev(1).public_key(),
                block: Hash32([4; 32]),
                valid: true,
            },
        ]
        .iter()
        .filter_map(|entry| borsh::to_vec(entry).ok())
        .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Ok(entry) = borsh::from_slice::<WalEntry>(input) else {
            return Ok(false);
        };
        let encoded = borsh::to_vec(&entry).map_err(|e| e.to_string())?;
        same_bytes(input, &encoded, "WAL entry")?;
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}
