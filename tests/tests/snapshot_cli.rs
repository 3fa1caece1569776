//! Pausing and resuming through the command line: a run saved by `capicola run --fuel N --save-snapshot S` and continued by `capicola resume S --module FILE` in another process prints what the uninterrupted run prints — for a WAT function and for a C program built for WASI, with one pause or two; `capicola snapshot info` describes the file; damaged files (every bit flip, swap and cut of one), devices, older format versions and the wrong module are clear errors before anything runs.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola::snapshot_file::describe;
use capicola_engine::{DecodeLimits, Error, Snapshot};
use capicola_tests::c_programs::{build_wasi_program, workspace_root};
use capicola_tests::capicola_bin;
use predicates::prelude::*;
use tempfile::TempDir;

/// The exit code of a run that ran out of fuel and was saved.
const PAUSED: i32 = 200;

/// A checksum over memory: a loop that calls a helper, stores into memory and updates a global.
/// The start function spins for a while first, so a small budget pauses inside it.
const CHECKSUM: &str = r#"
(module
  (memory 1)
  (global $calls (mut i64) (i64.const 0))
  (func $spin
    (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 500)))))
  (start $spin)
  (func $mix (param $acc i64) (param $i i32) (result i64)
    (global.set $calls (i64.add (global.get $calls) (i64.const 1)))
    (i64.add (i64.mul (local.get $acc) (i64.const 31)) (i64.extend_i32_u (local.get $i))))
  (func $checksum (export "checksum") (param $n i32) (result i64 i64 i32)
    (local $i i32) (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (call $mix (local.get $acc) (local.get $i)))
        (i64.store (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 3))
          (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc) (global.get $calls) (i32.load (i32.const 1000))))
"#;

fn capicola() -> Command {
    Command::new(capicola_bin())
}

/// A fresh temporary folder with `checksum.wat` in it.
fn checksum_module() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let path = dir.path().join("checksum.wat");
    std::fs::write(&path, CHECKSUM).expect("the module can be written");
    (dir, path)
}

/// Runs `capicola ARGS`, expecting exit code `code`; returns its stdout.
fn stdout_of(args: &[&std::ffi::OsStr], code: i32) -> String {
    let output = capicola()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    String::from_utf8(output.stdout).expect("the output is UTF-8")
}

fn os(text: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(text)
}

/// `run FILE --invoke checksum 20000` with `extra` arguments.
fn run_checksum(wat: &Path, extra: &[&std::ffi::OsStr], code: i32) -> String {
    let mut args = vec![
        os("run"),
        wat.as_os_str(),
        os("--invoke"),
        os("checksum"),
        os("20000"),
    ];
    args.extend_from_slice(extra);
    stdout_of(&args, code)
}

/// `resume SNAPSHOT --module FILE` with `extra` arguments.
fn resume(snapshot: &Path, module: &Path, extra: &[&std::ffi::OsStr], code: i32) -> String {
    let mut args = vec![
        os("resume"),
        snapshot.as_os_str(),
        os("--module"),
        module.as_os_str(),
    ];
    args.extend_from_slice(extra);
    stdout_of(&args, code)
}

#[test]
fn a_function_saved_in_one_process_and_resumed_in_another_prints_the_same_results() {
    let (dir, wat) = checksum_module();
    let expected = run_checksum(&wat, &[], 0);
    assert_eq!(expected.lines().count(), 3, "{expected}");
    assert!(expected.ends_with(":i32\n"), "{expected}");

    let snapshot = dir.path().join("paused.snap");
    capicola()
        .arg("run")
        .arg(&wat)
        .args(["--invoke", "checksum", "20000", "--fuel", "30000", "--save-snapshot"])
        .arg(&snapshot)
        .assert()
        .code(PAUSED)
        .stdout("")
        .stderr(
            predicate::str::is_match(
                r"paused at func \d+ \((checksum|mix)\) offset 0x[0-9a-f]+ after 30000 instructions \(30000 in all\); snapshot saved to .*paused\.snap",
            )
            .expect("a valid regex"),
        );
    assert_eq!(resume(&snapshot, &wat, &[], 0), expected);
    // The snapshot is not used up: resuming it again gives the same.
    assert_eq!(resume(&snapshot, &wat, &[], 0), expected);
}

