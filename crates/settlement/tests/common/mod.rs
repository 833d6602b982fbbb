//! Helpers shared by settlement's tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ghostplane_prover::Coordinator;
use ghostplane_prover::coordinator::JobId;

/// Proves every ready job in-process, as one worker would: one session per
/// coordinator (told apart by its backend), registered again if it lapsed, since
/// a coordinator bounds its workers.
pub fn prove_ready(coordinator: &Coordinator) {
    static SESSIONS: OnceLock<Mutex<HashMap<usize, String>>> = OnceLock::new();
    let backend = coordinator.backend();
    let id = Arc::as_ptr(backend) as *const () as usize;
    let circuit = hex::encode(coordinator.params_hash());
    let register = || {
        coordinator
            .register(&circuit, "test", None)
            .unwrap()
            .session
    };
    let sessions = SESSIONS.get_or_init(Mutex::default);
    let mut session = sessions
        .lock()
        .unwrap()
        .entry(id)
        .or_insert_with(register)
        .clone();
    loop {
        let lease = match coordinator.lease(&session) {
            Ok(lease) => lease,
            Err(_) => {
                session = register();
                sessions.lock().unwrap().insert(id, session.clone());
                coordinator.lease(&session).unwrap()
            }
        };
        let Some(lease) = lease else {
            return;
        };
        let witness = hex::decode(&lease.witness).unwrap();
        let proof = hex::encode(backend.prove(&witness).unwrap());
        let job = JobId::parse(&lease.job).unwrap();
        coordinator.submit(&session, job, &proof, 1).unwrap();
    }
}
