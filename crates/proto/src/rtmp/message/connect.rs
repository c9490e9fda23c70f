//! The `connect` command: a typed view for servers and a builder for clients.

use crate::amf::{Amf0Value, Properties};

use super::command::Command;
use super::command_kind::name;

/// The view of a received `connect` command: typed accessors over its command object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Connect<'a> {
    command: &'a Command,
}

impl<'a> Connect<'a> {
    pub(crate) fn new(command: &'a Command) -> Connect<'a> {
        Connect { command }
    }

    /// The transaction id (1 for every client seen in practice).
    pub fn transaction_id(&self) -> f64 {
        self.command.transaction_id()
    }

    /// The command object with all its properties.
    pub fn object(&self) -> &'a Amf0Value {
        self.command.command_object()
    }

    /// Any property of the command object.
    pub fn get(&self, key: &str) -> Option<&'a Amf0Value> {
        self.object().get(key)
    }

    fn str_of(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Amf0Value::as_str)
    }

    fn num_of(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Amf0Value::as_f64)
    }

    /// `app`: the application name (the URL path before the stream name).
    pub fn app(&self) -> Option<&'a str> {
        self.str_of("app")
    }

    /// `type`: "nonprivate" from FMLE-style publishers (ffmpeg, OBS).
    pub fn connect_type(&self) -> Option<&'a str> {
        self.str_of("type")
    }

    /// `flashVer`: the client's Flash Player or encoder version.
    pub fn flash_ver(&self) -> Option<&'a str> {
        self.str_of("flashVer")
    }

    /// `swfUrl`: the URL of the SWF that made the connection.
    pub fn swf_url(&self) -> Option<&'a str> {
        self.str_of("swfUrl")
    }

    /// `tcUrl`: the server URL, `rtmp://host[:port]/app`.
    pub fn tc_url(&self) -> Option<&'a str> {
        self.str_of("tcUrl")
    }

    /// `fpad`: whether a proxy is in use.
    pub fn fpad(&self) -> Option<bool> {
        self.get("fpad").and_then(Amf0Value::as_bool)
    }

    /// `capabilities`.
    pub fn capabilities(&self) -> Option<f64> {
        self.num_of("capabilities")
    }

    /// `audioCodecs`: bit mask of supported audio codecs.
    pub fn audio_codecs(&self) -> Option<f64> {
        self.num_of("audioCodecs")
    }

    /// `videoCodecs`: bit mask of supported video codecs.
    pub fn video_codecs(&self) -> Option<f64> {
        self.num_of("videoCodecs")
    }

    /// `videoFunction`: 1 when the client can do frame-accurate seeking.
    pub fn video_function(&self) -> Option<f64> {
        self.num_of("videoFunction")
    }

    /// `pageUrl`: the web page the SWF was loaded from.
    pub fn page_url(&self) -> Option<&'a str> {
        self.str_of("pageUrl")
    }

    /// `objectEncoding`: 0 for AMF0, 3 for AMF3.
    pub fn object_encoding(&self) -> Option<f64> {
        self.num_of("objectEncoding")
    }

    /// Enhanced RTMP `fourCcList`: the FourCCs the client supports (e.g. "hvc1", "av01").
    /// Entries that are not strings are skipped.
    pub fn fourcc_list(&self) -> Option<Vec<&'a str>> {
        match self.get("fourCcList")? {
            Amf0Value::StrictArray(items) => {
                Some(items.iter().filter_map(|v| v.as_str()).collect())
            }
            _ => None,
        }
    }

    /// Enhanced RTMP `videoFourCcInfoMap`: FourCC (or "*") to capability flags.
    pub fn video_fourcc_info_map(&self) -> Option<&'a [(String, Amf0Value)]> {
        self.get("videoFourCcInfoMap")?.properties()
    }

    /// Enhanced RTMP `audioFourCcInfoMap`: FourCC (or "*") to capability flags.
    pub fn audio_fourcc_info_map(&self) -> Option<&'a [(String, Amf0Value)]> {
        self.get("audioFourCcInfoMap")?.properties()
    }

    /// Enhanced RTMP `capsEx`: extended capability flags (reconnect, multitrack, …).
    pub fn caps_ex(&self) -> Option<f64> {
        self.num_of("capsEx")
    }

    /// Optional user arguments after the command object.
    pub fn extra_arguments(&self) -> &'a [Amf0Value] {
        self.command.arguments()
    }
}

