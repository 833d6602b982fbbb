//! TCP connection slots: a cap in all and per client.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::client_prefix;
use super::tcp_slot::TcpSlot;

/// Counts open TCP connections, in all and per client ([`client_prefix`]); a
/// connection holds a [`TcpSlot`] and gives it back when dropped. The per-client
/// table only holds clients with a connection open, so it is bounded by the total.
#[derive(Debug)]
pub(crate) struct TcpSlots {
    total_max: usize,
    per_client_max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl TcpSlots {
    pub(crate) fn new(total_max: usize, per_client_max: usize) -> Arc<Self> {
        Arc::new(Self {
            total_max,
            per_client_max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a connection from `ip`, if both caps allow one.
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr) -> Option<TcpSlot> {
        let client = client_prefix(ip);
        let mut open = self.open.lock().ok()?;
        let total: usize = open.values().sum();
        let mine = open.get(&client).copied().unwrap_or(0);
        if total >= self.total_max || mine >= self.per_client_max {
            return None;
        }
        *open.entry(client).or_insert(0) += 1;
        Some(TcpSlot::new(Arc::clone(self), client))
    }

    /// Gives back a slot of `client` (its [`TcpSlot`] was dropped).
    pub(super) fn release(&self, client: IpAddr) {
        if let Ok(mut open) = self.open.lock()
            && let Some(count) = open.get_mut(&client)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(&client);
            }
        }
    }
}
