//! The L1 side: the genesis builder and transaction signing.

use ghostd_types::consensus::ConsensusMode;
use ghostd_types::ledger::{IssuerAuthority, bridge_escrow};
use ghostd_types::naming::NamingParams;
use ghostd_types::tx::{Call, L1_DEVNET_CHAIN_ID, L1Transaction, SignedL1Transaction};
use ghostd_types::{Genesis, ProofParams, RollupGenesis};
use ghostplane_primitives::{
    Amount, ChainId, DEVNET_CHAIN_ID, FieldBytes, Keypair, L1Address, Nonce, PublicKey, TokenId,
};

/// The L1 address of an ed25519 key (the same 32 bytes).
pub fn l1_address(key: &PublicKey) -> L1Address {
    L1Address(key.0)
}

/// Signs `call` from `key` at `nonce` on the devnet L1 ([`L1_DEVNET_CHAIN_ID`]).
pub fn sign_l1(key: &Keypair, nonce: Nonce, call: impl Into<Call>) -> SignedL1Transaction {
    sign_l1_on(L1_DEVNET_CHAIN_ID, key, nonce, call)
}

/// Signs `call` from `key` at `nonce` on the L1 `chain_id`.
pub fn sign_l1_on(
    chain_id: u64,
    key: &Keypair,
    nonce: Nonce,
    call: impl Into<Call>,
) -> SignedL1Transaction {
    L1Transaction {
        chain_id,
        from: key.public_key(),
        nonce,
        call: call.into(),
    }
    .sign(key)
}

/// A test's L1 [`Genesis`]: the devnet defaults (crate docs), changed by one method
/// per field. Allocations are kept in the order they are added (the genesis hash
/// and the ledger's genesis transfer ids depend on it).
#[derive(Debug, Clone)]
pub struct L1GenesisBuilder {
    genesis: Genesis,
}

impl L1GenesisBuilder {
    /// The defaults, for a rollup proven with `proof`.
    pub fn new(proof: ProofParams) -> Self {
        Self {
            genesis: Genesis {
                chain_id: L1_DEVNET_CHAIN_ID,
                timestamp_ms: 0,
                allocations: Vec::new(),
                naming: NamingParams::default(),
                issuers: Vec::new(),
                consensus: ConsensusMode::Solo,
                rollup: RollupGenesis {
                    l2_chain_id: DEVNET_CHAIN_ID,
                    operators: Vec::new(),
                    proof,
                    genesis_root: FieldBytes::ZERO,
                    genesis_accounts: Vec::new(),
                    forced_inclusion_blocks: 100,
                    exit_window_blocks: ghostd_types::rollup::EXIT_WINDOW_BLOCKS_DEFAULT,
                    forced_withdrawal_fee: ghostd_types::rollup::FORCED_WITHDRAWAL_FEE_DEFAULT,
                    genesis_balances: Vec::new(),
                    deposit_queue_max: 100,
                    contract_fees: Default::default(),
                    batch_fuel_max: ghostplane_primitives::trace::BATCH_FUEL_MAX_DEFAULT,
                },
            },
        }
    }

    /// Genesis time, ms since the epoch.
    pub fn timestamp_ms(mut self, timestamp_ms: u64) -> Self {
        self.genesis.timestamp_ms = timestamp_ms;
        self
    }

    /// Allocates `amount` of `token` to `owner`.
    pub fn allocate(mut self, owner: L1Address, token: TokenId, amount: Amount) -> Self {
        self.genesis.allocations.push((owner, token, amount));
        self
    }

    /// Allocates `amount` of `token` to each of `keys`, in order.
    pub fn fund(
        mut self,
        keys: impl IntoIterator<Item = PublicKey>,
        token: TokenId,
        amount: Amount,
    ) -> Self {
        let allocations = keys
            .into_iter()
            .map(|key| (l1_address(&key), token, amount));
        self.genesis.allocations.extend(allocations);
        self
    }

    /// Allocates `amount` of every token ([`TokenId::ALL`], in order) to `owner`.
    pub fn fund_all_tokens(mut self, owner: L1Address, amount: Amount) -> Self {
        let allocations = TokenId::ALL.into_iter().map(|token| (owner, token, amount));
        self.genesis.allocations.extend(allocations);
        self
    }

    /// Allocates `amount` of every token to the bridge escrow: what backs the L2
    /// genesis balances, so that they can be withdrawn.
    pub fn fund_escrow(self, amount: Amount) -> Self {
        self.fund_all_tokens(bridge_escrow(), amount)
    }

    /// The naming module's parameters.
    pub fn naming(mut self, naming: NamingParams) -> Self {
        self.genesis.naming = naming;
        self
    }

    /// Who may mint and burn each token.
    pub fn issuers(mut self, issuers: Vec<(TokenId, IssuerAuthority)>) -> Self {
        self.genesis.issuers = issuers;
        self
    }

    /// How blocks are decided.
    pub fn consensus(mut self, consensus: ConsensusMode) -> Self {
        self.genesis.consensus = consensus;
        self
    }

    /// The L2 chain id the rollup settles.
    pub fn l2_chain_id(mut self, l2_chain_id: ChainId) -> Self {
        self.genesis.rollup.l2_chain_id = l2_chain_id;
        self
    }

    /// Adds a key allowed to commit batches.
    pub fn operator(mut self, operator: PublicKey) -> Self {
        self.genesis.rollup.operators.push(operator);
        self
    }

    /// The account tree root of the L2 genesis.
    pub fn genesis_root(mut self, root: FieldBytes) -> Self {
        self.genesis.rollup.genesis_root = root;
        self
    }

    /// The keys of the L2 genesis accounts, in id order
    /// (`L2Genesis::keys`).
    pub fn genesis_accounts(mut self, keys: impl IntoIterator<Item = PublicKey>) -> Self {
        self.genesis.rollup.genesis_accounts = keys.into_iter().collect();
        self
    }

    /// The whole L2 genesis: its keys and balances, in id order.
    pub fn l2_genesis(mut self, genesis: &ghostplane_primitives::L2Genesis) -> Self {
        self.genesis.rollup.genesis_accounts = genesis.keys();
        self.genesis.rollup.genesis_balances =
            genesis.accounts().iter().map(|a| a.balances).collect();
        self
    }

    /// Exit mode may be switched on this many L1 blocks after a deposit's
    /// forced-inclusion deadline or an unproven batch's commit.
    pub fn exit_window_blocks(mut self, blocks: u64) -> Self {
        self.genesis.rollup.exit_window_blocks = blocks;
        self
    }

    /// A deposit must be consumed within this many L1 blocks.
    pub fn forced_inclusion_blocks(mut self, blocks: u64) -> Self {
        self.genesis.rollup.forced_inclusion_blocks = blocks;
        self
    }

    /// Most fuel a batch's contract transactions may be given.
    pub fn batch_fuel_max(mut self, fuel: u64) -> Self {
        self.genesis.rollup.batch_fuel_max = fuel;
        self
    }

    /// Most unconsumed deposits in the queue.
    pub fn deposit_queue_max(mut self, deposits: u64) -> Self {
        self.genesis.rollup.deposit_queue_max = deposits;
        self
    }

    /// The genesis.
    pub fn build(self) -> Genesis {
        self.genesis
    }
}