#[test]
fn a_run_paused_twice_and_resumed_twice_prints_the_same_results() {
    let (dir, wat) = checksum_module();
    let expected = run_checksum(&wat, &[], 0);
    let first = dir.path().join("first.snap");
    let second = dir.path().join("second.snap");
    run_checksum(
        &wat,
        &[
            os("--fuel"),
            os("100"),
            os("--save-snapshot"),
            first.as_os_str(),
        ],
        PAUSED,
    );
    let printed = resume(
        &first,
        &wat,
        &[
            os("--fuel"),
            os("50000"),
            os("--save-snapshot"),
            second.as_os_str(),
        ],
        PAUSED,
    );
    assert_eq!(printed, "");
    assert_eq!(resume(&second, &wat, &[], 0), expected);
    // A snapshot can be replaced by its own continuation.
    resume(
        &first,
        &wat,
        &[
            os("--fuel"),
            os("50000"),
            os("--save-snapshot"),
            first.as_os_str(),
        ],
        PAUSED,
    );
    assert_eq!(resume(&first, &wat, &[], 0), expected);
}

#[test]
fn a_run_paused_in_the_start_function_makes_its_call_when_resumed() {
    let (dir, wat) = checksum_module();
    let expected = run_checksum(&wat, &[], 0);
    let snapshot = dir.path().join("start.snap");
    run_checksum(
        &wat,
        &[
            os("--fuel"),
            os("50"),
            os("--save-snapshot"),
            snapshot.as_os_str(),
        ],
        PAUSED,
    );
    capicola()
        .args(["snapshot", "info"])
        .arg(&snapshot)
        .arg("--module")
        .arg(&wat)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "position: func 0 (spin) at offset 0x",
        ))
        .stdout(predicate::str::contains(
            "invocation: `checksum` with arguments 20000 (not called yet",
        ));
    assert_eq!(resume(&snapshot, &wat, &[], 0), expected);
}

