//! The scale benchmark: executions per second of one campaign on 1 client, on 2 clients (`-j 2`) and on 2 nodes
//! linked on loopback (`--listen` and `--remote-broker`, one client each), for the same time, with each figure's
//! ratio to one client; on the project's tlvconf harness and on zlib (its C sources from the crates.io package
//! libz-sys, fetched at build time).
//!
//! `cargo bench -p capicola-tests --bench scale [-- [--smoke] [SECS]]`: SECS per campaign (default 20); `--smoke`
//! (or `CAPICOLA_BENCH_SMOKE=1`) runs 2 s each, to check the benchmark itself.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use capicola_tests::c_programs::{build_harness, workspace_root};
use capicola_tests::fuzz_command;

/// The harnesses measured, by their folder under harnesses/ (and their seeds' under corpora/).
const TARGETS: [&str; 2] = ["tlvconf", "zlib"];

/// One `capicola fuzz` command on harness `name` built as `target`, into `out`, for `secs` seconds.
fn fuzz(name: &str, target: &Path, out: &Path, secs: u64, extra: &[String]) -> Command {
    let mut command = fuzz_command(target, out, &workspace_root().join("corpora").join(name));
    command
        .args(["-q", "--seed", "1", "--max-total-time", &secs.to_string()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// A number of a campaign's `stats` file.
fn stat(out: &Path, key: &str) -> f64 {
    let text = std::fs::read_to_string(out.join("stats")).expect("the campaign wrote its stats");
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {}", out.display()))
}

/// Executions per second of the campaigns written into `outs`, run side by side for `secs` seconds.
fn execs_per_sec(outs: &[PathBuf], secs: u64) -> f64 {
    let execs: f64 = outs.iter().map(|out| stat(out, "execs_done")).sum();
    execs / secs as f64
}

fn run(commands: Vec<Command>) {
    let children: Vec<_> = commands
        .into_iter()
        .map(|mut command| command.spawn().expect("capicola starts"))
        .collect();
    for mut child in children {
        let status = child.wait().expect("the campaign ends");
        assert!(status.success(), "a campaign failed: {status}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--smoke")
        || std::env::var_os("CAPICOLA_BENCH_SMOKE").is_some_and(|v| v != "0");
    let secs: u64 = if smoke {
        2
    } else {
        args.iter().find_map(|a| a.parse().ok()).unwrap_or(20)
    };
    println!(
        "scale: {secs} s per campaign, on this machine's {} cores",
        cores()
    );
    println!("| target | setup | execs/s | vs 1 client |");
    println!("| --- | --- | ---: | ---: |");
    for name in TARGETS {
        let [one, two, nodes] = measure(name, secs);
        for (setup, rate) in [
            ("1 client (-j 1)", one),
            ("2 clients (-j 2)", two),
            ("2 nodes on loopback (1 client each)", nodes),
        ] {
            println!("| {name} | {setup} | {rate:.0} | {:.2}x |", rate / one);
        }
    }
}

/// Execs/s of harness `name` on 1 client, 2 clients and 2 linked nodes.
fn measure(name: &str, secs: u64) -> [f64; 3] {
    let target = build_harness(name);
    let work = tempfile::tempdir().expect("temporary folder");

    let one = work.path().join("one");
    run(vec![fuzz(name, &target, &one, secs, &[])]);
    let one = execs_per_sec(&[one], secs);

    let two = work.path().join("two");
    run(vec![fuzz(
        name,
        &target,
        &two,
        secs,
        &["-j".into(), "2".into()],
    )]);
    let two = execs_per_sec(&[two], secs);

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let broker = format!("127.0.0.1:{port}");
    let hub = work.path().join("hub");
    let node = work.path().join("node");
    let mut hub_command = fuzz(
        name,
        &target,
        &hub,
        secs,
        &["--listen".into(), broker.clone()],
    );
    let hub_child = hub_command.spawn().expect("the hub starts");
    // The joining node needs the hub's broker up: it is once the hub's monitor has written its stats.
    let start = std::time::Instant::now();
    while !hub.join("stats").exists() && start.elapsed().as_secs() < secs {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    run(vec![fuzz(
        name,
        &target,
        &node,
        secs,
        &["--remote-broker".into(), broker],
    )]);
    let mut hub_child = hub_child;
    assert!(hub_child.wait().expect("the hub ends").success());
    let nodes = execs_per_sec(&[hub, node], secs);
    [one, two, nodes]
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
