//! WASI preview 0 (`wasi_unstable`) as a user meets it: a C program of the project's whose calls all go to
//! `wasi_unstable` and check the layouts preview 0 lays out differently (run; paused and resumed in another
//! process at many points; its files written back), and a public preview-0 program with known output —
//! `cowsay.wasm`, a Rust program of 2019 shipped in the npm package `wasi` 0.0.6, fetched from the npm registry at
//! test time — run with arguments and with stdin, paused and resumed, fuzzed with its input on stdin, and
//! stepped in the debugger.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use capicola_tests::c_programs::{build_freestanding_program, workspace_root};
use capicola_tests::capicola_bin;
use predicates::prelude::*;

/// The exit code of a run paused with its fuel spent.
const PAUSED: i32 = 200;

fn capicola() -> Command {
    Command::new(capicola_bin())
}

fn preview0_c() -> PathBuf {
    build_freestanding_program(&workspace_root().join("harnesses/wasi-preview0/preview0.c"))
}

/// The npm registry's tarball of `wasi` 0.0.6 and its SHA-256.
const COWSAY_PACKAGE: &str = "https://registry.npmjs.org/wasi/-/wasi-0.0.6.tgz";
const COWSAY_PACKAGE_SHA256: &str =
    "24e2358198c4c43b91eac93649c273d269f9d4d84a067a9209f8f685b18b1418";

/// `cowsay.wasm` from the npm package, downloaded once into the target folder and checked against its hash.
fn cowsay() -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = workspace_root().join("target/public-programs/npm-wasi-0.0.6");
    let wasm = dir.join("package/example/cowsay.wasm");
    if wasm.exists() {
        return wasm;
    }
    std::fs::create_dir_all(&dir).expect("a folder in target/ can be made");
    let tarball = dir.join("wasi-0.0.6.tgz");
    let fetched = StdCommand::new("curl")
        .args(["-sSfL", "--retry", "3", "-o"])
        .arg(&tarball)
        .arg(COWSAY_PACKAGE)
        .status()
        .expect("curl runs (bash .ci/setup installs it)");
    assert!(
        fetched.success(),
        "cannot download {COWSAY_PACKAGE} from the npm registry"
    );
    let hash = StdCommand::new("sha256sum")
        .arg(&tarball)
        .output()
        .expect("sha256sum runs");
    let hash = String::from_utf8_lossy(&hash.stdout);
    assert!(
        hash.starts_with(COWSAY_PACKAGE_SHA256),
        "{COWSAY_PACKAGE} is not the package this test knows: sha256 {hash}"
    );
    let unpacked = StdCommand::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&dir)
        .arg("package/example/cowsay.wasm")
        .status()
        .expect("tar runs");
    assert!(unpacked.success(), "cannot unpack {}", tarball.display());
    wasm
}

/// What `cowsay.rs` (beside the module in the package) prints for one line of text.
fn cow(line: &str) -> String {
    let bar = |c: &str| c.repeat(line.len() + 1);
    format!(
        " {}\n<{line} >\n {}\n        \\   ^__^\n         \\  (oo)\\_______\n            (__)\\       )\\/\\\n                ||----w |\n                ||     ||\n",
        bar("_"),
        bar("-")
    )
}

fn stdout_of(command: &mut Command, code: i32) -> String {
    let output = command.assert().code(code).get_output().clone();
    String::from_utf8(output.stdout).expect("the output is UTF-8")
}

