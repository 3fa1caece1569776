//! Building the project's C test programs for wasm32-wasi with Debian's clang, cached in the cargo target directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

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

/// `<target>/<profile>/wasi-programs/`, where the built modules are cached.
fn out_dir() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test knows its own path");
    let out_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in <target>/<profile>/deps")
        .join("wasi-programs");
    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    out_dir
}

/// Builds the fuzz target `harnesses/<name>/` with its own `build.sh` into `<target>/<profile>/wasi-programs/<name>.wasm`,
/// unless a build newer than every file of the harness is already there. Returns the module's path.
///
/// Panics with a message saying how to install the toolchain when the build fails.
pub fn build_harness(name: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let dir = workspace_root().join("harnesses").join(name);
    let out = out_dir().join(format!("{name}.wasm"));
    let newest_input = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| mtime(&p))
        .max();
    if let (Some(built), Some(input)) = (mtime(&out), newest_input)
        && built >= input
    {
        return out;
    }
    let output = Command::new("bash")
        .arg(dir.join("build.sh"))
        .arg(&out)
        .output()
        .expect("bash can be started");
    assert!(
        output.status.success(),
        "building the harness {name} failed (it needs Debian's clang for wasm32-wasi: run `bash .ci/setup`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Compiles `source` with `clang --target=wasm32-wasi -O2` into `<target>/<profile>/wasi-programs/<name>.wasm`, unless a
/// build newer than the source and every header beside it is already there. Returns the module's path.
///
/// Panics with a message saying how to install the toolchain when clang is missing: a test that needs these
/// programs fails rather than skips.
pub fn build_wasi_program(source: &Path) -> PathBuf {
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
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror", "-o"])
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
