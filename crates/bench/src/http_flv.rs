//! The HTTP-FLV player: one `GET`, the response head, chunked transfer decoding and an FLV
//! tag scanner that looks at the first bytes of each tag and skips the rest, never copying a
//! payload. With a `ws://` URL it is a WebSocket-FLV player (what flv.js and mpegts.js do in
//! a browser): the same `GET` as a WebSocket upgrade, then the FLV stream in binary messages.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::http_wire::{
    ChunkedDecoder, FlvScanner, Framing, HttpFlvError, ResponseHead, ScannedTag, WsDecoder,
    WsProgress, websocket_accept,
};
use crate::play::{PlayerCtx, PlayerSlot, Stage};
use crate::report::PlayerOutcome;
use crate::tally::{Tally, Track};

/// Where an HTTP-FLV player connects and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
    /// `ws://`: the stream comes over a WebSocket.
    pub websocket: bool,
}

impl HttpUrl {
    /// Parses `http://host[:port]/path` or `ws://host[:port]/path`.
    pub fn parse(url: &str) -> Option<HttpUrl> {
        let (rest, websocket) = match url.strip_prefix("ws://") {
            Some(rest) => (rest, true),
            None => (url.strip_prefix("http://")?, false),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => 80,
                None => return None,
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().ok()?),
                None => (authority, 80),
            }
        };
        (!host.is_empty()).then(|| HttpUrl {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            websocket,
        })
    }

    /// The path for stream number `index` of `count`: `/app/name-INDEX.flv` when `count > 1`.
    pub fn path_for(&self, index: usize, count: usize) -> String {
        if count <= 1 {
            return self.path.clone();
        }
        let (path, query) = match self.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.path.as_str(), None),
        };
        let mut out = match path.strip_suffix(".flv") {
            Some(stem) => format!("{stem}-{index}.flv"),
            None => format!("{path}-{index}"),
        };
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        out
    }
}

/// Body decoding state for one response.
enum Body {
    Chunked(ChunkedDecoder),
    Length(u64),
    UntilClose,
    WebSocket(WsDecoder),
}

/// Runs one HTTP-FLV player until the run ends.
pub(crate) async fn run_player(
    ctx: &PlayerCtx,
    slot: PlayerSlot,
    url: &HttpUrl,
    path: String,
) -> PlayerOutcome {
    let mut tally = Tally::new(ctx.clock.now_us());
    let mut phase = ctx.phase.clone();
    let mut slot = slot;
    let result = play(ctx, &mut slot, url, &path, &mut tally, &mut phase).await;
    slot.ready();
    tally.close_window();
    crate::play::outcome(tally, result)
}

