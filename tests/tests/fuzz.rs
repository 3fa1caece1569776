//! The fuzzer as a user runs it: a seeded campaign finds the bundled target's planted crash within a bounded number of executions, `replay` shows the trap with a named backtrace, `tmin` shrinks a crash keeping its failure, `cmin` keeps coverage, `--resume` keeps what a killed campaign found, a campaign asked to stop (the dashboard's `q`) ends with its summary, a whole WASI program reading stdin (or a file) is snapshotted at its first read and fuzzed, inputs and initializations that never end stop at `--timeout` and `--max-total-time`, multi-core campaigns neither hang nor outlive their launcher, lost output streams end every command cleanly, printed command lines run as printed, and stats add up across `--resume`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use capicola::fuzz::minimize::features;
use capicola::fuzz::output::{OutputDir, input_files};
use capicola::fuzz::{Instrumentation, Target, TargetOptions};
use capicola_tests::c_programs::{build_harness, build_wasi_program, workspace_root};
use capicola_tests::{FIND_X, capicola_bin};
use predicates::prelude::*;

fn capicola() -> Command {
    Command::new(capicola_bin())
}

fn tlvconf() -> PathBuf {
    build_harness("tlvconf")
}

fn kvconf() -> PathBuf {
    build_wasi_program(&workspace_root().join("harnesses/kvconf/kvconf.c"))
}

