//! IPv4, IPv6 (with extension headers), TCP and UDP headers, decoded by hand without copying.
//!
//! Checksums are not verified: captures taken on the sending host carry checksums that the
//! NIC fills in later, so they are usually "wrong" in the file.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use thiserror::Error;

use crate::capture::{Packet, Timestamp};
use crate::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, LinkError, decode_link};

/// TCP header flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// Whether FIN is set.
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    /// Whether SYN is set.
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    /// Whether RST is set.
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    /// Whether ACK is set.
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// A TCP segment borrowing the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when the ACK flag is set).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window (unscaled).
    pub window: u16,
    /// Captured payload.
    pub payload: &'a [u8],
    /// Payload length on the wire (≥ `payload.len()` when the capture cut the packet).
    pub wire_len: u32,
}

/// A UDP datagram borrowing the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Captured payload.
    pub payload: &'a [u8],
    /// Payload length on the wire.
    pub wire_len: u32,
}

/// What a packet carried, as far as this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// An IP fragment (not reassembled).
    Fragment {
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
    },
    /// IP with another transport protocol (ICMP, SCTP, …).
    OtherIp {
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
    },
    /// A link frame that is not IP (ARP, LLDP, …).
    NotIp { ethertype: u16 },
}

/// A packet decoded down to its transport, with its frame number and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedPacket<'a> {
    /// Frame number.
    pub frame: u64,
    /// Capture time.
    pub timestamp: Timestamp,
    /// The transport.
    pub transport: Transport<'a>,
}

/// A network or transport header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NetError {
    /// The link layer failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Fewer bytes than the header needs.
    #[error("{layer} header truncated: {needed} bytes needed, {available} captured")]
    Truncated {
        layer: &'static str,
        needed: usize,
        available: usize,
    },
    /// A header field with an impossible value.
    #[error("{layer}: {field} = {value} is invalid")]
    BadField {
        layer: &'static str,
        field: &'static str,
        value: u32,
    },
}

fn need(data: &[u8], n: usize, layer: &'static str) -> Result<(), NetError> {
    if data.len() < n {
        return Err(NetError::Truncated {
            layer,
            needed: n,
            available: data.len(),
        });
    }
    Ok(())
}

fn be16(d: &[u8], at: usize) -> u16 {
    d.get(at..at + 2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
}

fn be32(d: &[u8], at: usize) -> u32 {
    d.get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes a captured packet down to TCP or UDP.
pub fn decode_packet<'a>(packet: &Packet<'a>) -> Result<DecodedPacket<'a>, NetError> {
    let link = decode_link(packet.link_type, packet.data)?;
    // Bytes the capture cut off the end apply to the innermost payload.
    let cut = packet.original_len.saturating_sub(packet.captured_len);
    let transport = match link.ethertype {
        ETHERTYPE_IPV4 => ipv4(link.payload, cut)?,
        ETHERTYPE_IPV6 => ipv6(link.payload, cut)?,
        ethertype => Transport::NotIp { ethertype },
    };
    Ok(DecodedPacket {
        frame: packet.frame,
        timestamp: packet.timestamp,
        transport,
    })
}

/// Decodes an IPv4 packet. `cut` counts bytes missing from the capture.
pub fn ipv4(d: &[u8], cut: u32) -> Result<Transport<'_>, NetError> {
    const L: &str = "IPv4";
    need(d, 20, L)?;
    let version = d[0] >> 4;
    if version != 4 {
        return Err(NetError::BadField {
            layer: L,
            field: "version",
            value: u32::from(version),
        });
    }
    let ihl = usize::from(d[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(NetError::BadField {
            layer: L,
            field: "header length",
            value: ihl as u32,
        });
    }
    need(d, ihl, L)?;
    let total = usize::from(be16(d, 2));
    // total_length 0 appears with TCP segmentation offload: use what was captured.
    let (end, wire_total) = if total == 0 {
        (d.len(), d.len() + cut as usize)
    } else if total < ihl {
        return Err(NetError::BadField {
            layer: L,
            field: "total length",
            value: total as u32,
        });
    } else {
        // Ethernet padding beyond total_length is dropped.
        (total.min(d.len()), total)
    };
    let protocol = d[9];
    let src = IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19]));
    let frag = be16(d, 6);
    if frag & 0x3fff != 0 {
        return Ok(Transport::Fragment { src, dst, protocol });
    }
    transport(protocol, src, dst, &d[ihl..end], (wire_total - ihl) as u32)
}

