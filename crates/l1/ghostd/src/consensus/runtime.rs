//! The thread that runs one BFT node: it owns the [`Replica`], its timers and
//! the transport, and handles one event at a time (a message, a timeout, a
//! once-a-second tick, transactions to gossip).
//!
//! Two inboxes feed it: validators' messages (and our own clients' gossip) are
//! read before anyone else's, so strangers filling theirs cannot delay a vote.
//! Two kinds of message are handed off the thread: gossiped transactions (to the
//! admission thread) and sync requests (to the sync server thread: one request in
//! flight per peer, at most one per [`SYNC_REQUEST_INTERVAL`], at most
//! [`SYNC_QUEUE_MAX`] waiting; the reply then waits in the peer's byte-bounded
//! send queue).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ghostplane_primitives::keys::Keypair;
use malachitebft_core_types::Timeout;

pub use ghostd_types::consensus::ConsensusStatus;

use super::net::{Budget, Event, Identity, Inboxes, Net};
use super::replica::{Out, PeerId, Replica};
use super::wire::NetMsg;
use crate::node::{Ghostd, NodeError};

/// Most events (validators' messages, our gossip) waiting for the consensus thread.
pub const EVENTS_MAX: usize = 16_384;
/// Most messages from non-validators waiting for the consensus thread.
pub const OTHER_EVENTS_MAX: usize = 4096;
/// Most sync requests waiting for the sync server.
pub const SYNC_QUEUE_MAX: usize = 8;
/// Peers whose sync requests are remembered (past it, the idle ones are
/// forgotten: a missed disconnect cannot grow the table).
pub const SYNC_PEERS_MAX: usize = 1024;
/// Least time between two sync requests served to one peer.
pub const SYNC_REQUEST_INTERVAL: Duration = Duration::from_millis(200);
const TICK: Duration = Duration::from_secs(1);
/// Most gossiped transaction batches waiting for admission.
pub const GOSSIP_BATCHES_MAX: usize = 64;

/// How to run a BFT node.
#[derive(Clone)]
pub struct BftConfig {
    /// The validator key; `None` runs a full node (follows, serves RPC, no votes).
    pub key: Option<Keypair>,
    /// QUIC address for peers.
    pub listen: SocketAddr,
    /// Peers to dial (and redial).
    pub peers: Vec<SocketAddr>,
}

/// A running BFT node; stops when dropped.
pub struct BftHandle {
    events: crossbeam_channel::Sender<Event>,
    thread: Option<JoinHandle<()>>,
    net: Net,
}

impl BftHandle {
    /// The bound peer address.
    pub fn p2p_addr(&self) -> Option<SocketAddr> {
        self.net.local_addr()
    }

    /// Stops the consensus thread and closes the connections.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        let _ = self.events.send(Event::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.net.close();
    }
}

