//! Write-back of a `--dir-rw` preopen to its host directory, all or nothing: the guest's tree is checked and planned against the host, every new or changed entry is staged inside the directory, and only then are the staged entries renamed into place and the deleted ones removed.
//!
//! Nothing here trusts the state it is given (it may come from a crafted snapshot): every entry name and every
//! path in the list of copied-in files is checked to be a plain name, every host path written is checked, just
//! before it is written, to lie inside the host directory after the host resolves it, and a symlink is written
//! only when its target stays inside the directory (see [`check_symlink_target`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::WasiError;
use super::vfs::{NodeKind, Vfs};

/// Longest host path written, in bytes, terminating NUL included (Linux's `PATH_MAX`).
const PATH_MAX: usize = 4096;
/// Longest name of one host directory entry, in bytes (Linux's `NAME_MAX`).
const NAME_MAX: usize = 255;
/// Prefix of the hidden directory that holds staged entries while a write-back is under way.
const STAGING_PREFIX: &str = ".capicola-write-back-";

/// What the guest left at one path of the preopen.
enum Want<'a> {
    Dir,
    /// A regular file, its inode in the guest's tree (names of one inode are hard links of one another), and
    /// whether the host's copy is already right (copied in from this very path, unmodified, still a regular
    /// file on the host, and not hard-linked in the guest).
    File {
        ino: u64,
        data: &'a [u8],
        current: bool,
    },
    /// A symlink and whether the host already has this very link.
    Symlink {
        target: &'a str,
        current: bool,
    },
}

/// Checks that `name` can be one entry of a host directory: not empty, not `.` or `..`, no `/`, no NUL, at most
/// `NAME_MAX` bytes.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty name".into());
    }
    if name == "." || name == ".." {
        return Err(format!("the name `{name}`"));
    }
    if name.contains('/') {
        return Err(format!("the name {name:?}, which holds a `/`"));
    }
    if name.contains('\0') {
        return Err(format!("the name {name:?}, which holds a NUL byte"));
    }
    if name.len() > NAME_MAX {
        return Err(format!(
            "a name of {} bytes (the host allows {NAME_MAX})",
            name.len()
        ));
    }
    Ok(())
}

/// Checks that a relative path (as the list of copied-in files holds them) is plain names joined by `/`.
fn check_rel(rel: &str) -> Result<(), String> {
    rel.split('/').try_for_each(check_name)
}

/// Checks that a symlink at `link_rel` (relative to the preopen) may be written back: its target must be relative
/// and, read from the link's directory, stay inside the preopen without help from other links. That holds when
/// the target is some `..` components (no more than the directories above the link inside the preopen) followed
/// by names only (`.` may appear anywhere, `..` never after a name: a name may itself be a symlink, so `name/..`
/// need not lead back). Absolute targets (`/etc`) are refused.
pub(crate) fn check_symlink_target(link_rel: &str, target: &str) -> Result<(), String> {
    if target.is_empty() {
        return Err("its target is empty".into());
    }
    if target.contains('\0') {
        return Err(format!("its target {target:?} holds a NUL byte"));
    }
    if target.starts_with('/') {
        return Err(format!(
            "its target {target} is absolute: only relative targets inside the directory are written back"
        ));
    }
    if target.len() >= PATH_MAX {
        return Err(format!("its target is {} bytes long", target.len()));
    }
    let depth = link_rel.matches('/').count();
    let mut ups = 0;
    let mut named = false;
    for comp in target.split('/') {
        match comp {
            "" | "." => {}
            ".." if named => {
                return Err(format!(
                    "its target {target} has `..` after a name: only leading `..` are written back"
                ));
            }
            ".." => ups += 1,
            name => {
                check_name(name)?;
                named = true;
            }
        }
    }
    if ups > depth {
        return Err(format!("its target {target} leads out of the directory"));
    }
    Ok(())
}

