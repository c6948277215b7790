//! `log-generator`: realistic user logs to Kafka, stdout or Lambda event
//! files. See `log-generator --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use log_generator::{run, GenerateArgs, HELP_EXAMPLES};

/// mimalloc, also behind librdkafka's own `malloc` and `free` (the
/// `override` feature). Every message costs librdkafka several allocations
/// (its copy of the key and value, the header list and each header), made
/// on the producing thread and freed there in bursts of a whole
/// acknowledged batch; glibc's allocator spent about a fifth of that
/// thread's instructions on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "log-generator", version, about, long_about = None, after_help = HELP_EXAMPLES)]
struct Cli {
    #[command(flatten)]
    args: GenerateArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.args).await {
        Ok(summary) => summary.exit_code(),
        Err(e) => {
            eprintln!("log-generator: {e:#}");
            ExitCode::FAILURE
        }
    }
}
