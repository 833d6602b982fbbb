//! JSON-RPC 2.0 request ids as the spec has them, in front of jsonrpsee.
//!
//! jsonrpsee reads an id only as a `u64`, a string or `null`. A request whose id is
//! anything else (`1.5`, `-1`, `1e3`, `2^64`, `true`, `[]`, `{}`, or an `id` member
//! given twice) fails its call parser and is then taken as a *notification*: it
//! gets no reply, and in a batch it silently vanishes. The spec says such a request
//! is not a notification:
//!
//! - an id that is a JSON number is echoed as sent;
//! - any other id (or two of them) makes the request invalid: `-32600` with
//!   `id: null`, and the call is not run.
//!
//! [`IdGuardLayer`] does that at the server edge, for HTTP bodies and WebSocket
//! messages alike, by rewriting the request before jsonrpsee parses it and the
//! reply after:
//!
//! ```text
//! {"id":1.5,...}   ──► {"id":"\u0000#1.5",...}        ──► jsonrpsee ──► {"id":"\u0000#1.5",...} ──► {"id":1.5,...}
//! {"id":true,...}  ──► {"jsonrpc":"2.0","id":"\u0000!"} ──► jsonrpsee ──► -32600, "\u0000!"       ──► -32600, null
//! ```
//!
//! Both markers start with NUL; a client's own string id that starts with one of
//! them is refused as invalid, so no reply id is rewritten that the client sent as
//! a string. A request that needs no rewrite (the common case: a `u64` or string
//! id) passes through as it came, at the cost of one scan of its JSON.
//!
//! WebSocket: the upgrade is answered here and every message is relayed, rewritten,
//! to jsonrpsee's own WebSocket server over an in-memory connection, so
//! subscriptions, per-connection limits and ordering stay jsonrpsee's.
//!
//! Limits: an HTTP body is read up to the server's body bound (larger: 413, as
//! jsonrpsee answers). A WebSocket message is relayed up to twice that bound, so
//! that jsonrpsee, not the relay, refuses one over it with its typed error (larger
//! still closes the connection). The in-memory connection buffers
//! [`WS_PIPE_BYTES`]. A rewrite lengthens a carried id by 8 bytes, so a request
//! within a few bytes of the bound can cross it and be refused as too big.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use tower::{Layer, Service};

/// A string id that carries a JSON number jsonrpsee cannot read (the number follows).
const MARK_NUMBER: &str = "\u{0}#";
/// The id of a request refused for its id.
const MARK_INVALID: &str = "\u{0}!";
/// The markers as they appear escaped in JSON text.
const MARK_ESCAPED: &[u8] = b"\\u0000";
/// What an invalid request is replaced with: jsonrpsee answers it `-32600`.
const INVALID_REQUEST: &str = r#"{"jsonrpc":"2.0","id":"\u0000!"}"#;
/// Bytes buffered each way on the in-memory connection to jsonrpsee's WebSocket
/// server.
pub const WS_PIPE_BYTES: usize = 256 * 1024;

/// One JSON object, member by member, as written (duplicates kept).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for MembersVisitor<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(4).min(16));
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor(std::marker::PhantomData))
    }
}

impl Members<'_> {
    fn write(&self, out: &mut Vec<u8>, id: Option<&str>) {
        out.push(b'{');
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // A key re-escapes as it was parsed; `serde_json` cannot fail on a string.
            out.extend_from_slice(serde_json::to_string(key).unwrap_or_default().as_bytes());
            out.push(b':');
            match (key == "id", id) {
                (true, Some(id)) => out.extend_from_slice(id.as_bytes()),
                _ => out.extend_from_slice(value.get().as_bytes()),
            }
        }
        out.push(b'}');
    }
}

/// What a request object's id asks for.
#[derive(Debug, PartialEq, Eq)]
enum IdVerdict {
    /// jsonrpsee reads it as sent (or there is none: a notification).
    Keep,
    /// A number jsonrpsee cannot read: carry it as a marked string.
    Carry(String),
    /// Not a valid id: the request is refused.
    Invalid,
}

