//! The spec-test script runner: runs each directive of a `.wast` script against the engine and counts it as passed, failed or unsupported, by kind.

use std::collections::{BTreeMap, HashMap};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ::wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use ::wast::lexer::Lexer;
use ::wast::parser::{self, ParseBuffer};
use ::wast::token::{Id, Span};
use ::wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};
use capicola_engine::{
    Config, DecodeLimits, Engine, Error, Extern, Func, Halt, HostAnswer, HostCall, Instance,
    Linker, Module, Pilot, Snapshot, Store, Trap, Val,
};
use serde::Serialize;

use crate::program::spectest_answer;
use crate::values::{f32_text, f64_text, format_val};

/// Fuel one directive may use, by default, before the runner calls it a hang and gives up on
/// it; no directive of the spec suite comes near.
pub const DIRECTIVE_FUEL: u64 = 1 << 30;

/// How scripts are run: the engine's configuration and the fuel each directive may use.
#[derive(Debug, Clone)]
pub struct ScriptConfig {
    /// Configuration of the engine each script gets.
    pub engine: Config,
    /// Fuel for each directive; a directive that uses it up fails as a hang.
    pub directive_fuel: u64,
    /// How calls are interrupted on their way, to check that pausing is transparent.
    pub pause: Pause,
}

/// Interruptions of every call a script makes; results must not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// Run each call straight through.
    Never,
    /// Pause after every `n` instructions and continue in the same store.
    Every(u64),
    /// Pause at up to `per_call` pseudo-random instruction boundaries of each call (gaps log-uniform in
    /// `1..=max_gap`, so short calls are paused too), serialize the whole store to bytes, decode it into a fresh
    /// store and continue there.
    SnapshotRoundTrip {
        seed: u64,
        max_gap: u64,
        per_call: u32,
    },
}

impl Default for ScriptConfig {
    fn default() -> Self {
        ScriptConfig {
            engine: Config::default(),
            directive_fuel: DIRECTIVE_FUEL,
            pause: Pause::Never,
        }
    }
}

/// Native stack of each worker thread: parsing deeply nested scripts recurses.
const WORKER_STACK: usize = 64 << 20;

/// Passed, failed and unsupported counts of one kind of directive (or of all).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub unsupported: u64,
}

impl Counts {
    /// All directives counted.
    pub fn total(&self) -> u64 {
        self.passed + self.failed + self.unsupported
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.unsupported += other.unsupported;
    }
}

/// A directive that did not pass: where it is, its kind and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub line: usize,
    pub kind: String,
    pub message: String,
}

/// The result of running one script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The script's name as given to the runner.
    pub file: String,
    /// Counts per directive kind (`module`, `assert_return`, ...).
    pub by_kind: BTreeMap<String, Counts>,
    /// The directives that failed, in script order.
    pub failures: Vec<Finding>,
    /// The directives that are unsupported, in script order.
    pub unsupported: Vec<Finding>,
}

impl Report {
    /// Counts over all kinds.
    pub fn totals(&self) -> Counts {
        let mut totals = Counts::default();
        for counts in self.by_kind.values() {
            totals.add(counts);
        }
        totals
    }

    /// The report as one line of JSON: file, totals, `by_kind` and `failures`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            file: &'a str,
            passed: u64,
            failed: u64,
            unsupported: u64,
            by_kind: &'a BTreeMap<String, Counts>,
            failures: &'a [Finding],
        }
        let totals = self.totals();
        let json = Json {
            file: &self.file,
            passed: totals.passed,
            failed: totals.failed,
            unsupported: totals.unsupported,
            by_kind: &self.by_kind,
            failures: &self.failures,
        };
        serde_json::to_string(&json).expect("a report holds only strings and integers")
    }

    fn record(&mut self, line: usize, kind: &str, outcome: Check) {
        let counts = self.by_kind.entry(kind.to_string()).or_default();
        let finding = |message| Finding {
            line,
            kind: kind.to_string(),
            message,
        };
        match outcome {
            Ok(()) => counts.passed += 1,
            Err(Fail::Failed(message)) => {
                counts.failed += 1;
                self.failures.push(finding(message));
            }
            Err(Fail::Unsupported(message)) => {
                counts.unsupported += 1;
                self.unsupported.push(finding(message));
            }
        }
    }
}

