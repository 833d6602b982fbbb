//! `ghostplane wallet` and `ghostplane tx transfer|deposit|withdraw|status`: a small
//! wallet over the L2 and L1 JSON-RPC endpoints.
//!
//! Keys are named: `devN` is development key N (public seed), any other name is a
//! key file `<wallet-dir>/<name>.key` holding a hex seed (`wallet new`).
//!
//! A client: it links only the API and type crates (`ghostplane-l2-api`,
//! `ghostd-types`, `ghostplane-primitives`), never the sequencer, executor or prover.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use ghostd_types::api::{GhostApiClient, ReceiptView, RollupApiClient, TxState};
use ghostd_types::{Call, L1_DEVNET_CHAIN_ID, L1Transaction, RollupCall};
use ghostplane_l2_api::{AccountQuery, L2ApiClient, ReceiptView as L2ReceiptView, TxStatus};
use ghostplane_primitives::{
    AccountId, Amount, Codec, DEVNET_CHAIN_ID, Hash32, Keypair, L1Address, PublicKey, Recipient,
    TokenId, Transaction,
};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};

use crate::parse_token;

/// Endpoints shared by the wallet commands.
#[derive(Args, Clone)]
pub struct Endpoints {
    /// L2 JSON-RPC.
    #[arg(long, global = true, default_value = "http://127.0.0.1:9090")]
    pub(crate) rpc: String,
    /// L1 (ghostd) JSON-RPC.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8545")]
    pub(crate) l1_rpc: String,
    /// Directory of named key files.
    #[arg(long, global = true, default_value = "./.ghostplane/wallet")]
    pub(crate) wallet_dir: PathBuf,
    /// Give up waiting (`--wait`, L1 inclusion) after this many seconds, non-zero exit.
    #[arg(long, global = true, default_value_t = 600)]
    wait_timeout_s: u64,
}

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Create a named key (seed stored in the wallet directory).
    New {
        /// Name of the key.
        name: String,
    },
    /// List the wallet's keys and the first development keys.
    List,
    /// Balances of a key on L2 and L1.
    Balance {
        /// Key name (`dev0`, a wallet key) or a 32-byte hex public key.
        who: String,
    },
}

/// The status to wait for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum WaitFor {
    /// Durable on the sequencer.
    Accepted,
    /// Executed in an L2 block.
    Executed,
    /// Its batch's pubdata is on the L1.
    Committed,
    /// Its batch's proof is verified on the L1.
    Finalized,
}

/// What moves: a token and an amount (`--token`, `--amount`). Shared by the wallet's,
/// the ledger's and `tx sign-transfer`'s commands.
#[derive(Args)]
pub struct TokenAmount {
    /// Token: GCC, SPIRIT, MANA or GHOST.
    #[arg(long, default_value = "GCC")]
    pub token: String,
    /// Amount in base units.
    #[arg(long)]
    pub amount: Amount,
}

impl TokenAmount {
    /// The token, parsed.
    pub fn token_id(&self) -> Result<TokenId> {
        parse_token(&self.token)
    }
}

#[derive(Args)]
pub struct TransferArgs {
    /// Sender key name.
    #[arg(long)]
    from: String,
    /// Receiver: key name, account id, 32-byte hex public key, or a name
    /// (`alice.ghost`) whose L2 address record is used.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    value: TokenAmount,
    /// Fee in GCC base units (default: the sequencer's estimate, `l2_estimateFee`:
    /// the proof slot and the pubdata at the L1 data price).
    #[arg(long)]
    fee: Option<Amount>,
    /// Wait until this status, printing each one reached.
    #[arg(long, value_enum)]
    wait: Option<WaitFor>,
}

#[derive(Args)]
pub struct DepositArgs {
    /// L1 sender key name (its ledger account pays).
    #[arg(long)]
    from: String,
    /// L2 recipient: key name or 32-byte hex public key (default: the sender's key).
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    value: TokenAmount,
    /// Wait until the L2 deposit reaches this status.
    #[arg(long, value_enum)]
    wait: Option<WaitFor>,
}

