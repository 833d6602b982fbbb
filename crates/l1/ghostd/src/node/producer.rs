//! The single-validator block producer: seals on a fixed interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Ghostd;

/// The running block producer; stops when dropped or [`Producer::stop`]ped.
pub struct Producer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Producer {
    /// Starts sealing blocks on `node`: one every `interval`, until stopped or a
    /// block fails to seal.
    pub(super) fn start(node: Ghostd, interval: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("ghostd-producer".into())
            .spawn(move || {
                let mut next = Instant::now() + interval;
                while !flag.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    if now < next {
                        std::thread::sleep((next - now).min(Duration::from_millis(50)));
                        continue;
                    }
                    next += interval;
                    if let Err(e) = node.seal() {
                        tracing::error!("L1 block production stopped: {e}");
                        return;
                    }
                }
            })
            .ok();
        Self { stop, thread }
    }

    /// Stops after the block being sealed, if any.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.halt();
    }
}
