//! `rtmpkit serve` end to end, against real ffmpeg and rtmpdump.

mod support;
