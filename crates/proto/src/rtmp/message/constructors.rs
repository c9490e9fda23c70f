//! Constructors for the commands clients and servers send, in the layout real peers use
//! (name, transaction id, null command object unless the command has one, arguments).

use crate::amf::Amf0Value;

use super::command::Command;
use super::command_kind::{PublishType, name, props};
use super::status::{self, StatusInfo, level};

/// Client-side commands.
impl Command {
    /// Any command by name with a null command object: a remote procedure call.
    pub fn call(name: &str, transaction_id: f64, arguments: Vec<Amf0Value>) -> Command {
        Command::new(name, transaction_id, Amf0Value::Null, arguments)
    }

    /// `close()`.
    pub fn close(transaction_id: f64) -> Command {
        Command::call(name::CLOSE, transaction_id, Vec::new())
    }

    /// `createStream()`.
    pub fn create_stream(transaction_id: f64) -> Command {
        Command::call(name::CREATE_STREAM, transaction_id, Vec::new())
    }

    /// `deleteStream(stream_id)`.
    pub fn delete_stream(transaction_id: f64, stream_id: u32) -> Command {
        let id = Amf0Value::Number(f64::from(stream_id));
        Command::call(name::DELETE_STREAM, transaction_id, vec![id])
    }

    /// `closeStream()` (sent on the message stream to close).
    pub fn close_stream(transaction_id: f64) -> Command {
        Command::call(name::CLOSE_STREAM, transaction_id, Vec::new())
    }

    /// `releaseStream(name)`.
    pub fn release_stream(transaction_id: f64, stream_name: &str) -> Command {
        Command::stream_name_call(name::RELEASE_STREAM, transaction_id, stream_name)
    }

    /// `FCPublish(name)`.
    pub fn fc_publish(transaction_id: f64, stream_name: &str) -> Command {
        Command::stream_name_call(name::FC_PUBLISH, transaction_id, stream_name)
    }

    /// `FCUnpublish(name)`.
    pub fn fc_unpublish(transaction_id: f64, stream_name: &str) -> Command {
        Command::stream_name_call(name::FC_UNPUBLISH, transaction_id, stream_name)
    }

    /// `FCSubscribe(name)`.
    pub fn fc_subscribe(transaction_id: f64, stream_name: &str) -> Command {
        Command::stream_name_call(name::FC_SUBSCRIBE, transaction_id, stream_name)
    }

    /// `getStreamLength(name)`.
    pub fn get_stream_length(transaction_id: f64, stream_name: &str) -> Command {
        Command::stream_name_call(name::GET_STREAM_LENGTH, transaction_id, stream_name)
    }

    fn stream_name_call(cmd: &str, transaction_id: f64, stream_name: &str) -> Command {
        Command::call(cmd, transaction_id, vec![Amf0Value::string(stream_name)])
    }

    /// `publish(name, type)`.
    pub fn publish(transaction_id: f64, stream_name: &str, publish_type: &PublishType) -> Command {
        let args = vec![
            Amf0Value::string(stream_name),
            Amf0Value::string(publish_type.as_str()),
        ];
        Command::call(name::PUBLISH, transaction_id, args)
    }

    /// `play(name[, start[, duration[, reset]]])`. Arguments are written up to the last one
    /// given; an absent one before it is written as its default (start -2, duration -1,
    /// reset true). ffmpeg's live play is `play(tx, name, Some(-2000.0), None, None)`.
    pub fn play(
        transaction_id: f64,
        stream_name: &str,
        start: Option<f64>,
        duration: Option<f64>,
        reset: Option<bool>,
    ) -> Command {
        let mut args = vec![Amf0Value::string(stream_name)];
        let count = match (start, duration, reset) {
            (_, _, Some(_)) => 3,
            (_, Some(_), None) => 2,
            (Some(_), None, None) => 1,
            (None, None, None) => 0,
        };
        let optional = [
            Amf0Value::Number(start.unwrap_or(-2.0)),
            Amf0Value::Number(duration.unwrap_or(-1.0)),
            Amf0Value::Boolean(reset.unwrap_or(true)),
        ];
        args.extend(optional.into_iter().take(count));
        Command::call(name::PLAY, transaction_id, args)
    }

