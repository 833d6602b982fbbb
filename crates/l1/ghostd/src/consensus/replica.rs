//! One node of a BFT network, between the chain ([`Ghostd`]), the consensus
//! [`Engine`] (validators only) and the network: it builds our proposals, executes
//! the blocks others propose before consensus may vote for them, commits decided
//! blocks with their certificates, and syncs from peers when behind.
//!
//! It owns no clock or socket: inputs come in as method calls and what must be sent
//! or scheduled comes back as [`Out`], so the seeded simulation drives the same
//! code as a validator process.

use std::collections::HashMap;
use std::time::Duration;

use ghostd_types::consensus::Commit;
use ghostplane_primitives::Hash32;
use ghostplane_primitives::keys::Keypair;
use malachitebft_core_types::{Round, Timeout};

use super::engine::{Action, Engine};
use super::proposals::{Proposals, ROUND_LOOKAHEAD, Refusal, Verdict};
use super::wire::{BlockMsg, NetMsg, SYNC_BLOCKS_MAX, WalEntry, round_of};
use crate::node::{Ghostd, NodeError, Pending};
use crate::types::SignedL1Transaction;

/// A connection, numbered by the transport.
pub type PeerId = u64;

/// Most bytes of blocks in one sync response (past it, the page ends; one block
/// is always sent).
pub const SYNC_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most peers whose announced heads are remembered.
pub const PEER_HEIGHTS_MAX: usize = 256;

/// What the replica asks its transport to do.
#[derive(Debug, Clone)]
pub enum Out {
    /// Send to every peer.
    Broadcast(NetMsg),
    /// Send to one peer.
    Send(PeerId, NetMsg),
    /// Call [`Replica::on_timeout`] with these after `after`.
    Schedule {
        /// Height it belongs to.
        height: u64,
        /// The timeout.
        timeout: Timeout,
        /// Delay.
        after: Duration,
    },
    /// Forget a scheduled timeout.
    Cancel(Timeout),
    /// Forget every scheduled timeout.
    CancelAll,
    /// Call [`Replica::on_wake`] after this long (our proposal waits for the block
    /// time).
    Wake(Duration),
}

/// What the replica has seen, for `consensus_status`.
#[derive(Debug, Clone, Default)]
pub struct ReplicaStats {
    /// Highest head a peer announced.
    pub best_peer_height: u64,
    /// Messages dropped, by reason.
    pub dropped: HashMap<&'static str, u64>,
    /// Blocks applied through sync.
    pub synced_blocks: u64,
    /// Equivocation evidence records stored.
    pub evidence: usize,
}

/// One node of the network.
pub struct Replica {
    node: Ghostd,
    engine: Option<Engine>,
    /// The blocks of the consensus height (and the few held for later).
    proposals: Proposals,
    own: Option<(Hash32, Vec<Pending>)>,
    /// Heads the connected peers announced (at most [`PEER_HEIGHTS_MAX`]).
    peer_heights: std::collections::BTreeMap<PeerId, u64>,
    ticks: u64,
    head_at_last_tick: u64,
    /// Our proposal, waiting for the block time: height, round, due (unix ms).
    build_due: Option<(u64, Round, u64)>,
    block_time_ms: u64,
    /// A height whose consensus log could not be read or replayed: we send
    /// nothing we sign there (we might contradict what we signed before the
    /// restart) and follow the others through sync instead.
    muted: Option<u64>,
    /// Next write-ahead-log sequence number at the consensus height.
    wal_seq: u64,
    stats: ReplicaStats,
}

impl Replica {
    /// A validator (with `key`) or a full node (without) on `node`'s chain.
    pub fn new(node: Ghostd, key: Option<Keypair>) -> Result<Self, NodeError> {
        let params = node
            .bft()
            .ok_or_else(|| NodeError::Genesis("this genesis runs solo, not BFT".into()))?
            .clone();
        let engine = match key {
            Some(key) => {
                if params.power_of(&key.public_key()).is_none() {
                    return Err(NodeError::Genesis(format!(
                        "{} is not a validator of this genesis; run without a validator key for a full node",
                        key.public_key()
                    )));
                }
                Some(Engine::new(
                    node.genesis().chain_id,
                    &params,
                    key,
                    node.head().number + 1,
                ))
            }
            None => None,
        };
        let head = node.head().number;
        let block_time_ms = params.timeouts.commit_ms;
        Ok(Self {
            node,
            engine,
            proposals: Proposals::default(),
            own: None,
            peer_heights: std::collections::BTreeMap::new(),
            ticks: 0,
            head_at_last_tick: head,
            build_due: None,
            block_time_ms,
            muted: None,
            wal_seq: 0,
            stats: ReplicaStats::default(),
        })
    }

