//! The virtual filesystem: an in-memory tree of directories, regular files and symlinks held as plain data, with capability-style path resolution that never leaves the directory it starts from.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::abi::{Errno, filetype};
use super::serde_bytes;

/// Most symlinks one path resolution follows before failing with `ELOOP`.
const MAX_SYMLINKS: u32 = 40;
/// Longest name of one directory entry, in bytes.
const MAX_NAME: usize = 255;

/// What an inode is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum NodeKind {
    /// A regular file. Contents are shared copy-on-write, so cloning a context is cheap.
    File {
        #[serde(with = "serde_bytes::shared")]
        data: Arc<Vec<u8>>,
        /// Written since it was listed from the host (write-back only writes these).
        modified: bool,
        /// The path, relative to its preopen, this file was listed from (`None` for a file the guest
        /// created): write-back writes a file whose path is no longer this one, modified or not.
        #[serde(default)]
        origin: Option<String>,
        /// Not read from the host yet: `data` is empty and the contents are still at `origin` on the host
        /// (read when the file is first opened, see [`Vfs::load_file`]).
        unread: Option<Unread>,
    },
    /// A directory: entries in name order (so `fd_readdir` is deterministic) and its parent (itself for a root).
    Dir {
        entries: BTreeMap<String, u64>,
        parent: u64,
        /// Not listed from the host yet: its host entries are still to be added (see [`Vfs::list_dir`]).
        unlisted: Option<Unlisted>,
    },
    /// A symbolic link and the path it holds.
    Symlink { target: String },
}

/// An inode: contents plus metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    /// Directory entries naming this inode.
    pub(crate) nlink: u64,
    /// Open descriptors referring to this inode; it is freed when both counts reach zero.
    pub(crate) open: u32,
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
    /// Belongs to a read-only preopen: the guest cannot change it or what it contains.
    pub(crate) readonly: bool,
}

impl Node {
    pub(crate) fn filetype(&self) -> u8 {
        match self.kind {
            NodeKind::File { .. } => filetype::REGULAR_FILE,
            NodeKind::Dir { .. } => filetype::DIRECTORY,
            NodeKind::Symlink { .. } => filetype::SYMBOLIC_LINK,
        }
    }

    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir { .. })
    }

    pub(crate) fn size(&self) -> u64 {
        match &self.kind {
            NodeKind::File { data, unread, .. } => {
                unread.as_ref().map_or(data.len() as u64, |u| u.size)
            }
            NodeKind::Dir { entries, .. } => entries.len() as u64,
            NodeKind::Symlink { target } => target.len() as u64,
        }
    }
}

/// The result of resolving a path: the directory holding the last component, its name, and the inode if it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    pub(crate) parent: u64,
    /// The last component; `.` or `..` when the path ends in one (then `node` is that directory).
    pub(crate) name: String,
    pub(crate) node: Option<u64>,
    /// The path ended in `/`, so it must name a directory.
    pub(crate) trailing_slash: bool,
}

impl Lookup {
    /// Whether the path named a directory through `.` or `..` rather than by an entry name.
    pub(crate) fn is_dot(&self) -> bool {
        self.name == "." || self.name == ".."
    }
}

/// All inodes. Inode numbers are slots in `nodes`; freed slots are reused lowest first, so numbering is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Vfs {
    nodes: Vec<Option<Node>>,
    free: BTreeSet<u64>,
    /// Bytes of file contents held by all live inodes (recounted after decoding, see [`Vfs::recount`]).
    #[serde(skip)]
    used: u64,
    /// The host directories of host-backed preopens, by source number.
    sources: Vec<HostSource>,
}

fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

impl Vfs {
    pub(crate) fn node(&self, ino: u64) -> &Node {
        self.nodes
            .get(ino as usize)
            .and_then(Option::as_ref)
            .expect("inode numbers held by entries and descriptors are live")
    }

    pub(crate) fn node_mut(&mut self, ino: u64) -> &mut Node {
        self.nodes
            .get_mut(ino as usize)
            .and_then(Option::as_mut)
            .expect("inode numbers held by entries and descriptors are live")
    }

    /// Whether `ino` names a live inode (checked on values that come from outside, such as deserialized state).
    pub(crate) fn is_live(&self, ino: u64) -> bool {
        self.nodes.get(ino as usize).is_some_and(Option::is_some)
    }

    fn alloc(&mut self, node: Node) -> u64 {
        if let Some(ino) = self.free.pop_first() {
            self.nodes[ino as usize] = Some(node);
            ino
        } else {
            self.nodes.push(Some(node));
            self.nodes.len() as u64 - 1
        }
    }

    /// Frees an inode nothing names or holds open any more.
    pub(crate) fn release_if_unused(&mut self, ino: u64) {
        let node = self.node(ino);
        if node.nlink == 0 && node.open == 0 {
            if let NodeKind::File { data, .. } = &node.kind {
                self.used = self.used.saturating_sub(data.len() as u64);
            }
            self.nodes[ino as usize] = None;
            self.free.insert(ino);
        }
    }

    fn new_node(&mut self, kind: NodeKind, now: u64, readonly: bool) -> u64 {
        self.alloc(Node {
            kind,
            nlink: 0,
            open: 0,
            atim: now,
            mtim: now,
            ctim: now,
            readonly,
        })
    }

