//! `capicola run` with WASI programs, as a user runs them: arguments after `--`, the guest's exit code as the process's, traps, stdin, `--env`, `--dir` (copied in, changes kept in the sandbox), `--dir-rw` (changes written back), `--dir-ro`, the deterministic mode, and reactors with `--invoke`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola_tests::c_programs::{build_wasi_program, workspace_root};
use capicola_tests::capicola_bin;
use predicates::prelude::*;

fn capicola() -> Command {
    Command::new(capicola_bin())
}

/// Builds `harnesses/wasi/<name>.c` for wasm32-wasi.
fn program(name: &str) -> PathBuf {
    build_wasi_program(&workspace_root().join(format!("harnesses/wasi/{name}.c")))
}

fn run(wasm: &Path) -> Command {
    let mut command = capicola();
    command.arg("run").arg(wasm);
    command
}

/// `HOST::GUEST` for a `--dir` option.
fn mapping(host: &Path, guest: &str) -> String {
    format!("{}::{guest}", host.display())
}

#[test]
fn arguments_follow_the_module_and_the_exit_code_is_the_guest_s() {
    let exit = program("exit");
    run(&exit)
        .args(["--", "exit", "7"])
        .assert()
        .code(7)
        .stdout("before the end\n");
    run(&exit).args(["return", "5"]).assert().code(5);
    run(&exit).assert().success().stdout("");
}

#[test]
fn a_trap_exits_with_134_and_prints_the_message_and_backtrace() {
    run(&program("exit"))
        .args(["--", "trap"])
        .assert()
        .code(134)
        .stdout("before the end\n")
        .stderr(predicate::str::contains("error: trap: unreachable\n"))
        .stderr(
            predicate::str::is_match(r"wasm backtrace:\n  0: func \d+ \(main\) at offset 0x")
                .expect("a valid regex"),
        );
    // Exit statuses of 126 and above are refused with a trap.
    run(&program("exit"))
        .args(["--", "exit", "200"])
        .assert()
        .code(134)
        .stderr(predicate::str::contains("exit status"));
}

#[test]
fn stdin_passes_through() {
    run(&program("input"))
        .write_stdin("first\nsecond\n")
        .assert()
        .success()
        .stdout("bytes 13, lines 2, fnv1a 01496e49, first line \"first\"\n");
}

#[test]
fn env_and_dir_let_the_program_find_and_read_a_host_file() {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    std::fs::write(dir.path().join("in.txt"), "from the host\nline two\n").expect("writable");
    let input = program("input");
    let expected = "bytes 23, lines 2, fnv1a 6433b5bc, first line \"from the host\"\n";
    run(&input)
        .args(["--env", "INPUT_FILE=/data/in.txt", "--dir"])
        .arg(mapping(dir.path(), "/data"))
        .assert()
        .success()
        .stdout(expected);
    // HOST alone: the guest sees the directory under the same path.
    run(&input)
        .arg("--env")
        .arg(format!("INPUT_FILE={}/in.txt", dir.path().display()))
        .arg("--dir")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(expected);
    // Read-only is enough to read.
    run(&input)
        .args(["--env", "INPUT_FILE=/data/in.txt", "--dir-ro"])
        .arg(mapping(dir.path(), "/data"))
        .assert()
        .success()
        .stdout(expected);
    // Without the directory, the file is out of reach.
    run(&input)
        .args(["--env", "INPUT_FILE=/data/in.txt"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/data/in.txt"));
}

/// The names in a host folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the folder can be listed")
        .map(|e| {
            e.expect("entries can be read")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn dir_keeps_changes_in_the_sandbox_and_dir_rw_writes_them_back() {
    let workload = program("workload");
    let sandboxed = tempfile::tempdir().expect("a temporary folder can be made");
    std::fs::write(sandboxed.path().join("f01"), "left alone").expect("writable");
    let printed = run(&workload)
        .arg("--dir")
        .arg(mapping(sandboxed.path(), "/sandbox"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&printed).contains("step 39"));
    assert_eq!(listing(sandboxed.path()), ["f01"]);

    let written = tempfile::tempdir().expect("a temporary folder can be made");
    std::fs::write(written.path().join("f01"), "deleted by the program").expect("writable");
    run(&workload)
        .arg("--dir-rw")
        .arg(mapping(written.path(), "/sandbox"))
        .assert()
        .success();
    let names = listing(written.path());
    assert!(names.contains(&"log.txt".to_string()), "{names:?}");
    assert!(names.contains(&"r39".to_string()), "{names:?}");
    assert!(!names.contains(&"f01".to_string()), "{names:?}");
    let log = std::fs::read_to_string(written.path().join("log.txt")).expect("readable");
    assert_eq!(log.lines().count(), 40);
}

#[test]
fn dir_ro_refuses_changes() {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    run(&program("workload"))
        .arg("--dir-ro")
        .arg(mapping(dir.path(), "/sandbox"))
        .assert()
        .code(1);
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn deterministic_runs_repeat_exactly_and_the_seed_changes_the_random_bytes() {
    let workload = program("workload");
    let output = |seed: &str| {
        let dir = tempfile::tempdir().expect("a temporary folder can be made");
        run(&workload)
            .arg("--dir")
            .arg(mapping(dir.path(), "/sandbox"))
            .args(["--deterministic", "--seed", seed])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let first = output("1");
    assert_eq!(first, output("1"));
    assert_ne!(first, output("2"));
    // The virtual clock starts at 2023-11-14T22:13:20Z.
    assert!(String::from_utf8_lossy(&first).contains("mtime 1700000000"));
}

/// A reactor: `_initialize` prints a line and sets a global that `add` uses.
const REACTOR: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $base (mut i32) (i32.const 0))
  (data (i32.const 16) "initialized\n")
  (func (export "_initialize")
    (global.set $base (i32.const 100))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (global.get $base) (i32.add (local.get 0) (local.get 1)))))
"#;

#[test]
fn a_reactor_is_initialized_before_the_invoked_function() {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let wat = dir.path().join("reactor.wat");
    std::fs::write(&wat, REACTOR).expect("writable");
    run(&wat)
        .args(["--invoke", "add", "1", "-2"])
        .assert()
        .success()
        .stdout("initialized\n99:i32\n");
    run(&wat).assert().success().stdout("initialized\n");
    run(&wat)
        .args(["--invoke", "add", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("takes 2 argument(s)"));
}

#[test]
fn wasi_options_for_a_module_without_wasi_are_an_error() {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let wat = dir.path().join("plain.wat");
    std::fs::write(&wat, r#"(module (func (export "f")))"#).expect("writable");
    run(&wat)
        .args(["--invoke", "f", "--env", "A=1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "does not import `wasi_snapshot_preview1` or `wasi_unstable`",
        ));
    run(&wat)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no function to call was named"));
}

/// A host directory that cannot be copied in is a load error that names it and gives the OS's reason once.
#[test]
fn a_missing_host_directory_is_named_with_the_os_reason_once() {
    let missing = workspace_root().join("no-such-directory");
    let output = run(&program("exit"))
        .arg("--dir")
        .arg(mapping(&missing, "/d"))
        .output()
        .expect("capicola runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-directory"), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}
