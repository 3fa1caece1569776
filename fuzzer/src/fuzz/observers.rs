//! The LibAFL observer of a run's outcome, the feedback that turns new failures into deduplicated findings on disk, and the corpus penalty of the minimizer scheduler.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use capicola_engine::Module;

use crate::debug::dwarf::DebugInfo;
use libafl::Error;
use libafl::corpus::Testcase;
use libafl::executors::ExitKind;
use libafl::feedbacks::{Feedback, StateInitializer};
use libafl::inputs::HasTargetBytes;
use libafl::observers::Observer;
use libafl::schedulers::TestcasePenalty;
use libafl::state::HasCorpus;
use libafl_bolts::tuples::{Handle, Handled, MatchNameRef};
use libafl_bolts::{HasLen, Named};
use serde::{Deserialize, Serialize};

use super::output::OutputDir;
use super::sanitizer::Symbols;
use super::target::{FindingClass, InputOutcome, Signature};

/// Holds the outcome of the last run (trap kind and backtrace, exit, out-of-fuel stack) for the feedbacks.
#[derive(Debug, Serialize, Deserialize)]
pub struct OutcomeObserver {
    name: Cow<'static, str>,
    #[serde(skip)]
    outcome: Option<InputOutcome>,
}

impl OutcomeObserver {
    pub fn new(name: &'static str) -> Self {
        OutcomeObserver {
            name: Cow::Borrowed(name),
            outcome: None,
        }
    }

    /// The outcome of the last run, if one was recorded.
    pub fn outcome(&self) -> Option<&InputOutcome> {
        self.outcome.as_ref()
    }

    pub fn record(&mut self, outcome: InputOutcome) {
        self.outcome = Some(outcome);
    }
}

impl Named for OutcomeObserver {
    fn name(&self) -> &Cow<'static, str> {
        &self.name
    }
}

impl<I, S> Observer<I, S> for OutcomeObserver {
    fn pre_exec(&mut self, _state: &mut S, _input: &I) -> Result<(), Error> {
        self.outcome = None;
        Ok(())
    }
}

/// The objective: a crash, timeout, out-of-memory or engine bug whose signature (trap kind + innermost backtrace)
/// was not seen before. Each new one is written to the output directory at once, atomically; one already on disk
/// (from before a resume, or from another core) is not new. Every input that hits a finding, new or not, is counted
/// into the finding's hits file (at once for a new one, at most every [`HITS_INTERVAL`] otherwise, and when the
/// feedback is dropped).
#[derive(Debug)]
pub struct FindingFeedback {
    observer: Handle<OutcomeObserver>,
    output: OutputDir,
    module: Module,
    /// The module's source lines, for sanitizer reports.
    debug_info: Option<DebugInfo>,
    /// Innermost frames that identify a finding (`TargetOptions::dedup_frames`).
    dedup_frames: usize,
    seen: HashSet<(FindingClass, u64)>,
    crashes: u64,
    /// Inputs that hit each finding since the counts were last written.
    hits: HashMap<Signature, u64>,
    hits_written: Instant,
}

/// How often the counts of inputs that hit findings are written at most.
const HITS_INTERVAL: Duration = Duration::from_secs(1);

impl FindingFeedback {
    pub fn new(
        observer: &OutcomeObserver,
        output: OutputDir,
        module: Module,
        debug_info: Option<DebugInfo>,
        dedup_frames: usize,
    ) -> Self {
        FindingFeedback {
            observer: observer.handle(),
            output,
            module,
            debug_info,
            dedup_frames,
            seen: HashSet::new(),
            crashes: 0,
            hits: HashMap::new(),
            hits_written: Instant::now(),
        }
    }

    /// Adds the inputs counted since the last time to the hits files.
    fn write_hits(&mut self) -> std::io::Result<()> {
        self.hits_written = Instant::now();
        for (signature, inputs) in self.hits.drain() {
            self.output.add_hits(&signature, inputs)?;
        }
        Ok(())
    }

    /// New crashes (not timeouts) this feedback saved.
    pub fn crashes_found(&self) -> u64 {
        self.crashes
    }
}

impl Named for FindingFeedback {
    fn name(&self) -> &Cow<'static, str> {
        static NAME: Cow<'static, str> = Cow::Borrowed("findings");
        &NAME
    }
}

impl<S> StateInitializer<S> for FindingFeedback {}

impl<EM, I, OT, S> Feedback<EM, I, OT, S> for FindingFeedback
where
    I: HasTargetBytes,
    OT: MatchNameRef,
{
    fn is_interesting(
        &mut self,
        _state: &mut S,
        _manager: &mut EM,
        input: &I,
        observers: &OT,
        exit_kind: &ExitKind,
    ) -> Result<bool, Error> {
        if *exit_kind == ExitKind::Ok {
            return Ok(false);
        }
        let outcome = observers
            .get(&self.observer)
            .and_then(OutcomeObserver::outcome)
            .ok_or_else(|| Error::illegal_state("the outcome observer recorded nothing"))?;
        let Some(signature) = outcome.signature(&self.module, self.dedup_frames) else {
            return Ok(false);
        };
        *self.hits.entry(signature.clone()).or_default() += 1;
        if !self.seen.insert((signature.class, signature.hash)) {
            if self.hits_written.elapsed() >= HITS_INTERVAL {
                self.write_hits()
                    .map_err(|e| Error::os_error(e, "cannot count a finding's inputs"))?;
            }
            return Ok(false);
        }
        let detail = outcome.describe(&Symbols {
            module: &self.module,
            debug_info: self.debug_info.as_ref(),
        });
        let new = self
            .output
            .save_finding(&signature, &input.target_bytes(), &detail)
            .map_err(|e| Error::os_error(e, "cannot save a finding in the output directory"))?;
        if new && signature.class == FindingClass::Crash {
            self.crashes += 1;
        }
        self.write_hits()
            .map_err(|e| Error::os_error(e, "cannot count a finding's inputs"))?;
        Ok(new)
    }
}

impl Drop for FindingFeedback {
    fn drop(&mut self) {
        // The counts are advisory, as the stats files are: a campaign ending does not fail for them.
        let _ = self.write_hits();
    }
}

/// Ranks corpus entries by length alone: the smallest entry covering an edge is its favourite. (LibAFL's default
/// multiplies by execution time, which makes runs depend on the machine; fuel-limited runs need no time factor.)
#[derive(Debug, Clone, Copy)]
pub struct LenPenalty;

impl<I, S> TestcasePenalty<I, S> for LenPenalty
where
    S: HasCorpus<I>,
    I: HasLen,
{
    fn compute(state: &S, entry: &mut Testcase<I>) -> Result<f64, Error> {
        let len = entry.load_len(state.corpus())?;
        Ok(len as f64)
    }
}
