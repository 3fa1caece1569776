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

    /// The contents of a file for writing (copied first if shared); marks it modified and updates its times.
    pub(crate) fn file_data_mut(&mut self, ino: u64, now: u64) -> Result<&mut Vec<u8>, Errno> {
        let node = self.node_mut(ino);
        node.mtim = now;
        node.ctim = now;
        match &mut node.kind {
            NodeKind::File { data, modified } => {
                *modified = true;
                Ok(Arc::make_mut(data))
            }
            NodeKind::Dir { .. } => Err(Errno::ISDIR),
            NodeKind::Symlink { .. } => Err(Errno::INVAL),
        }
    }

    /// Replaces a file's contents.
    pub(crate) fn set_file_data(
        &mut self,
        ino: u64,
        bytes: Vec<u8>,
        now: u64,
    ) -> Result<(), Errno> {
        let node = self.node_mut(ino);
        match &mut node.kind {
            NodeKind::File { data, modified } => {
                *data = Arc::new(bytes);
                *modified = true;
            }
            NodeKind::Dir { .. } => return Err(Errno::ISDIR),
            NodeKind::Symlink { .. } => return Err(Errno::INVAL),
        }
        node.mtim = now;
        node.ctim = now;
        Ok(())
    }

    /// Copies the host directory tree at `host` into a new root; returns the root and the relative paths copied.
    /// Timestamps are the host's unless `fixed_time` is given (deterministic mode).
    pub(crate) fn import(
        &mut self,
        host: &Path,
        readonly: bool,
        fixed_time: Option<u64>,
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
        self.import_into(root, host, "", readonly, fixed_time, &mut imported)?;
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
        readonly: bool,
        fixed: Option<u64>,
        imported: &mut BTreeSet<String>,
    ) -> std::io::Result<()> {
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
                NodeKind::File {
                    data: Arc::new(std::fs::read(&path)?),
                    modified: false,
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
            imported.insert(child_rel.clone());
            if is_dir {
                self.import_into(ino, &path, &child_rel, readonly, fixed, imported)?;
            }
        }
        Ok(())
    }

    /// Writes the tree under `root` to the host directory `host`: creates directories and symlinks, writes
    /// modified or new files, and removes host entries that were copied in (`imported`) but are gone here.
    pub(crate) fn export(
        &self,
        root: u64,
        host: &Path,
        imported: &BTreeSet<String>,
    ) -> std::io::Result<()> {
        // Removals first, deepest paths first, so that a name whose type changed can be recreated.
        let mut gone: Vec<&String> = imported
            .iter()
            .filter(|rel| {
                self.resolve(root, rel, false)
                    .ok()
                    .and_then(|l| l.node)
                    .is_none()
            })
            .collect();
        gone.sort_by_key(|rel| std::cmp::Reverse(rel.matches('/').count()));
        for rel in gone {
            remove_host_path(&host.join(rel))?;
        }
        self.export_dir(root, host, "", imported)
    }

    fn export_dir(
        &self,
        dir: u64,
        host: &Path,
        rel: &str,
        imported: &BTreeSet<String>,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(host)?;
        let entries = self
            .entries(dir)
            .map_err(|_| std::io::Error::other("not a directory"))?;
        for (name, &ino) in entries {
            let path = host.join(name);
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let existing = std::fs::symlink_metadata(&path).ok();
            match &self.node(ino).kind {
                NodeKind::Dir { .. } => {
                    if existing.as_ref().is_some_and(|m| !m.is_dir()) {
                        remove_host_path(&path)?;
                    }
                    self.export_dir(ino, &path, &child_rel, imported)?;
                }
                NodeKind::File { data, modified } => {
                    let present = existing.as_ref().is_some_and(|m| m.is_file());
                    if existing.is_some() && !present {
                        remove_host_path(&path)?;
                    }
                    if *modified || !present || !imported.contains(&child_rel) {
                        std::fs::write(&path, data.as_slice())?;
                    }
                }
                NodeKind::Symlink { target } => {
                    let same = std::fs::read_link(&path)
                        .ok()
                        .is_some_and(|t| t.to_str() == Some(target.as_str()));
                    if !same {
                        if existing.is_some() {
                            remove_host_path(&path)?;
                        }
                        make_host_symlink(target, &path)?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn remove_host_path(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn make_host_symlink(target: &str, path: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn make_host_symlink(_target: &str, _path: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "symlinks are written back only on Unix hosts",
    ))
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
