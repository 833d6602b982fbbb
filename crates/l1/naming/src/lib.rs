//! # ghostd-naming
//!
//! The naming module of ghostd: names under the native TLDs with owners, managers, expiry by
//! L1 height (active → frozen grace → released), subnames, records, reverse
//! (primary) names and an event log per name. Names, hashing and records are
//! defined in `ghostd_types::naming`.
//!
//! State (prefix `naming`):
//!
//! | key | value |
//! | --- | --- |
//! | `name/<namehash>` | [`NameRecord`] |
//! | `records/<namehash>/<generation>` | the records of one registration |
//! | `events/<namehash>/<n>` (u32 BE), `eventcount/<namehash>` | [`NameEvent`] log |
//! | `primary/<L1 key>` | the key's primary name (`Option<String>`) |
//!
//! Rules:
//! - A registration is `label.tld`, paid in GCC to the naming treasury in the same
//!   transaction; renewals by anyone while active, by the owner only in grace.
//! - Expired names still resolve but are frozen (no record edits, transfers or
//!   manager changes); after the grace they are released: they no longer resolve
//!   and may be registered anew, under a new generation, so old records never
//!   reach the new owner.
//! - A subname is made by its parent's owner; its expiry is the parent's, and it
//!   dies with the parent's registration (a released or re-registered parent).
//!   Once given to another key, a live subname is that key's: the parent's owner
//!   cannot re-create (take back) it. ENS lets a parent replace a subname until the
//!   parent burns the subname's PARENT_CANNOT_CONTROL fuse; here that fuse is
//!   burnt for every subname from its creation, and there is no fuse to unburn it.
//! - Expiry never shortens.
//! - A transfer clears the manager: the new owner appoints its own.
//!
//! The chain drives it as [`Naming`], a [`Module`]; it pays its fees through the
//! [`Payments`] it is given (the ledger's), and offers [`Names`] (its
//! [`NameResolver`]) to the ledger for `.ghost` receivers: neither imports the
//! other. Result codes: [`NamingError::code`].
//!
//! Layout: this file (rules, state, the [`Naming`] module), `rpc` (the `naming_*`
//! namespace of `ghostd_types::api::NamingApi`, over a [`ChainView`]), [`dns`]
//! (the authoritative DNS server over UDP, TCP and DNS over HTTPS, answering from
//! the same state). Its wire types and RPC trait live in `ghostd_types` (clients
//! link no node code). Its tests: `tests/naming.rs` and `tests/dns.rs`, through a
//! real node, its RPC server and real sockets.

use ghostd_types::identity::DidId;
use ghostd_types::naming::{
    ADDR_BYTES_MAX, COIN_L1, COIN_L2, CONTENTHASH_BYTES_MAX, NameError, NameEvent, NameHash,
    NameRecord, NameState, NamingCall, NamingParams, RECORDS_BYTES_MAX, RECORDS_MAX, Record,
    TEXT_KEY_BYTES_MAX, TEXT_VALUE_BYTES_MAX, YEARS_MAX, namehash, normalize, parent,
};
use ghostplane_primitives::codec::to_bytes;
use ghostplane_primitives::{Amount, Hash32, L1Address, PublicKey, TokenId};

use std::sync::Arc;

use ghostd_types::ledger::{LedgerTransfer, TransferCode, naming_treasury, system_transfer_id};

use ghostd_identity as identity;
use ghostd_module::{
    Applied, ApplyResult, CallContext, ChainView, Module, ModuleFailure, Names, PaymentError,
    Payments, misrouted,
};
use ghostd_types::api::NamingApiServer;
use ghostplane_rpc::routes::GetRoute;
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;

pub mod dns;
mod rpc;

use ghostd_module::state::{self, Layer, Read, StateError};
use ghostd_types::tx::{Call, ModuleId};
pub use rpc::NamingRpc;

const PREFIX: &str = "naming";
/// Most events returned by one query.
pub const EVENTS_PER_QUERY_MAX: u32 = 256;

