//! CPU time and resident memory of a process, from Linux's `/proc/PID/stat` and
//! `/proc/PID/status`: what the bench reports about the server it loads, and about itself.

use std::io;

/// One look at a process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcSample {
    /// User plus system CPU time so far, seconds.
    pub cpu_s: f64,
    /// Resident set size, KiB.
    pub rss_kib: u64,
}

/// Samples process `pid` now.
pub fn sample(pid: u32) -> io::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let ticks = cpu_ticks(&stat).ok_or_else(|| bad(pid, "stat"))?;
    let rss_kib = vm_rss_kib(&status).ok_or_else(|| bad(pid, "status"))?;
    Ok(ProcSample {
        cpu_s: ticks as f64 / clock_ticks_per_second(),
        rss_kib,
    })
}

fn bad(pid: u32, file: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("/proc/{pid}/{file}: unexpected format"),
    )
}

/// utime + stime (fields 14 and 15) from a `/proc/PID/stat` line. The command name (field 2)
/// is in parentheses and may hold spaces and parentheses, so fields are counted after the last
/// `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // `after` starts at field 3 (state): utime is the 12th field from there.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS:` from `/proc/PID/status`, KiB.
fn vm_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A CPU core's time so far (`/proc/stat`), seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoreTimes {
    /// User, nice, system, irq and softirq time: whatever process or interrupt it went to.
    /// With a server pinned alone to the core, this counts the network work done for it
    /// outside its own process time (packets received for its sockets, processed in softirq
    /// while the core idles or in `ksoftirqd`). The kernel samples these at the timer tick,
    /// so short windows are a few percent off.
    pub busy_s: f64,
    /// Time a hypervisor ran something else while this (virtual) core had work: a measure of
    /// how noisy the machine was.
    pub steal_s: f64,
}

impl CoreTimes {
    /// The time spent between `earlier` and this sample.
    pub fn since(&self, earlier: &CoreTimes) -> CoreTimes {
        CoreTimes {
            busy_s: self.busy_s - earlier.busy_s,
            steal_s: self.steal_s - earlier.steal_s,
        }
    }
}

/// Samples CPU `core` now.
pub fn core_times(core: usize) -> io::Result<CoreTimes> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let (busy, steal) = core_ticks(&stat, core).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("/proc/stat: no line for cpu{core}"),
        )
    })?;
    let hz = clock_ticks_per_second();
    Ok(CoreTimes {
        busy_s: busy as f64 / hz,
        steal_s: steal as f64 / hz,
    })
}

/// Busy ticks (fields 1, 2, 3, 6 and 7: user, nice, system, irq, softirq; guest time is
/// already in user) and steal ticks (field 8) of the `cpuN` line.
fn core_ticks(stat: &str, core: usize) -> Option<(u64, u64)> {
    let name = format!("cpu{core}");
    let line = stat
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name.as_str()))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| fields.get(i).copied();
    Some((at(0)? + at(1)? + at(2)? + at(5)? + at(6)?, at(7)?))
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// Raises this process's open-file limit to its hard limit (thousands of players need
/// thousands of sockets); returns the soft limit now in force.
pub fn raise_open_files_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct we pass and nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "1234 (rtmp kit) (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 55 1000 200";
        assert_eq!(cpu_ticks(stat), Some(325));
        assert_eq!(cpu_ticks("garbage"), None);
        let status = "Name:\trtmpkit\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\n";
        assert_eq!(vm_rss_kib(status), Some(5120));
        assert_eq!(vm_rss_kib("Name: x\n"), None);
    }

    #[test]
    fn parses_a_cores_busy_time() {
        let stat = "cpu  900 0 900 9000 0 0 0 0 0 0\n\
                    cpu0 100 2 30 5000 7 4 5 60 0 0\n\
                    cpu1 800 0 870 4000 0 0 0 0 0 0\n\
                    intr 12345\n";
        assert_eq!(core_ticks(stat, 0), Some((100 + 2 + 30 + 4 + 5, 60)));
        assert_eq!(core_ticks(stat, 1), Some((1670, 0)));
        assert_eq!(core_ticks(stat, 2), None);
        assert_eq!(core_ticks("cpu0 1 2 x\n", 0), None);
        assert_eq!(core_ticks("cpu0 1 2 3 4 5 6 7\n", 0), None);
        let later = CoreTimes {
            busy_s: 3.5,
            steal_s: 0.25,
        };
        let earlier = CoreTimes {
            busy_s: 1.0,
            steal_s: 0.125,
        };
        assert_eq!(
            later.since(&earlier),
            CoreTimes {
                busy_s: 2.5,
                steal_s: 0.125
            }
        );
        assert!(core_times(0).unwrap().busy_s > 0.0);
    }

    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0);
        assert!(s.cpu_s >= 0.0);
        assert!(raise_open_files_limit().unwrap() > 0);
    }
}
