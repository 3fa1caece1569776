//! The WASI context: arguments, environment, descriptor table, filesystem, clocks, randomness and standard streams of one guest, as serializable data, and the builder that sets it up.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::WasiError;
use super::abi::{Errno, rights};
use super::serde_bytes;
use super::vfs::{SizeLimits, Vfs, system_ns};

/// Wall-clock time at which the deterministic clock starts: 2023-11-14T22:13:20Z, in nanoseconds.
pub(crate) const VIRTUAL_EPOCH_NS: u64 = 1_700_000_000_000_000_000;
/// Virtual nanoseconds that one unit of fuel (one executed instruction) takes in deterministic mode.
pub(crate) const NS_PER_FUEL: u64 = 1;
/// Default largest size of one file, in bytes; larger writes fail with `EFBIG`.
pub(crate) const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;
/// Default largest size of all files of the virtual filesystem together, in bytes; writes beyond fail with `ENOSPC`.
pub const DEFAULT_MAX_FS_BYTES: u64 = 1 << 30;

/// How the guest may use a preopened directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirMode {
    /// The guest cannot change anything in it (`EPERM`).
    ReadOnly,
    /// The guest may change it; changes stay in the sandbox's in-memory copy (`--dir`).
    Sandboxed,
    /// The guest may change it, and [`WasiCtx::write_back`] copies the changes to the host (`--dir-rw`).
    ReadWrite,
}

/// Where a standard output stream goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputMode {
    /// Kept in a buffer ([`WasiCtx::stdout`], [`WasiCtx::stderr`]).
    Capture,
    /// Written through to this process's own stream.
    Inherit,
    /// Dropped (its size is still reported to the guest as written).
    Discard,
}

/// What a descriptor refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FdKind {
    Stdin,
    Stdout,
    Stderr,
    /// A regular file (or a symlink opened without following), with its offset.
    File {
        ino: u64,
        pos: u64,
    },
    /// A directory; `preopen` is the guest name of a preopened one.
    Dir {
        ino: u64,
        preopen: Option<String>,
    },
}

/// One open descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fd {
    pub(crate) kind: FdKind,
    /// `fdflags` (append, nonblock, ...).
    pub(crate) flags: u16,
    pub(crate) base: u64,
    pub(crate) inheriting: u64,
}

impl Fd {
    pub(crate) fn ino(&self) -> Option<u64> {
        match self.kind {
            FdKind::File { ino, .. } | FdKind::Dir { ino, .. } => Some(ino),
            _ => None,
        }
    }
}

/// A preopened directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Preopen {
    /// The name the guest sees (`fd_prestat_dir_name`).
    pub(crate) guest: String,
    /// The host directory it reads from, if any: absolute, as resolved when the context was built.
    pub(crate) host: Option<PathBuf>,
    pub(crate) mode: DirMode,
    pub(crate) root: u64,
    /// The host directory it reads from lazily ([`Vfs`]'s source number), if it has one.
    pub(crate) source: Option<u32>,
    /// Where [`WasiCtx::write_back`] writes a read-write preopen: set by the builder from the host directory it
    /// was given, never carried in encoded state (a restored context gets it from
    /// [`WasiCtx::bind_write_back_dir`] or [`WasiCtx::trust_recorded_dirs`]).
    #[serde(skip)]
    pub(crate) write_back_to: Option<PathBuf>,
}

/// A preopened directory as the embedder sees it (see [`WasiCtx::mounts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The path the guest sees.
    pub guest: String,
    pub mode: DirMode,
    /// The host directory it reads from, as recorded when the context was built (absolute).
    pub recorded_host: Option<PathBuf>,
    /// Where write-back goes, once known.
    pub write_back_to: Option<PathBuf>,
}

/// The clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Clock {
    /// The host's clocks; the monotonic clock never goes back, even across a restore.
    Host { last_monotonic: u64 },
    /// Time is fuel: `NS_PER_FUEL` per executed instruction, plus the time slept in `poll_oneoff`.
    Virtual { slept: u64 },
}

