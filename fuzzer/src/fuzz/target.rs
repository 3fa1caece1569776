//! A fuzz target: a Wasm module booted once up to where it takes its input, then reset to that baseline and run for every input.
//!
//! Two kinds of harness are recognised from the module's exports:
//! - libFuzzer style: `LLVMFuzzerTestOneInput(ptr, len)`, with optional `LLVMFuzzerInitialize(argc*, argv**)` and
//!   `_initialize` (a WASI reactor). Initialization runs once; the input buffer is allocated once, with the module's
//!   exported `malloc` when there is one or in fresh pages grown past the end of its memory otherwise.
//! - whole WASI programs (`_start`): the input is standard input, or the file named by `@@` in the arguments; the
//!   program runs until it first reads that input and the baseline is taken there.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use capicola_engine::sanitizer::{AllocFn, SanitizerReport, Violation};
use capicola_engine::wasi::{self, OutputMode, RunStatus, WasiCtx, WasiError};
use capicola_engine::{
    CmpValues, Config, Engine, Error, Extern, FrameInfo, Func, Halt, HostAnswer, HostCall,
    Instance, Linker, Memory, Module, PAGE_SIZE, Pilot, Resource, Slicer, Store, Trap, TrapKind,
    Val, ValType,
};

use super::harness::{INITIALIZE, Instrumentation, TEST_ONE_INPUT};
use super::sanitizer::{self, Symbols};

/// The argument that stands for the input file (as in AFL++).
pub const INPUT_FILE_ARG: &str = "@@";
/// The guest directory that holds the input file.
pub const INPUT_DIR: &str = "/fuzz";
/// The guest path of the input file that `@@` is replaced with.
pub const INPUT_FILE_PATH: &str = "/fuzz/input";
/// Most bytes of each output stream kept when the guest's output is captured.
const CAPTURE_LIMIT: usize = 1 << 16;
/// Wall-clock time aimed at between two looks at the clock when a run has a time limit: a run stops within a few
/// of these of its limit.
const SLICE_TIME: Duration = Duration::from_millis(2);
/// Fuel of the first slice of a target's first timed run; later slices adapt to how long slices take.
const FIRST_SLICE: u64 = 256;
/// Most fuel in one slice.
const MAX_SLICE: u64 = 1 << 24;
/// Innermost frames, by function, that identify a finding by default (`--dedup-frames`): where in those functions
/// and how the input got there (callers, recursion depth) do not make it another bug, as libFuzzer's and ASan's
/// deduplication have it.
pub const DEDUP_FRAMES: usize = 3;

/// Why a target could not be loaded or booted.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The engine rejected the module or a call.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The WASI layer could not be set up or driven.
    #[error(transparent)]
    Wasi(#[from] WasiError),
    /// The module exports no memory named `memory`.
    #[error("the module exports no memory named `memory`")]
    NoMemory,
    /// The module is neither a libFuzzer harness nor a WASI program.
    #[error(
        "the module exports neither `{TEST_ONE_INPUT}` (a libFuzzer harness) nor `_start` (a WASI program)"
    )]
    NotATarget,
    /// An exported function has the wrong type.
    #[error("`{name}` has type {found}; expected {expected}")]
    BadExport {
        name: &'static str,
        found: String,
        expected: &'static str,
    },
    /// Initialization trapped.
    #[error("initialization trapped: {trap}")]
    InitTrapped { trap: Trap },
    /// Initialization called `exit`.
    #[error("initialization exited with code {0}")]
    InitExited(i32),
    /// Initialization did not finish within its fuel budget.
    #[error("initialization did not finish within {0} units of fuel (raise --init-fuel)")]
    InitFuel(u64),
    /// Initialization was still running when the time of the whole command ran out.
    #[error("initialization did not finish before the time limit (--max-total-time) ran out")]
    InitDeadline,
    /// The WASI program ended before it read its input.
    #[error("the program ended (exit code {0}) before it read its input")]
    NoInputRead(i32),
    /// No guest memory could be found for the input buffer.
    #[error("cannot reserve {0} bytes of guest memory for the input")]
    NoRoom(usize),
}

/// How a harness takes its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HarnessKind {
    /// `LLVMFuzzerTestOneInput(ptr, len)`.
    LibFuzzer,
    /// A WASI program reading standard input.
    Stdin,
    /// A WASI program reading the file named by `@@`.
    File,
}

impl HarnessKind {
    /// Recognises the kind of harness from the module's exports and the program arguments.
    pub fn detect(module: &Module, args: &[String]) -> Result<HarnessKind, TargetError> {
        let exports: Vec<&str> = module.exports().map(|(name, _)| name).collect();
        if exports.contains(&TEST_ONE_INPUT) {
            Ok(HarnessKind::LibFuzzer)
        } else if exports.contains(&"_start") {
            Ok(if args.iter().any(|a| a == INPUT_FILE_ARG) {
                HarnessKind::File
            } else {
                HarnessKind::Stdin
            })
        } else {
            Err(TargetError::NotATarget)
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            HarnessKind::LibFuzzer => "libFuzzer harness (LLVMFuzzerTestOneInput)",
            HarnessKind::Stdin => "WASI program, input on stdin",
            HarnessKind::File => "WASI program, input file @@",
        }
    }
}

/// How a target is set up and run.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// `argv[0]` of the guest.
    pub program_name: String,
    /// Arguments after the program name; `@@` stands for the input file.
    pub args: Vec<String>,
    /// Environment variables of the guest.
    pub env: Vec<(String, String)>,
    /// Largest input in bytes; longer inputs are cut.
    pub max_len: usize,
    /// Fuel one input may use before it is a timeout: one unit per op of the engine's internal code that runs, as
    /// translated for the campaign, fused (`Config::fuse`): a fused op, such as `local.get; i32.const; i32.lt_s;
    /// br_if`, is one unit, and so is each op of the hooks (an edge count, a `CovJump` on a fused jump's taken
    /// branch, a comparison log). A unit is thus at most a few Wasm instructions, and time per unit stays within a
    /// small factor of an unfused op's, so the limit still bounds an input's running time; an input uses fewer
    /// units than the same input took before coverage was fused, never more.
    pub fuel: u64,
    /// Instructions initialization may run.
    pub init_fuel: u64,
    /// Wall-clock time one input may run before it is a timeout, whatever fuel it has left (`None`: no limit).
    pub timeout: Option<Duration>,
    /// When the whole command must end (`--max-total-time`): initialization and any input still running then
    /// stop, initialization with [`TargetError::InitDeadline`] and an input with [`InputOutcome::Interrupted`].
    pub deadline: Option<Instant>,
    /// Where the guest's standard output and error go.
    pub output: OutputMode,
    /// Instantiate and initialize the module again for every input instead of resetting it (the baseline that
    /// snapshot reset is measured against).
    pub fresh: bool,
    /// The engine's limits (memory, tables, stacks, fuel of bulk operations); the target sets its hooks on top.
    pub limits: Config,
    /// Largest size of all files of a WASI target's sandbox together (`None`: the sandbox's default).
    pub max_fs_bytes: Option<u64>,
    /// Innermost frames that identify a finding (0: the whole backtrace), by function.
    pub dedup_frames: usize,
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions {
            program_name: "target".into(),
            args: Vec::new(),
            env: Vec::new(),
            max_len: 4096,
            fuel: 10_000_000,
            init_fuel: 10_000_000_000,
            timeout: None,
            deadline: None,
            output: OutputMode::Discard,
            fresh: false,
            limits: Config::default(),
            max_fs_bytes: None,
            dedup_frames: DEDUP_FRAMES,
        }
    }
}

