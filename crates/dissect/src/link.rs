//! Link layers: Ethernet (with 802.1Q / 802.1ad / QinQ tags), Linux cooked capture v1 and
//! v2, BSD null/loopback, and raw IP. Each yields an EtherType and the network-layer bytes.

use thiserror::Error;

use crate::capture::LinkType;

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Most VLAN tags followed before giving up (QinQ uses two).
const MAX_VLAN_TAGS: usize = 8;

/// A frame with its link header removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFrame<'a> {
    /// EtherType of `payload` (IPv4 and IPv6 for the null and raw link types too).
    pub ethertype: u16,
    /// VLAN ids, outermost first (0 where absent).
    pub vlan: [u16; 2],
    /// Number of VLAN tags seen.
    pub vlan_count: u8,
    /// The network-layer bytes.
    pub payload: &'a [u8],
}

/// A link header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// Fewer bytes than the header needs.
    #[error("{layer} header truncated: {needed} bytes needed, {available} captured")]
    Truncated {
        layer: &'static str,
        needed: usize,
        available: usize,
    },
    /// A link type this reader does not decode.
    #[error("link type {0} is not supported")]
    Unsupported(u16),
    /// A loopback address family that is neither IPv4 nor IPv6.
    #[error("loopback address family {0} is not IP")]
    UnknownFamily(u32),
    /// Raw IP whose version nibble is neither 4 nor 6.
    #[error("raw IP packet with version {0}")]
    BadIpVersion(u8),
    /// More VLAN tags than this reader follows.
    #[error("more than {MAX_VLAN_TAGS} VLAN tags")]
    TooManyVlanTags,
}

fn need(data: &[u8], n: usize, layer: &'static str) -> Result<(), LinkError> {
    if data.len() < n {
        return Err(LinkError::Truncated {
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

/// Strips the link header of `data` captured with `link_type`.
pub fn decode_link(link_type: LinkType, data: &[u8]) -> Result<LinkFrame<'_>, LinkError> {
    match link_type {
        LinkType::ETHERNET => ethernet(data),
        LinkType::LINUX_SLL => {
            need(data, 16, "Linux cooked (SLL)")?;
            Ok(plain(be16(data, 14), &data[16..]))
        }
        LinkType::LINUX_SLL2 => {
            need(data, 20, "Linux cooked v2 (SLL2)")?;
            Ok(plain(be16(data, 0), &data[20..]))
        }
        LinkType::NULL | LinkType::LOOP => {
            need(data, 4, "loopback")?;
            let raw = [data[0], data[1], data[2], data[3]];
            let family = if link_type == LinkType::LOOP {
                u32::from_be_bytes(raw)
            } else {
                // Host byte order of the capturing machine: a family fits in the low bytes.
                let le = u32::from_le_bytes(raw);
                if le <= 0xffff {
                    le
                } else {
                    u32::from_be_bytes(raw)
                }
            };
            let ethertype = match family {
                2 => ETHERTYPE_IPV4,
                // AF_INET6 differs per OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
                10 | 24 | 28 | 30 => ETHERTYPE_IPV6,
                f => return Err(LinkError::UnknownFamily(f)),
            };
            Ok(plain(ethertype, &data[4..]))
        }
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 | LinkType::IPV4 | LinkType::IPV6 => {
            need(data, 1, "raw IP")?;
            match data[0] >> 4 {
                4 => Ok(plain(ETHERTYPE_IPV4, data)),
                6 => Ok(plain(ETHERTYPE_IPV6, data)),
                v => Err(LinkError::BadIpVersion(v)),
            }
        }
        LinkType(other) => Err(LinkError::Unsupported(other)),
    }
}

fn plain(ethertype: u16, payload: &[u8]) -> LinkFrame<'_> {
    LinkFrame {
        ethertype,
        vlan: [0; 2],
        vlan_count: 0,
        payload,
    }
}

fn ethernet(data: &[u8]) -> Result<LinkFrame<'_>, LinkError> {
    need(data, 14, "Ethernet")?;
    let mut ethertype = be16(data, 12);
    let mut pos = 14;
    let mut frame = plain(ethertype, &[]);
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100 | 0x9200) {
        if usize::from(frame.vlan_count) >= MAX_VLAN_TAGS {
            return Err(LinkError::TooManyVlanTags);
        }
        need(data, pos + 4, "802.1Q VLAN tag")?;
        if let Some(slot) = frame.vlan.get_mut(usize::from(frame.vlan_count)) {
            *slot = be16(data, pos) & 0x0fff;
        }
        frame.vlan_count += 1;
        ethertype = be16(data, pos + 2);
        pos += 4;
    }
    frame.ethertype = ethertype;
    frame.payload = &data[pos..];
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_qinq() {
        let mut f = vec![0u8; 12];
        f.extend([
            0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x20, 0xc8, 0x08, 0x00, 0x45,
        ]);
        let l = decode_link(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(l.ethertype, ETHERTYPE_IPV4);
        assert_eq!((l.vlan, l.vlan_count), ([100, 200], 2));
        assert_eq!(l.payload, &[0x45]);
        // Tag announced but cut off.
        assert!(matches!(
            decode_link(LinkType::ETHERNET, &f[..16]),
            Err(LinkError::Truncated {
                layer: "802.1Q VLAN tag",
                ..
            })
        ));
    }

    #[test]
    fn cooked_loopback_and_raw() {
        let mut sll = vec![0u8; 14];
        sll.extend([0x86, 0xdd, 0x60]);
        let l = decode_link(LinkType::LINUX_SLL, &sll).unwrap();
        assert_eq!((l.ethertype, l.payload), (ETHERTYPE_IPV6, &[0x60][..]));
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend([0u8; 18]);
        sll2.push(0x45);
        let l = decode_link(LinkType::LINUX_SLL2, &sll2).unwrap();
        assert_eq!((l.ethertype, l.payload), (ETHERTYPE_IPV4, &[0x45][..]));
        let l = decode_link(LinkType::NULL, &[2, 0, 0, 0, 0x45]).unwrap();
        assert_eq!(l.ethertype, ETHERTYPE_IPV4);
        let l = decode_link(LinkType::NULL, &[0, 0, 0, 30, 0x60]).unwrap();
        assert_eq!(l.ethertype, ETHERTYPE_IPV6);
        let l = decode_link(LinkType::LOOP, &[0, 0, 0, 2, 0x45]).unwrap();
        assert_eq!(l.ethertype, ETHERTYPE_IPV4);
        assert_eq!(
            decode_link(LinkType::NULL, &[7, 0, 0, 0]),
            Err(LinkError::UnknownFamily(7))
        );
        assert_eq!(
            decode_link(LinkType::RAW, &[0x60]).unwrap().ethertype,
            ETHERTYPE_IPV6
        );
        assert_eq!(
            decode_link(LinkType::RAW, &[0x50]),
            Err(LinkError::BadIpVersion(5))
        );
        assert_eq!(
            decode_link(LinkType(147), &[]),
            Err(LinkError::Unsupported(147))
        );
    }
}
