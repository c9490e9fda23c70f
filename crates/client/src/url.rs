//! RTMP URLs: `rtmp://host[:port]/app[/instance]/stream[?query]` and `rtmps://…`, with the
//! rtmpdump-style overrides (`--app`, `--playpath`, `--tcurl`).
//!
//! How the path splits into application and stream name (librtmp's rule, made explicit):
//!
//! | path | app | stream |
//! |---|---|---|
//! | `live/x` | `live` | `x` |
//! | `app/instance/x` | `app/instance` | `x` |
//! | `a/b/c/x` | `a/b/c` | `x` |
//! | `a/b/c/d/x` | `a/b/c` | `d/x` |
//! | `vod/mp4:dir/file.mp4` | `vod` | `mp4:dir/file.mp4` |
//!
//! The application is everything before the last path segment, up to three segments; longer
//! paths keep the rest in the stream name. A segment with a `:` before its first `/` (a stream
//! type prefix such as `mp4:`, `flv:`, `mp3:`) starts the stream name. The query string
//! (`?key=…`) goes with the stream name, which is what publish/play send and what servers such
//! as nginx's RTMP module and SRS read their keys from. The tcUrl is
//! `scheme://host:port/app`, with the port always written (as ffmpeg and librtmp do).

use std::fmt;

/// `rtmp` or `rtmps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain TCP, default port 1935.
    Rtmp,
    /// RTMP over TLS, default port 443.
    Rtmps,
}

impl Scheme {
    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Rtmp => 1935,
            Scheme::Rtmps => 443,
        }
    }

    /// `rtmp` or `rtmps`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Rtmp => "rtmp",
            Scheme::Rtmps => "rtmps",
        }
    }
}

/// A parsed RTMP URL: where to connect and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtmpUrl {
    pub scheme: Scheme,
    /// Host name or IP literal, without the brackets of an IPv6 literal.
    pub host: String,
    pub port: u16,
    /// The application (`connect`'s `app`).
    pub app: String,
    /// The stream name with its query, as sent in publish/play.
    pub stream: String,
    /// The tcUrl sent in connect.
    pub tc_url: String,
}

/// Why a URL could not be used. The message shows what was understood and what is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error(
        "{url}: unsupported scheme '{scheme}' (expected rtmp:// or rtmps://; rtmpt and rtmpe are not supported)"
    )]
    Scheme { url: String, scheme: String },
    #[error("{url}: not a URL (expected rtmp://host[:port]/app/stream)")]
    NotAUrl { url: String },
    #[error("{url}: no host (expected rtmp://host[:port]/app/stream)")]
    NoHost { url: String },
    #[error("{url}: bad port '{port}' (expected a number from 1 to 65535)")]
    Port { url: String, port: String },
    #[error("{url}: unterminated IPv6 literal (expected [address]:port)")]
    Ipv6 { url: String },
    #[error("{url}: {understood}; missing: {missing}")]
    Incomplete {
        url: String,
        understood: String,
        missing: String,
    },
}

/// Overrides of what the URL says, as rtmpdump's `--app`, `--playpath` and `--tcurl`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlOverrides {
    pub app: Option<String>,
    pub playpath: Option<String>,
    pub tc_url: Option<String>,
}

/// The parts of a URL before the app/stream split.
struct Location<'a> {
    scheme: Scheme,
    host: &'a str,
    port: u16,
    explicit_port: bool,
    path: &'a str,
    query: Option<&'a str>,
}

fn parse_location(url: &str) -> Result<Location<'_>, UrlError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(UrlError::NotAUrl { url: url.into() });
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "rtmp" => Scheme::Rtmp,
        "rtmps" => Scheme::Rtmps,
        _ => {
            return Err(UrlError::Scheme {
                url: url.into(),
                scheme: scheme.into(),
            });
        }
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
    let (host, port_text) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| UrlError::Ipv6 { url: url.into() })?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| UrlError::Ipv6 { url: url.into() })?,
            ),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::NoHost { url: url.into() });
    }
    let (port, explicit_port) = match port_text {
        None | Some("") => (scheme.default_port(), false),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => (n, true),
            _ => {
                return Err(UrlError::Port {
                    url: url.into(),
                    port: p.into(),
                });
            }
        },
    };
    Ok(Location {
        scheme,
        host,
        port,
        explicit_port,
        path,
        query,
    })
}

/// Splits a path into (app, stream) by the rule in the module docs; empty segments (`//`) are
/// dropped.
fn split_path(path: &str) -> (String, String) {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let type_prefix = segments
        .iter()
        .position(|s| s.contains(':'))
        .filter(|&i| i > 0);
    let app_segments = type_prefix.unwrap_or_else(|| segments.len().saturating_sub(1).clamp(1, 3));
    let (app, stream) = segments.split_at(app_segments.min(segments.len()));
    (app.join("/"), stream.join("/"))
}

