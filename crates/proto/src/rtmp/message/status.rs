//! Status levels and codes carried in the information objects of `onStatus`, `_result` and
//! `_error`, and an owned builder for such objects.

use crate::amf::{Amf0Value, Properties};

/// Values of the `level` property.
pub mod level {
    pub const STATUS: &str = "status";
    pub const WARNING: &str = "warning";
    pub const ERROR: &str = "error";
}

/// `NetConnection.Connect.Success`
pub const CONNECT_SUCCESS: &str = "NetConnection.Connect.Success";
/// `NetConnection.Connect.Rejected`
pub const CONNECT_REJECTED: &str = "NetConnection.Connect.Rejected";
/// `NetConnection.Connect.Failed`
pub const CONNECT_FAILED: &str = "NetConnection.Connect.Failed";
/// `NetConnection.Connect.Closed`
pub const CONNECT_CLOSED: &str = "NetConnection.Connect.Closed";
/// `NetConnection.Connect.InvalidApp`
pub const CONNECT_INVALID_APP: &str = "NetConnection.Connect.InvalidApp";
/// `NetConnection.Connect.AppShutdown`
pub const CONNECT_APP_SHUTDOWN: &str = "NetConnection.Connect.AppShutdown";
/// `NetConnection.Connect.ReconnectRequest` (Enhanced RTMP: the server asks the client to
/// reconnect, optionally to a `tcUrl` given in the information object).
pub const CONNECT_RECONNECT_REQUEST: &str = "NetConnection.Connect.ReconnectRequest";
/// `NetConnection.Call.Failed`
pub const CALL_FAILED: &str = "NetConnection.Call.Failed";

/// `NetStream.Publish.Start`
pub const PUBLISH_START: &str = "NetStream.Publish.Start";
/// `NetStream.Publish.BadName` (the stream name is already being published).
pub const PUBLISH_BAD_NAME: &str = "NetStream.Publish.BadName";
/// `NetStream.Publish.Idle`
pub const PUBLISH_IDLE: &str = "NetStream.Publish.Idle";
/// `NetStream.Unpublish.Success`
pub const UNPUBLISH_SUCCESS: &str = "NetStream.Unpublish.Success";
/// `NetStream.Record.Start`
pub const RECORD_START: &str = "NetStream.Record.Start";
/// `NetStream.Record.Stop`
pub const RECORD_STOP: &str = "NetStream.Record.Stop";

/// `NetStream.Play.Reset`
pub const PLAY_RESET: &str = "NetStream.Play.Reset";
/// `NetStream.Play.Start`
pub const PLAY_START: &str = "NetStream.Play.Start";
/// `NetStream.Play.Stop`
pub const PLAY_STOP: &str = "NetStream.Play.Stop";
/// `NetStream.Play.Failed`
pub const PLAY_FAILED: &str = "NetStream.Play.Failed";
/// `NetStream.Play.StreamNotFound`
pub const PLAY_STREAM_NOT_FOUND: &str = "NetStream.Play.StreamNotFound";
/// `NetStream.Play.PublishNotify` (a publisher started the stream being played).
pub const PLAY_PUBLISH_NOTIFY: &str = "NetStream.Play.PublishNotify";
/// `NetStream.Play.UnpublishNotify` (the publisher of the stream being played stopped).
pub const PLAY_UNPUBLISH_NOTIFY: &str = "NetStream.Play.UnpublishNotify";
/// `NetStream.Play.Complete` (sent in `onPlayStatus`).
pub const PLAY_COMPLETE: &str = "NetStream.Play.Complete";
/// `NetStream.Play.Switch`
pub const PLAY_SWITCH: &str = "NetStream.Play.Switch";
/// `NetStream.Pause.Notify`
pub const PAUSE_NOTIFY: &str = "NetStream.Pause.Notify";
/// `NetStream.Unpause.Notify`
pub const UNPAUSE_NOTIFY: &str = "NetStream.Unpause.Notify";
/// `NetStream.Seek.Notify`
pub const SEEK_NOTIFY: &str = "NetStream.Seek.Notify";
/// `NetStream.Seek.Failed`
pub const SEEK_FAILED: &str = "NetStream.Seek.Failed";
/// `NetStream.Data.Start`
pub const DATA_START: &str = "NetStream.Data.Start";
/// `NetStream.Failed`
pub const STREAM_FAILED: &str = "NetStream.Failed";

/// An information object to send: level, code, description, then any extra properties
/// (`details`, `clientid`, `objectEncoding`, …), in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusInfo {
    pub level: String,
    pub code: String,
    pub description: String,
    pub extra: Properties<Amf0Value>,
}

impl StatusInfo {
    /// An information object without extra properties.
    pub fn new(level: &str, code: &str, description: &str) -> StatusInfo {
        StatusInfo {
            level: level.to_owned(),
            code: code.to_owned(),
            description: description.to_owned(),
            extra: Vec::new(),
        }
    }

    /// Adds an extra property after the existing ones.
    pub fn with(mut self, key: &str, value: Amf0Value) -> StatusInfo {
        self.extra.push((key.to_owned(), value));
        self
    }

    /// The AMF0 object.
    pub fn to_object(&self) -> Amf0Value {
        let mut p = Vec::with_capacity(3 + self.extra.len());
        p.push(("level".to_owned(), Amf0Value::string(self.level.as_str())));
        p.push(("code".to_owned(), Amf0Value::string(self.code.as_str())));
        p.push((
            "description".to_owned(),
            Amf0Value::string(self.description.as_str()),
        ));
        p.extend(self.extra.iter().cloned());
        Amf0Value::Object(p)
    }
}
