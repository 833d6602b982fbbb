//! QUIC transport between nodes (quinn): one connection per peer pair, one
//! unidirectional stream each way, frames of `u32` length + borsh [`NetMsg`].
//!
//! ## Who is who
//!
//! TLS gives encryption; identity comes from a [`Hello`], the first frame each way:
//! the sender's key and chain id, signed over the TLS session's exported keying
//! material and the sender's role (dialer or acceptor), so a hello cannot be
//! replayed on another connection or reflected back. A key of the genesis
//! validator set makes the connection a validator's: each validator has one
//! reserved slot (a new authenticated connection replaces its old one, so a
//! restarted validator always gets back in), and its frames go to the validators'
//! inbox, which the consensus thread reads first. Anyone else (full nodes, with a
//! key of their own) shares [`OTHER_PEERS_MAX`] slots and the other inbox.
//! Consensus still checks every vote, proposal and certificate signature itself.
//!
//! ## Limits
//!
//! - handshakes in flight [`HANDSHAKES_MAX`], each done within
//!   [`HANDSHAKE_TIMEOUT`], or the connection is closed;
//! - frames at most [`FRAME_BYTES_MAX`]; bytes of frames being read or waiting for
//!   the consensus thread, per class: [`VALIDATOR_INBOUND_BYTES_MAX`] and
//!   [`OTHER_INBOUND_BYTES_MAX`] (a frame's budget is held until the consensus
//!   thread has handled its message; a peer past it waits, and QUIC's flow control
//!   makes it wait too);
//! - per peer, [`PEER_QUEUE_MAX`] queued frames and [`VALIDATOR_QUEUE_BYTES_MAX`] or
//!   [`OTHER_QUEUE_BYTES_MAX`] queued bytes; past it, frames to that peer are
//!   dropped and counted.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::keys::Keypair;
use ghostplane_primitives::{PublicKey, Signature};
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::replica::PeerId;
use super::wire::{FRAME_BYTES_MAX, NetMsg};
use crate::types::SignedL1Transaction;

/// Connections of non-validators (full nodes, anyone) at once.
pub const OTHER_PEERS_MAX: usize = 16;
/// Connections whose TLS handshake or hello is still in progress.
pub const HANDSHAKES_MAX: usize = 32;
/// Time a connection has to finish its TLS handshake and hello.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);
/// Most frames queued for one peer.
pub const PEER_QUEUE_MAX: usize = 4096;
/// Most bytes queued for one validator.
pub const VALIDATOR_QUEUE_BYTES_MAX: usize = 256 * 1024 * 1024;
/// Most bytes queued for one other peer.
pub const OTHER_QUEUE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Bytes of validators' frames being read or waiting for the consensus thread.
pub const VALIDATOR_INBOUND_BYTES_MAX: usize = 1024 * 1024 * 1024;
/// Bytes of other peers' frames being read or waiting for the consensus thread.
pub const OTHER_INBOUND_BYTES_MAX: usize = 128 * 1024 * 1024;
/// Largest hello frame.
pub const HELLO_BYTES_MAX: usize = 256;
const ALPN: &[u8] = b"ghostd-p2p/1";
const HELLO_DOMAIN: &[u8] = b"ghostd-p2p-hello/1";
const EXPORTER_LABEL: &[u8] = b"EXPORTER-ghostd-p2p-hello";

/// A frame's share of its class's inbound byte budget, released when the message
/// has been handled (dropped).
#[derive(Debug)]
pub struct Budget(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl Budget {
    /// No budget held (messages made locally, tests).
    pub fn none() -> Self {
        Budget(None)
    }
}

/// What the transport (and the node's RPC) hand the runtime thread.
#[derive(Debug)]
pub enum Event {
    /// A peer connected.
    Connected(PeerId),
    /// A peer's connection ended.
    Disconnected(PeerId),
    /// A message from a peer, with the budget its frame holds.
    Message(PeerId, NetMsg, Budget),
    /// Transactions our clients submitted, for the peers.
    Gossip(Vec<SignedL1Transaction>),
    /// Stop the node.
    Stop,
}

/// The two inboxes of the consensus thread.
#[derive(Clone)]
pub struct Inboxes {
    /// Validators' messages, our own clients' gossip and control: read first.
    pub validators: crossbeam_channel::Sender<Event>,
    /// Everyone else's.
    pub others: crossbeam_channel::Sender<Event>,
}

/// Who this node is on the network.
#[derive(Clone)]
pub struct Identity {
    /// The chain's id: a hello for another chain is refused.
    pub chain_id: u64,
    /// Our key: the validator key, or one made for this run (a full node).
    pub key: Keypair,
    /// The genesis validators.
    pub validators: HashSet<PublicKey>,
}

/// The first frame each way: who sends it, signed over the TLS session.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub struct Hello {
    /// Chain id.
    pub chain_id: u64,
    /// The sender's key.
    pub key: PublicKey,
    /// Signature over [`hello_signing_bytes`].
    pub signature: Signature,
}

