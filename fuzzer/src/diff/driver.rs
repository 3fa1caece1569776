//! A diff run: cases checked by every chosen oracle on parallel workers, until a case count or a time limit, with each finding saved as `.wasm` + `.wat` + a report of what differed.
//!
//! Two searches feed it. The guided one ([`super::search`], the default) mutates inputs with LibAFL and keeps
//! those that make the engine do something new by its op-level coverage ([`super::coverage`]); with one worker,
//! a seed and a case count it is the same run on any machine (a time limit, or workers sharing their finds, make
//! it depend on timing). The unguided one draws input `i` of seed `s` at random: the same case on any machine
//! and for any number of workers. Both measure the engine features every case reached, so the two compare.

use super::coverage::{MAP_SIZE, OpCoverage};
use super::generate::generate;
use super::report::{DiffConfig, DiffError, DiffReport, Finding};
use super::rng::Rng;
use super::shared::Shared;

/// Native stack of each worker thread.
const WORKER_STACK: usize = 64 << 20;

/// Runs a diff run; `on_finding` hears of each finding as it is saved.
pub fn run_diff(
    config: &DiffConfig,
    on_finding: &(dyn Fn(&Finding) + Sync),
) -> Result<DiffReport, DiffError> {
    // Fail early when an oracle is not built in.
    for oracle in &config.oracles {
        oracle.engines(config.limits, config.seed)?;
    }
    if let Some(out) = &config.out {
        std::fs::create_dir_all(out).map_err(|source| DiffError::Save {
            path: out.clone(),
            source,
        })?;
    }
    let shared = Shared::new(config, on_finding);
    let worker = |worker: usize| {
        let result = if config.guided {
            super::search::run_worker(&shared, worker)
        } else {
            unguided_worker(&shared);
            Ok(())
        };
        if let Err(e) = result {
            shared.fail(e);
        }
    };
    std::thread::scope(|scope| {
        for i in 0..config.jobs.max(1) {
            // Parsing and mutating modules recurses on deep nesting.
            std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, move || worker(i))
                .expect("a worker thread can be started");
        }
    });
    shared.finish()
}

/// The seeded random search: case `i` is [`generate`] of `Rng::for_case(seed, i)`.
fn unguided_worker(shared: &Shared<'_>) {
    let config = shared.config;
    let mut coverage = OpCoverage::new(config.limits);
    let mut map = vec![0; MAP_SIZE];
    while let Some(index) = shared.claim() {
        let mut rng = Rng::for_case(config.seed, index);
        let case = generate(config.source, &mut rng, shared.canonicalize_nans);
        coverage.observe(&case, &mut map);
        shared.check(index, &case, &map);
    }
}
