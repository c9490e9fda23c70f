//! Test utilities shared by the client's and the CLI's end-to-end tests: temporary
//! directories, ffmpeg-made sources, the framemd5 contiguity check, nginx with its RTMP module
//! on a loopback port, and an in-process RTMP server (see `rtmp_server`).
//!
//! Everything here binds to 127.0.0.1 only and stops itself.

#![allow(dead_code)]

pub mod rtmp_server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Prints why a test does nothing and returns from it.
#[macro_export]
macro_rules! skip_unless {
    ($cond:expr, $($why:tt)*) => {
        if !$cond {
            eprintln!("SKIPPED: {}", format!($($why)*));
            return;
        }
    };
}

/// A directory removed when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("rtmpkit-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("RTMPKIT_KEEP_TEST_FILES").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Whether `program` runs (`program -version` or `-v` exits).
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A free TCP port on 127.0.0.1 (free when asked; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Makes an H.264 + AAC FLV test source of `seconds` seconds (25 fps, a keyframe every
/// second), or `None` without ffmpeg/libx264.
pub fn make_source(dir: &TempDir, seconds: u32) -> Option<PathBuf> {
    let out = dir.join("src.flv");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440"])
        .args(["-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"])
        .args(["-c:a", "aac", "-f", "flv"])
        .arg(&out)
        .stdin(Stdio::null())
        .status()
        .ok()?;
    status.success().then_some(out)
}

/// One packet line of ffmpeg's framemd5 output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub stream: u32,
    pub size: u64,
    pub hash: String,
}

/// Reads framemd5 text: `stream, dts, pts, duration, size, hash` lines; `#` lines skipped.
pub fn parse_framemd5(text: &str) -> Vec<Packet> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            Some(Packet {
                stream: f.first()?.parse().ok()?,
                size: f.get(4)?.parse().ok()?,
                hash: (*f.get(5)?).to_owned(),
            })
        })
        .collect()
}

/// `ffmpeg -i input -c copy -f framemd5 -`.
pub fn framemd5(input: &Path) -> Vec<Packet> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(input)
        .args(["-c", "copy", "-f", "framemd5", "-"])
        .stdin(Stdio::null())
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg framemd5 of {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_framemd5(&String::from_utf8_lossy(&out.stdout))
}

/// Packets of one stream index, as (size, hash).
fn stream_of(packets: &[Packet], stream: u32) -> Vec<(u64, &str)> {
    packets
        .iter()
        .filter(|p| p.stream == stream)
        .map(|p| (p.size, p.hash.as_str()))
        .collect()
}

/// Where `run` occurs contiguously in `source`, if it does.
fn find_run(source: &[(u64, &str)], run: &[(u64, &str)]) -> Option<usize> {
    if run.is_empty() {
        return Some(0);
    }
    (0..=source.len().checked_sub(run.len())?).find(|&i| source.get(i..i + run.len()) == Some(run))
}

/// The lossless check: per stream, the received packets are a contiguous run of the source's
/// packets (same sizes and MD5s, nothing missing or altered in between), and at least
/// `min_fraction` of the source's packets of that stream arrived. Returns the number of
/// packets compared per stream.
pub fn assert_contiguous_run(
    source: &[Packet],
    received: &[Packet],
    min_fraction: f64,
) -> Vec<usize> {
    check_contiguous_run(source, received, min_fraction).unwrap_or_else(|e| panic!("{e}"))
}

/// [`assert_contiguous_run`] without the panic: what is wrong, if anything.
pub fn check_contiguous_run(
    source: &[Packet],
    received: &[Packet],
    min_fraction: f64,
) -> Result<Vec<usize>, String> {
    let mut streams: Vec<u32> = source.iter().map(|p| p.stream).collect();
    streams.sort_unstable();
    streams.dedup();
    if streams.is_empty() {
        return Err("the source has no packets".into());
    }
    let extra: Vec<u32> = received
        .iter()
        .map(|p| p.stream)
        .filter(|s| !streams.contains(s))
        .collect();
    if !extra.is_empty() {
        return Err(format!("received streams not in the source: {extra:?}"));
    }
    let mut counts = Vec::new();
    for s in streams {
        let src = stream_of(source, s);
        let got = stream_of(received, s);
        let Some(at) = find_run(&src, &got) else {
            let why = got
                .iter()
                .position(|p| !src.contains(p))
                .map(|i| format!("received packet {i} ({:?}) is not in the source", got[i]))
                .unwrap_or_else(|| "packets are out of order or some are missing".into());
            return Err(format!(
                "stream {s}: the {} received packets are not a contiguous run of the {} source \
                 packets: {why}",
                got.len(),
                src.len()
            ));
        };
        let fraction = got.len() as f64 / src.len() as f64;
        if fraction < min_fraction {
            return Err(format!(
                "stream {s}: only {} of {} source packets arrived (from source packet {at}); \
                 wanted {:.0}%",
                got.len(),
                src.len(),
                min_fraction * 100.0
            ));
        }
        counts.push(got.len());
    }
    Ok(counts)
}

/// nginx with its RTMP module, in a temporary prefix, on a free loopback port:
/// `application live { live on; }`.
pub struct Nginx {
    dir: TempDir,
    child: Option<Child>,
    pub port: u16,
}