async fn play(
    ctx: &PlayerCtx,
    slot: &mut PlayerSlot,
    url: &HttpUrl,
    path: &str,
    tally: &mut Tally,
    phase: &mut tokio::sync::watch::Receiver<crate::play::Phase>,
) -> Result<(), (Stage, String)> {
    let deadline = tokio::time::Instant::now() + ctx.connect_timeout;
    let connect = crate::play::connect_tcp(ctx.target, slot.source);
    let mut socket = match tokio::time::timeout_at(deadline, connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err((Stage::Setup, format!("connect: {}", e.kind()))),
        Err(_) => return Err((Stage::Setup, "timeout: connect".to_owned())),
    };
    let host = host_header(&url.host, url.port);
    let key = url.websocket.then(websocket_key);
    let request = match &key {
        None => format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: rtmpkit-bench\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        ),
        Some(key) => format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: rtmpkit-bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ),
    };
    if let Err(e) = socket.write_all(request.as_bytes()).await {
        return Err((Stage::Setup, format!("write: {}", e.kind())));
    }
    tally.play_sent(ctx.clock.now_us(), crate::play::wall_us());
    let mut buf = vec![0u8; ctx.read_buffer];
    let mut head: Vec<u8> = Vec::new();
    let mut body: Option<Body> = None;
    let mut scanner = FlvScanner::default();
    loop {
        let stage = if body.is_some() {
            Stage::Playing
        } else {
            Stage::Setup
        };
        let n = tokio::select! {
            biased;
            changed = phase.changed() => {
                if changed.is_err() || crate::play::on_phase(*phase.borrow_and_update(), tally) {
                    return if stage == Stage::Playing { Ok(()) } else {
                        Err((Stage::Setup, "run ended before the response".to_owned()))
                    };
                }
                continue;
            }
            read = socket.read(&mut buf) => match read {
                Ok(0) => return Err((stage, "closed by server".to_owned())),
                Ok(n) => n,
                Err(e) => return Err((stage, format!("read: {}", e.kind()))),
            },
            _ = tokio::time::sleep_until(deadline), if body.is_none() => {
                return Err((Stage::Setup, "timeout: HTTP response".to_owned()));
            }
        };
        tally.bytes += n as u64;
        let mut data = &buf[..n];
        if body.is_none() {
            head.extend_from_slice(data);
            let parsed = ResponseHead::parse(&head).map_err(|e| (Stage::Setup, e.to_string()))?;
            let Some((response, used)) = parsed else {
                continue;
            };
            body = Some(match &key {
                None if response.status != 200 => {
                    return Err((
                        Stage::Setup,
                        HttpFlvError::Status(response.status).to_string(),
                    ));
                }
                None => match response.framing {
                    Framing::Chunked => Body::Chunked(ChunkedDecoder::default()),
                    Framing::Length(n) => Body::Length(n),
                    Framing::UntilClose => Body::UntilClose,
                },
                Some(key) => {
                    check_upgrade(&response, key).map_err(|e| (Stage::Setup, e.to_string()))?;
                    Body::WebSocket(WsDecoder::default())
                }
            });
            slot.ready();
            // What followed the head in this read is body.
            let body_start = used - (head.len() - n);
            data = &buf[body_start..n];
            head = Vec::new();
        }
        let now = ctx.clock.now_us();
        let wall = crate::play::wall_us();
        let mut on_tag = |t: ScannedTag<'_>| {
            let track = match t.tag_type {
                8 => Track::Audio,
                9 => Track::Video,
                _ => return,
            };
            tally.on_media(track, t.timestamp, t.head, now, wall);
        };
        // Every decoder hands its body bytes to the scanner; the first scan error stands.
        let mut scanned = Ok(());
        let mut scan = |piece: &[u8]| {
            if scanned.is_ok() {
                scanned = scanner.push(piece, &mut on_tag);
            }
        };
        let closed = match &mut body {
            Some(Body::Chunked(d)) => d.decode(data, &mut scan).map(|()| false),
            Some(Body::Length(left)) => {
                let k = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= k as u64;
                scan(&data[..k]);
                Ok(false)
            }
            Some(Body::UntilClose) => {
                scan(data);
                Ok(false)
            }
            Some(Body::WebSocket(d)) => d.decode(data, &mut scan).map(|p| p == WsProgress::Closed),
            None => Ok(false),
        };
        let closed = closed
            .and_then(|closed| scanned.map(|()| closed))
            .map_err(|e| (Stage::Playing, e.to_string()))?;
        if closed {
            // The server ends the stream (its publisher left, or it shuts down).
            return Err((Stage::Playing, "closed by server".to_owned()));
        }
    }
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
fn websocket_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>())
}

/// The server must switch protocols and prove it read our key.
fn check_upgrade(response: &ResponseHead, key: &str) -> Result<(), HttpFlvError> {
    if response.status != 101 {
        return Err(HttpFlvError::Handshake(format!(
            "HTTP {} instead of 101",
            response.status
        )));
    }
    if response.websocket_accept.as_deref() != Some(websocket_accept(key).as_str()) {
        return Err(HttpFlvError::Handshake(
            "wrong or missing Sec-WebSocket-Accept".to_owned(),
        ));
    }
    Ok(())
}

/// The Host header: the URL's host and port.
fn host_header(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade(status: u16, accept: Option<&str>) -> ResponseHead {
        ResponseHead {
            status,
            framing: Framing::UntilClose,
            websocket_accept: accept.map(str::to_owned),
        }
    }

    #[test]
    fn upgrades_are_checked() {
        let key = websocket_key();
        assert_eq!(key.len(), 24);
        assert_ne!(key, websocket_key());
        let good = websocket_accept(&key);
        assert!(check_upgrade(&upgrade(101, Some(&good)), &key).is_ok());
        assert!(check_upgrade(&upgrade(200, Some(&good)), &key).is_err());
        assert!(check_upgrade(&upgrade(101, None), &key).is_err());
        let other = websocket_accept("dGhlIHNhbXBsZSBub25jZQ==");
        assert!(check_upgrade(&upgrade(101, Some(&other)), &key).is_err());
    }

    #[test]
    fn urls() {
        let u = HttpUrl::parse("http://127.0.0.1:8080/live/bench.flv").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8080, "/live/bench.flv")
        );
        assert_eq!(u.path_for(3, 4), "/live/bench-3.flv");
        assert_eq!(u.path_for(3, 1), "/live/bench.flv");
        let u = HttpUrl::parse("http://[::1]/live/x?k=v").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 80));
        assert_eq!(u.path_for(0, 2), "/live/x-0?k=v");
        assert_eq!(HttpUrl::parse("rtmp://h/a/b"), None);
        let u = HttpUrl::parse("ws://example.com/live/x.flv").unwrap();
        assert!(u.websocket);
        assert_eq!((u.host.as_str(), u.port), ("example.com", 80));
        assert!(!HttpUrl::parse("http://h:1/x").unwrap().websocket);
        assert_eq!(HttpUrl::parse("http://:80/x"), None);
    }
}