    /// A new root directory (the top of a preopen).
    pub(crate) fn new_root(&mut self, now: u64, readonly: bool) -> u64 {
        let ino = self.new_node(
            NodeKind::Dir {
                entries: BTreeMap::new(),
                parent: 0,
                unlisted: None,
            },
            now,
            readonly,
        );
        let node = self.node_mut(ino);
        node.nlink = 1;
        if let NodeKind::Dir { parent, .. } = &mut node.kind {
            *parent = ino;
        }
        ino
    }

    pub(crate) fn entries(&self, dir: u64) -> Result<&BTreeMap<String, u64>, Errno> {
        match &self.node(dir).kind {
            NodeKind::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::NOTDIR),
        }
    }

    fn entries_mut(&mut self, dir: u64) -> Result<&mut BTreeMap<String, u64>, Errno> {
        match &mut self.node_mut(dir).kind {
            NodeKind::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::NOTDIR),
        }
    }

    pub(crate) fn parent_of(&self, dir: u64) -> u64 {
        match &self.node(dir).kind {
            NodeKind::Dir { parent, .. } => *parent,
            _ => dir,
        }
    }

    /// Resolves `path` relative to the directory `start`. Absolute paths, `..` above `start` and symlinks leading
    /// out of it are refused with `EPERM`, as wasmtime does. Symlinks in the middle are always followed; the last
    /// component's only when `follow` is set or the path ends in `/`. Host directories the path passes through are
    /// listed from the host first (`EIO` if that fails).
    pub(crate) fn resolve(
        &mut self,
        start: u64,
        path: &str,
        follow: bool,
    ) -> Result<Lookup, Errno> {
        loop {
            match self.walk(start, path, follow) {
                Ok(found) => return Ok(found),
                Err(Stop::Errno(e)) => return Err(e),
                Err(Stop::Unlisted(dir)) => self.list_dir(dir)?,
            }
        }
    }

    /// Resolves `path` without listing anything from the host: a path through a host directory not listed yet
    /// is `ENOENT` (for callers holding only `&self`; see [`Vfs::resolve`]).
    pub(crate) fn resolve_listed(
        &self,
        start: u64,
        path: &str,
        follow: bool,
    ) -> Result<Lookup, Errno> {
        self.walk(start, path, follow).map_err(|stop| match stop {
            Stop::Errno(e) => e,
            Stop::Unlisted(_) => Errno::NOENT,
        })
    }

    /// Resolves `path` relative to the directory `start` as far as the listed directories go (see [`Vfs::resolve`]).
    /// Resolves `path` relative to the directory `start`. Absolute paths, `..` above `start` and symlinks leading
    /// out of it are refused with `EPERM`, as wasmtime does. Symlinks in the middle are always followed; the last
    /// component's only when `follow` is set or the path ends in `/`.
    fn walk(&self, start: u64, path: &str, follow: bool) -> Result<Lookup, Stop> {
        if path.is_empty() {
            return Err(Errno::NOENT.into());
        }
        if path.starts_with('/') {
            return Err(Errno::PERM.into());
        }
        if path.contains('\0') {
            return Err(Errno::INVAL.into());
        }
        let mut trailing_slash = path.ends_with('/');
        let mut stack = vec![start];
        let mut queue: VecDeque<String> = components(path).map(str::to_owned).collect();
        let mut links = 0;
        loop {
            let dir = *stack
                .last()
                .expect("the stack never loses its first directory");
            let Some(comp) = queue.pop_front() else {
                // The path ended in `.` or `..` (or a symlink to one).
                return Ok(Lookup {
                    parent: dir,
                    name: ".".into(),
                    node: Some(dir),
                    trailing_slash,
                });
            };
            let last = queue.is_empty();
            if comp == "." || comp == ".." {
                self.entries(dir)?;
                if comp == ".." {
                    if stack.len() == 1 {
                        return Err(Errno::PERM.into());
                    }
                    stack.pop();
                }
                if last {
                    let top = *stack
                        .last()
                        .expect("the stack never loses its first directory");
                    return Ok(Lookup {
                        parent: top,
                        name: comp,
                        node: Some(top),
                        trailing_slash,
                    });
                }
                continue;
            }
            if comp.len() > MAX_NAME {
                return Err(Errno::NAMETOOLONG.into());
            }
            if self.is_unlisted(dir) {
                return Err(Stop::Unlisted(dir));
            }
            let Some(&ino) = self.entries(dir)?.get(&comp) else {
                if last {
                    return Ok(Lookup {
                        parent: dir,
                        name: comp,
                        node: None,
                        trailing_slash,
                    });
                }
                return Err(Errno::NOENT.into());
            };
            match &self.node(ino).kind {
                NodeKind::Symlink { target } if !last || follow || trailing_slash => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::LOOP.into());
                    }
                    if target.starts_with('/') {
                        return Err(Errno::PERM.into());
                    }
                    if target.is_empty() {
                        return Err(Errno::NOENT.into());
                    }
                    if last && target.ends_with('/') {
                        trailing_slash = true;
                    }
                    let mut expanded: VecDeque<String> =
                        components(target).map(str::to_owned).collect();
                    expanded.extend(queue.drain(..));
                    queue = expanded;
                }
                NodeKind::Dir { .. } if !last => stack.push(ino),
                _ if last => {
                    if trailing_slash && !self.node(ino).is_dir() {
                        return Err(Errno::NOTDIR.into());
                    }
                    return Ok(Lookup {
                        parent: dir,
                        name: comp,
                        node: Some(ino),
                        trailing_slash,
                    });
                }
                _ => return Err(Errno::NOTDIR.into()),
            }
        }
    }

    /// Resolves a path that must exist, without listing anything from the host (see [`Vfs::resolve_listed`]).
    pub(crate) fn lookup_listed(&self, start: u64, path: &str, follow: bool) -> Result<u64, Errno> {
        self.resolve_listed(start, path, follow)?
            .node
            .ok_or(Errno::NOENT)
    }

    fn add_entry(&mut self, dir: u64, name: &str, ino: u64, now: u64) -> Result<(), Errno> {
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        let d = self.node_mut(dir);
        d.mtim = now;
        d.ctim = now;
        let n = self.node_mut(ino);
        n.nlink += 1;
        n.ctim = now;
        Ok(())
    }

    /// Creates an empty regular file `name` in `dir`, which must not have that entry.
    pub(crate) fn create_file(&mut self, dir: u64, name: &str, now: u64) -> Result<u64, Errno> {
        let readonly = self.node(dir).readonly;
        let ino = self.new_node(
            NodeKind::File {
                data: Arc::default(),
                modified: true,
                origin: None,
                unread: None,
            },
            now,
            readonly,
        );
        self.add_entry(dir, name, ino, now)?;
        Ok(ino)
    }

    pub(crate) fn create_dir(&mut self, dir: u64, name: &str, now: u64) -> Result<u64, Errno> {
        let readonly = self.node(dir).readonly;
        let ino = self.new_node(
            NodeKind::Dir {
                entries: BTreeMap::new(),
                parent: dir,
                unlisted: None,
            },
            now,
            readonly,
        );
        self.add_entry(dir, name, ino, now)?;
        Ok(ino)
    }

    pub(crate) fn create_symlink(
        &mut self,
        dir: u64,
        name: &str,
        target: &str,
        now: u64,
    ) -> Result<u64, Errno> {
        let readonly = self.node(dir).readonly;
        let ino = self.new_node(
            NodeKind::Symlink {
                target: target.to_owned(),
            },
            now,
            readonly,
        );
        self.add_entry(dir, name, ino, now)?;
        Ok(ino)
    }

    /// Adds a hard link `name` in `dir` to the existing non-directory `ino`.
    pub(crate) fn link(&mut self, dir: u64, name: &str, ino: u64, now: u64) -> Result<(), Errno> {
        self.add_entry(dir, name, ino, now)
    }

    /// Removes the entry `name` from `dir`, freeing its inode if nothing else holds it.
    pub(crate) fn unlink(&mut self, dir: u64, name: &str, now: u64) -> Result<u64, Errno> {
        let ino = self.entries_mut(dir)?.remove(name).ok_or(Errno::NOENT)?;
        let d = self.node_mut(dir);
        d.mtim = now;
        d.ctim = now;
        let n = self.node_mut(ino);
        n.nlink = n.nlink.saturating_sub(1);
        n.ctim = now;
        self.release_if_unused(ino);
        Ok(ino)
    }

    /// Whether `ancestor` is `dir` or one of its parents.
    pub(crate) fn is_ancestor(&self, ancestor: u64, mut dir: u64) -> bool {
        // Bounded, so that a corrupted parent chain cannot loop forever.
        for _ in 0..=self.nodes.len() {
            if dir == ancestor {
                return true;
            }
            let parent = self.parent_of(dir);
            if parent == dir || !self.is_live(parent) {
                return false;
            }
            dir = parent;
        }
        false
    }

    /// Whether every directory entry and parent names a live inode and the free list only holds empty slots
    /// (checked after decoding state that may be corrupted).
    pub(crate) fn entries_are_live(&self) -> bool {
        let nodes_ok = self.nodes.iter().flatten().all(|n| match &n.kind {
            NodeKind::Dir {
                entries,
                parent,
                unlisted,
            } => {
                self.is_live(*parent)
                    && entries.values().all(|&i| self.is_live(i))
                    && unlisted
                        .as_ref()
                        .is_none_or(|u| (u.src as usize) < self.sources.len())
            }
            NodeKind::File { unread, origin, .. } => unread
                .as_ref()
                .is_none_or(|u| (u.src as usize) < self.sources.len() && origin.is_some()),
            _ => true,
        });
        let free_ok = self
            .free
            .iter()
            .all(|&i| self.nodes.get(i as usize).is_some_and(Option::is_none));
        nodes_ok && free_ok
    }

    /// Moves entry `from_name` of `from_dir` to `to_name` in `to_dir`, replacing what is there (checks done by the caller).
    pub(crate) fn rename(
        &mut self,
        from_dir: u64,
        from_name: &str,
        to_dir: u64,
        to_name: &str,
        now: u64,
    ) -> Result<(), Errno> {
        let ino = *self.entries(from_dir)?.get(from_name).ok_or(Errno::NOENT)?;
        if self.entries(to_dir)?.contains_key(to_name) {
            self.unlink(to_dir, to_name, now)?;
        }
        self.entries_mut(from_dir)?.remove(from_name);
        self.entries_mut(to_dir)?.insert(to_name.to_owned(), ino);
        for d in [from_dir, to_dir] {
            let node = self.node_mut(d);
            node.mtim = now;
            node.ctim = now;
        }
        let node = self.node_mut(ino);
        node.ctim = now;
        if let NodeKind::Dir { parent, .. } = &mut node.kind {
            *parent = to_dir;
        }
        Ok(())
    }

    /// The contents of a file; `EIO` for one not read from the host yet (see [`Vfs::load_file`]).
    pub(crate) fn file_data(&self, ino: u64) -> Result<&Arc<Vec<u8>>, Errno> {
        match &self.node(ino).kind {
            NodeKind::File {
                unread: Some(_), ..
            } => Err(Errno::IO),
            NodeKind::File { data, .. } => Ok(data),
            NodeKind::Dir { .. } => Err(Errno::ISDIR),
            NodeKind::Symlink { .. } => Err(Errno::INVAL),
        }
    }

    /// Bytes of file contents the filesystem holds (every inode counted once, however many names it has).
    pub(crate) fn bytes_used(&self) -> u64 {
        self.used
    }

    /// Counts [`Vfs::bytes_used`] again from the inodes (after decoding state, which does not carry it).
    pub(crate) fn recount(&mut self) {
        self.used = self
            .nodes
            .iter()
            .flatten()
            .map(|n| match &n.kind {
                NodeKind::File { data, .. } => data.len() as u64,
                _ => 0,
            })
            .fold(0, u64::saturating_add);
    }

    /// Writes `bytes` at `offset` of a file, zero-filling a gap and growing it as needed; marks it modified and
    /// updates its times. `ENOSPC` when the filesystem would hold more than `fs_limit` bytes in all.
    pub(crate) fn write_file(
        &mut self,
        ino: u64,
        offset: u64,
        bytes: &[u8],
        fs_limit: u64,
        now: u64,
    ) -> Result<(), Errno> {
        let end = offset.checked_add(bytes.len() as u64).ok_or(Errno::FBIG)?;
        let len = self.node(ino).size().max(end);
        self.resize_file(ino, len, fs_limit, now)?;
        let data = self.file_data_mut(ino, now)?;
        let (start, end) = (
            usize::try_from(offset).map_err(|_| Errno::FBIG)?,
            usize::try_from(end).map_err(|_| Errno::FBIG)?,
        );
        data[start..end].copy_from_slice(bytes);
        Ok(())
    }

    /// Truncates or zero-extends a file to `len` bytes; marks it modified and updates its times. `ENOSPC` when
    /// the filesystem would hold more than `fs_limit` bytes in all.
    pub(crate) fn resize_file(
        &mut self,
        ino: u64,
        len: u64,
        fs_limit: u64,
        now: u64,
    ) -> Result<(), Errno> {
        let old = self.file_data(ino)?.len() as u64;
        if len > old && self.used.saturating_add(len - old) > fs_limit {
            return Err(Errno::NOSPC);
        }
        let new_len = usize::try_from(len).map_err(|_| Errno::FBIG)?;
        let data = self.file_data_mut(ino, now)?;
        if data.len() != new_len {
            data.resize(new_len, 0);
        }
        self.used = self.used.saturating_sub(old).saturating_add(len);
        Ok(())
    }

    /// The contents of a file for writing (copied first if shared); marks it modified and updates its times.
    fn file_data_mut(&mut self, ino: u64, now: u64) -> Result<&mut Vec<u8>, Errno> {
        let node = self.node_mut(ino);
        node.mtim = now;
        node.ctim = now;
        match &mut node.kind {
            NodeKind::File {
                unread: Some(_), ..
            } => Err(Errno::IO),
            NodeKind::File { data, modified, .. } => {
                *modified = true;
                Ok(Arc::make_mut(data))
            }
            NodeKind::Dir { .. } => Err(Errno::ISDIR),
            NodeKind::Symlink { .. } => Err(Errno::INVAL),
        }
    }

    /// Replaces a file's contents (the embedder's files: not held to the filesystem's limit).
    pub(crate) fn set_file_data(
        &mut self,
        ino: u64,
        bytes: Vec<u8>,
        now: u64,
    ) -> Result<(), Errno> {
        let new = bytes.len() as u64;
        let node = self.node_mut(ino);
        let old = match &mut node.kind {
            NodeKind::File {
                data,
                modified,
                unread,
                ..
            } => {
                let old = data.len() as u64;
                *data = Arc::new(bytes);
                *modified = true;
                *unread = None;
                old
            }
            NodeKind::Dir { .. } => return Err(Errno::ISDIR),
            NodeKind::Symlink { .. } => return Err(Errno::INVAL),
        };
        node.mtim = now;
        node.ctim = now;
        self.used = self.used.saturating_sub(old).saturating_add(new);
        Ok(())
    }

    /// Whether `dir` is a host directory whose entries have not been listed yet.
    pub(crate) fn is_unlisted(&self, dir: u64) -> bool {
        matches!(
            self.node(dir).kind,
            NodeKind::Dir {
                unlisted: Some(_),
                ..
            }
        )
    }

    /// Lists `dir` from the host if it is a host directory not listed yet (`EIO` if the host cannot list it or
    /// changed since it was last listed).
    pub(crate) fn list_dir(&mut self, dir: u64) -> Result<(), Errno> {
        self.list_dir_io(dir).map_err(|_| Errno::IO)
    }

    /// Reads a file's contents from the host if it was not read yet. `EFBIG` when it is larger than `limits.file`,
    /// `ENOSPC` when the filesystem would then hold more than `limits.total`, `EIO` when the host cannot read it
    /// or it is no longer what it was when its directory was listed (size, modification time) or when it was
    /// last read (contents).
    pub(crate) fn load_file(&mut self, ino: u64, limits: SizeLimits) -> Result<(), Errno> {
        let NodeKind::File {
            unread: Some(unread),
            origin: Some(rel),
            ..
        } = &self.node(ino).kind
        else {
            return Ok(());
        };
        let (unread, rel) = (unread.clone(), rel.clone());
        if unread.size > limits.file {
            return Err(Errno::FBIG);
        }
        if self.used.saturating_add(unread.size) > limits.total {
            return Err(Errno::NOSPC);
        }
        let source = self.sources.get(unread.src as usize).ok_or(Errno::IO)?;
        let base = source.bound.as_ref().ok_or(Errno::IO)?;
        let path = inside(base, &rel).map_err(|_| Errno::IO)?;
        let (ident, data) = read_host_file(&path).map_err(|_| Errno::IO)?;
        let expected_stat = matches!(ident, HostIdent::File { size, mtime, .. }
            if size == unread.size && mtime == unread.mtime);
        if !expected_stat || source.seen.get(&rel).is_some_and(|seen| *seen != ident) {
            return Err(Errno::IO);
        }
        let size = data.len() as u64;
        if let NodeKind::File {
            data: contents,
            unread,
            ..
        } = &mut self.node_mut(ino).kind
        {
            *contents = Arc::new(data);
            *unread = None;
        }
        self.used = self.used.saturating_add(size);
        self.sources[unread.src as usize].seen.insert(rel, ident);
        Ok(())
    }

    /// Makes the host directory `host` (absolute) the root of a new preopen read lazily from the host, and lists
    /// its top level; returns the source number and the root. Timestamps are the host's unless `fixed_time` is
    /// given (deterministic mode).
    pub(crate) fn add_source(
        &mut self,
        host: &Path,
        readonly: bool,
        fixed_time: Option<u64>,
    ) -> std::io::Result<(u32, u64)> {
        let meta = std::fs::metadata(host)?;
        if !meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        let src = u32::try_from(self.sources.len()).map_err(std::io::Error::other)?;
        let root = self.new_root(0, readonly);
        self.set_times_from(root, &meta, fixed_time);
        if let NodeKind::Dir { unlisted, .. } = &mut self.node_mut(root).kind {
            *unlisted = Some(Unlisted {
                src,
                rel: String::new(),
            });
        }
        self.sources.push(HostSource {
            recorded: host.to_path_buf(),
            fixed_time,
            imported: BTreeSet::new(),
            seen: BTreeMap::new(),
            bound: Some(host.to_path_buf()),
        });
        self.list_dir_io(root)?;
        Ok((src, root))
    }

    /// The host directories the filesystem reads from.
    pub(crate) fn sources(&self) -> &[HostSource] {
        &self.sources
    }

    /// Reads source `src` from the host directory `host` from now on, after checking that every file and
    /// directory of it read so far is still what it was then: an error names the first that is not.
    pub(crate) fn bind_source(&mut self, src: u32, host: &Path) -> Result<(), HostChange> {
        let source = self.sources.get(src as usize).ok_or_else(|| HostChange {
            path: host.to_path_buf(),
            why: "no such host directory in this state".into(),
        })?;
        // Files first: a changed file also changes the listing of its directory, and its name says more.
        let files = source
            .seen
            .iter()
            .filter(|(_, i)| matches!(i, HostIdent::File { .. }));
        let dirs = source
            .seen
            .iter()
            .filter(|(_, i)| matches!(i, HostIdent::Dir { .. }));
        for (rel, recorded) in files.chain(dirs) {
            let path = if rel.is_empty() {
                host.to_path_buf()
            } else {
                host.join(rel)
            };
            let found = inside(host, rel).and_then(|path| match recorded {
                HostIdent::File { .. } => read_host_file(&path).map(|(ident, _)| ident),
                HostIdent::Dir { .. } => read_listing(&path).map(|(ident, _)| ident),
            });
            let why = match found {
                Ok(ident) if ident == *recorded => continue,
                Ok(ident) => recorded.difference(&ident),
                Err(e) => format!("it can no longer be read ({e})"),
            };
            return Err(HostChange { path, why });
        }
        self.sources[src as usize].bound = Some(host.to_path_buf());
        Ok(())
    }

    /// Whether source `src` still has a file or directory not read from the host (so it needs a host directory).
    pub(crate) fn has_unread(&self, src: u32) -> bool {
        self.nodes.iter().flatten().any(|n| match &n.kind {
            NodeKind::File {
                unread: Some(u), ..
            } => u.src == src,
            NodeKind::Dir {
                unlisted: Some(u), ..
            } => u.src == src,
            _ => false,
        })
    }

    /// Host files and directories read so far (files read, directories listed), for tests.
    pub(crate) fn host_reads(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for ident in self.sources.iter().flat_map(|s| s.seen.values()) {
            match ident {
                HostIdent::File { .. } => counts.0 += 1,
                HostIdent::Dir { .. } => counts.1 += 1,
            }
        }
        counts
    }

    /// Number of live inodes, for tests.
    pub(crate) fn live_nodes(&self) -> usize {
        self.nodes.iter().flatten().count()
    }

    /// Reads from the host what write-back needs under `root`: every host directory no longer at the path it was
    /// listed from is listed (its whole host tree moves), and every unread file that is not at its own path or has
    /// more than one name is read. A host directory left where it was needs nothing: the host already has it.
    pub(crate) fn load_for_write_back(&mut self, root: u64) -> std::io::Result<()> {
        let mut stack = vec![(root, String::new())];
        let mut seen = BTreeSet::new();
        while let Some((dir, rel)) = stack.pop() {
            if !seen.insert(dir) {
                continue;
            }
            if let NodeKind::Dir {
                unlisted: Some(u), ..
            } = &self.node(dir).kind
                && u.rel != rel
            {
                self.list_dir_io(dir)?;
            }
            let entries: Vec<(String, u64)> = match &self.node(dir).kind {
                NodeKind::Dir { entries, .. } => {
                    entries.iter().map(|(n, &i)| (n.clone(), i)).collect()
                }
                _ => continue,
            };
            for (name, ino) in entries {
                let child = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                let node = self.node(ino);
                match &node.kind {
                    NodeKind::Dir { .. } => stack.push((ino, child)),
                    NodeKind::File {
                        unread: Some(_),
                        origin,
                        ..
                    } if origin.as_deref() != Some(child.as_str()) || node.nlink > 1 => {
                        let unlimited = SizeLimits {
                            file: u64::MAX,
                            total: u64::MAX,
                        };
                        self.load_file(ino, unlimited).map_err(|e| {
                            std::io::Error::other(format!(
                                "cannot read {child} from the host (errno {})",
                                e.0
                            ))
                        })?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Lists a host directory not listed yet: adds an entry for each of its host entries (files unread,
    /// directories unlisted, symlinks with their targets) and records what the listing was.
    fn list_dir_io(&mut self, dir: u64) -> std::io::Result<()> {
        let NodeKind::Dir {
            unlisted: Some(unlisted),
            ..
        } = &self.node(dir).kind
        else {
            return Ok(());
        };
        let Unlisted { src, rel } = unlisted.clone();
        let source = self
            .sources
            .get(src as usize)
            .ok_or_else(|| std::io::Error::other("no such host directory"))?;
        let base = source.bound.as_ref().ok_or_else(|| {
            std::io::Error::other(format!(
                "no host directory is bound for {}",
                source.recorded.display()
            ))
        })?;
        let host = inside(base, &rel)?;
        let fixed = source.fixed_time;
        let (ident, listing) = read_listing(&host)?;
        if source.seen.get(&rel).is_some_and(|seen| *seen != ident) {
            return Err(std::io::Error::other(format!(
                "{} changed since it was listed",
                host.display()
            )));
        }
        let readonly = self.node(dir).readonly;
        let mut imported = Vec::with_capacity(listing.len());
        for entry in listing {
            let exists = self
                .entries(dir)
                .map_err(|_| std::io::Error::other("not a directory"))?
                .contains_key(&entry.name);
            if exists {
                continue; // The guest's own entry of that name stays.
            }
            let child_rel = if rel.is_empty() {
                entry.name.clone()
            } else {
                format!("{rel}/{}", entry.name)
            };
            let kind = match entry.kind {
                HostKind::Dir => NodeKind::Dir {
                    entries: BTreeMap::new(),
                    parent: dir,
                    unlisted: Some(Unlisted {
                        src,
                        rel: child_rel.clone(),
                    }),
                },
                HostKind::File { size, mtime } => NodeKind::File {
                    data: Arc::default(),
                    modified: false,
                    origin: Some(child_rel.clone()),
                    unread: Some(Unread { src, size, mtime }),
                },
                HostKind::Symlink(target) => NodeKind::Symlink { target },
            };
            let ino = self.new_node(kind, 0, readonly);
            self.set_times_from(ino, &entry.meta, fixed);
            self.node_mut(ino).nlink = 1;
            if let NodeKind::Dir { entries, .. } = &mut self.node_mut(dir).kind {
                entries.insert(entry.name, ino);
            }
            imported.push(child_rel);
        }
        if let NodeKind::Dir { unlisted, .. } = &mut self.node_mut(dir).kind {
            *unlisted = None;
        }
        let source = &mut self.sources[src as usize];
        source.imported.extend(imported);
        source.seen.insert(rel, ident);
        Ok(())
    }

    fn set_times_from(&mut self, ino: u64, meta: &std::fs::Metadata, fixed: Option<u64>) {
        let ns = |t: std::io::Result<std::time::SystemTime>| fixed.unwrap_or_else(|| system_ns(t));
        let node = self.node_mut(ino);
        node.atim = ns(meta.accessed());
        node.mtim = ns(meta.modified());
        node.ctim = node.mtim;
    }
}

/// A host file not read yet: the host directory it lies in ([`Vfs::sources`]) and the size and modification
/// time its directory's listing gave (it must still have them when it is read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Unread {
    pub(crate) src: u32,
    pub(crate) size: u64,
    /// Nanoseconds since the Unix epoch, as the host gives them (never the virtual epoch).
    pub(crate) mtime: u64,
}

/// A host directory not listed yet: the host directory it lies in and its path relative to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Unlisted {
    pub(crate) src: u32,
    pub(crate) rel: String,
}

/// What a host file or directory was when the filesystem read it; checked again before a restored state reads
/// that host directory (and when a file or directory is read again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum HostIdent {
    /// A directory listed: a 64-bit hash (the first 8 bytes of SHA-256) of its entries in name order, each with
    /// its type, and the size and modification time of files and the target of symlinks.
    Dir { listing: u64 },
    /// A file read: its size, modification time (ns since the Unix epoch) and a 64-bit hash of its contents.
    File { size: u64, mtime: u64, hash: u64 },
}

impl HostIdent {
    /// How `now` differs from this identity, in words.
    fn difference(&self, now: &HostIdent) -> String {
        match (self, now) {
            (HostIdent::File { size: a, .. }, HostIdent::File { size: b, .. }) if a != b => {
                format!("its size is {b} bytes, the snapshot read {a}")
            }
            (HostIdent::File { hash: a, .. }, HostIdent::File { hash: b, .. }) if a != b => {
                "its contents differ from those the snapshot read".into()
            }
            (HostIdent::File { .. }, HostIdent::File { .. }) => {
                "its modification time differs from the one the snapshot read".into()
            }
            (HostIdent::Dir { .. }, HostIdent::Dir { .. }) => {
                "its entries (names, types, file sizes or times) differ from those the snapshot listed".into()
            }
            _ => "its type changed".into(),
        }
    }
}

/// A host directory a preopen reads from lazily. Equal to another with the same state wherever each is bound.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub(crate) struct HostSource {
    /// The host directory as resolved when the context was built (absolute); never read by itself after a
    /// restore (see [`Vfs::bind_source`]).
    pub(crate) recorded: PathBuf,
    /// Timestamps of its nodes (deterministic mode), instead of the host's.
    pub(crate) fixed_time: Option<u64>,
    /// Relative paths of the entries listed into the tree (write-back removes those the guest deleted).
    pub(crate) imported: BTreeSet<String>,
    /// What every host directory listed and file read was, by relative path (`""` is the top).
    pub(crate) seen: BTreeMap<String, HostIdent>,
    /// Where it is read from now: the builder's directory, or bound after a restore; never in encoded state.
    #[serde(skip)]
    pub(crate) bound: Option<PathBuf>,
}

impl PartialEq for HostSource {
    fn eq(&self, other: &Self) -> bool {
        self.recorded == other.recorded
            && self.fixed_time == other.fixed_time
            && self.imported == other.imported
            && self.seen == other.seen
    }
}

/// A host file or directory that is not what a restored state read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostChange {
    pub(crate) path: PathBuf,
    pub(crate) why: String,
}

