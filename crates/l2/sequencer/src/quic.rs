//! QUIC ingest (quinn): binary frames of signed transactions on bidirectional
//! streams, one reply frame per transaction, in order.
//!
//! Frame: `u32 big-endian length ‖ payload`. Client → server payload: a signed
//! transaction's canonical encoding (at most `tx_bytes_max`). Server → client
//! payload: a borsh [`QuicReply`]. A stream may pipeline up to
//! `quic_stream_in_flight_max` transactions; a connection may open up to
//! `quic_streams_per_connection_max` streams. ALPN is `ghostplane-ingest/1`; the
//! server's certificate is self-signed, made on first start and kept in
//! `<data_dir>/quic/`; clients pin it (`l2_quicCertificate` over RPC serves it).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::Hash32;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::config::SequencerConfig;
use crate::error::SubmitError;
use crate::pipeline::Ingest;

/// ALPN protocol id.
pub const ALPN: &[u8] = b"ghostplane-ingest/1";
/// Largest reply frame.
const REPLY_BYTES_MAX: usize = 4096;

/// The server's answer to one transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum QuicReply {
    /// Durably accepted.
    Accepted(Hash32),
    /// Not accepted: the stable code and message of [`SubmitError`].
    Rejected {
        /// Error code.
        code: i32,
        /// Message.
        message: String,
    },
}

/// QUIC setup or transport failures.
#[derive(Debug, thiserror::Error)]
pub enum QuicError {
    /// Certificate files could not be made, read or written.
    #[error("QUIC certificate: {0}")]
    Certificate(String),
    /// TLS configuration failed.
    #[error("QUIC TLS setup: {0}")]
    Tls(String),
    /// Socket or connection failure.
    #[error("QUIC I/O: {0}")]
    Io(String),
    /// The peer broke the framing rules.
    #[error("QUIC protocol: {0}")]
    Protocol(String),
    /// A frame over the size limit.
    #[error("QUIC frame of {len} bytes is over the {max}-byte limit")]
    Oversize {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Loads the certificate and key from `dir`, creating them on first start.
pub fn load_or_create_certificate(dir: &Path) -> Result<(Vec<u8>, Vec<u8>), QuicError> {
    let cert_path = dir.join("cert.der");
    let key_path = dir.join("key.der");
    if cert_path.exists() && key_path.exists() {
        let cert = std::fs::read(&cert_path)
            .map_err(|e| QuicError::Certificate(format!("{}: {e}", cert_path.display())))?;
        let key = std::fs::read(&key_path)
            .map_err(|e| QuicError::Certificate(format!("{}: {e}", key_path.display())))?;
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| QuicError::Certificate(format!("{}: {e}", dir.display())))?;
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .map_err(|e| QuicError::Certificate(e.to_string()))?;
    let cert = generated.cert.der().to_vec();
    let key = generated.signing_key.serialize_der();
    std::fs::write(&key_path, &key)
        .map_err(|e| QuicError::Certificate(format!("{}: {e}", key_path.display())))?;
    std::fs::write(&cert_path, &cert)
        .map_err(|e| QuicError::Certificate(format!("{}: {e}", cert_path.display())))?;
    Ok((cert, key))
}

/// Starts the QUIC server; returns the endpoint (drop or close it to stop) and its
/// bound address.
pub fn serve(
    addr: SocketAddr,
    cert: &[u8],
    key: &[u8],
    ingest: Ingest,
    config: Arc<SequencerConfig>,
) -> Result<(quinn::Endpoint, SocketAddr), QuicError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| QuicError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec())),
        )
        .map_err(|e| QuicError::Tls(e.to_string()))?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| QuicError::Tls(e.to_string()))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport.max_concurrent_bidi_streams(config.quic_streams_per_connection_max.into());
    transport.max_concurrent_uni_streams(0u8.into());
    server.transport_config(Arc::new(transport));
    let endpoint = quinn::Endpoint::server(server, addr)
        .map_err(|e| QuicError::Io(format!("bind {addr}: {e}")))?;
    let local = endpoint
        .local_addr()
        .map_err(|e| QuicError::Io(e.to_string()))?;
    let accepting = endpoint.clone();
    tokio::spawn(async move {
        let connections = Arc::new(AtomicU32::new(0));
        while let Some(incoming) = accepting.accept().await {
            if connections.load(Ordering::Relaxed) >= config.quic_connections_max {
                incoming.refuse();
                continue;
            }
            connections.fetch_add(1, Ordering::Relaxed);
            let ingest = ingest.clone();
            let config = Arc::clone(&config);
            let connections = Arc::clone(&connections);
            tokio::spawn(async move {
                if let Ok(connection) = incoming.await {
                    // Shared by the connection's streams: what one connection can
                    // have in flight, whatever its stream count.
                    let in_flight = Arc::new(tokio::sync::Semaphore::new(
                        config.quic_connection_in_flight_max.max(1),
                    ));
                    while let Ok((send, recv)) = connection.accept_bi().await {
                        let ingest = ingest.clone();
                        let config = Arc::clone(&config);
                        let in_flight = Arc::clone(&in_flight);
                        tokio::spawn(async move {
                            if let Err(e) =
                                serve_stream(send, recv, &ingest, &config, in_flight).await
                            {
                                tracing::debug!("QUIC stream ended: {e}");
                            }
                        });
                    }
                }
                connections.fetch_sub(1, Ordering::Relaxed);
            });
        }
    });
    Ok((endpoint, local))
}

