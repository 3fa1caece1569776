//! capicola as a `DiffEngine`: run straight, paused and carried through serialized snapshots into fresh stores, or reset to a baseline after a dirtying run.

use capicola_engine::{
    Config, DecodeLimits, Engine, Error, Extern, ExternType, Func, Halt, HostAnswer, HostCall,
    Instance, Module, Op, Pilot, Snapshot, Store, Trap, TrapKind, Val, ValType,
};

use super::case::Case;

use super::engine::{
    CallOutcome, DiffEngine, DiffInstance, DiffValue, DiffValueType, FuncSig, InstanceState,
    InstantiateFailure, Limits, MemoryDump, TrapClass,
};
use super::rng::Rng;

/// How capicola runs each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every call straight through: the reference the other modes are compared with.
    Straight,
    /// Calls pause at up to `per_call` pseudo-random instruction boundaries (gaps log-uniform in
    /// `1..=max_gap`) and at some host calls; at each pause the whole store is serialized to bytes, decoded
    /// and restored into a fresh store, where the call goes on. Idle stores are round-tripped between calls too.
    Snapshot {
        seed: u64,
        per_call: u32,
        max_gap: u64,
    },
    /// After instantiation a baseline is taken, every export is called with other arguments (some calls are
    /// left paused halfway), and the store is reset to the baseline, twice; only then do the case's calls run.
    Reset { seed: u64 },
}

/// capicola behind the `DiffEngine` trait.
#[derive(Debug, Clone)]
pub struct CapicolaEngine {
    engine: Engine,
    limits: Limits,
    mode: Mode,
}

/// Most memories of one module, imports included (the validator's limit).
const MAX_MEMORIES: u64 = 100;
/// Most tables of one module, imports included (the validator's limit).
const MAX_TABLES: u64 = 100_000;

impl CapicolaEngine {
    pub fn new(mode: Mode, limits: Limits) -> CapicolaEngine {
        Self::with_coverage(mode, limits, false)
    }

    /// capicola run straight with the engine's edge coverage on, for [`CapicolaEngine::observe`]: the
    /// instrumented code is never the code under test.
    pub fn observer(limits: Limits) -> CapicolaEngine {
        Self::with_coverage(Mode::Straight, limits, true)
    }

    fn with_coverage(mode: Mode, limits: Limits, coverage: bool) -> CapicolaEngine {
        // The reference engines bound each memory and table; so does this one, and its totals (which bound
        // the host's memory) never bind first: the validator bounds how many memories and tables a module has.
        let engine = Engine::new(Config {
            max_bytes_per_memory: limits.max_memory_bytes,
            max_memory_bytes: limits.max_memory_bytes.saturating_mul(MAX_MEMORIES),
            max_elements_per_table: limits.max_table_elements,
            max_table_elements: limits.max_table_elements.saturating_mul(MAX_TABLES),
            track_dirty_pages: matches!(mode, Mode::Reset { .. }),
            coverage,
            ..Config::default()
        });
        CapicolaEngine {
            engine,
            limits,
            mode,
        }
    }

    /// Runs `case` as the oracles do (its calls in order, up to the first that is inconclusive) and reports what
    /// the engine did. Edge blocks are empty unless the engine is an [`CapicolaEngine::observer`].
    pub fn observe(&self, case: &Case) -> Observation {
        let mut observation = Observation::default();
        let mut inst = match self.instance(&case.wasm) {
            Ok(inst) => inst,
            Err(failure) => {
                observation.instantiation = Some(failure);
                return observation;
            }
        };
        for call in &case.calls {
            let outcome = inst.call(&call.export, &call.args);
            let conclusive = matches!(outcome, CallOutcome::Returned(_) | CallOutcome::Trapped(_));
            observation.calls.push(outcome);
            if !conclusive {
                break;
            }
        }
        observation.host_calls = inst.host_calls;
        let base = inst.store.coverage_base(inst.instance) as usize;
        let hits = inst.store.coverage().get(base..).unwrap_or_default();
        observation.blocks = inst
            .module
            .edge_ops()
            .into_iter()
            .zip(hits)
            .filter(|(_, hits)| **hits > 0)
            .map(|(ops, &hits)| (hits, ops))
            .collect();
        observation
    }

    /// The engine's configuration, for a caller that builds its own store (a snapshot must come back into an
    /// engine of the same configuration).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl DiffEngine for CapicolaEngine {
    fn name(&self) -> &'static str {
        match self.mode {
            Mode::Straight => "capicola",
            Mode::Snapshot { .. } => "capicola-snapshot",
            Mode::Reset { .. } => "capicola-reset",
        }
    }

    fn instantiate(&mut self, wasm: &[u8]) -> Result<Box<dyn DiffInstance>, InstantiateFailure> {
        Ok(Box::new(self.instance(wasm)?))
    }
}

