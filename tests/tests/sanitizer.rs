//! The sanitizer as a user runs it: every planted memory-safety bug of `harnesses/sanitize/`, built at -O1 and -O2, is found by a short seeded `capicola fuzz --sanitize` campaign from a seed that misses it, and `replay` of the saved crash prints the violation, the access and who allocated and freed the block, by function name — while the same crash replays cleanly without the sanitizer; one bug found by many inputs is saved once; and the real-library targets' seeds and short campaigns report nothing under it.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use capicola::fuzz::output::input_files;
use capicola_engine::sanitizer::recognize;
use capicola_tests::c_programs::{
    build_harness, build_harness_set, library_harnesses, workspace_root,
};
use capicola_tests::capicola_bin;

/// Executions a planted-bug campaign may take to find its bug (it stops at the first crash). Each bug is one
/// byte of its magic away from its seed, which comparison logging turns into a single mutation: without the
/// sanitizer, campaigns of 300 executions reach every magic.
const PLANTED_RUNS: u64 = 5000;

/// Executions of each real-library campaign, as `fuzz_libs` runs them.
const LIBRARY_RUNS: u64 = 1500;

/// A planted bug and what its report must say.
struct Planted {
    /// `harnesses/sanitize/NAME.c`, built as `NAME-O1.wasm` (with DWARF) and `NAME-O2.wasm`; seeds in
    /// `corpora/sanitize/NAME/`.
    name: &'static str,
    /// What the report calls the violation.
    violation: &'static str,
    /// `READ` or `WRITE` of the bad access, for the violations that are accesses.
    access: Option<&'static str>,
    /// A function of the harness in the backtrace of the bad access or free.
    at: &'static str,
    /// A function of the harness in the `allocated by:` section (of the block the pointer or address lies in).
    allocated_by: Option<&'static str>,
    /// A function of the harness in the `freed by:` section.
    freed_by: Option<&'static str>,
}

fn capicola() -> Command {
    Command::new(capicola_bin())
}

/// The planted-bug modules `NAME-O1.wasm` and `NAME-O2.wasm`.
fn modules(name: &str) -> [PathBuf; 2] {
    let dir = build_harness_set("sanitize");
    ["O1", "O2"].map(|level| dir.join(format!("{name}-{level}.wasm")))
}

