//! The campaign's live status: a LibAFL monitor that shows the numbers (a dashboard or one status line on a terminal, a line now and then elsewhere) and keeps the `stats` file of the output directory up to date, with AFL++'s `fuzzer_stats` and `plot_data` beside it.

use std::io::{IsTerminal, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libafl::monitors::Monitor;
use libafl::monitors::stats::{ClientStatsManager, UserStatsValue};
use libafl_bolts::{ClientId, Error};

use super::afl::{AflSession, append_plot_row, keep_last_times};
use super::dashboard::Dashboard;
use super::node::{LinkedNodes, linked_sum};
use super::output::{OutputDir, input_files};
use super::stats::{Carried, LiveStats};
use super::target::FindingClass;
use crate::files::{read_bounded, write_atomically};

/// How the live status is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusView {
    /// Not at all (the `stats` file is still written).
    Quiet,
    /// A status line: rewritten in place on a terminal, a new one every few seconds elsewhere.
    Line,
    /// The full-screen dashboard (a status line if the terminal cannot be taken over).
    Dashboard,
}

/// How often the status line is printed on a terminal and elsewhere (and the dashboard's numbers refreshed).
const TTY_INTERVAL: Duration = Duration::from_millis(500);
pub const LOG_INTERVAL: Duration = Duration::from_secs(5);
/// How often the stats files are rewritten.
const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// How often a line is added to `plot_data` (as often as AFL++ does).
const PLOT_INTERVAL: Duration = Duration::from_secs(5);

/// Shows the live status and writes the stats file; shares the latest numbers with the caller.
#[derive(Clone)]
pub struct StatusMonitor {
    shared: Arc<Mutex<LiveStats>>,
    dashboard: Arc<Mutex<DashboardState>>,
    output: OutputDir,
    target: String,
    view: StatusView,
    tty: bool,
    last_print: Option<Instant>,
    last_stats: Option<Instant>,
    last_plot: Option<Instant>,
    /// Crashes, timeouts, out-of-memory findings and engine bugs on disk at the last update (`None` before the
    /// first).
    findings: Option<[usize; 4]>,
    afl: AflSession,
    /// Cores the campaign runs on: a client that LibAFL's respawner started again after it died registers as a new
    /// one, and is not one more core.
    jobs: usize,
    /// What the nodes linked to this one last told of themselves (filled by the broker's hook).
    linked: LinkedNodes,
}

impl std::fmt::Debug for StatusMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusMonitor")
            .field("output", &self.output)
            .finish_non_exhaustive()
    }
}

impl StatusMonitor {
    /// A monitor showing the status of a campaign on `target` (its name) as `view` says, on standard error. The
    /// dashboard starts with the first numbers, in the process that receives them (the broker, with several
    /// cores).
    /// `carried` is what the earlier sessions of a resumed campaign did; `jobs` the cores it runs on. A campaign
    /// with no earlier session starts a new `plot_data`.
    pub fn new(
        output: OutputDir,
        target: &str,
        view: StatusView,
        carried: Carried,
        jobs: usize,
    ) -> (StatusMonitor, StatusHandle) {
        let shared = Arc::new(Mutex::new(LiveStats {
            carried,
            ..LiveStats::default()
        }));
        let dashboard = Arc::new(Mutex::new(DashboardState::Unstarted));
        if carried == Carried::default() {
            // Advisory, as the stats files are: one that cannot be removed is appended to.
            let _ = std::fs::remove_file(output.plot_data());
        }
        let afl = AflSession::start(target);
        let monitor = StatusMonitor {
            shared: shared.clone(),
            dashboard: dashboard.clone(),
            output,
            target: target.to_string(),
            view,
            tty: std::io::stderr().is_terminal(),
            last_print: None,
            last_stats: None,
            last_plot: None,
            findings: None,
            afl: afl.clone(),
            jobs,
            linked: LinkedNodes::default(),
        };
        (
            monitor,
            StatusHandle {
                shared,
                dashboard,
                afl,
            },
        )
    }

    /// Where the broker's hook puts what linked nodes tell of themselves.
    pub fn linked_nodes(&self) -> LinkedNodes {
        self.linked.clone()
    }

    /// Starts the dashboard once; falls back to the status line if it cannot start.
    fn show_dashboard(&mut self) {
        let mut state = self.dashboard.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*state, DashboardState::Unstarted) {
            match Dashboard::start(
                self.shared.clone(),
                self.output.clone(),
                self.target.clone(),
            ) {
                Ok(dashboard) => *state = DashboardState::Running(dashboard),
                Err(_) => {
                    *state = DashboardState::Closed;
                    self.view = StatusView::Line;
                }
            }
        }
    }
}

