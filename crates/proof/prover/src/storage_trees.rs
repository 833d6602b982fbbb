//! Contract storage trees in the prover's store (issue 36, design B: see
//! `docs/contract-state-proof.md`): one depth-128 tree per contract account, the
//! shape of `ghostplane_stark::storage`, versioned with the account tree so that a
//! batch plan writes both atomically and a rewound plan rewinds both
//! ([`crate::AccountTree::rewind`] scans these columns too).
//!
//! Layout:
//! - column [`CF_STORAGE_NODES`]: `contract ‖ height ‖ index ‖ version` (4 + 1 + 16 +
//!   8 bytes, big endian) to a packed digest (32 bytes); a missing node is the empty
//!   subtree of its height;
//! - column [`CF_STORAGE_SLOTS`]: `contract ‖ index ‖ version` (4 + 16 + 8 bytes) to
//!   the borsh of the slot at that path (`None` once deleted).
//!
//! - column [`CF_STORAGE_CONTRACTS`]: `address ‖ version` (32 + 8 bytes) to the
//!   borsh of the contract's account id and code hash, recorded at its deploy.
//!
//! A node, slot or contract read "now" is the pending one, else the newest
//! committed one. [`StorageTrees::step`] gives the proof step of one slot (its leaf
//! and path as the trees stand) and applies its write; [`StorageTrees::stage`] adds
//! the pending updates to the caller's write batch at a version, which the caller
//! commits with the account tree's ([`crate::AccountTree`] owns one and does).
//!
//! [`StorageTrees::complete`] is what settlement's planning runs on a batch's ops
//! before the merkleizer: it registers each deploy, gives every contract
//! transaction its `StorageProof` op (a step per slot its trace read or wrote, in
//! `ContractTrace::storage_accesses` order) and ends the batch with a `ContractKey`
//! op per contract whose storage root the batch changed, in account order: the
//! rule ghostd's commit check (`ghostd_rollup::storage`) holds the ops to.
//!
//! Limits: pending updates grow by at most 129 nodes and one slot per step; the
//! caller stages them once per batch.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ghostplane_primitives::tx::{code_hash, contract_address};
use ghostplane_primitives::{
    AccountId, CompactPath, ContractAddress, ContractTrace, Hash32, PubdataOp, PublicKey,
    StorageProof, Transaction,
};
use ghostplane_stark::hash::Digest;
use ghostplane_stark::storage::{
    STORAGE_DEPTH, SlotLeaf, SlotStep, compact_path, contract_key_field, empty_storage_root,
    empty_storage_subtree, slot_index, written_leaf,
};
use ghostplane_stark::tree::{above, parent};
use ghostplane_stark::wire::{pack_digest, unpack_digest};
use rocksdb::{DB, WriteBatch};

use crate::error::ProverError;
use crate::tree::{cf, read_versioned};

/// Column of storage tree nodes.
pub const CF_STORAGE_NODES: &str = "storage_nodes";
/// Column of storage slots.
pub const CF_STORAGE_SLOTS: &str = "storage_slots";
/// Column of deployed contracts (address to account id and code hash).
pub const CF_STORAGE_CONTRACTS: &str = "storage_contracts";

/// A deployed contract: its account and code hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct DeployedContract {
    /// Its account id.
    pub account: u32,
    /// The blake3 hash of its code.
    pub code_hash: [u8; 32],
}

/// The key field a contract's account leaf holds with storage root `root`.
pub fn contract_leaf_key(
    address: &ContractAddress,
    code_hash: &Hash32,
    root: &Digest,
) -> PublicKey {
    PublicKey(contract_key_field(&address.0, &code_hash.0, root))
}

/// The key field of a newly deployed contract's account leaf (empty storage).
pub fn new_contract_leaf_key(address: &ContractAddress, code_hash: &Hash32) -> PublicKey {
    contract_leaf_key(address, code_hash, &empty_storage_root())
}

/// A slot: its key and value.
type Slot = ([u8; 32], Vec<u8>);

