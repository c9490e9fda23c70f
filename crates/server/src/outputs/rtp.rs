//! RTP/UDP push: each published stream that an `[[output.rtp]]` entry matches is muxed to
//! MPEG-TS and sent to the entry's address, as RTP (RFC 2250) or as bare TS in UDP.
//!
//! # RTP fields
//!
//! - Payload type 33 (MP2T), a whole number of 188-byte TS packets per datagram (7 by default:
//!   1316 bytes, which with the 12-byte RTP, 8-byte UDP and 20-byte IPv4 headers fits a
//!   1500-byte MTU).
//! - Timestamp: 90 kHz, the stream time of the TS packets' unit (the PCR clock), never
//!   decreasing, plus a random offset; it is the time of the first packet in the datagram.
//! - Sequence number: random start, +1 per datagram. SSRC: random per sender task.
//! - Marker bit: as RFC 2250 says for MP2T, set when the timestamp is discontinuous: on the
//!   first datagram, and on the first after a publisher restart or a skip. (It does not mark
//!   the end of a video frame: datagrams carry packets of audio and video interleaved.)
//!
//! Datagrams are sent as soon as the frames already published are muxed: a datagram holds
//! fewer packets when nothing more is ready, rather than waiting.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use rtmpkit_proto::mpegts::{TS_PACKET_SIZE, TsMuxer, TsMuxerConfig, TsUnit};
use rtmpkit_proto::rtp::RtpHeader;
use tokio::net::UdpSocket;
use tokio::sync::watch;

use super::per_stream::shutdown_signal;
use crate::config::{RtpOutputConfig, RtpTransport};
use crate::hub::{Delivery, FrameKind, Hub, StreamKey};

/// RTP payload type of MPEG-2 transport streams (RFC 3551).
pub const PAYLOAD_TYPE_MP2T: u8 = 33;

/// Groups TS packets into datagrams, with RTP headers or without. Sans-I/O: units in,
/// datagrams out.
#[derive(Debug)]
pub struct TsDatagrams {
    transport: RtpTransport,
    per_datagram: usize,
    ssrc: u32,
    sequence: u16,
    timestamp_offset: u32,
    /// Highest 90 kHz time so far.
    clock: u64,
    marker_due: bool,
    /// Packets waiting for a datagram, and the RTP time of the first.
    pending: Vec<u8>,
    pending_time: u32,
}

impl TsDatagrams {
    /// `ssrc`, the first sequence number and the timestamp offset should be random (RFC 3550).
    pub fn new(
        transport: RtpTransport,
        per_datagram: usize,
        ssrc: u32,
        first_sequence: u16,
        timestamp_offset: u32,
    ) -> TsDatagrams {
        TsDatagrams {
            transport,
            per_datagram: per_datagram.clamp(1, 7),
            ssrc,
            sequence: first_sequence,
            timestamp_offset,
            clock: 0,
            marker_due: true,
            pending: Vec::with_capacity(7 * TS_PACKET_SIZE),
            pending_time: 0,
        }
    }

    /// The timestamps jump (new publisher, skipped frames): the next datagram has the marker.
    pub fn discontinuity(&mut self) {
        self.marker_due = true;
    }

    /// Adds a unit's packets; full datagrams go to `out`.
    pub fn push(&mut self, unit: &TsUnit, out: &mut Vec<Bytes>) {
        self.clock = self.clock.max(unit.timestamp_ms.saturating_mul(90));
        // RTP timestamps are 32-bit and wrap: the truncation is the point.
        let now = (self.clock as u32).wrapping_add(self.timestamp_offset);
        for packet in unit.packets.chunks(TS_PACKET_SIZE) {
            if self.pending.is_empty() {
                self.pending_time = now;
            }
            self.pending.extend_from_slice(packet);
            if self.pending.len() >= self.per_datagram * TS_PACKET_SIZE {
                self.flush(out);
            }
        }
    }

    /// Sends what is pending as a shorter datagram.
    pub fn flush(&mut self, out: &mut Vec<Bytes>) {
        if self.pending.is_empty() {
            return;
        }
        let datagram = match self.transport {
            RtpTransport::Udp => Bytes::copy_from_slice(&self.pending),
            RtpTransport::Rtp => {
                let mut header = RtpHeader::new(
                    PAYLOAD_TYPE_MP2T,
                    self.sequence,
                    self.pending_time,
                    self.ssrc,
                );
                header.marker = std::mem::take(&mut self.marker_due);
                self.sequence = self.sequence.wrapping_add(1);
                let mut d = Vec::with_capacity(12 + self.pending.len());
                // A plain header (no CSRC, no extension) always encodes.
                let _ = header.encode(&mut d);
                d.extend_from_slice(&self.pending);
                Bytes::from(d)
            }
        };
        self.pending.clear();
        out.push(datagram);
    }
}