/// The dashboard's life: started by the monitor with the first numbers, closed by the campaign before its summary,
/// never started again.
#[derive(Debug)]
enum DashboardState {
    Unstarted,
    /// Held for its `Drop`, which gives the terminal back.
    Running(#[allow(dead_code)] Dashboard),
    Closed,
}

/// The campaign's hold on its monitor: the latest numbers, and the dashboard, closed when this is dropped.
#[derive(Debug)]
pub struct StatusHandle {
    shared: Arc<Mutex<LiveStats>>,
    dashboard: Arc<Mutex<DashboardState>>,
    afl: AflSession,
}

impl StatusHandle {
    /// Closes the dashboard, giving the terminal back, and returns the latest numbers.
    pub fn finish(&self) -> LiveStats {
        self.close_dashboard();
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Writes AFL++'s `fuzzer_stats` and a last `plot_data` line with the campaign's final numbers.
    pub fn write_afl_files(&self, output: &OutputDir, stats: &LiveStats) -> std::io::Result<()> {
        let mut text = self.afl.fuzzer_stats(stats);
        // Far longer than the file ever is; a longer one is not this campaign's and is replaced.
        if let Ok(previous) = read_bounded(&output.fuzzer_stats(), 1 << 16) {
            text = keep_last_times(&text, &String::from_utf8_lossy(&previous));
        }
        write_atomically(&output.fuzzer_stats(), text.as_bytes())?;
        append_plot_row(&output.plot_data(), stats)
    }

    fn close_dashboard(&self) {
        let mut state = self.dashboard.lock().unwrap_or_else(|e| e.into_inner());
        // Dropping a running dashboard gives the terminal back.
        *state = DashboardState::Closed;
    }
}

impl Drop for StatusHandle {
    fn drop(&mut self) {
        self.close_dashboard();
    }
}

fn stability(manager: &ClientStatsManager) -> Option<f64> {
    manager
        .aggregated()
        .iter()
        .find(|(name, _)| name.ends_with("stability"))
        .and_then(|(_, value)| match value {
            UserStatsValue::Ratio(a, b) if *b > 0 => Some(*a as f64 * 100.0 / *b as f64),
            UserStatsValue::Percent(p) => Some(p * 100.0),
            UserStatsValue::Float(f) => Some(*f),
            _ => None,
        })
}

impl Monitor for StatusMonitor {
    fn display(
        &mut self,
        manager: &mut ClientStatsManager,
        event_msg: &str,
        sender_id: ClientId,
    ) -> Result<(), Error> {
        manager.client_stats_insert(sender_id)?;
        let now = Instant::now();
        let due = |last: Option<Instant>, every: Duration| last.is_none_or(|t| now - t >= every);
        let print_every = if self.tty { TTY_INTERVAL } else { LOG_INTERVAL };
        let show = self.view != StatusView::Quiet
            && (due(self.last_print, print_every) || event_msg == "Objective");
        let write = due(self.last_stats, STATS_INTERVAL);
        let plot = due(self.last_plot, PLOT_INTERVAL);
        if !show && !write && !plot {
            return Ok(());
        }
        if show && self.view == StatusView::Dashboard {
            self.show_dashboard();
        }
        let global = manager.global_stats();
        let (execs, rate, corpus, cores, run_time) = (
            global.total_execs,
            global.execs_per_sec,
            global.corpus_size,
            global.client_stats_count,
            global.run_time,
        );
        let edges = manager
            .edges_coverage()
            .map(|e| (e.edges_hit, e.edges_total));
        let stability = stability(manager);
        let mut stats = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        stats.execs = execs;
        // LibAFL's rate needs a few seconds of history; until then, the average since the start.
        stats.execs_per_sec = if rate > 0.0 {
            rate
        } else {
            execs as f64 / run_time.as_secs_f64().max(1e-3)
        };
        stats.cores = cores.min(self.jobs);
        stats.run_time = run_time;
        if let Some((hit, _)) = edges
            && stats.edges.is_none_or(|(before, _)| hit > before)
        {
            stats.last_new_edges = Some(run_time);
        }
        if edges.is_some() {
            stats.edges = edges;
        }
        stats.stability = stability.or(stats.stability);
        stats.linked = linked_sum(&self.linked);
        // Unique inputs on disk: with several cores, LibAFL's corpus size sums every client's corpus, each holding
        // what the others found too.
        stats.corpus = input_files(&self.output.queue()).map_or(corpus, |files| files.len() as u64);
        stats.crashes = self.output.tally(FindingClass::Crash);
        stats.timeouts = self.output.tally(FindingClass::Timeout);
        stats.ooms = self.output.tally(FindingClass::OutOfMemory);
        stats.engine_bugs = self.output.count(FindingClass::EngineBug);
        let findings = [
            stats.crashes.unique,
            stats.timeouts.unique,
            stats.ooms.unique,
            stats.engine_bugs,
        ];
        if let Some(before) = self.findings {
            let grew = |class: usize| findings[class] > before[class];
            if (0..findings.len()).any(grew) {
                stats.last_finding = Some(run_time);
            }
            if grew(0) {
                stats.last_crash = Some(run_time);
            }
            if grew(1) {
                stats.last_timeout = Some(run_time);
            }
        }
        self.findings = Some(findings);
        // The stats files are advisory: failing to write them must not stop the campaign.
        if write {
            self.last_stats = Some(now);
            let _ = write_atomically(&self.output.stats(), stats.stats_file().as_bytes());
            let _ = write_atomically(
                &self.output.fuzzer_stats(),
                self.afl.fuzzer_stats(&stats).as_bytes(),
            );
        }
        if plot {
            self.last_plot = Some(now);
            let _ = append_plot_row(&self.output.plot_data(), &stats);
        }
        if show {
            self.last_print = Some(now);
        }
        if show && self.view == StatusView::Line {
            let mut err = std::io::stderr().lock();
            if self.tty {
                let _ = write!(err, "\r\x1b[K{}", stats.line());
                stats.line_open = true;
            } else {
                let _ = writeln!(err, "{}", stats.line());
            }
            let _ = err.flush();
        }
        Ok(())
    }
}
