//! A deterministic simulation of a BFT network (VOPR-style): n real ghostd nodes
//! (RocksDB on temporary directories), each a [`Replica`] driving Malachite, on a
//! seeded virtual network that drops, delays, duplicates and reorders messages and
//! partitions nodes, and crashes and restarts validators (their consensus state
//! rebuilt from the write-ahead log), under one virtual clock. Transactions are
//! submitted to random nodes along the way.
//!
//! After every step it checks agreement (no two nodes hold different blocks at a
//! height), and that every block holds a commit certificate that verifies against
//! the genesis validator set (validity: a block is committed only after it
//! executed); at the end, that no validator equivocated across its restarts. A
//! failure names its seed; `GHOSTD_SIM_SEED=<seed>` replays it alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::node as common;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostd::consensus::wire::{BlockMsg, GOSSIP_TXS_MAX, NetMsg, WireCertificate, WireVote};
use ghostd::consensus::{Out, Replica};
use ghostd::{Call, Ghostd, L1_DEVNET_CHAIN_ID, LedgerCall, SignedL1Transaction};
use ghostd_types::consensus::{
    BftParams, ConsensusMode, GenesisValidator, Timeouts, VoteKind, verify_commit,
    vote_signing_bytes,
};
use ghostd_types::naming::NamingParams;
use ghostplane_primitives::clock::ManualClock;
use ghostplane_primitives::{Hash32, Keypair, L1Address, TokenId};
use malachitebft_core_types::Timeout;

/// SplitMix64: small, seeded, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How hostile the network is.
#[derive(Clone, Copy, Debug)]
struct Faults {
    drop_percent: u64,
    duplicate_percent: u64,
    delay_ms_max: u64,
    /// Per second of virtual time: chance a partition starts (isolating one node
    /// for 1–4 s).
    partition_percent: u64,
    /// Per second of virtual time: chance a validator crashes and restarts (its
    /// consensus state is rebuilt from its write-ahead log).
    restart_percent: u64,
}

impl Faults {
    /// No faults, small delays.
    const CALM: Faults = Faults {
        drop_percent: 0,
        duplicate_percent: 0,
        delay_ms_max: 20,
        partition_percent: 0,
        restart_percent: 0,
    };
}

/// Transactions each node's clients submitted, waiting to be gossiped.
type Gossiped = Arc<Mutex<Vec<(usize, Vec<SignedL1Transaction>)>>>;

enum Event {
    Deliver {
        to: usize,
        from: usize,
        msg: NetMsg,
    },
    Wake {
        node: usize,
    },
    Timer {
        node: usize,
        height: u64,
        timeout: Timeout,
        generation: u64,
    },
    Tick,
}

struct Sim {
    seed: u64,
    rng: Rng,
    clock: Arc<ManualClock>,
    nodes: Vec<Replica>,
    _dirs: Vec<tempfile::TempDir>,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: Vec<Option<Event>>,
    /// Per node: live timers (timeout → generation), to honor cancellations.
    timers: Vec<Vec<(Timeout, u64)>>,
    generation: u64,
    faults: Faults,
    isolated: Option<(usize, u64)>,
    gossip: Gossiped,
    params: BftParams,
    keys: Vec<Keypair>,
    restarts: u64,
    chain_id: u64,
    nonces: Vec<u64>,
    started: bool,
    /// Per node: the height checked up to.
    checked: Vec<u64>,
    /// The block decided at each height (first node seen, hash).
    decided: std::collections::HashMap<u64, (usize, ghostplane_primitives::Hash32)>,
    /// A Byzantine validator that, as each node reaches a height, sends it
    /// [`FLOOD_BLOCKS`] blocks it signed for its own rounds of that height.
    flooder: Option<usize>,
    /// Per node: the height the flooder last flooded it at.
    flooded: Vec<u64>,
    /// A hostile peer that forwards every block with its transactions emptied,
    /// ahead of the real one.
    strip_blocks: bool,
}

/// Blocks the flooder sends each node per height.
const FLOOD_BLOCKS: u32 = 64;

impl Sim {
    fn new(seed: u64, n: usize, faults: Faults) -> Self {
        Self::with_block_txs_max(seed, n, faults, &[])
    }

