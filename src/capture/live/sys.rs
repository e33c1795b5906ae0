//! The only `unsafe` code of cleanpath: the Linux system calls live capture needs
//! (`packet(7)` sockets, the TPACKET_V3 ring mapping, `poll(2)`, signal handlers and the
//! credential calls of the privilege drop), each wrapped in a safe function.
//!
//! Every block states why it is sound in a `// SAFETY:` comment. Callers above this file
//! see only owned file descriptors, byte slices and `io::Result`s.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

/// `TPACKET_V3` from `<linux/if_packet.h>` (enum `tpacket_versions`).
const TPACKET_V3: libc::c_int = 2;

/// One classic BPF instruction (`struct sock_filter`).
pub(crate) type Insn = libc::sock_filter;

/// Builds a classic BPF instruction.
pub(crate) const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    libc::sock_filter { code, jt, jf, k }
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Sets a socket option whose value is a plain C struct or integer.
fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, val: &T) -> io::Result<()> {
    // SAFETY: `val` points to a live, initialised `T` of exactly `size_of::<T>()` bytes for
    // the duration of the call; the kernel only reads it. `fd` is a descriptor we own.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (val as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    cvt(r).map(drop)
}

/// Opens an `AF_PACKET`/`SOCK_RAW` socket that receives nothing until bound with a protocol.
pub(crate) fn packet_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain system call with constant arguments; no pointers.
    let fd = cvt(unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets an `int` option at `SOL_PACKET` level.
pub(crate) fn set_packet_int(fd: &OwnedFd, name: libc::c_int, v: libc::c_int) -> io::Result<()> {
    setsockopt(fd.as_raw_fd(), libc::SOL_PACKET, name, &v)
}

/// Selects TPACKET_V3 frames.
pub(crate) fn set_tpacket_v3(fd: &OwnedFd) -> io::Result<()> {
    set_packet_int(fd, libc::PACKET_VERSION, TPACKET_V3)
}

/// Asks for outgoing packets not to be delivered (a span port sensor sends nothing it wants).
pub(crate) fn ignore_outgoing(fd: &OwnedFd) -> io::Result<()> {
    set_packet_int(fd, libc::PACKET_IGNORE_OUTGOING, 1)
}

/// Attaches a classic BPF socket filter (`SO_ATTACH_FILTER`).
pub(crate) fn attach_filter(fd: &OwnedFd, prog: &[Insn]) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).map_err(|_| io::Error::other("BPF program too long"))?,
        filter: prog.as_ptr().cast_mut(),
    };
    // The kernel copies the program during the call; `prog` outlives it.
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_ATTACH_FILTER,
        &fprog,
    )
}

/// Removes the socket filter (`SO_DETACH_FILTER`).
pub(crate) fn detach_filter(fd: &OwnedFd) -> io::Result<()> {
    let zero: libc::c_int = 0;
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_DETACH_FILTER,
        &zero,
    )
}

/// Joins a fanout group (`PACKET_FANOUT`, argument `id | mode << 16 | flags << 16`).
pub(crate) fn join_fanout(fd: &OwnedFd, arg: u32) -> io::Result<()> {
    setsockopt(fd.as_raw_fd(), libc::SOL_PACKET, libc::PACKET_FANOUT, &arg)
}

/// Sets the classic BPF program that picks a fanout member (`PACKET_FANOUT_DATA`).
pub(crate) fn set_fanout_program(fd: &OwnedFd, prog: &[Insn]) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).map_err(|_| io::Error::other("BPF program too long"))?,
        filter: prog.as_ptr().cast_mut(),
    };
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_PACKET,
        libc::PACKET_FANOUT_DATA,
        &fprog,
    )
}