/// Runs `module` with `args`, then again paused after `fuel` units and resumed in another process (paused again
/// and resumed until it ends), and checks both print the same; returns how many pauses the split run made.
fn split_run(module: &Path, run_args: &[&str], fuel: u64, expected: &str) -> usize {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut printed = String::new();
    let mut pauses = 0;
    let mut snapshot = dir.path().join("0.snap");
    let mut command = capicola();
    command
        .arg("run")
        .arg(module)
        .args(["--fuel", &fuel.to_string(), "--save-snapshot"])
        .arg(&snapshot)
        .args(run_args);
    loop {
        let output = command.output().expect("capicola runs");
        printed += &String::from_utf8_lossy(&output.stdout);
        match output.status.code() {
            Some(PAUSED) => {
                pauses += 1;
                assert!(pauses < 1000, "no progress");
                let next = dir.path().join(format!("{pauses}.snap"));
                command = capicola();
                command
                    .arg("resume")
                    .arg(&snapshot)
                    .arg("--module")
                    .arg(module)
                    .args(["--fuel", &fuel.to_string(), "--save-snapshot"])
                    .arg(&next);
                snapshot = next;
            }
            Some(0) => break,
            other => panic!(
                "exit {other:?} after {pauses} pauses: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }
    assert_eq!(printed, expected, "split every {fuel} units");
    pauses
}

#[test]
fn a_c_program_calling_wasi_unstable_passes_its_checks_and_writes_back() {
    let wasm = preview0_c();
    let host = tempfile::tempdir().expect("a temporary folder");
    let mapping = format!("{}::/sandbox", host.path().display());
    let printed = stdout_of(
        capicola()
            .arg("run")
            .arg("--dir-rw")
            .arg(&mapping)
            .arg(&wasm)
            .args(["--", "one", "two"]),
        0,
    );
    let checks = printed
        .lines()
        .find_map(|l| l.strip_prefix("preview0: "))
        .unwrap_or_else(|| panic!("no summary in {printed:?}"));
    assert!(checks.ends_with("checks passed"), "{printed}");
    assert!(printed.starts_with("args: one two\n"), "{printed}");
    let written = std::fs::read_to_string(host.path().join("p0.txt")).expect("p0.txt written back");
    assert_eq!(written, "preview zero\n");
    let linked =
        std::fs::read_to_string(host.path().join("p0-link.txt")).expect("the link written back");
    assert_eq!(linked, written);
}

#[test]
fn a_preview0_program_paused_anywhere_resumes_in_another_process() {
    let wasm = preview0_c();
    let host = tempfile::tempdir().expect("a temporary folder");
    let mapping = format!("{}::/sandbox", host.path().display());
    let args = ["--dir", mapping.as_str(), "--deterministic", "--", "x"];
    let mut whole = capicola();
    whole.arg("run").arg(&wasm).args(args);
    let expected = stdout_of(&mut whole, 0);
    let mut paused = 0;
    for fuel in [7, 40, 150, 600] {
        paused += split_run(&wasm, &args, fuel, &expected);
    }
    assert!(
        paused > 4,
        "the budgets paused the program only {paused} times"
    );
}

#[test]
fn a_public_preview0_program_prints_what_its_source_says() {
    let wasm = cowsay();
    let printed = stdout_of(
        capicola()
            .arg("run")
            .arg(&wasm)
            .args(["--", "hello", "preview", "zero"]),
        0,
    );
    assert_eq!(printed, cow(" hello preview zero"));
    let printed = stdout_of(
        capicola()
            .arg("run")
            .arg(&wasm)
            .write_stdin("moo from stdin\n"),
        0,
    );
    assert_eq!(printed, cow(" moo from stdin"));
    let pauses = split_run(&wasm, &["--", "paused", "cow"], 3_000, &cow(" paused cow"));
    assert!(pauses > 2, "paused only {pauses} times");
}

#[test]
fn a_public_preview0_program_is_fuzzed_on_stdin_and_debugged() {
    let wasm = cowsay();
    let work = tempfile::tempdir().expect("a temporary folder");
    let seeds = work.path().join("seeds");
    std::fs::create_dir(&seeds).expect("a seed folder");
    std::fs::write(seeds.join("moo"), "moo").expect("a seed");
    let out = work.path().join("out");
    capicola_tests::fuzz_command(&wasm, &out, &seeds)
        .args(["--runs", "300", "--seed", "1", "-q"])
        .output()
        .map(|output| {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{stderr}");
            assert!(stderr.contains("WASI program, input on stdin"), "{stderr}");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(stdout.contains("crashes:     0"), "{stdout}");
        })
        .expect("capicola runs");
    let input = work.path().join("input");
    std::fs::write(&input, "debugged cow").expect("an input");
    let script = work.path().join("script");
    std::fs::write(&script, "continue\n").expect("a script");
    capicola()
        .arg("debug")
        .arg(&wasm)
        .arg("--input")
        .arg(&input)
        .arg("--batch")
        .arg(&script)
        .assert()
        .success()
        .stdout(predicate::str::contains("end: the input's run returned"));
}
