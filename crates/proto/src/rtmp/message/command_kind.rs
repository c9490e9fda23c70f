//! The typed view of a [`Command`]: which command it is and its arguments, borrowed from the
//! command's values.

use std::fmt;

use crate::amf::{Amf0Value, Properties};

use super::command::Command;
use super::connect::Connect;

/// Command names as they appear on the wire.
pub mod name {
    pub const CONNECT: &str = "connect";
    pub const CALL: &str = "call";
    pub const CLOSE: &str = "close";
    pub const CREATE_STREAM: &str = "createStream";
    pub const DELETE_STREAM: &str = "deleteStream";
    pub const CLOSE_STREAM: &str = "closeStream";
    pub const RELEASE_STREAM: &str = "releaseStream";
    pub const FC_PUBLISH: &str = "FCPublish";
    pub const FC_UNPUBLISH: &str = "FCUnpublish";
    pub const FC_SUBSCRIBE: &str = "FCSubscribe";
    pub const PUBLISH: &str = "publish";
    pub const PLAY: &str = "play";
    pub const PLAY2: &str = "play2";
    pub const PAUSE: &str = "pause";
    pub const SEEK: &str = "seek";
    pub const RECEIVE_AUDIO: &str = "receiveAudio";
    pub const RECEIVE_VIDEO: &str = "receiveVideo";
    pub const GET_STREAM_LENGTH: &str = "getStreamLength";
    pub const CHECK_BW: &str = "_checkbw";
    pub const RESULT: &str = "_result";
    pub const ERROR: &str = "_error";
    pub const ON_STATUS: &str = "onStatus";
    pub const ON_BW_DONE: &str = "onBWDone";
    pub const ON_FC_PUBLISH: &str = "onFCPublish";
    pub const ON_FC_UNPUBLISH: &str = "onFCUnpublish";
}

