//! Raw peers: TCP connections speaking bytes built with the protocol core, valid up to the
//! point where they attack.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use rtmpkit_proto::rtmp::chunk::{ChunkWriter, MessageHeader};
use rtmpkit_proto::rtmp::handshake::{ClientConfig as HandshakeConfig, ClientHandshake};
use rtmpkit_proto::rtmp::message::{Command, ConnectParams, Message, PublishType, status};
use rtmpkit_proto::rtmp::session::ClientEvent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestClient;

/// Reads (and drops) whatever comes until the server closes: `Ok(time)` at EOF or a reset.
pub async fn wait_closed(socket: &mut TcpStream, bound: Duration) -> Result<Duration, String> {
    let start = tokio::time::Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(start + bound, socket.read(&mut buf)).await {
            Err(_) => return Err(format!("still open after {bound:?}")),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Writes what it can; the server may close (or stop reading) half way, which is the point.
pub async fn send(socket: &mut TcpStream, bytes: &[u8]) {
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.write_all(bytes)).await;
}

/// A TCP connection that has done the RTMP handshake and nothing else.
pub async fn handshaken(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut socket = TcpStream::connect(addr).await?;
    let mut handshake =
        ClientHandshake::new(HandshakeConfig::default(), 0, &mut StdRng::seed_from_u64(7));
    let mut buf = vec![0u8; 8192];
    loop {
        while let Some(b) = handshake.poll_transmit() {
            socket.write_all(&b).await?;
        }
        if handshake.is_complete() {
            return Ok(socket);
        }
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("handshake timed out"))??;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        handshake
            .feed(&buf[..n])
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
}

pub fn message_chunks(
    w: &mut ChunkWriter,
    csid: u32,
    stream_id: u32,
    message: &Message,
) -> BytesMut {
    let (type_id, payload) = message.encode();
    let mut out = BytesMut::new();
    let header = MessageHeader {
        timestamp: 0,
        type_id,
        stream_id,
    };
    w.write_message(csid, &header, &payload, &mut out)
        .expect("encodable message");
    out
}

pub fn connect_command(addr: SocketAddr) -> Message {
    let tc_url = format!("rtmp://{addr}/live");
    Message::Command(Command::connect(
        1.0,
        &ConnectParams::player("live", "LNX 9,0,124,2", &tc_url),
    ))
}

/// A fmt 0 chunk header on `csid` (any id up to 65599) declaring a message.
pub fn fmt0_header(out: &mut BytesMut, csid: u32, length: u32, type_id: u8, stream_id: u32) {
    match csid {
        2..=63 => out.put_u8(csid as u8),
        64..=319 => out.put_slice(&[0, (csid - 64) as u8]),
        _ => {
            out.put_u8(1);
            out.put_u16_le((csid - 64) as u16);
        }
    }
    out.put_slice(&[0, 0, 0]); // timestamp
    out.put_slice(&length.to_be_bytes()[1..]);
    out.put_u8(type_id);
    out.put_u32_le(stream_id);
}

/// An AMF0 `connect` command whose command object is `depth` nested containers.
pub fn nesting_bomb(kind: Bomb, depth: usize) -> Vec<u8> {
    let mut body = vec![0x02, 0x00, 0x07];
    body.extend_from_slice(b"connect");
    body.push(0x00);
    body.extend_from_slice(&1.0f64.to_be_bytes());
    match kind {
        // Strict array of one element, which is the next array.
        Bomb::Amf0Arrays => (0..depth).for_each(|_| body.extend_from_slice(&[0x0a, 0, 0, 0, 1])),
        // Object whose property "a" is the next object.
        Bomb::Amf0Objects => (0..depth).for_each(|_| body.extend_from_slice(&[0x03, 0, 1, b'a'])),
        // ECMA array of one entry "a", which is the next array.
        Bomb::Amf0EcmaArrays => {
            (0..depth).for_each(|_| body.extend_from_slice(&[0x08, 0, 0, 0, 1, 0, 1, b'a']))
        }
        // Switch to AMF3, then dense arrays of one element, which is the next array.
        Bomb::Amf3Arrays => {
            body.push(0x11);
            (0..depth).for_each(|_| body.extend_from_slice(&[0x09, 0x03, 0x01]));
        }
    }
    body.push(0x05); // the innermost value
    body
}

#[derive(Debug, Clone, Copy)]
pub enum Bomb {
    Amf0Arrays,
    Amf0Objects,
    Amf0EcmaArrays,
    Amf3Arrays,
}

/// What one hostile peer did and saw.
pub struct Attack {
    pub name: String,
    pub peer: SocketAddr,
    /// What the server's log line must say.
    pub reason: &'static str,
    /// Time from the attack's last write to the close.
    pub closed: Result<Duration, String>,
    /// The close must not come before this (a timeout being tested).
    pub not_before: Duration,
    /// Anything else the attack found wrong.
    pub problem: Option<String>,
}

pub async fn attack(addr: SocketAddr, name: &str) -> std::io::Result<Attack> {
    const BOUND: Duration = Duration::from_secs(3);
    let mut not_before = Duration::ZERO;
    let mut problem = None;
    let mut w = ChunkWriter::new();
    let (mut socket, reason) = match name {
        "version 0x07" | "version 0x06 (RTMPE)" | "HTTP request" => {
            let mut socket = TcpStream::connect(addr).await?;
            let mut bytes = match name {
                "HTTP request" => b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
                "version 0x07" => vec![0x07],
                _ => vec![0x06],
            };
            if bytes.len() == 1 {
                bytes.resize(1 + 1536, 0x5a);
            }
            send(&mut socket, &bytes).await;
            let reason = match name {
                "HTTP request" => "it looks like an HTTP request",
                "version 0x07" => "unsupported RTMP version",
                _ => "encrypted RTMPE not supported",
            };
            (socket, reason)
        }
        "truncated handshake" => {
            let mut socket = TcpStream::connect(addr).await?;
            let mut c0c1 = vec![0x03];
            c0c1.resize(1 + 768, 0);
            send(&mut socket, &c0c1).await;
            not_before = Duration::from_millis(900);
            (socket, "no handshake within 1000 ms")
        }
        "giant chunk size" => {
            let mut socket = handshaken(addr).await?;
            let mut out = BytesMut::new();
            w.write_set_chunk_size(0x7FFF_FFFF, &mut out)
                .expect("chunk size");
            fmt0_header(&mut out, 6, 0xFF_FFFF, 9, 1);
            out.resize(out.len() + (2 << 20), 0x17);
            send(&mut socket, &out).await;
            (socket, "declares a 16777215-byte message, over the limit")
        }
        "giant message length" => {
            let mut socket = handshaken(addr).await?;
            let mut out = BytesMut::new();
            fmt0_header(&mut out, 3, 0xFF_FFFF, 20, 0);
            out.resize(out.len() + 128, 0x02);
            send(&mut socket, &out).await;
            (socket, "declares a 16777215-byte message, over the limit")
        }
        "thousands of chunk streams" => {
            let mut socket = handshaken(addr).await?;
            let mut out = BytesMut::new();
            for csid in 3..3003 {
                // A whole first chunk of a message that never completes.
                fmt0_header(&mut out, csid, 1000, 9, 1);
                out.resize(out.len() + 128, 0x27);
            }
            send(&mut socket, &out).await;
            (socket, "over the limit of 64")
        }
        "commands before connect: createStream"
        | "commands before connect: publish"
        | "commands before connect: play" => {
            let mut socket = handshaken(addr).await?;
            let (command, reason) = match name.rsplit(' ').next() {
                Some("createStream") => {
                    (Command::create_stream(2.0), "'createStream' before connect")
                }
                Some("publish") => (
                    Command::publish(0.0, "x", &PublishType::Live),
                    "'publish' before connect",
                ),
                _ => (
                    Command::play(0.0, "x", Some(-2000.0), None, None),
                    "'play' before connect",
                ),
            };
            let out = message_chunks(&mut w, 3, 0, &Message::Command(command));
            send(&mut socket, &out).await;
            (socket, reason)
        }
        "garbage after connect: bytes" | "garbage after connect: random" => {
            let mut socket = handshaken(addr).await?;
            let mut out = message_chunks(&mut w, 3, 0, &connect_command(addr));
            let mut garbage = vec![0xff; 4096];
            if name.ends_with("random") {
                StdRng::seed_from_u64(0x5eed).fill_bytes(&mut garbage);
            }
            out.extend_from_slice(&garbage);
            send(&mut socket, &out).await;
            // Random bytes may declare a message and wait for the rest: then the idle timeout
            // closes it. Either way the line says why.
            let reason = if name.ends_with("random") {
                ""
            } else {
                "must be type 0"
            };
            (socket, reason)
        }
        "garbage command after connect" => {
            let mut socket = handshaken(addr).await?;
            let mut out = message_chunks(&mut w, 3, 0, &connect_command(addr));
            let header = MessageHeader {
                timestamp: 0,
                type_id: 20,
                stream_id: 0,
            };
            w.write_message(3, &header, &[0x02, 0xff, 0xff, b'x', 0x42], &mut out)
                .expect("chunk");
            send(&mut socket, &out).await;
            (socket, "malformed message (type 20")
        }
        bomb if bomb.starts_with("nesting bomb") => {
            let kind = match bomb {
                "nesting bomb: AMF0 strict arrays" => Bomb::Amf0Arrays,
                "nesting bomb: AMF0 objects" => Bomb::Amf0Objects,
                "nesting bomb: AMF0 ECMA arrays" => Bomb::Amf0EcmaArrays,
                _ => Bomb::Amf3Arrays,
            };
            let mut socket = handshaken(addr).await?;
            let mut body = nesting_bomb(kind, 100_000);
            let type_id = if matches!(kind, Bomb::Amf3Arrays) {
                body.insert(0, 0x00);
                17
            } else {
                20
            };
            let mut out = BytesMut::new();
            w.write_set_chunk_size(60_000, &mut out)
                .expect("chunk size");
            let header = MessageHeader {
                timestamp: 0,
                type_id,
                stream_id: 0,
            };
            w.write_message(3, &header, &body, &mut out).expect("chunk");
            send(&mut socket, &out).await;
            (socket, "nesting deeper than 64 levels")
        }
        dotdot if dotdot.starts_with("play ") => {
            let stream = dotdot.trim_start_matches("play ");
            let mut client = TestClient::connect(addr, true).await?;
            let peer = client.socket.local_addr()?;
            let Some(_) = client.play(stream).await else {
                return Err(std::io::Error::other("play could not be sent"));
            };
            let answer = client
                .until(Duration::from_secs(3), |e| {
                    matches!(e, ClientEvent::Status(_))
                })
                .await;
            match answer {
                Some(ClientEvent::Status(s)) if s.code == status::PLAY_STREAM_NOT_FOUND => {}
                other => problem = Some(format!("answered {other:?}, not StreamNotFound")),
            }
            if !client.media().is_empty() {
                problem = Some(format!("{} media messages arrived", client.media().len()));
            }
            let closed = wait_closed(&mut client.socket, BOUND).await;
            return Ok(Attack {
                name: name.to_owned(),
                peer,
                reason: "idle for 2000 ms",
                closed,
                not_before,
                problem,
            });
        }
        other => panic!("no attack named {other}"),
    };
    let peer = socket.local_addr()?;
    let closed = wait_closed(&mut socket, BOUND).await;
    Ok(Attack {
        name: name.to_owned(),
        peer,
        reason,
        closed,
        not_before,
        problem,
    })
}

pub const ATTACKS: &[&str] = &[
    "version 0x07",
    "version 0x06 (RTMPE)",
    "HTTP request",
    "truncated handshake",
    "giant chunk size",
    "giant message length",
    "thousands of chunk streams",
    "nesting bomb: AMF0 strict arrays",
    "nesting bomb: AMF0 objects",
    "nesting bomb: AMF0 ECMA arrays",
    "nesting bomb: AMF3 arrays",
    "commands before connect: createStream",
    "commands before connect: publish",
    "commands before connect: play",
    "garbage after connect: bytes",
    "garbage after connect: random",
    "garbage command after connect",
    "play ../../../../etc/passwd",
    "play ../live/healthy",
];
