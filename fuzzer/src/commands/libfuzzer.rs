//! libFuzzer's `-flag=value` spelling for `capicola fuzz`: the command line is rewritten into capicola's own flags
//! before clap reads it, so that `cargo fuzz run`-style invocations work and an unknown flag gets a clear error.

use std::ffi::OsString;

use anyhow::bail;

/// `argv` with each libFuzzer-style `-name=value` of the `fuzz` subcommand replaced by capicola's own flag (`fuzz
/// --help` lists them). Other subcommands, the arguments of a WASI program (after `--`) and single-letter short
/// options (`-o=out`) are left as they are.
pub fn rewrite(argv: Vec<OsString>) -> anyhow::Result<Vec<OsString>> {
    if argv.get(1).is_none_or(|sub| sub != "fuzz") {
        return Ok(argv);
    }
    let mut out = Vec::with_capacity(argv.len());
    let mut jobs = None;
    let mut workers = None;
    let mut rest = argv.into_iter();
    for arg in rest.by_ref() {
        if arg == "--" {
            out.push(arg);
            break;
        }
        let Some((name, value)) = libfuzzer_flag(&arg) else {
            out.push(arg);
            continue;
        };
        let bad = |reason: &str| anyhow::anyhow!("-{name}={value}: {reason}");
        let mut push = |flag: &str, value: &str| {
            out.push(flag.into());
            out.push(value.into());
        };
        match name {
            "runs" => match value.parse::<i64>() {
                Ok(n) if n < 0 => {}
                Ok(_) => push("--runs", value),
                Err(_) => return Err(bad("expected a number of runs")),
            },
            "max_len" => match value.parse::<usize>() {
                Ok(0) => {}
                Ok(_) => push("--max-len", value),
                Err(_) => return Err(bad("expected a number of bytes")),
            },
            "max_total_time" => match value.parse::<u64>() {
                Ok(0) => {}
                Ok(_) => push("--max-total-time", value),
                Err(_) => return Err(bad("expected a whole number of seconds")),
            },
            "seed" => match value.parse::<u64>() {
                Ok(0) => {}
                Ok(_) => push("--seed", value),
                Err(_) => return Err(bad("expected a number")),
            },
            "dict" => push("--dict", value),
            "timeout" => push("--timeout", value),
            "rss_limit_mb" => match value.parse::<u64>() {
                // No limit: as much as the engine can count.
                Ok(0) => push("--max-memory", &u64::MAX.to_string()),
                Ok(_) => push("--max-memory", &format!("{value}M")),
                Err(_) => return Err(bad("expected a number of MiB")),
            },
            "jobs" | "workers" => {
                let n = value
                    .parse::<usize>()
                    .map_err(|_| bad("expected a number of processes"))?;
                if name == "jobs" {
                    jobs = Some(n);
                } else {
                    workers = Some(n);
                }
            }
            "only_ascii" => {
                if value != "0" {
                    return Err(bad(
                        "not supported: capicola's mutations do not keep inputs to ASCII",
                    ));
                }
            }
            "artifact_prefix" => {
                let Some(dir) = value.strip_suffix('/') else {
                    return Err(bad(
                        "capicola takes only a folder, ending in `/`, and makes it the output folder \
                         (its crashes go to DIR/crashes/)",
                    ));
                };
                push("--output", if dir.is_empty() { "/" } else { dir });
            }
            _ => bail!("unknown libFuzzer flag -{name}; capicola fuzz --help lists its flags"),
        }
    }
    if let Some(n) = workers.or(jobs) {
        out.push("--jobs".into());
        out.push(n.to_string().into());
    }
    out.extend(rest);
    Ok(out)
}

/// The name and value of a libFuzzer-style `-name=value` argument: one dash, a name of two or more letters, digits
/// or underscores, then `=`.
fn libfuzzer_flag(arg: &OsString) -> Option<(&str, &str)> {
    let (name, value) = arg.to_str()?.strip_prefix('-')?.split_once('=')?;
    let is_name = name.len() >= 2 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_name.then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    fn rewritten(line: &str) -> String {
        let words = rewrite(args(line)).expect("a valid command line");
        words
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn libfuzzer_flags_become_capicola_flags() {
        assert_eq!(
            rewritten("capicola fuzz t.wasm -runs=200 -seed=1 -max_len=64 -dict=d.txt"),
            "capicola fuzz t.wasm --runs 200 --seed 1 --max-len 64 --dict d.txt"
        );
        assert_eq!(
            rewritten("capicola fuzz t.wasm -max_total_time=5 -timeout=0.5 -rss_limit_mb=512"),
            "capicola fuzz t.wasm --max-total-time 5 --timeout 0.5 --max-memory 512M"
        );
        assert_eq!(
            rewritten("capicola fuzz t.wasm -artifact_prefix=art/ -only_ascii=0"),
            "capicola fuzz t.wasm --output art"
        );
    }

    #[test]
    fn libfuzzer_defaults_mean_no_flag() {
        assert_eq!(
            rewritten("capicola fuzz t.wasm -runs=-1 -max_len=0 -max_total_time=0 -seed=0"),
            "capicola fuzz t.wasm"
        );
        assert_eq!(
            rewritten("capicola fuzz t.wasm -rss_limit_mb=0"),
            format!("capicola fuzz t.wasm --max-memory {}", u64::MAX)
        );
    }

    #[test]
    fn workers_win_over_jobs() {
        assert_eq!(
            rewritten("capicola fuzz t.wasm -jobs=8 -workers=2"),
            "capicola fuzz t.wasm --jobs 2"
        );
        assert_eq!(
            rewritten("capicola fuzz t.wasm -jobs=3"),
            "capicola fuzz t.wasm --jobs 3"
        );
    }

    #[test]
    fn other_arguments_stay_as_they_are() {
        // Another subcommand, a short option with `=`, a WASI program's own arguments.
        assert_eq!(
            rewritten("capicola run t.wasm -runs=1"),
            "capicola run t.wasm -runs=1"
        );
        assert_eq!(
            rewritten("capicola fuzz t.wasm -o=out -j 2 corpus -- -runs=1 @@"),
            "capicola fuzz t.wasm -o=out -j 2 corpus -- -runs=1 @@"
        );
    }

    #[test]
    fn unknown_and_unsupported_flags_are_errors_that_say_so() {
        let error = rewrite(args("capicola fuzz t.wasm -foo=1")).expect_err("an unknown flag");
        assert_eq!(
            error.to_string(),
            "unknown libFuzzer flag -foo; capicola fuzz --help lists its flags"
        );
        let error = rewrite(args("capicola fuzz t.wasm -only_ascii=1")).expect_err("unsupported");
        assert!(error.to_string().contains("not supported"), "{error}");
        assert!(rewrite(args("capicola fuzz t.wasm -runs=many")).is_err());
        assert!(rewrite(args("capicola fuzz t.wasm -artifact_prefix=crash-")).is_err());
    }
}
