//! The interpreter benchmark: every workload in `harnesses/bench/` and every public program of `harnesses/bench-public/` (C code nobody in the project wrote: zstd, zlib, bzip2, SQLite, Lua, EEMBC's CoreMark) timed in capicola, wasmi 2.0 and gabagool 0.1.1 in one process, the engines alternating round by round, with CoreMark's score; then the cost of translating a large module and the heap each engine keeps per translated code byte and per instance.
//!
//! `cargo bench -p capicola-tests --bench compare [-- [--rounds N] [--scale X] [--no-translation] [NAME...]]`:
//! `--rounds` sets how many timed calls each engine makes per workload (default 7; the median is shown),
//! `--scale` multiplies every workload's `n`, and names keep only the workloads whose name contains one of
//! them. CoreMark is built from the sources `COREMARK_SRC` names (a checkout of EEMBC's coremark repository) and
//! skipped, with a note, without it. Exits with status 1 when the engines' checksums or CoreMark's reported CRCs
//! disagree, or a public program reports a failure.

#[path = "support/mod.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use support::{
    BenchEngine, Running, Wasmi, Workload, code_section_size, engines, generated_module,
};

/// The public program whose time gives CoreMark's score.
const COREMARK: &str = "coremark-eembc";

/// What CoreMark's `report(k)` gives, in order: its CRCs, then the number of errors its own check found.
const COREMARK_REPORT: [&str; 6] = [
    "seedcrc",
    "crclist",
    "crcmatrix",
    "crcstate",
    "crcfinal",
    "errors",
];

/// The system allocator, counting the bytes live and their peak so the benchmark can weigh what each engine
/// keeps on the heap without asking the engines anything.
struct CountingAlloc;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

impl CountingAlloc {
    fn added(size: usize) {
        let live = LIVE.fetch_add(size as isize, Ordering::Relaxed) + size as isize;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }

