//! The 46 preview-1 functions: decoding a host call's arguments, doing the work on the [`WasiCtx`], and writing results into guest memory.

use std::io::IsTerminal;

use super::abi::{
    Abi, Errno, WasiFunc, clockid, event, fdflags, filetype, fstflags, lookupflags, oflags, rights,
    size, whence,
};
use super::ctx::{Fd, FdKind, InputSource, NS_PER_FUEL, OutputMode, Stdin, WasiCtx};
use super::mem::{Guard, GuestMem, iovecs_len};
use super::vfs::{Lookup, NodeKind};
use crate::HostAnswer;
use crate::{HostCall, Memory, Store, TrapKind, Val, ValType};

type WasiResult<T = ()> = Result<T, Errno>;

/// Fuel every WASI call costs, whatever it does.
pub(crate) const CALL_FUEL: u64 = 10;
/// Bytes of work (read or written in guest memory or in a file) that cost one more unit of fuel.
pub(crate) const BYTES_PER_FUEL: u64 = 16;
/// Bytes of work one directory entry passed over by `fd_readdir` counts as.
const ENTRY_BYTES: u64 = BYTES_PER_FUEL;

/// The arguments of a WASI call, checked against the function's parameter types.
struct Args<'a> {
    vals: &'a [Val],
    /// The ABI the function was imported under, for the layouts and values in which preview 0 differs.
    abi: Abi,
}

impl<'a> Args<'a> {
    fn new(func: WasiFunc, abi: Abi, vals: &'a [Val]) -> Result<Self, TrapKind> {
        let types: Vec<ValType> = vals.iter().map(Val::ty).collect();
        if types != func.params() {
            return Err(TrapKind::Host(format!(
                "WASI function {} called with arguments of types {types:?}",
                func.name()
            )));
        }
        Ok(Args { vals, abi })
    }

    /// An `i32` argument as the unsigned value WASI means (pointer, length, fd, flags).
    fn u32(&self, n: usize) -> u32 {
        match self.vals.get(n) {
            Some(Val::I32(v)) => *v as u32,
            _ => 0,
        }
    }

    fn u64(&self, n: usize) -> u64 {
        match self.vals.get(n) {
            Some(Val::I64(v)) => *v as u64,
            _ => 0,
        }
    }

    fn i64(&self, n: usize) -> i64 {
        self.u64(n) as i64
    }
}

/// Reads a string from guest memory without a mutable borrow (for `is_input_read`).
fn peek_str(mem: &[u8], ptr: u32, len: u32) -> Option<&str> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize)?;
    std::str::from_utf8(mem.get(start..end)?).ok()
}

/// Fails unless `fd` holds `right`: reading and writing without the right is `EBADF` (as wasmtime answers),
/// anything else `ENOTCAPABLE`.
fn need(fd: &Fd, right: u64) -> WasiResult {
    if fd.base & right == right {
        Ok(())
    } else if right & (rights::FD_READ | rights::FD_WRITE) != 0 {
        Err(Errno::BADF)
    } else {
        Err(Errno::NOTCAPABLE)
    }
}

/// Both "set to this time" and "set to now" for one timestamp is `EINVAL`.
fn check_fstflags(flags: u16) -> WasiResult {
    let both = |set: u16, now: u16| flags & set != 0 && flags & now != 0;
    if both(fstflags::ATIM, fstflags::ATIM_NOW) || both(fstflags::MTIM, fstflags::MTIM_NOW) {
        Err(Errno::INVAL)
    } else {
        Ok(())
    }
}

/// What a `filestat` tells about a file.
struct Filestat {
    ino: u64,
    ty: u8,
    nlink: u64,
    size: u64,
    times: [u64; 3],
}

impl Filestat {
    /// Writes it at `ptr` in `abi`'s layout: `dev`, `ino`, `filetype`, then `nlink` (64 bits at 24 in preview 1,
    /// 32 bits at 20 in preview 0), `size` and the three times.
    fn write(&self, m: &mut GuestMem<'_>, ptr: u32, abi: Abi) -> WasiResult {
        let mut b = [0u8; size::FILESTAT];
        b[0..8].copy_from_slice(&1u64.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.ty;
        let rest = match abi {
            Abi::Preview1 => {
                b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
                32
            }
            Abi::Preview0 => {
                let nlink = u32::try_from(self.nlink).unwrap_or(u32::MAX);
                b[20..24].copy_from_slice(&nlink.to_le_bytes());
                24
            }
        };
        b[rest..rest + 8].copy_from_slice(&self.size.to_le_bytes());
        for (i, t) in self.times.iter().enumerate() {
            let at = rest + 8 + 8 * i;
            b[at..at + 8].copy_from_slice(&t.to_le_bytes());
        }
        m.write(ptr, &b[..abi.filestat_size()])
    }
}

/// What one `poll_oneoff` subscription waits for.
enum Sub {
    /// A clock reaching this monotonic time.
    Clock { deadline: u64 },
    /// A descriptor becoming readable or writable.
    Fd { fd: u32, ty: u8 },
}

impl WasiCtx {
    /// Answers one WASI host call: reads its arguments, does the work on this context and guest memory
    /// `memory`, and tells how to resume the guest. Bad pointers are `EFAULT`; nothing here panics on guest input.
    pub fn handle(&mut self, store: &mut Store, memory: Memory, call: &HostCall) -> HostAnswer {
        let Some((func, abi)) = WasiFunc::decode(call.host_id) else {
            return HostAnswer::Trap(TrapKind::Host(format!(
                "host function {:#x} is not a WASI function",
                call.host_id
            )));
        };
        let args = match Args::new(func, abi, &call.args) {
            Ok(args) => args,
            Err(trap) => return HostAnswer::Trap(trap),
        };
        if func == WasiFunc::ProcExit {
            let code = args.u32(0);
            if code >= 126 {
                return HostAnswer::Trap(TrapKind::Host(
                    "exit with invalid exit status outside of [0..126)".into(),
                ));
            }
            return HostAnswer::Exit(code as i32);
        }
        let input = !self.input_seen && self.input_call(func, &args, store.memory_data(memory));
        let fuel = store.fuel_consumed();
        let data = &mut store.memories[memory.index() as usize].data;
        let mut mem = match store.sanitizer.as_deref() {
            Some(sanitizer) if sanitizer.memory == memory.index() => {
                let sp = sanitizer
                    .stack_pointer
                    .map(|g| store.globals[g as usize].value as u32);
                GuestMem::guarded(data, Guard { sanitizer, sp })
            }
            _ => GuestMem::new(data),
        };
        let errno = match self.dispatch(func, &args, &mut mem, fuel) {
            Ok(()) => Errno::SUCCESS,
            Err(e) => e,
        };
        // Host calls are charged fuel in proportion to their work, so that fuel bounds time.
        let cost = CALL_FUEL.saturating_add(mem.touched() / BYTES_PER_FUEL);
        let refused = mem.refused();
        let written = mem.into_written();
        store.exec.consumed = store.exec.consumed.saturating_add(cost);
        let inst = &mut store.memories[memory.index() as usize];
        for (start, len) in written {
            inst.mark_dirty(start, len);
        }
        // What the call did before an access the sanitizer refused stays; the guest does not go on.
        if let Some(refused) = refused
            && let Some(san) = store.sanitizer.as_deref()
        {
            let report = san.report(refused, Some(func.name()), &|raw| store.resolve_frames(raw));
            return HostAnswer::Trap(TrapKind::Sanitizer(Box::new(report)));
        }
        if input {
            self.input_seen = true;
        }
        HostAnswer::Return(vec![Val::I32(i32::from(errno.0))])
    }

