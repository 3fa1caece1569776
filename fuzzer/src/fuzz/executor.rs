//! The LibAFL executors over a [`Target`]: the snapshot executor that runs each input from the baseline with a fuel limit, and the cmplog tracer that publishes comparison operands for input-to-state replacement.

use std::collections::HashSet;

use capicola_engine::CmpValues as EngineCmp;
use libafl::executors::{Executor, ExitKind, HasObservers};
use libafl::inputs::HasTargetBytes;
use libafl::observers::{CmpValues, CmpValuesMetadata, CmplogBytes};
use libafl::state::HasExecutions;
use libafl::{Error, HasMetadata};
use libafl_bolts::tuples::{Handle, MatchNameRef, RefIndexable};

use super::observers::OutcomeObserver;
use super::target::{InputOutcome, Target};

/// Most comparison operand pairs handed to the mutator per traced input.
const MAX_CMPS: usize = 4096;

/// How LibAFL sees an outcome: any trap, a libFuzzer `exit` and an engine bug are crashes; out of fuel or time is a
/// timeout. An input cut short by the end of the campaign is no result at all: the campaign is shutting down.
pub fn exit_kind(outcome: &InputOutcome) -> Result<ExitKind, Error> {
    Ok(match outcome {
        InputOutcome::Interrupted => return Err(Error::shutting_down()),
        InputOutcome::Ok { .. } => ExitKind::Ok,
        InputOutcome::Trapped(_) | InputOutcome::Exited { .. } | InputOutcome::EngineBug(_) => {
            ExitKind::Crash
        }
        InputOutcome::Timeout { .. } => ExitKind::Timeout,
    })
}

/// Runs each input on a [`Target`] reset to its baseline snapshot; the observers read the engine's own edge map.
#[derive(Debug)]
pub struct WasmExecutor<OT> {
    target: Target,
    observers: OT,
    outcome: Handle<OutcomeObserver>,
    /// The campaign's `--runs`: no input runs once the state has counted this many executions.
    max_execs: Option<u64>,
}

impl<OT> WasmExecutor<OT> {
    /// `observers` must hold the observer `outcome` is the handle of.
    pub fn new(target: Target, observers: OT, outcome: Handle<OutcomeObserver>) -> Self {
        WasmExecutor {
            target,
            observers,
            outcome,
            max_execs: None,
        }
    }

    /// From now on, stops the campaign (as its deadline does) at the input that would be execution
    /// `max_execs + 1`, so that `--runs N` ends after exactly N executions rather than at the end of the round of
    /// mutations it is in.
    pub fn limit_execs(&mut self, max_execs: Option<u64>) {
        self.max_execs = max_execs;
    }
}

impl<EM, I, S, Z, OT> Executor<EM, I, S, Z> for WasmExecutor<OT>
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
        if self.target.is_broken() {
            return Err(Error::illegal_state(
                "the engine panicked and the target could not be reset; the input was saved in engine-bugs/",
            ));
        }
        if self.max_execs.is_some_and(|max| *state.executions() >= max) {
            return Err(Error::shutting_down());
        }
        *state.executions_mut() += 1;
        let outcome = self.target.run(&input.target_bytes());
        let kind = exit_kind(&outcome)?;
        self.observers
            .get_mut(&self.outcome)
            .ok_or_else(|| Error::illegal_state("the executor has no outcome observer"))?
            .record(outcome);
        Ok(kind)
    }
}

impl<OT> HasObservers for WasmExecutor<OT> {
    type Observers = OT;

    fn observers(&self) -> RefIndexable<&OT, OT> {
        RefIndexable::from(&self.observers)
    }

    fn observers_mut(&mut self) -> RefIndexable<&mut OT, OT> {
        RefIndexable::from(&mut self.observers)
    }
}

/// Runs an input on a cmplog-instrumented [`Target`] and leaves its comparison operands in the state's
/// `CmpValuesMetadata`, where `I2SRandReplace` finds them. Without a target (cmplog off) it does nothing.
#[derive(Debug)]
pub struct CmpLogExecutor {
    target: Option<Target>,
    observers: (),
}

impl CmpLogExecutor {
    pub fn new(target: Option<Target>) -> Self {
        CmpLogExecutor {
            target,
            observers: (),
        }
    }
}

/// The operands of one logged comparison as LibAFL's mutator wants them: narrowed to the smallest width both fit
/// in (a byte compared with a character constant is a `U8` pair), equal pairs dropped (nothing to replace).
pub fn convert_cmp(cmp: &EngineCmp) -> Option<CmpValues> {
    match *cmp {
        EngineCmp::W32(a, b) => (a != b).then(|| narrow(u64::from(a), u64::from(b))),
        EngineCmp::W64(a, b) => (a != b).then(|| narrow(a, b)),
        EngineCmp::Bytes(ref a, ref b) => {
            // LibAFL replaces equal lengths only. Operands of different lengths come from string compares that
            // stopped at a NUL: the shorter gets its terminator back, and both are cut to the same length.
            let (mut a, mut b) = (a.clone(), b.clone());
            if a.len() != b.len() {
                let shorter = if a.len() < b.len() { &mut a } else { &mut b };
                if shorter.len() < 32 {
                    shorter.push(0);
                }
            }
            let len = a.len().min(b.len()).min(32);
            if len == 0 || a[..len] == b[..len] {
                return None;
            }
            Some(CmpValues::Bytes((
                cmplog_bytes(&a[..len]),
                cmplog_bytes(&b[..len]),
            )))
        }
    }
}

fn narrow(a: u64, b: u64) -> CmpValues {
    let wide = a.max(b);
    if wide <= 0xff {
        CmpValues::U8((a as u8, b as u8, false))
    } else if wide <= 0xffff {
        CmpValues::U16((a as u16, b as u16, false))
    } else if wide <= 0xffff_ffff {
        CmpValues::U32((a as u32, b as u32, false))
    } else {
        CmpValues::U64((a, b, false))
    }
}

fn cmplog_bytes(bytes: &[u8]) -> CmplogBytes {
    let len = bytes.len().min(32);
    let mut buf = [0u8; 32];
    buf[..len].copy_from_slice(&bytes[..len]);
    CmplogBytes::from_buf_and_len(buf, len as u8)
}

impl<EM, I, S, Z> Executor<EM, I, S, Z> for CmpLogExecutor
where
    I: HasTargetBytes,
    S: HasExecutions + HasMetadata,
{
    fn run_target(
        &mut self,
        _fuzzer: &mut Z,
        state: &mut S,
        _mgr: &mut EM,
        input: &I,
    ) -> Result<ExitKind, Error> {
        let Some(target) = &mut self.target else {
            return Ok(ExitKind::Ok);
        };
        *state.executions_mut() += 1;
        let outcome = target.run(&input.target_bytes());
        let mut unique = HashSet::new();
        let list: Vec<CmpValues> = target
            .cmp_log()
            .iter()
            .filter(|cmp| unique.insert(*cmp))
            .filter_map(convert_cmp)
            .take(MAX_CMPS)
            .collect();
        state.metadata_or_insert_with(CmpValuesMetadata::new).list = list;
        exit_kind(&outcome)
    }
}

impl HasObservers for CmpLogExecutor {
    type Observers = ();

    fn observers(&self) -> RefIndexable<&(), ()> {
        RefIndexable::from(&self.observers)
    }

    fn observers_mut(&mut self) -> RefIndexable<&mut (), ()> {
        RefIndexable::from(&mut self.observers)
    }
}
