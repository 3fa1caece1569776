//! The differential fuzzer's tests: a bounded smoke run of each oracle CI can build finds nothing, an injected bug is found by the wasmi oracle, the guided search's op-level coverage map measures the engine and grows, every saved finding in `corpora/regressions/diff/` replays as fixed, and `capicola diff` runs as a user runs it.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola::diff::{
    CapicolaEngine, Case, CaseOutcome, DiffConfig, DiffEngine, DiffInstance, DiffReport, DiffValue,
    Finding, InstantiateFailure, Limits, MAP_SIZE, Mode, OpCoverage, Oracle, Rng, Source, Verdict,
    WasmiEngine, check_with, features, generate, report_text, run_diff,
};
use capicola_tests::capicola_bin;

/// Cases of each oracle's smoke run.
const SMOKE_CASES: u64 = 300;

/// Seed of the smoke runs.
const SMOKE_SEED: u64 = 0x5eed;

/// Open capicola bugs the oracles find, each with reproducers in `corpora/regressions/diff/open/`: a finding of
/// that oracle whose report contains the text is explained. When a fix lands, `open_bugs_still_reproduce` fails:
/// move the files up to `corpora/regressions/diff/` and drop the entry.
const OPEN_BUGS: &[(Oracle, &str)] = &[];

/// Whether a finding is one of the open bugs.
fn explained(oracle: Oracle, report: &str) -> bool {
    OPEN_BUGS
        .iter()
        .any(|(o, text)| *o == oracle && report.contains(text))
}

/// A campaign of `cases` cases of seed `seed` through `oracles`, on one worker: the same run every time.
fn campaign(oracles: &[Oracle], cases: u64, seed: u64, guided: bool) -> DiffReport {
    let config = DiffConfig {
        oracles: oracles.to_vec(),
        out: None,
        jobs: 1,
        max_total_time: None,
        cases: Some(cases),
        seed,
        source: Source::Both,
        limits: Limits::default(),
        guided,
    };
    run_diff(&config, &|_: &Finding| {}).expect("the oracles CI builds can run")
}

/// Runs `oracle` over the smoke cases of the guided search and fails on any finding, printing each in full.
fn smoke(oracle: Oracle) {
    let report = campaign(&[oracle], SMOKE_CASES, SMOKE_SEED, true);
    let stats = report.stats[&oracle];
    println!("{oracle}: {stats:?}");
    let (known, unexplained): (Vec<String>, Vec<String>) = report
        .findings
        .iter()
        .map(|f| f.report())
        .partition(|r| explained(oracle, r));
    println!("{} finding(s) of open bugs", known.len());
    assert!(
        unexplained.is_empty(),
        "{} unexplained finding(s) of the {oracle} oracle:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    // Not vacuous: most cases were compared to the end.
    assert_eq!(stats.cases, SMOKE_CASES);
    assert!(stats.agreed >= SMOKE_CASES / 2, "{stats:?}");
}

#[test]
fn wasmi_oracle_smoke_run_finds_nothing() {
    smoke(Oracle::Wasmi);
}

#[test]
fn snapshot_oracle_smoke_run_finds_nothing() {
    smoke(Oracle::Snapshot);
}

#[test]
fn reset_oracle_smoke_run_finds_nothing() {
    smoke(Oracle::Reset);
}

/// capicola with an injected bug: `i32.rem_s` of `i32::MIN` by `-1` traps with "integer overflow" (as `div_s`
/// does) instead of returning 0.
///
/// The bug is injected into the module the engine runs, not into the engine: every `i32.rem_s` becomes
/// `local.set $b; local.tee $a; local.get $b; i32.div_s; drop; local.get $a; local.get $b; i32.rem_s` with two
/// fresh locals, which differs from `i32.rem_s` exactly on `MIN % -1`. The engine under test is thus capicola
/// computing a wrong `rem_s`, while the engine itself stays untouched: a cfg or cargo feature in `engine/` would
/// have to be built in a second configuration (RUSTFLAGS rebuild every dependency; a feature enabled by a test
/// would be unified into the CLI the other tests run).
struct RemSBug(CapicolaEngine);

impl DiffEngine for RemSBug {
    fn name(&self) -> &'static str {
        "capicola with the i32.rem_s bug"
    }

    fn instantiate(&mut self, wasm: &[u8]) -> Result<Box<dyn DiffInstance>, InstantiateFailure> {
        let buggy = rem_s_bug::inject(wasm).unwrap_or_else(|| wasm.to_vec());
        self.0.instantiate(&buggy)
    }
}