    /// The chain.
    pub fn node(&self) -> &Ghostd {
        &self.node
    }

    /// Consensus height and round (validators).
    pub fn position(&self) -> Option<(u64, i64)> {
        self.engine.as_ref().map(|e| (e.height(), e.round()))
    }

    /// Our validator key (validators).
    pub fn validator(&self) -> Option<ghostplane_primitives::PublicKey> {
        self.engine.as_ref().map(Engine::key)
    }

    /// Counters.
    pub fn stats(&self) -> &ReplicaStats {
        &self.stats
    }

    /// Messages dropped: by the replica (by reason) and by consensus (bad
    /// signatures).
    pub fn dropped(&self) -> u64 {
        self.stats.dropped.values().sum::<u64>()
            + self.engine.as_ref().map_or(0, Engine::bad_signatures)
    }

    /// Whether a peer is ahead of us.
    pub fn syncing(&self) -> bool {
        self.stats.best_peer_height > self.node.head().number + 1
    }

    fn drop_msg(&mut self, reason: &'static str) {
        *self.stats.dropped.entry(reason).or_default() += 1;
        metrics::counter!("ghostd_consensus_dropped_total", "reason" => reason).increment(1);
    }

    /// Starts consensus at the height after our head, replaying its log.
    pub fn start(&mut self) -> Vec<Out> {
        let mut out = vec![Out::Broadcast(NetMsg::Status {
            height: self.node.head().number,
        })];
        let height = self.node.head().number + 1;
        let wal = match self.node.wal_load(height) {
            Ok(wal) => wal,
            Err(e) => {
                tracing::error!(
                    "consensus log unreadable: {e}; not voting at height {height}, following through sync"
                );
                self.muted = Some(height);
                Vec::new()
            }
        };
        self.wal_seq = wal.len() as u64;
        // The proposals this validator saw at this height before a restart: it may
        // have voted or locked on one of them.
        if self.engine.is_some() {
            match self.node.kept_proposals(height) {
                Ok(kept) => {
                    for msg in kept {
                        if let Ok(prepared) =
                            self.node.check_block(&msg.header, &msg.transactions, false)
                        {
                            self.proposals.insert_valid(msg, prepared);
                        }
                    }
                }
                Err(e) => tracing::error!("kept proposals unreadable: {e}"),
            }
        }
        if let Some(engine) = self.engine.as_mut() {
            let actions = engine.start(height, &wal);
            if engine.replay_failed() {
                tracing::error!(
                    "consensus log replay failed; not voting at height {height}, following through sync"
                );
                self.muted = Some(height);
            }
            out.extend(self.perform(actions));
        }
        out
    }

    /// A peer connected: tell it our head.
    pub fn on_connected(&mut self, peer: PeerId) -> Vec<Out> {
        vec![Out::Send(
            peer,
            NetMsg::Status {
                height: self.node.head().number,
            },
        )]
    }

    /// A peer's connection ended: it is no sync source any more.
    pub fn on_disconnected(&mut self, peer: PeerId) {
        self.peer_heights.remove(&peer);
        self.stats.best_peer_height = self.peer_heights.values().copied().max().unwrap_or(0);
    }

    /// A peer ahead of `head`, taken in turn (so one that lies about its height
    /// gets only its share of our requests).
    fn sync_source(&self, head: u64) -> Option<PeerId> {
        let ahead: Vec<PeerId> = self
            .peer_heights
            .iter()
            .filter(|(_, h)| **h > head)
            .map(|(p, _)| *p)
            .collect();
        if ahead.is_empty() {
            return None;
        }
        ahead
            .get((self.ticks % ahead.len() as u64) as usize)
            .copied()
    }

    /// Once a second: announce our head, and sync if a peer is ahead and we made no
    /// progress since the last tick.
    pub fn on_tick(&mut self) -> Vec<Out> {
        self.ticks += 1;
        let head = self.node.head().number;
        let mut out = vec![Out::Broadcast(NetMsg::Status { height: head })];
        if head == self.head_at_last_tick
            && let Some(peer) = self.sync_source(head)
        {
            out.push(Out::Send(peer, NetMsg::SyncRequest { from: head + 1 }));
        }
        self.head_at_last_tick = head;
        out
    }

