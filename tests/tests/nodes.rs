//! Campaigns on several nodes: two `capicola fuzz` processes on loopback, one listening (`--listen`) and one
//! joining it (`--remote-broker`), share a crash that only one of them can find.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use capicola::fuzz::output::{OutputDir, input_files};
use capicola_tests::fuzz_command;

/// A libFuzzer harness that traps only on an input starting with the eight bytes `N0D3-K3Y`, compared as one
/// 64-bit number: no coverage leads there byte by byte, so without the token (from a dictionary, cmplog or the
/// module's own constants) random mutations do not find it.
const TOKEN_LOCK: &str = r#"
(module
  (memory (export "memory") 1)
  (func $boom (unreachable))
  (func (export "LLVMFuzzerTestOneInput") (param $p i32) (param $n i32) (result i32)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (if (i64.eq (i64.load (local.get $p)) (i64.const 0x5933_4b2d_3344_304e))
          (then (call $boom)))))
    (i32.const 0)))
"#;

const TOKEN: &str = "N0D3-K3Y";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    input_files(dir).unwrap_or_default()
}

/// A campaign on `target` into `out`, seeded with one input holding no part of the token, and with neither
/// cmplog nor the module's own tokens; `extra` adds flags.
fn campaign(target: &Path, seeds: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut command = fuzz_command(target, out, seeds);
    command
        .args(["--no-cmplog", "--no-auto-dict", "-q", "--seed", "7"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Asks a campaign to stop (as the dashboard's `q` does) and waits for it; kills it if it does not end by
/// `deadline`.
fn stop(mut child: Child, out: &Path, deadline: Instant) -> std::process::Output {
    if let Ok(dir) = OutputDir::create(out, true) {
        let _ = dir.request_stop();
    }
    while child
        .try_wait()
        .expect("the campaign can be waited for")
        .is_none()
    {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("the campaign ends")
}

#[test]
fn a_node_gets_the_crash_that_only_the_node_it_is_linked_to_can_find() {
    let work = tempfile::tempdir().expect("temporary folder");
    let target = work.path().join("token-lock.wat");
    std::fs::write(&target, TOKEN_LOCK).expect("the harness is written");
    let seeds = work.path().join("seeds");
    std::fs::create_dir(&seeds).expect("seed folder");
    std::fs::write(seeds.join("plain"), b"abcdefgh").expect("seed written");
    let dict = work.path().join("token.dict");
    std::fs::write(&dict, format!("token=\"{TOKEN}\"\n")).expect("dictionary written");

    // Node B alone, without the token, never reaches the crash.
    let solo = work.path().join("solo");
    let output = campaign(&target, &seeds, &solo, &["--runs", "30000"])
        .output()
        .expect("the solo campaign runs");
    assert!(output.status.success(), "{output:?}");
    assert!(
        files(&solo.join("crashes")).is_empty(),
        "node B found the crash alone: the test proves nothing"
    );

    // Node B listens; node A, whose dictionary holds the token, joins it.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(50);
    let out_b = work.path().join("b");
    let node_b = campaign(
        &target,
        &seeds,
        &out_b,
        &["--listen", &listen, "--max-total-time", "50"],
    )
    .spawn()
    .expect("node B starts");
    // Its broker is up once its monitor has written the stats file.
    while !out_b.join("stats").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let out_a = work.path().join("a");
    let mut node_a_command = campaign(
        &target,
        &seeds,
        &out_a,
        &["--remote-broker", &listen, "--max-total-time", "50"],
    );
    node_a_command.arg("--dict").arg(&dict);
    let node_a = node_a_command.spawn().expect("node A starts");

    while files(&out_b.join("crashes")).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let crashes_b = files(&out_b.join("crashes"));
    // Each node hears the other's figures (once a second) and writes them into its stats file.
    let linked = |out: &Path| {
        std::fs::read_to_string(out.join("stats"))
            .is_ok_and(|text| text.contains("linked_nodes: 1"))
    };
    while !(linked(&out_a) && linked(&out_b)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let output_a = stop(node_a, &out_a, deadline + Duration::from_secs(10));
    let output_b = stop(node_b, &out_b, deadline + Duration::from_secs(10));
    assert!(output_a.status.success(), "node A: {output_a:?}");
    assert!(output_b.status.success(), "node B: {output_b:?}");
    assert!(
        !files(&out_a.join("crashes")).is_empty(),
        "node A did not find the crash: {output_a:?}"
    );
    assert!(
        !crashes_b.is_empty(),
        "node B did not get the crash from node A: {output_b:?}"
    );
    let crash = std::fs::read(&crashes_b[0]).expect("the crash is readable");
    assert!(crash.starts_with(TOKEN.as_bytes()), "{crash:?}");

    // The summaries and the stats files add the other node's executions to each node's own.
    for (out, output) in [(&out_a, &output_a), (&out_b, &output_b)] {
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("execs on this node and the 1 linked to it"),
            "{stdout}"
        );
        let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
        let value = |key: &str| {
            stats
                .lines()
                .find_map(|line| line.strip_prefix(&format!("{key}: ")))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no {key} in {stats}"))
        };
        assert_eq!(value("linked_nodes"), 1, "{stats}");
        assert!(value("linked_execs_done") > 0, "{stats}");
        assert_eq!(
            value("all_nodes_execs_done"),
            value("execs_done") + value("linked_execs_done"),
            "{stats}"
        );
        let afl = std::fs::read_to_string(out.join("fuzzer_stats")).expect("fuzzer_stats written");
        assert!(
            afl.lines().any(|line| line.starts_with("execs_done")
                && line.ends_with(&format!(": {}", value("all_nodes_execs_done")))),
            "{afl}"
        );
    }
}
