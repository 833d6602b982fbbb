//! `ghostplane contract deploy|call|view|storage`: WASM contracts on the L2, over
//! its JSON-RPC.
//!
//! ```text
//! deploy FILE ──► .wasm bytes, or .wat text compiled here ──► Transaction::Deploy
//!      --init HEX (input of the module's `init` export, run at deploy)
//!                 address = contract_address(sender, nonce), printed before sending
//! call ADDRESS ─► --input HEX, --fuel N ─────────────────────► Transaction::Call
//!      (both: --token T --value N, moved to the contract's account before it runs)
//!      │
//!      └─ --wait STATUS: the statuses as reached, then the receipt
//!         (l2_getTransactionReceipt): outcome, gas used, fee paid, return data,
//!         events; a failed one exits non-zero with its reason
//! view ADDRESS ─► --input HEX [--from ID] [--fuel N] ───────► l2_call (read-only:
//!                 no key, no fee; writes are reported and discarded)
//! storage ADDRESS KEY ──────────────────────────────────────► l2_getStorage
//! proof TARGET [--key KEY]... ───────────────────────────────► l2_getProof (JSON)
//! logs [ADDRESS] [--topic HEX]... [--from-block N] [--to-block N] ─► l2_getLogs,
//!                 every page, one line per event
//! ```
//!
//! The fee of a deploy or call is a maximum: the executor charges the fuel used
//! times the fuel price plus its pubdata at the L1 data price, and refunds the
//! rest. Without `--fee`, the CLI offers the sequencer's estimate
//! (`l2_estimateFee`: the transaction run on the latest state) plus a fifth, a
//! margin for state that changes before it runs (refunded if unused).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ghostplane_l2_api::{CallRequest, EventView, L2ApiClient, LogFilterView, ReceiptView};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    Amount, CALL_FUEL_MAX, CALL_INPUT_BYTES_MAX, CONTRACT_CODE_BYTES_MAX, ContractAddress, Hash32,
    TokenId, Transaction,
};
use jsonrpsee::http_client::HttpClient;

use crate::wallet::{self, Endpoints, WaitFor};

/// Default most fuel a call may burn (the counter example uses under 20 000).
const CALL_FUEL_DEFAULT: u64 = 1_000_000;

#[derive(Subcommand)]
pub enum ContractCommand {
    /// Deploy a contract: prints its address and the transaction hash.
    Deploy(DeployArgs),
    /// Call a contract: prints the outcome, gas used, fee paid, return data and events
    /// (with --wait executed or later).
    Call(CallArgs),
    /// Run a contract read-only on the latest state (no key, no fee): prints the
    /// outcome, fuel used, return data and the events and writes it would make
    /// (discarded).
    View(ViewArgs),
    /// Print one storage slot of a contract (hex), or `(absent)`.
    Storage(StorageArgs),
    /// Print the events a contract (or any contract) emitted, one line each:
    /// `block:tx:log contract topic data`.
    Logs(LogsArgs),
    /// Print a contract's (or an account's) leaf and storage slots with their
    /// Merkle paths against the L1's last finalized root (`l2_getProof`, JSON),
    /// to check with the rule of docs/state-commitment.md.
    Proof(ProofArgs),
}

#[derive(Args)]
pub struct ProofArgs {
    /// A contract's address or an account's public key (32-byte hex), or an
    /// account id.
    target: String,
    /// A storage slot's 32-byte key, hex (repeat for more; a contract's).
    #[arg(long = "key")]
    keys: Vec<String>,
}

#[derive(Args)]
pub struct LogsArgs {
    /// Only this contract's events (32-byte hex address).
    address: Option<String>,
    /// Only events with this topic (32-byte hex); repeat for any of several.
    #[arg(long = "topic")]
    topics: Vec<String>,
    /// First block (default 0).
    #[arg(long)]
    from_block: Option<u64>,
    /// Last block (default: the last executed one).
    #[arg(long)]
    to_block: Option<u64>,
    /// Stop after this many events.
    #[arg(long, default_value_t = 10_000)]
    max: usize,
}

