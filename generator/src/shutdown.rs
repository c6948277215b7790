//! Ctrl-C, the same way in every long-running command (`generate`, `esm`,
//! `demo`): the first asks the work to stop cleanly (finish what is in
//! flight, flush, commit, print the summary); the second exits at once
//! with status 130, the shell's code for a process stopped by SIGINT.
//! Commands that only serve (`logpipe cassandra`, `logpipe kafka`) wait
//! with [`until_ctrl_c`].

/// Exit status after a second Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Watches for Ctrl-C on the current tokio runtime. On the first, prints
/// `message` (if any) on stderr and runs `stop`; on the second, exits the
/// process with [`EXIT_INTERRUPTED`]. Abort the returned task once the
/// work is done, so that a late Ctrl-C is left to the default handler.
pub fn on_ctrl_c(
    message: Option<String>,
    stop: impl FnOnce() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            if let Some(message) = message {
                eprintln!("{message}");
            }
            stop();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(EXIT_INTERRUPTED);
            }
        }
    })
}

/// Waits for Ctrl-C, then prints `stopping` on stderr: for commands that
/// serve until they are stopped and have nothing to finish.
pub async fn until_ctrl_c() -> anyhow::Result<()> {
    use anyhow::Context as _;
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("stopping");
    Ok(())
}
