//! The layering rule (issue 34): API, type and client crates sit at the bottom and
//! link nothing heavy. For each crate in [`LIGHT_CRATES`], walks its resolved
//! normal (not dev, not build) dependency graph from `cargo metadata` and fails if
//! the contract runtime (wasmtime), the store (RocksDB), the proving stacks (Plonky3,
//! arkworks' constraint systems and Groth16) are reachable, naming the path that
//! pulls each one in.
//!
//! Not covered: arkworks' field and curve arithmetic ([`ARK_FIELD_ALLOWED`]), which
//! `ghostplane-primitives` needs for its BN254 Poseidon (account-tree hashes,
//! `FieldBytes`); moving that out of primitives is its own change.
//!
//! The graph is cargo's workspace-wide resolve, so features are unified across the
//! workspace: a superset of what a client linking one crate would build, which only
//! makes the check stricter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The crates that must stay light: what clients link.
const LIGHT_CRATES: &[&str] = &[
    "ghostplane-primitives",
    "ghostplane-rpc",
    "ghostplane-l2-api",
    "ghostplane-explorer",
    "ghostplane-proof-api",
    "ghostd-types",
];

/// arkworks crates the primitives' BN254 Poseidon needs (field and curve arithmetic,
/// no constraint system, no proof system).
const ARK_FIELD_ALLOWED: &[&str] = &[
    "ark-bn254",
    "ark-ec",
    "ark-ff",
    "ark-ff-asm",
    "ark-ff-macros",
    "ark-poly",
    "ark-serialize",
    "ark-serialize-derive",
    "ark-std",
];

/// Why a package may not be linked by a light crate, if it may not.
fn heavy(name: &str) -> Option<&'static str> {
    if name.starts_with("wasmtime") {
        Some("the contract runtime (wasmtime)")
    } else if name == "rocksdb" || name == "librocksdb-sys" {
        Some("the store (RocksDB)")
    } else if name.starts_with("p3-") {
        Some("the STARK prover (Plonky3)")
    } else if name.starts_with("ark-") && !ARK_FIELD_ALLOWED.contains(&name) {
        Some("the Groth16 prover (arkworks beyond field arithmetic)")
    } else {
        None
    }
}

/// The workspace's resolved dependency graph: package id → (name, normal deps).
struct Graph {
    names: BTreeMap<String, String>,
    normal_deps: BTreeMap<String, Vec<String>>,
    workspace: BTreeMap<String, String>,
}

impl Graph {
    fn load() -> Self {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let output = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(&manifest)
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
        let mut names = BTreeMap::new();
        for package in metadata["packages"].as_array().expect("packages") {
            names.insert(
                package["id"].as_str().expect("id").to_owned(),
                package["name"].as_str().expect("name").to_owned(),
            );
        }
        let workspace = metadata["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .map(|id| {
                let id = id.as_str().expect("member id").to_owned();
                (names[&id].clone(), id)
            })
            .collect();
        let mut normal_deps = BTreeMap::new();
        for node in metadata["resolve"]["nodes"].as_array().expect("resolve") {
            let deps = node["deps"]
                .as_array()
                .expect("deps")
                .iter()
                .filter(|dep| {
                    // `kind` is null for a normal dependency ("dev", "build" otherwise).
                    dep["dep_kinds"]
                        .as_array()
                        .expect("dep_kinds")
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|dep| dep["pkg"].as_str().expect("pkg").to_owned())
                .collect();
            normal_deps.insert(node["id"].as_str().expect("node id").to_owned(), deps);
        }
        Self {
            names,
            normal_deps,
            workspace,
        }
    }

    /// Every heavy package reachable from `root` by normal dependencies, each with
    /// the (shortest) path that reaches it.
    fn heavy_paths(&self, root: &str) -> Vec<String> {
        let start = self
            .workspace
            .get(root)
            .unwrap_or_else(|| panic!("{root} is not a workspace member"));
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start.as_str()]);
        let mut found = Vec::new();
        while let Some(id) = queue.pop_front() {
            let name = &self.names[id];
            if let Some(why) = heavy(name) {
                let mut path = vec![name.as_str()];
                let mut at = id;
                while let Some(&up) = parent.get(at) {
                    path.push(&self.names[up]);
                    at = up;
                }
                path.reverse();
                found.push(format!("{} ({why})", path.join(" -> ")));
                // Its own dependencies are the heavy crate's business.
                continue;
            }
            for dep in self.normal_deps.get(id).into_iter().flatten() {
                if dep != start && !parent.contains_key(dep.as_str()) {
                    parent.insert(dep, id);
                    queue.push_back(dep);
                }
            }
        }
        found
    }
}

#[test]
fn api_and_type_crates_link_nothing_heavy() {
    let graph = Graph::load();
    let mut failures = Vec::new();
    for root in LIGHT_CRATES {
        for path in graph.heavy_paths(root) {
            failures.push(path);
        }
    }
    assert!(
        failures.is_empty(),
        "API, type and client crates must not link the runtime, the store or a prover \
         (issue 34); these paths pull one in:\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn the_rule_sees_what_it_forbids() {
    for name in [
        "wasmtime",
        "wasmtime-environ",
        "rocksdb",
        "librocksdb-sys",
        "p3-uni-stark",
        "ark-groth16",
        "ark-relations",
    ] {
        assert!(heavy(name).is_some(), "{name} must count as heavy");
    }
    for name in [
        "ark-ff",
        "ark-bn254",
        "serde",
        "jsonrpsee",
        "ghostplane-primitives",
    ] {
        assert!(heavy(name).is_none(), "{name} must not count as heavy");
    }
    // The graph walk itself finds them: the prover links all three stacks' kinds.
    let graph = Graph::load();
    let prover = graph.heavy_paths("ghostplane-prover").join("\n");
    for needle in ["rocksdb", "p3-", "ark-groth16"] {
        assert!(
            prover.contains(needle),
            "the walk from ghostplane-prover must reach {needle}:\n{prover}"
        );
    }
}
