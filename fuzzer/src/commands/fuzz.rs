//! `capicola fuzz`: a coverage-guided campaign on a Wasm target, with the options fuzzing users know from libFuzzer and AFL++.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use capicola::fuzz::Instrumentation;
use capicola::fuzz::campaign::{self, CampaignOptions};
use capicola::fuzz::monitor::StatusView;
use capicola::fuzz::node::NodeOptions;
use capicola::fuzz::settings::Settings;
use capicola::fuzz::stats::{format_duration, pretty};
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{RunArgs, shell_word, target_name};

/// Fuzzes a WebAssembly target, resetting it to a snapshot taken after its initialization for every input.
///
/// TARGET is a libFuzzer harness (it exports `LLVMFuzzerTestOneInput`, and optionally `LLVMFuzzerInitialize`
/// and `malloc`) or a whole WASI program (it exports `_start`) that reads its input from standard input, or from
/// the file named by `@@` in ARGS: `capicola fuzz prog.wasm -- --strict @@`. A WASI program runs until it first
/// reads its input; every input then starts from there.
///
/// Sanitizer: on by default for libFuzzer harnesses whose allocator the engine recognizes (`malloc` and `free`,
/// in a module with function names), off otherwise; `--sanitize` forces it on, `--no-sanitize` off, and
/// `--detect-leaks` adds leak checks at the end of each input. The banner says what it checks. Its findings are
/// crashes, one per violation and three innermost functions (`crashes/heap-buffer-overflow-parse-<hash>`), each
/// with its ASan-style report beside it in `crashes/.<name>.txt`.
///
/// Findings go to OUT: `queue/` (inputs that reached new coverage), `crashes/` (one input per trap kind and
/// innermost functions), `timeouts/` (one per stack where the fuel or time ran out), `ooms/` (inputs that grew
/// memory past `--max-memory`), `engine-bugs/` (inputs that made capicola itself panic) and `stats`; beside each
/// finding, `.<name>.count` holds how many inputs hit it. Each file is written atomically: a campaign stopped in any way can go on with
/// `--resume`. OUT/settings records what decides how an input runs (the target, `--max-len`, `--fuel`, `--timeout`,
/// the limits, the sanitizer, `--dedup-frames`, ARGS; and the seed and dictionaries): `capicola replay
/// OUT/crashes/*` (and `tmin`, `cmin`, `debug` on OUT's files) run a finding as the campaign ran it.
///
/// Mutations: havoc, dictionary tokens (from `--dict` files and, automatically, from the module's data segments
/// and the constants it compares against) and input-to-state replacement from a cmplog-instrumented run of each
/// queue entry.
///
/// On a terminal, a dashboard shows the campaign as it goes (`q` or Ctrl-C stops it, keeping everything it found,
/// then the summary is printed); elsewhere, and with --no-tui, a status line does. Under the dashboard, what the
/// clients of a multi-core campaign print goes to OUT/clients.log.
///
/// Time: `--max-total-time` bounds the whole command, the target's initialization included (an
/// `LLVMFuzzerInitialize` or a WASI program still running when it ends is an error); `--timeout` bounds each input.
///
/// libFuzzer's spelling, as `cargo fuzz run` passes it, is accepted too: CORPUS directories after TARGET
/// (`capicola fuzz t.wasm CORPUS SEEDS...`) and these `-flag=value` flags, each read as the capicola flag in
/// parentheses: -runs=N (--runs; -1 no limit), -max_len=N (--max-len; 0 the default), -max_total_time=S
/// (--max-total-time; 0 no limit), -seed=N (--seed; 0 a random one), -dict=FILE (--dict), -timeout=S (--timeout),
/// -rss_limit_mb=N (--max-memory NM; 0 no limit), -jobs=N and -workers=N (--jobs; -workers wins when both are
/// given), -only_ascii=0 (-only_ascii=1 is not supported), -artifact_prefix=DIR/ (--output DIR: crashes go to
/// DIR/crashes/, not to DIR/crash-<sha1> as with libFuzzer). Any other `-name=value` is an error. Unlike libFuzzer,
/// which writes the inputs it finds into the first CORPUS directory, capicola reads every CORPUS directory as a
/// seed folder (as `-i`) and writes nothing into it: what it finds goes to OUT/queue (pass that folder, or
/// `--resume`, to go on from it). A file instead of a directory is an error: `capicola replay TARGET FILE` runs one
/// input.
///
/// Exit codes: 0 the campaign ran until one of its limits (findings are not failures); 1 with `--stop-on-crash`,
/// it stopped at a crash (as libFuzzer exits at its first); 2 a usage or load error, or an initialization that did
/// not finish within `--max-total-time`.
#[derive(Debug, clap::Args)]
pub struct FuzzCommand {
    /// The fuzz target (.wasm or .wat).
    target: PathBuf,
    /// Corpus directories, libFuzzer's way: read as seed folders (as `-i`); new inputs go to OUT/queue.
    #[arg(value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    /// Output folder [default: fuzz-out/<target name>].
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// Seed inputs: a folder or a file (repeatable) [default: corpora/<target name>/ when present].
    #[arg(short = 'i', long = "input", value_name = "SEEDS")]
    seeds: Vec<PathBuf>,
    /// Number of cores to fuzz on, one process each bound to its core (LibAFL's launcher): at most the cores this
    /// process may run on. Killing the launcher, even with `kill -9`, ends its clients (each after the input it runs).
    #[arg(short = 'j', long = "jobs", value_name = "CORES", default_value_t = 1)]
    jobs: usize,
    /// Stop after this many seconds, counted from the start, initialization included.
    #[arg(long, value_name = "SECS")]
    max_total_time: Option<u64>,
    /// Stop after this many executions (per core).
    #[arg(long, value_name = "N")]
    runs: Option<u64>,
    /// Seed of the random mutations; the same seed, target and inputs give the same campaign on one core.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// A dictionary in the AFL/libFuzzer format (repeatable).
    #[arg(long = "dict", value_name = "FILE")]
    dicts: Vec<PathBuf>,
    /// Continue the campaign in OUT: its queue is loaded again, and nothing it found is lost.
    #[arg(long)]
    resume: bool,
    /// Stop at the first new crash, and exit with 1 when one was found.
    #[arg(long)]
    stop_on_crash: bool,
    /// Leave out the cmplog tracing stage and input-to-state replacement.
    #[arg(long)]
    no_cmplog: bool,
    /// Leave out the tokens taken from the module itself.
    #[arg(long)]
    no_auto_dict: bool,
    /// Instantiate and initialize the target again for every input instead of resetting it to the snapshot
    /// (for measuring what the snapshot saves).
    #[arg(long)]
    fresh_instance: bool,
    /// Show no live status (neither the dashboard nor the status line).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Print the plain status line instead of the full-screen dashboard on a terminal.
    #[arg(long)]
    no_tui: bool,
    /// Port of the broker on the loopback interface (with more than one core) [default: a free one]; the same as
    /// `--listen 127.0.0.1:PORT`.
    #[arg(long, value_name = "PORT", conflicts_with = "listen")]
    broker_port: Option<u16>,
    /// Address of this campaign's broker: `0.0.0.0:PORT` (or `[::]:PORT`) lets campaigns on other machines join it
    /// with --remote-broker. Its clients and the others share new queue entries and crashes, each keeping its own
    /// output folder.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// Join the campaign whose broker listens at HOST:PORT (started with --listen on another machine, or here):
    /// both run the same target, and share new queue entries and crashes both ways.
    #[arg(long, value_name = "HOST:PORT")]
    remote_broker: Option<String>,
    #[command(flatten)]
    run: RunArgs,
}

