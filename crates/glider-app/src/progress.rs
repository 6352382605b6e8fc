//! Progress bars (indicatif) for the library's [`Progress`] and [`Reporter`] hooks, as the
//! command line and the Python package show them (cargo feature `progress`).

use std::time::Duration;

use glider_data::Progress;
use glider_explain::pipeline::Reporter;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws one bar per stage on stderr (hidden with `--quiet` or when stderr is no terminal).
pub struct Bars {
    multi: MultiProgress,
    quiet: bool,
    verbose: bool,
}

impl Bars {
    /// New bars; `quiet` hides them and the notes; `verbose` also prints each stage's status
    /// messages as lines, so that they stay in a log.
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let multi = if quiet {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        } else {
            MultiProgress::new()
        };
        Bars {
            multi,
            quiet,
            verbose,
        }
    }
}

struct Bar {
    bar: ProgressBar,
    name: String,
    /// `-v`: status lines are also printed, so they stay in the log.
    verbose: Option<MultiProgress>,
}

impl Progress for Bar {
    fn start(&self, len: u64, message: &str) {
        self.bar.set_length(len);
        self.bar.set_position(0);
        if self.name.is_empty() {
            self.bar.set_prefix(message.to_string());
        }
    }
    fn inc(&self, n: u64) {
        self.bar.inc(n);
    }
    fn message(&self, message: &str) {
        if let Some(multi) = &self.verbose {
            let line = format!("{}: {message}", self.bar.prefix().trim());
            if multi.is_hidden() {
                eprintln!("{line}");
            } else {
                let _ = multi.println(line);
            }
        }
        self.bar.set_message(message.to_string());
    }
    fn finish(&self) {
        self.bar.finish();
    }
}

impl Reporter for Bars {
    fn stage(&self, name: &str) -> Box<dyn Progress + '_> {
        let bar = self.multi.add(ProgressBar::new(0));
        let style = ProgressStyle::with_template(
            "{prefix:>32} [{bar:30}] {pos}/{len} {elapsed_precise} (ETA {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        if self.multi.is_hidden() && !self.quiet {
            // No terminal (a log file): say which step starts, since no bar is drawn.
            eprintln!("{name} ...");
        }
        bar.enable_steady_tick(Duration::from_millis(500));
        let verbose = (self.verbose && !self.quiet).then(|| self.multi.clone());
        Box::new(Bar {
            bar,
            name: name.to_string(),
            verbose,
        })
    }

    fn note(&self, message: &str) {
        if self.quiet {
            return;
        }
        if self.multi.is_hidden() {
            eprintln!("{message}");
        } else {
            let _ = self.multi.println(message);
        }
    }
}
