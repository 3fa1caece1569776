//! `capicola debug`: batch mode on a harness crash — from the trap back to the write that caused it, breakpoints by
//! source line in both directions, and forward again to the same trap with the same state; and every script in
//! `corpora/regressions/debug/` (hostile commands: huge and out-of-bounds ranges) gives the output it expects.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use capicola_tests::c_programs::{build_harness, crashdemo_line};
use capicola_tests::capicola_bin;

/// Runs `capicola debug TARGET --input INPUT --batch SCRIPT`; returns (exit code, stdout).
fn debug(target: &Path, input: &[u8], script: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("input");
    std::fs::write(&input_path, input).unwrap();
    let script_path = dir.path().join("script");
    std::fs::write(&script_path, script).unwrap();
    let out = Command::new(capicola_bin())
        .arg("debug")
        .arg(target)
        .arg("--input")
        .arg(&input_path)
        .arg("--batch")
        .arg(&script_path)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.code().is_some(),
        "killed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), stdout)
}

/// The output of each command of a batch run, keyed by its position in the script (0 is the opening report).
fn sections(stdout: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for line in stdout.lines() {
        if line.starts_with("(capicola) ") {
            out.push(String::new());
        } else {
            let last = out.last_mut().unwrap();
            last.push_str(line);
            last.push('\n');
        }
    }
    out
}