/// What capicola did with a case: see [`CapicolaEngine::observe`].
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// Why the module did not become an instance, if it did not.
    pub instantiation: Option<InstantiateFailure>,
    /// How each call ended, up to the first inconclusive one.
    pub calls: Vec<CallOutcome>,
    /// Host calls answered (the start function's and the calls').
    pub host_calls: u64,
    /// Every edge that ran, as its hit count (saturated at 255) and the ops it leads to (`Module::edge_ops`).
    pub blocks: Vec<(u8, Vec<Op>)>,
}

impl CapicolaEngine {
    fn instance(&self, wasm: &[u8]) -> Result<CapicolaInstance, InstantiateFailure> {
        let module = Module::new(&self.engine, wasm).map_err(|e| match e {
            Error::Unsupported(message) => InstantiateFailure::Unsupported(message),
            Error::Validation(message) => InstantiateFailure::Invalid(message),
            other => InstantiateFailure::Error(other.to_string()),
        })?;
        let mut store = Store::new(&self.engine);
        let mut imports = Vec::new();
        for (host_id, import) in (0..).zip(module.imports()) {
            imports.push(dummy(&mut store, &import.ty, host_id).map_err(instantiate_error)?);
        }
        let instance = store
            .instantiate(&module, &imports)
            .map_err(instantiate_error)?;
        let seed = match self.mode {
            Mode::Straight => 0,
            Mode::Snapshot { seed, .. } | Mode::Reset { seed } => seed,
        };
        let mut inst = CapicolaInstance {
            module,
            store,
            instance,
            host_calls: 0,
            fuel: self.limits.fuel_per_call,
            mode: self.mode,
            rng: Rng::new(seed ^ u64::from_le_bytes(hash8(wasm))),
        };
        if let Some(start) = inst.store.instance_start(instance) {
            match inst.run(start, &[]) {
                CallOutcome::Returned(_) => {}
                CallOutcome::Trapped(class) => return Err(InstantiateFailure::Trapped(class)),
                CallOutcome::OutOfFuel => return Err(InstantiateFailure::OutOfFuel),
                CallOutcome::StackExhausted => return Err(InstantiateFailure::StackExhausted),
                CallOutcome::ResourceLimit(message) => {
                    return Err(InstantiateFailure::ResourceLimit(message));
                }
                CallOutcome::Error(message) => return Err(InstantiateFailure::Error(message)),
            }
        }
        if let Mode::Reset { .. } = self.mode {
            inst.dirty_and_reset().map_err(InstantiateFailure::Error)?;
        }
        Ok(inst)
    }
}

/// The first 8 bytes of a cheap hash of `bytes`, to vary pause points between modules.
fn hash8(bytes: &[u8]) -> [u8; 8] {
    MemoryDump {
        bytes: bytes.to_vec(),
    }
    .hash()
    .to_le_bytes()
}

fn instantiate_error(e: Error) -> InstantiateFailure {
    match e {
        Error::Instantiation(Trap {
            kind: kind @ TrapKind::ResourceExhausted(_),
            ..
        }) => InstantiateFailure::ResourceLimit(kind.message().into()),
        Error::Instantiation(trap) => InstantiateFailure::Trapped(trap_class(&trap.kind)),
        Error::Unsupported(message) => InstantiateFailure::Unsupported(message),
        other => InstantiateFailure::Error(other.to_string()),
    }
}

/// A fresh definition of an import's type: a host function (answered with zero values), a zero global, a
/// null-filled table or a zeroed memory of the minimum size — as the fuzz harness does.
fn dummy(store: &mut Store, ty: &ExternType, host_id: u32) -> Result<Extern, Error> {
    Ok(match ty {
        ExternType::Func(ty) => Extern::Func(store.new_host_func(ty.clone(), host_id)),
        ExternType::Global(ty) => {
            Extern::Global(store.new_global(*ty, Val::default_for(ty.content))?)
        }
        ExternType::Table(ty) => Extern::Table(store.new_table(*ty, Val::default_for(ty.element))?),
        ExternType::Memory(ty) => Extern::Memory(store.new_memory(*ty)?),
    })
}

pub(crate) fn trap_class(kind: &TrapKind) -> TrapClass {
    match kind {
        TrapKind::Unreachable => TrapClass::Unreachable,
        TrapKind::MemoryOutOfBounds => TrapClass::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds | TrapKind::UndefinedElement => TrapClass::TableOutOfBounds,
        TrapKind::IndirectCallToNull => TrapClass::IndirectCallToNull,
        TrapKind::BadSignature => TrapClass::BadSignature,
        TrapKind::IntegerOverflow => TrapClass::IntegerOverflow,
        TrapKind::IntegerDivisionByZero => TrapClass::IntegerDivisionByZero,
        TrapKind::InvalidConversionToInteger => TrapClass::InvalidConversionToInteger,
        TrapKind::NullReference => TrapClass::NullReference,
        TrapKind::StackExhausted => TrapClass::Other("call stack exhausted".into()),
        TrapKind::BadReference => TrapClass::Other("reference to a missing function".into()),
        TrapKind::ResourceExhausted(_) | TrapKind::Sanitizer(_) => {
            TrapClass::Other(kind.message().into())
        }
        TrapKind::Host(message) => TrapClass::Other(message.clone()),
    }
}