    /// Whether a pending host call is the program's first read of its input — standard input, or the file set
    /// with `input_file` (opening it, or reading or stat-ing it through a descriptor) — so that a fuzzer can take
    /// a snapshot right before answering it and replace the input after each restore.
    pub fn is_input_read(&self, store: &Store, memory: Memory, call: &HostCall) -> bool {
        let Some((func, abi)) = WasiFunc::decode(call.host_id) else {
            return false;
        };
        let Ok(args) = Args::new(func, abi, &call.args) else {
            return false;
        };
        !self.input_seen && self.input_call(func, &args, store.memory_data(memory))
    }

    fn input_call(&self, func: WasiFunc, args: &Args<'_>, mem: &[u8]) -> bool {
        use WasiFunc as F;
        let fd = |n: usize| self.fds.get(&args.u32(n));
        match &self.input {
            InputSource::Stdin => {
                matches!(func, F::FdRead | F::FdPread)
                    && fd(0).is_some_and(|f| f.kind == FdKind::Stdin)
            }
            InputSource::File(path) => {
                let Some(target) = self.input_inode(path) else {
                    return false;
                };
                match func {
                    F::FdRead | F::FdPread | F::FdFilestatGet | F::FdSeek => {
                        fd(0).is_some_and(|f| f.ino() == Some(target))
                    }
                    F::PathOpen | F::PathFilestatGet => {
                        let Some(FdKind::Dir { ino, .. }) = fd(0).map(|f| &f.kind) else {
                            return false;
                        };
                        let follow = args.u32(1) & lookupflags::SYMLINK_FOLLOW != 0;
                        peek_str(mem, args.u32(2), args.u32(3))
                            .and_then(|p| self.vfs.lookup_listed(*ino, p, follow).ok())
                            == Some(target)
                    }
                    _ => false,
                }
            }
        }
    }

    /// The inode of the input file, if it exists.
    fn input_inode(&self, path: &str) -> Option<u64> {
        let (root, rel) = self.locate(path).ok()?;
        self.vfs.lookup_listed(root, &rel, true).ok()
    }

