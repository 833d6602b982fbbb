//! JSON-RPC ids over real sockets, HTTP and WebSocket: a number is echoed as sent,
//! anything else is `-32600` with `id: null`, and a batch keeps its other calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use ghostplane_rpc::{HEALTH_METHOD, Limits, serve};
use jsonrpsee::server::RpcModule;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

async fn server() -> SocketAddr {
    let mut module = RpcModule::new(());
    module
        .register_method(HEALTH_METHOD, |_, _, _| "ok")
        .unwrap();
    module
        .register_method("echo", |params, _, _| {
            params.one::<Value>().unwrap_or(Value::Null)
        })
        .unwrap();
    module
        .register_subscription("sub", "tick", "unsub", |_, pending, _, _| async move {
            let sink = pending.accept().await?;
            for i in 0..3 {
                sink.send(serde_json::value::to_raw_value(&i)?).await?;
            }
            Ok(())
        })
        .unwrap();
    let (handle, addr) = serve(
        "127.0.0.1:0".parse().unwrap(),
        Limits::with_body(4096),
        module,
    )
    .await
    .unwrap();
    std::mem::forget(handle); // serves until the test process ends
    addr
}

async fn http(addr: SocketAddr, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    (status, body.to_string())
}

type Ws = (
    soketto::connection::Sender<tokio_util::compat::Compat<tokio::net::TcpStream>>,
    soketto::connection::Receiver<tokio_util::compat::Compat<tokio::net::TcpStream>>,
);

async fn ws(addr: SocketAddr) -> Ws {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let host = addr.to_string();
    let mut client = soketto::handshake::Client::new(stream.compat(), &host, "/");
    match client.handshake().await.unwrap() {
        soketto::handshake::ServerResponse::Accepted { .. } => {}
        other => panic!("upgrade refused: {other:?}"),
    }
    client.into_builder().finish()
}

async fn ws_call((tx, rx): &mut Ws, body: &str) -> String {
    tx.send_text(body).await.unwrap();
    tx.flush().await.unwrap();
    let mut message = Vec::new();
    rx.receive_data(&mut message).await.unwrap();
    String::from_utf8(message).unwrap()
}

/// The cases, each with the reply it must get: `(request, reply id as sent, ok)`.
fn cases() -> Vec<(String, &'static str, bool)> {
    let call = |id: &str| format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{HEALTH_METHOD}"}}"#);
    vec![
        (call("7"), "7", true),
        (call(r#""s""#), r#""s""#, true),
        (call("1.5"), "1.5", true),
        (call("-3"), "-3", true),
        (call("18446744073709551616"), "18446744073709551616", true),
        (call("1e3"), "1e3", true),
        (call("true"), "null", false),
        (call("[1]"), "null", false),
        (call(r#"{"a":1}"#), "null", false),
        (
            format!(r#"{{"jsonrpc":"2.0","id":1,"id":2,"method":"{HEALTH_METHOD}"}}"#),
            "null",
            false,
        ),
    ]
}

fn check(reply: &str, id: &str, ok: bool, request: &str) {
    assert!(
        reply.contains(&format!(r#""id":{id}"#)),
        "{request} → {reply}"
    );
    let value: Value = serde_json::from_str(reply).unwrap();
    if ok {
        assert_eq!(value["result"], "ok", "{request} → {reply}");
    } else {
        assert_eq!(value["error"]["code"], -32600, "{request} → {reply}");
    }
}

#[tokio::test]
async fn single_calls_get_spec_replies_over_http_and_websocket() {
    let addr = server().await;
    let mut socket = ws(addr).await;
    for (request, id, ok) in cases() {
        let (status, reply) = http(addr, &request).await;
        assert_eq!(status, 200, "{request}");
        check(&reply, id, ok, &request);
        check(&ws_call(&mut socket, &request).await, id, ok, &request);
    }
}

#[tokio::test]
async fn a_batch_answers_every_call_in_order() {
    let addr = server().await;
    let cases = cases();
    let batch = format!(
        "[{}]",
        cases
            .iter()
            .map(|(request, _, _)| request.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut socket = ws(addr).await;
    for reply in [
        http(addr, &batch).await.1,
        ws_call(&mut socket, &batch).await,
    ] {
        let replies: Vec<&serde_json::value::RawValue> = serde_json::from_str(&reply).unwrap();
        assert_eq!(replies.len(), cases.len(), "{reply}");
        for (reply, (request, id, ok)) in replies.iter().zip(&cases) {
            check(reply.get(), id, *ok, request);
        }
    }
}

#[tokio::test]
async fn the_relay_keeps_params_subscriptions_and_limits() {
    let addr = server().await;
    // Params pass through the rewrite untouched, and a marker inside them is data.
    let request = r#"{"jsonrpc":"2.0","id":0.5,"method":"echo","params":["\u0000#9"]}"#;
    let (_, reply) = http(addr, request).await;
    assert_eq!(reply, r#"{"jsonrpc":"2.0","id":0.5,"result":"\u0000#9"}"#);

    // A subscription through the WebSocket relay, with a carried id.
    let mut socket = ws(addr).await;
    let reply = ws_call(&mut socket, r#"{"jsonrpc":"2.0","id":2.5,"method":"sub"}"#).await;
    assert!(reply.contains(r#""id":2.5"#), "{reply}");
    let mut ticks = Vec::new();
    for _ in 0..3 {
        let mut message = Vec::new();
        socket.1.receive_data(&mut message).await.unwrap();
        let value: Value = serde_json::from_slice(&message).unwrap();
        ticks.push(value["params"]["result"].clone());
    }
    assert_eq!(ticks, [0, 1, 2]);

    // The body bound still holds: 413 over HTTP, a typed error over WebSocket.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"echo","params":["{}"]}}"#,
        "x".repeat(5000)
    );
    let (status, _) = http(addr, &big).await;
    assert_eq!(status, 413);
    let reply = ws_call(&mut socket, &big).await;
    assert!(reply.contains("-32007"), "{reply}");
    // Not JSON: a parse error, as jsonrpsee gives it.
    let (_, reply) = http(addr, "{nope").await;
    assert!(reply.contains("-32700"), "{reply}");
    let reply = ws_call(&mut socket, "{nope").await;
    assert!(reply.contains("-32700"), "{reply}");
}
