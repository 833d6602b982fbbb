//! One open TCP connection's slot.

use std::net::IpAddr;
use std::sync::Arc;

use super::tcp_slots::TcpSlots;

/// One open connection's slot, given back to its [`TcpSlots`] when dropped.
#[derive(Debug)]
pub(crate) struct TcpSlot {
    slots: Arc<TcpSlots>,
    client: IpAddr,
}

impl TcpSlot {
    pub(super) fn new(slots: Arc<TcpSlots>, client: IpAddr) -> Self {
        Self { slots, client }
    }
}

impl Drop for TcpSlot {
    fn drop(&mut self) {
        self.slots.release(self.client);
    }
}
