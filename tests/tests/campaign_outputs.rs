//! What a campaign leaves in its output folder, as `replay`, `tmin` and the user read it: the settings that decide
//! how an input runs (a crash longer than the default `--max-len` replays from its file alone, and the command line
//! overrides), findings counted by the inputs that hit them, out-of-memory findings kept apart from crashes, and
//! the same corpus size in the summary, `stats` and `fuzzer_stats` of a multi-core campaign, and queue entries
//! named as AFL++ names them, each input once in the queue of a multi-core campaign.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola::fuzz::output::input_files;
use capicola_tests::{FIND_X, capicola_bin, fuzz_command};
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
/// `capicola fuzz TARGET -o OUT -i SEEDS`, for more flags.
fn fuzz(target: &Path, out: &Path, seeds: &Path) -> Command {
    Command::from_std(fuzz_command(target, out, seeds))
}

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
    fuzz(&target, &out, &seeds)
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
    fuzz(&target, &out, &seeds)
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
    fuzz(&target, &out, &seeds)
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
    let summary = fuzz(&target, &out, &seeds)
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

/// What the name of a queue entry says, read as AFL++ writes it: `id:NNNNNN,time:0,execs:0,orig:NAME` for a seed,
/// `id:NNNNNN,src:MMMMMM,time:MS,execs:N,op:OP[,+cov]` for an input found.
#[derive(Debug)]
struct QueueName {
    id: u32,
    /// The seed's name.
    orig: Option<String>,
    /// The entry mutated, for an input found.
    src: Option<u32>,
}

/// Six decimal digits, as AFL++ writes ids.
fn six_digits(field: Option<&str>, name: &str) -> u32 {
    let digits = field.unwrap_or_else(|| panic!("{name}: a field is missing"));
    assert!(
        digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()),
        "{name}: {digits} is no id"
    );
    digits.parse().expect("digits")
}

/// Parses `name`, failing the test unless it matches AFL++'s pattern.
fn queue_name(name: &str) -> QueueName {
    let fields: Vec<&str> = name.split(',').collect();
    let id = six_digits(fields[0].strip_prefix("id:"), name);
    if let Some(orig) = fields.last().and_then(|field| field.strip_prefix("orig:")) {
        assert_eq!(fields[1..fields.len() - 1], ["time:0", "execs:0"], "{name}");
        return QueueName {
            id,
            orig: Some(orig.to_string()),
            src: None,
        };
    }
    let plain = fields.len() - usize::from(fields.last() == Some(&"+cov"));
    assert_eq!(plain, 5, "{name}: not an AFL++ queue name");
    let src = six_digits(fields[1].strip_prefix("src:"), name);
    for (field, key) in [(fields[2], "time:"), (fields[3], "execs:")] {
        let number = field
            .strip_prefix(key)
            .unwrap_or_else(|| panic!("{name}: no {key}"));
        assert!(number.parse::<u64>().is_ok(), "{name}: {field}");
    }
    let op = fields[4]
        .strip_prefix("op:")
        .unwrap_or_else(|| panic!("{name}: no op:"));
    assert!(["havoc", "i2s", "sync"].contains(&op), "{name}: op {op}");
    QueueName {
        id,
        orig: None,
        src: Some(src),
    }
}

/// The queue's entries by id, each name checked against AFL++'s pattern, ids unique, and every found entry's
/// `src:` the id of an entry there.
fn queue_names(queue: &Path) -> BTreeMap<u32, QueueName> {
    let mut entries = BTreeMap::new();
    for path in input_files(queue).expect("the queue is listed") {
        let name = path
            .file_name()
            .expect("named")
            .to_string_lossy()
            .into_owned();
        let parsed = queue_name(&name);
        let id = parsed.id;
        assert!(entries.insert(id, parsed).is_none(), "id {id} twice");
    }
    for entry in entries.values() {
        if let Some(src) = entry.src {
            assert!(entries.contains_key(&src), "{entry:?}: no entry {src}");
        }
    }
    entries
}

#[test]
fn queue_entries_are_named_as_afl_names_them() {
    let work = tempfile::tempdir().expect("temporary folder");
    let target = write(work.path(), "find_x.wat", FIND_X);
    let seeds = seeds(work.path(), &[b"hello", b"ab"]);
    let out = work.path().join("out");
    fuzz(&target, &out, &seeds)
        .args(["--runs", "3000", "--seed", "1", "-q"])
        .assert()
        .success();
    let entries = queue_names(&out.join("queue"));
    let origs: BTreeSet<&str> = entries.values().filter_map(|e| e.orig.as_deref()).collect();
    assert!(!origs.is_empty(), "no seed in the queue: {entries:?}");
    assert!(
        origs.is_subset(&BTreeSet::from(["seed-0", "seed-1"])),
        "{origs:?}"
    );
    assert!(entries.contains_key(&0), "ids start at 0: {entries:?}");
    assert!(
        entries.values().any(|e| e.src.is_some()),
        "nothing found in 3000 runs: {entries:?}"
    );
    // Every figure of the campaign counts the files, whatever their names; replay reads them by any name.
    let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
    assert_eq!(
        stat(&stats, "corpus_count"),
        entries.len() as u64,
        "{stats}"
    );
    capicola()
        .arg("replay")
        .arg(out.join("queue"))
        .assert()
        .success();
}

#[test]
fn a_multi_core_campaign_holds_each_input_once_under_ids_unique_across_its_clients() {
    let work = tempfile::tempdir().expect("temporary folder");
    let target = write(work.path(), "find_x.wat", FIND_X);
    let seeds = seeds(work.path(), &[b"hello", b"ab"]);
    let out = work.path().join("out");
    let summary = fuzz(&target, &out, &seeds)
        .args(["-j", "2", "--runs", "2000", "--seed", "1", "-q"])
        .output()
        .expect("the campaign runs");
    assert!(summary.status.success(), "{summary:?}");
    let summary = String::from_utf8(summary.stdout).expect("UTF-8 summary");
    let queue = out.join("queue");
    let entries = queue_names(&queue);
    assert!(entries.values().any(|e| e.orig.is_some()), "{entries:?}");
    let mut contents = BTreeMap::new();
    for path in input_files(&queue).expect("the queue is listed") {
        let bytes = std::fs::read(&path).expect("entry readable");
        if let Some(other) = contents.insert(bytes, path.clone()) {
            panic!(
                "{} and {} hold the same input",
                other.display(),
                path.display()
            );
        }
    }
    assert!(
        summary.contains(&format!("corpus:      {} inputs in", entries.len())),
        "{} files in the queue, summary:\n{summary}",
        entries.len()
    );
}
