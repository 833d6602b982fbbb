//! Real DNS queries against a served ghostd: hickory's client over UDP and TCP, and
//! hickory-proto messages over plain sockets for what a client library hides
//! (NXDOMAIN, FORMERR), over UDP, TCP and DoH (RFC 8484 GET and POST, and the JSON
//! form). Registration →
//! A/TXT answers; NXDOMAIN; NODATA; the lifecycle (frozen names still answer,
//! released ones are NXDOMAIN, a re-registration starts with no records); a subname
//! dying with its parent; FORMERR for malformed queries; `Cache-Control` bounded by
//! the least TTL. Issue 33 (item 9): UDP replies capped and cut into well-formed
//! TC=1 replies; EDNS(0) OPT records and BADVERS; NOTIMP for other opcodes; the
//! apex SOA; CNAMEs followed in the zone and ignored beside other data; TTLs capped
//! at 2^31 − 1 and at the name's release; the answer cache bounded in bytes; TCP
//! connection caps and idle timeouts; per-client UDP rate limiting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::node as common;

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Fixture, fixture_with};
use ghostd_naming::dns::{self, NameServer};
use ghostd_types::naming::{DnsKind, NamingCall, NamingParams, Record as NameRecord};
use ghostplane_primitives::Keypair;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const YEAR: u64 = 10;
const GRACE: u64 = 5;

fn fixture() -> Fixture {
    fixture_with(NamingParams {
        blocks_per_year: YEAR,
        grace_blocks: GRACE,
        price_per_year: [640, 160, 40, 10, 5],
    })
}

fn dns_record(kind: DnsKind, value: &str, ttl: u32) -> NamingCall {
    NamingCall::SetRecord {
        name: "alice.ghost".into(),
        record: NameRecord::Dns {
            kind,
            value: value.into(),
            ttl,
        },
    }
}

async fn udp(server: SocketAddr, query: &[u8]) -> Message {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(query, server).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        socket.recv_from(&mut buf),
    )
    .await
    .expect("the server answers")
    .unwrap();
    Message::from_vec(&buf[..n]).unwrap()
}

async fn tcp(server: SocketAddr, query: &[u8]) -> Message {
    let mut stream = tokio::net::TcpStream::connect(server).await.unwrap();
    stream
        .write_all(&(query.len() as u16).to_be_bytes())
        .await
        .unwrap();
    stream.write_all(query).await.unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut buf).await.unwrap();
    Message::from_vec(&buf).unwrap()
}

