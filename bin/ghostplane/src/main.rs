//! # ghostplane
//!
//! The shipped Ghostplane binary: operator and user commands. It wires the library
//! crates together; no protocol logic lives here. The client commands (wallet,
//! contract, id, name, ledger) live in this package's library (`src/lib.rs`), which the harness
//! binary `ghostplane-bench` (load, soak, benchmarks) links too.
//!
//! ```text
//! ghostplane devnet [--ephemeral]          L1 + L2 + prover + settlement in one process
//! ghostplane l1                           standalone ghostd (L1) with the devnet genesis
//! ghostplane sequencer [--data-dir D] ...  standalone L2 node: sequencer + executor
//! ghostplane prover --coordinator ADDR     prover worker (also `prover info|setup`)
//! ghostplane wallet new|list|balance       named keys and balances on both layers
//! ghostplane tx transfer|deposit|withdraw|status [--wait STATUS]
//! ghostplane contract deploy FILE|call ADDRESS [--input HEX] [--wait STATUS]
//! ghostplane exit status|activate|rebuild|claim   leave without the operator
//! ghostplane ledger transfer|pay|post|void|mint|burn|flags|account|transfers|supply …
//! ghostplane key new                      new ed25519 key (seed + public key)
//! ghostplane key public --seed HEX        public key of a seed
//! ghostplane tx sign-transfer ...         sign a transfer offline, print its hex encoding
//! ghostplane tx inspect HEX               decode, check and verify a signed transaction
//! ```
//!

