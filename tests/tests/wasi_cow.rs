//! Host directories read lazily, copy-on-write (`--dir`, `--dir-ro`, `--dir-rw`): a program that opens one file of a
//! large tree reads only that file and the directories on its way; changes stay in the sandbox unless `--dir-rw`
//! writes them back; a paused run resumes in another process with the same output, and refuses to when a host file
//! it read has changed. The program is `harnesses/wasi-cow/cow.c`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capicola_engine::wasi::{self, DirMode, WasiCtx};
use capicola_engine::{Engine, Linker, Module, Store};
use capicola_tests::c_programs::{build_wasi_program, workspace_root};
use capicola_tests::capicola_bin;

/// Exit code of a run paused with `--save-snapshot`.
const PAUSED: i32 = 200;

fn cow_wasm() -> PathBuf {
    build_wasi_program(&workspace_root().join("harnesses/wasi-cow/cow.c"))
}

fn capicola() -> Command {
    Command::new(capicola_bin())
}

fn mapping(host: &Path) -> String {
    format!("{}::/d", host.display())
}

/// Runs `cow.wasm` with the engine's API on `ctx`; returns its exit code and output.
fn run_in_process(ctx: &mut WasiCtx) -> (i32, String) {
    let engine = Engine::default();
    let bytes = std::fs::read(cow_wasm()).expect("the built module can be read");
    let module = Module::new(&engine, &bytes).expect("clang's output is a valid module");
    let mut store = Store::new(&engine);
    let mut linker = Linker::new();
    wasi::define(&mut linker, &mut store).expect("WASI functions can be defined");
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("the program imports only WASI");
    let outcome = wasi::run_command(&mut store, instance, ctx).expect("the run can be driven");
    (
        outcome.exit_code,
        String::from_utf8_lossy(ctx.stdout()).into_owned(),
    )
}

/// Runs `capicola ARGS`, expecting exit code `code`; returns stdout.
fn stdout_of(args: &[&str], code: i32) -> String {
    let out = capicola().args(args).output().expect("capicola runs");
    assert_eq!(
        out.status.code(),
        Some(code),
        "capicola {args:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn one_file_of_a_large_tree_reads_only_that_file_and_its_directories() {
    let host = tempfile::tempdir().expect("a temporary directory");
    // 20,000 files of 10,000 bytes (sparse: 200 MB that take no disk), 100 in each of 200 directories.
    for d in 0..200 {
        let dir = host.path().join(format!("d{d:03}"));
        std::fs::create_dir(&dir).expect("writable");
        for f in 0..100 {
            let file = std::fs::File::create(dir.join(format!("f{f:03}"))).expect("writable");
            file.set_len(10_000).expect("a sparse file can be made");
        }
    }
    std::fs::write(host.path().join("d123/f045"), "the one file\n").expect("writable");
    let mut ctx = WasiCtx::builder()
        .args(["cow", "cat", "d123/f045", "sum", "d007/f001"])
        .preopen_dir(host.path(), "/d", DirMode::ReadOnly)
        .deterministic(1)
        .build()
        .expect("the context builds without reading the tree");
    // Before the run: the top directory is listed (200 entries), nothing else.
    let (files, dirs, _) = ctx.host_reads();
    assert_eq!((files, dirs), (0, 1));
    assert_eq!(ctx.fs_bytes(), 0);
    let (code, out) = run_in_process(&mut ctx);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "the one file\nd007/f001: 10000 bytes, sum 0\n");
    // Two files read, three directories listed (the top, d123, d007): 200 + 100 + 100 entries, not 20,200.
    let (files, dirs, nodes) = ctx.host_reads();
    assert_eq!((files, dirs), (2, 3));
    assert!(nodes < 420, "{nodes} inodes for two files");
    assert_eq!(ctx.fs_bytes(), 13 + 10_000);
}