/// The host's entry at `path`, without following a final symlink (`None` when there is none).
fn host_entry(path: &Path) -> std::io::Result<Option<std::fs::Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Fails unless the directory holding `rel` resolves, on the host, to `root` joined with its relative path: no
/// symlink (planted on the host, or anything else) leads a write elsewhere.
fn check_parent_inside(root: &Path, rel: &str) -> Result<(), WasiError> {
    let parent = match rel.rsplit_once('/') {
        Some((parent, _)) => root.join(parent),
        None => root.to_path_buf(),
    };
    let resolved = std::fs::canonicalize(&parent).map_err(|source| WasiError::Io {
        action: "cannot resolve",
        path: parent.clone(),
        source,
    })?;
    if resolved != parent {
        return Err(WasiError::WriteBack {
            host: root.to_path_buf(),
            reason: format!(
                "{} resolves to {}, outside the directory",
                parent.display(),
                resolved.display()
            ),
        });
    }
    Ok(())
}

/// The write-back of one preopen, planned.
struct Plan<'a> {
    root: PathBuf,
    /// Directories to create where missing, parents first.
    dirs: Vec<String>,
    /// Files and symlinks to stage and rename into place.
    writes: Vec<(String, Want<'a>)>,
    /// Copied-in paths the guest's tree no longer has, deepest first.
    removals: Vec<String>,
    /// Names at the top of the preopen (the staging directory must not take one).
    top_names: BTreeSet<String>,
}

/// One read-write preopen to write back: its root inode, the host directory, and the paths copied in from it.
pub(crate) struct Target<'a> {
    pub(crate) root: u64,
    pub(crate) host: &'a Path,
    pub(crate) imported: &'a BTreeSet<String>,
}

/// Writes the trees of `targets` back to their host directories. Every directory is checked, planned and staged
/// before any is changed: an error until then leaves every host directory as it was.
pub(crate) fn write_back(vfs: &Vfs, targets: &[Target<'_>]) -> Result<(), WasiError> {
    let mut prepared = Vec::with_capacity(targets.len());
    for target in targets {
        match prepare(vfs, target) {
            Ok(ready) => prepared.push(ready),
            Err(e) => {
                for (_, staging, _) in prepared {
                    staging.remove();
                }
                return Err(e);
            }
        }
    }
    let mut result = Ok(());
    for (plan, staging, staged) in prepared {
        if result.is_ok() {
            result = apply(&plan, &staged);
        }
        staging.remove();
    }
    result
}

/// Checks, plans and stages the write-back of one preopen.
fn prepare<'a>(
    vfs: &'a Vfs,
    target: &Target<'_>,
) -> Result<(Plan<'a>, Staging, Vec<PathBuf>), WasiError> {
    let host = target.host;
    let bad = |reason: String| WasiError::WriteBack {
        host: host.to_path_buf(),
        reason,
    };
    let canonical = std::fs::canonicalize(host).map_err(|source| WasiError::Io {
        action: "cannot resolve",
        path: host.to_path_buf(),
        source,
    })?;
    if !canonical.is_dir() {
        return Err(bad("not a directory".into()));
    }
    for rel in target.imported {
        check_rel(rel)
            .map_err(|why| bad(format!("the list of copied-in files holds {why} ({rel:?})")))?;
    }
    let wants = collect(vfs, target.root, &canonical).map_err(bad)?;
    let plan = plan(&canonical, wants, target.imported);
    let staging = Staging::create(&canonical, &plan.top_names)?;
    match staging.stage(&plan) {
        Ok(staged) => Ok((plan, staging, staged)),
        Err(e) => {
            staging.remove();
            Err(e)
        }
    }
}

