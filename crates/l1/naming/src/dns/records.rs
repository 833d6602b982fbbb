//! Naming-module records as DNS records.

use ghostd_types::naming::DnsKind;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record};

use super::NEGATIVE_TTL;

/// The SOA of `tld` (its serial: the head height, mod 2^32).
pub(crate) fn soa(tld: &str, serial: u64) -> Option<Record> {
    let zone = Name::from_ascii(format!("{tld}.")).ok()?;
    let mname = Name::from_ascii(format!("ns.{tld}.")).ok()?;
    let rname = Name::from_ascii(format!("hostmaster.{tld}.")).ok()?;
    let rdata = SOA::new(mname, rname, serial as u32, 3600, 600, 86_400, NEGATIVE_TTL);
    Some(Record::from_rdata(zone, NEGATIVE_TTL, RData::SOA(rdata)))
}

/// A host name in presentation form as an absolute name.
pub(crate) fn host(value: &str) -> Option<Name> {
    Name::from_ascii(if value.ends_with('.') {
        value.to_string()
    } else {
        format!("{value}.")
    })
    .ok()
}

/// The record data of a stored value (`None` if it does not parse: the module
/// checks values at set time, so this is a guard, not a path).
pub(crate) fn rdata(kind: DnsKind, value: &str) -> Option<RData> {
    Some(match kind {
        DnsKind::A => RData::A(A(value.parse().ok()?)),
        DnsKind::Aaaa => RData::AAAA(AAAA(value.parse().ok()?)),
        DnsKind::Cname => RData::CNAME(CNAME(host(value)?)),
        DnsKind::Txt => RData::TXT(TXT::new(vec![value.to_string()])),
        DnsKind::Mx => {
            let (preference, exchange) = value.split_once(' ')?;
            RData::MX(MX::new(preference.parse().ok()?, host(exchange)?))
        }
    })
}
