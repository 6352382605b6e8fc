//! `glider`: find the feature interactions a recommender has learned (NID + GLIDER) and put
//! them to work as cross features.
//!
//! The binary only parses arguments, wires the library crates together and prints; the
//! methods live in `glider-core`, `glider-data`, `glider-nn` and `glider-explain`.

mod attention;
mod bench;
mod cli;
mod model_dir;
mod nid;
mod output;
mod plot;
mod progress;
mod stream;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
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
    }
}