/// `capicola replay WASM INPUT --sanitize` (INPUT a file or a folder).
fn replay_sanitized(wasm: &std::path::Path, input: &std::path::Path) -> Output {
    capicola()
        .arg("replay")
        .arg(wasm)
        .arg(input)
        .arg("--sanitize")
        .output()
        .expect("capicola can be started")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The indented lines under the first line of `report` that contains `header` (a backtrace's frames).
fn section(report: &str, header: &str) -> Option<String> {
    let mut lines = report.lines().skip_while(|line| !line.contains(header));
    lines.next()?;
    Some(
        lines
            .take_while(|line| line.starts_with(' '))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The number after `key: ` in a campaign's `stats` file.
fn stat(stats: &str, key: &str) -> u64 {
    stats
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(": "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in the stats file:\n{stats}"))
}

/// A seeded campaign with the sanitizer on `wasm` from `seeds` into `out`; returns its output.
fn sanitized_campaign(wasm: &Path, seeds: &Path, out: &Path, runs: u64, stop: bool) -> Output {
    let mut fuzz = capicola();
    fuzz.arg("fuzz")
        .arg(wasm)
        .arg("-i")
        .arg(seeds)
        .arg("-o")
        .arg(out)
        .args([
            "--runs",
            &runs.to_string(),
            "--seed",
            "1",
            "--sanitize",
            "-q",
        ]);
    if stop {
        fuzz.arg("--stop-on-crash");
    }
    let output = fuzz.output().expect("capicola can be started");
    // 0 when the budget ran out; 1 when `--stop-on-crash` stopped at a crash.
    assert!(
        output.status.success() || (stop && output.status.code() == Some(1)),
        "capicola fuzz {} failed:\n{}",
        wasm.display(),
        text(&output)
    );
    output
}

/// Fuzzes both builds of the planted bug, then checks the report of each crash with the sanitizer and its clean
/// run without.
fn check(bug: &Planted) {
    let seeds = workspace_root().join("corpora/sanitize").join(bug.name);
    let work = tempfile::tempdir().expect("temporary folder");
    for wasm in modules(bug.name) {
        let module = wasm.file_name().expect("a file").to_string_lossy();
        let bytes = std::fs::read(&wasm).expect("the module was built");
        assert!(
            recognize(&bytes).allocator_recognized(),
            "{module}: malloc, free and the name section must be found, so the sanitizer is on by default"
        );
        // The seed itself runs cleanly: the campaign has to find the bug.
        let replay = replay_sanitized(&wasm, &seeds);
        assert!(
            replay.status.success() && text(&replay).contains("ok (exit code 0)"),
            "{module}: the seed must run cleanly:\n{}",
            text(&replay)
        );
        let out = work.path().join(&*module);
        sanitized_campaign(&wasm, &seeds, &out, PLANTED_RUNS, true);
        let crashes = input_files(&out.join("crashes")).expect("the crashes can be listed");
        assert!(
            !crashes.is_empty(),
            "{module}: {PLANTED_RUNS} executions found no crash; stats:\n{}",
            std::fs::read_to_string(out.join("stats")).unwrap_or_default()
        );
        for crash in &crashes {
            let replay = replay_sanitized(&wasm, crash);
            let report = text(&replay);
            let context = format!("{module}, {}:\n{report}", crash.display());
            assert_eq!(replay.status.code(), Some(1), "{context}");
            assert!(report.contains(bug.violation), "{context}");
            if let Some(kind) = bug.access {
                assert!(
                    report.contains(&format!("{kind} of size ")),
                    "{kind} expected: {context}"
                );
            }
            assert!(report.contains(bug.at), "{} expected: {context}", bug.at);
            // The -O1 build carries DWARF: the report shows the harness's source lines.
            if module.ends_with("-O1.wasm") {
                let source = format!("{}.c:", bug.name);
                assert!(report.contains(&source), "{source} expected: {context}");
            }
            for (header, function) in [
                ("allocated by:", bug.allocated_by),
                ("freed by:", bug.freed_by),
            ] {
                if let Some(function) = function {
                    let frames = section(&report, header)
                        .unwrap_or_else(|| panic!("no {header} section: {context}"));
                    assert!(
                        frames.contains(function),
                        "{function} expected under {header}: {context}"
                    );
                }
            }
            // Without the sanitizer the same input runs to its end: the sanitizer is what catches the bug.
            let plain = capicola()
                .arg("replay")
                .arg(&wasm)
                .arg(crash)
                .arg("--no-sanitize")
                .output()
                .expect("capicola can be started");
            assert!(
                plain.status.success() && text(&plain).contains("ok (exit code 0)"),
                "{module}: without the sanitizer {} must run cleanly:\n{}",
                crash.display(),
                text(&plain)
            );
        }
    }
}

#[test]
fn an_off_by_one_heap_write_is_a_heap_buffer_overflow() {
    check(&Planted {
        name: "heap_write_overflow",
        violation: "heap-buffer-overflow",
        access: Some("WRITE"),
        at: "fill_block",
        allocated_by: Some("new_block"),
        freed_by: None,
    });
}

#[test]
fn a_heap_read_past_the_end_is_a_heap_buffer_overflow() {
    check(&Planted {
        name: "heap_read_overflow",
        violation: "heap-buffer-overflow",
        access: Some("READ"),
        at: "sum_counters",
        allocated_by: Some("new_counters"),
        freed_by: None,
    });
}

#[test]
fn a_read_after_free_is_a_heap_use_after_free_with_both_backtraces() {
    check(&Planted {
        name: "use_after_free_read",
        violation: "heap-use-after-free",
        access: Some("READ"),
        at: "session_bytes",
        allocated_by: Some("open_session"),
        freed_by: Some("close_session"),
    });
}

#[test]
fn a_write_after_free_is_a_heap_use_after_free_with_both_backtraces() {
    check(&Planted {
        name: "use_after_free_write",
        violation: "heap-use-after-free",
        access: Some("WRITE"),
        at: "log_size",
        allocated_by: Some("open_log"),
        freed_by: Some("close_log"),
    });
}

#[test]
fn a_host_function_reading_freed_memory_is_a_heap_use_after_free() {
    check(&Planted {
        name: "host_read_after_free",
        violation: "heap-use-after-free",
        access: Some("READ"),
        at: "by the host function fd_write",
        allocated_by: Some("compose"),
        freed_by: Some("discard"),
    });
}

#[test]
fn a_double_free_names_the_first_free() {
    check(&Planted {
        name: "double_free",
        violation: "double-free",
        access: None,
        at: "LLVMFuzzerTestOneInput",
        allocated_by: Some("take_scratch"),
        freed_by: Some("give_back_scratch"),
    });
}

#[test]
fn a_free_of_a_pointer_into_a_block_is_an_invalid_free() {
    check(&Planted {
        name: "invalid_free",
        violation: "not malloc()-ed",
        access: None,
        at: "free_message_body",
        allocated_by: Some("new_message"),
        freed_by: None,
    });
}

#[test]
fn a_memcpy_past_a_heap_buffer_is_a_heap_buffer_overflow() {
    check(&Planted {
        name: "memcpy_overflow",
        violation: "heap-buffer-overflow",
        access: Some("WRITE"),
        at: "copy_record",
        allocated_by: Some("copy_record"),
        freed_by: None,
    });
}

#[test]
fn an_overflow_of_a_callees_local_array_is_a_stack_buffer_overflow() {
    check(&Planted {
        name: "stack_overflow",
        violation: "stack-buffer-overflow",
        access: Some("WRITE"),
        at: "parse_name",
        allocated_by: None,
        freed_by: None,
    });
}

#[test]
fn a_read_of_a_returned_frame_is_a_stack_use_after_return() {
    check(&Planted {
        name: "stack_use_after_return",
        violation: "stack-use-after-return",
        access: Some("READ"),
        at: "read_total",
        allocated_by: None,
        freed_by: None,
    });
}

#[test]
fn a_campaign_saves_one_crash_for_one_bug_that_many_inputs_reach() {
    // Every input that starts with the magic overflows in the same memcpy, called from one of two call sites by the
    // parity of its fifth byte: the campaign keeps mutating the rest of the input after it found the bug.
    let seeds = workspace_root().join("corpora/sanitize/memcpy_overflow");
    let work = tempfile::tempdir().expect("temporary folder");
    let (even, odd) = (work.path().join("even"), work.path().join("odd"));
    std::fs::write(&even, "MCPY0 is even").expect("input written");
    std::fs::write(&odd, "MCPY1 is odd").expect("input written");
    for wasm in modules("memcpy_overflow") {
        // The two call sites make two backtraces that differ in their byte offsets only.
        let reports = [&even, &odd].map(|input| {
            let replay = capicola()
                .arg("replay")
                .arg(&wasm)
                .arg(input)
                .arg("--sanitize")
                .output()
                .expect("capicola can be started");
            section(&text(&replay), "==ERROR").unwrap_or_default()
        });
        assert!(
            reports[0] != reports[1] && reports[0].contains("copy_record"),
            "{}: {reports:#?}",
            wasm.display()
        );
        let out = work
            .path()
            .join(wasm.file_name().expect("a file").to_string_lossy().as_ref());
        let output = sanitized_campaign(&wasm, &seeds, &out, 5000, false);
        let crashes = input_files(&out.join("crashes")).expect("the crashes can be listed");
        let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
        assert_eq!(
            crashes.len(),
            1,
            "{}: {crashes:?}\n{}\n{stats}",
            wasm.display(),
            text(&output)
        );
        assert_eq!(stat(&stats, "crashes"), 1, "{stats}");
    }
}

#[test]
fn the_library_targets_seeds_and_short_campaigns_raise_nothing_under_the_sanitizer() {
    let names = library_harnesses();
    assert!(
        names.len() >= 3,
        "expected zlib, bzip2 and sqlite, found {names:?}"
    );
    let work = tempfile::tempdir().expect("temporary folder");
    let check = |name: &String| -> Result<String, String> {
        let wasm = build_harness(name);
        let bytes = std::fs::read(&wasm).map_err(|e| format!("{name}: {e}"))?;
        if !recognize(&bytes).allocator_recognized() {
            return Err(format!("{name}: the sanitizer does not find its allocator"));
        }
        let seeds = workspace_root().join("corpora").join(name);
        let seed_count = std::fs::read_dir(&seeds)
            .map_err(|e| format!("{name}: {e}"))?
            .count();
        let replay = replay_sanitized(&wasm, &seeds);
        let replayed = text(&replay);
        if !replay.status.success() || replayed.matches("ok (exit code 0)").count() != seed_count {
            return Err(format!(
                "{name}: not every seed runs cleanly under the sanitizer:\n{replayed}"
            ));
        }
        let out = work.path().join(name);
        sanitized_campaign(&wasm, &seeds, &out, LIBRARY_RUNS, false);
        let stats =
            std::fs::read_to_string(out.join("stats")).map_err(|e| format!("{name}: {e}"))?;
        let crashes = input_files(&out.join("crashes")).map_err(|e| format!("{name}: {e}"))?;
        if stat(&stats, "crashes") > 0 || stat(&stats, "engine_bugs") > 0 || !crashes.is_empty() {
            let mut reports = String::new();
            for crash in &crashes {
                reports += &text(&replay_sanitized(&wasm, crash));
            }
            return Err(format!(
                "{name}: the campaign found something:\n{stats}\n{reports}"
            ));
        }
        Ok(format!(
            "{name}: {seed_count} seeds and {LIBRARY_RUNS} executions, nothing found"
        ))
    };
    // Side by side: SQLite's first build (about a minute) overlaps the smaller libraries' campaigns.
    capicola_tests::check_side_by_side(&names, |name| check(name));
}

/// The README's example harness (`harnesses/example`, built as the README says) is fuzzed from its seed to its
/// planted overflow, which the sanitizer reports with the source line.
#[test]
fn the_readme_example_harness_is_fuzzed_to_its_overflow() {
    let wasm = build_harness("example");
    let seeds = workspace_root().join("corpora/example");
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    sanitized_campaign(&wasm, &seeds, &out, 20_000, true);
    let crashes = input_files(&out.join("crashes")).expect("the crashes can be listed");
    assert_eq!(crashes.len(), 1, "{crashes:?}");
    let report = text(&replay_sanitized(&wasm, &crashes[0]));
    for expected in [
        "heap-buffer-overflow",
        "12-byte region",
        "rec.c:",
        "allocated by:",
    ] {
        assert!(report.contains(expected), "{expected} expected:\n{report}");
    }
}