#[test]
fn size_limits_apply_to_what_is_read() {
    let host = tempfile::tempdir().expect("a temporary directory");
    // A sparse 3 GiB file: listed, never read; opening it is EFBIG (errno 22 in WASI).
    let sparse = std::fs::File::create(host.path().join("sparse")).expect("writable");
    sparse.set_len(3 << 30).expect("a sparse file can be made");
    std::fs::write(host.path().join("a"), vec![1u8; 600 << 10]).expect("writable");
    std::fs::write(host.path().join("b"), vec![2u8; 600 << 10]).expect("writable");
    let mut ctx = WasiCtx::builder()
        .args(["cow", "sum", "sparse", "sum", "a", "sum", "b"])
        .preopen_dir(host.path(), "/d", DirMode::Sandboxed)
        .max_fs_bytes(1 << 20)
        .deterministic(1)
        .build()
        .expect("nothing is read before the run");
    let (code, out) = run_in_process(&mut ctx);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "sparse: errno 22", "{out}");
    assert!(lines[1].starts_with("a: 614400 bytes"), "{out}");
    // The second 600 KiB file would take the filesystem past 1 MiB: ENOSPC (errno 51).
    assert_eq!(lines[2], "b: errno 51", "{out}");
    assert_eq!(ctx.fs_bytes(), 600 << 10);
}

#[test]
fn changes_stay_in_the_sandbox_unless_dir_rw_writes_them_back() {
    let wasm = cow_wasm();
    let wasm = wasm.to_str().expect("UTF-8 path");
    let make = || {
        let host = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir_all(host.path().join("a/deep")).expect("writable");
        std::fs::write(host.path().join("a/deep/x.txt"), "x\n").expect("writable");
        std::fs::write(host.path().join("a/y.txt"), "y\n").expect("writable");
        std::fs::write(host.path().join("keep.txt"), "keep\n").expect("writable");
        std::fs::write(host.path().join("gone.txt"), "gone\n").expect("writable");
        host
    };
    // The program writes a file, renames a directory it never listed, and removes a file.
    let commands = [
        "write",
        "keep.txt",
        "changed\n",
        "mv",
        "a",
        "b",
        "rm",
        "gone.txt",
        "cat",
        "keep.txt",
        "cat",
        "b/deep/x.txt",
    ];
    let sandboxed = make();
    let dir = mapping(sandboxed.path());
    let mut args = vec!["run", "--dir", &dir, wasm, "--"];
    args.extend(commands);
    assert_eq!(stdout_of(&args, 0), "changed\nx\n");
    // The host never saw any of it.
    assert_eq!(
        std::fs::read_to_string(sandboxed.path().join("keep.txt")).expect("kept"),
        "keep\n"
    );
    assert!(sandboxed.path().join("a/deep/x.txt").exists());
    assert!(sandboxed.path().join("gone.txt").exists());
    assert!(!sandboxed.path().join("b").exists());

    let rw = make();
    let dir = mapping(rw.path());
    let mut args = vec!["run", "--dir-rw", &dir, wasm, "--"];
    args.extend(commands);
    assert_eq!(stdout_of(&args, 0), "changed\nx\n");
    let host = rw.path();
    assert_eq!(
        std::fs::read_to_string(host.join("keep.txt")).expect("kept"),
        "changed\n"
    );
    // The directory moved whole, files it never read included.
    assert_eq!(
        std::fs::read_to_string(host.join("b/deep/x.txt")).expect("moved"),
        "x\n"
    );
    assert_eq!(
        std::fs::read_to_string(host.join("b/y.txt")).expect("moved"),
        "y\n"
    );
    assert!(!host.join("a").exists());
    assert!(!host.join("gone.txt").exists());
}

/// A tree for the snapshot tests: `a.txt` read before the pause, `sub/b.txt` after it.
fn snapshot_tree() -> tempfile::TempDir {
    let host = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(host.path().join("sub")).expect("writable");
    std::fs::write(host.path().join("a.txt"), "first file\n").expect("writable");
    std::fs::write(host.path().join("sub/b.txt"), "second file\n").expect("writable");
    std::fs::write(host.path().join("other.txt"), "never read\n").expect("writable");
    std::fs::create_dir(host.path().join("untouched")).expect("writable");
    std::fs::write(host.path().join("untouched/z.txt"), "never listed\n").expect("writable");
    host
}

