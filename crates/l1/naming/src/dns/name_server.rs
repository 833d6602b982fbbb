//! The name server: answers from a node's committed head, in every form.

use std::sync::{Arc, RwLock};

use ghostd_types::naming::{DnsKind, Record as NameRecord, TLDS};
use hickory_proto::op::{Edns, Header, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use serde_json::json;

use super::cache::AnswerCache;
use super::kind::Kind;
use super::records::{host, rdata, soa};
use super::transport::Transport;
use super::{
    Answer, CACHE_BYTES_MAX, CACHE_ENTRIES_MAX, CNAME_CHAIN_MAX, CacheUsage, TTL_MAX,
    UDP_PAYLOAD_MAX, UDP_PAYLOAD_MIN,
};
use ghostd_module::ChainView;
use ghostd_types::naming::NamingParams;

use crate as naming;

/// Seconds in the naming module's year: `blocks_per_year` blocks are 365 days.
const YEAR_S: u128 = 365 * 24 * 60 * 60;

/// The TLD of `name`, if it is one of ours.
fn zone_of(name: &str) -> Option<&'static str> {
    let last = name.rsplit('.').next()?;
    TLDS.iter().copied().find(|tld| *tld == last)
}

/// A live name's DNS records and the seconds left before it is released.
struct Live {
    records: Vec<NameRecord>,
    release_s: u32,
}

/// The name server: answers from the chain's committed head.
pub struct NameServer {
    chain: ChainView,
    params: NamingParams,
    cache: RwLock<AnswerCache>,
}

impl NameServer {
    /// A name server over `chain`, whose genesis has naming `params`.
    pub fn new(chain: ChainView, params: NamingParams) -> Arc<Self> {
        Self::with_cache_bytes_max(chain, params, CACHE_BYTES_MAX)
    }

