//! The virtual filesystem: an in-memory tree of directories, regular files and symlinks held as plain data, with capability-style path resolution that never leaves the directory it starts from.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
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
        /// Written since it was copied in from the host (write-back only writes these).
        modified: bool,
        /// The path, relative to its preopen, this file was copied in from (`None` for a file the guest
        /// created): write-back writes a file whose path is no longer this one, modified or not.
        #[serde(default)]
        origin: Option<String>,
    },
    /// A directory: entries in name order (so `fd_readdir` is deterministic) and its parent (itself for a root).
    Dir {
        entries: BTreeMap<String, u64>,
        parent: u64,
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
            NodeKind::File { data, .. } => data.len() as u64,
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
    /// component's only when `follow` is set or the path ends in `/`.
    pub(crate) fn resolve(&self, start: u64, path: &str, follow: bool) -> Result<Lookup, Errno> {
        if path.is_empty() {
            return Err(Errno::NOENT);
        }
        if path.starts_with('/') {
            return Err(Errno::PERM);
        }
        if path.contains('\0') {
            return Err(Errno::INVAL);
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
                        return Err(Errno::PERM);
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
                return Err(Errno::NAMETOOLONG);
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
                return Err(Errno::NOENT);
            };
            match &self.node(ino).kind {
                NodeKind::Symlink { target } if !last || follow || trailing_slash => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::LOOP);
                    }
                    if target.starts_with('/') {
                        return Err(Errno::PERM);
                    }
                    if target.is_empty() {
                        return Err(Errno::NOENT);
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
                        return Err(Errno::NOTDIR);
                    }
                    return Ok(Lookup {
                        parent: dir,
                        name: comp,
                        node: Some(ino),
                        trailing_slash,
                    });
                }
                _ => return Err(Errno::NOTDIR),
            }
        }
    }

    /// Resolves a path that must exist.
    pub(crate) fn lookup(&self, start: u64, path: &str, follow: bool) -> Result<u64, Errno> {
        self.resolve(start, path, follow)?.node.ok_or(Errno::NOENT)
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
            NodeKind::Dir { entries, parent } => {
                self.is_live(*parent) && entries.values().all(|&i| self.is_live(i))
            }
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

    pub(crate) fn file_data(&self, ino: u64) -> Result<&Arc<Vec<u8>>, Errno> {
        match &self.node(ino).kind {
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
            NodeKind::File { data, modified, .. } => {
                let old = data.len() as u64;
                *data = Arc::new(bytes);
                *modified = true;
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

    /// Copies the host directory tree at `host` into a new root; returns the root and the relative paths copied.
    /// Timestamps are the host's unless `fixed_time` is given (deterministic mode). A file larger than
    /// `limits.file` bytes, or a tree that would make the filesystem hold more than `limits.total`, is an error
    /// found from the sizes before the contents are read.
    pub(crate) fn import(
        &mut self,
        host: &Path,
        readonly: bool,
        fixed_time: Option<u64>,
        limits: SizeLimits,
    ) -> std::io::Result<(u64, BTreeSet<String>)> {
        let meta = std::fs::metadata(host)?;
        if !meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        let root = self.new_root(0, readonly);
        self.set_times_from(root, &meta, fixed_time);
        let mut imported = BTreeSet::new();
        let mut walk = ImportWalk {
            readonly,
            fixed: fixed_time,
            limits,
            imported: &mut imported,
        };
        self.import_into(root, host, "", &mut walk)?;
        Ok((root, imported))
    }

    fn set_times_from(&mut self, ino: u64, meta: &std::fs::Metadata, fixed: Option<u64>) {
        let ns = |t: std::io::Result<std::time::SystemTime>| {
            fixed.unwrap_or_else(|| {
                t.ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            })
        };
        let node = self.node_mut(ino);
        node.atim = ns(meta.accessed());
        node.mtim = ns(meta.modified());
        node.ctim = node.mtim;
    }

    fn import_into(
        &mut self,
        dir: u64,
        host: &Path,
        rel: &str,
        walk: &mut ImportWalk<'_>,
    ) -> std::io::Result<()> {
        let (readonly, fixed) = (walk.readonly, walk.fixed);
        let mut names: Vec<_> = std::fs::read_dir(host)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort();
        for name in names {
            let Some(name) = name.to_str().map(str::to_owned) else {
                continue; // Not representable in WASI paths, which are UTF-8.
            };
            let path = host.join(&name);
            let meta = std::fs::symlink_metadata(&path)?;
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let kind = if meta.is_dir() {
                NodeKind::Dir {
                    entries: BTreeMap::new(),
                    parent: dir,
                }
            } else if meta.is_file() {
                let size = meta.len();
                if size > walk.limits.file {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::FileTooLarge,
                        format!(
                            "{child_rel} is {size} bytes, over the limit of one file ({} bytes)",
                            walk.limits.file
                        ),
                    ));
                }
                if self.used.saturating_add(size) > walk.limits.total {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::StorageFull,
                        format!(
                            "the files copied in would hold more than {} bytes, the limit of the virtual \
                             filesystem (reached at {child_rel})",
                            walk.limits.total
                        ),
                    ));
                }
                let data = read_at_most(&path, size)?;
                self.used = self.used.saturating_add(data.len() as u64);
                NodeKind::File {
                    data: Arc::new(data),
                    modified: false,
                    origin: Some(child_rel.clone()),
                }
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path)?;
                let Some(target) = target.to_str() else {
                    continue;
                };
                NodeKind::Symlink {
                    target: target.to_owned(),
                }
            } else {
                continue; // Devices, sockets and FIFOs are not copied.
            };
            let is_dir = meta.is_dir();
            let ino = self.new_node(kind, 0, readonly);
            self.set_times_from(ino, &meta, fixed);
            self.entries_mut(dir)
                .map_err(|_| std::io::Error::other("parent is not a directory"))?
                .insert(name, ino);
            self.node_mut(ino).nlink = 1;
            walk.imported.insert(child_rel.clone());
            if is_dir {
                self.import_into(ino, &path, &child_rel, walk)?;
            }
        }
        Ok(())
    }
}