/// Runs scripts, given as (name, text) pairs, on up to `workers` threads; reports come back in input order.
pub fn run_scripts<N, T>(scripts: &[(N, T)], workers: usize, config: &ScriptConfig) -> Vec<Report>
where
    N: AsRef<str> + Sync,
    T: AsRef<str> + Sync,
{
    let next = AtomicUsize::new(0);
    let reports: Mutex<Vec<Option<Report>>> = Mutex::new(vec![None; scripts.len()]);
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some((name, text)) = scripts.get(index) else {
                break;
            };
            let report = run_script_with(name.as_ref(), text.as_ref(), config);
            reports.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(report);
        }
    };
    std::thread::scope(|scope| {
        let mut spawned = 0;
        for _ in 0..workers.clamp(1, scripts.len().max(1)) {
            let worker = std::thread::Builder::new()
                .name("wast".to_string())
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, work);
            spawned += usize::from(worker.is_ok());
        }
        if spawned == 0 {
            work();
        }
    });
    reports
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|report| report.expect("the workers ran every script"))
        .collect()
}

/// Runs one script: every directive is counted once; a script that does not parse counts as one failed `parse`.
pub fn run_script(name: &str, text: &str) -> Report {
    run_script_with(name, text, &ScriptConfig::default())
}

/// [`run_script`] with the engine and fuel of `config`.
pub fn run_script_with(name: &str, text: &str, config: &ScriptConfig) -> Report {
    let mut report = Report {
        file: name.to_string(),
        ..Report::default()
    };
    let lines = LineIndex::new(text);
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let parsed = panic::catch_unwind(AssertUnwindSafe(|| {
        let buffer = ParseBuffer::new_with_lexer(lexer)?;
        let wast = parser::parse::<Wast>(&buffer)?;
        let mut runner = Runner::new(config);
        for directive in wast.directives {
            let line = lines.line(directive.span());
            let kind = kind_of(&directive);
            let outcome = match &mut runner {
                Ok(runner) => panic::catch_unwind(AssertUnwindSafe(|| runner.run(directive)))
                    .unwrap_or_else(|payload| {
                        // The store may still be inside the call that panicked.
                        let _ = panic::catch_unwind(AssertUnwindSafe(|| runner.abandon_call()));
                        failed(format!("engine panic: {}", panic_message(payload.as_ref())))
                    }),
                Err(fail) => Err(fail.clone()),
            };
            report.record(line, kind, outcome);
        }
        Ok::<(), ::wast::Error>(())
    }));
    let parse_failure = match parsed {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some((lines.line(error.span()), error.message())),
        Err(payload) => Some((
            1,
            format!("parser panic: {}", panic_message(payload.as_ref())),
        )),
    };
    if let Some((line, message)) = parse_failure {
        report.record(line, "parse", failed(message));
    }
    report
}

/// Why a directive did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fail {
    /// The engine did something other than what the script expects.
    Failed(String),
    /// The engine or the runner does not implement what the directive needs.
    Unsupported(String),
}

impl Fail {
    /// The same verdict with the message put in context.
    fn context(self, context: impl std::fmt::Display) -> Fail {
        match self {
            Fail::Failed(m) => Fail::Failed(format!("{context}: {m}")),
            Fail::Unsupported(m) => Fail::Unsupported(format!("{context}: {m}")),
        }
    }
}

impl From<Error> for Fail {
    fn from(error: Error) -> Fail {
        match error {
            Error::Unsupported(message) => Fail::Unsupported(message),
            other => Fail::Failed(other.to_string()),
        }
    }
}

type Check = Result<(), Fail>;

/// What running a function or instantiating a module produced: values, or a trap.
type Execution = Result<Result<Vec<Val>, Trap>, Fail>;

fn unsupported<T>(what: impl std::fmt::Display) -> Result<T, Fail> {
    Err(Fail::Unsupported(what.to_string()))
}

fn failed<T>(what: impl std::fmt::Display) -> Result<T, Fail> {
    Err(Fail::Failed(what.to_string()))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    message.to_string()
}

/// The name a directive's outcome is counted under.
fn kind_of(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_)
        | WastDirective::ModuleDefinition(_)
        | WastDirective::ModuleInstance { .. } => "module",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "action",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// Maps byte offsets of a script to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line(&self, span: Span) -> usize {
        self.starts.partition_point(|&start| start <= span.offset())
    }
}