/// Bytes asked of quinn per read: many frames at once, so a stream costs one read
/// per chunk instead of two per transaction.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Replies gathered before one write (they are flushed earlier when the next reply
/// is not ready yet).
const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// Reads length-prefixed frames from a stream through one buffer. Holds at most one
/// partial frame plus one read chunk.
struct FrameReader {
    recv: quinn::RecvStream,
    buf: Vec<u8>,
    start: usize,
    max: usize,
}

impl FrameReader {
    fn new(recv: quinn::RecvStream, max: usize) -> Self {
        Self {
            recv,
            buf: Vec::with_capacity(READ_CHUNK_BYTES),
            start: 0,
            max,
        }
    }

    /// The next frame's payload, or `None` when the peer finished the stream
    /// between frames.
    async fn next(&mut self) -> Result<Option<&[u8]>, QuicError> {
        loop {
            if let Some(len) = next_frame(&self.buf[self.start..], self.max)? {
                let payload = self.start + 4..self.start + 4 + len;
                self.start = payload.end;
                return Ok(Some(&self.buf[payload]));
            }
            // Not a whole frame: keep the partial one and read more.
            self.buf.drain(..self.start);
            self.start = 0;
            match self.recv.read_chunk(READ_CHUNK_BYTES, true).await {
                Ok(Some(chunk)) => self.buf.extend_from_slice(&chunk.bytes),
                Ok(None) if self.buf.is_empty() => return Ok(None),
                Ok(None) => {
                    return Err(QuicError::Protocol("stream ended inside a frame".into()));
                }
                Err(e) => return Err(QuicError::Io(e.to_string())),
            }
        }
    }
}

/// The payload length of the frame at the start of `buffered` (a `u32` big-endian
/// length, then that many payload bytes), or `None` if it is not all there yet. A
/// length over `max` is [`QuicError::Oversize`] as soon as its four bytes arrive,
/// before anything is read or buffered for it.
pub fn next_frame(buffered: &[u8], max: usize) -> Result<Option<usize>, QuicError> {
    let Some(header) = buffered.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*header) as usize;
    if len > max {
        return Err(QuicError::Oversize { len, max });
    }
    Ok((buffered.len() - 4 >= len).then_some(len))
}

