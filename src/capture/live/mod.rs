//! Live capture on Linux: AF_PACKET sockets with TPACKET_V3 memory-mapped rings
//! (`packet(7)`, kernel `Documentation/networking/packet_mmap.rst`), sharded over worker
//! threads with `PACKET_FANOUT`, and the privilege drop that follows opening them.
//!
//! - [`ring`]: one receive ring on one interface, its frames and kernel counters.
//! - [`fanout`]: the classic BPF program that keeps both directions of a flow (and of a
//!   GTP-U tunnel) on one worker.
//! - [`privdrop`]: switching to an unprivileged user before the first packet is parsed.
//! - `sys` (private): every `unsafe` system call, wrapped.
//!
//! Frames go through the same [`crate::pipeline::Analyzer`] as capture files; this module
//! only delivers them, with their kernel timestamps (ns) and the VLAN tag the kernel took
//! off put back in place.

pub mod fanout;
pub mod privdrop;
pub mod ring;
mod sys;

pub use ring::{KernelStats, RawFrame, Ring, RingConfig, reinsert_vlan};

use super::LinkType;
use std::io;

/// A network interface to capture on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface name.
    pub name: String,
    /// Kernel interface index.
    pub ifindex: i32,
    /// Link type of its frames.
    pub link: LinkType,
}

impl Interface {
    /// Looks an interface up in `/sys/class/net`.
    ///
    /// # Errors
    /// No such interface, or a hardware type cleanpath does not decode.
    pub fn lookup(name: &str) -> io::Result<Self> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?}: not an interface name"),
            ));
        }
        let dir = std::path::Path::new("/sys/class/net").join(name);
        let read = |f: &str| -> io::Result<i32> {
            let s = std::fs::read_to_string(dir.join(f))
                .map_err(|e| io::Error::new(e.kind(), format!("interface {name}: {e}")))?;
            s.trim()
                .parse()
                .map_err(|_| io::Error::other(format!("interface {name}: bad {f} {s:?}")))
        };
        let ifindex = read("ifindex")?;
        // ARPHRD_* (<linux/if_arp.h>): the frame format the packet socket delivers.
        let link = match read("type")? {
            1 | 772 => LinkType::ETHERNET, // ARPHRD_ETHER, ARPHRD_LOOPBACK
            0xfffe => LinkType::RAW,       // ARPHRD_NONE (tun, wireguard): raw IP
            t => {
                return Err(io::Error::other(format!(
                    "interface {name}: hardware type {t} is not captured (Ethernet or raw IP only)"
                )));
            }
        };
        Ok(Self {
            name: name.to_string(),
            ifindex,
            link,
        })
    }

    /// Returns the interface's operational state (`up`, `down`, …), or `gone`.
    pub fn operstate(&self) -> String {
        std::fs::read_to_string(format!("/sys/class/net/{}/operstate", self.name))
            .map_or_else(|_| "gone".to_string(), |s| s.trim().to_string())
    }
}

/// Opens the sockets for raw frame output on an interface (`cleanpath replay`).
#[derive(Debug)]
pub struct Sender {
    fd: std::os::fd::OwnedFd,
}

impl Sender {
    /// Opens a packet socket bound to `iface` for sending.
    ///
    /// # Errors
    /// No `CAP_NET_RAW`, or the interface is gone.
    pub fn open(iface: &Interface) -> io::Result<Self> {
        let fd = sys::packet_socket()?;
        sys::bind_all(&fd, iface.ifindex)?;
        // Receive nothing on this socket: it only sends.
        sys::attach_filter(&fd, &[sys::insn(0x06, 0, 0, 0)])?;
        Ok(Self { fd })
    }

    /// Sends one frame as it is (link-layer header included).
    ///
    /// # Errors
    /// The kernel refuses it (e.g. `EMSGSIZE` above the MTU, `ENOBUFS` when the queue is full).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        sys::send(&self.fd, frame).map(drop)
    }
}

/// Signals received, as reported by [`take_signals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signals {
    /// SIGINT or SIGTERM: stop, flushing every open flow.
    pub stop: bool,
    /// SIGHUP: reload denylists and tables.
    pub reload: bool,
}

/// Installs SIGINT, SIGTERM and SIGHUP handlers that only record the signal, so that the
/// capture loop can act on it between blocks.
///
/// # Errors
/// `sigaction` fails.
pub fn install_signal_handlers() -> io::Result<()> {
    sys::install_signal_flags()
}

/// Returns (and clears) the signals received since the last call.
pub fn take_signals() -> Signals {
    let s = sys::take_signals();
    Signals {
        stop: s & sys::SIG_STOP != 0,
        reload: s & sys::SIG_RELOAD != 0,
    }
}
