//! Source positions from the DWARF sections of a `clang -g` Wasm build: the line table (code offset <-> file:line)
//! and the addresses of global variables. Wasm DWARF addresses are offsets into the code section's contents; here
//! everything is converted to module byte offsets, the unit the engine's backtraces use.

use std::collections::HashMap;
use std::path::Path;

use gimli::{EndianSlice, LittleEndian};
use wasmparser::{Parser, Payload};

type Reader<'a> = EndianSlice<'a, LittleEndian>;

/// One row of the line table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// Module byte offset.
    offset: u32,
    file: u32,
    /// 0 for code that belongs to no line.
    line: u32,
    is_stmt: bool,
    /// The first byte after a sequence: no code of its own.
    end: bool,
}

/// A source position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceLine {
    pub file: String,
    pub line: u32,
}

impl std::fmt::Display for SourceLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = Path::new(&self.file)
            .file_name()
            .map_or(self.file.as_str(), |n| n.to_str().unwrap_or(&self.file));
        write!(f, "{name}:{}", self.line)
    }
}

/// The line table and global variables of a module.
#[derive(Debug, Clone, Default)]
pub struct DebugInfo {
    rows: Vec<Row>,
    files: Vec<String>,
    globals: HashMap<String, u64>,
}

impl DebugInfo {
    /// Reads the DWARF sections of `wasm`; `None` when it has none (built without `-g`).
    pub fn parse(wasm: &[u8]) -> anyhow::Result<Option<DebugInfo>> {
        let mut sections: HashMap<String, &[u8]> = HashMap::new();
        let mut code_start = None;
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::CodeSectionStart {
                    unchecked_range, ..
                } => {
                    code_start = Some(unchecked_range.start);
                }
                Payload::CustomSection(reader) if reader.name().starts_with(".debug_") => {
                    sections.insert(reader.name().to_string(), reader.data());
                }
                _ => {}
            }
        }
        let Some(code_start) = code_start else {
            return Ok(None);
        };
        if !sections.contains_key(".debug_info") || !sections.contains_key(".debug_line") {
            return Ok(None);
        }
        let load = |id: gimli::SectionId| -> Result<Reader<'_>, gimli::Error> {
            let data = sections.get(id.name()).copied().unwrap_or(&[]);
            Ok(EndianSlice::new(data, LittleEndian))
        };
        let dwarf = gimli::Dwarf::load(load)?;
        let mut info = DebugInfo::default();
        let mut file_ids: HashMap<String, u32> = HashMap::new();
        let mut units = dwarf.units();
        while let Some(header) = units.next()? {
            let unit = dwarf.unit(header)?;
            info.read_globals(&dwarf, &unit)?;
            let Some(program) = unit.line_program.clone() else {
                continue;
            };
            let comp_dir = unit
                .comp_dir
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut rows = program.rows();
            while let Some((header, row)) = rows.next_row()? {
                let Some(entry) = row.file(header) else {
                    continue;
                };
                let mut path = dwarf
                    .attr_string(&unit, entry.path_name())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !path.starts_with('/') {
                    let dir = entry
                        .directory(header)
                        .and_then(|d| dwarf.attr_string(&unit, d).ok())
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let dir = if dir.is_empty() || !dir.starts_with('/') {
                        Path::new(&comp_dir).join(dir)
                    } else {
                        Path::new(&dir).to_path_buf()
                    };
                    path = dir.join(path).to_string_lossy().into_owned();
                }
                let next = info.files.len() as u32;
                let file = *file_ids.entry(path.clone()).or_insert_with(|| {
                    info.files.push(path);
                    next
                });
                let Ok(offset) = u32::try_from(row.address() + code_start) else {
                    continue;
                };
                info.rows.push(Row {
                    offset,
                    file,
                    line: row.line().map_or(0, |l| l.get() as u32),
                    is_stmt: row.is_stmt(),
                    end: row.end_sequence(),
                });
            }
        }
        // Sequences may come in any order; within one offset, the end of a sequence comes before a row that starts
        // the next one.
        info.rows.sort_by_key(|r| (r.offset, !r.end));
        Ok(Some(info))
    }

    fn read_globals(
        &mut self,
        dwarf: &gimli::Dwarf<Reader<'_>>,
        unit: &gimli::Unit<Reader<'_>>,
    ) -> anyhow::Result<()> {
        let mut entries = unit.entries();
        while let Some(entry) = entries.next_dfs()? {
            if entry.tag() != gimli::DW_TAG_variable {
                continue;
            }
            let Some(gimli::AttributeValue::Exprloc(expr)) =
                entry.attr_value(gimli::DW_AT_location)
            else {
                continue;
            };
            let Some(name) = entry.attr_value(gimli::DW_AT_name) else {
                continue;
            };
            let Ok(name) = dwarf.attr_string(unit, name) else {
                continue;
            };
            let mut ops = expr.operations(unit.encoding());
            if let Ok(Some(gimli::Operation::Address { address })) = ops.next() {
                self.globals
                    .entry(name.to_string_lossy().into_owned())
                    .or_insert(address);
            }
        }
        Ok(())
    }

    /// The source line of the instruction at module offset `offset`.
    pub fn line_at(&self, offset: u32) -> Option<SourceLine> {
        let (file, line) = self.file_line_at(offset)?;
        Some(SourceLine {
            file: self.files[file as usize].clone(),
            line,
        })
    }

    /// The source line of the instruction at module offset `offset`, as an index into [`DebugInfo::files`] and a
    /// line number.
    pub fn file_line_at(&self, offset: u32) -> Option<(u32, u32)> {
        let i = self.rows.partition_point(|r| r.offset <= offset);
        let row = self.rows.get(i.checked_sub(1)?)?;
        if row.end || row.line == 0 {
            return None;
        }
        Some((row.file, row.line))
    }

    /// The paths of the source files the line table names (comp_dir joined with relative ones).
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Module offsets where code for `file:line` starts (statement rows). `file` matches a path by its trailing
    /// components (`crash.c`, `src/crash.c`). When the line has no code, the next line of the same file that has
    /// some is used; the line actually found comes back with the offsets.
    pub fn offsets_of_line(&self, file: &str, line: u32) -> Option<(SourceLine, Vec<u32>)> {
        let wanted = Path::new(file);
        let files: Vec<u32> = self
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| Path::new(f).ends_with(wanted))
            .map(|(i, _)| i as u32)
            .collect();
        let best = self
            .rows
            .iter()
            .filter(|r| !r.end && r.is_stmt && files.contains(&r.file) && r.line >= line)
            .map(|r| r.line)
            .min()?;
        let mut offsets: Vec<u32> = Vec::new();
        let mut file_found = None;
        for (i, r) in self.rows.iter().enumerate() {
            if r.end || !r.is_stmt || r.line != best || !files.contains(&r.file) {
                continue;
            }
            // Only the first row of a run of rows on the same line.
            let previous_same = i
                .checked_sub(1)
                .map(|j| self.rows[j])
                .is_some_and(|p| !p.end && p.line == r.line && p.file == r.file);
            if !previous_same {
                offsets.push(r.offset);
                file_found = Some(r.file);
            }
        }
        offsets.dedup();
        let file = self.files[file_found? as usize].clone();
        Some((SourceLine { file, line: best }, offsets))
    }

    /// Address of global variable `name` in linear memory.
    pub fn global(&self, name: &str) -> Option<u64> {
        self.globals.get(name).copied()
    }
}
