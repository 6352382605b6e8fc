#![warn(missing_docs)]
//! Field schemas, dataset readers, input encoding and splits for glider.
//!
//! The data's way through this crate:
//!
//! ```text
//! file (Criteo TSV | CSV) ──read──▶ Dataset: fields + per-field columns (raw categorical codes,
//!                                   transformed dense values, NaN = missing) + 0/1 labels
//!        Dataset ──split (seeded 80/10/10 or by file)──▶ train / validation / test
//!        train ──fit──▶ InputEncoder (vocabulary with min-count + rare id, dense mean/std)
//!        rows ──encode──▶ EncodedBatch (embedding row + scale per field), what every model eats
//! ```
//!
//! A categorical column stores *raw codes*: an index into the column's dictionary of the strings
//! seen in the file, with code 0 reserved for "missing". A dense column stores the value after
//! the field's transform (for Criteo, `v > 2 → floor(ln(v)^2)`), `NaN` when missing. Switching a
//! field off for GLIDER's perturbations (spec 3.1) is setting it missing, so a black box sees a
//! switched-off field exactly as a genuinely missing one.

pub mod cross;
pub mod dataset;
pub mod embedded;
pub mod encode;
pub mod error;
pub mod progress;
pub mod read;
pub mod split;
pub mod synth;

pub use cross::{apply_crosses, fit_crosses, CrossOptions, CrossSpec};
pub use dataset::{Column, Dataset, Field, FieldKind, FieldValue};
pub use encode::{EncodedBatch, EncoderOptions, FieldEncoding, InputEncoder};
pub use error::DataError;
pub use progress::{NoProgress, Progress};
pub use read::{
    read_criteo, read_criteo_with, read_csv, read_csv_from, CsvOptions, DenseTransform,
    SchemaOptions, TargetKind,
};
pub use split::{split_indices, Split};