fn judge(members: &Members<'_>) -> IdVerdict {
    let mut ids = members.0.iter().filter(|(key, _)| key == "id");
    let Some((_, id)) = ids.next() else {
        return IdVerdict::Keep;
    };
    if ids.next().is_some() {
        return IdVerdict::Invalid;
    }
    let raw = id.get();
    match raw.as_bytes().first() {
        Some(b'"') => match serde_json::from_str::<String>(raw) {
            Ok(s) if s.starts_with(MARK_NUMBER) || s.starts_with(MARK_INVALID) => {
                IdVerdict::Invalid
            }
            Ok(_) => IdVerdict::Keep,
            Err(_) => IdVerdict::Invalid,
        },
        Some(b'n') => IdVerdict::Keep,
        Some(b'-' | b'0'..=b'9') => {
            if raw.bytes().all(|b| b.is_ascii_digit()) && raw.parse::<u64>().is_ok() {
                IdVerdict::Keep
            } else {
                // `raw` is a JSON number as parsed: digits, sign, '.', 'e', '+'.
                let carried = format!("{MARK_NUMBER}{raw}");
                IdVerdict::Carry(serde_json::to_string(&carried).unwrap_or_default())
            }
        }
        _ => IdVerdict::Invalid,
    }
}

/// One request object (or anything else in a batch), rewritten into `out`; whether
/// it changed.
fn rewrite_call(raw: &str, out: &mut Vec<u8>) -> bool {
    let Ok(members) = serde_json::from_str::<Members<'_>>(raw) else {
        out.extend_from_slice(raw.as_bytes());
        return false;
    };
    match judge(&members) {
        IdVerdict::Keep => {
            out.extend_from_slice(raw.as_bytes());
            false
        }
        IdVerdict::Carry(id) => {
            members.write(out, Some(&id));
            true
        }
        IdVerdict::Invalid => {
            out.extend_from_slice(INVALID_REQUEST.as_bytes());
            true
        }
    }
}

/// Which JSON value `body` starts with.
fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// `body` (one object, or a batch of them) with `each` applied to every object
/// (which writes it, changed or not, and says whether it changed); `None` if none
/// changed or `body` is not JSON.
fn map_objects(body: &[u8], each: fn(&str, &mut Vec<u8>) -> bool) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = Vec::with_capacity(body.len() + 16);
    let changed = match first_byte(body)? {
        b'{' => each(text, &mut out),
        b'[' => {
            let items = serde_json::from_str::<Vec<&RawValue>>(text).ok()?;
            out.push(b'[');
            let mut changed = false;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                changed |= each(item.get(), &mut out);
            }
            out.push(b']');
            changed
        }
        _ => false,
    };
    changed.then_some(out)
}

/// `body` (a request or a batch) with its ids made readable to jsonrpsee, or `None`
/// if it needs no change (including when it is not JSON: jsonrpsee answers that).
pub fn rewrite_request(body: &[u8]) -> Option<Vec<u8>> {
    map_objects(body, rewrite_call)
}

/// One reply object with a marked id restored; whether it changed.
fn restore_reply(raw: &str, out: &mut Vec<u8>) -> bool {
    let restored = serde_json::from_str::<Members<'_>>(raw)
        .ok()
        .and_then(|members| {
            let (_, id) = members.0.iter().find(|(key, _)| key == "id")?;
            let id = serde_json::from_str::<String>(id.get()).ok()?;
            let original = if let Some(number) = id.strip_prefix(MARK_NUMBER) {
                number.to_string()
            } else if id == MARK_INVALID {
                "null".to_string()
            } else {
                return None;
            };
            Some((members, original))
        });
    match restored {
        Some((members, id)) => {
            members.write(out, Some(&id));
            true
        }
        None => {
            out.extend_from_slice(raw.as_bytes());
            false
        }
    }
}

/// `body` (a reply or a batch of replies) with marked ids restored to what the
/// client sent, or `None` if it has none.
pub fn restore_response(body: &[u8]) -> Option<Vec<u8>> {
    if !body.windows(MARK_ESCAPED.len()).any(|w| w == MARK_ESCAPED) {
        return None;
    }
    map_objects(body, restore_reply)
}

/// The tower layer that puts [`rewrite_request`] and [`restore_response`] in front
/// of jsonrpsee, for HTTP and WebSocket.
#[derive(Debug, Clone, Copy)]
pub struct IdGuardLayer {
    body_bytes_max: u32,
}

