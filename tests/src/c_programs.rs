//! Building the project's C test programs for wasm32-wasi with Debian's clang, cached in the cargo target directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// The line number (from 1) of `harnesses/crashdemo/crash.c` that carries `marker`.
pub fn crashdemo_line(marker: &str) -> usize {
    let path = workspace_root().join("harnesses/crashdemo/crash.c");
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    source
        .lines()
        .position(|l| l.contains(marker))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line with {marker} in {}", path.display()))
}

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives in the workspace root")
        .to_path_buf()
}

/// Every `.c` file in `dir`, sorted by name.
pub fn c_sources(dir: &Path) -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entries can be read").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "c"))
        .collect();
    sources.sort();
    sources
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `<target>/<profile>/`, the folder of the running test or benchmark executable's profile.
fn profile_dir() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test knows its own path");
    test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in <target>/<profile>/deps")
        .to_path_buf()
}

/// `<target>/harness-libs/`, where the real-library harnesses keep what they compile of their C library once
/// (shared by every profile; the sources themselves are in cargo's package cache, see `harnesses/lib-source`).
pub fn harness_libs_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("a profile folder lies in the target folder")
        .join("harness-libs")
}

/// `<target>/<profile>/wasi-programs/`, where the built modules are cached.
fn out_dir() -> PathBuf {
    let out_dir = profile_dir().join("wasi-programs");
    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    out_dir
}

/// Builds the fuzz target `harnesses/<name>/` with its own `build.sh` into `<target>/<profile>/wasi-programs/<name>.wasm`,
/// unless a build newer than every file of the harness (and `harnesses/lib-source` with its pinned package list) is
/// already there. Returns the module's path.
///
/// A real-library harness's `build.sh` has cargo fetch its library's crates.io package (at the version
/// `harnesses/libs/Cargo.lock` pins) and keeps what it compiles of it in [`harness_libs_dir`]: later builds, in any
/// profile, reuse it.
///
/// Panics with a message saying how to install the toolchain when the build fails.
pub fn build_harness(name: &str) -> PathBuf {
    build_with_script(name, out_dir().join(format!("{name}.wasm")))
}

/// The fuzz targets that have seeds: every `corpora/NAME/` whose harness `harnesses/NAME/` builds one module (a
/// `build.sh` taking the output file, or a single WASI program `NAME.c`; not a set like `harnesses/sanitize/`),
/// sorted by name.
pub fn seeded_fuzz_targets() -> Vec<String> {
    let root = workspace_root();
    let corpora = root.join("corpora");
    let mut names: Vec<String> = std::fs::read_dir(&corpora)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", corpora.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            let harness = root.join("harnesses").join(name);
            let script = harness.join("build.sh");
            let builds_one = std::fs::read_to_string(&script)
                .is_ok_and(|text| !text.contains("OUTDIR"))
                || (!script.exists() && harness.join(format!("{name}.c")).exists());
            builds_one && corpora.join(name).is_dir()
        })
        .collect();
    names.sort();
    names
}

/// Builds the fuzz target `harnesses/NAME/` (see [`seeded_fuzz_targets`]): with its `build.sh`, or as a WASI
/// program from `NAME.c`. Returns the module's path.
pub fn build_fuzz_target(name: &str) -> PathBuf {
    let harness = workspace_root().join("harnesses").join(name);
    if harness.join("build.sh").exists() {
        build_harness(name)
    } else {
        build_wasi_program(&harness.join(format!("{name}.c")))
    }
}

/// Builds the set of fuzz targets `harnesses/<name>/` whose `build.sh` takes an output folder (the sanitizer's
/// planted bugs: `NAME-O1.wasm`, `NAME-O2.wasm`) into `<target>/<profile>/wasi-programs/<name>/`, as
/// [`build_harness`] does. Returns the folder.
pub fn build_harness_set(name: &str) -> PathBuf {
    build_with_script(name, out_dir().join(name))
}

