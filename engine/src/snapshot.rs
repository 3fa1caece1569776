//! Snapshots: the whole state of a store — paused run included — as plain data, restorable into a fresh store, and its versioned on-disk format.
//!
//! File layout, format version 5 (all integers little-endian; version 4 added the sanitizer's state to the body,
//! version 5 changed the WASI context carried as host state: host directories read lazily, with the identity of
//! every host file and directory read):
//! `magic "CAPISNAP"` | `format version: u32` | `header length: u32` (bytes from the magic to the header checksum,
//! both included) | `engine version: u16 length + UTF-8` | `module count: u32` | `module SHA-256 hashes: 32 bytes
//! each` | `raw body length: u64` | `compressed body length: u64` | `body checksum: u32` (CRC32C of the body) |
//! `header checksum: u32` (CRC32C of every header byte before it) | `body: LZ4 block of the bincode 2 (serde)
//! encoding of Snapshot`, exactly as long as the header says, ending the file.
//! Both checksums are verified before anything is decompressed or decoded, so a file damaged after it was written
//! is an error naming the damage ([`SnapshotDamage`]), never another state.
//! Memories keep only their non-zero 4 KiB pages.

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::Error;
use crate::ir::Op;
use crate::module::Module;
use crate::sanitizer::Sanitizer;
use crate::store::{
    DataInst, ExecState, Frame, FuncInst, GlobalInst, InstanceData, MemoryInst, PAGE_SIZE, Status,
    Store, TableInst, try_zeroed,
};
use crate::types::{FuncType, GlobalType, MemoryType, TableType, ValType};

/// First bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"CAPISNAP";
/// Version of the snapshot format this engine reads and writes.
pub const FORMAT_VERSION: u32 = 5;
/// Granularity at which memory is stored (and, later, tracked for reset).
pub const SNAPSHOT_PAGE: usize = 4096;

/// A function of the store: defined by an instance, or a host function known by its id and type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum FuncState {
    Wasm {
        instance: u32,
        func_index: u32,
    },
    Host {
        host_id: u32,
        params: Vec<ValType>,
        results: Vec<ValType>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct InstanceState {
    /// Index into `Snapshot::modules`.
    module: u32,
    funcs: Vec<u32>,
    tables: Vec<u32>,
    memories: Vec<u32>,
    globals: Vec<u32>,
    elems: Vec<u32>,
    datas: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MemoryState {
    ty: MemoryType,
    max_pages: u64,
    /// Size in bytes.
    size: u64,
    /// Non-zero pages of `SNAPSHOT_PAGE` bytes: (page index, bytes).
    pages: Vec<(u64, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TableState {
    ty: TableType,
    max: u64,
    elems: Vec<u64>,
}

/// The call in progress, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExecSnapshot {
    /// Live stack cells (up to the stack pointer).
    stack: Vec<u64>,
    frames: Vec<Frame>,
    status: Status,
    results: Vec<ValType>,
    consumed: u64,
    prepaid: u64,
}

/// The sanitizer's state, its shadow stored apart as non-zero pages like a memory's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SanitizerState {
    state: Sanitizer,
    shadow_len: u64,
    shadow_pages: Vec<(u64, Vec<u8>)>,
}

/// Everything needed to continue a store exactly where it stood. Not the translated code: modules are named by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    modules: Vec<[u8; 32]>,
    funcs: Vec<FuncState>,
    instances: Vec<InstanceState>,
    memories: Vec<MemoryState>,
    tables: Vec<TableState>,
    globals: Vec<(GlobalType, u128)>,
    elems: Vec<Vec<u64>>,
    datas: Vec<bool>,
    exec: ExecSnapshot,
    /// Whether the engine instrumented its modules for the sanitizer (`Config::sanitize`): their code differs.
    sanitized: bool,
    sanitizer: Option<SanitizerState>,
    /// The embedder's host state (e.g. the WASI context), serialized by the embedder.
    host: Vec<u8>,
}

/// Header bytes besides the engine version and the module hashes: magic, format version, header length, engine
/// version length, module count, the two body lengths and the two checksums.
const HEADER_FIXED_BYTES: usize = 8 + 4 + 4 + 2 + 4 + 8 + 8 + 4 + 4;

/// The fixed header of a snapshot file, readable without decoding the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub format_version: u32,
    pub engine_version: String,
    pub modules: Vec<[u8; 32]>,
    pub raw_len: u64,
    pub compressed_len: u64,
    /// CRC32C of the compressed body.
    pub body_checksum: u32,
    /// CRC32C of the header bytes before it.
    pub header_checksum: u32,
}

