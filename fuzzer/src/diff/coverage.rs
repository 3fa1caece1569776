//! The engine's op-level coverage of a case: a fixed-size map of what capicola's interpreter did with it — which IR op kinds and op-kind pairs it ran and how often, how calls ended and by which trap, and how many host calls it answered — that guides the differential search.
//!
//! The map is read from the engine's own edge coverage (`Config::coverage`, chosen at translation, so the
//! interpreter of the oracles pays nothing): every edge that ran adds its hit count to the ops of the code it leads
//! to (`Module::edge_ops`). Unlike an edge map, whose indices mean nothing outside one module, these entries mean the
//! same thing in every case, so a case that runs an op (or an op after another) no earlier case ran is new to the
//! engine, not just to its module. An op that traps cuts its block short but the map counts the whole block; the
//! trap itself has an entry of its own.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use capicola_engine::Op;

use super::capicola::{CapicolaEngine, Observation};
use super::case::Case;
use super::engine::{CallOutcome, InstantiateFailure, Limits, TrapClass};

/// Entries of the map.
pub const MAP_SIZE: usize = 1 << 16;
/// Entries `0..OP_KINDS`: one per op kind (there are about 560).
const OP_KINDS: usize = 1 << 10;
/// Entries `OP_KINDS..OUTCOMES`: one per pair of op kinds that ran one right after the other (hashed).
const OUTCOMES: usize = MAP_SIZE - 256;

/// Observes cases: capicola with coverage, and the op kinds it has numbered.
#[derive(Debug)]
pub struct OpCoverage {
    engine: CapicolaEngine,
    /// This observer's copy of the process-wide numbering of op kinds.
    kinds: HashMap<&'static str, usize>,
}

impl OpCoverage {
    pub fn new(limits: Limits) -> OpCoverage {
        OpCoverage {
            engine: CapicolaEngine::observer(limits),
            kinds: HashMap::new(),
        }
    }

    /// Runs `case` in capicola with coverage and writes what it did into `map` (of [`MAP_SIZE`] entries, cleared
    /// first), as hit counts.
    pub fn observe(&mut self, case: &Case, map: &mut [u8]) {
        map.fill(0);
        let observation = self.engine.observe(case);
        self.fill(&observation, map);
    }

    /// The op kind's number: dense, the same for every observer of the process (numbered as first seen).
    fn kind(&mut self, op: &Op) -> usize {
        let name = op.name();
        if let Some(&kind) = self.kinds.get(name) {
            return kind;
        }
        static NUMBERING: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
        let mut names = NUMBERING
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let kind = match names.iter().position(|&n| n == name) {
            Some(kind) => kind,
            None => {
                names.push(name);
                names.len() - 1
            }
        };
        self.kinds.insert(name, kind);
        kind
    }

    fn fill(&mut self, observation: &Observation, map: &mut [u8]) {
        fn bump(map: &mut [u8], i: usize, n: u8) {
            let entry = &mut map[i % MAP_SIZE];
            *entry = entry.saturating_add(n);
        }
        for (hits, ops) in &observation.blocks {
            let mut previous: Option<usize> = None;
            for op in ops {
                let kind = self.kind(op);
                bump(map, kind % OP_KINDS, *hits);
                if let Some(before) = previous {
                    let pair = ((before << 16 | kind) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    let slots = (OUTCOMES - OP_KINDS) as u64;
                    bump(map, OP_KINDS + ((pair >> 32) % slots) as usize, *hits);
                }
                previous = Some(kind);
            }
        }
        let outcome = |i: u64| OUTCOMES + (i % 256) as usize;
        if let Some(failure) = &observation.instantiation {
            bump(map, outcome(instantiate_index(failure)), 1);
        }
        for call in &observation.calls {
            bump(map, outcome(call_index(call)), 1);
        }
        // The host calls answered: one entry whose hit-count class grows with their number.
        bump(map, outcome(255), observation.host_calls.min(255) as u8);
    }
}

/// Entries of `map` that are not zero: the engine features a case (or, over a maximum of maps, a diff run)
/// reached.
pub fn features(map: &[u8]) -> usize {
    map.iter().filter(|&&n| n != 0).count()
}

/// The AFL hit-count class of a count, as one bit: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128 or more.
pub fn class_bit(count: u8) -> u8 {
    match count {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        4..=7 => 8,
        8..=15 => 16,
        16..=31 => 32,
        32..=127 => 64,
        128.. => 128,
    }
}

/// The features of `map` by part: (op kinds, op-kind pairs, outcomes).
pub fn feature_parts(map: &[u8]) -> (usize, usize, usize) {
    let part = |range: std::ops::Range<usize>| features(map.get(range).unwrap_or_default());
    (
        part(0..OP_KINDS),
        part(OP_KINDS..OUTCOMES),
        part(OUTCOMES..MAP_SIZE),
    )
}

fn trap_index(class: &TrapClass) -> u64 {
    match class {
        TrapClass::Unreachable => 0,
        TrapClass::MemoryOutOfBounds => 1,
        TrapClass::TableOutOfBounds => 2,
        TrapClass::IndirectCallToNull => 3,
        TrapClass::BadSignature => 4,
        TrapClass::IntegerOverflow => 5,
        TrapClass::IntegerDivisionByZero => 6,
        TrapClass::InvalidConversionToInteger => 7,
        TrapClass::NullReference => 8,
        TrapClass::Other(_) => 9,
    }
}

/// Entries 0..16: how a call ended.
fn call_index(outcome: &CallOutcome) -> u64 {
    match outcome {
        CallOutcome::Returned(_) => 10,
        CallOutcome::Trapped(class) => trap_index(class),
        CallOutcome::OutOfFuel => 11,
        CallOutcome::StackExhausted => 12,
        CallOutcome::ResourceLimit(_) => 13,
        CallOutcome::Error(_) => 14,
    }
}

/// Entries 16..48: why instantiation failed.
fn instantiate_index(failure: &InstantiateFailure) -> u64 {
    16 + match failure {
        InstantiateFailure::Invalid(_) => 0,
        InstantiateFailure::Unsupported(_) => 1,
        InstantiateFailure::Trapped(class) => 2 + trap_index(class),
        InstantiateFailure::OutOfFuel => 12,
        InstantiateFailure::StackExhausted => 13,
        InstantiateFailure::ResourceLimit(_) => 14,
        InstantiateFailure::Error(_) => 15,
    }
}
