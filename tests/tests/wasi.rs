//! The WASI test: the project's C programs in `harnesses/wasi/` run through the engine's WASI layer in deterministic mode and pass their own checks; runs are reproducible; a run paused half-way, carried through bytes into a fresh store and resumed prints what an uninterrupted run prints; the fuzzer's input hooks and `--dir-rw` write-back work.

use std::path::{Path, PathBuf};

use capicola_engine::wasi::{self, CommandOutcome, DirMode, RunStatus, WasiCtx, WasiCtxBuilder};
use capicola_engine::{DecodeLimits, Engine, Linker, Module, Snapshot, Store, TrapKind};
use capicola_tests::c_programs::{build_wasi_program, c_sources, workspace_root};

fn harness_dir() -> PathBuf {
    workspace_root().join("harnesses/wasi")
}

/// Builds `harnesses/wasi/<name>.c` and loads it.
fn program(engine: &Engine, name: &str) -> Module {
    let wasm = build_wasi_program(&harness_dir().join(format!("{name}.c")));
    let bytes = std::fs::read(&wasm).expect("the built module can be read");
    Module::new(engine, &bytes).expect("clang's output is a valid module")
}

/// A host directory for the read-only preopen `/ro`: hello.txt, sub/nested.txt, link -> hello.txt,
/// escape -> ../outside.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory can be made");
    let root = dir.path();
    std::fs::write(root.join("hello.txt"), "hello from the host\n").expect("fixture writable");
    std::fs::create_dir(root.join("sub")).expect("fixture writable");
    std::fs::write(root.join("sub/nested.txt"), "nested\n").expect("fixture writable");
    std::os::unix::fs::symlink("hello.txt", root.join("link")).expect("fixture writable");
    std::os::unix::fs::symlink("../outside", root.join("escape")).expect("fixture writable");
    dir
}

/// The configuration every program runs with: deterministic, arguments `a1` and `b 2`, FOO=bar and EMPTY=,
/// an empty writable `/sandbox` (fd 3), the fixture read-only at `/ro` (fd 4), and two lines on stdin.
fn standard(name: &str, ro: &Path) -> WasiCtxBuilder {
    WasiCtx::builder()
        .args([name, "a1", "b 2"])
        .env("FOO", "bar")
        .env("EMPTY", "")
        .preopen_empty_dir("/sandbox")
        .preopen_dir(ro, "/ro", DirMode::ReadOnly)
        .stdin_bytes("hello\nworld\n")
        .deterministic(1)
}

/// Instantiates `module` with the WASI imports in a fresh store.
fn instantiate(engine: &Engine, module: &Module) -> (Store, capicola_engine::Instance) {
    let mut store = Store::new(engine);
    let mut linker = Linker::new();
    wasi::define(&mut linker, &mut store).expect("WASI functions can be defined");
    let instance = linker
        .instantiate(&mut store, module)
        .expect("the program imports only WASI");
    (store, instance)
}

