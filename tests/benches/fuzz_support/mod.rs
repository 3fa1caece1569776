//! The fuzzing benchmark's measurements, shared with its smoke test: a target's executions per second with snapshot reset against fresh instantiation + initialization per input (in a `capicola fuzz` campaign, and on the same inputs through one engine), and the engine's cost of its coverage and comparison hooks and of its sanitizer.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use capicola::fuzz::output::input_files;
use capicola::fuzz::{InputOutcome, Instrumentation, Target, TargetOptions};

/// A fuzz target of the benchmark: its module and its seed inputs.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    pub wasm: PathBuf,
    pub seeds: PathBuf,
}

/// How much the benchmark runs for each target.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Executions of the seeded snapshot-reset campaign; its queue is the input set of the per-input measurements.
    pub campaign_runs: u64,
    /// The `--fresh-instance` campaign stops after `campaign_runs` executions or this long, whichever comes first.
    pub fresh_campaign_time: Duration,
    /// Least time each per-input measurement takes.
    pub min_time: Duration,
}

/// What a campaign's `stats` file says.
#[derive(Debug, Clone, Copy)]
pub struct CampaignRate {
    pub execs: u64,
    pub execs_per_sec: f64,
}

/// Executions and the time they took.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub execs: u64,
    pub time: Duration,
}

impl Rate {
    pub fn per_sec(&self) -> f64 {
        self.execs as f64 / self.time.as_secs_f64().max(1e-9)
    }
}

/// Everything measured on one target.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    /// Translating the module and booting it to where it takes input, once.
    pub load: Duration,
    pub campaign: CampaignRate,
    pub fresh_campaign: CampaignRate,
    /// Inputs in the snapshot campaign's queue.
    pub inputs: usize,
    /// The queue's first inputs, run with fresh instances and then with snapshot reset.
    pub fresh: Rate,
    pub reset: Rate,
    /// Inputs whose outcome differed between a fresh instance and a reset one (should be none).
    pub mismatches: usize,
    /// The whole queue, with snapshot reset, in engines without hooks, with coverage, with coverage + cmplog, and
    /// with coverage + the sanitizer.
    pub hooks_off: Rate,
    pub coverage: Rate,
    pub coverage_cmplog: Rate,
    /// The same with coverage, and with coverage + cmplog, translated without fusion (`Config::fuse` off): the
    /// engine's hooks as they were before fusion covered them.
    pub coverage_unfused: Rate,
    pub coverage_cmplog_unfused: Rate,
    /// The same with coverage + the sanitizer, or what stopped the target from booting under it.
    pub sanitizer: Result<SanitizerCost, String>,
}

/// The sanitizer's cost on one target.
#[derive(Debug, Clone, Copy)]
pub struct SanitizerCost {
    /// Translating the module and booting it, with coverage + the sanitizer.
    pub load: Duration,
    /// The campaign's queue, as for the hooks.
    pub rate: Rate,
    /// Inputs of the queue that end differently under the sanitizer (its findings, as the queue holds no crash).
    pub findings: usize,
}