/// A raw HTTP/1.1 exchange: (status, headers, body).
async fn http(server: SocketAddr, request: Vec<u8>) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(server).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_ascii_lowercase(),
        response[split + 4..].to_vec(),
    )
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/dns-message\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn texts(message: &Message) -> Vec<String> {
    message
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(txt) => Some(txt.to_string()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_over_udp_tcp_and_https() {
    let f = fixture();
    let alice = Keypair::dev(0);
    f.ok(
        &alice,
        NamingCall::Register {
            name: "alice.ghost".into(),
            owner: alice.public_key(),
            years: 1,
        },
    );
    f.ok(&alice, dns_record(DnsKind::A, "10.1.2.3", 300));
    f.ok(&alice, dns_record(DnsKind::Txt, "hello", 60));
    f.ok(&alice, dns_record(DnsKind::Mx, "10 mail.example.com", 120));
    let server = dns::serve(
        NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let (_rpc, http_addr) = ghostd::rpc::serve(&f.node).await.unwrap();

    // hickory's own client, over UDP and over TCP.
    {
        use hickory_net::client::{Client, ClientHandle};
        use hickory_net::runtime::TokioRuntimeProvider;
        use hickory_net::tcp::TcpClientStream;
        use hickory_net::udp::UdpClientStream;
        use hickory_proto::rr::{DNSClass, Name};

        let name = Name::from_ascii("alice.ghost.").unwrap();
        let stream = UdpClientStream::builder(server.udp, TokioRuntimeProvider::default()).build();
        let (mut client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
        tokio::spawn(background);
        let response = client
            .query(name.clone(), DNSClass::IN, RecordType::TXT)
            .await
            .unwrap();
        assert_eq!(texts(&response), vec!["hello"]);
        let (connect, sender) =
            TcpClientStream::new(server.tcp, None, None, TokioRuntimeProvider::new());
        let (mut client, background) =
            Client::<TokioRuntimeProvider>::new(connect.await.unwrap(), sender);
        tokio::spawn(background);
        let response = client
            .query(name, DNSClass::IN, RecordType::A)
            .await
            .unwrap();
        assert_eq!(response.answers.len(), 1);
    }

    // Raw messages over UDP and TCP: A and TXT (case-insensitive), NXDOMAIN,
    // NODATA, REFUSED.
    let a = dns::query_message(1, "Alice.Ghost.", RecordType::A).unwrap();
    for answer in [udp(server.udp, &a).await, tcp(server.tcp, &a).await] {
        assert_eq!(answer.metadata.id, 1);
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert!(answer.metadata.authoritative);
        assert_eq!(answer.answers.len(), 1);
        assert_eq!(
            answer.answers[0].data,
            RData::A("10.1.2.3".parse::<std::net::Ipv4Addr>().unwrap().into())
        );
        assert_eq!(answer.answers[0].ttl, 300);
    }
    let txt = dns::query_message(2, "alice.ghost.", RecordType::TXT).unwrap();
    assert_eq!(texts(&udp(server.udp, &txt).await), vec!["hello"]);
    let mx = udp(
        server.udp,
        &dns::query_message(3, "alice.ghost.", RecordType::MX).unwrap(),
    )
    .await;
    assert_eq!(mx.answers.len(), 1);
    let unknown = udp(
        server.udp,
        &dns::query_message(4, "nobody.ghost.", RecordType::A).unwrap(),
    )
    .await;
    assert_eq!(unknown.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(unknown.authorities.len(), 1, "NXDOMAIN carries the SOA");
    let nodata = udp(
        server.udp,
        &dns::query_message(5, "alice.ghost.", RecordType::AAAA).unwrap(),
    )
    .await;
    assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    let elsewhere = udp(
        server.udp,
        &dns::query_message(6, "example.com.", RecordType::A).unwrap(),
    )
    .await;
    assert_eq!(elsewhere.metadata.response_code, ResponseCode::Refused);

    // Malformed: a header with garbage after it gets FORMERR; the server lives on.
    let mut garbage = vec![0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    garbage.extend_from_slice(&[0xff; 7]);
    let formerr = udp(server.udp, &garbage).await;
    assert_eq!(formerr.metadata.id, 0x1234);
    assert_eq!(formerr.metadata.response_code, ResponseCode::FormErr);
    assert_eq!(texts(&udp(server.udp, &txt).await), vec!["hello"]);

    // DoH, RFC 8484: GET ?dns= and POST.
    let path = format!("/dns-query?dns={}", URL_SAFE_NO_PAD.encode(&txt));
    let (status, headers, body) = http(http_addr, get(&path)).await;
    assert_eq!(status, 200);
    assert!(headers.contains("content-type: application/dns-message"));
    assert!(headers.contains("cache-control: max-age=60"), "{headers}");
    assert_eq!(texts(&Message::from_vec(&body).unwrap()), vec!["hello"]);
    let (status, headers, body) = http(http_addr, post("/dns-query", &a)).await;
    assert_eq!(status, 200);
    assert!(headers.contains("cache-control: max-age=300"), "{headers}");
    assert_eq!(Message::from_vec(&body).unwrap().answers.len(), 1);
    let (status, _, body) = http(http_addr, post("/dns-query", &garbage)).await;
    assert_eq!(status, 200);
    assert_eq!(
        Message::from_vec(&body).unwrap().metadata.response_code,
        ResponseCode::FormErr
    );
    let (status, _, _) = http(http_addr, get("/dns-query?dns=!!!")).await;
    assert_eq!(status, 400);
    // The JSON form.
    let (status, headers, body) = http(http_addr, get("/resolve?name=alice.ghost&type=TXT")).await;
    assert_eq!(status, 200);
    assert!(headers.contains("content-type: application/dns-json"));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["Status"], 0);
    assert_eq!(json["Answer"][0]["type"], 16);
    assert_eq!(json["Answer"][0]["TTL"], 60);
    assert_eq!(json["Answer"][0]["data"], "\"hello\"");
    assert_eq!(json["Answer"][0]["name"], "alice.ghost.");
    let (_, _, body) = http(http_addr, get("/resolve?name=nobody.ghost&type=A")).await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["Status"], 3);

    // Lifecycle: expired names still answer (frozen); released ones are NXDOMAIN;
    // re-registered, they start with no records.
    f.ok(
        &alice,
        NamingCall::CreateSubname {
            name: "www.alice.ghost".into(),
            owner: alice.public_key(),
        },
    );
    f.ok(
        &alice,
        NamingCall::SetRecord {
            name: "www.alice.ghost".into(),
            record: NameRecord::Dns {
                kind: DnsKind::Cname,
                value: "alice.ghost".into(),
                ttl: 30,
            },
        },
    );
    let www = dns::query_message(7, "www.alice.ghost.", RecordType::A).unwrap();
    let cname = udp(server.udp, &www).await;
    assert!(matches!(cname.answers[0].data, RData::CNAME(_)));
    let expires = f
        .node
        .read(|s| ghostd_naming::record(s, &ghostd_types::naming::namehash("alice.ghost")))
        .unwrap()
        .unwrap()
        .expires;
    while f.node.head().number < expires {
        f.seal();
    }
    assert_eq!(texts(&udp(server.udp, &txt).await), vec!["hello"]);
    while f.node.head().number < expires + GRACE {
        f.seal();
    }
    let released = udp(server.udp, &txt).await;
    assert_eq!(released.metadata.response_code, ResponseCode::NXDomain);
    let sub = udp(server.udp, &www).await;
    assert_eq!(sub.metadata.response_code, ResponseCode::NXDomain);
    let bob = Keypair::dev(1);
    f.ok(
        &bob,
        NamingCall::Register {
            name: "alice.ghost".into(),
            owner: bob.public_key(),
            years: 1,
        },
    );
    let fresh = udp(server.udp, &txt).await;
    assert_eq!(fresh.metadata.response_code, ResponseCode::NoError);
    assert!(
        fresh.answers.is_empty(),
        "old records leaked: {:?}",
        fresh.answers
    );
    assert_eq!(
        udp(server.udp, &www).await.metadata.response_code,
        ResponseCode::NXDomain
    );
    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// Issue 33, item 9: hostile input and conformance. Queries are built and replies
// parsed with hickory-proto (and, where it can see the point, hickory's client),
// never with our own encoder.
// ---------------------------------------------------------------------------

/// A year of 500 ms blocks and a 90-day grace: names live long enough for many
/// transactions (the main fixture's 10-block year releases a name in 15 blocks).
fn fixture_long() -> Fixture {
    fixture_with(NamingParams {
        blocks_per_year: 63_072_000,
        grace_blocks: 15_552_000,
        price_per_year: [640, 160, 40, 10, 5],
    })
}

fn register(f: &Fixture, key: &Keypair, name: &str, years: u32) {
    f.ok(
        key,
        NamingCall::Register {
            name: name.into(),
            owner: key.public_key(),
            years,
        },
    );
}

fn subname(f: &Fixture, key: &Keypair, name: &str) {
    f.ok(
        key,
        NamingCall::CreateSubname {
            name: name.into(),
            owner: key.public_key(),
        },
    );
}

fn set(f: &Fixture, key: &Keypair, name: &str, kind: DnsKind, value: &str, ttl: u32) {
    f.ok(
        key,
        NamingCall::SetRecord {
            name: name.into(),
            record: NameRecord::Dns {
                kind,
                value: value.into(),
                ttl,
            },
        },
    );
}

/// A query built by hickory-proto, with an OPT record of `(payload, version)`.
fn query_with(
    id: u16,
    op: hickory_proto::op::OpCode,
    name: &str,
    kind: RecordType,
    edns: Option<(u16, u8)>,
) -> Vec<u8> {
    use hickory_proto::op::{Edns, MessageType, Query};
    let mut message = Message::new(id, MessageType::Query, op);
    message.add_query(Query::query(
        hickory_proto::rr::Name::from_ascii(name).unwrap(),
        kind,
    ));
    if let Some((payload, version)) = edns {
        let mut opt = Edns::new();
        opt.set_max_payload(payload);
        opt.set_version(version);
        message.set_edns(opt);
    }
    message.to_vec().unwrap()
}

fn query(id: u16, name: &str, kind: RecordType, edns: Option<(u16, u8)>) -> Vec<u8> {
    query_with(id, hickory_proto::op::OpCode::Query, name, kind, edns)
}

/// Parses a reply and insists that nothing follows its counted records (RFC 1035
/// §4.1: a message is its header's sections, nothing more).
fn strict(bytes: &[u8]) -> Message {
    use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
    let mut decoder = BinDecoder::new(bytes);
    let message = Message::read(&mut decoder).expect("a well-formed message");
    assert!(
        decoder.is_empty(),
        "{} stray bytes after the counted records ({} in all)",
        decoder.len(),
        bytes.len()
    );
    message
}

/// One UDP exchange from `from`: the raw reply.
async fn udp_raw_from(from: &str, server: SocketAddr, query: &[u8]) -> Vec<u8> {
    let socket = tokio::net::UdpSocket::bind(from).await.unwrap();
    socket.send_to(query, server).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (n, _) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        socket.recv_from(&mut buf),
    )
    .await
    .expect("the server answers")
    .unwrap();
    buf.truncate(n);
    buf
}

async fn udp_raw(server: SocketAddr, query: &[u8]) -> Vec<u8> {
    udp_raw_from("127.0.0.1:0", server, query).await
}

/// A TCP connection from `from` (any 127.0.0.0/8 address).
async fn tcp_from(from: &str, server: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(server).await.unwrap()
}

/// Sends `query` on `stream`: the reply, or `None` if the server closed it.
async fn tcp_exchange(stream: &mut tokio::net::TcpStream, query: &[u8]) -> Option<Message> {
    let exchange = async {
        stream
            .write_all(&(query.len() as u16).to_be_bytes())
            .await
            .ok()?;
        stream.write_all(query).await.ok()?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.ok()?;
        let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut buf).await.ok()?;
        Some(strict(&buf))
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), exchange)
        .await
        .expect("the server answers or closes")
}

/// A registered name with 40 TXT records of 200 bytes (8 KB of answers).
fn big_name(f: &Fixture, key: &Keypair) {
    register(f, key, "big.ghost", 1);
    for i in 0..40 {
        let value = format!("{i:03}{}", "x".repeat(197));
        set(f, key, "big.ghost", DnsKind::Txt, &value, 300);
    }
}

/// Amplification: an 8 KB answer to a 40-byte query. Over UDP a reply is at most
/// min(the client's EDNS size, 1232) bytes (512 without EDNS), and one too large
/// is sent as a well-formed TC=1 reply, never SERVFAIL and never with the bytes of
/// a cut record after its counted ones; over TCP the whole answer comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_replies_are_capped_and_truncated_well_formed() {
    let f = fixture_long();
    let key = Keypair::dev(0);
    big_name(&f, &key);
    let server = dns::serve(
        NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    for (edns, cap) in [
        (None, 512),
        (Some((4096, 0)), 1232),
        (Some((65_535, 0)), 1232),
        (Some((1000, 0)), 1000),
        (Some((100, 0)), 512),
    ] {
        let q = query(11, "big.ghost.", RecordType::TXT, edns);
        let bytes = udp_raw(server.udp, &q).await;
        assert!(
            bytes.len() <= cap,
            "{edns:?}: a {}-byte reply to a {}-byte query (cap {cap})",
            bytes.len(),
            q.len()
        );
        let reply = strict(&bytes);
        assert_eq!(reply.metadata.id, 11);
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::NoError,
            "{edns:?}"
        );
        assert!(reply.metadata.truncation, "{edns:?}: TC=1");
        assert_eq!(reply.queries.len(), 1, "the question is kept");
    }
    // Over TCP, all 40 records (hickory's client, and a raw exchange).
    let mut stream = tokio::net::TcpStream::connect(server.tcp).await.unwrap();
    let whole = tcp_exchange(&mut stream, &query(12, "big.ghost.", RecordType::TXT, None))
        .await
        .unwrap();
    assert!(!whole.metadata.truncation);
    assert_eq!(whole.answers.len(), 40);
    {
        use hickory_net::client::{Client, ClientHandle};
        use hickory_net::runtime::TokioRuntimeProvider;
        use hickory_net::tcp::TcpClientStream;
        use hickory_proto::rr::{DNSClass, Name};
        let (connect, sender) =
            TcpClientStream::new(server.tcp, None, None, TokioRuntimeProvider::new());
        let (mut client, background) =
            Client::<TokioRuntimeProvider>::new(connect.await.unwrap(), sender);
        tokio::spawn(background);
        let response = client
            .query(
                Name::from_ascii("big.ghost.").unwrap(),
                DNSClass::IN,
                RecordType::TXT,
            )
            .await
            .unwrap();
        assert_eq!(response.answers.len(), 40);
    }
    server.shutdown().await;
}

/// RFC 6891: a query with an OPT record gets one back (version 0, our payload
/// size); a query without gets none; an EDNS version above 0 gets BADVERS (16),
/// over UDP and DoH alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edns_queries_get_an_opt_record_and_badvers_above_version_0() {
    let f = fixture_long();
    let key = Keypair::dev(0);
    register(&f, &key, "alice.ghost", 1);
    set(&f, &key, "alice.ghost", DnsKind::A, "10.1.2.3", 300);
    let names = NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone());
    let server = dns::serve(Arc::clone(&names), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let with = query(21, "alice.ghost.", RecordType::A, Some((4096, 0)));
    let without = query(22, "alice.ghost.", RecordType::A, None);
    let v1 = query(23, "alice.ghost.", RecordType::A, Some((4096, 1)));
    let replies = [
        (strict(&udp_raw(server.udp, &with).await), "udp"),
        (strict(&names.answer_wire(&with).unwrap()), "doh"),
    ];
    for (reply, how) in replies {
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{how}");
        assert_eq!(reply.answers.len(), 1, "{how}");
        let opt = reply.edns.as_ref().expect("an OPT record in the reply");
        assert_eq!(opt.version(), 0, "{how}");
        assert_eq!(opt.max_payload(), dns::UDP_PAYLOAD_MAX, "{how}");
    }
    for reply in [
        strict(&udp_raw(server.udp, &without).await),
        strict(&names.answer_wire(&without).unwrap()),
    ] {
        assert!(reply.edns.is_none(), "no OPT record asked, none sent");
        assert_eq!(reply.answers.len(), 1);
    }
    for (reply, how) in [
        (strict(&udp_raw(server.udp, &v1).await), "udp"),
        (strict(&names.answer_wire(&v1).unwrap()), "doh"),
    ] {
        assert_eq!(
            u16::from(reply.metadata.response_code),
            16,
            "{how}: BADVERS"
        );
        assert_eq!(reply.edns.as_ref().map(|e| e.version()), Some(0), "{how}");
        assert!(reply.answers.is_empty(), "{how}");
    }
    server.shutdown().await;
}