/// What running one input did. A trap is an outcome of the guest, not an error.
#[derive(Debug, Clone, PartialEq)]
pub enum InputOutcome {
    /// The harness returned, or the program exited with this code.
    Ok { exit_code: i32 },
    /// The guest trapped.
    Trapped(Trap),
    /// A libFuzzer harness called `exit`, which libFuzzer counts as a crash.
    Exited {
        code: i32,
        backtrace: Vec<FrameInfo>,
    },
    /// The fuel or the wall-clock time of one input ran out; the Wasm call stack where it did.
    Timeout {
        backtrace: Vec<FrameInfo>,
        cause: TimeoutCause,
    },
    /// The time of the whole command ran out while the input ran: not a finding, the end of the command.
    Interrupted,
    /// The engine panicked or refused a call: a bug of capicola, not of the target.
    EngineBug(String),
}

/// What ran out when an input timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutCause {
    /// Its fuel (`--fuel`): deterministic.
    Fuel,
    /// Its wall-clock time (`--timeout`).
    WallClock,
}

/// What kind of finding an outcome is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingClass {
    Crash,
    Timeout,
    /// The input grew linear memory past the limit (`--max-memory`): libFuzzer's out-of-memory, kept apart from
    /// crashes.
    OutOfMemory,
    EngineBug,
}

/// Whether a trap is an input's growing linear memory past the limit (the target runs with
/// `Config::trap_at_memory_limit`).
fn is_memory_limit(kind: &TrapKind) -> bool {
    matches!(kind, TrapKind::ResourceExhausted(Resource::Memory))
}

/// What identifies a finding: two inputs with the same signature are the same bug.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    pub class: FindingClass,
    /// A file-name-safe label: the trap kind, `timeout`, `exit-N` or `engine-panic`; for a sanitizer finding, the
    /// violation and a function (`heap-buffer-overflow-parse`).
    pub label: String,
    /// FNV-1a of the label and the functions of the innermost frames (`--dedup-frames`, [`DEDUP_FRAMES`] by
    /// default); for a sanitizer finding, of the violation and those functions' names.
    pub hash: u64,
}

impl Signature {
    /// The file name a finding with this signature is saved under.
    pub fn file_name(&self) -> String {
        format!("{}-{:016x}", self.label, self.hash)
    }
}

