#![warn(missing_docs)]
//! Explaining a black-box recommender with GLIDER (Tsang et al., ICLR 2020).
//!
//! - [`blackbox`]: the [`BlackBox`] trait (a batch of field values in, logits out) and its
//!   adapter for glider's own trained models;
//! - [`local`]: detection around one instance (MADEX, spec 3.1): perturb fields, query, fit an
//!   L1 MLP surrogate on the logits, rank interactions with NID;
//! - [`global`]: run the local step over many instances in parallel and count which
//!   interactions recur (spec 3.2);
//! - [`tabular`]: NID on any table (spec 1): MLP-M, ensembles, MLP-Cutoff;
//! - [`pipeline`]: the whole job of `glider run`: train, explain, encode crosses, retrain,
//!   compare.

pub mod blackbox;
#[cfg(feature = "onnx")]
pub mod forest;
pub mod global;
pub mod http;
pub mod journal;
pub mod local;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod pipeline;
pub mod select;
pub mod tabular;

pub use blackbox::{BlackBox, ModelBlackBox};
pub use global::{detect_global, GliderParams, GlobalDetection};
pub use journal::Journal;
pub use local::{
    archdetect_instance, explain_instance, fit_local_surrogate, Detector, LocalExplanation,
    LocalParams, SurrogateTrainer,
};

/// Errors of explaining a model.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The black box failed or answered with something unusable.
    #[error("black box: {0}")]
    BlackBox(String),
    /// The black box could not be reached: every attempt ended without an answer (no
    /// connection, or none within the timeout). A run stops at the first such instance,
    /// since the ones after it would fail the same way (see [`global::GlobalDetection`]).
    #[error("black box: {0}")]
    Unreachable(String),
    /// Training the surrogate failed.
    #[error("surrogate: {0}")]
    Surrogate(#[from] glider_nn::NnError),
    /// Interaction ranking failed.
    #[error("NID: {0}")]
    Nid(#[from] glider_core::nid::NidError),
    /// A detector's own check failed.
    #[error("{0}")]
    Detector(String),
    /// Data handling failed.
    #[error(transparent)]
    Data(#[from] glider_data::DataError),
    /// Settings are inconsistent.
    #[error("{0}")]
    Config(String),
}

pub use glider_core::derive_seed;

impl From<String> for ExplainError {
    fn from(message: String) -> Self {
        ExplainError::Detector(message)
    }
}