#[derive(Args)]
pub struct WithdrawArgs {
    /// L2 sender key name.
    #[arg(long)]
    from: String,
    /// L1 recipient: key name or 32-byte hex address (default: the sender's key).
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    value: TokenAmount,
    /// Fee in GCC base units (default: the sequencer's estimate, `l2_estimateFee`:
    /// the proof slot and the pubdata at the L1 data price).
    #[arg(long)]
    fee: Option<Amount>,
    /// Wait until this status (the L1 releases the funds at `finalized`).
    #[arg(long, value_enum)]
    wait: Option<WaitFor>,
}

#[derive(Args)]
pub struct ForceWithdrawArgs {
    /// The L2 account's key (a wallet name, or devN): it signs the request and
    /// the L1 transaction, whose signer pays the forced-withdrawal fee in GCC.
    #[arg(long)]
    from: String,
    /// Token: GCC, SPIRIT, MANA or GHOST.
    #[arg(long, default_value = "GCC")]
    token: String,
    /// Most to withdraw, in base units, or `all` (the whole balance).
    #[arg(long, default_value = "all")]
    amount: String,
    /// L1 recipient: key name or 32-byte hex address (default: the key's own).
    #[arg(long)]
    to: Option<String>,
    /// The L2 account id; asked of the sequencer (`--rpc`) if left out, which a
    /// censoring sequencer may not answer: the id is in `ghostplane exit rebuild`'s
    /// tree, or any explorer's record of the account's creation.
    #[arg(long)]
    account: Option<u32>,
}

impl Endpoints {
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.wait_timeout_s)
    }
}

pub fn client(url: &str) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(url)
        .with_context(|| format!("bad endpoint {url}"))
}

fn rpc_error(what: &str, error: jsonrpsee::core::ClientError) -> anyhow::Error {
    match error {
        jsonrpsee::core::ClientError::Call(object) => {
            anyhow::anyhow!("{} (code {})", object.message(), object.code())
        }
        other => anyhow::anyhow!("{what}: {other} (is the devnet running?)"),
    }
}

pub fn l1_error(error: jsonrpsee::core::ClientError) -> anyhow::Error {
    rpc_error("L1", error)
}