/// Walks the guest's tree: what it left at each path, every name and symlink checked and every path's length
/// too. Each directory is visited once (a corrupted tree that reaches one twice is an error).
fn collect<'a>(vfs: &'a Vfs, root: u64, host: &Path) -> Result<BTreeMap<String, Want<'a>>, String> {
    let mut wants = BTreeMap::new();
    let mut seen = BTreeSet::from([root]);
    // The host directory's own path counts towards `PATH_MAX`, with a `/` before each name.
    let base = host.as_os_str().len();
    let mut stack = vec![(root, String::new(), true)];
    while let Some((dir, rel, host_is_dir)) = stack.pop() {
        let entries = vfs
            .entries(dir)
            .map_err(|_| format!("{rel:?} is not a directory"))?;
        for (name, &ino) in entries {
            check_name(name).map_err(|why| format!("an entry in {rel:?} has {why}"))?;
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if base + 1 + child.len() >= PATH_MAX {
                return Err(format!(
                    "{}... nests too deep: the host path would be over {PATH_MAX} bytes",
                    child.chars().take(64).collect::<String>()
                ));
            }
            let path = host.join(&child);
            let existing = if host_is_dir {
                host_entry(&path).map_err(|e| format!("cannot inspect {}: {e}", path.display()))?
            } else {
                None
            };
            let want = match &vfs.node(ino).kind {
                NodeKind::Dir { .. } => {
                    if !seen.insert(ino) {
                        return Err(format!("directory {child:?} is reached twice"));
                    }
                    let is_dir = existing.as_ref().is_some_and(std::fs::Metadata::is_dir);
                    stack.push((ino, child.clone(), is_dir));
                    Want::Dir
                }
                NodeKind::File {
                    data,
                    modified,
                    origin,
                    unread,
                } => {
                    // Every name of a hard-linked file is written, so that the host's names are linked too.
                    let current = !modified
                        && vfs.node(ino).nlink <= 1
                        && origin.as_deref() == Some(child.as_str())
                        && existing.as_ref().is_some_and(std::fs::Metadata::is_file);
                    if !current && unread.is_some() {
                        return Err(format!(
                            "{child} was never read from the host and is no longer there as a file"
                        ));
                    }
                    Want::File {
                        ino,
                        data: data.as_slice(),
                        current,
                    }
                }
                NodeKind::Symlink { target } => {
                    let current = existing
                        .as_ref()
                        .is_some_and(|m| m.file_type().is_symlink())
                        && std::fs::read_link(&path)
                            .ok()
                            .is_some_and(|t| t.to_str() == Some(target.as_str()));
                    if !current {
                        check_symlink_target(&child, target)
                            .map_err(|why| format!("the symlink {child} is refused: {why}"))?;
                    }
                    Want::Symlink {
                        target: target.as_str(),
                        current,
                    }
                }
            };
            wants.insert(child, want);
        }
    }
    Ok(wants)
}

fn plan<'a>(
    root: &Path,
    wants: BTreeMap<String, Want<'a>>,
    imported: &BTreeSet<String>,
) -> Plan<'a> {
    let dirs = wants
        .iter()
        .filter(|(_, w)| matches!(w, Want::Dir))
        .map(|(rel, _)| rel.clone())
        .collect();
    let mut removals: Vec<String> = imported
        .iter()
        .filter(|rel| !wants.contains_key(*rel))
        .cloned()
        .collect();
    removals.sort_by_key(|rel| std::cmp::Reverse(rel.matches('/').count()));
    let top_names = wants
        .keys()
        .chain(imported)
        .filter(|rel| !rel.contains('/'))
        .cloned()
        .collect();
    let writes = wants
        .into_iter()
        .filter(|(_, w)| match w {
            Want::Dir => false,
            Want::File { current, .. } | Want::Symlink { current, .. } => !current,
        })
        .collect();
    Plan {
        root: root.to_path_buf(),
        dirs,
        writes,
        removals,
        top_names,
    }
}

