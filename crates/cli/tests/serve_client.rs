//! `rtmpkit publish` and `rtmpkit play` against `rtmpkit serve`: plain RTMP, RTMPS with a
//! certificate made here, and a reconnecting publisher across a server crash.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    Media, ServerProcess, TempDir, check_contiguous, ffmpeg_play, framemd5, make_source, read_flv,
    run_bounded,
};

const BIN: &str = env!("CARGO_BIN_EXE_rtmpkit");
const TIMEOUT: Duration = Duration::from_secs(30);

fn rtmpkit_publish(args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("publish")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run rtmpkit publish")
}

/// `rtmpkit play URL -o OUT --duration S EXTRA…`, bounded; true on success.
fn rtmpkit_play(url: &str, out: &Path, seconds: u32, extra: &[&str]) -> bool {
    run_bounded(
        Command::new(BIN)
            .args(["play", url, "-o"])
            .arg(out)
            .args(["--duration", &seconds.to_string()])
            .args(extra),
        TIMEOUT,
    )
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn rtmpkit_publishes_to_rtmpkit_and_rtmpkit_and_ffmpeg_play() {
    require_tools!("ffmpeg");
    // Players' frames go out with sendfile from the stream's frame file (the default).
    publish_and_play(&TempDir::new("rk-rk"), &[]);
}

#[test]
fn frames_copied_into_the_socket_play_the_same() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("rk-copy");
    let config = dir.join("copy.toml");
    std::fs::write(&config, "[player_queue]\nsend_file = false\n").expect("write config");
    publish_and_play(&dir, &["--config", config.to_str().expect("utf-8")]);
}

/// `rtmpkit publish` to a server started with `server_args`; `rtmpkit play` and ffmpeg get
/// every frame of the source, in order, unchanged.
fn publish_and_play(dir: &TempDir, server_args: &[&str]) {
    let src = make_source(dir.path(), Media::AudioVideo, 8);
    let server = ServerProcess::start(server_args);
    let url = server.url("ours");
    let publisher = rtmpkit_publish(&[src.to_str().expect("utf-8"), &url]);
    assert!(server.wait_for_log("publishing", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(1200));
    let (ours, theirs) = (dir.join("ours.flv"), dir.join("ffmpeg.flv"));
    let (url2, ours2) = (url.clone(), ours.clone());
    let player = std::thread::spawn(move || rtmpkit_play(&url2, &ours2, 3, &[]));
    let ffmpeg_ok = ffmpeg_play(&url, &theirs, 3, TIMEOUT);
    let ours_ok = player.join().expect("player thread");
    stop(publisher);
    assert!(ours_ok, "rtmpkit play failed");
    assert!(ffmpeg_ok, "ffmpeg could not play");
    let source = framemd5(&src);
    for out in [&ours, &theirs] {
        check_contiguous(&source, &framemd5(out), 30)
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    }
}

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM files.
fn make_certificates(dir: &Path) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let cert = params.signed_by(&key, &ca).expect("server certificate");
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).expect("write pem");
        path.to_str().expect("utf-8 path").to_owned()
    };
    (
        write("ca.pem", ca.pem()),
        write("cert.pem", cert.pem()),
        write("key.pem", key.serialize_pem()),
    )
}

#[test]
fn rtmps_end_to_end_with_a_certificate_made_here() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("rtmps");
    let (ca, cert, key) = make_certificates(dir.path());
    let src = make_source(dir.path(), Media::AudioVideo, 8);
    let server = ServerProcess::start(&[
        "--rtmps-listen",
        "127.0.0.1:0",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let tls = server.rtmps_addr().expect("RTMPS address in the banner");
    let url = format!("rtmps://{tls}/live/secure");
    let publisher = rtmpkit_publish(&["--ca", &ca, src.to_str().expect("utf-8"), &url]);
    assert!(
        server.wait_for_log("publishing", Duration::from_secs(10)),
        "{:#?}",
        server.log()
    );
    std::thread::sleep(Duration::from_millis(1200));
    let (ours, theirs) = (dir.join("ours.flv"), dir.join("ffmpeg.flv"));
    let (url2, ours2, ca2) = (url.clone(), ours.clone(), ca.clone());
    let player = std::thread::spawn(move || rtmpkit_play(&url2, &ours2, 3, &["--ca", &ca2]));
    // ffmpeg as an RTMPS player (it does not verify certificates by default).
    let ffmpeg_ok = ffmpeg_play(&url, &theirs, 3, TIMEOUT);
    let ours_ok = player.join().expect("player thread");
    stop(publisher);
    assert!(ours_ok, "rtmpkit play over RTMPS failed");
    assert!(ffmpeg_ok, "ffmpeg could not play over RTMPS");
    let source = framemd5(&src);
    for out in [&ours, &theirs] {
        check_contiguous(&source, &framemd5(out), 30)
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    }
    // A client that does not trust the certificate is refused, in one log line.
    let refused = run_bounded(
        Command::new(BIN)
            .args(["play", &url, "-o"])
            .arg(dir.join("refused.flv"))
            .args(["--duration", "1"]),
        TIMEOUT,
    );
    assert!(!refused, "an untrusted certificate must not be accepted");
    assert!(server.wait_for_log("TLS handshake failed", Duration::from_secs(5)));
}

#[test]
fn a_reconnecting_publisher_survives_a_server_crash() {
    require_tools!("ffmpeg");
    let dir = TempDir::new("reconnect");
    let src = make_source(dir.path(), Media::AudioVideo, 10);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = ServerProcess::try_start_on(&listen, &[]).expect("server");
    let url = server.url("survivor");
    let publisher = rtmpkit_publish(&["--loop", "--reconnect", src.to_str().expect("utf-8"), &url]);
    assert!(server.wait_for_log("publishing", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(1500));
    server.kill();
    std::thread::sleep(Duration::from_millis(500));
    // The same port again; the publisher finds it by itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    let server = loop {
        match ServerProcess::try_start_on(&listen, &[]) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => panic!("cannot restart the server: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    assert!(
        server.wait_for_log("publishing", Duration::from_secs(15)),
        "the publisher did not come back: {:#?}",
        server.log()
    );
    let out = dir.join("after.flv");
    let played = ffmpeg_play(&url, &out, 2, TIMEOUT);
    stop(publisher);
    assert!(played, "ffmpeg could not play after the restart");
    let tags = read_flv(&out);
    let video: Vec<_> = tags
        .iter()
        .filter(|(k, _, _)| {
            *k == support::MediaKindOrData::Media(rtmpkit_proto::rtmp::session::MediaKind::Video)
        })
        .filter_map(|(_, _, p)| rtmpkit_proto::flv::VideoTagHeader::decode(p).ok())
        .map(|(h, _)| h)
        .filter(|h| !h.is_sequence_header())
        .collect();
    assert!(
        video.len() >= 25,
        "{} video frames after the restart",
        video.len()
    );
    assert!(
        video[0].is_keyframe(),
        "a player that joins after the restart starts at a keyframe"
    );
}