/// Requests a TPACKET_V3 receive ring.
pub(crate) fn set_rx_ring(
    fd: &OwnedFd,
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    retire_ms: u32,
) -> io::Result<()> {
    let req = libc::tpacket_req3 {
        tp_block_size: block_size,
        tp_block_nr: block_nr,
        tp_frame_size: frame_size,
        tp_frame_nr: (block_size / frame_size) * block_nr,
        tp_retire_blk_tov: retire_ms,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    };
    setsockopt(fd.as_raw_fd(), libc::SOL_PACKET, libc::PACKET_RX_RING, &req)
}

/// Binds the socket to an interface for all protocols (`ETH_P_ALL`).
pub(crate) fn bind_all(fd: &OwnedFd, ifindex: i32) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    sa.sll_ifindex = ifindex;
    // SAFETY: `sa` is a live, initialised sockaddr_ll and the length passed is its size.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const sa).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    cvt(r).map(drop)
}

/// Puts the interface in promiscuous mode for as long as the socket lives.
pub(crate) fn add_promisc(fd: &OwnedFd, ifindex: i32) -> io::Result<()> {
    let mr = libc::packet_mreq {
        mr_ifindex: ifindex,
        mr_type: libc::PACKET_MR_PROMISC as u16,
        mr_alen: 0,
        mr_address: [0; 8],
    };
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_PACKET,
        libc::PACKET_ADD_MEMBERSHIP,
        &mr,
    )
}

/// Kernel counters of a TPACKET_V3 socket since the previous call (the kernel resets them
/// on every read): `(packets, drops, freeze_q_cnt)`.
pub(crate) fn packet_stats(fd: &OwnedFd) -> io::Result<(u32, u32, u32)> {
    let mut st = libc::tpacket_stats_v3 {
        tp_packets: 0,
        tp_drops: 0,
        tp_freeze_q_cnt: 0,
    };
    let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
    // SAFETY: `st` and `len` are live locals; the kernel writes at most `len` bytes into `st`.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&raw mut st).cast(),
            &raw mut len,
        )
    };
    cvt(r)?;
    Ok((st.tp_packets, st.tp_drops, st.tp_freeze_q_cnt))
}

/// Waits up to `timeout_ms` for the socket to be readable. Returns `Ok(true)` when it is,
/// `Ok(false)` on timeout or signal, and an error for `POLLERR`/`POLLHUP` (interface gone).
pub(crate) fn poll_in(fd: &OwnedFd, timeout_ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN | libc::POLLERR,
        revents: 0,
    };
    // SAFETY: `p` is one live pollfd and we pass a count of 1.
    let r = unsafe { libc::poll(&raw mut p, 1, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    if p.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
        return Err(sock_error(fd));
    }
    Ok(p.revents & libc::POLLIN != 0)
}

/// Reads (and clears) the socket's pending error (`SO_ERROR`), e.g. `ENETDOWN`.
fn sock_error(fd: &OwnedFd) -> io::Error {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live locals sized for an int.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&raw mut v).cast(),
            &raw mut len,
        )
    };
    if r < 0 || v == 0 {
        io::Error::other("socket error (POLLERR)")
    } else {
        io::Error::from_raw_os_error(v)
    }
}