/// RFC 1035 §4.1.1: an opcode we do not implement gets NOTIMP, not FORMERR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_opcodes_get_notimp() {
    use hickory_proto::op::OpCode;
    let f = fixture_long();
    let names = NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone());
    let server = dns::serve(Arc::clone(&names), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    for (i, op) in [
        OpCode::Status,
        OpCode::Notify,
        OpCode::Update,
        OpCode::Unknown(3),
        OpCode::Unknown(15),
    ]
    .into_iter()
    .enumerate()
    {
        let id = 30 + i as u16;
        let q = query_with(id, op, "alice.ghost.", RecordType::A, None);
        let mut stream = tokio::net::TcpStream::connect(server.tcp).await.unwrap();
        for (reply, how) in [
            (strict(&udp_raw(server.udp, &q).await), "udp"),
            (tcp_exchange(&mut stream, &q).await.unwrap(), "tcp"),
            (strict(&names.answer_wire(&q).unwrap()), "doh"),
        ] {
            assert_eq!(reply.metadata.id, id, "{op:?} {how}");
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::NotImp,
                "{op:?} over {how}"
            );
        }
    }
    server.shutdown().await;
}

/// The zone apex answers its SOA (and NODATA, with the SOA, for other types).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zone_apex_answers_its_soa() {
    let f = fixture_long();
    let server = dns::serve(
        NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    for tld in ["ghost.", "GCC.", "warp"] {
        let reply = strict(&udp_raw(server.udp, &query(40, tld, RecordType::SOA, None)).await);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{tld}");
        assert!(reply.metadata.authoritative);
        assert_eq!(reply.answers.len(), 1, "{tld}: the SOA in the answer");
        assert!(matches!(reply.answers[0].data, RData::SOA(_)));
        assert!(reply.authorities.is_empty());
    }
    let a = strict(&udp_raw(server.udp, &query(41, "ghost.", RecordType::A, None)).await);
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert!(a.answers.is_empty());
    assert_eq!(a.authorities.len(), 1);
    // And through hickory's client.
    {
        use hickory_net::client::{Client, ClientHandle};
        use hickory_net::runtime::TokioRuntimeProvider;
        use hickory_net::udp::UdpClientStream;
        use hickory_proto::rr::{DNSClass, Name};
        let stream = UdpClientStream::builder(server.udp, TokioRuntimeProvider::default()).build();
        let (mut client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
        tokio::spawn(background);
        let response = client
            .query(
                Name::from_ascii("arc.").unwrap(),
                DNSClass::IN,
                RecordType::SOA,
            )
            .await
            .unwrap();
        assert!(matches!(response.answers[0].data, RData::SOA(_)));
    }
    server.shutdown().await;
}

/// RFC 1034 §4.3.2: an in-zone CNAME is followed to its target's records; the
/// chain stops at a target outside the zone, a missing target (NXDOMAIN, RFC
/// 6604) and a loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_zone_cnames_are_followed() {
    let f = fixture_long();
    let key = Keypair::dev(0);
    register(&f, &key, "x.ghost", 1);
    set(&f, &key, "x.ghost", DnsKind::A, "10.0.0.1", 300);
    for (sub, target) in [
        ("www.x.ghost", "x.ghost"),
        ("ext.x.ghost", "example.com"),
        ("gone.x.ghost", "nobody.ghost"),
        ("loop1.x.ghost", "loop2.x.ghost"),
        ("loop2.x.ghost", "loop1.x.ghost"),
    ] {
        subname(&f, &key, sub);
        set(&f, &key, sub, DnsKind::Cname, target, 60);
    }
    let server = dns::serve(
        NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let ask = |name: &'static str, kind| {
        let udp = server.udp;
        async move { strict(&udp_raw(udp, &query(50, name, kind, None)).await) }
    };
    let www = ask("www.x.ghost.", RecordType::A).await;
    assert_eq!(www.metadata.response_code, ResponseCode::NoError);
    assert_eq!(www.answers.len(), 2, "{:?}", www.answers);
    assert!(matches!(www.answers[0].data, RData::CNAME(_)));
    assert_eq!(www.answers[1].name.to_ascii(), "x.ghost.");
    assert_eq!(
        www.answers[1].data,
        RData::A("10.0.0.1".parse::<std::net::Ipv4Addr>().unwrap().into())
    );
    // A type the target lacks: the CNAME, then NODATA's SOA.
    let txt = ask("www.x.ghost.", RecordType::TXT).await;
    assert_eq!(txt.answers.len(), 1);
    assert_eq!(txt.authorities.len(), 1);
    // Asking for the CNAME itself: not followed.
    assert_eq!(
        ask("www.x.ghost.", RecordType::CNAME).await.answers.len(),
        1
    );
    assert_eq!(ask("ext.x.ghost.", RecordType::A).await.answers.len(), 1);
    let gone = ask("gone.x.ghost.", RecordType::A).await;
    assert_eq!(gone.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        gone.answers.len(),
        1,
        "the CNAME, then NXDOMAIN for its target"
    );
    let looped = ask("loop1.x.ghost.", RecordType::A).await;
    assert_eq!(looped.answers.len(), 2, "{:?}", looped.answers);
    // hickory's client sees the chain too.
    {
        use hickory_net::client::{Client, ClientHandle};
        use hickory_net::runtime::TokioRuntimeProvider;
        use hickory_net::udp::UdpClientStream;
        use hickory_proto::rr::{DNSClass, Name};
        let stream = UdpClientStream::builder(server.udp, TokioRuntimeProvider::default()).build();
        let (mut client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
        tokio::spawn(background);
        let response = client
            .query(
                Name::from_ascii("www.x.ghost.").unwrap(),
                DNSClass::IN,
                RecordType::A,
            )
            .await
            .unwrap();
        assert!(
            response
                .answers
                .iter()
                .any(|r| matches!(r.data, RData::A(_)))
        );
    }
    server.shutdown().await;
}

/// RFC 1034 §3.6.2, RFC 2181 §10.1: a name with a CNAME has no other data. The
/// naming module stores one CNAME per name (a new one replaces the old); a CNAME
/// set beside other DNS records is ignored when answering, so the name answers its
/// own records and NODATA, never a CNAME for some types and data for others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cname_beside_other_data_is_ignored() {
    let f = fixture_long();
    let key = Keypair::dev(0);
    register(&f, &key, "y.ghost", 1);
    set(&f, &key, "y.ghost", DnsKind::A, "10.0.0.2", 300);
    set(
        &f,
        &key,
        "y.ghost",
        DnsKind::Cname,
        "elsewhere.example.com",
        300,
    );
    set(
        &f,
        &key,
        "y.ghost",
        DnsKind::Cname,
        "other.example.com",
        300,
    );
    let names = NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone());
    let server = dns::serve(Arc::clone(&names), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let a = strict(&udp_raw(server.udp, &query(60, "y.ghost.", RecordType::A, None)).await);
    assert_eq!(a.answers.len(), 1);
    assert!(matches!(a.answers[0].data, RData::A(_)));
    for kind in [RecordType::TXT, RecordType::MX, RecordType::CNAME] {
        let reply = strict(&udp_raw(server.udp, &query(61, "y.ghost.", kind, None)).await);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(
            reply.answers.is_empty(),
            "{kind}: a CNAME beside an A was served: {:?}",
            reply.answers
        );
    }
    // One CNAME per name: the second replaced the first.
    register(&f, &key, "z.ghost", 1);
    set(&f, &key, "z.ghost", DnsKind::Cname, "one.example.com", 300);
    set(&f, &key, "z.ghost", DnsKind::Cname, "two.example.com", 300);
    let z = strict(&udp_raw(server.udp, &query(62, "z.ghost.", RecordType::A, None)).await);
    assert_eq!(z.answers.len(), 1);
    assert_eq!(z.answers[0].data.to_string(), "two.example.com.");
    server.shutdown().await;
}