impl FuzzCommand {
    /// The dashboard on a terminal that can draw it, unless turned off.
    fn status_view(&self) -> StatusView {
        // A terminal that reports no size (0x0, as some CI consoles and `script` sessions do) gets the status
        // line: the dashboard would draw nothing for the whole campaign.
        let can_draw = std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_some_and(|term| term != "dumb")
            && ratatui::crossterm::terminal::size().is_ok_and(|(w, h)| w > 0 && h > 0);
        if self.quiet {
            StatusView::Quiet
        } else if self.no_tui || !can_draw {
            StatusView::Line
        } else {
            StatusView::Dashboard
        }
    }

    pub fn execute(self) -> anyhow::Result<Status> {
        let started = Instant::now();
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        let status = self.status_view();
        let name = target_name(&self.target);
        let mut setup = self
            .run
            .prepare(Some(&self.target), &[], OutputMode::Discard)?;
        // The time limit covers loading the target too: an initialization that never ends stops at it.
        setup.options.fresh = self.fresh_instance;
        setup.options.deadline = self
            .max_total_time
            .and_then(|secs| started.checked_add(Duration::from_secs(secs)));
        let target_options = setup.options.clone();
        let sanitizer = setup.sanitizer.clone();
        let probe = setup.load(Instrumentation {
            coverage: true,
            cmplog: false,
            ..sanitizer.instrumentation()
        })?;
        let out = self
            .output
            .unwrap_or_else(|| PathBuf::from("fuzz-out").join(&name));
        for dir in &self.corpus {
            if !dir.exists() {
                bail!("corpus directory {} does not exist", dir.display());
            }
            if !dir.is_dir() {
                bail!(
                    "{} is not a corpus directory (to run one input: capicola replay {} {})",
                    dir.display(),
                    shell_word(&self.target),
                    shell_word(dir)
                );
            }
        }
        let mut seeds = self.seeds;
        seeds.extend(self.corpus);
        let seeds = if seeds.is_empty() {
            let default = PathBuf::from("corpora").join(&name);
            if default.is_dir() {
                vec![default]
            } else {
                Vec::new()
            }
        } else {
            seeds
        };
        for seed in &seeds {
            if !seed.exists() {
                bail!("seed input {} does not exist", seed.display());
            }
        }
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
        errln!(
            "capicola fuzz: {} ({}, {} edges), seed {seed}, max-len {}, {} core(s), output {}",
            self.target.display(),
            probe.kind().describe(),
            probe.map_len(),
            target_options.max_len,
            self.jobs,
            out.display()
        );
        errln!("{}", sanitizer.banner(probe.module()));
        drop(probe);
        let settings = Settings {
            seed: Some(seed),
            dicts: self
                .dicts
                .iter()
                .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone()))
                .collect(),
            ..setup.settings
        };
        let options = CampaignOptions {
            wasm: setup.wasm,
            settings,
            target: target_options,
            seeds,
            out: out.clone(),
            resume: self.resume,
            jobs: self.jobs,
            max_total_time: self.max_total_time.map(Duration::from_secs),
            runs: self.runs,
            seed,
            dicts: self.dicts,
            auto_dict: !self.no_auto_dict,
            cmplog: !self.no_cmplog,
            stop_on_crash: self.stop_on_crash,
            sanitizer,
            status,
            node: NodeOptions {
                listen: self.listen.or(self
                    .broker_port
                    .map(|port| std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)))),
                remote: self.remote_broker,
            },
            launcher: None,
        };
        let summary = campaign::run(&options)
            .with_context(|| format!("fuzzing {} into {}", self.target.display(), out.display()))?;
        if summary.line_open {
            errln!();
        }
        outln!(
            "done: {} execs in {} ({} execs/s on {} core(s))",
            summary.execs,
            format_duration(summary.elapsed),
            pretty(summary.execs_per_sec()),
            summary.cores
        );
        if summary.linked.nodes > 0 {
            outln!(
                "nodes:       {} execs on this node and the {} linked to it ({} execs/s from them at last report)",
                summary.execs + summary.linked.execs,
                summary.linked.nodes,
                pretty(summary.linked.execs_per_sec)
            );
        }
        if let Some((hit, total)) = summary.edges {
            match summary.seed_edges {
                Some(seeds) => {
                    outln!("edges:       {hit} of {total} covered ({seeds} by the initial inputs)")
                }
                None => outln!("edges:       {hit} of {total} covered"),
            }
        }
        outln!(
            "corpus:      {} inputs in {}",
            summary.corpus,
            out.join("queue").display()
        );
        if summary.corpus == 0 {
            outln!(
                "             (no initial input ran to its end without a finding: nothing to fuzz from)"
            );
        }
        outln!(
            "crashes:     {} unique ({} inputs) in {}",
            summary.crashes.unique,
            summary.crashes.inputs,
            out.join("crashes").display()
        );
        outln!(
            "timeouts:    {} unique ({} inputs) in {}",
            summary.timeouts.unique,
            summary.timeouts.inputs,
            out.join("timeouts").display()
        );
        if summary.ooms.unique > 0 {
            outln!(
                "ooms:        {} unique ({} inputs) in {} (grew memory past --max-memory)",
                summary.ooms.unique,
                summary.ooms.inputs,
                out.join("ooms").display()
            );
        }
        if summary.engine_bugs > 0 {
            outln!(
                "engine bugs: {} in {} (capicola itself panicked: please report them)",
                summary.engine_bugs,
                out.join("engine-bugs").display()
            );
        }
        if summary.crashes.unique > 0 {
            // The folder quoted, the glob outside the quotes for the shell to expand.
            outln!(
                "replay them: capicola replay {} {}/*",
                shell_word(&self.target),
                shell_word(out.join("crashes"))
            );
            // The newest crash, opened in the time-travel debugger.
            let newest = capicola::fuzz::output::input_files(&out.join("crashes"))
                .unwrap_or_default()
                .into_iter()
                .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
            if let Some(crash) = newest {
                outln!(
                    "debug one:   {}",
                    super::common::debug_command_line(&self.target, &crash, &self.run.args)
                );
            }
        }
        Ok(if self.stop_on_crash && summary.crashes.unique > 0 {
            Status::Trapped
        } else {
            Status::Success
        })
    }
}
