//! A stream's frames as RTMP chunks in memory files, so that player sockets send them with
//! `sendfile(2)`: the kernel takes the pages by reference instead of copying every frame into
//! every player's socket buffer.
//!
//! The publisher appends each frame's shared serialization once, while some player sends
//! from the file (the first such player appends the headers and cached GOP it is about to be
//! sent); frames that follow one another lie end to end, so a player that is several frames
//! behind sends them all with one call. The files are anonymous (`memfd_create`), cut into
//! segments of [`SEGMENT_SIZE`]: a segment is closed when the last frame in it is dropped,
//! and its pages live on while a socket still holds them. Nothing is ever overwritten or
//! punched out of a file a socket may be reading, which is what makes sending by reference
//! safe.
//!
//! Only on Linux; elsewhere [`FrameFile::append`] gives nothing and frames are written from
//! memory as before.

use std::sync::Arc;

/// Bytes of frames per memory file (a larger frame gets a file of its own size).
pub(crate) const SEGMENT_SIZE: u64 = 1 << 20;

/// One memory file: frames at increasing offsets.
#[derive(Debug)]
pub(crate) struct Segment {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl Segment {
    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }
}

/// Where one frame's chunks are in the stream's frame file, or those of several frames that
/// lie end to end: `len` bytes at `offset` of `segment`. Only the hub makes them; a
/// [`ConnectionWriter`](crate::connection::ConnectionWriter) sends from them.
#[derive(Debug, Clone)]
pub struct FileSlot {
    pub(crate) segment: Arc<Segment>,
    pub(crate) offset: u64,
    pub(crate) len: usize,
}

impl FileSlot {
    /// Whether `next` starts where this slot ends, in the same file.
    pub(crate) fn is_followed_by(&self, next: &FileSlot) -> bool {
        Arc::ptr_eq(&self.segment, &next.segment) && self.end() == next.offset
    }

    fn end(&self) -> u64 {
        self.offset + self.len as u64
    }

    /// From the start of `self` to the end of `last`, which lies after it in the same file
    /// with only frames of the file between them.
    pub(crate) fn through(&self, last: &FileSlot) -> Option<FileSlot> {
        let same = Arc::ptr_eq(&self.segment, &last.segment) && last.offset >= self.offset;
        same.then(|| FileSlot {
            segment: self.segment.clone(),
            offset: self.offset,
            len: usize::try_from(last.end() - self.offset).unwrap_or(usize::MAX),
        })
    }

    /// The bytes from `skip` on, read back from the file: for a socket that turns out not to
    /// take `sendfile`.
    #[cfg(target_os = "linux")]
    pub(crate) fn read(&self, skip: usize) -> std::io::Result<bytes::Bytes> {
        let mut buf = vec![0; self.len.saturating_sub(skip)];
        let mut done = 0;
        while done < buf.len() {
            let at = self.offset + (skip + done) as u64;
            match rustix::io::pread(&self.segment.fd, &mut buf[done..], at)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => done += n,
            }
        }
        Ok(buf.into())
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn read(&self, _skip: usize) -> std::io::Result<bytes::Bytes> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// The writing end: appends frames. One per stream, in its state (under its write lock, which
/// the publisher holds to push a frame).
#[derive(Debug, Default)]
pub(crate) struct FrameFile {
    current: Option<(Arc<Segment>, u64)>,
    /// Set after a failure (no memfd, no memory): frames are then sent from memory.
    disabled: bool,
}

impl FrameFile {
    /// Appends `bytes`; `None` when files are unavailable (the caller sends from memory).
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Option<FileSlot> {
        if self.disabled || bytes.is_empty() {
            return None;
        }
        match self.try_append(bytes) {
            Ok(slot) => Some(slot),
            Err(e) => {
                if e.kind() != std::io::ErrorKind::Unsupported {
                    tracing::warn!(
                        "frame file unavailable, players' frames are copied instead: {e}"
                    );
                }
                self.disabled = true;
                self.current = None;
                None
            }
        }
    }

    /// No frames for a while: the current segment is closed once the frames in it are
    /// gone, and the next append starts a new one.
    pub(crate) fn pause(&mut self) {
        self.current = None;
    }

