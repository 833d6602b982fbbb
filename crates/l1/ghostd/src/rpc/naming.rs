//! The naming namespace (`naming_*`): names with their records, reverse lookup,
//! events and prices.

use ghostd_types::api::{NameEventView, NameView, NamingApiServer, RecordView, RpcResult};
use ghostplane_primitives::PublicKey;
use ghostplane_rpc::{internal, invalid_params as invalid};

use crate::modules::naming;
use crate::node::Ghostd;

/// The `naming_*` handlers, over the node.
pub(super) struct NamingRpc {
    node: Ghostd,
}

impl NamingRpc {
    /// Handlers over `node`.
    pub(super) fn new(node: Ghostd) -> Self {
        Self { node }
    }
}

#[jsonrpsee::core::async_trait]
impl NamingApiServer for NamingRpc {
    fn resolve(&self, name: String) -> RpcResult<Option<NameView>> {
        let height = self.node.head().number;
        let params = &self.node.genesis().naming;
        self.node
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
            .map_err(|e: crate::state::StateError| internal(e))
    }

    fn reverse(&self, key: String) -> RpcResult<Option<String>> {
        let key = PublicKey::from_hex(key.strip_prefix("0x").unwrap_or(&key))
            .map_err(|_| invalid(format!("{key:?} is not a 32-byte hex key")))?;
        let height = self.node.head().number;
        self.node
            .read(|s| naming::reverse(s, &key, height, &self.node.genesis().naming))
            .map_err(internal)
    }

    fn events(&self, name: String, from: u32, max: u32) -> RpcResult<Vec<NameEventView>> {
        let normalized =
            ghostd_types::naming::normalize(&name).map_err(|e| invalid(e.to_string()))?;
        let hash = ghostd_types::naming::namehash(&normalized);
        let events = self
            .node
            .read(|s| naming::events(s, &hash, from, max))
            .map_err(internal)?;
        Ok(events.iter().map(NameEventView::from).collect())
    }

    fn price(&self, name: String, years: u32) -> RpcResult<String> {
        let normalized =
            ghostd_types::naming::normalize(&name).map_err(|e| invalid(e.to_string()))?;
        self.node
            .genesis()
            .naming
            .price_of(&normalized, years)
            .map(|p| p.to_string())
            .ok_or_else(|| invalid("price overflows"))
    }
}
