//! The `capicola` command line, run as a user runs it: results, traps, bad input, fuel, the spec-script runner, and lost output streams.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola_tests::capicola_bin;
use predicates::prelude::*;
use tempfile::TempDir;

/// A module with a little of everything the CLI prints.
const PROGRAM: &str = r#"
(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (func $answer (export "answer") (result i32)
    (call $print (i32.const 7))
    (i32.const 42))
  (func $div (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $outer (export "outer") (param i32) (result i32)
    (call $div (i32.const 1) (local.get 0)))
  (func (export "echo") (param i64 f64 f32 v128) (result i64 f64 f32 v128)
    (local.get 0) (local.get 1) (local.get 2) (local.get 3))
  (func (export "refs") (result funcref externref)
    (ref.func $answer) (ref.null extern))
  (func (export "spin") (loop $l (br $l)))
)
"#;

fn capicola() -> Command {
    Command::new(capicola_bin())
}

/// Writes `contents` to `name` in a fresh temporary folder.
fn file(name: &str, contents: impl AsRef<[u8]>) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("the temporary file can be written");
    (dir, path)
}

fn run(path: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    capicola().arg("run").arg(path).args(args).assert()
}

#[test]
fn run_prints_each_result_with_its_type() {
    let (_dir, wat) = file("program.wat", PROGRAM);
    run(&wat, &["--invoke", "answer"])
        .success()
        .stdout("42:i32\n");
    run(
        &wat,
        &[
            "--invoke",
            "echo",
            "-1",
            "-1.5",
            "nan:0x200000",
            "0x000102030405060708090a0b0c0d0e0f",
        ],
    )
    .success()
    .stdout("-1:i64\n-1.5:f64\nnan:0x200000:f32\n0x000102030405060708090a0b0c0d0e0f:v128\n");
    run(&wat, &["--invoke", "refs"]).success().stdout(
        predicate::str::is_match(r"^func:\d+:funcref\nnull:externref\n$").expect("a valid regex"),
    );
}

#[test]
fn run_accepts_binary_modules() {
    let binary = wat::parse_str(PROGRAM).expect("the test program is valid text");
    let (_dir, wasm) = file("program.wasm", binary);
    run(&wasm, &["--invoke", "div", "-7", "2"])
        .success()
        .stdout("-3:i32\n");
}

#[test]
fn a_trap_exits_with_1_and_prints_message_and_backtrace() {
    let (_dir, wat) = file("program.wat", PROGRAM);
    run(&wat, &["--invoke", "outer", "0"])
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "error: trap: integer divide by zero",
        ))
        .stderr(
            predicate::str::is_match(r"0: func 2 \(div\) at offset 0x[0-9a-f]+\n")
                .expect("a valid regex"),
        )
        .stderr(
            predicate::str::is_match(r"1: func 3 \(outer\) at offset 0x[0-9a-f]+\n")
                .expect("a valid regex"),
        );
}

#[test]
fn traps_while_instantiating_are_traps_too() {
    let (_dir, segment) = file(
        "segment.wat",
        r#"(module (memory 1) (data (i32.const 65536) "x") (func (export "f")))"#,
    );
    run(&segment, &["--invoke", "f"])
        .code(1)
        .stderr(predicate::str::contains(
            "error: trap: out of bounds memory access",
        ));
    let (_dir, start) = file(
        "start.wat",
        r#"(module (func $boom unreachable) (start $boom) (func (export "f")))"#,
    );
    run(&start, &["--invoke", "f"])
        .code(1)
        .stderr(predicate::str::contains("error: trap: unreachable"))
        .stderr(predicate::str::contains("0: func 0 (boom)"));
}

#[test]
fn running_out_of_fuel_exits_with_3_and_says_where() {
    let (_dir, wat) = file("program.wat", PROGRAM);
    run(&wat, &["--invoke", "spin", "--fuel", "1000"])
        .code(3)
        .stderr(
            predicate::str::is_match(r"out of fuel after 1000 units at func 6 offset 0x[0-9a-f]+")
                .expect("a valid regex"),
        );
    run(&wat, &["--invoke", "answer", "--fuel", "1000"])
        .success()
        .stdout("42:i32\n");
}