/// What a hello signs: domain, chain id, the sender's role (1 = dialer,
/// 0 = acceptor) and 32 bytes of keying material exported from the TLS session.
pub fn hello_signing_bytes(chain_id: u64, dialer: bool, exported: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HELLO_DOMAIN.len() + 8 + 1 + 32);
    out.extend_from_slice(HELLO_DOMAIN);
    out.extend_from_slice(&chain_id.to_le_bytes());
    out.push(u8::from(dialer));
    out.extend_from_slice(exported);
    out
}

/// Why the transport could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// TLS setup failed.
    #[error("p2p TLS: {0}")]
    Tls(String),
    /// The socket could not be bound.
    #[error("p2p bind {addr}: {reason}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// Why a connection's handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The QUIC connection or a stream failed.
    #[error("connection: {0}")]
    Connection(String),
    /// The peer's hello was missing, oversize or malformed.
    #[error("bad hello: {0}")]
    BadHello(String),
    /// The peer's hello is for another chain.
    #[error("hello for chain {theirs}, this node runs chain {ours}")]
    WrongChain {
        /// Their chain id.
        theirs: u64,
        /// Ours.
        ours: u64,
    },
    /// The hello's signature does not verify over this session.
    #[error("hello signature does not verify for key {0}")]
    BadSignature(PublicKey),
    /// It took longer than [`HANDSHAKE_TIMEOUT`].
    #[error("handshake timed out")]
    Timeout,
}

/// Bytes moved, for the bandwidth figures.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Bytes sent (frames, all peers).
    pub sent: AtomicU64,
    /// Bytes received.
    pub received: AtomicU64,
    /// Messages dropped because a queue was full or a frame was bad.
    pub dropped: AtomicU64,
    /// Connections refused or closed before they were admitted.
    pub refused: AtomicU64,
}

/// A peer's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Validator(PublicKey),
    Other,
}

struct Peer {
    class: Class,
    queue: tokio::sync::mpsc::Sender<Arc<Vec<u8>>>,
    queued_bytes: Arc<AtomicUsize>,
    connection: quinn::Connection,
}

type PeerTable = Arc<Mutex<HashMap<PeerId, Peer>>>;

/// The running transport.
#[derive(Clone)]
pub struct Net {
    endpoint: quinn::Endpoint,
    peers: PeerTable,
    identity: Arc<Identity>,
    handshakes: Arc<Semaphore>,
    validator_inbound: Arc<Semaphore>,
    other_inbound: Arc<Semaphore>,
    /// Traffic counters.
    pub traffic: Arc<Traffic>,
    closed: Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn transport() -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(0u8.into());
    t.max_concurrent_uni_streams(1u8.into());
    t.keep_alive_interval(Some(Duration::from_secs(1)));
    if let Ok(idle) = quinn::IdleTimeout::try_from(Duration::from_secs(5)) {
        t.max_idle_timeout(Some(idle));
    }
    Arc::new(t)
}

/// The client side of the transport's TLS (any certificate: identity is the
/// hello's), with its ALPN: for dialers, and for tests that play a peer.
pub fn client_config() -> Result<quinn::ClientConfig, NetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client_tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| NetError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    client_tls.alpn_protocols = vec![ALPN.to_vec()];
    let mut client = quinn::ClientConfig::new(Arc::new(
        QuicClientConfig::try_from(client_tls).map_err(|e| NetError::Tls(e.to_string()))?,
    ));
    client.transport_config(transport());
    Ok(client)
}

fn server_config() -> Result<quinn::ServerConfig, NetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let generated = rcgen::generate_simple_self_signed(vec!["ghostd".to_string()])
        .map_err(|e| NetError::Tls(e.to_string()))?;
    let cert = CertificateDer::from(generated.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    let mut server_tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| NetError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| NetError::Tls(e.to_string()))?;
    server_tls.alpn_protocols = vec![ALPN.to_vec()];
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(
        QuicServerConfig::try_from(server_tls).map_err(|e| NetError::Tls(e.to_string()))?,
    ));
    server.transport_config(transport());
    Ok(server)
}