/// RFC 2181 §8: TTLs are served at most 2^31 − 1, and never past the time left
/// before the name stops resolving (its release, at the end of the grace period),
/// so a resolver cannot hold a record into the next registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttls_are_capped_at_2_31_minus_1_and_at_the_names_release() {
    const TTL_MAX: u32 = (1 << 31) - 1;
    // A name renewed to 80 years: only the 2^31 − 1 cap binds.
    let f = fixture_long();
    let key = Keypair::dev(0);
    register(&f, &key, "old.ghost", 10);
    for _ in 0..7 {
        f.ok(
            &key,
            NamingCall::Renew {
                name: "old.ghost".into(),
                years: 10,
            },
        );
    }
    set(&f, &key, "old.ghost", DnsKind::Txt, "forever", u32::MAX);
    set(&f, &key, "old.ghost", DnsKind::A, "10.0.0.3", 1 << 31);
    set(
        &f,
        &key,
        "old.ghost",
        DnsKind::Mx,
        "10 mail.example.com",
        300,
    );
    let names = NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone());
    let server = dns::serve(Arc::clone(&names), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    for (kind, ttl) in [
        (RecordType::TXT, TTL_MAX),
        (RecordType::A, TTL_MAX),
        (RecordType::MX, 300),
    ] {
        let reply = strict(&udp_raw(server.udp, &query(70, "old.ghost.", kind, None)).await);
        assert_eq!(reply.answers[0].ttl, ttl, "{kind}");
    }
    let (json, max_age) = names.answer_json("old.ghost", "TXT").unwrap();
    assert_eq!(json["Answer"][0]["TTL"], TTL_MAX);
    assert_eq!(max_age, TTL_MAX);
    server.shutdown().await;

    // The 10-block year (3,153,600 s a block): the time left before release binds.
    let f = fixture();
    let alice = Keypair::dev(0);
    f.ok(
        &alice,
        NamingCall::Register {
            name: "alice.ghost".into(),
            owner: alice.public_key(),
            years: 1,
        },
    );
    f.ok(&alice, dns_record(DnsKind::Txt, "hello", u32::MAX));
    f.ok(&alice, dns_record(DnsKind::A, "10.1.2.3", 300));
    let names = NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone());
    let expires = f
        .node
        .read(|s| ghostd_naming::record(s, &ghostd_types::naming::namehash("alice.ghost")))
        .unwrap()
        .unwrap()
        .expires;
    let block_s = 31_536_000 / YEAR;
    loop {
        let head = f.node.head().number;
        let left = (expires + GRACE - head) * block_s;
        let txt = strict(
            &names
                .answer_wire(&query(71, "alice.ghost.", RecordType::TXT, None))
                .unwrap(),
        );
        assert_eq!(
            u64::from(txt.answers[0].ttl),
            left.min(u64::from(TTL_MAX)),
            "at {head}"
        );
        let a = names.answer("alice.ghost", RecordType::A);
        assert_eq!(a.answers[0].ttl, 300, "a short TTL is kept");
        if head + 1 >= expires + GRACE {
            break;
        }
        f.seal();
    }
}

