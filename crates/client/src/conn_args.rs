//! Extra `connect` arguments in rtmpdump's `--conn` syntax.
//!
//! Each argument is `TYPE:VALUE`: `B:1` (boolean, `0` or `1`), `N:1.5` (number), `S:text`
//! (string), `Z:` (null), `O:1` … `O:0` (an object: `O:1` opens it, `O:0` closes it). Inside an
//! object every member is named by an `N` before the type: `NB:live:1`, `NN:level:3`,
//! `NS:token:abc`, `NZ:nothing:`, `NO:inner:1` … `O:0`. The values go after the connect
//! command object, in order.

use rtmpkit_proto::amf::{Amf0Value, Properties};

/// A `--conn` argument that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnArgError {
    #[error(
        "--conn '{arg}': expected TYPE:VALUE with TYPE one of B, N, S, Z, O (or NB, NN, NS, NZ, NO with a name inside an object)"
    )]
    Syntax { arg: String },
    #[error("--conn '{arg}': {what}")]
    Value { arg: String, what: &'static str },
    #[error("--conn '{arg}': a named value is only allowed inside an object (O:1 … O:0)")]
    NamedOutsideObject { arg: String },
    #[error("--conn '{arg}': a value inside an object needs a name (e.g. NS:name:value)")]
    UnnamedInsideObject { arg: String },
    #[error("--conn '{arg}': O:0 without an open object")]
    UnbalancedClose { arg: String },
    #[error("--conn: {open} object(s) opened with O:1 were not closed with O:0")]
    Unclosed { open: usize },
}

enum Item {
    Value(Option<String>, Amf0Value),
    Open(Option<String>),
    Close,
}

fn parse_one(arg: &str) -> Result<Item, ConnArgError> {
    let syntax = || ConnArgError::Syntax { arg: arg.into() };
    let (kind, rest) = arg.split_once(':').ok_or_else(syntax)?;
    let (name, kind, value) = match kind.strip_prefix('N') {
        Some(t) if !t.is_empty() => {
            let (name, value) = rest.split_once(':').ok_or_else(syntax)?;
            (Some(name.to_owned()), t, value)
        }
        _ => (None, kind, rest),
    };
    let bad = |what| ConnArgError::Value {
        arg: arg.into(),
        what,
    };
    Ok(match kind {
        "B" => match value {
            "0" | "false" => Item::Value(name, Amf0Value::Boolean(false)),
            "1" | "true" => Item::Value(name, Amf0Value::Boolean(true)),
            _ => return Err(bad("a boolean is 0 or 1")),
        },
        "N" => match value.trim().parse::<f64>() {
            Ok(n) => Item::Value(name, Amf0Value::Number(n)),
            Err(_) => return Err(bad("not a number")),
        },
        "S" => Item::Value(name, Amf0Value::string(value)),
        "Z" => Item::Value(name, Amf0Value::Null),
        "O" => match value {
            "1" => Item::Open(name),
            "0" if name.is_none() => Item::Close,
            _ => return Err(bad("an object is opened with O:1 and closed with O:0")),
        },
        _ => return Err(syntax()),
    })
}

/// Reads `--conn` arguments into the AMF0 values they stand for.
pub fn parse_conn_args<S: AsRef<str>>(args: &[S]) -> Result<Vec<Amf0Value>, ConnArgError> {
    let mut top = Vec::new();
    // Open objects: their name (None at top level) and members so far.
    let mut stack: Vec<(Option<String>, Properties<Amf0Value>)> = Vec::new();
    for arg in args {
        let arg = arg.as_ref();
        let item = parse_one(arg)?;
        let (name, value) = match item {
            Item::Open(name) => {
                if stack.is_empty() != name.is_none() {
                    return Err(if stack.is_empty() {
                        ConnArgError::NamedOutsideObject { arg: arg.into() }
                    } else {
                        ConnArgError::UnnamedInsideObject { arg: arg.into() }
                    });
                }
                stack.push((name, Vec::new()));
                continue;
            }
            Item::Close => {
                let (name, members) = stack
                    .pop()
                    .ok_or_else(|| ConnArgError::UnbalancedClose { arg: arg.into() })?;
                (name, Amf0Value::Object(members))
            }
            Item::Value(name, value) => (name, value),
        };
        match (stack.last_mut(), name) {
            (None, None) => top.push(value),
            (Some((_, members)), Some(name)) => members.push((name, value)),
            (None, Some(_)) => return Err(ConnArgError::NamedOutsideObject { arg: arg.into() }),
            (Some(_), None) => return Err(ConnArgError::UnnamedInsideObject { arg: arg.into() }),
        }
    }
    if !stack.is_empty() {
        return Err(ConnArgError::Unclosed { open: stack.len() });
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        let v = parse_conn_args(&["B:1", "N:1.5", "S:text:with:colons", "Z:", "B:0"]).unwrap();
        assert_eq!(
            v,
            vec![
                Amf0Value::Boolean(true),
                Amf0Value::Number(1.5),
                Amf0Value::string("text:with:colons"),
                Amf0Value::Null,
                Amf0Value::Boolean(false),
            ]
        );
    }

    #[test]
    fn nested_objects() {
        let v = parse_conn_args(&[
            "S:first",
            "O:1",
            "NS:token:abc",
            "NN:level:3",
            "NO:inner:1",
            "NB:live:1",
            "O:0",
            "O:0",
        ])
        .unwrap();
        assert_eq!(
            v,
            vec![
                Amf0Value::string("first"),
                Amf0Value::Object(vec![
                    ("token".into(), Amf0Value::string("abc")),
                    ("level".into(), Amf0Value::Number(3.0)),
                    (
                        "inner".into(),
                        Amf0Value::Object(vec![("live".into(), Amf0Value::Boolean(true))])
                    ),
                ]),
            ]
        );
    }

    #[test]
    fn errors_name_the_argument() {
        let e = |args: &[&str]| parse_conn_args(args).unwrap_err().to_string();
        assert_eq!(
            e(&["X:1"]),
            "--conn 'X:1': expected TYPE:VALUE with TYPE one of B, N, S, Z, O (or NB, NN, NS, NZ, NO with a name inside an object)"
        );
        assert_eq!(e(&["B:yes"]), "--conn 'B:yes': a boolean is 0 or 1");
        assert_eq!(e(&["N:abc"]), "--conn 'N:abc': not a number");
        assert_eq!(
            e(&["NS:a:b"]),
            "--conn 'NS:a:b': a named value is only allowed inside an object (O:1 … O:0)"
        );
        assert_eq!(
            e(&["O:1", "S:x", "O:0"]),
            "--conn 'S:x': a value inside an object needs a name (e.g. NS:name:value)"
        );
        assert_eq!(e(&["O:0"]), "--conn 'O:0': O:0 without an open object");
        assert_eq!(
            e(&["O:1", "NO:a:1", "O:0"]),
            "--conn: 1 object(s) opened with O:1 were not closed with O:0"
        );
        assert!(e(&["nocolon"]).contains("expected TYPE:VALUE"));
    }
}
