//! `rtmpkit dissect` as users run it: every format on a recorded fixture, standard input,
//! --decode-as and --chunk-size, and the errors for unusable input or arguments.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rtmpkit");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn dissect(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .arg("dissect")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rtmpkit");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input).expect("write stdin");
    }
    child.wait_with_output().expect("rtmpkit output")
}

fn text(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

#[test]
fn every_format_on_a_fixture() {
    let path = fixture("ffmpeg-publish-nginx.pcapng");
    let p = path.to_str().unwrap();
    let summary = text(&dissect(&[p], None));
    assert_eq!(
        summary
            .lines()
            .filter(|l| !l.starts_with("       !"))
            .count(),
        546
    );
    assert!(summary.contains(
        "RTMP 301 Set Peer Bandwidth 5000000,Dynamic|Set Chunk Size 4096|_result('NetConnection.Connect.Success')"
    ));

    let tree = text(&dissect(&[p, "--format", "tree"], None));
    assert!(
        tree.contains("Response to this call in frame: 16"),
        "two passes"
    );
    assert!(tree.contains("[Stream URL: rtmp://127.0.0.1:19350/live/room]"));
    let single = text(&dissect(&[p, "-f", "tree", "--single-pass"], None));
    assert!(!single.contains("Response to this call in frame"));
    assert!(single.contains("Call for this response in frame: 12"));

    let json = text(&dissect(&[p, "-f", "json"], None));
    let messages = json
        .lines()
        .filter(|l| l.contains(r#""kind":"message""#))
        .count();
    assert_eq!(messages, 218 + 7);

    let flows = text(&dissect(&[p, "-f", "flows"], None));
    assert!(flows.starts_with(
        "conn 0 127.0.0.1:48330 -> 127.0.0.1:19350 RTMP publish rtmp://127.0.0.1:19350/live/room | video H.264/AVC High@1.3 320x240"
    ), "{flows}");
}

#[test]
fn standard_input_and_decode_as() {
    let bytes = std::fs::read(fixture("rtmpdump-play-nginx.pcapng")).unwrap();
    let from_file = text(&dissect(
        &[fixture("rtmpdump-play-nginx.pcapng").to_str().unwrap()],
        None,
    ));
    let from_stdin = text(&dissect(&["-"], Some(&bytes)));
    assert_eq!(from_file, from_stdin);
    let flows = text(&dissect(
        &[
            "-",
            "-f",
            "flows",
            "-d",
            "tcp.port==19350,rtmp",
            "--no-default-port",
            "--chunk-size",
            "4096",
        ],
        Some(&bytes),
    ));
    assert!(
        flows.contains("RTMP play rtmp://127.0.0.1:19350/live/room"),
        "{flows}"
    );
}

#[test]
fn unusable_input_and_arguments_fail_clearly() {
    let o = dissect(&["-"], Some(b"this is not a capture file at all"));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("rtmpkit dissect: "), "{err}");
    let o = dissect(&["/nonexistent/x.pcap"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open /nonexistent/x.pcap"));
    let o = dissect(&["-", "-d", "tcp.port==x,rtmp"], Some(b""));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad decode-as rule 'tcp.port==x,rtmp'"));
    let o = dissect(&["-", "-f", "pretty"], Some(b""));
    assert_eq!(o.status.code(), Some(2), "usage error");
    let o = dissect(&["-", "--chunk-size", "0"], Some(b""));
    assert_eq!(o.status.code(), Some(2));
}
