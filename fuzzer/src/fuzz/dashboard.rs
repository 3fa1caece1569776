//! The campaign's dashboard: a full-screen terminal view of its [`LiveStats`], redrawn a few times a second by a thread of its own, where `q` or Ctrl-C asks the campaign to stop the way a spent budget stops it.

use std::collections::VecDeque;
use std::io::{self, BufWriter, Stderr, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Padding, Paragraph, Sparkline};
use ratatui::{Frame, Terminal};

use super::output::{OutputDir, input_files};
use super::stats::{LiveStats, format_duration, pretty};
use super::target::FindingClass;

/// Time between two redraws.
const FRAME: Duration = Duration::from_millis(250);
/// Longest wait for a key (and so for the dashboard to notice it must close).
const KEY_WAIT: Duration = Duration::from_millis(50);
/// Time between two samples of the execution rate, and two listings of the findings.
const SAMPLE: Duration = Duration::from_secs(1);
/// Samples kept: more than a terminal is wide.
const HISTORY: usize = 512;
/// Findings listed, newest first.
const LATEST: usize = 8;
/// The dashboard thread's name, by which the panic hook tells its panics from the campaign's.
const THREAD: &str = "capicola-dashboard";

/// The terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The latest panic report of another thread than the dashboard's, kept off the screen.
static HELD_PANIC: Mutex<Option<String>> = Mutex::new(None);
static PANIC_HOOK: Once = Once::new();

/// A saved finding: `crashes/<name>` and the time since it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub age: Option<Duration>,
}

/// Everything one frame shows.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The target's file name.
    pub target: String,
    pub out: PathBuf,
    pub stats: LiveStats,
    /// Executions per second, one sample a second, oldest first.
    pub rates: VecDeque<u64>,
    /// The newest findings first.
    pub findings: Vec<Finding>,
    /// A stop was asked for and the campaign is winding down.
    pub stopping: bool,
}

impl View {
    fn sample(&mut self) {
        if self.rates.len() == HISTORY {
            self.rates.pop_front();
        }
        self.rates
            .push_back(self.stats.execs_per_sec.round() as u64);
    }
}

/// The newest `n` findings of every class.
pub fn latest_findings(output: &OutputDir, n: usize) -> Vec<Finding> {
    let now = SystemTime::now();
    let mut found: Vec<(Option<SystemTime>, String)> = Vec::new();
    for class in [
        FindingClass::Crash,
        FindingClass::Timeout,
        FindingClass::OutOfMemory,
        FindingClass::EngineBug,
    ] {
        let dir = output.dir(class);
        let folder = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for path in input_files(&dir).unwrap_or_default() {
            let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push((written, format!("{folder}/{name}")));
        }
    }
    found.sort_by(|a, b| b.cmp(a));
    found
        .into_iter()
        .take(n)
        .map(|(written, path)| Finding {
            path,
            age: written.and_then(|t| now.duration_since(t).ok()),
        })
        .collect()
}

/// `3.0s ago`, or `never`.
fn ago(stats: &LiveStats, at: Option<Duration>) -> String {
    at.map_or_else(
        || "never".to_string(),
        |t| format!("{} ago", format_duration(stats.run_time.saturating_sub(t))),
    )
}

fn row<'a>(label: &'a str, value: impl Into<Span<'a>>) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<13}"), Style::new().fg(Color::DarkGray)),
        value.into(),
    ])
}

fn count_style(n: usize, color: Color) -> Style {
    if n > 0 {
        Style::new().fg(color).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    }
}

