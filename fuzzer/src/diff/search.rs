//! The guided search: LibAFL mutates inputs (byte strings that the generators turn into cases) and keeps those that make capicola do something it had not done, by the engine's op-level coverage.
//!
//! Each worker thread runs its own pipeline; workers share what they keep through the run's pool, re-running
//! another's input for its coverage only (its oracles already checked it). LibAFL's type parameters stay in this
//! module.

use std::collections::HashSet;
use std::num::NonZeroUsize;

use libafl::Error;
use libafl::corpus::{Corpus, InMemoryCorpus};
use libafl::events::SimpleEventManager;
use libafl::executors::{Executor, ExitKind, HasObservers};
use libafl::feedbacks::MaxMapFeedback;
use libafl::fuzzer::{Evaluator, Fuzzer, StdFuzzer};
use libafl::inputs::HasMutatorBytes;
use libafl::inputs::{BytesInput, HasTargetBytes};
use libafl::monitors::NopMonitor;
use libafl::mutators::{HavocScheduledMutator, MutationResult, Mutator, havoc_mutations};
use libafl::observers::{HitcountsMapObserver, StdMapObserver};
use libafl::schedulers::QueueScheduler;
use libafl::stages::StdMutationalStage;
use libafl::state::{HasCorpus, HasExecutions, HasMaxSize, HasRand, StdState};
use libafl_bolts::Named;
use libafl_bolts::rands::{Rand, StdRand};
use libafl_bolts::tuples::{Handle, Handled, MatchNameRef, RefIndexable, tuple_list};

use super::coverage::{MAP_SIZE, OpCoverage};
use super::engine::MemoryDump;
use super::generate::{INPUT_HEADER, MAX_INPUT, case_from_input, random_input};
use super::report::DiffError;
use super::rng::Rng;
use super::shared::Shared;

/// Name of the op-level coverage observer.
const OPS: &str = "engine-ops";

/// Most mutants of each kind a stage makes of a scheduled input (LibAFL's default, 128, spends too many cases
/// on one input: a mutated `wasm-smith` input is a rather different module already).
const MUTANTS: NonZeroUsize = NonZeroUsize::new(8).expect("8 is not zero");

/// Random inputs each worker starts from.
const INITIAL_INPUTS: u64 = 16;

type OpsObserver = HitcountsMapObserver<StdMapObserver<'static, u8, false>>;

/// Turns an input into a case, observes capicola's op-level coverage of it and (unless it only replays another
/// worker's input) has every oracle check it.
struct CaseExecutor<'s, 'a, OT> {
    shared: &'s Shared<'a>,
    coverage: OpCoverage,
    observers: OT,
    ops: Handle<OpsObserver>,
    /// Only observe: the input is another worker's, already checked.
    replay: bool,
    /// Hashes of the cases this worker ran: a mutant that changes bytes no generator reads (past the end of what
    /// `wasm-smith` took, or anything but the few bytes a spec case reads) is the same case again, not run twice.
    seen: HashSet<u64>,
}

impl<EM, I, S, Z, OT> Executor<EM, I, S, Z> for CaseExecutor<'_, '_, OT>
where
    I: HasTargetBytes,
    S: HasExecutions,
    OT: MatchNameRef,
{
    fn run_target(
        &mut self,
        _fuzzer: &mut Z,
        state: &mut S,
        _mgr: &mut EM,
        input: &I,
    ) -> Result<ExitKind, Error> {
        *state.executions_mut() += 1;
        let config = self.shared.config;
        let case = case_from_input(
            config.source,
            &input.target_bytes(),
            self.shared.canonicalize_nans,
        );
        let hash = MemoryDump {
            bytes: case.to_file(),
        }
        .hash();
        // A case run before: the map stays empty and the input uninteresting.
        if !self.seen.insert(hash) {
            return Ok(ExitKind::Ok);
        }
        let index = if self.replay {
            None
        } else {
            match self.shared.claim() {
                Some(index) => Some(index),
                // Out of cases or time.
                None => return Ok(ExitKind::Ok),
            }
        };
        let observer = self
            .observers
            .get_mut(&self.ops)
            .ok_or_else(|| Error::illegal_state("the executor has no op-coverage observer"))?;
        let map: &mut [u8] = observer;
        self.coverage.observe(&case, map);
        if let Some(index) = index {
            self.shared.check(index, &case, map);
        }
        Ok(ExitKind::Ok)
    }
}

impl<OT> HasObservers for CaseExecutor<'_, '_, OT> {
    type Observers = OT;

    fn observers(&self) -> RefIndexable<&OT, OT> {
        RefIndexable::from(&self.observers)
    }

    fn observers_mut(&mut self) -> RefIndexable<&mut OT, OT> {
        RefIndexable::from(&mut self.observers)
    }
}

/// Draws new arguments (and pause points) for the same module: rewrites the seed in the input's header.
#[derive(Debug, Default)]
struct CallSeedMutator;

impl Named for CallSeedMutator {
    fn name(&self) -> &std::borrow::Cow<'static, str> {
        static NAME: std::borrow::Cow<'static, str> = std::borrow::Cow::Borrowed("CallSeedMutator");
        &NAME
    }
}

