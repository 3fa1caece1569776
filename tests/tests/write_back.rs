//! Write-back of `--dir-rw` directories as an attacker and a careful user see it: every program in `corpora/regressions/wasi/` leaves the host as its header says, a crafted snapshot cannot choose where `resume` writes, and random file operations leave the host as the same operations done natively do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola::run::RunState;
use capicola_engine::{DecodeLimits, Snapshot};
use capicola_tests::c_programs::build_wasi_program;
use capicola_tests::capicola_bin;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn capicola() -> Command {
    Command::new(capicola_bin())
}

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/regressions/wasi")
}

/// `HOST::GUEST` for a `--dir-rw` option.
fn mapping(host: &Path, guest: &str) -> String {
    format!("{}::{guest}", host.display())
}

/// A host tree: each path (relative, `/`-separated) and what is there: `file:CONTENTS`, `dir` or `link:TARGET`.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("the tree can be listed")
            .map(|e| e.expect("an entry").file_name())
            .collect();
        entries.sort();
        for name in entries {
            let name = name.to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let path = dir.join(&name);
            let meta = std::fs::symlink_metadata(&path).expect("an entry has metadata");
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("a link has a target");
                out.insert(child, format!("link:{}", target.display()));
            } else if meta.is_dir() {
                out.insert(child.clone(), "dir".into());
                walk(&path, &child, out);
            } else {
                let data = std::fs::read(&path).expect("a file can be read");
                out.insert(child, format!("file:{}", String::from_utf8_lossy(&data)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, "", &mut out);
    out
}

/// Creates the entries under `root` (parents too): `(NAME, CONTENTS)` a file, `(NAME/, "")` a directory,
/// `(NAME, -> TARGET)` a symlink.
fn populate(root: &Path, files: &[(String, String)]) {
    for (rel, contents) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("parents");
        if rel.ends_with('/') {
            std::fs::create_dir_all(&path).expect("writable");
        } else if let Some(target) = contents.strip_prefix("-> ") {
            std::os::unix::fs::symlink(target, &path).expect("writable");
        } else {
            std::fs::write(&path, contents).expect("writable");
        }
    }
}

/// What a regression program's header says: the host files before, after (`None`: unchanged), and the status
/// `capicola run` exits with.
struct Case {
    before: Vec<(String, String)>,
    after: Option<Vec<(String, String)>>,
    status: i32,
}

fn parse_case(source: &str) -> Case {
    let mut case = Case {
        before: Vec::new(),
        after: Some(Vec::new()),
        status: 0,
    };
    for line in source.lines().take_while(|l| l.starts_with("//")) {
        let line = line.trim_start_matches('/').trim();
        // `NAME=CONTENTS`, `NAME/` or `NAME -> TARGET`.
        let pair = |text: &str| {
            if let Some((name, target)) = text.split_once(" -> ") {
                return (name.to_string(), format!("-> {target}"));
            }
            if text.ends_with('/') {
                return (text.to_string(), String::new());
            }
            let (name, contents) = text.split_once('=').expect("NAME=CONTENTS");
            (name.to_string(), contents.to_string())
        };
        if let Some(file) = line.strip_prefix("before: ") {
            case.before.push(pair(file));
        } else if let Some(file) = line.strip_prefix("after: ") {
            if file == "unchanged" {
                case.after = None;
            } else if let Some(after) = &mut case.after {
                after.push(pair(file));
            }
        } else if let Some(status) = line.strip_prefix("status: ") {
            case.status = status.parse().expect("a status is a number");
        }
    }
    case
}