/// The state of one script: a store shared by all its modules, the names they are registered and bound under.
struct Runner {
    engine: Engine,
    store: Store,
    linker: Linker,
    /// The most recent module instance (or why it is missing).
    current: Option<Result<Instance, Fail>>,
    /// Instances bound to `$name`s.
    instances: HashMap<String, Result<Instance, Fail>>,
    /// Modules of `module definition`, in order.
    definitions: Vec<Result<Module, Fail>>,
    /// `$name`s of module definitions, as indices into `definitions`.
    definition_names: HashMap<String, usize>,
    /// Names that `register` could not provide, and why: imports from them fail for that reason.
    broken_registrations: HashMap<String, Fail>,
    /// Fuel for each directive.
    fuel: u64,
    /// Where calls pause, and what happens there.
    pauses: Pauses,
}

/// Steers a directive's call: pauses it as [`Pause`] says (round-tripping the store through a snapshot at
/// [`Pause::SnapshotRoundTrip`]'s pauses) and answers its host calls as a `spectest` program's.
#[derive(Debug)]
struct Pauses {
    pause: Pause,
    /// State of the pseudo-random pause points.
    rng: u64,
    /// Round trips made in the current call.
    round_trips: u32,
    /// A round trip that failed: the call ends with this failure.
    failure: Option<Fail>,
}

impl Pilot for Pauses {
    fn answer(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        spectest_answer(store, call)
    }

    /// Fuel for the next slice of a call, by the pause mode.
    fn next_slice(&mut self, _store: &mut Store, left: u64) -> Option<u64> {
        if self.failure.is_some() {
            return None;
        }
        let slice = match self.pause {
            Pause::Never => left,
            Pause::Every(n) => n.max(1),
            Pause::SnapshotRoundTrip {
                max_gap, per_call, ..
            } if self.round_trips < per_call => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                let bound = 1u64 << (self.rng % (u64::from(max_gap.max(1).ilog2()) + 1));
                1 + (self.rng >> 8) % bound
            }
            Pause::SnapshotRoundTrip { .. } => left,
        };
        Some(slice.min(left))
    }

    fn ran_out(&mut self, store: &mut Store, _slice: u64) {
        if let Pause::SnapshotRoundTrip { .. } = self.pause {
            if let Err(fail) = round_trip(store) {
                self.failure = Some(fail);
            }
            self.round_trips += 1;
        }
    }
}

/// Serializes the whole store, decodes it and continues in the fresh copy.
fn round_trip(store: &mut Store) -> Result<(), Fail> {
    let bytes = store.capture().to_bytes()?;
    let snapshot = Snapshot::from_bytes(&bytes, &DecodeLimits::default())?;
    *store = Store::restore(&store.engine().clone(), &snapshot, &store.modules())?;
    Ok(())
}

impl Runner {
    fn new(config: &ScriptConfig) -> Result<Runner, Fail> {
        let engine = Engine::new(config.engine.clone());
        let mut store = Store::new(&engine);
        let mut linker = Linker::new();
        capicola_engine::spectest::define(&mut linker, &mut store)
            .map_err(|e| Fail::from(e).context("cannot define the spectest module"))?;
        Ok(Runner {
            engine,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: Vec::new(),
            definition_names: HashMap::new(),
            broken_registrations: HashMap::new(),
            fuel: config.directive_fuel,
            pauses: Pauses {
                pause: config.pause,
                rng: match config.pause {
                    Pause::SnapshotRoundTrip { seed, .. } => seed | 1,
                    _ => 1,
                },
                round_trips: 0,
                failure: None,
            },
        })
    }

