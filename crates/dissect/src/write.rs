//! Minimal pcap and pcapng writers: build synthetic captures in tests and save extracted
//! packets. Little-endian output, one interface per pcapng file unless added.

use crate::capture::{LinkType, Timestamp};

/// Writes a classic pcap file into a `Vec<u8>`.
#[derive(Debug, Clone)]
pub struct PcapWriter {
    out: Vec<u8>,
    nanosecond: bool,
}

impl PcapWriter {
    /// Starts a file: global header with the given link type and snap length.
    pub fn new(link_type: LinkType, snaplen: u32, nanosecond: bool) -> Self {
        let mut out = Vec::with_capacity(1 << 16);
        let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        out.extend_from_slice(&magic.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&snaplen.to_le_bytes());
        out.extend_from_slice(&u32::from(link_type.0).to_le_bytes());
        PcapWriter { out, nanosecond }
    }

    /// Appends a record; `original_len` may exceed `data.len()` (a cut packet).
    pub fn packet(&mut self, ts: Timestamp, data: &[u8], original_len: u32) -> &mut Self {
        let frac = if self.nanosecond {
            ts.nanos
        } else {
            ts.nanos / 1000
        };
        self.out.extend_from_slice(&(ts.secs as u32).to_le_bytes());
        self.out.extend_from_slice(&frac.to_le_bytes());
        self.out
            .extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.extend_from_slice(&original_len.to_le_bytes());
        self.out.extend_from_slice(data);
        self
    }

    /// The file bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// Takes the bytes written so far (to stream a large file out); writing continues.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

/// Writes a pcapng file into a `Vec<u8>`.
#[derive(Debug, Clone)]
pub struct PcapNgWriter {
    out: Vec<u8>,
    tsresol: Vec<u64>,
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

impl PcapNgWriter {
    /// Starts a file with a section header block.
    pub fn new() -> Self {
        let mut w = PcapNgWriter {
            out: Vec::with_capacity(1 << 16),
            tsresol: Vec::new(),
        };
        w.block(0x0a0d_0d0a, |b| {
            b.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&(-1i64).to_le_bytes());
        });
        w
    }

    fn block(&mut self, block_type: u32, body: impl FnOnce(&mut Vec<u8>)) {
        let start = self.out.len();
        self.out.extend_from_slice(&block_type.to_le_bytes());
        self.out.extend_from_slice(&0u32.to_le_bytes());
        body(&mut self.out);
        pad4(&mut self.out);
        let len = (self.out.len() - start + 4) as u32;
        self.out.extend_from_slice(&len.to_le_bytes());
        self.out[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    }

    /// Adds an interface; `tsresol` is the if_tsresol option byte (6 = µs, 9 = ns).
    /// Returns its interface id.
    pub fn interface(&mut self, link_type: LinkType, snaplen: u32, tsresol: u8) -> u32 {
        self.block(1, |b| {
            b.extend_from_slice(&link_type.0.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&snaplen.to_le_bytes());
            // if_tsresol option, then opt_endofopt.
            b.extend_from_slice(&9u16.to_le_bytes());
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&[tsresol, 0, 0, 0]);
            b.extend_from_slice(&[0, 0, 0, 0]);
        });
        let units = if tsresol & 0x80 == 0 {
            10u64.pow(u32::from(tsresol.min(19)))
        } else {
            1u64 << (tsresol & 0x7f).min(63)
        };
        self.tsresol.push(units);
        (self.tsresol.len() - 1) as u32
    }

    /// Appends an enhanced packet block.
    pub fn packet(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        original_len: u32,
    ) -> &mut Self {
        let units = self
            .tsresol
            .get(interface as usize)
            .copied()
            .unwrap_or(1_000_000);
        let t = ts.secs as u64 * units + u64::from(ts.nanos) * units / 1_000_000_000;
        self.block(6, |b| {
            b.extend_from_slice(&interface.to_le_bytes());
            b.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(t as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(&original_len.to_le_bytes());
            b.extend_from_slice(data);
        });
        self
    }

    /// Appends a simple packet block (interface 0, no timestamp).
    pub fn simple_packet(&mut self, data: &[u8], original_len: u32) -> &mut Self {
        self.block(3, |b| {
            b.extend_from_slice(&original_len.to_le_bytes());
            b.extend_from_slice(data);
        });
        self
    }

    /// Appends an arbitrary block (for tests of unknown or malformed blocks).
    pub fn raw_block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        self.block(block_type, |b| b.extend_from_slice(body));
        self
    }

