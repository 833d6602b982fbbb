//! Authoritative DNS for the native TLDs, from the naming module's records: over UDP
//! and TCP (hickory-server), and DNS-over-HTTPS on the L1 HTTP port (RFC 8484 wire
//! format at `/dns-query`, `GET ?dns=` and `POST`; the JSON form at
//! `/resolve?name=&type=`, as Google's and Cloudflare's resolvers lay it out).
//!
//! ```text
//! query ──► NameServer::answer(name, type)
//!             │  cache hit for this head height?  ──► the answer
//!             ▼  miss: naming::resolve on the committed state (point reads)
//!           A / AAAA / CNAME / TXT / MX answers | NODATA + SOA | NXDOMAIN + SOA
//! ```
//!
//! **Answers.** Names outside the five TLDs are REFUSED (not ours). A name that is
//! not registered, or released, is NXDOMAIN; a live one (active or in grace) without
//! records of the asked type is NODATA, unless it has a CNAME, which is answered.
//! Negative answers carry the TLD's SOA (its minimum: [`NEGATIVE_TTL`] s). TTLs are
//! the records'. Malformed queries get FORMERR when their id is readable.
//!
//! **Index.** Answers are cached in memory per (name, type) and dropped whenever
//! the node's head moves, so every answer is the committed head's; at most
//! [`CACHE_ENTRIES_MAX`] entries are held (then the cache starts over).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ghostd_types::naming::{DnsKind, Record as NameRecord, TLDS};
use ghostplane_rpc::routes::{GetRoute, RouteReply, RouteRequest, query_param};
use hickory_proto::op::{Message, MessageType, Metadata, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use serde_json::json;

use crate::modules::naming;
use crate::node::{Ghostd, NodeError};

/// Cached answers held at most.
pub const CACHE_ENTRIES_MAX: usize = 65_536;
/// TTL of negative answers (the SOA minimum), seconds.
pub const NEGATIVE_TTL: u32 = 60;
/// A TCP connection idle this long is closed.
pub const TCP_IDLE: Duration = Duration::from_secs(10);

/// One answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// NOERROR, NXDOMAIN or REFUSED.
    pub code: ResponseCode,
    /// Answer records.
    pub answers: Vec<Record>,
    /// The zone's SOA, for negative answers.
    pub soa: Option<Record>,
}

impl Answer {
    /// The TTL a cache may keep this answer: the least of its records', or the
    /// negative TTL.
    pub fn max_age(&self) -> u32 {
        self.answers
            .iter()
            .map(|r| r.ttl)
            .chain(self.soa.as_ref().map(|_| NEGATIVE_TTL))
            .min()
            .unwrap_or(NEGATIVE_TTL)
    }
}

struct Cache {
    height: u64,
    entries: HashMap<(String, RecordType), Arc<Answer>>,
}

/// The name server: answers from a node's committed head.
pub struct NameServer {
    node: Ghostd,
    cache: RwLock<Cache>,
}

fn soa(tld: &str, serial: u64) -> Option<Record> {
    let zone = Name::from_ascii(format!("{tld}.")).ok()?;
    let mname = Name::from_ascii(format!("ns.{tld}.")).ok()?;
    let rname = Name::from_ascii(format!("hostmaster.{tld}.")).ok()?;
    let rdata = SOA::new(mname, rname, serial as u32, 3600, 600, 86_400, NEGATIVE_TTL);
    Some(Record::from_rdata(zone, NEGATIVE_TTL, RData::SOA(rdata)))
}

fn rdata(kind: DnsKind, value: &str) -> Option<RData> {
    let host = |h: &str| {
        Name::from_ascii(if h.ends_with('.') {
            h.to_string()
        } else {
            format!("{h}.")
        })
        .ok()
    };
    Some(match kind {
        DnsKind::A => RData::A(A(value.parse().ok()?)),
        DnsKind::Aaaa => RData::AAAA(AAAA(value.parse().ok()?)),
        DnsKind::Cname => RData::CNAME(CNAME(host(value)?)),
        DnsKind::Txt => RData::TXT(TXT::new(vec![value.to_string()])),
        DnsKind::Mx => {
            let (preference, exchange) = value.split_once(' ')?;
            RData::MX(MX::new(preference.parse().ok()?, host(exchange)?))
        }
    })
}