    fn run(&mut self, directive: WastDirective<'_>) -> Check {
        match directive {
            WastDirective::Module(mut quote) => {
                let name = quote.name();
                let instance = self
                    .compile(&mut quote)
                    .and_then(|module| self.instantiate_untrapped(&module));
                self.bind(name, instance)
            }
            WastDirective::ModuleDefinition(mut quote) => {
                let module = self.compile(&mut quote);
                let check = module.as_ref().map(|_| ()).map_err(Fail::clone);
                if let Some(name) = quote.name() {
                    self.definition_names
                        .insert(name.name().to_string(), self.definitions.len());
                }
                self.definitions
                    .push(module.map_err(|f| f.context("module definition")));
                check
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let index = match module {
                    Some(id) => self.definition_names.get(id.name()).copied(),
                    None => self.definitions.len().checked_sub(1),
                };
                let Some(definition) = index.and_then(|i| self.definitions.get(i)) else {
                    return failed(format!("no module definition {}", id_text(module)));
                };
                let instantiated = definition
                    .clone()
                    .and_then(|module| self.instantiate_untrapped(&module));
                self.bind(instance, instantiated)
            }
            WastDirective::Register { name, module, .. } => match self.instance(module) {
                Ok(instance) => {
                    self.linker.define_instance(&self.store, name, instance);
                    self.broken_registrations.remove(name);
                    Ok(())
                }
                Err(fail) => {
                    self.broken_registrations
                        .insert(name.to_string(), fail.clone());
                    Err(fail)
                }
            },
            WastDirective::Invoke(invoke) => match self.invoke(&invoke)? {
                Ok(_) => Ok(()),
                Err(trap) => failed(format!("trapped: {trap}")),
            },
            WastDirective::AssertReturn { exec, results, .. } => match self.execute(exec)? {
                Ok(actual) => compare_results(&actual, &results),
                Err(trap) => failed(format!("expected {}, trapped: {trap}", rets_text(&results))),
            },
            WastDirective::AssertTrap { exec, message, .. } => {
                expect_trap(self.execute(exec)?, message)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                expect_trap(self.invoke(&call)?, message)
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self.expect_rejected(&mut module, message),
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => self.expect_unlinkable(&mut module, message),
            other @ (WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. }
            | WastDirective::AssertException { .. }
            | WastDirective::AssertSuspension { .. }
            | WastDirective::Thread(_)
            | WastDirective::Wait { .. }) => unsupported(format!(
                "the runner does not implement `{}`",
                kind_of(&other)
            )),
        }
    }

    /// Makes `instance` the current one and binds it to `name`; its failure is the directive's.
    fn bind(&mut self, name: Option<Id<'_>>, instance: Result<Instance, Fail>) -> Check {
        let check = instance.as_ref().map(|_| ()).map_err(Fail::clone);
        let slot = instance.map_err(|fail| fail.context("the module did not load"));
        if let Some(name) = name {
            self.instances.insert(name.name().to_string(), slot.clone());
        }
        self.current = Some(slot);
        check
    }