/// Why [`Vfs::walk`] stopped.
enum Stop {
    Errno(Errno),
    /// It must look into this host directory, not listed yet.
    Unlisted(u64),
}

impl From<Errno> for Stop {
    fn from(e: Errno) -> Self {
        Stop::Errno(e)
    }
}

/// One entry of a host directory as listed.
struct HostEntry {
    name: String,
    kind: HostKind,
    meta: std::fs::Metadata,
}

enum HostKind {
    Dir,
    File { size: u64, mtime: u64 },
    Symlink(String),
}

/// The host path of `rel` (a relative path as the tree records it, which may come from a crafted snapshot) under
/// the host directory `base` (absolute, resolved): an error unless every component of `rel` is a plain name and
/// the directory holding it resolves, on the host, to `base` joined with its path — no `..`, and no host symlink
/// (one planted since the listing, say) leads the read out of the tree. The last component is never followed:
/// the callers read it without following it.
fn inside(base: &Path, rel: &str) -> std::io::Result<PathBuf> {
    if rel.is_empty() {
        return Ok(base.to_path_buf());
    }
    let plain = |c: &str| !c.is_empty() && c != "." && c != ".." && !c.contains('\0');
    if !rel.split('/').all(plain) {
        return Err(std::io::Error::other(format!(
            "{rel:?} is not a plain relative path"
        )));
    }
    let path = base.join(rel);
    let parent = path.parent().unwrap_or(base);
    if std::fs::canonicalize(parent)? != parent {
        return Err(std::io::Error::other(format!(
            "{} leads out of {}",
            parent.display(),
            base.display()
        )));
    }
    Ok(path)
}