    /// A scheduled timeout fired.
    pub fn on_timeout(&mut self, height: u64, timeout: Timeout) -> Vec<Out> {
        let Some(engine) = self.engine.as_mut() else {
            return Vec::new();
        };
        if engine.height() != height {
            return Vec::new();
        }
        let actions = engine.on_timeout(timeout);
        self.perform(actions)
    }

    /// The block time has come for a proposal we hold back.
    pub fn on_wake(&mut self) -> Vec<Out> {
        let Some((height, round, due)) = self.build_due else {
            return Vec::new();
        };
        let now = self.node.config().clock.unix_ms();
        if now < due {
            return vec![Out::Wake(Duration::from_millis(due - now))];
        }
        self.build_due = None;
        let current = self.engine.as_ref().map(|e| (e.height(), e.round()));
        if current == Some((height, round.as_i64())) && height == self.node.head().number + 1 {
            self.build(round)
        } else {
            Vec::new()
        }
    }

    /// Transactions this node admitted from its own clients: for the peers.
    pub fn gossip(&self, transactions: Vec<SignedL1Transaction>) -> Out {
        Out::Broadcast(NetMsg::Transactions(transactions))
    }

    /// A message from `peer`.
    pub fn on_message(&mut self, peer: PeerId, msg: NetMsg) -> Vec<Out> {
        if !msg.within_bounds() {
            self.drop_msg("oversize");
            return Vec::new();
        }
        if let Some(signer) = match &msg {
            NetMsg::Vote(v) => Some(v.validator),
            NetMsg::Proposal(p) => Some(p.proposer),
            NetMsg::Block(b) => Some(b.proposer),
            _ => None,
        } && self
            .node
            .bft()
            .is_none_or(|p| p.power_of(&signer).is_none())
        {
            self.drop_msg("not_a_validator");
            return Vec::new();
        }
        match msg {
            NetMsg::Vote(v) => match self.engine.as_mut() {
                Some(engine) if v.height >= engine.height() => {
                    let actions = engine.on_vote(&v);
                    self.perform(actions)
                }
                _ => Vec::new(),
            },
            NetMsg::Proposal(p) => match self.engine.as_mut() {
                Some(engine) if p.height >= engine.height() => {
                    let actions = engine.on_proposal(&p);
                    self.perform(actions)
                }
                _ => Vec::new(),
            },
            NetMsg::Certificate(c) => match self.engine.as_mut() {
                Some(engine) if c.height >= engine.height() => {
                    let actions = engine.on_certificate(&c);
                    self.perform(actions)
                }
                _ => Vec::new(),
            },
            NetMsg::Block(b) => self.on_block(*b),
            NetMsg::Transactions(txs) => {
                admit_gossip(&self.node, txs);
                Vec::new()
            }
            NetMsg::Status { height } => {
                if self.peer_heights.len() < PEER_HEIGHTS_MAX
                    || self.peer_heights.contains_key(&peer)
                {
                    self.peer_heights.insert(peer, height);
                }
                self.stats.best_peer_height =
                    self.peer_heights.values().copied().max().unwrap_or(0);
                let head = self.node.head().number;
                // One behind is normal (a commit in flight); two is not.
                if height >= head + 2 {
                    vec![Out::Send(peer, NetMsg::SyncRequest { from: head + 1 })]
                } else {
                    Vec::new()
                }
            }
            NetMsg::SyncRequest { from } => self.serve_sync(peer, from),
            NetMsg::SyncBlocks(blocks) => self.on_synced(peer, blocks),
        }
    }

    fn serve_sync(&mut self, peer: PeerId, from: u64) -> Vec<Out> {
        serve_sync(&self.node, from)
            .map(|msg| Out::Send(peer, msg))
            .into_iter()
            .collect()
    }