/// Runs `capicola fuzz` on `subject` into `out` (seed 1, no status) and reads its `stats` file.
pub fn campaign(
    bin: &Path,
    subject: &Subject,
    out: &Path,
    runs: u64,
    fresh: Option<Duration>,
) -> CampaignRate {
    let mut fuzz = Command::new(bin);
    fuzz.arg("fuzz")
        .arg(&subject.wasm)
        .arg("-i")
        .arg(&subject.seeds)
        .arg("-o")
        .arg(out)
        .args(["--runs", &runs.to_string(), "--seed", "1", "-q"]);
    if let Some(limit) = fresh {
        fuzz.arg("--fresh-instance")
            .args(["--max-total-time", &limit.as_secs().max(1).to_string()]);
    }
    let output = fuzz.output().expect("capicola can be started");
    assert!(
        output.status.success(),
        "capicola fuzz {} failed:\n{}",
        subject.wasm.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stats = out.join("stats");
    let text = std::fs::read_to_string(&stats)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", stats.display()));
    let value = |key: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(": "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{} has no {key}:\n{text}", stats.display()))
    };
    CampaignRate {
        execs: value("execs_done") as u64,
        execs_per_sec: value("execs_per_sec"),
    }
}

fn options(subject: &Subject, fresh: bool) -> TargetOptions {
    TargetOptions {
        program_name: format!("{}.wasm", subject.name),
        fresh,
        ..TargetOptions::default()
    }
}

/// Snapshot-reset options whose engine does not fuse ops.
fn unfused(subject: &Subject) -> TargetOptions {
    let mut options = options(subject, false);
    options.limits.fuse = false;
    options
}

fn load(wasm: &[u8], options: &TargetOptions, instrumentation: Instrumentation) -> Target {
    Target::load(wasm, options, instrumentation).expect("the benchmark's targets load")
}

/// Runs the inputs in turn, whole passes, until `min_time` has gone by.
fn passes(target: &mut Target, inputs: &[Vec<u8>], min_time: Duration) -> Rate {
    let start = Instant::now();
    let mut execs = 0;
    loop {
        for input in inputs {
            black_box(target.run(input));
            execs += 1;
        }
        if start.elapsed() >= min_time || inputs.is_empty() {
            return Rate {
                execs,
                time: start.elapsed(),
            };
        }
    }
}

/// Fewest inputs the fresh-against-reset comparison runs (unless the queue is shorter).
const MIN_FRESH_INPUTS: usize = 10;

const COVERAGE: Instrumentation = Instrumentation {
    coverage: true,
    cmplog: false,
    sanitize: false,
    detect_leaks: false,
};

/// Measures one target: a snapshot campaign and a fresh-instance one through the CLI (in `work`), then the
/// campaign's queue through the library, fresh against reset and without hooks against with them.
pub fn measure(bin: &Path, subject: &Subject, budget: &Budget, work: &Path) -> Report {
    let wasm = std::fs::read(&subject.wasm)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", subject.wasm.display()));
    let start = Instant::now();
    let mut reset = load(&wasm, &options(subject, false), COVERAGE);
    let load_time = start.elapsed();

    let queue_out = work.join(format!("{}-snapshot", subject.name));
    let campaign_rate = campaign(bin, subject, &queue_out, budget.campaign_runs, None);
    let fresh_campaign = campaign(
        bin,
        subject,
        &work.join(format!("{}-fresh", subject.name)),
        budget.campaign_runs,
        Some(budget.fresh_campaign_time),
    );
    let inputs: Vec<Vec<u8>> = input_files(&queue_out.join("queue"))
        .expect("the campaign's queue can be listed")
        .iter()
        .map(|path| std::fs::read(path).expect("queue entries are readable"))
        .collect();

    // Fresh instances first, for as many of the inputs as `min_time` allows; then the same inputs with reset.
    let mut fresh_target = load(&wasm, &options(subject, true), COVERAGE);
    let start = Instant::now();
    let mut fresh_outcomes: Vec<InputOutcome> = Vec::new();
    for input in &inputs {
        fresh_outcomes.push(fresh_target.run(input));
        if start.elapsed() >= budget.min_time && fresh_outcomes.len() >= MIN_FRESH_INPUTS {
            break;
        }
    }
    let fresh = Rate {
        execs: fresh_outcomes.len() as u64,
        time: start.elapsed(),
    };
    let same = &inputs[..fresh_outcomes.len()];
    let mismatches = same
        .iter()
        .zip(&fresh_outcomes)
        .filter(|(input, outcome)| reset.run(input) != **outcome)
        .count();
    let reset_rate = passes(&mut reset, same, budget.min_time);

    // Hooks: the same engine built six ways, every input of the queue; one warm-up pass each, then timed passes
    // taking turns, so that a change in the machine's load falls on all six alike.
    let start = Instant::now();
    let sanitizer = Target::load(
        &wasm,
        &options(subject, false),
        Instrumentation {
            sanitize: true,
            ..COVERAGE
        },
    )
    .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string());
    let sanitizer_load = start.elapsed();
    if let Ok(target) = &sanitizer {
        assert!(
            target.module().sanitized().has_allocator(),
            "{}: the sanitizer finds no allocator to wrap",
            subject.name
        );
    }
    let cov_cmplog = Instrumentation {
        cmplog: true,
        ..COVERAGE
    };
    let mut targets = Vec::new();
    for (options, instrumentation) in [
        (
            options(subject, false),
            Instrumentation {
                coverage: false,
                ..COVERAGE
            },
        ),
        (options(subject, false), COVERAGE),
        (options(subject, false), cov_cmplog),
        (unfused(subject), COVERAGE),
        (unfused(subject), cov_cmplog),
    ] {
        targets.push(load(&wasm, &options, instrumentation));
    }
    let sanitized = targets.len();
    let sanitizer = sanitizer.map(|target| targets.push(target));
    let mut warm_up: Vec<Vec<InputOutcome>> = Vec::new();
    for target in &mut targets {
        warm_up.push(inputs.iter().map(|input| target.run(input)).collect());
    }
    let findings = warm_up.get(sanitized).map_or(0, |sanitized| {
        warm_up[1]
            .iter()
            .zip(sanitized)
            .filter(|(plain, sanitized)| plain != sanitized)
            .count()
    });
    let mut rates = [Rate {
        execs: 0,
        time: Duration::ZERO,
    }; 6];
    let start = Instant::now();
    while start.elapsed() < 3 * budget.min_time {
        for (target, rate) in targets.iter_mut().zip(&mut rates) {
            let pass = passes(target, &inputs, Duration::ZERO);
            rate.execs += pass.execs;
            rate.time += pass.time;
        }
    }

    Report {
        name: subject.name.clone(),
        load: load_time,
        campaign: campaign_rate,
        fresh_campaign,
        inputs: inputs.len(),
        fresh,
        reset: reset_rate,
        mismatches,
        hooks_off: rates[0],
        coverage: rates[1],
        coverage_cmplog: rates[2],
        coverage_unfused: rates[3],
        coverage_cmplog_unfused: rates[4],
        sanitizer: sanitizer.map(|()| SanitizerCost {
            load: sanitizer_load,
            rate: rates[sanitized],
            findings,
        }),
    }
}

