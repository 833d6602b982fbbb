//! [`WalWriter`], the WAL stage: group commit (one fsync per batch), the "accepted"
//! replies, and the release of admitted transactions to the builder in sequence
//! order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, select};

use super::{Ordered, STOP_POLL, StatusSink, WalMsg};
use crate::api::TxStatus;
use crate::config::SequencerConfig;
use crate::error::SubmitError;
use crate::wal::{Wal, WalOp};

/// The WAL stage, the only writer of the [`Wal`] once replay is done: records what
/// admission sends in groups of up to `wal_batch_max` (one fsync each), with the
/// deletions the builder asks for, then acknowledges and passes released
/// transactions to the builder.
pub(super) struct WalWriter {
    pub(super) config: Arc<SequencerConfig>,
    pub(super) wal: Wal,
    pub(super) input: Receiver<WalMsg>,
    /// Sequence numbers of executed transactions, a list per committed block.
    pub(super) trims: Receiver<Vec<u64>>,
    pub(super) builder: Sender<Ordered>,
    pub(super) statuses: StatusSink,
}

impl WalWriter {
    /// Runs until a channel closes, a write fails (durability can no longer be
    /// promised), or `stop` is set while idle.
    pub(super) fn run(self, stop: &AtomicBool) {
        let Self {
            config,
            wal,
            input,
            trims,
            builder,
            statuses,
        } = self;
        let mut group: Vec<WalMsg> = Vec::with_capacity(config.wal_batch_max);
        let mut deletes: Vec<u64> = Vec::new();
        let accepted = metrics::counter!("ghostplane_sequencer_accepted_total");
        let group_size = metrics::histogram!("ghostplane_sequencer_wal_group_size");
        let write_seconds = metrics::histogram!("ghostplane_sequencer_wal_write_seconds");
        let depth = metrics::gauge!("ghostplane_sequencer_queue_depth", "stage" => "wal");
        loop {
            select! {
                recv(input) -> message => match message {
                    Ok(message) => group.push(message),
                    Err(_) => return,
                },
                recv(trims) -> trim => match trim {
                    Ok(trim) => deletes.extend(trim),
                    Err(_) => return,
                },
                default(STOP_POLL) => {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    continue;
                }
            }
            while group.len() < config.wal_batch_max {
                match input.try_recv() {
                    Ok(message) => group.push(message),
                    Err(_) => break,
                }
            }
            while let Ok(trim) = trims.try_recv() {
                deletes.extend(trim);
            }
            let ops = group
                .iter()
                .filter_map(|message| match message {
                    WalMsg::Admit { seq, item, .. } => {
                        Some(WalOp::Put(*seq, item.bytes.as_slice()))
                    }
                    WalMsg::Forget { seq } => Some(WalOp::Delete(*seq)),
                    WalMsg::Release { .. } => None,
                })
                .chain(deletes.iter().map(|seq| WalOp::Delete(*seq)));
            group_size.record(group.len() as f64);
            depth.set(input.len() as f64);
            let write_started = Instant::now();
            let written = wal.write(ops);
            write_seconds.record(write_started.elapsed().as_secs_f64());
            if let Err(e) = written {
                // Durability cannot be promised: refuse everything in the group and stop.
                tracing::error!("{e}; the sequencer stops accepting transactions");
                for message in group.drain(..) {
                    if let WalMsg::Admit { mut item, .. } = message {
                        item.answer(Err(SubmitError::Unavailable(e.to_string())));
                    }
                }
                return;
            }
            deletes.clear();
            let mut acknowledged = 0u64;
            for message in group.drain(..) {
                let ordered = match message {
                    WalMsg::Admit {
                        seq,
                        mut item,
                        release,
                    } => {
                        statuses.publish(item.hash, TxStatus::Accepted);
                        // Replayed items have no client and were counted before.
                        acknowledged += u64::from(item.reply.is_some());
                        item.answer(Ok(item.hash));
                        if !release {
                            continue;
                        }
                        Ordered {
                            seq,
                            hash: item.hash,
                            sender: item.tx.tx.from(),
                            _permit: item.permit.take(),
                            received: item.received,
                            tx: item.tx,
                        }
                    }
                    WalMsg::Release {
                        seq,
                        hash,
                        tx,
                        permit,
                        received,
                    } => Ordered {
                        seq,
                        hash,
                        sender: tx.tx.from(),
                        tx,
                        received,
                        _permit: permit,
                    },
                    WalMsg::Forget { .. } => continue,
                };
                if builder.send(ordered).is_err() {
                    return;
                }
            }
            accepted.increment(acknowledged);
        }
    }
}
