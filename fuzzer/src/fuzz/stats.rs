//! The numbers of a campaign, summed over its cores: what the dashboard, the status line, the summary, the `stats`
//! file and AFL++'s `fuzzer_stats` and `plot_data` all show.

use std::fmt::Write as _;
use std::time::Duration;

use super::output::Tally;

/// The numbers of a running campaign, summed over its cores.
#[derive(Debug, Clone, Default)]
pub struct LiveStats {
    pub execs: u64,
    pub execs_per_sec: f64,
    pub corpus: u64,
    /// Edges covered and edges in the map.
    pub edges: Option<(u64, u64)>,
    /// Share of covered edges that every run of the same input hits, in percent.
    pub stability: Option<f64>,
    pub crashes: Tally,
    pub timeouts: Tally,
    pub ooms: Tally,
    pub engine_bugs: usize,
    pub cores: usize,
    pub run_time: Duration,
    /// Run time when the edge coverage last grew.
    pub last_new_edges: Option<Duration>,
    /// Run time when the last new finding was saved (found in this campaign).
    pub last_finding: Option<Duration>,
    /// Run time when the last new crash, and the last new timeout, was saved.
    pub last_crash: Option<Duration>,
    pub last_timeout: Option<Duration>,
    /// A status line is open on the terminal (the next output must start on a new line).
    pub line_open: bool,
    /// What the earlier sessions of a resumed campaign did: the `stats` file counts it in.
    pub carried: Carried,
    /// What the nodes linked to this one last told of themselves.
    pub linked: Linked,
}

/// What the nodes linked to this one (`--listen`, `--remote-broker`) last told of themselves: their own executions
/// and rate, this node's not included.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Linked {
    pub nodes: usize,
    pub execs: u64,
    pub execs_per_sec: f64,
}

impl Linked {
    /// The linked nodes' lines of a `stats` file; missing lines count as zero.
    pub fn from_stats_file(text: &str) -> Linked {
        Linked {
            nodes: stats_value(text, "linked_nodes").unwrap_or(0),
            execs: stats_value(text, "linked_execs_done").unwrap_or(0),
            execs_per_sec: stats_value(text, "linked_execs_per_sec").unwrap_or(0.0),
        }
    }
}

/// The value of `key` in a `stats` file's `key: value` lines, if it is there and parses.
fn stats_value<T: std::str::FromStr>(text: &str, key: &str) -> Option<T> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == key)
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// Executions and run time of the earlier sessions of a campaign, read back from its `stats` file on `--resume`
/// (findings and the queue are on disk and counted from there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carried {
    pub execs: u64,
    pub run_time: Duration,
}

impl Carried {
    /// The totals of a `stats` file; a missing or unreadable line counts as zero.
    pub fn from_stats_file(text: &str) -> Carried {
        let value = |key: &str| stats_value(text, key).unwrap_or(0);
        Carried {
            execs: value("execs_done"),
            run_time: Duration::from_secs(value("run_time_secs")),
        }
    }
}

impl LiveStats {
    /// The one-line status.
    pub fn line(&self) -> String {
        let mut line = format!(
            "[{}] execs {} ({}/s)",
            format_duration(self.run_time),
            self.execs,
            pretty(self.execs_per_sec)
        );
        if let Some((hit, total)) = self.edges {
            let percent = if total == 0 {
                0.0
            } else {
                hit as f64 * 100.0 / total as f64
            };
            let _ = write!(line, " | edges {hit}/{total} ({percent:.1}%)");
        }
        let _ = write!(
            line,
            " | corpus {} | crashes {} | timeouts {}",
            self.corpus, self.crashes.unique, self.timeouts.unique
        );
        if self.ooms.unique > 0 {
            let _ = write!(line, " | ooms {}", self.ooms.unique);
        }
        if self.engine_bugs > 0 {
            let _ = write!(line, " | ENGINE BUGS {}", self.engine_bugs);
        }
        if let Some(stability) = self.stability {
            let _ = write!(line, " | stability {stability:.1}%");
        }
        line
    }

    /// Run time of every session of the campaign (a resumed one's earlier sessions included).
    pub fn total_run_time(&self) -> Duration {
        self.run_time + self.carried.run_time
    }

    /// Executions of every session of the campaign.
    pub fn total_execs(&self) -> u64 {
        self.execs + self.carried.execs
    }

    /// Executions of every session of the campaign on this node and the nodes linked to it.
    pub fn all_nodes_execs(&self) -> u64 {
        self.total_execs() + self.linked.execs
    }

    /// Covered edges in percent of the map.
    pub fn coverage_percent(&self) -> f64 {
        match self.edges {
            Some((hit, total)) if total > 0 => hit as f64 * 100.0 / total as f64,
            _ => 0.0,
        }
    }

    /// The `stats` file: `key: value` lines, in the spirit of AFL's `fuzzer_stats`; executions and run time
    /// include the earlier sessions of a resumed campaign, the rate is this session's; on a node linked to others,
    /// their figures follow.
    pub fn stats_file(&self) -> String {
        let (hit, total) = self.edges.unwrap_or((0, 0));
        let mut text = format!(
            "run_time_secs: {}\nexecs_done: {}\nexecs_per_sec: {:.1}\ncores: {}\ncorpus_count: {}\n\
             edges_found: {hit}\nedges_total: {total}\nstability_percent: {:.1}\ncrashes: {}\n\
             crash_inputs: {}\ntimeouts: {}\ntimeout_inputs: {}\nooms: {}\noom_inputs: {}\nengine_bugs: {}\n",
            self.total_run_time().as_secs(),
            self.total_execs(),
            self.execs_per_sec,
            self.cores,
            self.corpus,
            self.stability.unwrap_or(100.0),
            self.crashes.unique,
            self.crashes.inputs,
            self.timeouts.unique,
            self.timeouts.inputs,
            self.ooms.unique,
            self.ooms.inputs,
            self.engine_bugs
        );
        if self.linked.nodes > 0 {
            let _ = write!(
                text,
                "linked_nodes: {}\nlinked_execs_done: {}\nlinked_execs_per_sec: {:.1}\nall_nodes_execs_done: {}\n",
                self.linked.nodes,
                self.linked.execs,
                self.linked.execs_per_sec,
                self.all_nodes_execs()
            );
        }
        text
    }
}

/// `1h02m03s`-style durations.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m{:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

/// `12.3k`-style rates.
pub fn pretty(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1}k", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}