fn kind_of(record_type: RecordType) -> Option<DnsKind> {
    match record_type {
        RecordType::A => Some(DnsKind::A),
        RecordType::AAAA => Some(DnsKind::Aaaa),
        RecordType::CNAME => Some(DnsKind::Cname),
        RecordType::TXT => Some(DnsKind::Txt),
        RecordType::MX => Some(DnsKind::Mx),
        _ => None,
    }
}

impl NameServer {
    /// A name server over `node`.
    pub fn new(node: Ghostd) -> Arc<Self> {
        Arc::new(Self {
            node,
            cache: RwLock::new(Cache {
                height: u64::MAX,
                entries: HashMap::new(),
            }),
        })
    }

    /// The answer for `name` (any case, with or without the final dot) and `kind`.
    pub fn answer(&self, name: &str, kind: RecordType) -> Arc<Answer> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let height = self.node.head().number;
        let key = (name, kind);
        if let Ok(cache) = self.cache.read()
            && cache.height == height
            && let Some(answer) = cache.entries.get(&key)
        {
            return Arc::clone(answer);
        }
        let answer = Arc::new(self.compute(&key.0, kind, height));
        if let Ok(mut cache) = self.cache.write() {
            if cache.height != height || cache.entries.len() >= CACHE_ENTRIES_MAX {
                cache.height = height;
                cache.entries.clear();
            }
            cache.entries.insert(key, Arc::clone(&answer));
        }
        answer
    }

    fn compute(&self, name: &str, kind: RecordType, height: u64) -> Answer {
        let refused = Answer {
            code: ResponseCode::Refused,
            answers: Vec::new(),
            soa: None,
        };
        let Some(tld) = name.rsplit('.').next().filter(|t| TLDS.contains(t)) else {
            return refused;
        };
        let soa = soa(tld, height);
        let params = &self.node.genesis().naming;
        let found = if name == tld {
            // The TLD itself: it exists, with no records of its own.
            Ok(Some(Vec::new()))
        } else {
            self.node
                .read(|s| naming::resolve(s, name, height, params))
                .map(|found| found.map(|(_, _, records)| records))
        };
        let records = match found {
            Ok(Some(records)) => records,
            Ok(None) => {
                return Answer {
                    code: ResponseCode::NXDomain,
                    answers: Vec::new(),
                    soa,
                };
            }
            Err(e) => {
                tracing::warn!("dns: {e}");
                return Answer {
                    code: ResponseCode::ServFail,
                    answers: Vec::new(),
                    soa: None,
                };
            }
        };
        let Ok(owner) = Name::from_ascii(format!("{name}.")) else {
            return refused;
        };
        let of = |wanted: DnsKind| -> Vec<Record> {
            records
                .iter()
                .filter_map(|r| match r {
                    NameRecord::Dns {
                        kind: k,
                        value,
                        ttl,
                    } if *k == wanted => {
                        rdata(*k, value).map(|data| Record::from_rdata(owner.clone(), *ttl, data))
                    }
                    _ => None,
                })
                .collect()
        };
        let mut answers = kind_of(kind).map(of).unwrap_or_default();
        if answers.is_empty() && kind != RecordType::CNAME {
            answers = of(DnsKind::Cname);
        }
        let negative = answers.is_empty();
        Answer {
            code: ResponseCode::NoError,
            answers,
            soa: if negative { soa } else { None },
        }
    }

    /// Answers a DNS message in wire format (DoH); `None` if not even its id reads.
    pub fn answer_wire(&self, query: &[u8]) -> Option<Vec<u8>> {
        let message = match Message::from_vec(query) {
            Ok(message) => message,
            Err(_) => {
                let id = u16::from_be_bytes([*query.first()?, *query.get(1)?]);
                return Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
                    .to_vec()
                    .ok();
            }
        };
        let mut metadata = Metadata::response_from_request(&message.metadata);
        metadata.authoritative = true;
        metadata.recursion_available = false;
        let mut response = Message::new(message.metadata.id, MessageType::Response, OpCode::Query);
        let Some(question) = message
            .queries
            .first()
            .filter(|_| message.queries.len() == 1)
        else {
            metadata.response_code = ResponseCode::FormErr;
            response.metadata = metadata;
            return response.to_vec().ok();
        };
        let answer = self.answer(&question.name.to_ascii(), question.query_type);
        metadata.response_code = answer.code;
        metadata.authoritative = answer.code != ResponseCode::Refused;
        response.metadata = metadata;
        response.add_query(question.clone());
        response.add_answers(answer.answers.iter().cloned());
        if let Some(soa) = &answer.soa {
            response.add_authority(soa.clone());
        }
        response.to_vec().ok()
    }

    /// The DoH JSON answer for `name` and `kind` (a type name or number).
    pub fn answer_json(&self, name: &str, kind: &str) -> Result<(serde_json::Value, u32), String> {
        let record_type = kind
            .parse::<u16>()
            .map(RecordType::from)
            .or_else(|_| kind.to_ascii_uppercase().parse::<RecordType>())
            .map_err(|_| format!("unknown type {kind:?}"))?;
        let answer = self.answer(name, record_type);
        let fqdn = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
        let render = |r: &Record| {
            // TXT data is quoted, as Google's and Cloudflare's resolvers show it.
            let data = match &r.data {
                RData::TXT(txt) => format!("\"{txt}\""),
                other => other.to_string(),
            };
            json!({
                "name": r.name.to_ascii(),
                "type": u16::from(r.record_type()),
                "TTL": r.ttl,
                "data": data,
            })
        };
        let mut out = json!({
            "Status": u16::from(answer.code),
            "TC": false, "RD": false, "RA": false, "AD": false, "CD": false,
            "Question": [{ "name": fqdn, "type": u16::from(record_type) }],
            "Answer": answer.answers.iter().map(render).collect::<Vec<_>>(),
        });
        if let Some(soa) = &answer.soa {
            out["Authority"] = json!([render(soa)]);
        }
        Ok((out, answer.max_age()))
    }
}