mod rem_s_bug {
    use std::convert::Infallible;

    use wasm_encoder::reencode::{Error, Reencode, RoundtripReencoder};
    use wasm_encoder::{CodeSection, Function, Instruction, ValType};
    use wasmparser::{FunctionBody, Operator, Parser, Payload};

    /// Rewrites every `i32.rem_s`; `None` when the module does not parse.
    pub fn inject(wasm: &[u8]) -> Option<Vec<u8>> {
        let mut type_params = Vec::new();
        let mut func_params = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.ok()? {
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        type_params.push(ty.ok()?.params().len() as u32);
                    }
                }
                Payload::FunctionSection(reader) => {
                    for index in reader {
                        func_params.push(*type_params.get(index.ok()? as usize)?);
                    }
                }
                _ => {}
            }
        }
        let mut rewriter = Rewriter {
            func_params,
            next: 0,
        };
        let mut module = wasm_encoder::Module::new();
        rewriter
            .parse_core_module(&mut module, Parser::new(0), wasm)
            .ok()?;
        Some(module.finish())
    }

    struct Rewriter {
        /// Parameter count of each defined function.
        func_params: Vec<u32>,
        next: usize,
    }

    impl Reencode for Rewriter {
        type Error = Infallible;

        fn parse_function_body(
            &mut self,
            code: &mut CodeSection,
            func: FunctionBody<'_>,
        ) -> Result<(), Error<Infallible>> {
            let mut count = self.func_params.get(self.next).copied().unwrap_or(0);
            self.next += 1;
            let mut locals = Vec::new();
            for pair in func.get_locals_reader()? {
                let (n, ty) = pair?;
                locals.push((n, RoundtripReencoder.val_type(ty)?));
                count += n;
            }
            locals.push((2, ValType::I32));
            let (a, b) = (count, count + 1);
            let mut f = Function::new(locals);
            let mut reader = func.get_operators_reader()?;
            while !reader.eof() {
                match reader.read()? {
                    Operator::I32RemS => {
                        for i in [
                            Instruction::LocalSet(b),
                            Instruction::LocalTee(a),
                            Instruction::LocalGet(b),
                            Instruction::I32DivS,
                            Instruction::Drop,
                            Instruction::LocalGet(a),
                            Instruction::LocalGet(b),
                            Instruction::I32RemS,
                        ] {
                            f.instruction(&i);
                        }
                    }
                    op => {
                        f.instruction(&self.instruction(op)?);
                    }
                }
            }
            code.function(&f);
            Ok(())
        }
    }
}

/// The injection works: on a module that computes `MIN % -1`, the buggy engine traps where wasmi returns 0.
#[test]
fn injected_rem_s_bug_shows_on_min_rem_minus_one() {
    let wasm = wat::parse_str(
        r#"(module (func (export "rem") (param i32 i32) (result i32)
                     (local i64)
                     (i32.rem_s (local.get 0) (local.get 1))))"#,
    )
    .expect("the module assembles");
    let call = |a, b| capicola::diff::Call {
        export: "rem".into(),
        args: vec![DiffValue::I32(a), DiffValue::I32(b)],
    };
    let case = Case {
        wasm,
        calls: vec![call(7, -2), call(i32::MIN, -1)],
        origin: "test".into(),
        seed: 0,
    };
    let limits = Limits::default();
    let outcome = check_with(
        &case,
        &mut RemSBug(CapicolaEngine::new(Mode::Straight, limits)),
        &mut WasmiEngine::new(limits),
    );
    let CaseOutcome::Verdict(Verdict::Mismatch(differences)) = &outcome else {
        panic!("{outcome:?}");
    };
    let shown = differences[0].to_string();
    assert!(
        shown.contains("call #1") && shown.contains("integer overflow"),
        "{shown}"
    );
}