#[test]
fn out_of_fuel_without_a_snapshot_file_exits_with_3_and_saves_nothing() {
    let (dir, wat) = checksum_module();
    capicola()
        .arg("run")
        .arg(&wat)
        .args(["--invoke", "checksum", "20000", "--fuel", "1000"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "out of fuel after 1000 units at func",
        ));
    capicola()
        .arg("run")
        .arg(&wat)
        .args(["--invoke", "checksum", "1", "--save-snapshot"])
        .arg(dir.path().join("never.snap"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--fuel"));
    assert!(!dir.path().join("never.snap").exists());
}

/// Builds `harnesses/wasi/workload.c`: a program that computes, writes files into `/sandbox`, reads the clock and
/// random bytes, and prints it all at the end.
fn workload() -> PathBuf {
    build_wasi_program(&workspace_root().join("harnesses/wasi/workload.c"))
}

/// `run workload.wasm` deterministically with an empty host folder as `/sandbox` (given with `dir_flag`).
fn run_workload(sandbox: &Path, dir_flag: &str, extra: &[&std::ffi::OsStr], code: i32) -> String {
    let wasm = workload();
    let mut mapping = sandbox.as_os_str().to_owned();
    mapping.push("::/sandbox");
    let mut args = vec![
        os("run"),
        wasm.as_os_str(),
        os(dir_flag),
        mapping.as_os_str(),
        os("--deterministic"),
        os("--seed"),
        os("7"),
    ];
    args.extend_from_slice(extra);
    stdout_of(&args, code)
}

#[test]
fn a_wasi_program_saved_half_way_resumes_in_another_process_with_its_files() {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let whole = dir.path().join("whole");
    std::fs::create_dir(&whole).expect("a folder can be made");
    let expected = run_workload(&whole, "--dir", &[], 0);
    assert!(expected.contains("step 39 state"), "{expected}");
    assert!(expected.contains("scratch 64 bytes"), "{expected}");

    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir(&sandbox).expect("a folder can be made");
    let snapshot = dir.path().join("workload.snap");
    let before = run_workload(
        &sandbox,
        "--dir",
        &[
            os("--fuel"),
            os("3000000"),
            os("--save-snapshot"),
            snapshot.as_os_str(),
        ],
        PAUSED,
    );
    let after = resume(&snapshot, &workload(), &[], 0);
    assert_eq!(before + &after, expected);
    // The files the program wrote before the pause travelled in the snapshot, not through the host folder.
    let host_files = std::fs::read_dir(&sandbox)
        .expect("the folder can be listed")
        .count();
    assert_eq!(host_files, 0);
}

#[test]
fn a_wasi_program_paused_twice_writes_its_dir_rw_files_back_when_it_ends() {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let whole = dir.path().join("whole");
    std::fs::create_dir(&whole).expect("a folder can be made");
    let expected = run_workload(&whole, "--dir-rw", &[], 0);
    let expected_log =
        std::fs::read_to_string(whole.join("log.txt")).expect("the log was written back");

    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir(&sandbox).expect("a folder can be made");
    let first = dir.path().join("first.snap");
    let second = dir.path().join("second.snap");
    let mut printed = run_workload(
        &sandbox,
        "--dir-rw",
        &[
            os("--fuel"),
            os("2000000"),
            os("--save-snapshot"),
            first.as_os_str(),
        ],
        PAUSED,
    );
    printed += &resume(
        &first,
        &workload(),
        &[
            os("--trust-snapshot-dirs"),
            os("--fuel"),
            os("2000000"),
            os("--save-snapshot"),
            second.as_os_str(),
        ],
        PAUSED,
    );
    assert!(
        !sandbox.join("log.txt").exists(),
        "nothing is written back before the program ends"
    );
    printed += &resume(&second, &workload(), &[os("--trust-snapshot-dirs")], 0);
    assert_eq!(printed, expected);
    assert_eq!(
        std::fs::read_to_string(sandbox.join("log.txt")).expect("the log was written back"),
        expected_log
    );
}

#[test]
fn snapshot_info_prints_the_header_sizes_and_where_the_call_is_paused() {
    let (dir, wat) = checksum_module();
    let snapshot = dir.path().join("paused.snap");
    run_checksum(
        &wat,
        &[
            os("--fuel"),
            os("30000"),
            os("--save-snapshot"),
            snapshot.as_os_str(),
        ],
        PAUSED,
    );
    let size = std::fs::metadata(&snapshot)
        .expect("the snapshot exists")
        .len();
    capicola()
        .args(["snapshot", "info"])
        .arg(&snapshot)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("file: {size} bytes\n")))
        .stdout(predicate::str::contains(format!(
            "format version: {}\n",
            capicola_engine::FORMAT_VERSION
        )))
        .stdout(predicate::str::contains(format!(
            "engine version: {}\n",
            env!("CARGO_PKG_VERSION")
        )))
        .stdout(
            predicate::str::is_match(r"modules: 1\n  0: sha256:[0-9a-f]{64}\n")
                .expect("a valid regex"),
        )
        .stdout(
            predicate::str::is_match(r"body: \d+ bytes compressed, \d+ bytes raw\n")
                .expect("a valid regex"),
        )
        // The spectest memory's page and the module's, whose first two 4 KiB pages hold the stored checksums.
        .stdout(predicate::str::contains(
            "memory: 131072 bytes described, 8192 bytes stored (2 of 32 pages of 4096 bytes)\n",
        ))
        .stdout(predicate::str::contains("call: paused\n"))
        .stdout(predicate::str::contains(
            "position: unknown (give --module FILE to decode the call stack)\n",
        ))
        .stdout(
            predicate::str::is_match(
                r"host state: \d+ bytes, run state version 1 of a spectest program\n",
            )
            .expect("a valid regex"),
        )
        .stdout(predicate::str::contains(
            "invocation: `checksum` with arguments 20000; results: i64 i64 i32\n",
        ));
    capicola()
        .args(["snapshot", "info"])
        .arg(&snapshot)
        .arg("--module")
        .arg(&wat)
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"position: func (1 \(mix\)|2 \(checksum\)) at offset 0x[0-9a-f]+\nframes: [12]\n  0: func",
            )
            .expect("a valid regex"),
        )
        .stdout(predicate::str::contains("instructions executed: 30000\n"));
}