/// A part of a snapshot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePart {
    Header,
    Body,
}

impl std::fmt::Display for FilePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FilePart::Header => "header",
            FilePart::Body => "body",
        })
    }
}

/// What is wrong with a snapshot file that is not as it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotDamage {
    /// The file does not start with [`MAGIC`].
    #[error("not a capicola snapshot (bad magic)")]
    BadMagic,
    /// The file ends before the part that the header announces does.
    #[error("truncated at byte {at}: the {part} ends at byte {needed}")]
    Truncated {
        part: FilePart,
        at: u64,
        needed: u64,
    },
    /// The header's bytes do not match their checksum.
    #[error(
        "header checksum mismatch (stored {stored:08x}, computed {computed:08x}): the header is damaged"
    )]
    HeaderChecksum { stored: u32, computed: u32 },
    /// The body's bytes do not match their checksum.
    #[error(
        "body checksum mismatch (stored {stored:08x}, computed {computed:08x}): the body is damaged"
    )]
    BodyChecksum { stored: u32, computed: u32 },
    /// Bytes follow the body.
    #[error("{extra} bytes after the end of the body at byte {at}")]
    TrailingBytes { at: u64, extra: u64 },
    /// The header does not describe a snapshot file (its length or a field is impossible).
    #[error("malformed header: {0}")]
    Header(String),
    /// The body matches its checksum but does not decode: the file was made by hand, not by capicola.
    #[error("malformed body: {0}")]
    Body(String),
}

/// Bounds on what decoding a snapshot may allocate.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Largest decompressed body accepted, in bytes.
    pub max_body_bytes: u64,
    /// Most modules a snapshot may name.
    pub max_modules: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_body_bytes: 8 << 30,
            max_modules: 1 << 16,
        }
    }
}

impl DecodeLimits {
    /// The longest header a file within these limits has.
    fn max_header_bytes(&self) -> u64 {
        HEADER_FIXED_BYTES as u64 + u64::from(u16::MAX) + 32 * u64::from(self.max_modules)
    }

    /// The largest snapshot file within these limits: the longest header and the largest body LZ4 can compress
    /// the largest raw body to. Readers refuse longer files without reading them.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_header_bytes()
            .saturating_add(self.max_body_bytes)
            .saturating_add(self.max_body_bytes / 255)
            .saturating_add(16)
    }
}

fn corrupt(msg: impl Into<String>) -> Error {
    Error::Snapshot(msg.into())
}

fn damaged(damage: SnapshotDamage) -> Error {
    Error::SnapshotDamaged(damage)
}

/// The little-endian `u32` at `at` of bytes known to hold it.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(
        bytes[at..at + 4]
            .try_into()
            .expect("the caller checked the length"),
    )
}

/// A memory (or shadow) of `size` bytes from its non-zero pages.
fn unpack_pages(size: u64, pages: &[(u64, Vec<u8>)], what: &str) -> Result<Vec<u8>, Error> {
    let mut data = usize::try_from(size)
        .ok()
        .and_then(try_zeroed)
        .ok_or_else(|| Error::Snapshot(format!("cannot allocate a {what} of {size} bytes")))?;
    for (index, bytes) in pages {
        let start = usize::try_from(*index)
            .ok()
            .and_then(|i| i.checked_mul(SNAPSHOT_PAGE))
            .filter(|&s| {
                bytes.len() == SNAPSHOT_PAGE.min(data.len().saturating_sub(s)) && s < data.len()
            })
            .ok_or_else(|| corrupt(format!("{what} page out of range")))?;
        data[start..start + bytes.len()].copy_from_slice(bytes);
    }
    Ok(data)
}

/// Reads the non-zero pages of a memory.
fn sparse_pages(data: &[u8]) -> Vec<(u64, Vec<u8>)> {
    data.chunks(SNAPSHOT_PAGE)
        .enumerate()
        .filter(|(_, page)| page.iter().any(|&b| b != 0))
        .map(|(i, page)| (i as u64, page.to_vec()))
        .collect()
}