/// Draws the dashboard.
pub fn render(frame: &mut Frame, view: &View) {
    let stats = &view.stats;
    // The findings give up lines first on a short terminal: the numbers and the history keep theirs.
    let findings_height = frame
        .area()
        .height
        .saturating_sub(1 + 9 + 1 + 4)
        .clamp(3, LATEST as u16 + 2);
    let [header, numbers, coverage, history, findings] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(9),
        Constraint::Length(1),
        Constraint::Min(4),
        Constraint::Length(findings_height),
    ])
    .areas(frame.area());

    let hint = if view.stopping {
        Span::styled(
            "stopping…",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled("q: stop", Style::new().fg(Color::DarkGray))
    };
    let [title, keys] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(10)]).areas(header);
    frame.render_widget(
        Line::from(vec![
            Span::styled(
                " capicola fuzz ",
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ),
            Span::raw(format!(" {} → {}", view.target, view.out.display())),
        ]),
        title,
    );
    frame.render_widget(Line::from(hint).right_aligned(), keys);

    let average = stats.execs as f64 / stats.run_time.as_secs_f64().max(1e-3);
    let edges = stats.edges.map_or_else(
        || "-".to_string(),
        |(hit, total)| format!("{hit}/{total} ({:.1}%)", percent(hit, total)),
    );
    let left = vec![
        row("run time", format_duration(stats.run_time)),
        row("cores", stats.cores.to_string()),
        row("execs", stats.execs.to_string()),
        row(
            "execs/s",
            format!(
                "{} now, {} average",
                pretty(stats.execs_per_sec),
                pretty(average)
            ),
        ),
        row("edges", edges),
        row("new edges", ago(stats, stats.last_new_edges)),
        row(
            "nodes",
            if stats.linked.nodes == 0 {
                "1 (not linked)".to_string()
            } else {
                format!(
                    "{} (the others: {} execs)",
                    stats.linked.nodes + 1,
                    stats.linked.execs
                )
            },
        ),
    ];
    let findings_total =
        stats.crashes.unique + stats.timeouts.unique + stats.ooms.unique + stats.engine_bugs;
    let right = vec![
        row("corpus", stats.corpus.to_string()),
        row(
            "crashes",
            Span::styled(
                stats.crashes.to_string(),
                count_style(stats.crashes.unique, Color::Red),
            ),
        ),
        row(
            "timeouts",
            Span::styled(
                stats.timeouts.to_string(),
                count_style(stats.timeouts.unique, Color::Yellow),
            ),
        ),
        row(
            "ooms",
            Span::styled(
                stats.ooms.to_string(),
                count_style(stats.ooms.unique, Color::Yellow),
            ),
        ),
        row(
            "engine bugs",
            Span::styled(
                stats.engine_bugs.to_string(),
                count_style(stats.engine_bugs, Color::Magenta),
            ),
        ),
        row(
            "last find",
            if findings_total > 0 {
                ago(stats, stats.last_finding)
            } else {
                "none yet".to_string()
            },
        ),
        row(
            "stability",
            stats
                .stability
                .map_or_else(|| "-".to_string(), |s| format!("{s:.1}%")),
        ),
    ];
    let block = Block::bordered()
        .title(" status ")
        .padding(Padding::horizontal(1));
    let inner = block.inner(numbers);
    frame.render_widget(block, numbers);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(41), Constraint::Percentage(45)])
            .spacing(1)
            .areas(inner);
    frame.render_widget(Paragraph::new(left), left_area);
    frame.render_widget(Paragraph::new(right), right_area);

    let (hit, total) = stats.edges.unwrap_or((0, 0));
    frame.render_widget(
        Gauge::default()
            .gauge_style(Style::new().fg(Color::Green).bg(Color::Black))
            .ratio((percent(hit, total) / 100.0).clamp(0.0, 1.0))
            .label(format!("coverage {:.1}%", percent(hit, total))),
        coverage,
    );

    render_history(frame, history, view);

    let block = Block::bordered()
        .title(" latest findings ")
        .padding(Padding::horizontal(1));
    let lines: Vec<Line> = if view.findings.is_empty() {
        vec![Line::styled("none yet", Style::new().fg(Color::DarkGray))]
    } else {
        view.findings
            .iter()
            .map(|f| {
                let age = f
                    .age
                    .map(|a| format!("  {} ago", format_duration(a)))
                    .unwrap_or_default();
                Line::from(vec![
                    Span::raw(f.path.clone()),
                    Span::styled(age, Style::new().fg(Color::DarkGray)),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), findings);
}

fn render_history(frame: &mut Frame, area: Rect, view: &View) {
    let width = area.width.saturating_sub(2) as usize;
    let shown = view.rates.len().min(width);
    let skip = view.rates.len() - shown;
    let peak = view.rates.iter().skip(skip).max().copied().unwrap_or(0);
    let block = Block::bordered().title(format!(
        " execs/s, last {} (peak {}) ",
        format_duration(SAMPLE * shown as u32),
        pretty(peak as f64)
    ));
    frame.render_widget(
        Sparkline::default()
            .block(block)
            .style(Style::new().fg(Color::Cyan))
            .data(view.rates.iter().skip(skip)),
        area,
    );
}

fn percent(hit: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        hit as f64 * 100.0 / total as f64
    }
}

/// Leaves raw mode and the alternate screen, once.
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(io::stderr(), LeaveAlternateScreen, cursor::Show);
    }
}