/// The number after `position ` on the last line that has one.
fn position(section: &str) -> u64 {
    let line = section
        .lines()
        .rev()
        .find(|l| l.starts_with("position "))
        .unwrap_or_else(|| panic!("no position in {section:?}"));
    line["position ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn crashdemo() -> PathBuf {
    build_harness("crashdemo")
}

#[test]
fn from_the_trap_back_to_the_corrupting_write_and_forward_again() {
    let target = crashdemo();
    let bug = crashdemo_line("BUG:");
    let fault = crashdemo_line("FAULT:");
    let script = format!(
        "where
x current 12
globals
last-write current+8 4
watch current+8 4
reverse-continue
where
unwatch
break crash.c:{bug}
goto end
reverse-continue
where
continue
where
x current 12
globals
reverse-step
step
"
    );
    // Twelve bytes: the last one lands on the length's top byte.
    let (code, stdout) = debug(&target, b"AAAAAAAAAAAA", &script, &[]);
    assert_eq!(code, 0, "{stdout}");
    let s = sections(&stdout);
    // The run goes to the trap, paused just before the faulting store.
    assert!(s[0].contains("end: trap at position"), "{}", s[0]);
    assert!(s[0].contains("out of bounds memory access"), "{}", s[0]);
    let end = position(&s[0]);
    assert!(s[0].contains(&format!("at crash.c:{fault}")), "{}", s[0]);
    assert!(s[1].starts_with("#0 LLVMFuzzerTestOneInput+"), "{}", s[1]);
    assert!(
        s[2].contains("41 41 41 41 41 41 41 41 41 41 41 41"),
        "{}",
        s[2]
    );
    let (where_at_end, memory_at_end, globals_at_end) = (&s[1], &s[2], &s[3]);

    // last-write names the overflowing store, in parse_name, at the BUG line.
    let last_write = &s[4];
    assert!(
        last_write.contains("last written at position")
            && last_write.contains("by parse_name+")
            && last_write.contains(&format!("crash.c:{bug}"))
            && last_write.contains("41 41 41 00 -> 41 41 41 41"),
        "{last_write}"
    );
    let write_pos: u64 = last_write
        .split("last written at position ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(write_pos < end);

    // Reverse-continue with a watch on the length stops just before that same write, on its source line.
    let watched = &s[6];
    assert!(
        watched.contains(&format!("watch: written at position {write_pos}")),
        "{watched}"
    );
    assert_eq!(position(watched), write_pos);
    assert!(watched.contains("parse_name+") && watched.contains(&format!("crash.c:{bug}")));
    assert!(s[7].contains("#0 parse_name+") && s[7].contains("#1 LLVMFuzzerTestOneInput+"));

    // A breakpoint on the BUG line, from the end backwards: the last iteration, just before the write.
    assert!(
        s[9].contains(&format!("breakpoint 1 at crash.c:{bug}")),
        "{}",
        s[9]
    );
    assert_eq!(position(&s[10]), end);
    let hit = &s[11];
    assert!(
        hit.contains(&format!("breakpoint 1 (crash.c:{bug})")),
        "{hit}"
    );
    let hit_pos = position(hit);
    assert!(
        hit_pos < write_pos && write_pos - hit_pos < 100,
        "{hit_pos} {write_pos}"
    );

    // Forward again: the same trap, the same state.
    let again = &s[13];
    assert!(
        again.contains(&format!("end: trap at position {end}")),
        "{again}"
    );
    assert_eq!(position(again), end);
    assert_eq!(&s[14], where_at_end);
    assert_eq!(&s[15], memory_at_end);
    assert_eq!(&s[16], globals_at_end);

    // Reverse-step leaves the faulting line (back into parse_name, which just returned); step comes back to it.
    assert!(position(&s[17]) < end);
    assert!(!s[17].contains(&format!("crash.c:{fault}")), "{}", s[17]);
    assert!(s[18].contains(&format!("crash.c:{fault}")), "{}", s[18]);
}

#[test]
fn a_short_input_does_not_crash_and_the_run_ends_normally() {
    let (code, stdout) = debug(&crashdemo(), b"abc;", "info\nreverse-continue\n", &[]);
    assert_eq!(code, 0, "{stdout}");
    let s = sections(&stdout);
    assert!(
        s[0].contains("end: the input's run returned at position"),
        "{}",
        s[0]
    );
    assert!(s[2].contains("start of the recording"), "{}", s[2]);
    assert_eq!(position(&s[2]), 0);
}

#[test]
fn bad_commands_are_errors_and_fail_the_batch() {
    let (code, stdout) = debug(
        &crashdemo(),
        b"AAAAAAAAAAAAAAAA",
        "frobnicate\nbreak nosuch.c:3\nx 0xffffffff 16\nlast-write no_such_global\nwhere\n",
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    let s = sections(&stdout);
    assert!(
        s[1].starts_with("error: unknown command `frobnicate`"),
        "{}",
        s[1]
    );
    assert!(s[2].starts_with("error: no code at nosuch.c:3"), "{}", s[2]);
    assert!(
        s[3].starts_with("error:") && s[3].contains("outside memory 0 ("),
        "{}",
        s[3]
    );
    assert!(
        s[4].starts_with("error: no global variable named no_such_global"),
        "{}",
        s[4]
    );
    // Later commands still run.
    assert!(s[5].starts_with("#0 "), "{}", s[5]);
}

#[test]
fn without_debug_info_functions_and_offsets_still_work() {
    let target = build_harness("tlvconf");
    // tlvconf's first planted bug (see harnesses/tlvconf): any input will do for a run that ends.
    let (code, stdout) = debug(
        &target,
        b"hello",
        "break LLVMFuzzerTestOneInput\nreverse-continue\nwhere\nbreak tlv.c:10\nstepi 3\nrsi 3\n",
        &[],
    );
    let s = sections(&stdout);
    assert_eq!(code, 1, "the file:line breakpoint must fail: {stdout}");
    assert!(
        s[1].contains("breakpoint 1 at LLVMFuzzerTestOneInput+0x0"),
        "{}",
        s[1]
    );
    assert!(
        s[2].contains("breakpoint 1 (LLVMFuzzerTestOneInput)"),
        "{}",
        s[2]
    );
    let at = position(&s[2]);
    assert!(
        s[3].starts_with("#0 LLVMFuzzerTestOneInput+0x0"),
        "{}",
        s[3]
    );
    // (wasi-libc's own objects may bring a line table, without tlv.c in it.)
    assert!(
        s[4].contains("no line table") || s[4].contains("no code at tlv.c:10"),
        "{}",
        s[4]
    );
    assert_eq!(position(&s[5]), at + 3);
    assert_eq!(position(&s[6]), at);
}

#[test]
fn commands_also_come_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::write(&input, b"AAAAAAAAAAAAAAAA").unwrap();
    let mut child = Command::new(capicola_bin())
        .arg("debug")
        .arg(crashdemo())
        .arg("--input")
        .arg(&input)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"rsi\n\nquit\nwhere\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let end = position(
        stdout
            .lines()
            .take(4)
            .collect::<Vec<_>>()
            .join("\n")
            .as_str(),
    );
    // `rsi`, then an empty line repeats it; `quit` ends before `where`.
    let positions: Vec<u64> = stdout
        .lines()
        .filter(|l| l.starts_with("position "))
        .map(position)
        .collect();
    assert_eq!(positions, vec![end, end - 1, end - 2], "{stdout}");
}

#[test]
fn the_terminal_ui_shows_source_stack_locals_and_memory() {
    use capicola::debug::{Session, commands, tui};
    use capicola::fuzz::TargetOptions;
    use capicola_engine::timeline::TimelineConfig;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let wasm = std::fs::read(crashdemo()).unwrap();
    let mut session = Session::new(
        &wasm,
        &TargetOptions::default(),
        false,
        b"AAAAAAAAAAAA",
        TimelineConfig::default(),
    )
    .unwrap();
    let opening = commands::execute(&mut session, "continue").unwrap();
    let mut view = tui::View::default();
    assert!(view.run(&mut session, "x current 16"));
    assert!(view.run(&mut session, "break parse_name"));
    assert!(!view.run(&mut session, "quit"));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal
        .draw(|frame| tui::render(frame, &session, &view))
        .unwrap();
    let screen: String = terminal
        .backend()
        .buffer()
        .content()
        .chunks(160)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect();
    let fault = crashdemo_line("FAULT:");
    assert!(opening.contains("end: trap"), "{opening}");
    // The source pane marks the faulting line.
    assert!(
        screen.contains(&format!("=>{fault:5}")),
        "no current-line marker:\n{screen}"
    );
    assert!(screen.contains("table[current.len] = 1;"), "{screen}");
    assert!(screen.contains("#0 LLVMFuzzerTestOneInput+"), "{screen}");
    assert!(screen.contains("local[0] = i32"), "{screen}");
    // The memory view follows the address of the last `x`.
    assert!(
        screen.contains("41 41 41 41 41 41 41 41 41 41 41 41"),
        "{screen}"
    );
    assert!(
        screen.contains("breakpoint 1 at parse_name+0x0"),
        "{screen}"
    );
    assert!(screen.contains(&format!("position {}", session.timeline.position())));
}

#[test]
fn replay_prints_the_command_that_opens_a_crash_in_the_debugger() {
    let target = crashdemo();
    let dir = tempfile::tempdir().unwrap();
    let crash = dir.path().join("crash");
    std::fs::write(&crash, b"AAAAAAAAAAAA").unwrap();
    let fine = dir.path().join("fine");
    std::fs::write(&fine, b"ok;").unwrap();
    let out = Command::new(capicola_bin())
        .arg("replay")
        .arg(&target)
        .arg(&crash)
        .arg(&fine)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let hint = format!(
        "debug it: capicola debug {} --input {}",
        target.display(),
        crash.display()
    );
    assert_eq!(stdout.matches("debug it:").count(), 1, "{stdout}");
    assert!(stdout.contains(&hint), "{stdout}");
}

#[test]
fn a_read_watch_finds_where_the_corrupted_length_was_read() {
    let fault = crashdemo_line("FAULT:");
    let (code, stdout) = debug(
        &crashdemo(),
        b"AAAAAAAAAAAA",
        "rwatch current+8 4\nreverse-continue\nreverse-continue\n",
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
    let s = sections(&stdout);
    assert!(s[1].contains("watching 4 bytes at"), "{}", s[1]);
    // The last read before the trap is the faulting line's load of `current.len`.
    let read = &s[2];
    assert!(
        read.contains("watch: read at position")
            && read.contains("LLVMFuzzerTestOneInput+")
            && read.contains(&format!("crash.c:{fault}"))
            && read.contains("41 41 41 41"),
        "{read}"
    );
    // Nothing read it earlier in the input's run: back to the start.
    assert!(s[3].contains("start of the recording"), "{}", s[3]);
}

#[test]
fn ranges_outside_the_memory_and_overflowing_addresses_are_errors() {
    let (code, stdout) = debug(
        &crashdemo(),
        b"AAAAAAAAAAAA",
        "watch 0xffffffff 2\nlast-write 0xffffffff 16\nx current+18446744073709551615\nx current 0\n\
         awatch current 0\nwhere\n",
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    let s = sections(&stdout);
    for (i, what) in [(1, "2 bytes at 0xffffffff"), (2, "16 bytes at 0xffffffff")] {
        assert!(
            s[i].starts_with(&format!("error: {what} are outside memory 0 ("))
                && s[i].contains(" bytes)"),
            "{}",
            s[i]
        );
    }
    assert!(
        s[3].starts_with(
            "error: current+18446744073709551615 is past the end of the 64-bit address space"
        ),
        "{}",
        s[3]
    );
    assert!(s[4].starts_with("error: a length of 0"), "{}", s[4]);
    assert!(s[5].starts_with("error: a length of 0"), "{}", s[5]);
    assert!(s[6].starts_with("#0 "), "{}", s[6]);
}

/// The value of `# KEY: VALUE` in a regression script's comments.
fn header<'a>(script: &'a str, key: &str) -> Option<&'a str> {
    script.lines().find_map(|l| {
        l.strip_prefix("# ")?
            .strip_prefix(key)?
            .strip_prefix(": ")
            .map(str::trim)
    })
}

/// Each script in `corpora/regressions/debug/` runs in batch mode against the module its `# target:` names (next
/// to it), with the input `# input:` and the further arguments `# args:`; it ends with the exit code `# exit:` (0
/// by default), prints no more than `# most-output:` bytes when given, and the output of each command holds every
/// `# expect:` text that follows it.
#[test]
fn every_debugger_regression_script_gives_what_it_expects() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/regressions/debug");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dbg"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no scripts in {}", dir.display());
    for path in scripts {
        let script = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let target = dir.join(header(&script, "target").expect("a `# target:` line"));
        let input = header(&script, "input").unwrap_or("");
        let exit: i32 = header(&script, "exit").map_or(0, |e| e.parse().unwrap());
        let args: Vec<&str> =
            header(&script, "args").map_or_else(Vec::new, |a| a.split_whitespace().collect());
        let (code, stdout) = debug(&target, input.as_bytes(), &script, &args);
        let shown: String = stdout.chars().take(20_000).collect();
        assert_eq!(code, exit, "{name}:\n{shown}");
        if let Some(most) = header(&script, "most-output") {
            let most: usize = most.parse().unwrap();
            assert!(
                stdout.len() <= most,
                "{name}: {} bytes of output:\n{shown}",
                stdout.len()
            );
        }
        let s = sections(&stdout);
        let mut command = 0;
        for line in script.lines().map(str::trim) {
            if let Some(want) = line.strip_prefix("# expect: ") {
                assert!(
                    s[command].contains(want),
                    "{name}: command {command} printed no {want:?}:\n{}",
                    s[command]
                );
            } else if !line.is_empty() && !line.starts_with('#') {
                command += 1;
            }
        }
        assert_eq!(s.len(), command + 1, "{name}:\n{shown}");
    }
}
