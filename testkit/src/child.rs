//! Programs a test or a benchmark runs as child processes: killed when
//! dropped (with their whole process group, for programs that start
//! children of their own), run to the end within a time limit, their output
//! read line by line or for its last JSON line, and what `/proc` says of
//! them (CPU time, memory).

use std::io::{BufRead, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves nothing running. Made with [`KillOnDrop::group`] or
/// [`KillOnDrop::spawn_group`], its whole process group is killed.
pub struct KillOnDrop {
    /// The process, for its pipes and its status.
    pub child: Child,
    group: bool,
}

impl KillOnDrop {
    /// Kills just this child on drop.
    pub fn new(child: Child) -> Self {
        KillOnDrop {
            child,
            group: false,
        }
    }

    /// For a child spawned with `process_group(0)`: on drop its whole
    /// group gets SIGKILL.
    pub fn group(child: Child) -> Self {
        KillOnDrop { child, group: true }
    }

    /// Starts `cmd` in a process group of its own with stdin closed (a
    /// program that reads a terminal would otherwise take it over); the
    /// group is killed on drop.
    pub fn spawn_group(cmd: &mut Command) -> std::io::Result<Self> {
        cmd.stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .map(KillOnDrop::group)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL now (a crash: no clean shutdown), and wait for it.
    pub fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGINT (Ctrl-C), for testing a clean stop; [`wait_output`] then
    /// collects what it printed.
    pub fn interrupt(&self) {
        signal(self.child.id() as libc::pid_t, libc::SIGINT);
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.group {
            signal(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        self.kill_now();
    }
}

/// kill(2): `pid` a process, or minus a process group id.
fn signal(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) takes plain integers; a pid that is gone gives ESRCH.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Waits for the child to exit, at most `limit` (then kills it and panics
/// with its stderr); returns its output. Reads stdout and stderr on threads
/// meanwhile, so a full pipe never stalls it.
pub fn wait_output(mut k: KillOnDrop, limit: Duration) -> Output {
    fn read_all(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = read_all(k.child.stdout.take());
    let stderr = read_all(k.child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = k.child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if Instant::now() > deadline {
            k.kill_now();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "process {} did not finish within {limit:?}; stderr:\n{}",
                k.pid(),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Collects a child's output lines (usually stderr) on a thread, so the
/// pipe never fills; the lines so far are in the returned vector. Pair
/// with [`wait_for_lines`].
pub fn collect_lines(
    pipe: impl Read + Send + 'static,
) -> (Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let handle = std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            sink.lock().expect("the line list").push(line);
        }
    });
    (lines, handle)
}

/// Waits until at least `count` of the collected `lines` satisfy `matches`,
/// at most `limit`; panics with the lines so far when they do not.
/// Returns how many matched.
pub fn wait_for_lines(
    lines: &Mutex<Vec<String>>,
    matches: impl Fn(&str) -> bool,
    count: usize,
    limit: Duration,
) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let seen = lines.lock().expect("the line list");
        let n = seen.iter().filter(|l| matches(l)).count();
        if n >= count {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "{n} of {count} expected lines within {limit:?}: {seen:?}"
        );
        drop(seen);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `ready` every 50 ms until it is true, at most `limit`; panics
/// naming `what` when it never is.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last line of a program's output parsed as JSON (a `--json`
/// summary); the error names what was there instead.
pub fn last_json_line(output: impl AsRef<[u8]>) -> Result<serde_json::Value, String> {
    let text = String::from_utf8_lossy(output.as_ref());
    let line = text.lines().last().ok_or("no output")?;
    serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))
}

/// CPU time (user + system) a process has used so far, from
/// `/proc/<pid>/stat`; readable until the process is reaped.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(
        ticks as f64
            / if per_second > 0 {
                per_second as f64
            } else {
                100.0
            },
    )
}

/// A field of `/proc/<pid>/status` in KiB (`VmHWM`, the peak resident set;
/// `VmRSS`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_is_the_summary() {
        let out = b"starting\n{\"records\":3}\n";
        assert_eq!(last_json_line(out).unwrap()["records"], 3);
        let err = last_json_line(b"{\"records\":3}\ndone\n").unwrap_err();
        assert!(err.ends_with(": done"), "{err}");
        assert_eq!(last_json_line(b"").unwrap_err(), "no output");
    }

    #[test]
    fn a_group_is_killed_on_drop_and_proc_describes_a_live_child() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & echo $!; wait"])
            .stdout(Stdio::piped());
        let mut group = KillOnDrop::spawn_group(&mut cmd).unwrap();
        let mut sleep_pid = String::new();
        std::io::BufReader::new(group.child.stdout.take().unwrap())
            .read_line(&mut sleep_pid)
            .unwrap();
        let sleep_pid: u32 = sleep_pid.trim().parse().unwrap();
        assert!(cpu_seconds(group.pid()).is_some_and(|s| s >= 0.0));
        assert!(status_kib(sleep_pid, "VmHWM").is_some_and(|k| k > 0));
        drop(group);
        // The shell's child went with it: gone, or dead and not yet reaped.
        wait_until("the sleep ends", Duration::from_secs(5), || {
            std::fs::read_to_string(format!("/proc/{sleep_pid}/stat"))
                .map_or(true, |s| s.contains(") Z "))
        });
    }

    #[test]
    fn wait_output_collects_what_it_printed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = wait_output(
            KillOnDrop::new(cmd.spawn().unwrap()),
            Duration::from_secs(10),
        );
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn lines_are_collected_as_they_come() {
        let mut child = Command::new("sh")
            .args(["-c", "echo ready; echo ready"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, reader) = collect_lines(child.stdout.take().unwrap());
        let n = wait_for_lines(&lines, |l| l == "ready", 2, Duration::from_secs(10));
        assert_eq!(n, 2);
        reader.join().unwrap();
        child.wait().unwrap();
    }
}
