//! The naming namespace (`naming_*`): names with their records, reverse lookup,
//! events and prices.

use ghostd_types::api::{NameEventView, NameView, NamingApiServer, RecordView, RpcResult};
use ghostplane_primitives::PublicKey;
use ghostplane_rpc::{internal, invalid_params as invalid};

use ghostd_module::ChainView;
use ghostd_types::naming::NamingParams;

use crate as naming;

/// The `naming_*` handlers, over the chain's committed state.
pub struct NamingRpc {
    chain: ChainView,
    params: NamingParams,
}

impl NamingRpc {
    /// Handlers over `chain`, whose genesis has naming `params`.
    pub fn new(chain: ChainView, params: NamingParams) -> Self {
        Self { chain, params }
    }
}

#[jsonrpsee::core::async_trait]
impl NamingApiServer for NamingRpc {
    fn resolve(&self, name: String) -> RpcResult<Option<NameView>> {
        let height = self.chain.head_number();
        let params = &self.params;
        self.chain
            .read(|s| {
                let Some((record, state, records)) = naming::resolve(s, &name, height, params)?
                else {
                    return Ok(None);
                };
                let did_linked = naming::did_linked(s, &record.name, &records)?;
                Ok(Some(NameView {
                    node: hex::encode(ghostd_types::naming::namehash(&record.name).0),
                    name: record.name,
                    owner: record.owner.to_hex(),
                    manager: record.manager.map(|m| m.to_hex()),
                    expires: record.expires,
                    registered: record.registered,
                    state: state.as_str().to_string(),
                    records: records.iter().map(RecordView::from).collect(),
                    did_linked,
                    height,
                }))
            })
            .map_err(|e: ghostd_module::state::StateError| internal(e))
    }

    fn reverse(&self, key: String) -> RpcResult<Option<String>> {
        let key = PublicKey::from_hex(key.strip_prefix("0x").unwrap_or(&key))
            .map_err(|_| invalid(format!("{key:?} is not a 32-byte hex key")))?;
        let height = self.chain.head_number();
        self.chain
            .read(|s| naming::reverse(s, &key, height, &self.params))
            .map_err(internal)
    }

    fn events(&self, name: String, from: u32, max: u32) -> RpcResult<Vec<NameEventView>> {
        let normalized =
            ghostd_types::naming::normalize(&name).map_err(|e| invalid(e.to_string()))?;
        let hash = ghostd_types::naming::namehash(&normalized);
        let events = self
            .chain
            .read(|s| naming::events(s, &hash, from, max))
            .map_err(internal)?;
        Ok(events.iter().map(NameEventView::from).collect())
    }

    fn price(&self, name: String, years: u32) -> RpcResult<String> {
        let normalized =
            ghostd_types::naming::normalize(&name).map_err(|e| invalid(e.to_string()))?;
        self.params
            .price_of(&normalized, years)
            .map(|p| p.to_string())
            .ok_or_else(|| invalid("price overflows"))
    }
}
