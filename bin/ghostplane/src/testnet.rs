//! `ghostplane l1 init-testnet` and `ghostplane l1 status`: what a validator
//! operator runs besides the node itself.
//!
//! `init-testnet` writes a BFT genesis (the devnet's accounts and rollup, plus a
//! validator set), one key file per validator, and `commands.txt`: one command
//! line per validator on 127.0.0.1 ports that do not collide (validator i: JSON-RPC
//! `base + 10·i`, p2p `+1`, metrics `+2`, DNS `+3`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ghostd::Genesis;
use ghostd_types::api::ConsensusApiClient;
use ghostd_types::consensus::{
    BftParams, ConsensusMode, GenesisValidator, Timeouts, VALIDATORS_MAX,
};
use ghostplane_primitives::Keypair;
use jsonrpsee::http_client::HttpClientBuilder;

use crate::devnet::{devnet_genesis, devnet_genesis_root};
use ghostplane::backend::BackendArgs;

/// `ghostplane l1 <command>`.
#[derive(Subcommand)]
pub enum L1Command {
    /// Write a BFT testnet: genesis, validator keys, and the command line of each
    /// validator (`DIR/commands.txt`).
    InitTestnet(InitTestnetArgs),
    /// Show a node's consensus state: height, round, the last commit's signers,
    /// peers, and whether it is syncing.
    Status {
        /// The node's JSON-RPC.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
    },
}