/// 64-bit FNV-1a: stable across builds and machines, so file names of findings are too.
pub fn fnv1a(data: &[u8], mut hash: u64) -> u64 {
    for &b in data {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// FNV-1a's offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_matches('-').to_string()
}

/// The innermost `n` frames (all of them for 0).
fn top(frames: &[FrameInfo], n: usize) -> &[FrameInfo] {
    match n {
        0 => frames,
        n => &frames[..frames.len().min(n)],
    }
}

fn frames_hash(label: &str, frames: &[FrameInfo]) -> u64 {
    let mut hash = fnv1a(label.as_bytes(), FNV_OFFSET);
    for frame in frames {
        hash = fnv1a(&frame.func_index.to_le_bytes(), hash);
    }
    hash
}

impl InputOutcome {
    /// A leak finding for the first of `leaks` (blocks an input allocated and did not free), if any: a sanitizer
    /// trap whose backtrace is the block's allocation.
    pub fn leak(leaks: Vec<capicola_engine::sanitizer::BlockReport>) -> Option<InputOutcome> {
        let block = leaks.into_iter().next()?;
        Some(InputOutcome::Trapped(Trap {
            backtrace: block.allocated.clone(),
            kind: TrapKind::Sanitizer(Box::new(SanitizerReport {
                violation: Violation::MemoryLeak,
                access: None,
                pointer: Some(block.start),
                block: Some(block),
            })),
        }))
    }

    /// For a sanitizer finding: the violation and its backtrace.
    fn sanitizer_identity(&self) -> Option<(&SanitizerReport, &[FrameInfo])> {
        match self {
            InputOutcome::Trapped(Trap {
                kind: TrapKind::Sanitizer(report),
                backtrace,
            }) => Some((report, backtrace)),
            _ => None,
        }
    }

    /// The finding this outcome is, if any: `None` for a normal end. It is identified by its kind and the functions
    /// of its `frames` innermost frames (0: all). Sanitizer findings are named after the violation and the
    /// innermost function that is not the allocator's (`heap-buffer-overflow-parse`).
    pub fn signature(&self, module: &Module, frames: usize) -> Option<Signature> {
        if let Some((report, backtrace)) = self.sanitizer_identity() {
            let frames = top(backtrace, frames);
            let symbols = Symbols {
                module,
                debug_info: None,
            };
            let names: Vec<String> = frames
                .iter()
                .map(|f| symbols.func_name(f.func_index))
                .collect();
            let id = report.violation.id();
            let mut hash = fnv1a(id.as_bytes(), FNV_OFFSET);
            for name in &names {
                hash = fnv1a(name.as_bytes(), fnv1a(&[0], hash));
            }
            let place = names
                .iter()
                .find(|n| !AllocFn::ALL.iter().any(|f| f.name() == n.as_str()))
                .or(names.first());
            let label = match place {
                Some(place) => format!("{id}-{}", slug(place)),
                None => id.to_string(),
            };
            return Some(Signature {
                class: FindingClass::Crash,
                label,
                hash,
            });
        }
        let (class, label, hash) = match self {
            InputOutcome::Ok { .. } | InputOutcome::Interrupted => return None,
            InputOutcome::Trapped(trap) if is_memory_limit(&trap.kind) => {
                let label = "out-of-memory".to_string();
                let hash = frames_hash(&label, top(&trap.backtrace, frames));
                (FindingClass::OutOfMemory, label, hash)
            }
            InputOutcome::Trapped(trap) => {
                let label = slug(trap.kind.message());
                let hash = frames_hash(&label, top(&trap.backtrace, frames));
                (FindingClass::Crash, label, hash)
            }
            InputOutcome::Exited { code, backtrace } => {
                let label = format!("exit-{code}");
                let hash = frames_hash(&label, top(backtrace, frames));
                (FindingClass::Crash, label, hash)
            }
            InputOutcome::Timeout { backtrace, .. } => {
                let label = "timeout".to_string();
                let hash = frames_hash(&label, top(backtrace, frames));
                (FindingClass::Timeout, label, hash)
            }
            InputOutcome::EngineBug(message) => {
                let label = "engine-panic".to_string();
                let hash = fnv1a(message.as_bytes(), FNV_OFFSET);
                (FindingClass::EngineBug, label, hash)
            }
        };
        Some(Signature { class, label, hash })
    }

    /// Whether two outcomes are the same failure in the strict sense (`tmin --same-backtrace`): same kind, same
    /// whole backtrace, offsets included; for sanitizer findings, the same violation along the same functions
    /// (addresses and sizes change with the input).
    pub fn same_failure(&self, other: &InputOutcome) -> bool {
        if let (Some((a, x)), Some((b, y))) =
            (self.sanitizer_identity(), other.sanitizer_identity())
        {
            let funcs =
                |frames: &[FrameInfo]| frames.iter().map(|f| f.func_index).collect::<Vec<_>>();
            return a.violation == b.violation && funcs(x) == funcs(y);
        }
        match (self, other) {
            (InputOutcome::Trapped(a), InputOutcome::Trapped(b)) => a == b,
            (
                InputOutcome::Exited {
                    code: a,
                    backtrace: x,
                },
                InputOutcome::Exited {
                    code: b,
                    backtrace: y,
                },
            ) => a == b && x == y,
            (
                InputOutcome::Timeout { backtrace: x, .. },
                InputOutcome::Timeout { backtrace: y, .. },
            ) => frames_hash("", x) == frames_hash("", y),
            (InputOutcome::EngineBug(a), InputOutcome::EngineBug(b)) => a == b,
            _ => false,
        }
    }

    /// A human-readable account: the outcome, and the Wasm backtrace with function names (and, in a sanitizer's
    /// report, source lines) from `symbols`.
    pub fn describe(&self, symbols: &Symbols<'_>) -> String {
        let module = symbols.module;
        match self {
            InputOutcome::Ok { exit_code } => format!("ok (exit code {exit_code})"),
            InputOutcome::Trapped(Trap {
                kind: TrapKind::Sanitizer(report),
                backtrace,
            }) => format!(
                "crash: {}\n{}",
                report.violation.id(),
                sanitizer::report(report, backtrace, *symbols)
            ),
            InputOutcome::Trapped(trap) if is_memory_limit(&trap.kind) => format!(
                "out-of-memory: linear memory would grow past its limit (--max-memory, {} bytes)\n{}",
                module.engine().config().max_memory_bytes,
                format_backtrace(module, &trap.backtrace)
            ),
            InputOutcome::Trapped(trap) => format!(
                "crash: trap: {}\n{}",
                trap.kind,
                format_backtrace(module, &trap.backtrace)
            ),
            InputOutcome::Exited { code, backtrace } => format!(
                "crash: the harness called exit({code})\n{}",
                format_backtrace(module, backtrace)
            ),
            InputOutcome::Timeout { backtrace, cause } => format!(
                "timeout: {}\n{}",
                match cause {
                    TimeoutCause::Fuel => "out of fuel",
                    TimeoutCause::WallClock => "ran past its wall-clock limit (--timeout)",
                },
                format_backtrace(module, backtrace)
            ),
            InputOutcome::Interrupted => {
                "interrupted: the time limit (--max-total-time) ran out".into()
            }
            InputOutcome::EngineBug(message) => format!("engine bug: {message}"),
        }
    }
}

/// A Wasm backtrace, innermost frame first, one line per frame, with names from the module's name section.
pub fn format_backtrace(module: &Module, frames: &[FrameInfo]) -> String {
    let mut out = String::from("wasm backtrace:");
    for (depth, frame) in frames.iter().enumerate() {
        let name = module
            .func_name(frame.func_index)
            .map(|name| format!(" ({name})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n  {depth}: func {}{name} at offset {:#x}",
            frame.func_index, frame.offset
        ));
    }
    out
}

/// How much a run may do: instructions, and the instants at which it stops whatever fuel it has left.
#[derive(Debug, Clone, Copy)]
struct Budget {
    fuel: u64,
    /// The end of this input's wall-clock time (`--timeout`).
    timeout_at: Option<Instant>,
    /// The end of the whole command's time (`--max-total-time`).
    deadline: Option<Instant>,
    /// Fuel of the next slice with a time limit: doubled after a slice much shorter than [`SLICE_TIME`], cut in
    /// proportion after a longer one, so that a guest whose instructions are slow (bulk memory operations, host
    /// calls) is still stopped on time. Carried from run to run of a target.
    slice: u64,
}

/// Why a [`Budget`] stopped a run before its fuel ran out.
enum Expired {
    /// The input's own wall-clock time.
    Timeout,
    /// The whole command's time.
    Deadline,
}

impl Budget {
    /// The budget of initialization: its fuel, and the command's deadline.
    fn init(options: &TargetOptions) -> Budget {
        Budget {
            fuel: options.init_fuel,
            timeout_at: None,
            deadline: options.deadline,
            slice: FIRST_SLICE,
        }
    }

    /// The budget of one input starting now, with the slice size the last one ended with.
    fn input(options: &TargetOptions, slice: u64) -> Budget {
        Budget {
            fuel: options.fuel,
            timeout_at: options.timeout.and_then(|t| Instant::now().checked_add(t)),
            deadline: options.deadline,
            slice,
        }
    }

    /// Whether a time limit has passed (the command's deadline first: it ends everything).
    fn expired(&self) -> Option<Expired> {
        if self.timeout_at.is_none() && self.deadline.is_none() {
            return None;
        }
        let now = Instant::now();
        if self.deadline.is_some_and(|d| now >= d) {
            Some(Expired::Deadline)
        } else if self.timeout_at.is_some_and(|t| now >= t) {
            Some(Expired::Timeout)
        } else {
            None
        }
    }

    /// Fuel for the next stretch of a run that has `left`: all of it without a time limit (the run is then exactly
    /// as without slicing), at most the current slice with one.
    fn next_slice(&self, left: u64) -> u64 {
        if self.timeout_at.is_none() && self.deadline.is_none() {
            left
        } else {
            left.min(self.slice)
        }
    }

    /// Adapts the slice to the last one, of `fuel`: `ran` is whether it ran anything (an instruction that costs
    /// more than a slice runs only once the slice has grown past its cost), `elapsed` how long it took.
    fn took(&mut self, fuel: u64, ran: bool, elapsed: Duration) {
        if !ran {
            self.slice = self.slice.saturating_mul(2);
            return;
        }
        if fuel < self.slice {
            // A short last stretch says little about the slice.
            return;
        }
        if elapsed > SLICE_TIME {
            let scaled = fuel as f64 * SLICE_TIME.as_secs_f64() / elapsed.as_secs_f64();
            self.slice = (scaled as u64).max(1);
        } else if elapsed < SLICE_TIME / 4 {
            self.slice = (self.slice * 2).min(MAX_SLICE);
        }
    }
}

/// How a call driven by [`drive`] ended.
enum CallEnd {
    Returned(Vec<Val>),
    Trapped(Trap),
    Exited {
        code: i32,
        backtrace: Vec<FrameInfo>,
    },
    OutOfFuel(Vec<FrameInfo>),
    /// A time limit of the budget passed; the Wasm call stack where the run stopped.
    OutOfTime(Expired, Vec<FrameInfo>),
}

/// Gives a run its fuel under a [`Budget`]: all of it at once without a time limit, else in slices with the clock
/// read between them, until a time limit passes (then `expired` says which).
struct TimedSlicer<'a> {
    budget: &'a mut Budget,
    /// Fuel consumed when the last slice began, and when.
    began: (u64, Instant),
    expired: Option<Expired>,
}

