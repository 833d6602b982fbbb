//! Real DNS queries against a served ghostd: hickory's client over UDP and TCP, and
//! hickory-proto messages over plain sockets for what a client library hides
//! (NXDOMAIN, FORMERR), over UDP, TCP and DoH (RFC 8484 GET and POST, and the JSON
//! form). Registration →
//! A/TXT answers; NXDOMAIN; NODATA; the lifecycle (frozen names still answer,
//! released ones are NXDOMAIN, a re-registration starts with no records); a subname
//! dying with its parent; FORMERR for malformed queries; `Cache-Control` bounded by
//! the least TTL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Fixture, fixture_with};
use ghostd::dns::{self, NameServer};
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
        NameServer::new(f.node.clone()),
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
        .read(|s| {
            ghostd::modules::naming::record(s, &ghostd_types::naming::namehash("alice.ghost"))
        })
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