    fn on_synced(
        &mut self,
        peer: PeerId,
        blocks: Vec<(crate::node::StoredBlock, Commit)>,
    ) -> Vec<Out> {
        let mut applied = 0;
        for (block, commit) in &blocks {
            let head = self.node.head().number;
            if block.header.number <= head {
                continue;
            }
            if block.header.number != head + 1 {
                break;
            }
            if let Err(e) = self.node.apply_synced(block, commit) {
                tracing::warn!("sync from peer {peer}: {e}");
                self.drop_msg("bad_sync_block");
                break;
            }
            applied += 1;
        }
        if applied == 0 {
            return Vec::new();
        }
        self.stats.synced_blocks += applied;
        metrics::counter!("ghostd_consensus_synced_blocks_total").increment(applied);
        let head = self.node.head().number;
        let mut out = vec![Out::Broadcast(NetMsg::Status { height: head })];
        if self.peer_heights.get(&peer).is_some_and(|h| *h > head) {
            out.push(Out::Send(peer, NetMsg::SyncRequest { from: head + 1 }));
        }
        // Consensus moves to the height after the synced head.
        if self
            .engine
            .as_ref()
            .is_some_and(|engine| engine.height() <= head)
        {
            out.extend(self.next_height());
        }
        out
    }

    fn on_block(&mut self, msg: BlockMsg) -> Vec<Out> {
        let Some(engine) = self.engine.as_ref() else {
            // Full nodes follow decided blocks through sync.
            return Vec::new();
        };
        let height = engine.height();
        let round = Round::new(msg.round);
        let chain_id = self.node.genesis().chain_id;
        if msg.header.number < height {
            return Vec::new();
        }
        if msg.header.number > height + 1 {
            self.drop_msg("block_too_far_ahead");
            return Vec::new();
        }
        // Only the round's proposer can make us execute or keep a block.
        if engine.proposer_at(msg.header.number, round) != msg.proposer {
            self.drop_msg("block_not_from_proposer");
            return Vec::new();
        }
        let signed = msg.signing_bytes(chain_id);
        if ghostplane_primitives::keys::verify(&msg.proposer, &signed, &msg.signature).is_err() {
            self.drop_msg("bad_block_signature");
            return Vec::new();
        }
        if msg.header.number == height + 1 {
            if let Err(refusal) = self.proposals.hold_next(msg) {
                self.drop_msg(refusal.reason());
            }
            return Vec::new();
        }
        let current = u32::try_from(engine.round().max(0)).unwrap_or(0);
        if msg.round > current.saturating_add(ROUND_LOOKAHEAD) {
            self.proposals.park(msg);
            return Vec::new();
        }
        // The signature covers the header only: transactions that do not match it
        // say nothing about the block (anyone can relay a signed header with other
        // transactions), so they are dropped, never judged.
        if !transactions_match(&msg) {
            self.drop_msg("block_transactions_mismatch");
            return Vec::new();
        }
        let hash = msg.header.hash();
        let valid = match self.proposals.verdict(&hash) {
            Some(verdict) => verdict == Verdict::Valid,
            None => {
                if !self.proposals.has_room(msg.round) {
                    self.drop_msg(Refusal::RoundFull.reason());
                    return Vec::new();
                }
                match self.node.check_block(&msg.header, &msg.transactions, true) {
                    Ok(prepared) => {
                        if let Err(e) = self.node.keep_proposal(height, &msg) {
                            tracing::error!("proposal not kept: {e}");
                            return Vec::new();
                        }
                        self.proposals.insert_valid(msg.clone(), prepared);
                        true
                    }
                    Err(e) => {
                        tracing::warn!("block {} proposed by {} refused: {e}", hash, msg.proposer);
                        self.proposals.insert_invalid(msg.round, hash);
                        false
                    }
                }
            }
        };
        let Some(engine) = self.engine.as_mut() else {
            return Vec::new();
        };
        let actions =
            engine.on_block_verdict(round, round_of(msg.pol_round), msg.proposer, hash, valid);
        self.perform(actions)
    }

    /// Blocks parked for a round that is now within the lookahead.
    fn unpark(&mut self) -> Vec<Out> {
        let Some(engine) = self.engine.as_ref() else {
            return Vec::new();
        };
        let current = u32::try_from(engine.round().max(0)).unwrap_or(0);
        let due = self
            .proposals
            .unpark(current.saturating_add(ROUND_LOOKAHEAD));
        let mut out = Vec::new();
        for msg in due {
            out.extend(self.on_block(msg));
        }
        out
    }