impl<I, S> Mutator<I, S> for CallSeedMutator
where
    I: HasMutatorBytes,
    S: HasRand,
{
    fn mutate(&mut self, state: &mut S, input: &mut I) -> Result<MutationResult, Error> {
        let seed = state.rand_mut().next().to_le_bytes();
        match input.mutator_bytes_mut().get_mut(1..INPUT_HEADER) {
            Some(header) => {
                header.copy_from_slice(&seed);
                Ok(MutationResult::Mutated)
            }
            None => Ok(MutationResult::Skipped),
        }
    }

    fn post_exec(
        &mut self,
        _state: &mut S,
        _new_corpus_id: Option<libafl::corpus::CorpusId>,
    ) -> Result<(), Error> {
        Ok(())
    }
}

/// Runs one worker of a guided diff run until the run is over. Worker `w` seeds its mutator with the
/// run's seed plus `w` and starts from random inputs of its own.
pub(crate) fn run_worker(shared: &Shared<'_>, worker: usize) -> Result<(), DiffError> {
    search(shared, worker).map_err(|e| DiffError::Search(e.to_string()))
}

fn search(shared: &Shared<'_>, worker: usize) -> Result<(), Error> {
    let config = shared.config;
    // Observer: the op-level coverage map of each case, in AFL hit-count classes.
    let ops = HitcountsMapObserver::new(StdMapObserver::owned(OPS, vec![0u8; MAP_SIZE]));

    // Feedback: an input is kept when its map has an entry, or a hit-count class of one, no kept input had.
    // Objective: none; the oracles' findings are saved by the run as the executor meets them.
    let mut feedback = MaxMapFeedback::new(&ops);
    let mut objective = ();

    let mut state = StdState::new(
        StdRand::with_seed(config.seed.wrapping_add(worker as u64)),
        InMemoryCorpus::<BytesInput>::new(),
        InMemoryCorpus::new(),
        &mut feedback,
        &mut objective,
    )?;
    state.set_max_size(MAX_INPUT);

    // Scheduler: the kept inputs in turn. (LibAFL's `MinimizerScheduler` walks a hash map whose order changes from
    // process to process, which would make a seeded run unrepeatable; it did not reach more features here.)
    let mut fuzzer = StdFuzzer::new(QueueScheduler::new(), feedback, objective);

    // Executor: input -> case -> coverage run -> oracles.
    let ops_handle = ops.handle();
    let mut executor = CaseExecutor {
        shared,
        coverage: OpCoverage::new(config.limits),
        observers: tuple_list!(ops),
        ops: ops_handle,
        replay: false,
        seen: HashSet::new(),
    };

    // Stages: new arguments for the scheduled input's module, then havoc mutations of the input.
    let mut stages = tuple_list!(
        StdMutationalStage::with_max_iterations(CallSeedMutator, MUTANTS),
        StdMutationalStage::with_max_iterations(
            HavocScheduledMutator::new(havoc_mutations()),
            MUTANTS
        )
    );

    let mut mgr = SimpleEventManager::new(NopMonitor::new());

    // Initial inputs: random ones, the first kept whatever its coverage, so the queue is never empty.
    for i in 0..INITIAL_INPUTS {
        let mut rng = Rng::for_case(config.seed, (worker as u64) << 32 | i);
        let input = BytesInput::new(random_input(&mut rng));
        if state.corpus().count() == 0 {
            fuzzer.add_input(&mut state, &mut executor, &mut mgr, input)?;
        } else {
            fuzzer.evaluate_input(&mut state, &mut executor, &mut mgr, &input)?;
        }
    }

    let mut fresh = Rng::for_case(config.seed, (worker as u64) << 32 | INITIAL_INPUTS);
    let mut imported = 0;
    let mut exported = 0;
    while !shared.done() {
        // Other workers' finds, for their coverage only.
        let theirs: Vec<Vec<u8>> = {
            let pool = shared.pool.lock().unwrap_or_else(|e| e.into_inner());
            let new = pool[imported.min(pool.len())..]
                .iter()
                .filter(|(w, _)| *w != worker)
                .map(|(_, input)| input.clone())
                .collect();
            imported = pool.len();
            new
        };
        executor.replay = true;
        for input in theirs {
            fuzzer.evaluate_input(&mut state, &mut executor, &mut mgr, &BytesInput::new(input))?;
        }
        executor.replay = false;
        exported = exported.max(state.corpus().count());

        let before = *state.executions();
        fuzzer.fuzz_one(&mut stages, &mut executor, &mut state, &mut mgr)?;
        // As many fresh random inputs as mutants: wasm-smith turns random bytes into very different modules,
        // which mutants of kept inputs alone do not reach.
        for _ in before..*state.executions() {
            let input = BytesInput::new(random_input(&mut fresh));
            fuzzer.evaluate_input(&mut state, &mut executor, &mut mgr, &input)?;
        }

        // This worker's finds, for the others.
        let count = state.corpus().count();
        if count > exported && config.jobs > 1 {
            let mut mine = Vec::new();
            for nth in exported..count {
                let id = state.corpus().nth(nth);
                let testcase = state.corpus().get(id)?.borrow();
                if let Some(input) = testcase.input() {
                    mine.push((worker, input.target_bytes().to_vec()));
                }
            }
            shared
                .pool
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(mine);
            exported = count;
        }
    }
    shared.add_corpus(state.corpus().count() as u64);
    Ok(())
}
