//! A TPACKET_V3 receive ring on one interface (`packet(7)`, `Documentation/networking/packet_mmap.rst`).
//!
//! ```text
//!   mmap'd ring: [ block 0 | block 1 | … | block n-1 ]      each block: tpacket_block_desc
//!                   ▲ cur                                     then tpacket3_hdr + frame, …
//!   kernel fills a block, sets TP_STATUS_USER ─► we walk its frames ─► TP_STATUS_KERNEL
//! ```
//!
//! Why this shape: the kernel writes whole blocks of variable-size frames and retires a
//! block when full or after `retire_ms`, so one `poll` wakes us for hundreds of frames and
//! nothing is copied between kernel and user space. A block is read in ring order and given
//! back as soon as its frames have been analysed.
//!
//! Until [`Ring::start`], a drop-all socket filter keeps the ring empty: packets seen while
//! the other workers' sockets are still joining the fanout group would otherwise be sharded
//! over too few members, splitting flows.

use super::sys::{self, Insn, RingMap};
use std::io;
use std::os::fd::OwnedFd;

/// Ring geometry and socket options.
#[derive(Debug, Clone, Copy)]
pub struct RingConfig {
    /// Bytes per block (a power of two, multiple of the page size).
    pub block_size: u32,
    /// Number of blocks.
    pub block_count: u32,
    /// Milliseconds after which the kernel hands over a partly filled block.
    pub retire_ms: u32,
    /// Put the interface in promiscuous mode.
    pub promisc: bool,
}

impl Default for RingConfig {
    fn default() -> Self {
        Self {
            block_size: 1 << 20,
            block_count: 64,
            retire_ms: 20,
            promisc: false,
        }
    }
}

/// Kernel counters of one socket, accumulated over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KernelStats {
    /// Packets the socket received (delivered to the ring).
    pub received: u64,
    /// Packets the kernel dropped because the ring was full.
    pub drops: u64,
    /// Times the ring's queue was frozen (all blocks in user space).
    pub freezes: u64,
}

/// One frame in the ring, borrowed until the block is released.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame<'a> {
    /// Capture time, ns since the epoch (from `tp_sec`/`tp_nsec`).
    pub ts_ns: i64,
    /// Length on the wire (`tp_len`), without a VLAN tag the kernel removed.
    pub wire_len: u32,
    /// Captured bytes from the link-layer header.
    pub data: &'a [u8],
    /// A VLAN tag the kernel or NIC removed from the frame: `(tpid, tci)`.
    pub vlan: Option<(u16, u16)>,
}

/// Frames rejected: the socket filter installed until [`Ring::start`].
const DROP_ALL: [Insn; 1] = [sys::insn(0x06, 0, 0, 0)]; // ret #0

/// A TPACKET_V3 ring bound to one interface.
#[derive(Debug)]
pub struct Ring {
    fd: OwnedFd,
    map: RingMap,
    block_size: usize,
    block_count: usize,
    cur: usize,
    kernel: KernelStats,
}

fn ne_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn ne_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

impl Ring {
    /// Opens a ring on interface `ifindex`, optionally joining fanout group `fanout`
    /// (the full `PACKET_FANOUT` argument). The ring stays empty until [`Ring::start`].
    ///
    /// # Errors
    /// The socket calls fail (no `CAP_NET_RAW`, interface gone, ring too large for memory).
    pub fn open(ifindex: i32, cfg: &RingConfig, fanout: Option<u32>) -> io::Result<Self> {
        let fd = sys::packet_socket()?;
        sys::attach_filter(&fd, &DROP_ALL)?;
        sys::set_tpacket_v3(&fd)?;
        sys::ignore_outgoing(&fd)?;
        let frame_size = 2048;
        sys::set_rx_ring(
            &fd,
            cfg.block_size,
            cfg.block_count,
            frame_size,
            cfg.retire_ms,
        )?;
        let len = cfg.block_size as usize * cfg.block_count as usize;
        let map = RingMap::new(&fd, len)?;
        sys::bind_all(&fd, ifindex)?;
        if cfg.promisc {
            sys::add_promisc(&fd, ifindex)?;
        }
        if let Some(arg) = fanout {
            sys::join_fanout(&fd, arg)?;
        }
        Ok(Self {
            fd,
            map,
            block_size: cfg.block_size as usize,
            block_count: cfg.block_count as usize,
            cur: 0,
            kernel: KernelStats::default(),
        })
    }