impl<'a> TimedSlicer<'a> {
    fn new(budget: &'a mut Budget) -> TimedSlicer<'a> {
        TimedSlicer {
            budget,
            began: (0, Instant::now()),
            expired: None,
        }
    }
}

impl Slicer for TimedSlicer<'_> {
    fn next_slice(&mut self, store: &mut Store, left: u64) -> Option<u64> {
        if let Some(expired) = self.budget.expired() {
            self.expired = Some(expired);
            return None;
        }
        self.began = (store.fuel_consumed(), Instant::now());
        Some(self.budget.next_slice(left))
    }

    fn ran_out(&mut self, store: &mut Store, slice: u64) {
        let (before, clock) = self.began;
        self.budget
            .took(slice, store.fuel_consumed() != before, clock.elapsed());
    }
}

/// Steers a harness function's call: WASI calls answered from the context (setting `touched`, as the context may
/// change), the fuel given by a [`TimedSlicer`].
struct TargetPilot<'a> {
    ctx: &'a mut WasiCtx,
    memory: Memory,
    touched: &'a mut bool,
    slicer: TimedSlicer<'a>,
}

impl Pilot for TargetPilot<'_> {
    fn answer(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        *self.touched = true;
        self.ctx.handle(store, self.memory, call)
    }

    fn next_slice(&mut self, store: &mut Store, left: u64) -> Option<u64> {
        self.slicer.next_slice(store, left)
    }

    fn ran_out(&mut self, store: &mut Store, slice: u64) {
        self.slicer.ran_out(store, slice);
    }
}

/// Runs the call in progress in `store` within `budget`, answering WASI calls from `ctx`; sets `touched` when it
/// answered one (and so may have changed `ctx`).
fn drive(
    store: &mut Store,
    ctx: &mut WasiCtx,
    memory: Memory,
    budget: &mut Budget,
    touched: &mut bool,
) -> Result<CallEnd, Error> {
    let fuel = budget.fuel;
    let mut pilot = TargetPilot {
        ctx,
        memory,
        touched,
        slicer: TimedSlicer::new(budget),
    };
    Ok(match store.drive(fuel, &mut pilot)? {
        Halt::Finished(results) => CallEnd::Returned(results),
        Halt::Trapped(trap) => CallEnd::Trapped(trap),
        Halt::Exited { code, backtrace } => CallEnd::Exited { code, backtrace },
        Halt::Interrupted => match pilot.slicer.expired {
            Some(expired) => CallEnd::OutOfTime(expired, store.backtrace()),
            None => CallEnd::OutOfFuel(store.backtrace()),
        },
        Halt::OutOfFuel | Halt::Held(_) => CallEnd::OutOfFuel(store.backtrace()),
    })
}

/// How a WASI program resumed by [`resume_within`] stopped.
enum Resumed {
    Status(RunStatus),
    OutOfTime(Expired),
}

/// Resumes the WASI program in `store` within `budget` (the context answers its calls).
fn resume_within(
    ctx: &mut WasiCtx,
    store: &mut Store,
    budget: &mut Budget,
) -> Result<Resumed, WasiError> {
    let fuel = budget.fuel;
    let mut slicer = TimedSlicer::new(budget);
    Ok(match ctx.resume_sliced(store, fuel, &mut slicer)? {
        Some(status) => Resumed::Status(status),
        None => match slicer.expired {
            Some(expired) => Resumed::OutOfTime(expired),
            None => Resumed::Status(RunStatus::OutOfFuel),
        },
    })
}

/// A booted instance: the store, its WASI state, and where the input goes.
#[derive(Debug, Clone)]
struct Booted {
    store: Store,
    ctx: WasiCtx,
    memory: Memory,
    entry: Entry,
}

#[derive(Debug, Clone, Copy)]
enum Entry {
    /// `LLVMFuzzerTestOneInput`, and the address and size of the input buffer.
    LibFuzzer {
        func: Func,
        buffer: u32,
        capacity: u32,
    },
    /// A WASI program paused at its first read of the input.
    Program,
}

fn exported_func(store: &Store, instance: Instance, name: &str) -> Option<Func> {
    match store.instance_export(instance, name) {
        Some(Extern::Func(f)) => Some(f),
        _ => None,
    }
}

fn check_type(
    store: &Store,
    func: Func,
    name: &'static str,
    params: &[ValType],
    results: &[ValType],
    expected: &'static str,
) -> Result<(), TargetError> {
    let ty = store.func_type(func);
    if ty.params() == params && ty.results() == results {
        Ok(())
    } else {
        Err(TargetError::BadExport {
            name,
            found: ty.to_string(),
            expected,
        })
    }
}

