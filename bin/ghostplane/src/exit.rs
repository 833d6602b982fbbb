//! `ghostplane exit`: leave the rollup without the operator (issue 37).
//!
//! `status` shows whether exit mode is on and why; `activate` switches it on
//! when it is due; `rebuild` rebuilds the L2 account tree from the L1 alone
//! (genesis and committed pubdata, checked against the L1's roots) into a local
//! directory; `claim` rebuilds, finds the key's account, and claims a token's
//! balance at the exit root with the key's signature and the account's path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ghostd_types::RpcL1;
use ghostd_types::api::RollupApiClient;
use ghostd_types::rollup::ExitClaim;
use ghostd_types::tx::{Call, RollupCall};
use ghostplane_primitives::{AccountId, L1Address, TokenId};
use ghostplane_prover::AccountTree;
use ghostplane_settlement::rebuild::{genesis_backend, rebuild};

use crate::wallet::{Endpoints, client, keypair, l1_error, public_key, send_l1};

#[derive(Subcommand)]
pub enum ExitCommand {
    /// Whether the rollup is in exit mode, since when and why.
    Status,
    /// Switch the rollup into exit mode (refused unless a deposit or forced
    /// withdrawal is overdue past the exit window or a committed batch stayed
    /// unproven that long).
    Activate {
        /// The L1 key that signs the transaction (any key: it pays nothing).
        #[arg(long)]
        from: String,
    },
    /// Rebuild the L2 account tree from the L1 alone, into `--state-dir`.
    Rebuild(StateDir),
    /// Claim an L2 account's balance of a token at the exit root.
    Claim(ClaimArgs),
}

#[derive(Subcommand)]
pub enum RollupCommand {
    /// Revert the committed, unproven batches after `--to` (operator only): a
    /// batch that can never be proven stops halting finality; the running
    /// devnet's settlement plans the batches again and commits them.
    Revert {
        /// The last batch kept (at least the last finalized one).
        #[arg(long)]
        to: u64,
        /// The operator's L1 key (a wallet name, or the devnet's `operator`).
        #[arg(long)]
        from: String,
    },
}

pub async fn run_rollup(command: RollupCommand, endpoints: Endpoints) -> Result<()> {
    match command {
        RollupCommand::Revert { to, from } => {
            let key = keypair(&from, &endpoints.wallet_dir)?;
            let l1 = client(&endpoints.l1_rpc)?;
            send_l1(
                &l1,
                &key,
                Call::Rollup(RollupCall::RevertBatches { to }),
                endpoints.timeout(),
            )
            .await?;
            let status = RollupApiClient::status(&l1).await.map_err(l1_error)?;
            println!(
                "reverted to batch {to}: {} committed, {} finalized",
                status.committed_batch, status.finalized_batch
            );
            Ok(())
        }
    }
}

#[derive(Args)]
pub struct StateDir {
    /// Where the rebuilt tree is kept (a later run resumes it).
    #[arg(long, default_value = "./.ghostplane/exit-state")]
    state_dir: PathBuf,
}

#[derive(Args)]
pub struct ClaimArgs {
    /// The L2 account's key (a wallet name, or devN): it signs the claim and the
    /// L1 transaction.
    #[arg(long)]
    from: String,
    /// The token to claim (its whole balance at the exit root).
    #[arg(long)]
    token: String,
    /// The L1 recipient (a wallet name or a 32-byte hex address); the key's own
    /// L1 address if left out.
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    state: StateDir,
}

pub async fn run(command: ExitCommand, endpoints: Endpoints) -> Result<()> {
    match command {
        ExitCommand::Status => status(&endpoints).await,
        ExitCommand::Activate { from } => {
            let key = keypair(&from, &endpoints.wallet_dir)?;
            let l1 = client(&endpoints.l1_rpc)?;
            send_l1(
                &l1,
                &key,
                Call::Rollup(RollupCall::ActivateExit),
                endpoints.timeout(),
            )
            .await?;
            status(&endpoints).await
        }
        ExitCommand::Rebuild(dir) => {
            rebuilt_tree(&endpoints, &dir.state_dir).await?;
            Ok(())
        }
        ExitCommand::Claim(args) => claim(args, &endpoints).await,
    }
}