/// Appends one frame (`u32` length, payload) to `out`.
fn push_frame(out: &mut Vec<u8>, payload: &[u8]) -> Result<(), QuicError> {
    let len =
        u32::try_from(payload.len()).map_err(|_| QuicError::Protocol("frame too large".into()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

async fn write_all(send: &mut quinn::SendStream, bytes: &[u8]) -> Result<(), QuicError> {
    send.write_all(bytes)
        .await
        .map_err(|e| QuicError::Io(e.to_string()))
}

/// Appends the reply frame for `result` to `out`.
fn push_reply(out: &mut Vec<u8>, result: Result<Hash32, SubmitError>) -> Result<(), QuicError> {
    let reply = match result {
        Ok(hash) => QuicReply::Accepted(hash),
        Err(e) => QuicReply::Rejected {
            code: e.code(),
            message: e.to_string(),
        },
    };
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    borsh::to_writer(&mut *out, &reply).map_err(|e| QuicError::Protocol(e.to_string()))?;
    let len = u32::try_from(out.len() - at - 4)
        .map_err(|_| QuicError::Protocol("reply too large".into()))?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// One transaction read from a stream, in stream order, holding its slot of the
/// connection's in-flight bound until its reply is written.
type Pending = (PendingReply, tokio::sync::OwnedSemaphorePermit);

/// The reply-to-be of one frame.
enum PendingReply {
    /// Handed to the pipeline (or refused at once by it).
    Submitted(Result<tokio::sync::oneshot::Receiver<crate::pipeline::SubmitReply>, SubmitError>),
    /// A frame over the size limit: the last thing read from the stream.
    Refused(SubmitError),
}

/// Reads frames on one task and answers them in order on this one. The reader runs
/// on its own task because a partly read frame must never be abandoned (reads are not
/// cancel-safe); the bounded channel between them caps what is in flight.
async fn serve_stream(
    mut send: quinn::SendStream,
    recv: quinn::RecvStream,
    ingest: &Ingest,
    config: &SequencerConfig,
    in_flight: Arc<tokio::sync::Semaphore>,
) -> Result<(), QuicError> {
    let (pending_tx, mut pending_rx) =
        tokio::sync::mpsc::channel::<Pending>(config.quic_stream_in_flight_max.max(1));
    let reader = {
        let ingest = ingest.clone();
        let mut frames = FrameReader::new(recv, config.tx_bytes_max);
        tokio::spawn(async move {
            loop {
                // Wait for room before reading: a client that does not read its
                // replies stops being read, instead of piling up replies.
                let Ok(slot) = Arc::clone(&in_flight).acquire_owned().await else {
                    return;
                };
                let pending = match frames.next().await {
                    Ok(Some(bytes)) => PendingReply::Submitted(ingest.submit(bytes.to_vec())),
                    Ok(None) => return,
                    // The stream's framing can no longer be trusted: say why and stop.
                    Err(QuicError::Oversize { len, max }) => {
                        PendingReply::Refused(SubmitError::TooLarge { len, max })
                    }
                    Err(e) => {
                        tracing::debug!("QUIC stream read failed: {e}");
                        return;
                    }
                };
                let last = matches!(pending, PendingReply::Refused(_));
                if pending_tx.send((pending, slot)).await.is_err() || last {
                    return;
                }
            }
        })
    };
    // Replies go out in stream order, gathered into one write while the next one is
    // already answered; each holds its in-flight slot until it is written.
    let mut out: Vec<u8> = Vec::with_capacity(WRITE_BATCH_BYTES);
    let mut written_slots = Vec::new();
    while let Some((pending, slot)) = pending_rx.recv().await {
        let result = match pending {
            PendingReply::Submitted(Ok(mut receiver)) => match receiver.try_recv() {
                Ok(result) => result,
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {
                    // Not answered yet: send what is gathered while waiting.
                    if !out.is_empty() {
                        write_all(&mut send, &out).await?;
                        out.clear();
                        written_slots.clear();
                    }
                    receiver.await.unwrap_or_else(|_| Err(pipeline_gone()))
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => Err(pipeline_gone()),
            },
            PendingReply::Submitted(Err(e)) | PendingReply::Refused(e) => Err(e),
        };
        push_reply(&mut out, result)?;
        written_slots.push(slot);
        if out.len() >= WRITE_BATCH_BYTES || pending_rx.is_empty() {
            write_all(&mut send, &out).await?;
            out.clear();
            written_slots.clear();
        }
    }
    let _ = reader.await;
    send.finish().map_err(|e| QuicError::Io(e.to_string()))?;
    Ok(())
}

fn pipeline_gone() -> SubmitError {
    SubmitError::Unavailable("the pipeline dropped the request".into())
}

/// A QUIC ingest client that pins the server's certificate.
pub struct QuicClient {
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
}

/// One bidirectional stream of a [`QuicClient`].
pub struct QuicStream {
    sender: QuicSender,
    receiver: QuicReceiver,
}

impl QuicClient {
    /// Connects to `server`, trusting only `server_certificate` (DER).
    pub async fn connect(server: SocketAddr, server_certificate: &[u8]) -> Result<Self, QuicError> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(server_certificate.to_vec()))
            .map_err(|e| QuicError::Tls(e.to_string()))?;
        let mut tls = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| QuicError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let crypto = QuicClientConfig::try_from(tls).map_err(|e| QuicError::Tls(e.to_string()))?;
        let local: SocketAddr = if server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let mut endpoint =
            quinn::Endpoint::client(local).map_err(|e| QuicError::Io(e.to_string()))?;
        endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
        let connection = endpoint
            .connect(server, "localhost")
            .map_err(|e| QuicError::Io(e.to_string()))?
            .await
            .map_err(|e| QuicError::Io(e.to_string()))?;
        Ok(Self {
            endpoint,
            connection,
        })
    }

    /// Opens a stream.
    pub async fn open_stream(&self) -> Result<QuicStream, QuicError> {
        let (send, recv) = self
            .connection
            .open_bi()
            .await
            .map_err(|e| QuicError::Io(e.to_string()))?;
        Ok(QuicStream {
            sender: QuicSender {
                send,
                out: Vec::new(),
            },
            receiver: QuicReceiver {
                frames: FrameReader::new(recv, REPLY_BYTES_MAX),
            },
        })
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.connection.close(0u32.into(), b"done");
        self.endpoint.wait_idle().await;
    }
}

impl QuicStream {
    /// Splits into a sender and a reply reader (to pipeline from two tasks).
    pub fn split(self) -> (QuicSender, QuicReceiver) {
        (self.sender, self.receiver)
    }

    /// Sends one transaction and waits for its reply.
    pub async fn submit(&mut self, signed_tx: &[u8]) -> Result<QuicReply, QuicError> {
        self.sender.send(signed_tx).await?;
        self.receiver
            .next()
            .await?
            .ok_or_else(|| QuicError::Protocol("stream closed".into()))
    }
}

/// The sending half of a stream.
pub struct QuicSender {
    send: quinn::SendStream,
    out: Vec<u8>,
}

impl QuicSender {
    /// Sends one transaction frame.
    pub async fn send(&mut self, signed_tx: &[u8]) -> Result<(), QuicError> {
        self.send_many([signed_tx]).await
    }

    /// Sends transaction frames in one write.
    pub async fn send_many<'a>(
        &mut self,
        signed_txs: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), QuicError> {
        self.out.clear();
        for tx in signed_txs {
            push_frame(&mut self.out, tx)?;
        }
        write_all(&mut self.send, &self.out).await
    }

    /// Signals that no more transactions follow.
    pub fn finish(&mut self) -> Result<(), QuicError> {
        self.send.finish().map_err(|e| QuicError::Io(e.to_string()))
    }
}

/// The reply half of a stream (reads replies in chunks).
pub struct QuicReceiver {
    frames: FrameReader,
}

impl QuicReceiver {
    /// The next reply, or `None` when the server finished the stream.
    pub async fn next(&mut self) -> Result<Option<QuicReply>, QuicError> {
        match self.frames.next().await? {
            Some(bytes) => decode_reply(bytes).map(Some),
            None => Ok(None),
        }
    }
}

fn decode_reply(bytes: &[u8]) -> Result<QuicReply, QuicError> {
    QuicReply::try_from_slice(bytes).map_err(|e| QuicError::Protocol(format!("bad reply: {e}")))
}