    /// A network whose node `i` builds blocks of at most `block_txs_max[i]`
    /// transactions (the default where the slice ends).
    fn with_block_txs_max(seed: u64, n: usize, faults: Faults, block_txs_max: &[usize]) -> Self {
        let keys: Vec<Keypair> = (0..n as u32).map(|i| Keypair::dev(200 + i)).collect();
        let params = BftParams {
            validators: keys
                .iter()
                .map(|k| GenesisValidator {
                    key: k.public_key(),
                    power: 1,
                    p2p: None,
                })
                .collect(),
            timeouts: Timeouts {
                propose_ms: 600,
                prevote_ms: 300,
                precommit_ms: 300,
                delta_ms: 200,
                commit_ms: 100,
            },
        };
        let clock = ManualClock::new(common::T0_MS);
        let gossip = Arc::new(Mutex::new(Vec::new()));
        let mut dirs = Vec::new();
        let mut nodes = Vec::new();
        let first = tempfile::tempdir().unwrap();
        let genesis = common::genesis(
            &first,
            NamingParams::default(),
            Vec::new(),
            ConsensusMode::Bft(params.clone()),
        );
        for (i, key) in keys.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let (node, _) = common::open_with(&dir, &genesis, clock.clone(), |config| {
                if let Some(max) = block_txs_max.get(i) {
                    config.block_txs_max = *max;
                }
            });
            let sink = gossip.clone();
            node.set_gossip(Box::new(move |txs| sink.lock().unwrap().push((i, txs))));
            nodes.push(Replica::new(node, Some(key.clone())).unwrap());
            dirs.push(dir);
        }
        dirs.push(first);
        let chain_id = genesis.chain_id;
        Sim {
            seed,
            rng: Rng(seed),
            clock,
            nodes,
            _dirs: dirs,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            timers: vec![Vec::new(); n],
            generation: 0,
            faults,
            isolated: None,
            gossip,
            params,
            keys,
            restarts: 0,
            chain_id,
            nonces: vec![0; 8],
            started: false,
            checked: vec![0; n],
            decided: std::collections::HashMap::new(),
            flooder: None,
            flooded: vec![0; n],
            strip_blocks: false,
        }
    }

    /// The flooder's blocks for `node` at its consensus height: signed by the
    /// flooder for each of its rounds in turn (any `u32`), well formed (their
    /// transactions match the header), but with a state digest that execution
    /// does not give.
    fn flood(&mut self, node: usize) {
        let Some(flooder) = self.flooder else {
            return;
        };
        let Some((height, _)) = self.nodes[node].position() else {
            return;
        };
        if node == flooder || self.flooded[node] == height {
            return;
        }
        self.flooded[node] = height;
        let key = self.keys[flooder].clone();
        let n = self.nodes.len() as u64;
        let parent = self.nodes[node].node().head();
        // The flooder proposes the rounds r with (height + r) % n == flooder.
        let first = (flooder as u64 + n - height % n) % n;
        for k in 0..FLOOD_BLOCKS {
            let round = (first + n * u64::from(k)) as u32;
            let header = ghostd::L1Header {
                number: height,
                parent_hash: parent.hash(),
                timestamp_ms: parent.timestamp_ms + 1 + u64::from(k),
                transactions_hash: Hash32(*blake3::Hasher::new().finalize().as_bytes()),
                state_digest: Hash32([k as u8; 32]),
                tx_count: 0,
            };
            let mut msg = BlockMsg {
                round,
                pol_round: -1,
                proposer: key.public_key(),
                header,
                transactions: Vec::new(),
                signature: ghostplane_primitives::Signature([0; 64]),
            };
            msg.signature = key.sign_bytes(&msg.signing_bytes(self.chain_id));
            let outs = self.nodes[node].on_message(flooder as u64, NetMsg::Block(Box::new(msg)));
            self.apply(node, outs);
        }
    }

    fn now(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    fn push(&mut self, at: u64, event: Event) {
        let id = self.events.len() as u64;
        self.events.push(Some(event));
        self.queue.push(Reverse((at, id)));
    }

    fn cut_off(&self, a: usize, b: usize) -> bool {
        self.isolated
            .is_some_and(|(node, until)| self.now() < until && (a == node || b == node))
    }

    fn send(&mut self, from: usize, to: usize, msg: NetMsg) {
        if self.cut_off(from, to) || self.rng.chance(self.faults.drop_percent) {
            return;
        }
        let copies = if self.rng.chance(self.faults.duplicate_percent) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let at = self.now() + 1 + self.rng.below(self.faults.delay_ms_max);
            self.push(
                at,
                Event::Deliver {
                    to,
                    from,
                    msg: msg.clone(),
                },
            );
        }
    }

    fn apply(&mut self, node: usize, outs: Vec<Out>) {
        for out in outs {
            match out {
                Out::Broadcast(msg) => {
                    for to in 0..self.nodes.len() {
                        if to != node {
                            self.send(node, to, msg.clone());
                        }
                    }
                }
                // Replies to the hostile test peer (99) go nowhere.
                Out::Send(peer, msg) if (peer as usize) < self.nodes.len() => {
                    self.send(node, peer as usize, msg)
                }
                Out::Send(..) => {}
                Out::Schedule {
                    height,
                    timeout,
                    after,
                } => {
                    self.generation += 1;
                    let generation = self.generation;
                    self.timers[node].retain(|(t, _)| *t != timeout);
                    self.timers[node].push((timeout, generation));
                    let at = self.now() + after.as_millis() as u64;
                    self.push(
                        at,
                        Event::Timer {
                            node,
                            height,
                            timeout,
                            generation,
                        },
                    );
                }
                Out::Cancel(timeout) => self.timers[node].retain(|(t, _)| *t != timeout),
                Out::CancelAll => self.timers[node].clear(),
                Out::Wake(after) => {
                    let at = self.now() + after.as_millis() as u64;
                    self.push(at, Event::Wake { node });
                }
            }
        }
    }

    /// Submits a transfer from a random dev account to a random node.
    fn submit_some(&mut self) {
        let sender = self.rng.below(8) as usize;
        let key = Keypair::dev(sender as u32);
        let node = self.rng.below(self.nodes.len() as u64) as usize;
        let committed = self.nodes[node].node().nonce(&key.public_key()).unwrap();
        let nonce = self.nonces[sender].max(committed);
        let tx = common::tx(
            &key,
            nonce,
            Call::Ledger(LedgerCall::Transfer {
                id: u128::from(self.rng.next()) | 1,
                to: L1Address(Keypair::dev(((sender + 1) % 8) as u32).public_key().0),
                token: TokenId::Gcc,
                amount: 1 + u128::from(self.rng.below(10)),
            }),
        );
        if self.nodes[node].node().submit(tx).is_ok() {
            self.nonces[sender] = nonce + 1;
        }
    }

    /// Crashes validator `node` and starts it again on the same store: what it
    /// had in memory (consensus state, timers, messages in flight to it) is gone.
    fn restart(&mut self, node: usize) {
        self.restarts += 1;
        let ghostd = self.nodes[node].node().clone();
        self.nodes[node] = Replica::new(ghostd, Some(self.keys[node].clone())).unwrap();
        self.timers[node].clear();
        for event in self.events.iter_mut() {
            if matches!(event, Some(Event::Deliver { to, .. }) if *to == node) {
                *event = None;
            }
        }
        let outs = self.nodes[node].start();
        self.apply(node, outs);
    }

    /// No validator signed two different votes for one height, round and kind.
    fn assert_no_equivocation(&self) {
        for (i, replica) in self.nodes.iter().enumerate() {
            let evidence = replica.node().evidence().unwrap();
            assert!(
                evidence.is_empty(),
                "seed {}: node {i} holds equivocation evidence after {} restarts: {evidence:?}",
                self.seed,
                self.restarts
            );
        }
    }

    /// Checks what each node committed since the last check: a certificate that
    /// verifies, and the same block as every other node at that height.
    fn check(&mut self) {
        for i in 0..self.nodes.len() {
            let node: &Ghostd = self.nodes[i].node();
            let head = node.head().number;
            while self.checked[i] < head {
                let height = self.checked[i] + 1;
                let block = node.block(height).unwrap().unwrap();
                let hash = block.header.hash();
                let commit = node.commit_certificate(height).unwrap().unwrap_or_else(|| {
                    panic!(
                        "seed {}: node {i} has block {height} without a certificate",
                        self.seed
                    )
                });
                if let Err(e) = verify_commit(self.chain_id, &self.params, height, hash, &commit) {
                    panic!("seed {}: node {i} block {height}: {e}", self.seed);
                }
                match self.decided.get(&height) {
                    None => {
                        self.decided.insert(height, (i, hash));
                    }
                    Some((j, other)) => assert_eq!(
                        hash, *other,
                        "seed {}: nodes {j} and {i} decided different blocks at height {height}",
                        self.seed
                    ),
                }
                self.checked[i] = height;
            }
        }
    }

    /// Runs until every node reaches `target` or `limit_ms` of virtual time pass.
    fn run(&mut self, target: u64, limit_ms: u64) {
        if !self.started {
            self.started = true;
            for i in 0..self.nodes.len() {
                let outs = self.nodes[i].start();
                self.apply(i, outs);
            }
            self.push(1000, Event::Tick);
        }
        while let Some(Reverse((at, id))) = self.queue.pop() {
            if at > limit_ms {
                break;
            }
            let now = self.now();
            if at > now {
                self.clock.advance(Duration::from_millis(at - now));
            }
            let Some(event) = self.events[id as usize].take() else {
                continue;
            };
            match event {
                Event::Deliver { to, from, msg } => {
                    if let (true, NetMsg::Block(block)) = (self.strip_blocks, &msg)
                        && !block.transactions.is_empty()
                    {
                        let mut stripped = block.clone();
                        stripped.transactions.clear();
                        let outs = self.nodes[to].on_message(99, NetMsg::Block(stripped));
                        self.apply(to, outs);
                    }
                    let outs = self.nodes[to].on_message(from as u64, msg);
                    self.apply(to, outs);
                }
                Event::Wake { node } => {
                    let outs = self.nodes[node].on_wake();
                    self.apply(node, outs);
                }
                Event::Timer {
                    node,
                    height,
                    timeout,
                    generation,
                } => {
                    if self.timers[node].contains(&(timeout, generation)) {
                        self.timers[node].retain(|(_, g)| *g != generation);
                        let outs = self.nodes[node].on_timeout(height, timeout);
                        self.apply(node, outs);
                    }
                }
                Event::Tick => {
                    for i in 0..self.nodes.len() {
                        let outs = self.nodes[i].on_tick();
                        self.apply(i, outs);
                    }
                    if self.isolated.is_none_or(|(_, until)| self.now() >= until)
                        && self.rng.chance(self.faults.partition_percent)
                    {
                        let node = self.rng.below(self.nodes.len() as u64) as usize;
                        let until = self.now() + 1000 + self.rng.below(3000);
                        self.isolated = Some((node, until));
                    }
                    for _ in 0..1 + self.rng.below(4) {
                        self.submit_some();
                    }
                    if self.rng.chance(self.faults.restart_percent) {
                        let node = self.rng.below(self.nodes.len() as u64) as usize;
                        self.restart(node);
                    }
                    let next = self.now() + 1000;
                    self.push(next, Event::Tick);
                }
            }
            let gossip: Vec<_> = std::mem::take(&mut *self.gossip.lock().unwrap());
            for (node, txs) in gossip {
                let out = self.nodes[node].gossip(txs);
                self.apply(node, vec![out]);
            }
            for node in 0..self.nodes.len() {
                self.flood(node);
            }
            self.check();
            if self.nodes.iter().all(|r| r.node().head().number >= target) {
                return;
            }
        }
        let heads: Vec<u64> = self.nodes.iter().map(|r| r.node().head().number).collect();
        panic!(
            "seed {}: the network did not reach height {target} in {limit_ms} ms of virtual time (heads {heads:?})",
            self.seed
        );
    }
}