/// ffmpeg's `capabilities` value when playing.
pub const FFMPEG_CAPABILITIES: f64 = 15.0;
/// ffmpeg's `audioCodecs` value when playing (every codec bit).
pub const FFMPEG_AUDIO_CODECS: f64 = 4071.0;
/// ffmpeg's `videoCodecs` value when playing.
pub const FFMPEG_VIDEO_CODECS: f64 = 252.0;
/// `videoFunction` for a client that can seek frame by frame.
pub const VIDEO_FUNCTION_SEEK: f64 = 1.0;

/// What a client puts in its `connect` command object. `None` fields are left out; the
/// properties are written in the order ffmpeg uses (app, type, flashVer, swfUrl, tcUrl, fpad,
/// capabilities, audioCodecs, videoCodecs, videoFunction, pageUrl, objectEncoding, then the
/// Enhanced RTMP ones), followed by `extra`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectParams {
    pub app: String,
    /// `type` ("nonprivate" for publishers).
    pub connect_type: Option<String>,
    pub flash_ver: Option<String>,
    pub swf_url: Option<String>,
    pub tc_url: Option<String>,
    pub fpad: Option<bool>,
    pub capabilities: Option<f64>,
    pub audio_codecs: Option<f64>,
    pub video_codecs: Option<f64>,
    pub video_function: Option<f64>,
    pub page_url: Option<String>,
    pub object_encoding: Option<f64>,
    /// Enhanced RTMP `fourCcList`.
    pub fourcc_list: Option<Vec<String>>,
    /// Enhanced RTMP `videoFourCcInfoMap`.
    pub video_fourcc_info_map: Option<Properties<Amf0Value>>,
    /// Enhanced RTMP `audioFourCcInfoMap`.
    pub audio_fourcc_info_map: Option<Properties<Amf0Value>>,
    /// Enhanced RTMP `capsEx`.
    pub caps_ex: Option<f64>,
    /// More properties, written last.
    pub extra: Properties<Amf0Value>,
    /// Optional arguments after the command object.
    pub arguments: Vec<Amf0Value>,
}

impl ConnectParams {
    /// What an FMLE-style publisher (ffmpeg, OBS) sends: app, `type: nonprivate`, flashVer,
    /// tcUrl. Seed 000's `connect('live')` is
    /// `publisher("live", "FMLE/3.0 (compatible; Lavf60.16.100)", "rtmp://124.222.73.231:1935/live")`.
    pub fn publisher(app: &str, flash_ver: &str, tc_url: &str) -> ConnectParams {
        ConnectParams {
            app: app.to_owned(),
            connect_type: Some("nonprivate".to_owned()),
            flash_ver: Some(flash_ver.to_owned()),
            tc_url: Some(tc_url.to_owned()),
            ..ConnectParams::default()
        }
    }

    /// What ffmpeg/ffplay sends to play: app, flashVer, tcUrl, fpad false, capabilities 15,
    /// audioCodecs 4071, videoCodecs 252, videoFunction 1.
    pub fn player(app: &str, flash_ver: &str, tc_url: &str) -> ConnectParams {
        ConnectParams {
            app: app.to_owned(),
            flash_ver: Some(flash_ver.to_owned()),
            tc_url: Some(tc_url.to_owned()),
            fpad: Some(false),
            capabilities: Some(FFMPEG_CAPABILITIES),
            audio_codecs: Some(FFMPEG_AUDIO_CODECS),
            video_codecs: Some(FFMPEG_VIDEO_CODECS),
            video_function: Some(VIDEO_FUNCTION_SEEK),
            ..ConnectParams::default()
        }
    }

