//! `cargo bench -p capicola-tests --bench dir_startup`: what `--dir` costs a program that opens one file. The release
//! `capicola run` runs `harnesses/wasi-cow/cow.c`, which reads `include/stdio.h` of its directory, with `--dir /usr`
//! and with `--dir` of an empty temporary directory, taking turns; it prints the median wall time and the median
//! peak resident memory (`ru_maxrss` of each child, from `wait4`) of both, and their ratios. Host directories are
//! read lazily, so the whole of `/usr` should cost about what the empty directory costs.

use std::path::Path;
use std::time::{Duration, Instant};

use capicola_tests::c_programs::{build_wasi_program, workspace_root};

#[path = "child_usage/mod.rs"]
mod child_usage;

/// Runs of each kind (taking turns).
const RUNS: usize = 9;
/// The file the program reads, relative to the directory given.
const FILE: &str = "include/stdio.h";

/// Runs `capicola run --dir DIR::/d cow.wasm -- sum FILE` once: wall time and peak RSS in KiB.
fn run_once(capicola: &Path, wasm: &Path, dir: &Path) -> (Duration, i64) {
    let start = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "waited for below with wait4, which also gives its resource use"
    )]
    let child = std::process::Command::new(capicola)
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/d", dir.display()))
        .arg(wasm)
        .args(["--", "sum", FILE])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("capicola runs");
    let peak =
        child_usage::wait_peak_rss_kib(&child, &format!("capicola run --dir {}", dir.display()));
    (start.elapsed(), peak)
}

fn median<T: Ord + Copy>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument (e.g. cargo test's filters) is ignored.
    let usr = Path::new("/usr");
    if !usr.join(FILE).is_file() {
        eprintln!("dir_startup: /usr/{FILE} is missing (install libc6-dev); nothing measured");
        return;
    }
    let wasm = build_wasi_program(&workspace_root().join("harnesses/wasi-cow/cow.c"));
    let capicola = capicola_tests::capicola_bin();
    let empty = tempfile::tempdir().expect("a temporary directory");
    let mut usr_runs = Vec::with_capacity(RUNS);
    let mut empty_runs = Vec::with_capacity(RUNS);
    // One run of each first, unmeasured: the page cache holds the directories and the binary afterwards.
    run_once(&capicola, &wasm, usr);
    run_once(&capicola, &wasm, empty.path());
    for _ in 0..RUNS {
        usr_runs.push(run_once(&capicola, &wasm, usr));
        empty_runs.push(run_once(&capicola, &wasm, empty.path()));
    }
    let time = |runs: &[(Duration, i64)]| median(runs.iter().map(|r| r.0).collect());
    let rss = |runs: &[(Duration, i64)]| median(runs.iter().map(|r| r.1).collect());
    let (usr_time, empty_time) = (time(&usr_runs), time(&empty_runs));
    let (usr_rss, empty_rss) = (rss(&usr_runs), rss(&empty_runs));
    println!(
        "capicola run --dir DIR::/d cow.wasm -- sum {FILE}: median of {RUNS} runs each, taking turns"
    );
    println!("/usr holds {} entries", count_entries(usr));
    let row = |label: &str, time: Duration, rss: i64| {
        println!(
            "{label:<34} {:8.2} ms  {:7.1} MiB peak RSS",
            time.as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        );
    };
    row("--dir /usr:", usr_time, usr_rss);
    row("--dir <empty temporary directory>:", empty_time, empty_rss);
    println!(
        "{:<34} {:8.2}x    {:7.2}x",
        "ratio /usr / empty:",
        usr_time.as_secs_f64() / empty_time.as_secs_f64(),
        usr_rss as f64 / empty_rss as f64
    );
}

/// Files, directories and symlinks under `dir` (not following symlinks; unreadable directories count as empty).
fn count_entries(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            1 + if e.file_type().is_ok_and(|t| t.is_dir()) {
                count_entries(&e.path())
            } else {
                0
            }
        })
        .sum()
}
