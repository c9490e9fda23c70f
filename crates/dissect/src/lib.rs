//! rtmpkit-dissect: reads pcap/pcapng captures and turns them into TCP byte streams, UDP
//! datagrams and RTP/MPEG-TS stream statistics, for `rtmpkit dissect`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`capture`] | streaming pcap/pcapng reader: [`CaptureReader`], [`Packet`] |
//! | [`link`] | Ethernet/VLAN, Linux SLL/SLL2, BSD loopback, raw IP |
//! | [`net`] | IPv4/IPv6/TCP/UDP headers: [`decode_packet`] |
//! | [`tcp`] | connection tracking and reassembly: [`TcpReassembler`], [`StreamEvent`] |
//! | [`rtp_ts`] | RTP and MPEG-TS over UDP analysis: [`RtpTsAnalyzer`] |
//! | [`pipeline`] | one loop gluing the above: [`run_capture`] |
//! | [`write`] | pcap/pcapng writers for tests and exports |
//!
//! No I/O besides the `Read` handed to the capture reader, no threads, no clocks.

pub mod capture;
pub mod link;
pub mod net;
pub mod pipeline;
pub mod rtp_ts;
pub mod tcp;
pub mod write;

pub use capture::{CaptureError, CaptureErrorKind, CaptureReader, LinkType, Packet, Timestamp};
pub use net::{DecodedPacket, NetError, TcpSegment, Transport, UdpDatagram, decode_packet};
pub use pipeline::{CaptureSummary, run_capture};
pub use rtp_ts::{DecodeAs, RtpTsAnalyzer};
pub use tcp::{
    CloseReason, ConnectionInfo, Direction, DiscardStreams, OffsetFrameMap, StreamEvent,
    StreamSink, TcpConfig, TcpReassembler,
};
