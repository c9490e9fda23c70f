//! The recorded RTMP sessions of `tests/fixtures/` (ffmpeg, rtmpdump and GStreamer against
//! nginx's RTMP module), checked against tshark's decode (the `.tshark.tsv` oracle, where tshark
//! is right) and against the message counts the fixture README lists from the bytes; plus
//! snapshots of the summary, tree and flows views.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use rtmpkit_dissect::rtmp::{RtmpDir, RtmpEvent};
use rtmpkit_dissect::view::{Format, make_view};
use rtmpkit_dissect::{DissectConfig, FrameCtx, FrameObserver, dissect};

const FIXTURES: [&str; 6] = [
    "ffmpeg-publish-nginx",
    "ffmpeg-play-nginx",
    "rtmpdump-play-nginx",
    "gst-publish-nginx",
    "ffmpeg-publish-nginx-chunk60000",
    "ffmpeg-play-nginx-chunk60000",
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn read(name: &str, ext: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(format!("{name}.{ext}"))).expect("fixture")
}

/// One message as both decoders can describe it. tshark leaves type and length out for
/// messages whose first chunk has a type 2 or 3 header (it does not decode them).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    fmt: u8,
    csid: u32,
    type_id: Option<u8>,
    timestamp: u32,
    length: Option<usize>,
}

impl Msg {
    /// What tshark shows of this message.
    fn as_tshark(&self) -> Msg {
        let decoded = self.fmt < 2;
        Msg {
            type_id: self.type_id.filter(|_| decoded),
            length: self.length.filter(|_| decoded),
            ..self.clone()
        }
    }
}

#[derive(Default)]
struct Collected {
    /// frame → (direction, message, stream id, summary)
    messages: BTreeMap<u64, Vec<(RtmpDir, Msg, u32, String)>>,
    handshakes: BTreeMap<u64, Vec<&'static str>>,
    problems: Vec<String>,
}

impl FrameObserver for Collected {
    fn frame(&mut self, _: &FrameCtx<'_>, events: &[RtmpEvent]) -> io::Result<()> {
        self.trailing(events)
    }
    fn trailing(&mut self, events: &[RtmpEvent]) -> io::Result<()> {
        for ev in events {
            match ev {
                RtmpEvent::Message(m) => {
                    let mut s = String::new();
                    m.write_summary(&mut s).unwrap();
                    self.messages.entry(m.frame).or_default().push((
                        m.at.dir,
                        Msg {
                            fmt: m.chunk.first_fmt,
                            csid: m.csid,
                            type_id: Some(m.type_id),
                            timestamp: m.timestamp,
                            length: Some(m.length as usize),
                        },
                        m.stream_id,
                        s,
                    ));
                }
                RtmpEvent::Handshake(h) => self
                    .handshakes
                    .entry(h.frame)
                    .or_default()
                    .push(h.part.name()),
                RtmpEvent::Problem(p) => self.problems.push(format!("{}: {}", p.frame, p.text)),
            }
        }
        Ok(())
    }
}

fn collect(name: &str) -> (Collected, rtmpkit_dissect::DissectReport) {
    let mut c = Collected::default();
    let report = dissect(&read(name, "pcapng")[..], DissectConfig::default(), &mut c).unwrap();
    (c, report)
}

/// A `.tshark.tsv` row with RTMP fields.
struct Row {
    frame: u64,
    server_to_client: bool,
    msgs: Vec<Msg>,
    stream_ids: Vec<u32>,
    info: String,
}

fn split<T: std::str::FromStr>(s: &str) -> Vec<T> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(';')
        .map(|x| {
            let v = match x.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => x.parse::<u64>(),
            }
            .unwrap_or_else(|_| panic!("field {x}"));
            T::from_str(&v.to_string()).unwrap_or_else(|_| panic!("field {x}"))
        })
        .collect()
}

fn tsv(name: &str) -> (u16, Vec<Row>, Vec<(u64, String)>) {
    let text = String::from_utf8(read(name, "tshark.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (sport, fmt, csid, tid, ts, len, sid, info) = (
        col("tcp.srcport"),
        col("rtmpt.header.format"),
        col("rtmpt.header.csid"),
        col("rtmpt.header.typeid"),
        col("rtmpt.header.timestamp"),
        col("rtmpt.header.bodysize"),
        col("rtmpt.header.streamid"),
        col("_ws.col.Info"),
    );
    let readme = String::from_utf8(read("README", "md")).unwrap();
    let sec = readme.split(&format!("### {name}\n")).nth(1).unwrap();
    let port: u16 = sec
        .split("Server 127.0.0.1:")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut rows = Vec::new();
    let mut handshakes = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        let frame: u64 = f[0].parse().unwrap();
        if f[info].starts_with("Handshake") {
            handshakes.push((frame, f[info].to_owned()));
        }
        if f[fmt].is_empty() {
            continue;
        }
        let fmts: Vec<u8> = split(f[fmt]);
        let csids: Vec<u32> = split(f[csid]);
        let tids: Vec<u8> = split(f[tid]);
        let tss: Vec<u32> = split(f[ts]);
        let lens: Vec<usize> = split(f[len]);
        assert!(fmts.len() == csids.len() && csids.len() == tss.len());
        let mut tids = tids.into_iter();
        let mut lens = lens.into_iter();
        let msgs = (0..fmts.len())
            .map(|i| {
                let decoded = fmts[i] < 2;
                Msg {
                    fmt: fmts[i],
                    csid: csids[i],
                    type_id: if decoded { tids.next() } else { None },
                    timestamp: tss[i],
                    length: if decoded { lens.next() } else { None },
                }
            })
            .collect();
        assert!(tids.next().is_none() && lens.next().is_none());
        rows.push(Row {
            frame,
            server_to_client: f[sport].parse::<u16>().unwrap() == port,
            msgs,
            stream_ids: split(f[sid]),
            info: f[info].to_owned(),
        });
    }
    (port, rows, handshakes)
}

