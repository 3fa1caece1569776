//! A diff run: cases checked by every chosen oracle on parallel workers, until a case count or a time limit, with each finding saved as `.wasm` + `.wat` + a report of what differed.
//!
//! Two searches feed it. The guided one ([`super::search`], the default) mutates inputs with LibAFL and keeps
//! those that make the engine do something new by its op-level coverage ([`super::coverage`]); with one worker,
//! a seed and a case count it is the same run on any machine (a time limit, or workers sharing their finds, make
//! it depend on timing). The unguided one draws input `i` of seed `s` at random: the same case on any machine
//! and for any number of workers. Both measure the engine features every case reached, so the two compare.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::coverage::{MAP_SIZE, OpCoverage};
use super::generate::generate;
use super::report::{DiffConfig, DiffError, DiffEvents, DiffReport, PROGRESS_INTERVAL};
use super::rng::Rng;
use super::shared::Shared;

/// Native stack of each worker thread.
const WORKER_STACK: usize = 64 << 20;

/// Runs a diff run; `events` hears of each finding as it is saved and of the run's progress.
pub fn run_diff(config: &DiffConfig, events: &dyn DiffEvents) -> Result<DiffReport, DiffError> {
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
    let shared = Shared::new(config, events);
    let workers_done = AtomicBool::new(false);
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
        scope.spawn(|| tell_progress(&shared, &workers_done));
        let workers: Vec<_> = (0..config.jobs.max(1))
            .map(|i| {
                // Parsing and mutating modules recurses on deep nesting.
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, move || worker(i))
                    .expect("a worker thread can be started")
            })
            .collect();
        for handle in workers {
            if let Err(panic) = handle.join() {
                workers_done.store(true, Ordering::Relaxed);
                std::panic::resume_unwind(panic);
            }
        }
        workers_done.store(true, Ordering::Relaxed);
    });
    events.progress(&shared.progress());
    shared.finish()
}

/// Tells `shared`'s events where the run stands every [`PROGRESS_INTERVAL`] until the workers are done.
fn tell_progress(shared: &Shared<'_>, workers_done: &AtomicBool) {
    let mut last = Instant::now();
    while !workers_done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if last.elapsed() >= PROGRESS_INTERVAL {
            last = Instant::now();
            shared.events.progress(&shared.progress());
        }
    }
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