/// What a command is, with its arguments typed.
///
/// A known name whose arguments do not have the expected types (say a `publish` without a
/// stream name) is [`CommandKind::Call`]: the typed view never guesses, and the values are
/// still there in the [`Command`].
#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind<'a> {
    /// `connect`: the client asks to connect to an application.
    Connect(Connect<'a>),
    /// `close` (NetConnection.close).
    Close,
    /// `createStream`: the client asks for a message stream; answered with its id.
    CreateStream,
    /// `deleteStream(stream_id)`.
    DeleteStream { stream_id: f64 },
    /// `closeStream` (sent on the message stream being closed).
    CloseStream,
    /// `releaseStream(name)`: FMLE/ffmpeg's request to free a stream name before publishing.
    ReleaseStream { stream_name: &'a str },
    /// `FCPublish(name)`.
    FcPublish { stream_name: &'a str },
    /// `FCUnpublish(name)`.
    FcUnpublish { stream_name: &'a str },
    /// `FCSubscribe(name)`.
    FcSubscribe { stream_name: &'a str },
    /// `publish(name, type)`; the type is `live` when absent or null.
    Publish {
        stream_name: &'a str,
        publish_type: PublishType,
    },
    /// `play(name, start, duration, reset)`.
    Play(Play<'a>),
    /// `play2(parameters)`: a NetStreamPlayOptions object.
    Play2 { parameters: &'a Amf0Value },
    /// `pause(flag, milliseconds)`: `pause` true pauses, false resumes.
    Pause {
        pause: bool,
        milliseconds: Option<f64>,
    },
    /// `seek(milliseconds)`.
    Seek { milliseconds: f64 },
    /// `receiveAudio(flag)`.
    ReceiveAudio { enabled: bool },
    /// `receiveVideo(flag)`.
    ReceiveVideo { enabled: bool },
    /// `getStreamLength(name)`.
    GetStreamLength { stream_name: &'a str },
    /// `_checkbw`: a bandwidth check request.
    CheckBandwidth,
    /// `_result`: the success answer to the command with the same transaction id.
    Result(Response<'a>),
    /// `_error`: the failure answer to the command with the same transaction id.
    Error(Response<'a>),
    /// `onStatus(info)`: a NetStream or NetConnection status event.
    OnStatus(Status<'a>),
    /// `onBWDone`: the server's bandwidth check is done.
    OnBwDone,
    /// `onFCPublish(info)`.
    OnFcPublish(Status<'a>),
    /// `onFCUnpublish(info)`.
    OnFcUnpublish(Status<'a>),
    /// Any other command (a remote procedure call by name, NetConnection.call), or a known
    /// one with unexpected arguments.
    Call(&'a Command),
}

impl<'a> CommandKind<'a> {
    /// Classifies `command` by name and reads its arguments.
    pub fn of(command: &'a Command) -> CommandKind<'a> {
        Self::typed(command).unwrap_or(CommandKind::Call(command))
    }

    fn typed(c: &'a Command) -> Option<CommandKind<'a>> {
        let str_arg = |i: usize| c.argument(i).and_then(Amf0Value::as_str);
        let num_arg = |i: usize| c.argument(i).and_then(Amf0Value::as_f64);
        let bool_arg = |i: usize| c.argument(i).and_then(Amf0Value::as_bool);
        use name as n;
        Some(match c.name() {
            n::CONNECT => CommandKind::Connect(Connect::new(c)),
            n::CLOSE => CommandKind::Close,
            n::CREATE_STREAM => CommandKind::CreateStream,
            n::DELETE_STREAM => CommandKind::DeleteStream {
                stream_id: num_arg(0)?,
            },
            n::CLOSE_STREAM => CommandKind::CloseStream,
            n::RELEASE_STREAM => CommandKind::ReleaseStream {
                stream_name: str_arg(0)?,
            },
            n::FC_PUBLISH => CommandKind::FcPublish {
                stream_name: str_arg(0)?,
            },
            n::FC_UNPUBLISH => CommandKind::FcUnpublish {
                stream_name: str_arg(0)?,
            },
            n::FC_SUBSCRIBE => CommandKind::FcSubscribe {
                stream_name: str_arg(0)?,
            },
            n::PUBLISH => CommandKind::Publish {
                stream_name: str_arg(0)?,
                publish_type: match c.argument(1) {
                    None => PublishType::Live,
                    Some(v) if v.is_null() => PublishType::Live,
                    Some(v) => PublishType::from_name(v.as_str()?),
                },
            },
            n::PLAY => CommandKind::Play(Play {
                stream_name: str_arg(0)?,
                start: num_arg(1),
                duration: num_arg(2),
                reset: c.argument(3).and_then(truthy),
            }),
            n::PLAY2 => CommandKind::Play2 {
                parameters: c.argument(0)?,
            },
            n::PAUSE => CommandKind::Pause {
                pause: bool_arg(0)?,
                milliseconds: num_arg(1),
            },
            n::SEEK => CommandKind::Seek {
                milliseconds: num_arg(0)?,
            },
            n::RECEIVE_AUDIO => CommandKind::ReceiveAudio {
                enabled: bool_arg(0)?,
            },
            n::RECEIVE_VIDEO => CommandKind::ReceiveVideo {
                enabled: bool_arg(0)?,
            },
            n::GET_STREAM_LENGTH => CommandKind::GetStreamLength {
                stream_name: str_arg(0)?,
            },
            n::CHECK_BW => CommandKind::CheckBandwidth,
            n::RESULT => CommandKind::Result(Response { command: c }),
            n::ERROR => CommandKind::Error(Response { command: c }),
            n::ON_STATUS => CommandKind::OnStatus(Status::of_command(c)),
            n::ON_BW_DONE => CommandKind::OnBwDone,
            n::ON_FC_PUBLISH => CommandKind::OnFcPublish(Status::of_command(c)),
            n::ON_FC_UNPUBLISH => CommandKind::OnFcUnpublish(Status::of_command(c)),
            _ => return None,
        })
    }
}

/// A boolean, or a number read as a boolean (the spec lets `reset` be either).
fn truthy(v: &Amf0Value) -> Option<bool> {
    v.as_bool().or_else(|| v.as_f64().map(|n| n != 0.0))
}

/// How a publisher wants its stream handled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PublishType {
    /// `live`: not recorded.
    Live,
    /// `record`: recorded to a new file.
    Record,
    /// `append`: appended to an existing recording.
    Append,
    /// Anything else (e.g. FMS's `appendWithGap`), as sent.
    Other(String),
}

impl PublishType {
    /// The type for its wire name.
    pub fn from_name(s: &str) -> PublishType {
        match s {
            "live" => PublishType::Live,
            "record" => PublishType::Record,
            "append" => PublishType::Append,
            other => PublishType::Other(other.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            PublishType::Live => "live",
            PublishType::Record => "record",
            PublishType::Append => "append",
            PublishType::Other(s) => s,
        }
    }
}

impl fmt::Display for PublishType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The arguments of `play`. Absent arguments are `None`; the spec's defaults are in
/// [`Play::START_DEFAULT`] and [`Play::DURATION_DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Play<'a> {
    pub stream_name: &'a str,
    /// Milliseconds: -2 plays live and falls back to recorded, -1 live only, >= 0 recorded
    /// from that time. ffmpeg sends -2000 for its default `rtmp_live=any`.
    pub start: Option<f64>,
    /// Milliseconds to play; -1 plays to the end.
    pub duration: Option<f64>,
    /// Whether to flush any previous playlist.
    pub reset: Option<bool>,
}

impl Play<'_> {
    /// Start when the argument is absent: live, or recorded if there is no live stream.
    pub const START_DEFAULT: f64 = -2.0;
    /// Duration when the argument is absent: play to the end.
    pub const DURATION_DEFAULT: f64 = -1.0;
}

/// The view of a `_result` or `_error`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Response<'a> {
    command: &'a Command,
}

impl<'a> Response<'a> {
    /// The transaction id of the command this answers.
    pub fn transaction_id(&self) -> f64 {
        self.command.transaction_id()
    }

    /// The command object: the server's properties for `connect` (fmsVer, capabilities),
    /// null for most other answers.
    pub fn properties(&self) -> &'a Amf0Value {
        self.command.command_object()
    }

    /// The first argument: the information object of a `connect` answer, the stream id of a
    /// `createStream` answer.
    pub fn information(&self) -> Option<&'a Amf0Value> {
        self.command.argument(0)
    }

    /// All arguments after the command object.
    pub fn arguments(&self) -> &'a [Amf0Value] {
        self.command.arguments()
    }

    /// The status in the information object, when it has a `code` (connect answers do).
    pub fn status(&self) -> Option<Status<'a>> {
        let info = self.information()?;
        info.get("code").map(|_| Status { info })
    }

    /// The stream id of a `createStream` answer: the first argument, when it is a number.
    pub fn stream_id(&self) -> Option<f64> {
        self.information().and_then(Amf0Value::as_f64)
    }
}

/// The information object of a status event (`onStatus`, `onFCPublish`) or answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status<'a> {
    info: &'a Amf0Value,
}

impl<'a> Status<'a> {
    /// A status view over any AMF value (its properties are read if it has any).
    pub fn new(info: &'a Amf0Value) -> Status<'a> {
        Status { info }
    }

    /// The information object of a status command: the first argument when it has
    /// properties, else the command object (some servers put it there), else the first
    /// argument whatever it is.
    fn of_command(c: &'a Command) -> Status<'a> {
        let candidates = [c.argument(0), Some(c.command_object())];
        let info = candidates
            .into_iter()
            .flatten()
            .find(|v| v.properties().is_some())
            .or(c.argument(0))
            .unwrap_or(c.command_object());
        Status { info }
    }

    /// The whole information object.
    pub fn info(&self) -> &'a Amf0Value {
        self.info
    }

    /// `level`: "status", "warning" or "error".
    pub fn level(&self) -> Option<&'a str> {
        self.get_str("level")
    }

    /// `code`, e.g. "NetStream.Publish.Start".
    pub fn code(&self) -> Option<&'a str> {
        self.get_str("code")
    }

    /// `description`.
    pub fn description(&self) -> Option<&'a str> {
        self.get_str("description")
    }

    /// Any property of the information object.
    pub fn get(&self, key: &str) -> Option<&'a Amf0Value> {
        self.info.get(key)
    }

    /// The properties other than level, code and description.
    pub fn extra(&self) -> impl Iterator<Item = &'a (String, Amf0Value)> {
        let props: &'a [(String, Amf0Value)] = self.info.properties().unwrap_or_default();
        props
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "level" | "code" | "description"))
    }

    fn get_str(&self, key: &str) -> Option<&'a str> {
        self.info.get(key).and_then(Amf0Value::as_str)
    }
}

/// Properties as an owned list, for building objects.
pub(crate) fn props<const N: usize>(pairs: [(&str, Amf0Value); N]) -> Properties<Amf0Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