const SNAPSHOT_COMMANDS: [&str; 8] = [
    "cat",
    "a.txt",
    "spin",
    "300000",
    "cat",
    "sub/b.txt",
    "ls",
    "sub",
];

/// Runs the snapshot commands with `--fuel` and `--save-snapshot`, expecting a pause; returns the output so far.
fn pause(host: &Path, snapshot: &Path) -> String {
    let wasm = cow_wasm();
    let dir = mapping(host);
    let mut args = vec![
        "run",
        "--deterministic",
        "--dir",
        &dir,
        "--fuel",
        "400000",
        "--save-snapshot",
        snapshot.to_str().expect("UTF-8 path"),
        wasm.to_str().expect("UTF-8 path"),
        "--",
    ];
    args.extend(SNAPSHOT_COMMANDS);
    stdout_of(&args, PAUSED)
}

#[test]
fn a_paused_run_resumes_in_another_process_and_refuses_a_changed_host_file() {
    let wasm = cow_wasm();
    let wasm = wasm.to_str().expect("UTF-8 path");
    let host = snapshot_tree();
    let dir = mapping(host.path());
    let mut whole = vec!["run", "--deterministic", "--dir", &dir, wasm, "--"];
    whole.extend(SNAPSHOT_COMMANDS);
    let expected = stdout_of(&whole, 0);
    assert_eq!(expected, "first file\nsecond file\nb.txt\n");

    let work = tempfile::tempdir().expect("a temporary directory");
    let snapshot = work.path().join("run.snap");
    let before = pause(host.path(), &snapshot);
    assert_eq!(before, "first file\n", "paused after reading a.txt");
    // The same run saves the same bytes.
    let again = work.path().join("again.snap");
    pause(host.path(), &again);
    assert_eq!(
        std::fs::read(&snapshot).expect("saved"),
        std::fs::read(&again).expect("saved"),
        "two identical runs saved different snapshots"
    );
    let snap = snapshot.to_str().expect("UTF-8 path");

    // sub/ is still to be read: without a host directory, the run is not resumed.
    let out = capicola()
        .args(["resume", snap, "--module", wasm])
        .output()
        .expect("capicola runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--dir HOST::GUEST"), "{stderr}");

    // Given the directory (here, where it was), it resumes with the uninterrupted run's output.
    let after = stdout_of(&["resume", snap, "--module", wasm, "--dir", &dir], 0);
    assert_eq!(before.clone() + &after, expected);
    // So it does from a copy of the tree elsewhere with the same files (copied with their times).
    let copy = tempfile::tempdir().expect("a temporary directory");
    copy_tree(host.path(), copy.path());
    let copy_dir = mapping(copy.path());
    let after = stdout_of(&["resume", snap, "--module", wasm, "--dir", &copy_dir], 0);
    assert_eq!(before.clone() + &after, expected);
    // --trust-snapshot-dirs reads from the recorded directory.
    let after = stdout_of(
        &["resume", snap, "--module", wasm, "--trust-snapshot-dirs"],
        0,
    );
    assert_eq!(before.clone() + &after, expected);

    // What the program never listed may change.
    std::fs::write(
        host.path().join("untouched/z.txt"),
        "changed, and that is fine\n",
    )
    .expect("w");
    std::fs::write(host.path().join("untouched/new.txt"), "new\n").expect("writable");
    stdout_of(&["resume", snap, "--module", wasm, "--dir", &dir], 0);
    // A file in a directory it listed may not, even unread (the program may have seen its size): the error
    // names the directory.
    std::fs::write(
        host.path().join("other.txt"),
        "changed: longer than before\n",
    )
    .expect("w");
    let refused = |named: &Path| {
        let out = capicola()
            .args(["resume", snap, "--module", wasm, "--dir", &dir])
            .output()
            .expect("capicola runs");
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{} changed", named.display())),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing ran");
    };
    refused(host.path());
    // A file it read may not change either: the error names it, first.
    std::fs::write(host.path().join("a.txt"), "first file, changed\n").expect("writable");
    refused(&host.path().join("a.txt"));
}