/// Nanoseconds since the Unix epoch of a host timestamp (0 when the host has none).
pub(crate) fn system_ns(t: std::io::Result<std::time::SystemTime>) -> u64 {
    t.ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The first 8 bytes of the SHA-256 of `bytes`, little-endian: the same on every host.
fn hash64(bytes: &[u8]) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// Lists a host directory without following anything: its entries with UTF-8 names, in name order (devices,
/// sockets, FIFOs and names that are not UTF-8 are left out, as WASI cannot name them), and its identity.
fn read_listing(host: &Path) -> std::io::Result<(HostIdent, Vec<HostEntry>)> {
    // A directory itself, not a symlink to one (which may lead anywhere).
    if !std::fs::symlink_metadata(host)?.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    let mut names: Vec<String> = std::fs::read_dir(host)?
        .filter_map(|e| match e {
            Ok(e) => e.file_name().into_string().ok().map(Ok),
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()?;
    names.sort();
    let mut entries = Vec::with_capacity(names.len());
    let mut summary = Vec::new();
    for name in names {
        let path = host.join(&name);
        let meta = std::fs::symlink_metadata(&path)?;
        let kind = if meta.is_dir() {
            HostKind::Dir
        } else if meta.is_file() {
            HostKind::File {
                size: meta.len(),
                mtime: system_ns(meta.modified()),
            }
        } else if meta.file_type().is_symlink() {
            let Ok(target) = std::fs::read_link(&path)?.into_os_string().into_string() else {
                continue;
            };
            HostKind::Symlink(target)
        } else {
            continue;
        };
        summary.extend_from_slice(name.as_bytes());
        summary.push(0);
        match &kind {
            HostKind::Dir => summary.push(b'd'),
            HostKind::File { size, mtime } => {
                summary.push(b'f');
                summary.extend_from_slice(&size.to_le_bytes());
                summary.extend_from_slice(&mtime.to_le_bytes());
            }
            HostKind::Symlink(target) => {
                summary.push(b'l');
                summary.extend_from_slice(target.as_bytes());
                summary.push(0);
            }
        }
        entries.push(HostEntry { name, kind, meta });
    }
    Ok((
        HostIdent::Dir {
            listing: hash64(&summary),
        },
        entries,
    ))
}

/// Reads a host regular file (not through a symlink) and its identity.
fn read_host_file(path: &Path) -> std::io::Result<(HostIdent, Vec<u8>)> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let data = read_at_most(path, meta.len())?;
    let ident = HostIdent::File {
        size: data.len() as u64,
        mtime: system_ns(meta.modified()),
        hash: hash64(&data),
    };
    Ok((ident, data))
}

/// Largest sizes the filesystem accepts: of one file, and of all files together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SizeLimits {
    pub(crate) file: u64,
    pub(crate) total: u64,
}

/// Reads a file of `size` bytes (as its metadata said), never more: a file that grew meanwhile is an error.
fn read_at_most(path: &Path, size: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(size.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > size {
        return Err(std::io::Error::other(format!(
            "{} grew while it was read",
            path.display()
        )));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (Vfs, u64) {
        let mut vfs = Vfs::default();
        let root = vfs.new_root(0, false);
        let sub = vfs.create_dir(root, "sub", 0).expect("root is a directory");
        vfs.create_file(sub, "f", 0).expect("sub is a directory");
        vfs.create_symlink(root, "up", "..", 0)
            .expect("root is a directory");
        vfs.create_symlink(root, "tof", "sub/f", 0)
            .expect("root is a directory");
        vfs.create_symlink(root, "loop", "loop", 0)
            .expect("root is a directory");
        (vfs, root)
    }

    #[test]
    fn resolution_stays_inside_its_start() {
        let (vfs, root) = tree();
        assert_eq!(vfs.resolve_listed(root, "/etc", true), Err(Errno::PERM));
        assert_eq!(vfs.resolve_listed(root, "..", true), Err(Errno::PERM));
        assert_eq!(
            vfs.resolve_listed(root, "sub/../..", true),
            Err(Errno::PERM)
        );
        assert_eq!(vfs.resolve_listed(root, "up/x", true), Err(Errno::PERM));
        assert_eq!(vfs.resolve_listed(root, "loop", true), Err(Errno::LOOP));
        assert_eq!(
            vfs.resolve_listed(root, "sub/f/x", true),
            Err(Errno::NOTDIR)
        );
        assert_eq!(vfs.resolve_listed(root, "sub/f/", true), Err(Errno::NOTDIR));
        let f = vfs
            .lookup_listed(root, "sub/../sub/./f", true)
            .expect("f exists");
        assert_eq!(vfs.lookup_listed(root, "tof", true), Ok(f));
        assert_ne!(vfs.lookup_listed(root, "tof", false), Ok(f));
        let missing = vfs
            .resolve_listed(root, "sub/new", false)
            .expect("sub exists");
        assert_eq!(missing.node, None);
        assert_eq!(missing.name, "new");
    }

    #[test]
    fn recorded_host_paths_must_be_plain_names() {
        let base = Path::new("/nonexistent-capicola-base");
        for bad in ["..", "../x", "a/../b", "a//b", "./a", "a/", "/a", "a\0b"] {
            let error = inside(base, bad).expect_err(bad);
            assert!(error.to_string().contains("plain"), "{bad}: {error}");
        }
        assert_eq!(inside(base, "").ok(), Some(base.to_path_buf()));
    }

    #[test]
    fn an_unlisted_directory_stops_a_walk_and_is_not_found_without_listing() {
        let (mut vfs, root) = tree();
        let sub = vfs.lookup_listed(root, "sub", false).expect("sub exists");
        if let NodeKind::Dir { unlisted, .. } = &mut vfs.node_mut(sub).kind {
            *unlisted = Some(Unlisted {
                src: 0,
                rel: "sub".into(),
            });
        }
        assert_eq!(vfs.resolve_listed(root, "sub/f", false), Err(Errno::NOENT));
        // With no host directory to list it from, listing is EIO.
        assert_eq!(vfs.resolve(root, "sub/f", false), Err(Errno::IO));
        assert!(vfs.lookup_listed(root, "sub", false).is_ok());
    }

    #[test]
    fn inodes_are_freed_and_reused() {
        let (mut vfs, root) = tree();
        let sub = vfs.lookup_listed(root, "sub", false).expect("sub exists");
        let f = vfs.lookup_listed(sub, "f", false).expect("f exists");
        vfs.unlink(sub, "f", 1).expect("f exists");
        assert!(!vfs.is_live(f));
        let g = vfs.create_file(sub, "g", 2).expect("sub is a directory");
        assert_eq!(g, f);
    }
}