/// The sender task for one stream and one entry: until the publisher leaves (or shutdown).
pub(crate) async fn run_sender(
    hub: Hub,
    key: StreamKey,
    entry: RtpOutputConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let bind: SocketAddr = match entry.destination {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(stream = %key, destination = %entry.destination, error = %e, "RTP output: cannot open a UDP socket");
            return;
        }
    };
    let mut datagrams = TsDatagrams::new(
        entry.transport,
        entry.packets_per_datagram,
        rand::random(),
        rand::random(),
        rand::random(),
    );
    let mut muxer = TsMuxer::new(TsMuxerConfig::default());
    let mut sub = hub.subscribe(key.clone());
    let mut out = Vec::new();
    let (mut sent, mut send_errors, mut mux_errors) = (0u64, 0u64, 0u64);
    tracing::info!(stream = %key, destination = %entry.destination, transport = ?entry.transport, "RTP output started");
    let mut joined = false;
    'session: loop {
        let mut delivery = tokio::select! {
            d = sub.next() => Some(d),
            () = shutdown_signal(&mut shutdown) => break,
        };
        // Everything already published goes out before the next wait.
        while let Some(d) = delivery {
            match d {
                Delivery::PublisherJoined if joined => break 'session,
                Delivery::PublisherJoined => joined = true,
                Delivery::PublisherLeft | Delivery::NotFound => break 'session,
                Delivery::Skipped(_) => {
                    datagrams.discontinuity();
                    muxer.force_psi();
                }
                Delivery::Frame(f) => {
                    let unit = match f.kind() {
                        FrameKind::Video => muxer.push_video(f.timestamp_ext(), f.payload()),
                        FrameKind::Audio => muxer.push_audio(f.timestamp_ext(), f.payload()),
                        FrameKind::Data => Ok(None),
                    };
                    match unit {
                        Ok(Some(u)) => datagrams.push(&u, &mut out),
                        Ok(None) => {}
                        Err(e) => {
                            mux_errors += 1;
                            if mux_errors <= 5 {
                                tracing::warn!(stream = %key, error = %e, "RTP output: frame not muxed");
                            }
                        }
                    }
                }
            }
            delivery = sub.try_next();
        }
        datagrams.flush(&mut out);
        for d in out.drain(..) {
            match socket.send_to(&d, entry.destination).await {
                Ok(_) => sent += 1,
                Err(e) => {
                    send_errors += 1;
                    if send_errors == 1 {
                        tracing::warn!(stream = %key, destination = %entry.destination, error = %e, "RTP output: send failed");
                    }
                }
            }
        }
    }
    datagrams.flush(&mut out);
    for d in out.drain(..) {
        let _ = socket.send_to(&d, entry.destination).await;
    }
    tracing::info!(stream = %key, destination = %entry.destination, datagrams = sent, send_errors, mux_errors, "RTP output stopped");
}

/// The RTP entries of `config` that apply to `key`.
pub(crate) fn entries_for(
    config: &Arc<crate::config::ServerConfig>,
    key: &StreamKey,
) -> Vec<RtpOutputConfig> {
    config
        .output
        .rtp
        .iter()
        .filter(|e| e.matches(&key.app, &key.name))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmpkit_proto::rtp::RtpPacket;

    fn unit(ms: u64, packets: usize) -> TsUnit {
        let mut data = Vec::new();
        for i in 0..packets {
            let mut p = vec![0x47, 0x01, 0x00, 0x10];
            p.resize(TS_PACKET_SIZE, i as u8);
            data.extend(p);
        }
        TsUnit {
            track: rtmpkit_proto::mpegts::TsTrack::Video,
            pts: ms * 90,
            dts: ms * 90,
            timestamp_ms: ms,
            random_access: false,
            psi: false,
            packets: Bytes::from(data),
        }
    }

    #[test]
    fn rtp_datagrams_hold_seven_packets_with_header_fields() {
        let mut d = TsDatagrams::new(RtpTransport::Rtp, 7, 0xdead_beef, 0xfffe, 0xffff_ff00);
        let mut out = Vec::new();
        d.push(&unit(0, 10), &mut out);
        assert_eq!(out.len(), 1);
        d.push(&unit(40, 5), &mut out);
        assert_eq!(out.len(), 2);
        d.flush(&mut out);
        d.discontinuity();
        d.push(&unit(20, 1), &mut out);
        d.flush(&mut out);
        assert_eq!(out.len(), 4);
        let p: Vec<_> = out.iter().map(|b| RtpPacket::decode(b).unwrap()).collect();
        assert_eq!(
            p.iter().map(|p| p.payload.len() / 188).collect::<Vec<_>>(),
            [7, 7, 1, 1]
        );
        assert!(p.iter().all(|p| p.payload.len() % 188 == 0));
        assert!(
            p.iter()
                .all(|p| p.header.payload_type == 33 && p.header.ssrc == 0xdead_beef)
        );
        assert_eq!(
            p.iter().map(|p| p.header.sequence).collect::<Vec<_>>(),
            [0xfffe, 0xffff, 0, 1]
        );
        assert_eq!(
            p.iter().map(|p| p.header.marker).collect::<Vec<_>>(),
            [true, false, false, true]
        );
        // The second datagram starts with unit 0's packets 8-10: time 0. The clock never goes
        // back (unit at 20 ms after one at 40 ms) and wraps at 2^32.
        let t: Vec<u32> = p.iter().map(|p| p.header.timestamp).collect();
        assert_eq!(
            t,
            [
                0xffff_ff00,
                0xffff_ff00,
                0xffff_ff00u32.wrapping_add(3600),
                0xffff_ff00u32.wrapping_add(3600)
            ]
        );
    }

    #[test]
    fn udp_datagrams_are_bare_packets() {
        let mut d = TsDatagrams::new(RtpTransport::Udp, 3, 1, 1, 1);
        let mut out = Vec::new();
        d.push(&unit(0, 4), &mut out);
        d.flush(&mut out);
        assert_eq!(
            out.iter().map(Bytes::len).collect::<Vec<_>>(),
            [3 * 188, 188]
        );
        assert!(out.iter().all(|b| b[0] == 0x47));
    }
}
