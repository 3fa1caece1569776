//! A fuzzing campaign: the LibAFL pipeline around a snapshot-reset [`Target`], run on one core in this process or on several through LibAFL's launcher, until a budget of time or executions is spent.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libafl::corpus::{Corpus, InMemoryCorpus};
use libafl::events::launcher::Launcher;
use libafl::events::{
    EventConfig, EventFirer, EventReceiver, EventRestarter, ProgressReporter, SendExiting,
    SimpleEventManager,
};
use libafl::feedbacks::{
    CrashFeedback, MapFeedbackMetadata, MapIndexesMetadata, MaxMapFeedback, TimeFeedback,
    TimeoutFeedback,
};
use libafl::fuzzer::{Evaluator, Fuzzer, HasObjective, StdFuzzer};
use libafl::inputs::BytesInput;
use libafl::mutators::{
    HavocScheduledMutator, I2SRandReplace, Tokens, havoc_mutations, tokens_mutations,
};
use libafl::observers::{CanTrack, HitcountsMapObserver, StdMapObserver, TimeObserver};
use libafl::schedulers::{MinimizerScheduler, QueueScheduler};
use libafl::stages::{CalibrationStage, StdMutationalStage, TracingStage};
use libafl::state::{HasCorpus, HasExecutions, HasMaxSize, StdState};
use libafl::{
    Error, HasMetadata, HasNamedMetadata, feedback_and_fast, feedback_not, feedback_or,
    feedback_or_fast,
};
use libafl_bolts::core_affinity::{Cores, get_core_ids};
use libafl_bolts::rands::StdRand;
use libafl_bolts::shmem::{ShMemProvider, StdShMemProvider};
use libafl_bolts::tuples::{Handled, Merge, tuple_list};

use super::FuzzError;
use super::dict;
use super::executor::{CmpLogExecutor, WasmExecutor};
use super::harness::Instrumentation;
use super::monitor::{StatusMonitor, StatusView};
use super::node::{self, NodeOptions};
use super::observers::{FindingFeedback, LenPenalty, OutcomeObserver};
use super::output::{OutputDir, Tally, input_files};
use super::queue::{HistoryFeedback, Making, Op, OpStage, QueueCorpus, set_making};
use super::sanitizer::{SanitizerChoice, source_lines};
use super::settings::Settings;
use super::stats::{Carried, Linked, LiveStats};
use super::target::{FindingClass, Target, TargetOptions};
use crate::files::{read_checked, write_atomically, write_checked};

/// Name of the edge-map observer (LibAFL's monitors look for edge statistics under it).
const EDGES: &str = "edges";
/// How often clients report their numbers to the monitor.
const REPORT_INTERVAL: Duration = Duration::from_millis(500);

/// What a campaign runs and for how long.
#[derive(Debug, Clone)]
pub struct CampaignOptions {
    /// The target module's bytes.
    pub wasm: Vec<u8>,
    /// What decides a run of an input, written to OUT/settings for `replay`, `tmin`, `cmin` and `debug`.
    pub settings: Settings,
    pub target: TargetOptions,
    /// Seed inputs: folders (every regular file in them) or files.
    pub seeds: Vec<PathBuf>,
    pub out: PathBuf,
    /// Continue the campaign in `out`: its queue is loaded again and its findings are kept.
    pub resume: bool,
    /// Cores to fuzz on; more than one goes through LibAFL's launcher (one process per core).
    pub jobs: usize,
    pub max_total_time: Option<Duration>,
    /// Stop after this many executions (per core).
    pub runs: Option<u64>,
    /// Seed of the mutator's random numbers (core `i` uses `seed + i`).
    pub seed: u64,
    /// Dictionary files (AFL/libFuzzer format).
    pub dicts: Vec<PathBuf>,
    /// Add tokens taken from the module (data-segment strings, compared constants).
    pub auto_dict: bool,
    /// Run the cmplog tracing stage and input-to-state replacement.
    pub cmplog: bool,
    /// Stop at the first new crash.
    pub stop_on_crash: bool,
    /// Whether the sanitizer checks the target's runs (not the cmplog tracer's), and looks for leaks.
    pub sanitizer: SanitizerChoice,
    /// How the live status is shown.
    pub status: StatusView,
    /// Where the broker listens (with `jobs > 1` or links to other nodes), and the node this campaign joins.
    pub node: NodeOptions,
    /// The process that launched the clients of a multi-core campaign: they end when it is gone (set by [`run`]).
    pub launcher: Option<u32>,
}

