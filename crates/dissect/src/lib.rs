//! rtmpkit-dissect: reads pcap/pcapng captures and turns them into TCP byte streams, UDP
//! datagrams and RTP/MPEG-TS stream statistics, for `rtmpkit dissect`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`capture`] | streaming pcap/pcapng reader: [`CaptureReader`], [`Packet`] |
//! | [`link`] | Ethernet/VLAN, Linux SLL/SLL2, BSD loopback, raw IP |
//! | [`net`] | IPv4/IPv6/TCP/UDP headers: [`decode_packet`] |
//! | [`tcp`] | connection tracking and reassembly: [`TcpReassembler`], [`StreamEvent`] |
//! | [`rtmp`] | RTMP over TCP: handshake, messages, diagnostics: [`RtmpAnalyzer`] |
//! | [`rtp_ts`] | RTP and MPEG-TS over UDP analysis: [`RtpTsAnalyzer`] |
//! | [`dissector`] | the read loop behind `rtmpkit dissect`: [`dissect`], [`FrameObserver`] |
//! | [`pipeline`] | one loop gluing the above: [`run_capture`] |
//! | [`view`] | the output formats: summary, tree, json, flows |
//! | [`write`] | pcap/pcapng writers for tests and exports |
//!
//! No I/O besides the `Read` handed to the capture reader, no threads, no clocks.

pub mod capture;
pub mod dissector;
pub mod link;
pub mod net;
pub mod pipeline;
pub mod rtmp;
pub mod rtp_ts;
pub mod tcp;
pub mod view;
pub mod write;

pub use capture::{CaptureError, CaptureErrorKind, CaptureReader, LinkType, Packet, Timestamp};
pub use dissector::{
    DissectConfig, DissectError, DissectReport, FrameContent, FrameCtx, FrameObserver, dissect,
    dissect_capture,
};
pub use net::{DecodedPacket, NetError, TcpSegment, Transport, UdpDatagram, decode_packet};
pub use pipeline::{CaptureSummary, run_capture};
pub use rtmp::{RtmpAnalyzer, RtmpConfig, RtmpEvent};
pub use rtp_ts::{DecodeAs, RtpTsAnalyzer};
pub use tcp::{
    CloseReason, ConnectionInfo, Direction, DiscardStreams, OffsetFrameMap, StreamEvent,
    StreamSink, TcpConfig, TcpReassembler,
};
