//! rtmpkit-proto: the sans-I/O protocol core shared by rtmpkit's server, client and dissector.
//!
//! Nothing in this crate performs I/O, spawns tasks or reads a clock. Every state machine takes
//! bytes (and, where time matters, a time value supplied by the caller) and returns decoded events
//! and bytes to send. That keeps the server, the client and the dissector on exactly the same
//! decoder, and lets every part be unit-tested and fuzzed without sockets.
//!
//! | module | what it holds |
//! |---|---|
//! | [`amf`] | AMF0 and AMF3 values, decoders and encoders |
//! | [`rtmp::handshake`] | C0/C1/C2 and S0/S1/S2, simple and digest (complex) schemes |
//! | [`rtmp::chunk`] | the chunk stream: reader and writer |
//! | [`rtmp::message`] | typed RTMP messages and commands |
//! | [`rtmp::session`] | server and client sessions |
//! | [`flv`] | FLV tags, Enhanced RTMP headers, FLV files |
//! | [`codec`] | AVC/HEVC decoder configurations, SPS, AAC AudioSpecificConfig |

pub mod amf;
pub mod codec;
pub mod flv;
pub mod mpegts;
pub mod rtmp;
pub mod rtp;

#[cfg(test)]
mod test_support {
    /// Cases for a property test: `default`, unless `PROPTEST_CASES` asks for another number
    /// (as it would for a test using proptest's default configuration), to run deeper.
    pub(crate) fn proptest_cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}
