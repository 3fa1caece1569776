//! The smith test: seeded `wasm-smith` modules, and every file in `corpora/regressions/engine/`, run through the fuzz harness without a panic — the `execute` and `translate` fuzz targets on stable, with fixed inputs.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use capicola_engine::Module;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "../../engine/fuzz/generate.rs"]
mod generate;
#[path = "../../engine/fuzz/harness.rs"]
mod harness;

use harness::Summary;

/// Number of generated modules: seeds `0..MODULES`.
const MODULES: u64 = 3000;

/// Longest `wasm-smith` input, in bytes; each seed picks a length up to this.
const MAX_INPUT_LEN: usize = 4096;

/// The `wasm-smith` input of a seed: a length and that many bytes, both from a seeded generator.
fn smith_input(seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bytes = vec![0; rng.random_range(1..=MAX_INPUT_LEN)];
    rng.fill(&mut bytes[..]);
    bytes
}

/// The fuzz targets' configuration with minimums: uniformly random bytes, unlike a fuzzer's
/// evolved inputs, otherwise end most lists after an element or two.
fn seeded_config() -> wasm_smith::Config {
    wasm_smith::Config {
        min_types: 4,
        min_funcs: 8,
        min_imports: 2,
        ..generate::config()
    }
}

/// What the `execute` fuzz target does with a generated module: translate it (it must be
/// accepted: it uses only implemented proposals) and run it.
fn execute_generated(bytes: Option<Vec<u8>>) -> Summary {
    let Some(bytes) = bytes else {
        return Summary::default();
    };
    let engine = harness::engine();
    let module = Module::new(&engine, &bytes)
        .unwrap_or_else(|e| panic!("the engine rejected a valid wasm-smith module: {e}"));
    harness::execute(&engine, &module)
}

/// What the `translate` fuzz target does with `data` (any answer but a panic is fine), and, when
/// `data` is a module the engine accepts, running it.
fn translate_and_execute(data: &[u8]) -> Summary {
    let engine = harness::engine();
    match Module::new(&engine, data) {
        Ok(module) => harness::execute(&engine, &module),
        Err(_) => Summary::default(),
    }
}

/// Runs `f`, turning a panic into its message.
fn catch(f: impl FnOnce() -> Summary) -> Result<Summary, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

#[test]
fn smith_modules_run_without_panic() {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let results: Vec<(Summary, Vec<(u64, String)>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                scope.spawn(move || {
                    let mut total = Summary::default();
                    let mut failures = Vec::new();
                    for seed in (worker..MODULES).step_by(workers as usize) {
                        match catch(|| {
                            execute_generated(generate::module_with(
                                seeded_config(),
                                &smith_input(seed),
                            ))
                        }) {
                            Ok(summary) => total += summary,
                            Err(message) => failures.push((seed, message)),
                        }
                    }
                    (total, failures)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("panics are caught per module"))
            .collect()
    });

    let mut total = Summary::default();
    let mut failures = Vec::new();
    for (summary, mut failed) in results {
        total += summary;
        failures.append(&mut failed);
    }
    failures.sort();
    println!("{MODULES} wasm-smith modules: {total:?}");
    let listed: Vec<String> = failures
        .iter()
        .map(|(seed, message)| format!("  seed {seed}: {message}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {MODULES} seeds panicked (input: `smith_input(seed)` under `seeded_config()`):\n{}",
        failures.len(),
        listed.join("\n")
    );
    // The generator is not vacuous: modules were instantiated and calls ran to completion.
    assert!(total.instantiated && total.finished > 0, "{total:?}");
}

/// Every file of the engine's regression corpus, in name order.
fn engine_regressions() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/regressions/engine");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// A reproducer may come from either fuzz target, so each file goes through both: as a module
/// binary and as `wasm-smith` input. A `.wat` file is a hand-reduced module, assembled first.
#[test]
fn engine_regressions_run_without_panic() {
    let files = engine_regressions();
    println!("{} regression files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let data = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let data = if path.extension().is_some_and(|ext| ext == "wat") {
            wat::parse_bytes(&data)
                .unwrap_or_else(|e| panic!("assembling {}: {e}", path.display()))
                .into_owned()
        } else {
            data
        };
        if let Err(message) = catch(|| translate_and_execute(&data)) {
            failures.push(format!("  {} (translate): {message}", path.display()));
        }
        if let Err(message) = catch(|| execute_generated(generate::module(&data))) {
            failures.push(format!("  {} (execute): {message}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "regressions panicked:\n{}",
        failures.join("\n")
    );
}