/// A panic of the dashboard thread restores the terminal before it is reported. A panic of another thread may be
/// an engine panic that the campaign catches and saves as a finding: its report waits off the screen, and
/// [`Dashboard`] prints it if the panic unwinds through it (the campaign ended with it).
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if !ACTIVE.load(Ordering::SeqCst) || thread.name() == Some(THREAD) {
                restore();
                previous(info);
            } else {
                let report = format!("thread '{}' {info}", thread.name().unwrap_or("<unnamed>"));
                *HELD_PANIC.lock().unwrap_or_else(PoisonError::into_inner) = Some(report);
            }
        }));
    });
}

fn is_stop_key(key: &KeyEvent) -> bool {
    key.kind == KeyEventKind::Press
        && match key.code {
            KeyCode::Char('q' | 'Q') => true,
            KeyCode::Char('c') => key.modifiers.contains(KeyModifiers::CONTROL),
            _ => false,
        }
}

type Screen = Terminal<CrosstermBackend<BufWriter<Stderr>>>;

/// The running dashboard: it holds the terminal (on standard error) until dropped.
pub struct Dashboard {
    close: Arc<AtomicBool>,
    interrupted: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard").finish_non_exhaustive()
    }
}

impl Dashboard {
    /// Takes over the terminal and starts drawing `stats`. A stop asked for by key or by SIGINT/SIGTERM goes to
    /// `output` ([`OutputDir::request_stop`]), where the campaign's clients look for it.
    pub fn start(
        stats: Arc<Mutex<LiveStats>>,
        output: OutputDir,
        target: String,
    ) -> io::Result<Dashboard> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let screen = (|| {
            let mut backend = CrosstermBackend::new(BufWriter::new(io::stderr()));
            execute!(backend, EnterAlternateScreen, cursor::Hide)?;
            Terminal::new(backend)
        })();
        let screen = match screen {
            Ok(screen) => screen,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        // The terminal sends no SIGINT for Ctrl-C in raw mode; these come from elsewhere (`kill`). The first asks
        // for a clean stop, a second ends the process at once.
        let interrupted = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register_conditional_shutdown(signal, 1, interrupted.clone())?;
            signal_hook::flag::register(signal, interrupted.clone())?;
        }
        let close = Arc::new(AtomicBool::new(false));
        let view = View {
            target,
            out: output.root().to_path_buf(),
            ..View::default()
        };
        let thread = {
            let (close, interrupted) = (close.clone(), interrupted.clone());
            std::thread::Builder::new()
                .name(THREAD.into())
                .spawn(move || {
                    draw_until_closed(screen, view, &stats, &output, &close, &interrupted)
                })
        };
        match thread {
            Ok(thread) => Ok(Dashboard {
                close,
                interrupted,
                thread: Some(thread),
            }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

fn draw_until_closed(
    mut screen: Screen,
    mut view: View,
    stats: &Mutex<LiveStats>,
    output: &OutputDir,
    close: &AtomicBool,
    interrupted: &AtomicBool,
) {
    let mut last_sample: Option<Instant> = None;
    let mut last_frame: Option<Instant> = None;
    let mut stop = false;
    while !close.load(Ordering::SeqCst) {
        if (stop || interrupted.load(Ordering::SeqCst)) && !view.stopping {
            // The request is a file in the output folder; if it cannot be written the campaign goes on, and the
            // dashboard says so by not showing "stopping".
            view.stopping = output.request_stop().is_ok();
        }
        let now = Instant::now();
        if last_frame.is_none_or(|t| now - t >= FRAME) {
            view.stats = stats.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if last_sample.is_none_or(|t| now - t >= SAMPLE) {
                last_sample = Some(now);
                view.sample();
                view.findings = latest_findings(output, LATEST);
            }
            last_frame = Some(now);
            if screen.draw(|frame| render(frame, &view)).is_err() {
                break;
            }
        }
        match event::poll(KEY_WAIT) {
            Ok(true) => {
                if let Ok(Event::Key(key)) = event::read() {
                    stop |= is_stop_key(&key);
                }
            }
            Ok(false) => {}
            Err(_) => std::thread::sleep(KEY_WAIT),
        }
    }
}

impl Drop for Dashboard {
    /// Gives the terminal back. From then on, SIGINT and SIGTERM end the process at once, as they did before.
    fn drop(&mut self) {
        self.close.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.interrupted.store(true, Ordering::SeqCst);
        restore();
        if std::thread::panicking()
            && let Some(report) = HELD_PANIC
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        {
            // A closed or full stderr loses the report; a panic while panicking would abort.
            let _ = writeln!(io::stderr(), "{report}");
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::fuzz::output::Tally;

    fn screen_text(view: &View, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
        terminal
            .draw(|frame| render(frame, view))
            .expect("drawing into memory");
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    fn busy_campaign() -> View {
        let stats = LiveStats {
            execs: 1_234_567,
            execs_per_sec: 12_345.0,
            corpus: 321,
            edges: Some((345, 4096)),
            stability: Some(99.5),
            crashes: Tally {
                unique: 2,
                inputs: 7,
            },
            timeouts: Tally {
                unique: 1,
                inputs: 1,
            },
            ooms: Tally::default(),
            engine_bugs: 0,
            cores: 2,
            run_time: Duration::from_secs(125),
            last_new_edges: Some(Duration::from_secs(122)),
            last_finding: Some(Duration::from_secs(65)),
            last_crash: Some(Duration::from_secs(65)),
            last_timeout: None,
            line_open: false,
            carried: Default::default(),
            linked: Default::default(),
        };
        let mut view = View {
            target: "tlv.wasm".into(),
            out: PathBuf::from("fuzz-out/tlv"),
            stats,
            findings: vec![Finding {
                path: "crashes/out-of-bounds-memory-access-0123abcd".into(),
                age: Some(Duration::from_secs(60)),
            }],
            ..View::default()
        };
        for _ in 0..30 {
            view.sample();
        }
        view
    }

    #[test]
    fn the_dashboard_shows_the_campaigns_numbers() {
        for (width, height) in [(80, 24), (120, 40)] {
            let text = screen_text(&busy_campaign(), width, height);
            for expected in [
                "tlv.wasm → fuzz-out/tlv",
                "q: stop",
                "run time     2m05s",
                "cores        2",
                "execs        1234567",
                "execs/s      12.3k now, 9.9k average",
                "edges        345/4096 (8.4%)",
                "new edges    3.0s ago",
                "corpus       321",
                "crashes      2 (7 inputs)",
                "timeouts     1 (1 inputs)",
                "ooms         0 (0 inputs)",
                "engine bugs  0",
                "last find    1m00s ago",
                "stability    99.5%",
                "nodes        1 (not linked)",
                "coverage 8.4%",
                "execs/s, last 30.0s (peak 12.3k)",
                "crashes/out-of-bounds-memory-access-0123abcd  1m00s ago",
            ] {
                assert!(text.contains(expected), "{expected:?} missing from\n{text}");
            }
        }
    }

    #[test]
    fn a_new_campaign_shows_nothing_found_yet_and_a_stop_in_progress() {
        let view = View {
            target: "t.wasm".into(),
            stopping: true,
            ..View::default()
        };
        let text = screen_text(&view, 80, 24);
        assert!(text.contains("stopping…"), "{text}");
        assert!(text.contains("last find    none yet"), "{text}");
        assert!(text.contains("new edges    never"), "{text}");
        assert!(text.contains("edges        -"), "{text}");
    }

    #[test]
    fn the_history_keeps_the_latest_samples() {
        let mut view = View::default();
        for rate in 0..HISTORY as u64 + 10 {
            view.stats.execs_per_sec = rate as f64;
            view.sample();
        }
        assert_eq!(view.rates.len(), HISTORY);
        assert_eq!(view.rates.front(), Some(&10));
    }

    #[test]
    fn latest_findings_lists_every_class_newest_first() {
        let work = tempfile::tempdir().expect("temporary folder");
        let output = OutputDir::create(work.path(), false).expect("output folder");
        let old = output.dir(FindingClass::Crash).join("old");
        std::fs::write(&old, b"x").expect("finding written");
        let past = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(past))
            .expect("time set");
        std::fs::write(output.dir(FindingClass::Timeout).join("new"), b"y")
            .expect("finding written");
        let found = latest_findings(&output, 8);
        let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["timeouts/new", "crashes/old"]);
        assert!(found[1].age.is_some_and(|a| a >= Duration::from_secs(3600)));
        assert_eq!(latest_findings(&output, 1).len(), 1);
    }
}
