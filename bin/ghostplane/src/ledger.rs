//! `ghostplane ledger`: the L1 ledger of GCC, SPIRIT, MANA and GHOST. Changes are
//! L1 transactions signed by `--from` (a wallet key, default `dev0`); each waits for
//! inclusion and exits non-zero with the ledger's result code on refusal. Reads go
//! to `ledger_*` on the L1 and print JSON.
//!
//! A receiver (`--to`, `pay`'s `TO=AMOUNT`) is a wallet key name, a 32-byte hex
//! address, a `did:ghost:…` or a name such as `alice.ghost`; the L1 resolves DIDs
//! and names when the transfer applies.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ghostd_types::api::{LedgerApiClient, PageOptions};
use ghostd_types::identity::DidId;
use ghostd_types::ledger::{AccountFlags, IssuerAuthority, LINKED_OPS_MAX, LedgerOp, Payee};
use ghostd_types::{Call, LedgerCall};
use ghostplane_primitives::{Amount, L1Address, TokenId};

use crate::wallet::{self, Endpoints, TokenAmount};

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Move tokens from --from to --to; with --hold, reserve them (a pending
    /// transfer the receiver posts or voids, released at --timeout).
    Transfer {
        /// Receiver: key name, hex address, did:ghost or name.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        value: TokenAmount,
        /// Reserve instead of moving (two-phase).
        #[arg(long)]
        hold: bool,
        /// With --hold: L1 blocks until the reservation expires (0: never).
        #[arg(long, default_value_t = 0, requires = "hold")]
        timeout: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Several transfers from --from, linked: all apply or none (`TO=AMOUNT`, up to 64).
    Pay {
        /// `receiver=amount` pairs.
        #[arg(required = true)]
        legs: Vec<String>,
        /// Token.
        #[arg(long, default_value = "GCC")]
        token: String,
        /// Signing key.
        #[arg(long, default_value = "dev0")]
        from: String,
    },
    /// Post a pending transfer (its debtor or creditor): all, or --amount of it.
    Post {
        /// The pending transfer's id.
        pending_id: u128,
        /// How much to post (default: all; the rest is released).
        #[arg(long)]
        amount: Option<Amount>,
        #[command(flatten)]
        common: Common,
    },
    /// Release a pending transfer (its creditor).
    Void {
        /// The pending transfer's id.
        pending_id: u128,
        #[command(flatten)]
        common: Common,
    },
    /// Mint new supply to --to (the token's issuer, or a DID it granted
    /// ledger:mint:<TOKEN>, given with --as-did).
    Mint {
        /// Receiver.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        issue: Issue,
    },
    /// Burn tokens the signer holds (issuers only).
    Burn {
        #[command(flatten)]
        issue: Issue,
    },
    /// Set or clear flags of the signer's own account: `history`, `closed`.
    Flags {
        /// Token.
        #[arg(long, default_value = "GCC")]
        token: String,
        /// Flags to set (comma-separated).
        #[arg(long, value_delimiter = ',')]
        set: Vec<String>,
        /// Flags to clear.
        #[arg(long, value_delimiter = ',')]
        clear: Vec<String>,
        /// Signing key.
        #[arg(long, default_value = "dev0")]
        from: String,
    },
    /// Replace a token's issuer (signed by the current issuer).
    SetIssuer {
        /// Token.
        #[arg(long)]
        token: String,
        /// New issuer: a hex key, a wallet key name, or a did:ghost.
        #[arg(long)]
        to: String,
        /// Signing key.
        #[arg(long, default_value = "dev0")]
        from: String,
    },
    /// An account: counters, available balance, flags.
    Account {
        /// Owner: key name, hex address, did:ghost or name.
        who: String,
        /// Token.
        #[arg(long, default_value = "GCC")]
        token: String,
    },
    /// A transfer by id (with a pending transfer's status).
    Get {
        /// Id.
        id: u128,
    },
    /// A page of the transfers that touched an account.
    Transfers {
        /// Owner.
        who: String,
        #[command(flatten)]
        page: Page,
    },
    /// A page of an account's balances after each change (accounts with `history`).
    History {
        /// Owner.
        who: String,
        #[command(flatten)]
        page: Page,
    },
    /// A token's outstanding supply and issuer.
    Supply {
        /// Token.
        token: String,
    },
}

/// Signer and transfer id.
#[derive(clap::Args)]
pub struct Common {
    /// Signing key.
    #[arg(long, default_value = "dev0")]
    from: String,
    /// Transfer id (default: random). Re-sending with the same id is a no-op.
    #[arg(long)]
    id: Option<u128>,
}

impl Common {
    /// A call of one op signed by `from`, with the op's transfer id (`--id`, or a
    /// fresh one).
    fn single(
        self,
        op: impl FnOnce(u128) -> Result<LedgerOp>,
    ) -> Result<(String, LedgerCall, Option<u128>)> {
        let id = self.id.unwrap_or_else(new_id);
        Ok((self.from, LedgerCall::Ops(vec![op(id)?]), Some(id)))
    }
}

/// What a mint or a burn takes besides mint's receiver: the token and amount, the
/// DID the issuer acts for, the signer and the transfer id.
#[derive(clap::Args)]
pub struct Issue {
    #[command(flatten)]
    value: TokenAmount,
    /// The DID the signer acts for (default: the issuer DID itself).
    #[arg(long)]
    as_did: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Paging options.
#[derive(clap::Args)]
pub struct Page {
    /// Token.
    #[arg(long, default_value = "GCC")]
    token: String,
    /// First L1 block.
    #[arg(long, default_value_t = 0)]
    from_block: u64,
    /// Most entries.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// `nextCursor` of the previous page.
    #[arg(long)]
    cursor: Option<u64>,
}

impl Page {
    /// The token and paging options of an account-page read.
    fn query(self) -> (String, Option<PageOptions>) {
        let options = PageOptions {
            from_block: self.from_block,
            limit: Some(self.limit),
            cursor: self.cursor,
        };
        (self.token, Some(options))
    }
}

/// A fresh client-side transfer id (top bit clear).
pub fn new_id() -> u128 {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&ghostplane_primitives::Keypair::generate().seed()[..16]);
    u128::from_le_bytes(bytes) >> 1
}

fn token(text: &str) -> Result<TokenId> {
    crate::parse_token(text)
}

/// A receiver: a DID or name as such (resolved on the L1), else a key name or a
/// hex address.
fn payee(text: &str, endpoints: &Endpoints) -> Result<Payee> {
    if text.starts_with("did:") || text.contains('.') {
        return Payee::parse(text).with_context(|| format!("{text:?} is not a DID or a name"));
    }
    Ok(Payee::Address(L1Address(
        wallet::public_key(text, &endpoints.wallet_dir)?.0,
    )))
}

/// An account owner as the RPC takes it (hex, DID or name).
fn owner(text: &str, endpoints: &Endpoints) -> Result<String> {
    Ok(match payee(text, endpoints)? {
        Payee::Address(address) => address.to_hex(),
        _ => text.to_string(),
    })
}

fn did(text: Option<String>) -> Result<Option<DidId>> {
    text.map(|t| DidId::parse(&t).map_err(anyhow::Error::from))
        .transpose()
}

fn flags(names: &[String]) -> Result<u16> {
    let mut bits = 0;
    for name in names {
        bits |= match name.as_str() {
            "history" => AccountFlags::HISTORY,
            "closed" => AccountFlags::CLOSED,
            other => bail!("unknown flag {other:?}: an owner sets history and closed"),
        };
    }
    Ok(bits)
}

/// Runs `ghostplane ledger …`.
pub async fn run(command: LedgerCommand, endpoints: Endpoints) -> Result<()> {
    let l1 = wallet::client(&endpoints.l1_rpc)?;
    let (from, call, id) = match command {
        LedgerCommand::Account { who, token: t } => {
            let owner = owner(&who, &endpoints)?;
            return show(LedgerApiClient::get_account(&l1, owner, t).await);
        }
        LedgerCommand::Get { id } => {
            match LedgerApiClient::get_transfer(&l1, id.to_string())
                .await
                .map_err(wallet::l1_error)?
            {
                Some(view) => print(&view)?,
                None => bail!("no transfer has id {id}"),
            }
            return Ok(());
        }
        LedgerCommand::Transfers { who, page } => {
            let (owner, (token, options)) = (owner(&who, &endpoints)?, page.query());
            return show(LedgerApiClient::get_account_transfers(&l1, owner, token, options).await);
        }
        LedgerCommand::History { who, page } => {
            let (owner, (token, options)) = (owner(&who, &endpoints)?, page.query());
            return show(LedgerApiClient::get_account_history(&l1, owner, token, options).await);
        }
        LedgerCommand::Supply { token } => {
            return show(LedgerApiClient::supply(&l1, token).await);
        }
        LedgerCommand::Transfer {
            to,
            value,
            hold,
            timeout,
            common,
        } => common.single(|id| {
            Ok(LedgerOp::Transfer {
                id,
                to: payee(&to, &endpoints)?,
                token: value.token_id()?,
                amount: value.amount,
                pending: hold.then_some(timeout),
            })
        })?,
        LedgerCommand::Pay {
            legs,
            token: t,
            from,
        } => {
            if legs.len() > LINKED_OPS_MAX {
                bail!("at most {LINKED_OPS_MAX} legs are linked in one transaction");
            }
            let token = token(&t)?;
            let mut ops = Vec::with_capacity(legs.len());
            for leg in &legs {
                let (to, amount) = leg
                    .rsplit_once('=')
                    .with_context(|| format!("{leg:?}: write RECEIVER=AMOUNT"))?;
                let id = new_id();
                println!("leg {to} = {amount}: transfer id {id}");
                ops.push(LedgerOp::Transfer {
                    id,
                    to: payee(to, &endpoints)?,
                    token,
                    amount: amount
                        .parse()
                        .with_context(|| format!("{amount:?} is not an amount"))?,
                    pending: None,
                });
            }
            (from, LedgerCall::Ops(ops), None)
        }
        LedgerCommand::Post {
            pending_id,
            amount,
            common,
        } => common.single(|id| {
            Ok(LedgerOp::Post {
                id,
                pending_id,
                amount,
            })
        })?,
        LedgerCommand::Void { pending_id, common } => {
            common.single(|id| Ok(LedgerOp::Void { id, pending_id }))?
        }
        LedgerCommand::Mint { to, issue } => issue.common.single(|id| {
            Ok(LedgerOp::Mint {
                id,
                to: payee(&to, &endpoints)?,
                token: issue.value.token_id()?,
                amount: issue.value.amount,
                as_did: did(issue.as_did)?,
            })
        })?,
        LedgerCommand::Burn { issue } => issue.common.single(|id| {
            Ok(LedgerOp::Burn {
                id,
                token: issue.value.token_id()?,
                amount: issue.value.amount,
                as_did: did(issue.as_did)?,
            })
        })?,
        LedgerCommand::Flags {
            token: t,
            set,
            clear,
            from,
        } => {
            let call = LedgerCall::SetAccountFlags {
                token: token(&t)?,
                set: flags(&set)?,
                clear: flags(&clear)?,
            };
            (from, call, None)
        }
        LedgerCommand::SetIssuer { token: t, to, from } => {
            let authority = match IssuerAuthority::parse(&to) {
                Some(authority) => authority,
                None => IssuerAuthority::Key(wallet::public_key(&to, &endpoints.wallet_dir)?),
            };
            let call = LedgerCall::SetIssuer {
                token: token(&t)?,
                authority,
            };
            (from, call, None)
        }
    };
    if let Some(id) = id {
        println!("transfer id {id}");
    }
    let key = wallet::keypair(&from, &endpoints.wallet_dir)?;
    wallet::send_l1(&l1, &key, Call::Ledger(call), endpoints.timeout()).await?;
    if let Some(id) = id
        && let Some(view) = LedgerApiClient::get_transfer(&l1, id.to_string())
            .await
            .map_err(wallet::l1_error)?
    {
        println!("{}", serde_json::to_string(&view)?);
    }
    Ok(())
}

/// Prints a read's answer (or fails with the L1's error).
fn show(answer: Result<impl serde::Serialize, jsonrpsee::core::ClientError>) -> Result<()> {
    print(&answer.map_err(wallet::l1_error)?)
}

fn print(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