    /// Sets the program that picks the fanout member (applies to the whole group).
    ///
    /// # Errors
    /// The kernel rejects the program.
    pub fn set_fanout_program(&self, prog: &[Insn]) -> io::Result<()> {
        sys::set_fanout_program(&self.fd, prog)
    }

    /// Starts delivery: removes the drop-all filter, and discards the counters of the
    /// setup phase. With `filter`, installs that program instead.
    ///
    /// # Errors
    /// The kernel rejects the filter.
    pub fn start(&mut self, filter: Option<&[Insn]>) -> io::Result<()> {
        match filter {
            Some(p) => sys::attach_filter(&self.fd, p)?,
            None => sys::detach_filter(&self.fd)?,
        }
        sys::packet_stats(&self.fd)?;
        Ok(())
    }

    /// Stops accepting packets (drop-all filter again) so that the ring can be drained to a
    /// state where every packet the kernel counts as received has been read.
    ///
    /// # Errors
    /// The kernel rejects the filter.
    pub fn pause(&mut self) -> io::Result<()> {
        sys::attach_filter(&self.fd, &DROP_ALL)
    }

    /// Waits up to `timeout_ms` for the next block. Returns `Ok(true)` when one is ready.
    ///
    /// # Errors
    /// The socket reports an error, e.g. `ENETDOWN` when the interface went down.
    pub fn wait(&self, timeout_ms: i32) -> io::Result<bool> {
        if self.ready() {
            return Ok(true);
        }
        sys::poll_in(&self.fd, timeout_ms)?;
        Ok(self.ready())
    }

    /// Reports whether the next block belongs to user space.
    pub fn ready(&self) -> bool {
        self.map.block_status(self.cur * self.block_size) & libc::TP_STATUS_USER != 0
    }

    /// Passes every frame of the next block to `f` and gives the block back to the kernel.
    /// Returns the number of frames (0 when no block is ready).
    pub fn read_block(&mut self, mut f: impl FnMut(RawFrame<'_>)) -> usize {
        let off = self.cur * self.block_size;
        let Some(block) = self.map.user_block(off, self.block_size) else {
            return 0;
        };
        // struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1:
        // block_status @8, num_pkts @12, offset_to_first_pkt @16.
        let num = ne_u32(block, 12).unwrap_or(0);
        let mut p = ne_u32(block, 16).unwrap_or(0) as usize;
        let mut n = 0;
        for _ in 0..num {
            let Some(fr) = parse_frame(block, p) else {
                break;
            };
            f(fr);
            n += 1;
            match ne_u32(block, p) {
                Some(0) | None => break,
                Some(next) => p += next as usize,
            }
        }
        self.map.release(off);
        self.cur = (self.cur + 1) % self.block_count;
        n
    }

    /// Returns how many blocks are waiting in user space (ring occupancy).
    pub fn blocks_in_use(&self) -> usize {
        (0..self.block_count)
            .filter(|i| self.map.block_status(i * self.block_size) & libc::TP_STATUS_USER != 0)
            .count()
    }

    /// Returns the number of blocks.
    pub fn block_count(&self) -> usize {
        self.block_count
    }

    /// Reads the kernel's counters (which the kernel resets on each read) and returns the
    /// totals since [`Ring::start`].
    ///
    /// # Errors
    /// `getsockopt` fails.
    pub fn kernel_stats(&mut self) -> io::Result<KernelStats> {
        let (packets, drops, freezes) = sys::packet_stats(&self.fd)?;
        // tp_packets counts delivered and dropped packets.
        self.kernel.received += u64::from(packets.saturating_sub(drops));
        self.kernel.drops += u64::from(drops);
        self.kernel.freezes += u64::from(freezes);
        Ok(self.kernel)
    }
}

/// Parses the `tpacket3_hdr` at `p` and its frame.
fn parse_frame(block: &[u8], p: usize) -> Option<RawFrame<'_>> {
    // struct tpacket3_hdr: tp_next_offset @0, tp_sec @4, tp_nsec @8, tp_snaplen @12,
    // tp_len @16, tp_status @20, tp_mac u16 @24, tp_net u16 @26,
    // hv1 { tp_rxhash @28, tp_vlan_tci @32, tp_vlan_tpid u16 @36 }.
    let sec = ne_u32(block, p + 4)?;
    let nsec = ne_u32(block, p + 8)?;
    let snaplen = ne_u32(block, p + 12)? as usize;
    let len = ne_u32(block, p + 16)?;
    let status = ne_u32(block, p + 20)?;
    let mac = usize::from(ne_u16(block, p + 24)?);
    let start = p + mac;
    let data = block.get(start..start.checked_add(snaplen)?)?;
    let vlan = if status & libc::TP_STATUS_VLAN_VALID != 0 {
        let tci = ne_u32(block, p + 32)? as u16;
        let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
            ne_u16(block, p + 36)?
        } else {
            0x8100
        };
        Some((tpid, tci))
    } else {
        None
    };
    Some(RawFrame {
        ts_ns: i64::from(sec) * 1_000_000_000 + i64::from(nsec),
        wire_len: len,
        data,
        vlan,
    })
}