#[test]
fn snapshot_info_describes_a_wasi_program_s_state() {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let snapshot = dir.path().join("workload.snap");
    run_workload(
        dir.path(),
        "--dir",
        &[
            os("--fuel"),
            os("1000000"),
            os("--save-snapshot"),
            snapshot.as_os_str(),
        ],
        PAUSED,
    );
    capicola()
        .args(["snapshot", "info"])
        .arg(&snapshot)
        .arg("--module")
        .arg(workload())
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"run state version 1 of a WASI program \(context \d+ bytes\)\n",
            )
            .expect("a valid regex"),
        )
        .stdout(predicate::str::contains(
            "invocation: `_start`; results: none\n",
        ))
        .stdout(predicate::str::contains("(_start) at offset"))
        .stdout(predicate::str::contains("instructions executed: 1000000\n"));
}

/// A snapshot of `checksum 20000` paused after 30000 instructions, written by `capicola run`; with its folder and
/// module.
fn paused_checksum() -> (TempDir, PathBuf, PathBuf) {
    let (dir, wat) = checksum_module();
    let snapshot = dir.path().join("paused.snap");
    run_checksum(
        &wat,
        &[
            os("--fuel"),
            os("30000"),
            os("--save-snapshot"),
            snapshot.as_os_str(),
        ],
        PAUSED,
    );
    (dir, wat, snapshot)
}

/// Runs `snapshot info FILE` and `resume FILE` on `bytes` written to `dir/damaged.snap`: both must exit with code 2
/// and an error naming the file and saying `expected`, without running anything.
fn assert_refused(dir: &Path, wat: &Path, what: &str, bytes: &[u8], expected: &str) {
    let path = dir.join("damaged.snap");
    std::fs::write(&path, bytes).expect("the file can be written");
    for command in [&["snapshot", "info"][..], &["resume"][..]] {
        let mut cmd = capicola();
        cmd.args(command).arg(&path);
        if command == ["resume"] {
            cmd.arg("--module").arg(wat);
        }
        let assert = cmd.assert();
        let output = assert.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.code() == Some(2)
                && output.stdout.is_empty()
                && stderr.contains("error: cannot")
                && stderr.contains("damaged.snap")
                && stderr.contains(expected),
            "{what}, {command:?}: exit {:?}: {stderr}",
            output.status.code()
        );
    }
}

/// Every kind of damage to a snapshot file is refused before anything runs: exit code 2 and an error naming the
/// file and the damage, never a resumed run, never a panic.
#[test]
fn corrupted_and_truncated_snapshots_are_errors_with_exit_code_2() {
    let (dir, wat, snapshot) = paused_checksum();
    let good = std::fs::read(&snapshot).expect("the snapshot can be read");
    let (_, body_at) = Snapshot::read_header(&good, &DecodeLimits::default())
        .expect("the snapshot's header reads");
    let len = good.len();
    let mut damaged: Vec<(String, Vec<u8>, &str)> = vec![
        ("empty".into(), Vec::new(), "truncated at byte 0"),
        ("not a snapshot".into(), b"(module)".to_vec(), "bad magic"),
        (
            "header only".into(),
            good[..body_at].to_vec(),
            "the body ends at byte",
        ),
        ("header cut".into(), good[..40].to_vec(), "the header ends"),
        (
            "cut short".into(),
            good[..len - 7].to_vec(),
            "truncated at byte",
        ),
        (
            "with a tail".into(),
            [good.as_slice(), b"tail"].concat(),
            "4 bytes after the end of the body",
        ),
    ];
    for at in [16, 20, body_at - 20, body_at - 2] {
        let mut bytes = good.clone();
        bytes[at] ^= 0x10;
        damaged.push((
            format!("bit 4 of header byte {at}"),
            bytes,
            "header checksum mismatch",
        ));
    }
    for at in [body_at, body_at + 1, (body_at + len) / 2, len - 2] {
        let mut bytes = good.clone();
        bytes[at] ^= 0x01;
        damaged.push((
            format!("bit 0 of body byte {at}"),
            bytes,
            "body checksum mismatch",
        ));
        let mut bytes = good.clone();
        bytes.swap(at, at + 1);
        if bytes != good {
            damaged.push((
                format!("body bytes {at} and {} swapped", at + 1),
                bytes,
                "body checksum mismatch",
            ));
        }
    }
    for (what, bytes, expected) in damaged {
        assert_refused(dir.path(), &wat, &what, &bytes, expected);
    }
}