/// hickory-server's handler over a [`NameServer`].
pub struct Handler(pub Arc<NameServer>);

#[jsonrpsee::core::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.recursion_available = false;
        let query = match request.request_info() {
            Ok(info) if request.metadata.op_code == OpCode::Query => info.query.original().clone(),
            _ => {
                let response = builder.error_msg(&request.metadata, ResponseCode::FormErr);
                return match response_handle.send_response(response).await {
                    Ok(info) => info,
                    Err(_) => ResponseInfo::from(hickory_proto::op::Header {
                        metadata,
                        counts: Default::default(),
                    }),
                };
            }
        };
        let answer = self.0.answer(&query.name.to_ascii(), query.query_type);
        metadata.response_code = answer.code;
        metadata.authoritative = answer.code != ResponseCode::Refused;
        let response = builder.build(
            metadata,
            answer.answers.iter(),
            std::iter::empty(),
            answer.soa.iter(),
            std::iter::empty(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(e) => {
                tracing::debug!("dns: cannot send a response: {e}");
                ResponseInfo::from(hickory_proto::op::Header {
                    metadata,
                    counts: Default::default(),
                })
            }
        }
    }
}

/// A running DNS server.
pub struct DnsServer {
    /// The UDP address bound.
    pub udp: SocketAddr,
    /// The TCP address bound.
    pub tcp: SocketAddr,
    server: hickory_server::Server<Handler>,
}

impl DnsServer {
    /// Stops serving.
    pub async fn shutdown(mut self) {
        let _ = self.server.shutdown_gracefully().await;
    }
}

/// Serves `names` over UDP and TCP on `addr` (port 0: a free port, the same number
/// for both if it can).
pub async fn serve(names: Arc<NameServer>, addr: SocketAddr) -> Result<DnsServer, NodeError> {
    let bind = |e: std::io::Error| NodeError::Rpc(format!("DNS on {addr}: {e}"));
    let udp = tokio::net::UdpSocket::bind(addr).await.map_err(bind)?;
    let udp_addr = udp.local_addr().map_err(bind)?;
    let tcp_at = if addr.port() == 0 { udp_addr } else { addr };
    let tcp = match tokio::net::TcpListener::bind(tcp_at).await {
        Ok(tcp) => tcp,
        Err(_) if addr.port() == 0 => tokio::net::TcpListener::bind(addr).await.map_err(bind)?,
        Err(e) => return Err(bind(e)),
    };
    let tcp_addr = tcp.local_addr().map_err(bind)?;
    let mut server = hickory_server::Server::new(Handler(names));
    server.register_socket(udp);
    server.register_listener(tcp, TCP_IDLE, 64);
    Ok(DnsServer {
        udp: udp_addr,
        tcp: tcp_addr,
        server,
    })
}

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

/// A DNS query for `name` and `kind` in wire format (clients and tests).
pub fn query_message(id: u16, name: &str, kind: RecordType) -> Option<Vec<u8>> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.add_query(Query::query(Name::from_ascii(name).ok()?, kind));
    message.to_vec().ok()
}