fn value_type(ty: ValType) -> DiffValueType {
    match ty {
        ValType::I32 => DiffValueType::I32,
        ValType::I64 => DiffValueType::I64,
        ValType::F32 => DiffValueType::F32,
        ValType::F64 => DiffValueType::F64,
        ValType::V128 => DiffValueType::V128,
        ValType::FuncRef => DiffValueType::FuncRef,
        ValType::ExternRef => DiffValueType::ExternRef,
    }
}

/// One instance in one store (which snapshot mode replaces at every pause).
#[derive(Debug)]
struct CapicolaInstance {
    module: Module,
    store: Store,
    instance: Instance,
    /// Host calls answered by `run`.
    host_calls: u64,
    fuel: u64,
    mode: Mode,
    rng: Rng,
}

impl CapicolaInstance {
    fn value(&self, v: Val) -> DiffValue {
        match v {
            Val::I32(v) => DiffValue::I32(v),
            Val::I64(v) => DiffValue::I64(v),
            Val::F32(v) => DiffValue::F32(v),
            Val::F64(v) => DiffValue::F64(v),
            Val::V128(v) => DiffValue::V128(v),
            Val::FuncRef(f) => DiffValue::FuncRef(f.map(|f| self.signature(f))),
            Val::ExternRef(r) => DiffValue::ExternRef(r),
        }
    }

    fn signature(&self, f: Func) -> FuncSig {
        let ty = self.store.func_type(f);
        FuncSig {
            params: ty.params().iter().map(|&t| value_type(t)).collect(),
            results: ty.results().iter().map(|&t| value_type(t)).collect(),
        }
    }

    fn func(&self, name: &str) -> Option<Func> {
        match self.store.instance_export(self.instance, name) {
            Some(Extern::Func(f)) => Some(f),
            _ => None,
        }
    }

    /// Runs `f` to its end or until the fuel runs out, answering host calls with zero values. The store is idle
    /// afterwards.
    fn run(&mut self, f: Func, args: &[Val]) -> CallOutcome {
        if let Err(e) = self.store.invoke(f, args) {
            return CallOutcome::Error(format!("the call was refused: {e}"));
        }
        let mut pilot = DiffPilot {
            mode: self.mode,
            rng: &mut self.rng,
            host_calls: &mut self.host_calls,
            round_trips: 0,
            failure: None,
        };
        let halt = self.store.drive(self.fuel, &mut pilot);
        let outcome = match (pilot.failure, halt) {
            (Some(failure), _) => CallOutcome::Error(failure),
            (None, Err(e)) => CallOutcome::Error(format!("host results refused: {e}")),
            (None, Ok(Halt::Finished(values))) => {
                CallOutcome::Returned(values.into_iter().map(|v| self.value(v)).collect())
            }
            (None, Ok(Halt::Trapped(trap))) => match trap.kind {
                TrapKind::StackExhausted => CallOutcome::StackExhausted,
                kind => CallOutcome::Trapped(trap_class(&kind)),
            },
            (None, Ok(Halt::Exited { code, .. })) => {
                CallOutcome::Error(format!("the host ended the program ({code})"))
            }
            (None, Ok(Halt::OutOfFuel | Halt::Interrupted | Halt::Held(_))) => {
                CallOutcome::OutOfFuel
            }
        };
        self.store.abort();
        outcome
    }

    /// Reset mode: takes the baseline, dirties the store with calls of every export (pseudo-random arguments,
    /// some calls left paused) and resets, twice.
    fn dirty_and_reset(&mut self) -> Result<(), String> {
        let baseline = self.store.baseline();
        let funcs: Vec<Func> = self
            .store
            .instance_exports(self.instance)
            .into_iter()
            .filter_map(|(_, ext)| match ext {
                Extern::Func(f) => Some(f),
                _ => None,
            })
            .collect();
        for _ in 0..2 {
            for &f in &funcs {
                let args: Vec<Val> = self
                    .store
                    .func_type(f)
                    .params()
                    .to_vec()
                    .into_iter()
                    .map(|t| super::case::interesting(&mut self.rng, value_type(t)).to_capicola())
                    .collect();
                self.store
                    .invoke(f, &args)
                    .map_err(|e| format!("dirtying call refused: {e}"))?;
                // Stop some calls halfway: the reset must also end a call in progress.
                let fuel = if self.rng.below(2) == 0 {
                    self.rng.log_uniform(self.fuel)
                } else {
                    self.fuel
                };
                self.store
                    .drive(fuel, &mut zero_results)
                    .map_err(|e| format!("host results refused: {e}"))?;
                if self.store.is_running() {
                    self.store
                        .reset_to(&baseline)
                        .map_err(|e| format!("reset in the middle of a call: {e}"))?;
                }
            }
            self.store
                .reset_to(&baseline)
                .map_err(|e| format!("reset: {e}"))?;
        }
        Ok(())
    }
}

