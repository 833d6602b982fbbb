//! Prometheus metrics: every crate records through the `metrics` facade
//! (`metrics::counter!`, `gauge!`, `histogram!`); a binary calls [`serve_metrics`]
//! once to install the recorder and serve `GET /metrics` (Prometheus text format,
//! any path) on its own port (default 127.0.0.1:9100). Without it, recording is a
//! no-op. Metric names start with `ghostplane_`; histograms of durations are in
//! seconds.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

/// Why metrics could not be served.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The exporter could not start (address taken, or a recorder is already
    /// installed in this process).
    #[error("metrics endpoint on {addr}: {reason}")]
    Start {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// Installs the process-wide recorder and serves it on `addr`. Must run inside a
/// tokio runtime (the endpoint is a task on it). One per process.
pub fn serve_metrics(addr: SocketAddr) -> Result<(), MetricsError> {
    let fail = |reason: String| MetricsError::Start { addr, reason };
    // Histograms as true Prometheus histograms (bucketed), so dashboards can
    // aggregate them. Durations (`*_seconds`): 50 µs to 10 s, roughly ×2.5 apart,
    // plus 30 s and 60 s for proving. Everything else counts things (block items,
    // batch and group sizes): 1 to 65 536, ×4 apart.
    let seconds = [
        0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
        0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ];
    let sizes = [
        1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16_384.0, 65_536.0,
    ];
    let (recorder, exporter) = PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&sizes)
        .map_err(|e| fail(e.to_string()))?
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
        .map_err(|e| fail(e.to_string()))?
        .build()
        .map_err(|e| fail(e.to_string()))?;
    metrics::set_global_recorder(recorder).map_err(|e| fail(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = exporter.await {
            tracing::error!("metrics endpoint stopped: {e:?}");
        }
    });
    Ok(())
}