/// How a campaign ended.
#[derive(Debug, Clone)]
pub struct Summary {
    pub execs: u64,
    pub elapsed: Duration,
    pub cores: usize,
    /// Inputs in the queue (unique files on disk, as every figure of the campaign counts them).
    pub corpus: u64,
    /// Edges covered and edges in the map.
    pub edges: Option<(u64, u64)>,
    /// Edges the initial inputs (seeds, or the queue resumed) covered before any mutation.
    pub seed_edges: Option<u64>,
    pub crashes: Tally,
    pub timeouts: Tally,
    pub ooms: Tally,
    pub engine_bugs: usize,
    pub out: PathBuf,
    /// The final status line was left open on the terminal.
    pub line_open: bool,
    /// What the nodes linked to this one last told of themselves.
    pub linked: Linked,
}

impl Summary {
    pub fn execs_per_sec(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

type FuzzState = StdState<QueueCorpus, BytesInput, StdRand, InMemoryCorpus<BytesInput>>;

/// What one client did.
struct ClientEnd {
    execs: u64,
    edges: Option<(u64, u64)>,
    seed_edges: Option<u64>,
}

/// Edges covered so far by the inputs the feedback kept.
fn covered_edges(state: &FuzzState) -> Option<u64> {
    state
        .named_metadata::<MapFeedbackMetadata<u8>>(EDGES)
        .ok()
        .map(|m| m.num_covered_map_indexes as u64)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::os_error(e, format!("cannot read {}", path.display()))
}

/// Every seed file: the regular files of the seed folders (sorted) and the seed files themselves.
fn seed_files(seeds: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for seed in seeds {
        if seed.is_dir() {
            files.extend(input_files(seed).map_err(io_error(seed))?);
        } else {
            files.push(seed.clone());
        }
    }
    Ok(files)
}

fn load_target(
    options: &CampaignOptions,
    instrumentation: Instrumentation,
) -> Result<Target, Error> {
    Target::load(&options.wasm, &options.target, instrumentation)
        .map_err(|e| Error::illegal_argument(format!("cannot load the target: {e}")))
}

/// Tokens for the mutator: the dictionary files, then (with `auto_dict`) the module's own.
pub fn tokens(options: &CampaignOptions) -> Result<Vec<Vec<u8>>, FuzzError> {
    let mut tokens = Vec::new();
    for path in &options.dicts {
        tokens.extend(dict::read_dictionary(path)?);
    }
    if options.auto_dict {
        tokens.extend(dict::module_tokens(&options.wasm));
    }
    Ok(tokens)
}

/// One fuzzing client of the campaign started at `started`: fuzzes until the budget is spent, then says it is
/// leaving, however it ended: without that word, the broker of a multi-core campaign would wait for it forever and
/// LibAFL's respawner would start it again (as a new client) or panic.
fn client<EM>(
    options: &CampaignOptions,
    output: &OutputDir,
    tokens: &[Vec<u8>],
    started: Instant,
    state: Option<FuzzState>,
    mut mgr: EM,
    core: u64,
) -> Result<ClientEnd, Error>
where
    EM: EventFirer<BytesInput, FuzzState>
        + EventReceiver<BytesInput, FuzzState>
        + EventRestarter<FuzzState>
        + ProgressReporter<FuzzState>
        + SendExiting,
{
    let end = fuzz_on_client(options, output, tokens, started, state, &mut mgr, core);
    if let Err(error) = &end
        && launched(options)
    {
        // The launcher only learns that the client ended: its error is told here.
        let _ = writeln!(std::io::stderr(), "client {core}: {error}");
    }
    let exiting = mgr.send_exiting();
    let end = end?;
    exiting?;
    Ok(end)
}

/// The pipeline of one client of the campaign started at `started`: builds it, loads the inputs, and fuzzes until
/// the budget is spent.
fn fuzz_on_client<EM>(
    options: &CampaignOptions,
    output: &OutputDir,
    tokens: &[Vec<u8>],
    started: Instant,
    state: Option<FuzzState>,
    mgr: &mut EM,
    core: u64,
) -> Result<ClientEnd, Error>
where
    EM: EventFirer<BytesInput, FuzzState>
        + EventReceiver<BytesInput, FuzzState>
        + EventRestarter<FuzzState>
        + ProgressReporter<FuzzState>
        + SendExiting,
{
    let mut target = load_target(
        options,
        Instrumentation {
            coverage: true,
            cmplog: false,
            ..options.sanitizer.instrumentation()
        },
    )?;
    let module = target.module().clone();

    // Observer: the engine's own edge map (one slot per branch site x target), hit counts bucketed as AFL does,
    // with the indices of covered edges tracked for the minimizer scheduler.
    let map_len = target.map_len();
    // SAFETY: the map is the coverage vector of the target's live store, allocated at instantiation and never
    // resized or replaced (resets copy memory pages, not the map); the target moves into the executor below, which
    // also owns this observer, so the map outlives it. Engine and observer take turns on one thread.
    let edges =
        unsafe { StdMapObserver::from_mut_ptr(EDGES, target.coverage_mut().as_mut_ptr(), map_len) };
    let edges = HitcountsMapObserver::new(edges).track_indices();
    // Observer: wall-clock time of each run, for calibration and the statistics.
    let time = TimeObserver::new("time");
    // Observer: the outcome of each run (trap kind and backtrace), for deduplicating findings.
    let outcome = OutcomeObserver::new("outcome");

    // Feedback: new edges or hit-count classes make an input interesting, but never one that crashed or ran out
    // of fuel (a custom executor reports those as ordinary results; without this gate they would fill the queue).
    // Each input kept carries its history, which names its file in the queue.
    let map_feedback = MaxMapFeedback::new(&edges);
    let calibration = CalibrationStage::new(&map_feedback);
    let mut feedback = HistoryFeedback::new(
        feedback_and_fast!(
            feedback_not!(feedback_or_fast!(
                CrashFeedback::new(),
                TimeoutFeedback::new()
            )),
            feedback_or!(map_feedback, TimeFeedback::new(&time))
        ),
        EDGES,
        started,
    );

    // Objective: a crash, timeout or engine panic whose kind + innermost functions were not seen before, written
    // to crashes/, timeouts/ or engine-bugs/ as it is found.
    let mut objective = FindingFeedback::new(
        &outcome,
        output.clone(),
        module,
        source_lines(&options.wasm),
        options.target.dedup_frames,
    );

    let mut state = match state {
        Some(state) => state,
        None => StdState::new(
            StdRand::with_seed(options.seed.wrapping_add(core)),
            QueueCorpus::new(output.clone()),
            InMemoryCorpus::new(),
            &mut feedback,
            &mut objective,
        )?,
    };
    state.set_max_size(options.target.max_len);
    if !tokens.is_empty() && !state.has_metadata::<Tokens>() {
        let mut dictionary = Tokens::new();
        dictionary.add_tokens(tokens.iter());
        state.add_metadata(dictionary);
    }

    // Scheduler: the queue in order, favouring the smallest input for each covered edge.
    let scheduler = MinimizerScheduler::<_, LenPenalty, BytesInput, MapIndexesMetadata, _>::new(
        &edges,
        QueueScheduler::new(),
    );
    let mut fuzzer = StdFuzzer::new(scheduler, feedback, objective);
    // Objectives travel with their input to linked nodes, which run it and keep the finding in their own output
    // folder (the clients of one node share theirs).
    fuzzer.set_share_objectives(options.node.linked());

    // Executor: reset to the post-initialization snapshot, write the input, run with a fuel limit.
    let outcome_handle = outcome.handle();
    let mut executor = WasmExecutor::new(target, tuple_list!(edges, time, outcome), outcome_handle);

    // Stages: calibration (stability), a cmplog trace of the scheduled input, input-to-state replacement from its
    // comparison operands, then havoc with dictionary tokens; the two that mutate name the entries they find.
    let tracer = if options.cmplog {
        Some(load_target(
            options,
            Instrumentation {
                coverage: false,
                cmplog: true,
                sanitize: false,
                detect_leaks: false,
            },
        )?)
    } else {
        None
    };
    let i2s = OpStage::new(
        Op::I2s,
        StdMutationalStage::new(HavocScheduledMutator::new(tuple_list!(
            I2SRandReplace::new()
        ))),
    );
    let havoc = OpStage::new(
        Op::Havoc,
        StdMutationalStage::new(HavocScheduledMutator::new(
            havoc_mutations().merge(tokens_mutations()),
        )),
    );
    let mut stages = tuple_list!(
        calibration,
        TracingStage::new(CmpLogExecutor::new(tracer)),
        i2s,
        havoc
    );

    // The executor ends an input that is still running at the campaign's deadline with `ShuttingDown`: from then
    // on nothing more is run, and the campaign ends as at any other limit.
    let mut out_of_time = false;
    if state.must_load_initial_inputs() {
        if options.resume {
            let queue = output.queue();
            for path in input_files(&queue).map_err(io_error(&queue))? {
                let bytes = std::fs::read(&path).map_err(io_error(&path))?;
                set_making(&mut state, Some(Making::Resumed(path)));
                out_of_time |= until_shutdown(fuzzer.add_input(
                    &mut state,
                    &mut executor,
                    &mut *mgr,
                    BytesInput::new(bytes),
                ))?;
                if out_of_time {
                    break;
                }
            }
        }
        if state.corpus().count() == 0 && !out_of_time {
            for path in seed_files(&options.seeds)? {
                let bytes = std::fs::read(&path).map_err(io_error(&path))?;
                let name = path.file_name().unwrap_or(path.as_os_str());
                set_making(
                    &mut state,
                    Some(Making::Seed(name.to_string_lossy().into_owned())),
                );
                out_of_time |= until_shutdown(fuzzer.evaluate_input(
                    &mut state,
                    &mut executor,
                    &mut *mgr,
                    &BytesInput::new(bytes),
                ))?;
                if out_of_time {
                    break;
                }
            }
        }
        if state.corpus().count() == 0 && !out_of_time {
            // No seed was kept: the empty input starts the queue, as a seed named `empty`.
            set_making(&mut state, Some(Making::Seed("empty".to_string())));
            out_of_time |= until_shutdown(fuzzer.add_input(
                &mut state,
                &mut executor,
                &mut *mgr,
                BytesInput::new(Vec::new()),
            ))?;
        }
        set_making(&mut state, None);
    }

    let seed_edges = covered_edges(&state);

    // Every initial input crashed or timed out: there is nothing to mutate, and the campaign ends with its findings.
    let nothing_to_fuzz = state.corpus().count() == 0;
    // Every initial input runs; `--runs` counts them and bounds the mutations after them exactly.
    executor.limit_execs(options.runs);
    let mut stop_checked = Instant::now();
    while !out_of_time && !nothing_to_fuzz {
        if options.runs.is_some_and(|runs| *state.executions() >= runs)
            || options.target.deadline.is_some_and(|d| Instant::now() >= d)
            || (options.stop_on_crash && fuzzer.objective().crashes_found() > 0)
            || stop_requested(output, options.launcher, &mut stop_checked)
        {
            break;
        }
        mgr.maybe_report_progress(&mut state, REPORT_INTERVAL)?;
        out_of_time =
            until_shutdown(fuzzer.fuzz_one(&mut stages, &mut executor, &mut state, &mut *mgr))?;
    }
    mgr.report_progress(&mut state)?;
    let edges = covered_edges(&state).map(|hit| (hit, map_len as u64));
    let end = ClientEnd {
        execs: *state.executions(),
        edges,
        seed_edges,
    };
    if launched(options) {
        // The clients are other processes: they leave their numbers where the parent sums them up.
        let (hit, total) = end.edges.unwrap_or((0, 0));
        let seeds = end.seed_edges.unwrap_or(0);
        let path = client_end_file(output, core);
        write_checked(
            &path,
            format!("{} {hit} {total} {seeds}\n", end.execs).as_bytes(),
        )
        .map_err(|e| Error::os_error(e, format!("cannot write {}", path.display())))?;
    }
    Ok(end)
}

/// Whether `result` is the executor's end of the campaign (an input cut short at the deadline); other errors stay
/// errors.
fn until_shutdown<T>(result: Result<T, Error>) -> Result<bool, Error> {
    match result {
        Ok(_) => Ok(false),
        Err(Error::ShuttingDown) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Whether a stop was asked for (the dashboard's `q`), or the launcher of this client is gone (killed, even with
/// `kill -9`), looked up at most once per report interval.
fn stop_requested(output: &OutputDir, launcher: Option<u32>, checked: &mut Instant) -> bool {
    if checked.elapsed() < REPORT_INTERVAL {
        return false;
    }
    *checked = Instant::now();
    output.stop_requested() || launcher.is_some_and(|pid| !process_alive(pid))
}

/// Field `n` (counted from 1, as proc(5) does) of the text of a `/proc/PID/stat` file. The command name, field 2,
/// may hold spaces and parentheses: the fields after it start after the last `)`.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(n.checked_sub(3)?)
}

/// Whether process `pid` runs (a zombie, dead and not yet reaped, does not). Where `/proc` cannot tell, it is
/// taken to run.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 3).is_none_or(|state| state != "Z" && state != "X"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => !Path::new("/proc/self").exists(),
        Err(_) => true,
    }
}

/// Longest final numbers a client leaves: four `u64` in decimal, spaces and a newline.
const CLIENT_END_BYTES: u64 = 4 * 21;

/// Where client `core` of a multi-core campaign leaves its final numbers (a checked file).
fn client_end_file(output: &OutputDir, core: u64) -> PathBuf {
    output.root().join(format!(".client-{core}.end"))
}

/// Sums up what the clients of a multi-core campaign left: executions, the best edge coverage, and the best
/// coverage of the initial inputs.
fn read_client_ends(output: &OutputDir, clients: usize) -> (u64, Option<(u64, u64)>, Option<u64>) {
    let mut execs = 0;
    let mut edges: Option<(u64, u64)> = None;
    let mut seed_edges: Option<u64> = None;
    for core in 1..=clients as u64 {
        // A client that did not finish left no file; a damaged file counts as none either, never as other numbers.
        let Ok(text) = read_checked(&client_end_file(output, core), CLIENT_END_BYTES) else {
            continue;
        };
        let numbers: Option<Vec<u64>> = std::str::from_utf8(&text)
            .ok()
            .and_then(|text| text.split_whitespace().map(|n| n.parse().ok()).collect());
        if let Some(&[e, hit, total, seeds]) = numbers.as_deref() {
            execs += e;
            if total > 0 && edges.is_none_or(|(best, _)| hit > best) {
                edges = Some((hit, total));
            }
            seed_edges = seed_edges.max(Some(seeds));
        }
    }
    (execs, edges, seed_edges)
}

/// How long the cores are watched to tell the idle ones from the busy ones.
const IDLE_SAMPLE: Duration = Duration::from_millis(100);

/// Orders `cores` (numbers of CPUs) by how idle they were over [`IDLE_SAMPLE`], the idlest first (ties keep their
/// order); leaves them as they are when `/proc/stat` cannot be read.
fn idlest_first(cores: &mut [usize]) {
    /// Idle time (idle + iowait, in clock ticks) of each CPU, by number.
    fn idle_ticks() -> Option<HashMap<usize, u64>> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let mut idle = HashMap::new();
        for line in stat.lines() {
            let mut fields = line.split_whitespace();
            let Some(cpu) = fields
                .next()
                .and_then(|name| name.strip_prefix("cpu"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let ticks: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
            idle.insert(cpu, ticks.get(3)? + ticks.get(4).copied().unwrap_or(0));
        }
        Some(idle)
    }
    let Some(before) = idle_ticks() else { return };
    std::thread::sleep(IDLE_SAMPLE);
    let Some(after) = idle_ticks() else { return };
    let idle = |cpu: &usize| {
        after
            .get(cpu)
            .zip(before.get(cpu))
            .map_or(0, |(a, b)| a.saturating_sub(*b))
    };
    cores.sort_by_key(|cpu| std::cmp::Reverse(idle(cpu)));
}

/// How long the broker may take to pass on the clients' last messages once they have all ended.
const BROKER_GRACE: Duration = Duration::from_secs(1);

/// Whether the clients run in processes of their own under LibAFL's launcher, with a broker: on several cores, or
/// on a node linked to others.
fn launched(options: &CampaignOptions) -> bool {
    options.jobs > 1 || options.node.linked()
}

/// The configuration the clients announce with their events: clients of one target trust each other's
/// observers (the edge map means the same to both) and run another target's inputs again before keeping them.
fn event_config(options: &CampaignOptions) -> EventConfig {
    let target = crc32c::crc32c(&options.wasm);
    EventConfig::from_name(&format!("capicola-{target:08x}"))
}

/// Runs a campaign and sums it up. Findings are on disk as they are found, so a campaign stopped by a signal loses
/// nothing it wrote; `resume` continues it.
pub fn run(options: &CampaignOptions) -> Result<Summary, FuzzError> {
    // The time limit is a deadline for everything, initialization and the input running then included.
    let mut options = options.clone();
    if let Some(end) = options
        .max_total_time
        .and_then(|t| Instant::now().checked_add(t))
    {
        options.target.deadline = Some(options.target.deadline.map_or(end, |d| d.min(end)));
    }
    // The launcher binds each client to a core, spawns one for each core of the list that this process may run on,
    // and its broker waits for as many clients as the list names: a list longer than the cores at hand would leave
    // it waiting forever.
    let mut client_cores = Vec::new();
    if launched(&options) {
        options.launcher = Some(std::process::id());
        client_cores = get_core_ids()?.iter().map(|core| core.0).collect();
        if client_cores.len() < options.jobs {
            return Err(FuzzError::TooManyJobs {
                jobs: options.jobs,
                cores: client_cores.len(),
            });
        }
        // The launcher pins client N to the Nth core of the list: the idlest first, so that a second campaign or
        // node on this machine does not pin its clients onto the cores another one already keeps busy. With a
        // client on every core there is nothing to choose.
        if client_cores.len() > options.jobs {
            idlest_first(&mut client_cores);
        }
    }
    let options = &options;
    let output = OutputDir::create(&options.out, options.resume)?;
    output.write_settings(&options.settings)?;
    // Fail early, in this process, on a target that does not load.
    Target::load(
        &options.wasm,
        &options.target,
        Instrumentation {
            coverage: true,
            cmplog: false,
            ..options.sanitizer.instrumentation()
        },
    )?;
    let tokens = tokens(options)?;
    output.clear_stop_request()?;
    // A resumed campaign's stats count its earlier sessions in.
    let carried = if options.resume {
        std::fs::read_to_string(output.stats())
            .map(|text| Carried::from_stats_file(&text))
            .unwrap_or_default()
    } else {
        Carried::default()
    };
    let (monitor, status) = StatusMonitor::new(
        output.clone(),
        &options.target.program_name,
        options.status,
        carried,
        options.jobs.max(1),
    );
    let start = Instant::now();
    let jobs = options.jobs.max(1);
    let (execs, edges, seed_edges) = if !launched(options) {
        let mgr = SimpleEventManager::new(monitor);
        let end = client(options, &output, &tokens, start, None, mgr, 0)?;
        (end.execs, end.edges, end.seed_edges)
    } else {
        // The broker listens before any client starts, so that a port in use is an error here.
        let listener = node::bind(options.node.listen)?;
        let port = listener
            .local_addr()
            .map_err(|source| FuzzError::Io {
                path: PathBuf::from("broker"),
                source,
            })?
            .port();
        let cores = Cores::from(client_cores[..jobs].to_vec());
        let run_client =
            |state: Option<FuzzState>,
             mgr,
             description: libafl::events::launcher::ClientDescription| {
                client(
                    options,
                    &output,
                    &tokens,
                    start,
                    state,
                    mgr,
                    description.id() as u64,
                )
                .map(|_| ())
            };
        for core in 1..=jobs as u64 {
            let _ = std::fs::remove_file(client_end_file(&output, core));
        }
        let me = std::process::id();
        // What the clients print (panic messages) would scribble over the dashboard: it goes to a log instead.
        let log = output.clients_log();
        let log =
            (options.status == StatusView::Dashboard).then(|| log.to_str().unwrap_or("/dev/null"));
        let shmem = StdShMemProvider::new()?;
        // The broker is a process of its own, started first, holding the monitor (and so the dashboard); LibAFL's
        // launcher starts only the clients (see `node` for why).
        // SAFETY: this process runs one thread here (no dashboard, no other thread has started), so the child
        // inherits no lock held by another thread; it runs the broker and exits without returning.
        let broker = match unsafe { libc::fork() } {
            -1 => {
                return Err(FuzzError::Io {
                    path: PathBuf::from("broker"),
                    source: std::io::Error::last_os_error(),
                });
            }
            0 => {
                // The broker ends with its launcher, even one killed with `kill -9`.
                // SAFETY: `prctl` with PR_SET_PDEATHSIG reads no memory of ours.
                unsafe {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                }
                let code = if !process_alive(me) {
                    0
                } else {
                    let linked = monitor.linked_nodes();
                    match node::run_broker(
                        shmem,
                        listener,
                        options.node.remote.as_deref(),
                        options.node.linked(),
                        monitor,
                        linked,
                        jobs,
                    ) {
                        Ok(()) => 0,
                        Err(e) => {
                            let _ = writeln!(std::io::stderr(), "broker: {e}");
                            1
                        }
                    }
                };
                // Gives the terminal back, then the launcher sums up.
                drop(status);
                std::process::exit(code);
            }
            pid => pid,
        };
        drop(listener);
        let result = Launcher::builder()
            .shmem_provider(shmem)
            .configuration(event_config(options))
            .monitor(monitor)
            .run_client(run_client)
            .cores(&cores)
            .broker_port(port)
            .spawn_broker(false)
            .stdout_file(log)
            .build()
            .launch::<BytesInput, FuzzState>();
        if std::process::id() != me {
            // A client (or its respawner) whose fuzzing ended: the launcher sums up.
            drop(status);
            std::process::exit(0);
        }
        // Every client has ended: the broker passes on their last messages, then ends.
        node::end_broker(broker, BROKER_GRACE);
        match result {
            Ok(()) | Err(Error::ShuttingDown) => {}
            Err(e) => return Err(e.into()),
        }
        read_client_ends(&output, jobs)
    };
    let corpus = input_files(&output.queue()).map_or(0, |f| f.len() as u64);
    let elapsed = start.elapsed();
    let mut stats: LiveStats = status.finish();
    output.clear_stop_request()?;
    // The broker (a process of its own) kept the linked nodes' figures in the stats file.
    let linked = if options.node.linked() {
        crate::files::read_bounded(&output.stats(), 1 << 16)
            .map(|text| Linked::from_stats_file(&String::from_utf8_lossy(&text)))
            .unwrap_or_default()
    } else {
        Linked::default()
    };
    let summary = Summary {
        execs,
        elapsed,
        cores: jobs,
        corpus,
        edges: edges.or(stats.edges),
        seed_edges,
        crashes: output.tally(FindingClass::Crash),
        timeouts: output.tally(FindingClass::Timeout),
        ooms: output.tally(FindingClass::OutOfMemory),
        engine_bugs: output.count(FindingClass::EngineBug),
        out: options.out.clone(),
        line_open: stats.line_open,
        linked,
    };
    stats.execs = summary.execs;
    stats.execs_per_sec = summary.execs_per_sec();
    stats.corpus = summary.corpus;
    stats.edges = summary.edges;
    stats.crashes = summary.crashes;
    stats.timeouts = summary.timeouts;
    stats.ooms = summary.ooms;
    stats.engine_bugs = summary.engine_bugs;
    stats.cores = jobs;
    stats.run_time = elapsed;
    stats.linked = linked;
    let mut stats_file = stats.stats_file();
    if let Some(seeds) = summary.seed_edges {
        stats_file.push_str(&format!("seed_edges_found: {seeds}\n"));
    }
    write_atomically(&output.stats(), stats_file.as_bytes()).map_err(|source| FuzzError::Io {
        path: output.stats(),
        source,
    })?;
    status
        .write_afl_files(&output, &stats)
        .map_err(|source| FuzzError::Io {
            path: output.fuzzer_stats(),
            source,
        })?;
    let svg = output.root().join(crate::cov::plot::PLOT_FILE);
    crate::cov::plot::write_plot(&output.plot_data(), &svg).map_err(|error| FuzzError::Io {
        path: svg,
        source: std::io::Error::other(error),
    })?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_past_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (a (b) c) Z 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0";
        assert_eq!(stat_field(stat, 3), Some("Z"));
        assert_eq!(stat_field(stat, 4), Some("1"));
        assert_eq!(stat_field(stat, 22), Some("987654"));
        assert_eq!(stat_field(stat, 2), None);
        assert_eq!(stat_field("no name", 3), None);
        assert!(process_alive(std::process::id()));
    }
}
