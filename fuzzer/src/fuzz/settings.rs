//! A campaign's settings: what decides how an input of its target runs (the target, its limits, the sanitizer, the
//! identity of findings), kept in its output folder as `OUT/settings` so that `replay`, `tmin`, `cmin` and `debug`
//! run what it found as it ran it.
//!
//! The file is text, one `key = value` a line after a first line naming the format and a `version` line (see
//! README, "Formats"). Values escape a backslash as `\\` and a line break as `\n`; `dict`, `env` and `arg` repeat, in
//! order. A reader refuses a version it does not know and a key its version does not have.

use std::path::{Path, PathBuf};
use std::time::Duration;

use capicola_engine::Config;
use capicola_engine::wasi::OutputMode;

use super::target::{FNV_OFFSET, TargetOptions, fnv1a};

/// Name of the settings file in an output folder.
pub const FILE_NAME: &str = "settings";
/// First line of every settings file.
const HEADER: &str = "# capicola campaign settings";
/// Version of the format this build writes and reads.
pub const VERSION: u32 = 1;
/// Folder levels above an input that are searched for its campaign's settings: `OUT/crashes/X` finds `OUT/settings`.
const SEARCH_DEPTH: usize = 3;

/// What decides a run of an input of a campaign's target.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The target module, as an absolute path.
    pub target: PathBuf,
    /// FNV-1a (64 bits) of the module's bytes as read: tells when the module changed since the campaign.
    pub target_hash: u64,
    pub max_len: usize,
    pub fuel: u64,
    pub init_fuel: u64,
    /// Wall-clock limit of one input (`None`: none).
    pub timeout: Option<Duration>,
    pub max_memory: u64,
    pub max_table_elements: u64,
    pub max_stack: u32,
    pub max_call_depth: u32,
    /// Bytes the files of a WASI target's sandbox may hold (`None`: the sandbox's default).
    pub max_fs_bytes: Option<u64>,
    pub sanitize: bool,
    pub detect_leaks: bool,
    pub dedup_frames: usize,
    /// Environment variables of the guest.
    pub env: Vec<(String, String)>,
    /// Arguments of a WASI program (`@@` the input file).
    pub args: Vec<String>,
    /// Dictionary files of the campaign (not needed to run an input; kept to tell how the campaign ran).
    pub dicts: Vec<PathBuf>,
    /// Seed of the campaign's mutations.
    pub seed: Option<u64>,
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The hash recorded for a module's bytes.
pub fn module_hash(wasm: &[u8]) -> u64 {
    fnv1a(wasm, FNV_OFFSET)
}

fn escape(value: &str) -> String {
    value.replace('\\', r"\\").replace('\n', r"\n")
}