    /// The instance named `id`, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance, Fail> {
        let slot = match id {
            Some(id) => self.instances.get(id.name()),
            None => self.current.as_ref(),
        };
        match slot {
            Some(slot) => slot.clone(),
            None => failed(format!("no module instance {}", id_text(id))),
        }
    }

    fn compile(&self, quote: &mut QuoteWat<'_>) -> Result<Module, Fail> {
        self.compile_encoded(encode(quote)?)
    }

    /// Compiles what the encoder produced; a module that does not encode fails.
    fn compile_encoded(&self, encoded: Result<Vec<u8>, ::wast::Error>) -> Result<Module, Fail> {
        let bytes = encoded
            .map_err(|e| Fail::Failed(format!("cannot encode the module: {}", e.message())))?;
        Ok(Module::new(&self.engine, &bytes)?)
    }

    /// Instantiates `module` with imports resolved by name and runs its start function.
    fn instantiate(&mut self, module: &Module) -> Result<Result<Instance, Trap>, Fail> {
        let instance = match self.linker.instantiate(&mut self.store, module) {
            Ok(instance) => instance,
            Err(Error::Instantiation(trap)) => return Ok(Err(trap)),
            Err(Error::Link(message)) => return Err(self.link_failure(module, message)),
            Err(other) => return Err(other.into()),
        };
        if let Some(start) = self.store.instance_start(instance)
            && let Err(trap) = self.call(start, &[])?
        {
            return Ok(Err(trap));
        }
        Ok(Ok(instance))
    }

    /// [`Runner::instantiate`] for a module that must not trap.
    fn instantiate_untrapped(&mut self, module: &Module) -> Result<Instance, Fail> {
        match self.instantiate(module)? {
            Ok(instance) => Ok(instance),
            Err(trap) => failed(format!("instantiation trapped: {trap}")),
        }
    }

    /// A link error, blamed on a registration that failed when the module imports from one.
    fn link_failure(&self, module: &Module, message: String) -> Fail {
        module
            .imports()
            .find_map(|import| {
                self.broken_registrations.get(&import.module).map(|fail| {
                    fail.clone()
                        .context(format!("imports from `{}`", import.module))
                })
            })
            .unwrap_or_else(|| Fail::Failed(format!("link error: {message}")))
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Execution {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                match self.store.instance_export(instance, global) {
                    Some(Extern::Global(g)) => Ok(Ok(vec![self.store.global_get(g)])),
                    Some(_) => failed(format!("export `{global}` is not a global")),
                    None => failed(format!("no export named `{global}`")),
                }
            }
            WastExecute::Wat(mut wat) => {
                let module = self.compile_encoded(encode_wat(&mut wat)?)?;
                Ok(self.instantiate(&module)?.map(|_| Vec::new()))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Execution {
        let instance = self.instance(invoke.module)?;
        let func = match self.store.instance_export(instance, invoke.name) {
            Some(Extern::Func(func)) => func,
            Some(_) => return failed(format!("export `{}` is not a function", invoke.name)),
            None => return failed(format!("no export named `{}`", invoke.name)),
        };
        let args = invoke
            .args
            .iter()
            .map(arg_val)
            .collect::<Result<Vec<_>, _>>()?;
        self.call(func, &args)
    }

    /// Runs `func` to completion, answering host calls; a run that exhausts the directive's
    /// fuel fails. However it ends, the store is left with no call in progress.
    fn call(&mut self, func: Func, args: &[Val]) -> Execution {
        self.store.invoke(func, args)?;
        let execution = self.finish_call();
        self.abandon_call();
        execution
    }

    fn finish_call(&mut self) -> Execution {
        self.pauses.round_trips = 0;
        let halt = self.store.drive(self.fuel, &mut self.pauses);
        if let Some(fail) = self.pauses.failure.take() {
            return Err(fail);
        }
        match halt? {
            Halt::Finished(results) => Ok(Ok(results)),
            Halt::Trapped(trap) => Ok(Err(trap)),
            Halt::Exited { code, .. } => failed(format!("the host ended the program ({code})")),
            Halt::OutOfFuel | Halt::Interrupted | Halt::Held(_) => {
                failed(format!("still running after {} units of fuel", self.fuel))
            }
        }
    }

    /// Ends a call left in progress (out of fuel, or interrupted by an engine panic).
    fn abandon_call(&mut self) {
        self.store.abort();
    }

    /// `assert_invalid` and `assert_malformed`: the text must not encode, or the engine must reject the binary.
    fn expect_rejected(&self, quote: &mut QuoteWat<'_>, message: &str) -> Check {
        let bytes = match encode(quote)? {
            Ok(bytes) => bytes,
            Err(_) => return Ok(()),
        };
        match Module::new(&self.engine, &bytes) {
            Ok(_) => failed(format!("the module was accepted, expected \"{message}\"")),
            // Rejected either way; "unsupported" means a later proposal gives this encoding a meaning, which the
            // suite's Wasm version does not.
            Err(_) => Ok(()),
        }
    }

    /// `assert_unlinkable`: the module is valid, but instantiating it must fail with a link error.
    fn expect_unlinkable(&mut self, wat: &mut Wat<'_>, message: &str) -> Check {
        let module = self.compile_encoded(encode_wat(wat)?)?;
        match self.linker.instantiate(&mut self.store, &module) {
            Err(Error::Link(_)) => Ok(()),
            Err(Error::Unsupported(reason)) => unsupported(reason),
            Err(other) => failed(format!("expected link error \"{message}\", got: {other}")),
            Ok(_) => failed(format!("the module linked, expected \"{message}\"")),
        }
    }
}

/// Encodes a module of a script; components are unsupported. The inner error is the encoder's.
fn encode(quote: &mut QuoteWat<'_>) -> Result<Result<Vec<u8>, ::wast::Error>, Fail> {
    match quote {
        QuoteWat::Wat(wat) => encode_wat(wat),
        QuoteWat::QuoteModule(..) => Ok(quote.encode()),
        QuoteWat::QuoteComponent(..) => unsupported("components"),
    }
}

fn encode_wat(wat: &mut Wat<'_>) -> Result<Result<Vec<u8>, ::wast::Error>, Fail> {
    match wat {
        Wat::Module(_) => Ok(wat.encode()),
        Wat::Component(_) => unsupported("components"),
    }
}

fn id_text(id: Option<Id<'_>>) -> String {
    id.map_or_else(
        || "(none defined yet)".to_string(),
        |id| format!("${}", id.name()),
    )
}

/// `assert_trap` and `assert_exhaustion`: the run must trap with a message that contains `expected`.
fn expect_trap(execution: Result<Vec<Val>, Trap>, expected: &str) -> Check {
    match execution {
        Ok(results) => failed(format!(
            "expected trap \"{expected}\", returned {}",
            vals_text(&results)
        )),
        Err(trap) if trap_matches(&trap.to_string(), expected) => Ok(()),
        Err(trap) => failed(format!("expected trap \"{expected}\", got trap \"{trap}\"")),
    }
}

/// Whether a trap message says what the script expects. The reference interpreter
/// appends the element index to some messages (`uninitialized element 7`); an engine
/// need not report it.
fn trap_matches(actual: &str, expected: &str) -> bool {
    let without_index = expected
        .rsplit_once(' ')
        .filter(|(_, index)| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()))
        .map(|(stem, _)| stem);
    actual.contains(expected) || without_index.is_some_and(|stem| actual.contains(stem))
}

