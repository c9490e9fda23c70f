//! Shutdown under load, the connection limit, and messages in one huge chunk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtmpkit_proto::rtmp::message::status;
use rtmpkit_proto::rtmp::session::{ClientConfig, ClientEvent, MediaKind};
use tokio::net::TcpStream;

use crate::logs::*;
use crate::media::*;
use crate::peers::*;
use crate::support::{MediaKindOrData, ServerProcess, TempDir, TestClient};
use crate::{finish, runtime, start_with};

#[test]
fn sigterm_under_load_says_goodbye_and_exits() {
    let mut server = ServerProcess::start(&[]);
    let addr = server.addr;
    // A burst (10 s at 8 Mbit/s, unpaced) more than the kernel buffers of the stalled player
    // below can take, then an ordinary live stream.
    let burst = synthetic_tags(10, 40_000);
    let burst_media = burst.len();
    let tags = synthetic_tags(30, 2000);
    let rt = runtime();
    // A fourth player that never reads: its unsent output must not hold up the exit.
    let stalled = rt
        .block_on(async {
            let config = ClientConfig::player("live", &format!("rtmp://{addr}/live"));
            let mut c = TestClient::connect_with(addr, config, Some(4096)).await?;
            c.play("bye").await.ok_or(std::io::Error::other("play"))?;
            Ok::<_, std::io::Error>(c)
        })
        .expect("stalled player");
    let frames = Arc::new(AtomicUsize::new(0));
    let players: Vec<_> = (0..3)
        .map(|_| {
            let frames = frames.clone();
            rt.spawn(async move {
                let mut client = TestClient::connect(addr, true)
                    .await
                    .map_err(|e| e.to_string())?;
                client.play("bye").await.ok_or("play failed")?;
                let mut goodbye = None;
                loop {
                    let event = client
                        .until(Duration::from_secs(15), |e| {
                            matches!(e, ClientEvent::Media { .. } | ClientEvent::Status(_))
                        })
                        .await;
                    match event {
                        Some(ClientEvent::Media { .. }) => {
                            frames.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(ClientEvent::Status(s))
                            if s.code == status::PLAY_STOP
                                || s.code == status::PLAY_UNPUBLISH_NOTIFY =>
                        {
                            goodbye.get_or_insert(s.code);
                        }
                        Some(_) => {}
                        // EOF (or nothing for 15 s).
                        None => break,
                    }
                }
                goodbye.ok_or_else(|| {
                    format!(
                        "closed without a goodbye; statuses {:?}",
                        client.status_codes()
                    )
                })
            })
        })
        .collect();
    assert!(
        wait_log_count(&server, 4, Duration::from_secs(10), play_line("bye")),
        "players did not get to play"
    );
    let publisher = rt.spawn(async move {
        let mut publisher = TestClient::connect(addr, false).await.expect("publisher");
        let (id, _) = publisher.publish("bye").await.expect("publish answered");
        publisher
            .send_tags(id, &burst, 0, false)
            .await
            .expect("burst sent");
        // Ends with an error when the server goes away.
        let _ = publisher.send_tags(id, &tags, 10_000, true).await;
    });
    let want = 3 * (burst_media + 50);
    let end = Instant::now() + Duration::from_secs(15);
    while frames.load(Ordering::Relaxed) < want && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        frames.load(Ordering::Relaxed) >= want,
        "players got {} of {want} frames",
        frames.load(Ordering::Relaxed)
    );

    let asked = Instant::now();
    let status = server.terminate(Duration::from_secs(8));
    let took = asked.elapsed();
    assert!(
        status.is_some_and(|s| s.success()),
        "exit status {status:?} after {took:?}:\n{}",
        server.log().join("\n")
    );
    let mut goodbyes = Vec::new();
    for (i, player) in players.into_iter().enumerate() {
        match rt.block_on(player).expect("player task") {
            Ok(code) => goodbyes.push(code),
            Err(e) => panic!("player {i}: {e}"),
        }
    }
    rt.block_on(publisher).expect("publisher task");
    drop(stalled);
    eprintln!("exited {took:?} after SIGTERM; the players were told {goodbyes:?}");
}

