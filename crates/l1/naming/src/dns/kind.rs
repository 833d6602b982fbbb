//! The cache's view of a question type.

use ghostd_types::naming::DnsKind;
use hickory_proto::rr::RecordType;

/// The question types that can have different answers; every other type shares
/// [`Kind::Other`] (it can only be NODATA, NXDOMAIN or a CNAME chain ending in
/// NODATA), so asking one name for 65,536 types makes one entry, not 65,536.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    A,
    Aaaa,
    Cname,
    Txt,
    Mx,
    Soa,
    Other,
}

impl Kind {
    pub(crate) fn of(record_type: RecordType) -> Self {
        match record_type {
            RecordType::A => Self::A,
            RecordType::AAAA => Self::Aaaa,
            RecordType::CNAME => Self::Cname,
            RecordType::TXT => Self::Txt,
            RecordType::MX => Self::Mx,
            RecordType::SOA => Self::Soa,
            _ => Self::Other,
        }
    }

    /// The naming module's record type, for the types it stores.
    pub(crate) fn stored(self) -> Option<DnsKind> {
        match self {
            Self::A => Some(DnsKind::A),
            Self::Aaaa => Some(DnsKind::Aaaa),
            Self::Cname => Some(DnsKind::Cname),
            Self::Txt => Some(DnsKind::Txt),
            Self::Mx => Some(DnsKind::Mx),
            Self::Soa | Self::Other => None,
        }
    }
}
