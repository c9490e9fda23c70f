//! The HTTP listener: HTTP-FLV and WebSocket-FLV at `/{app}/{stream}.flv`, HLS at
//! `/{app}/{stream}.m3u8` and its segments. Every response allows any origin (CORS), so browser
//! players on other sites (mpegts.js, hls.js) work.
//!
//! The app is everything before the last path segment (it may contain `/`); names are
//! percent-decoded. Unknown paths and streams get 404 with a JSON body.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::hls::{self, HlsStore};
use super::http_flv::{FlvSource, NoStream, websocket_session};
use super::per_stream::shutdown_signal;
use crate::config::ServerConfig;
use crate::hub::{Hub, StreamKey};

/// How often a playlist request that waits for the first segment looks again.
const PLAYLIST_POLL: Duration = Duration::from_millis(100);
/// A WebSocket-FLV viewer's read buffer and largest message. Viewers send next to nothing
/// (pings, a close); the library's default 128 KiB buffer is filled with zeros before every
/// read attempt, which is made at every wake-up of the viewer's task.
const WS_READ_BUFFER: usize = 4 * 1024;
const WS_MAX_MESSAGE: usize = 64 * 1024;
/// Bytes of frames a WebSocket-FLV viewer's connection gathers before writing them, however
/// many are ready (by default 128 KiB, a buffer every viewer keeps after its first burst).
/// With messages of at most 8 KiB the buffer stays under 16 KiB: a video frame of a
/// 2 Mbit/s stream and the audio before it mostly go in one write.
const WS_WRITE_BUFFER: usize = 8 * 1024;

#[derive(Clone)]
struct HttpState {
    hub: Hub,
    config: Arc<ServerConfig>,
    hls: Arc<HlsStore>,
    shutdown: watch::Receiver<bool>,
}

/// Serves HTTP on `listener` until `shutdown` turns true, then ends every stream (HTTP-FLV
/// bodies, WebSockets) and returns once connections are closed. With `[hls] enabled` it also
/// runs the HLS segmenters (one per published stream) and returns after they stopped.
pub async fn serve(
    listener: TcpListener,
    hub: Hub,
    config: Arc<ServerConfig>,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let store = HlsStore::new();
    let segmenters = config
        .hls
        .enabled
        .then(|| hls::start_segmenters(&hub, config.clone(), store.clone(), shutdown.clone()));
    let state = HttpState {
        hub,
        config,
        hls: store,
        shutdown: shutdown.clone(),
    };
    let app = Router::new().fallback(handle).with_state(state);
    let mut stop = shutdown;
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown_signal(&mut stop).await })
        .await;
    if let Some(s) = segmenters {
        let _ = s.await;
    }
    served
}

/// What a path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Flv(StreamKey),
    Playlist(StreamKey),
    Segment {
        key: StreamKey,
        generation: u32,
        seq: u64,
    },
}

fn parse_target(path: &str) -> Option<Target> {
    let path = path.strip_prefix('/')?;
    let (app, file) = path.rsplit_once('/')?;
    let app = percent_decode(app)?;
    let file = percent_decode(file)?;
    if app.is_empty() {
        return None;
    }
    let (stem, ext) = file.rsplit_once('.')?;
    match ext {
        "flv" if !stem.is_empty() => Some(Target::Flv(StreamKey::new(app, stem))),
        "m3u8" if !stem.is_empty() => Some(Target::Playlist(StreamKey::new(app, stem))),
        "ts" => {
            let mut parts = stem.rsplitn(3, '-');
            let seq = parts.next()?.parse().ok()?;
            let generation = u32::from_str_radix(parts.next()?, 16).ok()?;
            let name = parts.next().filter(|n| !n.is_empty())?;
            Some(Target::Segment {
                key: StreamKey::new(app, name),
                generation,
                seq,
            })
        }
        _ => None,
    }
}

