//! `glider`: find the feature interactions a recommender has learned (NID + GLIDER) and put
//! them to work as cross features.
//!
//! The binary only parses arguments, wires the library crates together and prints; the
//! methods live in `glider-core`, `glider-data`, `glider-nn` and `glider-explain`.

mod cli;
mod config;
mod ui;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let cmd = cli::Cli::command();
    let argv = match config::expand(&cmd, std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(e) => return report_error(e),
    };
    let matches = cmd
        .clone()
        .try_get_matches_from(argv)
        .unwrap_or_else(|e| e.exit());
    let args = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let config_toml = config::effective(&cmd, &matches);
    let out = leaf(&matches)
        .try_get_raw("out")
        .ok()
        .flatten()
        .and_then(|mut v| v.next())
        .map(std::path::PathBuf::from);
    match cli::execute(args, config_toml, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report_error(e),
    }
}

/// The matches of the innermost subcommand.
fn leaf(matches: &clap::ArgMatches) -> &clap::ArgMatches {
    match matches.subcommand() {
        Some((_, sub)) => leaf(sub),
        None => matches,
    }
}

/// Prints an error with its causes on stderr; exit code 2 for a usage error, 1 otherwise.
fn report_error(e: anyhow::Error) -> ExitCode {
    let mut shown = e.to_string();
    eprintln!("error: {shown}");
    let mut source = e.source();
    while let Some(s) = source {
        // Skip a cause the message above already spells out (an I/O error that its
        // wrapper quotes).
        let text = s.to_string();
        if !shown.contains(&text) {
            eprintln!("  caused by: {text}");
            shown.push_str(&text);
        }
        source = s.source();
    }
    if e.downcast_ref::<cli::Usage>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}
