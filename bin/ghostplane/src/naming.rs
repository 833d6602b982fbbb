//! `ghostplane name`: `.ghost` (and `.gcc`, `.warp`, `.arc`, `.gcp`) names on
//! ghostd. Changes are L1 transactions signed by `--from` (a wallet key, default
//! `dev0`); each waits for inclusion and exits non-zero with the typed error on
//! refusal. Reads go to `naming_*` on the L1.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ghostd_types::Call;
use ghostd_types::api::NamingApiClient;
use ghostd_types::identity::DidId;
use ghostd_types::naming::{COIN_L1, COIN_L2, DnsKind, NamingCall, Record, RecordKey};
use ghostplane_l2_api::{AccountQuery, L2ApiClient};
use ghostplane_primitives::PublicKey;

use crate::wallet::{self, Endpoints};

#[derive(Subcommand)]
pub enum NameCommand {
    /// Register `label.tld` (the sender pays the price in GCC on L1).
    Register {
        /// The name.
        name: String,
        /// Paying key (and owner unless --owner).
        #[arg(long, default_value = "dev0")]
        from: String,
        /// Owner: key name or 32-byte hex key.
        #[arg(long)]
        owner: Option<String>,
        /// Years (1-10).
        #[arg(long, default_value_t = 1)]
        years: u32,
    },
    /// Extend a name (anyone while active; the owner in the grace period).
    Renew {
        /// The name.
        name: String,
        /// Paying key.
        #[arg(long, default_value = "dev0")]
        from: String,
        /// Years (1-10).
        #[arg(long, default_value_t = 1)]
        years: u32,
    },
    /// Give a name to another key.
    Transfer {
        /// The name.
        name: String,
        /// Owner key.
        #[arg(long, default_value = "dev0")]
        from: String,
        /// New owner: key name or hex key.
        #[arg(long)]
        to: String,
    },
    /// Set (or with no --manager, clear) the key that edits records besides the owner.
    SetManager {
        /// The name.
        name: String,
        /// Owner key.
        #[arg(long, default_value = "dev0")]
        from: String,
        /// Manager: key name or hex key.
        #[arg(long)]
        manager: Option<String>,
    },
    /// Create a subname (`sub.label.tld`) as the parent's owner.
    Subname {
        /// The full subname.
        name: String,
        /// The parent's owner.
        #[arg(long, default_value = "dev0")]
        from: String,
        /// Its owner (default: --from).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Set a record: DNS (`A`, `AAAA`, `CNAME`, `TXT`, `MX` "pref host"), `text`
    /// (with --key), `l2` (a key whose L2 account receives payments), `l1` (a key),
    /// `addr` (with --coin, hex value), `contenthash` (hex) or `did`.
    SetRecord {
        /// The name.
        name: String,
        /// Owner or manager key.
        #[arg(long, default_value = "dev0")]
        from: String,
        /// Record type.
        #[arg(long = "type")]
        kind: String,
        /// Value.
        #[arg(long)]
        value: String,
        #[command(flatten)]
        qualifier: RecordQualifier,
        /// TTL of DNS records, seconds.
        #[arg(long, default_value_t = 300)]
        ttl: u32,
    },
    /// Remove records: all of a DNS type, a text key, an address, the contenthash or
    /// the DID.
    ClearRecord {
        /// The name.
        name: String,
        /// Owner or manager key.
        #[arg(long, default_value = "dev0")]
        from: String,
        /// Record type (as for set-record).
        #[arg(long = "type")]
        kind: String,
        #[command(flatten)]
        qualifier: RecordQualifier,
    },
    /// Set (or with --clear, clear) the sender's primary name for reverse lookups.
    SetPrimary {
        /// The name.
        name: Option<String>,
        /// The key whose primary name it is.
        #[arg(long, default_value = "dev0")]
        from: String,
        /// Clear it.
        #[arg(long, conflicts_with = "name")]
        clear: bool,
    },
    /// A live name and its records (JSON).
    Resolve {
        /// The name.
        name: String,
    },
    /// A key's forward-verified primary name.
    Reverse {
        /// Key name or hex key.
        who: String,
    },
    /// A name, its records and its events.
    Show {
        /// The name.
        name: String,
    },
}

fn key_of(name: &str, endpoints: &Endpoints) -> Result<PublicKey> {
    wallet::public_key(name, &endpoints.wallet_dir)
}

/// The L2 address record value of `key`: its public key and L2 account id.
async fn l2_value(key: &PublicKey, endpoints: &Endpoints) -> Result<Vec<u8>> {
    let l2 = wallet::client(&endpoints.rpc)?;
    let account = l2
        .get_account(AccountQuery::Key(key.to_hex()))
        .await
        .map_err(wallet::l1_error)?
        .with_context(|| format!("{} has no L2 account yet (deposit first)", key.to_hex()))?;
    let mut value = key.0.to_vec();
    value.extend_from_slice(&account.id.to_be_bytes());
    Ok(value)
}

/// What names one record among those of its type: the key of a `text` record, the
/// coin of an `addr` record (set-record and clear-record).
#[derive(clap::Args)]
pub struct RecordQualifier {
    /// Text key (`--type text`).
    #[arg(long)]
    key: Option<String>,
    /// Coin type (`--type addr`).
    #[arg(long)]
    coin: Option<u32>,
}

fn record_key(kind: &str, key: Option<String>, coin: Option<u32>) -> Result<RecordKey> {
    Ok(match kind.to_ascii_lowercase().as_str() {
        "text" => RecordKey::Text(key.context("--type text needs --key")?),
        "l2" => RecordKey::Addr(COIN_L2),
        "l1" => RecordKey::Addr(COIN_L1),
        "addr" => RecordKey::Addr(coin.context("--type addr needs --coin")?),
        "contenthash" => RecordKey::Contenthash,
        "did" => RecordKey::Did,
        dns => RecordKey::Dns(
            DnsKind::parse(dns).with_context(|| format!("unknown record type {dns:?}"))?,
        ),
    })
}

/// Runs `ghostplane name …`.
pub async fn run(command: NameCommand, endpoints: Endpoints) -> Result<()> {
    let l1 = wallet::client(&endpoints.l1_rpc)?;
    let (from, call) = match command {
        NameCommand::Resolve { name } => {
            let view = l1.resolve(name.clone()).await.map_err(wallet::l1_error)?;
            let Some(view) = view else {
                bail!("{name} is not registered (or was released)");
            };
            println!("{}", serde_json::to_string_pretty(&view)?);
            return Ok(());
        }
        NameCommand::Show { name } => {
            let view = l1.resolve(name.clone()).await.map_err(wallet::l1_error)?;
            let events = l1
                .events(name.clone(), 0, 256)
                .await
                .map_err(wallet::l1_error)?;
            let out = serde_json::json!({ "name": view, "events": events });
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        NameCommand::Reverse { who } => {
            let key = key_of(&who, &endpoints)?;
            match l1.reverse(key.to_hex()).await.map_err(wallet::l1_error)? {
                Some(name) => println!("{name}"),
                None => bail!("{who} has no verified primary name"),
            }
            return Ok(());
        }
        NameCommand::Register {
            name,
            from,
            owner,
            years,
        } => {
            let owner = key_of(owner.as_deref().unwrap_or(&from), &endpoints)?;
            let price = l1
                .price(name.clone(), years)
                .await
                .map_err(wallet::l1_error)?;
            println!("registering {name} for {years} year(s): {price} GCC base units");
            (from, NamingCall::Register { name, owner, years })
        }
        NameCommand::Renew { name, from, years } => (from, NamingCall::Renew { name, years }),
        NameCommand::Transfer { name, from, to } => {
            let to = key_of(&to, &endpoints)?;
            (from, NamingCall::Transfer { name, to })
        }
        NameCommand::SetManager {
            name,
            from,
            manager,
        } => {
            let manager = manager.map(|m| key_of(&m, &endpoints)).transpose()?;
            (from, NamingCall::SetManager { name, manager })
        }
        NameCommand::Subname { name, from, owner } => {
            let owner = key_of(owner.as_deref().unwrap_or(&from), &endpoints)?;
            (from, NamingCall::CreateSubname { name, owner })
        }
        NameCommand::SetRecord {
            name,
            from,
            kind,
            value,
            qualifier: RecordQualifier { key, coin },
            ttl,
        } => {
            let record = match kind.to_ascii_lowercase().as_str() {
                "text" => Record::Text {
                    key: key.context("--type text needs --key")?,
                    value,
                },
                "l2" => Record::Addr {
                    coin: COIN_L2,
                    value: l2_value(&key_of(&value, &endpoints)?, &endpoints).await?,
                },
                "l1" => Record::Addr {
                    coin: COIN_L1,
                    value: key_of(&value, &endpoints)?.0.to_vec(),
                },
                "addr" => Record::Addr {
                    coin: coin.context("--type addr needs --coin")?,
                    value: hex::decode(value.trim_start_matches("0x"))
                        .context("--value must be hex")?,
                },
                "contenthash" => Record::Contenthash(
                    hex::decode(value.trim_start_matches("0x")).context("--value must be hex")?,
                ),
                "did" => Record::Did(DidId::parse(&value)?),
                dns => Record::Dns {
                    kind: DnsKind::parse(dns)
                        .with_context(|| format!("unknown record type {dns:?}"))?,
                    value,
                    ttl,
                },
            };
            (from, NamingCall::SetRecord { name, record })
        }
        NameCommand::ClearRecord {
            name,
            from,
            kind,
            qualifier: RecordQualifier { key, coin },
        } => {
            let key = record_key(&kind, key, coin)?;
            (from, NamingCall::ClearRecord { name, key })
        }
        NameCommand::SetPrimary { name, from, clear } => {
            if name.is_none() && !clear {
                bail!("give a name, or --clear");
            }
            (from, NamingCall::SetPrimary { name })
        }
    };
    let key = wallet::keypair(&from, &endpoints.wallet_dir)?;
    wallet::send_l1(&l1, &key, Call::Naming(call), endpoints.timeout()).await?;
    Ok(())
}

/// The L2 account a name's `l2` address record names: `(public key, account id)`.
pub async fn l2_recipient(name: &str, endpoints: &Endpoints) -> Result<(PublicKey, u32)> {
    let l1 = wallet::client(&endpoints.l1_rpc)?;
    let view = l1
        .resolve(name.to_string())
        .await
        .map_err(wallet::l1_error)?
        .with_context(|| format!("{name} is not registered (or was released)"))?;
    let value = view
        .records
        .iter()
        .find_map(|r| match r {
            ghostd_types::api::RecordView::Addr { coin, value } if *coin == COIN_L2 => {
                Some(value.clone())
            }
            _ => None,
        })
        .with_context(|| {
            format!(
                "{name} has no L2 address record (its owner sets one: ghostplane name set-record {name} --type l2 --value <key>)"
            )
        })?;
    let bytes = hex::decode(&value).context("L2 address record is not hex")?;
    if bytes.len() != 36 {
        bail!("{name}'s L2 address record is malformed");
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes[..32]);
    let id = u32::from_be_bytes([bytes[32], bytes[33], bytes[34], bytes[35]]);
    Ok((PublicKey(key), id))
}