/// The answer cache: every type we serve no records of shares one key, REFUSED
/// answers are not kept, and the bytes held stay under the bound however many
/// names are asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_cache_is_bounded_in_bytes() {
    let f = fixture_long();
    let key = Keypair::dev(0);
    big_name(&f, &key);
    let bound = 64 * 1024;
    let names = NameServer::with_cache_bytes_max(
        f.node.chain_view(),
        f.node.genesis().naming.clone(),
        bound,
    );
    names.answer("big.ghost", RecordType::A);
    let before = names.cache_usage();
    for t in 256..1256u16 {
        names.answer("big.ghost", RecordType::from(t));
    }
    let after = names.cache_usage();
    assert!(
        after.entries <= before.entries + 1,
        "1,000 unknown types made {} entries",
        after.entries - before.entries
    );
    for i in 0..1000 {
        let answer = names.answer(&format!("host{i}.example.com"), RecordType::A);
        assert_eq!(answer.code, ResponseCode::Refused);
    }
    assert_eq!(
        names.cache_usage().entries,
        after.entries,
        "REFUSED was cached"
    );
    for i in 0..2000 {
        names.answer("big.ghost", RecordType::TXT);
        names.answer(&format!("nobody{i}.ghost"), RecordType::A);
        let usage = names.cache_usage();
        assert!(usage.bytes <= bound, "{} bytes held after {i}", usage.bytes);
    }
    assert_eq!(names.answer("big.ghost", RecordType::TXT).answers.len(), 40);
}