    fn build(&mut self, round: Round) -> Vec<Out> {
        let candidates = match self.own.take() {
            Some((_, candidates)) => candidates,
            None => match self.node.take_candidates() {
                Ok(candidates) => candidates,
                Err(e) => {
                    tracing::error!("no proposal: {e}");
                    return Vec::new();
                }
            },
        };
        let prepared = match self.node.build_proposal(&candidates) {
            Ok(prepared) => prepared,
            Err(e) => {
                tracing::error!("no proposal: {e}");
                self.node.return_candidates(candidates);
                return Vec::new();
            }
        };
        let Some(engine) = self.engine.as_mut() else {
            return Vec::new();
        };
        let hash = prepared.header.hash();
        let mut msg = BlockMsg {
            round: round.as_u32().unwrap_or(0),
            pol_round: -1,
            proposer: engine.key(),
            header: prepared.header.clone(),
            transactions: prepared.included.clone(),
            signature: ghostplane_primitives::Signature([0; 64]),
        };
        msg.signature = engine.sign(&msg.signing_bytes(self.node.genesis().chain_id));
        if let Err(e) = self.node.keep_proposal(msg.header.number, &msg) {
            tracing::error!("proposal not kept: {e}; not proposing");
            self.own = Some((hash, candidates));
            return Vec::new();
        }
        self.own = Some((hash, candidates));
        self.proposals.insert_valid(msg.clone(), prepared);
        let mut out = vec![Out::Broadcast(NetMsg::Block(Box::new(msg)))];
        let actions = engine.propose(round, hash);
        out.extend(self.perform(actions));
        out
    }

    fn next_height(&mut self) -> Vec<Out> {
        let held = self.proposals.advance();
        self.build_due = None;
        self.wal_seq = 0;
        if let Some((_, candidates)) = self.own.take() {
            self.node.return_candidates(candidates);
        }
        let height = self.node.head().number + 1;
        if let Err(e) = self.node.wal_prune(height) {
            tracing::warn!("consensus log not pruned: {e}");
        }
        let Some(engine) = self.engine.as_mut() else {
            return Vec::new();
        };
        let actions = engine.start(height, &[]);
        let mut out = self.perform(actions);
        for msg in held {
            out.extend(self.on_block(msg));
        }
        out
    }

    fn commit(&mut self, commit: &Commit) -> Vec<Out> {
        if commit.height != self.node.head().number + 1 {
            // Already have it (synced meanwhile).
            return Vec::new();
        }
        let Some(prepared) = self
            .proposals
            .executed(&commit.block)
            .map(|e| e.prepared.clone())
        else {
            tracing::error!(
                "decided block {} at height {} is not one we executed; syncing it",
                commit.block,
                commit.height
            );
            // Everyone who committed it can send it: ask them all.
            return vec![Out::Broadcast(NetMsg::SyncRequest {
                from: commit.height,
            })];
        };
        let own = self.own.take();
        let returned = own.as_ref().is_some_and(|(hash, _)| *hash != commit.block);
        if let Err(e) = self.node.commit_decided(prepared, commit, own) {
            tracing::error!("decided block {} not committed: {e}", commit.block);
            return Vec::new();
        }
        if returned {
            metrics::counter!("ghostd_consensus_own_proposal_lost_total").increment(1);
        }
        metrics::counter!("ghostd_consensus_decided_total").increment(1);
        vec![Out::Broadcast(NetMsg::Status {
            height: commit.height,
        })]
    }

