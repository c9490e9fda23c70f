//! What one write to a loopback player costs the server's CPU, with nothing of rtmpkit in the
//! way: the floor under `scripts/bench-fanout`'s CPU seconds per GB.
//!
//! 200 loopback TCP connections, each read by a blocked thread of its own (as a player waits
//! in epoll); one writer thread sends each connection `SIZE` bytes in turn, then sleeps a
//! millisecond, for a few seconds, first copying (`write`), then with `sendfile` from a memory
//! file as the server does. Prints the writer thread's CPU time (user + system, from
//! /proc/thread-self/stat) per write and per GB. Run it pinned to one core, the readers
//! there too or not:
//!
//!     cargo run --release -p rtmpkit-server --example write_cost -- 8300 83000
//!
//! 8300 bytes is one write per video frame of a 2 Mbit/s stream at 30 frames/s (rtmpkit's
//! default); 83000 bytes, one write per 350 ms (`merged_write_ms = 350`).

#[cfg(target_os = "linux")]
fn main() -> std::io::Result<()> {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("write_cost measures Linux's loopback TCP and sendfile: it runs on Linux only");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    const CONNECTIONS: usize = 200;
    const RUN: Duration = Duration::from_secs(3);

    pub fn main() -> std::io::Result<()> {
        let sizes: Vec<usize> = std::env::args()
            .skip(1)
            .map(|a| {
                a.parse()
                    .map_err(|e| std::io::Error::other(format!("{a}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let sizes = if sizes.is_empty() {
            vec![8300, 83000]
        } else {
            sizes
        };
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let mut senders = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let mut reader = TcpStream::connect(addr)?;
            let (sender, _) = listener.accept()?;
            sender.set_nodelay(true)?;
            senders.push(sender);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
        println!(
            "{CONNECTIONS} loopback connections, {} s per run, writer thread CPU:",
            RUN.as_secs()
        );
        for size in sizes {
            let data = vec![0x5au8; size];
            let copy = run(&mut senders, size, |s| s.write_all(&data))?;
            let file = FileSource::new(&data)?;
            let sent = run(&mut senders, size, |s| file.send(s))?;
            println!(
                "  {size:>7} B writes: write {:6.2} µs each, {:5.2} s/GB | sendfile {:6.2} µs each, {:5.2} s/GB",
                copy.0, copy.1, sent.0, sent.1
            );
        }
        Ok(())
    }

    /// Writes `size` bytes to every connection in turn, a millisecond apart, for [`RUN`]; returns
    /// the writer's CPU µs per write and s per GB.
    fn run(
        senders: &mut [TcpStream],
        size: usize,
        mut write: impl FnMut(&mut TcpStream) -> std::io::Result<()>,
    ) -> std::io::Result<(f64, f64)> {
        let cpu0 = thread_cpu_seconds()?;
        let start = Instant::now();
        let mut writes = 0u64;
        while start.elapsed() < RUN {
            for s in senders.iter_mut() {
                write(s)?;
                writes += 1;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let cpu = thread_cpu_seconds()? - cpu0;
        let bytes = writes as f64 * size as f64;
        Ok((cpu * 1e6 / writes as f64, cpu / (bytes / 1e9)))
    }

    /// This thread's user + system CPU time, from /proc/thread-self/stat (clock ticks of 10 ms:
    /// a run of a few seconds reads to about 1 %).
    fn thread_cpu_seconds() -> std::io::Result<f64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat")?;
        // Fields after the command name (which may hold spaces) start at ") ".
        let rest = stat
            .rsplit_once(") ")
            .map(|(_, r)| r)
            .ok_or_else(|| std::io::Error::other("unexpected /proc/thread-self/stat"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| -> std::io::Result<f64> {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .ok_or_else(|| std::io::Error::other("unexpected /proc/thread-self/stat"))
        };
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        Ok((ticks(11)? + ticks(12)?) / 100.0)
    }

    /// `data` in a memory file, sent with `sendfile` as the server sends frames.
    struct FileSource {
        fd: std::os::fd::OwnedFd,
        len: usize,
    }

    impl FileSource {
        fn new(data: &[u8]) -> std::io::Result<FileSource> {
            let fd = rustix::fs::memfd_create("write-cost", rustix::fs::MemfdFlags::CLOEXEC)?;
            let mut written = 0;
            while written < data.len() {
                written += rustix::io::pwrite(&fd, &data[written..], written as u64)?;
            }
            Ok(FileSource {
                fd,
                len: data.len(),
            })
        }

        fn send(&self, socket: &mut TcpStream) -> std::io::Result<()> {
            let mut offset = 0u64;
            while (offset as usize) < self.len {
                let left = self.len - offset as usize;
                rustix::fs::sendfile(&*socket, &self.fd, Some(&mut offset), left)?;
            }
            Ok(())
        }
    }
}