impl IdGuardLayer {
    /// Reads bodies and messages up to `body_bytes_max` bytes (the server's bound).
    pub fn new(body_bytes_max: u32) -> Self {
        Self { body_bytes_max }
    }
}

impl<S> Layer<S> for IdGuardLayer {
    type Service = IdGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        IdGuard {
            inner,
            body_bytes_max: self.body_bytes_max,
        }
    }
}

/// The service of [`IdGuardLayer`].
#[derive(Debug, Clone)]
pub struct IdGuard<S> {
    inner: S,
    body_bytes_max: u32,
}

/// jsonrpsee's HTTP service, as the layer wraps it.
pub trait JsonRpc:
    Service<
        HttpRequest<HttpBody>,
        Response = HttpResponse,
        Error = BoxError,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S> JsonRpc for S where
    S: Service<
            HttpRequest<HttpBody>,
            Response = HttpResponse,
            Error = BoxError,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

impl<S: JsonRpc, B> Service<HttpRequest<B>> for IdGuard<S>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let request = request.map(HttpBody::new);
        if soketto::handshake::http::is_upgrade_request(&request) {
            return Box::pin(std::future::ready(ws_relay(
                request,
                self.inner.clone(),
                self.body_bytes_max,
            )));
        }
        if request.method() != "POST" {
            return Box::pin(self.inner.call(request));
        }
        // The clone is ready (tower's rule): swap it in for the one polled ready.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let max = self.body_bytes_max;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match http_body_util::Limited::new(body, max as usize)
                .collect()
                .await
            {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return Ok(jsonrpsee::server::http::response::too_large(max)),
            };
            let Some(rewritten) = rewrite_request(&body) else {
                return inner
                    .call(HttpRequest::from_parts(
                        parts,
                        HttpBody::new(http_body_util::Full::new(body)),
                    ))
                    .await;
            };
            let response = inner
                .call(HttpRequest::from_parts(parts, HttpBody::from(rewritten)))
                .await?;
            let (mut parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            let body = match restore_response(&body) {
                Some(restored) => {
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                    Bytes::from(restored)
                }
                None => body,
            };
            Ok(HttpResponse::from_parts(
                parts,
                HttpBody::new(http_body_util::Full::new(body)),
            ))
        })
    }
}

/// Answers a WebSocket upgrade and relays the connection's messages, rewritten, to
/// jsonrpsee's WebSocket server (`inner`) over an in-memory connection.
fn ws_relay<S: JsonRpc>(
    request: HttpRequest<HttpBody>,
    inner: S,
    body_bytes_max: u32,
) -> Result<HttpResponse, BoxError> {
    let mut handshake = soketto::handshake::http::Server::new();
    let response = match handshake.receive_request(&request) {
        Ok(response) => response,
        Err(e) => {
            return Ok(HttpResponse::builder()
                .status(400)
                .body(HttpBody::from(format!("bad WebSocket upgrade: {e}")))?);
        }
    };
    let uri = request.uri().to_string();
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(request).await else {
            return;
        };
        let io = tokio::io::BufStream::new(TokioIo::new(upgraded));
        let mut client_side = handshake.into_builder(io.compat());
        // Twice jsonrpsee's bound, so that an oversize message reaches jsonrpsee and
        // gets its typed error rather than a closed connection.
        let relayed_max = 2 * body_bytes_max as usize;
        client_side.set_max_message_size(relayed_max);
        let (to_client, from_client) = client_side.finish();

        // jsonrpsee's WebSocket server, on an in-memory HTTP/1 connection.
        let (ours, theirs) = tokio::io::duplex(WS_PIPE_BYTES);
        let service =
            hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let mut inner = inner.clone();
                async move { inner.call(req.map(HttpBody::new)).await }
            });
        tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(theirs), service)
                .with_upgrades(),
        );
        let mut server_handshake =
            soketto::handshake::Client::new(ours.compat_write(), "localhost", &uri);
        if !matches!(
            server_handshake.handshake().await,
            Ok(soketto::handshake::ServerResponse::Accepted { .. })
        ) {
            return;
        }
        let mut server_side = server_handshake.into_builder();
        server_side.set_max_message_size(relayed_max);
        let (to_server, from_server) = server_side.finish();
        tokio::select! {
            _ = pump(from_client, to_server, rewrite_request) => {}
            _ = pump(from_server, to_client, restore_response) => {}
        }
    });
    let (parts, ()) = response.into_parts();
    Ok(HttpResponse::from_parts(parts, HttpBody::empty()))
}

