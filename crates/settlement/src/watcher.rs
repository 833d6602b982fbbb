//! The deposit watcher: reads the L1 deposit queue and hands new deposits to the
//! sequencer, in queue order, from the first one the L2 has not consumed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ghostplane_primitives::clock::SharedClock;

use ghostplane_sequencer::{DepositFeed, DepositFeedError};

use ghostd_types::client::L1Client;

/// Deposits read per L1 call.
const READ_MAX: u64 = 256;
/// If handed-over deposits are not consumed for this long, hand them over again.
const RESEND_AFTER: Duration = Duration::from_secs(10);

/// Runs until `stop` is set, polling every `poll`.
pub async fn run_deposit_watcher<C: L1Client>(
    client: Arc<C>,
    feed: DepositFeed,
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
            Err(e) => tracing::warn!("deposit watcher: L2 store: {e}"),
        }
        match client.deposits(handed, READ_MAX).await {
            Ok(deposits) => {
                for deposit in deposits {
                    match feed.push(deposit) {
                        Ok(()) => handed += 1,
                        Err(DepositFeedError::Full(_)) => break,
                        Err(DepositFeedError::Stopped) => {
                            tracing::warn!(
                                "deposit watcher: the sequencer stopped; no more deposits are fed"
                            );
                            return;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("deposit watcher: {e}"),
        }
        tokio::time::sleep(poll).await;
    }
}