    fn dispatch(
        &mut self,
        func: WasiFunc,
        a: &Args<'_>,
        m: &mut GuestMem<'_>,
        fuel: u64,
    ) -> WasiResult {
        use WasiFunc as F;
        match func {
            F::ArgsGet => {
                let args: Vec<Vec<u8>> = self.args.iter().map(|s| s.as_bytes().to_vec()).collect();
                write_strings(m, &args, a.u32(0), a.u32(1))
            }
            F::ArgsSizesGet => {
                let size = self.args.iter().map(|s| s.len() + 1).sum::<usize>();
                write_sizes(m, self.args.len(), size, a.u32(0), a.u32(1))
            }
            F::EnvironGet => {
                let env: Vec<Vec<u8>> = self
                    .env
                    .iter()
                    .map(|(k, v)| format!("{k}={v}").into_bytes())
                    .collect();
                write_strings(m, &env, a.u32(0), a.u32(1))
            }
            F::EnvironSizesGet => {
                let size = self
                    .env
                    .iter()
                    .map(|(k, v)| k.len() + v.len() + 2)
                    .sum::<usize>();
                write_sizes(m, self.env.len(), size, a.u32(0), a.u32(1))
            }
            F::ClockResGet => {
                let res = match a.u32(0) {
                    clockid::REALTIME..=clockid::THREAD_CPUTIME_ID => {
                        if self.is_deterministic() {
                            NS_PER_FUEL
                        } else {
                            1
                        }
                    }
                    _ => return Err(Errno::INVAL),
                };
                m.write_u64(a.u32(1), res)
            }
            F::ClockTimeGet => {
                let t = self.clock_now(a.u32(0), fuel)?;
                m.write_u64(a.u32(2), t)
            }
            F::FdAdvise => {
                let f = self.file_fd(a.u32(0))?;
                need(f, rights::FD_ADVISE)?;
                if a.u32(3) > 5 {
                    return Err(Errno::INVAL);
                }
                Ok(())
            }
            F::FdAllocate => self.fd_allocate(m, a.u32(0), a.u64(1), a.u64(2), fuel),
            F::FdClose => self.fd_close(a.u32(0)),
            F::FdDatasync => need(self.file_fd(a.u32(0))?, rights::FD_DATASYNC),
            F::FdSync => need(self.file_fd(a.u32(0))?, rights::FD_SYNC),
            F::FdFdstatGet => self.fd_fdstat_get(m, a.u32(0), a.u32(1)),
            F::FdFdstatSetFlags => {
                let flags = a.u32(1) as u16;
                let fd = self.fds.get_mut(&a.u32(0)).ok_or(Errno::BADF)?;
                if !matches!(fd.kind, FdKind::File { .. }) {
                    return Err(Errno::BADF);
                }
                need(fd, rights::FD_FDSTAT_SET_FLAGS)?;
                if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
                    return Err(Errno::INVAL);
                }
                fd.flags = flags & (fdflags::APPEND | fdflags::NONBLOCK);
                Ok(())
            }
            F::FdFdstatSetRights => {
                let fd = self.fds.get_mut(&a.u32(0)).ok_or(Errno::BADF)?;
                let (base, inheriting) = (a.u64(1), a.u64(2));
                if base & !fd.base != 0 || inheriting & !fd.inheriting != 0 {
                    return Err(Errno::NOTCAPABLE);
                }
                fd.base = base;
                fd.inheriting = inheriting;
                Ok(())
            }
            F::FdFilestatGet => self.fd_filestat_get(m, a.u32(0), a.u32(1), a.abi),
            F::FdFilestatSetSize => self.fd_filestat_set_size(m, a.u32(0), a.u64(1), fuel),
            F::FdFilestatSetTimes => {
                let flags = a.u32(3) as u16;
                check_fstflags(flags)?;
                let fd = self.fds.get(&a.u32(0)).ok_or(Errno::BADF)?;
                let ino = fd.ino().ok_or(Errno::BADF)?;
                need(fd, rights::FD_FILESTAT_SET_TIMES)?;
                self.set_times(ino, a.u64(1), a.u64(2), flags, fuel)
            }
            F::FdPread => self.fd_read(m, a.u32(0), a.u32(1), a.u32(2), Some(a.u64(3)), a.u32(4)),
            F::FdRead => self.fd_read(m, a.u32(0), a.u32(1), a.u32(2), None, a.u32(3)),
            F::FdPwrite => self.fd_write(
                m,
                a.u32(0),
                a.u32(1),
                a.u32(2),
                Some(a.u64(3)),
                a.u32(4),
                fuel,
            ),
            F::FdWrite => self.fd_write(m, a.u32(0), a.u32(1), a.u32(2), None, a.u32(3), fuel),
            F::FdPrestatGet => {
                let fd = self.fds.get(&a.u32(0)).ok_or(Errno::BADF)?;
                let FdKind::Dir {
                    preopen: Some(name),
                    ..
                } = &fd.kind
                else {
                    return Err(Errno::BADF);
                };
                let mut b = [0u8; size::PRESTAT];
                b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
                m.write(a.u32(1), &b)
            }
            F::FdPrestatDirName => {
                let fd = self.fds.get(&a.u32(0)).ok_or(Errno::BADF)?;
                let FdKind::Dir {
                    preopen: Some(name),
                    ..
                } = &fd.kind
                else {
                    return Err(Errno::NOTDIR);
                };
                if name.len() > a.u32(2) as usize {
                    return Err(Errno::NAMETOOLONG);
                }
                m.write(a.u32(1), name.as_bytes())
            }
            F::FdReaddir => self.fd_readdir(m, a.u32(0), a.u32(1), a.u32(2), a.u64(3), a.u32(4)),
            F::FdRenumber => self.fd_renumber(a.u32(0), a.u32(1)),
            F::FdSeek => self.fd_seek(m, a.u32(0), a.i64(1), a.abi.whence(a.u32(2)), a.u32(3)),
            F::FdTell => {
                m.check(a.u32(1), 8)?;
                let fd = self.seekable(a.u32(0))?;
                need(fd, rights::FD_TELL)?;
                let FdKind::File { pos, .. } = fd.kind else {
                    return Err(Errno::BADF);
                };
                m.write_u64(a.u32(1), pos)
            }
            F::PathCreateDirectory => {
                let (_, look) = self.path_at(
                    m,
                    a.u32(0),
                    a.u32(1),
                    a.u32(2),
                    false,
                    rights::PATH_CREATE_DIRECTORY,
                )?;
                if look.node.is_some() || look.is_dot() {
                    return Err(Errno::EXIST);
                }
                self.writable(look.parent)?;
                let now = self.realtime_at(fuel);
                self.vfs.create_dir(look.parent, &look.name, now).map(drop)
            }
            F::PathFilestatGet => {
                m.check(a.u32(4), a.abi.filestat_size() as u64)?;
                let follow = a.u32(1) & lookupflags::SYMLINK_FOLLOW != 0;
                let (_, look) = self.path_at(
                    m,
                    a.u32(0),
                    a.u32(2),
                    a.u32(3),
                    follow,
                    rights::PATH_FILESTAT_GET,
                )?;
                let ino = look.node.ok_or(Errno::NOENT)?;
                // A directory's size is its number of entries: a host directory is listed first.
                self.vfs.list_dir(ino)?;
                self.stat(ino).write(m, a.u32(4), a.abi)
            }
            F::PathFilestatSetTimes => {
                let flags = a.u32(6) as u16;
                check_fstflags(flags)?;
                let follow = a.u32(1) & lookupflags::SYMLINK_FOLLOW != 0;
                let (_, look) = self.path_at(
                    m,
                    a.u32(0),
                    a.u32(2),
                    a.u32(3),
                    follow,
                    rights::PATH_FILESTAT_SET_TIMES,
                )?;
                let ino = look.node.ok_or(Errno::NOENT)?;
                self.set_times(ino, a.u64(4), a.u64(5), flags, fuel)
            }
            F::PathLink => self.path_link(m, a, fuel),
            F::PathOpen => self.path_open(m, a, fuel),
            F::PathReadlink => {
                let (buf, buf_len, used) = (a.u32(3), a.u32(4), a.u32(5));
                m.check(buf, u64::from(buf_len))?;
                m.check(used, 4)?;
                let (_, look) = self.path_at(
                    m,
                    a.u32(0),
                    a.u32(1),
                    a.u32(2),
                    false,
                    rights::PATH_READLINK,
                )?;
                let ino = look.node.ok_or(Errno::NOENT)?;
                let NodeKind::Symlink { target } = &self.vfs.node(ino).kind else {
                    return Err(Errno::INVAL);
                };
                let bytes = &target.as_bytes()[..target.len().min(buf_len as usize)];
                m.write(buf, bytes)?;
                m.write_u32(used, bytes.len() as u32)
            }
            F::PathRemoveDirectory => {
                let (_, look) = self.path_at(
                    m,
                    a.u32(0),
                    a.u32(1),
                    a.u32(2),
                    false,
                    rights::PATH_REMOVE_DIRECTORY,
                )?;
                if look.name == "." {
                    return Err(Errno::INVAL);
                }
                if look.name == ".." {
                    return Err(Errno::NOTEMPTY);
                }
                let ino = look.node.ok_or(Errno::NOENT)?;
                self.vfs.list_dir(ino)?;
                if !self.vfs.entries(ino)?.is_empty() {
                    return Err(Errno::NOTEMPTY);
                }
                self.writable(look.parent)?;
                let now = self.realtime_at(fuel);
                self.vfs.unlink(look.parent, &look.name, now).map(drop)
            }
            F::PathRename => self.path_rename(m, a, fuel),
            F::PathSymlink => {
                let target = m.string(a.u32(0), a.u32(1))?;
                let (_, look) =
                    self.path_at(m, a.u32(2), a.u32(3), a.u32(4), false, rights::PATH_SYMLINK)?;
                // An existing name is `EEXIST` (an existing file named with a trailing slash was already
                // `ENOTDIR` in the lookup); a new name with a trailing slash is `ENOENT`, since a symlink is
                // never a directory.
                if look.node.is_some() || look.is_dot() {
                    return Err(Errno::EXIST);
                }
                if look.trailing_slash || target.is_empty() {
                    return Err(Errno::NOENT);
                }
                // An absolute target could only ever lead out of the sandbox: refused, as wasmtime does.
                if target.starts_with('/') {
                    return Err(Errno::PERM);
                }
                self.writable(look.parent)?;
                let now = self.realtime_at(fuel);
                self.vfs
                    .create_symlink(look.parent, &look.name, &target, now)
                    .map(drop)
            }
            F::PathUnlinkFile => {
                let (_, look) = self.path_at(
                    m,
                    a.u32(0),
                    a.u32(1),
                    a.u32(2),
                    false,
                    rights::PATH_UNLINK_FILE,
                )?;
                if look.is_dot() {
                    return Err(Errno::ISDIR);
                }
                let ino = look.node.ok_or(Errno::NOENT)?;
                if self.vfs.node(ino).is_dir() {
                    return Err(Errno::ISDIR);
                }
                self.writable(look.parent)?;
                let now = self.realtime_at(fuel);
                self.vfs.unlink(look.parent, &look.name, now).map(drop)
            }
            F::PollOneoff => self.poll_oneoff(m, a, fuel),
            F::ProcExit => Ok(()), // Answered in `handle`.
            F::ProcRaise => Err(Errno::NOTSUP),
            F::SchedYield => Ok(()),
            F::RandomGet => {
                let buf = m.slice_mut(a.u32(0), a.u32(1))?;
                self.rng.fill(buf);
                Ok(())
            }
            F::SockAccept | F::SockRecv | F::SockSend | F::SockShutdown => {
                // No descriptor is ever a socket: an open one is `ENOTSOCK`, as wasmtime answers.
                self.fds.get(&a.u32(0)).ok_or(Errno::BADF)?;
                Err(Errno::NOTSOCK)
            }
        }
    }