impl Drop for BftHandle {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Starts the node: transport, gossip hook, consensus thread. Call inside a tokio
/// runtime (the transport's tasks run on it).
pub fn start(node: Ghostd, config: BftConfig) -> Result<BftHandle, NodeError> {
    let (events, inbox) = crossbeam_channel::bounded(EVENTS_MAX);
    let (others, others_inbox) = crossbeam_channel::bounded(OTHER_EVENTS_MAX);
    let mut replica = Replica::new(node.clone(), config.key.clone())?;
    let peers = dial_list(&node, &config);
    let identity = Identity {
        chain_id: node.genesis().chain_id,
        key: config.key.clone().unwrap_or_else(Keypair::generate),
        validators: node
            .bft()
            .map(|p| p.validators.iter().map(|v| v.key).collect())
            .unwrap_or_default(),
    };
    let net = Net::start(
        config.listen,
        peers,
        identity,
        Inboxes {
            validators: events.clone(),
            others,
        },
    )
    .map_err(|e| NodeError::Rpc(e.to_string()))?;
    let gossip = events.clone();
    node.set_gossip(Box::new(move |txs| {
        if gossip.try_send(Event::Gossip(txs)).is_err() {
            metrics::counter!("ghostd_consensus_dropped_total", "reason" => "gossip_full")
                .increment(1);
        }
    }));
    // Gossiped transactions are admitted off the consensus thread (signature checks
    // and dry runs take milliseconds per thousand); each batch holds its frame's
    // budget until admitted.
    let (admit, admissions) = crossbeam_channel::bounded::<(
        Vec<crate::types::SignedL1Transaction>,
        Budget,
    )>(GOSSIP_BATCHES_MAX);
    {
        let node = node.clone();
        std::thread::Builder::new()
            .name("ghostd-gossip-admit".into())
            .spawn(move || {
                for (txs, _budget) in admissions {
                    super::replica::admit_gossip(&node, txs);
                }
            })
            .map_err(|e| NodeError::Rpc(format!("gossip thread: {e}")))?;
    }
    let sync = SyncServer::start(node.clone(), net.clone())?;
    let thread_net = net.clone();
    let thread = std::thread::Builder::new()
        .name("ghostd-consensus".into())
        .spawn(move || {
            let mut timers: Vec<(Instant, u64, Timeout)> = Vec::new();
            let mut wake: Option<Instant> = None;
            let mut next_tick = Instant::now() + TICK;
            let outs = replica.start();
            apply(&thread_net, &mut timers, &mut wake, outs);
            publish(&replica, &thread_net);
            let mut published_head = replica.node().head().number;
            loop {
                let now = Instant::now();
                let deadline = timers
                    .iter()
                    .map(|t| t.0)
                    .min()
                    .unwrap_or(next_tick)
                    .min(next_tick)
                    .min(wake.unwrap_or(next_tick));
                let received = next_event(
                    &inbox,
                    &others_inbox,
                    deadline.saturating_duration_since(now),
                );
                let mut outs = match received {
                    Received::Stop => break,
                    Received::Event(Event::Stop) => break,
                    Received::Event(Event::Message(_, NetMsg::Transactions(txs), budget)) => {
                        if txs.len() <= super::wire::GOSSIP_TXS_MAX
                            && admit.try_send((txs, budget)).is_err()
                        {
                            metrics::counter!("ghostd_consensus_dropped_total", "reason" => "gossip_admission_full")
                                .increment(1);
                        }
                        Vec::new()
                    }
                    Received::Event(Event::Message(peer, NetMsg::SyncRequest { from }, _)) => {
                        sync.request(peer, from);
                        Vec::new()
                    }
                    Received::Event(Event::Message(peer, msg, _budget)) => {
                        replica.on_message(peer, msg)
                    }
                    Received::Event(Event::Connected(peer)) => replica.on_connected(peer),
                    Received::Event(Event::Disconnected(peer)) => {
                        replica.on_disconnected(peer);
                        sync.forget(peer);
                        Vec::new()
                    }
                    Received::Event(Event::Gossip(txs)) => vec![replica.gossip(txs)],
                    Received::Timeout => Vec::new(),
                };
                // Timers run on every pass, so a stream of messages cannot starve
                // them.
                apply(&thread_net, &mut timers, &mut wake, std::mem::take(&mut outs));
                let now = Instant::now();
                if now >= next_tick {
                    next_tick = now + TICK;
                    outs.extend(replica.on_tick());
                    // Status for RPC once a tick, and after every commit below.
                    publish(&replica, &thread_net);
                }
                let due: Vec<_> = timers.iter().filter(|t| t.0 <= now).cloned().collect();
                timers.retain(|t| t.0 > now);
                for (_, height, timeout) in due {
                    outs.extend(replica.on_timeout(height, timeout));
                }
                if wake.is_some_and(|w| w <= now) {
                    wake = None;
                    outs.extend(replica.on_wake());
                }
                let head = replica.node().head().number;
                if head != published_head {
                    published_head = head;
                    publish(&replica, &thread_net);
                }
                apply(&thread_net, &mut timers, &mut wake, outs);
            }
        })
        .map_err(|e| NodeError::Rpc(format!("consensus thread: {e}")))?;
    Ok(BftHandle {
        events,
        thread: Some(thread),
        net,
    })
}

enum Received {
    Event(Event),
    Timeout,
    Stop,
}

/// The next event: the validators' inbox first, then the others', else waits on
/// both until `timeout`.
fn next_event(
    validators: &crossbeam_channel::Receiver<Event>,
    others: &crossbeam_channel::Receiver<Event>,
    timeout: Duration,
) -> Received {
    if let Ok(event) = validators.try_recv() {
        return Received::Event(event);
    }
    if let Ok(event) = others.try_recv() {
        return Received::Event(event);
    }
    crossbeam_channel::select! {
        recv(validators) -> event => match event {
            Ok(event) => Received::Event(event),
            Err(_) => Received::Stop,
        },
        recv(others) -> event => match event {
            Ok(event) => Received::Event(event),
            // The transport holds the senders; the validators' inbox decides when
            // to stop.
            Err(_) => Received::Timeout,
        },
        default(timeout) => Received::Timeout,
    }
}

/// Serves sync requests on its own thread (reading blocks is disk work, and a
/// page is up to 16 MiB): one in flight per peer, one per
/// [`SYNC_REQUEST_INTERVAL`] per peer, [`SYNC_QUEUE_MAX`] waiting.
struct SyncServer {
    queue: crossbeam_channel::Sender<(PeerId, u64)>,
    /// Per peer: when its last request was taken, and whether it is in flight.
    peers: Arc<Mutex<HashMap<PeerId, (Instant, bool)>>>,
}

impl SyncServer {
    fn taken(&self, peer: PeerId, now: Instant) -> Result<(), &'static str> {
        let Ok(mut peers) = self.peers.lock() else {
            return Err("sync_server_down");
        };
        if peers.len() >= SYNC_PEERS_MAX {
            peers.retain(|_, (_, in_flight)| *in_flight);
        }
        match peers.get(&peer) {
            Some((_, true)) => return Err("sync_request_in_flight"),
            Some((at, false)) if now.duration_since(*at) < SYNC_REQUEST_INTERVAL => {
                return Err("sync_request_too_soon");
            }
            _ => {}
        }
        peers.insert(peer, (now, true));
        Ok(())
    }