/// Why a naming call was refused.
#[derive(Debug, thiserror::Error)]
pub enum NamingError {
    /// The name is malformed.
    #[error(transparent)]
    Name(#[from] NameError),
    /// Registration is for `label.tld`; deeper names are subnames.
    #[error("{0} is a subname: its parent's owner creates it (CreateSubname)")]
    NotSecondLevel(String),
    /// Not a subname.
    #[error("{0} is not a subname (label.label.tld); register it instead")]
    NotSubname(String),
    /// A live subname another key owns: its parent cannot take it back.
    #[error(
        "{0} is a live subname owned by another key: its parent's owner gave it away and cannot take it back (every subname's PARENT_CANNOT_CONTROL fuse is burnt)"
    )]
    SubnameGivenAway(String),
    /// The name is registered and not released.
    #[error("{0} is registered until it is released")]
    Taken(String),
    /// No live registration.
    #[error("{0} is not registered (or was released)")]
    NotRegistered(String),
    /// The name is expired: frozen until renewed.
    #[error("{0} is expired and frozen; its owner may renew it during the grace period")]
    Frozen(String),
    /// The sender may not do this.
    #[error("the sender is not the {role} of {name}")]
    NotAuthorized {
        /// Owner, owner or manager, or parent owner.
        role: &'static str,
        /// The name.
        name: String,
    },
    /// Years out of range.
    #[error("years must be 1-{YEARS_MAX}")]
    Years,
    /// A record is invalid.
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// Too many records or bytes.
    #[error("a name holds at most {RECORDS_MAX} records and {RECORDS_BYTES_MAX} bytes of them")]
    TooManyRecords,
    /// Nothing to clear.
    #[error("{0} has no such record")]
    NoSuchRecord(String),
    /// A height overflowed.
    #[error("expiry height overflows")]
    Overflow,
    /// The fee could not be paid.
    #[error("fee: {0}")]
    Fee(#[from] PaymentError),
    /// State could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

impl NamingError {
    /// The stable result code receipts carry (`L1Outcome::Failed { module: naming,
    /// code }`); never reused or renumbered: 1 malformed name, 2 not a second-level
    /// name, 3 not a subname, 4 subname given away, 5 taken, 6 not registered, 7
    /// frozen, 8 not authorized, 9 years out of range, 10 invalid record, 11 too
    /// many records, 12 no such record, 13 overflow, 14 fee not paid (the message
    /// says why), 15 storage.
    pub fn code(&self) -> u16 {
        match self {
            Self::Name(_) => 1,
            Self::NotSecondLevel(_) => 2,
            Self::NotSubname(_) => 3,
            Self::SubnameGivenAway(_) => 4,
            Self::Taken(_) => 5,
            Self::NotRegistered(_) => 6,
            Self::Frozen(_) => 7,
            Self::NotAuthorized { .. } => 8,
            Self::Years => 9,
            Self::InvalidRecord(_) => 10,
            Self::TooManyRecords => 11,
            Self::NoSuchRecord(_) => 12,
            Self::Overflow => 13,
            Self::Fee(_) => 14,
            Self::State(_) => 15,
        }
    }
}

impl ModuleFailure for NamingError {
    const MODULE: ModuleId = ModuleId::NAMING;

    fn result_code(&self) -> u16 {
        self.code()
    }

    fn into_storage(self) -> Result<StateError, Self> {
        match self {
            Self::State(e) | Self::Fee(PaymentError::Storage(e)) => Ok(e),
            e => Err(e),
        }
    }
}

/// What a naming call runs against.
pub struct NamingContext<'a> {
    /// The module's parameters (genesis).
    pub params: &'a NamingParams,
    /// This block's height.
    pub height: u64,
    /// The transaction's hash (the fee transfer's id derives from it).
    pub tx_hash: Hash32,
    /// The verified sender.
    pub from: PublicKey,
    /// Where fees are paid (the ledger).
    pub payments: &'a dyn Payments,
}

fn name_key(hash: &NameHash) -> Vec<u8> {
    state::key(PREFIX, &[b"name", &hash.0])
}

fn records_key(hash: &NameHash, generation: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"records", &hash.0, &generation.to_be_bytes()])
}

fn event_key(hash: &NameHash, n: u32) -> Vec<u8> {
    state::key(PREFIX, &[b"events", &hash.0, &n.to_be_bytes()])
}

fn event_count_key(hash: &NameHash) -> Vec<u8> {
    state::key(PREFIX, &[b"eventcount", &hash.0])
}

fn primary_key(key: &PublicKey) -> Vec<u8> {
    state::key(PREFIX, &[b"primary", &key.0])
}

/// A name's stored record (live or not).
pub fn record(state: &dyn Read, hash: &NameHash) -> Result<Option<NameRecord>, StateError> {
    state::get(state, &name_key(hash))
}