/// Signs `call` with `key` at its next L1 nonce, sends it, and waits until it is
/// included; fails if the L1 refuses it at admission or in its block.
pub async fn send_l1(
    l1: &HttpClient,
    key: &Keypair,
    call: Call,
    timeout: Duration,
) -> Result<ReceiptView> {
    let nonce = GhostApiClient::get_account(l1, key.public_key().to_hex())
        .await
        .map_err(l1_error)?
        .nonce;
    let tx = L1Transaction {
        chain_id: L1_DEVNET_CHAIN_ID,
        from: key.public_key(),
        nonce,
        call,
    }
    .sign(key);
    let l1_hash = GhostApiClient::send_transaction(l1, hex::encode(tx.encode()))
        .await
        .map_err(l1_error)?
        .hash;
    println!("L1 transaction {l1_hash}");
    let started = std::time::Instant::now();
    loop {
        let view = GhostApiClient::get_transaction(l1, l1_hash.clone())
            .await
            .map_err(l1_error)?;
        match (view.status, view.receipt) {
            (TxState::Included, Some(receipt)) => {
                if let Some(error) = &receipt.outcome.error {
                    bail!("refused on L1: {error}");
                }
                println!("included on L1 (block {})", receipt.outcome.block);
                return Ok(receipt);
            }
            (TxState::Unknown, _) => {
                bail!("the L1 does not know the transaction any more: send it again")
            }
            _ => {}
        }
        if started.elapsed() > timeout {
            bail!(
                "the L1 has not included the transaction after {} s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Resolves a key name.
pub fn keypair(name: &str, wallet_dir: &Path) -> Result<Keypair> {
    if let Some(index) = name.strip_prefix("dev").and_then(|n| n.parse::<u32>().ok()) {
        return Ok(Keypair::dev(index));
    }
    let path = wallet_dir.join(format!("{name}.key"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no key named {name:?} (looked for {})", path.display()))?;
    crate::parse_seed(text.trim())
}

pub(crate) fn public_key(name: &str, wallet_dir: &Path) -> Result<PublicKey> {
    if let Ok(key) = PublicKey::from_hex(name.strip_prefix("0x").unwrap_or(name)) {
        return Ok(key);
    }
    Ok(keypair(name, wallet_dir)?.public_key())
}

pub(crate) fn l2_error(error: jsonrpsee::core::ClientError) -> anyhow::Error {
    rpc_error("L2", error)
}

pub(crate) async fn l2_account(
    rpc: &HttpClient,
    key: &PublicKey,
) -> Result<Option<(AccountId, u64)>> {
    let Some(view) = L2ApiClient::get_account(rpc, AccountQuery::Key(key.to_hex()))
        .await
        .map_err(l2_error)?
    else {
        return Ok(None);
    };
    // Past the sender's transactions still waiting in the pool, so quick successive
    // sends from one key do not collide.
    Ok(Some((AccountId::new(view.id)?, view.pending_nonce)))
}

/// Sets `tx`'s fee to `fee`, or, when none was given, to the sequencer's
/// estimate (`l2_estimateFee`: execution plus pubdata at the L1 data price;
/// for a deploy or call, what running it on the latest state is charged),
/// which it prints in parts.
pub(crate) async fn fee_or_estimate(
    rpc: &HttpClient,
    fee: Option<Amount>,
    tx: &mut Transaction,
) -> Result<()> {
    let fee = match fee {
        Some(fee) => fee,
        None => {
            let estimate = L2ApiClient::estimate_fee(rpc, hex::encode(tx.encode()))
                .await
                .map_err(l2_error)?;
            println!(
                "fee {} (execution {} + {} pubdata bytes x {})",
                estimate.total, estimate.execution, estimate.pubdata_bytes, estimate.data_price
            );
            if let Some(failure) = &estimate.failure {
                println!("warning: on the latest state it would fail: {failure}");
            }
            estimate
                .total
                .parse()
                .context("l2_estimateFee did not return a decimal total")?
        }
    };
    tx.set_fee(fee);
    Ok(())
}

pub async fn wallet(command: WalletCommand, endpoints: Endpoints) -> Result<()> {
    match command {
        WalletCommand::New { name } => {
            if name.starts_with("dev") {
                bail!("names starting with \"dev\" are reserved for development keys");
            }
            std::fs::create_dir_all(&endpoints.wallet_dir)?;
            let path = endpoints.wallet_dir.join(format!("{name}.key"));
            if path.exists() {
                bail!("{} already exists", path.display());
            }
            let key = Keypair::generate();
            std::fs::write(&path, hex::encode(key.seed()))?;
            println!(
                "{name}  public_key={}  (seed in {})",
                key.public_key().to_hex(),
                path.display()
            );
        }
        WalletCommand::List => {
            for i in 0..4 {
                println!(
                    "dev{i}  public_key={}  (development key)",
                    Keypair::dev(i).public_key().to_hex()
                );
            }
            if let Ok(entries) = std::fs::read_dir(&endpoints.wallet_dir) {
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()?
                            .strip_suffix(".key")
                            .map(str::to_string)
                    })
                    .collect();
                names.sort();
                for name in names {
                    let key = keypair(&name, &endpoints.wallet_dir)?;
                    println!("{name}  public_key={}", key.public_key().to_hex());
                }
            }
        }
        WalletCommand::Balance { who } => {
            let key = public_key(&who, &endpoints.wallet_dir)?;
            let rpc = client(&endpoints.rpc)?;
            let l2 = L2ApiClient::get_account(&rpc, AccountQuery::Key(key.to_hex()))
                .await
                .map_err(l2_error)?;
            match l2 {
                None => println!("L2  no account"),
                Some(l2) => {
                    println!("L2  account {} nonce {}", l2.id, l2.nonce);
                    for token in TokenId::ALL {
                        println!(
                            "    {:<6} {}",
                            token.symbol(),
                            l2.balances.get(token.symbol()).map_or("0", String::as_str)
                        );
                    }
                }
            }
            let l1 = client(&endpoints.l1_rpc)?;
            let account = GhostApiClient::get_account(&l1, key.to_hex())
                .await
                .map_err(l1_error)?;
            println!("L1  address {} nonce {}", key.to_hex(), account.nonce);
            for token in TokenId::ALL {
                println!(
                    "    {:<6} {}",
                    token.symbol(),
                    account
                        .balances
                        .get(token.symbol())
                        .map_or("0", String::as_str)
                );
            }
        }
    }
    Ok(())
}

async fn send_l2(
    rpc: &HttpClient,
    signed: &ghostplane_primitives::SignedTransaction,
) -> Result<Hash32> {
    let accepted = L2ApiClient::send_transaction(rpc, hex::encode(signed.encode()))
        .await
        .map_err(l2_error)?;
    Ok(Hash32::from_hex(&accepted.hash)?)
}

fn rank_name(wait: WaitFor) -> &'static str {
    match wait {
        WaitFor::Accepted => "accepted",
        WaitFor::Executed => "executed",
        WaitFor::Committed => "committed",
        WaitFor::Finalized => "finalized",
    }
}

fn rank(status: &str) -> Option<WaitFor> {
    match status {
        "accepted" => Some(WaitFor::Accepted),
        "executed" => Some(WaitFor::Executed),
        "committed" => Some(WaitFor::Committed),
        "finalized" => Some(WaitFor::Finalized),
        _ => None,
    }
}

/// Polls the L2 status of `hash` until `target`, printing each new status. Errors
/// if the transaction is rejected or dropped, or executed but failed (with the
/// failure reason from its receipt).
pub async fn wait_status(
    rpc: &HttpClient,
    hash: &Hash32,
    target: WaitFor,
    already: &str,
    timeout: Duration,
) -> Result<()> {
    let reached = wait_for(rpc, hash, target, already, timeout).await?;
    if reached.executed().is_some_and(|(_, success)| !success) {
        bail!("transaction failed: {}", failure_reason(rpc, hash).await?);
    }
    Ok(())
}

/// Polls the L2 status of `hash`, printing each new status, until `target` or until
/// it is executed and failed (a failure is final); returns the status reached.
/// Errors if the transaction is rejected, dropped, or not there in `timeout`.
pub(crate) async fn wait_for(
    rpc: &HttpClient,
    hash: &Hash32,
    target: WaitFor,
    already: &str,
    timeout: Duration,
) -> Result<TxStatus> {
    let mut last = already.to_string();
    let started = std::time::Instant::now();
    loop {
        let value = L2ApiClient::get_transaction_status(rpc, hash.to_hex())
            .await
            .map_err(l2_error)?;
        let status = value.name().to_string();
        // "unknown": a deposit the L2 has not picked up yet.
        if status != last && status != "unknown" {
            match value.executed() {
                Some((block, _)) => println!("{status} (block {block})"),
                None => println!("{status}"),
            }
            last = status.clone();
        }
        if let Some(reason) = value.reason() {
            bail!("transaction {status}: {reason}");
        }
        if value.executed().is_some_and(|(_, success)| !success)
            || rank(&status).is_some_and(|reached| reached >= target)
        {
            return Ok(value);
        }
        if started.elapsed() > timeout {
            let hint = match status.as_str() {
                "unknown" => "the L2 does not know this hash",
                "executed" | "committed" => {
                    "is settlement running (ghostplane devnet) with a prover worker?"
                }
                _ => "the node may be overloaded",
            };
            bail!(
                "still {status} after {} s waiting for {}: {hint}",
                timeout.as_secs(),
                rank_name(target)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The receipt of an executed transaction (`l2_getTransactionReceipt`).
pub(crate) async fn receipt(rpc: &HttpClient, hash: &Hash32) -> Result<L2ReceiptView> {
    L2ApiClient::get_transaction_receipt(rpc, hash.to_hex())
        .await
        .map_err(l2_error)?
        .with_context(|| format!("the L2 has no receipt for 0x{}", hash.to_hex()))
}

/// Why an executed transaction failed, from its receipt.
async fn failure_reason(rpc: &HttpClient, hash: &Hash32) -> Result<String> {
    Ok(failure(&receipt(rpc, hash).await?).unwrap_or_else(|| "no reason in its receipt".into()))
}

/// A receipt's failure as the commands print it (`None` on success): the node's
/// typed reason, or for a revert its data, hex, and as text when it is printable.
pub(crate) fn failure(receipt: &L2ReceiptView) -> Option<String> {
    let reason = receipt.outcome.error.clone()?;
    let Some(data) = &receipt.revert_data else {
        return Some(reason);
    };
    if data.is_empty() {
        return Some("revert (no data)".into());
    }
    let text = hex::decode(data)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.is_empty() && !text.chars().any(char::is_control))
        .map(|text| format!(" ({text:?})"))
        .unwrap_or_default();
    Some(format!("revert: 0x{data}{text}"))
}

pub async fn transfer(args: TransferArgs, endpoints: Endpoints) -> Result<()> {
    let rpc = client(&endpoints.rpc)?;
    let key = keypair(&args.from, &endpoints.wallet_dir)?;
    let (from, nonce) = l2_account(&rpc, &key.public_key())
        .await?
        .with_context(|| format!("{} has no L2 account yet (deposit first)", args.from))?;
    let to = if let Ok(id) = args.to.parse::<u32>() {
        Recipient::Account(AccountId::new(id)?)
    } else if ghostd_types::naming::normalize(&args.to).is_ok() {
        let (to_key, named_id) = crate::naming::l2_recipient(&args.to, &endpoints).await?;
        let recipient = match l2_account(&rpc, &to_key).await? {
            Some((id, _)) => {
                if id.get() != named_id {
                    println!(
                        "note: {}'s record names account {named_id}, but its key holds account {}",
                        args.to,
                        id.get()
                    );
                }
                Recipient::Account(id)
            }
            None => Recipient::NewAccount(to_key),
        };
        println!(
            "{} resolves to L2 key {} ({recipient:?})",
            args.to,
            to_key.to_hex()
        );
        recipient
    } else {
        let to_key = public_key(&args.to, &endpoints.wallet_dir)?;
        match l2_account(&rpc, &to_key).await? {
            Some((id, _)) => Recipient::Account(id),
            None => Recipient::NewAccount(to_key),
        }
    };
    // A transfer that creates the recipient's account also pays for it: the
    // estimate counts it.
    let mut tx = Transaction::Transfer {
        from,
        to,
        token: args.value.token_id()?,
        amount: args.value.amount,
        fee: 0,
        nonce,
    };
    fee_or_estimate(&rpc, args.fee, &mut tx).await?;
    submit_and_watch(&rpc, &key, tx, "transaction", args.wait, &endpoints).await
}

/// Checks, signs and sends an L2 transaction; prints its hash (after `label`) and
/// `accepted`, then waits for `wait` if asked.
async fn submit_and_watch(
    rpc: &HttpClient,
    key: &Keypair,
    tx: Transaction,
    label: &str,
    wait: Option<WaitFor>,
    endpoints: &Endpoints,
) -> Result<()> {
    let hash = submit(rpc, key, tx, label).await?;
    if let Some(target) = wait
        && target > WaitFor::Accepted
    {
        wait_status(rpc, &hash, target, "accepted", endpoints.timeout()).await?;
    }
    Ok(())
}

/// Checks, signs and sends an L2 transaction; prints its hash (after `label`) and
/// `accepted`, and returns the hash.
pub(crate) async fn submit(
    rpc: &HttpClient,
    key: &Keypair,
    tx: Transaction,
    label: &str,
) -> Result<Hash32> {
    tx.check_stateless()?;
    let hash = send_l2(rpc, &key.sign(DEVNET_CHAIN_ID, tx)).await?;
    println!("{label} 0x{}", hash.to_hex());
    println!("accepted");
    Ok(hash)
}

pub async fn withdraw(args: WithdrawArgs, endpoints: Endpoints) -> Result<()> {
    let rpc = client(&endpoints.rpc)?;
    let key = keypair(&args.from, &endpoints.wallet_dir)?;
    let (from, nonce) = l2_account(&rpc, &key.public_key())
        .await?
        .with_context(|| format!("{} has no L2 account", args.from))?;
    let to = match &args.to {
        Some(name) => L1Address(public_key(name, &endpoints.wallet_dir)?.0),
        None => L1Address(key.public_key().0),
    };
    let mut tx = Transaction::Withdraw {
        from,
        to,
        token: args.value.token_id()?,
        amount: args.value.amount,
        fee: 0,
        nonce,
    };
    fee_or_estimate(&rpc, args.fee, &mut tx).await?;
    println!("withdrawal to L1 address {}", to.to_hex());
    submit_and_watch(&rpc, &key, tx, "withdrawal", args.wait, &endpoints).await?;
    if args.wait == Some(WaitFor::Finalized) {
        println!("released on L1 to {}", to.to_hex());
    }
    Ok(())
}

/// Queues a forced withdrawal on the L1: the sequencer must include it within
/// the forced-inclusion window, or the L1 refuses its next batch (and, past the
/// exit window, anyone may switch on exit mode).
pub async fn force_withdraw(args: ForceWithdrawArgs, endpoints: Endpoints) -> Result<()> {
    use ghostd_types::rollup::{FORCED_WITHDRAWAL_ALL, ForcedWithdrawalRequest};
    let l1 = client(&endpoints.l1_rpc)?;
    let key = keypair(&args.from, &endpoints.wallet_dir)?;
    let token = parse_token(&args.token)?;
    let amount = match args.amount.as_str() {
        "all" => FORCED_WITHDRAWAL_ALL,
        n => n
            .parse::<Amount>()
            .with_context(|| format!("--amount {n:?}: base units, or `all`"))?,
    };
    let account = match args.account {
        Some(id) => AccountId::new(id)?,
        None => {
            let rpc = client(&endpoints.rpc)?;
            l2_account(&rpc, &key.public_key())
                .await?
                .with_context(|| {
                    format!(
                        "{} has no L2 account the sequencer knows of; pass --account",
                        args.from
                    )
                })?
                .0
        }
    };
    let recipient = match &args.to {
        Some(name) => L1Address(public_key(name, &endpoints.wallet_dir)?.0),
        None => L1Address(key.public_key().0),
    };
    let count = RollupApiClient::get_forced_withdrawal_count(&l1, account.get())
        .await
        .map_err(l1_error)?;
    let chain_id = ghostd_types::RpcL1::new(&endpoints.l1_rpc)?
        .genesis()
        .await?
        .rollup
        .l2_chain_id;
    let message = ForcedWithdrawalRequest::signing_message(
        chain_id, account, token, amount, &recipient, count,
    );
    let request = ForcedWithdrawalRequest {
        account,
        token,
        amount,
        recipient,
        signature: key.sign_bytes(&message),
    };
    send_l1(
        &l1,
        &key,
        Call::Rollup(RollupCall::ForceWithdraw(request)),
        endpoints.timeout(),
    )
    .await?;
    let status = RollupApiClient::status(&l1).await.map_err(l1_error)?;
    let index = status.forced_queued.saturating_sub(1);
    println!(
        "queued forced withdrawal {index} of account {account}'s {token} ({}) to {}",
        if amount == FORCED_WITHDRAWAL_ALL {
            "all of it".to_string()
        } else {
            format!("up to {amount}")
        },
        recipient.to_hex()
    );
    Ok(())
}

pub async fn deposit(args: DepositArgs, endpoints: Endpoints) -> Result<()> {
    let l1 = client(&endpoints.l1_rpc)?;
    let key = keypair(&args.from, &endpoints.wallet_dir)?;
    let recipient = match &args.to {
        Some(name) => public_key(name, &endpoints.wallet_dir)?,
        None => key.public_key(),
    };
    let call = Call::Rollup(RollupCall::Deposit {
        recipient,
        token: args.value.token_id()?,
        amount: args.value.amount,
    });
    let receipt = send_l1(&l1, &key, call, endpoints.timeout()).await?;
    let index = receipt
        .deposit_index
        .context("receipt without deposit index")?;
    println!("queued as deposit {index}");
    let deposits = RollupApiClient::get_deposits(&l1, index, 1)
        .await
        .map_err(l1_error)?;
    let bytes = hex::decode(&deposits.first().context("deposit not found")?.encoded)?;
    // The L2 knows a deposit by blake3 of its encoded event.
    let l2_hash = Hash32(*blake3::hash(&bytes).as_bytes());
    println!("L2 deposit item 0x{}", l2_hash.to_hex());
    println!("accepted (queued on L1)");
    if let Some(target) = args.wait
        && target > WaitFor::Accepted
    {
        let rpc = client(&endpoints.rpc)?;
        wait_status(&rpc, &l2_hash, target, "", endpoints.timeout()).await?;
    }
    Ok(())
}

pub async fn status(hash: String, wait: Option<WaitFor>, endpoints: Endpoints) -> Result<()> {
    let rpc = client(&endpoints.rpc)?;
    let hash = Hash32::from_hex(hash.strip_prefix("0x").unwrap_or(&hash))
        .context("expected a 32-byte hex hash")?;
    match wait {
        Some(target) => wait_status(&rpc, &hash, target, "", endpoints.timeout()).await,
        None => {
            let value = L2ApiClient::get_transaction_status(&rpc, hash.to_hex())
                .await
                .map_err(l2_error)?;
            println!("{}", serde_json::to_string(&value)?);
            // Its batch on the L1, once committed (the L1 may be out of reach:
            // the L2's status above stands alone).
            if let Some((block, _)) = value.executed()
                && let Ok(l1) = client(&endpoints.l1_rpc)
                && let Ok(Some(batch)) = RollupApiClient::get_batch_of_block(&l1, block).await
            {
                println!(
                    "batch {} (L2 blocks {}..={}): committed in L1 block {}, {}",
                    batch.number,
                    batch.first_block,
                    batch.last_block,
                    batch.committed_at,
                    batch
                        .finalized_at
                        .map_or("not final yet".to_string(), |at| format!(
                            "proven and final in L1 block {at}"
                        ))
                );
            }
            // A withdrawal also says how far it is on its way to the L1.
            if value.executed().is_some()
                && let Ok(Some(w)) = L2ApiClient::get_withdrawal(&rpc, hash.to_hex()).await
            {
                println!(
                    "withdrawal {} {} from account {} to {}{}: {}",
                    w.amount,
                    w.token,
                    w.account,
                    w.recipient,
                    if w.forced { " (forced)" } else { "" },
                    w.state
                );
            }
            match &value {
                TxStatus::Rejected { .. } | TxStatus::Dropped { .. } => {
                    bail!("transaction {}", value.name())
                }
                TxStatus::Unknown => bail!("the L2 does not know this transaction"),
                _ => {}
            }
            if value.executed().is_some_and(|(_, success)| !success) {
                bail!("transaction failed: {}", failure_reason(&rpc, &hash).await?);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use ghostplane_primitives::{
        AccountId, BlockNumber, FailureReason, Hash32, Receipt, ReceiptStatus,
    };

    use super::*;

    fn failed(reason: FailureReason) -> Option<String> {
        failure(&L2ReceiptView::from(&Receipt {
            tx_hash: Hash32([7; 32]),
            block: BlockNumber(1),
            index: 0,
            status: ReceiptStatus::Failed(reason),
            gas_used: 0,
            fee_paid: 1,
            events: Vec::new(),
            return_data: Vec::new(),
        }))
    }

    #[test]
    fn failure_is_the_typed_reason_and_a_revert_shows_its_data() {
        assert_eq!(
            failed(FailureReason::UnknownAccount(AccountId::new(9).unwrap())).as_deref(),
            Some("account 9 does not exist")
        );
        assert_eq!(
            failed(FailureReason::Revert(b"not owner".to_vec())).as_deref(),
            Some(r#"revert: 0x6e6f74206f776e6572 ("not owner")"#)
        );
        // Not text: the hex alone.
        assert_eq!(
            failed(FailureReason::Revert(vec![0xff, 0x00])).as_deref(),
            Some("revert: 0xff00")
        );
        assert_eq!(
            failed(FailureReason::Revert(Vec::new())).as_deref(),
            Some("revert (no data)")
        );
    }
}