fn seeds(default: std::ops::Range<u64>) -> Vec<u64> {
    match std::env::var("GHOSTD_SIM_SEED") {
        Ok(seed) => vec![seed.parse().expect("GHOSTD_SIM_SEED is a number")],
        Err(_) => default.collect(),
    }
}

#[test]
fn four_validators_agree_on_a_calm_network() {
    for seed in seeds(0..8) {
        let mut sim = Sim::new(seed, 4, Faults::CALM);
        sim.run(30, 60_000);
        // Transactions went in.
        assert!(
            included(&sim, 30) > 0,
            "seed {seed}: no transaction was included"
        );
    }
}

#[test]
fn four_validators_agree_when_messages_drop_repeat_reorder_nodes_partition_and_restart() {
    for seed in seeds(100..164) {
        let mut sim = Sim::new(
            seed,
            4,
            Faults {
                drop_percent: 10,
                duplicate_percent: 10,
                delay_ms_max: 400,
                partition_percent: 25,
                restart_percent: 15,
            },
        );
        sim.run(12, 600_000);
        sim.assert_no_equivocation();
    }
}

#[test]
fn seven_validators_agree_under_faults() {
    for seed in seeds(200..232) {
        let mut sim = Sim::new(
            seed,
            7,
            Faults {
                drop_percent: 5,
                duplicate_percent: 5,
                delay_ms_max: 200,
                partition_percent: 20,
                restart_percent: 15,
            },
        );
        sim.run(10, 600_000);
        sim.assert_no_equivocation();
    }
}