/// The source of `random_get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Rng {
    /// The host's randomness.
    Os,
    /// SplitMix64 from a seed: the same seed gives the same bytes.
    Seeded { state: u64 },
}

impl Rng {
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        match self {
            Rng::Seeded { state } => {
                for chunk in buf.chunks_mut(8) {
                    let v = splitmix64(state).to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
            Rng::Os => {
                let ok = std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| f.read_exact(buf))
                    .is_ok();
                if !ok {
                    // No /dev/urandom: seed from the standard library's per-process random hash keys.
                    use std::hash::{BuildHasher, Hasher};
                    let mut state = std::collections::hash_map::RandomState::new()
                        .build_hasher()
                        .finish();
                    for chunk in buf.chunks_mut(8) {
                        let v = splitmix64(&mut state).to_le_bytes();
                        chunk.copy_from_slice(&v[..chunk.len()]);
                    }
                }
            }
        }
    }
}

/// One step of SplitMix64.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Standard input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Stdin {
    /// Bytes given up front, and how many the guest has read.
    Bytes {
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        pos: usize,
    },
    /// Read from this process's standard input when the guest reads.
    Inherit,
}

impl Stdin {
    pub(crate) fn read(&mut self, max: usize) -> Result<Vec<u8>, Errno> {
        match self {
            Stdin::Bytes { data, pos } => {
                let start = (*pos).min(data.len());
                let end = start + max.min(data.len() - start);
                *pos = end;
                Ok(data[start..end].to_vec())
            }
            Stdin::Inherit => {
                let mut buf = vec![0; max.min(1 << 16)];
                let n = std::io::stdin().read(&mut buf).map_err(|_| Errno::IO)?;
                buf.truncate(n);
                Ok(buf)
            }
        }
    }

    /// Bytes that a read would return at once (for `poll_oneoff`).
    pub(crate) fn available(&self) -> u64 {
        match self {
            Stdin::Bytes { data, pos } => data.len().saturating_sub(*pos) as u64,
            Stdin::Inherit => 1,
        }
    }
}

/// Standard output or standard error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Output {
    pub(crate) mode: OutputMode,
    #[serde(with = "serde_bytes")]
    pub(crate) data: Vec<u8>,
    /// Most bytes kept when capturing; the rest is dropped.
    pub(crate) limit: Option<usize>,
}

impl Output {
    fn new(mode: OutputMode, limit: Option<usize>) -> Self {
        Output {
            mode,
            data: Vec::new(),
            limit,
        }
    }

    pub(crate) fn write(&mut self, bytes: &[u8], stderr: bool) -> Result<(), Errno> {
        match self.mode {
            OutputMode::Capture => {
                let room = self
                    .limit
                    .map_or(bytes.len(), |l| l.saturating_sub(self.data.len()));
                self.data.extend_from_slice(&bytes[..room.min(bytes.len())]);
            }
            OutputMode::Inherit => {
                let result = if stderr {
                    let mut err = std::io::stderr().lock();
                    err.write_all(bytes).and_then(|()| err.flush())
                } else {
                    let mut out = std::io::stdout().lock();
                    out.write_all(bytes).and_then(|()| out.flush())
                };
                result.map_err(|_| Errno::IO)?;
            }
            OutputMode::Discard => {}
        }
        Ok(())
    }
}

/// What the program reads its input from, for [`WasiCtx::is_input_read`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum InputSource {
    Stdin,
    /// A file, by its guest path.
    File(String),
}

/// A value of a host call kept across a snapshot (WASI functions take only `i32` and `i64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SavedVal {
    I32(i32),
    I64(i64),
}

/// A host call the run stopped at without answering it (see [`WasiCtx::resume`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingCall {
    pub(crate) func: u32,
    pub(crate) host_id: u32,
    pub(crate) args: Vec<SavedVal>,
}

