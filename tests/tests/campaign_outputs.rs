//! What a campaign leaves in its output folder, as `replay`, `tmin` and the user read it: the settings that decide
//! how an input runs (a crash longer than the default `--max-len` replays from its file alone, and the command line
//! overrides), findings counted by the inputs that hit them, out-of-memory findings kept apart from crashes, and
//! the same corpus size in the summary, `stats` and `fuzzer_stats` of a multi-core campaign.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola::fuzz::output::input_files;
use capicola_tests::{FIND_X, capicola_bin};
use predicates::prelude::*;

fn capicola() -> Command {
    Command::new(capicola_bin())
}

/// A harness that traps on inputs longer than 5000 bytes: longer than the default `--max-len` of 4096.
const LONG_CRASH: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (if (i32.gt_u (local.get 1) (i32.const 5000)) (then (unreachable)))
    (i32.const 0)))
"#;

/// A harness that grows its memory by one 64 KiB page per input byte (ignoring whether the growth succeeds).
const ALLOCATES_PER_BYTE: &str = r#"
(module
  (memory (export "memory") 1)
  (func $reserve (param $pages i32)
    (drop (memory.grow (local.get $pages))))
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (call $reserve (local.get 1))
    (i32.const 0)))
"#;

/// Writes `text` to `dir/name` and returns its path.
fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("file written");
    path
}

/// A seed folder holding `inputs`.
fn seeds(dir: &Path, inputs: &[&[u8]]) -> PathBuf {
    let seeds = dir.join("seeds");
    std::fs::create_dir(&seeds).expect("seed folder");
    for (n, input) in inputs.iter().enumerate() {
        write(&seeds, &format!("seed-{n}"), input);
    }
    seeds
}

fn only_file(dir: &Path) -> PathBuf {
    let files = input_files(dir).expect("the folder can be listed");
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn stat(text: &str, key: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{key} missing from\n{text}"))
}

#[test]
fn a_crash_longer_than_the_default_max_len_replays_from_its_file_alone_with_the_campaigns_settings()
{
    let work = tempfile::tempdir().expect("temporary folder");
    let target = write(work.path(), "long.wat", LONG_CRASH);
    let seeds = seeds(work.path(), &[&[b'a'; 6000]]);
    let out = work.path().join("out");
    capicola()
        .arg("fuzz")
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&seeds)
        .args(["--max-len", "8192", "--runs", "10", "--seed", "1", "-q"])
        .assert()
        .success()
        .stdout(predicate::str::contains("crashes:     1 unique"));
    let settings = std::fs::read_to_string(out.join("settings")).expect("settings written");
    assert!(
        settings.starts_with("# capicola campaign settings\nversion = 1\n"),
        "{settings}"
    );
    assert!(settings.contains("\nmax_len = 8192\n"), "{settings}");
    let crash = only_file(&out.join("crashes"));
    // No target, no --max-len: the settings name both.
    capicola()
        .arg("replay")
        .arg(&crash)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "(6000 bytes): crash: trap: unreachable",
        ))
        .stderr(
            predicate::str::contains("settings of the campaign in")
                .and(predicate::str::contains("--max-len 8192")),
        );
    // Naming the target changes nothing else.
    capicola()
        .arg("replay")
        .arg(&target)
        .arg(&crash)
        .assert()
        .code(1);
    // A flag given overrides the settings, and the cut is said.
    capicola()
        .arg("replay")
        .arg(&crash)
        .args(["--max-len", "4096"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"))
        .stderr(
            predicate::str::contains("in their place from the command line: --max-len")
                .and(predicate::str::contains("only its first 4096 run")),
        );
    // tmin takes the same settings: the input stays a crash, so it stays longer than 5000 bytes.
    let min = work.path().join("min");
    capicola()
        .arg("tmin")
        .arg(&crash)
        .arg("-o")
        .arg(&min)
        .args(["--max-execs", "200"])
        .assert()
        .success();
    let minimized = std::fs::read(&min).expect("minimized input written");
    assert!(minimized.len() > 5000, "{}", minimized.len());
}

#[test]
fn inputs_without_a_campaign_need_a_target() {
    let work = tempfile::tempdir().expect("temporary folder");
    let input = write(work.path(), "input", "x");
    capicola()
        .arg("replay")
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no target"));
}

#[test]
fn inputs_that_hit_one_crash_are_counted_under_it() {
    let work = tempfile::tempdir().expect("temporary folder");
    let target = write(work.path(), "find_x.wat", FIND_X);
    // Three inputs, one bug: the same trap in the same functions, at different offsets of the input.
    let seeds = seeds(work.path(), &[b"X", b"aX", b"aaX"]);
    let out = work.path().join("out");
    capicola()
        .arg("fuzz")
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&seeds)
        .args(["--runs", "4", "--seed", "1", "-q"])
        .assert()
        .success()
        .stdout(predicate::str::contains("crashes:     1 unique (3 inputs)"));
    let crash = only_file(&out.join("crashes"));
    let name = crash.file_name().expect("named").to_string_lossy();
    let count = std::fs::read_to_string(out.join("crashes").join(format!(".{name}.count")))
        .expect("count written");
    assert_eq!(count, "3\n");
    let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
    assert_eq!(
        (stat(&stats, "crashes"), stat(&stats, "crash_inputs")),
        (1, 3)
    );
}