/// DNS over TCP: at most `TCP_CONNECTIONS_PER_IP_MAX` connections from one
/// address and `TCP_CONNECTIONS_MAX` in all (one more is closed at once), and an
/// idle connection is closed, which frees its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_are_capped_per_address_and_in_all() {
    let f = fixture_long();
    let key = Keypair::dev(0);
    register(&f, &key, "alice.ghost", 1);
    set(&f, &key, "alice.ghost", DnsKind::A, "10.1.2.3", 300);
    let limits = dns::DnsLimits {
        tcp_idle: std::time::Duration::from_secs(3),
        ..dns::DnsLimits::default()
    };
    let server = dns::serve_with(
        NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone()),
        "127.0.0.1:0".parse().unwrap(),
        limits,
    )
    .await
    .unwrap();
    let q = query(80, "alice.ghost.", RecordType::A, None);
    let mut held = Vec::new();
    for _ in 0..dns::TCP_CONNECTIONS_PER_IP_MAX {
        let mut stream = tcp_from("127.0.0.2", server.tcp).await;
        assert!(tcp_exchange(&mut stream, &q).await.is_some());
        held.push(stream);
    }
    let mut over = tcp_from("127.0.0.2", server.tcp).await;
    assert!(
        tcp_exchange(&mut over, &q).await.is_none(),
        "a connection past the per-address cap was served"
    );
    // Other addresses fill the rest; one more anywhere is refused.
    let mut ip = 3;
    while held.len() < dns::TCP_CONNECTIONS_MAX {
        for _ in 0..dns::TCP_CONNECTIONS_PER_IP_MAX {
            if held.len() == dns::TCP_CONNECTIONS_MAX {
                break;
            }
            let mut stream = tcp_from(&format!("127.0.0.{ip}"), server.tcp).await;
            assert!(
                tcp_exchange(&mut stream, &q).await.is_some(),
                "127.0.0.{ip}"
            );
            held.push(stream);
        }
        ip += 1;
    }
    let mut over = tcp_from("127.0.1.1", server.tcp).await;
    assert!(
        tcp_exchange(&mut over, &q).await.is_none(),
        "a connection past the total cap was served"
    );
    // Idle connections are closed, and their slots come back.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), held[0].read(&mut buf))
        .await
        .expect("closed by the server");
    assert!(matches!(closed, Ok(0) | Err(_)));
    let mut again = tcp_from("127.0.0.2", server.tcp).await;
    assert!(tcp_exchange(&mut again, &q).await.is_some());
    server.shutdown().await;
}

