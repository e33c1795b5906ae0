//! Sharding packets over workers with `PACKET_FANOUT_CBPF` so that every packet of a flow,
//! in both directions, reaches the same worker (`packet(7)`, "PACKET_FANOUT").
//!
//! The kernel's `PACKET_FANOUT_HASH` uses the skb hash, which a NIC may compute with a
//! non-symmetric RSS key and which, for a GTP-U tunnel, covers the outer UDP ports and
//! addresses only by accident of the flow dissector. cleanpath instead installs its own
//! classic BPF program that returns a hash of the **outer IP address pair, combined with
//! XOR** (symmetric: `a ^ b == b ^ a`), then mixed; the kernel takes it modulo the number of
//! workers.
//!
//! Why the outer pair: every [`crate::flow::FlowKey`] of an IP frame contains it — the
//! tunnel endpoints (gNB, UPF) for GTP-U flows, the addresses for plain IP flows — so the
//! shard is a function of the flow key, and uplink, downlink and every QoS flow of a tunnel
//! land on one worker. The cost: all tunnels between one gNB and one UPF share a worker.
//! Frames that are not IPv4/IPv6 after at most the one VLAN tag the kernel removes (ARP,
//! LLDP, MPLS, QinQ, PPPoE …) all go to worker 0, which keeps their flows whole too.

use super::sys::{Insn, insn};

/// `PACKET_FANOUT_CBPF` mode.
const FANOUT_CBPF: u32 = 6;

/// classic BPF opcodes (`<linux/bpf_common.h>`).
mod op {
    pub(super) const LD_W_ABS: u16 = 0x20;
    pub(super) const JEQ_K: u16 = 0x15;
    pub(super) const TAX: u16 = 0x07;
    pub(super) const XOR_X: u16 = 0xac;
    pub(super) const MUL_K: u16 = 0x24;
    pub(super) const RSH_K: u16 = 0x74;
    pub(super) const RET_A: u16 = 0x16;
    pub(super) const RET_K: u16 = 0x06;
}

/// `SKF_AD_OFF + SKF_AD_PROTOCOL`: loads the EtherType (after VLAN untagging).
const AD_PROTOCOL: u32 = 0xffff_f000;
/// `SKF_NET_OFF`: loads relative to the network header.
const NET: u32 = 0xfff0_0000;

/// Returns the `PACKET_FANOUT` argument for group `id` in CBPF mode.
pub fn fanout_arg(id: u16) -> u32 {
    u32::from(id) | (FANOUT_CBPF << 16)
}

/// Returns the fanout program: a symmetric hash of the outer IP address pair.
pub fn symmetric_program() -> Vec<Insn> {
    // XOR of 32-bit words at network-header offsets `a[i]` and `b[i]`, accumulated in X.
    fn xor_words(p: &mut Vec<Insn>, words: &[(u32, u32)]) {
        for (i, &(a, b)) in words.iter().enumerate() {
            if i > 0 {
                p.push(insn(op::TAX, 0, 0, 0));
            }
            p.push(insn(op::LD_W_ABS, 0, 0, NET + a));
            if i > 0 {
                p.push(insn(op::XOR_X, 0, 0, 0));
            }
            p.push(insn(op::TAX, 0, 0, 0));
            p.push(insn(op::LD_W_ABS, 0, 0, NET + b));
            p.push(insn(op::XOR_X, 0, 0, 0));
        }
    }
    fn mix_and_return(p: &mut Vec<Insn>) {
        p.push(insn(op::MUL_K, 0, 0, 0x9e37_79b1));
        p.push(insn(op::TAX, 0, 0, 0));
        p.push(insn(op::RSH_K, 0, 0, 16));
        p.push(insn(op::XOR_X, 0, 0, 0));
        p.push(insn(op::RET_A, 0, 0, 0));
    }
    let mut v4 = Vec::new();
    xor_words(&mut v4, &[(12, 16)]);
    mix_and_return(&mut v4);
    let mut v6 = Vec::new();
    xor_words(&mut v6, &[(8, 24), (12, 28), (16, 32), (20, 36)]);
    mix_and_return(&mut v6);

    let mut p = vec![insn(op::LD_W_ABS, 0, 0, AD_PROTOCOL)];
    // jeq IPv4: fall through to the v4 block (after the next jump), else next test.
    p.push(insn(op::JEQ_K, 1, 0, 0x0800));
    p.push(insn(
        op::JEQ_K,
        u8::try_from(v4.len()).unwrap_or(u8::MAX),
        u8::try_from(v4.len() + v6.len()).unwrap_or(u8::MAX),
        0x86dd,
    ));
    p.extend(v4);
    p.extend(v6);
    p.push(insn(op::RET_K, 0, 0, 0));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic BPF interpreter for the opcodes the program uses, over an IP packet.
    fn run(prog: &[Insn], proto: u16, net: &[u8]) -> Option<u32> {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        loop {
            let i = prog.get(pc)?;
            pc += 1;
            match i.code {
                op::LD_W_ABS if i.k == AD_PROTOCOL => a = u32::from(proto),
                op::LD_W_ABS => {
                    let o = (i.k - NET) as usize;
                    match net.get(o..o + 4) {
                        Some(w) => a = u32::from_be_bytes(w.try_into().ok()?),
                        None => return Some(0), // out of bounds: the kernel returns 0
                    }
                }
                op::JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                op::TAX => x = a,
                op::XOR_X => a ^= x,
                op::MUL_K => a = a.wrapping_mul(i.k),
                op::RSH_K => a >>= i.k,
                op::RET_A => return Some(a),
                op::RET_K => return Some(i.k),
                _ => return None,
            }
        }
    }

    /// A 20-byte IPv4/UDP header with these addresses (only offsets 12..20 matter).
    fn ipv4(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 0x54, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0];
        h.extend(src);
        h.extend(dst);
        h
    }

    #[test]
    fn both_directions_hash_alike_and_different_pairs_spread() {
        let p = symmetric_program();
        let up = run(&p, 0x0800, &ipv4([10, 100, 200, 2], [10, 100, 200, 3]));
        let down = run(&p, 0x0800, &ipv4([10, 100, 200, 3], [10, 100, 200, 2]));
        assert_eq!(up, down);
        let mut shards = std::collections::BTreeSet::new();
        for last in 1..=16u8 {
            let h = run(&p, 0x0800, &ipv4([10, 0, 0, 1], [10, 0, 0, last])).expect("runs");
            shards.insert(h % 2);
        }
        assert_eq!(shards.len(), 2, "16 host pairs use both of 2 workers");
    }

    #[test]
    fn ipv6_is_symmetric_and_non_ip_goes_to_worker_0() {
        let p = symmetric_program();
        let mut h = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        let a: [u8; 16] = "2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .expect("ip")
            .octets();
        let b: [u8; 16] = "2408:8000::1"
            .parse::<std::net::Ipv6Addr>()
            .expect("ip")
            .octets();
        let mut fwd = h.clone();
        fwd.extend(a);
        fwd.extend(b);
        h.extend(b);
        h.extend(a);
        assert_eq!(run(&p, 0x86dd, &fwd), run(&p, 0x86dd, &h));
        assert_ne!(run(&p, 0x86dd, &fwd), Some(0));
        assert_eq!(run(&p, 0x0806, &fwd), Some(0));
        // A truncated IPv4 header: the load fails and the kernel returns 0.
        assert_eq!(run(&p, 0x0800, &[0x45, 0, 0, 20]), Some(0));
    }
}