fn arg_val(arg: &WastArg<'_>) -> Result<Val, Fail> {
    let WastArg::Core(core) = arg else {
        return unsupported("component-model arguments");
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::V128(c) => Val::V128(u128::from_le_bytes(c.to_le_bytes())),
        WastArgCore::RefNull(heap) => match abstract_heap(heap) {
            Some(AbstractHeapType::Func | AbstractHeapType::NoFunc) => Val::FuncRef(None),
            Some(AbstractHeapType::Extern | AbstractHeapType::NoExtern) => Val::ExternRef(None),
            _ => return unsupported(format!("argument `ref.null {heap:?}`")),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(*n)),
        WastArgCore::RefHost(_) => return unsupported("argument `ref.host`"),
    })
}

/// The heap type when it is abstract and not shared.
fn abstract_heap(heap: &HeapType<'_>) -> Option<AbstractHeapType> {
    match heap {
        HeapType::Abstract { shared: false, ty } => Some(*ty),
        _ => None,
    }
}

/// `assert_return`: every result must match its expected pattern.
fn compare_results(actual: &[Val], expected: &[WastRet<'_>]) -> Check {
    let mismatch = || {
        failed(format!(
            "expected {}, got {}",
            rets_text(expected),
            vals_text(actual)
        ))
    };
    if actual.len() != expected.len() {
        return mismatch();
    }
    for (value, expected) in actual.iter().zip(expected) {
        let WastRet::Core(expected) = expected else {
            return unsupported("component-model results");
        };
        if !ret_matches(expected, value)? {
            return mismatch();
        }
    }
    Ok(())
}

/// Whether `value` matches the expected result; patterns of types the engine lacks are unsupported.
fn ret_matches(expected: &WastRetCore<'_>, value: &Val) -> Result<bool, Fail> {
    Ok(match (expected, value) {
        (WastRetCore::I32(e), Val::I32(v)) => e == v,
        (WastRetCore::I64(e), Val::I64(v)) => e == v,
        (WastRetCore::F32(e), Val::F32(v)) => f32_matches(e, *v),
        (WastRetCore::F64(e), Val::F64(v)) => f64_matches(e, *v),
        (WastRetCore::V128(e), Val::V128(v)) => v128_matches(e, *v),
        (WastRetCore::RefNull(heap), value) => match heap.as_ref().map(abstract_heap) {
            None => matches!(value, Val::FuncRef(None) | Val::ExternRef(None)),
            Some(Some(AbstractHeapType::Func | AbstractHeapType::NoFunc)) => {
                matches!(value, Val::FuncRef(None))
            }
            Some(Some(AbstractHeapType::Extern | AbstractHeapType::NoExtern)) => {
                matches!(value, Val::ExternRef(None))
            }
            Some(_) => return unsupported(format!("result `ref.null {heap:?}`")),
        },
        (WastRetCore::RefExtern(e), Val::ExternRef(v)) => match e {
            Some(e) => *v == Some(*e),
            None => v.is_some(),
        },
        (WastRetCore::RefFunc(_), Val::FuncRef(v)) => v.is_some(),
        (WastRetCore::Either(options), value) => {
            for option in options {
                if ret_matches(option, value)? {
                    return Ok(true);
                }
            }
            false
        }
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => return unsupported(format!("result pattern {}", ret_text(expected))),
        _ => false,
    })
}

fn f32_matches(expected: &NanPattern<::wast::token::F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(e) => e.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<::wast::token::F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(e) => e.bits == bits,
    }
}