fn node_key(contract: u32, height: u8, index: u128, version: u64) -> [u8; 29] {
    let mut k = [0u8; 29];
    k[..4].copy_from_slice(&contract.to_be_bytes());
    k[4] = height;
    k[5..21].copy_from_slice(&index.to_be_bytes());
    k[21..].copy_from_slice(&version.to_be_bytes());
    k
}

fn contract_key(address: &ContractAddress, version: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&address.0);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

fn slot_key(contract: u32, index: u128, version: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..4].copy_from_slice(&contract.to_be_bytes());
    k[4..20].copy_from_slice(&index.to_be_bytes());
    k[20..].copy_from_slice(&version.to_be_bytes());
    k
}

/// Every contract's storage tree.
pub struct StorageTrees {
    db: Arc<DB>,
    nodes: HashMap<(u32, u8, u128), Digest>,
    slots: HashMap<(u32, u128), Option<Slot>>,
    contracts: HashMap<[u8; 32], DeployedContract>,
}

impl StorageTrees {
    /// The trees stored in `db` (opened by [`crate::open_db`]).
    pub fn open(db: Arc<DB>) -> Result<Self, ProverError> {
        cf(&db, CF_STORAGE_NODES)?;
        cf(&db, CF_STORAGE_SLOTS)?;
        cf(&db, CF_STORAGE_CONTRACTS)?;
        Ok(Self {
            db,
            nodes: HashMap::new(),
            slots: HashMap::new(),
            contracts: HashMap::new(),
        })
    }

    fn node(&self, contract: u32, height: usize, index: u128) -> Result<Digest, ProverError> {
        if let Some(d) = self.nodes.get(&(contract, height as u8, index)) {
            return Ok(*d);
        }
        self.node_at(contract, height, index, u64::MAX)
    }

