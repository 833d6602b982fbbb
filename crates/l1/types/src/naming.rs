//! The naming module's records and calls: names under the native TLDs (`.ghost`,
//! `.gcc`, `.warp`, `.arc`, `.gcp`), their normalization and hash, owners and
//! managers, expiry by L1 height, records (addresses, text, contenthash, DNS, DID),
//! and the module's parameters.
//!
//! **Normalization.** UTS-46 (non-transitional, STD3 rules) through the `idna`
//! crate, so the stored form is lowercase ASCII with `xn--` punycode for non-ASCII
//! labels. Then: labels of 1–63 bytes, names of at most 253; no empty label, no
//! leading or trailing hyphen; the last label is one of [`TLDS`]. Non-ASCII labels
//! must be "highly restrictive" under UTS-39 (one script, or an allowed CJK mix),
//! and must not be whole-script confusable with an ASCII label (their UTS-39
//! skeleton may not be all ASCII: `раураl` in Cyrillic is refused).
//!
//! **Hash** ([`namehash`]), ENS's scheme with blake3:
//! `node("") = [0; 32]`, `node(label.rest) = blake3("ghostd/naming/node" ‖
//! node(rest) ‖ blake3(label))`, over the normalized ASCII labels, right to left.

use std::net::{Ipv4Addr, Ipv6Addr};

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{Amount, PublicKey};

use crate::identity::DidId;

/// The native top-level names.
pub const TLDS: [&str; 5] = ["ghost", "gcc", "warp", "arc", "gcp"];
/// Longest label, bytes (normalized).
pub const LABEL_BYTES_MAX: usize = 63;
/// Longest name, bytes (normalized).
pub const NAME_BYTES_MAX: usize = 253;
/// Most records on a name.
pub const RECORDS_MAX: usize = 64;
/// Most bytes of all a name's records, encoded.
pub const RECORDS_BYTES_MAX: usize = 16 * 1024;
/// Longest text key, bytes.
pub const TEXT_KEY_BYTES_MAX: usize = 64;
/// Longest text value, bytes.
pub const TEXT_VALUE_BYTES_MAX: usize = 1024;
/// Longest address value, bytes.
pub const ADDR_BYTES_MAX: usize = 64;
/// Longest contenthash, bytes.
pub const CONTENTHASH_BYTES_MAX: usize = 128;
/// Longest DNS record value (a TXT string, a host), bytes.
pub const DNS_VALUE_BYTES_MAX: usize = 255;
/// Most years bought or renewed at once.
pub const YEARS_MAX: u32 = 10;

/// Coin type of an L2 account: the value is its 32-byte public key, then its
/// 4-byte account id (big endian).
pub const COIN_L2: u32 = 0x4748_0002;
/// Coin type of an L1 address: the value is the 32-byte address.
pub const COIN_L1: u32 = 0x4748_0001;

/// A name's hash (its state key).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct NameHash(pub [u8; 32]);

impl std::fmt::Debug for NameHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// UTS-46 refused it.
    #[error("{0:?} is not a valid domain name under UTS-46 (STD3)")]
    Invalid(String),
    /// An empty label.
    #[error("{0:?} has an empty label")]
    EmptyLabel(String),
    /// A label is too long.
    #[error("label {0:?} is longer than {LABEL_BYTES_MAX} bytes")]
    LabelTooLong(String),
    /// The name is too long.
    #[error("the name is longer than {NAME_BYTES_MAX} bytes")]
    NameTooLong,
    /// A label starts or ends with a hyphen.
    #[error("label {0:?} starts or ends with a hyphen")]
    Hyphen(String),
    /// Not under a native TLD, or a bare TLD.
    #[error("{0:?} is not under .ghost, .gcc, .warp, .arc or .gcp (register label.tld)")]
    OutsideTlds(String),
    /// Mixed scripts or confusable with an ASCII name.
    #[error("label {0:?} is confusable (mixed scripts, or it looks like an ASCII label)")]
    Confusable(String),
}