/// The whole WASI state of one guest. Clone it to fork a run; serialize it ([`WasiCtx::to_bytes`]) next to a
/// store snapshot (`Snapshot::set_host_state`) to carry a paused run, files included, to another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) fds: BTreeMap<u32, Fd>,
    pub(crate) vfs: Vfs,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) clock: Clock,
    pub(crate) rng: Rng,
    pub(crate) stdin: Stdin,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
    pub(crate) input: InputSource,
    /// The program has already read its input (a call `is_input_read` recognized has been answered).
    pub(crate) input_seen: bool,
    pub(crate) max_file_size: u64,
    /// Largest size of all files together; writes beyond fail with `ENOSPC`.
    pub(crate) max_fs_bytes: u64,
    /// Descriptor numbers below `fd_next` that are not open (see [`WasiCtx::alloc_fd`]).
    pub(crate) fd_free: BTreeSet<u32>,
    /// Every number below this is open or in `fd_free`.
    pub(crate) fd_next: u64,
    /// The memory the driver reads and writes (the instance's `memory` export), once started.
    pub(crate) memory: Option<u32>,
    /// A host call the driver stopped at before answering.
    pub(crate) pending: Option<PendingCall>,
    /// Whether the driver stops at the program's first read of its input.
    pub(crate) stop_at_input: bool,
    /// The entry function to call once the module's start function has finished.
    pub(crate) queued: Option<u32>,
}

/// Sets up a [`WasiCtx`]. Host-like by default: real clocks, OS randomness, standard streams inherited.
#[derive(Debug, Clone, Default)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    dirs: Vec<(Option<PathBuf>, String, DirMode)>,
    files: Vec<(String, Vec<u8>)>,
    stdin: Option<Stdin>,
    stdout: Option<OutputMode>,
    stderr: Option<OutputMode>,
    output_limit: Option<usize>,
    seed: Option<u64>,
    input_file: Option<String>,
    max_file_size: Option<u64>,
    max_fs_bytes: Option<u64>,
}

impl WasiCtxBuilder {
    /// Appends one argument; the first is the program name (`argv[0]`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds the environment variable `key=value`.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Preopens the host directory `host` as `guest` (`--dir HOST::GUEST`): read lazily into the sandbox, a
    /// directory when the guest first looks into it, a file when it first opens it (see `engine/src/wasi/README.md`).
    pub fn preopen_dir(
        mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
        mode: DirMode,
    ) -> Self {
        self.dirs.push((Some(host.into()), guest.into(), mode));
        self
    }

    /// Preopens an empty in-memory directory as `guest`.
    pub fn preopen_empty_dir(mut self, guest: impl Into<String>) -> Self {
        self.dirs.push((None, guest.into(), DirMode::Sandboxed));
        self
    }