/// Sends one frame on a bound packet socket.
pub(crate) fn send(fd: &OwnedFd, frame: &[u8]) -> io::Result<usize> {
    // SAFETY: `frame` is a live slice; the kernel reads `frame.len()` bytes from it.
    let r = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// A shared memory mapping of a packet ring, unmapped on drop.
#[derive(Debug)]
pub(crate) struct RingMap {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory; `RingMap` hands out access only through `&self`
// methods that use atomics for the status words and immutable slices for blocks the kernel
// has passed to user space. Moving it to another thread is as safe as moving a Vec.
unsafe impl Send for RingMap {}

impl RingMap {
    /// Maps `len` bytes of the socket's ring.
    pub(crate) fn new(fd: &OwnedFd, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh shared mapping of the socket's ring; the kernel checks `len`
        // against the ring size. No existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self { ptr: p.cast(), len })
    }

    fn status_word(&self, block_off: usize) -> &AtomicU32 {
        // block_status is at byte 8 of `struct tpacket_block_desc`
        // (version u32, offset_to_priv u32, then tpacket_hdr_v1 starting with block_status).
        assert!(
            block_off % 8 == 0 && block_off + 12 <= self.len,
            "block offset"
        );
        // SAFETY: the address is inside the mapping (asserted), 4-byte aligned (blocks are
        // page aligned), and the kernel only ever accesses this word atomically-sized; an
        // AtomicU32 has the size and alignment of a u32. The reference lives no longer than
        // `&self`, hence no longer than the mapping.
        unsafe { AtomicU32::from_ptr(self.ptr.add(block_off + 8).cast()) }
    }

    /// Returns the block's status word, with acquire ordering so that the block's contents
    /// written by the kernel before it set `TP_STATUS_USER` are visible.
    pub(crate) fn block_status(&self, block_off: usize) -> u32 {
        self.status_word(block_off).load(Ordering::Acquire)
    }

    /// Returns a block the kernel has handed to user space (status has `TP_STATUS_USER`).
    /// The kernel does not write to it until [`Self::release`].
    pub(crate) fn user_block(&self, block_off: usize, block_len: usize) -> Option<&[u8]> {
        if self.block_status(block_off) & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let end = block_off.checked_add(block_len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: the range is inside the mapping (checked above). The block belongs to user
        // space until `release` stores TP_STATUS_KERNEL, and `release` takes `&mut self`, so
        // this shared borrow has ended by then: nothing writes the bytes while the slice lives.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.add(block_off), block_len) })
    }

    /// Gives a block back to the kernel (status := `TP_STATUS_KERNEL`, release ordering).
    pub(crate) fn release(&mut self, block_off: usize) {
        self.status_word(block_off)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

impl Drop for RingMap {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned, and no borrow of the mapping
        // can outlive `self`.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// Bits set by the signal handler: SIGINT/SIGTERM = stop, SIGHUP = reload.
static SIGNALS: AtomicU32 = AtomicU32::new(0);
/// [`take_signals`] bit: SIGINT or SIGTERM arrived.
pub(crate) const SIG_STOP: u32 = 1;
/// [`take_signals`] bit: SIGHUP arrived.
pub(crate) const SIG_RELOAD: u32 = 2;

extern "C" fn on_signal(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    let bit = if sig == libc::SIGHUP {
        SIG_RELOAD
    } else {
        SIG_STOP
    };
    SIGNALS.fetch_or(bit, Ordering::SeqCst);
}

/// Installs handlers for SIGINT, SIGTERM and SIGHUP that only set flags.
pub(crate) fn install_signal_flags() -> io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: sigaction is plain old data; zeroed is a valid empty mask and no flags.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        // SAFETY: `sa` is initialised and the handler only performs an atomic store, which
        // is async-signal-safe. The old action is not needed (null).
        let r = unsafe { libc::sigaction(sig, &raw const sa, std::ptr::null_mut()) };
        cvt(r)?;
    }
    Ok(())
}

/// Returns and clears the signal bits received since the last call.
pub(crate) fn take_signals() -> u32 {
    SIGNALS.swap(0, Ordering::SeqCst)
}

/// Returns the effective user id.
pub(crate) fn geteuid() -> u32 {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// Drops to `uid`/`gid` with exactly the supplementary `groups`, and forbids regaining
/// privileges through exec (`PR_SET_NO_NEW_PRIVS`). Setting a non-zero uid from root clears
/// every capability (permitted, effective, ambient), since `SECBIT_KEEP_CAPS` is not set.
pub(crate) fn drop_privileges(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    // SAFETY: `groups` is a live slice of gid_t (u32) of the length passed.
    cvt(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
    // SAFETY: plain system calls with integer arguments. glibc applies them to every
    // thread of the process.
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::setresuid(uid, uid, uid) })?;
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
    Ok(())
}