/// Normalizes `name` (see the module doc); returns the ASCII form.
pub fn normalize(name: &str) -> Result<String, NameError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.split('.').any(str::is_empty) {
        return Err(NameError::EmptyLabel(name.to_string()));
    }
    let ascii =
        idna::domain_to_ascii_strict(trimmed).map_err(|_| NameError::Invalid(name.to_string()))?;
    if ascii.len() > NAME_BYTES_MAX {
        return Err(NameError::NameTooLong);
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(NameError::EmptyLabel(name.to_string()));
        }
        if label.len() > LABEL_BYTES_MAX {
            return Err(NameError::LabelTooLong(label.to_string()));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(NameError::Hyphen(label.to_string()));
        }
        if let Some(puny) = label.strip_prefix("xn--") {
            let unicode = idna::punycode::decode_to_string(puny)
                .ok_or_else(|| NameError::Invalid(name.to_string()))?;
            if confusable(&unicode) {
                return Err(NameError::Confusable(unicode));
            }
        }
    }
    match labels.last() {
        Some(tld) if labels.len() >= 2 && TLDS.contains(tld) => Ok(ascii),
        _ => Err(NameError::OutsideTlds(name.to_string())),
    }
}

/// UTS-39: not highly restrictive, or a skeleton that is all ASCII (whole-script
/// confusable with an ASCII label).
fn confusable(label: &str) -> bool {
    use unicode_security::RestrictionLevel;
    use unicode_security::RestrictionLevelDetection;
    if !label.check_restriction_level(RestrictionLevel::HighlyRestrictive) {
        return true;
    }
    unicode_security::skeleton(label).all(|c| c.is_ascii())
}

/// The hash of a normalized name (see the module doc).
pub fn namehash(normalized: &str) -> NameHash {
    let mut node = [0u8; 32];
    if normalized.is_empty() {
        return NameHash(node);
    }
    for label in normalized.rsplit('.') {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"ghostd/naming/node");
        hasher.update(&node);
        hasher.update(blake3::hash(label.as_bytes()).as_bytes());
        node = *hasher.finalize().as_bytes();
    }
    NameHash(node)
}

/// The parent of a normalized name (`a.b.ghost` → `b.ghost`), if it has one below
/// the TLD.
pub fn parent(normalized: &str) -> Option<&str> {
    let (_, rest) = normalized.split_once('.')?;
    rest.contains('.').then_some(rest)
}

/// The module's parameters, fixed at genesis.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NamingParams {
    /// L1 blocks in a registration year.
    pub blocks_per_year: u64,
    /// Blocks after expiry in which only the owner may renew (then the name is
    /// released).
    pub grace_blocks: u64,
    /// GCC base units per year by label length: 1, 2, 3, 4, 5+ bytes.
    pub price_per_year: [Amount; 5],
}

impl Default for NamingParams {
    /// A year and a 90-day grace of 500 ms blocks; 5·10¹² GCC base units a year
    /// for labels of 5+ bytes, up to 640·10¹² for one byte (a devnet account holds
    /// 10¹⁸).
    fn default() -> Self {
        const UNIT: Amount = 1_000_000_000_000;
        let blocks_per_day = 2 * 60 * 60 * 24;
        Self {
            blocks_per_year: 365 * blocks_per_day,
            grace_blocks: 90 * blocks_per_day,
            price_per_year: [640 * UNIT, 160 * UNIT, 40 * UNIT, 10 * UNIT, 5 * UNIT],
        }
    }
}

impl NamingParams {
    /// The price of `years` for a name whose first label is `label_chars` Unicode
    /// code points long (see [`label_chars`]).
    pub fn price(&self, label_chars: usize, years: u32) -> Option<Amount> {
        let tier = label_chars.clamp(1, 5) - 1;
        self.price_per_year[tier].checked_mul(Amount::from(years))
    }

    /// The price of `years` of the normalized name `name`: by the length of its
    /// first label in Unicode code points, as ENS counts it, never by its punycode
    /// bytes (`ü.ghost` is `xn--tda.ghost`, a one-character name).
    pub fn price_of(&self, name: &str, years: u32) -> Option<Amount> {
        let label = name.split('.').next().unwrap_or(name);
        self.price(label_chars(label), years)
    }
}

/// The length of a normalized label in Unicode code points: an `xn--` label is
/// counted in its decoded form (an undecodable one by its bytes; [`normalize`]
/// refuses those).
pub fn label_chars(label: &str) -> usize {
    label
        .strip_prefix("xn--")
        .and_then(idna::punycode::decode_to_string)
        .map_or(label.len(), |unicode| unicode.chars().count())
}

/// A registered name (or subname).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NameRecord {
    /// The normalized name.
    pub name: String,
    /// Owner (its L1 key): transfers, sets the manager, creates subnames.
    pub owner: PublicKey,
    /// Manager: edits records besides the owner.
    pub manager: Option<PublicKey>,
    /// Height from which the name is expired (frozen, then in grace).
    pub expires: u64,
    /// Height of this registration.
    pub registered: u64,
    /// Registration count of this name: records are kept per generation, so a
    /// re-registered name starts empty.
    pub generation: u64,
    /// For a subname: the parent and the parent's generation it was made under.
    pub parent: Option<(NameHash, u64)>,
}