/// Largest sizes the filesystem accepts: of one file, and of all files together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SizeLimits {
    pub(crate) file: u64,
    pub(crate) total: u64,
}

/// What stays the same while one host tree is copied in.
struct ImportWalk<'a> {
    readonly: bool,
    fixed: Option<u64>,
    limits: SizeLimits,
    imported: &'a mut BTreeSet<String>,
}

/// Reads a file of `size` bytes (as its metadata said), never more: a file that grew meanwhile is an error.
fn read_at_most(path: &Path, size: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(size.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > size {
        return Err(std::io::Error::other(format!(
            "{} grew while it was copied in",
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
        assert_eq!(vfs.resolve(root, "/etc", true), Err(Errno::PERM));
        assert_eq!(vfs.resolve(root, "..", true), Err(Errno::PERM));
        assert_eq!(vfs.resolve(root, "sub/../..", true), Err(Errno::PERM));
        assert_eq!(vfs.resolve(root, "up/x", true), Err(Errno::PERM));
        assert_eq!(vfs.resolve(root, "loop", true), Err(Errno::LOOP));
        assert_eq!(vfs.resolve(root, "sub/f/x", true), Err(Errno::NOTDIR));
        assert_eq!(vfs.resolve(root, "sub/f/", true), Err(Errno::NOTDIR));
        let f = vfs.lookup(root, "sub/../sub/./f", true).expect("f exists");
        assert_eq!(vfs.lookup(root, "tof", true), Ok(f));
        assert_ne!(vfs.lookup(root, "tof", false), Ok(f));
        let missing = vfs.resolve(root, "sub/new", false).expect("sub exists");
        assert_eq!(missing.node, None);
        assert_eq!(missing.name, "new");
    }

    #[test]
    fn inodes_are_freed_and_reused() {
        let (mut vfs, root) = tree();
        let sub = vfs.lookup(root, "sub", false).expect("sub exists");
        let f = vfs.lookup(sub, "f", false).expect("f exists");
        vfs.unlink(sub, "f", 1).expect("f exists");
        assert!(!vfs.is_live(f));
        let g = vfs.create_file(sub, "g", 2).expect("sub is a directory");
        assert_eq!(g, f);
    }
}
