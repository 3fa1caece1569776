//! Helpers shared by the integration tests: locating the `capicola` binary, building the C test programs.

pub mod c_programs;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of the `capicola` binary, built first if needed.
///
/// `capicola fuzz TARGET -o OUT -i SEEDS`, for the caller to add flags to.
pub fn fuzz_command(target: &Path, out: &Path, seeds: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(capicola_bin());
    command
        .arg("fuzz")
        .arg(target)
        .arg("-o")
        .arg(out)
        .arg("-i")
        .arg(seeds);
    command
}

/// Cargo builds only the library of a dependency, so this runs `cargo build` for the
/// binary once per test process, in the profile the tests were built with, and finds
/// it beside the test executable's `deps/` folder.
pub fn capicola_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let test_exe = std::env::current_exe().expect("the test knows its own path");
        let profile_dir = test_exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("test executables live in <target>/<profile>/deps")
            .to_path_buf();
        let profile = profile_dir
            .file_name()
            .and_then(|name| name.to_str())
            .expect("the profile folder has a UTF-8 name")
            .to_string();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "-p", "capicola", "--bin", "capicola"]);
        match profile.as_str() {
            "debug" => {}
            "release" => {
                build.arg("--release");
            }
            other => {
                build.args(["--profile", other]);
            }
        }
        let status = build.status().expect("cargo can be started");
        assert!(status.success(), "building the capicola binary failed");
        profile_dir.join(format!("capicola{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// Runs `check` on every item side by side (one thread each: the library targets' first builds overlap), prints
/// what each passing check says, and fails with every failing check's message.
pub fn check_side_by_side<T: Sync>(
    items: &[T],
    check: impl Fn(&T) -> Result<String, String> + Sync,
) {
    let results: Vec<Result<String, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(|| check(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a check panicked".into())))
            .collect()
    });
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(line) => eprintln!("{line}"),
            Err(failure) => failures.push(failure),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A libFuzzer harness in text: it traps (through two calls) when the input holds an `X`.
pub const FIND_X: &str = r#"
(module
  (memory (export "memory") 1)
  (func $boom (unreachable))
  (func $check (param $p i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 88)) (then (call $boom)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (call $check (local.get 0) (local.get 1))
    (i32.const 0)))
"#;