/// Runs `module` to its end with `ctx`; returns the outcome and the fuel it took.
fn run(engine: &Engine, module: &Module, ctx: &mut WasiCtx) -> (CommandOutcome, u64) {
    let (mut store, instance) = instantiate(engine, module);
    let outcome = wasi::run_command(&mut store, instance, ctx).expect("the run can be driven");
    (outcome, store.fuel_consumed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_program_passes_its_checks() {
    let engine = Engine::default();
    let ro = fixture();
    let sources = c_sources(&harness_dir());
    assert!(sources.len() >= 5, "the WASI test programs are missing");
    for source in sources {
        let name = source
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        let module = program(&engine, name);
        let mut ctx = standard(name, ro.path())
            .build()
            .expect("the context can be built");
        let (outcome, _) = run(&engine, &module, &mut ctx);
        let (stdout, stderr) = (text(ctx.stdout()), text(ctx.stderr()));
        assert_eq!(
            (outcome.exit_code, outcome.trap.as_ref()),
            (0, None),
            "{name} failed:\n--- stdout\n{stdout}--- stderr\n{stderr}"
        );
        let expected = harness_dir().join(format!("{name}.stdout"));
        if expected.exists() {
            let want = std::fs::read_to_string(&expected).expect("expected output is readable");
            assert_eq!(
                stdout,
                want,
                "{name}: stdout differs from {}",
                expected.display()
            );
        }
    }
}

#[test]
fn the_checks_report_what_they_checked() {
    let engine = Engine::default();
    let ro = fixture();
    for name in ["fs", "misc"] {
        let module = program(&engine, name);
        let mut ctx = standard(name, ro.path()).build().expect("context");
        run(&engine, &module, &mut ctx);
        let stdout = text(ctx.stdout());
        assert!(
            stdout.contains(&format!("{name}: ")) && stdout.contains(" checks, 0 failures"),
            "{name}: {stdout}"
        );
    }
    let module = program(&engine, "misc");
    let mut ctx = standard("misc", ro.path()).build().expect("context");
    run(&engine, &module, &mut ctx);
    assert!(text(ctx.stdout()).starts_with("gathered\n"));
    assert_eq!(text(ctx.stderr()), "gat");
}

#[test]
fn deterministic_runs_are_bit_for_bit_identical() {
    let engine = Engine::default();
    let ro = fixture();
    for name in ["workload", "misc", "fs", "input"] {
        let module = program(&engine, name);
        let mut first = standard(name, ro.path()).build().expect("context");
        let mut second = standard(name, ro.path()).build().expect("context");
        let (a, fuel_a) = run(&engine, &module, &mut first);
        let (b, fuel_b) = run(&engine, &module, &mut second);
        assert_eq!(a, b, "{name}: outcomes differ");
        assert_eq!(fuel_a, fuel_b, "{name}: fuel differs");
        assert_eq!(first.stdout(), second.stdout(), "{name}: stdout differs");
        assert_eq!(
            first.to_bytes().expect("encodable"),
            second.to_bytes().expect("encodable"),
            "{name}: final WASI state differs"
        );
    }
    // Another seed gives other random bytes.
    let module = program(&engine, "workload");
    let mut one = standard("workload", ro.path()).build().expect("context");
    let mut other = standard("workload", ro.path())
        .deterministic(2)
        .build()
        .expect("context");
    run(&engine, &module, &mut one);
    run(&engine, &module, &mut other);
    assert_ne!(one.stdout(), other.stdout());
}

#[test]
fn exit_codes_and_traps() {
    let engine = Engine::default();
    let module = program(&engine, "exit");
    let ends = |args: &[&str]| {
        let mut ctx = WasiCtx::builder()
            .arg("exit")
            .args(args.iter().copied())
            .deterministic(0)
            .build()
            .expect("context");
        let (outcome, _) = run(&engine, &module, &mut ctx);
        (outcome, text(ctx.stdout()))
    };
    let (outcome, stdout) = ends(&["exit", "7"]);
    assert_eq!((outcome.exit_code, outcome.trap), (7, None));
    assert_eq!(stdout, "before the end\n");
    let (outcome, _) = ends(&["return", "3"]);
    assert_eq!((outcome.exit_code, outcome.trap), (3, None));
    let (outcome, _) = ends(&[]);
    assert_eq!((outcome.exit_code, outcome.trap), (0, None));
    let (outcome, stdout) = ends(&["trap"]);
    assert_eq!(outcome.exit_code, wasi::TRAP_EXIT_CODE);
    let trap = outcome.trap.expect("unreachable traps");
    assert_eq!(trap.kind, TrapKind::Unreachable);
    assert!(!trap.backtrace.is_empty());
    assert_eq!(stdout, "before the end\n");
    let (outcome, _) = ends(&["abort"]);
    assert_eq!(outcome.exit_code, wasi::TRAP_EXIT_CODE);
    assert!(outcome.trap.is_some());
    // Exit statuses of 126 and above are refused with a trap, as wasmtime does.
    let (outcome, _) = ends(&["exit", "200"]);
    assert_eq!(outcome.exit_code, wasi::TRAP_EXIT_CODE);
    assert!(
        matches!(outcome.trap.expect("trap").kind, TrapKind::Host(m) if m.contains("exit status"))
    );
}

/// Captures `store` and `ctx` into the on-disk snapshot format.
fn save(store: &Store, ctx: &WasiCtx) -> Vec<u8> {
    let mut snap = store.capture();
    snap.set_host_state(ctx.to_bytes().expect("WASI state encodes"));
    snap.to_bytes().expect("the snapshot encodes")
}

/// Restores a store and its WASI context from bytes written by `save`.
fn load(engine: &Engine, module: &Module, bytes: &[u8]) -> (Store, WasiCtx) {
    let snap = Snapshot::from_bytes(bytes, &DecodeLimits::default()).expect("the snapshot decodes");
    let store = Store::restore(engine, &snap, std::slice::from_ref(module)).expect("restores");
    let ctx = WasiCtx::from_bytes(snap.host_state()).expect("WASI state decodes");
    (store, ctx)
}

#[test]
fn a_run_paused_half_way_resumes_from_bytes_with_its_files() {
    let engine = Engine::default();
    let ro = fixture();
    let module = program(&engine, "workload");
    let mut whole = standard("workload", ro.path()).build().expect("context");
    let (expected, total_fuel) = run(&engine, &module, &mut whole);
    assert_eq!(expected.exit_code, 0, "{}", text(whole.stderr()));
    assert!(text(whole.stdout()).contains("step 39"));

    let (mut store, instance) = instantiate(&engine, &module);
    let mut ctx = standard("workload", ro.path()).build().expect("context");
    ctx.start(&mut store, instance).expect("the program starts");
    assert_eq!(
        ctx.resume(&mut store, total_fuel / 2).expect("runs"),
        RunStatus::OutOfFuel
    );
    // Files written before the pause exist in the state that travels.
    let log_before = ctx
        .file_contents("/sandbox/log.txt")
        .expect("the log exists at the pause")
        .to_vec();
    assert!(text(&log_before).contains("step 05"));
    assert!(!text(&log_before).contains("step 39"));
    let bytes = save(&store, &ctx);
    drop((store, ctx));

    let (mut store, mut ctx) = load(&engine, &module, &bytes);
    assert_eq!(
        ctx.file_contents("/sandbox/log.txt")
            .expect("the log survives"),
        log_before.as_slice()
    );
    let RunStatus::Done(outcome) = ctx.resume(&mut store, u64::MAX).expect("resumes") else {
        panic!("the resumed run did not end");
    };
    assert_eq!(outcome, expected);
    assert_eq!(store.fuel_consumed(), total_fuel);
    assert_eq!(text(ctx.stdout()), text(whole.stdout()));
    assert_eq!(
        ctx.to_bytes().expect("encodes"),
        whole.to_bytes().expect("encodes")
    );
}

#[test]
fn pausing_at_every_point_of_a_short_run_changes_nothing() {
    let engine = Engine::default();
    let ro = fixture();
    let module = program(&engine, "input");
    let mut whole = standard("input", ro.path()).build().expect("context");
    let (expected, total) = run(&engine, &module, &mut whole);
    for pause in (1..total).step_by((total / 23).max(1) as usize) {
        let (mut store, instance) = instantiate(&engine, &module);
        let mut ctx = standard("input", ro.path()).build().expect("context");
        ctx.start(&mut store, instance).expect("starts");
        let status = ctx.resume(&mut store, pause).expect("runs");
        assert_eq!(status, RunStatus::OutOfFuel);
        let (mut store, mut ctx) = load(&engine, &module, &save(&store, &ctx));
        let RunStatus::Done(outcome) = ctx.resume(&mut store, u64::MAX).expect("resumes") else {
            panic!("the run did not end");
        };
        assert_eq!(outcome, expected, "paused at {pause}");
        assert_eq!(ctx.stdout(), whole.stdout(), "paused at {pause}");
    }
}

/// Runs `input.c` to its first read of the input, saves the snapshot there, then answers it with each input.
fn fuzz_like(ctx: WasiCtx, feed: impl Fn(&mut WasiCtx, &[u8])) {
    let engine = Engine::default();
    let module = program(&engine, "input");
    let (mut store, instance) = instantiate(&engine, &module);
    let mut ctx = ctx;
    ctx.set_stop_at_input(true);
    ctx.start(&mut store, instance).expect("starts");
    assert_eq!(
        ctx.resume(&mut store, u64::MAX).expect("runs"),
        RunStatus::InputRead
    );
    assert!(!ctx.input_seen());
    let at_input = save(&store, &ctx);
    for input in [&b"first\nsecond\n"[..], b"", b"x"] {
        let (mut store, mut ctx) = load(&engine, &module, &at_input);
        feed(&mut ctx, input);
        let RunStatus::Done(outcome) = ctx.resume(&mut store, u64::MAX).expect("resumes") else {
            panic!("the run did not end");
        };
        assert_eq!(outcome.exit_code, 0, "{}", text(ctx.stderr()));
        assert!(ctx.input_seen());
        let first = input.split(|&b| b == b'\n').next().unwrap_or_default();
        let want = format!(
            "bytes {}, lines {}, fnv1a ",
            input.len(),
            input.iter().filter(|&&b| b == b'\n').count()
        );
        let stdout = text(ctx.stdout());
        assert!(stdout.starts_with(&want), "{stdout}");
        assert!(
            stdout.ends_with(&format!("first line \"{}\"\n", text(first))),
            "{stdout}"
        );
    }
}

#[test]
fn the_first_read_of_stdin_is_a_place_to_snapshot() {
    let ctx = WasiCtx::builder()
        .arg("input")
        .stdin_bytes("replaced before it is read")
        .deterministic(3)
        .build()
        .expect("context");
    fuzz_like(ctx, |ctx, input| ctx.set_stdin_bytes(input));
}

#[test]
fn the_first_read_of_an_input_file_is_a_place_to_snapshot() {
    let ctx = WasiCtx::builder()
        .arg("input")
        .env("INPUT_FILE", "/in/input.bin")
        .preopen_empty_dir("/in")
        .file("/in/input.bin", "replaced before it is read")
        .input_file("/in/input.bin")
        .deterministic(3)
        .build()
        .expect("context");
    fuzz_like(ctx, |ctx, input| {
        ctx.set_file_contents("/in/input.bin", input)
            .expect("the input file can be replaced");
    });
}

#[test]
fn dir_rw_writes_changes_back_and_dir_keeps_them_in_the_sandbox() {
    let engine = Engine::default();
    let module = program(&engine, "workload");
    for mode in [DirMode::ReadWrite, DirMode::Sandboxed] {
        let host = tempfile::tempdir().expect("temporary directory");
        std::fs::write(host.path().join("keep.txt"), "kept").expect("writable");
        // workload.c creates f01 and removes it again.
        std::fs::write(host.path().join("f01"), "imported").expect("writable");
        let mut ctx = WasiCtx::builder()
            .arg("workload")
            .preopen_dir(host.path(), "/sandbox", mode)
            .deterministic(5)
            .build()
            .expect("context");
        let (outcome, _) = run(&engine, &module, &mut ctx);
        assert_eq!(outcome.exit_code, 0);
        ctx.write_back().expect("write-back works");
        let log = host.path().join("log.txt");
        assert_eq!(
            std::fs::read_to_string(host.path().join("keep.txt")).expect("kept"),
            "kept"
        );
        match mode {
            DirMode::ReadWrite => {
                assert_eq!(
                    std::fs::read(&log).expect("the log was written back"),
                    ctx.file_contents("/sandbox/log.txt").expect("log")
                );
                assert!(!host.path().join("f01").exists());
                assert_eq!(
                    std::fs::read_to_string(host.path().join("r03")).expect("renamed file"),
                    "3"
                );
            }
            _ => {
                assert!(!log.exists());
                assert!(host.path().join("f01").exists());
            }
        }
    }
}

#[test]
fn decoding_garbage_state_is_an_error() {
    let ro = fixture();
    let ctx = standard("x", ro.path()).build().expect("context");
    let bytes = ctx.to_bytes().expect("encodes");
    assert_eq!(WasiCtx::from_bytes(&bytes).expect("round trip"), ctx);
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(WasiCtx::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut flipped = bytes.clone();
    for i in (0..flipped.len()).step_by(7) {
        flipped[i] ^= 0x5a;
        let _ = WasiCtx::from_bytes(&flipped);
    }
    assert!(WasiCtx::from_bytes(&[0xff; 64]).is_err());
}

/// A WAT program that opens (creating) the files `f0`, `f1`, ... in the preopen (fd 3), grows each to `size` bytes
/// with `fd_filestat_set_size`, `count` times, and exits with the first errno (0 when all succeeded).
fn growing_files(engine: &Engine, count: u32, size: u64) -> Module {
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "f0")
  (func (export "_start")
    (local $i i32) (local $e i32)
    (loop $next
      (i32.store8 (i32.const 1) (i32.add (i32.const 48) (local.get $i)))
      (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 2) (i32.const 1)
        (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 16)))
      (if (local.get $e) (then (call $exit (local.get $e))))
      (local.set $e (call $size (i32.load (i32.const 16)) (i64.const {size})))
      (if (local.get $e) (then (call $exit (local.get $e))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const {count}))))
    (call $exit (i32.const 0))))"#
    );
    Module::new(engine, &wat::parse_str(&wat).expect("valid text")).expect("valid module")
}

