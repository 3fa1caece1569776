//! `capicola debug --gdb`: lldb-22 attaches to a recorded harness crash over the GDB remote protocol, stops at a
//! breakpoint set by source line, reads a local, continues backwards to an earlier hit, and forwards to the trap; and
//! hostile packets (memory and watch ranges outside the memory, malformed requests) get replies, never end the
//! session.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
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

/// Starts `capicola debug TARGET --input INPUT --gdb 0`; returns the server, the rest of its stdout, the port it
/// listens on (port 0: it picks a free one and prints it with the command that attaches) and what it printed.
fn start_server(target: &Path, input: &Path) -> (Child, BufReader<ChildStdout>, u16, String) {
    let mut server = Command::new(capicola_bin())
        .arg("debug")
        .arg(target)
        .arg("--input")
        .arg(input)
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
    (server, stdout, port, banner)
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

    let (server, stdout, port, banner) = start_server(&target, &input);
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

/// Sends one GDB remote packet and returns the server's reply (acknowledging it).
fn exchange(stream: &mut TcpStream, data: &str) -> String {
    let sum = data.bytes().fold(0u8, u8::wrapping_add);
    write!(stream, "${data}#{sum:02x}").unwrap();
    let mut byte = [0u8];
    let mut next = |stream: &mut TcpStream| -> u8 {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "the server closed the connection after {data:?}"
        );
        byte[0]
    };
    // Acknowledgements, then `$REPLY#CS`, with `}` escapes and `X*N` runs (X repeated N - 29 more times).
    while next(stream) != b'$' {}
    let mut reply: Vec<u8> = Vec::new();
    loop {
        match next(stream) {
            b'#' => break,
            b'}' => reply.push(next(stream) ^ 0x20),
            b'*' => {
                let repeated = *reply.last().expect("a run repeats a byte");
                let more = next(stream) - 29;
                reply.extend(std::iter::repeat_n(repeated, more.into()));
            }
            b => reply.push(b),
        }
    }
    next(stream);
    next(stream);
    stream.write_all(b"+").unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn hostile_packets_get_replies_and_ranges_outside_the_memory_are_refused() {
    let target = build_harness("crashdemo");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("crash.in");
    std::fs::write(&input, b"AAAAAAAAAAAA").unwrap();
    let (server, stdout, port, banner) = start_server(&target, &input);
    let rest = drain(Some(stdout));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A server that stops answering fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let memory_bytes = exchange(&mut stream, "m0,10");
    assert_eq!(memory_bytes.len(), 32, "{memory_bytes}");
    // Memory-space addresses are offsets into linear memory 0 (LLDB's Wasm encoding); 1 << 62 is the module's bytes.
    // Each gets a reply; those marked must be refused with an error.
    for (packet, refused) in [
        // Watches outside the memory, or of no bytes.
        ("Z2,ffffffff,2", true),
        ("Z3,fffffffc,8", true),
        ("Z4,0,0", true),
        ("Z2,0,ffffffffffffffff", true),
        ("Z2,10,100000000", true),
        ("z2,ffffffff,2", false),
        // Reads past the end, in another memory or with a bad address type; writes.
        ("mffffffff,10", true),
        ("mfffffff0,ffffffff", true),
        ("m100000000,4", true),
        ("mc000000000000000,4", true),
        ("M0,4:41414141", true),
        ("Xffffffff,1:A", true),
        // Out of range, or unknown.
        ("Z0,ffffffffffffffff,1", false),
        ("z0,4000000000000000,1", false),
        ("p99", false),
        ("pffffffffffffffff", false),
        ("qWasmLocal:999;999", false),
        ("qWasmGlobal:0;99999", false),
        ("qWasmStackValue:9999;0", false),
        ("qWasmCallStack:ffffffff", false),
        ("qXfer:libraries:read::ffffffff,ffffffff", false),
        ("qXfer:features:read:nosuch.xml:0,ffff", false),
        ("Hgffffffff", false),
        ("", false),
        ("qNoSuchQuery", false),
    ] {
        let reply = exchange(&mut stream, packet);
        assert!(!refused || reply.starts_with('E'), "{packet}: {reply}");
    }
    // A watch inside the memory is taken; the session is still there.
    assert_eq!(exchange(&mut stream, "Z2,10,4"), "OK");
    assert_eq!(exchange(&mut stream, "z2,10,4"), "OK");
    assert_eq!(exchange(&mut stream, "m0,10"), memory_bytes);
    assert!(!exchange(&mut stream, "?").is_empty());
    assert_eq!(exchange(&mut stream, "D"), "OK");
    drop(stream);
    let (status, rest, server_err) = finish(
        server,
        Some(rest),
        Duration::from_secs(30),
        "the gdb server",
    );
    assert!(
        status.success() && rest.contains("debugger gone"),
        "{banner}{rest}\n{server_err}"
    );
}

#[test]
fn a_malformed_packet_ends_the_session_with_an_error_not_a_panic() {
    let target = build_harness("crashdemo");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("crash.in");
    std::fs::write(&input, b"AAAAAAAAAAAA").unwrap();
    let (server, stdout, port, _) = start_server(&target, &input);
    let rest = drain(Some(stdout));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"$m#6d").unwrap();
    let (status, _, server_err) = finish(
        server,
        Some(rest),
        Duration::from_secs(30),
        "the gdb server",
    );
    assert_eq!(status.code(), Some(2), "{server_err}");
    assert!(
        server_err.contains("the GDB remote session failed") && !server_err.contains("panicked"),
        "{server_err}"
    );
}
