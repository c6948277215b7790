//! Structured logs with `tracing`: JSON when Lambda's log format is JSON
//! (`AWS_LAMBDA_LOG_FORMAT=JSON`) or `LOGPIPE_LOG_FORMAT=json`, readable
//! text otherwise. Logs go to stderr, so that a CLI's stdout stays
//! machine-readable (and, in Lambda, stdout carries only the metric lines
//! of [`crate::metrics`]).
//!
//! The level comes from, in order ([`select_filter`]):
//! 1. `RUST_LOG`, when the user set it (non-empty and a valid filter);
//! 2. `AWS_LAMBDA_LOG_LEVEL`, which Lambda sets from the function's
//!    application log level (`logging_config.application_log_level`):
//!    `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL`, the last read
//!    as `error` (tracing has no level above it);
//! 3. the default the caller passes.

use tracing_subscriber::EnvFilter;

/// The user's filter, which wins over everything else.
pub const RUST_LOG: &str = "RUST_LOG";
/// Lambda's application log level.
pub const LAMBDA_LOG_LEVEL: &str = "AWS_LAMBDA_LOG_LEVEL";

/// Where the level in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelSource {
    /// `RUST_LOG`.
    RustLog,
    /// `AWS_LAMBDA_LOG_LEVEL`.
    LambdaLogLevel,
    /// The caller's default.
    Default,
}

/// The filter in force, where it came from, and any setting that was
/// ignored because it was not valid (reported once logging is up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelChoice {
    /// An `EnvFilter` directive (`info`, `warn,logpipe_core=debug`).
    pub directive: String,
    pub source: LevelSource,
    /// `(variable, value)` of each setting that was present but unusable.
    pub ignored: Vec<(&'static str, String)>,
}

/// The tracing level of one of Lambda's log levels (case-insensitive), or
/// `None` for a value Lambda does not define.
pub fn lambda_level(level: &str) -> Option<&'static str> {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    }
}

/// Chooses the filter from `RUST_LOG`, then `AWS_LAMBDA_LOG_LEVEL`, then
/// `default_level` (see the module doc). Pure: the environment is passed
/// in. A blank `RUST_LOG` counts as unset; one that is not a valid filter,
/// or a Lambda level outside Lambda's six, is skipped and listed in
/// [`LevelChoice::ignored`].
pub fn select_filter(
    rust_log: Option<&str>,
    lambda_log_level: Option<&str>,
    default_level: &str,
) -> LevelChoice {
    let mut ignored = Vec::new();
    if let Some(filter) = rust_log.map(str::trim).filter(|f| !f.is_empty()) {
        if EnvFilter::try_new(filter).is_ok() {
            return LevelChoice {
                directive: filter.to_owned(),
                source: LevelSource::RustLog,
                ignored,
            };
        }
        ignored.push((RUST_LOG, filter.to_owned()));
    }
    if let Some(level) = lambda_log_level.filter(|l| !l.trim().is_empty()) {
        match lambda_level(level) {
            Some(directive) => {
                return LevelChoice {
                    directive: directive.to_owned(),
                    source: LevelSource::LambdaLogLevel,
                    ignored,
                }
            }
            None => ignored.push((LAMBDA_LOG_LEVEL, level.to_owned())),
        }
    }
    LevelChoice {
        directive: default_level.to_owned(),
        source: LevelSource::Default,
        ignored,
    }
}

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(default_level: &str) {
    let json = ["AWS_LAMBDA_LOG_FORMAT", "LOGPIPE_LOG_FORMAT"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|f| f.eq_ignore_ascii_case("json")));
    let rust_log = std::env::var(RUST_LOG).ok();
    let lambda_log_level = std::env::var(LAMBDA_LOG_LEVEL).ok();
    let choice = select_filter(
        rust_log.as_deref(),
        lambda_log_level.as_deref(),
        default_level,
    );
    let filter = EnvFilter::try_new(&choice.directive).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let installed = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
    if installed.is_ok() {
        for (variable, value) in &choice.ignored {
            tracing::warn!(
                variable,
                value,
                level = %choice.directive,
                "ignored an unusable log level setting"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_levels_map_to_tracing_levels() {
        for (lambda, tracing) in [
            ("TRACE", "trace"),
            ("DEBUG", "debug"),
            ("INFO", "info"),
            ("WARN", "warn"),
            ("ERROR", "error"),
            ("FATAL", "error"),
            ("warn", "warn"),
            (" Info ", "info"),
        ] {
            assert_eq!(lambda_level(lambda), Some(tracing), "{lambda}");
        }
        for bad in ["", "WARNING", "CRITICAL", "5", "off"] {
            assert_eq!(lambda_level(bad), None, "{bad}");
        }
    }

    #[test]
    fn rust_log_wins_when_the_user_sets_it() {
        let c = select_filter(Some("warn,logpipe_core=debug"), Some("ERROR"), "info");
        assert_eq!(c.directive, "warn,logpipe_core=debug");
        assert_eq!(c.source, LevelSource::RustLog);
        assert!(c.ignored.is_empty());
    }

    #[test]
    fn lambda_log_level_applies_without_rust_log() {
        for rust_log in [None, Some(""), Some("  ")] {
            let c = select_filter(rust_log, Some("FATAL"), "info");
            assert_eq!(c.directive, "error", "{rust_log:?}");
            assert_eq!(c.source, LevelSource::LambdaLogLevel);
            assert!(c.ignored.is_empty());
        }
        let c = select_filter(None, Some("DEBUG"), "warn");
        assert_eq!(
            (c.directive.as_str(), c.source),
            ("debug", LevelSource::LambdaLogLevel)
        );
    }

    #[test]
    fn the_default_applies_without_either() {
        let c = select_filter(None, None, "warn");
        assert_eq!(
            (c.directive.as_str(), c.source),
            ("warn", LevelSource::Default)
        );
        let c = select_filter(None, Some(""), "info");
        assert_eq!(
            (c.directive.as_str(), c.source),
            ("info", LevelSource::Default)
        );
    }

    #[test]
    fn unusable_settings_are_skipped_and_reported() {
        let c = select_filter(Some("=&&="), Some("WARN"), "info");
        assert_eq!(
            (c.directive.as_str(), c.source),
            ("warn", LevelSource::LambdaLogLevel)
        );
        assert_eq!(c.ignored, vec![(RUST_LOG, "=&&=".to_owned())]);

        let c = select_filter(Some("=&&="), Some("LOUD"), "info");
        assert_eq!(
            (c.directive.as_str(), c.source),
            ("info", LevelSource::Default)
        );
        assert_eq!(
            c.ignored,
            vec![
                (RUST_LOG, "=&&=".to_owned()),
                (LAMBDA_LOG_LEVEL, "LOUD".to_owned())
            ]
        );
    }
}
