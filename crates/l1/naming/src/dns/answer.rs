//! One answer, as the cache keeps it and every transport renders it.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Record;
use hickory_proto::serialize::binary::BinEncodable;

use super::NEGATIVE_TTL;

/// One answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// NOERROR, NXDOMAIN, REFUSED or SERVFAIL.
    pub code: ResponseCode,
    /// Answer records: the asked name's, or a CNAME chain and its last name's.
    pub answers: Vec<Record>,
    /// The zone's SOA, for negative answers.
    pub soa: Option<Record>,
}

impl Answer {
    /// An answer with no records.
    pub fn empty(code: ResponseCode) -> Self {
        Self {
            code,
            answers: Vec::new(),
            soa: None,
        }
    }

    /// The TTL a cache may keep this answer: the least of its records', or the
    /// negative TTL.
    pub fn max_age(&self) -> u32 {
        self.answers
            .iter()
            .map(|r| r.ttl)
            .chain(self.soa.as_ref().map(|_| NEGATIVE_TTL))
            .min()
            .unwrap_or(NEGATIVE_TTL)
    }

    /// What holding it costs, estimated: the struct and, per record, its struct and
    /// its wire size (names and data are held about as long as they encode).
    pub fn bytes_estimate(&self) -> usize {
        let record = |r: &Record| {
            std::mem::size_of::<Record>() + r.to_bytes().map_or(usize::from(u16::MAX), |b| b.len())
        };
        std::mem::size_of::<Self>()
            + self.answers.iter().map(record).sum::<usize>()
            + self.soa.as_ref().map_or(0, record)
    }
}