mod devnet;
mod prover;
mod sequencer;
mod testnet;

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use ghostplane::{contract, exit, identity, ledger, naming, parse_seed, runtime, wallet};
use ghostplane_primitives::{
    AccountId, Amount, ChainId, Codec, DEVNET_CHAIN_ID, Keypair, Nonce, PublicKey, Recipient,
    SignedTransaction, Transaction,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ghostplane",
    version,
    about = "Ghostplane L2 rollup: devnet, nodes, prover, wallet and transaction tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole devnet in one process: ghostd (L1), sequencer, executor, prover
    /// coordinator with a worker, settlement.
    Devnet(devnet::DevnetArgs),
    /// Run a standalone ghostd (L1) with the devnet genesis; settle a devnet on it
    /// with `ghostplane devnet --l1-url`.
    L1(devnet::L1Args),
    /// Wallet keys and balances.
    Wallet {
        #[command(subcommand)]
        command: wallet::WalletCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
    /// Run a standalone L2 node: JSON-RPC and QUIC ingest, WAL, blocks, executor.
    Sequencer(sequencer::SequencerArgs),
    /// Prover worker (`--coordinator ADDR --threads T`), `info` and key `setup`.
    Prover(prover::ProverArgs),
    /// ed25519 account keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// did:ghost identities on the L1: create, show, keys, services, controllers,
    /// grants, deactivation and access tokens.
    Id {
        #[command(subcommand)]
        command: identity::IdCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
    /// .ghost names on the L1: register, renew, transfer, managers, subnames,
    /// records, primary names, resolve and reverse.
    Name {
        #[command(subcommand)]
        command: naming::NameCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
    /// The L1 ledger: transfers (plain, linked, two-phase), post, void, mint, burn,
    /// account flags, issuer, and reads (accounts, audit trail, history, supply).
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
    /// WASM contracts on the L2: deploy (`.wasm` or `.wat`) and call, printing the
    /// receipt (outcome, gas, fee, return data, events; the reason of a failure).
    Contract {
        #[command(subcommand)]
        command: contract::ContractCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
    /// Leave the rollup without the operator: exit mode's status, switching it on,
    /// the L2 state rebuilt from the L1 alone, and claims at the exit root.
    Exit {
        #[command(subcommand)]
        command: exit::ExitCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
    /// The rollup's operator actions on the L1: revert committed batches that
    /// cannot be proven.
    Rollup {
        #[command(subcommand)]
        command: exit::RollupCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
    /// Send transactions (transfer, deposit, withdraw), watch them, and offline tools.
    Tx {
        #[command(subcommand)]
        command: TxCommand,
        #[command(flatten)]
        endpoints: wallet::Endpoints,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Generate a new key from the OS random source and print its seed and public key.
    New,
    /// Print the public key of a secret seed.
    Public {
        /// 32-byte secret seed, hex.
        #[arg(long)]
        seed: String,
    },
}

#[derive(Subcommand)]
enum TxCommand {
    /// Transfer on L2.
    Transfer(wallet::TransferArgs),
    /// Deposit from an L1 ledger account to L2.
    Deposit(wallet::DepositArgs),
    /// Withdraw from L2 to an L1 address (released when its batch is final).
    Withdraw(wallet::WithdrawArgs),
    /// Force a withdrawal through the L1, without the sequencer's cooperation: it
    /// must be included within the forced-inclusion window.
    ForceWithdraw(wallet::ForceWithdrawArgs),
    /// Show (or wait for) a transaction's L2 status.
    Status {
        /// Transaction hash (hex).
        hash: String,
        /// Wait until this status, printing each one reached.
        #[arg(long, value_enum)]
        wait: Option<wallet::WaitFor>,
    },
    /// Sign a transfer offline and print the signed transaction as hex.
    SignTransfer(SignTransfer),
    /// Decode a signed transaction (hex), run the stateless checks and verify its
    /// signature; exits non-zero if any of these fails.
    Inspect {
        /// The signed transaction, hex (with or without 0x).
        hex: String,
        /// Chain id the signature must be valid for.
        #[arg(long, default_value_t = DEVNET_CHAIN_ID.0)]
        chain_id: u64,
    },
}

#[derive(Args)]
struct SignTransfer {
    /// Sender's 32-byte secret seed, hex.
    #[arg(long, required_unless_present = "dev", conflicts_with = "dev")]
    seed: Option<String>,
    /// Use development key `i` (public seed; local chains only) instead of --seed.
    #[arg(long)]
    dev: Option<u32>,
    /// Sender account id.
    #[arg(long)]
    from: u32,
    /// Recipient: an account id, or a 32-byte public key (hex) to create a new account.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    value: wallet::TokenAmount,
    /// Fee in GCC base units.
    #[arg(long, default_value_t = 0)]
    fee: Amount,
    /// The sender's current nonce.
    #[arg(long)]
    nonce: Nonce,
    /// Chain id to sign for.
    #[arg(long, default_value_t = DEVNET_CHAIN_ID.0)]
    chain_id: u64,
}

fn parse_recipient(text: &str) -> Result<Recipient> {
    if let Ok(id) = text.parse::<u32>() {
        return Ok(Recipient::Account(AccountId::new(id)?));
    }
    let key = PublicKey::from_hex(text)
        .with_context(|| format!("--to {text:?} is neither an account id nor a 32-byte hex key"))?;
    Ok(Recipient::NewAccount(key))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Devnet(args) => runtime()?.block_on(devnet::run(args))?,
        Command::L1(args) => runtime()?.block_on(devnet::run_l1(args))?,
        Command::Wallet { command, endpoints } => {
            runtime()?.block_on(wallet::wallet(command, endpoints))?
        }
        Command::Tx {
            command: TxCommand::Transfer(args),
            endpoints,
        } => runtime()?.block_on(wallet::transfer(args, endpoints))?,
        Command::Tx {
            command: TxCommand::Deposit(args),
            endpoints,
        } => runtime()?.block_on(wallet::deposit(args, endpoints))?,
        Command::Tx {
            command: TxCommand::Withdraw(args),
            endpoints,
        } => runtime()?.block_on(wallet::withdraw(args, endpoints))?,
        Command::Tx {
            command: TxCommand::ForceWithdraw(args),
            endpoints,
        } => runtime()?.block_on(wallet::force_withdraw(args, endpoints))?,
        Command::Tx {
            command: TxCommand::Status { hash, wait },
            endpoints,
        } => runtime()?.block_on(wallet::status(hash, wait, endpoints))?,
        Command::Contract { command, endpoints } => {
            runtime()?.block_on(contract::run(command, endpoints))?
        }
        Command::Exit { command, endpoints } => {
            runtime()?.block_on(exit::run(command, endpoints))?
        }
        Command::Rollup { command, endpoints } => {
            runtime()?.block_on(exit::run_rollup(command, endpoints))?
        }
        Command::Id { command, endpoints } => {
            runtime()?.block_on(identity::run(command, endpoints))?
        }
        Command::Name { command, endpoints } => {
            runtime()?.block_on(naming::run(command, endpoints))?
        }
        Command::Ledger { command, endpoints } => {
            runtime()?.block_on(ledger::run(command, endpoints))?
        }
        Command::Sequencer(args) => runtime()?.block_on(sequencer::run(args))?,
        Command::Prover(args) => runtime()?.block_on(prover::run(args))?,
        Command::Key(KeyCommand::New) => {
            let keypair = Keypair::generate();
            println!("public_key={}", keypair.public_key().to_hex());
            println!("seed={}", hex::encode(keypair.seed()));
        }
        Command::Key(KeyCommand::Public { seed }) => {
            println!("public_key={}", parse_seed(&seed)?.public_key().to_hex());
        }
        Command::Tx {
            command: TxCommand::SignTransfer(args),
            ..
        } => {
            let keypair = match (&args.seed, args.dev) {
                (Some(seed), _) => parse_seed(seed)?,
                (None, Some(index)) => Keypair::dev(index),
                (None, None) => bail!("give --seed or --dev"),
            };
            let tx = Transaction::Transfer {
                from: AccountId::new(args.from)?,
                to: parse_recipient(&args.to)?,
                token: args.value.token_id()?,
                amount: args.value.amount,
                fee: args.fee,
                nonce: args.nonce,
            };
            tx.check_stateless()?;
            let signed = keypair.sign(ChainId(args.chain_id), tx);
            println!("{}", hex::encode(signed.encode()));
        }
        Command::Tx {
            command:
                TxCommand::Inspect {
                    hex: text,
                    chain_id,
                },
            ..
        } => {
            let bytes = hex::decode(text.trim().strip_prefix("0x").unwrap_or(text.trim()))
                .context("the transaction must be hex")?;
            let signed = SignedTransaction::decode(&bytes)?;
            println!("hash=0x{}", signed.hash().to_hex());
            println!("signer=0x{}", signed.signer.to_hex());
            println!("tx={:?}", signed.tx);
            signed.tx.check_stateless()?;
            if let Err(e) = signed.verify(ChainId(chain_id)) {
                bail!("{e} (chain id {chain_id})");
            }
            println!("signature=valid chain_id={chain_id}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    ghostplane::main_with(|| run(Cli::parse()))
}