async fn status(endpoints: &Endpoints) -> Result<()> {
    let l1 = client(&endpoints.l1_rpc)?;
    match RollupApiClient::get_exit(&l1).await.map_err(l1_error)? {
        None => {
            let status = RollupApiClient::status(&l1).await.map_err(l1_error)?;
            println!("exit mode  off");
            println!(
                "batches    {} committed, {} finalized",
                status.committed_batch, status.finalized_batch
            );
        }
        Some(exit) => {
            println!("exit mode  on since L1 block {}", exit.since);
            println!("why        {}", exit.reason);
            println!("exit root  {} (batch {})", exit.root, exit.batch);
            println!("reverted   {} batches", exit.reverted);
            println!("refunded   {} deposits", exit.refunded);
        }
    }
    Ok(())
}

/// The account tree rebuilt from the L1 alone in `dir` (resumed if there).
async fn rebuilt_tree(endpoints: &Endpoints, dir: &Path) -> Result<AccountTree> {
    let l1 = RpcL1::new(&endpoints.l1_rpc)?;
    let backend = genesis_backend(&l1).await?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = ghostplane_prover::open_db(dir)?;
    let mut tree = AccountTree::open(Arc::clone(&db), backend.tree_hash())?;
    let started = std::time::Instant::now();
    let done = rebuild(&l1, backend.as_ref(), &mut tree).await?;
    println!(
        "rebuilt from the L1 through batch {} ({} ops in {:.1} s); root {} matches the L1's finalized root",
        done.batch,
        done.ops,
        started.elapsed().as_secs_f64(),
        done.root
    );
    Ok(tree)
}

async fn claim(args: ClaimArgs, endpoints: &Endpoints) -> Result<()> {
    let key = keypair(&args.from, &endpoints.wallet_dir)?;
    let token = TokenId::from_symbol(&args.token).with_context(|| {
        format!(
            "unknown token {:?}: use GCC, SPIRIT, MANA or GHOST",
            args.token
        )
    })?;
    let recipient = match &args.to {
        Some(name) => L1Address(public_key(name, &endpoints.wallet_dir)?.0),
        None => L1Address(key.public_key().0),
    };
    let l1 = client(&endpoints.l1_rpc)?;
    let exit = RollupApiClient::get_exit(&l1)
        .await
        .map_err(l1_error)?
        .context("the rollup is not in exit mode (`ghostplane exit status`)")?;
    let tree = rebuilt_tree(endpoints, &args.state.state_dir).await?;
    if tree.version() != exit.batch {
        bail!(
            "the rebuilt tree is at batch {}, the exit root is batch {}'s",
            tree.version(),
            exit.batch
        );
    }
    let status = RollupApiClient::status(&l1).await.map_err(l1_error)?;
    let wanted = key.public_key();
    // Leaves only while searching (the tree is at the exit batch); one path.
    let mut tree = tree;
    let mut found = None;
    for id in 0..status.next_account {
        let account = AccountId::new(id)?;
        if tree.leaf(account)?.is_some_and(|l| l.public_key == wanted) {
            found = Some(account);
            break;
        }
    }
    let account =
        found.with_context(|| format!("no L2 account has key {wanted} at the exit root"))?;
    let (leaf, path) = tree.proof_at(account, exit.batch)?;
    let leaf = leaf.context("the account's leaf vanished from the rebuilt tree")?;
    if RollupApiClient::exit_claimed(&l1, account.get(), token.symbol().into())
        .await
        .map_err(l1_error)?
    {
        bail!("account {account}'s {token} was already claimed");
    }
    let amount = leaf.balances[usize::from(token.id())];
    let chain_id = RpcL1::new(&endpoints.l1_rpc)?
        .genesis()
        .await?
        .rollup
        .l2_chain_id;
    let message = ExitClaim::signing_message(chain_id, account, token, &recipient);
    let claim = ExitClaim {
        account,
        leaf,
        path,
        token,
        recipient,
        signature: key.sign_bytes(&message),
    };
    send_l1(
        &l1,
        &key,
        Call::Rollup(RollupCall::ExitClaim(claim)),
        endpoints.timeout(),
    )
    .await?;
    println!("claimed {amount} {token} of account {account} to {recipient}");
    Ok(())
}