/// The lanes of a v128 in the shape `N` bytes wide, as little-endian unsigned integers.
fn lanes<const N: usize>(bits: u128) -> impl Iterator<Item = u64> {
    bits.to_le_bytes()
        .chunks_exact(N)
        .map(|lane| {
            lane.iter()
                .rev()
                .fold(0u64, |acc, &b| acc << 8 | u64::from(b))
        })
        .collect::<Vec<_>>()
        .into_iter()
}

fn v128_matches(expected: &V128Pattern, bits: u128) -> bool {
    match expected {
        V128Pattern::I8x16(e) => lanes::<1>(bits)
            .zip(e)
            .all(|(v, e)| v == u64::from(*e as u8)),
        V128Pattern::I16x8(e) => lanes::<2>(bits)
            .zip(e)
            .all(|(v, e)| v == u64::from(*e as u16)),
        V128Pattern::I32x4(e) => lanes::<4>(bits)
            .zip(e)
            .all(|(v, e)| v == u64::from(*e as u32)),
        V128Pattern::I64x2(e) => lanes::<8>(bits).zip(e).all(|(v, e)| v == *e as u64),
        V128Pattern::F32x4(e) => lanes::<4>(bits)
            .zip(e)
            .all(|(v, e)| f32_matches(e, v as u32)),
        V128Pattern::F64x2(e) => lanes::<8>(bits).zip(e).all(|(v, e)| f64_matches(e, v)),
    }
}

fn vals_text(vals: &[Val]) -> String {
    if vals.is_empty() {
        return "nothing".to_string();
    }
    vals.iter()
        .map(|&v| format_val(v))
        .collect::<Vec<_>>()
        .join(" ")
}

