//! The L1 queue watchers: read an L1 queue (deposits, forced withdrawals) and hand
//! new events to the sequencer, in queue order, from the first one the L2 has not
//! consumed.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ghostplane_primitives::clock::SharedClock;
use ghostplane_primitives::{DepositEvent, ForcedWithdrawalEvent};

use ghostplane_sequencer::{FeedError, L1Feed, QueuedEvent};

use ghostd_types::client::{L1Client, L1Error};

/// Events read per L1 call.
const READ_MAX: u64 = 256;
/// If handed-over events are not consumed for this long, hand them over again.
const RESEND_AFTER: Duration = Duration::from_secs(10);

/// An L1 queue a watcher reads.
pub trait WatchedQueue: QueuedEvent + Sized {
    /// Up to `max` events from queue index `from`.
    fn read<C: L1Client>(
        client: &C,
        from: u64,
        max: u64,
    ) -> impl Future<Output = Result<Vec<Self>, L1Error>> + Send;
}

impl WatchedQueue for DepositEvent {
    fn read<C: L1Client>(
        client: &C,
        from: u64,
        max: u64,
    ) -> impl Future<Output = Result<Vec<Self>, L1Error>> + Send {
        client.deposits(from, max)
    }
}

impl WatchedQueue for ForcedWithdrawalEvent {
    fn read<C: L1Client>(
        client: &C,
        from: u64,
        max: u64,
    ) -> impl Future<Output = Result<Vec<Self>, L1Error>> + Send {
        client.forced_withdrawals(from, max)
    }
}

/// Watches the deposit queue until `stop` is set, polling every `poll`.
pub async fn run_deposit_watcher<C: L1Client>(
    client: Arc<C>,
    feed: L1Feed<DepositEvent>,
    poll: Duration,
    clock: SharedClock,
    stop: Arc<AtomicBool>,
) {
    run_queue_watcher(client, feed, poll, clock, stop).await;
}

/// Watches the forced-withdrawal queue until `stop` is set, polling every `poll`.
pub async fn run_forced_watcher<C: L1Client>(
    client: Arc<C>,
    feed: L1Feed<ForcedWithdrawalEvent>,
    poll: Duration,
    clock: SharedClock,
    stop: Arc<AtomicBool>,
) {
    run_queue_watcher(client, feed, poll, clock, stop).await;
}

/// Runs until `stop` is set, polling every `poll`.
pub async fn run_queue_watcher<C: L1Client, E: WatchedQueue>(
    client: Arc<C>,
    feed: L1Feed<E>,
    poll: Duration,
    clock: SharedClock,
    stop: Arc<AtomicBool>,
) {
    let mut handed = 0u64;
    let mut progress = clock.now();
    let mut last_consumed = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match feed.consumed_next() {
            Ok(consumed) => {
                if consumed != last_consumed {
                    last_consumed = consumed;
                    progress = clock.now();
                }
                if handed < consumed
                    || (handed > consumed
                        && feed.waiting() == 0
                        && clock.now().saturating_duration_since(progress) > RESEND_AFTER)
                {
                    handed = consumed;
                    progress = clock.now();
                }
            }
            Err(e) => tracing::warn!("{} watcher: L2 store: {e}", E::QUEUE),
        }
        match E::read(client.as_ref(), handed, READ_MAX).await {
            Ok(events) => {
                for event in events {
                    match feed.push(event) {
                        Ok(()) => handed += 1,
                        Err(FeedError::Full(_)) => break,
                        Err(FeedError::Stopped) => {
                            tracing::warn!(
                                "{} watcher: the sequencer stopped; no more events are fed",
                                E::QUEUE
                            );
                            return;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("{} watcher: {e}", E::QUEUE),
        }
        tokio::time::sleep(poll).await;
    }
}