/// A length-prefixed frame.
pub fn frame_bytes(body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(body);
    frame
}

/// Opens our stream on `connection`, sends our hello, and reads and checks the
/// peer's: the peer's key, and the two streams. `dialer` is our role.
pub async fn handshake(
    connection: &quinn::Connection,
    identity: &Identity,
    dialer: bool,
) -> Result<(PublicKey, quinn::SendStream, quinn::RecvStream), HandshakeError> {
    let conn = |e: &dyn std::fmt::Display| HandshakeError::Connection(e.to_string());
    let mut exported = [0u8; 32];
    connection
        .export_keying_material(&mut exported, EXPORTER_LABEL, b"")
        .map_err(|_| HandshakeError::Connection("no keying material".into()))?;
    let mut send = connection.open_uni().await.map_err(|e| conn(&e))?;
    let hello = Hello {
        chain_id: identity.chain_id,
        key: identity.key.public_key(),
        signature: identity.key.sign_bytes(&hello_signing_bytes(
            identity.chain_id,
            dialer,
            &exported,
        )),
    };
    let body = borsh::to_vec(&hello).map_err(|e| conn(&e))?;
    send.write_all(&frame_bytes(&body))
        .await
        .map_err(|e| conn(&e))?;
    let mut recv = connection.accept_uni().await.map_err(|e| conn(&e))?;
    let mut len = [0u8; 4];
    recv.read_exact(&mut len).await.map_err(|e| conn(&e))?;
    let len = u32::from_be_bytes(len) as usize;
    if len > HELLO_BYTES_MAX {
        return Err(HandshakeError::BadHello(format!(
            "{len} bytes is over {HELLO_BYTES_MAX}"
        )));
    }
    let mut body = vec![0u8; len];
    recv.read_exact(&mut body).await.map_err(|e| conn(&e))?;
    let theirs: Hello =
        borsh::from_slice(&body).map_err(|e| HandshakeError::BadHello(e.to_string()))?;
    if theirs.chain_id != identity.chain_id {
        return Err(HandshakeError::WrongChain {
            theirs: theirs.chain_id,
            ours: identity.chain_id,
        });
    }
    if theirs.key == hello.key {
        return Err(HandshakeError::BadHello("our own key".into()));
    }
    let signed = hello_signing_bytes(identity.chain_id, !dialer, &exported);
    ghostplane_primitives::keys::verify(&theirs.key, &signed, &theirs.signature)
        .map_err(|_| HandshakeError::BadSignature(theirs.key))?;
    Ok((theirs.key, send, recv))
}