fn rets_text(rets: &[WastRet<'_>]) -> String {
    if rets.is_empty() {
        return "nothing".to_string();
    }
    rets.iter()
        .map(|ret| match ret {
            WastRet::Core(core) => ret_text(core),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An expected result in the notation of [`format_val`], with NaN patterns and lane lists spelled out.
fn ret_text(ret: &WastRetCore<'_>) -> String {
    fn nan_or<T>(pattern: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
        match pattern {
            NanPattern::CanonicalNan => "nan:canonical".to_string(),
            NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
            NanPattern::Value(v) => value(v),
        }
    }
    fn join<T>(items: &[T], text: impl Fn(&T) -> String) -> String {
        items.iter().map(text).collect::<Vec<_>>().join(" ")
    }
    match ret {
        WastRetCore::I32(v) => format_val(Val::I32(*v)),
        WastRetCore::I64(v) => format_val(Val::I64(*v)),
        WastRetCore::F32(p) => format!("{}:f32", nan_or(p, |f| f32_text(f.bits))),
        WastRetCore::F64(p) => format!("{}:f64", nan_or(p, |f| f64_text(f.bits))),
        WastRetCore::V128(pattern) => {
            let lanes = match pattern {
                V128Pattern::I8x16(l) => format!("i8x16 {}", join(l, i8::to_string)),
                V128Pattern::I16x8(l) => format!("i16x8 {}", join(l, i16::to_string)),
                V128Pattern::I32x4(l) => format!("i32x4 {}", join(l, i32::to_string)),
                V128Pattern::I64x2(l) => format!("i64x2 {}", join(l, i64::to_string)),
                V128Pattern::F32x4(l) => {
                    format!("f32x4 {}", join(l, |p| nan_or(p, |f| f32_text(f.bits))))
                }
                V128Pattern::F64x2(l) => {
                    format!("f64x2 {}", join(l, |p| nan_or(p, |f| f64_text(f.bits))))
                }
            };
            format!("({lanes}):v128")
        }
        WastRetCore::RefNull(None) => "null".to_string(),
        WastRetCore::RefNull(Some(heap)) => match abstract_heap(heap) {
            Some(AbstractHeapType::Func) => "null:funcref".to_string(),
            Some(AbstractHeapType::Extern) => "null:externref".to_string(),
            _ => format!("null:{heap:?}"),
        },
        WastRetCore::RefExtern(Some(n)) => format!("extern:{n}:externref"),
        WastRetCore::RefExtern(None) => "(any non-null externref)".to_string(),
        WastRetCore::RefFunc(_) => "(any non-null funcref)".to_string(),
        WastRetCore::Either(options) => {
            format!("(either {})", join(options, ret_text))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one() {
        let index = LineIndex::new("a\nbc\n\nd");
        assert_eq!(index.line(Span::from_offset(0)), 1);
        assert_eq!(index.line(Span::from_offset(2)), 2);
        assert_eq!(index.line(Span::from_offset(3)), 2);
        assert_eq!(index.line(Span::from_offset(5)), 3);
        assert_eq!(index.line(Span::from_offset(6)), 4);
    }

    #[test]
    fn trap_messages_match_by_containment() {
        assert!(trap_matches(
            "integer divide by zero",
            "integer divide by zero"
        ));
        assert!(trap_matches(
            "out of bounds memory access",
            "out of bounds memory"
        ));
        assert!(trap_matches(
            "uninitialized element",
            "uninitialized element 7"
        ));
        assert!(!trap_matches("uninitialized element", "undefined element"));
        assert!(!trap_matches("unreachable", "integer overflow"));
    }

    #[test]
    fn nan_patterns_follow_the_spec() {
        let canonical = NanPattern::<::wast::token::F32>::CanonicalNan;
        let arithmetic = NanPattern::<::wast::token::F32>::ArithmeticNan;
        assert!(f32_matches(&canonical, 0x7fc0_0000));
        assert!(f32_matches(&canonical, 0xffc0_0000));
        assert!(!f32_matches(&canonical, 0x7fc0_0001));
        assert!(f32_matches(&arithmetic, 0x7fc0_0001));
        assert!(!f32_matches(&arithmetic, 0x7fa0_0000));
        assert!(!f32_matches(&arithmetic, 0x7f80_0000));
        let canonical = NanPattern::<::wast::token::F64>::CanonicalNan;
        assert!(f64_matches(&canonical, 0xfff8_0000_0000_0000));
        assert!(!f64_matches(&canonical, 0x7ff8_0000_0000_0001));
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        let bits =
            u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(&V128Pattern::I32x4([1, 2, 3, -1]), bits));
        assert!(!v128_matches(&V128Pattern::I32x4([1, 2, 3, 4]), bits));
        assert!(v128_matches(
            &V128Pattern::I16x8([1, 0, 2, 0, 3, 0, -1, -1]),
            bits
        ));
    }

    #[test]
    fn a_hanging_directive_fails_and_the_next_one_runs() {
        let config = ScriptConfig {
            directive_fuel: 10_000,
            ..ScriptConfig::default()
        };
        let report = run_script_with(
            "hang.wast",
            r#"(module
                 (func (export "spin") (loop (br 0)))
                 (func (export "one") (result i32) (i32.const 1)))
               (invoke "spin")
               (assert_return (invoke "one") (i32.const 1))"#,
            &config,
        );
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        assert_eq!(report.failures[0].line, 4);
        assert_eq!(
            report.failures[0].message,
            "still running after 10000 units of fuel"
        );
        assert_eq!(report.by_kind["assert_return"].passed, 1);
    }

    #[test]
    fn unparsable_script_is_one_failed_parse() {
        let report = run_script("bad.wast", "(module\n  (func (oops)))");
        assert_eq!(
            report.totals(),
            Counts {
                passed: 0,
                failed: 1,
                unsupported: 0
            }
        );
        assert_eq!(report.failures[0].kind, "parse");
        assert_eq!(report.failures[0].line, 2);
    }

    #[test]
    fn unimplemented_directives_are_unsupported_not_skipped() {
        let report = run_script(
            "threads.wast",
            "(module)\n(thread $T (invoke \"f\"))\n(wait $T)\n(assert_malformed_custom (module quote \"\") \"x\")",
        );
        assert_eq!(report.failures, []);
        assert_eq!(
            report.totals(),
            Counts {
                passed: 1,
                failed: 0,
                unsupported: 3
            }
        );
        assert_eq!(report.by_kind["thread"].unsupported, 1);
        assert_eq!(report.by_kind["wait"].unsupported, 1);
    }
}
