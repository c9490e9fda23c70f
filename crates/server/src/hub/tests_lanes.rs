//! Lanes: players whose frames a stream's lane task writes into their sockets, over real
//! loopback sockets.

use std::future::poll_fn;
use std::os::fd::AsFd;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::tests::{audio_seq, hub_with, key, key_frame, publish, video_seq};
use super::*;

const WAIT: Duration = Duration::from_secs(10);

/// A connected pair on loopback: (the server's side, the player's side).
async fn socket_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (accepted, client) = tokio::join!(listener.accept(), client);
    (accepted.unwrap().0, client.unwrap())
}

/// `socket` as a lane holds it: a descriptor of its own, so that the socket closes only when
/// the test's and the lane's are both closed.
fn shared(socket: &TcpStream) -> impl FnOnce() -> Option<LaneSocket> {
    let fd = socket.as_fd().try_clone_to_owned().unwrap();
    move || Some(Arc::new(fd) as LaneSocket)
}

/// A player that has taken everything published so far (its bytes are not sent anywhere:
/// these tests look at what the lane sends after).
fn caught_up_player(hub: &Hub) -> Subscription {
    let mut sub = hub.subscribe(key());
    sub.send_from_files(true);
    while sub.try_next().is_some() {}
    sub
}

/// The bytes of `frames` as the stream's frame file holds them.
fn file_bytes(frames: &[Arc<Frame>]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| f.file().expect("frame in the file").read(0).unwrap())
        .collect()
}

/// A publisher that has sent its headers and a keyframe.
fn publishing(hub: &Hub) -> Publisher {
    let mut publisher = publish(hub);
    for f in [video_seq(0), audio_seq(0), key_frame(0)] {
        push(&mut publisher, f);
    }
    publisher
}

/// Publishes `frame` and returns it as the ring holds it (stamped, in the file).
fn push(publisher: &mut Publisher, frame: Frame) -> Arc<Frame> {
    publisher.push(frame).unwrap();
    let st = publisher.stream.state.read();
    match &st.slot(st.head() - 1).unwrap().entry {
        ring::Entry::Frame(f) => f.clone(),
        other => panic!("expected a frame, found {other:?}"),
    }
}

async fn read_exactly(client: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut got = vec![0; len];
    tokio::time::timeout(WAIT, client.read_exact(&mut got))
        .await
        .expect("bytes within the wait")
        .unwrap();
    got
}

async fn returned(sub: &Subscription) {
    tokio::time::timeout(WAIT, poll_fn(|cx| sub.poll_lane_return(cx)))
        .await
        .expect("handed back within the wait");
}