async fn handle(
    State(st): State<HttpState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let mut response = if method == Method::OPTIONS {
        preflight(&headers)
    } else if method != Method::GET && method != Method::HEAD {
        let mut r = json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
            uri.path(),
        );
        r.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        );
        r
    } else {
        match parse_target(uri.path()) {
            None => json_error(StatusCode::NOT_FOUND, "not found", uri.path()),
            Some(Target::Flv(key)) => flv(st, key, ws.ok()).await,
            Some(Target::Playlist(key)) => playlist(st, key).await,
            Some(Target::Segment {
                key,
                generation,
                seq,
            }) => match st.hls.segment(&key, generation, seq) {
                Some(data) => media(data, "video/mp2t", "public, max-age=3600"),
                None => json_error(StatusCode::NOT_FOUND, "segment not found", uri.path()),
            },
        }
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn flv(st: HttpState, key: StreamKey, ws: Option<WebSocketUpgrade>) -> Response {
    let path = format!("/{}/{}.flv", key.app, key.name);
    let source = match FlvSource::open(&st.hub, key, st.shutdown.clone()).await {
        Ok(s) => s,
        Err(NoStream::NotFound) => {
            return json_error(StatusCode::NOT_FOUND, "stream not found", &path);
        }
        Err(NoStream::Shutdown) => {
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down", &path);
        }
    };
    tracing::debug!(stream = %source.key(), websocket = ws.is_some(), "flv viewer");
    if let Some(ws) = ws {
        return ws
            .read_buffer_size(WS_READ_BUFFER)
            .write_buffer_size(WS_WRITE_BUFFER)
            .max_message_size(WS_MAX_MESSAGE)
            .max_frame_size(WS_MAX_MESSAGE)
            .on_upgrade(move |socket| websocket_session(socket, source));
    }
    let body = futures_util::stream::unfold(source, |mut source| async move {
        let chunk = source.next_chunk().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), source))
    });
    let mut r = Response::new(Body::from_stream(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("video/x-flv"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The playlist; a stream that is (about to be) published but has no segment yet is waited
/// for, as long as a player waits for a publisher plus two segments.
async fn playlist(st: HttpState, key: StreamKey) -> Response {
    let wait = st.config.play_wait_timeout + 2 * st.config.hls.target_duration;
    let deadline = tokio::time::Instant::now() + wait;
    let mut shutdown = st.shutdown.clone();
    loop {
        if let Some(text) = st.hls.playlist(&key) {
            return media(text.into(), "application/vnd.apple.mpegurl", "no-cache");
        }
        if !st.config.hls.enabled || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(PLAYLIST_POLL) => {}
            () = shutdown_signal(&mut shutdown) => break,
        }
    }
    let path = format!("/{}/{}.m3u8", key.app, key.name);
    json_error(StatusCode::NOT_FOUND, "stream not found", &path)
}

fn media(data: bytes::Bytes, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = Response::new(Body::from(data));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

fn preflight(headers: &HeaderMap) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    let asked = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    r
}

fn json_error(status: StatusCode, error: &str, path: &str) -> Response {
    let body = format!(
        "{{\"error\":{},\"path\":{}}}\n",
        json_string(error),
        json_string(path)
    );
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Escapes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let k = |a: &str, n: &str| StreamKey::new(a, n);
        assert_eq!(
            parse_target("/live/cam.flv"),
            Some(Target::Flv(k("live", "cam")))
        );
        assert_eq!(
            parse_target("/live/sub/cam%201.m3u8"),
            Some(Target::Playlist(k("live/sub", "cam 1")))
        );
        assert_eq!(
            parse_target("/live/my-cam-0a1b2c3d-42.ts"),
            Some(Target::Segment {
                key: k("live", "my-cam"),
                generation: 0x0a1b_2c3d,
                seq: 42
            })
        );
        for bad in [
            "/cam.flv",
            "/live/.flv",
            "//cam.flv",
            "/live/cam.mp4",
            "/live/cam",
            "/live/x-1.ts",
            "/live/-0-1.ts",
            "/live/cam%zz.flv",
            "/live/%ff.flv",
            "live/cam.flv",
        ] {
            assert_eq!(parse_target(bad), None, "{bad}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(percent_encode("a b/ü-_.~"), "a%20b%2F%C3%BC-_.~");
        assert_eq!(percent_decode(&percent_encode("a b/ü")).unwrap(), "a b/ü");
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