/// Decodes an IPv6 packet, following extension headers.
pub fn ipv6(d: &[u8], cut: u32) -> Result<Transport<'_>, NetError> {
    const L: &str = "IPv6";
    need(d, 40, L)?;
    let version = d[0] >> 4;
    if version != 6 {
        return Err(NetError::BadField {
            layer: L,
            field: "version",
            value: u32::from(version),
        });
    }
    let plen = usize::from(be16(d, 4));
    let (end, wire_total) = if plen == 0 {
        (d.len(), d.len() + cut as usize)
    } else {
        ((40 + plen).min(d.len()), 40 + plen)
    };
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&d[8..24]);
    let src = IpAddr::V6(Ipv6Addr::from(octets));
    octets.copy_from_slice(&d[24..40]);
    let dst = IpAddr::V6(Ipv6Addr::from(octets));
    let mut next = d[6];
    let mut pos = 40;
    for _ in 0..16 {
        match next {
            // Hop-by-hop, routing, destination options, mobility: (len + 1) · 8 bytes.
            0 | 43 | 60 | 135 => {
                need(d, pos + 2, "IPv6 extension header")?;
                next = d[pos];
                pos += (usize::from(d[pos + 1]) + 1) * 8;
            }
            // Authentication header: (len + 2) · 4 bytes.
            51 => {
                need(d, pos + 2, "IPv6 authentication header")?;
                next = d[pos];
                pos += (usize::from(d[pos + 1]) + 2) * 4;
            }
            44 => {
                need(d, pos + 8, "IPv6 fragment header")?;
                let off_m = be16(d, pos + 2);
                if off_m & 0xfff9 != 0 {
                    return Ok(Transport::Fragment {
                        src,
                        dst,
                        protocol: d[pos],
                    });
                }
                // An atomic fragment (offset 0, no more fragments) is a whole packet.
                next = d[pos];
                pos += 8;
            }
            _ => break,
        }
    }
    if pos > end {
        return Err(NetError::Truncated {
            layer: "IPv6 extension header",
            needed: pos,
            available: end,
        });
    }
    transport(
        next,
        src,
        dst,
        &d[pos..end],
        wire_total.saturating_sub(pos) as u32,
    )
}

fn transport(
    protocol: u8,
    src: IpAddr,
    dst: IpAddr,
    d: &[u8],
    wire_len: u32,
) -> Result<Transport<'_>, NetError> {
    match protocol {
        6 => {
            const L: &str = "TCP";
            need(d, 20, L)?;
            let off = usize::from(d[12] >> 4) * 4;
            if off < 20 {
                return Err(NetError::BadField {
                    layer: L,
                    field: "data offset",
                    value: off as u32,
                });
            }
            need(d, off, L)?;
            Ok(Transport::Tcp(TcpSegment {
                src: SocketAddr::new(src, be16(d, 0)),
                dst: SocketAddr::new(dst, be16(d, 2)),
                seq: be32(d, 4),
                ack: be32(d, 8),
                flags: TcpFlags(d[13]),
                window: be16(d, 14),
                payload: &d[off..],
                wire_len: wire_len.saturating_sub(off as u32),
            }))
        }
        17 => {
            const L: &str = "UDP";
            need(d, 8, L)?;
            let len = usize::from(be16(d, 4));
            if len != 0 && len < 8 {
                return Err(NetError::BadField {
                    layer: L,
                    field: "length",
                    value: len as u32,
                });
            }
            // Length 0 is legal for IPv6 jumbograms; use the IP payload length then.
            let wire = if len == 0 { wire_len } else { len as u32 };
            let end = (wire as usize).min(d.len());
            Ok(Transport::Udp(UdpDatagram {
                src: SocketAddr::new(src, be16(d, 0)),
                dst: SocketAddr::new(dst, be16(d, 2)),
                payload: d.get(8..end).unwrap_or(&[]),
                wire_len: wire.saturating_sub(8),
            }))
        }
        protocol => Ok(Transport::OtherIp { src, dst, protocol }),
    }
}
