#![warn(missing_docs)]
//! Field schemas, dataset readers, input encoding and splits for glider.
//!
//! The data's way through this crate:
//!
//! ```text
//! file ──read──▶ Dataset: fields + per-field columns (raw categorical codes,
//!                         transformed dense values, NaN = missing) + 0/1 labels
//!   Criteo TSV ........ read_criteo / read_criteo_with (13 dense + 26 categorical)
//!   Avazu CSV ......... read_avazu (23 categorical, label `click`)
//!   any CSV ........... read_csv / read_csv_from (schema flags, kinds inferred)
//!   libFM / libSVM .... read_libfm (one-hot `index:1` tokens; fields by position or featindex:
//!                       Frappe, iPinYou)
//!   Parquet ........... read_parquet (cargo feature `parquet`; kinds from the column types)
//!   in-memory columns . dataset_from_frame (a pandas DataFrame from the Python package)
//!        Dataset ──split (seeded 80/10/10 or by file)──▶ train / validation / test
//!        train ──fit──▶ InputEncoder (vocabulary with min-count + rare id, or hashed buckets;
//!                       dense mean/std)
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
pub mod frame;
pub mod group;
pub mod libfm;
#[cfg(feature = "parquet")]
pub mod parquet_read;
pub mod progress;
pub mod read;
pub mod split;
pub mod stream;
pub mod synth;

pub use cross::{
    apply_crosses, fit_crosses, split_sparse_sets, CrossMinCount, CrossOptions, CrossSpec, SplitSet,
};
pub use dataset::{Column, Dataset, Field, FieldKind, FieldValue};
pub use encode::{
    fnv1a_64, hash_local_id, numeric_edges, EncodedBatch, EncoderOptions, FieldEncoding,
    InputEncoder, NumericMode, NumericOptions,
};
pub use error::DataError;
pub use frame::{dataset_from_frame, FrameColumn, FrameValues};
pub use group::{block_columns, group_columns, GroupSpec};
pub use libfm::{read_libfm, LibfmFields};
#[cfg(feature = "parquet")]
pub use parquet_read::read_parquet;
pub use progress::{NoProgress, Progress};
pub use read::{
    avazu_columns, read_avazu, read_criteo, read_criteo_chunk, read_criteo_with, read_csv,
    read_csv_from, CsvOptions, DenseTransform, SchemaOptions, TargetKind,
};
pub use split::{split_indices, Split};