    /// The command object.
    pub fn to_object(&self) -> Amf0Value {
        let mut p: Properties<Amf0Value> = Vec::new();
        let mut s = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                p.push((k.to_owned(), Amf0Value::string(v.as_str())));
            }
        };
        s("app", &Some(self.app.clone()));
        s("type", &self.connect_type);
        s("flashVer", &self.flash_ver);
        s("swfUrl", &self.swf_url);
        s("tcUrl", &self.tc_url);
        if let Some(b) = self.fpad {
            p.push(("fpad".to_owned(), Amf0Value::Boolean(b)));
        }
        let numbers = [
            ("capabilities", self.capabilities),
            ("audioCodecs", self.audio_codecs),
            ("videoCodecs", self.video_codecs),
            ("videoFunction", self.video_function),
        ];
        for (k, v) in numbers {
            if let Some(n) = v {
                p.push((k.to_owned(), Amf0Value::Number(n)));
            }
        }
        if let Some(url) = &self.page_url {
            p.push(("pageUrl".to_owned(), Amf0Value::string(url.as_str())));
        }
        if let Some(n) = self.object_encoding {
            p.push(("objectEncoding".to_owned(), Amf0Value::Number(n)));
        }
        if let Some(list) = &self.fourcc_list {
            let items = list.iter().map(|s| Amf0Value::string(s.as_str())).collect();
            p.push(("fourCcList".to_owned(), Amf0Value::StrictArray(items)));
        }
        if let Some(map) = &self.video_fourcc_info_map {
            p.push((
                "videoFourCcInfoMap".to_owned(),
                Amf0Value::Object(map.clone()),
            ));
        }
        if let Some(map) = &self.audio_fourcc_info_map {
            p.push((
                "audioFourCcInfoMap".to_owned(),
                Amf0Value::Object(map.clone()),
            ));
        }
        if let Some(n) = self.caps_ex {
            p.push(("capsEx".to_owned(), Amf0Value::Number(n)));
        }
        p.extend(self.extra.iter().cloned());
        Amf0Value::Object(p)
    }
}

impl Command {
    /// A client's `connect` command.
    pub fn connect(transaction_id: f64, params: &ConnectParams) -> Command {
        Command::new(
            name::CONNECT,
            transaction_id,
            params.to_object(),
            params.arguments.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtmp::message::CommandKind;

    #[test]
    fn player_params_read_back_through_the_view() {
        let mut params = ConnectParams::player("live", "LNX 9,0,124,2", "rtmp://h/live");
        params.page_url = Some("http://page".into());
        params.object_encoding = Some(0.0);
        params.swf_url = Some("http://swf".into());
        params.fourcc_list = Some(vec!["av01".into(), "hvc1".into()]);
        params.video_fourcc_info_map = Some(vec![("*".into(), Amf0Value::Number(1.0))]);
        params.audio_fourcc_info_map = Some(vec![("Opus".into(), Amf0Value::Number(1.0))]);
        params.caps_ex = Some(1.0);
        params.extra = vec![("custom".into(), Amf0Value::Boolean(true))];
        params.arguments = vec![Amf0Value::string("token")];
        let cmd = Command::connect(1.0, &params);
        let CommandKind::Connect(c) = cmd.kind() else {
            panic!("not a connect: {cmd:?}");
        };
        assert_eq!(c.transaction_id(), 1.0);
        assert_eq!(c.app(), Some("live"));
        assert_eq!(c.connect_type(), None);
        assert_eq!(c.flash_ver(), Some("LNX 9,0,124,2"));
        assert_eq!(c.swf_url(), Some("http://swf"));
        assert_eq!(c.tc_url(), Some("rtmp://h/live"));
        assert_eq!(c.fpad(), Some(false));
        assert_eq!(c.capabilities(), Some(15.0));
        assert_eq!(c.audio_codecs(), Some(4071.0));
        assert_eq!(c.video_codecs(), Some(252.0));
        assert_eq!(c.video_function(), Some(1.0));
        assert_eq!(c.page_url(), Some("http://page"));
        assert_eq!(c.object_encoding(), Some(0.0));
        assert_eq!(c.fourcc_list(), Some(vec!["av01", "hvc1"]));
        assert_eq!(c.video_fourcc_info_map().map(<[_]>::len), Some(1));
        assert_eq!(c.audio_fourcc_info_map().map(<[_]>::len), Some(1));
        assert_eq!(c.caps_ex(), Some(1.0));
        assert_eq!(c.get("custom"), Some(&Amf0Value::Boolean(true)));
        assert_eq!(c.extra_arguments(), &[Amf0Value::string("token")]);
        let keys: Vec<&str> = c
            .object()
            .properties()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "app",
                "flashVer",
                "swfUrl",
                "tcUrl",
                "fpad",
                "capabilities",
                "audioCodecs",
                "videoCodecs",
                "videoFunction",
                "pageUrl",
                "objectEncoding",
                "fourCcList",
                "videoFourCcInfoMap",
                "audioFourCcInfoMap",
                "capsEx",
                "custom"
            ]
        );
    }

    #[test]
    fn connect_with_a_non_object_has_no_properties() {
        let cmd = Command::new("connect", 1.0, Amf0Value::Null, vec![]);
        let CommandKind::Connect(c) = cmd.kind() else {
            panic!("not a connect");
        };
        assert_eq!(c.app(), None);
        assert_eq!(c.fourcc_list(), None);
        assert_eq!(c.video_fourcc_info_map(), None);
    }
}