/// Splits tshark's Info at `|`, keeping the `|` of `|RtmpSampleAccess()`.
fn split_info(info: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut bar = false;
    for part in info.split('|') {
        if part.is_empty() {
            bar = true;
            continue;
        }
        out.push(if bar {
            format!("|{part}")
        } else {
            part.to_owned()
        });
        bar = false;
    }
    out
}

/// tshark omits the arguments of some commands and the "User Control Message" prefix.
fn same_summary(tshark: &str, ours: &str) -> bool {
    let ours = ours.trim_start_matches("User Control Message ");
    tshark == ours
        || tshark
            .strip_suffix("()")
            .is_some_and(|name| ours.starts_with(&format!("{name}(")))
}

#[test]
fn messages_match_tshark_where_tshark_decodes() {
    for name in FIXTURES {
        let (c, _) = collect(name);
        let (_, rows, handshakes) = tsv(name);
        let mut compared = 0;
        for row in &rows {
            let ours = c.messages.get(&row.frame).cloned().unwrap_or_default();
            let dir = if row.server_to_client {
                RtmpDir::S2C
            } else {
                RtmpDir::C2S
            };
            assert!(
                ours.iter().all(|(d, ..)| *d == dir),
                "{name} #{}",
                row.frame
            );
            let ours_msgs: Vec<Msg> = ours.iter().map(|(_, m, _, _)| m.as_tshark()).collect();
            assert_eq!(ours_msgs, row.msgs, "{name} frame {}", row.frame);
            let ours_sids: Vec<u32> = ours
                .iter()
                .filter(|(_, m, _, _)| m.fmt == 0)
                .map(|(_, _, sid, _)| *sid)
                .collect();
            assert_eq!(
                ours_sids, row.stream_ids,
                "{name} frame {} stream ids",
                row.frame
            );
            let theirs = split_info(&row.info);
            assert_eq!(theirs.len(), ours.len(), "{name} frame {}", row.frame);
            for (t, (_, _, _, o)) in theirs.iter().zip(&ours) {
                assert!(
                    same_summary(t, o),
                    "{name} frame {}: tshark {t:?}, ours {o:?}",
                    row.frame
                );
            }
            compared += row.msgs.len();
        }
        // Every frame where we decode a type 0/1-first message is one tshark decodes too.
        for (frame, msgs) in &c.messages {
            if msgs.iter().any(|(_, m, _, _)| m.fmt < 2) {
                assert!(
                    rows.iter().any(|r| r.frame == *frame),
                    "{name}: frame {frame} not in tshark's list"
                );
            }
        }
        let ours_hs: Vec<(u64, String)> = c
            .handshakes
            .iter()
            .flat_map(|(f, v)| v.iter().map(move |n| (*f, n.to_string())))
            .collect();
        assert_eq!(ours_hs, handshakes, "{name} handshake frames");
        assert!(compared > 0);
    }
}

/// The fixture README's "messages in the bytes" column, per direction and type.
fn readme_counts(name: &str) -> BTreeMap<(String, u8), u64> {
    let readme = String::from_utf8(read("README", "md")).unwrap();
    let sec = readme.split(&format!("### {name}\n")).nth(1).unwrap();
    let sec = sec.split("\n### ").next().unwrap();
    let mut out = BTreeMap::new();
    for l in sec.lines() {
        let cells: Vec<&str> = l.split('|').map(str::trim).collect();
        if cells.len() >= 5 && (cells[1] == "c2s" || cells[1] == "s2c") {
            let type_id: u8 = cells[2].split(' ').next().unwrap().parse().unwrap();
            out.insert((cells[1].to_owned(), type_id), cells[3].parse().unwrap());
        }
    }
    assert!(!out.is_empty(), "{name}: no count table");
    out
}