/// All single-bit flips, all swaps of adjacent bytes and all truncations of a paused run's snapshot, as `resume`
/// and `snapshot info` decode them: every one is refused by the checksums before anything is decoded.
#[test]
fn every_damaged_copy_of_a_paused_run_is_refused_before_it_runs() {
    let (_dir, _wat, snapshot) = paused_checksum();
    let good = std::fs::read(&snapshot).expect("the snapshot can be read");
    let limits = DecodeLimits::default();
    assert!(Snapshot::from_bytes(&good, &limits).is_ok());
    let mut copies: Vec<Vec<u8>> = Vec::new();
    for at in 0..good.len() {
        for bit in 0..8 {
            let mut bytes = good.clone();
            bytes[at] ^= 1 << bit;
            copies.push(bytes);
        }
        if at + 1 < good.len() && good[at] != good[at + 1] {
            let mut bytes = good.clone();
            bytes.swap(at, at + 1);
            copies.push(bytes);
        }
        copies.push(good[..at].to_vec());
    }
    let resumed: Vec<usize> = copies
        .iter()
        .enumerate()
        .filter(|(_, bytes)| {
            !matches!(
                Snapshot::from_bytes(bytes, &limits),
                Err(Error::SnapshotDamaged(_) | Error::SnapshotVersion { .. })
            ) || describe(bytes, None).is_ok()
        })
        .map(|(i, _)| i)
        .collect();
    assert!(
        resumed.is_empty(),
        "{} of {} damaged copies were not refused as damaged: {resumed:?}",
        resumed.len(),
        copies.len()
    );
}

/// A file of the previous format version gets a message saying which version it is and which one this build
/// reads.
#[test]
fn an_older_snapshot_format_is_named() {
    let (dir, wat, snapshot) = paused_checksum();
    let mut bytes = std::fs::read(&snapshot).expect("the snapshot can be read");
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert_refused(
        dir.path(),
        &wat,
        "version 2",
        &bytes,
        &format!(
            "snapshot format version 2: written by an older capicola; this build reads version {}",
            capicola_engine::FORMAT_VERSION
        ),
    );
}

/// A device, a pipe-like file or a folder given as a snapshot is refused before it is read: `/dev/zero` does not
/// make `snapshot info` read for ever.
#[test]
fn snapshot_files_that_are_not_regular_files_are_refused_unread() {
    let (dir, wat) = checksum_module();
    for path in [Path::new("/dev/zero"), dir.path()] {
        for command in [&["snapshot", "info"][..], &["resume"][..]] {
            let mut cmd = capicola();
            cmd.args(command).arg(path);
            if command == ["resume"] {
                cmd.arg("--module").arg(&wat);
            }
            cmd.assert()
                .code(2)
                .stderr(predicate::str::contains(format!(
                    "error: cannot read {}",
                    path.display()
                )))
                .stderr(predicate::str::contains("not a regular file"));
        }
    }
}

/// Every snapshot file in `corpora/regressions/engine/` (`*.snap`, hostile files that once got further than they
/// should) is refused by `snapshot info` with exit code 2 and an error, never a panic or an abort.
#[test]
fn regression_snapshots_are_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/regressions/engine");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the regression corpus can be listed")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "snap"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no snapshot files in {}", dir.display());
    for file in files {
        let assert = capicola().args(["snapshot", "info"]).arg(&file).assert();
        let output = assert.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.code() == Some(2) && stderr.contains("error: cannot read"),
            "{}: exit {:?}: {stderr}",
            file.display(),
            output.status.code()
        );
    }
}

#[test]
fn resuming_with_another_module_is_an_error_naming_both_files() {
    let (dir, wat) = checksum_module();
    let snapshot = dir.path().join("paused.snap");
    run_checksum(
        &wat,
        &[
            os("--fuel"),
            os("30000"),
            os("--save-snapshot"),
            snapshot.as_os_str(),
        ],
        PAUSED,
    );
    let other = dir.path().join("other.wat");
    let changed = CHECKSUM.replace("i64.const 31", "i64.const 37");
    assert_ne!(changed, CHECKSUM);
    std::fs::write(&other, changed).expect("the module can be written");
    for command in [&["resume"][..], &["snapshot", "info"][..]] {
        capicola()
            .args(command)
            .arg(&snapshot)
            .arg("--module")
            .arg(&other)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("paused.snap"))
            .stderr(predicate::str::contains("other.wat"))
            .stderr(predicate::str::contains(
                "the snapshot was taken of another module",
            ));
    }
}
