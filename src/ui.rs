//! How the binary talks to its user: `--quiet`, `-v`, `--json`, and the effective
//! configuration (every flag's value, from the command line, `--config` or the default) that
//! is saved beside every output as `config.toml`.
//!
//! These are process-wide settings, fixed once after parsing ([`init`]), so the subcommands
//! read them instead of threading four flags through every call.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::Result;
use serde::Serialize;

/// The output settings of this process.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    /// `-v` count: 1 prints every stage's status line (per-epoch losses) and the effective
    /// configuration on stderr.
    pub verbose: u8,
    /// `--json`: stdout carries one JSON document and nothing else.
    pub json: bool,
    /// The effective configuration as TOML (see [`crate::config::effective`]).
    pub config_toml: String,
}

static UI: OnceLock<Ui> = OnceLock::new();

/// Fixes the settings; a second call is ignored (the first one wins).
pub fn init(ui: Ui) {
    let _ = UI.set(ui);
}

fn get() -> &'static Ui {
    static DEFAULT: OnceLock<Ui> = OnceLock::new();
    UI.get().unwrap_or_else(|| DEFAULT.get_or_init(Ui::default))
}

/// Whether the human text on stdout is replaced by one JSON document.
pub fn json() -> bool {
    get().json
}

/// The `-v` level (0 by default).
pub fn verbose() -> u8 {
    get().verbose
}

/// The effective configuration, as TOML text (empty before [`init`]).
pub fn config_toml() -> &'static str {
    &get().config_toml
}

/// Prints human text on stdout, unless `--json` asked for a machine-readable stdout. The
/// arguments are evaluated either way (they may do the work whose summary is printed).
macro_rules! say {
    ($($t:tt)*) => {{
        let text = format!($($t)*);
        if !$crate::ui::json() {
            println!("{text}");
        }
    }};
}
pub(crate) use say;

/// The JSON document `--json` prints on stdout when a subcommand succeeds: the subcommand,
/// its output location and its main result (the same object as the main JSON file it wrote).
#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    command: &'a str,
    out: Option<&'a Path>,
    result: &'a T,
}

/// With `--json`, prints `{"command", "out", "result"}` on stdout (one line); otherwise does
/// nothing.
///
/// # Errors
/// Serialisation failures (a non-finite float is written as `null`, so none are expected).
pub fn result<T: Serialize>(command: &str, out: Option<&Path>, value: &T) -> Result<()> {
    if json() {
        let doc = Document {
            command,
            out,
            result: value,
        };
        println!("{}", serde_json::to_string(&doc)?);
    }
    Ok(())
}

/// Writes the effective configuration beside an output: `DIR/config.toml` when `out` is a
/// folder, `FILE.config.toml` when it is a file. Written atomically.
///
/// # Errors
/// I/O failures, naming the file.
pub fn save_config(out: &Path) -> Result<()> {
    let text = config_toml();
    if text.is_empty() {
        return Ok(());
    }
    let path = if out.is_dir() {
        out.join("config.toml")
    } else {
        let mut name = out.file_name().unwrap_or_default().to_os_string();
        name.push(".config.toml");
        out.with_file_name(name)
    };
    glider_app::output::write_atomic(&path, text.as_bytes())
}
