//! A campaign's output directory as AFL++'s tools read it: `fuzzer_stats` holds AFL's `key : value` lines with the numbers of the `stats` file, `plot_data` AFL's header and rows of 13 numbers, on one core and on several (one fuzzer, the launcher, summing its cores); `afl-whatsup` and `afl-plot` read them when they are installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use capicola_tests::c_programs::{build_harness, workspace_root};
use capicola_tests::capicola_bin;

const HANG_GUARD: Duration = Duration::from_secs(180);

/// The keys `afl-whatsup` reads, and AFL++'s version line.
const AFL_KEYS: [&str; 18] = [
    "start_time",
    "last_update",
    "run_time",
    "fuzzer_pid",
    "cycles_done",
    "execs_done",
    "execs_per_sec",
    "corpus_count",
    "corpus_found",
    "pending_total",
    "pending_favs",
    "saved_crashes",
    "saved_hangs",
    "bitmap_cvg",
    "stability",
    "afl_banner",
    "command_line",
    "afl_version",
];

const PLOT_HEADER: &str = "# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs, \
                           map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, edges_found";

/// Runs a seeded campaign on the bundled target into `out` and returns the launcher's process id.
fn campaign(out: &Path, args: &[&str]) -> u32 {
    let mut child = Command::new(capicola_bin())
        .arg("fuzz")
        .arg(build_harness("tlvconf"))
        .arg("-o")
        .arg(out)
        .arg("-i")
        .arg(workspace_root().join("corpora/tlvconf"))
        .args(["--seed", "1", "-q"])
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("the campaign starts");
    let pid = child.id();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the campaign can be waited for") {
            assert!(status.success(), "{args:?}: {status}");
            return pid;
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("{args:?}: the campaign did not end");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `key: value` lines of the `stats` file.
fn stats(out: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(out.join("stats")).expect("stats written");
    text.lines()
        .map(|line| {
            let (key, value) = line.split_once(": ").expect("key: value");
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// `fuzzer_stats` read with AFL's rules: every line a key of lower-case letters and `_`, spaces, `: `, a value.
fn fuzzer_stats(out: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(out.join("fuzzer_stats")).expect("fuzzer_stats written");
    text.lines()
        .map(|line| {
            let (key, value) = line
                .split_once(" : ")
                .unwrap_or_else(|| panic!("not `key : value`: {line:?}"));
            let key = key.trim_end();
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{line:?}"
            );
            assert!(!value.is_empty(), "{line:?}");
            (key.to_string(), value.to_string())
        })
        .collect()
}

fn number(map: &BTreeMap<String, String>, key: &str) -> u64 {
    map.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {key} in {map:?}"))
}

/// Checks both AFL++ files of a finished campaign against its `stats` file; returns `fuzzer_stats`.
fn check_afl_files(out: &Path, pid: u32) -> BTreeMap<String, String> {
    let ours = stats(out);
    let afl = fuzzer_stats(out);
    for key in AFL_KEYS {
        assert!(afl.contains_key(key), "no {key} in {afl:?}");
    }
    assert_eq!(number(&afl, "fuzzer_pid"), u64::from(pid));
    for (afl_key, key) in [
        ("execs_done", "execs_done"),
        ("run_time", "run_time_secs"),
        ("corpus_count", "corpus_count"),
        ("saved_crashes", "crashes"),
        ("saved_hangs", "timeouts"),
        ("edges_found", "edges_found"),
        ("total_edges", "edges_total"),
    ] {
        assert_eq!(
            number(&afl, afl_key),
            number(&ours, key),
            "{afl_key} / {key}"
        );
    }
    assert!(number(&afl, "execs_done") > 0);
    let (hit, total) = (number(&ours, "edges_found"), number(&ours, "edges_total"));
    assert!(total > 0 && hit > 0, "{ours:?}");
    assert_eq!(
        afl["bitmap_cvg"],
        format!("{:.2}%", hit as f64 * 100.0 / total as f64)
    );
    assert_eq!(
        afl["stability"],
        format!(
            "{:.2}%",
            ours["stability_percent"].parse::<f64>().expect("a number")
        )
    );
    assert!(number(&afl, "last_update") >= number(&afl, "start_time"));

    let plot = std::fs::read_to_string(out.join("plot_data")).expect("plot_data written");
    let mut lines = plot.lines();
    assert_eq!(lines.next(), Some(PLOT_HEADER));
    let rows: Vec<Vec<f64>> = lines
        .map(|line| {
            let columns: Vec<f64> = line
                .split(", ")
                .enumerate()
                // AFL++ writes the map coverage, column 7, in percent.
                .map(|(i, c)| {
                    if i == 6 {
                        c.strip_suffix('%').unwrap_or("")
                    } else {
                        c
                    }
                })
                .map(|c| {
                    c.parse()
                        .unwrap_or_else(|_| panic!("not a number: {c:?} in {line:?}"))
                })
                .collect();
            assert_eq!(columns.len(), 13, "{line:?}");
            columns
        })
        .collect();
    // The first update and the final numbers, at least.
    assert!(rows.len() >= 2, "{plot}");
    for pair in rows.windows(2) {
        assert!(pair[0][0] <= pair[1][0], "time runs backwards: {plot}");
        assert!(pair[0][11] <= pair[1][11], "executions fall: {plot}");
    }
    let last = rows.last().expect("rows");
    assert_eq!(last[0] as u64, number(&ours, "run_time_secs"));
    assert_eq!(last[3] as u64, number(&ours, "corpus_count"));
    assert_eq!(last[7] as u64, number(&ours, "crashes"));
    assert_eq!(last[11] as u64, number(&ours, "execs_done"));
    assert_eq!(last[12] as u64, hit);
    afl
}

/// Runs an AFL++ tool if it is installed.
fn afl_tool(name: &str, args: &[&Path]) -> Option<std::process::Output> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("NOTE: {name} is not installed: not checked (Debian's afl++ package has it)");
        return None;
    }
    Some(
        Command::new(name)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{name} runs: {e}")),
    )
}

/// What `afl-whatsup -s -d` prints for a folder holding one finished campaign.
fn check_whatsup(sync: &Path, afl: &BTreeMap<String, String>) {
    let Some(run) = afl_tool("afl-whatsup", &[Path::new("-s"), Path::new("-d"), sync]) else {
        return;
    };
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{run:?}");
    // The campaign has ended: its process is gone, and `-d` counts it in.
    assert!(
        text.contains("Dead or remote : 1 (included in stats)"),
        "{text}"
    );
    let execs = number(afl, "execs_done");
    let (millions, thousands) = (execs / 1_000_000, execs / 1000 % 1000);
    let total = match millions {
        10.. => format!("{millions} millions"),
        1.. => format!("{millions} millions, {thousands} thousands"),
        0 => format!("{thousands} thousands"),
    };
    assert!(text.contains(&format!("Total execs : {total}\n")), "{text}");
    assert!(
        text.contains(&format!("Crashes saved : {}\n", afl["saved_crashes"])),
        "{text}"
    );
}

#[test]
fn one_core_writes_fuzzer_stats_and_plot_data_that_afl_tools_read() {
    let work = tempfile::tempdir().expect("temporary folder");
    // afl-whatsup reads a folder of fuzzers' folders, as AFL++'s `-o` is one.
    let sync = work.path().join("sync");
    let out = sync.join("tlv");
    let pid = campaign(&out, &["--max-total-time", "7"]);
    let afl = check_afl_files(&out, pid);
    assert_eq!(afl["afl_banner"], "tlvconf.wasm");
    assert!(
        number(&afl, "last_find") >= number(&afl, "start_time"),
        "{afl:?}"
    );
    check_whatsup(&sync, &afl);
    let plots = work.path().join("plots");
    if let Some(run) = afl_tool("afl-plot", &[&out, &plots]) {
        assert!(run.status.success(), "{run:?}");
        for file in ["index.html", "exec_speed.png", "high_freq.png"] {
            let len = std::fs::metadata(plots.join(file)).map_or(0, |m| m.len());
            assert!(len > 0, "afl-plot drew no {file}: {run:?}");
        }
    }
    // A resumed campaign adds to the same plot.
    let rows = |out: &Path| {
        std::fs::read_to_string(out.join("plot_data"))
            .expect("plot_data")
            .lines()
            .count()
    };
    let before = rows(&out);
    let pid = campaign(&out, &["--resume", "--runs", "2000"]);
    check_afl_files(&out, pid);
    assert!(rows(&out) > before);
}

#[test]
fn several_cores_are_one_afl_fuzzer_with_their_sums() {
    let work = tempfile::tempdir().expect("temporary folder");
    let sync = work.path().join("sync");
    let out = sync.join("tlv");
    let pid = campaign(&out, &["-j", "2", "--max-total-time", "6"]);
    let afl = check_afl_files(&out, pid);
    assert_eq!(stats(&out)["cores"], "2");
    // Only the broker, holding the monitor, saw when coverage grew; the launcher's final numbers keep it.
    assert!(
        number(&afl, "last_find") >= number(&afl, "start_time"),
        "{afl:?}"
    );
    check_whatsup(&sync, &afl);
}