/// Copies a tree of directories and regular files, keeping modification times.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("listable") {
        let entry = entry.expect("an entry");
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            std::fs::create_dir(&dst).expect("writable");
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copyable");
        }
        let file = std::fs::File::open(&dst).expect("openable");
        file.set_modified(meta.modified().expect("a time"))
            .expect("settable");
    }
}

#[test]
fn a_host_symlink_planted_after_the_listing_is_not_followed_out_of_the_tree() {
    let outside = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(outside.path().join("secret"), "secret\n").expect("writable");
    let host = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(host.path().join("sub")).expect("writable");
    std::fs::write(host.path().join("sub/secret"), "inside\n").expect("writable");
    std::fs::write(host.path().join("file"), "inside\n").expect("writable");
    let mut ctx = WasiCtx::builder()
        .args(["cow", "cat", "sub/secret", "cat", "file"])
        .preopen_dir(host.path(), "/d", DirMode::ReadOnly)
        .deterministic(1)
        .build()
        .expect("the top is listed");
    // After the listing, `sub` and `file` become symlinks leading out of the tree.
    std::fs::remove_dir_all(host.path().join("sub")).expect("removable");
    std::os::unix::fs::symlink(outside.path(), host.path().join("sub")).expect("writable");
    std::fs::remove_file(host.path().join("file")).expect("removable");
    std::os::unix::fs::symlink(outside.path().join("secret"), host.path().join("file"))
        .expect("writable");
    let (code, out) = run_in_process(&mut ctx);
    assert_eq!(code, 0);
    // EIO (29) for both: neither is read through the symlink.
    assert_eq!(out, "sub/secret: errno 29\nfile: errno 29\n");
}

#[test]
fn a_reset_to_a_baseline_forgets_what_was_read_after_it_and_reads_it_again_the_same() {
    // As a fuzz target resets: the context is cloned at the baseline and restored from the clone after each run.
    let host = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(host.path().join("sub")).expect("writable");
    std::fs::write(host.path().join("sub/f.txt"), "contents\n").expect("writable");
    std::fs::write(host.path().join("top.txt"), "top\n").expect("writable");
    let base = WasiCtx::builder()
        .args(["cow", "cat", "sub/f.txt", "ls", "sub", "cat", "top.txt"])
        .preopen_dir(host.path(), "/d", DirMode::Sandboxed)
        .deterministic(1)
        .build()
        .expect("the top is listed");
    let mut ctx = base.clone();
    let first = run_in_process(&mut ctx);
    assert_eq!(first, (0, "contents\nf.txt\ntop\n".to_string()));
    assert_eq!((ctx.host_reads().0, ctx.host_reads().1), (2, 2));
    ctx.clone_from(&base);
    assert_eq!(
        (ctx.host_reads().0, ctx.host_reads().1),
        (0, 1),
        "the reset forgot the reads"
    );
    assert_eq!(run_in_process(&mut ctx), first);
    assert_eq!(ctx.to_bytes().ok(), {
        let mut again = base.clone();
        run_in_process(&mut again);
        again.to_bytes().ok()
    });
    // Changed on the host since the baseline: a file in a directory the baseline had not listed is listed and read
    // anew; one the baseline listed (top.txt, at the top) no longer has the size it listed: EIO (29), not other
    // contents.
    std::fs::write(host.path().join("sub/f.txt"), "new contents\n").expect("writable");
    std::fs::write(host.path().join("top.txt"), "top, changed\n").expect("writable");
    ctx.clone_from(&base);
    assert_eq!(
        run_in_process(&mut ctx),
        (0, "new contents\nf.txt\ntop.txt: errno 29\n".into())
    );
}
