//! placeholder
pub struct DecodeAs; pub struct RtpTsAnalyzer;
