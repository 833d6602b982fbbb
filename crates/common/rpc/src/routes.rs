//! Plain `GET` routes beside JSON-RPC on the same port: a request whose path starts
//! with a route's prefix is answered by the route's handler (given the rest of the
//! path, percent-decoded, and the query); every other request goes on to the JSON-RPC server.
//! Handlers run inline and must be quick (a few storage reads).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};

/// Longest path tail handed to a route, bytes (longer gets 414).
pub const ROUTE_TAIL_BYTES_MAX: usize = 1024;
/// Largest `POST` body a route reads, bytes (larger gets 413).
pub const ROUTE_BODY_BYTES_MAX: usize = 64 * 1024;

/// A request to a route.
#[derive(Debug, Clone, Copy)]
pub struct RouteRequest<'a> {
    /// `GET` or `POST`.
    pub post: bool,
    /// The percent-decoded path after the prefix.
    pub tail: &'a str,
    /// The raw query, if any.
    pub query: Option<&'a str>,
    /// The `POST` body (empty for `GET`).
    pub body: &'a [u8],
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
}

/// What a route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
    /// `Cache-Control: max-age=N`, if set.
    pub max_age: Option<u32>,
}

impl RouteReply {
    /// A reply of `status` with a text body and no caching.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain",
            body: body.into().into_bytes(),
            max_age: None,
        }
    }
}

/// A handler: a request to a reply.
pub type RouteHandler = Arc<dyn Fn(&RouteRequest<'_>) -> RouteReply + Send + Sync>;

/// A route: every path under `prefix` (`GET`, and `POST` if `post`).
#[derive(Clone)]
pub struct GetRoute {
    /// Path prefix, e.g. `/1.0/identifiers/`.
    pub prefix: &'static str,
    /// Whether `POST` is routed too (with its body).
    pub post: bool,
    /// The handler.
    pub handler: RouteHandler,
}

impl std::fmt::Debug for GetRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetRoute")
            .field("prefix", &self.prefix)
            .field("post", &self.post)
            .finish_non_exhaustive()
    }
}

/// The tower layer serving `routes`.
#[derive(Clone)]
pub struct GetRoutesLayer {
    routes: Arc<[GetRoute]>,
}

impl GetRoutesLayer {
    /// Serves `routes` (first matching prefix wins).
    pub fn new(routes: Vec<GetRoute>) -> Self {
        Self {
            routes: routes.into(),
        }
    }
}

impl<S> Layer<S> for GetRoutesLayer {
    type Service = GetRoutes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GetRoutes {
            inner,
            routes: Arc::clone(&self.routes),
        }
    }
}

/// The service of [`GetRoutesLayer`].
#[derive(Clone)]
pub struct GetRoutes<S> {
    inner: S,
    routes: Arc<[GetRoute]>,
}

fn respond(reply: RouteReply) -> Result<HttpResponse, BoxError> {
    let mut builder = HttpResponse::<()>::builder()
        .status(reply.status)
        .header("content-type", reply.content_type);
    if let Some(age) = reply.max_age {
        builder = builder.header("cache-control", format!("max-age={age}"));
    }
    Ok(builder.body(HttpBody::from(reply.body))?)
}

impl<S, B> Service<HttpRequest<B>> for GetRoutes<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let post = request.method() == "POST";
        let path = request.uri().path().to_string();
        let route = self.routes.iter().find(|r| {
            path.starts_with(r.prefix) && (request.method() == "GET" || (post && r.post))
        });
        let Some(route) = route.cloned() else {
            let future = self.inner.call(request);
            return Box::pin(async move { future.await.map_err(Into::into) });
        };
        let query = request.uri().query().map(str::to_string);
        let content_type = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            let tail = &path[route.prefix.len()..];
            if tail.len() > ROUTE_TAIL_BYTES_MAX {
                return respond(RouteReply::text(
                    414,
                    format!("path longer than {ROUTE_TAIL_BYTES_MAX} bytes"),
                ));
            }
            let Some(tail) = percent_decode(tail) else {
                return respond(RouteReply::text(
                    400,
                    "malformed percent-encoding in the path",
                ));
            };
            let body = if post {
                let limited =
                    http_body_util::Limited::new(request.into_body(), ROUTE_BODY_BYTES_MAX);
                match limited.collect().await {
                    Ok(collected) => collected.to_bytes(),
                    Err(_) => {
                        return respond(RouteReply::text(
                            413,
                            format!("body larger than {ROUTE_BODY_BYTES_MAX} bytes"),
                        ));
                    }
                }
            } else {
                Bytes::new()
            };
            respond((route.handler)(&RouteRequest {
                post,
                tail: &tail,
                query: query.as_deref(),
                body: &body,
                content_type: content_type.as_deref(),
            }))
        })
    }
}

/// The value of `key` in a URL query (percent-decoded), if present.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| percent_decode(&v.replace('+', " ")))
}

/// Decodes `%XX` escapes; `None` if one is malformed or the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("did%3Aghost%3Aab").as_deref(),
            Some("did:ghost:ab")
        );
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("%3"), None);
        assert_eq!(percent_decode("%zz"), None);
    }
}
