//! RTP and MPEG-TS over UDP: which datagrams are which, and per-stream statistics.
//!
//! A UDP flow is analysed when a `--decode-as` rule names its port, or when heuristics
//! recognise it: RTP version 2 with payload type 33 whose payload starts with the TS sync
//! byte, or a datagram of whole 188-byte packets each starting with 0x47. The result is data
//! ([`UdpStream`], [`RtpStats`], [`TsStats`]); views print it.

mod rtp_stats;
mod ts_report;
mod ts_stats;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use rtmpkit_proto::mpegts::{SYNC_BYTE, TS_PACKET_SIZE};
use rtmpkit_proto::rtp::{PAYLOAD_TYPE_MP2T, RtpPacket};

pub use rtp_stats::{MAX_GAP_RECORDS, RtpStats, SequenceGap, static_clock_rate};
pub use ts_report::{
    CcError, MAX_EVENTS, MAX_PES_TIMINGS, PcrStats, PesStats, PesTiming, PidKind, PidStats, Seen,
    TableError, TsStats,
};
pub use ts_stats::TsAnalyzer;

use crate::capture::Timestamp;
use crate::net::UdpDatagram;

/// How a UDP payload is to be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpPayloadKind {
    /// RTP; when the payload is MPEG-TS (PT 33 or a sync byte), the TS is analysed too.
    Rtp,
    /// Raw MPEG-TS packets.
    MpegTs,
}

/// A `--decode-as` rule: `udp.port==N,rtp` or `udp.port==N,mp2t` (either port matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecodeAs {
    /// UDP port.
    pub port: u16,
    /// Decoder to apply.
    pub kind: UdpPayloadKind,
}

/// A `--decode-as` rule that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad decode-as rule '{rule}': {why} (expected udp.port==PORT,rtp or udp.port==PORT,mp2t)")]
pub struct DecodeAsError {
    /// The rule as given.
    pub rule: String,
    /// What was wrong.
    pub why: &'static str,
}

impl FromStr for DecodeAs {
    type Err = DecodeAsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| DecodeAsError {
            rule: s.to_string(),
            why,
        };
        let (selector, proto) = s.split_once(',').ok_or_else(|| err("missing ','"))?;
        let port = selector
            .trim()
            .strip_prefix("udp.port")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("=="))
            .ok_or_else(|| err("selector must be udp.port==PORT"))?;
        let port = port
            .trim()
            .parse()
            .map_err(|_| err("port is not a number 0-65535"))?;
        let kind = match proto.trim().to_ascii_lowercase().as_str() {
            "rtp" => UdpPayloadKind::Rtp,
            "mp2t" | "mpegts" | "ts" => UdpPayloadKind::MpegTs,
            _ => return Err(err("decoder must be rtp or mp2t")),
        };
        Ok(DecodeAs { port, kind })
    }
}

impl fmt::Display for DecodeAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = match self.kind {
            UdpPayloadKind::Rtp => "rtp",
            UdpPayloadKind::MpegTs => "mp2t",
        };
        write!(f, "udp.port=={},{k}", self.port)
    }
}

/// One analysed UDP stream: a 4-tuple, and for RTP one SSRC.
pub struct UdpStream {
    /// 0-based index in order of first appearance.
    pub index: usize,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// How the payload is decoded.
    pub kind: UdpPayloadKind,
    /// Frame of the first datagram.
    pub first_frame: u64,
    /// Frame of the last datagram.
    pub last_frame: u64,
    /// Time of the first datagram.
    pub first_time: Timestamp,
    /// Time of the last datagram.
    pub last_time: Timestamp,
    /// Datagrams.
    pub datagrams: u64,
    /// UDP payload bytes.
    pub bytes: u64,
    /// Datagrams on an RTP flow that did not parse as RTP.
    pub rtp_errors: u64,
    /// RTP statistics (RTP streams).
    pub rtp: Option<RtpStats>,
    ts: Option<TsAnalyzer>,
}

impl UdpStream {
    /// MPEG-TS statistics, when the stream carries TS.
    pub fn ts(&self) -> Option<&TsStats> {
        self.ts.as_ref().map(TsAnalyzer::stats)
    }

    /// Average UDP payload bitrate, bit/s.
    pub fn bitrate_bps(&self) -> Option<f64> {
        let secs = (self.last_time.as_nanos() - self.first_time.as_nanos()) as f64 / 1e9;
        (secs > 0.0).then(|| self.bytes as f64 * 8.0 / secs)
    }
}

impl fmt::Debug for UdpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpStream")
            .field("index", &self.index)
            .field("src", &self.src)
            .field("dst", &self.dst)
            .field("kind", &self.kind)
            .field("datagrams", &self.datagrams)
            .field("rtp", &self.rtp)
            .field("ts", &self.ts())
            .finish()
    }
}

/// Finds RTP and MPEG-TS flows among UDP datagrams and keeps their statistics.
pub struct RtpTsAnalyzer {
    rules: Vec<DecodeAs>,
    heuristics: bool,
    /// Recognised flows: their kind and the stream that last received a datagram.
    flows: HashMap<(SocketAddr, SocketAddr), (UdpPayloadKind, Option<usize>)>,
    index: HashMap<(SocketAddr, SocketAddr, u32), usize>,
    streams: Vec<UdpStream>,
    ignored: u64,
}

