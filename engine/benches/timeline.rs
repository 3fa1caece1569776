//! Benchmark (not a test): recording a run of 10^9 instructions over a 16 MiB memory as a timeline — its overhead
//! against a plain run and the memory it keeps — the latency of moving back through it from the end, and watches on
//! the whole memory.
//! Run with `cargo bench -p capicola-engine --bench timeline`; `CAPICOLA_BENCH_INSTRUCTIONS` sets the length of
//! the run and `CAPICOLA_BENCH_SCATTER` the random word stores per round (about a million instructions).
//! Long operations also show the thread's CPU time where Linux gives it, and their ratios use it: a busy machine
//! disturbs it less than the wall clock (it is only updated every scheduler tick, so short operations show the
//! wall clock alone, the median of several).

mod timeline_workload;

use std::time::{Duration, Instant};

use capicola_engine::timeline::{End, Stop, Timeline, TimelineConfig, WatchKind, Watchpoint};
use capicola_engine::{Store, Val};
use timeline_workload::{
    EARLY_BYTE, HOST_WORD, ROUND_BYTE, Shape, Ticker, run_plain, run_until, start,
};

/// Runs of the plain and the recorded run; each shows the fastest.
const RUNS: usize = 2;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(s) => s
            .replace('_', "")
            .parse()
            .unwrap_or_else(|e| panic!("{name}={s}: {e}")),
        Err(_) => default,
    }
}

/// Instructions a whole run of `shape` executes.
fn instructions(shape: Shape) -> u64 {
    let (mut store, mut host) = start(false, shape);
    run_plain(&mut store, &mut host);
    store.fuel_consumed()
}

/// Average 4 KiB pages written per `interval` instructions, over the first few intervals of the run.
fn pages_written(shape: Shape, interval: u64) -> usize {
    let (mut store, mut host) = start(true, shape);
    let samples = 8;
    let mut pages = 0;
    for i in 1..=samples {
        store.clear_dirty();
        run_until(&mut store, &mut host, i * interval);
        pages += store.dirty_pages();
    }
    pages / samples as usize
}

/// A line of /proc/self/status in MiB (`VmHWM`: peak resident set), where there is one.
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn rss() -> String {
    match (status_mib("VmHWM:"), status_mib("VmRSS:")) {
        (Some(peak), Some(now)) => format!("peak RSS {peak:.0} MiB, RSS now {now:.0} MiB"),
        _ => "RSS not available".into(),
    }
}

/// Time this thread has spent on a CPU (the first field of /proc/thread-self/schedstat, in nanoseconds).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Wall-clock and CPU time of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Took {
    cpu: Duration,
    wall: Duration,
}

impl Took {
    /// Long enough for the CPU time to be meaningful.
    fn long(self) -> bool {
        !self.cpu.is_zero() && self.wall > Duration::from_millis(200)
    }

    fn min_by_best(self, other: Took) -> Took {
        if other.best() < self.best() {
            other
        } else {
            self
        }
    }

    /// The CPU time of a long operation, else the wall-clock time.
    fn best(self) -> Duration {
        if self.long() { self.cpu } else { self.wall }
    }
}

fn ms(t: Took) -> String {
    let wall = format!("{:>10.3} ms", t.wall.as_secs_f64() * 1e3);
    if t.long() {
        format!("{wall} (cpu {:.0} ms)", t.cpu.as_secs_f64() * 1e3)
    } else {
        wall
    }
}