#[test]
fn connections_over_the_limit_are_refused_at_once() {
    let dir = TempDir::new("maxconn");
    let server = start_with(&dir, "max_connections = 3\n");
    let addr = server.addr;
    let tags = synthetic_tags(20, 2000);
    let rt = runtime();
    let frames = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let stop = Arc::new(AtomicBool::new(false));
    let players: Vec<_> = frames
        .iter()
        .map(|count| {
            let count = count.clone();
            let stop = stop.clone();
            rt.spawn(async move {
                let mut client = TestClient::connect(addr, true)
                    .await
                    .map_err(|e| e.to_string())?;
                client.play("limit").await.ok_or("play failed")?;
                while !stop.load(Ordering::Relaxed) {
                    if client
                        .until(Duration::from_millis(100), |e| {
                            matches!(e, ClientEvent::Media { .. })
                        })
                        .await
                        .is_some()
                    {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    client.events.clear();
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    assert!(
        wait_log_count(&server, 2, Duration::from_secs(10), play_line("limit")),
        "players did not get to play"
    );
    let publisher = {
        let stop = stop.clone();
        rt.spawn(async move {
            let mut publisher = TestClient::connect(addr, false).await.expect("publisher");
            let (id, code) = publisher.publish("limit").await.expect("publish answered");
            assert_eq!(code, status::PUBLISH_START);
            for chunk in tags.chunks(100) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                publisher
                    .send_tags(id, chunk, 0, false)
                    .await
                    .expect("publisher sends");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let total = || {
        frames
            .iter()
            .map(|f| f.load(Ordering::Relaxed))
            .sum::<usize>()
    };
    let end = Instant::now() + Duration::from_secs(10);
    while frames.iter().any(|f| f.load(Ordering::Relaxed) < 20) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        frames.iter().all(|f| f.load(Ordering::Relaxed) >= 20),
        "the players got no frames"
    );

    // The fourth connection: closed at once, and the log says why.
    let (peer, closed) = rt.block_on(async {
        let mut socket = TcpStream::connect(addr).await.expect("tcp connect");
        let peer = socket.local_addr().expect("addr");
        send(&mut socket, &[0x03]).await;
        (peer, wait_closed(&mut socket, Duration::from_secs(2)).await)
    });
    let closed = closed.expect("the fourth connection was not closed");
    assert!(
        closed < Duration::from_millis(500),
        "closed after {closed:?}"
    );
    assert!(
        wait_log_count(&server, 1, Duration::from_secs(2), |l| {
            names_peer(l, peer) && l.contains("connection refused: too many connections")
        }),
        "no refusal line for {peer}:\n{}",
        server.log().join("\n")
    );

    // The first three still work.
    let after_refusal = total();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        total() > after_refusal + 10,
        "the players stopped receiving after the refusal"
    );
    stop.store(true, Ordering::Relaxed);
    for p in players {
        rt.block_on(p).expect("player task").expect("player");
    }
    rt.block_on(publisher).expect("publisher task");

    // Their places are free again.
    assert!(
        wait_log_count(&server, 3, Duration::from_secs(5), |l| {
            l.contains("connection ended: ") || l.contains("connection closed: ")
        }),
        "the three connections did not end"
    );
    rt.block_on(async {
        let mut client = TestClient::connect(addr, true)
            .await
            .expect("a new connection once the others left");
        assert!(client.play("limit").await.is_some());
    });
}

#[test]
fn frames_larger_than_the_input_buffer_arrive_in_one_huge_chunk() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr;
    // A 3 MiB keyframe (a 4K intra frame is that big), in a single chunk: the publisher
    // announces the largest chunk size there is.
    let mut keyframe = BytesMut::from(&[0x17u8, 1, 0, 0, 0][..]);
    keyframe.resize(3 << 20, 0);
    for (i, b) in keyframe.iter_mut().enumerate().skip(5) {
        *b = (i % 251) as u8;
    }
    let mut tags = synthetic_tags(1, 1000);
    tags.insert(
        2,
        (
            MediaKindOrData::Media(MediaKind::Video),
            0,
            keyframe.freeze(),
        ),
    );
    tags.retain(|t| {
        t.0 != MediaKindOrData::Media(MediaKind::Video) || t.1 != 0 || t.2.len() != 1000
    });
    let sent = media_of_tags(&tags);
    let rt = runtime();
    let player = rt.spawn(async move {
        let mut client = TestClient::connect(addr, true)
            .await
            .map_err(|e| e.to_string())?;
        client.play("huge").await.ok_or("play failed")?;
        client
            .until(
                Duration::from_secs(10),
                |e| matches!(e, ClientEvent::Status(s) if s.code == status::PLAY_UNPUBLISH_NOTIFY),
            )
            .await
            .ok_or_else(|| format!("no UnpublishNotify; got {} media", client.media().len()))?;
        Ok::<_, String>(media_of_events(&client.events))
    });
    assert!(
        wait_log_count(&server, 1, Duration::from_secs(10), play_line("huge")),
        "the player did not get to play"
    );
    rt.block_on(async {
        let mut config = ClientConfig::publisher("live", &format!("rtmp://{addr}/live"));
        config.chunk_size = 0x7FFF_FFFF;
        let mut publisher = TestClient::connect_with(addr, config, None)
            .await
            .expect("publisher");
        let (id, code) = publisher.publish("huge").await.expect("publish answered");
        assert_eq!(code, status::PUBLISH_START);
        publisher
            .send_tags(id, &tags, 0, false)
            .await
            .expect("publisher sends");
        finish(&mut publisher).await;
    });
    let got = rt
        .block_on(player)
        .expect("player task")
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log().join("\n")));
    if let Some(d) = first_difference(&sent, &got) {
        panic!("{d}");
    }
}

/// "Max open files" of `/proc/PID/limits`: (soft, hard), `None` for unlimited.
fn open_file_limits(pid: &str) -> (Option<u64>, Option<u64>) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("read limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("an open files line");
    let mut values = line["Max open files".len()..]
        .split_whitespace()
        .map(|v| v.parse::<u64>().ok());
    let soft = values.next().expect("soft limit");
    let hard = values.next().expect("hard limit");
    (soft, hard)
}

#[test]
fn a_low_soft_open_file_limit_is_raised_to_the_hard_one() {
    let (_, hard) = open_file_limits("self");
    if hard.is_some_and(|h| h <= 256) {
        eprintln!("skipped: the hard limit on open files is {hard:?}");
        return;
    }
    let server = ServerProcess::start_with_soft_open_file_limit(256, &[]);
    let (soft, server_hard) = open_file_limits(&server.pid().to_string());
    assert_eq!(server_hard, hard, "the hard limit stays");
    match hard {
        Some(h) => assert_eq!(soft, Some(h)),
        None => assert!(soft.is_some_and(|s| s > 256), "soft limit {soft:?}"),
    }
    // max_connections (10000 by default) is more than 256 allowed: nothing to warn about
    // unless the hard limit is low too.
    let warned = server
        .log()
        .iter()
        .any(|l| l.contains("open files are limited"));
    assert_eq!(warned, hard.is_some_and(|h| h < 10_256));
}