    fn clock_now(&mut self, id: u32, fuel: u64) -> WasiResult<u64> {
        match id {
            clockid::REALTIME => Ok(self.realtime_at(fuel)),
            clockid::MONOTONIC => Ok(self.monotonic_at(fuel)),
            clockid::PROCESS_CPUTIME_ID | clockid::THREAD_CPUTIME_ID => {
                // CPU time: the fuel spent (deterministic), or time since the process started (host-like).
                if self.is_deterministic() {
                    Ok(fuel.saturating_mul(NS_PER_FUEL))
                } else {
                    Ok(self.monotonic_at(fuel))
                }
            }
            _ => Err(Errno::INVAL),
        }
    }

    /// The descriptor if it is a regular file (`EBADF` for anything else, as wasmtime answers).
    fn file_fd(&self, fd: u32) -> WasiResult<&Fd> {
        match self.fds.get(&fd) {
            Some(
                f @ Fd {
                    kind: FdKind::File { .. },
                    ..
                },
            ) => Ok(f),
            _ => Err(Errno::BADF),
        }
    }

    /// The descriptor if it can seek: `ESPIPE` for standard streams, `EBADF` for directories.
    fn seekable(&self, fd: u32) -> WasiResult<&Fd> {
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        match f.kind {
            FdKind::File { .. } => Ok(f),
            FdKind::Stdin | FdKind::Stdout | FdKind::Stderr => Err(Errno::SPIPE),
            FdKind::Dir { .. } => Err(Errno::BADF),
        }
    }

    /// `EPERM` if the inode lies in a read-only preopen.
    fn writable(&self, ino: u64) -> WasiResult {
        if self.vfs.node(ino).readonly {
            Err(Errno::PERM)
        } else {
            Ok(())
        }
    }

    /// Reads a path argument and resolves it relative to a directory descriptor holding `right`.
    fn path_at(
        &mut self,
        m: &GuestMem<'_>,
        fd: u32,
        ptr: u32,
        len: u32,
        follow: bool,
        right: u64,
    ) -> WasiResult<(u64, Lookup)> {
        let dir = self.fds.get(&fd).ok_or(Errno::BADF)?;
        let FdKind::Dir { ino, .. } = dir.kind else {
            return Err(Errno::BADF);
        };
        need(dir, right)?;
        let path = m.string(ptr, len)?;
        Ok((ino, self.vfs.resolve(ino, &path, follow)?))
    }

    fn stat(&self, ino: u64) -> Filestat {
        let n = self.vfs.node(ino);
        Filestat {
            ino,
            ty: n.filetype(),
            nlink: n.nlink,
            size: n.size(),
            times: [n.atim, n.mtim, n.ctim],
        }
    }

    fn set_times(&mut self, ino: u64, atim: u64, mtim: u64, flags: u16, fuel: u64) -> WasiResult {
        self.writable(ino)?;
        let now = self.realtime_at(fuel);
        let node = self.vfs.node_mut(ino);
        if flags & fstflags::ATIM != 0 {
            node.atim = atim;
        } else if flags & fstflags::ATIM_NOW != 0 {
            node.atim = now;
        }
        if flags & fstflags::MTIM != 0 {
            node.mtim = mtim;
        } else if flags & fstflags::MTIM_NOW != 0 {
            node.mtim = now;
        }
        node.ctim = now;
        Ok(())
    }

    fn stdio_filetype(&self, kind: &FdKind) -> u8 {
        let tty = match kind {
            FdKind::Stdin => self.stdin == Stdin::Inherit && std::io::stdin().is_terminal(),
            FdKind::Stdout => {
                self.stdout.mode == OutputMode::Inherit && std::io::stdout().is_terminal()
            }
            FdKind::Stderr => {
                self.stderr.mode == OutputMode::Inherit && std::io::stderr().is_terminal()
            }
            _ => false,
        };
        if tty {
            filetype::CHARACTER_DEVICE
        } else {
            filetype::UNKNOWN
        }
    }