/// The median by wall-clock time.
fn median(mut v: Vec<Took>) -> Took {
    v.sort_by_key(|t| t.wall);
    v[v.len() / 2]
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Took) {
    let cpu = cpu_time();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed();
    let cpu = match (cpu, cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    (out, Took { cpu, wall })
}

/// Times a plain run to the end; returns the checksum.
fn plain(track_dirty_pages: bool, shape: Shape) -> (i32, Took) {
    let (mut store, mut host): (Store, Ticker) = start(track_dirty_pages, shape);
    timed(|| run_plain(&mut store, &mut host))
}

fn main() {
    let target = env_u64("CAPICOLA_BENCH_INSTRUCTIONS", 1_000_000_000);
    let scatter = env_u64("CAPICOLA_BENCH_SCATTER", 2048) as u32;
    let mut shape = Shape {
        rounds: 1,
        scatter,
        stream: 64 << 10,
        loads: 32 << 10,
    };
    // Calibrate: the instructions of one round, and of the rest.
    let one = instructions(shape);
    shape.rounds = 2;
    let per_round = instructions(shape) - one;
    let fixed = one - per_round;
    shape.rounds = (target.saturating_sub(fixed) / per_round).clamp(1, u32::MAX.into()) as u32;
    let total = fixed + per_round * u64::from(shape.rounds);
    println!(
        "workload: 16 MiB memory, {} rounds of {per_round} instructions ({} random word stores, {} KiB streamed, \
         {} random loads, 1 host call each): {total} instructions",
        shape.rounds,
        shape.scatter,
        shape.stream >> 10,
        shape.loads
    );

    let config = TimelineConfig::default();
    println!(
        "  it writes {} of the 4096 pages per {} instructions (a checkpoint interval)",
        pages_written(shape, config.interval),
        config.interval
    );

    // Plain runs, without and with the dirty-page tracking the timeline needs; each the faster of two, taken in
    // turns.
    let mut untracked = Vec::new();
    let mut tracked = Vec::new();
    for _ in 0..RUNS {
        untracked.push(plain(false, shape));
        tracked.push(plain(true, shape));
    }
    let sum = untracked[0].0;
    assert!(untracked.iter().chain(&tracked).all(|&(s, _)| s == sum));
    let fastest = |v: &[(i32, Took)]| v.iter().map(|&(_, t)| t).reduce(Took::min_by_best);
    let untracked = fastest(&untracked).expect("RUNS > 0");
    let tracked = fastest(&tracked).expect("RUNS > 0");
    let rate = |t: Took| total as f64 / t.best().as_secs_f64() / 1e6;
    println!(
        "plain run, no dirty tracking:   {} ({:.0} M instructions/s, the faster of {RUNS})",
        ms(untracked),
        rate(untracked)
    );
    println!(
        "plain run, dirty tracking:      {} ({:.0} M instructions/s, the faster of {RUNS})",
        ms(tracked),
        rate(tracked)
    );
    println!("  {}", rss());

    // The same run recorded.
    let record = || {
        let (store, host) = start(true, shape);
        timed(|| {
            let mut timeline =
                Timeline::new(store, host, config).expect("the store tracks dirty pages");
            let stop = timeline.continue_forward().expect("records");
            assert_eq!(stop, Stop::End);
            timeline
        })
    };
    let (mut timeline, mut recording) = record();
    for _ in 1..RUNS {
        drop(timeline);
        let (again, took) = record();
        timeline = again;
        recording = recording.min_by_best(took);
    }
    let end = timeline.position();
    assert_eq!(end, total);
    assert_eq!(
        timeline.end(),
        Some((end, &End::Finished(vec![Val::I32(sum)])))
    );
    let ratio = |t: Took, base: Took| t.best().as_secs_f64() / base.best().as_secs_f64();
    println!(
        "recorded run (Timeline, interval {}, budget {} MiB): {} ({:.0} M instructions/s, the faster of {RUNS})",
        config.interval,
        config.budget >> 20,
        ms(recording),
        rate(recording)
    );
    println!(
        "  recording overhead: {:.2}x the plain run, {:.2}x the tracked plain run",
        ratio(recording, untracked),
        ratio(recording, tracked)
    );
    let report = |timeline: &Timeline<Ticker>| {
        let kept = timeline.checkpoints();
        let last_gap = end - kept.last().copied().unwrap_or(0);
        format!(
            "memory used {:.1} MiB, {} checkpoints (last {} instructions before the end)",
            timeline.memory_used() as f64 / f64::from(1 << 20),
            kept.len(),
            last_gap
        )
    };
    println!("  {}", report(&timeline));
    println!(
        "  checkpoints at (millions of instructions before the end): {:?}",
        timeline
            .checkpoints()
            .iter()
            .map(|&c| (end - c) / 1_000_000)
            .collect::<Vec<_>>()
    );
    println!("  {}", rss());

    // Moving back from the end.
    let memory = timeline.host().memory;
    let step_back = |timeline: &mut Timeline<Ticker>, n: usize| -> (Took, Duration) {
        let times: Vec<Took> = (0..n)
            .map(|_| {
                let at = timeline.position();
                let (stop, d) = timed(|| timeline.step_back().expect("steps back"));
                assert_eq!((stop, timeline.position()), (Stop::Reached, at - 1));
                d
            })
            .collect();
        let slowest = times.iter().map(|t| t.wall).max().expect("n > 0");
        (median(times), slowest)
    };
    let steps = 15;
    let (med, max) = step_back(&mut timeline, steps);
    println!(
        "step_back at the end:           {} (median of {steps}, slowest {:.3} ms)",
        ms(med),
        max.as_secs_f64() * 1e3
    );
    let mid = end / 2;
    let from = timeline
        .checkpoints()
        .into_iter()
        .filter(|&c| c <= mid)
        .max()
        .unwrap_or(0);
    let (_, d) = timed(|| timeline.seek(mid).expect("seeks"));
    println!(
        "seek to the middle:             {} (replays {} instructions from a checkpoint)",
        ms(d),
        mid - from
    );
    let (_, d) = timed(|| timeline.seek(end).expect("seeks"));
    println!("seek back to the end:           {}", ms(d));
    let (med, max) = step_back(&mut timeline, steps);
    println!(
        "step_back at the end again:     {} (median of {steps}, slowest {:.3} ms)",
        ms(med),
        max.as_secs_f64() * 1e3
    );
    timeline.seek(end).expect("seeks");
    for (what, addr, len) in [
        ("last_write, byte the guest wrote last round", ROUND_BYTE, 1),
        ("last_write, word the host wrote last round", HOST_WORD, 4),
        ("last_write, byte written only at the start", EARLY_BYTE, 1),
    ] {
        // The early byte's search is long: once is enough.
        let repeat = if addr == EARLY_BYTE { 1 } else { 7 };
        let runs: Vec<_> = (0..repeat)
            .map(|_| timed(|| timeline.last_write(memory, addr, len).expect("replays")))
            .collect();
        let d = median(runs.iter().map(|(_, d)| *d).collect());
        let hit = runs[0].0.clone().expect("the byte was written");
        assert_eq!(timeline.position(), end);
        println!(
            "{what:<45} {} (written {} instructions before the end{})",
            ms(d),
            end - hit.position,
            hit.host.map(|h| format!(", by {h}")).unwrap_or_default()
        );
    }
    println!("  {}", report(&timeline));
    let (med, max) = step_back(&mut timeline, steps);
    println!(
        "step_back at the end after that: {} (median of {steps}, slowest {:.3} ms)",
        ms(med),
        max.as_secs_f64() * 1e3
    );
    println!("  {}", rss());

    // Watches on the whole memory: each access costs the same whatever the size of the range.
    let size = timeline.store().memory_data(memory).len() as u64;
    for (what, kind, span) in [
        ("read watch on the whole memory", WatchKind::Read, 100_000),
        (
            "change watch on the whole memory",
            WatchKind::Change,
            1_000_000,
        ),
    ] {
        timeline.seek(mid).expect("seeks");
        let watch = Watchpoint {
            memory,
            addr: 0,
            len: size,
            kind,
        };
        timeline.set_watchpoint(Some(watch)).expect("in bounds");
        let (hits, d) = timed(|| {
            let mut hits = 0u64;
            while timeline.position() < mid + span {
                match timeline.continue_forward().expect("runs") {
                    Stop::Watch(_) => hits += 1,
                    _ => break,
                }
            }
            hits
        });
        timeline.set_watchpoint(None).expect("no watch");
        println!(
            "{what:<45} {} for {} instructions from the middle, {hits} stops",
            ms(d),
            timeline.position() - mid
        );
    }
    println!("  {}", rss());
}