impl Net {
    /// Binds `listen`, accepts peers, and keeps dialing `peers` (reconnecting when
    /// a connection drops). Must be called inside a tokio runtime.
    pub fn start(
        listen: SocketAddr,
        peers: Vec<SocketAddr>,
        identity: Identity,
        inboxes: Inboxes,
    ) -> Result<Self, NetError> {
        let mut endpoint =
            quinn::Endpoint::server(server_config()?, listen).map_err(|e| NetError::Bind {
                addr: listen,
                reason: e.to_string(),
            })?;
        endpoint.set_default_client_config(client_config()?);
        let net = Net {
            endpoint,
            peers: Arc::new(Mutex::new(HashMap::new())),
            identity: Arc::new(identity),
            handshakes: Arc::new(Semaphore::new(HANDSHAKES_MAX)),
            validator_inbound: Arc::new(Semaphore::new(VALIDATOR_INBOUND_BYTES_MAX)),
            other_inbound: Arc::new(Semaphore::new(OTHER_INBOUND_BYTES_MAX)),
            traffic: Arc::new(Traffic::default()),
            closed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let ids = Arc::new(AtomicU64::new(1));
        {
            let net = net.clone();
            let inboxes = inboxes.clone();
            let ids = ids.clone();
            tokio::spawn(async move {
                while let Some(incoming) = net.endpoint.accept().await {
                    // Bounded before any TLS work: a flood of connection attempts
                    // waits its turn here, not in memory.
                    let Ok(permit) = net.handshakes.clone().try_acquire_owned() else {
                        net.traffic.refused.fetch_add(1, Ordering::Relaxed);
                        incoming.refuse();
                        continue;
                    };
                    let net = net.clone();
                    let inboxes = inboxes.clone();
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        let connected = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
                            let connection = incoming
                                .await
                                .map_err(|e| HandshakeError::Connection(e.to_string()))?;
                            let (key, send, recv) =
                                handshake(&connection, &net.identity, false).await?;
                            Ok::<_, HandshakeError>((connection, key, send, recv))
                        })
                        .await;
                        drop(permit);
                        match connected {
                            Ok(Ok((connection, key, send, recv))) => {
                                net.serve(id, connection, key, send, recv, inboxes).await;
                            }
                            Ok(Err(e)) => {
                                net.traffic.refused.fetch_add(1, Ordering::Relaxed);
                                tracing::debug!("p2p handshake refused: {e}");
                            }
                            Err(_) => {
                                net.traffic.refused.fetch_add(1, Ordering::Relaxed);
                                tracing::debug!(
                                    "p2p handshake refused: {}",
                                    HandshakeError::Timeout
                                );
                            }
                        }
                    });
                }
            });
        }
        for addr in peers {
            let net = net.clone();
            let inboxes = inboxes.clone();
            let ids = ids.clone();
            tokio::spawn(async move {
                loop {
                    if let Ok(connecting) = net.endpoint.connect(addr, "ghostd") {
                        let connected = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
                            let connection = connecting
                                .await
                                .map_err(|e| HandshakeError::Connection(e.to_string()))?;
                            let (key, send, recv) =
                                handshake(&connection, &net.identity, true).await?;
                            Ok::<_, HandshakeError>((connection, key, send, recv))
                        })
                        .await;
                        match connected {
                            Ok(Ok((connection, key, send, recv))) => {
                                let id = ids.fetch_add(1, Ordering::Relaxed);
                                net.serve(id, connection, key, send, recv, inboxes.clone())
                                    .await;
                            }
                            Ok(Err(e)) => tracing::debug!("p2p dial {addr}: {e}"),
                            Err(_) => {
                                tracing::debug!("p2p dial {addr}: {}", HandshakeError::Timeout)
                            }
                        }
                    }
                    if net.closed.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            });
        }
        Ok(net)
    }

    /// The bound address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.endpoint.local_addr().ok()
    }

    /// Connected peers.
    pub fn peer_count(&self) -> usize {
        self.peers.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Connected validators.
    pub fn validator_count(&self) -> usize {
        self.peers
            .lock()
            .map(|p| {
                p.values()
                    .filter(|peer| matches!(peer.class, Class::Validator(_)))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Closes every connection.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.endpoint.close(0u32.into(), b"stopping");
    }

    fn frame(&self, msg: &NetMsg) -> Option<Arc<Vec<u8>>> {
        let body = borsh::to_vec(msg).ok()?;
        if body.len() > FRAME_BYTES_MAX {
            self.traffic.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(Arc::new(frame_bytes(&body)))
    }

    /// Queues `frame` for `peer`, within its count and byte budgets.
    fn enqueue(&self, peer: &Peer, frame: Arc<Vec<u8>>) {
        let budget = match peer.class {
            Class::Validator(_) => VALIDATOR_QUEUE_BYTES_MAX,
            Class::Other => OTHER_QUEUE_BYTES_MAX,
        };
        let len = frame.len();
        let queued = peer.queued_bytes.fetch_add(len, Ordering::Relaxed);
        if queued + len > budget || peer.queue.try_send(frame).is_err() {
            peer.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            self.traffic.dropped.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("ghostd_consensus_dropped_total", "reason" => "peer_queue_full")
                .increment(1);
        }
    }

    /// Sends to every connected peer (dropped for a peer whose queue is full).
    pub fn broadcast(&self, msg: &NetMsg) {
        let Some(frame) = self.frame(msg) else {
            return;
        };
        let Ok(peers) = self.peers.lock() else {
            return;
        };
        for peer in peers.values() {
            self.enqueue(peer, frame.clone());
        }
    }

    /// Sends to one peer.
    pub fn send(&self, peer: PeerId, msg: &NetMsg) {
        let Some(frame) = self.frame(msg) else {
            return;
        };
        let Ok(peers) = self.peers.lock() else {
            return;
        };
        if let Some(peer) = peers.get(&peer) {
            self.enqueue(peer, frame);
        }
    }

    /// Takes a slot for an authenticated peer: a validator's own (replacing its
    /// older connection), or one of the others' if any is free.
    fn admit(&self, id: PeerId, class: Class, peer: Peer) -> bool {
        let Ok(mut peers) = self.peers.lock() else {
            return false;
        };
        match class {
            Class::Validator(key) => {
                let older: Vec<PeerId> = peers
                    .iter()
                    .filter(|(_, p)| p.class == Class::Validator(key))
                    .map(|(id, _)| *id)
                    .collect();
                for old in older {
                    if let Some(old) = peers.remove(&old) {
                        old.connection.close(0u32.into(), b"replaced");
                    }
                }
            }
            Class::Other => {
                let others = peers.values().filter(|p| p.class == Class::Other).count();
                if others >= OTHER_PEERS_MAX {
                    return false;
                }
            }
        }
        peers.insert(id, peer);
        true
    }

    async fn serve(
        &self,
        id: PeerId,
        connection: quinn::Connection,
        key: PublicKey,
        mut send: quinn::SendStream,
        mut recv: quinn::RecvStream,
        inboxes: Inboxes,
    ) {
        let (class, events, inbound) = if self.identity.validators.contains(&key) {
            (
                Class::Validator(key),
                inboxes.validators,
                self.validator_inbound.clone(),
            )
        } else {
            (Class::Other, inboxes.others, self.other_inbound.clone())
        };
        let (queue, mut outgoing) = tokio::sync::mpsc::channel::<Arc<Vec<u8>>>(PEER_QUEUE_MAX);
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let peer = Peer {
            class,
            queue,
            queued_bytes: queued_bytes.clone(),
            connection: connection.clone(),
        };
        if !self.admit(id, class, peer) {
            self.traffic.refused.fetch_add(1, Ordering::Relaxed);
            connection.close(1u32.into(), b"full");
            return;
        }
        let _ = events.try_send(Event::Connected(id));
        let traffic = self.traffic.clone();
        let writer = tokio::spawn(async move {
            while let Some(frame) = outgoing.recv().await {
                let written = send.write_all(&frame).await;
                queued_bytes.fetch_sub(frame.len(), Ordering::Relaxed);
                if written.is_err() {
                    break;
                }
                traffic
                    .sent
                    .fetch_add(frame.len() as u64, Ordering::Relaxed);
            }
        });
        let mut body = Vec::new();
        loop {
            let mut len = [0u8; 4];
            if recv.read_exact(&mut len).await.is_err() {
                break;
            }
            let len = u32::from_be_bytes(len) as usize;
            if len > FRAME_BYTES_MAX {
                self.traffic.dropped.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("ghostd_consensus_dropped_total", "reason" => "oversize_frame")
                    .increment(1);
                break;
            }
            // The frame's bytes count against its class's budget from before they
            // are read until the consensus thread is done with the message.
            let Ok(permit) = inbound
                .clone()
                .acquire_many_owned(u32::try_from(len.max(1)).unwrap_or(u32::MAX))
                .await
            else {
                break;
            };
            // Grows with what arrives, not with what the length prefix claims.
            body.clear();
            let mut chunk = vec![0u8; 64 * 1024];
            let mut remaining = len;
            let mut complete = true;
            while remaining > 0 {
                let n = remaining.min(chunk.len());
                if recv.read_exact(&mut chunk[..n]).await.is_err() {
                    complete = false;
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
                remaining -= n;
            }
            if !complete {
                break;
            }
            self.traffic
                .received
                .fetch_add(len as u64 + 4, Ordering::Relaxed);
            match borsh::from_slice::<NetMsg>(&body) {
                Ok(msg) => {
                    if events
                        .try_send(Event::Message(id, msg, Budget(Some(permit))))
                        .is_err()
                    {
                        self.traffic.dropped.fetch_add(1, Ordering::Relaxed);
                        metrics::counter!("ghostd_consensus_dropped_total", "reason" => "inbox_full")
                            .increment(1);
                    }
                }
                Err(_) => {
                    self.traffic.dropped.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("ghostd_consensus_dropped_total", "reason" => "malformed")
                        .increment(1);
                }
            }
            if body.capacity() > 1024 * 1024 {
                // A large frame's buffer is not kept for the small ones after it.
                body = Vec::new();
            }
        }
        if let Ok(mut peers) = self.peers.lock()
            && peers
                .get(&id)
                .is_some_and(|p| p.connection.stable_id() == connection.stable_id())
        {
            peers.remove(&id);
        }
        let _ = events.try_send(Event::Disconnected(id));
        writer.abort();
        connection.close(0u32.into(), b"bye");
    }
}