    /// The file bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// Takes the bytes written so far (to stream a large file out); writing continues.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

impl Default for PcapNgWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// Builders of link, IP, TCP and UDP headers around a payload, for synthetic captures.
/// Checksums are computed, so other tools accept the packets too.
pub mod build {
    use std::net::IpAddr;

    fn checksum(chunks: &[&[u8]]) -> u16 {
        let mut sum = 0u32;
        let mut odd: Option<u8> = None;
        for c in chunks {
            for &b in *c {
                match odd.take() {
                    Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                    None => odd = Some(b),
                }
            }
        }
        if let Some(hi) = odd {
            sum += u32::from(u16::from_be_bytes([hi, 0]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> Vec<u8> {
        let mut p = Vec::with_capacity(40);
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                p.extend_from_slice(&[0, proto]);
                p.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                for a in [src, dst] {
                    match a {
                        IpAddr::V6(a) => p.extend_from_slice(&a.octets()),
                        IpAddr::V4(a) => p.extend_from_slice(&a.to_ipv6_mapped().octets()),
                    }
                }
                p.extend_from_slice(&(len as u32).to_be_bytes());
                p.extend_from_slice(&[0, 0, 0, proto]);
            }
        }
        p
    }

    /// A TCP header (no options) and payload, checksummed for `src` → `dst`.
    #[allow(clippy::too_many_arguments)]
    pub fn tcp(
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut t = Vec::with_capacity(20 + payload.len());
        t.extend_from_slice(&sport.to_be_bytes());
        t.extend_from_slice(&dport.to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(payload);
        let c = checksum(&[&pseudo_header(src, dst, 6, t.len()), &t]);
        t[16..18].copy_from_slice(&c.to_be_bytes());
        t
    }

    /// A UDP header and payload, checksummed for `src` → `dst`.
    pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = Vec::with_capacity(8 + payload.len());
        u.extend_from_slice(&sport.to_be_bytes());
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let c = checksum(&[&pseudo_header(src, dst, 17, u.len()), &u]);
        u[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
        u
    }

    /// An IPv4 or IPv6 header (by address family) around a transport payload.
    pub fn ip(src: IpAddr, dst: IpAddr, protocol: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(40 + payload.len());
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                p.extend_from_slice(&[0x45, 0]);
                p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
                p.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                let c = checksum(&[&p]);
                p[10..12].copy_from_slice(&c.to_be_bytes());
            }
            _ => {
                p.extend_from_slice(&[0x60, 0, 0, 0]);
                p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
                p.extend_from_slice(&[protocol, 64]);
                for a in [src, dst] {
                    match a {
                        IpAddr::V6(a) => p.extend_from_slice(&a.octets()),
                        IpAddr::V4(a) => p.extend_from_slice(&a.to_ipv6_mapped().octets()),
                    }
                }
            }
        }
        p.extend_from_slice(payload);
        p
    }

    fn ethertype_of(ip: &[u8]) -> u16 {
        if ip.first().is_some_and(|b| b >> 4 == 6) {
            0x86dd
        } else {
            0x0800
        }
    }

    /// An Ethernet II frame around an IP packet, with the given VLAN ids (outermost first:
    /// 802.1ad for the outer of two, 802.1Q otherwise).
    pub fn ethernet(vlans: &[u16], ip: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(14 + 4 * vlans.len() + ip.len());
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]);
        for (i, v) in vlans.iter().enumerate() {
            let tpid: u16 = if vlans.len() > 1 && i == 0 {
                0x88a8
            } else {
                0x8100
            };
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&(v & 0x0fff).to_be_bytes());
        }
        f.extend_from_slice(&ethertype_of(ip).to_be_bytes());
        f.extend_from_slice(ip);
        f
    }

    /// A Linux cooked v2 (SLL2) frame around an IP packet.
    pub fn sll2(ip: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(20 + ip.len());
        f.extend_from_slice(&ethertype_of(ip).to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        f.extend_from_slice(ip);
        f
    }

    /// A Linux cooked v1 (SLL) frame around an IP packet.
    pub fn sll(ip: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(16 + ip.len());
        f.extend_from_slice(&[0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        f.extend_from_slice(&ethertype_of(ip).to_be_bytes());
        f.extend_from_slice(ip);
        f
    }

    /// A BSD null/loopback frame (family in little-endian host order) around an IP packet.
    pub fn null(ip: &[u8]) -> Vec<u8> {
        let family: u32 = if ethertype_of(ip) == 0x86dd { 30 } else { 2 };
        let mut f = family.to_le_bytes().to_vec();
        f.extend_from_slice(ip);
        f
    }
}
