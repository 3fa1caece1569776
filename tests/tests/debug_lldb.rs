//! `capicola debug --gdb`: lldb-22 attaches to a recorded harness crash over the GDB remote protocol, stops at a
//! breakpoint set by source line, reads a local, continues backwards to an earlier hit, and forwards to the trap.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use capicola_tests::c_programs::{build_harness, crashdemo_line};
use capicola_tests::capicola_bin;

/// The debugger the test drives (Debian's build has LLDB's Wasm plugin; `bash .ci/setup` installs it).
const LLDB: &str = "lldb-22";

/// Reads all of `pipe` on a thread of its own, so that the child never blocks on a full pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_string(&mut text).unwrap();
        }
        text
    })
}

/// Waits for `child` to exit, killing it after `limit`; returns its exit status, stdout and stderr (stdout from
/// `stdout` when the caller has taken the pipe).
fn finish(
    mut child: Child,
    stdout: Option<std::thread::JoinHandle<String>>,
    limit: Duration,
    what: &str,
) -> (ExitStatus, String, String) {
    let stdout = stdout.unwrap_or_else(|| drain(child.stdout.take()));
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "{what} did not finish within {limit:?}; its output:\n{}",
                stdout.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, stdout.join().unwrap(), stderr.join().unwrap())
}

/// The output of each command of an lldb batch run, in order (0 is what came before the first command).
fn sections(stdout: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for line in stdout.lines() {
        if line.starts_with("(lldb) ") {
            out.push(format!("{line}\n"));
        } else {
            let last = out.last_mut().unwrap();
            last.push_str(line);
            last.push('\n');
        }
    }
    out
}

#[test]
fn lldb_sets_a_line_breakpoint_reads_a_local_and_continues_backwards() {
    let lldb_found = Command::new(LLDB)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        lldb_found,
        "{LLDB} is not installed: `bash .ci/setup` installs Debian's package, which has LLDB's Wasm plugin"
    );
    let target = build_harness("crashdemo");
    let bug = crashdemo_line("BUG:");
    let fault = crashdemo_line("FAULT:");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("crash.in");
    std::fs::write(&input, b"AAAAAAAAAAAA").unwrap();

    // Port 0: the server picks a free port and prints it with the command that attaches.
    let mut server = Command::new(capicola_bin())
        .arg("debug")
        .arg(&target)
        .arg("--input")
        .arg(&input)
        .args(["--gdb", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut banner = String::new();
    let port = loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            server.kill().unwrap();
            panic!("the server ended before printing its port:\n{banner}");
        }
        banner.push_str(&line);
        if let Some(at) = line.find("connect://localhost:") {
            let digits = &line[at + "connect://localhost:".len()..];
            let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse::<u16>().unwrap();
        }
    };
    assert!(
        banner.contains(&format!(
            "-o \"process connect --plugin wasm connect://localhost:{port}\""
        )),
        "{banner}"
    );

    let rest = drain(Some(stdout));

    let script = dir.path().join("script.lldb");
    std::fs::write(
        &script,
        format!(
            "process handle -p false SIGSEGV SIGFPE SIGILL SIGABRT
process connect --plugin wasm connect://localhost:{port}
breakpoint set --file crash.c --line {bug}
process continue
frame variable i
bt
process continue
frame variable i
process continue --reverse
frame variable i
breakpoint disable 1
process continue --forward
frame variable size
p current.len
breakpoint enable 1
process continue --reverse
frame variable i
"
        ),
    )
    .unwrap();
    let lldb = Command::new(LLDB)
        .args(["--no-lldbinit", "--batch", "-s"])
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, out, err) = finish(lldb, None, Duration::from_secs(120), LLDB);
    let transcript = format!("{out}\n{err}");
    // One section per command of the script, from `process connect` on.
    let s: Vec<String> = sections(&out)
        .into_iter()
        .skip_while(|section| !section.starts_with("(lldb) process connect"))
        .collect();
    assert_eq!(s.len(), 16, "{transcript}");

    // Attached at the first instruction of the input's run; the breakpoint resolves to the BUG line.
    assert!(
        s[0].contains("Process 1 stopped") && s[0].contains("LLVMFuzzerTestOneInput"),
        "{transcript}"
    );
    assert!(
        s[1].contains("parse_name") && s[1].contains(&format!("crash.c:{bug}")),
        "{transcript}"
    );
    // First hit: i is 0, called from the fuzz entry point.
    assert!(
        s[2].contains("stop reason = breakpoint 1.1"),
        "{transcript}"
    );
    assert!(s[2].contains(&format!("crash.c:{bug}")), "{transcript}");
    assert!(s[3].contains("(size_t) i = 0"), "{transcript}");
    assert!(
        s[4].contains("frame #0") && s[4].contains("parse_name"),
        "{transcript}"
    );
    assert!(
        s[4].contains("frame #1") && s[4].contains("LLVMFuzzerTestOneInput"),
        "{transcript}"
    );
    // Second hit: i is 1.
    assert!(
        s[5].contains("stop reason = breakpoint 1.1"),
        "{transcript}"
    );
    assert!(s[6].contains("(size_t) i = 1"), "{transcript}");
    // Backwards: the earlier hit again, where i is 0.
    assert!(
        s[7].contains("stop reason = breakpoint 1.1"),
        "{transcript}"
    );
    assert!(s[8].contains("(size_t) i = 0"), "{transcript}");
    // Forwards (lldb keeps going backwards until told `--forward`) without the breakpoint: the trap, at the faulting store, with the corrupted length.
    assert!(
        s[10].contains("stop reason = signal SIGSEGV"),
        "{transcript}"
    );
    assert!(s[10].contains(&format!("crash.c:{fault}")), "{transcript}");
    assert!(s[11].contains("(size_t) size = 12"), "{transcript}");
    // Twelve 'A's: the last four bytes of the name overran into `len` (0x41414141).
    assert!(s[12].contains("(int) 1094795585"), "{transcript}");
    // From the trap backwards (the trap's signal is not passed on, or lldb would refuse to reverse): the last hit,
    // with the twelfth byte.
    assert!(
        s[14].contains("stop reason = breakpoint 1.1"),
        "{transcript}"
    );
    assert!(s[15].contains("(size_t) i = 11"), "{transcript}");

    // lldb detaches at the end of its batch; the server then exits cleanly.
    let (status, rest, server_err) = finish(
        server,
        Some(rest),
        Duration::from_secs(30),
        "the gdb server",
    );
    assert!(
        status.success() && rest.contains("debugger gone"),
        "{banner}{rest}\n{server_err}\n{transcript}"
    );
}