    fn perform(&mut self, actions: Vec<Action>) -> Vec<Out> {
        let mut out = Vec::new();
        // What these actions schedule belongs to the height they came from (a
        // decision inside them may move consensus to the next one first).
        let height = self.engine.as_ref().map_or(0, Engine::height);
        // The log first: nothing we signed leaves before it is on disk.
        let wal: Vec<WalEntry> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Wal(entry) => Some(entry.clone()),
                _ => None,
            })
            .collect();
        // Synced when this step sends something we signed; what peers sent us is
        // written as it comes and made durable by the next synced write.
        let signs = actions.iter().any(|a| {
            matches!(
                a,
                Action::Broadcast(NetMsg::Vote(_) | NetMsg::Proposal(_) | NetMsg::Certificate(_))
            )
        });
        if !wal.is_empty() && self.engine.is_some() {
            if let Err(e) = self.node.wal_append(height, self.wal_seq, &wal, signs) {
                // Sending what we cannot log could make us equivocate after a crash.
                tracing::error!("consensus log write failed: {e}; not voting at height {height}");
                self.muted = Some(height);
                return out;
            }
            self.wal_seq += wal.len() as u64;
        }
        let muted = self.muted == Some(height);
        for action in actions {
            match action {
                Action::Wal(_) => {}
                Action::Broadcast(msg) => {
                    if !muted {
                        out.push(Out::Broadcast(msg));
                    }
                }
                Action::Schedule(timeout, after) => out.push(Out::Schedule {
                    height,
                    timeout,
                    after,
                }),
                Action::Cancel(timeout) => out.push(Out::Cancel(timeout)),
                Action::CancelAll => out.push(Out::CancelAll),
                Action::BuildBlock { height, round } => {
                    let head = self.node.head();
                    if height != head.number + 1 {
                        continue;
                    }
                    // The block time: not before `block_time_ms` after the parent.
                    let due = head.timestamp_ms.saturating_add(self.block_time_ms);
                    let now = self.node.config().clock.unix_ms();
                    if now >= due {
                        out.extend(self.build(round));
                    } else {
                        self.build_due = Some((height, round, due));
                        out.push(Out::Wake(Duration::from_millis(due - now)));
                    }
                }
                Action::Restream {
                    round,
                    valid_round,
                    block,
                } => {
                    if let (Some(cached), Some(engine), false) =
                        (self.proposals.executed(&block), self.engine.as_ref(), muted)
                    {
                        let mut msg = cached.msg.clone();
                        msg.round = round.as_u32().unwrap_or(0);
                        msg.pol_round = valid_round.as_i64();
                        msg.proposer = engine.key();
                        msg.signature =
                            engine.sign(&msg.signing_bytes(self.node.genesis().chain_id));
                        out.push(Out::Broadcast(NetMsg::Block(Box::new(msg))));
                    }
                }
                Action::Decided(commit) => out.extend(self.commit(&commit)),
                Action::Finished { height } => {
                    if self.node.head().number >= height {
                        out.extend(self.next_height());
                    }
                }
                Action::Equivocation(a, b) => {
                    tracing::warn!(
                        "validator {} equivocated at height {} round {}",
                        a.validator,
                        a.height,
                        a.round
                    );
                    self.stats.evidence += 1;
                    if let Err(e) = self.node.store_evidence(&a, &b) {
                        tracing::error!("evidence not stored: {e}");
                    }
                }
            }
        }
        // Our round may have moved: blocks parked for it are due.
        out.extend(self.unpark());
        out
    }
}

/// Admits transactions a peer gossiped, counting the refused ones
/// (`ghostd_gossip_refused_total`). The runtime does it off the consensus thread.
pub fn admit_gossip(node: &Ghostd, txs: Vec<SignedL1Transaction>) {
    let refused = node
        .submit_batch_from_peer(txs)
        .into_iter()
        .filter(Result::is_err)
        .count();
    if refused > 0 {
        metrics::counter!("ghostd_gossip_refused_total").increment(refused as u64);
    }
}

/// The answer to "send me decided blocks from `from`": at most
/// [`SYNC_BLOCKS_MAX`] blocks and about [`SYNC_BYTES_MAX`] bytes, or nothing if we
/// have none. It reads the store only, so the runtime serves it off the consensus
/// thread.
pub fn serve_sync(node: &Ghostd, from: u64) -> Option<NetMsg> {
    let head = node.head().number;
    let mut blocks = Vec::new();
    let mut bytes = 0usize;
    let mut height = from.max(1);
    while height <= head && (blocks.len() as u64) < SYNC_BLOCKS_MAX {
        let (Ok(Some(block)), Ok(Some(commit))) =
            (node.block(height), node.commit_certificate(height))
        else {
            break;
        };
        bytes += borsh::to_vec(&block).map_or(usize::MAX, |b| b.len());
        blocks.push((block, commit));
        if bytes > SYNC_BYTES_MAX {
            break;
        }
        height += 1;
    }
    (!blocks.is_empty()).then_some(NetMsg::SyncBlocks(blocks))
}

/// Whether a block's transactions are the ones its header names (count and
/// hash over their hashes, as `Ghostd::execute` computes it): cheap, and checked
/// before any verdict is kept against the header.
fn transactions_match(msg: &BlockMsg) -> bool {
    if msg.transactions.len() != msg.header.tx_count as usize {
        return false;
    }
    let hashes: Vec<Hash32> = msg.transactions.iter().map(|tx| tx.hash()).collect();
    crate::types::L1Header::transactions_hash(&hashes) == msg.header.transactions_hash
}
