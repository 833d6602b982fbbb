//! QUIC transport between nodes (quinn): one connection per peer pair, one
//! unidirectional stream each way, frames of `u32` length + borsh [`NetMsg`].
//!
//! TLS here gives encryption, not identity: each node presents a fresh
//! self-signed certificate and accepts any. Identity lives in the messages: votes
//! and proposals carry validator signatures that consensus checks, blocks are
//! bound by the header hash that consensus agrees on, and synced blocks carry
//! commit certificates. A peer can waste bandwidth (bounded below) but cannot
//! forge consensus.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::replica::PeerId;
use super::wire::{FRAME_BYTES_MAX, NetMsg};
use crate::types::SignedL1Transaction;

/// Most connected peers.
pub const PEERS_MAX: usize = 64;
/// Most messages queued for one peer; past it, messages to that peer are dropped.
pub const PEER_QUEUE_MAX: usize = 4096;
const ALPN: &[u8] = b"ghostd-p2p/1";

/// What the transport (and the node's RPC) hand the runtime thread.
#[derive(Debug)]
pub enum Event {
    /// A peer connected.
    Connected(PeerId),
    /// A peer's connection ended.
    Disconnected(PeerId),
    /// A message from a peer.
    Message(PeerId, NetMsg),
    /// Transactions our clients submitted, for the peers.
    Gossip(Vec<SignedL1Transaction>),
    /// Stop the node.
    Stop,
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

/// Bytes moved, for the bandwidth figures.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Bytes sent (frames, all peers).
    pub sent: AtomicU64,
    /// Bytes received.
    pub received: AtomicU64,
    /// Messages dropped because a queue was full or a frame was bad.
    pub dropped: AtomicU64,
}

type PeerTable = Arc<Mutex<HashMap<PeerId, tokio::sync::mpsc::Sender<Arc<Vec<u8>>>>>>;

/// The running transport.
#[derive(Clone)]
pub struct Net {
    endpoint: quinn::Endpoint,
    peers: PeerTable,
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

impl Net {
    /// Binds `listen`, accepts peers, and keeps dialing `peers` (reconnecting when
    /// a connection drops). Must be called inside a tokio runtime.
    pub fn start(
        listen: SocketAddr,
        peers: Vec<SocketAddr>,
        events: crossbeam_channel::Sender<Event>,
    ) -> Result<Self, NetError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let generated = rcgen::generate_simple_self_signed(vec!["ghostd".to_string()])
            .map_err(|e| NetError::Tls(e.to_string()))?;
        let cert = CertificateDer::from(generated.cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            generated.signing_key.serialize_der(),
        ));
        let mut server_tls = rustls::ServerConfig::builder_with_provider(provider.clone())
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
        let mut endpoint = quinn::Endpoint::server(server, listen).map_err(|e| NetError::Bind {
            addr: listen,
            reason: e.to_string(),
        })?;
        endpoint.set_default_client_config(client);
        let net = Net {
            endpoint,
            peers: Arc::new(Mutex::new(HashMap::new())),
            traffic: Arc::new(Traffic::default()),
            closed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let ids = Arc::new(AtomicU64::new(1));
        {
            let net = net.clone();
            let events = events.clone();
            let ids = ids.clone();
            tokio::spawn(async move {
                while let Some(incoming) = net.endpoint.accept().await {
                    if net.peer_count() >= PEERS_MAX {
                        incoming.refuse();
                        continue;
                    }
                    let net = net.clone();
                    let events = events.clone();
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        if let Ok(connection) = incoming.await {
                            net.serve(id, connection, events).await;
                        }
                    });
                }
            });
        }
        for addr in peers {
            let net = net.clone();
            let events = events.clone();
            let ids = ids.clone();
            tokio::spawn(async move {
                loop {
                    if let Ok(connecting) = net.endpoint.connect(addr, "ghostd")
                        && let Ok(connection) = connecting.await
                    {
                        let id = ids.fetch_add(1, Ordering::Relaxed);
                        net.serve(id, connection, events.clone()).await;
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
        let mut frame = Vec::with_capacity(body.len() + 4);
        frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
        frame.extend_from_slice(&body);
        Some(Arc::new(frame))
    }

    /// Sends to every connected peer (dropped for a peer whose queue is full).
    pub fn broadcast(&self, msg: &NetMsg) {
        let Some(frame) = self.frame(msg) else {
            return;
        };
        let Ok(peers) = self.peers.lock() else {
            return;
        };
        for queue in peers.values() {
            if queue.try_send(frame.clone()).is_err() {
                self.traffic.dropped.fetch_add(1, Ordering::Relaxed);
            }
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
        if let Some(queue) = peers.get(&peer)
            && queue.try_send(frame).is_err()
        {
            self.traffic.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn serve(
        &self,
        id: PeerId,
        connection: quinn::Connection,
        events: crossbeam_channel::Sender<Event>,
    ) {
        let Ok(mut send) = connection.open_uni().await else {
            return;
        };
        let (queue, mut outgoing) = tokio::sync::mpsc::channel::<Arc<Vec<u8>>>(PEER_QUEUE_MAX);
        if let Ok(mut peers) = self.peers.lock() {
            peers.insert(id, queue);
        }
        let _ = events.try_send(Event::Connected(id));
        let traffic = self.traffic.clone();
        let writer = tokio::spawn(async move {
            while let Some(frame) = outgoing.recv().await {
                if send.write_all(&frame).await.is_err() {
                    break;
                }
                traffic
                    .sent
                    .fetch_add(frame.len() as u64, Ordering::Relaxed);
            }
        });
        if let Ok(mut recv) = connection.accept_uni().await {
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
                        if events.try_send(Event::Message(id, msg)).is_err() {
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
            }
        }
        if let Ok(mut peers) = self.peers.lock() {
            peers.remove(&id);
        }
        let _ = events.try_send(Event::Disconnected(id));
        writer.abort();
        connection.close(0u32.into(), b"bye");
    }
}