/// Blocks included in heights `1..=to` at node 0.
fn included(sim: &Sim, to: u64) -> u32 {
    (1..=to)
        .map(|h| {
            sim.nodes[0]
                .node()
                .block(h)
                .unwrap()
                .unwrap()
                .header
                .tx_count
        })
        .sum()
}

/// Issue 33, item 1: one Byzantine validator signs 64 blocks for its own rounds
/// of every height, and sends them to each node as it reaches the height (ahead
/// of the honest proposals). Before the fix they filled the 64-block cache of
/// the height and every honest block was refused (`too_many_blocks`): no height
/// decided again. Now a round holds two blocks, rounds past the lookahead are
/// parked (one per proposer), and the others still decide.
#[test]
fn one_validator_flooding_blocks_for_its_rounds_does_not_halt_the_network() {
    let mut sim = Sim::new(21, 4, Faults::CALM);
    sim.flooder = Some(3);
    sim.run(12, 60_000);
    assert!(included(&sim, 12) > 0, "no transaction was included");
}

/// Issue 33, item 2: a peer forwards every block with its transactions emptied,
/// ahead of the real one (the proposer's signature covers the header only).
/// Before the fix the node cached the verdict "invalid" under the header's hash,
/// and voted nil on the real block when it came: no block with transactions
/// decided. Now transactions that do not match the header are dropped unjudged.
#[test]
fn a_peer_relaying_headers_with_other_transactions_does_not_get_blocks_voted_nil() {
    let mut sim = Sim::new(22, 4, Faults::CALM);
    sim.strip_blocks = true;
    sim.run(12, 60_000);
    assert!(included(&sim, 12) > 0, "no transaction was included");
    let reasons = &sim.nodes[0].stats().dropped;
    assert!(
        reasons.contains_key("block_transactions_mismatch"),
        "{reasons:?}"
    );
}