/// Runs `harnesses/<name>/build.sh` for `out` unless `out` is newer than every file of the harness. The script
/// writes beside it, and the result takes `out`'s place only when the script succeeds, so a failed build never looks
/// fresh.
fn build_with_script(name: &str, out: PathBuf) -> PathBuf {
    // One build of each harness at a time; different harnesses build side by side.
    static BUILDS: Mutex<BTreeMap<String, Arc<Mutex<()>>>> = Mutex::new(BTreeMap::new());
    let lock = BUILDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(name.to_string())
        .or_default()
        .clone();
    let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let harnesses = workspace_root().join("harnesses");
    let dir = harnesses.join(name);
    let newest_input = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .chain([
            harnesses.join("lib-source"),
            harnesses.join("libs/Cargo.lock"),
        ])
        .filter_map(|p| mtime(&p))
        .max();
    if let (Some(built), Some(input)) = (mtime(&out), newest_input)
        && built >= input
    {
        return out;
    }
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    if partial.is_dir() {
        std::fs::remove_dir_all(&partial)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", partial.display()));
    }
    let output = Command::new("bash")
        .arg(dir.join("build.sh"))
        .arg(&partial)
        .env("CAPICOLA_HARNESS_LIBS", harness_libs_dir())
        .output()
        .expect("bash can be started");
    assert!(
        output.status.success(),
        "building the harness {name} failed (it needs Debian's clang for wasm32-wasi, which `bash .ci/setup` \
         installs, and, for a real-library harness, the crates.io download its build.sh names):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if out.is_dir() {
        std::fs::remove_dir_all(&out)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", out.display()));
    }
    std::fs::rename(&partial, &out)
        .unwrap_or_else(|e| panic!("cannot move the build to {}: {e}", out.display()));
    out
}

/// The harnesses built from a real C library fetched from crates.io: every `harnesses/<name>/build.sh` that calls
/// `lib-source`, sorted by name.
pub fn library_harnesses() -> Vec<String> {
    let harnesses = workspace_root().join("harnesses");
    let mut names: Vec<String> = std::fs::read_dir(&harnesses)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", harnesses.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|dir| {
            std::fs::read_to_string(dir.join("build.sh"))
                .is_ok_and(|script| script.contains("lib-source"))
        })
        .filter_map(|dir| Some(dir.file_name()?.to_str()?.to_string()))
        .collect();
    names.sort();
    names
}

/// Compiles `source` with `clang --target=wasm32-wasi -O2` into `<target>/<profile>/wasi-programs/<name>.wasm`, unless a
/// build newer than the source and every header beside it is already there. Returns the module's path.
///
/// Panics with a message saying how to install the toolchain when clang is missing: a test that needs these
/// programs fails rather than skips.
pub fn build_wasi_program(source: &Path) -> PathBuf {
    build_wasm32_wasi(source, &[])
}

/// Like [`build_wasi_program`], without wasi-libc: for programs that declare their own imports (e.g. from
/// `wasi_unstable`, which wasi-libc does not speak) and export their own `_start`.
pub fn build_freestanding_program(source: &Path) -> PathBuf {
    build_wasm32_wasi(
        source,
        &["-nostdlib", "-Wl,--no-entry", "-Wl,--export=_start"],
    )
}

fn build_wasm32_wasi(source: &Path, flags: &[&str]) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let out_dir = out_dir();
    let stem = source
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("C sources have UTF-8 names");
    let out = out_dir.join(format!("{stem}.wasm"));
    let dir = source.parent().expect("a source file lies in a folder");
    let newest_input = std::fs::read_dir(dir)
        .expect("the source folder can be listed")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p == source || p.extension().is_some_and(|ext| ext == "h"))
        .filter_map(|p| mtime(&p))
        .max();
    if let (Some(built), Some(input)) = (mtime(&out), newest_input)
        && built >= input
    {
        return out;
    }
    let partial = out_dir.join(format!("{stem}.wasm.partial"));
    let output = Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror"])
        .args(flags)
        .arg("-o")
        .arg(&partial)
        .arg(source)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run clang to build {} ({e}). The WASI test programs need Debian's clang for \
                 wasm32-wasi: run `bash .ci/setup` (apt-get install clang lld wasi-libc \
                 libclang-rt-dev-wasm32)",
                source.display()
            )
        });
    assert!(
        output.status.success(),
        "clang failed to build {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &out)
        .unwrap_or_else(|e| panic!("cannot move the build to {}: {e}", out.display()));
    out
}
