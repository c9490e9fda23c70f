//! What a connection is about: application, stream URL, role, codecs; request/response
//! matching; the per-connection report the `flows` view prints.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use rtmpkit_proto::rtmp::message::{Command, CommandKind};

use super::media::{AudioDescription, VideoDescription};
use super::{Problem, ProblemKind, RtmpDir};
use crate::capture::Timestamp;

/// What the client does on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// No publish or play seen.
    #[default]
    Unknown,
    /// The client publishes.
    Publish,
    /// The client plays.
    Play,
}

impl Role {
    /// `publish`, `play` or `-`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unknown => "-",
            Role::Publish => "publish",
            Role::Play => "play",
        }
    }
}

/// Counters of one direction of an RTMP connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectionReport {
    /// TCP payload bytes delivered in order.
    pub bytes: u64,
    /// Messages decoded.
    pub messages: u64,
    /// Messages by type id.
    pub by_type: BTreeMap<u8, u64>,
    /// Chunk size in force at the end.
    pub chunk_size: u32,
    /// Bytes lost in TCP gaps.
    pub lost_bytes: u64,
    /// Bytes skipped while resynchronising.
    pub skipped_bytes: u64,
}

impl DirectionReport {
    /// Messages of type `t`.
    pub fn count(&self, t: u8) -> u64 {
        self.by_type.get(&t).copied().unwrap_or(0)
    }
}

/// Most problems kept (in full) per connection; the rest are only counted.
pub const KEPT_PROBLEMS: usize = 20;

/// Everything the `flows` view shows about one RTMP connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionReport {
    /// Connection index.
    pub index: u64,
    /// RTMP client (the side that sent C0, or the non-server port when joined mid-stream).
    pub client: Option<SocketAddr>,
    /// Server.
    pub server: Option<SocketAddr>,
    /// First and last frame.
    pub first_frame: u64,
    /// Last frame that carried data.
    pub last_frame: u64,
    /// Time of the first and last data.
    pub first_time: Option<Timestamp>,
    /// Time of the last data.
    pub last_time: Option<Timestamp>,
    /// The handshake: a description such as `simple` or `digest (schema 1, verified)`.
    pub handshake: Option<String>,
    /// Decoding started without the handshake.
    pub mid_stream: bool,
    /// connect's `app`.
    pub app: Option<String>,
    /// connect's `tcUrl`.
    pub tc_url: Option<String>,
    /// Publish or play.
    pub role: Role,
    /// The stream name from publish/play (or releaseStream/FCPublish).
    pub stream_name: Option<String>,
    /// The full stream URL.
    pub url: Option<String>,
    /// Video codec and resolution from the sequence header (or onMetaData).
    pub video: Option<VideoDescription>,
    /// Audio codec from the sequence header.
    pub audio: Option<AudioDescription>,
    /// Client-to-server and server-to-client counters.
    pub dirs: [DirectionReport; 2],
    /// Problems by kind.
    pub problem_counts: BTreeMap<ProblemKind, u64>,
    /// The first problems, in full.
    pub problems: Vec<Problem>,
}

impl ConnectionReport {
    /// Counters of `dir`.
    pub fn dir(&self, dir: RtmpDir) -> &DirectionReport {
        &self.dirs[dir.index()]
    }

    /// Duration between the first and the last data, seconds.
    pub fn duration_secs(&self) -> f64 {
        match (self.first_time, self.last_time) {
            (Some(a), Some(b)) => (b.as_nanos() - a.as_nanos()) as f64 / 1e9,
            _ => 0.0,
        }
    }

    pub(crate) fn note_problem(&mut self, p: &Problem) {
        *self.problem_counts.entry(p.kind).or_insert(0) += 1;
        if self.problems.len() < KEPT_PROBLEMS {
            self.problems.push(p.clone());
        }
    }

    /// Applies what a client command says about the session; returns the stream URL when the
    /// command names a stream.
    pub(crate) fn learn(&mut self, cmd: &Command, server: Option<SocketAddr>) -> Option<String> {
        let (name, role) = match cmd.kind() {
            CommandKind::Connect(c) => {
                self.app = c.app().map(str::to_owned).or(self.app.take());
                self.tc_url = c.tc_url().map(str::to_owned).or(self.tc_url.take());
                return None;
            }
            CommandKind::Publish { stream_name, .. } => (stream_name, Some(Role::Publish)),
            CommandKind::Play(p) => (p.stream_name, Some(Role::Play)),
            CommandKind::ReleaseStream { stream_name }
            | CommandKind::FcPublish { stream_name }
            | CommandKind::FcUnpublish { stream_name }
            | CommandKind::FcSubscribe { stream_name } => (stream_name, None),
            _ => return None,
        };
        if let Some(r) = role {
            self.role = r;
            self.stream_name = Some(name.to_owned());
        } else if self.stream_name.is_none() {
            self.stream_name = Some(name.to_owned());
        }
        let url = self.url_for(name, server);
        if role.is_some() || self.url.is_none() {
            self.url = Some(url.clone());
        }
        Some(url)
    }

    /// tcUrl + "/" + stream name; without a tcUrl, built from the server address and app.
    fn url_for(&self, name: &str, server: Option<SocketAddr>) -> String {
        let base = match (&self.tc_url, &self.app, server) {
            (Some(t), _, _) => t.trim_end_matches('/').to_owned(),
            (None, Some(app), Some(s)) => format!("rtmp://{s}/{app}"),
            (None, Some(app), None) => format!("rtmp://?/{app}"),
            (None, None, Some(s)) => format!("rtmp://{s}/?"),
            (None, None, None) => "rtmp://?/?".to_owned(),
        };
        format!("{base}/{name}")
    }
}

/// Which request each response answers, from a first pass over a capture, so that a second
/// pass can print "response in frame N" beside the request.
#[derive(Debug, Clone, Default)]
pub struct TransactionIndex {
    /// (connection, request frame, transaction id bits) → response frame.
    responses: HashMap<(u64, u64, u64), u64>,
}

/// Most request/response pairs kept.
const MAX_PAIRS: usize = 1 << 20;

impl TransactionIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that the request of `conn` in `request_frame` with `transaction_id` was answered
    /// in `response_frame`.
    pub fn insert(
        &mut self,
        conn: u64,
        request_frame: u64,
        transaction_id: f64,
        response_frame: u64,
    ) {
        if self.responses.len() < MAX_PAIRS {
            self.responses.insert(
                (conn, request_frame, transaction_id.to_bits()),
                response_frame,
            );
        }
    }

    /// The frame that answered a request.
    pub fn response(&self, conn: u64, request_frame: u64, transaction_id: f64) -> Option<u64> {
        self.responses
            .get(&(conn, request_frame, transaction_id.to_bits()))
            .copied()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.responses.len()
    }

    /// Whether no pair is known.
    pub fn is_empty(&self) -> bool {
        self.responses.is_empty()
    }
}