/// Response-rate limiting: one client (any address but loopback is limited in
/// production; the test turns the loopback exemption off) gets its burst, then
/// every other limited query a TC=1 reply (so a real client retries over TCP) and
/// the rest nothing; another client is not affected, and the bucket refills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_responses_are_rate_limited_per_client() {
    let f = fixture_long();
    let key = Keypair::dev(0);
    register(&f, &key, "alice.ghost", 1);
    set(&f, &key, "alice.ghost", DnsKind::A, "10.1.2.3", 300);
    let limits = dns::DnsLimits {
        udp_rate_per_s: 20,
        udp_burst: 20,
        rate_limit_loopback: true,
        ..dns::DnsLimits::default()
    };
    let server = dns::serve_with(
        NameServer::new(f.node.chain_view(), f.node.genesis().naming.clone()),
        "127.0.0.1:0".parse().unwrap(),
        limits,
    )
    .await
    .unwrap();
    let q = query(90, "alice.ghost.", RecordType::A, None);
    let socket = tokio::net::UdpSocket::bind("127.0.0.2:0").await.unwrap();
    for i in 0..200 {
        socket.send_to(&q, server.udp).await.unwrap();
        if i % 10 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let (mut full, mut truncated) = (0, 0);
    let mut buf = vec![0u8; 65_535];
    while let Ok(Ok((n, _))) = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        socket.recv_from(&mut buf),
    )
    .await
    {
        let reply = strict(&buf[..n]);
        if reply.metadata.truncation {
            assert!(reply.answers.is_empty());
            assert!(
                n <= q.len() + 16,
                "a slipped reply is no larger than the query"
            );
            truncated += 1;
        } else {
            assert_eq!(reply.answers.len(), 1);
            full += 1;
        }
    }
    assert!(full >= 20, "the burst is served ({full})");
    assert!(full <= 30, "200 queries in ~0.1 s got {full} answers");
    assert!(truncated >= 1, "limited queries slip TC=1 replies");
    assert!(full + truncated < 200, "some limited queries are dropped");
    // Another client is served; the first is served again once its bucket refills.
    let other = strict(&udp_raw_from("127.0.0.3:0", server.udp, &q).await);
    assert_eq!(other.answers.len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    socket.send_to(&q, server.udp).await.unwrap();
    let (n, _) = socket.recv_from(&mut buf).await.unwrap();
    assert_eq!(strict(&buf[..n]).answers.len(), 1);
    server.shutdown().await;
}