/// Options of `l1 init-testnet`.
#[derive(Args)]
pub struct InitTestnetArgs {
    /// Number of validators (each gets voting power 1).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Validator 0's JSON-RPC port; validator i uses base + 10·i (p2p +1, metrics
    /// +2, DNS +3).
    #[arg(long, default_value_t = 8545)]
    base_port: u16,
    /// Development accounts of the genesis (as `ghostplane devnet`, so a devnet can
    /// settle on this network).
    #[arg(long, default_value_t = 16)]
    dev_accounts: u32,
    /// Forced-inclusion window for deposits (L1 blocks).
    #[arg(long, default_value_t = 600)]
    forced_inclusion_blocks: u64,
    /// How long a round waits for its proposal (ms).
    #[arg(long, default_value_t = Timeouts::default().propose_ms)]
    propose_ms: u64,
    /// The `ghostplane` binary named in the commands.
    #[arg(long, default_value = "ghostplane")]
    binary: String,
    /// The proof system of the rollup genesis.
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs an operator command.
pub async fn run(command: L1Command) -> Result<()> {
    match command {
        L1Command::InitTestnet(args) => init_testnet(args).await,
        L1Command::Status { rpc } => status(&rpc).await,
    }
}

/// Reads a genesis file (borsh, as `init-testnet` writes it).
pub fn read_genesis(path: &Path) -> Result<Genesis> {
    let bytes = std::fs::read(path).with_context(|| format!("genesis {}", path.display()))?;
    borsh::from_slice(&bytes)
        .with_context(|| format!("genesis {} is not a genesis", path.display()))
}

/// Reads a validator key file (64 hex digits: the ed25519 seed).
pub fn read_key(path: &Path) -> Result<Keypair> {
    let text = std::fs::read_to_string(path).with_context(|| format!("key {}", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .with_context(|| format!("key {} is not 64 hex digits", path.display()))?;
    Ok(Keypair::from_seed(&seed))
}

fn write_key(path: &Path, key: &Keypair) -> Result<()> {
    std::fs::write(path, format!("{}\n", hex::encode(key.seed())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Ports of validator (or full node) `i`.
pub fn ports(base: u16, i: usize) -> Result<[u16; 4]> {
    let rpc = u16::try_from(usize::from(base) + 10 * i).context("port out of range")?;
    Ok([rpc, rpc + 1, rpc + 2, rpc + 3])
}

async fn init_testnet(args: InitTestnetArgs) -> Result<()> {
    if args.validators == 0 || args.validators > VALIDATORS_MAX {
        bail!("--validators must be 1 to {VALIDATORS_MAX}");
    }
    ports(args.base_port, args.validators + 1)?;
    std::fs::create_dir_all(&args.out)?;
    let out = std::fs::canonicalize(&args.out)?;
    let backend_args = args.backend.clone();
    let backend = tokio::task::spawn_blocking(move || backend_args.load(true))
        .await?
        .context("proof backend")?;
    let mut genesis = devnet_genesis(
        backend.as_ref(),
        args.dev_accounts,
        (
            args.forced_inclusion_blocks,
            ghostd_types::rollup::EXIT_WINDOW_BLOCKS_DEFAULT,
        ),
        devnet_genesis_root(backend.as_ref(), args.dev_accounts)?,
        ghostd_types::rollup::ContractFees {
            data_price: crate::devnet::DATA_PRICE_DEFAULT,
            ..Default::default()
        },
    );
    let keys: Vec<Keypair> = (0..args.validators).map(|_| Keypair::generate()).collect();
    let mut validators = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let [_, p2p, _, _] = ports(args.base_port, i)?;
        validators.push(GenesisValidator {
            key: k.public_key(),
            power: 1,
            p2p: Some(format!("127.0.0.1:{p2p}")),
        });
    }
    genesis.consensus = ConsensusMode::Bft(BftParams {
        validators,
        timeouts: Timeouts {
            propose_ms: args.propose_ms,
            ..Timeouts::default()
        },
    });
    let genesis_path = out.join("genesis.borsh");
    std::fs::write(
        &genesis_path,
        ghostplane_primitives::codec::to_bytes(&genesis),
    )?;
    let proof = match args.backend.proof_system {
        ghostplane_prover::ProofSystem::Stark => String::new(),
        ghostplane_prover::ProofSystem::Groth16 => " --proof-system groth16".into(),
    };
    let mut commands = String::new();
    for (i, key) in keys.iter().enumerate() {
        let key_path = out.join(format!("validator-{i}.key"));
        write_key(&key_path, key)?;
        let [rpc, p2p_port, metrics, dns] = ports(args.base_port, i)?;
        // Peers come from the genesis (each validator dials those before it).
        let _ = writeln!(
            commands,
            "{} l1 --genesis {} --validator-key {} --data-dir {} --rpc-addr 127.0.0.1:{rpc} --p2p-addr 127.0.0.1:{p2p_port} --metrics-addr 127.0.0.1:{metrics} --dns-addr 127.0.0.1:{dns}{proof}",
            args.binary,
            genesis_path.display(),
            key_path.display(),
            out.join(format!("node-{i}")).display(),
        );
    }
    std::fs::write(out.join("commands.txt"), &commands)?;
    let [rpc, p2p_port, metrics, dns] = ports(args.base_port, args.validators)?;
    let full = format!(
        "{} l1 --genesis {} --data-dir {} --rpc-addr 127.0.0.1:{rpc} --p2p-addr 127.0.0.1:{p2p_port} --metrics-addr 127.0.0.1:{metrics} --dns-addr 127.0.0.1:{dns}{proof}\n",
        args.binary,
        genesis_path.display(),
        out.join("full-node").display(),
    );
    std::fs::write(out.join("full-node.txt"), &full)?;
    println!(
        "testnet of {} validators in {} (genesis {})",
        args.validators,
        out.display(),
        genesis.hash()
    );
    println!("  genesis     {}", genesis_path.display());
    println!("  validators  {}", out.join("commands.txt").display());
    println!("  full node   {}", out.join("full-node.txt").display());
    print!("{commands}");
    Ok(())
}

async fn status(rpc: &str) -> Result<()> {
    let client = HttpClientBuilder::default()
        .build(rpc)
        .with_context(|| format!("bad RPC address {rpc}"))?;
    let s = ConsensusApiClient::status(&client)
        .await
        .with_context(|| format!("cannot reach ghostd at {rpc}"))?;
    println!("mode        {}", s.mode);
    println!("height      {}", s.height);
    if let (Some(h), Some(r)) = (s.consensus_height, s.round) {
        println!("consensus   height {h} round {r}");
    }
    println!(
        "role        {}",
        s.validator
            .as_deref()
            .map(|k| format!("validator 0x{k}"))
            .unwrap_or_else(|| if s.mode == "bft" {
                "full node".into()
            } else {
                "solo sealer".into()
            })
    );
    println!(
        "last commit {} signers{}",
        s.last_commit_signers.len(),
        s.last_commit_signers
            .iter()
            .map(|k| format!("\n  0x{k}"))
            .collect::<String>()
    );
    println!("peers       {}", s.peers);
    println!(
        "syncing     {}{}",
        s.syncing,
        if s.syncing {
            format!(" (a peer is at {})", s.best_peer_height)
        } else {
            String::new()
        }
    );
    println!(
        "traffic     {} B sent, {} B received, {} messages dropped, {} synced blocks",
        s.bytes_sent, s.bytes_received, s.dropped, s.synced_blocks
    );
    if s.evidence > 0 {
        println!("evidence    {} equivocations stored", s.evidence);
    }
    Ok(())
}