impl Booted {
    /// Instantiates `module` and runs it up to where it takes its input.
    fn boot(
        module: &Module,
        kind: HarnessKind,
        options: &TargetOptions,
    ) -> Result<Booted, TargetError> {
        let mut store = Store::new(module.engine());
        let mut linker = Linker::new();
        wasi::define(&mut linker, &mut store)?;
        let instance = match linker.instantiate(&mut store, module) {
            Ok(instance) => instance,
            Err(Error::Instantiation(trap)) => return Err(TargetError::InitTrapped { trap }),
            Err(error) => return Err(error.into()),
        };
        let memory = match store.instance_export(instance, "memory") {
            Some(Extern::Memory(m)) => m,
            _ => return Err(TargetError::NoMemory),
        };
        let mut builder = WasiCtx::builder()
            .arg(options.program_name.clone())
            .deterministic(0)
            .stdout(options.output)
            .stderr(options.output)
            .output_limit(CAPTURE_LIMIT);
        if let Some(bytes) = options.max_fs_bytes {
            builder = builder.max_fs_bytes(bytes);
        }
        for (key, value) in &options.env {
            builder = builder.env(key.clone(), value.clone());
        }
        if kind == HarnessKind::File {
            builder = builder
                .args(options.args.iter().map(|a| {
                    if a == INPUT_FILE_ARG {
                        INPUT_FILE_PATH.to_string()
                    } else {
                        a.clone()
                    }
                }))
                .preopen_empty_dir(INPUT_DIR)
                .file(INPUT_FILE_PATH, Vec::new())
                .input_file(INPUT_FILE_PATH);
        } else {
            builder = builder.args(options.args.iter().cloned());
        }
        let ctx = builder.build()?;
        let mut booted = Booted {
            store,
            ctx,
            memory,
            entry: Entry::Program,
        };
        match kind {
            HarnessKind::LibFuzzer => booted.init_libfuzzer(instance, options)?,
            HarnessKind::Stdin | HarnessKind::File => booted.run_to_input(instance, options)?,
        }
        booted.store.clear_cmp_log();
        Ok(booted)
    }

    /// Calls `func` during initialization; anything but a return is an error.
    fn init_call(
        &mut self,
        func: Func,
        args: &[Val],
        budget: &mut Budget,
    ) -> Result<(), TargetError> {
        self.store.invoke(func, args)?;
        match drive(
            &mut self.store,
            &mut self.ctx,
            self.memory,
            budget,
            &mut true,
        )? {
            CallEnd::Returned(_) => Ok(()),
            CallEnd::Trapped(trap) => Err(TargetError::InitTrapped { trap }),
            CallEnd::Exited { code, .. } => Err(TargetError::InitExited(code)),
            CallEnd::OutOfFuel(_) => Err(TargetError::InitFuel(budget.fuel)),
            CallEnd::OutOfTime(..) => Err(TargetError::InitDeadline),
        }
    }

    fn init_libfuzzer(
        &mut self,
        instance: Instance,
        options: &TargetOptions,
    ) -> Result<(), TargetError> {
        use ValType::I32;
        let budget = &mut Budget::init(options);
        let entry =
            exported_func(&self.store, instance, TEST_ONE_INPUT).ok_or(TargetError::NotATarget)?;
        check_type(
            &self.store,
            entry,
            TEST_ONE_INPUT,
            &[I32, I32],
            &[I32],
            "(i32, i32) -> i32",
        )?;
        if let Some(start) = self.store.instance_start(instance) {
            self.init_call(start, &[], budget)?;
        }
        if let Some(init) = exported_func(&self.store, instance, "_initialize") {
            self.init_call(init, &[], budget)?;
        }
        let malloc = exported_func(&self.store, instance, "malloc")
            .filter(|&f| check_type(&self.store, f, "malloc", &[I32], &[I32], "").is_ok());
        if let Some(init) = exported_func(&self.store, instance, INITIALIZE) {
            check_type(
                &self.store,
                init,
                INITIALIZE,
                &[I32, I32],
                &[I32],
                "(i32, i32) -> i32",
            )?;
            // argc = 1 at base, argv (a char**) at base + 4 pointing at { base + 16, NULL } at base + 8, then argv[0].
            let name = options.program_name.as_bytes();
            let base = self.alloc(malloc, 17 + name.len(), budget)?;
            let mut block = Vec::with_capacity(17 + name.len());
            for word in [1, base + 8, base + 16, 0] {
                block.extend_from_slice(&word.to_le_bytes());
            }
            block.extend_from_slice(name);
            block.push(0);
            self.store
                .write_memory(self.memory, u64::from(base), &block)?;
            self.init_call(
                init,
                &[Val::I32(base as i32), Val::I32((base + 4) as i32)],
                budget,
            )?;
        }
        let capacity = options.max_len.max(1);
        let buffer = self.alloc(malloc, capacity, budget)?;
        self.entry = Entry::LibFuzzer {
            func: entry,
            buffer,
            capacity: capacity as u32,
        };
        Ok(())
    }

    /// Writes `input` (at most `capacity` bytes) into the input buffer and starts `LLVMFuzzerTestOneInput` on it.
    /// Under the sanitizer the input ends where the buffer does, so that a read past its end is one past the
    /// buffer's `malloc` block (or past the end of memory), as with libFuzzer's copy of each input.
    fn start_input(
        &mut self,
        func: Func,
        buffer: u32,
        capacity: u32,
        input: &[u8],
    ) -> Result<(), Error> {
        let len = input.len() as u32;
        let at = if self.store.sanitizer_active() {
            buffer + capacity.saturating_sub(len)
        } else {
            buffer
        };
        self.store.write_memory(self.memory, u64::from(at), input)?;
        self.store
            .invoke(func, &[Val::I32(at as i32), Val::I32(len as i32)])
    }

    /// Reserves `len` bytes of guest memory: with the guest's `malloc`, or in pages grown past the end of memory
    /// (the guest's own allocator grows memory with `memory.grow` and never hands those pages out).
    fn alloc(
        &mut self,
        malloc: Option<Func>,
        len: usize,
        budget: &mut Budget,
    ) -> Result<u32, TargetError> {
        let size = u32::try_from(len).map_err(|_| TargetError::NoRoom(len))?;
        if let Some(malloc) = malloc {
            self.store.invoke(malloc, &[Val::I32(size as i32)])?;
            match drive(
                &mut self.store,
                &mut self.ctx,
                self.memory,
                budget,
                &mut true,
            )? {
                CallEnd::Returned(results) => match results[..] {
                    [Val::I32(ptr)] if ptr != 0 => Ok(ptr as u32),
                    _ => Err(TargetError::NoRoom(len)),
                },
                CallEnd::OutOfTime(..) => Err(TargetError::InitDeadline),
                _ => Err(TargetError::NoRoom(len)),
            }
        } else {
            let pages = (len as u64).div_ceil(PAGE_SIZE);
            let old = self
                .store
                .memory_grow(self.memory, pages)
                .ok_or(TargetError::NoRoom(len))?;
            u32::try_from(old * PAGE_SIZE).map_err(|_| TargetError::NoRoom(len))
        }
    }