/// Issue 33, item 9: block validity does not depend on a node's own
/// `block_txs_max`. Node 0 builds blocks of up to 100 transactions, the others of
/// one; before the fix they refused any block of more than 4 (their setting × 4),
/// so node 0's full blocks were voted nil.
#[test]
fn a_block_larger_than_a_validators_own_setting_is_still_valid() {
    let mut sim = Sim::with_block_txs_max(23, 4, Faults::CALM, &[100, 1, 1, 1]);
    sim.run(2, 60_000);
    // 40 transfers from one sender, all at node 0 (its own clients).
    let key = Keypair::dev(7);
    let start = sim.nodes[0].node().nonce(&key.public_key()).unwrap();
    for nonce in start..start + 40 {
        let tx = common::tx(
            &key,
            nonce,
            Call::Ledger(LedgerCall::Transfer {
                id: u128::from(nonce) + 1_000_000,
                to: L1Address(Keypair::dev(6).public_key().0),
                token: TokenId::Gcc,
                amount: 1,
            }),
        );
        sim.nodes[0].node().submit(tx).unwrap();
    }
    sim.nonces[7] = start + 40;
    sim.run(12, 60_000);
    let largest = (1..=12)
        .map(|h| {
            sim.nodes[1]
                .node()
                .block(h)
                .unwrap()
                .unwrap()
                .header
                .tx_count
        })
        .max()
        .unwrap();
    assert!(
        largest > 4,
        "no block of more than 4 transactions was decided"
    );
}

/// A signed vote, as a peer would send it.
fn vote(key: &Keypair, height: u64, round: u32, block: Option<Hash32>, kind: VoteKind) -> WireVote {
    WireVote {
        kind,
        height,
        round,
        block,
        validator: key.public_key(),
        signature: key.sign_bytes(&vote_signing_bytes(
            L1_DEVNET_CHAIN_ID,
            kind,
            height,
            round,
            block,
        )),
    }
}

