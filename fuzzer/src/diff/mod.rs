//! Differential fuzzing: generators turn seeded bytes into cases (a module and calls), engines behind the `DiffEngine` trait run them, and oracles decide whether capicola differs from a reference engine or from itself run through snapshots or resets.
//!
//! Judgement rules, in [`compare`]:
//! - results match as the spec allows: any NaN matches any NaN of its type (a v128 when its bits are equal or
//!   its lanes match as `f32x4` or as `f64x2`); traps match by class (see [`TrapClass`]);
//! - the exported globals, memories (first differing byte reported) and tables must match at the end;
//! - a call that runs out of fuel, or exhausts the stack or the host's memory, in either engine is
//!   *inconclusive*: engines count fuel and limit stacks differently, so neither tells anything about the
//!   other; the case stops there and is not a mismatch;
//! - a module both engines reject, or that uses something one does not implement, is *skipped*.

mod capicola;
pub mod case;
pub mod compare;
pub mod coverage;
pub mod driver;
pub mod engine;
pub mod generate;
pub mod oracle;
pub mod report;
pub mod rng;
mod search;
mod shared;
mod wasmi;
#[cfg(feature = "wasmtime")]
mod wasmtime;

pub use self::wasmi::{WASMI_FUEL_FACTOR, WasmiEngine};
#[cfg(feature = "wasmtime")]
pub use self::wasmtime::{WASMTIME_FUEL_FACTOR, WasmtimeEngine};
pub use capicola::{CapicolaEngine, Mode, Observation};
pub use case::{CALLS_SECTION, Call, Case, CaseError};
pub use compare::{Difference, Verdict, compare, values_match};
pub use coverage::{MAP_SIZE, OpCoverage, features};
pub use driver::run_diff;
pub use engine::{
    CallOutcome, DiffEngine, DiffInstance, DiffValue, DiffValueType, FuncSig, InstanceState,
    InstantiateFailure, Limits, MemoryDump, TrapClass,
};
pub use generate::{
    INPUT_HEADER, MAX_INPUT, Source, case_from_input, generate, random_input, smith_case,
    spec_case, spec_seeds,
};
pub use oracle::{CaseOutcome, Oracle, OracleError, check_with};
pub use report::{
    DiffConfig, DiffError, DiffEvents, DiffProgress, DiffReport, Finding, OracleStats,
    PROGRESS_INTERVAL, report_text,
};
pub use rng::Rng;

/// Re-checks a saved case (`.wasm` with or without its calls section, or a `.wat` module) with each oracle.
pub fn reproduce(
    file: &[u8],
    oracles: &[Oracle],
    limits: Limits,
) -> Result<(Case, Vec<(Oracle, CaseOutcome)>), ReproduceError> {
    let binary = wat::parse_bytes(file).map_err(|e| CaseError::Parse(e.to_string()))?;
    let case = Case::from_file(&binary)?;
    let mut outcomes = Vec::new();
    for &oracle in oracles {
        outcomes.push((oracle, oracle.check(&case, limits)?));
    }
    Ok((case, outcomes))
}

/// Why a case cannot be re-checked.
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Oracle(#[from] OracleError),
}