#[test]
fn every_write_back_regression_leaves_the_host_as_its_header_says() {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(regressions())
        .expect("the regressions can be listed")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    assert!(!sources.is_empty());
    let mut failures = Vec::new();
    for source in sources {
        let name = source.display().to_string();
        let case = parse_case(&std::fs::read_to_string(&source).expect("readable"));
        let wasm = build_wasi_program(&source);
        let host = tempfile::tempdir().expect("a temporary folder can be made");
        populate(host.path(), &case.before);
        let expected = match &case.after {
            None => tree(host.path()),
            Some(after) => {
                let scratch = tempfile::tempdir().expect("a temporary folder can be made");
                populate(scratch.path(), after);
                tree(scratch.path())
            }
        };
        let output = capicola()
            .arg("run")
            .arg(&wasm)
            .arg("--dir-rw")
            .arg(mapping(host.path(), "/d"))
            .output()
            .expect("capicola runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let after = tree(host.path());
        if output.status.code() != Some(case.status) {
            failures.push(format!(
                "{name}: exit status {:?}, expected {}: {stderr}",
                output.status.code(),
                case.status
            ));
        } else if case.after.is_none() && !stderr.contains("nothing was written") {
            failures.push(format!("{name}: no refusal said: {stderr}"));
        } else if after != expected {
            failures.push(format!(
                "{name}: the host holds {after:?}, expected {expected:?}: {stderr}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Replaces every bincode string `from` (length byte, then bytes) in `bytes` with `to`.
fn replace_string(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert!(from.len() < 251 && to.len() < 251, "one-byte lengths");
    let mut needle = vec![from.len() as u8];
    needle.extend_from_slice(from.as_bytes());
    let mut replacement = vec![to.len() as u8];
    replacement.extend_from_slice(to.as_bytes());
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut found = 0;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(&replacement);
        rest = &rest[at + needle.len()..];
        found += 1;
    }
    out.extend_from_slice(rest);
    assert!(
        found >= 2,
        "{from} is named in the tree and the copied-in list"
    );
    out
}

#[test]
fn a_crafted_snapshot_cannot_choose_where_resume_writes() {
    let work = tempfile::tempdir().expect("a temporary folder can be made");
    let work = std::fs::canonicalize(work.path()).expect("resolvable");
    let rw = work.join("rw");
    std::fs::create_dir(&rw).expect("writable");
    std::fs::write(rw.join("zzzzzzzzzzzzzzzzzz"), "z").expect("writable");
    std::fs::write(rw.join("yyyyyyyyyyyyyyyy"), "y").expect("writable");
    let victim_file = work.join("victim_file.txt");
    std::fs::write(&victim_file, "victim").expect("writable");
    let victim_dir = work.join("victim_dir");
    std::fs::create_dir(&victim_dir).expect("writable");
    std::fs::write(victim_dir.join("keep.txt"), "keep").expect("writable");
    let module = regressions().join("crafted_snapshot_loop.wat");
    let snap = work.join("rw.snap");
    // A relative --dir-rw path: recorded absolute, as resolved here.
    capicola()
        .current_dir(&work)
        .arg("run")
        .arg(&module)
        .args(["--dir-rw", "rw::/d", "--fuel", "1000", "--save-snapshot"])
        .arg(&snap)
        .assert()
        .code(200);
    capicola()
        .args(["snapshot", "info"])
        .arg(&snap)
        .assert()
        .success()
        .stdout(predicates::str::contains(format!(
            "/d: read-write, written back (--dir-rw); recorded host directory {}",
            rw.display()
        )));

    let bytes = std::fs::read(&snap).expect("the snapshot is readable");
    let mut snapshot = Snapshot::from_bytes(&bytes, &DecodeLimits::default()).expect("decodes");
    let mut state = RunState::from_bytes(snapshot.host_state()).expect("a run state");
    let ctx = state.wasi.take().expect("a WASI program");
    let ctx = replace_string(&ctx, "zzzzzzzzzzzzzzzzzz", "../victim_file.txt");
    let ctx = replace_string(
        &ctx,
        "yyyyyyyyyyyyyyyy",
        victim_dir.to_str().expect("UTF-8"),
    );
    state.wasi = Some(ctx);
    snapshot.set_host_state(state.to_bytes().expect("encodes"));
    let crafted = work.join("crafted.snap");
    std::fs::write(&crafted, snapshot.to_bytes().expect("encodes")).expect("writable");

    let untouched = |what: &str| {
        assert_eq!(
            std::fs::read_to_string(&victim_file).expect("the victim file is still a file"),
            "victim",
            "{what}"
        );
        assert_eq!(
            std::fs::read_to_string(victim_dir.join("keep.txt"))
                .expect("the victim directory stays"),
            "keep",
            "{what}"
        );
        assert_eq!(tree(&rw).len(), 2, "{what}: {:?}", tree(&rw));
    };
    let elsewhere = work.join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("writable");
    // Without a host directory from the command line, nothing runs.
    capicola()
        .current_dir(&elsewhere)
        .arg("resume")
        .arg(&crafted)
        .arg("--module")
        .arg(&module)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--trust-snapshot-dirs"))
        .stderr(predicates::str::contains("/d (recorded host directory"));
    untouched("resumed without a host directory");
    // Trusting the recorded directory, or naming it, still refuses the names that would leave it.
    let trusted = capicola()
        .current_dir(&elsewhere)
        .arg("resume")
        .arg(&crafted)
        .arg("--module")
        .arg(&module)
        .arg("--trust-snapshot-dirs")
        .output()
        .expect("capicola runs");
    assert_eq!(trusted.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&trusted.stderr).contains("nothing was written"));
    untouched("resumed with --trust-snapshot-dirs");
    capicola()
        .arg("resume")
        .arg(&crafted)
        .arg("--module")
        .arg(&module)
        .arg("--dir-rw")
        .arg(mapping(&rw, "/d"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nothing was written"));
    untouched("resumed with --dir-rw");
    // A guest path the snapshot does not have is an error too.
    capicola()
        .arg("resume")
        .arg(&snap)
        .arg("--module")
        .arg(&module)
        .arg("--dir-rw")
        .arg(mapping(&rw, "/elsewhere"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "no --dir-rw directory /elsewhere",
        ));
    // The untouched snapshot resumes from another working directory into the recorded absolute directory.
    std::fs::create_dir(elsewhere.join("rw")).expect("writable");
    capicola()
        .current_dir(&elsewhere)
        .arg("resume")
        .arg(&snap)
        .arg("--module")
        .arg(&module)
        .arg("--trust-snapshot-dirs")
        .assert()
        .success();
    untouched("the real snapshot");
    assert!(tree(&elsewhere.join("rw")).is_empty());
}

#[test]
fn a_run_out_of_fuel_says_it_wrote_nothing_back() {
    let host = tempfile::tempdir().expect("a temporary folder can be made");
    capicola()
        .arg("run")
        .arg(regressions().join("crafted_snapshot_loop.wat"))
        .arg("--dir-rw")
        .arg(mapping(host.path(), "/d"))
        .args(["--fuel", "1000"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "its changes to --dir-rw directories were not written back",
        ));
}

/// A WASI program that does the file operations its standard input lists, one a line: `w PATH TEXT` (create or
/// truncate, then write), `a PATH TEXT` (append), `r FROM TO`, `u PATH` (unlink), `m PATH` (mkdir), `d PATH`
/// (rmdir). Paths are relative to the preopen `/d`; errors are ignored.
const FILE_OPS: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    char line[512], a[300], b[300];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *first = line + 2, *second = strchr(first, ' ');
        if (second) *second++ = 0;
        snprintf(a, sizeof a, "/d/%s", first);
        snprintf(b, sizeof b, "/d/%s", second ? second : "");
        int fd;
        switch (line[0]) {
        case 'w':
        case 'a':
            fd = open(a, O_WRONLY | O_CREAT | (line[0] == 'w' ? O_TRUNC : O_APPEND), 0644);
            if (fd >= 0) {
                if (write(fd, second, strlen(second)) < 0) perror("write");
                close(fd);
            }
            break;
        case 'r': rename(a, b); break;
        case 'u': unlink(a); break;
        case 'm': mkdir(a, 0755); break;
        case 'd': rmdir(a); break;
        }
    }
    return 0;
}
"#;

/// Does one line of the script natively under `root`, ignoring errors, as `FILE_OPS` does in the sandbox.
fn native(root: &Path, line: &str) {
    use std::io::Write;
    let mut parts = line.splitn(3, ' ');
    let (op, first, second) = (
        parts.next().expect("an op"),
        parts.next().expect("a path"),
        parts.next().unwrap_or(""),
    );
    let a = root.join(first);
    let _ = match op {
        "w" | "a" => std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(op == "w")
            .append(op == "a")
            .open(&a)
            .and_then(|mut f| f.write_all(second.as_bytes())),
        "r" => std::fs::rename(&a, root.join(second)),
        "u" => std::fs::remove_file(&a),
        "m" => std::fs::create_dir(&a),
        "d" => std::fs::remove_dir(&a),
        _ => unreachable!("only these ops are generated"),
    };
}

#[test]
fn random_file_operations_leave_the_host_as_a_native_run_does() {
    let source_dir = tempfile::tempdir().expect("a temporary folder can be made");
    let source = source_dir.path().join("write_back_file_ops.c");
    std::fs::write(&source, FILE_OPS).expect("writable");
    let wasm = build_wasi_program(&source);
    let paths = [
        "a", "b", "c", "log", "log.1", "d1", "d2", "d1/a", "d1/b", "d2/a", "d1/e", "d1/e/a",
    ];
    let initial = [
        ("a".to_string(), "A".to_string()),
        ("log".into(), "L".into()),
        ("d1/a".into(), "DA".into()),
        ("d1/e/a".into(), "DEA".into()),
    ];
    for seed in 0..24u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut script = String::new();
        for i in 0..40 {
            let path = |rng: &mut StdRng| paths[rng.random_range(0..paths.len())];
            let line = match rng.random_range(0..10) {
                0..=1 => format!("w {} v{i}", path(&mut rng)),
                2 => format!("a {} +{i}", path(&mut rng)),
                3..=5 => format!("r {} {}", path(&mut rng), path(&mut rng)),
                6 => format!("u {}", path(&mut rng)),
                7..=8 => format!("m {}", path(&mut rng)),
                _ => format!("d {}", path(&mut rng)),
            };
            script.push_str(&line);
            script.push('\n');
        }
        let guest = tempfile::tempdir().expect("a temporary folder can be made");
        let scratch = tempfile::tempdir().expect("a temporary folder can be made");
        populate(guest.path(), &initial);
        populate(scratch.path(), &initial);
        for line in script.lines() {
            native(scratch.path(), line);
        }
        capicola()
            .arg("run")
            .arg(&wasm)
            .arg("--dir-rw")
            .arg(mapping(guest.path(), "/d"))
            .write_stdin(script.clone())
            .assert()
            .success();
        assert_eq!(
            tree(guest.path()),
            tree(scratch.path()),
            "seed {seed}, script:\n{script}"
        );
    }
}