#[derive(Args)]
pub struct ViewArgs {
    /// The contract's address (32-byte hex).
    address: String,
    /// Call data, hex (with or without 0x).
    #[arg(long, default_value = "")]
    input: String,
    /// The account id `caller()` answers (default: none).
    #[arg(long)]
    from: Option<u32>,
    /// Most fuel the call may burn (default: the node's read-call limit).
    #[arg(long)]
    fuel: Option<u64>,
}

#[derive(Args)]
pub struct StorageArgs {
    /// The contract's address (32-byte hex).
    address: String,
    /// The slot's 32-byte key, hex.
    key: String,
}

/// What every contract transaction takes besides its own arguments.
#[derive(Args)]
pub struct Sender {
    /// Sender key name (`dev0`, a wallet key).
    #[arg(long)]
    from: String,
    /// Wait until this status, printing each one reached, then the receipt.
    #[arg(long, value_enum)]
    wait: Option<WaitFor>,
    /// Token of --value (GCC, SPIRIT, MANA or GHOST).
    #[arg(long, default_value = "GCC", value_parser = crate::parse_token)]
    token: TokenId,
    /// Amount of --token to move to the contract's account before it runs (stays
    /// with the sender if the deploy or call fails).
    #[arg(long, default_value_t = 0)]
    value: Amount,
}

#[derive(Args)]
pub struct DeployArgs {
    /// The module: WebAssembly bytes (`.wasm`) or text (`.wat`, compiled here).
    file: PathBuf,
    #[command(flatten)]
    sender: Sender,
    /// Input of the module's `init` export, hex (with or without 0x); the module
    /// must export `init` if this is not empty.
    #[arg(long, default_value = "")]
    init: String,
    /// Most GCC the deploy may cost (its fixed cost, the fuel `init` burns and
    /// its pubdata); the unused part is refunded (default: the estimate plus a
    /// fifth).
    #[arg(long)]
    fee: Option<Amount>,
}

#[derive(Args)]
pub struct CallArgs {
    /// The contract's address (32-byte hex).
    address: String,
    #[command(flatten)]
    sender: Sender,
    /// Call data, hex (with or without 0x).
    #[arg(long, default_value = "")]
    input: String,
    /// Most fuel the call may burn.
    #[arg(long, default_value_t = CALL_FUEL_DEFAULT)]
    fuel: u64,
    /// Most GCC the call may cost; the unused part is refunded (default: the
    /// estimate plus a fifth).
    #[arg(long)]
    fee: Option<Amount>,
}

pub async fn run(command: ContractCommand, endpoints: Endpoints) -> Result<()> {
    match command {
        ContractCommand::Deploy(args) => deploy(args, endpoints).await,
        ContractCommand::Call(args) => call(args, endpoints).await,
        ContractCommand::View(args) => view(args, endpoints).await,
        ContractCommand::Storage(args) => storage(args, endpoints).await,
        ContractCommand::Logs(args) => logs(args, endpoints).await,
        ContractCommand::Proof(args) => proof(args, endpoints).await,
    }
}

async fn logs(args: LogsArgs, endpoints: Endpoints) -> Result<()> {
    let contract = args.address.as_deref().map(parse_address).transpose()?;
    let topics = args
        .topics
        .iter()
        .map(|t| {
            Hash32::from_hex(t)
                .map(|h| h.to_hex())
                .with_context(|| format!("--topic {t:?} is not 32-byte hex"))
        })
        .collect::<Result<Vec<_>>>()?;
    let rpc = wallet::client(&endpoints.rpc)?;
    let mut filter = LogFilterView {
        contract: contract.map(|c| c.to_string()),
        topics,
        from_block: args.from_block,
        to_block: args.to_block,
        after: None,
        limit: None,
    };
    let mut printed = 0;
    loop {
        let page = L2ApiClient::get_logs(&rpc, filter.clone())
            .await
            .map_err(wallet::l2_error)?;
        for log in &page.logs {
            if printed == args.max {
                return Ok(());
            }
            println!(
                "{} {} {} 0x{}",
                log.position, log.contract, log.topic, log.data
            );
            printed += 1;
        }
        match page.next {
            Some(next) => filter.after = Some(next),
            None => return Ok(()),
        }
    }
}