/// Relays messages from `from` to `to`, each through `rewrite` (`None`: as is),
/// until either side closes.
async fn pump<R, W>(
    mut from: soketto::connection::Receiver<R>,
    mut to: soketto::connection::Sender<W>,
    rewrite: fn(&[u8]) -> Option<Vec<u8>>,
) where
    R: futures::AsyncRead + futures::AsyncWrite + Unpin,
    W: futures::AsyncRead + futures::AsyncWrite + Unpin,
{
    let mut message = Vec::new();
    loop {
        message.clear();
        let Ok(data) = from.receive_data(&mut message).await else {
            break;
        };
        let message = match rewrite(&message) {
            Some(rewritten) => rewritten,
            None => std::mem::take(&mut message),
        };
        let sent = if data.is_text() {
            match String::from_utf8(message) {
                Ok(text) => to.send_text_owned(text).await,
                Err(e) => to.send_binary(e.into_bytes()).await,
            }
        } else {
            to.send_binary(message).await
        };
        if sent.is_err() || to.flush().await.is_err() {
            break;
        }
    }
    let _ = to.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> Option<String> {
        rewrite_request(body.as_bytes()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn readable_ids_pass_as_they_are() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","method":"m"}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0","method":"n"}]"#,
            "not json",
            "",
        ] {
            assert_eq!(req(body), None, "{body}");
        }
    }

    #[test]
    fn numbers_are_carried_and_restored() {
        for raw in ["1.5", "-1", "1e3", "18446744073709551616", "0.0"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"m","params":[]}}"#);
            let rewritten = req(&body).expect("rewritten");
            assert!(rewritten.contains(r#""id":"\u0000#"#), "{rewritten}");
            assert!(rewritten.contains(r#""params":[]"#));
            let reply = rewritten.replace(r#""method":"m","params":[]"#, r#""result":7"#);
            let restored = String::from_utf8(restore_response(reply.as_bytes()).unwrap()).unwrap();
            assert_eq!(
                restored,
                format!(r#"{{"jsonrpc":"2.0","id":{raw},"result":7}}"#)
            );
        }
    }

    #[test]
    fn invalid_ids_are_refused_and_restored_to_null() {
        for id in ["true", "[1]", r#"{"a":1}"#, r#""\u0000#5""#, r#""\u0000!""#] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"m"}}"#);
            assert_eq!(req(&body).as_deref(), Some(INVALID_REQUEST), "{id}");
        }
        let twice = r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#;
        assert_eq!(req(twice).as_deref(), Some(INVALID_REQUEST));
        let reply = r#"{"jsonrpc":"2.0","id":"\u0000!","error":{"code":-32600,"message":"x"}}"#;
        let restored = String::from_utf8(restore_response(reply.as_bytes()).unwrap()).unwrap();
        assert!(restored.starts_with(r#"{"jsonrpc":"2.0","id":null,"error""#));
    }

    #[test]
    fn a_batch_keeps_its_order_and_good_calls() {
        let body = r#"[{"jsonrpc":"2.0","id":1,"method":"a"}, {"jsonrpc":"2.0","id":true,"method":"b"}, {"jsonrpc":"2.0","id":2.5,"method":"c"}]"#;
        let rewritten = req(body).unwrap();
        assert_eq!(
            rewritten,
            r#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":"\u0000!"},{"jsonrpc":"2.0","id":"\u0000#2.5","method":"c"}]"#
        );
    }

    #[test]
    fn replies_without_marks_are_untouched() {
        assert_eq!(
            restore_response(br#"{"jsonrpc":"2.0","id":1,"result":"\u0000"}"#),
            None
        );
        assert_eq!(
            restore_response(br#"{"jsonrpc":"2.0","id":1,"result":2}"#),
            None
        );
    }
}