    fn start(node: Ghostd, net: Net) -> Result<Self, NodeError> {
        let (queue, requests) = crossbeam_channel::bounded::<(PeerId, u64)>(SYNC_QUEUE_MAX);
        let peers: Arc<Mutex<HashMap<PeerId, (Instant, bool)>>> = Arc::default();
        let served = peers.clone();
        std::thread::Builder::new()
            .name("ghostd-sync-serve".into())
            .spawn(move || {
                for (peer, from) in requests {
                    if let Some(reply) = super::replica::serve_sync(&node, from) {
                        net.send(peer, &reply);
                    }
                    if let Ok(mut peers) = served.lock()
                        && let Some(entry) = peers.get_mut(&peer)
                    {
                        entry.1 = false;
                    }
                }
            })
            .map_err(|e| NodeError::Rpc(format!("sync thread: {e}")))?;
        Ok(Self { queue, peers })
    }

    /// A peer asks for blocks from `from`: queued unless it is over its limits.
    fn request(&self, peer: PeerId, from: u64) {
        let refused = self.taken(peer, Instant::now()).err().or_else(|| {
            self.queue.try_send((peer, from)).is_err().then(|| {
                self.forget(peer);
                "sync_queue_full"
            })
        });
        if let Some(reason) = refused {
            metrics::counter!("ghostd_consensus_dropped_total", "reason" => reason).increment(1);
        }
    }

    /// A peer left.
    fn forget(&self, peer: PeerId) {
        if let Ok(mut peers) = self.peers.lock() {
            peers.remove(&peer);
        }
    }
}

fn apply(
    net: &Net,
    timers: &mut Vec<(Instant, u64, Timeout)>,
    wake: &mut Option<Instant>,
    outs: Vec<Out>,
) {
    for out in outs {
        match out {
            Out::Broadcast(msg) => net.broadcast(&msg),
            Out::Send(peer, msg) => net.send(peer, &msg),
            Out::Schedule {
                height,
                timeout,
                after,
            } => {
                timers.retain(|t| t.2 != timeout);
                timers.push((Instant::now() + after, height, timeout));
            }
            Out::Cancel(timeout) => timers.retain(|t| t.2 != timeout),
            Out::CancelAll => timers.clear(),
            Out::Wake(after) => *wake = Some(Instant::now() + after),
        }
    }
}

fn publish(replica: &Replica, net: &Net) {
    let node = replica.node();
    let head = node.head().number;
    let stats = replica.stats();
    let status = ConsensusStatus {
        mode: "bft".into(),
        height: head,
        consensus_height: replica.position().map(|p| p.0),
        round: replica.position().map(|p| p.1),
        validator: replica.validator().map(|k| k.to_hex()),
        last_commit_signers: node
            .commit_certificate(head)
            .ok()
            .flatten()
            .map(|c| c.signatures.iter().map(|(k, _)| k.to_hex()).collect())
            .unwrap_or_default(),
        peers: net.peer_count(),
        syncing: replica.syncing(),
        best_peer_height: stats.best_peer_height,
        synced_blocks: stats.synced_blocks,
        bytes_sent: net.traffic.sent.load(std::sync::atomic::Ordering::Relaxed),
        bytes_received: net
            .traffic
            .received
            .load(std::sync::atomic::Ordering::Relaxed),
        dropped: replica.dropped()
            + net
                .traffic
                .dropped
                .load(std::sync::atomic::Ordering::Relaxed),
        evidence: stats.evidence,
    };
    node.set_consensus_status(Arc::new(status));
}

/// Whom to dial: `--peers`, plus the genesis validators' addresses: those listed
/// before us (a validator), or all (a full node), so each pair of validators has
/// one connection. Our own address and duplicates are left out.
fn dial_list(node: &Ghostd, config: &BftConfig) -> Vec<SocketAddr> {
    use std::net::ToSocketAddrs;
    let mut out: Vec<SocketAddr> = config.peers.clone();
    if let Some(params) = node.bft() {
        let me = config.key.as_ref().map(Keypair::public_key);
        for v in &params.validators {
            if Some(v.key) == me {
                break;
            }
            let Some(text) = &v.p2p else {
                continue;
            };
            match text.to_socket_addrs().map(|mut a| a.next()) {
                Ok(Some(addr)) => out.push(addr),
                _ => tracing::warn!("validator {}: p2p address {text} does not resolve", v.key),
            }
        }
    }
    out.retain(|a| *a != config.listen);
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(*a));
    out
}