async fn view(args: ViewArgs, endpoints: Endpoints) -> Result<()> {
    let contract = parse_address(&args.address)?;
    let input = parse_hex_input(&args.input, "--input")?;
    let rpc = wallet::client(&endpoints.rpc)?;
    let request = CallRequest {
        contract: contract.to_string(),
        input: hex::encode(input),
        from: args.from,
        fuel: args.fuel,
    };
    let out = L2ApiClient::call(&rpc, request)
        .await
        .map_err(wallet::l2_error)?;
    println!("block      {}", out.block);
    println!("outcome    {}", out.status);
    println!("fuel used  {}", out.fuel_used);
    print_return_and_events(&out.return_data, &out.events);
    if out.discarded_writes + out.discarded_moves > 0 {
        println!(
            "discarded  {} storage writes, {} token moves",
            out.discarded_writes, out.discarded_moves
        );
    }
    if let Some(reason) = out.failure {
        bail!("the call failed: {reason}");
    }
    Ok(())
}

async fn proof(args: ProofArgs, endpoints: Endpoints) -> Result<()> {
    let rpc = wallet::client(&endpoints.rpc)?;
    let keys = (!args.keys.is_empty()).then_some(args.keys);
    let proof = L2ApiClient::get_proof(&rpc, args.target, keys)
        .await
        .map_err(wallet::l2_error)?;
    println!("{}", serde_json::to_string_pretty(&proof)?);
    Ok(())
}

async fn storage(args: StorageArgs, endpoints: Endpoints) -> Result<()> {
    let contract = parse_address(&args.address)?;
    let key = Hash32::from_hex(&args.key)
        .with_context(|| format!("{:?} is not a 32-byte hex key", args.key))?;
    let rpc = wallet::client(&endpoints.rpc)?;
    let value = L2ApiClient::get_storage(&rpc, contract.to_string(), key.to_hex())
        .await
        .map_err(wallet::l2_error)?;
    match value {
        Some(value) => println!("0x{value}"),
        None => println!("(absent)"),
    }
    Ok(())
}

async fn deploy(args: DeployArgs, endpoints: Endpoints) -> Result<()> {
    // `parse_file` passes binary modules through and compiles text.
    let code = wat::parse_file(&args.file)
        .with_context(|| format!("{} is not a WebAssembly module", args.file.display()))?;
    // The executor would charge for a module over the limit and fail it: refuse here.
    if code.len() > CONTRACT_CODE_BYTES_MAX {
        bail!(
            "the module is {} bytes, over the {CONTRACT_CODE_BYTES_MAX}-byte limit",
            code.len()
        );
    }
    let rpc = wallet::client(&endpoints.rpc)?;
    let key = wallet::keypair(&args.sender.from, &endpoints.wallet_dir)?;
    let (from, nonce) = wallet::l2_account(&rpc, &key.public_key())
        .await?
        .with_context(|| format!("{} has no L2 account yet", args.sender.from))?;
    println!("contract {}", contract_address(from, nonce));
    let init = parse_hex_input(&args.init, "--init")?;
    let mut tx = Transaction::Deploy {
        from,
        code,
        init,
        token: args.sender.token,
        value: args.sender.value,
        fee: 0,
        nonce,
    };
    with_margin(&rpc, args.fee, &mut tx).await?;
    let hash = wallet::submit(&rpc, &key, tx, "deploy").await?;
    watch(&rpc, &hash, args.sender.wait, &endpoints).await
}

