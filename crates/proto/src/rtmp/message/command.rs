//! Command messages (type 20, and type 17 after its format selector): a name, a transaction
//! id, a command object and optional arguments, all AMF0 values.
//!
//! A [`Command`] keeps the decoded values exactly as they were on the wire, so that a decoded
//! command encodes back to the same bytes whatever its shape (extra arguments, a missing command
//! object, a long-string name, AMF3 values behind a switch). The typed model in
//! [`CommandKind`](super::CommandKind) is a borrowed view computed from those values on demand,
//! and the constructors build the same values a real client or server writes.

use crate::amf::{Amf0Value, Limits, amf0};

use super::command_kind::CommandKind;
use super::error::MessageError;

static NULL: Amf0Value = Amf0Value::Null;

/// One RTMP command: the AMF0 values of its body, in wire order.
///
/// By convention `values[0]` is the command name, `values[1]` the transaction id,
/// `values[2]` the command object (often null) and the rest are arguments; the accessors read
/// that convention without requiring it.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    values: Vec<Amf0Value>,
}

impl Command {
    /// A command from its parts, in the usual layout.
    pub fn new(
        name: &str,
        transaction_id: f64,
        command_object: Amf0Value,
        arguments: Vec<Amf0Value>,
    ) -> Command {
        let mut values = Vec::with_capacity(3 + arguments.len());
        values.push(Amf0Value::string(name));
        values.push(Amf0Value::Number(transaction_id));
        values.push(command_object);
        values.extend(arguments);
        Command { values }
    }

    /// A command from raw values (at least one, normally the name).
    pub fn from_values(values: Vec<Amf0Value>) -> Result<Command, MessageError> {
        if values.is_empty() {
            return Err(MessageError::NoValues {
                message: "AMF0 Command",
            });
        }
        Ok(Command { values })
    }

    /// Decodes an AMF0 command body (for type 17, the bytes after the format selector).
    pub fn decode(body: &[u8]) -> Result<Command, MessageError> {
        Self::decode_with_limits(body, Limits::default())
    }

    /// [`Command::decode`] with explicit AMF limits.
    pub fn decode_with_limits(body: &[u8], limits: Limits) -> Result<Command, MessageError> {
        decode_body("AMF0 Command", body, 0, limits).and_then(Command::from_values)
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

    /// The command name; empty when the first value is not a string (Flex remoting sends
    /// a null name, for one).
    pub fn name(&self) -> &str {
        self.values
            .first()
            .and_then(Amf0Value::as_str)
            .unwrap_or("")
    }

    /// The transaction id; 0 when absent or not a number.
    pub fn transaction_id(&self) -> f64 {
        self.values
            .get(1)
            .and_then(Amf0Value::as_f64)
            .unwrap_or(0.0)
    }

    /// The command object; null when absent.
    pub fn command_object(&self) -> &Amf0Value {
        self.values.get(2).unwrap_or(&NULL)
    }

    /// The arguments after the command object.
    pub fn arguments(&self) -> &[Amf0Value] {
        self.values.get(3..).unwrap_or_default()
    }

    /// Argument `i` (0 is the first value after the command object).
    pub fn argument(&self, i: usize) -> Option<&Amf0Value> {
        self.arguments().get(i)
    }

    /// The typed view of this command.
    pub fn kind(&self) -> CommandKind<'_> {
        CommandKind::of(self)
    }

    /// Wireshark's summary of the command, e.g. `connect('live')` or
    /// `_result('NetConnection.Connect.Success')`.
    pub fn summary(&self) -> String {
        summarize(&self.values, true).unwrap_or_else(|| "AMF0 Command".to_owned())
    }
}

/// Decodes the AMF0 values of a command or data body. `base` is where the body starts in the
/// payload, so that error offsets count from the payload's first byte.
pub(crate) fn decode_body(
    message: &'static str,
    body: &[u8],
    base: usize,
    limits: Limits,
) -> Result<Vec<Amf0Value>, MessageError> {
    amf0::decode_all_with_limits(body, limits).map_err(|e| MessageError::amf(message, e, base))
}

/// The summary Wireshark shows for a command or data message: the name, then in parentheses
/// the one parameter that identifies it (the app of `connect`, the stream of `play` and
/// `publish`, the status code of `_result`, `_error` and `onStatus`). `None` when the first
/// value is not a non-empty string.
pub(crate) fn summarize(values: &[Amf0Value], command: bool) -> Option<String> {
    let name = values.first()?.as_str().filter(|s| !s.is_empty())?;
    let string_at = |i: usize| values.get(i).and_then(Amf0Value::as_str);
    let property_at = |i: usize, key: &str| {
        values
            .get(i)
            .and_then(|v| v.get(key))
            .and_then(Amf0Value::as_str)
    };
    let param = match name {
        "connect" => property_at(2, "app"),
        "play" | "releaseStream" | "FCPublish" | "publish" => string_at(3),
        "play2" => property_at(3, "streamName"),
        "onStatus" if command => property_at(3, "code"),
        "onStatus" | "onPlayStatus" => property_at(1, "code"),
        "_result" | "_error" => property_at(3, "code"),
        _ => None,
    };
    Some(match param {
        Some(p) => format!("{name}('{p}')"),
        None => format!("{name}()"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_tolerate_short_commands() {
        let c = Command::from_values(vec![Amf0Value::string("onBWDone")]).expect("one value");
        assert_eq!(c.name(), "onBWDone");
        assert_eq!(c.transaction_id(), 0.0);
        assert_eq!(c.command_object(), &Amf0Value::Null);
        assert!(c.arguments().is_empty());
        assert_eq!(c.argument(0), None);
        assert_eq!(c.summary(), "onBWDone()");

        let flex = Command::from_values(vec![Amf0Value::Null, Amf0Value::Number(19.0)])
            .expect("null name");
        assert_eq!(flex.name(), "");
        assert_eq!(flex.transaction_id(), 19.0);
        assert_eq!(flex.summary(), "AMF0 Command");
    }

    #[test]
    fn empty_and_malformed_bodies_are_errors() {
        assert_eq!(
            Command::decode(&[]),
            Err(MessageError::NoValues {
                message: "AMF0 Command"
            })
        );
        let err = Command::decode(&[0x02, 0x00, 0x05, b'a']).expect_err("truncated");
        let MessageError::Amf { message, source } = err else {
            panic!("expected an AMF error, got {err:?}");
        };
        assert_eq!(message, "AMF0 Command");
        assert_eq!(source.offset, 3);
    }

    #[test]
    fn summary_rules() {
        let obj = |k: &str, v: &str| Amf0Value::object([(k, Amf0Value::string(v))]);
        let c = Command::new("play2", 0.0, Amf0Value::Null, vec![obj("streamName", "s")]);
        assert_eq!(c.summary(), "play2('s')");
        let c = Command::new(
            "deleteStream",
            6.0,
            Amf0Value::Null,
            vec![Amf0Value::Number(1.0)],
        );
        assert_eq!(c.summary(), "deleteStream()");
        let data = [
            Amf0Value::string("onStatus"),
            obj("code", "NetStream.Data.Start"),
        ];
        assert_eq!(
            summarize(&data, false).as_deref(),
            Some("onStatus('NetStream.Data.Start')")
        );
        assert_eq!(summarize(&[Amf0Value::string("")], true), None);
    }
}