#[test]
fn message_counts_equal_the_bytes() {
    // On the chunk60000 fixtures tshark's default settings lose everything after Set Chunk
    // Size 60000: these counts are what the players and the server received.
    for name in FIXTURES {
        let (c, report) = collect(name);
        let mut ours = BTreeMap::new();
        for msgs in c.messages.values() {
            for (d, m, _, _) in msgs {
                *ours
                    .entry((d.as_str().to_owned(), m.type_id.unwrap_or(0)))
                    .or_insert(0u64) += 1;
            }
        }
        assert_eq!(ours, readme_counts(name), "{name}");
        assert_eq!(report.rtmp.len(), 1);
        let r = &report.rtmp[0];
        let expected_problems = usize::from(name == "ffmpeg-play-nginx-chunk60000");
        assert_eq!(
            c.problems.len(),
            expected_problems,
            "{name}: {:#?}",
            c.problems
        );
        assert!(
            r.url
                .as_deref()
                .is_some_and(|u| u.starts_with("rtmp://127.0.0.1:1935")),
            "{:?}",
            r.url
        );
        let v = r.video.as_ref().unwrap();
        assert_eq!((v.codec.as_str(), v.size), ("H.264/AVC", Some((320, 240))));
        assert!(r.audio.as_ref().unwrap().codec.starts_with("AAC"));
    }
}

#[test]
fn chunk60000_keyframes_over_32768_bytes_decode() {
    let (c, _) = collect("ffmpeg-publish-nginx-chunk60000");
    let big: Vec<usize> = c
        .messages
        .values()
        .flatten()
        .filter(|(_, m, _, _)| m.type_id == Some(9) && m.length > Some(32768))
        .filter_map(|(_, m, _, _)| m.length)
        .collect();
    // The README gives the frames' sizes; the messages add the 5-byte AVC video tag header.
    assert_eq!(
        big,
        [53981 + 5, 61314 + 5],
        "the two big key frames (README)"
    );
}

#[test]
fn publish_url_role_and_request_response_pairs() {
    let (_, report) = collect("ffmpeg-publish-nginx");
    let r = &report.rtmp[0];
    assert_eq!(r.role.as_str(), "publish");
    assert_eq!(r.url.as_deref(), Some("rtmp://127.0.0.1:19350/live/room"));
    assert_eq!(r.app.as_deref(), Some("live"));
    // connect (frame 12) → _result (16); createStream (20) → _result (22).
    let t = report.analyzer.transactions();
    assert_eq!(t.response(0, 12, 1.0), Some(16));
    assert_eq!(t.response(0, 20, 4.0), Some(22));
    let (_, report) = collect("rtmpdump-play-nginx");
    assert_eq!(report.rtmp[0].role.as_str(), "play");
    assert_eq!(
        report.rtmp[0].url.as_deref(),
        Some("rtmp://127.0.0.1:19350/live/room")
    );
}

fn render(name: &str, format: Format, frames: Option<u64>) -> String {
    let mut out = Vec::new();
    {
        let mut view = make_view(format, Box::new(&mut out));
        let mut config = DissectConfig::default();
        if format.wants_responses() {
            let first = dissect(&read(name, "pcapng")[..], config.clone(), &mut Discard).unwrap();
            let mut a = first.analyzer;
            config.rtmp.transactions = Some(a.take_transactions());
        }
        let report = dissect(&read(name, "pcapng")[..], config, &mut view).unwrap();
        view.finish(&report).unwrap();
    }
    let text = String::from_utf8(out).unwrap();
    match frames {
        None => text,
        Some(n) => cut_after_frame(&text, n, format),
    }
}

/// Keeps the output of frames 1..=n.
fn cut_after_frame(text: &str, n: u64, format: Format) -> String {
    let mut out = String::new();
    for block in text.split_inclusive('\n') {
        let frame = match format {
            Format::Tree => block
                .strip_prefix("Frame ")
                .and_then(|r| r.split(':').next())
                .and_then(|f| f.parse::<u64>().ok()),
            _ => block
                .split_whitespace()
                .next()
                .and_then(|f| f.parse::<u64>().ok()),
        };
        if frame.is_some_and(|f| f > n) {
            break;
        }
        out.push_str(block);
    }
    out
}

struct Discard;
impl FrameObserver for Discard {
    fn frame(&mut self, _: &FrameCtx<'_>, _: &[RtmpEvent]) -> io::Result<()> {
        Ok(())
    }
    fn trailing(&mut self, _: &[RtmpEvent]) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn snapshot_summary() {
    for name in ["ffmpeg-publish-nginx", "ffmpeg-play-nginx-chunk60000"] {
        insta::assert_snapshot!(
            format!("summary-{name}"),
            render(name, Format::Summary, Some(60))
        );
    }
}

#[test]
fn snapshot_tree() {
    for name in ["ffmpeg-publish-nginx", "rtmpdump-play-nginx"] {
        insta::assert_snapshot!(format!("tree-{name}"), render(name, Format::Tree, Some(40)));
    }
}

#[test]
fn snapshot_flows() {
    let all: String = FIXTURES
        .iter()
        .map(|n| format!("# {n}\n{}", render(n, Format::Flows, None)))
        .collect();
    insta::assert_snapshot!("flows-fixtures", all);
}
