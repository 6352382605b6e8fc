#![warn(missing_docs)]
//! Everything glider trains by gradient, on burn's `flex` CPU backend:
//!
//! - [`mlp`]: the interaction MLP and GLIDER's local surrogate (spec 1.1, 3.1), whose weights
//!   go to `glider_core::nid` as plain matrices;
//! - [`additive`]: NID's networks at full fidelity: MLP-M (main-effect towers), binary and
//!   multiclass losses, and MLP-Cutoff (spec 1.1, 1.5);
//! - [`models`]: the recommenders (LR, FM, Wide&Deep, DeepFM, DCN, xDeepFM, AutoInt(+), FiBiNET,
//!   InterHAt; spec 3.4, 4);
//! - [`ctr`]: the one training loop shared by the recommenders, with the embedding table kept
//!   outside autodiff and updated sparsely on the rows a batch touches ([`sparse`]).
//!
//! Every random step (initialisation, shuffling) draws from a `ChaCha8Rng` seeded by the
//! caller, so the same seed gives the same model.

pub mod additive;
pub mod ctr;
pub mod fast_ctr;
pub mod fast_mlp;
mod fast_tower;
pub(crate) mod kernels;
pub mod layers;
pub mod mlp;
pub mod models;
pub mod params;
pub mod sparse;
pub mod store;

use burn::tensor::Device;

/// The CPU device every model here runs on (burn `flex`).
pub fn cpu() -> Device {
    Device::flex()
}

/// Errors of training and prediction.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// The inputs have inconsistent shapes.
    #[error("shape error: {0}")]
    Shape(String),
    /// Training produced a non-finite loss (learning rate too high, or bad inputs).
    #[error("training diverged: the {what} became {value} at epoch {epoch}")]
    Diverged {
        /// Which quantity.
        what: String,
        /// The value.
        value: f64,
        /// 1-based epoch.
        epoch: usize,
    },
    /// Not enough rows for the split asked for.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// A tensor could not be read back.
    #[error("tensor read-back failed: {0}")]
    Tensor(String),
    /// Reading or encoding streamed training rows failed (the message names the file and line).
    #[error("{0}")]
    Input(String),
}

/// Copies a float tensor's values into a `Vec<f32>`.
pub(crate) fn to_vec<const D: usize>(t: burn::Tensor<D>) -> Result<Vec<f32>, NnError> {
    let data = t.into_data();
    data.as_slice::<f32>()
        .map(|s| s.to_vec())
        .map_err(|e| NnError::Tensor(format!("{e:?}")))
}