    fn fd_fdstat_get(&self, m: &mut GuestMem<'_>, fd: u32, ptr: u32) -> WasiResult {
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        let ty = match &f.kind {
            FdKind::File { ino, .. } | FdKind::Dir { ino, .. } => self.vfs.node(*ino).filetype(),
            kind => self.stdio_filetype(kind),
        };
        let mut b = [0u8; size::FDSTAT];
        b[0] = ty;
        b[2..4].copy_from_slice(&f.flags.to_le_bytes());
        b[8..16].copy_from_slice(&f.base.to_le_bytes());
        b[16..24].copy_from_slice(&f.inheriting.to_le_bytes());
        m.write(ptr, &b)
    }

    fn fd_filestat_get(&mut self, m: &mut GuestMem<'_>, fd: u32, ptr: u32, abi: Abi) -> WasiResult {
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        need(f, rights::FD_FILESTAT_GET)?;
        if let FdKind::Dir { ino, .. } = f.kind {
            self.vfs.list_dir(ino)?;
        }
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        let stat = match &f.kind {
            FdKind::File { ino, .. } | FdKind::Dir { ino, .. } => self.stat(*ino),
            kind => Filestat {
                ino: 0,
                ty: self.stdio_filetype(kind),
                nlink: 0,
                size: 0,
                times: [0; 3],
            },
        };
        stat.write(m, ptr, abi)
    }

    fn fd_filestat_set_size(
        &mut self,
        m: &GuestMem<'_>,
        fd: u32,
        size: u64,
        fuel: u64,
    ) -> WasiResult {
        let f = self.file_fd(fd)?;
        need(f, rights::FD_FILESTAT_SET_SIZE)?;
        let ino = f.ino().ok_or(Errno::BADF)?;
        self.writable(ino)?;
        if size > self.max_file_size {
            return Err(Errno::FBIG);
        }
        let now = self.realtime_at(fuel);
        m.touch(size.saturating_sub(self.vfs.node(ino).size()));
        self.vfs.resize_file(ino, size, self.max_fs_bytes, now)
    }

    fn fd_allocate(
        &mut self,
        m: &GuestMem<'_>,
        fd: u32,
        offset: u64,
        len: u64,
        fuel: u64,
    ) -> WasiResult {
        let f = self.file_fd(fd)?;
        need(f, rights::FD_ALLOCATE)?;
        let ino = f.ino().ok_or(Errno::BADF)?;
        self.writable(ino)?;
        let end = offset.checked_add(len).ok_or(Errno::FBIG)?;
        if end > self.max_file_size {
            return Err(Errno::FBIG);
        }
        let old = self.vfs.node(ino).size();
        if end > old {
            let now = self.realtime_at(fuel);
            m.touch(end - old);
            self.vfs.resize_file(ino, end, self.max_fs_bytes, now)?;
        }
        Ok(())
    }

    fn fd_close(&mut self, fd: u32) -> WasiResult {
        let f = self.remove_fd(fd).ok_or(Errno::BADF)?;
        self.release(&f);
        Ok(())
    }

    /// Drops a descriptor's hold on its inode.
    fn release(&mut self, f: &Fd) {
        if let Some(ino) = f.ino()
            && self.vfs.is_live(ino)
        {
            let node = self.vfs.node_mut(ino);
            node.open = node.open.saturating_sub(1);
            self.vfs.release_if_unused(ino);
        }
    }

    /// Moves descriptor `from` over `to`, closing what `to` held. Both must be open (preopens included), as
    /// wasmtime requires: renumbering onto a free number is `EBADF`.
    fn fd_renumber(&mut self, from: u32, to: u32) -> WasiResult {
        if !self.fds.contains_key(&from) || !self.fds.contains_key(&to) {
            return Err(Errno::BADF);
        }
        if from == to {
            return Ok(());
        }
        let f = self.remove_fd(from).ok_or(Errno::BADF)?;
        if let Some(old) = self.place_fd(to, f) {
            self.release(&old);
        }
        Ok(())
    }

    fn fd_seek(
        &mut self,
        m: &mut GuestMem<'_>,
        fd: u32,
        offset: i64,
        whence: u32,
        out: u32,
    ) -> WasiResult {
        m.check(out, 8)?;
        let tell_only = offset == 0 && whence == whence::CUR;
        let f = self.seekable(fd)?;
        need(
            f,
            if tell_only {
                rights::FD_TELL
            } else {
                rights::FD_SEEK
            },
        )?;
        let FdKind::File { ino, pos } = f.kind else {
            return Err(Errno::BADF);
        };
        let base = match whence {
            whence::SET => 0,
            whence::CUR => pos,
            whence::END => self.vfs.node(ino).size(),
            _ => return Err(Errno::INVAL),
        };
        let new = base.checked_add_signed(offset).ok_or(Errno::INVAL)?;
        if i64::try_from(new).is_err() {
            return Err(Errno::INVAL);
        }
        if let Some(Fd {
            kind: FdKind::File { pos, .. },
            ..
        }) = self.fds.get_mut(&fd)
        {
            *pos = new;
        }
        m.write_u64(out, new)
    }

    fn fd_read(
        &mut self,
        m: &mut GuestMem<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        at: Option<u64>,
        out: u32,
    ) -> WasiResult {
        let iovs = m.iovecs(iovs, count)?;
        m.check(out, 4)?;
        let want = iovecs_len(&iovs);
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        let data = match f.kind {
            FdKind::Stdin => {
                if at.is_some() {
                    return Err(Errno::SPIPE);
                }
                need(f, rights::FD_READ)?;
                self.stdin.read(want)?
            }
            FdKind::File { ino, pos } => {
                need(f, rights::FD_READ)?;
                let contents = self.vfs.file_data(ino)?;
                let start = at.unwrap_or(pos).min(contents.len() as u64) as usize;
                let end = start + want.min(contents.len() - start);
                let bytes = contents[start..end].to_vec();
                if at.is_none()
                    && let Some(Fd {
                        kind: FdKind::File { pos, .. },
                        ..
                    }) = self.fds.get_mut(&fd)
                {
                    *pos = end as u64;
                }
                bytes
            }
            _ => return Err(Errno::BADF),
        };
        let n = m.scatter(&iovs, &data)?;
        m.write_u32(out, n as u32)
    }