#[test]
fn garbage_bytes_give_a_clear_error_naming_the_file() {
    let garbage: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (_dir, path) = file("garbage.wasm", garbage);
    run(&path, &["--invoke", "main"])
        .code(2)
        .stderr(predicate::str::contains("error: cannot load"))
        .stderr(predicate::str::contains("garbage.wasm"))
        .stderr(predicate::str::contains("panicked").not());

    let (_dir, path) = file("truncated.wasm", b"\0asm\x01\0\0\0\x01");
    run(&path, &["--invoke", "main"])
        .code(2)
        .stderr(predicate::str::contains("truncated.wasm"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn calling_mistakes_are_load_errors() {
    let (_dir, wat) = file("program.wat", PROGRAM);
    run(&wat, &["--invoke", "nope"])
        .code(2)
        .stderr(predicate::str::contains(
            "no exported function named `nope`",
        ))
        .stderr(predicate::str::contains("answer, div"));
    run(&wat, &["--invoke", "div", "1"])
        .code(2)
        .stderr(predicate::str::contains(
            "takes 2 argument(s) (i32 i32), 1 given",
        ));
    run(&wat, &["--invoke", "div", "1", "x"])
        .code(2)
        .stderr(predicate::str::contains(
            "argument 2: `x` is not a valid i32",
        ));

    let (_dir, imports) = file(
        "imports.wat",
        r#"(module (import "env" "f" (func)) (import "spectest" "memory" (memory 1)))"#,
    );
    run(&imports, &["--invoke", "f"])
        .code(2)
        .stderr(predicate::str::contains("unknown imports"))
        .stderr(predicate::str::contains("env.f (function)"))
        .stderr(predicate::str::contains("spectest.memory").not());

    run(Path::new("does-not-exist.wasm"), &["--invoke", "f"])
        .code(2)
        .stderr(predicate::str::contains("cannot read does-not-exist.wasm"));
}

/// A script with two passing assertions, one failing, one unsupported and one of each module form.
const SCRIPT: &str = r#"
(module $M
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (global (export "g") i32 (i32.const 5)))
(register "m" $M)
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke $M "nan") (f32.const nan:canonical))
(assert_return (get "g") (i32.const 6))
(assert_trap (invoke "add" (i32.const 1)) "type mismatch")
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_malformed (module quote "(func (i32.const))") "unexpected token")
(module (import "m" "g" (global i32)))
(assert_unlinkable (module (import "m" "missing" (func))) "unknown import")
(assert_exception (invoke "add" (i32.const 1) (i32.const 2)))
"#;

#[test]
fn wast_json_counts_every_directive() {
    let (_dir, path) = file("script.wast", SCRIPT);
    let output = capicola()
        .args(["wast", "--json"])
        .arg(&path)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).expect("the JSON is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object per file: {text}");
    let report: serde_json::Value = serde_json::from_str(lines[0]).expect("the line is JSON");

    assert_eq!(report["file"], path.display().to_string());
    assert_eq!(report["passed"], 8, "{report:#}");
    assert_eq!(report["failed"], 2, "{report:#}");
    assert_eq!(report["unsupported"], 1, "{report:#}");
    let kind = |name: &str| &report["by_kind"][name];
    assert_eq!(kind("module")["passed"], 2);
    assert_eq!(kind("register")["passed"], 1);
    assert_eq!(kind("assert_return")["passed"], 2);
    assert_eq!(kind("assert_return")["failed"], 1);
    assert_eq!(kind("assert_trap")["failed"], 1);
    assert_eq!(kind("assert_invalid")["passed"], 1);
    assert_eq!(kind("assert_malformed")["passed"], 1);
    assert_eq!(kind("assert_unlinkable")["passed"], 1);
    assert_eq!(kind("assert_exception")["unsupported"], 1);

    let failures = report["failures"].as_array().expect("failures is a list");
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0]["line"], 9);
    assert_eq!(failures[0]["kind"], "assert_return");
    assert_eq!(failures[0]["message"], "expected 6:i32, got 5:i32");
    assert_eq!(failures[1]["line"], 10);
}

#[test]
fn wast_text_output_lists_failures_and_a_summary() {
    let (_dir, path) = file("script.wast", SCRIPT);
    let name = path.display().to_string();
    capicola()
        .arg("wast")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "{name}:9: assert_return: expected 6:i32, got 5:i32\n"
        )))
        .stdout(predicate::str::contains(format!(
            "{name}: 8 passed, 2 failed, 1 unsupported (11 directives)\n"
        )));
}