fn big_frame(ts: u32, len: usize) -> Frame {
    let mut payload = vec![0x27, 1, 0, 0, 0];
    payload.extend((0..len).map(|i| i as u8));
    Frame::video(ts, Bytes::from(payload))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lanes_send_every_released_frame_as_the_file_holds_it() {
    let hub = hub_with(|_| {});
    let mut publisher = publishing(&hub);
    // Three players: both lanes of a two-thread runtime get some.
    let mut players = Vec::new();
    for _ in 0..3 {
        let (server, client) = socket_pair().await;
        let mut sub = caught_up_player(&hub);
        assert!(sub.hand_to_lane(shared(&server)));
        assert!(sub.in_lane());
        players.push((sub, server, client));
    }
    assert_eq!(hub.stream_stats(&key()).unwrap().lane_players, 3);

    let frames: Vec<Arc<Frame>> = (1..=40)
        .map(|i| push(&mut publisher, big_frame(i * 33, 3000 + i as usize * 7)))
        .collect();
    let expected = file_bytes(&frames);
    for (sub, _server, client) in &mut players {
        assert_eq!(read_exactly(client, expected.len()).await, expected);
        // The lane moved the cursor: taken back, the player has nothing more to send.
        assert!(sub.take_back().is_none());
        assert!(sub.try_next().is_none());
    }
    assert_eq!(hub.stream_stats(&key()).unwrap().lane_players, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_socket_hands_the_player_back_with_the_part_it_did_not_take() {
    let hub = hub_with(|c| {
        c.player_queue.max_lag = Duration::from_secs(3600);
        c.player_queue.max_bytes = 1 << 30;
    });
    let mut publisher = publishing(&hub);
    let (mut server, mut client) = socket_pair().await;
    let mut sub = caught_up_player(&hub);
    assert!(sub.hand_to_lane(shared(&server)));

    // The player reads nothing until its socket is full and the lane gives it back.
    let mut frames = Vec::new();
    let mut ts = 0;
    while frames.len() < 2000 {
        ts += 33;
        frames.push(push(&mut publisher, big_frame(ts, 100_000)));
        tokio::time::sleep(Duration::from_millis(1)).await;
        if poll_fn(|cx| Poll::Ready(sub.poll_lane_return(cx).is_ready())).await {
            break;
        }
    }
    returned(&sub).await;
    assert_eq!(hub.stream_stats(&key()).unwrap().lane_players, 0);
    let (slot, done) = sub.take_back().expect("the run the socket did not take");
    assert!(done < slot.len, "{done} of {}", slot.len);

    // The connection's part: the rest of that run, then whatever follows, in order.
    let expected = file_bytes(&frames);
    let reader = tokio::spawn(async move { read_exactly(&mut client, expected.len()).await });
    server.write_all(&slot.read(done).unwrap()).await.unwrap();
    loop {
        if let Some(run) = sub.try_next_run(1 << 20) {
            server.write_all(&run.read(0).unwrap()).await.unwrap();
            continue;
        }
        match sub.try_next() {
            Some(Delivery::Frame(f)) => {
                let bytes = f.file().unwrap().read(0).unwrap();
                server.write_all(&bytes).await.unwrap();
            }
            Some(other) => panic!("unexpected {other:?}"),
            None => break,
        }
    }
    assert_eq!(reader.await.unwrap(), file_bytes(&frames));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_leaving_hands_the_player_back() {
    let hub = hub_with(|_| {});
    let publisher = publishing(&hub);
    let (server, _client) = socket_pair().await;
    let mut sub = caught_up_player(&hub);
    assert!(sub.hand_to_lane(shared(&server)));
    drop(publisher);
    returned(&sub).await;
    assert!(sub.take_back().is_none());
    assert!(matches!(sub.try_next(), Some(Delivery::PublisherLeft)));
    // Not caught up with a publisher: no lane.
    assert!(!sub.hand_to_lane(shared(&server)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_that_leaves_lets_its_socket_go() {
    let hub = hub_with(|_| {});
    let mut publisher = publishing(&hub);
    let (server, mut client) = socket_pair().await;
    let mut sub = caught_up_player(&hub);
    assert!(sub.hand_to_lane(shared(&server)));
    let frame = push(&mut publisher, big_frame(33, 500));
    let expected = file_bytes(&[frame]);
    assert_eq!(read_exactly(&mut client, expected.len()).await, expected);

    // The connection closes its socket; the lane's descriptor must not keep it open.
    drop(sub);
    drop(server);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, client.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
    assert_eq!(hub.stream_stats(&key()).unwrap().lane_players, 0);
}

type UnixPlayer = (Subscription, std::os::unix::net::UnixStream);

/// Reads `expected` from each player's socket, on a blocking thread.
async fn each_reads(players: Vec<UnixPlayer>, expected: Vec<u8>) -> Vec<UnixPlayer> {
    use std::io::Read;
    tokio::task::spawn_blocking(move || {
        let mut players = players;
        for (_, client) in &mut players {
            let mut got = vec![0; expected.len()];
            client.read_exact(&mut got).unwrap();
            assert_eq!(got, expected);
        }
        players
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_lane_serves_hundreds_of_players_in_slices_and_drops_leavers() {
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    let hub = hub_with(|_| {});
    let mut publisher = publishing(&hub);
    // One worker thread: one lane, which serves these in two slices.
    let mut players = Vec::new();
    for _ in 0..300 {
        let (server, client) = UnixStream::pair().unwrap();
        server.set_nonblocking(true).unwrap();
        client.set_read_timeout(Some(WAIT)).unwrap();
        let mut sub = caught_up_player(&hub);
        // The lane holds the server's end alone: it closes when the lane lets it go.
        assert!(sub.hand_to_lane(move || Some(Arc::new(server) as LaneSocket)));
        players.push((sub, client));
    }
    let first = file_bytes(&[push(&mut publisher, big_frame(33, 1000))]);
    let players = each_reads(players, first).await;

    // Every seventh leaves; the rest each get the next frame once.
    let (leaving, staying): (Vec<_>, Vec<_>) = players
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 7 == 6);
    let mut gone: Vec<UnixStream> = leaving.into_iter().map(|(_, (_, client))| client).collect();
    let staying: Vec<UnixPlayer> = staying.into_iter().map(|(_, p)| p).collect();
    let second = file_bytes(&[push(&mut publisher, big_frame(66, 2000))]);
    let staying = each_reads(staying, second).await;
    assert_eq!(
        hub.stream_stats(&key()).unwrap().lane_players,
        staying.len()
    );
    let closed = tokio::task::spawn_blocking(move || {
        gone.iter_mut()
            .all(|client| matches!(client.read(&mut [0; 64]), Ok(0)))
    });
    assert!(closed.await.unwrap(), "a leaver's socket is still open");
}