    /// Creates a file at the guest path `path` (inside a preopened directory; parents are created) before the run.
    pub fn file(mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.into(), contents.into()));
        self
    }

    /// Standard input holds these bytes, then end of file.
    pub fn stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(Stdin::Bytes {
            data: bytes.into(),
            pos: 0,
        });
        self
    }

    /// Standard input is read from this process's standard input.
    pub fn inherit_stdin(mut self) -> Self {
        self.stdin = Some(Stdin::Inherit);
        self
    }

    pub fn stdout(mut self, mode: OutputMode) -> Self {
        self.stdout = Some(mode);
        self
    }

    pub fn stderr(mut self, mode: OutputMode) -> Self {
        self.stderr = Some(mode);
        self
    }

    /// Keeps at most this many bytes of each captured stream.
    pub fn output_limit(mut self, bytes: usize) -> Self {
        self.output_limit = Some(bytes);
        self
    }

    /// Deterministic mode: a virtual clock driven by fuel, randomness from `seed`, timestamps of copied-in files
    /// set to the virtual epoch, and (unless set otherwise) captured output and empty standard input.
    pub fn deterministic(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The program's input is the file at this guest path rather than standard input (see `is_input_read`).
    pub fn input_file(mut self, path: impl Into<String>) -> Self {
        self.input_file = Some(path.into());
        self
    }

    /// Largest size of one file in bytes (default 1 GiB); writes beyond fail with `EFBIG`.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = Some(bytes);
        self
    }

    /// Largest size of all files of the virtual filesystem together, in bytes (default [`DEFAULT_MAX_FS_BYTES`]):
    /// writes beyond fail with `ENOSPC`, and so does opening a host file that would take the total past it.
    pub fn max_fs_bytes(mut self, bytes: u64) -> Self {
        self.max_fs_bytes = Some(bytes);
        self
    }

    /// Builds the context, listing the top of each preopened host directory (the rest is read lazily). Host
    /// directories are resolved to absolute paths first (a read-write one is written back there, whatever the
    /// working directory is later).
    pub fn build(self) -> Result<WasiCtx, WasiError> {
        let deterministic = self.seed.is_some();
        let default_out = if deterministic {
            OutputMode::Capture
        } else {
            OutputMode::Inherit
        };
        let stdin = self.stdin.unwrap_or(if deterministic {
            Stdin::Bytes {
                data: Vec::new(),
                pos: 0,
            }
        } else {
            Stdin::Inherit
        });
        let fixed_time = deterministic.then_some(VIRTUAL_EPOCH_NS);
        let mut ctx = WasiCtx {
            args: self.args,
            env: self.env,
            fds: BTreeMap::new(),
            vfs: Vfs::default(),
            preopens: Vec::new(),
            clock: match self.seed {
                Some(_) => Clock::Virtual { slept: 0 },
                None => Clock::Host { last_monotonic: 0 },
            },
            rng: match self.seed {
                Some(seed) => Rng::Seeded { state: seed },
                None => Rng::Os,
            },
            stdin,
            stdout: Output::new(self.stdout.unwrap_or(default_out), self.output_limit),
            stderr: Output::new(self.stderr.unwrap_or(default_out), self.output_limit),
            input: self
                .input_file
                .map_or(InputSource::Stdin, InputSource::File),
            input_seen: false,
            max_file_size: self.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
            max_fs_bytes: self.max_fs_bytes.unwrap_or(DEFAULT_MAX_FS_BYTES),
            fd_free: BTreeSet::new(),
            fd_next: 0,
            memory: None,
            pending: None,
            stop_at_input: false,
            queued: None,
        };
        let stdio = [
            (FdKind::Stdin, rights::STDIN),
            (FdKind::Stdout, rights::STDOUT),
            (FdKind::Stderr, rights::STDOUT),
        ];
        for (kind, base) in stdio {
            ctx.alloc_fd(Fd {
                kind,
                flags: 0,
                base,
                inheriting: 0,
            })
            .map_err(|_| WasiError::State("no descriptor number is free".into()))?;
        }
        let now = ctx.realtime_at(0);
        for (host, guest, mode) in self.dirs {
            let readonly = mode == DirMode::ReadOnly;
            let host = match host {
                Some(path) => {
                    Some(
                        std::fs::canonicalize(&path).map_err(|source| WasiError::Io {
                            action: "cannot open",
                            path: path.clone(),
                            source,
                        })?,
                    )
                }
                None => None,
            };
            let (source, root) = match &host {
                Some(path) => {
                    let (src, root) =
                        ctx.vfs
                            .add_source(path, readonly, fixed_time)
                            .map_err(|source| WasiError::Io {
                                action: "cannot open",
                                path: path.clone(),
                                source,
                            })?;
                    (Some(src), root)
                }
                None => (None, ctx.vfs.new_root(now, readonly)),
            };
            ctx.alloc_fd(Fd {
                kind: FdKind::Dir {
                    ino: root,
                    preopen: Some(guest.clone()),
                },
                flags: 0,
                base: rights::DIRECTORY,
                inheriting: rights::DIRECTORY | rights::FILE,
            })
            .map_err(|_| WasiError::State("no descriptor number is free".into()))?;
            let write_back_to = host.clone().filter(|_| mode == DirMode::ReadWrite);
            ctx.preopens.push(Preopen {
                guest,
                host,
                mode,
                root,
                source,
                write_back_to,
            });
        }
        for (path, contents) in self.files {
            ctx.set_file_contents(&path, contents)?;
        }
        Ok(ctx)
    }
}

/// Binds source `src` of `vfs` to `host` (see [`WasiCtx::bind_dir`]).
fn bind_source(vfs: &mut Vfs, src: u32, host: &Path) -> Result<(), WasiError> {
    vfs.bind_source(src, host)
        .map_err(|change| WasiError::HostChanged {
            path: change.path,
            why: change.why,
        })
}

