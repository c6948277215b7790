//! Running a server JVM: the class path from an installed `lib/`, a child
//! that dies with this process, waiting until it answers, and the log tail
//! that explains a failed start.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The jars are not installed.
    #[error("{server} is not installed in {dir}: run `{make}` (it copies the jars from Maven Central once)")]
    NotInstalled {
        server: &'static str,
        dir: PathBuf,
        make: &'static str,
    },
    /// `java` could not be run.
    #[error("cannot run {java}: {source} (install a Java 17 runtime, e.g. `apt-get install openjdk-17-jre-headless`, or set JAVA)")]
    NoJava {
        java: String,
        source: std::io::Error,
    },
    /// A step of the start failed (writing files, a setup tool).
    #[error("{server}: {what}")]
    Setup { server: &'static str, what: String },
    /// The process exited before it answered.
    #[error(
        "{server} exited with {status} before it served on {addr}; last lines of {log}:\n{tail}"
    )]
    Exited {
        server: &'static str,
        addr: String,
        status: std::process::ExitStatus,
        log: PathBuf,
        tail: String,
    },
    /// It did not answer in time.
    #[error("{server} did not serve on {addr} within {limit:?}; last lines of {log}:\n{tail}")]
    Timeout {
        server: &'static str,
        addr: String,
        limit: Duration,
        log: PathBuf,
        tail: String,
    },
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `port` when given and free, else (unset or 0) a free one: a fixed port
/// that another process holds would make the start look successful while
/// clients talk to that other process.
pub(crate) fn port_or_free(server: &'static str, port: Option<u16>) -> Result<u16, StartError> {
    match port {
        None | Some(0) => Ok(free_port()),
        Some(p) => match std::net::TcpListener::bind(("127.0.0.1", p)) {
            Ok(_) => Ok(p),
            Err(e) => Err(StartError::Setup {
                server,
                what: format!("port {p} on 127.0.0.1 is taken ({e}): stop what listens there or pick another port"),
            }),
        },
    }
}

/// The `lib/` of an installed server, checked to hold jars.
pub(crate) fn installed_lib(
    server: &'static str,
    make: &'static str,
) -> Result<PathBuf, StartError> {
    let lib = crate::servers_dir().join(server).join("lib");
    let has_jars = std::fs::read_dir(&lib)
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "jar"))
        })
        .unwrap_or(false);
    if has_jars {
        Ok(lib)
    } else {
        Err(StartError::NotInstalled {
            server,
            dir: lib,
            make,
        })
    }
}

/// The `java` to run: `JAVA`, else `$JAVA_HOME/bin/java`, else `java`.
pub(crate) fn java() -> String {
    if let Ok(j) = std::env::var("JAVA") {
        return j;
    }
    if let Ok(home) = std::env::var("JAVA_HOME") {
        let j = Path::new(&home).join("bin/java");
        if j.exists() {
            return j.display().to_string();
        }
    }
    "java".into()
}

/// A command for `java` with the JVM options and a class path of every jar
/// in `lib`, its output appended to `log`.
pub(crate) fn java_command(
    server: &'static str,
    lib: &Path,
    jvm_options: &[String],
    main: &str,
    args: &[String],
    log: &Path,
) -> Result<Command, StartError> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| StartError::Setup {
            server,
            what: format!("cannot open {}: {e}", log.display()),
        })?;
    let err = out.try_clone().map_err(|e| StartError::Setup {
        server,
        what: e.to_string(),
    })?;
    let mut cmd = Command::new(java());
    cmd.args(jvm_options)
        .arg("-cp")
        .arg(format!("{}/*", lib.display()))
        .arg(main)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    Ok(cmd)
}

