//! `ghostplane-bench identity`: loads a running ghostd's identity service and prints
//! one line: `resolves_per_s=… p50_ms=… p99_ms=… verifies_per_s=… verify_p50_ms=…
//! verify_p99_ms=… errors=…`.
//!
//! 1. Creates the signer's DID if it has none (an L1 transaction) and signs one
//!    access token with its `#key-1` locally. 2. For `--duration-s`, `--connections`
//!    concurrent keep-alive HTTP clients `GET /1.0/identifiers/{did}` (the
//!    Universal Resolver driver route). 3. For as long again, as many JSON-RPC clients
//!    call `identity_verifyToken` on the token. Latency is per request, client side.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Args;
use ghostd_types::Call;
use ghostd_types::api::{IdentityApiClient, VerifyOptions};
use ghostd_types::identity::IdentityCall;
use ghostd_types::identity::jwt::{self, Audience, Claims, TokenKey};
use ghostplane::wallet;
use ghostplane_primitives::Keypair;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Options of `ghostplane-bench identity`.
#[derive(Args)]
pub struct IdentityBenchArgs {
    /// ghostd JSON-RPC (and resolver) address.
    #[arg(long, default_value = "127.0.0.1:8545")]
    l1: SocketAddr,
    /// Seconds of each phase (resolve, then verify).
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Development key whose DID is resolved and issues the token.
    #[arg(long, default_value_t = 0)]
    dev: u32,
}

/// Requests done and their latencies (µs).
pub(crate) struct Phase {
    latencies_us: Vec<u64>,
    pub(crate) errors: u64,
    elapsed: Duration,
}

impl Phase {
    pub(crate) fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub(crate) fn percentile_ms(&mut self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let index = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        self.latencies_us[index] as f64 / 1000.0
    }
}

/// Runs `connections` copies of `request` until `duration` has passed.
pub(crate) async fn phase<F, Fut>(connections: usize, duration: Duration, request: F) -> Phase
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                if request().await {
                    latencies.push(sent.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut out = Phase {
        latencies_us: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        if let Ok((latencies, errors)) = task.await {
            out.latencies_us.extend(latencies);
            out.errors += errors;
        }
    }
    out.elapsed = started.elapsed();
    out
}

/// Runs [`phase`] with plain-HTTP `GET uri` requests; a request succeeds when the
/// answer is `200` and its whole body arrives.
pub(crate) async fn http_get_phase(
    connections: usize,
    duration: Duration,
    uri: hyper::Uri,
) -> Phase {
    let http: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    phase(connections, duration, move || {
        let (http, uri) = (http.clone(), uri.clone());
        async move {
            match http.get(uri).await {
                Ok(response) if response.status() == 200 => {
                    response.into_body().collect().await.is_ok()
                }
                _ => false,
            }
        }
    })
    .await
}

/// The verifier the bench plays: the audience its tokens name.
fn bench_options() -> VerifyOptions {
    VerifyOptions {
        aud: Some("bench".into()),
        grantors: Vec::new(),
    }
}

/// Runs the bench.
pub async fn run(args: IdentityBenchArgs) -> Result<()> {
    let url = format!("http://{}", args.l1);
    let rpc = wallet::client(&url)?;
    let key = Keypair::dev(args.dev);
    let did = ghostplane::identity::did_of(&key);
    let resolved = rpc
        .resolve(did.to_string(), None)
        .await
        .map_err(wallet::l1_error)?;
    if resolved["didResolutionMetadata"]["error"] == "notFound" {
        eprintln!("creating {did}");
        let create = Call::Identity(IdentityCall::Create { soulbound: false });
        wallet::send_l1(&rpc, &key, create, Duration::from_secs(60)).await?;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let claims = Claims {
        iss: did.to_string(),
        sub: did.to_string(),
        aud: Audience::One("bench".into()),
        exp: now + 3600,
        nbf: now,
        iat: now,
        jti: format!("bench-{now}"),
        permissions: Vec::new(),
    };
    let token = jwt::sign(&claims, &format!("{did}#key-1"), &TokenKey::Ed25519(key));
    let verdict = rpc
        .verify_token(token.clone(), Some(bench_options()))
        .await
        .map_err(wallet::l1_error)?;
    if !verdict.valid {
        bail!(
            "the bench token does not verify ({}): is {did}#key-1 still dev{}'s key?",
            verdict.message.unwrap_or_default(),
            args.dev
        );
    }

    let duration = Duration::from_secs(args.duration_s);
    let uri: hyper::Uri = format!("{url}/1.0/identifiers/{did}")
        .parse()
        .context("resolver URI")?;
    let mut resolves = http_get_phase(args.connections, duration, uri).await;
    let mut verifies =
        phase(args.connections, duration, move || {
            let (rpc, token) = (rpc.clone(), token.clone());
            async move {
                matches!(rpc.verify_token(token, Some(bench_options())).await, Ok(v) if v.valid)
            }
        })
        .await;
    println!(
        "resolves_per_s={:.0} p50_ms={:.2} p99_ms={:.2} verifies_per_s={:.0} verify_p50_ms={:.2} verify_p99_ms={:.2} errors={}",
        resolves.rate(),
        resolves.percentile_ms(0.50),
        resolves.percentile_ms(0.99),
        verifies.rate(),
        verifies.percentile_ms(0.50),
        verifies.percentile_ms(0.99),
        resolves.errors + verifies.errors
    );
    Ok(())
}