impl Default for RtpTsAnalyzer {
    fn default() -> Self {
        Self::new(Vec::new(), true)
    }
}

/// Whether `payload` is RTP carrying MPEG-TS (version 2, PT 33, whole TS packets).
pub fn looks_like_rtp_ts(payload: &[u8]) -> bool {
    match RtpPacket::decode(payload) {
        Ok(p) => p.header.payload_type == PAYLOAD_TYPE_MP2T && looks_like_ts(p.payload),
        Err(_) => false,
    }
}

/// Whether `payload` is whole 188-byte TS packets, each starting with 0x47.
pub fn looks_like_ts(payload: &[u8]) -> bool {
    !payload.is_empty()
        && payload.len().is_multiple_of(TS_PACKET_SIZE)
        && payload
            .chunks_exact(TS_PACKET_SIZE)
            .all(|c| c.first() == Some(&SYNC_BYTE))
}

impl RtpTsAnalyzer {
    /// An analyzer applying `rules` first, then (if `heuristics`) recognising flows itself.
    pub fn new(rules: Vec<DecodeAs>, heuristics: bool) -> Self {
        RtpTsAnalyzer {
            rules,
            heuristics,
            flows: HashMap::new(),
            index: HashMap::new(),
            streams: Vec::new(),
            ignored: 0,
        }
    }

    /// Datagrams that matched no rule and no heuristic.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// How datagrams from `src` to `dst` are decoded, once the flow is recognised.
    pub fn flow_kind(&self, src: SocketAddr, dst: SocketAddr) -> Option<UdpPayloadKind> {
        self.flows.get(&(src, dst)).map(|&(k, _)| k)
    }

    /// The streams found, in order of first appearance.
    pub fn streams(&self) -> &[UdpStream] {
        &self.streams
    }

    fn classify(&self, d: &UdpDatagram<'_>) -> Option<UdpPayloadKind> {
        let ports = [d.src.port(), d.dst.port()];
        if let Some(rule) = self.rules.iter().find(|r| ports.contains(&r.port)) {
            return Some(rule.kind);
        }
        if !self.heuristics {
            return None;
        }
        if looks_like_rtp_ts(d.payload) {
            Some(UdpPayloadKind::Rtp)
        } else if looks_like_ts(d.payload) {
            Some(UdpPayloadKind::MpegTs)
        } else {
            None
        }
    }

    /// Feeds one datagram; returns whether it belonged to an analysed stream.
    pub fn push(&mut self, frame: u64, time: Timestamp, d: &UdpDatagram<'_>) -> bool {
        let flow = (d.src, d.dst);
        // A flow is classified by its first datagrams; once recognised it stays so.
        let (kind, last) = match self.flows.get(&flow) {
            Some(&f) => f,
            None => match self.classify(d) {
                Some(k) => (k, None),
                None => {
                    self.ignored += 1;
                    return false;
                }
            },
        };
        let rtp = match kind {
            UdpPayloadKind::Rtp => RtpPacket::decode(d.payload).ok(),
            UdpPayloadKind::MpegTs => None,
        };
        // A datagram that is not RTP on an RTP flow counts against the flow's last stream.
        let i = match (kind, &rtp, last) {
            (UdpPayloadKind::Rtp, None, Some(i)) => i,
            _ => {
                let ssrc = rtp.as_ref().map_or(0, |p| p.header.ssrc);
                let next = self.streams.len();
                let i = *self.index.entry((d.src, d.dst, ssrc)).or_insert(next);
                if i == next {
                    self.streams.push(UdpStream {
                        index: i,
                        src: d.src,
                        dst: d.dst,
                        kind,
                        first_frame: frame,
                        last_frame: frame,
                        first_time: time,
                        last_time: time,
                        datagrams: 0,
                        bytes: 0,
                        rtp_errors: 0,
                        rtp: None,
                        ts: None,
                    });
                }
                i
            }
        };
        self.flows.insert(flow, (kind, Some(i)));
        let Some(s) = self.streams.get_mut(i) else {
            return false;
        };
        s.datagrams += 1;
        s.bytes += d.payload.len() as u64;
        s.last_frame = frame;
        s.last_time = time;
        let ts_payload = match (kind, rtp) {
            (UdpPayloadKind::MpegTs, _) => Some(d.payload),
            (UdpPayloadKind::Rtp, Some(p)) => {
                s.rtp.get_or_insert_with(|| RtpStats::new(&p.header)).push(
                    frame,
                    time,
                    &p.header,
                    p.payload.len(),
                );
                let is_ts = p.header.payload_type == PAYLOAD_TYPE_MP2T
                    || p.payload.first() == Some(&SYNC_BYTE);
                is_ts.then_some(p.payload)
            }
            (UdpPayloadKind::Rtp, None) => {
                s.rtp_errors += 1;
                None
            }
        };
        if let Some(payload) = ts_payload {
            s.ts.get_or_insert_with(TsAnalyzer::new)
                .push_datagram(frame, time, payload);
        }
        true
    }

    /// End of capture: completes PES packets still being collected.
    pub fn finish(&mut self) {
        for s in &mut self.streams {
            if let Some(ts) = s.ts.as_mut() {
                ts.finish();
            }
        }
    }
}

#[cfg(test)]
mod tests;