#[test]
fn the_filesystem_s_total_size_is_limited_with_enospc() {
    let engine = Engine::default();
    // Three files of 600 KiB: the third goes past 1.5 MiB in all (ENOSPC = 51), though each is small enough.
    let module = growing_files(&engine, 3, 600 << 10);
    let mut ctx = WasiCtx::builder()
        .preopen_empty_dir("/d")
        .max_fs_bytes(3 << 19)
        .deterministic(1)
        .build()
        .expect("context");
    let (outcome, _) = run(&engine, &module, &mut ctx);
    assert_eq!(outcome.exit_code, 51);
    assert_eq!(ctx.fs_bytes(), 2 * (600 << 10));
    // Under the default limit the same program succeeds.
    let mut ctx = WasiCtx::builder()
        .preopen_empty_dir("/d")
        .deterministic(1)
        .build()
        .expect("context");
    assert_eq!(run(&engine, &module, &mut ctx).0.exit_code, 0);
    // A single file over the per-file limit is EFBIG (22), as before.
    let module = growing_files(&engine, 1, (1 << 30) + 1);
    let mut ctx = WasiCtx::builder()
        .preopen_empty_dir("/d")
        .deterministic(1)
        .build()
        .expect("context");
    assert_eq!(run(&engine, &module, &mut ctx).0.exit_code, 22);
}

