//! AFL++'s view of a campaign: the `fuzzer_stats` and `plot_data` files of its output directory, in the formats that `afl-whatsup` and `afl-plot` read, written from the same numbers as its `stats` file.
//!
//! A capicola output directory is what AFL++ calls one fuzzer's directory (it holds `queue/` and `crashes/`), so
//! `afl-whatsup` is pointed at the folder above it, as at an AFL++ sync directory. A multi-core campaign is one
//! fuzzer there: its files hold the sum over its cores, as `stats` does, and name the launcher's process.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::stats::LiveStats;

/// `plot_data`'s first line, as AFL++ writes it.
pub const PLOT_HEADER: &str = "# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs, \
                               map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, \
                               edges_found\n";

/// What AFL++'s files say of the session itself: when it started, its process, its target and command line.
#[derive(Debug, Clone)]
pub struct AflSession {
    /// Seconds since the Unix epoch.
    start_time: u64,
    started: SystemTime,
    pid: u32,
    banner: String,
    command_line: String,
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl AflSession {
    /// The session of this process, fuzzing the target named `target`.
    pub fn start(target: &str) -> AflSession {
        let started = SystemTime::now();
        AflSession {
            start_time: unix_secs(started),
            started,
            pid: std::process::id(),
            banner: banner(target),
            command_line: std::env::args()
                .collect::<Vec<_>>()
                .join(" ")
                .replace('\n', " "),
        }
    }

    /// The Unix time at `run_time` of this session, 0 (AFL's "never") for `None`.
    fn at(&self, run_time: Option<Duration>) -> u64 {
        run_time.map_or(0, |t| unix_secs(self.started + t))
    }

    /// The `fuzzer_stats` file: `key : value` lines, keys padded as AFL++ pads them.
    /// Queue cycles, the input being fuzzed, pending inputs and depth are AFL's scheduler's notions that LibAFL's
    /// monitor does not report: they are written as 0. Executions and run time count a resumed campaign's earlier
    /// sessions in, as the `stats` file does, and on a node linked to others (`--listen`, `--remote-broker`) the
    /// executions and rate of every node; out-of-memory findings, which AFL++ does not have, are left out.
    pub fn fuzzer_stats(&self, numbers: &LiveStats) -> String {
        let (edges_found, total_edges) = numbers.edges.unwrap_or((0, 0));
        let lines: [(&str, String); 25] = [
            ("start_time", self.start_time.to_string()),
            ("last_update", unix_secs(SystemTime::now()).to_string()),
            ("run_time", numbers.total_run_time().as_secs().to_string()),
            ("fuzzer_pid", self.pid.to_string()),
            ("cycles_done", "0".into()),
            ("execs_done", numbers.all_nodes_execs().to_string()),
            (
                "execs_per_sec",
                format!(
                    "{:.2}",
                    numbers.execs_per_sec + numbers.linked.execs_per_sec
                ),
            ),
            ("corpus_count", numbers.corpus.to_string()),
            ("corpus_found", numbers.corpus.to_string()),
            ("cur_item", "0".into()),
            ("pending_favs", "0".into()),
            ("pending_total", "0".into()),
            (
                "stability",
                format!("{:.2}%", numbers.stability.unwrap_or(100.0)),
            ),
            ("bitmap_cvg", format!("{:.2}%", numbers.coverage_percent())),
            ("saved_crashes", numbers.crashes.unique.to_string()),
            ("saved_hangs", numbers.timeouts.unique.to_string()),
            ("last_find", self.at(numbers.last_new_edges).to_string()),
            ("last_crash", self.at(numbers.last_crash).to_string()),
            ("last_hang", self.at(numbers.last_timeout).to_string()),
            ("max_depth", "0".into()),
            ("edges_found", edges_found.to_string()),
            ("total_edges", total_edges.to_string()),
            ("afl_banner", self.banner.clone()),
            (
                "afl_version",
                format!("capicola-{}", env!("CARGO_PKG_VERSION")),
            ),
            ("command_line", self.command_line.clone()),
        ];
        lines
            .iter()
            .map(|(key, value)| format!("{key:<18}: {value}\n"))
            .collect()
    }
}

/// `fuzzer_stats` text with the times of the last find, crash and hang that `text` does not know (0) taken from
/// `previous`, the file as it was: a multi-core campaign's launcher writes the final numbers, but only the
/// process holding its monitor saw when things were found.
pub fn keep_last_times(text: &str, previous: &str) -> String {
    const KEYS: [&str; 3] = ["last_find", "last_crash", "last_hang"];
    let value = |text: &str, key: &str| {
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
    };
    text.lines()
        .map(|line| {
            let known = line
                .split_once(':')
                .filter(|(k, v)| KEYS.contains(&k.trim()) && v.trim() == "0");
            match known.and_then(|(k, _)| Some((k, value(previous, k.trim())?))) {
                Some((key, before)) => format!("{key}: {before}\n"),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

/// `afl-whatsup` reads `fuzzer_stats` by turning each line into a shell assignment in double quotes: the banner
/// keeps only characters that mean nothing there.
fn banner(target: &str) -> String {
    let banner: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if banner.is_empty() {
        "capicola".into()
    } else {
        banner
    }
}

/// One `plot_data` line, columns as in [`PLOT_HEADER`] (AFL++ writes the map coverage, `map_size`, in percent).
pub fn plot_row(numbers: &LiveStats) -> String {
    let (edges_found, _) = numbers.edges.unwrap_or((0, 0));
    format!(
        "{}, 0, 0, {}, 0, 0, {:.2}%, {}, {}, 0, {:.2}, {}, {edges_found}\n",
        numbers.total_run_time().as_secs(),
        numbers.corpus,
        numbers.coverage_percent(),
        numbers.crashes.unique,
        numbers.timeouts.unique,
        numbers.execs_per_sec,
        numbers.total_execs(),
    )
}

/// Appends a line to `plot_data`, after the header when the file is new or empty. One writer at a time (the
/// process holding the campaign's monitor, then the launcher once it has ended) appends.
pub fn append_plot_row(path: &Path, numbers: &LiveStats) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    if file.metadata()?.len() == 0 {
        text.push_str(PLOT_HEADER);
    }
    text.push_str(&plot_row(numbers));
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_stats_keep_the_times_only_the_monitor_saw() {
        let before = "last_find         : 100\nlast_crash        : 90\nlast_hang         : 0\n";
        let after = "last_find         : 0\nlast_crash        : 95\nlast_hang         : 0\nrun_time          : 0\n";
        assert_eq!(
            keep_last_times(after, before),
            "last_find         : 100\nlast_crash        : 95\nlast_hang         : 0\nrun_time          : 0\n"
        );
    }

    #[test]
    fn a_banner_cannot_break_out_of_afl_whatsup_s_shell_quotes() {
        assert_eq!(banner("tlv.wasm"), "tlv.wasm");
        assert_eq!(banner("a\"$(rm -rf x)`b`"), "a___rm_-rf_x__b_");
        assert_eq!(banner(""), "capicola");
    }

    #[test]
    fn every_stats_line_is_a_padded_key_and_a_value() {
        let session = AflSession::start("t");
        let numbers = LiveStats {
            run_time: Duration::from_secs(7),
            execs: 70,
            edges: Some((1, 4)),
            last_new_edges: Some(Duration::from_secs(2)),
            ..LiveStats::default()
        };
        let text = session.fuzzer_stats(&numbers);
        for line in text.lines() {
            // The key padded to 18 columns, then `: ` and the value.
            assert_eq!(line.find(": "), Some(18), "{line}");
            let key = line[..18].trim_end();
            assert!(!key.is_empty() && !key.contains(' '), "{line}");
            assert!(line.len() > 20, "{line}");
        }
        assert!(text.contains("bitmap_cvg        : 25.00%\n"), "{text}");
        assert!(text.contains("run_time          : 7\n"), "{text}");
        assert!(
            text.contains(&format!("last_find         : {}\n", session.start_time + 2)),
            "{text}"
        );
        assert!(text.contains("last_crash        : 0\n"), "{text}");
        assert_eq!(
            plot_row(&numbers),
            "7, 0, 0, 0, 0, 0, 25.00%, 0, 0, 0, 0.00, 70, 1\n"
        );
    }
}
