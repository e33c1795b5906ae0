//! Dropping root after the capture sockets are open (`credentials(7)`, `capabilities(7)`).
//!
//! The packet parser never runs with privileges: `cleanpath capture --user NAME` opens its
//! rings as root, then switches to NAME's uid and primary gid with no supplementary groups
//! and `PR_SET_NO_NEW_PRIVS`, and checks in `/proc/self/status` that no capability is left
//! before the first packet is read. Open sockets keep working: the kernel checked
//! `CAP_NET_RAW` when they were created.

use super::sys;
use std::io;

/// The credentials a process runs with, as `/proc/<pid>/status` reports them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    /// Real, effective, saved and filesystem user ids.
    pub uid: [u32; 4],
    /// Real, effective, saved and filesystem group ids.
    pub gid: [u32; 4],
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// Effective capability set (bit mask).
    pub cap_eff: u64,
    /// Permitted capability set (bit mask).
    pub cap_prm: u64,
}

impl Credentials {
    /// Parses the text of a `/proc/<pid>/status` file.
    pub fn parse_status(status: &str) -> Option<Self> {
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let ids = |name: &str| -> Option<[u32; 4]> {
            let v: Vec<u32> = field(name)?
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            v.try_into().ok()
        };
        let caps = |name: &str| u64::from_str_radix(field(name)?, 16).ok();
        Some(Self {
            uid: ids("Uid")?,
            gid: ids("Gid")?,
            groups: field("Groups")?
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?,
            cap_eff: caps("CapEff")?,
            cap_prm: caps("CapPrm")?,
        })
    }

    /// Reads the calling process's credentials.
    ///
    /// # Errors
    /// `/proc/self/status` cannot be read or parsed.
    pub fn current() -> io::Result<Self> {
        let s = std::fs::read_to_string("/proc/self/status")?;
        Self::parse_status(&s).ok_or_else(|| io::Error::other("cannot parse /proc/self/status"))
    }
}

/// A user to switch to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// Looks a user up by name or number in a `passwd(5)` text.
pub fn lookup_user(passwd: &str, name: &str) -> Option<User> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let (n, _pw, uid, gid) = (f.next()?, f.next()?, f.next()?, f.next()?);
        let (uid, gid) = (uid.parse().ok()?, gid.parse().ok()?);
        (n == name || name.parse() == Ok(uid)).then_some(User { uid, gid })
    })
}

/// Returns whether the process runs as root.
pub fn is_root() -> bool {
    sys::geteuid() == 0
}

/// Switches to `user` (no supplementary groups, no new privileges) and verifies that the
/// process kept no capability and cannot switch back.
///
/// # Errors
/// A credential call fails, or the check finds a capability or id left over.
pub fn drop_to(user: User) -> io::Result<Credentials> {
    sys::drop_privileges(user.uid, user.gid, &[])?;
    let c = Credentials::current()?;
    if c.uid != [user.uid; 4] || c.gid != [user.gid; 4] || !c.groups.is_empty() {
        return Err(io::Error::other(format!(
            "privilege drop incomplete: {c:?}"
        )));
    }
    if user.uid != 0 && (c.cap_eff != 0 || c.cap_prm != 0) {
        return Err(io::Error::other(format!(
            "capabilities left after dropping to uid {}: {c:?}",
            user.uid
        )));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_of_a_dropped_process_parses() {
        // Lines of /proc/PID/status of `cleanpath capture --user nobody` on Debian 12.
        let s = "Name:\tcleanpath\nUid:\t65534\t65534\t65534\t65534\nGid:\t65534\t65534\t65534\t65534\n\
                 FDSize:\t64\nGroups:\t\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n\
                 CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n";
        let c = Credentials::parse_status(s).expect("parses");
        assert_eq!(c.uid, [65534; 4]);
        assert!(c.groups.is_empty());
        assert_eq!(c.cap_eff, 0);
        let root = "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t0 1\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n";
        let r = Credentials::parse_status(root).expect("parses");
        assert_eq!(r.groups, vec![0, 1]);
        assert_eq!(r.cap_eff, 0x1ff_ffff_ffff);
    }

    #[test]
    fn users_are_found_by_name_or_number() {
        let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
        let root = lookup_user(&passwd, "root").expect("root exists");
        assert_eq!(root, User { uid: 0, gid: 0 });
        assert_eq!(lookup_user(&passwd, "0"), Some(root));
        assert_eq!(lookup_user(&passwd, "no-such-user-cleanpath"), None);
    }
}