/// Where a name stands at a height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameState {
    /// Resolves; editable.
    Active,
    /// Past expiry, within grace: resolves, frozen; only the owner may renew.
    Grace,
    /// Released (or its parent is): NXDOMAIN, registrable again.
    Released,
}

impl NameState {
    /// `active`, `grace` or `released`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Grace => "grace",
            Self::Released => "released",
        }
    }
}

/// A DNS record type served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum DnsKind {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name.
    Cname,
    /// Text.
    Txt,
    /// Mail exchange: `preference host`.
    Mx,
}

impl DnsKind {
    /// Parses `A`, `AAAA`, `CNAME`, `TXT` or `MX` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "A" => Some(Self::A),
            "AAAA" => Some(Self::Aaaa),
            "CNAME" => Some(Self::Cname),
            "TXT" => Some(Self::Txt),
            "MX" => Some(Self::Mx),
            _ => None,
        }
    }

    /// The type's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Cname => "CNAME",
            Self::Txt => "TXT",
            Self::Mx => "MX",
        }
    }

    /// Whether `value` is a valid value of this type.
    pub fn valid(&self, value: &str) -> bool {
        let host = |h: &str| {
            let h = h.strip_suffix('.').unwrap_or(h);
            !h.is_empty()
                && h.len() <= NAME_BYTES_MAX
                && h.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= LABEL_BYTES_MAX
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        };
        value.len() <= DNS_VALUE_BYTES_MAX
            && match self {
                Self::A => value.parse::<Ipv4Addr>().is_ok(),
                Self::Aaaa => value.parse::<Ipv6Addr>().is_ok(),
                Self::Cname => host(value),
                Self::Txt => !value.is_empty() && value.bytes().all(|b| (0x20..0x7f).contains(&b)),
                Self::Mx => value
                    .split_once(' ')
                    .is_some_and(|(pref, h)| pref.parse::<u16>().is_ok() && host(h)),
            }
    }
}

/// A record on a name.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Record {
    /// An address for a coin type ([`COIN_L2`], [`COIN_L1`], or any other).
    Addr {
        /// Coin type.
        coin: u32,
        /// The address bytes.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::bytes")]
        value: Vec<u8>,
    },
    /// A text record (`avatar`, `url`, `email`, `com.github`, …).
    Text {
        /// Key.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        key: String,
        /// Value.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        value: String,
    },
    /// A contenthash (EIP-1577 bytes).
    Contenthash(
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::bytes")] Vec<u8>,
    ),
    /// A DNS record (several of one type may coexist).
    Dns {
        /// Type.
        kind: DnsKind,
        /// Value (its presentation form).
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        value: String,
        /// TTL, seconds.
        ttl: u32,
    },
    /// The name's DID.
    Did(DidId),
}

/// Which record(s) a `ClearRecord` removes.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RecordKey {
    /// The address of a coin type.
    Addr(u32),
    /// A text key.
    Text(#[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")] String),
    /// The contenthash.
    Contenthash,
    /// Every DNS record of a type.
    Dns(DnsKind),
    /// The DID.
    Did,
}

impl Record {
    /// The key it is stored under: setting a record replaces the one with the same
    /// key (DNS records of one type are keyed by their value too).
    pub fn same_slot(&self, other: &Record) -> bool {
        match (self, other) {
            (Self::Addr { coin: a, .. }, Self::Addr { coin: b, .. }) => a == b,
            (Self::Text { key: a, .. }, Self::Text { key: b, .. }) => a == b,
            (Self::Contenthash(_), Self::Contenthash(_)) | (Self::Did(_), Self::Did(_)) => true,
            (
                Self::Dns {
                    kind: a, value: va, ..
                },
                Self::Dns {
                    kind: b, value: vb, ..
                },
            ) => a == b && (va == vb || *a == DnsKind::Cname),
            _ => false,
        }
    }

    /// Whether `key` names it.
    pub fn matches(&self, key: &RecordKey) -> bool {
        match (self, key) {
            (Self::Addr { coin, .. }, RecordKey::Addr(c)) => coin == c,
            (Self::Text { key, .. }, RecordKey::Text(k)) => key == k,
            (Self::Contenthash(_), RecordKey::Contenthash) | (Self::Did(_), RecordKey::Did) => true,
            (Self::Dns { kind, .. }, RecordKey::Dns(k)) => kind == k,
            _ => false,
        }
    }
}