fn unescape(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            other => return Err(format!("unknown escape `\\{}`", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

impl Settings {
    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut lines = vec![
            HEADER.to_string(),
            format!("version = {VERSION}"),
            format!("target = {}", escape(&self.target.to_string_lossy())),
            format!("target_fnv1a = {:016x}", self.target_hash),
            format!("max_len = {}", self.max_len),
            format!("fuel = {}", self.fuel),
            format!("init_fuel = {}", self.init_fuel),
            format!(
                "timeout = {}",
                self.timeout.map_or(0.0, |t| t.as_secs_f64())
            ),
            format!("max_memory = {}", self.max_memory),
            format!("max_table_elements = {}", self.max_table_elements),
            format!("max_stack = {}", self.max_stack),
            format!("max_call_depth = {}", self.max_call_depth),
        ];
        if let Some(bytes) = self.max_fs_bytes {
            lines.push(format!("max_fs_bytes = {bytes}"));
        }
        lines.push(format!("sanitize = {}", on_off(self.sanitize)));
        lines.push(format!("detect_leaks = {}", on_off(self.detect_leaks)));
        lines.push(format!("dedup_frames = {}", self.dedup_frames));
        if let Some(seed) = self.seed {
            lines.push(format!("seed = {seed}"));
        }
        for dict in &self.dicts {
            lines.push(format!("dict = {}", escape(&dict.to_string_lossy())));
        }
        for (key, value) in &self.env {
            lines.push(format!("env = {}", escape(&format!("{key}={value}"))));
        }
        for arg in &self.args {
            lines.push(format!("arg = {}", escape(arg)));
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }

    /// Reads the text of the settings file `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let malformed = |line: usize, message: String| SettingsError::Malformed {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate().map(|(n, l)| (n + 1, l));
        if lines.next().map(|(_, l)| l) != Some(HEADER) {
            return Err(malformed(1, format!("expected `{HEADER}`")));
        }
        let mut settings = Settings {
            target: PathBuf::new(),
            target_hash: 0,
            max_len: 0,
            fuel: 0,
            init_fuel: 0,
            timeout: None,
            max_memory: 0,
            max_table_elements: 0,
            max_stack: 0,
            max_call_depth: 0,
            max_fs_bytes: None,
            sanitize: false,
            detect_leaks: false,
            dedup_frames: 0,
            env: Vec::new(),
            args: Vec::new(),
            dicts: Vec::new(),
            seed: None,
        };
        let mut version = None;
        let mut seen = Vec::new();
        for (n, line) in lines {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once(" = ")
                .ok_or_else(|| malformed(n, "expected `key = value`".into()))?;
            let value = unescape(value).map_err(|m| malformed(n, m))?;
            let number = |what: &str| -> Result<u64, SettingsError> {
                value
                    .parse()
                    .map_err(|_| malformed(n, format!("{what}: `{value}` is not a number")))
            };
            if key == "version" {
                let v = number(key)?;
                if v != u64::from(VERSION) {
                    return Err(malformed(
                        n,
                        format!("version {v} (this capicola reads version {VERSION})"),
                    ));
                }
                version = Some(v);
                continue;
            }
            if version.is_none() {
                return Err(malformed(n, "the `version` line must come first".into()));
            }
            match key {
                "target" => settings.target = PathBuf::from(&value),
                "target_fnv1a" => {
                    settings.target_hash = u64::from_str_radix(&value, 16)
                        .map_err(|_| malformed(n, format!("`{value}` is not a hash")))?
                }
                "max_len" => settings.max_len = number(key)? as usize,
                "fuel" => settings.fuel = number(key)?,
                "init_fuel" => settings.init_fuel = number(key)?,
                "timeout" => {
                    let secs: f64 = value
                        .parse()
                        .map_err(|_| malformed(n, format!("`{value}` is not seconds")))?;
                    let secs = Duration::try_from_secs_f64(secs)
                        .map_err(|_| malformed(n, format!("`{value}` is not seconds")))?;
                    settings.timeout = (!secs.is_zero()).then_some(secs);
                }
                "max_memory" => settings.max_memory = number(key)?,
                "max_table_elements" => settings.max_table_elements = number(key)?,
                "max_stack" => {
                    settings.max_stack = u32::try_from(number(key)?)
                        .map_err(|_| malformed(n, "max_stack too large".into()))?
                }
                "max_call_depth" => {
                    settings.max_call_depth = u32::try_from(number(key)?)
                        .map_err(|_| malformed(n, "max_call_depth too large".into()))?
                }
                "max_fs_bytes" => settings.max_fs_bytes = Some(number(key)?),
                "sanitize" => {
                    settings.sanitize = parse_on_off(&value).map_err(|m| malformed(n, m))?
                }
                "detect_leaks" => {
                    settings.detect_leaks = parse_on_off(&value).map_err(|m| malformed(n, m))?
                }
                "dedup_frames" => settings.dedup_frames = number(key)? as usize,
                "seed" => settings.seed = Some(number(key)?),
                "dict" => settings.dicts.push(PathBuf::from(&value)),
                "env" => {
                    let (k, v) = value
                        .split_once('=')
                        .ok_or_else(|| malformed(n, "expected env = KEY=VALUE".into()))?;
                    settings.env.push((k.to_string(), v.to_string()));
                }
                "arg" => settings.args.push(value),
                other => return Err(malformed(n, format!("unknown key `{other}`"))),
            }
            if !matches!(key, "dict" | "env" | "arg") {
                if seen.contains(&key) {
                    return Err(malformed(n, format!("`{key}` given twice")));
                }
                seen.push(key);
            }
        }
        for required in [
            "target",
            "target_fnv1a",
            "max_len",
            "fuel",
            "init_fuel",
            "max_memory",
            "max_table_elements",
            "max_stack",
            "max_call_depth",
            "sanitize",
            "dedup_frames",
        ] {
            if !seen.contains(&required) {
                return Err(malformed(0, format!("`{required}` missing")));
            }
        }
        Ok(settings)
    }

    /// Reads the settings file `path`.
    pub fn read(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Settings::parse(&text, path)
    }

    /// The settings file of the campaign whose output folder holds `path` (an input file of it, or one of its
    /// folders), if any: the nearest `settings` file, in `path` (a folder) or up to three folders above it, that
    /// starts as a settings file does.
    pub fn find(path: &Path) -> Option<PathBuf> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let start = if path.is_dir() {
            Some(path.as_path())
        } else {
            path.parent()
        };
        start?.ancestors().take(SEARCH_DEPTH + 1).find_map(|dir| {
            let file = dir.join(FILE_NAME);
            let text = std::fs::read_to_string(&file).ok()?;
            text.starts_with(HEADER).then_some(file)
        })
    }

    /// How the target runs an input with these settings, its output going to `output`.
    pub fn target_options(&self, output: OutputMode) -> TargetOptions {
        TargetOptions {
            program_name: self
                .target
                .file_name()
                .map_or_else(|| "target".into(), |n| n.to_string_lossy().into_owned()),
            args: self.args.clone(),
            env: self.env.clone(),
            max_len: self.max_len,
            fuel: self.fuel,
            init_fuel: self.init_fuel,
            timeout: self.timeout,
            deadline: None,
            output,
            fresh: false,
            limits: Config {
                max_memory_bytes: self.max_memory,
                max_table_elements: self.max_table_elements,
                max_value_stack: self.max_stack,
                max_call_depth: self.max_call_depth,
                ..Config::default()
            },
            max_fs_bytes: self.max_fs_bytes,
            dedup_frames: self.dedup_frames,
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn parse_on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected `on` or `off`, not `{value}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Settings {
        Settings {
            target: PathBuf::from("/fuzz/t a.wasm"),
            target_hash: 0x0123_4567_89ab_cdef,
            max_len: 8192,
            fuel: 5,
            init_fuel: 6,
            timeout: Some(Duration::from_millis(1500)),
            max_memory: 16 << 20,
            max_table_elements: 7,
            max_stack: 8,
            max_call_depth: 9,
            max_fs_bytes: Some(10),
            sanitize: true,
            detect_leaks: false,
            dedup_frames: 0,
            env: vec![("A".into(), "b=c".into())],
            args: vec!["--x".into(), "two\nlines \\".into(), "@@".into()],
            dicts: vec![PathBuf::from("d.dict")],
            seed: Some(42),
        }
    }

    #[test]
    fn settings_read_back_as_written() {
        let settings = sample();
        let text = settings.to_text();
        assert_eq!(
            Settings::parse(&text, Path::new("settings")).expect("reads"),
            settings
        );
    }

    #[test]
    fn unknown_versions_and_keys_are_refused() {
        let text = sample().to_text();
        let newer = text.replace("version = 1", "version = 2");
        assert!(Settings::parse(&newer, Path::new("s")).is_err());
        let unknown = format!("{text}colour = blue\n");
        assert!(Settings::parse(&unknown, Path::new("s")).is_err());
        let missing = text.replace("fuel = 5\n", "");
        assert!(Settings::parse(&missing, Path::new("s")).is_err());
    }
}