/// The RTMP module's path, if nginx and the module are installed.
pub fn nginx_rtmp_module() -> Result<PathBuf, String> {
    if !have("nginx") && !Path::new("/usr/sbin/nginx").exists() {
        return Err("nginx is not installed (Debian: nginx libnginx-mod-rtmp)".into());
    }
    let listed = Command::new("dpkg")
        .args(["-L", "libnginx-mod-rtmp"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let candidates = listed
        .lines()
        .filter(|l| l.ends_with("ngx_rtmp_module.so"))
        .map(PathBuf::from)
        .chain([PathBuf::from("/usr/lib/nginx/modules/ngx_rtmp_module.so")]);
    for c in candidates {
        if c.exists() {
            return Ok(c);
        }
    }
    Err("nginx's RTMP module is not installed (Debian: libnginx-mod-rtmp)".into())
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

impl Nginx {
    /// Starts nginx; `Err` says why it cannot run here (the test then skips).
    pub fn start() -> Result<Nginx, String> {
        let module = nginx_rtmp_module()?;
        let dir = TempDir::new("nginx");
        std::fs::create_dir_all(dir.join("logs")).map_err(|e| e.to_string())?;
        let port = free_port();
        let conf = format!(
            "load_module {module};\n\
             daemon off;\n\
             master_process off;\n\
             worker_processes 1;\n\
             pid {dir}/nginx.pid;\n\
             error_log {dir}/error.log info;\n\
             events {{ worker_connections 128; }}\n\
             rtmp {{ server {{ listen 127.0.0.1:{port}; application live {{ live on; }} }} }}\n",
            module = module.display(),
            dir = dir.path().display(),
        );
        std::fs::write(dir.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
        let mut nginx = Nginx {
            dir,
            child: None,
            port,
        };
        nginx.spawn()?;
        Ok(nginx)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(self.dir.path())
            .arg("-e")
            .arg(self.dir.join("error.log"))
            .arg("-c")
            .arg(self.dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start nginx: {e}"))?;
        self.child = Some(child);
        if !wait_for_port(self.port, Duration::from_secs(5)) {
            return Err(format!(
                "nginx did not listen on 127.0.0.1:{}: {}",
                self.port,
                self.error_log()
            ));
        }
        Ok(())
    }

    /// Kills nginx at once (as a crash or a lost server would).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }

    pub fn url(&self, stream: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live/{stream}", self.port)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A child process killed when dropped.
pub struct Reaped(pub Option<Child>);

impl Reaped {
    /// Waits up to `within` for the exit; kills it after that.
    pub fn wait_for(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        let child = self.0.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `ffmpeg -i URL -c copy -f flv OUT` (a player that records), started now. ffmpeg (5.1) does
/// not stop when a live stream on nginx ends (UnpublishNotify, Stream EOF), so it is told to
/// end its input after 3 s without data (`-rw_timeout`); start publishing soon after it plays.
pub fn ffmpeg_player(url: &str, out: &Path) -> Reaped {
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-rw_timeout", "3000000", "-i", url])
        .args(["-c", "copy", "-f", "flv"])
        .arg(out)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ffmpeg player");
    Reaped(Some(child))
}

/// `ffmpeg -re -i SRC -c copy -f flv URL` (a real-time publisher), started now.
pub fn ffmpeg_publisher(src: &Path, url: &str) -> Reaped {
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-i"])
        .arg(src)
        .args(["-c", "copy", "-f", "flv", url])
        .stdin(Stdio::null())
        .spawn()
        .expect("start ffmpeg publisher");
    Reaped(Some(child))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(stream: u32, hash: &str) -> Packet {
        Packet {
            stream,
            size: 1,
            hash: hash.into(),
        }
    }

    #[test]
    fn contiguity_check() {
        let src = [
            p(0, "a"),
            p(1, "x"),
            p(0, "b"),
            p(1, "y"),
            p(0, "c"),
            p(1, "z"),
        ];
        // A later start, interleaving differs: fine.
        let got = [p(1, "y"), p(0, "b"), p(0, "c"), p(1, "z")];
        assert_eq!(check_contiguous_run(&src, &got, 0.5), Ok(vec![2, 2]));
        let gap = check_contiguous_run(&src, &[p(0, "a"), p(0, "c")], 0.0).unwrap_err();
        assert!(gap.contains("out of order or some are missing"), "{gap}");
        let foreign = check_contiguous_run(&src, &[p(0, "q")], 0.0).unwrap_err();
        assert!(foreign.contains("is not in the source"), "{foreign}");
        let few = check_contiguous_run(&src, &[p(0, "c")], 0.5).unwrap_err();
        assert!(few.contains("only 1 of 3"), "{few}");
        let other = check_contiguous_run(&src, &[p(2, "a")], 0.0).unwrap_err();
        assert!(other.contains("not in the source: [2]"), "{other}");
    }

    #[test]
    fn framemd5_lines() {
        let text = "#format: frame checksums\n#tb 0: 1/1000\n\
                    0,        -57,         23,       40,     3532, 16b1b527e27d7e655c1be1ecb273927b\n\
                    1,          0,          0,       23,      258, 48b851e252c2af57a340fe2a150ae719\n";
        let v = parse_framemd5(text);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].size, 3532);
        assert_eq!(v[1].stream, 1);
        assert_eq!(v[1].hash, "48b851e252c2af57a340fe2a150ae719");
    }
}