/// Sets a deploy or call's fee: `fee`, or the estimate plus a fifth (a maximum:
/// what it does not use is refunded).
async fn with_margin(
    rpc: &jsonrpsee::http_client::HttpClient,
    fee: Option<Amount>,
    tx: &mut Transaction,
) -> Result<()> {
    wallet::fee_or_estimate(rpc, fee, tx).await?;
    if fee.is_none() {
        let estimate = tx.fee();
        let with_margin = estimate.saturating_add(estimate / 5);
        tx.set_fee(with_margin);
        println!("max fee {with_margin} (the estimate plus a fifth; the unused part is refunded)");
    }
    Ok(())
}

/// A contract address given as 64 hex digits (with or without 0x).
fn parse_address(text: &str) -> Result<ContractAddress> {
    ContractAddress::from_hex(text)
        .with_context(|| format!("{text:?} is not a 32-byte hex address"))
}

/// A contract input given as hex (with or without 0x), within the size limit.
fn parse_hex_input(text: &str, flag: &str) -> Result<Vec<u8>> {
    let input = hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .with_context(|| format!("{flag} must be hex"))?;
    if input.len() > CALL_INPUT_BYTES_MAX {
        bail!(
            "{flag} is {} bytes, over the {CALL_INPUT_BYTES_MAX}-byte limit",
            input.len()
        );
    }
    Ok(input)
}

async fn call(args: CallArgs, endpoints: Endpoints) -> Result<()> {
    let contract = parse_address(&args.address)?;
    let input = parse_hex_input(&args.input, "--input")?;
    if args.fuel == 0 || args.fuel > CALL_FUEL_MAX {
        bail!("--fuel must be in 1..={CALL_FUEL_MAX}");
    }
    let rpc = wallet::client(&endpoints.rpc)?;
    let key = wallet::keypair(&args.sender.from, &endpoints.wallet_dir)?;
    let (from, nonce) = wallet::l2_account(&rpc, &key.public_key())
        .await?
        .with_context(|| format!("{} has no L2 account yet", args.sender.from))?;
    let mut tx = Transaction::Call {
        from,
        contract,
        input,
        fuel_limit: args.fuel,
        token: args.sender.token,
        value: args.sender.value,
        fee: 0,
        nonce,
    };
    with_margin(&rpc, args.fee, &mut tx).await?;
    let hash = wallet::submit(&rpc, &key, tx, "call").await?;
    watch(&rpc, &hash, args.sender.wait, &endpoints).await
}

/// Waits for `wait` (if asked) and, once executed, prints the receipt; fails with
/// the reason if the transaction failed.
async fn watch(
    rpc: &HttpClient,
    hash: &Hash32,
    wait: Option<WaitFor>,
    endpoints: &Endpoints,
) -> Result<()> {
    let Some(target) = wait.filter(|target| *target > WaitFor::Accepted) else {
        return Ok(());
    };
    let reached = wallet::wait_for(rpc, hash, target, "accepted", endpoints.timeout()).await?;
    if reached.executed().is_none() {
        return Ok(());
    }
    let receipt = wallet::receipt(rpc, hash).await?;
    print_receipt(&receipt);
    if let Some(reason) = wallet::failure(&receipt) {
        bail!("transaction failed: {reason}");
    }
    Ok(())
}

/// The receipt, one fact a line; the failure reason is the command's error.
fn print_receipt(receipt: &ReceiptView) {
    println!("outcome    {}", receipt.outcome.status);
    println!("gas used   {}", receipt.gas_used);
    println!("fee paid   {}", receipt.fee_paid);
    print_return_and_events(&receipt.return_data, &receipt.events);
}

/// Return data (hex) and one line per event, as a receipt and a read call show them.
fn print_return_and_events(return_data: &str, events: &[EventView]) {
    if return_data.is_empty() {
        println!("return     (none)");
    } else {
        println!("return     0x{return_data}");
    }
    for event in events {
        println!(
            "event      topic {} data 0x{} (contract {})",
            event.topic, event.data, event.contract
        );
    }
}