    fn run_to_input(
        &mut self,
        instance: Instance,
        options: &TargetOptions,
    ) -> Result<(), TargetError> {
        self.ctx.set_stop_at_input(true);
        self.ctx.start(&mut self.store, instance)?;
        match resume_within(&mut self.ctx, &mut self.store, &mut Budget::init(options))? {
            Resumed::Status(RunStatus::InputRead) => {}
            Resumed::Status(RunStatus::OutOfFuel) => {
                return Err(TargetError::InitFuel(options.init_fuel));
            }
            Resumed::OutOfTime(_) => return Err(TargetError::InitDeadline),
            Resumed::Status(RunStatus::Done(done)) => {
                return Err(match done.trap {
                    Some(trap) => TargetError::InitTrapped { trap },
                    None => TargetError::NoInputRead(done.exit_code),
                });
            }
        }
        self.ctx.set_stop_at_input(false);
        Ok(())
    }

    /// Runs one input on this instance as it stands (the caller has reset it); sets `touched` when the WASI state
    /// may have changed.
    fn run(
        &mut self,
        kind: HarnessKind,
        input: &[u8],
        budget: &mut Budget,
        touched: &mut bool,
    ) -> Result<InputOutcome, TargetError> {
        match self.entry {
            Entry::LibFuzzer {
                func,
                buffer,
                capacity,
            } => {
                self.start_input(func, buffer, capacity, input)?;
                Ok(
                    match drive(&mut self.store, &mut self.ctx, self.memory, budget, touched)? {
                        CallEnd::Returned(_) => InputOutcome::Ok { exit_code: 0 },
                        CallEnd::Trapped(trap) => InputOutcome::Trapped(trap),
                        CallEnd::Exited { code, backtrace } => {
                            InputOutcome::Exited { code, backtrace }
                        }
                        CallEnd::OutOfFuel(backtrace) => InputOutcome::Timeout {
                            backtrace,
                            cause: TimeoutCause::Fuel,
                        },
                        CallEnd::OutOfTime(Expired::Timeout, backtrace) => InputOutcome::Timeout {
                            backtrace,
                            cause: TimeoutCause::WallClock,
                        },
                        CallEnd::OutOfTime(Expired::Deadline, _) => InputOutcome::Interrupted,
                    },
                )
            }
            Entry::Program => {
                *touched = true;
                if kind == HarnessKind::File {
                    self.ctx
                        .set_file_contents(INPUT_FILE_PATH, input.to_vec())?;
                } else {
                    self.ctx.set_stdin_bytes(input.to_vec());
                }
                Ok(
                    match resume_within(&mut self.ctx, &mut self.store, budget)? {
                        Resumed::Status(RunStatus::Done(done)) => match done.trap {
                            Some(trap) => InputOutcome::Trapped(trap),
                            None => InputOutcome::Ok {
                                exit_code: done.exit_code,
                            },
                        },
                        Resumed::Status(RunStatus::OutOfFuel | RunStatus::InputRead) => {
                            InputOutcome::Timeout {
                                backtrace: self.store.backtrace(),
                                cause: TimeoutCause::Fuel,
                            }
                        }
                        Resumed::OutOfTime(Expired::Timeout) => InputOutcome::Timeout {
                            backtrace: self.store.backtrace(),
                            cause: TimeoutCause::WallClock,
                        },
                        Resumed::OutOfTime(Expired::Deadline) => InputOutcome::Interrupted,
                    },
                )
            }
        }
    }
}

/// A loaded target, reset to its baseline before every input.
#[derive(Debug)]
pub struct Target {
    module: Module,
    kind: HarnessKind,
    options: TargetOptions,
    instrumentation: Instrumentation,
    /// The instance inputs run on; its coverage map is the one observers read.
    live: Booted,
    /// The store as it was when the target was ready for input.
    baseline: Store,
    /// The WASI state that goes with `baseline`.
    base_ctx: WasiCtx,
    /// The live WASI state may differ from `base_ctx`.
    ctx_dirty: bool,
    /// In fresh mode, the instance the last input ran on (for its comparison log).
    fresh: Option<Booted>,
    /// The engine panicked and the live store could not be reset since.
    broken: bool,
    /// The fuel slice the last timed run ended with (see [`Budget::slice`]).
    slice: u64,
}

