//! How a reply travels.

/// How a reply travels, which sets its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// A datagram: at most min(the client's EDNS size, [`UDP_PAYLOAD_MAX`](super::UDP_PAYLOAD_MAX)) bytes,
    /// [`UDP_PAYLOAD_MIN`](super::UDP_PAYLOAD_MIN) without EDNS.
    Udp,
    /// A rate-limited datagram: always the TC=1 form, the answer never looked up.
    UdpSlip,
    /// TCP or DoH: up to 65,535 bytes.
    Stream,
}