#[test]
fn wast_passes_when_nothing_fails_and_counts_an_unparsable_file_as_one_failure() {
    let (_dir, good) = file(
        "good.wast",
        "(module (func (export \"f\") (result i64) (i64.const -1)))\n(assert_return (invoke \"f\") (i64.const -1))\n",
    );
    capicola()
        .arg("wast")
        .arg(&good)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 passed, 0 failed, 0 unsupported",
        ));

    let (_dir, bad) = file("bad.wast", "(module (func)\n(assert_return");
    capicola()
        .args(["wast", "--json"])
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            r#""passed":0,"failed":1,"unsupported":0"#,
        ))
        .stdout(predicate::str::contains(r#""kind":"parse""#));
}

#[test]
fn wast_wasm2_validates_as_exactly_wasm_2() {
    let (_dir, path) = file(
        "memories.wast",
        "(assert_invalid (module (memory 1) (memory 1)) \"multiple memories\")\n",
    );
    capicola()
        .args(["wast", "--wasm2"])
        .arg(&path)
        .assert()
        .success();
    capicola()
        .arg("wast")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("the module was accepted"));
}

/// Shell lines running `CMD` with standard streams that lose what is printed — a closed stdout (`>&-`), a pipe
/// whose reader is gone (`| true`), a full device, a closed stderr — and telling its exit status on fd 3.
const LOST_OUTPUT: [&str; 3] = [
    r#"CMD >&- 2>/dev/full; echo "exit $?" >&3"#,
    r#"{ CMD 2>/dev/full; echo "exit $?" >&3; } | true"#,
    r#"{ CMD 2>&-; echo "exit $?" >&3; } | true"#,
];

/// Quotes `word` for `sh`.
fn sh_word(word: impl AsRef<std::ffi::OsStr>) -> String {
    format!(
        "'{}'",
        word.as_ref().to_string_lossy().replace('\'', r"'\''")
    )
}

#[test]
fn lost_stdout_or_stderr_never_makes_a_command_panic() {
    let (dir, wat) = file("program.wat", PROGRAM);
    let snap = dir.path().join("paused.snap");
    let out = dir.path().join("fuzz-out");
    let harness = dir.path().join("harness.wat");
    std::fs::write(
        &harness,
        r#"(module (memory (export "memory") 1)
             (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32) unreachable))"#,
    )
    .expect("the harness is written");
    let input = dir.path().join("input");
    std::fs::write(&input, "x").expect("the input is written");
    let (wat, snap, out, harness, input) = (
        sh_word(&wat),
        sh_word(&snap),
        sh_word(&out),
        sh_word(&harness),
        sh_word(&input),
    );
    let commands = [
        format!("run {wat} --invoke answer"),
        format!("run {wat} --invoke div 1 0"),
        format!("run {wat} --invoke spin --fuel 1000 --save-snapshot {snap}"),
        format!("snapshot info {snap}"),
        format!("resume {snap} --module {wat} --fuel 10"),
        format!("wast {wat}"),
        "--help".to_string(),
        "no-such-command".to_string(),
        format!("replay {harness} {input}"),
        format!("tmin {harness} {input}"),
        format!("fuzz {harness} -o {out} --runs 20 --no-tui"),
        format!("fuzz {harness} -o {out} --resume --max-total-time 2 -j 2 --no-tui"),
    ];
    let bin = sh_word(capicola_bin());
    for command in &commands {
        for template in LOST_OUTPUT {
            let line = template.replace("CMD", &format!("{bin} {command} </dev/null"));
            let ran = Command::new("sh")
                .arg("-c")
                .arg(format!("exec 3>&1; {line}"))
                .timeout(std::time::Duration::from_secs(120))
                .output()
                .expect("sh runs");
            let shown = String::from_utf8_lossy(&ran.stdout);
            let code = shown
                .lines()
                .find_map(|l| l.strip_prefix("exit "))
                .unwrap_or_else(|| panic!("`{line}` told no status: {ran:?}"));
            assert!(
                // 101 is a panic, 129..=192 a signal (134 an abort); 200 is a saved pause.
                code.parse::<u8>()
                    .is_ok_and(|c| c != 101 && !(129..=192).contains(&c)),
                "`{line}` panicked, aborted or died of a signal: exit {code}"
            );
        }
    }
}