fn host_for_url(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

impl RtmpUrl {
    /// Parses a URL; app and stream name must both be present.
    pub fn parse(url: &str) -> Result<RtmpUrl, UrlError> {
        Self::parse_with(url, &UrlOverrides::default())
    }

    /// Parses a URL and applies rtmpdump-style overrides: `--app` replaces the application,
    /// `--playpath` the stream name (the URL's query is then not added), `--tcurl` the tcUrl.
    pub fn parse_with(url: &str, overrides: &UrlOverrides) -> Result<RtmpUrl, UrlError> {
        let loc = parse_location(url)?;
        let (path_app, path_stream) = split_path(loc.path);
        let app = overrides.app.clone().unwrap_or(path_app);
        let stream = match &overrides.playpath {
            Some(p) => p.clone(),
            None if path_stream.is_empty() => String::new(),
            None => match loc.query {
                Some(q) => format!("{path_stream}?{q}"),
                None => path_stream.clone(),
            },
        };
        let mut missing = Vec::new();
        if app.is_empty() {
            missing.push("the application name (rtmp://host/APP/stream, or --app)");
        }
        if stream.is_empty() {
            missing.push("the stream name (rtmp://host/app/STREAM, or --playpath)");
        }
        if !missing.is_empty() {
            let mut understood = format!(
                "understood scheme {}, host {}, port {}{}",
                loc.scheme.as_str(),
                loc.host,
                loc.port,
                if loc.explicit_port { "" } else { " (default)" }
            );
            if !app.is_empty() {
                understood.push_str(&format!(", app '{app}'"));
            }
            if !stream.is_empty() {
                understood.push_str(&format!(", stream '{stream}'"));
            }
            if let Some(q) = loc.query
                && path_stream.is_empty()
            {
                understood.push_str(&format!(", query '{q}' (it goes with the stream name)"));
            }
            return Err(UrlError::Incomplete {
                url: url.into(),
                understood,
                missing: missing.join(" and "),
            });
        }
        let tc_url = overrides.tc_url.clone().unwrap_or_else(|| {
            format!(
                "{}://{}:{}/{}",
                loc.scheme.as_str(),
                host_for_url(loc.host),
                loc.port,
                app
            )
        });
        Ok(RtmpUrl {
            scheme: loc.scheme,
            host: loc.host.to_owned(),
            port: loc.port,
            app,
            stream,
            tc_url,
        })
    }

    /// This URL moved to another server, as an Enhanced RTMP ReconnectRequest's `tcUrl` asks:
    /// scheme, host, port, app and tcUrl come from `tc_url`, the stream name stays. A tcUrl
    /// without an app keeps ours.
    pub fn with_tc_url(&self, tc_url: &str) -> Result<RtmpUrl, UrlError> {
        let loc = parse_location(tc_url)?;
        let path = loc.path.trim_matches('/');
        let app = if path.is_empty() {
            self.app.clone()
        } else {
            path.to_owned()
        };
        let tc_url = format!(
            "{}://{}:{}/{}",
            loc.scheme.as_str(),
            host_for_url(loc.host),
            loc.port,
            app
        );
        Ok(RtmpUrl {
            scheme: loc.scheme,
            host: loc.host.to_owned(),
            port: loc.port,
            app,
            stream: self.stream.clone(),
            tc_url,
        })
    }

    /// The stream name without its query.
    pub fn stream_name(&self) -> &str {
        self.stream.split('?').next().unwrap_or_default()
    }
}

impl fmt::Display for RtmpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}:{}/{}/{}",
            self.scheme.as_str(),
            host_for_url(&self.host),
            self.port,
            self.app,
            self.stream
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> RtmpUrl {
        RtmpUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn app_and_stream() {
        let u = parse("rtmp://example.com/live/room");
        assert_eq!(u.scheme, Scheme::Rtmp);
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port, 1935);
        assert_eq!(u.app, "live");
        assert_eq!(u.stream, "room");
        assert_eq!(u.tc_url, "rtmp://example.com:1935/live");
        assert_eq!(u.to_string(), "rtmp://example.com:1935/live/room");
    }

    #[test]
    fn seed_000_url() {
        let u = parse("rtmp://124.222.73.231:1935/live/room");
        assert_eq!(u.tc_url, "rtmp://124.222.73.231:1935/live");
        assert_eq!((u.app.as_str(), u.stream.as_str()), ("live", "room"));
    }

    #[test]
    fn instance_and_deeper_paths() {
        let cases = [
            ("rtmp://h/app/inst/s", "app/inst", "s"),
            ("rtmp://h/a/b/c/s", "a/b/c", "s"),
            ("rtmp://h/a/b/c/d/s", "a/b/c", "d/s"),
            ("rtmp://h/vod/mp4:dir/file.mp4", "vod", "mp4:dir/file.mp4"),
            ("rtmp://h/app/inst/mp4:f.mp4", "app/inst", "mp4:f.mp4"),
            ("rtmp://h//live//x/", "live", "x"),
        ];
        for (url, app, stream) in cases {
            let u = parse(url);
            assert_eq!((u.app.as_str(), u.stream.as_str()), (app, stream), "{url}");
        }
    }

    #[test]
    fn query_goes_with_the_stream() {
        let u = parse("rtmp://h:1936/live/room?key=secret&x=1");
        assert_eq!(u.port, 1936);
        assert_eq!(u.stream, "room?key=secret&x=1");
        assert_eq!(u.stream_name(), "room");
        assert_eq!(u.tc_url, "rtmp://h:1936/live");
    }

    #[test]
    fn rtmps_default_port_and_ipv6() {
        let u = parse("rtmps://live.example/app/s");
        assert_eq!((u.scheme, u.port), (Scheme::Rtmps, 443));
        assert_eq!(u.tc_url, "rtmps://live.example:443/app");
        let v6 = parse("rtmp://[::1]:1940/live/x");
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.port, 1940);
        assert_eq!(v6.tc_url, "rtmp://[::1]:1940/live");
        let v6 = parse("RTMP://[fe80::1]/live/x");
        assert_eq!((v6.host.as_str(), v6.port), ("fe80::1", 1935));
    }

    #[test]
    fn overrides() {
        let o = UrlOverrides {
            app: Some("app/inst".into()),
            playpath: Some("mp4:movie".into()),
            tc_url: Some("rtmp://other/app".into()),
        };
        let u = RtmpUrl::parse_with("rtmp://h/ignored/also?q=1", &o).unwrap();
        assert_eq!(u.app, "app/inst");
        assert_eq!(u.stream, "mp4:movie");
        assert_eq!(u.tc_url, "rtmp://other/app");
        // A host-only URL is complete with --app and --playpath.
        let o = UrlOverrides {
            app: Some("live".into()),
            playpath: Some("x".into()),
            tc_url: None,
        };
        let u = RtmpUrl::parse_with("rtmp://h:99", &o).unwrap();
        assert_eq!(u.tc_url, "rtmp://h:99/live");
    }

    #[test]
    fn incomplete_urls_say_what_was_understood() {
        let e = RtmpUrl::parse("rtmp://example.com/live").unwrap_err();
        assert_eq!(
            e.to_string(),
            "rtmp://example.com/live: understood scheme rtmp, host example.com, port 1935 \
             (default), app 'live'; missing: the stream name (rtmp://host/app/STREAM, or --playpath)"
        );
        let e = RtmpUrl::parse("rtmps://example.com:8443").unwrap_err();
        assert_eq!(
            e.to_string(),
            "rtmps://example.com:8443: understood scheme rtmps, host example.com, port 8443; \
             missing: the application name (rtmp://host/APP/stream, or --app) and the stream \
             name (rtmp://host/app/STREAM, or --playpath)"
        );
        let e = RtmpUrl::parse("rtmp://h/live?key=1").unwrap_err();
        assert!(
            e.to_string()
                .contains("query 'key=1' (it goes with the stream name)"),
            "{e}"
        );
    }

    #[test]
    fn malformed_urls() {
        let err = |u: &str| RtmpUrl::parse(u).unwrap_err().to_string();
        assert_eq!(
            err("http://h/live/x"),
            "http://h/live/x: unsupported scheme 'http' (expected rtmp:// or rtmps://; rtmpt and rtmpe are not supported)"
        );
        assert_eq!(
            err("h/live/x"),
            "h/live/x: not a URL (expected rtmp://host[:port]/app/stream)"
        );
        assert_eq!(
            err("rtmp:///live/x"),
            "rtmp:///live/x: no host (expected rtmp://host[:port]/app/stream)"
        );
        assert_eq!(
            err("rtmp://h:0/live/x"),
            "rtmp://h:0/live/x: bad port '0' (expected a number from 1 to 65535)"
        );
        assert_eq!(
            err("rtmp://h:99999/live/x"),
            "rtmp://h:99999/live/x: bad port '99999' (expected a number from 1 to 65535)"
        );
        assert_eq!(
            err("rtmp://[::1/live/x"),
            "rtmp://[::1/live/x: unterminated IPv6 literal (expected [address]:port)"
        );
    }

    #[test]
    fn reconnect_tc_url_moves_the_stream() {
        let u = parse("rtmp://a:1935/live/room?k=1");
        let moved = u.with_tc_url("rtmps://b:4443/edge").unwrap();
        assert_eq!(moved.scheme, Scheme::Rtmps);
        assert_eq!((moved.host.as_str(), moved.port), ("b", 4443));
        assert_eq!(moved.app, "edge");
        assert_eq!(moved.stream, "room?k=1");
        assert_eq!(moved.tc_url, "rtmps://b:4443/edge");
        let same_app = u.with_tc_url("rtmp://c").unwrap();
        assert_eq!(same_app.app, "live");
        assert_eq!(same_app.tc_url, "rtmp://c:1935/live");
    }
}
