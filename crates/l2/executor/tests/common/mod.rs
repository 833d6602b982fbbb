//! Shared setup for the executor's tests: a store in a temp dir with funded accounts.

#![allow(dead_code)]

use ghostplane_executor::{BlockInput, BlockItem, BlockOutput, Executor, ExecutorConfig};
use ghostplane_primitives::{
    AccountId, Amount, BlockNumber, ContractAddress, DEVNET_CHAIN_ID, Keypair, L2Genesis,
    Recipient, SignedTransaction, TokenId, Transaction,
};
use tempfile::TempDir;

/// Initial balance of every token for each genesis account.
pub const FUNDS: Amount = 1_000_000_000;

pub struct Chain {
    pub dir: TempDir,
    pub executor: Executor,
    pub keys: Vec<Keypair>,
    pub next_block: u64,
}

pub fn key(i: u32) -> Keypair {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    seed[31] = 0x5a;
    Keypair::from_seed(&seed)
}

pub fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap()
}

impl Chain {
    /// `accounts` funded accounts (ids 0..accounts); account 0 collects fees.
    pub fn new(accounts: u32, threads: usize) -> Self {
        Self::with_config(
            accounts,
            ExecutorConfig {
                threads,
                // Small test blocks must take the parallel path too.
                parallel_items_min: 0,
                ..ExecutorConfig::default()
            },
        )
    }

    /// [`Chain::new`] with an executor configured by `config`.
    pub fn with_config(accounts: u32, config: ExecutorConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = Executor::open(dir.path(), config).unwrap();
        let keys: Vec<Keypair> = (0..accounts).map(key).collect();
        let genesis = L2Genesis::new(keys.iter().map(|k| (k.public_key(), [FUNDS; 4])));
        executor.genesis(genesis, 1_700_000_000_000).unwrap();
        Self {
            dir,
            executor,
            keys,
            next_block: 1,
        }
    }

    pub fn block(&self, items: Vec<BlockItem>) -> BlockInput {
        BlockInput {
            number: BlockNumber(self.next_block),
            timestamp_ms: 1_700_000_000_000 + self.next_block * 100,
            fee_account: id(0),
            items,
        }
    }

    /// Executes (in parallel), checks it equals sequential execution, commits.
    pub fn run(&mut self, items: Vec<BlockItem>) -> BlockOutput {
        let block = self.block(items);
        let output = self.executor.execute(&block).unwrap();
        assert_eq!(output, self.executor.execute_sequential(&block).unwrap());
        self.executor.commit(&output).unwrap();
        self.next_block += 1;
        output
    }

    pub fn balance(&self, account: u32, token: TokenId) -> Amount {
        self.executor
            .snapshot()
            .balance(id(account), token)
            .unwrap()
    }

    pub fn nonce(&self, account: u32) -> u64 {
        self.executor
            .snapshot()
            .account(id(account))
            .unwrap()
            .map_or(0, |a| a.nonce)
    }

    pub fn sign(&self, from: u32, tx: Transaction) -> BlockItem {
        BlockItem::transaction(self.keys[from as usize].sign(DEVNET_CHAIN_ID, tx))
    }

    pub fn transfer(
        &self,
        from: u32,
        to: u32,
        token: TokenId,
        amount: Amount,
        fee: Amount,
        nonce: u64,
    ) -> BlockItem {
        self.sign(
            from,
            Transaction::Transfer {
                from: id(from),
                to: Recipient::Account(id(to)),
                token,
                amount,
                fee,
                nonce,
            },
        )
    }

    pub fn deploy(&self, from: u32, code: Vec<u8>, nonce: u64) -> BlockItem {
        self.deploy_with_init(from, code, Vec::new(), nonce)
    }

    /// A deploy whose `init` runs with `init`.
    pub fn deploy_with_init(
        &self,
        from: u32,
        code: Vec<u8>,
        init: Vec<u8>,
        nonce: u64,
    ) -> BlockItem {
        self.sign(
            from,
            Transaction::Deploy {
                token: TokenId::Gcc,
                value: 0,
                from: id(from),
                code,
                init,
                fee: 10_000_000,
                nonce,
            },
        )
    }

    pub fn call(
        &self,
        from: u32,
        contract: ContractAddress,
        input: Vec<u8>,
        nonce: u64,
    ) -> BlockItem {
        self.sign(
            from,
            Transaction::Call {
                token: TokenId::Gcc,
                value: 0,
                from: id(from),
                contract,
                input,
                fuel_limit: 1_000_000,
                fee: 1_000_000,
                nonce,
            },
        )
    }
}

impl Chain {
    /// A deploy moving `value` of `token` to the new contract.
    pub fn deploy_with_value(
        &self,
        from: u32,
        code: Vec<u8>,
        init: Vec<u8>,
        (token, value): (TokenId, Amount),
        nonce: u64,
    ) -> BlockItem {
        self.sign(
            from,
            Transaction::Deploy {
                token,
                value,
                from: id(from),
                code,
                init,
                fee: 10_000_000,
                nonce,
            },
        )
    }

    /// A call moving `value` of `token` to the contract.
    pub fn call_with_value(
        &self,
        from: u32,
        contract: ContractAddress,
        input: Vec<u8>,
        (token, value): (TokenId, Amount),
        nonce: u64,
    ) -> BlockItem {
        self.sign(
            from,
            Transaction::Call {
                token,
                value,
                from: id(from),
                contract,
                input,
                fuel_limit: 1_000_000,
                fee: 1_000_000,
                nonce,
            },
        )
    }
}

pub fn signed(tx: &BlockItem) -> &SignedTransaction {
    match tx {
        BlockItem::Transaction { tx, .. } => tx,
        BlockItem::Deposit(_) | BlockItem::ForcedWithdrawal(_) => panic!("not a transaction"),
    }
}

pub fn contract(name: &str) -> Vec<u8> {
    let path = format!("{}/contracts/{name}.wat", env!("CARGO_MANIFEST_DIR"));
    wat::parse_file(&path).unwrap()
}
