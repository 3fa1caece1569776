//! `capicola fuzz` run as `cargo fuzz run` users run libFuzzer: `-flag=value` flags act as capicola's own, an unknown one is a clear usage error, and corpus directories after the target are read as seeds.

use std::path::Path;

use assert_cmd::Command;
use capicola::fuzz::output::input_files;
use capicola_tests::{FIND_X, capicola_bin};
use predicates::prelude::*;

fn capicola() -> Command {
    Command::new(capicola_bin())
}

fn find_x(dir: &Path) -> std::path::PathBuf {
    let wat = dir.join("find_x.wat");
    std::fs::write(&wat, FIND_X).expect("module written");
    wat
}

/// The number of executions a campaign's summary reports.
fn execs(stdout: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("done: "))
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no `done: N execs` line in {text}"))
}

#[test]
fn libfuzzer_flags_run_the_campaign_their_capicola_spelling_runs() {
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = find_x(work.path());
    let out = work.path().join("out");
    let libfuzzer = capicola()
        .arg("fuzz")
        .arg(&wat)
        .args(["-runs=200", "-seed=1", "-max_len=64", "-q", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(", seed 1, max-len 64, 1 core(s)"))
        .stdout(predicate::str::contains("done: "))
        .get_output()
        .clone();
    // Exactly: the campaign stops at the input past the budget, not at the end of its round of mutations.
    let runs = execs(&libfuzzer.stdout);
    assert_eq!(runs, 200, "-runs=200 ran {runs} executions");
    for input in input_files(&out.join("queue")).expect("the queue is listed") {
        let len = std::fs::metadata(&input).expect("queue entry").len();
        assert!(
            len <= 64,
            "{} is {len} bytes, over -max_len=64",
            input.display()
        );
    }
    // The same campaign (one core, the same seed), spelled the capicola way.
    let capicola_spelling = capicola()
        .arg("fuzz")
        .arg(&wat)
        .args([
            "--runs",
            "200",
            "--seed",
            "1",
            "--max-len",
            "64",
            "-q",
            "-o",
        ])
        .arg(work.path().join("out2"))
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(execs(&capicola_spelling.stdout), runs);
}

#[test]
fn an_unknown_libfuzzer_flag_is_a_usage_error_naming_it() {
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = find_x(work.path());
    capicola()
        .arg("fuzz")
        .arg(&wat)
        .arg("-foo=1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown libFuzzer flag -foo; capicola fuzz --help lists its flags",
        ))
        .stderr(predicate::str::contains("unexpected argument").not());
    capicola()
        .arg("fuzz")
        .arg(&wat)
        .arg("-only_ascii=1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-only_ascii=1: not supported"));
}

#[test]
fn corpus_directories_after_the_target_are_seeds() {
    let work = tempfile::tempdir().expect("temporary folder");
    let wat = find_x(work.path());
    let corpus = work.path().join("corpus");
    let seeds = work.path().join("seeds");
    std::fs::create_dir(&corpus).expect("corpus folder");
    std::fs::create_dir(&seeds).expect("seed folder");
    std::fs::write(corpus.join("plain"), "no crash here").expect("corpus input");
    // The crash is in the second directory's input: running it at all finds it.
    std::fs::write(seeds.join("crash"), "an X in it").expect("seed input");
    let out = work.path().join("out");
    capicola()
        .arg("fuzz")
        .arg(&wat)
        .arg(&corpus)
        .arg(&seeds)
        .args(["-runs=1", "-q", "--no-cmplog"])
        .arg(format!("-artifact_prefix={}/", out.display()))
        .assert()
        .success()
        .stdout(predicate::str::contains("crashes:     1 unique"))
        .stdout(predicate::str::contains(format!(
            "in {}",
            out.join("crashes").display()
        )));
    // Both directories' inputs ran as they are: the crash saved is the second one's, the first is in the queue.
    let contents = |dir: &Path| -> Vec<Vec<u8>> {
        input_files(dir)
            .expect("the folder is listed")
            .iter()
            .map(|file| std::fs::read(file).expect("input read"))
            .collect()
    };
    assert_eq!(contents(&out.join("crashes")), [b"an X in it".to_vec()]);
    assert!(
        contents(&out.join("queue")).contains(&b"no crash here".to_vec()),
        "the corpus input is not in the queue"
    );
    // Seeds are read, not written: what the campaign finds goes to its own output folder.
    assert_eq!(
        input_files(&corpus).expect("the corpus is listed").len(),
        1,
        "the corpus directory was written into"
    );
    assert!(
        !input_files(&out.join("queue"))
            .expect("the queue is listed")
            .is_empty()
    );
    // A file where a corpus directory belongs points to `replay`.
    capicola()
        .arg("fuzz")
        .arg(&wat)
        .arg(seeds.join("crash"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a corpus directory"))
        .stderr(predicate::str::contains("capicola replay"));
}