/// Copies `data` into `buf` with the VLAN tag `(tpid, tci)` put back after the two MAC
/// addresses, as it was on the wire. Returns the frame.
pub fn reinsert_vlan<'b>(buf: &'b mut Vec<u8>, data: &[u8], tpid: u16, tci: u16) -> &'b [u8] {
    buf.clear();
    let at = data.len().min(12);
    buf.extend_from_slice(&data[..at]);
    buf.extend_from_slice(&tpid.to_be_bytes());
    buf.extend_from_slice(&tci.to_be_bytes());
    buf.extend_from_slice(&data[at..]);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_tag_goes_back_after_the_macs() {
        // First 16 bytes of frame 1 of fixtures/zeek-http-vlan-0.pcap less its 802.1Q tag.
        let untagged = [
            0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef, 0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0, 0x08, 0x00,
            0x45, 0x00,
        ];
        let mut buf = Vec::new();
        let f = reinsert_vlan(&mut buf, &untagged, 0x8100, 0xb000);
        assert_eq!(&f[..12], &untagged[..12]);
        assert_eq!(&f[12..16], &[0x81, 0x00, 0xb0, 0x00]);
        assert_eq!(&f[16..], &untagged[12..]);
    }

    #[test]
    fn frames_are_parsed_from_a_block_and_bounds_checked() {
        // A hand-built block: header of 48 bytes, one tpacket3_hdr at 48 with mac at +64.
        let mut b = vec![0u8; 256];
        b[12..16].copy_from_slice(&1u32.to_ne_bytes()); // num_pkts
        b[16..20].copy_from_slice(&48u32.to_ne_bytes()); // offset_to_first_pkt
        let p = 48;
        b[p + 4..p + 8].copy_from_slice(&1_700_000_000u32.to_ne_bytes());
        b[p + 8..p + 12].copy_from_slice(&123u32.to_ne_bytes());
        b[p + 12..p + 16].copy_from_slice(&60u32.to_ne_bytes());
        b[p + 16..p + 20].copy_from_slice(&64u32.to_ne_bytes());
        b[p + 20..p + 24].copy_from_slice(&libc::TP_STATUS_VLAN_VALID.to_ne_bytes());
        b[p + 24..p + 26].copy_from_slice(&64u16.to_ne_bytes());
        b[p + 32..p + 36].copy_from_slice(&7u32.to_ne_bytes());
        let f = parse_frame(&b, p).expect("frame");
        assert_eq!(f.ts_ns, 1_700_000_000_000_000_123);
        assert_eq!(f.wire_len, 64);
        assert_eq!(f.data.len(), 60);
        assert_eq!(f.vlan, Some((0x8100, 7)));
        // A snaplen running past the block is refused, not read.
        b[p + 12..p + 16].copy_from_slice(&200u32.to_ne_bytes());
        assert!(parse_frame(&b, p).is_none());
    }
}
