//! Helpers shared by settlement's tests.

use ghostplane_prover::Coordinator;
use ghostplane_prover::coordinator::JobId;

/// Proves every ready job in-process, as a worker would.
pub fn prove_ready(coordinator: &Coordinator) {
    let backend = coordinator.backend();
    let circuit = hex::encode(coordinator.params_hash());
    let session = coordinator
        .register(&circuit, "test", None)
        .unwrap()
        .session;
    while let Some(lease) = coordinator.lease(&session).unwrap() {
        let witness = hex::decode(&lease.witness).unwrap();
        let proof = hex::encode(backend.prove(&witness).unwrap());
        let job = JobId::parse(&lease.job).unwrap();
        coordinator.submit(&session, job, &proof, 1).unwrap();
    }
}