#[test]
fn hostile_messages_are_dropped_and_counted_and_the_network_goes_on() {
    let mut sim = Sim::new(7, 4, Faults::CALM);
    sim.run(3, 60_000);
    let height = sim.nodes[0].node().head().number + 1;
    let stranger = Keypair::dev(999);
    let validator = Keypair::dev(200);
    let mut forged = vote(
        &validator,
        height,
        0,
        Some(Hash32([7; 32])),
        VoteKind::Prevote,
    );
    forged.signature = stranger.sign_bytes(b"not this vote");
    let real = vote(&validator, height, 0, None, VoteKind::Prevote);
    let block = sim.nodes[0].node().block(1).unwrap().unwrap();
    let mut header = block.header.clone();
    header.number = height;
    let hostile = vec![
        // Not a validator.
        NetMsg::Vote(vote(&stranger, height, 0, None, VoteKind::Prevote)),
        // A validator's name on a signature that does not verify.
        NetMsg::Vote(forged),
        // The same vote twice, and (equivocation) a conflicting one by the same
        // validator for the same height, round and kind.
        NetMsg::Vote(real.clone()),
        NetMsg::Vote(real),
        NetMsg::Vote(vote(
            &validator,
            height,
            0,
            Some(Hash32([9; 32])),
            VoteKind::Prevote,
        )),
        // A block proposed by a validator that is not this round's proposer.
        NetMsg::Block(Box::new(BlockMsg {
            round: 0,
            pol_round: -1,
            proposer: Keypair::dev(200 + ((height as u32 + 1) % 4)).public_key(),
            header: header.clone(),
            transactions: Vec::new(),
            signature: stranger.sign_bytes(b"x"),
        })),
        // A block in the round's proposer's name that it did not sign.
        NetMsg::Block(Box::new(BlockMsg {
            round: 0,
            pol_round: -1,
            proposer: Keypair::dev(200 + (height as u32 % 4)).public_key(),
            header,
            transactions: Vec::new(),
            signature: stranger.sign_bytes(b"x"),
        })),
        // Over the gossip bound.
        NetMsg::Transactions(vec![
            block.transactions.first().cloned().unwrap_or_else(
                || common::tx(
                    &Keypair::dev(0),
                    0,
                    Call::Ledger(LedgerCall::Transfer {
                        id: 1,
                        to: L1Address([1; 32]),
                        token: TokenId::Gcc,
                        amount: 1
                    })
                )
            );
            GOSSIP_TXS_MAX + 1
        ]),
        // A certificate of an unknown kind and one of forged votes.
        NetMsg::Certificate(WireCertificate {
            height,
            round: 0,
            kind: 9,
            votes: Vec::new(),
        }),
        NetMsg::Certificate(WireCertificate {
            height,
            round: 0,
            kind: 1,
            votes: vec![vote(&stranger, height, 0, None, VoteKind::Precommit); 3],
        }),
    ];
    for node in 0..4 {
        for msg in &hostile {
            let outs = sim.nodes[node].on_message(99, msg.clone());
            sim.apply(node, outs);
        }
    }
    sim.run(8, 120_000);
    for node in 0..4 {
        let dropped = sim.nodes[node].dropped();
        assert!(
            dropped >= 4,
            "node {node} counted {dropped} dropped messages"
        );
        let reasons = &sim.nodes[node].stats().dropped;
        assert!(reasons.contains_key("not_a_validator"), "{reasons:?}");
        assert!(reasons.contains_key("oversize"), "{reasons:?}");
        assert!(
            reasons.contains_key("block_not_from_proposer"),
            "{reasons:?}"
        );
        assert!(reasons.contains_key("bad_block_signature"), "{reasons:?}");
        // The double vote is stored as evidence (slashing is not built).
        let evidence = sim.nodes[node].node().evidence().unwrap();
        assert!(
            evidence
                .iter()
                .any(|(a, b)| a.validator == validator.public_key() && a.block != b.block),
            "node {node}: no evidence of the double vote: {evidence:?}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Whatever bytes a peer sends: a frame that decodes as a message is handled
    /// without a panic, and the network still decides afterwards.
    #[test]
    fn arbitrary_frames_never_crash_a_validator(
        frames in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256), 1..32),
        tags in proptest::collection::vec(0u8..8, 1..32),
    ) {
        let mut sim = Sim::new(
            11,
            4,
            Faults::CALM,
        );
        sim.run(2, 60_000);
        for (frame, tag) in frames.iter().zip(tags.iter().cycle()) {
            // A message-kind tag first, so most frames get past the enum tag and
            // exercise each variant's decoder.
            let mut bytes = vec![*tag];
            bytes.extend_from_slice(frame);
            // Trailing bytes allowed here, so more frames decode to something.
            if let Ok(msg) = <NetMsg as borsh::BorshDeserialize>::deserialize(&mut &bytes[..]) {
                let outs = sim.nodes[0].on_message(99, msg);
                sim.apply(0, outs);
            }
        }
        sim.run(4, 120_000);
    }
}