/// `12.3k`-style rates.
pub fn pretty(rate: f64) -> String {
    if rate >= 1e4 {
        format!("{:.1}k", rate / 1e3)
    } else if rate >= 100.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

/// `a / b` as `12x` or `1.35x`.
pub fn ratio(a: f64, b: f64) -> String {
    let r = a / b.max(1e-9);
    if r >= 10.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.2}x")
    }
}

/// The benchmark's tables.
pub fn print(reports: &[Report]) {
    println!();
    println!(
        "snapshot reset vs fresh instantiation + initialization per input (execs/s; one engine, one process)"
    );
    println!(
        "campaign: capicola fuzz --runs N --seed 1, without and with --fresh-instance; same: the first inputs of \
         the snapshot campaign's queue, fresh and then reset"
    );
    println!(
        "{:<9} {:>9} | {:>13} {:>13} {:>7} {:>7} | {:>6} {:>11} {:>11} {:>7}",
        "target",
        "boot",
        "campaign:snap",
        "fresh",
        "(execs)",
        "ratio",
        "inputs",
        "same:snap",
        "same:fresh",
        "ratio"
    );
    for r in reports {
        println!(
            "{:<9} {:>7.1}ms | {:>13} {:>13} {:>7} {:>7} | {:>6} {:>11} {:>11} {:>7}{}",
            r.name,
            r.load.as_secs_f64() * 1e3,
            pretty(r.campaign.execs_per_sec),
            pretty(r.fresh_campaign.execs_per_sec),
            r.fresh_campaign.execs,
            ratio(r.campaign.execs_per_sec, r.fresh_campaign.execs_per_sec),
            r.fresh.execs,
            pretty(r.reset.per_sec()),
            pretty(r.fresh.per_sec()),
            ratio(r.reset.per_sec(), r.fresh.per_sec()),
            if r.mismatches > 0 {
                format!("  ({} outcomes differ!)", r.mismatches)
            } else {
                String::new()
            }
        );
    }
    println!();
    println!(
        "engine hooks, snapshot reset, every input of the campaign's queue (execs/s; slower: against no hooks; \
         unfused: the same hooks without fusion, as before fusion covered them; gain: fused against unfused)"
    );
    println!(
        "{:<9} {:>6} | {:>9} | {:>9} {:>6} {:>9} {:>6} | {:>10} {:>6} {:>10} {:>6}",
        "target",
        "inputs",
        "no hooks",
        "coverage",
        "slower",
        "unfused",
        "gain",
        "cov+cmplog",
        "slower",
        "unfused",
        "gain"
    );
    for r in reports {
        let off = r.hooks_off.per_sec();
        let (cov, cov_cmplog) = (r.coverage.per_sec(), r.coverage_cmplog.per_sec());
        let (cov_before, cov_cmplog_before) = (
            r.coverage_unfused.per_sec(),
            r.coverage_cmplog_unfused.per_sec(),
        );
        println!(
            "{:<9} {:>6} | {:>9} | {:>9} {:>6} {:>9} {:>6} | {:>10} {:>6} {:>10} {:>6}",
            r.name,
            r.inputs,
            pretty(off),
            pretty(cov),
            ratio(off, cov),
            pretty(cov_before),
            ratio(cov, cov_before),
            pretty(cov_cmplog),
            ratio(off, cov_cmplog),
            pretty(cov_cmplog_before),
            ratio(cov_cmplog, cov_cmplog_before)
        );
    }
    println!();
    println!(
        "the sanitizer, snapshot reset, every input of the campaign's queue (execs/s, both with coverage; boot: \
         translation and initialization; findings: inputs that end differently under it)"
    );
    println!(
        "{:<9} {:>6} | {:>9} {:>13} {:>6} | {:>9} {:>9} | {:>8}",
        "target", "inputs", "coverage", "cov+sanitizer", "slower", "boot", "boot:san", "findings"
    );
    for r in reports {
        match &r.sanitizer {
            Ok(cost) => println!(
                "{:<9} {:>6} | {:>9} {:>13} {:>6} | {:>7.1}ms {:>7.1}ms | {:>8}",
                r.name,
                r.inputs,
                pretty(r.coverage.per_sec()),
                pretty(cost.rate.per_sec()),
                ratio(r.coverage.per_sec(), cost.rate.per_sec()),
                r.load.as_secs_f64() * 1e3,
                cost.load.as_secs_f64() * 1e3,
                cost.findings
            ),
            Err(error) => println!(
                "{:<9} {:>6} | {:>9} does not boot under the sanitizer: {error}",
                r.name,
                r.inputs,
                pretty(r.coverage.per_sec())
            ),
        }
    }
}
