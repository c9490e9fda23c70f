//! Synthetic streams and the comparison of what was sent with what arrived.

use bytes::{Bytes, BytesMut};
use rtmpkit_proto::rtmp::session::{ClientEvent, MediaKind};

use crate::support::{MediaKindOrData, Tag};

/// A media message as sent or received: kind, timestamp, payload.
pub type Received = (MediaKind, u32, Bytes);

/// The audio and video of a tag list.
pub fn media_of_tags(tags: &[Tag]) -> Vec<Received> {
    tags.iter()
        .filter_map(|(kind, ts, payload)| match kind {
            MediaKindOrData::Media(k) => Some((*k, *ts, payload.clone())),
            MediaKindOrData::Data => None,
        })
        .collect()
}

/// The audio and video a client received.
pub fn media_of_events(events: &[ClientEvent]) -> Vec<Received> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Media {
                kind,
                timestamp,
                payload,
                ..
            } => Some((*kind, *timestamp, payload.clone())),
            _ => None,
        })
        .collect()
}

/// Per track, timestamps never go back.
pub fn check_monotonic(media: &[Received]) -> Result<(), String> {
    for track in [MediaKind::Audio, MediaKind::Video] {
        let ts: Vec<u32> = media.iter().filter(|m| m.0 == track).map(|m| m.1).collect();
        if let Some(w) = ts.windows(2).find(|w| w[1] < w[0]) {
            return Err(format!(
                "{track:?} timestamp went back: {} then {}",
                w[0], w[1]
            ));
        }
    }
    Ok(())
}

/// Where two media lists first differ.
pub fn first_difference(sent: &[Received], got: &[Received]) -> Option<String> {
    let i = sent
        .iter()
        .zip(got)
        .position(|(s, g)| s != g)
        .unwrap_or(sent.len().min(got.len()));
    if i == sent.len() && i == got.len() {
        return None;
    }
    let show = |m: Option<&Received>| m.map(|m| (m.0, m.1, m.2.len()));
    Some(format!(
        "message {i} of {} sent / {} received differs: sent {:?}, got {:?}",
        sent.len(),
        got.len(),
        show(sent.get(i)),
        show(got.get(i))
    ))
}

/// A synthetic H.264/AAC-shaped stream: 25 fps video with a keyframe each second and
/// `video_bytes` per frame, AAC-rate audio of 200 bytes, sequence headers first. The frames of
/// a kind share one buffer, so a long stream costs no memory here.
pub fn synthetic_tags(seconds: u32, video_bytes: usize) -> Vec<Tag> {
    let fill = |head: &[u8], len: usize| {
        let mut b = BytesMut::from(head);
        b.resize(len.max(head.len()), 0x5a);
        b.freeze()
    };
    let key = fill(&[0x17, 1, 0, 0, 0], video_bytes);
    let inter = fill(&[0x27, 1, 0, 0, 0], video_bytes);
    let audio = fill(&[0xaf, 1], 200);
    let mut tags = vec![
        (
            MediaKindOrData::Media(MediaKind::Video),
            0,
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff]),
        ),
        (
            MediaKindOrData::Media(MediaKind::Audio),
            0,
            Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
        ),
    ];
    let mut audio_ms = 0.0f64;
    for i in 0..seconds * 25 {
        let ts = i * 40;
        while audio_ms <= f64::from(ts) {
            tags.push((
                MediaKindOrData::Media(MediaKind::Audio),
                audio_ms as u32,
                audio.clone(),
            ));
            audio_ms += 1_024_000.0 / 44_100.0;
        }
        let frame = if i % 25 == 0 { &key } else { &inter };
        tags.push((MediaKindOrData::Media(MediaKind::Video), ts, frame.clone()));
    }
    tags
}