    /// `play2(parameters)`.
    pub fn play2(transaction_id: f64, parameters: Amf0Value) -> Command {
        Command::call(name::PLAY2, transaction_id, vec![parameters])
    }

    /// `pause(pause, milliseconds)`: `pause` false resumes at `milliseconds`.
    pub fn pause(transaction_id: f64, pause: bool, milliseconds: f64) -> Command {
        let args = vec![Amf0Value::Boolean(pause), Amf0Value::Number(milliseconds)];
        Command::call(name::PAUSE, transaction_id, args)
    }

    /// `seek(milliseconds)`.
    pub fn seek(transaction_id: f64, milliseconds: f64) -> Command {
        Command::call(
            name::SEEK,
            transaction_id,
            vec![Amf0Value::Number(milliseconds)],
        )
    }

    /// `receiveAudio(flag)` (transaction id 0, as the spec asks).
    pub fn receive_audio(enabled: bool) -> Command {
        Command::call(name::RECEIVE_AUDIO, 0.0, vec![Amf0Value::Boolean(enabled)])
    }

    /// `receiveVideo(flag)` (transaction id 0, as the spec asks).
    pub fn receive_video(enabled: bool) -> Command {
        Command::call(name::RECEIVE_VIDEO, 0.0, vec![Amf0Value::Boolean(enabled)])
    }

    /// `_checkbw()`.
    pub fn check_bw(transaction_id: f64) -> Command {
        Command::call(name::CHECK_BW, transaction_id, Vec::new())
    }
}

/// Server-side commands.
impl Command {
    /// `_result(properties, arguments…)`.
    pub fn result(
        transaction_id: f64,
        properties: Amf0Value,
        arguments: Vec<Amf0Value>,
    ) -> Command {
        Command::new(name::RESULT, transaction_id, properties, arguments)
    }

    /// `_error(properties, information)`.
    pub fn error(transaction_id: f64, properties: Amf0Value, information: Amf0Value) -> Command {
        Command::new(name::ERROR, transaction_id, properties, vec![information])
    }

    /// The successful answer to `connect`: properties `{fmsVer, capabilities}` and
    /// information `{level: status, code: NetConnection.Connect.Success,
    /// description: "Connection succeeded.", objectEncoding}`. With
    /// `(1.0, "FMS/3,0,1,123", 31.0, 0.0)` these are the bytes nginx sends (seed 000).
    pub fn connect_result(
        transaction_id: f64,
        fms_ver: &str,
        capabilities: f64,
        object_encoding: f64,
    ) -> Command {
        let properties = Amf0Value::Object(props([
            ("fmsVer", Amf0Value::string(fms_ver)),
            ("capabilities", Amf0Value::Number(capabilities)),
        ]));
        let info = StatusInfo::new(
            level::STATUS,
            status::CONNECT_SUCCESS,
            "Connection succeeded.",
        )
        .with("objectEncoding", Amf0Value::Number(object_encoding));
        Command::result(transaction_id, properties, vec![info.to_object()])
    }

    /// The refusal of `connect`: `_error(null, {level: error,
    /// code: NetConnection.Connect.Rejected, description})`.
    pub fn connect_rejected(transaction_id: f64, description: &str) -> Command {
        let info = StatusInfo::new(level::ERROR, status::CONNECT_REJECTED, description);
        Command::error(transaction_id, Amf0Value::Null, info.to_object())
    }

    /// The answer to `createStream`: `_result(null, stream_id)`.
    pub fn create_stream_result(transaction_id: f64, stream_id: u32) -> Command {
        let id = Amf0Value::Number(f64::from(stream_id));
        Command::result(transaction_id, Amf0Value::Null, vec![id])
    }

    /// `onStatus(0, null, {level, code, description})`, sent on the message stream the status
    /// is about (the stream id travels beside the message).
    pub fn on_status(level: &str, code: &str, description: &str) -> Command {
        Command::on_status_info(&StatusInfo::new(level, code, description))
    }

    /// `onStatus` with a full information object (extra properties included).
    pub fn on_status_info(info: &StatusInfo) -> Command {
        Command::call(name::ON_STATUS, 0.0, vec![info.to_object()])
    }

    /// `onBWDone()`.
    pub fn on_bw_done() -> Command {
        Command::call(name::ON_BW_DONE, 0.0, Vec::new())
    }