    #[allow(clippy::too_many_arguments)]
    fn fd_write(
        &mut self,
        m: &mut GuestMem<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        at: Option<u64>,
        out: u32,
        fuel: u64,
    ) -> WasiResult {
        let iovs = m.iovecs(iovs, count)?;
        m.check(out, 4)?;
        // As POSIX says for writev: a total beyond what the result can count is EINVAL.
        if iovecs_len(&iovs) > i32::MAX as usize {
            return Err(Errno::INVAL);
        }
        let bytes = m.gather(&iovs)?;
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        match f.kind {
            FdKind::Stdout | FdKind::Stderr => {
                if at.is_some() {
                    return Err(Errno::SPIPE);
                }
                need(f, rights::FD_WRITE)?;
                if f.kind == FdKind::Stdout {
                    self.stdout.write(&bytes, false)?;
                } else {
                    self.stderr.write(&bytes, true)?;
                }
            }
            FdKind::File { ino, pos } => {
                need(f, rights::FD_WRITE)?;
                self.writable(ino)?;
                let append = f.flags & fdflags::APPEND != 0;
                let len = self.vfs.node(ino).size();
                // As on Linux, an append-mode descriptor writes at the end even with `fd_pwrite`.
                let start = if append { len } else { at.unwrap_or(pos) };
                let end = start.checked_add(bytes.len() as u64).ok_or(Errno::FBIG)?;
                if end > self.max_file_size {
                    return Err(Errno::FBIG);
                }
                let now = self.realtime_at(fuel);
                m.touch(start.saturating_sub(len));
                self.vfs
                    .write_file(ino, start, &bytes, self.max_fs_bytes, now)?;
                if at.is_none()
                    && let Some(Fd {
                        kind: FdKind::File { pos, .. },
                        ..
                    }) = self.fds.get_mut(&fd)
                {
                    *pos = end;
                }
            }
            _ => return Err(Errno::BADF),
        }
        m.write_u32(out, bytes.len() as u32)
    }

