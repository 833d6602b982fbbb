//! The ledger namespace (`ledger_*`): accounts, transfers, supply and the
//! audit-trail pages; owners are given as hex, `did:ghost` or a name.

use ghostd_types::api::{
    BalanceView, EntryView, HistoryPage, LedgerAccountView, LedgerApiServer, PageOptions,
    RpcResult, SupplyView, TransferView, TransfersPage,
};
use ghostd_types::ledger::{PAGE_LIMIT_MAX, Payee};
use ghostplane_primitives::{L1Address, TokenId};
use ghostplane_rpc::{internal, invalid_params as invalid};
use jsonrpsee::types::ErrorObjectOwned;

use std::sync::Arc;

use ghostd_module::state::StateError;
use ghostd_module::{ChainView, Names, parse_address};

use crate as ledger;

fn parse_token(text: &str) -> Result<TokenId, ErrorObjectOwned> {
    TokenId::from_symbol(text).ok_or_else(|| {
        invalid(format!(
            "unknown token {text:?}: use GCC, SPIRIT, MANA or GHOST"
        ))
    })
}

/// The `ledger_*` handlers, over the chain's committed state.
pub struct LedgerRpc {
    chain: ChainView,
    names: Arc<dyn Names>,
}

impl LedgerRpc {
    /// Handlers over `chain`, resolving names through `names`.
    pub fn new(chain: ChainView, names: Arc<dyn Names>) -> Self {
        Self { chain, names }
    }
}

impl LedgerApiServer for LedgerRpc {
    fn get_account(&self, address: String, token: String) -> RpcResult<LedgerAccountView> {
        let address = parse_address(&address)?;
        let token = parse_token(&token)?;
        let account = self
            .chain
            .read(|s| ledger::account(s, &address, token))
            .map_err(internal)?;
        Ok(LedgerAccountView::new(&address, token, &account))
    }

    fn get_transfer(&self, id: String) -> RpcResult<Option<TransferView>> {
        let id: u128 = id
            .parse()
            .map_err(|_| invalid("transfer id must be a decimal u128 string"))?;
        let found = self
            .chain
            .read(|s| -> Result<_, StateError> {
                let Some(transfer) = ledger::transfer_by_id(s, id)? else {
                    return Ok(None);
                };
                Ok(Some((transfer, ledger::pending_status(s, id)?)))
            })
            .map_err(internal)?;
        Ok(found.map(|(t, status)| TransferView::new(&t, status)))
    }

    fn supply(&self, token: String) -> RpcResult<SupplyView> {
        let token = parse_token(&token)?;
        let (totals, issued, issuer) = self
            .chain
            .read(|s| -> Result<_, StateError> {
                Ok((
                    ledger::totals(s, token)?,
                    ledger::account(s, &ledger::issuer(), token)?,
                    ledger::issuer_of(s, token)?,
                ))
            })
            .map_err(internal)?;
        Ok(SupplyView {
            token: token.symbol().to_string(),
            supply: totals.supply.to_string(),
            issued: issued.debits_posted.to_string(),
            burned: issued.credits_posted.to_string(),
            issuer: issuer.map(|i| i.to_string()),
        })
    }

    fn get_account_transfers(
        &self,
        owner: String,
        token: String,
        options: Option<PageOptions>,
    ) -> RpcResult<TransfersPage> {
        let owner = self.owner(&owner)?;
        let token = parse_token(&token)?;
        let (entries, next_cursor) = self
            .chain
            .read(|s| -> Result<_, StateError> {
                let (entries, next) = ledger::account_entries(s, &owner, token, page(options))?;
                let mut out = Vec::with_capacity(entries.len());
                for (seq, t) in entries {
                    let status = ledger::pending_status(s, t.id)?;
                    out.push(EntryView {
                        seq,
                        transfer: TransferView::new(&t, status),
                    });
                }
                Ok((out, next))
            })
            .map_err(internal)?;
        Ok(TransfersPage {
            entries,
            next_cursor,
        })
    }

    fn get_account_history(
        &self,
        owner: String,
        token: String,
        options: Option<PageOptions>,
    ) -> RpcResult<HistoryPage> {
        let owner = self.owner(&owner)?;
        let token = parse_token(&token)?;
        let (balances, next_cursor) = self
            .chain
            .read(|s| ledger::account_history(s, &owner, token, page(options)))
            .map_err(internal)?;
        Ok(HistoryPage {
            balances: balances
                .iter()
                .map(|(seq, b)| BalanceView::new(*seq, b))
                .collect(),
            next_cursor,
        })
    }
}

/// The trail page `options` ask for (without a limit: the most a page holds).
fn page(options: Option<PageOptions>) -> ledger::PageQuery {
    let options = options.unwrap_or_default();
    ledger::PageQuery {
        from_block: options.from_block,
        cursor: options.cursor,
        limit: options.limit.unwrap_or(PAGE_LIMIT_MAX),
    }
}

impl LedgerRpc {
    /// An account owner given as a hex address, a `did:ghost` or a name (resolved
    /// at the head).
    fn owner(&self, text: &str) -> Result<L1Address, ErrorObjectOwned> {
        let payee = Payee::parse(text).ok_or_else(|| {
            invalid(format!(
                "{text:?} is not a 32-byte hex address, a did:ghost or a name"
            ))
        })?;
        let head = self.chain.head_number();
        let resolved = self
            .chain
            .read(|s| ledger::resolve_payee(s, head, self.names.as_ref(), &payee));
        match resolved {
            Ok((address, _)) => Ok(address),
            Err(ledger::LedgerError::State(e)) => Err(internal(e)),
            Err(e) => Err(invalid(e.to_string())),
        }
    }
}