    /// `onFCPublish(0, null, {code, description})`.
    pub fn on_fc_publish(code: &str, description: &str) -> Command {
        Command::call(
            name::ON_FC_PUBLISH,
            0.0,
            vec![code_description(code, description)],
        )
    }

    /// `onFCUnpublish(0, null, {code, description})`.
    pub fn on_fc_unpublish(code: &str, description: &str) -> Command {
        Command::call(
            name::ON_FC_UNPUBLISH,
            0.0,
            vec![code_description(code, description)],
        )
    }
}

fn code_description(code: &str, description: &str) -> Amf0Value {
    Amf0Value::Object(props([
        ("code", Amf0Value::string(code)),
        ("description", Amf0Value::string(description)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtmp::message::{CommandKind, Play};

    fn reencoded(c: &Command) -> Command {
        let mut buf = Vec::new();
        c.encode(&mut buf);
        let back = Command::decode(&buf).expect("decodes");
        assert_eq!(&back, c);
        back
    }

    #[test]
    fn client_commands_have_their_typed_view() {
        let live = PublishType::Live;
        let cases: Vec<(Command, CommandKind<'static>)> = vec![
            (Command::close(1.0), CommandKind::Close),
            (Command::create_stream(2.0), CommandKind::CreateStream),
            (
                Command::delete_stream(3.0, 1),
                CommandKind::DeleteStream { stream_id: 1.0 },
            ),
            (Command::close_stream(0.0), CommandKind::CloseStream),
            (
                Command::release_stream(2.0, "a"),
                CommandKind::ReleaseStream { stream_name: "a" },
            ),
            (
                Command::fc_publish(3.0, "a"),
                CommandKind::FcPublish { stream_name: "a" },
            ),
            (
                Command::fc_unpublish(3.0, "a"),
                CommandKind::FcUnpublish { stream_name: "a" },
            ),
            (
                Command::fc_subscribe(3.0, "a"),
                CommandKind::FcSubscribe { stream_name: "a" },
            ),
            (
                Command::get_stream_length(4.0, "a"),
                CommandKind::GetStreamLength { stream_name: "a" },
            ),
            (
                Command::publish(5.0, "a", &live),
                CommandKind::Publish {
                    stream_name: "a",
                    publish_type: PublishType::Live,
                },
            ),
            (
                Command::pause(6.0, true, 1500.0),
                CommandKind::Pause {
                    pause: true,
                    milliseconds: Some(1500.0),
                },
            ),
            (
                Command::seek(7.0, 2000.0),
                CommandKind::Seek {
                    milliseconds: 2000.0,
                },
            ),
            (
                Command::receive_audio(false),
                CommandKind::ReceiveAudio { enabled: false },
            ),
            (
                Command::receive_video(true),
                CommandKind::ReceiveVideo { enabled: true },
            ),
            (Command::check_bw(3.0), CommandKind::CheckBandwidth),
            (Command::on_bw_done(), CommandKind::OnBwDone),
        ];
        for (cmd, want) in &cases {
            assert_eq!(&reencoded(cmd).kind(), want, "{cmd:?}");
        }
    }

    #[test]
    fn publish_types_and_play_arguments() {
        for t in ["live", "record", "append", "appendWithGap"] {
            let ty = PublishType::from_name(t);
            assert_eq!(ty.as_str(), t);
            let cmd = Command::publish(1.0, "s", &ty);
            assert!(
                matches!(cmd.kind(), CommandKind::Publish { publish_type, .. } if publish_type == ty)
            );
        }
        let no_type = Command::call("publish", 1.0, vec![Amf0Value::string("s")]);
        assert!(matches!(
            no_type.kind(),
            CommandKind::Publish {
                publish_type: PublishType::Live,
                ..
            }
        ));
        let bad_type = Command::call(
            "publish",
            1.0,
            vec![Amf0Value::string("s"), Amf0Value::Number(1.0)],
        );
        assert!(matches!(bad_type.kind(), CommandKind::Call(_)));

        let p = Command::play(5.0, "livestream", Some(-2000.0), None, None);
        assert_eq!(p.arguments().len(), 2);
        assert_eq!(
            p.kind(),
            CommandKind::Play(Play {
                stream_name: "livestream",
                start: Some(-2000.0),
                duration: None,
                reset: None
            })
        );
        let p = Command::play(5.0, "s", None, None, Some(false));
        assert_eq!(
            p.kind(),
            CommandKind::Play(Play {
                stream_name: "s",
                start: Some(Play::START_DEFAULT),
                duration: Some(Play::DURATION_DEFAULT),
                reset: Some(false)
            })
        );
        let p = Command::play(5.0, "s", None, None, None);
        assert_eq!(p.arguments().len(), 1);
        let numeric_reset = Command::call(
            "play",
            0.0,
            vec![
                Amf0Value::string("s"),
                Amf0Value::Number(0.0),
                Amf0Value::Number(-1.0),
                Amf0Value::Number(0.0),
            ],
        );
        assert!(matches!(
            numeric_reset.kind(),
            CommandKind::Play(Play {
                reset: Some(false),
                ..
            })
        ));
        let params = Amf0Value::object([("streamName", Amf0Value::string("s2"))]);
        let p2 = Command::play2(0.0, params.clone());
        assert_eq!(
            p2.kind(),
            CommandKind::Play2 {
                parameters: &params
            }
        );
    }

    #[test]
    fn known_names_with_wrong_arguments_are_calls() {
        for name in [
            "deleteStream",
            "releaseStream",
            "FCPublish",
            "FCUnpublish",
            "FCSubscribe",
            "publish",
            "play",
            "play2",
            "pause",
            "seek",
            "receiveAudio",
            "receiveVideo",
            "getStreamLength",
        ] {
            let c = Command::call(name, 1.0, Vec::new());
            assert_eq!(c.kind(), CommandKind::Call(&c), "{name}");
        }
        let c = Command::call("myMethod", 9.0, vec![Amf0Value::Null]);
        assert_eq!(c.kind(), CommandKind::Call(&c));
    }

    #[test]
    fn server_answers_read_back() {
        let c = Command::connect_rejected(1.0, "no such app");
        let CommandKind::Error(r) = c.kind() else {
            panic!("not an error: {c:?}");
        };
        let s = r.status().expect("status");
        assert_eq!(s.level(), Some("error"));
        assert_eq!(s.code(), Some(status::CONNECT_REJECTED));
        assert_eq!(s.description(), Some("no such app"));
        assert_eq!(r.stream_id(), None);
        assert_eq!(r.transaction_id(), 1.0);

        let c = Command::on_status_info(
            &StatusInfo::new(
                level::STATUS,
                status::PLAY_RESET,
                "Playing and resetting s.",
            )
            .with("details", Amf0Value::string("s"))
            .with("clientid", Amf0Value::string("abc")),
        );
        let c = reencoded(&c);
        let CommandKind::OnStatus(s) = c.kind() else {
            panic!("not onStatus");
        };
        assert_eq!(s.code(), Some(status::PLAY_RESET));
        let extra: Vec<&str> = s.extra().map(|(k, _)| k.as_str()).collect();
        assert_eq!(extra, ["details", "clientid"]);
        assert_eq!(s.get("details").and_then(Amf0Value::as_str), Some("s"));

        let c = Command::on_fc_publish(status::PUBLISH_START, "room");
        let CommandKind::OnFcPublish(s) = c.kind() else {
            panic!("not onFCPublish");
        };
        assert_eq!(s.code(), Some(status::PUBLISH_START));
        assert_eq!(s.level(), None);
        let c = Command::on_fc_unpublish(status::UNPUBLISH_SUCCESS, "room");
        assert!(
            matches!(c.kind(), CommandKind::OnFcUnpublish(s) if s.code() == Some(status::UNPUBLISH_SUCCESS))
        );
    }

    #[test]
    fn on_status_with_info_in_the_command_object() {
        let info = StatusInfo::new(level::STATUS, status::PLAY_START, "x").to_object();
        let c = Command::new("onStatus", 0.0, info, Vec::new());
        let CommandKind::OnStatus(s) = c.kind() else {
            panic!("not onStatus");
        };
        assert_eq!(s.code(), Some(status::PLAY_START));
        let bare = Command::call("onStatus", 0.0, Vec::new());
        let CommandKind::OnStatus(s) = bare.kind() else {
            panic!("not onStatus");
        };
        assert_eq!(s.code(), None);
        assert_eq!(s.info(), &Amf0Value::Null);
    }
}