/// A call into the naming module. Names are given as typed (they are normalized);
/// every call is signed by the L1 key it names as owner, manager or payer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum NamingCall {
    /// Registers `label.tld` (free or released) for `owner`; the sender pays the
    /// price to the naming treasury.
    Register {
        /// The name.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        name: String,
        /// Its owner.
        owner: PublicKey,
        /// Years (1–10).
        years: u32,
    },
    /// Extends a name by `years` (anyone while active, the owner in grace; the
    /// sender pays). For a subname: its parent's owner moves its expiry to the
    /// parent's (years ignored, no fee).
    Renew {
        /// The name.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        name: String,
        /// Years (1–10).
        years: u32,
    },
    /// Gives the name to `to` (owner only, while active).
    Transfer {
        /// The name.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        name: String,
        /// The new owner.
        to: PublicKey,
    },
    /// Sets or clears the manager (owner only, while active).
    SetManager {
        /// The name.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        name: String,
        /// The manager.
        manager: Option<PublicKey>,
    },
    /// Creates (or takes back) `sub.parent` for `owner`; signed by the parent's
    /// owner. Its expiry is the parent's.
    CreateSubname {
        /// The full subname.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        name: String,
        /// Its owner.
        owner: PublicKey,
    },
    /// Sets a record (owner or manager, while active).
    SetRecord {
        /// The name.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        name: String,
        /// The record.
        record: Record,
    },
    /// Removes records (owner or manager, while active).
    ClearRecord {
        /// The name.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        name: String,
        /// Which.
        key: RecordKey,
    },
    /// Sets (or clears) the sender's primary name for reverse resolution.
    SetPrimary {
        /// The name.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::option_string")]
        name: Option<String>,
    },
}

/// Something that happened to a name.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NameEvent {
    /// L1 height.
    pub height: u64,
    /// `registered`, `renewed`, `transferred`, `manager`, `subname`, `record-set`,
    /// `record-cleared`.
    pub kind: String,
    /// Details for people.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_normalize_or_are_refused() {
        assert_eq!(normalize("Alice.GHOST").unwrap(), "alice.ghost");
        assert_eq!(normalize("alice.ghost.").unwrap(), "alice.ghost");
        assert_eq!(normalize("bücher.ghost").unwrap(), "xn--bcher-kva.ghost");
        assert_eq!(normalize("pay.alice.warp").unwrap(), "pay.alice.warp");
        for (bad, why) in [
            ("alice.eth", "outside"),
            ("ghost", "outside"),
            ("a..ghost", "empty"),
            ("-alice.ghost", "hyphen"),
            ("alice-.ghost", "hyphen"),
            ("al ice.ghost", "invalid"),
            // Cyrillic "раураl" mixed with a Latin l, and all-Cyrillic look-alikes.
            ("раураl.ghost", "confusable"),
            ("рау.ghost", "confusable"),
        ] {
            let error = normalize(bad).unwrap_err();
            let text = format!("{error:?}").to_lowercase();
            let matched = match why {
                "outside" => matches!(error, NameError::OutsideTlds(_)),
                "empty" => matches!(error, NameError::EmptyLabel(_)),
                "hyphen" => matches!(error, NameError::Hyphen(_) | NameError::Invalid(_)),
                "invalid" => matches!(error, NameError::Invalid(_)),
                _ => matches!(error, NameError::Confusable(_)),
            };
            assert!(matched, "{bad}: {text}");
        }
        let long = format!("{}.ghost", "a".repeat(64));
        assert!(normalize(&long).is_err());
    }

    #[test]
    fn namehash_chains_labels_right_to_left() {
        let ghost = namehash("ghost");
        let alice = namehash("alice.ghost");
        assert_ne!(ghost, alice);
        assert_ne!(alice, namehash("alice.gcc"));
        assert_eq!(namehash(""), NameHash([0; 32]));
        assert_eq!(parent("pay.alice.ghost"), Some("alice.ghost"));
        assert_eq!(parent("alice.ghost"), None);
    }

    #[test]
    fn dns_values_are_checked() {
        assert!(DnsKind::A.valid("10.0.0.1"));
        assert!(!DnsKind::A.valid("::1"));
        assert!(DnsKind::Aaaa.valid("::1"));
        assert!(DnsKind::Mx.valid("10 mail.example.com"));
        assert!(!DnsKind::Mx.valid("mail.example.com"));
        assert!(DnsKind::Cname.valid("alice.example.com."));
        assert!(!DnsKind::Txt.valid("bad\u{7}"));
    }
}