/// Runs `cmd` to the end (a setup tool such as Kafka's storage format) and
/// fails with its output when it fails.
pub(crate) fn run_to_end(server: &'static str, mut cmd: Command) -> Result<(), StartError> {
    let output = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| StartError::NoJava {
            java: java(),
            source,
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(StartError::Setup {
            server,
            what: format!(
                "{:?} failed with {}: {}{}",
                cmd.get_args().last().unwrap_or_default(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `cmd` so that it is killed when this process ends.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
/// so every server is forked by one thread that lives as long as the
/// process.
pub(crate) fn spawn_tied(cmd: Command) -> Result<Child, StartError> {
    static KEEPER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testkit-server-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    // SAFETY: prctl is async-signal-safe and touches no
                    // memory of the parent.
                    unsafe {
                        cmd.pre_exec(|| {
                            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                                return Err(std::io::Error::last_os_error());
                            }
                            Ok(())
                        });
                    }
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("the server keeper thread starts");
        tx
    });
    let (tx, rx) = mpsc::channel();
    keeper
        .send((cmd, tx))
        .expect("the server keeper thread runs");
    rx.recv()
        .expect("the server keeper thread answers")
        .map_err(|source| StartError::NoJava {
            java: java(),
            source,
        })
}

/// Waits until `addr` accepts TCP connections and `ready()` holds, or
/// fails with the log's tail when the child exits or `limit` passes.
pub(crate) fn wait_serving(
    server: &'static str,
    child: &mut Child,
    addr: &str,
    log: &Path,
    limit: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<(), StartError> {
    let sock: SocketAddr = addr.parse().expect("a loopback socket address");
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(StartError::Exited {
                server,
                addr: addr.into(),
                status,
                log: log.into(),
                tail: log_tail(log, 40),
            });
        }
        if TcpStream::connect_timeout(&sock, Duration::from_millis(200)).is_ok() && ready() {
            return Ok(());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError::Timeout {
                server,
                addr: addr.into(),
                limit,
                log: log.into(),
                tail: log_tail(log, 40),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last `lines` lines of `path` (at most its last 64 KiB).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = File::open(path) else {
        return format!("({} cannot be read)", path.display());
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(65_536)));
    let mut text = String::new();
    let mut bytes = Vec::new();
    if f.read_to_end(&mut bytes).is_ok() {
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Sends SIGTERM and waits up to `grace` for the exit, then SIGKILL.
pub(crate) fn stop_child(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: kill(2) on the pid of a child we have not reaped.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let start = Instant::now();
    while start.elapsed() < grace {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A fresh directory for one server under the system temp dir, named for
/// the server and this process; left-overs of dead processes are removed.
pub(crate) fn scratch_dir(server: &'static str) -> Result<PathBuf, StartError> {
    let base = std::env::temp_dir().join("logpipe-testkit");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = base.join(format!("{server}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| StartError::Setup {
        server,
        what: format!("cannot create {}: {e}", dir.display()),
    })?;
    Ok(dir)
}

/// Writes `text` to `path`, naming the file in the error.
pub(crate) fn write_file(server: &'static str, path: &Path, text: &str) -> Result<(), StartError> {
    std::fs::write(path, text).map_err(|e| StartError::Setup {
        server,
        what: format!("cannot write {}: {e}", path.display()),
    })
}

/// One server's JVM process, its directory and log: what Cassandra and
/// Kafka share. [`crate::Cassandra`] and [`crate::Kafka`] dereference to it.
pub struct ServerProcess {
    server: &'static str,
    child: Option<Child>,
    dir: PathBuf,
    remove_dir: bool,
    log: PathBuf,
    lib: PathBuf,
    /// How long the last start took.
    pub started_in: Duration,
}

impl ServerProcess {
    /// Checks the install and makes the data directory: `dir`, kept after
    /// a stop, or a fresh temporary one removed on drop.
    pub(crate) fn prepare(
        server: &'static str,
        make: &'static str,
        dir: Option<&Path>,
    ) -> Result<ServerProcess, StartError> {
        let lib = installed_lib(server, make)?;
        let (dir, remove_dir) = match dir {
            Some(d) => {
                // Absolute: Cassandra reads its configuration as a file://
                // URL, which a relative path is not.
                let d = std::path::absolute(d).map_err(|e| StartError::Setup {
                    server,
                    what: format!("cannot resolve {}: {e}", d.display()),
                })?;
                std::fs::create_dir_all(&d).map_err(|e| StartError::Setup {
                    server,
                    what: format!("cannot create {}: {e}", d.display()),
                })?;
                (d, false)
            }
            None => (scratch_dir(server)?, true),
        };
        Ok(ServerProcess {
            server,
            child: None,
            log: dir.join("server.log"),
            dir,
            remove_dir,
            lib,
            started_in: Duration::ZERO,
        })
    }

    /// Starts `main` and waits until `addr` serves and `ready` holds for
    /// the log written since this start.
    pub(crate) fn launch(
        &mut self,
        jvm_options: &[String],
        main: &str,
        args: &[String],
        addr: &str,
        limit: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> Result<(), StartError> {
        let begun = Instant::now();
        let log_start = std::fs::metadata(&self.log).map_or(0, |m| m.len()) as usize;
        let cmd = java_command(self.server, &self.lib, jvm_options, main, args, &self.log)?;
        let mut child = spawn_tied(cmd)?;
        let log = self.log.clone();
        wait_serving(self.server, &mut child, addr, &self.log, limit, || {
            std::fs::read(&log)
                .map(|b| ready(&String::from_utf8_lossy(&b[log_start.min(b.len())..])))
                .unwrap_or(false)
        })?;
        self.child = Some(child);
        self.started_in = begun.elapsed();
        Ok(())
    }

    /// The installed jars.
    pub(crate) fn lib(&self) -> &Path {
        &self.lib
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: the server dies at once; its data directory stays.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (a clean shutdown), then SIGKILL after 30 s.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_child(&mut c, Duration::from_secs(30));
        }
    }

    /// Waits for the server to exit (for a foreground server).
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        match self.child.as_mut() {
            Some(c) => c.wait(),
            None => Err(std::io::Error::other("not running")),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