/// The hidden directory inside the host directory that holds staged entries.
struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Creates a staging directory whose name no entry of the guest's tree or the copied-in list takes.
    fn create(root: &Path, taken: &BTreeSet<String>) -> Result<Staging, WasiError> {
        let pid = std::process::id();
        for n in 0..1000u32 {
            let name = format!("{STAGING_PREFIX}{pid}-{n}");
            if taken.contains(&name) {
                continue;
            }
            let dir = root.join(&name);
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(Staging { dir }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(WasiError::Io {
                        action: "cannot create the staging directory",
                        path: dir,
                        source,
                    });
                }
            }
        }
        Err(WasiError::WriteBack {
            host: root.to_path_buf(),
            reason: "no free name for the staging directory".into(),
        })
    }

    /// Writes every planned file and symlink into the staging directory; returns their staged paths, in plan order.
    /// The second and later names of one guest file are staged as host hard links of the first (a copy where
    /// the host cannot link), so they stay one file once renamed into place.
    fn stage(&self, plan: &Plan<'_>) -> Result<Vec<PathBuf>, WasiError> {
        let mut staged = Vec::with_capacity(plan.writes.len());
        let mut first_of: BTreeMap<u64, PathBuf> = BTreeMap::new();
        for (n, (_, want)) in plan.writes.iter().enumerate() {
            let path = self.dir.join(n.to_string());
            let io = |source| WasiError::Io {
                action: "cannot stage",
                path: path.clone(),
                source,
            };
            match want {
                Want::File { ino, data, .. } => {
                    let linked = first_of
                        .get(ino)
                        .is_some_and(|first| std::fs::hard_link(first, &path).is_ok());
                    if !linked {
                        let mut file = std::fs::File::create_new(&path).map_err(io)?;
                        file.write_all(data).map_err(io)?;
                        first_of.entry(*ino).or_insert_with(|| path.clone());
                    }
                }
                Want::Symlink { target, .. } => make_host_symlink(target, &path).map_err(io)?,
                Want::Dir => {}
            }
            staged.push(path);
        }
        Ok(staged)
    }

    fn remove(self) {
        // Best effort: the staging directory holds nothing the guest's tree needs any more.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Puts the staged entries in place: directories first (parents first), then files and symlinks renamed over
/// what is there, then the removals (deepest first).
fn apply(plan: &Plan<'_>, staged: &[PathBuf]) -> Result<(), WasiError> {
    let root = &plan.root;
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| WasiError::Io {
            action,
            path,
            source,
        }
    };
    for rel in &plan.dirs {
        check_parent_inside(root, rel)?;
        let path = root.join(rel);
        match host_entry(&path).map_err(io("cannot inspect", &path))? {
            Some(meta) if meta.is_dir() => {}
            Some(_) => {
                std::fs::remove_file(&path).map_err(io("cannot remove", &path))?;
                std::fs::create_dir(&path).map_err(io("cannot create", &path))?;
            }
            None => std::fs::create_dir(&path).map_err(io("cannot create", &path))?,
        }
    }
    for ((rel, _), from) in plan.writes.iter().zip(staged) {
        check_parent_inside(root, rel)?;
        let path = root.join(rel);
        if host_entry(&path)
            .map_err(io("cannot inspect", &path))?
            .is_some_and(|m| m.is_dir())
        {
            std::fs::remove_dir_all(&path).map_err(io("cannot remove", &path))?;
        }
        std::fs::rename(from, &path).map_err(io("cannot write", &path))?;
    }
    for rel in &plan.removals {
        let path = root.join(rel);
        let Some(meta) = host_entry(&path).map_err(io("cannot inspect", &path))? else {
            continue;
        };
        check_parent_inside(root, rel)?;
        if meta.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io("cannot remove", &path))?;
        } else {
            std::fs::remove_file(&path).map_err(io("cannot remove", &path))?;
        }
    }
    Ok(())
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

    #[test]
    fn names_and_symlink_targets_are_checked() {
        for bad in ["", ".", "..", "a/b", "a\0b", &"x".repeat(256)] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_rel("a/b/c").is_ok());
        assert!(check_rel("../victim").is_err());
        assert!(check_rel("/abs").is_err());
        for (link, target) in [
            ("l", "f"),
            ("d/l", "../f"),
            ("d/e/l", "../../f/g"),
            ("d/l", "./x/./y"),
        ] {
            assert_eq!(
                check_symlink_target(link, target),
                Ok(()),
                "{link} -> {target}"
            );
        }
        for (link, target) in [
            ("l", "/etc"),
            ("l", ".."),
            ("d/l", "../.."),
            ("l", "x/.."),
            ("l", "a\0b"),
            ("l", ""),
        ] {
            assert!(
                check_symlink_target(link, target).is_err(),
                "{link} -> {target} accepted"
            );
        }
    }
}
