//! A progress sink that library code reports to, so the CLI can draw bars (indicatif) while
//! tests and library users pass [`NoProgress`].

/// Receives progress of a long step. Implementations must be cheap and thread-safe: GLIDER's
/// instances report from several threads.
pub trait Progress: Send + Sync {
    /// Starts a step of `len` units described by `message`.
    fn start(&self, len: u64, message: &str);
    /// `n` more units are done.
    fn inc(&self, n: u64);
    /// A short status line (for example the current validation logloss).
    fn message(&self, message: &str);
    /// The step is over.
    fn finish(&self);
}

/// A [`Progress`] that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _len: u64, _message: &str) {}
    fn inc(&self, _n: u64) {}
    fn message(&self, _message: &str) {}
    fn finish(&self) {}
}