    #[cfg(target_os = "linux")]
    fn try_append(&mut self, bytes: &[u8]) -> std::io::Result<FileSlot> {
        let len = bytes.len() as u64;
        let fits = |(_, used): &(Arc<Segment>, u64)| used + len <= SEGMENT_SIZE.max(len);
        if !self.current.as_ref().is_some_and(fits) {
            let fd = rustix::fs::memfd_create("rtmpkit-frames", rustix::fs::MemfdFlags::CLOEXEC)?;
            self.current = Some((Arc::new(Segment { fd }), 0));
        }
        let (segment, used) = self.current.as_mut().ok_or(std::io::ErrorKind::NotFound)?;
        let offset = *used;
        let mut written = 0;
        while written < bytes.len() {
            let n = rustix::io::pwrite(&segment.fd, &bytes[written..], offset + written as u64)?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            written += n;
        }
        *used += len;
        Ok(FileSlot {
            segment: segment.clone(),
            offset,
            len: bytes.len(),
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn try_append(&mut self, _bytes: &[u8]) -> std::io::Result<FileSlot> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn read_back(slot: &FileSlot) -> Vec<u8> {
        slot.read(0).unwrap().to_vec()
    }

    #[test]
    fn frames_lie_end_to_end_and_read_back() {
        let mut file = FrameFile::default();
        let a = file.append(b"first frame").unwrap();
        let b = file.append(b"second").unwrap();
        assert!(a.is_followed_by(&b));
        assert!(!b.is_followed_by(&a));
        assert_eq!(read_back(&a), b"first frame");
        assert_eq!(read_back(&b), b"second");
        // Both as one piece, and the rest of it from a point (a socket that stopped taking
        // `sendfile` part way goes on from memory).
        let both = a.through(&b).unwrap();
        assert_eq!(both.read(0).unwrap(), &b"first framesecond"[..]);
        assert_eq!(both.read(6).unwrap(), &b"framesecond"[..]);
        assert_eq!(both.read(both.len).unwrap(), &b""[..]);
        assert!(b.through(&a).is_none(), "backwards");
    }

    #[test]
    fn a_full_segment_starts_a_new_file() {
        let mut file = FrameFile::default();
        let big = vec![7u8; SEGMENT_SIZE as usize - 10];
        let a = file.append(&big).unwrap();
        let b = file.append(&[1u8; 20]).unwrap();
        assert!(!a.is_followed_by(&b), "20 bytes do not fit in the 10 left");
        assert_eq!(b.offset, 0);
        // A frame larger than a segment gets a file of its own.
        let huge = vec![9u8; SEGMENT_SIZE as usize + 5];
        let c = file.append(&huge).unwrap();
        assert_eq!((c.offset, c.len), (0, huge.len()));
        assert_eq!(read_back(&c), huge);
        assert_eq!(read_back(&a), big);
    }

    /// What players of a stream are sent from its frame file: every frame, end to end, the
    /// same bytes as its shared serialization in memory.
    #[test]
    fn the_publisher_writes_each_frame_once_in_order() {
        use crate::hub::tests::{audio, hub_with, inter_frame, key, key_frame, publish, video_seq};
        use crate::hub::{Delivery, SHARED_STREAM_ID};

        for send_file in [true, false] {
            let hub = hub_with(|c| c.player_queue.send_file = send_file);
            let mut sub = hub.subscribe(key());
            sub.send_from_files(true);
            let mut p = publish(&hub);
            for f in [video_seq(0), key_frame(0), audio(10), inter_frame(33)] {
                p.push(f).unwrap();
            }
            let frames: Vec<_> = std::iter::from_fn(|| sub.try_next())
                .filter_map(|d| match d {
                    Delivery::Frame(f) => Some(f),
                    _ => None,
                })
                .collect();
            assert_eq!(frames.len(), 4);
            let slots: Vec<_> = frames.iter().filter_map(|f| f.file()).collect();
            if !send_file {
                assert!(slots.is_empty());
                continue;
            }
            assert_eq!(slots.len(), 4);
            for (f, slot) in frames.iter().zip(&slots) {
                let chunks = f
                    .rtmp_chunks(hub.config().chunk_size, SHARED_STREAM_ID)
                    .unwrap();
                assert_eq!(read_back(slot), chunks);
                assert!(
                    f.file_slot(hub.config().chunk_size, SHARED_STREAM_ID)
                        .is_some()
                );
                // Another chunk size or stream id is serialized for that player alone.
                assert!(f.file_slot(128, SHARED_STREAM_ID).is_none());
                assert!(f.file_slot(hub.config().chunk_size, 2).is_none());
            }
            assert!(slots.windows(2).all(|w| w[0].is_followed_by(w[1])));
        }
    }

    /// The file is written only while some player sends from it: a stream played only over
    /// HTTP-FLV, or only recorded, costs no memory files. The first player to send from it
    /// writes what it is sent first (headers, cached GOP), end to end, so its burst goes out
    /// from the file too.
    #[test]
    fn frames_go_to_the_file_only_while_a_player_reads_it() {
        use crate::hub::tests::{hub_with, inter_frame, key, key_frame, publish, video_seq};
        use crate::hub::{Delivery, Frame};

        fn frames(sub: &mut crate::hub::Subscription) -> Vec<Arc<Frame>> {
            std::iter::from_fn(|| sub.try_next())
                .filter_map(|d| match d {
                    Delivery::Frame(f) => Some(f),
                    _ => None,
                })
                .collect()
        }
        let filed = |fs: &[Arc<Frame>]| fs.iter().map(|f| f.file().is_some()).collect::<Vec<_>>();

        let hub = hub_with(|_| {});
        let mut copier = hub.subscribe(key());
        let mut p = publish(&hub);
        for f in [
            video_seq(0),
            key_frame(0),
            inter_frame(33),
            key_frame(66),
            inter_frame(99),
        ] {
            p.push(f).unwrap();
        }
        let before = frames(&mut copier);
        assert_eq!(filed(&before), [false; 5]);

        let mut reader = hub.subscribe(key());
        reader.send_from_files(true);
        // The old GOP stays out; the header and the cached GOP are written, in the order the
        // new player is sent them.
        assert_eq!(filed(&before), [true, false, false, true, true]);
        let burst = frames(&mut reader);
        assert_eq!(burst.len(), 3, "header, keyframe, inter frame");
        let slots: Vec<_> = burst.iter().filter_map(|f| f.file()).collect();
        assert_eq!(slots.len(), 3);
        assert!(slots.windows(2).all(|w| w[0].is_followed_by(w[1])));

        p.push(inter_frame(133)).unwrap();
        drop(reader);
        p.push(inter_frame(166)).unwrap();
        let mut second = hub.subscribe(key());
        second.send_from_files(true);
        second.send_from_files(false);
        p.push(inter_frame(200)).unwrap();
        let after = frames(&mut copier);
        // 166 was published while nobody read the file, then written for `second`'s burst.
        assert_eq!(filed(&after), [true, true, false]);
    }

    #[test]
    fn nothing_to_append_gives_no_slot() {
        assert!(FrameFile::default().append(&[]).is_none());
    }

    /// What a player is sent: publisher events by name and the bytes of frames between them,
    /// in order; and how it took the frames.
    #[derive(Debug, PartialEq)]
    struct Sent {
        seq: Vec<String>,
        runs: usize,
        singles: usize,
    }

    impl Sent {
        fn events(&self) -> Vec<&str> {
            let event = |e: &&String| !e.starts_with('[');
            self.seq.iter().filter(event).map(String::as_str).collect()
        }
    }

    /// Drains `sub` frame by frame, or (`run_bytes` > 0) in runs of at most that many bytes
    /// wherever [`Subscription::try_next_run`] gives one.
    fn sent(sub: &mut crate::hub::Subscription, run_bytes: usize) -> Sent {
        use crate::hub::tests::name;
        use crate::hub::{Delivery, SHARED_STREAM_ID};
        let mut out = Sent {
            seq: Vec::new(),
            runs: 0,
            singles: 0,
        };
        let mut bytes = Vec::new();
        loop {
            if run_bytes > 0
                && let Some(run) = sub.try_next_run(run_bytes)
            {
                bytes.extend(read_back(&run));
                out.runs += 1;
                continue;
            }
            let Some(d) = sub.try_next() else { break };
            if let Delivery::Frame(f) = &d {
                out.singles += 1;
                match f.file() {
                    Some(slot) => bytes.extend(read_back(slot)),
                    None => bytes.extend(
                        f.rtmp_chunks(sub.shared_chunk_size(), SHARED_STREAM_ID)
                            .unwrap(),
                    ),
                }
                continue;
            }
            if !bytes.is_empty() {
                out.seq.push(format!("{:x?}", std::mem::take(&mut bytes)));
            }
            out.seq.push(name(&d));
        }
        if !bytes.is_empty() {
            out.seq.push(format!("{bytes:x?}"));
        }
        out
    }

    /// Frames taken in runs are the frames taken one by one, byte for byte, through joins,
    /// late joins with a cached GOP, skips and publisher changes; and runs do take several
    /// frames at once.
    #[test]
    fn runs_send_what_single_frames_send() {
        use crate::hub::PublishOptions;
        use crate::hub::tests::{
            audio_seq, hub_with, key, metadata, publish, publish_gops, video_seq,
        };

        let hub = hub_with(|c| c.player_queue.max_lag = std::time::Duration::from_millis(500));
        let early = || {
            let mut s = hub.subscribe(key());
            s.send_from_files(true);
            s
        };
        // Players from the start: frame by frame, in runs, in runs of one frame.
        let mut subs = [early(), early(), early()];
        let mut p = publish(&hub);
        p.push(metadata(0)).unwrap();
        p.push(video_seq(0)).unwrap();
        p.push(audio_seq(0)).unwrap();
        let t = publish_gops(&mut p, 0, 2);
        let mut late = [early(), early()];
        let t = publish_gops(&mut p, t, 1);
        let [s0, s1, s2] = &mut subs;
        let single = sent(s0, 0);
        assert_eq!(single.singles, 3 + 3 * 8);
        let batched = sent(s1, 1 << 20);
        assert_eq!(batched.seq, single.seq);
        // Until the keyframe a player may be owed anything; from there on, one run.
        assert_eq!((batched.singles, batched.runs), (4, 1));
        let tiny = sent(s2, 1);
        assert_eq!(tiny.seq, single.seq);
        assert_eq!((tiny.singles, tiny.runs), (4, 3 * 8 - 1));
        // A late joiner: joined, headers, keyframe, then the rest of the cached GOP in one.
        let [l0, l1] = &mut late;
        let (single, batched) = (sent(l0, 0), sent(l1, 1 << 20));
        assert_eq!(batched.seq, single.seq);
        assert_eq!((batched.singles, batched.runs), (4, 1));

        // Far behind: players skip (the lag bound is 500 ms) the same way either way.
        let t = publish_gops(&mut p, t, 6);
        let [s0, s1, s2] = &mut subs;
        let single = sent(s0, 0);
        assert_eq!(single.events(), ["S"]);
        assert_eq!(sent(s1, 1 << 20).seq, single.seq);
        assert_eq!(sent(s2, 100).seq, single.seq);

        // A new publisher session: its frames never join the old session's run, though they
        // follow them in the file.
        publish_gops(&mut p, t, 1);
        drop(p);
        let mut p = hub.publish(key(), PublishOptions::default()).unwrap();
        p.push(video_seq(0)).unwrap();
        publish_gops(&mut p, 0, 2);
        let [s0, s1, s2] = &mut subs;
        let single = sent(s0, 0);
        assert_eq!(single.events(), ["L", "J"]);
        assert!(
            single.seq[0].starts_with('['),
            "the old session's frames first"
        );
        assert_eq!(sent(s1, 1 << 20).seq, single.seq);
        assert_eq!(sent(s2, 64).seq, single.seq);
    }

    /// Frames published while no player read the file are not in it: runs start only where
    /// the file does, and end where a segment of it does.
    #[test]
    fn runs_start_where_the_file_does() {
        use crate::hub::Frame;
        use crate::hub::tests::{hub_with, key, publish, publish_gops};

        let hub = hub_with(|_| {});
        let mut copier = hub.subscribe(key());
        let mut p = publish(&hub);
        let t = publish_gops(&mut p, 0, 1);
        assert!(copier.try_next_run(1 << 20).is_none(), "not a file reader");
        let mut reader = hub.subscribe(key());
        let mut single = hub.subscribe(key());
        reader.send_from_files(true);
        single.send_from_files(true);
        publish_gops(&mut p, t, 1);
        let a = sent(&mut single, 0);
        let b = sent(&mut reader, 1 << 20);
        assert_eq!(a.seq, b.seq);
        // The cached GOP, written when the first reader came, and the next one, end to end.
        assert_eq!((b.singles, b.runs), (1, 1));
        let _ = sent(&mut copier, 0);

        let big = || Frame::video(0, vec![0x27; SEGMENT_SIZE as usize / 3].into());
        for _ in 0..4 {
            p.push(big()).unwrap();
        }
        let a = sent(&mut single, 0);
        let b = sent(&mut reader, 1 << 30);
        assert_eq!(a.seq, b.seq);
        assert_eq!(
            (b.singles, b.runs),
            (0, 2),
            "a new segment starts a new run"
        );
    }
}