    /// A name server whose answer cache holds at most `bytes_max` bytes.
    pub fn with_cache_bytes_max(
        chain: ChainView,
        params: NamingParams,
        bytes_max: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            chain,
            params,
            cache: RwLock::new(AnswerCache::new(bytes_max, CACHE_ENTRIES_MAX)),
        })
    }

    /// What the answer cache holds now.
    pub fn cache_usage(&self) -> CacheUsage {
        self.cache
            .read()
            .map(|cache| cache.usage())
            .unwrap_or(CacheUsage {
                entries: 0,
                bytes: 0,
            })
    }

    /// The answer for `name` (any case, with or without the final dot) and `kind`.
    pub fn answer(&self, name: &str, kind: RecordType) -> Arc<Answer> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let height = self.chain.head_number();
        let key = (name, Kind::of(kind));
        if let Ok(cache) = self.cache.read()
            && let Some(answer) = cache.get(height, &key)
        {
            return answer;
        }
        let answer = Arc::new(self.compute(&key.0, key.1, height));
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(height, key, &answer);
        }
        answer
    }

    /// `name`'s records if it is live; `Err` on a storage error.
    fn live(&self, name: &str, height: u64) -> Result<Option<Live>, ()> {
        if TLDS.contains(&name) {
            // The TLD itself: it exists, with no records of its own (but its SOA).
            return Ok(Some(Live {
                records: Vec::new(),
                release_s: TTL_MAX,
            }));
        }
        let params = &self.params;
        let found = self
            .chain
            .read(|s| naming::resolve(s, name, height, params))
            .map_err(|e| tracing::warn!("dns: {e}"))?;
        Ok(found.map(|(record, _, records)| {
            let release = record.expires.saturating_add(params.grace_blocks);
            let blocks_left = u128::from(release.saturating_sub(height));
            let seconds = blocks_left * YEAR_S / u128::from(params.blocks_per_year.max(1));
            Live {
                records,
                release_s: u32::try_from(seconds).unwrap_or(u32::MAX).min(TTL_MAX),
            }
        }))
    }

    fn compute(&self, name: &str, kind: Kind, height: u64) -> Answer {
        if zone_of(name).is_none() {
            return Answer::empty(ResponseCode::Refused);
        }
        let mut answers: Vec<Record> = Vec::new();
        let mut current = name.to_string();
        // Each pass answers `current` or follows its CNAME to a name in the zone;
        // a chain is at most CNAME_CHAIN_MAX links, and stops at a loop.
        for _ in 0..=CNAME_CHAIN_MAX {
            let tld = zone_of(&current).unwrap_or_default();
            let Ok(owner) = Name::from_ascii(format!("{current}.")) else {
                return Answer::empty(ResponseCode::Refused);
            };
            let live = match self.live(&current, height) {
                Ok(Some(live)) => live,
                Ok(None) => {
                    return Answer {
                        code: ResponseCode::NXDomain,
                        answers,
                        soa: soa(tld, height),
                    };
                }
                Err(()) => return Answer::empty(ResponseCode::ServFail),
            };
            if kind == Kind::Soa && current == tld {
                answers.extend(soa(tld, height));
                return Answer {
                    code: ResponseCode::NoError,
                    answers,
                    soa: None,
                };
            }
            let dns: Vec<(DnsKind, &str, u32)> = live
                .records
                .iter()
                .filter_map(|r| match r {
                    NameRecord::Dns {
                        kind: k,
                        value,
                        ttl,
                    } => Some((*k, value.as_str(), *ttl)),
                    _ => None,
                })
                .collect();
            // RFC 2181 §10.1: a CNAME beside other data is ignored; one per name.
            let alone = dns.iter().all(|(k, _, _)| *k == DnsKind::Cname);
            let cname = dns.iter().find(|(k, _, _)| *k == DnsKind::Cname && alone);
            let record = |(k, value, ttl): &(DnsKind, &str, u32)| {
                let ttl = (*ttl).min(live.release_s);
                rdata(*k, value).map(|data| Record::from_rdata(owner.clone(), ttl, data))
            };
            let own: Vec<Record> = match kind.stored() {
                Some(DnsKind::Cname) => cname.and_then(&record).into_iter().collect(),
                Some(wanted) => dns
                    .iter()
                    .filter(|(k, _, _)| *k == wanted)
                    .filter_map(&record)
                    .collect(),
                None => Vec::new(),
            };
            if !own.is_empty() {
                answers.extend(own);
                return Answer {
                    code: ResponseCode::NoError,
                    answers,
                    soa: None,
                };
            }
            let Some(link) = cname.filter(|_| kind != Kind::Cname) else {
                // NODATA.
                return Answer {
                    code: ResponseCode::NoError,
                    answers,
                    soa: soa(tld, height),
                };
            };
            answers.extend(record(link));
            let target = host(link.1)
                .map(|t| t.to_ascii().trim_end_matches('.').to_ascii_lowercase())
                .unwrap_or_default();
            let seen = target == name
                || answers
                    .iter()
                    .any(|r| r.name.to_ascii().trim_end_matches('.') == target);
            if zone_of(&target).is_none() || seen {
                // Out of the zone (the resolver follows it), or a loop.
                break;
            }
            current = target;
        }
        Answer {
            code: ResponseCode::NoError,
            answers,
            soa: None,
        }
    }

    /// Answers a DNS message in wire format (DoH); `None` if not even its id reads.
    pub fn answer_wire(&self, query: &[u8]) -> Option<Vec<u8>> {
        self.reply(query, Transport::Stream)
    }

    /// The reply to `query` sent over `transport`; `None` if not even its id reads.
    pub(crate) fn reply(&self, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let id = u16::from_be_bytes([*query.first()?, *query.get(1)?]);
        let formerr = |op: OpCode| {
            Message::error_msg(id, op, ResponseCode::FormErr)
                .to_vec()
                .ok()
        };
        let Ok(header) = Header::read(&mut BinDecoder::new(query)) else {
            return formerr(OpCode::Query);
        };
        if header.metadata.op_code != OpCode::Query {
            // RFC 1035 §4.1.1: a kind of query we do not implement.
            let mut metadata = Metadata::response_from_request(&header.metadata);
            metadata.response_code = ResponseCode::NotImp;
            let mut response = Message::new(id, MessageType::Response, header.metadata.op_code);
            response.metadata = metadata;
            return response.to_vec().ok();
        }
        let Ok(message) = Message::from_vec(query) else {
            return formerr(OpCode::Query);
        };
        let mut metadata = Metadata::response_from_request(&message.metadata);
        let mut response = Message::new(id, MessageType::Response, OpCode::Query);
        // RFC 6891 §6.1.1: an OPT record in the reply iff the query had one.
        if let Some(edns) = &message.edns {
            let mut ours = Edns::new();
            ours.set_max_payload(UDP_PAYLOAD_MAX);
            ours.set_version(0);
            response.set_edns(ours);
            if edns.version() > 0 {
                // RFC 6891 §6.1.3.
                metadata.response_code = ResponseCode::BADVERS;
                response.metadata = metadata;
                response.add_queries(message.queries.iter().cloned());
                return response.to_vec().ok();
            }
        }
        let limit = match (transport, &message.edns) {
            (Transport::Stream, _) => usize::from(u16::MAX),
            (_, None) => usize::from(UDP_PAYLOAD_MIN),
            (_, Some(edns)) => {
                usize::from(edns.max_payload().clamp(UDP_PAYLOAD_MIN, UDP_PAYLOAD_MAX))
            }
        };
        let Some(question) = message
            .queries
            .first()
            .filter(|_| message.queries.len() == 1)
        else {
            metadata.response_code = ResponseCode::FormErr;
            response.metadata = metadata;
            return response.to_vec().ok();
        };
        response.add_query(question.clone());
        if transport == Transport::UdpSlip {
            metadata.truncation = true;
            response.metadata = metadata;
            return response.to_vec().ok();
        }
        let answer = self.answer(&question.name.to_ascii(), question.query_type);
        metadata.response_code = answer.code;
        metadata.authoritative = answer.code != ResponseCode::Refused;
        response.metadata = metadata;
        response.add_answers(answer.answers.iter().cloned());
        response.add_authorities(answer.soa.iter().cloned());
        let whole = response.to_vec().ok()?;
        if whole.len() <= limit {
            return Some(whole);
        }
        // RFC 2181 §9: an RRset that does not fit is not sent in part; the
        // question (and OPT) with TC=1 sends the client to TCP.
        response.answers.clear();
        response.authorities.clear();
        response.metadata.truncation = true;
        let cut = response.to_vec().ok()?;
        debug_assert!(
            cut.len() <= limit,
            "a question and an OPT record fit 512 bytes"
        );
        Some(cut)
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
