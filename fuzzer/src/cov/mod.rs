//! A coverage report: which functions, and with DWARF which source lines, a corpus reaches and how often, from the
//! engine's exact edge hit counts mapped back to the code each edge stands for.
//!
//! An edge is counted each time control takes it (a function's entry, a branch taken or not); the code it stands
//! for is the straight-line run of instructions it leads to (`Module::edge_code`). A function's count is its entry
//! edge's: how many times it was called. A line's count is the sum, over the edges whose run holds code of that
//! line, of their counts: how many times execution entered that line's code (each run counts a line once however
//! many of its instructions are on it). Calls are taken to return: a trap ends a run early, which the counts of the
//! lines after it in the same run do not show.

pub mod html;
pub mod lcov;
pub mod plot;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use capicola_engine::Module;

use crate::debug::dwarf::DebugInfo;

/// One function of the module and how often it was called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCoverage {
    /// Index in the module's function index space.
    pub index: u32,
    /// From the name section, or `func[N]`.
    pub name: String,
    /// Times the function was entered.
    pub hits: u64,
    /// Where its code starts: an index into [`CoverageReport::files`] and a line (with DWARF only).
    pub start: Option<(usize, u32)>,
}

/// One source file and the counts of its lines that have code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCoverage {
    /// As the DWARF line table names it (the compilation directory joined with a relative path).
    pub path: String,
    /// Every line with code, and how many times execution entered it.
    pub lines: BTreeMap<u32, u64>,
}

impl FileCoverage {
    /// Lines with code that ran at least once.
    pub fn reached(&self) -> usize {
        self.lines.values().filter(|&&hits| hits > 0).count()
    }

    /// Reached lines in percent of the lines with code.
    pub fn percent(&self) -> f64 {
        if self.lines.is_empty() {
            return 0.0;
        }
        self.reached() as f64 * 100.0 / self.lines.len() as f64
    }

    /// The file name without its folders.
    pub fn short_name(&self) -> &str {
        Path::new(&self.path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&self.path)
    }
}

/// The coverage of a module's functions and source files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageReport {
    /// Functions with code, by index.
    pub functions: Vec<FunctionCoverage>,
    /// Source files with code, by path; empty without DWARF.
    pub files: Vec<FileCoverage>,
}

impl CoverageReport {
    /// The report for `module` (translated with coverage) whose edges were counted `hits` times (indexed as the
    /// engine's coverage map of a store holding only this module's instance), with source lines from `debug_info`.
    pub fn new(module: &Module, debug_info: Option<&DebugInfo>, hits: &[u64]) -> CoverageReport {
        let path = |file: u32| debug_info.map_or("", |d| d.files()[file as usize].as_str());
        // By path, so that files come in order. A line has code when an instruction the engine runs is on it (rows
        // of the line table that start no instruction, such as a function's header, do not count).
        let mut lines: BTreeMap<&str, BTreeMap<u32, u64>> = BTreeMap::new();
        let mut functions = Vec::new();
        for (edge, code) in module.edge_code().iter().enumerate() {
            let count = hits.get(edge).copied().unwrap_or(0);
            let mut seen = HashSet::new();
            let mut first = None;
            for &offset in &code.offsets {
                let Some((file, line)) = debug_info.and_then(|d| d.file_line_at(offset)) else {
                    continue;
                };
                first.get_or_insert((path(file), line));
                if seen.insert((file, line)) {
                    *lines
                        .entry(path(file))
                        .or_default()
                        .entry(line)
                        .or_insert(0) += count;
                }
            }
            if code.entry {
                functions.push((code.func_index, count, first));
            }
        }
        let file_index = |wanted: &str| lines.keys().position(|&p| p == wanted);
        let mut functions: Vec<FunctionCoverage> = functions
            .into_iter()
            .map(|(index, hits, first)| FunctionCoverage {
                index,
                name: module
                    .func_name(index)
                    .map_or_else(|| format!("func[{index}]"), str::to_string),
                hits,
                start: first.and_then(|(file, line)| Some((file_index(file)?, line))),
            })
            .collect();
        functions.sort_by_key(|f| f.index);
        let files = lines
            .into_iter()
            .map(|(path, lines)| FileCoverage {
                path: path.to_string(),
                lines,
            })
            .collect();
        CoverageReport { functions, files }
    }

    /// Functions entered at least once.
    pub fn functions_reached(&self) -> usize {
        self.functions.iter().filter(|f| f.hits > 0).count()
    }

    /// `file:line` where a function starts, when known.
    pub fn start_of(&self, function: &FunctionCoverage) -> Option<String> {
        let (file, line) = function.start?;
        Some(format!("{}:{line}", self.files[file].short_name()))
    }

    /// Every source file's lines as `llvm-cov show` prints them in text: `LINE|COUNT|SOURCE`, the count blank for a
    /// line without code and 0 for one not reached. `read_source` gives a file's text from its DWARF path, or why it
    /// cannot: then the lines with code are listed without their source.
    pub fn annotated_lines(&self, read_source: impl Fn(&str) -> Result<String, String>) -> String {
        let mut text = String::new();
        for file in &self.files {
            let _ = writeln!(text, "{}:", file.path);
            let row = |text: &mut String, number: u32, code: &str| {
                let count = file
                    .lines
                    .get(&number)
                    .map(u64::to_string)
                    .unwrap_or_default();
                let _ = writeln!(text, "{number:>6}|{count:>8}|{code}");
            };
            match read_source(&file.path) {
                Ok(source) => {
                    for (i, code) in source.lines().enumerate() {
                        row(&mut text, i as u32 + 1, code);
                    }
                }
                Err(why) => {
                    let _ = writeln!(text, "  source not available: {why}; its lines with code:");
                    for &number in file.lines.keys() {
                        row(&mut text, number, "");
                    }
                }
            }
        }
        text
    }

    /// The text summary: each function reached or not with its calls, then each file's lines reached of its lines
    /// with code.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "functions: {} of {} reached",
            self.functions_reached(),
            self.functions.len()
        );
        let width = self
            .functions
            .iter()
            .map(|f| f.name.len())
            .max()
            .unwrap_or(0);
        for function in &self.functions {
            let state = if function.hits > 0 {
                "reached"
            } else {
                "not reached"
            };
            let _ = write!(
                text,
                "  {state:<11} {:>10}  {:<width$}",
                function.hits, function.name
            );
            match self.start_of(function) {
                Some(at) => {
                    let _ = writeln!(text, "  {at}");
                }
                None => {
                    let _ = writeln!(text);
                }
            }
        }
        if self.files.is_empty() {
            let _ = writeln!(
                text,
                "lines: no DWARF line table (build the target with -g)"
            );
            return text;
        }
        let (reached, total) = self
            .files
            .iter()
            .fold((0, 0), |(r, t), f| (r + f.reached(), t + f.lines.len()));
        let _ = writeln!(text, "lines: {reached} of {total} reached");
        for file in &self.files {
            let _ = writeln!(
                text,
                "  {:>6} of {:<6} {:>5.1}%  {}",
                file.reached(),
                file.lines.len(),
                file.percent(),
                file.path
            );
        }
        text
    }
}
