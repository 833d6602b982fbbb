//! DNS over HTTPS on the L1 HTTP port.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ghostplane_rpc::routes::{GetRoute, RouteReply, RouteRequest, query_param};
use hickory_proto::op::Message;

use super::{NEGATIVE_TTL, NameServer};

/// The DoH routes on the L1 HTTP port: `/dns-query` (RFC 8484: `GET ?dns=`
/// base64url, or `POST` of `application/dns-message`) and `/resolve?name=&type=`
/// (`application/dns-json`). `Cache-Control: max-age` is the answer's least TTL.
pub fn doh_routes(names: Arc<NameServer>) -> Vec<GetRoute> {
    let wire = Arc::clone(&names);
    vec![
        GetRoute {
            prefix: "/dns-query",
            post: true,
            handler: Arc::new(move |request: &RouteRequest<'_>| {
                if !request.tail.is_empty() {
                    return RouteReply::text(404, "no such path");
                }
                let query = if request.post {
                    if request.content_type != Some("application/dns-message") {
                        return RouteReply::text(415, "POST application/dns-message");
                    }
                    request.body.to_vec()
                } else {
                    match query_param(request.query, "dns").map(|d| URL_SAFE_NO_PAD.decode(d)) {
                        Some(Ok(bytes)) => bytes,
                        _ => return RouteReply::text(400, "give ?dns=<base64url DNS message>"),
                    }
                };
                match wire.answer_wire(&query) {
                    Some(body) => {
                        let max_age = Message::from_vec(&body).ok().map(|m| {
                            m.answers
                                .iter()
                                .map(|r| r.ttl)
                                .chain(m.authorities.iter().map(|_| NEGATIVE_TTL))
                                .min()
                                .unwrap_or(NEGATIVE_TTL)
                        });
                        RouteReply {
                            status: 200,
                            content_type: "application/dns-message",
                            body,
                            max_age,
                        }
                    }
                    None => RouteReply::text(400, "not a DNS message"),
                }
            }),
        },
        GetRoute {
            prefix: "/resolve",
            post: false,
            handler: Arc::new(move |request: &RouteRequest<'_>| {
                if !request.tail.is_empty() {
                    return RouteReply::text(404, "no such path");
                }
                let Some(name) = query_param(request.query, "name") else {
                    return RouteReply::text(400, "give ?name=<name>&type=<type>");
                };
                let kind = query_param(request.query, "type").unwrap_or_else(|| "A".into());
                match names.answer_json(&name, &kind) {
                    Ok((body, max_age)) => RouteReply {
                        status: 200,
                        content_type: "application/dns-json",
                        body: body.to_string().into_bytes(),
                        max_age: Some(max_age),
                    },
                    Err(e) => RouteReply::text(400, e),
                }
            }),
        },
    ]
}