impl Target {
    /// Compiles `wasm` with the given hooks and boots it to where it takes input.
    pub fn load(
        wasm: &[u8],
        options: &TargetOptions,
        instrumentation: Instrumentation,
    ) -> Result<Target, TargetError> {
        let engine = Engine::new(Config {
            coverage: instrumentation.coverage,
            cmplog: instrumentation.cmplog,
            sanitize: instrumentation.sanitize,
            track_dirty_pages: true,
            trap_at_memory_limit: true,
            ..options.limits.clone()
        });
        let module = Module::new(&engine, wasm)?;
        let kind = HarnessKind::detect(&module, &options.args)?;
        let mut live = Booted::boot(&module, kind, options)?;
        let baseline = live.store.baseline();
        let base_ctx = live.ctx.clone();
        Ok(Target {
            module,
            kind,
            options: options.clone(),
            instrumentation,
            live,
            baseline,
            base_ctx,
            ctx_dirty: false,
            fresh: None,
            broken: false,
            slice: FIRST_SLICE,
        })
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn kind(&self) -> HarnessKind {
        self.kind
    }

    pub fn options(&self) -> &TargetOptions {
        &self.options
    }

    pub fn instrumentation(&self) -> Instrumentation {
        self.instrumentation
    }

    /// Number of edges in the coverage map.
    pub fn map_len(&self) -> usize {
        self.live.store.coverage().len()
    }

    /// Edge hit counts of the last input(s) run since [`Target::clear_coverage`].
    pub fn coverage(&self) -> &[u8] {
        self.live.store.coverage()
    }

    /// The coverage map, writable; its address stays the same for the life of the target.
    pub fn coverage_mut(&mut self) -> &mut [u8] {
        self.live.store.coverage_mut()
    }

    pub fn clear_coverage(&mut self) {
        self.live.store.clear_coverage();
    }

    /// Exact edge hit counts since [`Target::clear_coverage`] (the map's cells stop at 255; these do not).
    pub fn edge_hits(&self) -> Vec<u64> {
        self.live.store.edge_hits()
    }

    /// Comparison operands logged by the last input (empty without the cmplog hook).
    pub fn cmp_log(&self) -> &[CmpValues] {
        match &self.fresh {
            Some(fresh) => fresh.store.cmp_log(),
            None => self.live.store.cmp_log(),
        }
    }

    /// What the guest wrote to standard output and error during the last input, when captured.
    pub fn output(&self) -> (&[u8], &[u8]) {
        let ctx = match &self.fresh {
            Some(fresh) => &fresh.ctx,
            None => &self.live.ctx,
        };
        (ctx.stdout(), ctx.stderr())
    }

    /// Runs one input from the baseline. Never fails: an engine panic or refusal is [`InputOutcome::EngineBug`].
    pub fn run(&mut self, input: &[u8]) -> InputOutcome {
        let input = &input[..input.len().min(self.options.max_len)];
        if self.broken {
            return InputOutcome::EngineBug(
                "the engine panicked earlier and the target could not be reset since".into(),
            );
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            if self.options.fresh {
                self.run_fresh(input)
            } else {
                self.run_reset(input)
            }
        }));
        match result {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => InputOutcome::EngineBug(error.to_string()),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic with a non-text payload".into());
                self.ctx_dirty = true;
                let recovered = catch_unwind(AssertUnwindSafe(|| {
                    self.live.store.abort();
                    self.live.store.reset_to(&self.baseline)
                }));
                self.broken = !matches!(recovered, Ok(Ok(())));
                InputOutcome::EngineBug(format!("engine panic: {message}"))
            }
        }
    }

    /// Whether the engine panicked and the target could not be reset: every later input is an engine bug.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    fn run_reset(&mut self, input: &[u8]) -> Result<InputOutcome, TargetError> {
        self.live.store.reset_to(&self.baseline)?;
        if self.ctx_dirty {
            self.live.ctx.clone_from(&self.base_ctx);
            self.ctx_dirty = false;
        }
        if self.instrumentation.cmplog {
            self.live.store.clear_cmp_log();
        }
        let mut budget = Budget::input(&self.options, self.slice);
        let outcome = self
            .live
            .run(self.kind, input, &mut budget, &mut self.ctx_dirty);
        self.slice = budget.slice;
        Ok(self.with_leaks(outcome?, &self.live.store, &self.baseline))
    }

    /// `outcome`, or a leak finding when leaks are detected, the input ended normally and `store` holds heap blocks
    /// allocated since `baseline` (a copy of it from before the input) and not freed.
    fn with_leaks(&self, outcome: InputOutcome, store: &Store, baseline: &Store) -> InputOutcome {
        if !self.instrumentation.detect_leaks || !matches!(outcome, InputOutcome::Ok { .. }) {
            return outcome;
        }
        InputOutcome::leak(store.sanitizer_leaks(baseline)).unwrap_or(outcome)
    }

    fn run_fresh(&mut self, input: &[u8]) -> Result<InputOutcome, TargetError> {
        let mut booted = Booted::boot(&self.module, self.kind, &self.options)?;
        booted.store.coverage_mut().fill(0);
        let before = self
            .instrumentation
            .detect_leaks
            .then(|| booted.store.clone());
        let mut budget = Budget::input(&self.options, self.slice);
        let mut outcome = booted.run(self.kind, input, &mut budget, &mut true)?;
        if let Some(before) = &before {
            outcome = self.with_leaks(outcome, &booted.store, before);
        }
        self.slice = budget.slice;
        let map = self.live.store.coverage_mut();
        for (dst, src) in map.iter_mut().zip(booted.store.coverage()) {
            *dst = dst.saturating_add(*src);
        }
        self.fresh = Some(booted);
        Ok(outcome)
    }
}

/// A target booted for the debugger: no coverage or comparison hooks, the sanitizer as chosen for `replay`, dirty
/// pages tracked (the timeline needs them), the input in place and its call about to start — the state every input
/// of a campaign starts from.
#[derive(Debug)]
pub struct DebugStart {
    pub module: Module,
    pub kind: HarnessKind,
    pub store: Store,
    pub ctx: WasiCtx,
    pub memory: Memory,
}

