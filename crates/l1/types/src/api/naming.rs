//! The naming namespace (`naming_*`): names, reverse lookup, events and prices,
//! and the views it answers with.

use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

use super::RpcResult;
use crate::naming::{NameEvent, Record};

/// A record of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RecordView {
    /// An address (`value` hex).
    Addr {
        /// Coin type.
        coin: u32,
        /// Hex.
        value: String,
    },
    /// A text record.
    Text {
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// A contenthash (hex).
    Contenthash {
        /// Hex.
        value: String,
    },
    /// A DNS record.
    Dns {
        /// `A`, `AAAA`, `CNAME`, `TXT` or `MX`.
        kind: String,
        /// Presentation form.
        value: String,
        /// Seconds.
        ttl: u32,
    },
    /// A DID.
    Did {
        /// The DID.
        value: String,
    },
}

impl From<&Record> for RecordView {
    fn from(record: &Record) -> Self {
        match record {
            Record::Addr { coin, value } => Self::Addr {
                coin: *coin,
                value: hex::encode(value),
            },
            Record::Text { key, value } => Self::Text {
                key: key.clone(),
                value: value.clone(),
            },
            Record::Contenthash(bytes) => Self::Contenthash {
                value: hex::encode(bytes),
            },
            Record::Dns { kind, value, ttl } => Self::Dns {
                kind: kind.as_str().to_string(),
                value: value.clone(),
                ttl: *ttl,
            },
            Record::Did(did) => Self::Did {
                value: did.to_string(),
            },
        }
    }
}

/// A live name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameView {
    /// Normalized name.
    pub name: String,
    /// Its namehash (hex).
    pub node: String,
    /// Owner's L1 key (hex).
    pub owner: String,
    /// Manager's L1 key (hex).
    pub manager: Option<String>,
    /// Height from which it is expired.
    pub expires: u64,
    /// Height of this registration.
    pub registered: u64,
    /// `active` or `grace` (frozen).
    pub state: String,
    /// Records.
    pub records: Vec<RecordView>,
    /// Whether the `did` record and the DID's `alsoKnownAs` (`dns:<name>`) agree.
    pub did_linked: bool,
    /// The head height of the answer.
    pub height: u64,
}

/// An event of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameEventView {
    /// L1 height.
    pub height: u64,
    /// Kind.
    pub kind: String,
    /// Details.
    pub detail: String,
}

impl From<&NameEvent> for NameEventView {
    fn from(event: &NameEvent) -> Self {
        Self {
            height: event.height,
            kind: event.kind.clone(),
            detail: event.detail.clone(),
        }
    }
}

/// The `naming` namespace.
#[rpc(server, client, namespace = "naming")]
pub trait NamingApi {
    /// A live name with its records (`null` if unregistered or released).
    #[method(name = "resolve")]
    fn resolve(&self, name: String) -> RpcResult<Option<NameView>>;

    /// The primary name of an L1 key, if its address record points back.
    #[method(name = "reverse")]
    fn reverse(&self, key: String) -> RpcResult<Option<String>>;

    /// A name's events from index `from`.
    #[method(name = "events")]
    fn events(&self, name: String, from: u32, max: u32) -> RpcResult<Vec<NameEventView>>;

    /// What registering or renewing `name` for `years` costs (GCC base units).
    #[method(name = "price")]
    fn price(&self, name: String, years: u32) -> RpcResult<String>;
}
