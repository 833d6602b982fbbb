//! Plain `GET` routes beside JSON-RPC on the same port: a request whose path starts
//! with a route's prefix is answered by the route's handler (given the rest of the
//! path, percent-decoded, and the query); every other request goes on to the JSON-RPC server.
//! Handlers run inline and must be quick (a few storage reads).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};

/// Longest path tail handed to a route, bytes (longer gets 414).
pub const ROUTE_TAIL_BYTES_MAX: usize = 1024;

/// What a route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

/// A handler: the percent-decoded path after the prefix and the raw query (if
/// any), to a reply.
pub type RouteHandler = Arc<dyn Fn(&str, Option<&str>) -> RouteReply + Send + Sync>;

/// A `GET` route: every path under `prefix`.
#[derive(Clone)]
pub struct GetRoute {
    /// Path prefix, e.g. `/1.0/identifiers/`.
    pub prefix: &'static str,
    /// The handler.
    pub handler: RouteHandler,
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

impl<S, B> Service<HttpRequest<B>> for GetRoutes<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        if request.method() == "GET" {
            let path = request.uri().path();
            if let Some(route) = self.routes.iter().find(|r| path.starts_with(r.prefix)) {
                let tail = &path[route.prefix.len()..];
                let reply = match percent_decode(tail) {
                    _ if tail.len() > ROUTE_TAIL_BYTES_MAX => RouteReply {
                        status: 414,
                        content_type: "text/plain",
                        body: format!("path longer than {ROUTE_TAIL_BYTES_MAX} bytes"),
                    },
                    Some(tail) => (route.handler)(&tail, request.uri().query()),
                    None => RouteReply {
                        status: 400,
                        content_type: "text/plain",
                        body: "malformed percent-encoding in the path".into(),
                    },
                };
                let response = HttpResponse::<()>::builder()
                    .status(reply.status)
                    .header("content-type", reply.content_type)
                    .body(HttpBody::from(reply.body));
                return Box::pin(async move { response.map_err(Into::into) });
            }
        }
        let future = self.inner.call(request);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
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
