//! The thread that runs one BFT node: it owns the [`Replica`], its timers and
//! the transport, and handles one event at a time (a message, a timeout, a
//! once-a-second tick, transactions to gossip).

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ghostplane_primitives::keys::Keypair;
use malachitebft_core_types::Timeout;

pub use ghostd_types::consensus::ConsensusStatus;

use super::net::{Event, Net};
use super::replica::{Out, Replica};
use crate::node::{Ghostd, NodeError};

/// Most events (messages, gossip) waiting for the consensus thread.
pub const EVENTS_MAX: usize = 16_384;
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
    let mut replica = Replica::new(node.clone(), config.key.clone())?;
    let peers = dial_list(&node, &config);
    let net = Net::start(config.listen, peers, events.clone())
        .map_err(|e| NodeError::Rpc(e.to_string()))?;
    let gossip = events.clone();
    node.set_gossip(Box::new(move |txs| {
        if gossip.try_send(Event::Gossip(txs)).is_err() {
            metrics::counter!("ghostd_consensus_dropped_total", "reason" => "gossip_full")
                .increment(1);
        }
    }));
    // Gossiped transactions are admitted off the consensus thread (signature checks
    // and dry runs take milliseconds per thousand).
    let (admit, admissions) =
        crossbeam_channel::bounded::<Vec<crate::types::SignedL1Transaction>>(GOSSIP_BATCHES_MAX);
    {
        let node = node.clone();
        std::thread::Builder::new()
            .name("ghostd-gossip-admit".into())
            .spawn(move || {
                for txs in admissions {
                    let refused = node
                        .submit_batch_from_peer(txs)
                        .into_iter()
                        .filter(Result::is_err)
                        .count();
                    if refused > 0 {
                        metrics::counter!("ghostd_gossip_refused_total").increment(refused as u64);
                    }
                }
            })
            .map_err(|e| NodeError::Rpc(format!("gossip thread: {e}")))?;
    }
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
                let mut outs = match inbox.recv_timeout(deadline.saturating_duration_since(now)) {
                    Ok(Event::Stop) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                        break;
                    }
                    Ok(Event::Message(_, super::wire::NetMsg::Transactions(txs))) => {
                        if txs.len() <= super::wire::GOSSIP_TXS_MAX && admit.try_send(txs).is_err() {
                            metrics::counter!("ghostd_consensus_dropped_total", "reason" => "gossip_admission_full")
                                .increment(1);
                        }
                        Vec::new()
                    }
                    Ok(Event::Message(peer, msg)) => replica.on_message(peer, msg),
                    Ok(Event::Connected(peer)) => replica.on_connected(peer),
                    Ok(Event::Disconnected(peer)) => {
                        replica.on_disconnected(peer);
                        Vec::new()
                    }
                    Ok(Event::Gossip(txs)) => vec![replica.gossip(txs)],
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => Vec::new(),
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