/// Process-wide start of the host monotonic clock.
fn host_instant() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Components of a guest path, without empty and `.` components.
fn guest_components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

impl WasiCtx {
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }

    /// Whether the clocks and randomness are deterministic.
    pub fn is_deterministic(&self) -> bool {
        matches!(self.clock, Clock::Virtual { .. })
    }

    /// What the guest wrote to standard output, if captured.
    pub fn stdout(&self) -> &[u8] {
        &self.stdout.data
    }

    /// What the guest wrote to standard error, if captured.
    pub fn stderr(&self) -> &[u8] {
        &self.stderr.data
    }

    /// Empties the captured output buffers.
    pub fn clear_output(&mut self) {
        self.stdout.data.clear();
        self.stderr.data.clear();
    }

    /// Replaces standard input with these bytes, read from the start (for example a new fuzz input after a restore).
    pub fn set_stdin_bytes(&mut self, bytes: impl Into<Vec<u8>>) {
        self.stdin = Stdin::Bytes {
            data: bytes.into(),
            pos: 0,
        };
    }

    /// Makes the file at this guest path the program's input (see [`WasiCtx::is_input_read`]).
    pub fn set_input_file(&mut self, path: impl Into<String>) {
        self.input = InputSource::File(path.into());
        self.input_seen = false;
    }

    /// Whether the driver stops at the program's first read of its input ([`super::RunStatus::InputRead`]).
    pub fn set_stop_at_input(&mut self, stop: bool) {
        self.stop_at_input = stop;
    }

    /// Whether the program has already read its input.
    pub fn input_seen(&self) -> bool {
        self.input_seen
    }

    /// The root of the preopen holding a guest path, and the path relative to it.
    pub(crate) fn locate(&self, path: &str) -> Result<(u64, String), WasiError> {
        let comps = guest_components(path);
        let best = self
            .preopens
            .iter()
            .filter_map(|p| {
                let prefix = guest_components(&p.guest);
                comps.starts_with(&prefix).then_some((prefix.len(), p))
            })
            .max_by_key(|(len, _)| *len);
        let Some((len, preopen)) = best else {
            return Err(WasiError::GuestPath {
                path: path.to_owned(),
                reason: "not inside a preopened directory".into(),
            });
        };
        let rel = comps[len..].join("/");
        Ok((preopen.root, if rel.is_empty() { ".".into() } else { rel }))
    }

    /// Sets the contents of the file at a guest path, creating it (and missing parent directories) if needed.
    pub fn set_file_contents(
        &mut self,
        path: &str,
        contents: impl Into<Vec<u8>>,
    ) -> Result<(), WasiError> {
        let bad = |reason: String| WasiError::GuestPath {
            path: path.to_owned(),
            reason,
        };
        let (root, rel) = self.locate(path)?;
        let now = self.realtime_at(0);
        let comps: Vec<&str> = rel.split('/').collect();
        let (name, parents) = comps
            .split_last()
            .ok_or_else(|| bad("no file name".into()))?;
        let mut dir = root;
        for part in parents {
            let found = self
                .vfs
                .resolve(dir, part, true)
                .map_err(|e| bad(format!("cannot resolve `{part}` (errno {})", e.0)))?;
            dir = match found.node {
                Some(ino) => ino,
                None => self
                    .vfs
                    .create_dir(dir, part, now)
                    .map_err(|e| bad(format!("cannot create `{part}` (errno {})", e.0)))?,
            };
        }
        let found = self
            .vfs
            .resolve(dir, name, true)
            .map_err(|e| bad(format!("cannot resolve (errno {})", e.0)))?;
        let ino = match found.node {
            Some(ino) => ino,
            None => self
                .vfs
                .create_file(found.parent, &found.name, now)
                .map_err(|e| bad(format!("cannot create (errno {})", e.0)))?,
        };
        self.vfs
            .set_file_data(ino, contents.into(), now)
            .map_err(|e| bad(format!("not a regular file (errno {})", e.0)))
    }

    /// The contents of the file at a guest path. A host file the guest has not opened (or a path through a host
    /// directory it has not listed) has not been read from the host: that is an error too.
    pub fn file_contents(&self, path: &str) -> Result<&[u8], WasiError> {
        let (root, rel) = self.locate(path)?;
        let bad = |e: Errno| WasiError::GuestPath {
            path: path.to_owned(),
            reason: format!("errno {}", e.0),
        };
        let ino = self.vfs.lookup_listed(root, &rel, true).map_err(bad)?;
        Ok(self.vfs.file_data(ino).map_err(bad)?.as_slice())
    }

    /// The preopened directories, in descriptor order.
    pub fn mounts(&self) -> Vec<Mount> {
        self.preopens
            .iter()
            .map(|p| Mount {
                guest: p.guest.clone(),
                mode: p.mode,
                recorded_host: p.host.clone(),
                write_back_to: p.write_back_to.clone(),
            })
            .collect()
    }

    /// Makes the host directory `host` (resolved to an absolute path now) the one the read-write preopen the
    /// guest sees as `guest` is written back to. An error if no read-write preopen has that guest path.
    pub fn bind_write_back_dir(&mut self, guest: &str, host: &Path) -> Result<(), WasiError> {
        let wanted = guest_components(guest);
        let preopen = self
            .preopens
            .iter_mut()
            .find(|p| p.mode == DirMode::ReadWrite && guest_components(&p.guest) == wanted)
            .ok_or_else(|| WasiError::GuestPath {
                path: guest.to_owned(),
                reason: "no --dir-rw preopen has this guest path".into(),
            })?;
        let resolved = std::fs::canonicalize(host).map_err(|source| WasiError::Io {
            action: "cannot resolve",
            path: host.to_path_buf(),
            source,
        })?;
        preopen.write_back_to = Some(resolved.clone());
        if let Some(src) = preopen.source {
            bind_source(&mut self.vfs, src, &resolved)?;
        }
        Ok(())
    }

    /// Makes the host directory `host` the one the host-backed preopen the guest sees as `guest` (of any mode)
    /// reads what it has not read yet from, after checking that every file and directory read from it so far
    /// (size, modification time, contents or listing) is still what it was: an error names the first that is
    /// not. A freshly built context reads from the directories its builder was given; a context decoded from
    /// bytes reads from none until this (or [`WasiCtx::trust_recorded_dirs`]).
    pub fn bind_dir(&mut self, guest: &str, host: &Path) -> Result<(), WasiError> {
        let wanted = guest_components(guest);
        let preopen = self
            .preopens
            .iter()
            .find(|p| p.source.is_some() && guest_components(&p.guest) == wanted)
            .ok_or_else(|| WasiError::GuestPath {
                path: guest.to_owned(),
                reason: "no preopen from a host directory has this guest path".into(),
            })?;
        let src = preopen.source.unwrap_or_default();
        let resolved = std::fs::canonicalize(host).map_err(|source| WasiError::Io {
            action: "cannot resolve",
            path: host.to_path_buf(),
            source,
        })?;
        bind_source(&mut self.vfs, src, &resolved)
    }

    /// The guest paths of host-backed preopens that still have files or directories to read from the host but
    /// no host directory to read them from (a restored context before [`WasiCtx::bind_dir`]).
    pub fn unbound_read_dirs(&self) -> Vec<String> {
        self.preopens
            .iter()
            .filter(|p| {
                p.source.is_some_and(|src| {
                    self.vfs.sources()[src as usize].bound.is_none() && self.vfs.has_unread(src)
                })
            })
            .map(|p| p.guest.clone())
            .collect()
    }

    /// Host files read and host directories listed so far (not what the guest created), and the inodes the
    /// filesystem holds: what a lazily read `--dir` cost.
    #[doc(hidden)]
    pub fn host_reads(&self) -> (usize, usize, usize) {
        let (files, dirs) = self.vfs.host_reads();
        (files, dirs, self.vfs.live_nodes())
    }

    /// Writes every read-write preopen back to, and reads every host-backed preopen not bound yet from, the host
    /// directory recorded when the context was built (for a restored context whose recorded paths the user
    /// accepts); what was read from them is checked first, as [`WasiCtx::bind_dir`] does.
    pub fn trust_recorded_dirs(&mut self) -> Result<(), WasiError> {
        for p in &self.preopens {
            let Some(src) = p.source else { continue };
            let source = &self.vfs.sources()[src as usize];
            if source.bound.is_none() {
                let recorded = source.recorded.clone();
                if !recorded.is_absolute() {
                    return Err(WasiError::GuestPath {
                        path: p.guest.clone(),
                        reason: format!(
                            "its recorded host path {} is not absolute",
                            recorded.display()
                        ),
                    });
                }
                bind_source(&mut self.vfs, src, &recorded)?;
            }
        }
        for p in &mut self.preopens {
            if p.mode != DirMode::ReadWrite || p.write_back_to.is_some() {
                continue;
            }
            match &p.host {
                Some(host) if host.is_absolute() => p.write_back_to = Some(host.clone()),
                Some(host) => {
                    return Err(WasiError::GuestPath {
                        path: p.guest.clone(),
                        reason: format!(
                            "its recorded host path {} is not absolute",
                            host.display()
                        ),
                    });
                }
                None => {}
            }
        }
        Ok(())
    }

    /// The guest paths of read-write preopens with no host directory to write back to yet.
    pub fn unbound_write_back_dirs(&self) -> Vec<String> {
        self.preopens
            .iter()
            .filter(|p| {
                p.mode == DirMode::ReadWrite && p.host.is_some() && p.write_back_to.is_none()
            })
            .map(|p| p.guest.clone())
            .collect()
    }

    /// Copies every [`DirMode::ReadWrite`] preopen back to its host directory (`--dir-rw`), all or nothing:
    /// every tree is checked and staged inside its directory before anything in any of them changes.
    /// An error, before anything is written, when a read-write preopen has no host directory bound.
    pub fn write_back(&self) -> Result<(), WasiError> {
        let unbound = self.unbound_write_back_dirs();
        if !unbound.is_empty() {
            return Err(WasiError::Unbound {
                mounts: unbound.join(", "),
            });
        }
        // What write-back needs and the guest never read (a host directory it moved, say) is read now, into a
        // copy: the state itself stays as the run left it.
        let mut vfs = self.vfs.clone();
        for p in self
            .preopens
            .iter()
            .filter(|p| p.mode == DirMode::ReadWrite)
        {
            vfs.load_for_write_back(p.root)
                .map_err(|source| WasiError::Io {
                    action: "cannot read for the write-back",
                    path: p.host.clone().unwrap_or_default(),
                    source,
                })?;
        }
        let none = BTreeSet::new();
        let targets: Vec<_> = self
            .preopens
            .iter()
            .filter(|p| p.mode == DirMode::ReadWrite)
            .filter_map(|p| {
                p.write_back_to
                    .as_deref()
                    .map(|host| super::writeback::Target {
                        root: p.root,
                        host,
                        imported: p
                            .source
                            .map_or(&none, |src| &vfs.sources()[src as usize].imported),
                    })
            })
            .collect();
        super::writeback::write_back(&vfs, &targets)
    }

    /// The largest file and the largest filesystem the context allows.
    pub(crate) fn size_limits(&self) -> SizeLimits {
        SizeLimits {
            file: self.max_file_size,
            total: self.max_fs_bytes,
        }
    }

    /// Bytes of file contents the virtual filesystem holds.
    pub fn fs_bytes(&self) -> u64 {
        self.vfs.bytes_used()
    }

    /// Opens a descriptor at the lowest free number (as POSIX requires), in O(log n) amortized.
    pub(crate) fn alloc_fd(&mut self, fd: Fd) -> Result<u32, Errno> {
        let number = match self.fd_free.pop_first() {
            Some(n) => n,
            None => {
                while u32::try_from(self.fd_next).is_ok_and(|n| self.fds.contains_key(&n)) {
                    self.fd_next += 1;
                }
                let n = u32::try_from(self.fd_next).map_err(|_| Errno::MFILE)?;
                self.fd_next += 1;
                n
            }
        };
        self.fds.insert(number, fd);
        Ok(number)
    }

    /// Closes descriptor `number`, returning it.
    pub(crate) fn remove_fd(&mut self, number: u32) -> Option<Fd> {
        let fd = self.fds.remove(&number)?;
        if u64::from(number) < self.fd_next {
            self.fd_free.insert(number);
        }
        Some(fd)
    }

    /// Puts `fd` at `number` (which may be open: the old descriptor is returned).
    pub(crate) fn place_fd(&mut self, number: u32, fd: Fd) -> Option<Fd> {
        self.fd_free.remove(&number);
        self.fds.insert(number, fd)
    }

    /// Encodes the whole context (bincode 2 over serde), e.g. for `Snapshot::set_host_state`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WasiError> {
        bincode::serde::encode_to_vec(self, bincode::config::standard())
            .map_err(|e| WasiError::State(format!("encoding failed: {e}")))
    }

    /// Decodes a context written by [`WasiCtx::to_bytes`]. Malformed bytes give an error, never a panic: every
    /// inode number the state refers to is checked. Decoding allocates at most 4 GiB.
    pub fn from_bytes(bytes: &[u8]) -> Result<WasiCtx, WasiError> {
        let config = bincode::config::standard().with_limit::<{ 1 << 32 }>();
        let (mut ctx, _): (WasiCtx, usize) = bincode::serde::decode_from_slice(bytes, config)
            .map_err(|e| WasiError::State(format!("decoding failed: {e}")))?;
        ctx.check()?;
        ctx.vfs.recount();
        Ok(ctx)
    }

    /// Checks that descriptors, preopens and directory entries name live inodes.
    fn check(&self) -> Result<(), WasiError> {
        let live = |ino: u64| self.vfs.is_live(ino);
        let fds_ok = self.fds.values().all(|fd| fd.ino().is_none_or(live));
        let preopens_ok = self.preopens.iter().all(|p| {
            live(p.root)
                && self.vfs.node(p.root).is_dir()
                && p.source
                    .is_none_or(|src| (src as usize) < self.vfs.sources().len())
        });
        if !fds_ok || !preopens_ok || !self.vfs.entries_are_live() {
            return Err(WasiError::State("dangling inode number".into()));
        }
        // The free descriptor numbers lie below `fd_next` and are closed, and with the open ones below it they
        // make up every number below it.
        let free_ok = self
            .fd_free
            .iter()
            .all(|&n| u64::from(n) < self.fd_next && !self.fds.contains_key(&n));
        let open_below = self
            .fds
            .keys()
            .filter(|&&n| u64::from(n) < self.fd_next)
            .count() as u64;
        if !free_ok || open_below + self.fd_free.len() as u64 != self.fd_next {
            return Err(WasiError::State("inconsistent descriptor numbers".into()));
        }
        Ok(())
    }

    /// Realtime clock in nanoseconds, given the store's fuel consumed so far.
    pub(crate) fn realtime_at(&self, fuel: u64) -> u64 {
        match &self.clock {
            Clock::Virtual { slept } => VIRTUAL_EPOCH_NS
                .saturating_add(fuel.saturating_mul(NS_PER_FUEL))
                .saturating_add(*slept),
            Clock::Host { .. } => system_ns(Ok(SystemTime::now())),
        }
    }

    /// Monotonic clock in nanoseconds.
    pub(crate) fn monotonic_at(&mut self, fuel: u64) -> u64 {
        match &mut self.clock {
            Clock::Virtual { slept } => fuel.saturating_mul(NS_PER_FUEL).saturating_add(*slept),
            Clock::Host { last_monotonic } => {
                let now = u64::try_from(host_instant().elapsed().as_nanos()).unwrap_or(u64::MAX);
                *last_monotonic = (*last_monotonic).max(now);
                *last_monotonic
            }
        }
    }

    /// Lets `ns` nanoseconds pass: advances the virtual clock, or sleeps on the host.
    pub(crate) fn sleep(&mut self, ns: u64) {
        match &mut self.clock {
            Clock::Virtual { slept } => *slept = slept.saturating_add(ns),
            Clock::Host { .. } => std::thread::sleep(std::time::Duration::from_nanos(ns)),
        }
    }
}