/// An error and its sources, as the command line prints them.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[test]
fn a_tree_over_the_limits_is_not_read_before_the_run() {
    // Host directories are read lazily: the limits apply to the files the program opens (tests/tests/wasi_cow.rs),
    // so a tree holding more than them builds, and nothing of it is read yet.
    let host = tempfile::tempdir().expect("a temporary directory");
    // A sparse 3 GiB file: listed from its size, never read.
    let sparse = std::fs::File::create(host.path().join("sparse")).expect("writable");
    sparse.set_len(3 << 30).expect("a sparse file can be made");
    std::fs::write(host.path().join("a"), vec![1u8; 600 << 10]).expect("writable");
    std::fs::write(host.path().join("b"), vec![2u8; 600 << 10]).expect("writable");
    let ctx = WasiCtx::builder()
        .preopen_dir(host.path(), "/d", DirMode::ReadWrite)
        .max_fs_bytes(1 << 20)
        .build()
        .expect("nothing is read");
    assert_eq!(ctx.fs_bytes(), 0);
    let error = ctx.file_contents("/d/a").expect_err("a was not read");
    assert!(chain(&error).contains("errno"), "{}", chain(&error));
}

#[test]
fn host_calls_charge_fuel_for_the_bytes_they_touch() {
    let engine = Engine::default();
    let fuel_for = |size: u64| {
        let module = growing_files(&engine, 1, size);
        let mut ctx = WasiCtx::builder()
            .preopen_empty_dir("/d")
            .deterministic(1)
            .build()
            .expect("context");
        let (outcome, fuel) = run(&engine, &module, &mut ctx);
        assert_eq!(outcome.exit_code, 0);
        fuel
    };
    let small = fuel_for(16);
    let large = fuel_for(64 << 20);
    // Zero-extending 64 MiB costs one unit per 16 bytes; the same run charges the same fuel.
    assert!(small < 100, "{small}");
    assert!(large >= (64 << 20) / 16, "{large}");
    assert_eq!(fuel_for(64 << 20), large);
}