/// The records of one registration.
pub fn records(
    state: &dyn Read,
    hash: &NameHash,
    generation: u64,
) -> Result<Vec<Record>, StateError> {
    Ok(state::get(state, &records_key(hash, generation))?.unwrap_or_default())
}

fn own_state(expires: u64, height: u64, params: &NamingParams) -> NameState {
    if height < expires {
        NameState::Active
    } else if height < expires.saturating_add(params.grace_blocks) {
        NameState::Grace
    } else {
        NameState::Released
    }
}

fn worse(a: NameState, b: NameState) -> NameState {
    let rank = |s| match s {
        NameState::Active => 0,
        NameState::Grace => 1,
        NameState::Released => 2,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// Where `record` stands at `height` (a subname's state is at best its parent's).
pub fn state_of(
    state: &dyn Read,
    record: &NameRecord,
    height: u64,
    params: &NamingParams,
) -> Result<NameState, StateError> {
    let own = own_state(record.expires, height, params);
    let Some((parent_hash, generation)) = record.parent else {
        return Ok(own);
    };
    let parent_state = match self::record(state, &parent_hash)? {
        Some(p) if p.generation == generation => state_of(state, &p, height, params)?,
        _ => NameState::Released,
    };
    Ok(worse(own, parent_state))
}

/// A live name: its record, state and records; `None` if unregistered or released.
pub fn resolve(
    state: &dyn Read,
    name: &str,
    height: u64,
    params: &NamingParams,
) -> Result<Option<(NameRecord, NameState, Vec<Record>)>, StateError> {
    let Ok(normalized) = normalize(name) else {
        return Ok(None);
    };
    let hash = namehash(&normalized);
    let Some(record) = record(state, &hash)? else {
        return Ok(None);
    };
    let name_state = state_of(state, &record, height, params)?;
    if name_state == NameState::Released {
        return Ok(None);
    }
    let records = records(state, &hash, record.generation)?;
    Ok(Some((record, name_state, records)))
}

/// Whether `name`'s DID record and that DID's `alsoKnownAs` (`dns:<name>`) agree.
pub fn did_linked(state: &dyn Read, name: &str, records: &[Record]) -> Result<bool, StateError> {
    let Some(did) = did_of(records) else {
        return Ok(false);
    };
    let uri = format!("dns:{name}");
    Ok(identity::record(state, &did)?
        .is_some_and(|r| !r.deactivated && r.document.also_known_as.contains(&uri)))
}

/// The primary name of `key`, if it is set, live, and its address points back
/// (an L1 address record, or an L2 account record, of this key).
pub fn reverse(
    state: &dyn Read,
    key: &PublicKey,
    height: u64,
    params: &NamingParams,
) -> Result<Option<String>, StateError> {
    let Some(Some(name)) = state::get::<Option<String>>(state, &primary_key(key))? else {
        return Ok(None);
    };
    let Some((_, _, records)) = resolve(state, &name, height, params)? else {
        return Ok(None);
    };
    let points_back = records.iter().any(|r| match r {
        Record::Addr { coin, value } if *coin == COIN_L1 => value.as_slice() == key.0,
        Record::Addr { coin, value } if *coin == COIN_L2 => value.get(..32) == Some(&key.0[..]),
        _ => false,
    });
    Ok(points_back.then_some(name))
}

/// Events of `hash` from index `from`, at most `max` (≤ [`EVENTS_PER_QUERY_MAX`]).
pub fn events(
    state: &dyn Read,
    hash: &NameHash,
    from: u32,
    max: u32,
) -> Result<Vec<NameEvent>, StateError> {
    let count: u32 = state::get(state, &event_count_key(hash))?.unwrap_or(0);
    let until = count.min(from.saturating_add(max.min(EVENTS_PER_QUERY_MAX)));
    let mut out = Vec::new();
    for n in from..until {
        if let Some(event) = state::get(state, &event_key(hash, n))? {
            out.push(event);
        }
    }
    Ok(out)
}

fn emit(
    state: &mut Layer<'_>,
    hash: &NameHash,
    height: u64,
    kind: &str,
    detail: String,
) -> Result<(), StateError> {
    let count: u32 = state::get(state, &event_count_key(hash))?.unwrap_or(0);
    state.put(
        event_key(hash, count),
        &NameEvent {
            height,
            kind: kind.to_string(),
            detail,
        },
    );
    state.put(event_count_key(hash), &count.saturating_add(1));
    Ok(())
}

fn check_years(years: u32) -> Result<(), NamingError> {
    if years == 0 || years > YEARS_MAX {
        return Err(NamingError::Years);
    }
    Ok(())
}

/// `from` plus `years` of blocks.
fn extend(from: u64, params: &NamingParams, years: u32) -> Result<u64, NamingError> {
    params
        .blocks_per_year
        .checked_mul(u64::from(years))
        .and_then(|blocks| from.checked_add(blocks))
        .ok_or(NamingError::Overflow)
}

/// Pays the price of `years` of `name` from the sender to the treasury.
fn pay(
    state: &mut Layer<'_>,
    ctx: &NamingContext<'_>,
    name: &str,
    years: u32,
) -> Result<Amount, NamingError> {
    let price = ctx
        .params
        .price_of(name, years)
        .ok_or(NamingError::Overflow)?;
    if price > 0 {
        ctx.payments.post(
            state,
            &LedgerTransfer::posted(
                system_transfer_id(&[b"naming-fee", &ctx.tx_hash.0]),
                L1Address(ctx.from.0),
                naming_treasury(),
                TokenId::Gcc,
                price,
                TransferCode::NameFee,
                ctx.height,
            ),
        )?;
    }
    Ok(price)
}

fn live(
    state: &dyn Read,
    name: &str,
    ctx: &NamingContext<'_>,
) -> Result<(NameHash, NameRecord, NameState), NamingError> {
    let normalized = normalize(name)?;
    let hash = namehash(&normalized);
    let record =
        record(state, &hash)?.ok_or_else(|| NamingError::NotRegistered(normalized.clone()))?;
    let name_state = state_of(state, &record, ctx.height, ctx.params)?;
    if name_state == NameState::Released {
        return Err(NamingError::NotRegistered(normalized));
    }
    Ok((hash, record, name_state))
}

fn active(
    state: &dyn Read,
    name: &str,
    ctx: &NamingContext<'_>,
) -> Result<(NameHash, NameRecord), NamingError> {
    let (hash, record, name_state) = live(state, name, ctx)?;
    if name_state != NameState::Active {
        return Err(NamingError::Frozen(record.name));
    }
    Ok((hash, record))
}

fn check_record(record: &Record) -> Result<(), NamingError> {
    let invalid = |why: &str| Err(NamingError::InvalidRecord(why.to_string()));
    match record {
        Record::Addr { coin, value } => {
            if value.is_empty() || value.len() > ADDR_BYTES_MAX {
                return invalid("an address is 1-64 bytes");
            }
            if *coin == COIN_L1 && value.len() != 32 {
                return invalid("an L1 address is 32 bytes");
            }
            if *coin == COIN_L2 && value.len() != 36 {
                return invalid("an L2 address is a 32-byte key and a 4-byte account id");
            }
        }
        Record::Text { key, value } => {
            if key.is_empty()
                || key.len() > TEXT_KEY_BYTES_MAX
                || value.len() > TEXT_VALUE_BYTES_MAX
            {
                return invalid("text keys are 1-64 bytes, values at most 1024");
            }
        }
        Record::Contenthash(bytes) => {
            if bytes.is_empty() || bytes.len() > CONTENTHASH_BYTES_MAX {
                return invalid("a contenthash is 1-128 bytes");
            }
        }
        Record::Dns { kind, value, .. } => {
            if !kind.valid(value) {
                return invalid(&format!("{value:?} is not a valid {} value", kind.as_str()));
            }
        }
        Record::Did(_) => {}
    }
    Ok(())
}

/// A new holding of `name` (registered, or created as a subname of `parent`):
/// `owner`'s, without a manager, from `height` until `expires`, one generation
/// past `previous` (the released holding it replaces, if any).
fn new_holding(
    name: String,
    owner: PublicKey,
    expires: u64,
    height: u64,
    parent: Option<(NameHash, u64)>,
    previous: Option<NameRecord>,
) -> NameRecord {
    NameRecord {
        name,
        owner,
        manager: None,
        expires,
        registered: height,
        generation: previous.map_or(0, |p| p.generation + 1),
        parent,
    }
}

/// Applies `call`.
pub fn apply(
    state: &mut Layer<'_>,
    ctx: &NamingContext<'_>,
    call: &NamingCall,
) -> Result<(), NamingError> {
    let height = ctx.height;
    match call {
        NamingCall::Register { name, owner, years } => {
            check_years(*years)?;
            let normalized = normalize(name)?;
            if parent(&normalized).is_some() {
                return Err(NamingError::NotSecondLevel(normalized));
            }
            let hash = namehash(&normalized);
            let previous = record(state, &hash)?;
            if let Some(previous) = &previous
                && state_of(state, previous, height, ctx.params)? != NameState::Released
            {
                return Err(NamingError::Taken(normalized));
            }
            let price = pay(state, ctx, &normalized, *years)?;
            let expires = extend(height, ctx.params, *years)?;
            let record = new_holding(normalized, *owner, expires, height, None, previous);
            let generation = record.generation;
            state.put(name_key(&hash), &record);
            emit(
                state,
                &hash,
                height,
                "registered",
                format!(
                    "owner {} until block {expires} (generation {generation}, paid {price})",
                    owner.to_hex()
                ),
            )?;
        }
        NamingCall::Renew { name, years } => {
            let (hash, mut record, name_state) = live(state, name, ctx)?;
            if let Some((parent_hash, _)) = record.parent {
                let parent = self::record(state, &parent_hash)?
                    .ok_or_else(|| NamingError::NotRegistered(record.name.clone()))?;
                if parent.owner != ctx.from {
                    return Err(NamingError::NotAuthorized {
                        role: "parent's owner",
                        name: record.name,
                    });
                }
                record.expires = record.expires.max(parent.expires);
            } else {
                check_years(*years)?;
                if name_state == NameState::Grace && record.owner != ctx.from {
                    return Err(NamingError::NotAuthorized {
                        role: "owner (only the owner renews in the grace period)",
                        name: record.name,
                    });
                }
                pay(state, ctx, &record.name, *years)?;
                record.expires = extend(record.expires, ctx.params, *years)?;
            }
            let expires = record.expires;
            state.put(name_key(&hash), &record);
            emit(
                state,
                &hash,
                height,
                "renewed",
                format!("until block {expires}"),
            )?;
        }
        NamingCall::Transfer { name, to } => {
            let (hash, mut record) = owned(state, name, ctx, "owner")?;
            record.owner = *to;
            // The manager was the old owner's choice: left in place, it could
            // still edit the records (point the payment address at itself).
            record.manager = None;
            state.put(name_key(&hash), &record);
            emit(
                state,
                &hash,
                height,
                "transferred",
                format!("to {}", to.to_hex()),
            )?;
        }
        NamingCall::SetManager { name, manager } => {
            let (hash, mut record) = owned(state, name, ctx, "owner")?;
            record.manager = *manager;
            state.put(name_key(&hash), &record);
            let detail = manager.map_or("cleared".into(), |m| m.to_hex());
            emit(state, &hash, height, "manager", detail)?;
        }
        NamingCall::CreateSubname { name, owner } => {
            let normalized = normalize(name)?;
            let parent_name =
                parent(&normalized).ok_or_else(|| NamingError::NotSubname(normalized.clone()))?;
            let (parent_hash, parent) = owned(state, parent_name, ctx, "parent's owner")?;
            let hash = namehash(&normalized);
            let previous = record(state, &hash)?;
            // Given away, a live subname is its owner's (ENS's PARENT_CANNOT_CONTROL
            // fuse, burnt for every subname): re-creating it would take its owner's
            // name and records.
            if let Some(previous) = &previous
                && previous.owner != ctx.from
                && state_of(state, previous, height, ctx.params)? != NameState::Released
            {
                return Err(NamingError::SubnameGivenAway(normalized));
            }
            let parent_of = Some((parent_hash, parent.generation));
            let record = new_holding(
                normalized,
                *owner,
                parent.expires,
                height,
                parent_of,
                previous,
            );
            state.put(name_key(&hash), &record);
            emit(
                state,
                &hash,
                height,
                "subname",
                format!("owner {} until block {}", owner.to_hex(), parent.expires),
            )?;
        }
        NamingCall::SetRecord { name, record: new } => {
            let (hash, record) = editable(state, name, ctx)?;
            check_record(new)?;
            let mut all = records(state, &hash, record.generation)?;
            match all.iter_mut().find(|r| r.same_slot(new)) {
                Some(slot) => *slot = new.clone(),
                None => all.push(new.clone()),
            }
            if all.len() > RECORDS_MAX || to_bytes(&all).len() > RECORDS_BYTES_MAX {
                return Err(NamingError::TooManyRecords);
            }
            state.put(records_key(&hash, record.generation), &all);
            emit(state, &hash, height, "record-set", format!("{new:?}"))?;
        }
        NamingCall::ClearRecord { name, key } => {
            let (hash, record) = editable(state, name, ctx)?;
            let mut all = records(state, &hash, record.generation)?;
            let before = all.len();
            all.retain(|r| !r.matches(key));
            if all.len() == before {
                return Err(NamingError::NoSuchRecord(record.name));
            }
            state.put(records_key(&hash, record.generation), &all);
            emit(state, &hash, height, "record-cleared", format!("{key:?}"))?;
        }
        NamingCall::SetPrimary { name } => {
            let normalized = match name {
                Some(name) => {
                    let (_, record, _) = live(state, name, ctx)?;
                    Some(record.name)
                }
                None => None,
            };
            state.put(primary_key(&ctx.from), &normalized);
        }
    }
    Ok(())
}

/// An active name whose owner is the sender (`role` names the owner in the error).
fn owned(
    state: &dyn Read,
    name: &str,
    ctx: &NamingContext<'_>,
    role: &'static str,
) -> Result<(NameHash, NameRecord), NamingError> {
    let (hash, record) = active(state, name, ctx)?;
    if record.owner != ctx.from {
        return Err(NamingError::NotAuthorized {
            role,
            name: record.name,
        });
    }
    Ok((hash, record))
}

/// An active name whose owner or manager is the sender.
fn editable(
    state: &dyn Read,
    name: &str,
    ctx: &NamingContext<'_>,
) -> Result<(NameHash, NameRecord), NamingError> {
    let (hash, record) = active(state, name, ctx)?;
    if record.owner != ctx.from && record.manager != Some(ctx.from) {
        return Err(NamingError::NotAuthorized {
            role: "owner or manager",
            name: record.name,
        });
    }
    Ok((hash, record))
}

/// The DID a name's records name, if any.
fn did_of(records: &[Record]) -> Option<DidId> {
    records.iter().find_map(|r| match r {
        Record::Did(did) => Some(*did),
        _ => None,
    })
}

/// Names as the ledger resolves them (`.ghost` receivers): the [`Names`] service
/// over the genesis's naming parameters. Apart from [`Naming`] (which needs the
/// ledger's [`Payments`]) so that the ledger can be built first.
#[derive(Debug, Clone, Default)]
pub struct NameResolver(pub NamingParams);

impl Names for NameResolver {
    fn resolve_l1(
        &self,
        state: &dyn Read,
        name: &str,
        height: u64,
    ) -> Result<Option<(String, Option<L1Address>)>, StateError> {
        Ok(
            resolve(state, name, height, &self.0)?.map(|(record, _, records)| {
                let address = records.iter().find_map(|r| match r {
                    Record::Addr { coin, value } if *coin == COIN_L1 => {
                        <[u8; 32]>::try_from(value.as_slice()).ok().map(L1Address)
                    }
                    _ => None,
                });
                (record.name, address)
            }),
        )
    }
}

/// The naming module as the chain drives it.
pub struct Naming {
    params: NamingParams,
    payments: Arc<dyn Payments>,
}

impl Naming {
    /// Names under `params` (the genesis's), paid for through `payments`.
    pub fn new(params: NamingParams, payments: Arc<dyn Payments>) -> Self {
        Self { params, payments }
    }
}

impl Module for Naming {
    fn id(&self) -> ModuleId {
        ModuleId::NAMING
    }

    fn apply(&self, state: &mut Layer<'_>, ctx: &CallContext, call: &Call) -> ApplyResult {
        let Call::Naming(call) = call else {
            return Err(misrouted(ModuleId::NAMING, call));
        };
        let naming = NamingContext {
            params: &self.params,
            height: ctx.block.number,
            tx_hash: ctx.tx_hash,
            from: ctx.from,
            payments: self.payments.as_ref(),
        };
        apply(state, &naming, call)?;
        Ok(Applied::default())
    }

    /// The `naming_*` namespace.
    fn rpc(&self, chain: &ChainView) -> Result<Option<RpcModule<()>>, RegisterMethodError> {
        let rpc = NamingRpc::new(chain.clone(), self.params.clone());
        Ok(Some(rpc.into_rpc().remove_context()))
    }

    /// DNS over HTTPS: `/dns-query` and `/resolve` ([`dns::doh_routes`]).
    fn http_routes(&self, chain: &ChainView) -> Vec<GetRoute> {
        dns::doh_routes(dns::NameServer::new(chain.clone(), self.params.clone()))
    }
}