/// Answers a host call with zero values of its result types.
fn zero_results(store: &mut Store, call: &HostCall) -> HostAnswer {
    HostAnswer::Return(
        store
            .func_type(call.func)
            .results()
            .iter()
            .map(|&t| Val::default_for(t))
            .collect(),
    )
}

/// Serializes the whole store to bytes, decodes them and continues in a fresh store.
fn round_trip(store: &mut Store) -> Result<(), Error> {
    let bytes = store.capture().to_bytes()?;
    let snapshot = Snapshot::from_bytes(&bytes, &DecodeLimits::default())?;
    *store = Store::restore(&store.engine().clone(), &snapshot, &store.modules())?;
    Ok(())
}

/// Steers one call of a [`CapicolaInstance`]: host calls answered with zero values and, in snapshot mode, the
/// store carried through a serialized snapshot at pseudo-random pauses and at some host calls.
struct DiffPilot<'a> {
    mode: Mode,
    rng: &'a mut Rng,
    host_calls: &'a mut u64,
    round_trips: u32,
    /// What went wrong in a round trip: the call ends, reported as this error.
    failure: Option<String>,
}

impl Pilot for DiffPilot<'_> {
    fn answer(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        *self.host_calls += 1;
        // A paused host call is part of the state too: round-trip some of them before answering.
        if matches!(self.mode, Mode::Snapshot { .. }) && self.rng.below(4) == 0 {
            if let Err(e) = round_trip(store) {
                self.failure = Some(format!("snapshot round trip: {e}"));
            } else if store.pending_host_call().as_ref() != Some(call) {
                self.failure = Some(format!(
                    "the restored store waits on {:?}, not on {call:?}",
                    store.pending_host_call()
                ));
            }
            if let Some(failure) = &self.failure {
                return HostAnswer::Trap(TrapKind::Host(failure.clone()));
            }
        }
        zero_results(store, call)
    }

    /// All the fuel left, or in snapshot mode a pseudo-random gap.
    fn next_slice(&mut self, _store: &mut Store, left: u64) -> Option<u64> {
        if self.failure.is_some() {
            return None;
        }
        Some(match self.mode {
            Mode::Snapshot {
                per_call, max_gap, ..
            } if self.round_trips < per_call => self.rng.log_uniform(max_gap).min(left),
            _ => left,
        })
    }

    fn ran_out(&mut self, store: &mut Store, _slice: u64) {
        if let Mode::Snapshot { .. } = self.mode {
            if let Err(e) = round_trip(store) {
                self.failure = Some(format!("snapshot round trip: {e}"));
            }
            self.round_trips += 1;
        }
    }
}

impl DiffInstance for CapicolaInstance {
    fn call(&mut self, name: &str, args: &[DiffValue]) -> CallOutcome {
        if let Mode::Snapshot { .. } = self.mode
            && self.rng.below(4) == 0
            && let Err(e) = round_trip(&mut self.store)
        {
            return CallOutcome::Error(format!("snapshot round trip of an idle store: {e}"));
        }
        let Some(f) = self.func(name) else {
            return CallOutcome::Error(format!("no exported function `{name}`"));
        };
        let args: Vec<Val> = args.iter().map(DiffValue::to_capicola).collect();
        self.run(f, &args)
    }

    fn state(&mut self) -> InstanceState {
        let mut state = InstanceState::default();
        for (name, ext) in self.store.instance_exports(self.instance) {
            match ext {
                Extern::Global(g) => {
                    let value = self.value(self.store.global_get(g));
                    state.globals.push((name, value));
                }
                Extern::Memory(m) => {
                    let bytes = self.store.memory_data(m).to_vec();
                    state.memories.push((name, MemoryDump { bytes }));
                }
                Extern::Table(t) => {
                    let elems = (0..self.store.table_size(t))
                        .map(|i| {
                            let v = self
                                .store
                                .table_get(t, i)
                                .expect("indices below the table's size are in bounds");
                            self.value(v)
                        })
                        .collect();
                    state.tables.push((name, elems));
                }
                Extern::Func(_) => {}
            }
        }
        state
    }
}