/// Most cases the wasmi oracle may need to find the injected bug.
const BUG_BOUND: u64 = 2_000;

#[test]
fn wasmi_oracle_finds_an_injected_rem_s_bug() {
    // Generating and mutating modules recurses deeply: on a thread with a fuzzing worker's stack.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(find_injected_rem_s_bug)
        .expect("a thread can be started")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

fn find_injected_rem_s_bug() {
    let limits = Limits::default();
    let mut buggy = RemSBug(CapicolaEngine::new(Mode::Straight, limits));
    let mut wasmi = WasmiEngine::new(limits);
    let found = (0..BUG_BOUND).find_map(|index| {
        let case = generate(Source::Both, &mut Rng::for_case(SMOKE_SEED, index), true);
        match check_with(&case, &mut buggy, &mut wasmi) {
            CaseOutcome::Verdict(Verdict::Mismatch(differences)) => {
                Some((index, case, differences))
            }
            _ => None,
        }
    });
    let Some((index, case, differences)) = found else {
        panic!("the wasmi oracle missed the injected bug in {BUG_BOUND} cases");
    };
    println!(
        "found in case {index}:\n{}",
        report_text(
            Oracle::Wasmi,
            &case,
            &CaseOutcome::Verdict(Verdict::Mismatch(differences.clone()))
        )
    );
    // It is the injected bug: a call trapped with "integer overflow" where wasmi returned...
    let shown = differences
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(shown.contains("integer overflow"), "{shown}");
    // ...and without the bug, capicola agrees with wasmi on that case.
    let straight = Oracle::Wasmi
        .check(&case, limits)
        .expect("the wasmi oracle is built");
    assert!(!straight.is_finding(), "{straight:?}");
}

/// Every file of the diff regression corpus, in name order: `.wasm` cases as `capicola diff` saves them, and
/// hand-reduced `.wat` modules (every export called with zeros).
fn regressions(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpora/regressions/diff")
        .join(folder);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    files.retain(|p| {
        p.extension()
            .is_some_and(|ext| ext == "wasm" || ext == "wat")
    });
    files.sort();
    files
}

fn load(path: &Path) -> Case {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let binary =
        wat::parse_bytes(&bytes).unwrap_or_else(|e| panic!("assembling {}: {e}", path.display()));
    Case::from_file(&binary).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every mismatch found so far was explained and fixed (in capicola or in the oracle): each case now passes
/// every oracle CI builds.
#[test]
fn diff_regressions_replay_without_findings() {
    let files = regressions("");
    println!("{} regression cases", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let case = load(path);
        for oracle in Oracle::DEFAULT {
            let outcome = oracle
                .check(&case, Limits::default())
                .expect("the oracles CI builds can run");
            if outcome.is_finding() {
                failures.push(format!(
                    "{}:\n{}",
                    path.display(),
                    report_text(oracle, &case, &outcome)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each reproducer of an open bug still shows it, and nothing else.
#[test]
fn open_bugs_still_reproduce() {
    for path in regressions("open") {
        let case = load(&path);
        let mut shown = false;
        for oracle in Oracle::DEFAULT {
            let outcome = oracle
                .check(&case, Limits::default())
                .expect("the oracles CI builds can run");
            let report = report_text(oracle, &case, &outcome);
            if outcome.is_finding() {
                assert!(
                    explained(oracle, &report),
                    "{}: an unexplained finding:\n{report}",
                    path.display()
                );
                shown = true;
            }
        }
        assert!(
            shown,
            "{} no longer shows its bug: move it up to corpora/regressions/diff/ and drop its OPEN_BUGS entry",
            path.display()
        );
    }
}

/// A case of one module whose exports are called with zeros.
fn zero_case(wat: &str) -> Case {
    let wasm = wat::parse_str(wat).expect("the module assembles");
    Case::from_file(&wasm).expect("a plain module is a case")
}

/// The map measures what the engine ran: a module that loops over memory with arithmetic and traps reaches more
/// features than one that returns a constant, the same case always gives the same map, and a trap has its entry.
#[test]
fn op_coverage_measures_what_the_engine_ran() {
    let small = zero_case(r#"(module (func (export "f") (result i32) (i32.const 1)))"#);
    let busy = zero_case(
        r#"(module (memory 1)
             (func (export "f") (param i32) (result i32) (local i32)
               (loop $l
                 (i32.store (local.get 1) (i32.rem_s (local.get 1) (i32.const 7)))
                 (local.set 1 (i32.add (local.get 1) (i32.const 4)))
                 (br_if $l (i32.lt_u (local.get 1) (i32.const 64))))
               (i32.load (local.get 1)))
             (func (export "trap") (unreachable)))"#,
    );
    let mut coverage = OpCoverage::new(Limits::default());
    let mut map = vec![0; MAP_SIZE];
    coverage.observe(&small, &mut map);
    let small_features = features(&map);
    coverage.observe(&busy, &mut map);
    let busy_map = map.clone();
    let busy_features = features(&map);
    println!("features: constant {small_features}, loop {busy_features}");
    assert!(small_features > 0);
    assert!(busy_features > small_features + 10, "{busy_features}");
    // The loop ran 16 times: some entry counted more than once.
    assert!(busy_map.iter().any(|&n| n >= 16));
    coverage.observe(&busy, &mut map);
    assert_eq!(map, busy_map, "the same case gives the same map");
}

/// The guided search's map grows with the cases it runs and its queue keeps inputs, and a seeded run on one
/// worker is the same run every time.
#[test]
fn guided_search_reaches_more_engine_features_as_it_runs() {
    let report = campaign(&[Oracle::Reset], 200, 3, true);
    println!(
        "{} features after {} cases ({} kept); growth {:?}",
        report.features, report.cases, report.corpus, report.growth
    );
    assert_eq!(report.cases, 200);
    assert!(
        report.corpus > 1,
        "the search kept inputs: {}",
        report.corpus
    );
    assert!(report.features > 200, "{}", report.features);
    let features: Vec<usize> = report.growth.iter().map(|&(_, f, _)| f).collect();
    assert!(features.windows(2).all(|w| w[0] <= w[1]), "{features:?}");
    assert!(
        features[features.len() - 1] > 2 * features[0],
        "{features:?}"
    );
    let again = campaign(&[Oracle::Reset], 200, 3, true);
    assert_eq!(again.growth, report.growth);
    assert_eq!(again.corpus, report.corpus);
}

/// A seeded guided run on one worker is the same run in another process (no hash-map order or clock in it).
#[test]
fn cli_guided_run_repeats_in_another_process() {
    let run = || {
        let out = tempfile::tempdir().expect("a temporary folder can be made");
        let output = capicola()
            .args([
                "diff",
                "--against",
                "reset",
                "--cases",
                "300",
                "--seed",
                "9",
                "-o",
            ])
            .arg(out.path())
            .output()
            .expect("capicola runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{stdout}");
        stdout
            .lines()
            .filter(|l| l.starts_with("engine features") || l.starts_with("cases:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = run();
    assert!(first.contains("guided"), "{first}");
    assert_eq!(first, run());
}

#[test]
fn saved_cases_read_back_the_same() {
    for index in 0..20 {
        let case = generate(Source::Both, &mut Rng::for_case(1, index), true);
        let back = Case::from_file(&case.to_file()).expect("a saved case reads back");
        assert_eq!(back, case, "case {index}");
    }
}

fn capicola() -> Command {
    Command::new(capicola_bin())
}

#[test]
fn a_running_diff_prints_its_progress_and_quiet_silences_it() {
    let out = tempfile::tempdir().expect("a temporary folder can be made");
    let run = |quiet: bool| {
        let mut command = capicola();
        command
            .args(["diff", "--max-total-time", "3", "--seed", "5", "-o"])
            .arg(out.path());
        if quiet {
            command.arg("-q");
        }
        let output = command.output().expect("capicola runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // Not a terminal: a status line at the first second, then every 5 seconds.
    let stderr = run(false);
    let line = stderr
        .lines()
        .find(|line| line.starts_with('['))
        .unwrap_or_else(|| panic!("no status line in: {stderr}"));
    for part in ["] cases ", "/s) | features ", " | kept ", " | findings "] {
        assert!(line.contains(part), "{line}");
    }
    let stderr = run(true);
    assert!(
        !stderr.lines().any(|line| line.starts_with('[')),
        "{stderr}"
    );
}

#[test]
fn cli_runs_a_bounded_campaign_and_reproduces_a_case() {
    let out = tempfile::tempdir().expect("a temporary folder can be made");
    let output = capicola()
        .args(["diff", "--cases", "20", "--seed", "3", "-j", "2", "-o"])
        .arg(out.path())
        .output()
        .expect("capicola runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("20 cases in"), "{stdout}");
    assert!(stdout.contains("engine features reached"), "{stdout}");
    for oracle in ["wasmi", "snapshot", "reset"] {
        assert!(stdout.contains(oracle), "{stdout}");
    }

    // A plain module (no saved calls) is reproduced with every export called on zeros.
    let module = out.path().join("plain.wasm");
    let wasm = wat::parse_str(
        r#"(module (memory (export "m") 1)
             (func (export "store") (param i32) (i32.store (local.get 0) (i32.const 7))))"#,
    )
    .expect("the module assembles");
    fs::write(&module, wasm).expect("the module can be written");
    let output = capicola()
        .args(["diff", "--reproduce"])
        .arg(&module)
        .output()
        .expect("capicola runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("verdict: the engines agree"), "{stdout}");
    assert!(stdout.contains("#0 store(0:i32)"), "{stdout}");

    // wasmtime is not built in by default, and says so.
    capicola()
        .args(["diff", "--against", "wasmtime", "--cases", "1", "-o"])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--features wasmtime"));
}

/// `--max-memory` bounds every memory of a case in every engine compared: a 32 MiB `memory.grow` fails in both
/// under the default 16 MiB, and succeeds in both (then spends the call's fuel zeroing it) under 64 MiB.
#[test]
fn memory_limits_reach_every_engine_compared() {
    let work = tempfile::tempdir().expect("temporary folder");
    let module = work.path().join("grow.wat");
    fs::write(
        &module,
        r#"(module (memory 1) (func (export "grow") (result i32) (memory.grow (i32.const 512))))"#,
    )
    .expect("module written");
    let reproduce = |extra: &[&str]| {
        let output = capicola()
            .arg("diff")
            .arg("--reproduce")
            .arg(&module)
            .args(["--against", "wasmi"])
            .args(extra)
            .output()
            .expect("capicola runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let default = reproduce(&[]);
    assert!(default.contains("the engines agree"), "{default}");
    let wider = reproduce(&["--max-memory", "64M"]);
    assert!(
        wider.contains("test ran out of fuel, reference ran out of fuel"),
        "{wider}"
    );
    let bad = capicola()
        .arg("diff")
        .args(["--reproduce", "x.wat", "--max-memory", "64Q"])
        .output()
        .expect("capicola runs");
    assert_eq!(bad.status.code(), Some(2));
}