impl DebugStart {
    /// Boots `wasm` as `capicola fuzz` does, with the sanitizer's checks when `sanitize`, and sets `input` up to
    /// run (cut to `options.max_len`).
    pub fn new(
        wasm: &[u8],
        options: &TargetOptions,
        sanitize: bool,
        input: &[u8],
    ) -> Result<Self, TargetError> {
        // Bulk ops cost one unit like any op: the timeline's positions count instructions.
        let engine = Engine::new(Config {
            sanitize,
            track_dirty_pages: true,
            bulk_fuel_unit: 0,
            // An out-of-memory finding stops where the fuzzer saw it stop.
            trap_at_memory_limit: true,
            ..options.limits.clone()
        });
        let module = Module::new(&engine, wasm)?;
        let kind = HarnessKind::detect(&module, &options.args)?;
        let mut booted = Booted::boot(&module, kind, options)?;
        let input = &input[..input.len().min(options.max_len)];
        match booted.entry {
            Entry::LibFuzzer {
                func,
                buffer,
                capacity,
            } => booted.start_input(func, buffer, capacity, input)?,
            Entry::Program => {
                if kind == HarnessKind::File {
                    booted
                        .ctx
                        .set_file_contents(INPUT_FILE_PATH, input.to_vec())?;
                } else {
                    booted.ctx.set_stdin_bytes(input.to_vec());
                }
            }
        }
        Ok(DebugStart {
            module,
            kind,
            store: booted.store,
            ctx: booted.ctx,
            memory: booted.memory,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capicola_engine::sanitizer::{BadAccess, BlockReport};

    /// Functions `malloc` (0), `parse` (1), `main` (2) and `other` (3).
    fn named_module() -> Module {
        let wasm = wat::parse_str(
            r#"(module (func $malloc) (func $parse) (func $main) (func $other)
                 (export "LLVMFuzzerTestOneInput" (func $main)))"#,
        )
        .expect("valid text");
        Module::new(&Engine::new(Config::default()), &wasm).expect("valid module")
    }

    fn frames(at: &[(u32, usize)]) -> Vec<FrameInfo> {
        at.iter()
            .map(|&(func_index, offset)| FrameInfo { func_index, offset })
            .collect()
    }

    fn overflow(violation: Violation, addr: u64, backtrace: Vec<FrameInfo>) -> InputOutcome {
        InputOutcome::Trapped(Trap {
            kind: TrapKind::Sanitizer(Box::new(SanitizerReport {
                violation,
                access: Some(BadAccess {
                    addr,
                    size: 1,
                    write: true,
                    bad_addr: addr,
                    host: None,
                }),
                pointer: None,
                block: None,
            })),
            backtrace,
        })
    }

    #[test]
    fn a_sanitizer_finding_is_identified_by_its_violation_and_three_innermost_functions() {
        let module = named_module();
        let v = Violation::HeapBufferOverflow;
        let a = overflow(v, 0x100, frames(&[(1, 10), (2, 20), (3, 30), (2, 40)]));
        // Other offsets, another address, another caller below the third frame: the same bug.
        let b = overflow(v, 0x230, frames(&[(1, 12), (2, 22), (3, 33), (3, 44)]));
        let sa = a.signature(&module, DEDUP_FRAMES).expect("a finding");
        assert_eq!(sa, b.signature(&module, DEDUP_FRAMES).expect("a finding"));
        assert_eq!(sa.label, "heap-buffer-overflow-parse");
        // The strict form (`tmin --same-backtrace`) compares every frame's function.
        assert!(!a.same_failure(&b));
        assert_ne!(
            a.signature(&module, 0).expect("a finding"),
            b.signature(&module, 0).expect("a finding")
        );
        // Another function among the three, or another violation: another bug.
        let c = overflow(v, 0x100, frames(&[(1, 10), (3, 20), (3, 30)]));
        let d = overflow(
            Violation::UseAfterFree,
            0x100,
            frames(&[(1, 10), (2, 20), (3, 30)]),
        );
        for other in [&c, &d] {
            assert_ne!(
                other
                    .signature(&module, DEDUP_FRAMES)
                    .expect("a finding")
                    .hash,
                sa.hash
            );
            assert!(!a.same_failure(other));
        }
    }

    #[test]
    fn a_trap_is_identified_by_its_kind_and_innermost_functions_by_default() {
        let module = named_module();
        let trap = |kind: TrapKind, at: &[(u32, usize)]| {
            InputOutcome::Trapped(Trap {
                kind,
                backtrace: frames(at),
            })
        };
        let a = trap(
            TrapKind::MemoryOutOfBounds,
            &[(1, 10), (2, 20), (3, 30), (2, 40)],
        );
        // Other offsets and callers below the third frame (a corrupted heap reached from elsewhere): one bug.
        let b = trap(
            TrapKind::MemoryOutOfBounds,
            &[(1, 11), (2, 21), (3, 31), (3, 41), (3, 51)],
        );
        let sig = |o: &InputOutcome, n: usize| o.signature(&module, n).expect("a finding");
        assert_eq!(sig(&a, DEDUP_FRAMES), sig(&b, DEDUP_FRAMES));
        assert_eq!(sig(&a, 1), sig(&b, 1));
        // The whole stack (0), another kind, or another function among the three: another bug.
        assert_ne!(sig(&a, 0), sig(&b, 0));
        let c = trap(TrapKind::Unreachable, &[(1, 10), (2, 20), (3, 30)]);
        let d = trap(TrapKind::MemoryOutOfBounds, &[(1, 10), (3, 20), (3, 30)]);
        for other in [&c, &d] {
            assert_ne!(sig(other, DEDUP_FRAMES).hash, sig(&a, DEDUP_FRAMES).hash);
        }
    }

    #[test]
    fn a_leak_is_named_after_the_allocating_function_not_the_allocator() {
        let module = named_module();
        let block = |size, offset| BlockReport {
            start: 0x1000,
            size,
            allocated: frames(&[(0, 1), (2, offset)]),
            freed: None,
        };
        let leak = InputOutcome::leak(vec![block(24, 5), block(8, 9)]).expect("a leak");
        let signature = leak.signature(&module, DEDUP_FRAMES).expect("a finding");
        assert_eq!(signature.class, FindingClass::Crash);
        assert_eq!(signature.label, "memory-leak-main");
        let again = InputOutcome::leak(vec![block(32, 7)]).expect("a leak");
        assert_eq!(again.signature(&module, DEDUP_FRAMES), Some(signature));
        assert_eq!(InputOutcome::leak(Vec::new()), None);
    }

    fn timed(slice: u64) -> Budget {
        Budget {
            fuel: u64::MAX,
            timeout_at: Instant::now().checked_add(Duration::from_secs(3600)),
            deadline: None,
            slice,
        }
    }

    #[test]
    fn without_a_time_limit_the_whole_fuel_runs_in_one_go() {
        let budget = Budget {
            timeout_at: None,
            ..timed(FIRST_SLICE)
        };
        assert_eq!(budget.next_slice(1 << 40), 1 << 40);
        assert!(budget.expired().is_none());
    }

    #[test]
    fn slices_grow_while_fast_shrink_when_slow_and_grow_past_an_instruction_that_costs_more() {
        let mut budget = timed(FIRST_SLICE);
        budget.took(FIRST_SLICE, true, Duration::ZERO);
        assert_eq!(budget.slice, FIRST_SLICE * 2);
        // One slice ten times too long: the next is about a tenth.
        budget.took(budget.slice, true, SLICE_TIME * 10);
        assert!(budget.slice <= FIRST_SLICE * 2 / 10 + 1, "{}", budget.slice);
        // A slice that ran nothing doubles, past MAX_SLICE too, until the instruction fits.
        let mut stalled = timed(MAX_SLICE);
        stalled.took(MAX_SLICE, false, Duration::ZERO);
        assert_eq!(stalled.slice, MAX_SLICE * 2);
        // Slow slices never reach zero.
        let mut slow = timed(1);
        slow.took(1, true, Duration::from_secs(1));
        assert_eq!(slow.slice, 1);
        assert_eq!(slow.next_slice(10), 1);
    }

    #[test]
    fn the_deadline_of_the_command_comes_before_the_timeout_of_the_input() {
        let past = Instant::now();
        let budget = Budget {
            fuel: 1,
            timeout_at: Some(past),
            deadline: Some(past),
            slice: 1,
        };
        assert!(matches!(budget.expired(), Some(Expired::Deadline)));
        let budget = Budget {
            deadline: None,
            ..budget
        };
        assert!(matches!(budget.expired(), Some(Expired::Timeout)));
    }
}