/// The rate limiter's table is bounded: a flood from 100,000 spoofed addresses
/// tracks at most `clients_max` of them, the rest share one bucket (so together
/// they get one client's rate), and a known client keeps its own budget.
#[test]
fn the_rate_limiter_table_is_bounded() {
    use dns::{RateLimiter, RateVerdict};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let mut limiter = RateLimiter::new(10, 10, 1000);
    let now = std::time::Instant::now();
    let known = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(limiter.check(known, now), RateVerdict::Answer);
    let mut answered = 0;
    for i in 0..100_000u32 {
        let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        if limiter.check(ip, now) == RateVerdict::Answer {
            answered += 1;
        }
        assert!(limiter.clients() <= 1000);
    }
    // 999 tracked clients answered once each, and the overflow bucket's burst.
    assert!(answered <= 999 + 10, "{answered} answered");
    assert_eq!(limiter.check(known, now), RateVerdict::Answer);
    // Once idle clients have refilled, a full table is swept for newcomers.
    let later = now + std::time::Duration::from_secs(5);
    let newcomer = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    assert_eq!(limiter.check(newcomer, later), RateVerdict::Answer);
    assert_eq!(limiter.clients(), 1, "the refilled clients were swept");
    // IPv6 clients are counted per /56: one site's addresses share a bucket.
    let mut limiter = RateLimiter::new(1, 3, 1000);
    let site = |low: u64| {
        IpAddr::V6(Ipv6Addr::from(
            (0x2001_0db8_0000_0000u128 << 64) | u128::from(low),
        ))
    };
    let verdicts: Vec<_> = (0..5).map(|i| limiter.check(site(i), now)).collect();
    assert_eq!(verdicts[..3], [RateVerdict::Answer; 3]);
    assert_ne!(verdicts[3], RateVerdict::Answer);
    assert_eq!(limiter.clients(), 1);
}