    fn fd_readdir(
        &mut self,
        m: &mut GuestMem<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        out: u32,
    ) -> WasiResult {
        m.check(buf, u64::from(buf_len))?;
        m.check(out, 4)?;
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        let FdKind::Dir { ino, .. } = f.kind else {
            return Err(Errno::BADF);
        };
        need(f, rights::FD_READDIR)?;
        self.vfs.list_dir(ino)?;
        let entries = self.vfs.entries(ino)?;
        let parent = self.vfs.parent_of(ino);
        let dots = [
            (".", ino, filetype::DIRECTORY),
            ("..", parent, filetype::DIRECTORY),
        ];
        let all = dots.into_iter().chain(
            entries
                .iter()
                .map(|(name, &child)| (name.as_str(), child, self.vfs.node(child).filetype())),
        );
        let mut written: Vec<u8> = Vec::new();
        let cap = buf_len as usize;
        let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
        // Skipping to the cookie passes over entries one by one: that is work too.
        m.touch((skip.min(entries.len() + 2) as u64).saturating_mul(ENTRY_BYTES));
        for (index, (name, child, ty)) in all.enumerate().skip(skip) {
            if written.len() >= cap {
                break;
            }
            let mut dirent = [0u8; size::DIRENT];
            dirent[0..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
            dirent[8..16].copy_from_slice(&child.to_le_bytes());
            dirent[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
            dirent[20] = ty;
            written.extend_from_slice(&dirent);
            written.extend_from_slice(name.as_bytes());
        }
        // A buffer filled to the brim tells the guest there may be more (it retries with a larger one).
        written.truncate(cap);
        m.write(buf, &written)?;
        m.write_u32(out, written.len() as u32)
    }

    fn path_link(&mut self, m: &mut GuestMem<'_>, a: &Args<'_>, fuel: u64) -> WasiResult {
        let follow = a.u32(1) & lookupflags::SYMLINK_FOLLOW != 0;
        let (_, src) = self.path_at(
            m,
            a.u32(0),
            a.u32(2),
            a.u32(3),
            follow,
            rights::PATH_LINK_SOURCE,
        )?;
        let (_, dst) = self.path_at(
            m,
            a.u32(4),
            a.u32(5),
            a.u32(6),
            false,
            rights::PATH_LINK_TARGET,
        )?;
        let ino = src.node.ok_or(Errno::NOENT)?;
        if self.vfs.node(ino).is_dir() {
            return Err(Errno::PERM);
        }
        if dst.node.is_some() || dst.is_dot() {
            return Err(Errno::EXIST);
        }
        // A new name with a trailing slash would have to be a directory, which a hard link never is.
        if dst.trailing_slash {
            return Err(Errno::NOENT);
        }
        self.writable(dst.parent)?;
        let now = self.realtime_at(fuel);
        self.vfs.link(dst.parent, &dst.name, ino, now)
    }

    fn path_open(&mut self, m: &mut GuestMem<'_>, a: &Args<'_>, fuel: u64) -> WasiResult {
        let (dirfd, dirflags, path, path_len) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
        let oflags = a.u32(4) as u16;
        let (want_base, want_inheriting) = (a.u64(5), a.u64(6));
        let fdflags_in = a.u32(7) as u16;
        let out = a.u32(8);
        m.check(out, 4)?;
        let dir = self.fds.get(&dirfd).ok_or(Errno::BADF)?;
        match dir.kind {
            FdKind::Dir { .. } => {}
            FdKind::File { .. } => return Err(Errno::NOTDIR),
            _ => return Err(Errno::BADF),
        }
        let creat = oflags & oflags::CREAT != 0;
        if creat && oflags & oflags::DIRECTORY != 0 {
            return Err(Errno::INVAL);
        }
        let mut needed = rights::PATH_OPEN;
        if creat {
            needed |= rights::PATH_CREATE_FILE;
        }
        // Truncating through a path is setting its size: the directory must hold that right (not the new
        // descriptor's `fd_filestat_set_size`), as wasmtime checks.
        if oflags & oflags::TRUNC != 0 {
            needed |= rights::PATH_FILESTAT_SET_SIZE;
        }
        let dir_inheriting = dir.inheriting;
        let follow = dirflags & lookupflags::SYMLINK_FOLLOW != 0;
        let (_, look) = self.path_at(m, dirfd, path, path_len, follow, needed)?;
        let wants_write = want_base & rights::FD_WRITE != 0;
        let trunc = oflags & oflags::TRUNC != 0;
        let now = self.realtime_at(fuel);
        let ino = match look.node {
            None => {
                if !creat {
                    return Err(Errno::NOENT);
                }
                if look.trailing_slash {
                    return Err(Errno::ISDIR);
                }
                self.writable(look.parent)?;
                self.vfs.create_file(look.parent, &look.name, now)?
            }
            Some(ino) => {
                if creat && oflags & oflags::EXCL != 0 {
                    return Err(Errno::EXIST);
                }
                match &self.vfs.node(ino).kind {
                    NodeKind::Symlink { .. } => return Err(Errno::LOOP),
                    NodeKind::Dir { .. } => {
                        if trunc || wants_write {
                            return Err(Errno::ISDIR);
                        }
                    }
                    NodeKind::File { .. } => {
                        if oflags & oflags::DIRECTORY != 0 {
                            return Err(Errno::NOTDIR);
                        }
                        if wants_write || trunc {
                            self.writable(ino)?;
                        }
                        if trunc && self.vfs.node(ino).size() > 0 {
                            self.vfs.set_file_data(ino, Vec::new(), now)?;
                        }
                        // A host file is read when it is first opened (not when truncated: nothing to read).
                        self.vfs.load_file(ino, self.size_limits())?;
                    }
                }
                ino
            }
        };
        let is_dir = self.vfs.node(ino).is_dir();
        let (kind, allowed) = if is_dir {
            (FdKind::Dir { ino, preopen: None }, rights::DIRECTORY)
        } else {
            (FdKind::File { ino, pos: 0 }, rights::FILE)
        };
        let fd = Fd {
            kind,
            flags: fdflags_in
                & (fdflags::APPEND
                    | fdflags::NONBLOCK
                    | fdflags::DSYNC
                    | fdflags::RSYNC
                    | fdflags::SYNC),
            base: want_base & allowed & dir_inheriting,
            inheriting: want_inheriting & dir_inheriting,
        };
        let number = self.alloc_fd(fd)?;
        let node = self.vfs.node_mut(ino);
        node.open = node.open.saturating_add(1);
        m.write_u32(out, number)
    }

    fn path_rename(&mut self, m: &mut GuestMem<'_>, a: &Args<'_>, fuel: u64) -> WasiResult {
        let (_, src) = self.path_at(
            m,
            a.u32(0),
            a.u32(1),
            a.u32(2),
            false,
            rights::PATH_RENAME_SOURCE,
        )?;
        let (_, dst) = self.path_at(
            m,
            a.u32(3),
            a.u32(4),
            a.u32(5),
            false,
            rights::PATH_RENAME_TARGET,
        )?;
        if src.is_dot() || dst.is_dot() {
            return Err(Errno::BUSY);
        }
        let ino = src.node.ok_or(Errno::NOENT)?;
        self.writable(src.parent)?;
        self.writable(dst.parent)?;
        if dst.node == Some(ino) {
            return Ok(());
        }
        let src_is_dir = self.vfs.node(ino).is_dir();
        if src_is_dir {
            if let Some(target) = dst.node {
                if !self.vfs.node(target).is_dir() {
                    return Err(Errno::NOTDIR);
                }
                self.vfs.list_dir(target)?;
                if !self.vfs.entries(target)?.is_empty() {
                    return Err(Errno::NOTEMPTY);
                }
            }
            if self.vfs.is_ancestor(ino, dst.parent) {
                return Err(Errno::INVAL);
            }
        } else {
            if dst.node.is_some_and(|t| self.vfs.node(t).is_dir()) {
                return Err(Errno::ISDIR);
            }
            if src.trailing_slash || dst.trailing_slash {
                return Err(Errno::NOTDIR);
            }
        }
        let now = self.realtime_at(fuel);
        self.vfs
            .rename(src.parent, &src.name, dst.parent, &dst.name, now)
    }

    fn poll_oneoff(&mut self, m: &mut GuestMem<'_>, a: &Args<'_>, fuel: u64) -> WasiResult {
        let (subs_ptr, events_ptr, count, out, abi) =
            (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.abi);
        if count == 0 {
            return Err(Errno::INVAL);
        }
        let sub_size = abi.subscription_size();
        m.check(subs_ptr, u64::from(count) * u64::from(sub_size))?;
        m.check(events_ptr, u64::from(count) * u64::from(event::EVENT_SIZE))?;
        m.check(out, 4)?;
        let now = self.monotonic_at(fuel);
        let mut subs = Vec::new();
        for i in 0..count {
            let at = subs_ptr + i * sub_size;
            let userdata = m.u64(at)?;
            let sub = match m.u8(at + 8)? {
                event::CLOCK => {
                    let clock = at + abi.clock_id_offset();
                    let (id, timeout, flags) =
                        (m.u32(clock)?, m.u64(clock + 8)?, m.u16(clock + 24)?);
                    let absolute = flags & event::SUBSCRIPTION_CLOCK_ABSTIME != 0;
                    let deadline = match (id, absolute) {
                        (_, false) => now.saturating_add(timeout),
                        (clockid::MONOTONIC, true) => timeout,
                        (clockid::REALTIME, true) => {
                            let real = self.realtime_at(fuel);
                            now.saturating_add(timeout.saturating_sub(real))
                        }
                        _ => return Err(Errno::INVAL),
                    };
                    if id > clockid::THREAD_CPUTIME_ID {
                        return Err(Errno::INVAL);
                    }
                    Sub::Clock { deadline }
                }
                ty @ (event::FD_READ | event::FD_WRITE) => Sub::Fd {
                    fd: m.u32(at + 16)?,
                    ty,
                },
                _ => return Err(Errno::INVAL),
            };
            subs.push((userdata, sub));
        }
        // Descriptors are always ready; clocks fire when their deadline has passed. With nothing ready, time moves
        // on (virtually, or by sleeping) to the earliest deadline.
        let any_fd = subs.iter().any(|(_, s)| matches!(s, Sub::Fd { .. }));
        let wake = if any_fd {
            now
        } else {
            let earliest = subs
                .iter()
                .filter_map(|(_, s)| match s {
                    Sub::Clock { deadline } => Some(*deadline),
                    Sub::Fd { .. } => None,
                })
                .min()
                .unwrap_or(now);
            if earliest > now {
                self.sleep(earliest - now);
            }
            earliest.max(now)
        };
        let mut written = 0u32;
        for (userdata, sub) in &subs {
            let mut e = [0u8; event::EVENT_SIZE as usize];
            e[0..8].copy_from_slice(&userdata.to_le_bytes());
            match sub {
                Sub::Clock { deadline } => {
                    if *deadline > wake {
                        continue;
                    }
                    e[10] = event::CLOCK;
                }
                Sub::Fd { fd, ty } => {
                    e[10] = *ty;
                    match self.fd_readiness(*fd, *ty) {
                        Ok((nbytes, hangup)) => {
                            e[16..24].copy_from_slice(&nbytes.to_le_bytes());
                            if hangup {
                                e[24..26]
                                    .copy_from_slice(&event::FD_READWRITE_HANGUP.to_le_bytes());
                            }
                        }
                        Err(errno) => e[8..10].copy_from_slice(&errno.0.to_le_bytes()),
                    }
                }
            }
            m.write(events_ptr + written * event::EVENT_SIZE, &e)?;
            written += 1;
        }
        m.write_u32(out, written)
    }

    /// Bytes available and end-of-file for a ready descriptor.
    fn fd_readiness(&self, fd: u32, ty: u8) -> WasiResult<(u64, bool)> {
        let f = self.fds.get(&fd).ok_or(Errno::BADF)?;
        match (&f.kind, ty) {
            (FdKind::Stdin, event::FD_READ) => {
                let n = self.stdin.available();
                Ok((n, n == 0))
            }
            (FdKind::Stdout | FdKind::Stderr, event::FD_WRITE) => Ok((1, false)),
            (FdKind::File { ino, pos }, event::FD_READ) => {
                let n = self.vfs.node(*ino).size().saturating_sub(*pos);
                Ok((n, n == 0))
            }
            (FdKind::File { .. }, _) => Ok((1, false)),
            _ => Err(Errno::BADF),
        }
    }
}

/// `args_get` / `environ_get`: the pointer array at `ptrs`, the NUL-terminated strings at `buf`.
fn write_strings(m: &mut GuestMem<'_>, items: &[Vec<u8>], ptrs: u32, buf: u32) -> WasiResult {
    let total: u64 = items.iter().map(|s| s.len() as u64 + 1).sum();
    m.check(ptrs, items.len() as u64 * 4)?;
    m.check(buf, total)?;
    let mut at = buf;
    for (i, s) in items.iter().enumerate() {
        m.write_u32(ptrs + 4 * i as u32, at)?;
        m.write(at, s)?;
        m.write(at + s.len() as u32, &[0])?;
        at += s.len() as u32 + 1;
    }
    Ok(())
}

/// `args_sizes_get` / `environ_sizes_get`.
fn write_sizes(
    m: &mut GuestMem<'_>,
    count: usize,
    size: usize,
    count_ptr: u32,
    size_ptr: u32,
) -> WasiResult {
    m.check(count_ptr, 4)?;
    m.check(size_ptr, 4)?;
    let count = u32::try_from(count).map_err(|_| Errno::OVERFLOW)?;
    let size = u32::try_from(size).map_err(|_| Errno::OVERFLOW)?;
    m.write_u32(count_ptr, count)?;
    m.write_u32(size_ptr, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Func, Limits, MemoryType};

    /// Bytes the host writes into guest memory count as written for dirty-page tracking, so `reset_to` undoes them.
    #[test]
    fn host_writes_mark_pages_dirty() {
        let engine = Engine::new(crate::Config {
            track_dirty_pages: true,
            ..crate::Config::default()
        });
        let mut store = Store::new(&engine);
        let memory = store
            .new_memory(MemoryType {
                limits: Limits { min: 2, max: None },
                memory64: false,
            })
            .expect("two pages fit");
        let baseline = store.baseline();
        let mut ctx = WasiCtx::builder().deterministic(1).build().expect("builds");
        let call = HostCall {
            func: Func(0),
            host_id: WasiFunc::RandomGet.host_id(),
            args: vec![Val::I32(70_000), Val::I32(16)],
        };
        assert_eq!(
            ctx.handle(&mut store, memory, &call),
            HostAnswer::Return(vec![Val::I32(0)])
        );
        assert_eq!(store.dirty_pages(), 1);
        assert!(
            store.memory_data(memory)[70_000..70_016]
                .iter()
                .any(|&b| b != 0)
        );
        store.reset_to(&baseline).expect("resets");
        assert!(
            store.memory_data(memory)[70_000..70_016]
                .iter()
                .all(|&b| b == 0)
        );
    }

    /// Every function, called with arguments drawn from in-range, edge and far out-of-range values, answers with
    /// an errno (or an exit or trap) and never panics.
    #[test]
    fn random_arguments_never_panic() {
        let engine = Engine::default();
        let mut store = Store::new(&engine);
        let memory = store
            .new_memory(MemoryType {
                limits: Limits { min: 1, max: None },
                memory64: false,
            })
            .expect("one page fits");
        let mut ctx = WasiCtx::builder()
            .args(["prog", "x"])
            .env("K", "V")
            .preopen_empty_dir("/sandbox")
            .file("/sandbox/a", "contents")
            .file("/sandbox/d/b", "more")
            .stdin_bytes("input")
            .max_file_size(1 << 16)
            .deterministic(9)
            .build()
            .expect("the context builds");
        // Paths the guest may name: put a few strings in memory.
        store.memory_data_mut(memory)[100..120].copy_from_slice(b"a\0d/b\0d\0..\0/x\0new\0\0\0");
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut successes = 0;
        let picks: [u64; 12] = [
            0,
            1,
            2,
            3,
            4,
            5,
            100,
            102,
            106,
            65532,
            0xFFFF_FF00,
            u64::MAX,
        ];
        for _ in 0..20_000 {
            let func = WasiFunc::ALL[(next() % 46) as usize];
            let args = func
                .params()
                .iter()
                .map(|ty| {
                    let r = next();
                    let v = if r % 3 == 0 {
                        r >> 8
                    } else {
                        picks[(r >> 8) as usize % picks.len()]
                    };
                    match ty {
                        ValType::I64 => Val::I64(v as i64),
                        _ => Val::I32(v as i32),
                    }
                })
                .collect();
            let call = HostCall {
                func: Func(0),
                host_id: func.host_id(),
                args,
            };
            let _ = ctx.is_input_read(&store, memory, &call);
            match ctx.handle(&mut store, memory, &call) {
                HostAnswer::Return(v) => {
                    assert_eq!(v.len(), 1);
                    successes += usize::from(v[0] == Val::I32(0));
                }
                HostAnswer::Exit(code) => assert!(code < 126),
                HostAnswer::Trap(_) => assert_eq!(func, WasiFunc::ProcExit),
            }
        }
        assert!(successes > 1000, "only {successes} calls succeeded");
        let bytes = ctx.to_bytes().expect("encodes");
        assert_eq!(WasiCtx::from_bytes(&bytes).expect("decodes"), ctx);
    }
}
