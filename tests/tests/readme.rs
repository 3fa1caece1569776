//! The README's transcripts are the output of the commands they show, run here: a block fenced right after a
//! `<!-- transcript: NAME -->` line must be, byte for byte, what [`transcript`] produces for NAME. When the output
//! changes, `bash tests/regenerate-readme` (which runs this test with `CAPICOLA_README=write`) rewrites the blocks.
//!
//! Every command runs in a temporary folder holding its files under short names, so the paths it prints are the
//! README's; stderr and stdout go to one pipe, in the order a terminal shows them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use capicola_tests::c_programs::{
    build_harness, build_harness_set, build_wasi_program, workspace_root,
};
use capicola_tests::{FIND_X, capicola_bin};

/// The marker line that names the transcript in the fenced block after it.
const MARKER: &str = "<!-- transcript: ";

/// What a terminal shows for `capicola ARGS` run in `dir`: stderr and stdout through one pipe.
fn shell(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" \"$@\" 2>&1")
        .arg(capicola_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("sh can be started");
    String::from_utf8(output.stdout).expect("capicola prints UTF-8")
}

fn copy(from: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(from, &to)
        .unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", from.display(), to.display()));
    to
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("the temporary folder is writable");
}

/// The first line of `text` that starts with `prefix`.
fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}

/// The transcripts the README shows, by name, each produced in its own folder.
fn transcripts() -> BTreeMap<&'static str, String> {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    let mut out = BTreeMap::new();

    // The example harness of "Write your own harness", and an input past its 12-byte record: a 16-byte name.
    copy(&build_harness("example"), dir, "rec.wasm");
    write(dir, "overflow", b"R\x10ABCDEFGHIJKLMNOP1234");
    let report = shell(dir, &["replay", "rec.wasm", "overflow"]);
    out.insert("sanitizer-report", report.clone());

    // What each command says it checks: on, off by flag, no allocator, not a libFuzzer harness.
    write(dir, "findx.wat", FIND_X.as_bytes());
    copy(
        &build_wasi_program(&workspace_root().join("harnesses/kvconf/kvconf.c")),
        dir,
        "kvconf.wasm",
    );
    write(dir, "x", b"x");
    let banners = [
        line_starting(&report, "sanitizer:").to_string(),
        line_starting(
            &shell(dir, &["replay", "rec.wasm", "overflow", "--no-sanitize"]),
            "sanitizer:",
        )
        .to_string(),
        line_starting(&shell(dir, &["replay", "findx.wat", "x"]), "sanitizer:").to_string(),
        line_starting(&shell(dir, &["replay", "kvconf.wasm", "x"]), "sanitizer:").to_string(),
    ];
    out.insert("sanitizer-banners", banners.join("\n") + "\n");

    // `info block` at a use after free, in the debugger.
    let planted = build_harness_set("sanitize");
    copy(
        &planted.join("use_after_free_read-O1.wasm"),
        dir,
        "uaf.wasm",
    );
    write(dir, "uaf", b"UAFR");
    let uaf = shell(dir, &["replay", "uaf.wasm", "uaf"]);
    let address = line_starting(&uaf, "==ERROR:")
        .rsplit(' ')
        .next()
        .expect("the access's address ends the line");
    let address = format!(
        "0x{:x}",
        u64::from_str_radix(&address[2..], 16).expect("hex")
    );
    write(
        dir,
        "info-block",
        format!("info block {address}\n").as_bytes(),
    );
    let session = shell(
        dir,
        &[
            "debug",
            "uaf.wasm",
            "--input",
            "uaf",
            "--batch",
            "info-block",
        ],
    );
    let from = session
        .find("(capicola) info block")
        .expect("the batch echoes its command");
    out.insert("info-block", session[from..].to_string());

    // The debugger on the crash demo.
    copy(&build_harness("crashdemo"), dir, "crash.wasm");
    write(dir, "crash.in", b"AAAAAAAAAAAA");
    write(
        dir,
        "script",
        b"last-write current+8 4\nbreak crash.c:19\nreverse-continue\ncontinue\n",
    );
    let session = shell(
        dir,
        &[
            "debug",
            "crash.wasm",
            "--input",
            "crash.in",
            "--batch",
            "script",
        ],
    );
    // The sanitizer's banner is shown in its own section.
    let session = session
        .lines()
        .filter(|line| !line.starts_with("sanitizer:"))
        .map(|line| format!("{line}\n"))
        .collect();
    out.insert("debugger", session);
    out
}

/// The README's transcript blocks: name -> (first line of the block's content, line after its last).
fn blocks(readme: &[&str]) -> BTreeMap<String, (usize, usize)> {
    let mut found = BTreeMap::new();
    for (i, line) in readme.iter().enumerate() {
        let Some(rest) = line.strip_prefix(MARKER) else {
            continue;
        };
        let name = rest
            .strip_suffix(" -->")
            .unwrap_or_else(|| panic!("README line {}: a marker ends with ` -->`", i + 1));
        assert!(
            readme.get(i + 1).is_some_and(|l| l.starts_with("```")),
            "README line {}: a fence must follow the marker",
            i + 1
        );
        let end = (i + 2..readme.len())
            .find(|&j| readme[j] == "```")
            .unwrap_or_else(|| panic!("README line {}: the block is not closed", i + 1));
        assert!(
            found.insert(name.to_string(), (i + 2, end)).is_none(),
            "README: two transcripts named {name}"
        );
    }
    found
}

#[test]
fn the_readme_transcripts_are_what_the_commands_print() {
    let path = workspace_root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md can be read");
    let lines: Vec<&str> = readme.lines().collect();
    let blocks = blocks(&lines);
    let produced = transcripts();
    assert_eq!(
        blocks.keys().map(String::as_str).collect::<Vec<_>>(),
        produced.keys().copied().collect::<Vec<_>>(),
        "the README's transcript markers and the transcripts this test produces differ"
    );
    let write = std::env::var_os("CAPICOLA_README").is_some_and(|v| v == "write");
    let mut rewritten: Vec<String> = Vec::new();
    let mut next = 0;
    let mut stale = Vec::new();
    // In file order, so that a rewrite splices each block in place.
    let mut in_order: Vec<(&String, &(usize, usize))> = blocks.iter().collect();
    in_order.sort_by_key(|(_, (start, _))| *start);
    for (name, &(start, end)) in in_order {
        let shown = lines[start..end]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let now = &produced[name.as_str()];
        if &shown != now {
            stale.push(format!("{name}:\n--- README\n{shown}--- now\n{now}"));
        }
        rewritten.extend(lines[next..start].iter().map(|l| format!("{l}\n")));
        rewritten.push(now.clone());
        next = end;
    }
    rewritten.extend(lines[next..].iter().map(|l| format!("{l}\n")));
    if write {
        std::fs::write(&path, rewritten.concat()).expect("README.md can be written");
        eprintln!("README.md: {} transcript(s) rewritten", stale.len());
        return;
    }
    assert!(
        stale.is_empty(),
        "README transcripts differ from what the commands print now (bash tests/regenerate-readme rewrites them):\n{}",
        stale.join("\n")
    );
}