impl Snapshot {
    /// Hashes of the modules the snapshot's instances were created from, in instance order of first use.
    pub fn module_hashes(&self) -> &[[u8; 32]] {
        &self.modules
    }

    /// Total bytes of memory the snapshot describes (including zero pages not stored).
    pub fn memory_bytes(&self) -> u64 {
        self.memories.iter().map(|m| m.size).sum()
    }

    /// Bytes of memory pages actually stored.
    pub fn stored_page_bytes(&self) -> u64 {
        self.memories
            .iter()
            .map(|m| (m.pages.len() * SNAPSHOT_PAGE) as u64)
            .sum()
    }

    /// The embedder's serialized host state (empty when none was attached).
    pub fn host_state(&self) -> &[u8] {
        &self.host
    }

    /// Attaches the embedder's serialized host state (e.g. WASI descriptors and files), so it travels with the store.
    pub fn set_host_state(&mut self, bytes: Vec<u8>) {
        self.host = bytes;
    }

    /// Whether the snapshot holds a paused call.
    pub fn is_running(&self) -> bool {
        self.exec.status != Status::Idle
    }

    /// Encodes into the on-disk format.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let raw = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .map_err(|e| corrupt(format!("encoding failed: {e}")))?;
        Self::file_from_raw_body(&self.modules, &raw)
    }

    /// Writes a snapshot file, header and checksums included, around `raw`, an encoded body naming `modules`. The
    /// body is not checked: this is for tools and tests that build files by hand, [`Snapshot::to_bytes`] for the
    /// rest.
    pub fn file_from_raw_body(modules: &[[u8; 32]], raw: &[u8]) -> Result<Vec<u8>, Error> {
        let body = lz4_flex::block::compress(raw);
        let version = env!("CARGO_PKG_VERSION").as_bytes();
        let version_len = u16::try_from(version.len()).expect("the engine version is short");
        let count =
            u32::try_from(modules.len()).map_err(|_| corrupt("too many modules to encode"))?;
        let header_len = u32::try_from(HEADER_FIXED_BYTES + version.len() + 32 * modules.len())
            .map_err(|_| corrupt("too many modules to encode"))?;
        let mut out = Vec::with_capacity(header_len as usize + body.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&header_len.to_le_bytes());
        out.extend_from_slice(&version_len.to_le_bytes());
        out.extend_from_slice(version);
        out.extend_from_slice(&count.to_le_bytes());
        for h in modules {
            out.extend_from_slice(h);
        }
        out.extend_from_slice(&(raw.len() as u64).to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        let header_checksum = crc32c::crc32c(&out);
        out.extend_from_slice(&header_checksum.to_le_bytes());
        debug_assert_eq!(out.len(), header_len as usize);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reads and checks the header (its checksum before any of its fields); returns it with the offset of the body.
    pub fn read_header(
        bytes: &[u8],
        limits: &DecodeLimits,
    ) -> Result<(SnapshotHeader, usize), Error> {
        let truncated = |needed: usize| {
            damaged(SnapshotDamage::Truncated {
                part: FilePart::Header,
                at: bytes.len() as u64,
                needed: needed as u64,
            })
        };
        if bytes.len() < MAGIC.len() {
            // A beginning of the magic is a cut file; anything else is no snapshot.
            return Err(if MAGIC.starts_with(bytes) {
                truncated(MAGIC.len())
            } else {
                damaged(SnapshotDamage::BadMagic)
            });
        }
        if bytes[..MAGIC.len()] != MAGIC {
            return Err(damaged(SnapshotDamage::BadMagic));
        }
        if bytes.len() < 12 {
            return Err(truncated(12));
        }
        let format_version = u32_at(bytes, 8);
        if format_version != FORMAT_VERSION {
            return Err(Error::SnapshotVersion {
                found: format_version,
            });
        }
        if bytes.len() < 16 {
            return Err(truncated(16));
        }
        let header_len = u32_at(bytes, 12) as usize;
        let max_header = limits.max_header_bytes();
        if header_len < HEADER_FIXED_BYTES || header_len as u64 > max_header {
            return Err(damaged(SnapshotDamage::Header(format!(
                "a header length of {header_len} bytes is outside {HEADER_FIXED_BYTES}..={max_header}"
            ))));
        }
        if bytes.len() < header_len {
            return Err(truncated(header_len));
        }
        let header_checksum = u32_at(bytes, header_len - 4);
        let computed = crc32c::crc32c(&bytes[..header_len - 4]);
        if computed != header_checksum {
            return Err(damaged(SnapshotDamage::HeaderChecksum {
                stored: header_checksum,
                computed,
            }));
        }
        // The checksum holds: what follows only fails on a header made by hand.
        let malformed = |what: &str| damaged(SnapshotDamage::Header(what.to_string()));
        let fields = &bytes[..header_len - 8];
        let mut at = 16usize;
        let mut take = |n: usize| -> Result<&[u8], Error> {
            let end = at
                .checked_add(n)
                .filter(|&e| e <= fields.len())
                .ok_or_else(|| malformed("the fields overrun the header length"))?;
            let s = &fields[at..end];
            at = end;
            Ok(s)
        };
        let vlen = u16::from_le_bytes(take(2)?.try_into().expect("2 bytes")) as usize;
        let engine_version = String::from_utf8(take(vlen)?.to_vec())
            .map_err(|_| malformed("the engine version is not UTF-8"))?;
        let count = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes"));
        if count > limits.max_modules {
            return Err(malformed(&format!(
                "{count} modules exceed the limit of {}",
                limits.max_modules
            )));
        }
        let mut modules = Vec::new();
        for _ in 0..count {
            modules.push(<[u8; 32]>::try_from(take(32)?).expect("32 bytes"));
        }
        let raw_len = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes"));
        let compressed_len = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes"));
        if at != fields.len() {
            return Err(malformed("the header length does not match its fields"));
        }
        let header = SnapshotHeader {
            format_version,
            engine_version,
            modules,
            raw_len,
            compressed_len,
            body_checksum: u32_at(bytes, header_len - 8),
            header_checksum,
        };
        Ok((header, header_len))
    }

    /// Decodes the on-disk format. Both checksums are verified before the body is decompressed; hostile bytes give
    /// an error, never a panic, and allocate at most what the header announces within `limits`.
    pub fn from_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<Snapshot, Error> {
        let (header, at) = Self::read_header(bytes, limits)?;
        let end = (at as u64).saturating_add(header.compressed_len);
        let len = bytes.len() as u64;
        if len < end {
            return Err(damaged(SnapshotDamage::Truncated {
                part: FilePart::Body,
                at: len,
                needed: end,
            }));
        }
        if len > end {
            return Err(damaged(SnapshotDamage::TrailingBytes {
                at: end,
                extra: len - end,
            }));
        }
        let body = &bytes[at..];
        let computed = crc32c::crc32c(body);
        if computed != header.body_checksum {
            return Err(damaged(SnapshotDamage::BodyChecksum {
                stored: header.body_checksum,
                computed,
            }));
        }
        if header.raw_len > limits.max_body_bytes {
            return Err(Error::SnapshotTooLarge {
                claimed: header.raw_len,
                limit: limits.max_body_bytes,
            });
        }
        // The checksums hold: what follows only fails on a file made by hand.
        let malformed = |what: String| damaged(SnapshotDamage::Body(what));
        // LZ4 cannot expand more than 255-fold: a larger claim is a lie.
        if header.raw_len > header.compressed_len.saturating_mul(255).saturating_add(16) {
            return Err(malformed(format!(
                "{} compressed bytes cannot decompress to the {} bytes announced",
                header.compressed_len, header.raw_len
            )));
        }
        let raw_len = usize::try_from(header.raw_len).map_err(|_| Error::SnapshotTooLarge {
            claimed: header.raw_len,
            limit: usize::MAX as u64,
        })?;
        let raw = lz4_flex::block::decompress(body, raw_len)
            .map_err(|e| malformed(format!("it does not decompress: {e}")))?;
        if raw.len() != raw_len {
            return Err(malformed(format!(
                "it decompresses to {} bytes, the header says {raw_len}",
                raw.len()
            )));
        }
        let (snap, used): (Snapshot, usize) =
            bincode::serde::decode_from_slice(&raw, bincode::config::standard())
                .map_err(|e| malformed(format!("it does not decode: {e}")))?;
        if used != raw.len() {
            return Err(malformed(format!(
                "{} bytes follow the encoded snapshot",
                raw.len() - used
            )));
        }
        if snap.modules != header.modules {
            return Err(malformed(
                "the header and the body name different modules".to_string(),
            ));
        }
        Ok(snap)
    }
}

impl Store {
    /// Captures the whole state of the store, including a paused call.
    pub fn capture(&self) -> Snapshot {
        let mut modules: Vec<[u8; 32]> = Vec::new();
        let instances = self
            .instances
            .iter()
            .map(|inst| {
                let hash = inst.module.hash();
                let module = match modules.iter().position(|h| *h == hash) {
                    Some(i) => i,
                    None => {
                        modules.push(hash);
                        modules.len() - 1
                    }
                } as u32;
                InstanceState {
                    module,
                    funcs: inst.funcs.clone(),
                    tables: inst.tables.clone(),
                    memories: inst.memories.clone(),
                    globals: inst.globals.clone(),
                    elems: inst.elems.clone(),
                    datas: inst.datas.clone(),
                }
            })
            .collect();
        Snapshot {
            modules,
            funcs: self
                .funcs
                .iter()
                .map(|f| match f {
                    FuncInst::Wasm {
                        instance,
                        func_index,
                        ..
                    } => FuncState::Wasm {
                        instance: *instance,
                        func_index: *func_index,
                    },
                    FuncInst::Host { host_id, ty, .. } => FuncState::Host {
                        host_id: *host_id,
                        params: ty.params().to_vec(),
                        results: ty.results().to_vec(),
                    },
                })
                .collect(),
            instances,
            memories: self
                .memories
                .iter()
                .map(|m| MemoryState {
                    ty: m.ty,
                    max_pages: m.max_pages,
                    size: m.data.len() as u64,
                    pages: sparse_pages(&m.data),
                })
                .collect(),
            tables: self
                .tables
                .iter()
                .map(|t| TableState {
                    ty: t.ty,
                    max: t.max,
                    elems: t.elems.clone(),
                })
                .collect(),
            globals: self.globals.iter().map(|g| (g.ty, g.value)).collect(),
            elems: self.elems.clone(),
            datas: self.datas.iter().map(|d| d.dropped).collect(),
            exec: ExecSnapshot {
                stack: self.exec.stack[..self.exec.sp.min(self.exec.stack.len())].to_vec(),
                frames: self.exec.frames.clone(),
                status: self.exec.status.clone(),
                results: self.exec.results.clone(),
                consumed: self.exec.consumed,
                prepaid: self.exec.prepaid,
            },
            sanitized: self.engine.config().sanitize,
            sanitizer: self.sanitizer.as_ref().map(|san| SanitizerState {
                state: san.without_shadow(),
                shadow_len: san.shadow().len() as u64,
                shadow_pages: sparse_pages(san.shadow()),
            }),
            host: Vec::new(),
        }
    }

    /// Builds a store from a snapshot. `modules` must include every module the snapshot names (by hash); every
    /// index, size and stack height is checked, so a corrupted snapshot is an error rather than a misbehaving run.
    pub fn restore(engine: &Engine, snap: &Snapshot, modules: &[Module]) -> Result<Store, Error> {
        let resolved = snap
            .modules
            .iter()
            .map(|h| {
                modules
                    .iter()
                    .find(|m| m.hash() == *h)
                    .cloned()
                    .ok_or_else(|| {
                        Error::Snapshot(format!(
                            "the snapshot needs module {} which was not given",
                            hex(h)
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for m in &resolved {
            if !m.engine().same(engine) {
                return Err(corrupt("module was compiled for another engine"));
            }
        }
        if snap.sanitized != engine.config().sanitize {
            return Err(Error::Snapshot(if snap.sanitized {
                "it was taken with the sanitizer on: restore it with the sanitizer (--sanitize)"
                    .into()
            } else {
                "it was taken without the sanitizer: restore it without it (--no-sanitize)".into()
            }));
        }
        let mut store = Store::new(engine);
        let config = engine.config();
        // Memories and tables, first as a whole against the engine's limits.
        let memory_bytes = snap
            .memories
            .iter()
            .fold(0u64, |sum, m| sum.saturating_add(m.size));
        if memory_bytes > config.max_memory_bytes {
            return Err(Error::Snapshot(format!(
                "its memories hold {memory_bytes} bytes, over this engine's limit of {} bytes",
                config.max_memory_bytes
            )));
        }
        let table_elements = snap
            .tables
            .iter()
            .fold(0u64, |sum, t| sum.saturating_add(t.elems.len() as u64));
        if table_elements > config.max_table_elements {
            return Err(Error::Snapshot(format!(
                "its tables hold {table_elements} elements, over this engine's limit of {}",
                config.max_table_elements
            )));
        }
        for m in &snap.memories {
            let max_engine = config.max_bytes_per_memory / PAGE_SIZE;
            if m.size % PAGE_SIZE != 0
                || m.size / PAGE_SIZE > m.max_pages
                || m.max_pages > max_engine.min(m.ty.max_pages_by_index())
            {
                return Err(corrupt(
                    "memory size is inconsistent or over the engine's limit",
                ));
            }
            let data = unpack_pages(m.size, &m.pages, "memory")?;
            store.memories.push(MemoryInst {
                ty: m.ty,
                data,
                max_pages: m.max_pages,
                dirty: config.track_dirty_pages.then(Default::default),
            });
        }
        // Functions (instances are checked below).
        for f in &snap.funcs {
            store.funcs.push(match f {
                FuncState::Wasm {
                    instance,
                    func_index,
                } => {
                    let inst = snap
                        .instances
                        .get(*instance as usize)
                        .ok_or_else(|| corrupt("function of a missing instance"))?;
                    let module = resolved
                        .get(inst.module as usize)
                        .ok_or_else(|| corrupt("instance of a missing module"))?;
                    let m = &module.inner;
                    if *func_index < m.num_imported_funcs
                        || *func_index as usize >= m.func_types.len()
                    {
                        return Err(corrupt("function index out of range"));
                    }
                    let ty_index = m.func_types[*func_index as usize] as usize;
                    FuncInst::Wasm {
                        instance: *instance,
                        func_index: *func_index,
                        type_id: m.type_ids[ty_index],
                        ty: m.types[ty_index].clone(),
                    }
                }
                FuncState::Host {
                    host_id,
                    params,
                    results,
                } => {
                    let (type_id, ty) =
                        engine.intern_type(&FuncType::new(params.clone(), results.clone()));
                    FuncInst::Host {
                        host_id: *host_id,
                        type_id,
                        ty,
                    }
                }
            });
        }
        let nfuncs = store.funcs.len() as u64;
        let check_ref = |ty: ValType, cell: u64| ty != ValType::FuncRef || cell <= nfuncs;
        for t in &snap.tables {
            if t.elems.len() as u64 > t.max || !t.elems.iter().all(|&c| check_ref(t.ty.element, c))
            {
                return Err(corrupt(
                    "table is over its maximum or holds a bad reference",
                ));
            }
            store.tables.push(TableInst {
                ty: t.ty,
                elems: t.elems.clone(),
                max: t.max,
            });
        }
        for (ty, value) in &snap.globals {
            if !check_ref(ty.content, *value as u64) {
                return Err(corrupt("global holds a bad reference"));
            }
            store.globals.push(GlobalInst {
                ty: *ty,
                value: *value,
            });
        }
        for e in &snap.elems {
            if !e.iter().all(|&c| c <= nfuncs) {
                return Err(corrupt("element segment holds a bad reference"));
            }
        }
        store.elems = snap.elems.clone();
        store.datas = snap
            .datas
            .iter()
            .map(|&dropped| DataInst { dropped })
            .collect();
        // Instances: every index space must have the module's size and every entity the module's type.
        for (i, inst) in snap.instances.iter().enumerate() {
            let module = resolved
                .get(inst.module as usize)
                .ok_or_else(|| corrupt("instance of a missing module"))?;
            let m = &module.inner;
            let bad = || corrupt(format!("instance {i} does not match its module"));
            if inst.funcs.len() != m.func_types.len()
                || inst.tables.len() != m.tables.len()
                || inst.memories.len() != m.memories.len()
                || inst.globals.len() != m.globals.len()
                || inst.elems.len() != m.elems.len()
                || inst.datas.len() != m.datas.len()
            {
                return Err(bad());
            }
            for (idx, &f) in inst.funcs.iter().enumerate() {
                let func = store.funcs.get(f as usize).ok_or_else(bad)?;
                if **func.ty() != **m.func_type(idx as u32) {
                    return Err(bad());
                }
            }
            for (idx, &t) in inst.tables.iter().enumerate() {
                let table = store.tables.get(t as usize).ok_or_else(bad)?;
                if table.ty.element != m.tables[idx].0.element
                    || table.ty.table64 != m.tables[idx].0.table64
                {
                    return Err(bad());
                }
            }
            for (idx, &mm) in inst.memories.iter().enumerate() {
                let mem = store.memories.get(mm as usize).ok_or_else(bad)?;
                if mem.ty.memory64 != m.memories[idx].memory64 {
                    return Err(bad());
                }
            }
            for (idx, &g) in inst.globals.iter().enumerate() {
                let global = store.globals.get(g as usize).ok_or_else(bad)?;
                if global.ty != m.globals[idx] {
                    return Err(bad());
                }
            }
            if inst.elems.iter().any(|&e| e as usize >= store.elems.len())
                || inst.datas.iter().any(|&d| d as usize >= store.datas.len())
            {
                return Err(bad());
            }
            let cov_base = store.coverage.len() as u32;
            store
                .coverage
                .resize(store.coverage.len() + m.num_edges as usize, 0);
            store.instances.push(InstanceData {
                module: module.clone(),
                cov_base,
                funcs: inst.funcs.clone(),
                tables: inst.tables.clone(),
                memories: inst.memories.clone(),
                globals: inst.globals.clone(),
                elems: inst.elems.clone(),
                datas: inst.datas.clone(),
            });
        }
        for (i, f) in store.funcs.iter().enumerate() {
            if let FuncInst::Wasm {
                instance,
                func_index,
                ..
            } = f
                && store.instances[*instance as usize].funcs[*func_index as usize] as usize != i
            {
                return Err(corrupt("function does not belong to its instance"));
            }
        }
        if let Some(saved) = &snap.sanitizer {
            let shadow = unpack_pages(saved.shadow_len, &saved.shadow_pages, "sanitizer shadow")?;
            let san = saved.state.with_shadow(shadow);
            let memory = store
                .memories
                .get(san.memory as usize)
                .ok_or_else(|| corrupt("sanitizer of a missing memory"))?;
            if !san.fits(memory.data.len())
                || san
                    .stack_pointer
                    .is_some_and(|g| g as usize >= store.globals.len())
            {
                return Err(corrupt("sanitizer shadow does not match its memory"));
            }
            store.sanitizer = Some(Box::new(san));
        }
        store.exec = restore_exec(&store, &snap.exec)?;
        Ok(store)
    }
}

/// Checks the paused call against the code: every frame's stack height must be the one the translator computed.
fn restore_exec(store: &Store, e: &ExecSnapshot) -> Result<ExecState, Error> {
    let config = store.engine.config();
    let bad = |msg: &str| corrupt(format!("inconsistent execution state: {msg}"));
    if e.stack.len() > config.max_value_stack as usize
        || e.frames.len() > config.max_call_depth as usize
    {
        return Err(bad("stack over the engine's limits"));
    }
    let mut stack = e.stack.clone();
    let sp = stack.len();
    let cells = |tys: &[ValType]| tys.iter().map(|t| t.cells() as usize).sum::<usize>();
    match e.status {
        Status::Idle => {
            if !e.frames.is_empty() {
                return Err(bad("frames without a call"));
            }
        }
        Status::Pending(f) => {
            let func = store
                .funcs
                .get(f as usize)
                .ok_or_else(|| bad("pending call of a missing function"))?;
            if !e.frames.is_empty()
                || cells(func.ty().params()) != sp
                || func.ty().results() != e.results.as_slice()
            {
                return Err(bad("pending call with the wrong arguments"));
            }
        }
        Status::Paused | Status::InHost(_) => {
            let Some(first) = e.frames.first() else {
                // A host function called directly by the embedder.
                let Status::InHost(f) = e.status else {
                    return Err(bad("paused without frames"));
                };
                let func = store
                    .funcs
                    .get(f as usize)
                    .ok_or_else(|| bad("host call of a missing function"))?;
                // The arguments stay on the stack until the host answers.
                if !matches!(func, FuncInst::Host { .. })
                    || sp != cells(func.ty().params())
                    || func.ty().results() != e.results.as_slice()
                {
                    return Err(bad("bad outermost host call"));
                }
                return Ok(ExecState {
                    stack,
                    sp,
                    frames: Vec::new(),
                    status: e.status.clone(),
                    results: e.results.clone(),
                    consumed: e.consumed,
                    prepaid: 0,
                });
            };
            if first.fp != 0
                || store
                    .funcs
                    .get(first.func as usize)
                    .map(|f| f.ty().results())
                    != Some(e.results.as_slice())
            {
                return Err(bad("outermost frame does not match the call"));
            }
            let n = e.frames.len();
            let mut needed = 0usize;
            for (i, frame) in e.frames.iter().enumerate() {
                let inst = store
                    .instances
                    .get(frame.instance as usize)
                    .ok_or_else(|| bad("frame of a missing instance"))?;
                let m = &inst.module.inner;
                let body = m
                    .bodies
                    .get(frame.body as usize)
                    .ok_or_else(|| bad("frame of a missing function"))?;
                if inst.funcs.get(body.func_index as usize).copied() != Some(frame.func) {
                    return Err(bad("frame's function does not match its instance"));
                }
                let fp = frame.fp as usize;
                let pc = frame.pc as usize;
                let base = fp + body.local_cells as usize;
                needed = needed.max(fp + body.max_cells as usize);
                // Function references in locals must name functions of the store (the operand stack's cells have
                // no recorded types: a bad reference there traps where it is used, as `call_indirect` checks).
                let mut cell = fp;
                for &ty in body.local_types.iter() {
                    if ty == ValType::FuncRef
                        && stack
                            .get(cell)
                            .is_some_and(|&r| r > store.funcs.len() as u64)
                    {
                        return Err(bad("a local holds a bad function reference"));
                    }
                    cell += ty.cells() as usize;
                }
                let innermost = i + 1 == n;
                // The height the frame's own operand stack must have, and where the next frame (or the pending
                // host call) starts.
                let (end, callee_params) = if innermost && e.status == Status::Paused {
                    if pc >= body.code.len() {
                        return Err(bad("pc past the end of the code"));
                    }
                    (base + body.heights[pc] as usize, None)
                } else {
                    let call_pc = pc
                        .checked_sub(1)
                        .filter(|&p| p < body.code.len())
                        .ok_or_else(|| bad("caller pc out of range"))?;
                    // The parameters of the function the call op names: after tail calls the running callee may
                    // be another function, with other parameters, in the same frame.
                    let (indirect, called) = match body.code[call_pc] {
                        Op::Call { func } | Op::ReturnCall { func } => (
                            0,
                            m.func_types
                                .get(func as usize)
                                .and_then(|&t| m.types.get(t as usize)),
                        ),
                        Op::CallIndirect { type_index, .. }
                        | Op::ReturnCallIndirect { type_index, .. } => {
                            (1, m.types.get(type_index as usize))
                        }
                        _ => return Err(bad("caller is not at a call")),
                    };
                    let called = called.ok_or_else(|| bad("call of a missing type"))?;
                    if innermost {
                        let Status::InHost(f) = e.status else {
                            return Err(bad("caller without a callee"));
                        };
                        let callee = store
                            .funcs
                            .get(f as usize)
                            .ok_or_else(|| bad("call of a missing function"))?;
                        if !matches!(callee, FuncInst::Host { .. }) || **callee.ty() != **called {
                            return Err(bad(
                                "waiting on a function that is not the host function called",
                            ));
                        }
                    }
                    let params = cells(called.params());
                    let top = (base + body.heights[call_pc] as usize)
                        .checked_sub(indirect + params)
                        .ok_or_else(|| bad("stack height underflow"))?;
                    (top, Some(params))
                };
                if innermost {
                    // A host call's arguments stay on the stack until it is answered.
                    if end + callee_params.unwrap_or(0) != sp {
                        return Err(bad("stack pointer does not match the code"));
                    }
                } else {
                    let next = &e.frames[i + 1];
                    if end != next.fp as usize || callee_params.is_none() {
                        return Err(bad("callee frame does not start where its arguments were"));
                    }
                }
            }
            if needed > config.max_value_stack as usize {
                return Err(bad("stack over the engine's limits"));
            }
            stack.resize(needed.max(sp), 0);
        }
    }
    Ok(ExecState {
        stack,
        sp,
        frames: e.frames.clone(),
        status: e.status.clone(),
        results: e.results.clone(),
        consumed: e.consumed,
        prepaid: e.prepaid,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