/// A tlvconf document: header, then (type, flags, payload) records.
fn tlv_doc(version: u16, records: &[(u8, u8, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (kind, flags, payload) in records {
        body.push(*kind);
        body.push(*flags);
        body.extend_from_slice(&(payload.len() as u16).to_le_bytes());
        body.extend_from_slice(payload);
    }
    let mut doc = b"TLV1".to_vec();
    doc.extend_from_slice(&(12 + body.len() as u32).to_le_bytes());
    doc.extend_from_slice(&version.to_le_bytes());
    doc.extend_from_slice(&(records.len() as u16).to_le_bytes());
    doc.extend_from_slice(&body);
    doc
}

fn files(dir: &Path) -> BTreeSet<String> {
    input_files(dir)
        .expect("the folder can be listed")
        .iter()
        .map(|p| {
            p.file_name()
                .expect("files have names")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn a_seeded_campaign_finds_the_planted_crash_past_the_magic_and_the_length_check() {
    let wasm = tlvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let seeds = work.path().join("seeds");
    std::fs::create_dir(&seeds).expect("seed folder");
    // No magic, no length, no records: the campaign has to learn them from the comparisons.
    std::fs::write(seeds.join("hello"), "hello").expect("seed written");
    let out = work.path().join("out");
    capicola()
        .arg("fuzz")
        .arg(&wasm)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&seeds)
        .args(["--runs", "1000000", "--seed", "2", "--stop-on-crash", "-q"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("crashes:     1 unique"));
    let crashes = files(&out.join("crashes"));
    assert_eq!(crashes.len(), 1, "{crashes:?}");
    let crash = crashes.iter().next().expect("one crash");
    // The summary names the command that opens the crash in the debugger.
    let summary = String::from_utf8(
        capicola()
            .arg("fuzz")
            .arg(&wasm)
            .arg("-o")
            .arg(&out)
            .args(["--resume", "--runs", "1", "-q"])
            .output()
            .expect("a resumed campaign runs")
            .stdout,
    )
    .expect("UTF-8 summary");
    assert!(
        summary.contains(&format!(
            "debug one:   capicola debug {} --input {}",
            wasm.display(),
            out.join("crashes").join(crash).display()
        )),
        "{summary}"
    );
    assert!(crash.starts_with("out-of-bounds-memory-access-"), "{crash}");
    assert!(!files(&out.join("queue")).is_empty());
    let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
    assert!(stats.contains("crashes: 1"), "{stats}");
}

#[test]
fn replay_prints_the_trap_and_the_backtrace_with_function_names() {
    let wasm = tlvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let crash = work.path().join("crash");
    let column = 0x1000_0000u32.to_le_bytes();
    std::fs::write(&crash, tlv_doc(2, &[(b'T', 0x80, &column)])).expect("input written");
    let fine = work.path().join("fine");
    std::fs::write(&fine, tlv_doc(1, &[(b'I', 0, &7u32.to_le_bytes())])).expect("input written");
    capicola()
        .arg("replay")
        .arg(&wasm)
        .arg(&fine)
        .assert()
        .success()
        .stdout(predicate::str::contains("ok (exit code 0)"));
    capicola()
        .arg("replay")
        .arg(&wasm)
        .arg(&crash)
        .arg(&fine)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "crash: trap: out of bounds memory access",
        ))
        .stdout(
            predicate::str::is_match(
                r"wasm backtrace:\n  0: func \d+ \(parse_table\) at offset 0x[0-9a-f]+\n  1: func \d+ \(tlv_parse\) at offset 0x[0-9a-f]+\n  2: func \d+ \(LLVMFuzzerTestOneInput\)",
            )
            .expect("a valid regex"),
        );
}

#[test]
fn an_input_longer_than_max_len_is_cut_only_with_a_note() {
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = work.path().join("find_x.wat");
    std::fs::write(&wat, FIND_X).expect("module written");
    // The `X` lies past the default --max-len of 4096 bytes.
    let mut long = vec![b'a'; 5000];
    long[4500] = b'X';
    let input = work.path().join("long");
    std::fs::write(&input, &long).expect("input written");
    capicola()
        .arg("replay")
        .arg(&wat)
        .arg(&input)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "is 5000 bytes: only its first 4096 run (--max-len 4096; raise it to run it whole)",
        ));
    capicola()
        .arg("replay")
        .arg(&wat)
        .arg(&input)
        .args(["--max-len", "8192"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("only its first").not())
        .stdout(predicate::str::contains("crash: trap: unreachable"));
}

#[test]
fn tmin_shrinks_a_crash_and_keeps_its_trap_and_backtrace() {
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = work.path().join("find_x.wat");
    std::fs::write(&wat, FIND_X).expect("module written");
    let crash = work.path().join("crash");
    std::fs::write(&crash, "some bytes before X and some after").expect("input written");
    let min = work.path().join("crash.min");
    capicola()
        .arg("tmin")
        .arg(&wat)
        .arg(&crash)
        .assert()
        .success()
        .stdout(predicate::str::contains("34 -> 1 bytes"))
        .stdout(predicate::str::contains("crash: trap: unreachable"));
    assert_eq!(std::fs::read(&min).expect("minimized input written"), b"X");
    let replay = |input: &Path| {
        let out = capicola()
            .arg("replay")
            .arg(&wat)
            .arg(input)
            .output()
            .expect("replay runs");
        let text = String::from_utf8(out.stdout).expect("UTF-8 output");
        let trap = text
            .split_once(": crash")
            .map(|(_, rest)| rest.to_string())
            .expect("the input crashes");
        // The debugger hint names the input file; the rest must match.
        trap.lines()
            .filter(|l| !l.trim_start().starts_with("debug it:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(replay(&crash), replay(&min), "same trap and backtrace");
    // An input that does not fail cannot be minimized.
    let fine = work.path().join("fine");
    std::fs::write(&fine, "nothing here").expect("input written");
    capicola()
        .arg("tmin")
        .arg(&wat)
        .arg(&fine)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not fail"));
}

/// The (edge, hit-count class) features a set of inputs covers, failing inputs left out.
fn corpus_features(wasm: &Path, dir: &Path) -> BTreeSet<(u32, u8)> {
    let bytes = std::fs::read(wasm).expect("module readable");
    let mut target = Target::load(
        &bytes,
        &TargetOptions::default(),
        Instrumentation {
            coverage: true,
            cmplog: false,
            sanitize: false,
            detect_leaks: false,
        },
    )
    .expect("the target loads");
    let mut all = BTreeSet::new();
    for file in input_files(dir).expect("corpus listed") {
        let input = std::fs::read(file).expect("input readable");
        let (outcome, covered) = features(&mut target, &input);
        if matches!(outcome, capicola::fuzz::InputOutcome::Ok { .. }) {
            all.extend(covered);
        }
    }
    all
}

#[test]
fn cmin_keeps_the_coverage_of_the_whole_corpus_with_fewer_inputs() {
    let wasm = tlvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let corpus = work.path().join("corpus");
    std::fs::create_dir(&corpus).expect("corpus folder");
    let seeds = workspace_root().join("corpora/tlvconf");
    for (i, seed) in input_files(&seeds).expect("seeds").iter().enumerate() {
        let bytes = std::fs::read(seed).expect("seed readable");
        // Each seed twice, plus a useless input: cmin has something to drop.
        std::fs::write(corpus.join(format!("a{i}")), &bytes).expect("written");
        std::fs::write(corpus.join(format!("b{i}")), &bytes).expect("written");
    }
    std::fs::write(corpus.join("junk"), "junk").expect("written");
    let column = 0x1000_0000u32.to_le_bytes();
    std::fs::write(corpus.join("crash"), tlv_doc(2, &[(b'T', 0x80, &column)])).expect("written");
    let out = work.path().join("min");
    capicola()
        .arg("cmin")
        .arg(&wasm)
        .arg("-i")
        .arg(&corpus)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 failing left out"));
    let kept = files(&out);
    assert!(kept.len() <= files(&corpus).len() / 2, "{kept:?}");
    assert!(kept.iter().all(|name| !name.starts_with('b')), "{kept:?}");
    assert!(!kept.contains("crash"));
    assert_eq!(
        corpus_features(&wasm, &out),
        corpus_features(&wasm, &corpus)
    );
}

#[test]
fn a_killed_campaign_resumes_without_losing_anything_it_wrote() {
    let wasm = tlvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    let seeds = workspace_root().join("corpora/tlvconf");
    let mut child = std::process::Command::new(capicola_bin())
        .arg("fuzz")
        .arg(&wasm)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&seeds)
        .args(["--max-total-time", "60", "--seed", "1", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the campaign starts");
    // Kill it (SIGKILL) as soon as it has written a crash.
    let deadline = Instant::now() + Duration::from_secs(60);
    while files(&out.join("crashes")).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("the campaign can be killed");
    child.wait().expect("the campaign ends");
    let read_all = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        files(dir)
            .into_iter()
            .map(|name| {
                let bytes = std::fs::read(dir.join(&name)).expect("finding readable");
                (name, bytes)
            })
            .collect()
    };
    let crashes = read_all(&out.join("crashes"));
    let queue = read_all(&out.join("queue"));
    assert!(!crashes.is_empty() && !queue.is_empty());
    // The same folder without --resume is refused.
    capicola()
        .arg("fuzz")
        .arg(&wasm)
        .arg("-o")
        .arg(&out)
        .args(["--runs", "10"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--resume"));
    capicola()
        .arg("fuzz")
        .arg(&wasm)
        .arg("-o")
        .arg(&out)
        .args(["--resume", "--runs", "20000", "--seed", "2", "-q"])
        .assert()
        .success();
    let after_crashes = read_all(&out.join("crashes"));
    let after_queue = read_all(&out.join("queue"));
    for found in crashes.iter().chain(&queue) {
        assert!(
            after_crashes.contains(found) || after_queue.contains(found),
            "{} was lost",
            found.0
        );
    }
}

#[test]
fn a_wasi_program_is_snapshotted_at_its_first_read_of_stdin_or_a_file_and_fuzzed() {
    let wasm = kvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let seeds = workspace_root().join("corpora/kvconf");
    // Initialization (the table, and its message on stderr) runs once, not once per input.
    capicola()
        .arg("replay")
        .arg(&wasm)
        .arg(&seeds)
        .assert()
        .success()
        .stderr(predicate::str::contains("table ready").count(1))
        .stdout(predicate::str::contains("ok (exit code 0)").count(2));
    for (args, seed) in [(&[][..], "1"), (&["--", "@@"][..], "2")] {
        let out = work.path().join(format!("out-{seed}"));
        capicola()
            .arg("fuzz")
            .arg(&wasm)
            .arg("-o")
            .arg(&out)
            .arg("-i")
            .arg(&seeds)
            // A generous budget: a seeded campaign does not replay the same order in another process (LibAFL's
            // minimizer culls its corpus in hash-map order), and the crash came after 6k to over 200k runs.
            .args(["--runs", "1000000", "--seed", seed, "--stop-on-crash", "-q"])
            .args(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(if args.is_empty() {
                "WASI program, input on stdin"
            } else {
                "WASI program, input file @@"
            }))
            .stdout(predicate::str::contains("crashes:     1 unique"));
        let crash = out.join("crashes").join(
            files(&out.join("crashes"))
                .into_iter()
                .next()
                .expect("a crash"),
        );
        let mut replay = capicola();
        replay.arg("replay").arg(&wasm).arg(&crash).args(args);
        replay
            .assert()
            .code(1)
            .stdout(predicate::str::contains("crash: trap: unreachable"))
            .stdout(predicate::str::contains("(abort)"))
            .stdout(predicate::str::contains("(main)"));
    }
}

/// A libFuzzer harness in text that spins forever when the input starts with `L`.
const SPIN_ON_L: &str = r#"
(module
  (memory (export "memory") 1)
  (func $spin (loop $forever (br $forever)))
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (if (i32.and (i32.ne (local.get 1) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get 0)) (i32.const 76)))
      (then (call $spin)))
    (i32.const 0)))
"#;

#[test]
fn timeouts_are_findings_and_stay_out_of_the_queue() {
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = work.path().join("spin.wat");
    std::fs::write(&wat, SPIN_ON_L).expect("module written");
    let seeds = work.path().join("seeds");
    std::fs::create_dir(&seeds).expect("seed folder");
    std::fs::write(seeds.join("spin"), "Loop").expect("seed written");
    std::fs::write(seeds.join("fine"), "fine").expect("seed written");
    let dict = work.path().join("words.dict");
    std::fs::write(&dict, "# tokens\nkw=\"Loop\"\n\"\\x00\\x01\"\n").expect("dictionary written");
    let out = work.path().join("out");
    capicola()
        .arg("fuzz")
        .arg(&wat)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&seeds)
        .arg("--dict")
        .arg(&dict)
        .args(["--fuel", "10000", "--runs", "3000", "--seed", "1", "-q"])
        .assert()
        .success()
        .stdout(predicate::str::contains("timeouts:    1 unique"));
    let timeouts = files(&out.join("timeouts"));
    assert_eq!(timeouts.len(), 1, "{timeouts:?}");
    for name in files(&out.join("queue")) {
        let input = std::fs::read(out.join("queue").join(&name)).expect("queue entry readable");
        assert!(
            !input.starts_with(b"L"),
            "a timeout entered the queue: {name}"
        );
    }
    capicola()
        .arg("replay")
        .arg(&wat)
        .arg(
            out.join("timeouts")
                .join(timeouts.iter().next().expect("one")),
        )
        .args(["--fuel", "10000"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("timeout: out of fuel"))
        .stdout(predicate::str::contains("0: func"));
}

#[test]
fn several_cores_fuzz_through_the_launcher_into_one_output_folder() {
    let wasm = tlvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    capicola()
        .arg("fuzz")
        .arg(&wasm)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(workspace_root().join("corpora/tlvconf"))
        .args(["-j", "2", "--runs", "20000", "--seed", "1", "-q"])
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stdout(predicate::str::contains("on 2 core(s)"));
    assert!(!files(&out.join("queue")).is_empty());
}

#[test]
fn a_campaign_asked_to_stop_ends_cleanly_with_its_summary_on_one_core_or_several() {
    // What the dashboard's `q` (or Ctrl-C) does: a stop request in the output folder.
    let wasm = tlvconf();
    for jobs in ["1", "2"] {
        let work = tempfile::tempdir().expect("temporary folder");
        let out = work.path().join("out");
        let mut child = std::process::Command::new(capicola_bin())
            .arg("fuzz")
            .arg(&wasm)
            .arg("-o")
            .arg(&out)
            .arg("-i")
            .arg(workspace_root().join("corpora/tlvconf"))
            .args(["-j", jobs, "--max-total-time", "600", "--seed", "1", "-q"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the campaign starts");
        let deadline = Instant::now() + Duration::from_secs(120);
        while files(&out.join("queue")).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        OutputDir::create(&out, true)
            .expect("the campaign's folder")
            .request_stop()
            .expect("stop requested");
        while child
            .try_wait()
            .expect("the campaign can be waited for")
            .is_none()
        {
            if Instant::now() > deadline {
                child.kill().expect("a hung campaign can be killed");
                panic!("the campaign on {jobs} core(s) did not stop when asked");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().expect("the campaign ends");
        assert!(output.status.success(), "{jobs} core(s): {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(&format!("on {jobs} core(s)")), "{stdout}");
        assert!(stdout.contains("corpus:"), "{stdout}");
        assert!(!files(&out.join("queue")).is_empty());
        assert!(
            !OutputDir::create(&out, true)
                .expect("the campaign's folder")
                .stop_requested(),
            "the request is withdrawn at the end"
        );
    }
}

/// The reproducers in `corpora/regressions/fuzz/` whose names start with `prefix`.
fn fuzz_regressions(prefix: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/regressions/fuzz");
    let files: Vec<PathBuf> = input_files(&folder)
        .expect("the regression folder can be listed")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    assert!(!files.is_empty(), "no reproducer named {prefix}*");
    files
}

/// A process timeout far above every limit the tests give: it only turns a hang into a failure.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// Fuel no input of the tests spends: only the wall clock can end them.
const ENDLESS_FUEL: &str = "1000000000000000";

#[test]
fn inputs_that_never_end_stop_at_the_timeout_and_campaigns_at_the_time_limit() {
    let work = tempfile::tempdir().expect("temporary folder");
    let input = work.path().join("input");
    std::fs::write(&input, "x").expect("input written");
    for target in fuzz_regressions("input-never-ends-") {
        let name = target.display();
        capicola()
            .arg("replay")
            .arg(&target)
            .arg(&input)
            .args(["--fuel", ENDLESS_FUEL, "--timeout", "0.2"])
            .timeout(HANG_GUARD)
            .assert()
            .code(3)
            .stdout(predicate::str::contains(
                "timeout: ran past its wall-clock limit (--timeout)",
            ));
        capicola()
            .arg("replay")
            .arg(&target)
            .arg(&input)
            .arg(&input)
            .args([
                "--fuel",
                ENDLESS_FUEL,
                "--timeout",
                "0",
                "--max-total-time",
                "1",
            ])
            .timeout(HANG_GUARD)
            .assert()
            .code(4)
            .stderr(predicate::str::contains("--max-total-time ran out"));
        // The default --timeout is longer than the campaign: the time limit ends the input running then.
        let out = work.path().join(format!("out-{}", target_name(&target)));
        let run = capicola()
            .arg("fuzz")
            .arg(&target)
            .arg("-o")
            .arg(&out)
            .args(["--fuel", ENDLESS_FUEL, "--max-total-time", "2", "-q"])
            .timeout(HANG_GUARD)
            .output()
            .expect("the campaign runs");
        assert!(run.status.success(), "{name}: {run:?}");
        assert!(
            String::from_utf8_lossy(&run.stdout).contains("done:"),
            "{name}: {run:?}"
        );
        // A short --timeout makes each input a timeout finding.
        let out = work.path().join(format!("short-{}", target_name(&target)));
        capicola()
            .arg("fuzz")
            .arg(&target)
            .arg("-o")
            .arg(&out)
            .args([
                "--fuel",
                ENDLESS_FUEL,
                "--timeout",
                "0.2",
                "--max-total-time",
                "2",
                "-q",
            ])
            .timeout(HANG_GUARD)
            .assert()
            .success()
            .stdout(predicate::str::contains("timeouts:    1 unique"));
    }
}

fn target_name(path: &Path) -> String {
    path.file_stem()
        .expect("the reproducer has a name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn an_initialization_that_never_ends_stops_at_the_time_limit_with_a_clear_error() {
    let work = tempfile::tempdir().expect("temporary folder");
    let input = work.path().join("input");
    std::fs::write(&input, "x").expect("input written");
    for target in fuzz_regressions("init-never-ends-") {
        capicola()
            .arg("fuzz")
            .arg(&target)
            .arg("-o")
            .arg(work.path().join(target_name(&target)))
            .args(["--max-total-time", "2", "-q"])
            .timeout(HANG_GUARD)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "initialization did not finish before the time limit (--max-total-time) ran out",
            ));
        capicola()
            .arg("replay")
            .arg(&target)
            .arg(&input)
            .args(["--max-total-time", "1"])
            .timeout(HANG_GUARD)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--max-total-time"));
    }
}

#[test]
fn a_wall_clock_timeout_leaves_fuel_timeouts_as_they_were() {
    // Slicing the fuel to read the clock must not move where the fuel runs out.
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = work.path().join("spin.wat");
    std::fs::write(&wat, SPIN_ON_L).expect("module written");
    let wasm = wat::parse_file(&wat).expect("the module assembles");
    let run = |timeout: Option<Duration>| {
        let options = TargetOptions {
            fuel: 1_000_003,
            timeout,
            ..TargetOptions::default()
        };
        Target::load(
            &wasm,
            &options,
            Instrumentation {
                coverage: true,
                cmplog: false,
                sanitize: false,
                detect_leaks: false,
            },
        )
        .expect("the target loads")
        .run(b"Loop")
    };
    let plain = run(None);
    assert!(
        matches!(plain, capicola::fuzz::InputOutcome::Timeout { .. }),
        "{plain:?}"
    );
    assert_eq!(run(Some(Duration::from_secs(3600))), plain);
}

/// Runs `command` with its stdout a pipe closed at once (`| head -0`) and its stderr as `stderr`, and returns how
/// it exited; a run past [`HANG_GUARD`] fails.
fn run_with_broken_stdout(
    mut command: std::process::Command,
    stderr: Stdio,
) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the command starts");
    drop(child.stdout.take());
    let deadline = Instant::now() + HANG_GUARD;
    while child
        .try_wait()
        .expect("the command can be waited for")
        .is_none()
    {
        if Instant::now() > deadline {
            child.kill().expect("a hung command can be killed");
            panic!("{command:?} hung with a closed stdout");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the command ends")
}

#[test]
fn closed_or_full_output_streams_end_every_fuzz_command_cleanly() {
    let work = tempfile::tempdir().expect("temporary folder");
    let input = work.path().join("input");
    std::fs::write(&input, "x").expect("input written");
    let noisy = fuzz_regressions("output-then-crash-");
    let stalled = fuzz_regressions("input-never-ends-loop");
    let mut commands: Vec<(String, std::process::Command)> = Vec::new();
    for target in noisy.iter().chain(&stalled) {
        let mut replay = std::process::Command::new(capicola_bin());
        replay
            .arg("replay")
            .arg(target)
            .arg(&input)
            .args(["--timeout", "0.2"]);
        commands.push((format!("replay {}", target.display()), replay));
        for jobs in ["1", "2"] {
            let mut fuzz = std::process::Command::new(capicola_bin());
            fuzz.arg("fuzz")
                .arg(target)
                .arg("-o")
                .arg(work.path().join(format!("{}-{jobs}", target_name(target))))
                .args([
                    "--max-total-time",
                    "2",
                    "--timeout",
                    "0.2",
                    "--no-tui",
                    "-j",
                    jobs,
                ]);
            commands.push((format!("fuzz -j {jobs} {}", target.display()), fuzz));
        }
    }
    for (name, command) in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full can be opened");
        let output = run_with_broken_stdout(command, Stdio::from(full));
        assert_ne!(
            output.status.code(),
            Some(101),
            "{name} panicked: {output:?}"
        );
        assert!(
            output.status.code().is_some(),
            "{name} died of a signal: {output:?}"
        );
    }
    // With stderr readable: no panic message either.
    let mut replay = std::process::Command::new(capicola_bin());
    replay.arg("replay").arg(&noisy[0]).arg(&input);
    let output = run_with_broken_stdout(replay, Stdio::piped());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "{output:?}"
    );
}

#[test]
fn more_jobs_than_cores_is_refused_with_a_clear_error() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let work = tempfile::tempdir().expect("temporary folder");
    capicola()
        .arg("fuzz")
        .arg(&fuzz_regressions("input-never-ends-loop")[0])
        .arg("-o")
        .arg(work.path().join("out"))
        .args([
            "-j",
            &(cores + 1).to_string(),
            "--max-total-time",
            "2",
            "-q",
        ])
        .timeout(HANG_GUARD)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "only {cores} core(s) are available to this process"
        )));
}

/// The processes descended from `pid` (from `/proc`).
fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .expect("/proc can be listed")
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Whether process `pid` still runs (a zombie does not).
fn runs(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

#[test]
fn killing_the_launcher_of_a_multi_core_campaign_stops_its_clients() {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return;
    }
    let wasm = tlvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    let mut launcher = std::process::Command::new(capicola_bin())
        .arg("fuzz")
        .arg(&wasm)
        .arg("-o")
        .arg(&out)
        .args(["-j", "2", "--max-total-time", "600", "--seed", "1", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the campaign starts");
    let deadline = Instant::now() + HANG_GUARD;
    while files(&out.join("queue")).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let clients = descendants(launcher.id());
    assert!(clients.len() >= 2, "{clients:?}");
    launcher.kill().expect("the launcher can be killed");
    launcher.wait().expect("the launcher is reaped");
    while clients.iter().any(|&pid| runs(pid)) {
        assert!(
            Instant::now() < deadline,
            "clients still run after their launcher was killed: {:?}",
            clients.iter().filter(|&&pid| runs(pid)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A harness that traps on every input.
const ALWAYS_TRAPS: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    unreachable))
"#;

#[test]
fn printed_command_lines_run_as_printed_from_paths_with_spaces() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path().join("a folder with 'quotes' and spaces");
    std::fs::create_dir(&dir).expect("folder made");
    let wat = dir.join("always traps.wat");
    std::fs::write(&wat, ALWAYS_TRAPS).expect("module written");
    let out = dir.join("out dir");
    let run = capicola()
        .arg("fuzz")
        .arg(&wat)
        .arg("-o")
        .arg(&out)
        .args(["--runs", "10", "-q"])
        .timeout(HANG_GUARD)
        .output()
        .expect("the campaign runs");
    assert!(run.status.success(), "{run:?}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let bin = format!("'{}'", capicola_bin().display());
    for prefix in ["replay them: ", "debug one:   "] {
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {stdout}"));
        let command = line
            .strip_prefix("capicola ")
            .expect("the line is a capicola command");
        // The debugger reads its commands from stdin: an empty one ends it.
        let ran = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{bin} {command} </dev/null"))
            .output()
            .expect("sh runs");
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(
            !stderr.contains("cannot read") && !stderr.contains("error: unexpected argument"),
            "`{line}` does not run as printed: {ran:?}"
        );
        if prefix.starts_with("replay") {
            assert_eq!(ran.status.code(), Some(1), "`{line}`: {ran:?}");
            assert!(
                String::from_utf8_lossy(&ran.stdout).contains("crash: trap"),
                "{ran:?}"
            );
        }
    }
}

#[test]
fn an_os_error_is_reported_once() {
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = work.path().join("traps.wat");
    std::fs::write(&wat, ALWAYS_TRAPS).expect("module written");
    let file = work.path().join("a file");
    std::fs::write(&file, "").expect("file written");
    for args in [
        vec!["-o".to_string(), file.join("out").display().to_string()],
        vec![
            "--dict".to_string(),
            file.join("words.dict").display().to_string(),
        ],
    ] {
        let run = capicola()
            .arg("fuzz")
            .arg(&wat)
            .args(&args)
            .args(["--runs", "10", "-q"])
            .current_dir(work.path())
            .timeout(HANG_GUARD)
            .output()
            .expect("capicola runs");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(
            stderr.matches("os error 20").count(),
            1,
            "{args:?}: the OS message is repeated: {stderr}"
        );
    }
}

/// A `key: value` number of a campaign's `stats` file.
fn stat(out: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(out.join("stats")).expect("the stats file is readable");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{key}: ")))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {text}"))
}

#[test]
fn stats_count_every_session_of_a_resumed_campaign() {
    let wasm = tlvconf();
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    let session = |resume: bool| {
        let mut command = capicola();
        command
            .arg("fuzz")
            .arg(&wasm)
            .arg("-o")
            .arg(&out)
            .args(["--runs", "3000", "--seed", "1", "-q"]);
        if resume {
            command.arg("--resume");
        }
        let run = command
            .timeout(HANG_GUARD)
            .output()
            .expect("the campaign runs");
        assert!(run.status.success(), "{run:?}");
        let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        stdout
            .lines()
            .find_map(|line| line.strip_prefix("done: "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no execs in {stdout}"))
    };
    let first = session(false);
    assert_eq!(stat(&out, "execs_done"), first);
    let second = session(true);
    assert_eq!(stat(&out, "execs_done"), first + second);
}
