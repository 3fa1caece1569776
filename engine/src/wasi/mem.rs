//! Bounds-checked access to guest memory: every out-of-range pointer becomes `EFAULT`, never a panic.

use std::cell::Cell;

use super::abi::{Errno, size};
use crate::sanitizer::{Refused, Sanitizer};

/// The sanitizer's view for a host call: accesses to poisoned bytes fail with `EFAULT` and are remembered, so the
/// call ends in the sanitizer's trap instead.
pub(crate) struct Guard<'a> {
    pub(crate) sanitizer: &'a Sanitizer,
    /// The shadow stack pointer's value.
    pub(crate) sp: Option<u32>,
}

/// A view of a guest's linear memory with little-endian, bounds-checked accessors. It remembers the ranges it
/// wrote, so that the store's dirty-page tracking (used by `Store::reset_to`) sees host writes too.
pub(crate) struct GuestMem<'a> {
    bytes: &'a mut [u8],
    written: Vec<(usize, usize)>,
    /// Bytes read or written through this view, plus work the call reported with [`GuestMem::touch`]: what the
    /// call is charged fuel for.
    touched: Cell<u64>,
    guard: Option<Guard<'a>>,
    /// The first access the guard refused.
    refused: Cell<Option<Refused>>,
}

/// The range `[ptr, ptr + len)` if it lies inside a memory of `size` bytes.
fn range(size: usize, ptr: u32, len: u64) -> Result<std::ops::Range<usize>, Errno> {
    let start = ptr as usize;
    let len = usize::try_from(len).map_err(|_| Errno::FAULT)?;
    let end = start.checked_add(len).ok_or(Errno::FAULT)?;
    if end > size {
        return Err(Errno::FAULT);
    }
    Ok(start..end)
}

impl<'a> GuestMem<'a> {
    pub(crate) fn new(bytes: &'a mut [u8]) -> Self {
        GuestMem {
            bytes,
            written: Vec::new(),
            touched: Cell::new(0),
            guard: None,
            refused: Cell::new(None),
        }
    }

    /// The same view, checking every access against the sanitizer's shadow.
    pub(crate) fn guarded(bytes: &'a mut [u8], guard: Guard<'a>) -> Self {
        GuestMem {
            guard: Some(guard),
            ..GuestMem::new(bytes)
        }
    }

    /// The first access the sanitizer refused, if any.
    pub(crate) fn refused(&self) -> Option<Refused> {
        self.refused.get()
    }

    fn guard(&self, r: &std::ops::Range<usize>, write: bool) -> Result<(), Errno> {
        let Some(g) = &self.guard else { return Ok(()) };
        match g
            .sanitizer
            .check_range(r.start as u64, r.len() as u64, write, g.sp)
        {
            Some(refused) => {
                if self.refused.get().is_none() {
                    self.refused.set(Some(refused));
                }
                Err(Errno::FAULT)
            }
            None => Ok(()),
        }
    }

    /// Counts `bytes` more bytes of work (for example a file zero-extended) towards the call's fuel.
    pub(crate) fn touch(&self, bytes: u64) {
        self.touched.set(self.touched.get().saturating_add(bytes));
    }

    /// Bytes of work counted so far.
    pub(crate) fn touched(&self) -> u64 {
        self.touched.get()
    }

    /// The (start, length) ranges written through this view.
    pub(crate) fn into_written(self) -> Vec<(usize, usize)> {
        self.written
    }

    pub(crate) fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = range(self.bytes.len(), ptr, u64::from(len))?;
        self.guard(&r, false)?;
        self.touch(r.len() as u64);
        Ok(&self.bytes[r])
    }

    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = range(self.bytes.len(), ptr, u64::from(len))?;
        self.guard(&r, true)?;
        self.touch(r.len() as u64);
        if !r.is_empty() {
            self.written.push((r.start, r.len()));
        }
        Ok(&mut self.bytes[r])
    }

    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    pub(crate) fn u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub(crate) fn u16(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }

    pub(crate) fn u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }

    pub(crate) fn u64(&self, ptr: u32) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }

    pub(crate) fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// Checks that `len` bytes at `ptr` are writable, so that a call can fail with `EFAULT` before it changes anything.
    pub(crate) fn check(&self, ptr: u32, len: u64) -> Result<(), Errno> {
        range(self.bytes.len(), ptr, len).map(|_| ())
    }

    /// Reads a UTF-8 path of `len` bytes; invalid UTF-8 is `EILSEQ`.
    pub(crate) fn string(&self, ptr: u32, len: u32) -> Result<String, Errno> {
        let bytes = self.slice(ptr, len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| Errno::ILSEQ)
    }

    /// The buffers of an iovec array, as (pointer, length) pairs, each checked to lie inside memory.
    pub(crate) fn iovecs(&self, iovs: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
        let table = count.checked_mul(size::IOVEC).ok_or(Errno::FAULT)?;
        self.check(iovs, u64::from(table))?;
        (0..count)
            .map(|i| {
                let at = iovs + i * size::IOVEC;
                let (buf, len) = (self.u32(at)?, self.u32(at + 4)?);
                self.check(buf, u64::from(len))?;
                Ok((buf, len))
            })
            .collect()
    }

    /// Concatenates the bytes of a ciovec array.
    pub(crate) fn gather(&self, iovs: &[(u32, u32)]) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        for &(buf, len) in iovs {
            out.extend_from_slice(self.slice(buf, len)?);
        }
        Ok(out)
    }

    /// Spreads `data` over an iovec array, in order; returns how many bytes were placed.
    pub(crate) fn scatter(&mut self, iovs: &[(u32, u32)], data: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        for &(buf, len) in iovs {
            if done == data.len() {
                break;
            }
            let n = (len as usize).min(data.len() - done);
            self.write(buf, &data[done..done + n])?;
            done += n;
        }
        Ok(done)
    }
}

/// Total length of an iovec array, saturating.
pub(crate) fn iovecs_len(iovs: &[(u32, u32)]) -> usize {
    iovs.iter()
        .fold(0usize, |acc, &(_, len)| acc.saturating_add(len as usize))
}