/// Descriptors are numbered lowest free first (as POSIX requires) after 20,000 opens, a close and a renumber
/// (which frees the number it moves from).
#[test]
fn descriptor_numbers_are_the_lowest_free_after_many_opens() {
    let engine = Engine::default();
    let wat = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "f")
  (func $open_f (result i32)
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 1)
      (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 16)))
    (i32.load (i32.const 16)))
  (func (export "_start")
    (local $i i32)
    (loop $next
      (drop (call $open_f))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 20000))))
    (drop (call $close (i32.const 5)))
    (drop (call $renumber (i32.const 7) (i32.const 9)))
    (if (i32.ne (call $open_f) (i32.const 5)) (then (call $exit (i32.const 1))))
    (if (i32.ne (call $open_f) (i32.const 7)) (then (call $exit (i32.const 2))))
    (if (i32.ne (call $open_f) (i32.const 20004)) (then (call $exit (i32.const 3))))
    (call $exit (i32.const 0))))"#;
    let module = Module::new(&engine, &wat::parse_str(wat).expect("valid text")).expect("valid");
    let mut ctx = WasiCtx::builder()
        .preopen_empty_dir("/d")
        .deterministic(1)
        .build()
        .expect("context");
    let (outcome, _) = run(&engine, &module, &mut ctx);
    assert_eq!(outcome.exit_code, 0);
    let bytes = ctx.to_bytes().expect("encodes");
    assert_eq!(WasiCtx::from_bytes(&bytes).expect("decodes"), ctx);
}