#[test]
fn growing_memory_past_max_memory_is_an_out_of_memory_finding_not_a_crash() {
    let work = tempfile::tempdir().expect("temporary folder");
    let target = write(work.path(), "alloc.wat", ALLOCATES_PER_BYTE);
    // 1 page fits in 16 MiB; 1 + 300 pages (19.7 MB) do not.
    let seeds = seeds(work.path(), &[b"a", &[b'b'; 300]]);
    let out = work.path().join("out");
    capicola()
        .arg("fuzz")
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&seeds)
        .args(["--max-memory", "16M", "--runs", "200", "--seed", "1", "-q"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("crashes:     0 unique")
                .and(predicate::str::contains("ooms:        1 unique")),
        );
    assert!(
        input_files(&out.join("crashes"))
            .expect("listed")
            .is_empty()
    );
    let oom = only_file(&out.join("ooms"));
    assert!(
        oom.file_name()
            .expect("named")
            .to_string_lossy()
            .starts_with("out-of-memory-"),
        "{}",
        oom.display()
    );
    let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
    assert_eq!((stat(&stats, "crashes"), stat(&stats, "ooms")), (0, 1));
    capicola()
        .arg("replay")
        .arg(&oom)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "out-of-memory: linear memory would grow past its limit (--max-memory, 16777216 bytes)",
        ));
    // A higher limit given on the command line lets the same input run to its end.
    capicola()
        .arg("replay")
        .arg(&oom)
        .args(["--max-memory", "64M"])
        .assert()
        .success();
}

#[test]
fn a_multi_core_campaign_counts_its_corpus_alike_everywhere() {
    let work = tempfile::tempdir().expect("temporary folder");
    let target = write(work.path(), "find_x.wat", FIND_X);
    let seeds = seeds(work.path(), &[b"hello"]);
    let out = work.path().join("out");
    let summary = capicola()
        .arg("fuzz")
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&seeds)
        .args(["-j", "2", "--max-total-time", "4", "--seed", "1", "-q"])
        .output()
        .expect("the campaign runs");
    assert!(summary.status.success(), "{summary:?}");
    let summary = String::from_utf8(summary.stdout).expect("UTF-8 summary");
    let on_disk = input_files(&out.join("queue")).expect("listed").len() as u64;
    assert!(
        summary.contains(&format!("corpus:      {on_disk} inputs in")),
        "{on_disk} files in the queue, summary:\n{summary}"
    );
    let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
    assert_eq!(stat(&stats, "corpus_count"), on_disk, "{stats}");
    let afl = std::fs::read_to_string(out.join("fuzzer_stats")).expect("fuzzer_stats written");
    assert_eq!(stat(&afl, "corpus_count"), on_disk, "{afl}");
}
