//! Data messages (type 18, and type 15 after its format selector): a handler name and its
//! AMF0 values, most often stream metadata.

use crate::amf::{Amf0Value, Limits, amf0};

use super::command::{decode_body, summarize};
use super::error::MessageError;

/// `@setDataFrame`: a publisher asks the server to keep the following data (usually
/// `onMetaData`) and hand it to every player.
pub const SET_DATA_FRAME: &str = "@setDataFrame";
/// `@clearDataFrame`: a publisher asks the server to forget a kept data frame.
pub const CLEAR_DATA_FRAME: &str = "@clearDataFrame";
/// `onMetaData`: stream metadata (width, height, codecs, rates, encoder).
pub const ON_META_DATA: &str = "onMetaData";

/// A data message: its AMF0 values in wire order (at least one).
#[derive(Debug, Clone, PartialEq)]
pub struct DataMessage {
    values: Vec<Amf0Value>,
}

/// What a data message holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DataKind<'a> {
    /// `@setDataFrame(handler, value)`, e.g. `@setDataFrame('onMetaData', {…})`.
    SetDataFrame {
        handler: &'a str,
        value: Option<&'a Amf0Value>,
    },
    /// `@clearDataFrame(handler)`.
    ClearDataFrame { handler: Option<&'a str> },
    /// `onMetaData(metadata)`, as a server relays it to players.
    OnMetaData { metadata: Option<&'a Amf0Value> },
    /// Anything else (`onTextData`, `onCuePoint`, `|RtmpSampleAccess`, …).
    Other,
}

impl DataMessage {
    /// A data message from raw values (at least one, normally the handler name).
    pub fn from_values(values: Vec<Amf0Value>) -> Result<DataMessage, MessageError> {
        if values.is_empty() {
            return Err(MessageError::NoValues {
                message: "AMF0 Data",
            });
        }
        Ok(DataMessage { values })
    }

    /// A data message calling `name` with `arguments` (e.g. `|RtmpSampleAccess(true, true)`).
    pub fn new(name: &str, arguments: Vec<Amf0Value>) -> DataMessage {
        let mut values = Vec::with_capacity(1 + arguments.len());
        values.push(Amf0Value::string(name));
        values.extend(arguments);
        DataMessage { values }
    }

    /// `@setDataFrame('onMetaData', metadata)`, as a publisher sends it.
    pub fn set_data_frame_metadata(metadata: Amf0Value) -> DataMessage {
        DataMessage {
            values: vec![
                Amf0Value::string(SET_DATA_FRAME),
                Amf0Value::string(ON_META_DATA),
                metadata,
            ],
        }
    }

    /// `onMetaData(metadata)`, as a server sends it to players.
    pub fn on_metadata(metadata: Amf0Value) -> DataMessage {
        DataMessage {
            values: vec![Amf0Value::string(ON_META_DATA), metadata],
        }
    }

    /// Decodes an AMF0 data body (for type 15, the bytes after the format selector).
    pub fn decode(body: &[u8]) -> Result<DataMessage, MessageError> {
        Self::decode_with_limits(body, Limits::default())
    }

    /// [`DataMessage::decode`] with explicit AMF limits.
    pub fn decode_with_limits(body: &[u8], limits: Limits) -> Result<DataMessage, MessageError> {
        decode_body("AMF0 Data", body, 0, limits).and_then(DataMessage::from_values)
    }

    /// Appends the AMF0 body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        amf0::encode_all(&self.values, out);
    }

    /// All values in wire order.
    pub fn values(&self) -> &[Amf0Value] {
        &self.values
    }

    /// Takes the values out.
    pub fn into_values(self) -> Vec<Amf0Value> {
        self.values
    }

    /// The handler name (the first value), empty when it is not a string.
    pub fn name(&self) -> &str {
        self.values
            .first()
            .and_then(Amf0Value::as_str)
            .unwrap_or("")
    }

    /// What the message holds.
    pub fn kind(&self) -> DataKind<'_> {
        let v = &self.values;
        match self.name() {
            SET_DATA_FRAME => match v.get(1).and_then(Amf0Value::as_str) {
                Some(handler) => DataKind::SetDataFrame {
                    handler,
                    value: v.get(2),
                },
                None => DataKind::Other,
            },
            CLEAR_DATA_FRAME => DataKind::ClearDataFrame {
                handler: v.get(1).and_then(Amf0Value::as_str),
            },
            ON_META_DATA => DataKind::OnMetaData { metadata: v.get(1) },
            _ => DataKind::Other,
        }
    }

    /// The metadata of `@setDataFrame('onMetaData', …)` or `onMetaData(…)`.
    pub fn metadata(&self) -> Option<&Amf0Value> {
        match self.kind() {
            DataKind::SetDataFrame {
                handler: ON_META_DATA,
                value,
            } => value,
            DataKind::OnMetaData { metadata } => metadata,
            _ => None,
        }
    }

    /// The message a server relays to players for a publisher's `@setDataFrame(handler, …)`:
    /// the same values without the leading `@setDataFrame`. `None` for other messages.
    pub fn without_set_data_frame(&self) -> Option<DataMessage> {
        match self.kind() {
            DataKind::SetDataFrame { .. } => Some(DataMessage {
                values: self.values.get(1..).unwrap_or_default().to_vec(),
            }),
            _ => None,
        }
    }

    /// Wireshark's summary, e.g. `@setDataFrame()`.
    pub fn summary(&self) -> String {
        summarize(&self.values, false).unwrap_or_else(|| "AMF0 Data".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Amf0Value {
        Amf0Value::EcmaArray {
            count: 1,
            properties: vec![("width".into(), Amf0Value::Number(1280.0))],
        }
    }

    #[test]
    fn kinds() {
        let m = DataMessage::set_data_frame_metadata(meta());
        assert_eq!(m.metadata(), Some(&meta()));
        assert_eq!(m.summary(), "@setDataFrame()");
        let relayed = m.without_set_data_frame().expect("set data frame");
        assert_eq!(relayed, DataMessage::on_metadata(meta()));
        assert_eq!(relayed.metadata(), Some(&meta()));
        assert_eq!(relayed.summary(), "onMetaData()");
        assert_eq!(relayed.without_set_data_frame(), None);

        let text = DataMessage::from_values(vec![
            Amf0Value::string(SET_DATA_FRAME),
            Amf0Value::string("onTextData"),
            Amf0Value::Null,
        ])
        .expect("values");
        assert_eq!(
            text.kind(),
            DataKind::SetDataFrame {
                handler: "onTextData",
                value: Some(&Amf0Value::Null)
            }
        );
        assert_eq!(text.metadata(), None);

        let clear = DataMessage::from_values(vec![
            Amf0Value::string(CLEAR_DATA_FRAME),
            Amf0Value::string(ON_META_DATA),
        ])
        .expect("values");
        assert_eq!(
            clear.kind(),
            DataKind::ClearDataFrame {
                handler: Some(ON_META_DATA)
            }
        );

        let odd = DataMessage::from_values(vec![
            Amf0Value::string(SET_DATA_FRAME),
            Amf0Value::Number(1.0),
        ])
        .expect("values");
        assert_eq!(odd.kind(), DataKind::Other);
        let sample = DataMessage::from_values(vec![
            Amf0Value::string("|RtmpSampleAccess"),
            Amf0Value::Boolean(false),
            Amf0Value::Boolean(false),
        ])
        .expect("values");
        assert_eq!(sample.kind(), DataKind::Other);
        assert_eq!(sample.name(), "|RtmpSampleAccess");
        let nameless = DataMessage::from_values(vec![Amf0Value::Null]).expect("values");
        assert_eq!(nameless.name(), "");
        assert_eq!(nameless.summary(), "AMF0 Data");
    }

    #[test]
    fn empty_body_is_an_error() {
        assert_eq!(
            DataMessage::decode(&[]),
            Err(MessageError::NoValues {
                message: "AMF0 Data"
            })
        );
        assert!(matches!(
            DataMessage::decode(&[0x02, 0x00]),
            Err(MessageError::Amf {
                message: "AMF0 Data",
                ..
            })
        ));
    }
}