    fn removed(size: usize) {
        LIVE.fetch_sub(size as isize, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's layout and pointer unchanged, so `System`'s
// guarantees hold; the counters are plain atomics and never touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (non-zero size), which is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::added(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::added(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, hence by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        Self::removed(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            Self::removed(layout.size());
            Self::added(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

struct Options {
    rounds: usize,
    scale: f64,
    translation: bool,
    filters: Vec<String>,
}

fn options() -> Options {
    let mut o = Options {
        rounds: 7,
        scale: 1.0,
        translation: true,
        filters: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo passes `--bench` to every bench target.
            "--bench" => {}
            "--rounds" => {
                o.rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&r| r > 0)
                    .expect("--rounds takes a positive number");
            }
            "--scale" => {
                o.scale = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&s: &f64| s > 0.0)
                    .expect("--scale takes a positive number");
            }
            "--no-translation" => o.translation = false,
            other if other.starts_with('-') => panic!("unknown option {other}"),
            name => o.filters.push(name.to_string()),
        }
    }
    o
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn geomean(ratios: &[f64]) -> Option<f64> {
    (!ratios.is_empty())
        .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores available")
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One engine's part in a workload: its instance while it still runs, its samples, and why it stopped if it did.
struct Lane {
    name: &'static str,
    instance: Option<Box<dyn Running>>,
    samples: Vec<Duration>,
    checksums: Vec<u32>,
    failure: Option<String>,
}

impl Lane {
    fn median(&mut self) -> Option<Duration> {
        (self.failure.is_none() && !self.samples.is_empty()).then(|| median(&mut self.samples))
    }

    /// (slowest - fastest) / median of the samples.
    fn spread(&mut self) -> Option<f64> {
        let mid = self.median()?;
        let (lo, hi) = (self.samples.first()?, self.samples.last()?);
        Some((*hi - *lo).as_secs_f64() / mid.as_secs_f64())
    }
}

struct Row {
    kind: String,
    n: u32,
    times: Vec<Option<Duration>>,
    /// The largest spread of any engine's samples.
    spread: Option<f64>,
    checksum: Option<u32>,
    agree: bool,
    /// What each engine's `report(k)` gave after its last run, for a workload that has that export: the same in
    /// every engine that ran, or `None` when they disagree.
    reports: Option<Vec<u32>>,
}

fn bench_workload(w: &Workload, n: u32, rounds: usize, notes: &mut Vec<String>) -> Row {
    let mut lanes: Vec<Lane> = engines()
        .into_iter()
        .map(|engine| {
            let instance = engine
                .compile(&w.wasm)
                .and_then(|module| module.instantiate());
            let (instance, failure) = match instance {
                Ok(i) => (Some(i), None),
                Err(e) => (None, Some(e)),
            };
            Lane {
                name: engine.name(),
                instance,
                samples: Vec::new(),
                checksums: Vec::new(),
                failure,
            }
        })
        .collect();
    // Warm up each engine untimed with the small `n`, then time `rounds` calls each, rotating the order.
    let mut warm = Vec::new();
    for lane in &mut lanes {
        if let Some(instance) = &mut lane.instance {
            match instance.run(w.smoke_n) {
                Ok(sum) => warm.push(sum),
                Err(e) => lane.failure = Some(e),
            }
        }
    }
    for round in 0..rounds {
        for k in 0..lanes.len() {
            let i = (round + k) % lanes.len();
            let lane = &mut lanes[i];
            if lane.failure.is_some() {
                continue;
            }
            let Some(instance) = &mut lane.instance else {
                continue;
            };
            let start = Instant::now();
            let result = instance.run(n);
            let elapsed = start.elapsed();
            match result {
                Ok(sum) => {
                    lane.samples.push(elapsed);
                    lane.checksums.push(sum);
                }
                Err(e) => lane.failure = Some(e),
            }
        }
    }
    let mut sums: Vec<u32> = lanes.iter().flat_map(|l| l.checksums.clone()).collect();
    sums.sort_unstable();
    sums.dedup();
    let mut warm_sorted = warm.clone();
    warm_sorted.sort_unstable();
    warm_sorted.dedup();
    let mut agree = sums.len() <= 1 && warm_sorted.len() <= 1;
    if let Some(&sum) = sums.iter().find(|&&sum| w.failed(sum)) {
        agree = false;
        notes.push(format!(
            "{}: the program reports a failure (run returned {sum:#x})",
            w.name
        ));
    }
    let mut reports: Vec<(&str, Vec<u32>)> = Vec::new();
    if w.reports > 0 {
        for lane in &mut lanes {
            let Some(instance) = lane.instance.as_mut().filter(|_| lane.failure.is_none()) else {
                continue;
            };
            match (0..w.reports).map(|k| instance.call("report", k)).collect() {
                Ok(values) => reports.push((lane.name, values)),
                Err(e) => lane.failure = Some(format!("report: {e}")),
            }
        }
    }
    let reports_agree = reports.windows(2).all(|pair| pair[0].1 == pair[1].1);
    if !reports_agree {
        agree = false;
        notes.push(format!(
            "{}: REPORTS DISAGREE: {}",
            w.name,
            reports
                .iter()
                .map(|(name, values)| format!("{name} {values:x?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !(sums.len() <= 1 && warm_sorted.len() <= 1) {
        let seen: Vec<String> = lanes
            .iter()
            .map(|l| format!("{} {:x?}", l.name, l.checksums))
            .collect();
        notes.push(format!(
            "{}: CHECKSUMS DISAGREE: {} (warm-up run({}) gave {warm:x?})",
            w.name,
            seen.join(", "),
            w.smoke_n
        ));
    }
    for lane in &lanes {
        if let Some(failure) = &lane.failure {
            let declared = if w.unsupported.iter().any(|u| u == lane.name) {
                " (declared unsupported in its source)"
            } else {
                ""
            };
            notes.push(format!(
                "{} cannot run {}{declared}: {failure}",
                lane.name, w.name
            ));
        }
    }
    Row {
        kind: w.kind.clone(),
        n,
        times: lanes.iter_mut().map(Lane::median).collect(),
        spread: lanes.iter_mut().filter_map(Lane::spread).reduce(f64::max),
        checksum: sums.first().copied(),
        agree,
        reports: reports_agree
            .then(|| reports.first().map(|(_, values)| values.clone()))
            .flatten(),
    }
}

fn cell(t: Option<Duration>) -> String {
    t.map_or_else(|| "n/a".into(), |t| format!("{:.1} ms", ms(t)))
}

fn ratio(a: Option<Duration>, b: Option<Duration>) -> Option<f64> {
    Some(a?.as_secs_f64() / b?.as_secs_f64())
}

fn ratio_cell(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{r:.2}"))
}

fn print_row(cells: [&str; 10]) {
    let [name, kind, n, cap, wasmi, gaba, rw, rg, spread, last] = cells;
    println!(
        "{name:<16} {kind:<11} {n:>7} {cap:>11} {wasmi:>11} {gaba:>11} {rw:>9} {rg:>9} {spread:>7}  {last}"
    );
}

/// CoreMark's score as CoreMark defines it (iterations per second) in each engine, capicola's against wasmi's,
/// and the CRCs CoreMark reported and validated.
fn coremark_line(row: &Row) {
    let score = |t: Option<Duration>| t.map(|t| f64::from(row.n) / t.as_secs_f64());
    let cell = |s: Option<f64>| s.map_or_else(|| "n/a".into(), |s| format!("{s:.0}"));
    let (cap, wasmi, gaba) = (
        score(row.times[0]),
        score(row.times[1]),
        score(row.times[2]),
    );
    println!();
    println!(
        "CoreMark 1.0 (EEMBC's sources, performance run, 2K data, {} iterations per call), iterations/s: capicola {}, \
         wasmi {}, gabagool {}; capicola/wasmi score {}",
        row.n,
        cell(cap),
        cell(wasmi),
        cell(gaba),
        cap.zip(wasmi)
            .map_or_else(|| "n/a".into(), |(c, w)| format!("{:.2}", c / w))
    );
    match &row.reports {
        Some(values) => {
            let listed: Vec<String> = COREMARK_REPORT
                .iter()
                .zip(values)
                .take(5)
                .map(|(name, v)| format!("{name} {v:#06x}"))
                .collect();
            let errors = values.get(5).copied().unwrap_or(u32::MAX);
            println!(
                "  reported alike by every engine that ran it: {}; CoreMark's own check of its CRCs: {}",
                listed.join(", "),
                if errors == 0 {
                    "correct".to_string()
                } else {
                    format!("{errors} errors")
                }
            );
        }
        None => println!("  the engines' CoreMark reports disagree (see the notes)"),
    }
    println!(
        "  (timed from outside the module, initialization included, with fewer iterations than the 10 s CoreMark \
         asks of a result to publish)"
    );
}

/// Prints the workload table (the project's workloads, then the public programs) and CoreMark's score; returns
/// whether every checksum and report agreed.
fn workload_table(o: &Options) -> bool {
    let selected_name =
        |name: &str| o.filters.is_empty() || o.filters.iter().any(|f| name.contains(f.as_str()));
    let own = support::workloads();
    let (public, skipped) = if support::public_dir().is_dir() {
        support::public_workloads()
    } else {
        (Vec::new(), Vec::new())
    };
    let selected: Vec<&Workload> = own
        .iter()
        .chain(&public)
        .filter(|w| selected_name(&w.name))
        .collect();
    println!(
        "Workloads: run(n) per call, median of {} rounds, engines alternating (order rotated each round); \
         spread = (slowest - fastest) / median, the largest of the three engines; * = a public program, built \
         from code nobody in the project wrote (from: where it comes from)",
        o.rounds
    );
    print_row([
        "workload",
        "kind",
        "n",
        "capicola",
        "wasmi",
        "gabagool",
        "cap/wasmi",
        "cap/gaba",
        "spread",
        "checksum",
    ]);
    let mut notes: Vec<String> = skipped
        .into_iter()
        .filter(|s| selected_name(COREMARK) || !s.starts_with(COREMARK))
        .collect();
    let (mut vs_wasmi, mut vs_gaba) = (Vec::new(), Vec::new());
    let (mut public_vs_wasmi, mut public_vs_gaba) = (Vec::new(), Vec::new());
    let mut all_agree = true;
    let mut coremark = None;
    let mut origins = Vec::new();
    for w in selected.iter().copied() {
        let n = ((f64::from(w.n) * o.scale).round() as u32).max(1);
        let row = bench_workload(w, n, o.rounds, &mut notes);
        let (cap, wasmi, gaba) = (row.times[0], row.times[1], row.times[2]);
        let (rw, rg) = (ratio(cap, wasmi), ratio(cap, gaba));
        vs_wasmi.extend(rw);
        vs_gaba.extend(rg);
        if w.from.is_some() {
            public_vs_wasmi.extend(rw);
            public_vs_gaba.extend(rg);
        }
        all_agree &= row.agree;
        let checksum = match (row.agree, row.checksum) {
            (false, _) => "MISMATCH".to_string(),
            (true, Some(sum)) => format!("{sum:08x}"),
            (true, None) => "-".to_string(),
        };
        let name = match &w.from {
            Some(from) => {
                origins.push(format!("{} from {from}", w.name));
                format!("{}*", w.name)
            }
            None => w.name.clone(),
        };
        print_row([
            &name,
            &row.kind,
            &row.n.to_string(),
            &cell(cap),
            &cell(wasmi),
            &cell(gaba),
            &ratio_cell(rw),
            &ratio_cell(rg),
            &row.spread
                .map_or_else(|| "n/a".into(), |s| format!("{:.0}%", s * 100.0)),
            &checksum,
        ]);
        if w.name == COREMARK {
            coremark = Some(row);
        }
    }
    let gm = |rs: &[f64]| geomean(rs).map_or_else(|| "n/a".into(), |g| format!("{g:.2}"));
    let public_count = selected.iter().filter(|w| w.from.is_some()).count();
    for (label, vs_wasmi, vs_gaba, count) in [
        ("geomean", &vs_wasmi, &vs_gaba, selected.len()),
        (
            "geomean public",
            &public_vs_wasmi,
            &public_vs_gaba,
            public_count,
        ),
    ] {
        print_row([
            label,
            "",
            "",
            "",
            "",
            "",
            &gm(vs_wasmi),
            &gm(vs_gaba),
            "",
            &format!(
                "({} and {} of {count} workloads)",
                vs_wasmi.len(),
                vs_gaba.len()
            ),
        ]);
    }
    if !origins.is_empty() {
        println!("  * {}", origins.join(", "));
    }
    for note in &notes {
        println!("  note: {note}");
    }
    if let Some(row) = &coremark {
        coremark_line(row);
    }
    all_agree
}

/// Times module bytes -> runnable module for the generated module, in fresh engines, alternating.
fn translation(o: &Options, wasm: &[u8], funcs: u32) {
    let code = code_section_size(wasm);
    let mb = code as f64 / (1024.0 * 1024.0);
    println!();
    println!(
        "Translation (module bytes -> runnable, validation included): generated module, {funcs} functions, \
         {:.2} MiB module, {mb:.2} MiB code section; median of {} rounds, a fresh engine each time",
        wasm.len() as f64 / (1024.0 * 1024.0),
        o.rounds
    );
    let names: Vec<&'static str> = translation_engines().iter().map(|e| e.name()).collect();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut failures: Vec<Option<String>> = vec![None; names.len()];
    for round in 0..o.rounds {
        let fresh = translation_engines();
        for k in 0..fresh.len() {
            let i = (round + k) % fresh.len();
            if failures[i].is_some() {
                continue;
            }
            let start = Instant::now();
            let module = fresh[i].compile(wasm);
            let elapsed = start.elapsed();
            match module {
                Ok(module) => {
                    samples[i].push(elapsed);
                    drop(module);
                }
                Err(e) => failures[i] = Some(e),
            }
        }
    }
    let medians: Vec<Option<Duration>> = samples
        .iter_mut()
        .zip(&failures)
        .map(|(s, f)| (f.is_none() && !s.is_empty()).then(|| median(s)))
        .collect();
    let wasmi = medians[1];
    println!(
        "{:<14} {:>11} {:>12} {:>11} {:>9}",
        "engine", "time", "ms/MiB code", "MiB code/s", "vs wasmi"
    );
    for ((name, t), failure) in names.iter().zip(&medians).zip(&failures) {
        match (t, failure) {
            (Some(t), _) => println!(
                "{:<14} {:>11} {:>12.1} {:>11.2} {:>9}",
                name,
                cell(Some(*t)),
                ms(*t) / mb,
                mb / t.as_secs_f64(),
                ratio_cell(ratio(Some(*t), wasmi))
            ),
            (None, failure) => println!(
                "{name:<14} n/a: {}",
                failure.as_deref().unwrap_or("no samples")
            ),
        }
    }
    println!(
        "  (wasmi runs eagerly here, translating every function in Module::new; \"wasmi (lazy)\" is its default \
         mode, which validates up front and translates each function on its first call)"
    );
}

fn translation_engines() -> Vec<Box<dyn BenchEngine>> {
    let mut all = engines();
    all.insert(2, Box::new(Wasmi::lazy()));
    all
}

/// Heap kept by each engine for a translated module and for an instance, from the counting allocator.
fn memory(wasm: &[u8]) {
    const EMPTY: &str = r#"(module (func (export "run") (param i32) (result i32) local.get 0))"#;
    let empty = wat::parse_str(EMPTY).expect("the empty module is valid text");
    let code = code_section_size(wasm) as f64;
    println!();
    println!(
        "Memory (live heap bytes through a counting global allocator, fresh engine each): module = kept after \
         Module::new of the generated module, peak = highest during it, both per code-section byte; \
         instance = a new store plus instance, beyond its 64 KiB linear memory; empty = the same for a module \
         with one function and nothing else"
    );
    println!(
        "{:<14} {:>11} {:>13} {:>11} {:>13} {:>11}",
        "engine", "module MiB", "module B/B", "peak B/B", "instance KiB", "empty KiB"
    );
    // One untimed pass first, so lazily created process-wide state is not charged to the first engine.
    for engine in translation_engines() {
        let _ = engine.compile(&empty).and_then(|m| m.instantiate());
    }
    for engine in translation_engines() {
        let before = live();
        PEAK.store(before, Ordering::Relaxed);
        let module = match engine.compile(wasm) {
            Ok(m) => m,
            Err(e) => {
                println!("{:<14} n/a: {e}", engine.name());
                continue;
            }
        };
        let kept = live() - before;
        let peak = PEAK.load(Ordering::Relaxed) - before;
        let before_instance = live();
        let instance = module.instantiate();
        let per_instance = live() - before_instance - 65536;
        drop(instance);
        drop(module);
        let empty_engine = translation_engines()
            .into_iter()
            .find(|e| e.name() == engine.name())
            .expect("the same engine list");
        let empty_module = empty_engine.compile(&empty);
        let before_empty = live();
        let empty_instance = empty_module.as_ref().map(|m| m.instantiate());
        let per_empty = live() - before_empty;
        drop(empty_instance);
        println!(
            "{:<14} {:>11.2} {:>13.1} {:>11.1} {:>13.1} {:>11.1}",
            engine.name(),
            kept as f64 / (1024.0 * 1024.0),
            kept as f64 / code,
            peak as f64 / code,
            per_instance as f64 / 1024.0,
            per_empty as f64 / 1024.0
        );
    }
}

fn main() {
    let o = options();
    // An engine that panics on a workload is reported in the table's notes; keep its message to one line here.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    println!("capicola benchmark: capicola vs wasmi 2.0.0 vs gabagool 0.1.1");
    println!("machine: {}; load average at start {}", machine(), load());
    let agree = workload_table(&o);
    if o.translation {
        const FUNCS: u32 = 2500;
        let wasm = generated_module(FUNCS);
        translation(&o, &wasm, FUNCS);
        memory(&wasm);
    }
    println!();
    println!("load average at end {}", load());
    if !agree {
        eprintln!("the engines' checksums disagree");
        std::process::exit(1);
    }
}
