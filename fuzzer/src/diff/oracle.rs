//! The oracles: which engine is under test and which is the reference for each question `capicola diff` asks.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use super::capicola::{CapicolaEngine, Mode};
use super::case::Case;
use super::compare::{Verdict, compare};
use super::engine::{DiffEngine, Limits};
use super::wasmi::WasmiEngine;

/// The engine under test and its reference.
pub type EnginePair = (Box<dyn DiffEngine>, Box<dyn DiffEngine>);

/// A question about capicola and the pair of engines that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Oracle {
    /// capicola against wasmi.
    Wasmi,
    /// capicola against wasmtime (needs the `wasmtime` cargo feature).
    Wasmtime,
    /// Snapshot transparency: paused, serialized, restored into a fresh store and resumed, against straight.
    Snapshot,
    /// Reset transparency: reset to a baseline after a dirtying run, against freshly instantiated.
    Reset,
}

impl Oracle {
    /// The oracles CI can run: every one but wasmtime.
    pub const DEFAULT: [Oracle; 3] = [Oracle::Wasmi, Oracle::Snapshot, Oracle::Reset];

    pub fn name(self) -> &'static str {
        match self {
            Oracle::Wasmi => "wasmi",
            Oracle::Wasmtime => "wasmtime",
            Oracle::Snapshot => "snapshot",
            Oracle::Reset => "reset",
        }
    }

    /// Whether the oracle compares capicola with another engine, which may pick NaN bits differently.
    pub fn crosses_engines(self) -> bool {
        matches!(self, Oracle::Wasmi | Oracle::Wasmtime)
    }

    /// The engine under test and the reference. `seed` varies pause points and dirtying runs.
    pub fn engines(self, limits: Limits, seed: u64) -> Result<EnginePair, OracleError> {
        let straight = Box::new(CapicolaEngine::new(Mode::Straight, limits));
        Ok(match self {
            Oracle::Wasmi => (straight, Box::new(WasmiEngine::new(limits))),
            Oracle::Wasmtime => (straight, wasmtime_engine(limits)?),
            Oracle::Snapshot => (
                Box::new(CapicolaEngine::new(
                    Mode::Snapshot {
                        seed,
                        per_call: 6,
                        max_gap: 2_000,
                    },
                    limits,
                )),
                straight,
            ),
            Oracle::Reset => (
                Box::new(CapicolaEngine::new(Mode::Reset { seed }, limits)),
                straight,
            ),
        })
    }

    /// Runs `case` through this oracle; a panic of either engine is a finding too.
    pub fn check(self, case: &Case, limits: Limits) -> Result<CaseOutcome, OracleError> {
        let (mut test, mut reference) = self.engines(limits, case.seed)?;
        Ok(check_with(case, test.as_mut(), reference.as_mut()))
    }
}

impl fmt::Display for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(feature = "wasmtime")]
fn wasmtime_engine(limits: Limits) -> Result<Box<dyn DiffEngine>, OracleError> {
    super::wasmtime::WasmtimeEngine::new(limits)
        .map(|e| Box::new(e) as Box<dyn DiffEngine>)
        .map_err(OracleError::Engine)
}

#[cfg(not(feature = "wasmtime"))]
fn wasmtime_engine(_: Limits) -> Result<Box<dyn DiffEngine>, OracleError> {
    Err(OracleError::NotBuilt("wasmtime"))
}

/// Why an oracle cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OracleError {
    #[error(
        "this capicola was built without the `{0}` oracle (cargo build -p capicola --features {0})"
    )]
    NotBuilt(&'static str),
    #[error("the reference engine cannot be set up: {0}")]
    Engine(String),
}

/// What checking one case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    Verdict(Verdict),
    /// An engine panicked (the message); always a finding.
    Panicked(String),
}

impl CaseOutcome {
    /// Whether the outcome is a finding: a mismatch or a panic.
    pub fn is_finding(&self) -> bool {
        matches!(
            self,
            CaseOutcome::Verdict(Verdict::Mismatch(_)) | CaseOutcome::Panicked(_)
        )
    }
}

/// Runs `case` on `test` against `reference`, catching panics of either.
pub fn check_with(
    case: &Case,
    test: &mut dyn DiffEngine,
    reference: &mut dyn DiffEngine,
) -> CaseOutcome {
    match panic::catch_unwind(AssertUnwindSafe(|| compare(case, test, reference))) {
        Ok(verdict) => CaseOutcome::Verdict(verdict),
        Err(payload) => CaseOutcome::Panicked(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string()),
        ),
    }
}
