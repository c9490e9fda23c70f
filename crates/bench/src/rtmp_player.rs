//! The RTMP player: a [`ClientSession`] driven by one task with a small read buffer. It asks
//! to play like ffplay does and looks only at each media message's timestamp and first bytes.

use rtmpkit_client::RtmpUrl;
use rtmpkit_proto::rtmp::message::status;
use rtmpkit_proto::rtmp::session::{ClientConfig, ClientEvent, ClientSession, MediaKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::play::{Phase, PlayerCtx, PlayerSlot, Stage, connect_tcp, on_phase, outcome, wall_us};
use crate::report::PlayerOutcome;
use crate::tally::{Tally, Track};

/// ffmpeg's default Set Buffer Length (ms).
const BUFFER_MS: u32 = 3000;
/// `play`'s start: live if there is a live stream, as ffmpeg asks.
const PLAY_START: f64 = -2000.0;

/// Runs one RTMP player until the run ends.
pub(crate) async fn run_player(
    ctx: &PlayerCtx,
    mut slot: PlayerSlot,
    url: &RtmpUrl,
    name: String,
) -> PlayerOutcome {
    let mut tally = Tally::new(ctx.clock.now_us());
    let mut phase = ctx.phase.clone();
    let result = play(ctx, &mut slot, url, &name, &mut tally, &mut phase).await;
    slot.ready();
    tally.close_window();
    outcome(tally, result)
}

async fn play(
    ctx: &PlayerCtx,
    slot: &mut PlayerSlot,
    url: &RtmpUrl,
    name: &str,
    tally: &mut Tally,
    phase: &mut watch::Receiver<Phase>,
) -> Result<(), (Stage, String)> {
    let deadline = tokio::time::Instant::now() + ctx.connect_timeout;
    let mut socket =
        match tokio::time::timeout_at(deadline, connect_tcp(ctx.target, slot.source)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err((Stage::Setup, format!("connect: {}", e.kind()))),
            Err(_) => return Err((Stage::Setup, "timeout: TCP connect".to_owned())),
        };
    let config = ClientConfig::player(&url.app, &url.tc_url);
    let mut session = ClientSession::new(config, 0, &mut rand::rng());
    let mut buf = vec![0u8; ctx.read_buffer];
    let mut stage = Stage::Setup;
    let mut waiting_for = "RTMP handshake";
    loop {
        flush(&mut session, &mut socket)
            .await
            .map_err(|e| (stage, format!("write: {}", e.kind())))?;
        let n = tokio::select! {
            biased;
            changed = phase.changed() => {
                if changed.is_err() || on_phase(*phase.borrow_and_update(), tally) {
                    return match stage {
                        Stage::Playing => Ok(()),
                        Stage::Setup => Err((Stage::Setup, format!("run ended during {waiting_for}"))),
                    };
                }
                continue;
            }
            read = socket.read(&mut buf) => match read {
                Ok(0) => return Err((stage, format!("closed by server during {waiting_for}"))),
                Ok(n) => n,
                Err(e) => return Err((stage, format!("read: {}", e.kind()))),
            },
            _ = tokio::time::sleep_until(deadline), if stage == Stage::Setup => {
                return Err((Stage::Setup, format!("timeout: {waiting_for}")));
            }
        };
        tally.bytes += n as u64;
        session
            .feed(&buf[..n])
            .map_err(|e| (stage, format!("protocol: {e}")))?;
        let now = ctx.clock.now_us();
        let mut wall = None;
        while let Some(event) = session.poll_event() {
            let fail = |why: String| Err((stage, why));
            match event {
                ClientEvent::Media {
                    kind,
                    timestamp,
                    payload,
                    ..
                } => {
                    let track = match kind {
                        MediaKind::Audio => Track::Audio,
                        MediaKind::Video => Track::Video,
                    };
                    let wall = *wall.get_or_insert_with(wall_us);
                    tally.on_media(track, timestamp, &payload, now, wall);
                }
                ClientEvent::Connected { .. } => {
                    session
                        .create_stream()
                        .map_err(|e| (stage, format!("protocol: {e}")))?;
                    waiting_for = "createStream";
                }
                ClientEvent::StreamCreated { stream_id, .. } => {
                    session
                        .play(stream_id, name, PLAY_START, None, None)
                        .and_then(|()| session.set_buffer_length(stream_id, BUFFER_MS))
                        .map_err(|e| (stage, format!("protocol: {e}")))?;
                    tally.play_sent(ctx.clock.now_us(), wall_us());
                    stage = Stage::Playing;
                    waiting_for = "play";
                    slot.ready();
                }
                ClientEvent::ConnectRejected { code, .. } => {
                    return fail(format!("connect rejected: {code}"));
                }
                ClientEvent::Status(s)
                    if s.is_error()
                        || s.code == status::PLAY_STREAM_NOT_FOUND
                        || s.code == status::PLAY_FAILED =>
                {
                    // A refusal is a failure to play, whenever it comes.
                    return Err((Stage::Setup, format!("refused: {}", s.code)));
                }
                _ => {}
            }
        }
    }
}

/// Writes what the session has queued (acknowledgements, commands: small).
async fn flush(session: &mut ClientSession, socket: &mut TcpStream) -> std::io::Result<()> {
    while let Some(bytes) = session.poll_transmit() {
        socket.write_all(&bytes).await?;
    }
    Ok(())
}