    /// A committed node as of `version`.
    fn node_at(
        &self,
        contract: u32,
        height: usize,
        index: u128,
        version: u64,
    ) -> Result<Digest, ProverError> {
        let key = node_key(contract, height as u8, index, version);
        match read_versioned(&self.db, CF_STORAGE_NODES, &key, 21)? {
            Some(bytes) => {
                let packed: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| ProverError::Corrupt("storage node"))?;
                unpack_digest(&packed).map_err(|_| ProverError::Corrupt("storage node"))
            }
            None => Ok(empty_storage_subtree(height)),
        }
    }

    fn slot(&self, contract: u32, index: u128) -> Result<Option<Slot>, ProverError> {
        if let Some(slot) = self.slots.get(&(contract, index)) {
            return Ok(slot.clone());
        }
        self.slot_at(contract, index, u64::MAX)
    }

    /// A committed slot as of `version`.
    fn slot_at(
        &self,
        contract: u32,
        index: u128,
        version: u64,
    ) -> Result<Option<Slot>, ProverError> {
        let key = slot_key(contract, index, version);
        match read_versioned(&self.db, CF_STORAGE_SLOTS, &key, 20)? {
            Some(bytes) => borsh::from_slice::<Option<Slot>>(&bytes)
                .map_err(|_| ProverError::Corrupt("storage slot")),
            None => Ok(None),
        }
    }

    /// The contract deployed at `address`, if any.
    pub fn contract(
        &self,
        address: &ContractAddress,
    ) -> Result<Option<DeployedContract>, ProverError> {
        if let Some(c) = self.contracts.get(&address.0) {
            return Ok(Some(*c));
        }
        self.contract_at(address, u64::MAX)
    }

    /// The contract deployed at `address` as of committed `version`, if any.
    pub fn contract_at(
        &self,
        address: &ContractAddress,
        version: u64,
    ) -> Result<Option<DeployedContract>, ProverError> {
        match read_versioned(
            &self.db,
            CF_STORAGE_CONTRACTS,
            &contract_key(address, version),
            32,
        )? {
            Some(bytes) => borsh::from_slice(&bytes)
                .map(Some)
                .map_err(|_| ProverError::Corrupt("deployed contract")),
            None => Ok(None),
        }
    }

    /// Records a deploy: the contract at `address` has account `account` and code
    /// hash `code_hash`.
    pub fn register(&mut self, address: &ContractAddress, account: AccountId, code_hash: &Hash32) {
        self.contracts.insert(
            address.0,
            DeployedContract {
                account: account.get(),
                code_hash: code_hash.0,
            },
        );
    }

    /// Contract `contract`'s storage root now.
    pub fn root(&self, contract: AccountId) -> Result<Digest, ProverError> {
        self.node(contract.get(), STORAGE_DEPTH, 0)
    }

    /// Contract `contract`'s storage root as of committed `version`.
    pub fn root_at(&self, contract: AccountId, version: u64) -> Result<Digest, ProverError> {
        self.node_at(contract.get(), STORAGE_DEPTH, 0, version)
    }

    /// What slot `key` of `contract` held as of committed `version`, with its
    /// path (a read: nothing pending is seen or changed). Checks against
    /// [`Self::root_at`] with `ghostplane_stark::storage::apply_steps`.
    pub fn step_at(
        &self,
        contract: AccountId,
        key: &[u8; 32],
        version: u64,
    ) -> Result<SlotStep, ProverError> {
        let c = contract.get();
        let index = slot_index(key);
        let mut siblings = [empty_storage_subtree(0); STORAGE_DEPTH];
        for (h, sibling) in siblings.iter_mut().enumerate() {
            *sibling = self.node_at(c, h, above(index, h) ^ 1, version)?;
        }
        let stored = self.slot_at(c, index, version)?;
        Ok(SlotStep {
            key: *key,
            old: SlotLeaf::of(key, stored.as_ref().map(|(k, v)| (k, v.as_slice()))),
            path: compact_path(&siblings),
        })
    }

    /// The proof step of slot `key` of `contract` (its leaf and path as the trees
    /// stand), then the write `new` if given (`Some(None)`: delete). A write to a
    /// path another key holds is refused and changes nothing.
    pub fn step(
        &mut self,
        contract: AccountId,
        key: &[u8; 32],
        new: Option<Option<&[u8]>>,
    ) -> Result<SlotStep, ProverError> {
        let c = contract.get();
        let index = slot_index(key);
        let mut siblings = [empty_storage_subtree(0); STORAGE_DEPTH];
        for (h, sibling) in siblings.iter_mut().enumerate() {
            *sibling = self.node(c, h, above(index, h) ^ 1)?;
        }
        let stored = self.slot(c, index)?;
        let old = SlotLeaf::of(key, stored.as_ref().map(|(k, v)| (k, v.as_slice())));
        if let Some(new) = new
            && let Some(leaf) = written_leaf(&old, key, new)?
        {
            let mut digest = leaf;
            self.nodes.insert((c, 0, index), digest);
            for (h, sibling) in siblings.iter().enumerate() {
                digest = parent(&digest, sibling, index, h);
                self.nodes
                    .insert((c, h as u8 + 1, above(index, h + 1)), digest);
            }
            self.slots
                .insert((c, index), new.map(|value| (*key, value.to_vec())));
        }
        Ok(SlotStep {
            key: *key,
            old,
            path: compact_path(&siblings),
        })
    }

    /// Whether updates are pending.
    pub fn is_dirty(&self) -> bool {
        !self.nodes.is_empty() || !self.contracts.is_empty()
    }

    /// Drops the pending updates.
    pub fn discard(&mut self) {
        self.nodes.clear();
        self.slots.clear();
        self.contracts.clear();
    }

    /// A batch's ops (as the sequencer's blocks carry them) completed with their
    /// storage proofs and `ContractKey` ops, applying every write (pending until
    /// [`Self::stage`]; [`Self::discard`] on error). See the module docs for the
    /// rule. Refused: ops that already carry either kind, a contract transaction
    /// without its trace, a write to a contract that is not deployed, a write to a
    /// path another key holds.
    pub fn complete(&mut self, ops: &[PubdataOp]) -> Result<Vec<PubdataOp>, ProverError> {
        let invalid = |op, reason| ProverError::InvalidOp { op, reason };
        let mut out = Vec::with_capacity(ops.len() + ops.len() / 2);
        // Each touched contract's address, code hash and root before the batch.
        let mut touched: BTreeMap<u32, (ContractAddress, Hash32, Digest)> = BTreeMap::new();
        let mut i = 0;
        while i < ops.len() {
            let op = &ops[i];
            if op.is_storage_completion() {
                return Err(invalid(i, "the ops already carry storage proofs"));
            }
            out.push(op.clone());
            i += 1;
            let Some(tx) = op.contract_tx() else {
                continue;
            };
            if let (PubdataOp::ContractTx { contract, .. }, Transaction::Deploy { code, .. }) =
                (op, tx)
            {
                let address = contract_address(tx.from(), tx.nonce());
                self.register(&address, *contract, &code_hash(code));
            }
            let Some(PubdataOp::ContractTrace(trace)) = ops.get(i) else {
                return Err(invalid(i - 1, "a contract transaction without its trace"));
            };
            out.push(ops[i].clone());
            i += 1;
            while let Some(m @ PubdataOp::ContractMove { .. }) = ops.get(i) {
                out.push(m.clone());
                i += 1;
            }
            let proof = self.prove_trace(trace, &mut touched).map_err(|e| match e {
                ProverError::InvalidOp { reason, .. } => invalid(i - 1, reason),
                e => e,
            })?;
            out.push(PubdataOp::StorageProof(Box::new(proof)));
        }
        for (account, (address, code_hash, before)) in touched {
            let account =
                AccountId::new(account).map_err(|_| ProverError::Corrupt("contract id"))?;
            let root = self.root(account)?;
            if root != before {
                out.push(PubdataOp::ContractKey {
                    contract: account,
                    key: contract_leaf_key(&address, &code_hash, &root),
                });
            }
        }
        Ok(out)
    }

    /// One transaction's storage proof: a step per slot its trace read or wrote,
    /// its writes applied.
    fn prove_trace(
        &mut self,
        trace: &ContractTrace,
        touched: &mut BTreeMap<u32, (ContractAddress, Hash32, Digest)>,
    ) -> Result<StorageProof, ProverError> {
        let mut steps = Vec::new();
        for access in trace.storage_accesses() {
            let Some(deployed) = self.contract(access.contract)? else {
                // Only a failed deploy touches a contract that is not deployed:
                // it read its own empty storage and wrote nothing that stays.
                if access.write.is_some() {
                    return Err(ProverError::InvalidOp {
                        op: 0,
                        reason: "a trace writes storage of a contract that is not deployed",
                    });
                }
                steps.push(SlotStep {
                    key: *access.key,
                    old: SlotLeaf::Absent,
                    path: CompactPath::default(),
                });
                continue;
            };
            let account = AccountId::new(deployed.account)
                .map_err(|_| ProverError::Corrupt("contract id"))?;
            if let std::collections::btree_map::Entry::Vacant(entry) =
                touched.entry(deployed.account)
            {
                entry.insert((
                    *access.contract,
                    Hash32(deployed.code_hash),
                    self.root(account)?,
                ));
            }
            steps.push(self.step(account, access.key, access.write)?);
        }
        Ok(StorageProof { steps })
    }

    /// Moves the pending updates into `batch` as `version` (the account tree's
    /// version this batch commits: [`crate::AccountTree::commit`] with `batch`).
    pub fn stage(&mut self, version: u64, batch: &mut WriteBatch) -> Result<(), ProverError> {
        let nodes = cf(&self.db, CF_STORAGE_NODES)?;
        let slots = cf(&self.db, CF_STORAGE_SLOTS)?;
        let contracts = cf(&self.db, CF_STORAGE_CONTRACTS)?;
        for (address, deployed) in self.contracts.drain() {
            let bytes = borsh::to_vec(&deployed)
                .map_err(|_| ProverError::Corrupt("deployed contract encode"))?;
            batch.put_cf(
                contracts,
                contract_key(&ContractAddress(address), version),
                bytes,
            );
        }
        for ((c, h, i), digest) in self.nodes.drain() {
            batch.put_cf(nodes, node_key(c, h, i, version), pack_digest(&digest));
        }
        for ((c, i), slot) in self.slots.drain() {
            let bytes =
                borsh::to_vec(&slot).map_err(|_| ProverError::Corrupt("storage slot encode"))?;
            batch.put_cf(slots, slot_key(c, i, version), bytes);
        }
        Ok(())
    }
}