/// Hard links, symlinks, truncation rights and renumbering answer as wasmtime does (the wasi-testsuite's
/// `path_link`, `symlink_create`, `path_symlink_trailing_slashes`, `truncation_rights` and `renumber`), the
/// state still round-trips through bytes, and `--dir-rw` writes the hard link and the symlink back: each
/// check exits with its own code.
#[test]
fn links_truncation_rights_and_renumbering_behave_as_wasmtime() {
    let engine = Engine::default();
    let wat = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_rights"
    (func $set_rights (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "path_link"
    (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file"
    (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory"
    (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get"
    (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "f")
  (data (i32.const 8) "l")
  (data (i32.const 16) "s")
  (data (i32.const 24) "s/")
  (data (i32.const 32) "dir")
  (data (i32.const 40) "/")
  (data (i32.const 56) "dir/")
  (data (i32.const 64) "l/")
  (data (i32.const 400) "\00\02\00\00\02\00\00\00")
  (data (i32.const 512) "hi")
  ;; Exits with `code` unless `got` is `want`.
  (func $expect (param $got i32) (param $want i32) (param $code i32)
    (if (i32.ne (local.get $got) (local.get $want)) (then (call $exit (local.get $code)))))
  ;; Opens `path` (length 1) in fd 3 with `oflags` and every right; the errno, the descriptor at 200.
  (func $open_at (param $path i32) (param $len i32) (param $oflags i32) (result i32)
    (call $open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len) (local.get $oflags)
      (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 200)))
  ;; The link count and size of `path` (length 1) in fd 3, following symlinks: exits with `code` if not.
  (func $expect_stat (param $path i32) (param $nlink i64) (param $size i64) (param $code i32)
    (call $expect (call $stat (i32.const 3) (i32.const 1) (local.get $path) (i32.const 1)
      (i32.const 256)) (i32.const 0) (local.get $code))
    (if (i64.ne (i64.load (i32.const 280)) (local.get $nlink)) (then (call $exit (local.get $code))))
    (if (i64.ne (i64.load (i32.const 288)) (local.get $size)) (then (call $exit (local.get $code)))))
  (func (export "_start")
    (local $a i32) (local $b i32) (local $c i32)
    ;; A file `f` holding "hi", hard-linked as `l`.
    (call $expect (call $open_at (i32.const 0) (i32.const 1) (i32.const 1)) (i32.const 0) (i32.const 10))
    (local.set $a (i32.load (i32.const 200)))
    (call $expect (call $write (local.get $a) (i32.const 400) (i32.const 1) (i32.const 204))
      (i32.const 0) (i32.const 11))
    (call $expect (call $close (local.get $a)) (i32.const 0) (i32.const 12))
    (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.const 3) (i32.const 8) (i32.const 1)) (i32.const 0) (i32.const 13))
    (call $expect_stat (i32.const 8) (i64.const 2) (i64.const 2) (i32.const 14))
    ;; path_link: an existing name (itself too) is EEXIST (20), a directory EPERM (63), a new name with a
    ;; trailing slash ENOENT (44).
    (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.const 3) (i32.const 8) (i32.const 1)) (i32.const 20) (i32.const 15))
    (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.const 3) (i32.const 0) (i32.const 1)) (i32.const 20) (i32.const 16))
    (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.const 3) (i32.const 24) (i32.const 2)) (i32.const 44) (i32.const 17))
    (call $expect (call $mkdir (i32.const 3) (i32.const 32) (i32.const 3)) (i32.const 0) (i32.const 18))
    (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 3)
      (i32.const 3) (i32.const 16) (i32.const 1)) (i32.const 63) (i32.const 19))
    (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.const 3) (i32.const 32) (i32.const 3)) (i32.const 20) (i32.const 20))
    ;; Unlinking `f` keeps `l` and its contents; then `l` is linked back as `f`.
    (call $expect (call $unlink (i32.const 3) (i32.const 0) (i32.const 1)) (i32.const 0) (i32.const 21))
    (call $expect_stat (i32.const 8) (i64.const 1) (i64.const 2) (i32.const 22))
    (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 8) (i32.const 1)
      (i32.const 3) (i32.const 0) (i32.const 1)) (i32.const 0) (i32.const 23))
    ;; path_symlink: a new name with a trailing slash ENOENT, an existing directory EEXIST, an existing
    ;; file with a trailing slash ENOTDIR (54), without one EEXIST, an absolute target EPERM.
    (call $expect (call $symlink (i32.const 8) (i32.const 1) (i32.const 3) (i32.const 24) (i32.const 2))
      (i32.const 44) (i32.const 30))
    (call $expect (call $symlink (i32.const 8) (i32.const 1) (i32.const 3) (i32.const 56) (i32.const 4))
      (i32.const 20) (i32.const 31))
    (call $expect (call $symlink (i32.const 8) (i32.const 1) (i32.const 3) (i32.const 64) (i32.const 2))
      (i32.const 54) (i32.const 32))
    (call $expect (call $symlink (i32.const 8) (i32.const 1) (i32.const 3) (i32.const 8) (i32.const 1))
      (i32.const 20) (i32.const 33))
    (call $expect (call $symlink (i32.const 40) (i32.const 1) (i32.const 3) (i32.const 16) (i32.const 1))
      (i32.const 63) (i32.const 34))
    ;; `s` -> `l`: followed, it is the file.
    (call $expect (call $symlink (i32.const 8) (i32.const 1) (i32.const 3) (i32.const 16) (i32.const 1))
      (i32.const 0) (i32.const 35))
    (call $expect_stat (i32.const 16) (i64.const 2) (i64.const 2) (i32.const 36))
    ;; Renumbering: onto an open descriptor closes it and moves; the source is gone; onto a closed one
    ;; is EBADF (8); a preopen moves too.
    (call $expect (call $open_at (i32.const 8) (i32.const 1) (i32.const 0)) (i32.const 0) (i32.const 40))
    (local.set $b (i32.load (i32.const 200)))
    (call $expect (call $open (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 3) (i32.const 2)
      (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 200)) (i32.const 0) (i32.const 41))
    (local.set $c (i32.load (i32.const 200)))
    (call $expect (call $renumber (local.get $b) (local.get $c)) (i32.const 0) (i32.const 42))
    (call $expect (call $close (local.get $b)) (i32.const 8) (i32.const 43))
    (call $expect (call $fdstat (local.get $c) (i32.const 600)) (i32.const 0) (i32.const 44))
    (call $expect (i32.load8_u (i32.const 600)) (i32.const 4) (i32.const 45))
    (call $expect (call $renumber (local.get $c) (local.get $b)) (i32.const 8) (i32.const 46))
    (call $expect (call $renumber (local.get $c) (i32.const 100)) (i32.const 8) (i32.const 47))
    (call $expect (call $renumber (local.get $c) (local.get $c)) (i32.const 0) (i32.const 48))
    (call $expect (call $renumber (i32.const 3) (local.get $c)) (i32.const 0) (i32.const 49))
    (call $expect (call $close (i32.const 3)) (i32.const 8) (i32.const 50))
    (call $expect (call $renumber (local.get $c) (i32.const 3)) (i32.const 8) (i32.const 51))
    (call $expect (call $open_at (i32.const 0) (i32.const 1) (i32.const 0)) (i32.const 8) (i32.const 52))
    ;; Put the preopen back at 3 (free now): open something there, then move the preopen over it.
    (call $expect (call $open (local.get $c) (i32.const 0) (i32.const 32) (i32.const 3) (i32.const 2)
      (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 200)) (i32.const 0) (i32.const 53))
    (call $expect (i32.load (i32.const 200)) (i32.const 3) (i32.const 54))
    (call $expect (call $renumber (local.get $c) (i32.const 3)) (i32.const 0) (i32.const 55))
    ;; Truncating through a path needs the directory's path_filestat_set_size (1 << 19), not the
    ;; inheriting fd_filestat_set_size (1 << 22); without it ENOTCAPABLE (76).
    (call $expect (call $fdstat (i32.const 3) (i32.const 600)) (i32.const 0) (i32.const 60))
    (call $expect (call $set_rights (i32.const 3) (i64.load (i32.const 608))
      (i64.and (i64.load (i32.const 616)) (i64.const -4194305))) (i32.const 0) (i32.const 61))
    (call $expect (call $open_at (i32.const 8) (i32.const 1) (i32.const 8)) (i32.const 0) (i32.const 62))
    (call $expect (call $close (i32.load (i32.const 200))) (i32.const 0) (i32.const 63))
    (call $expect_stat (i32.const 8) (i64.const 2) (i64.const 0) (i32.const 64))
    (call $expect (call $fdstat (i32.const 3) (i32.const 600)) (i32.const 0) (i32.const 69))
    (call $expect (call $set_rights (i32.const 3) (i64.and (i64.load (i32.const 608))
      (i64.const -524289)) (i64.load (i32.const 616))) (i32.const 0) (i32.const 65))
    (call $expect (call $open_at (i32.const 8) (i32.const 1) (i32.const 8)) (i32.const 76) (i32.const 66))
    (call $expect (call $open_at (i32.const 8) (i32.const 1) (i32.const 0)) (i32.const 0) (i32.const 67))
    ;; Leave "hi" in the linked file for write-back.
    (local.set $a (i32.load (i32.const 200)))
    (call $expect (call $write (local.get $a) (i32.const 400) (i32.const 1) (i32.const 204))
      (i32.const 0) (i32.const 68))
    (call $exit (i32.const 0))))"#;
    let module = Module::new(&engine, &wat::parse_str(wat).expect("valid text")).expect("valid");
    let host = tempfile::tempdir().expect("temporary directory");
    let mut ctx = WasiCtx::builder()
        .preopen_dir(host.path(), "/d", DirMode::ReadWrite)
        .deterministic(1)
        .build()
        .expect("context");
    let (outcome, _) = run(&engine, &module, &mut ctx);
    assert_eq!(outcome.exit_code, 0, "the check that failed");
    // Decoded, the state encodes to the same bytes (a decoded context has no write-back directory yet).
    let bytes = ctx.to_bytes().expect("encodes");
    let decoded = WasiCtx::from_bytes(&bytes).expect("decodes");
    assert_eq!(decoded.to_bytes().expect("encodes"), bytes);
    assert_eq!(ctx.file_contents("/d/f").expect("f"), b"hi");
    assert_eq!(ctx.file_contents("/d/l").expect("l"), b"hi");
    ctx.write_back().expect("write-back works");
    for name in ["f", "l", "s"] {
        assert_eq!(
            std::fs::read(host.path().join(name)).expect("written back"),
            b"hi",
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read_link(host.path().join("s")).expect("a symlink"),
        Path::new("l")
    );
    // The hard link is one file on the host too.
    use std::os::unix::fs::MetadataExt;
    let meta = |name: &str| std::fs::metadata(host.path().join(name)).expect("written back");
    assert_eq!(meta("f").ino(), meta("l").ino());
    assert_eq!(meta("l").nlink(), 2);
    assert!(host.path().join("dir").is_dir());
}
