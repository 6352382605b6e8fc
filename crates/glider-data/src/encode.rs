//! From field values to model input: one embedding row and one scale per field.
//!
//! This is the "feature index / feature value" input of the CTR literature (DeepFM, AutoInt):
//! every field selects one row of a shared embedding table and multiplies it by a scale.
//!
//! - Categorical field: local id 0 = missing, 1 = rare (seen at most `min_count` times in
//!   training, or unseen), 2.. = the vocabulary; scale 1, except missing, whose scale is 0, so a
//!   missing value contributes nothing and its (zero) embedding row never receives a gradient.
//! - Hashed categorical field (when [`EncoderOptions::hash_buckets`] N > 0): local id
//!   `2 + fnv1a_64(value) % N` (see [`hash_local_id`]), no vocabulary and no min-count; 0 is
//!   still missing, 1 (rare) is only used for a raw code the field's dictionary does not have.
//! - Numeric field, binned (the default, [`NumericMode::Auto`]): the field is cut into bins
//!   chosen from the training rows, each bin an embedding row with scale 1 (see
//!   [`numeric_edges`]): a field with at most [`NumericOptions::max_values`] distinct values
//!   gets one bin per value seen more than `min_count` times, a field with more gets up to
//!   [`NumericOptions::bins`] bins of about equal row counts, a value holding many rows (a
//!   mass of zeros) getting a bin of its own. Bin edges lie halfway between neighbouring kept
//!   values, so a value unseen in training lands in the bin of its nearest kept value. Local id
//!   0 is "missing": a trained row (scale 1) when the training rows had more than `min_count`
//!   missing values, else scale 0 like a switched-off field.
//! - Numeric field, scalar ([`NumericMode::Scalar`], and every model saved in format 1):
//!   one row per field, scale = the standardised value `(v - mean) / std` with the training
//!   split's mean and std; missing (`NaN`) becomes 0, i.e. the mean (spec 3.1).
//! - A switched-off field ([`FieldValue::Off`], GLIDER's perturbation) is scale 0 in every
//!   encoding: a zero embedding, the neutral input (spec 3.1).

use serde::{Deserialize, Serialize};

use crate::dataset::{Column, Dataset, FieldValue};
use crate::error::DataError;

/// Settings of the encoder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderOptions {
    /// Categorical values seen at most this many times in the training rows share the field's
    /// rare id (the Criteo convention of spec 3.4 uses 10).
    pub min_count: usize,
    /// When N > 0, every categorical field is *hashed* into N buckets instead of getting a
    /// vocabulary: value `v` has local id `2 + fnv1a_64(v) % N` (the hashing trick, for fields
    /// with more values than a vocabulary should hold). `min_count` is then ignored for
    /// categorical fields. 0 (the default, also when absent from a saved file) = vocabularies.
    #[serde(default)]
    pub hash_buckets: usize,
    /// How numeric (dense) fields are encoded. Absent from a file written before binning
    /// existed: the scalar encoding those files meant.
    #[serde(default = "NumericOptions::scalar")]
    pub numeric: NumericOptions,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            min_count: 10,
            hash_buckets: 0,
            numeric: NumericOptions::default(),
        }
    }
}

/// How a numeric field enters the models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumericMode {
    /// Binned from the training rows: one embedding per value for a field with few values,
    /// about equal-count bins for a field with many (see [`numeric_edges`]).
    Auto,
    /// One embedding per field scaled by the standardised value (a straight line in the
    /// value; the CTR literature's "feature value" input).
    Scalar,
}

/// Settings of the numeric encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumericOptions {
    /// Binned or scalar.
    pub mode: NumericMode,
    /// A field with at most this many distinct training values gets one bin per value (seen
    /// more than `min_count` times); above it, quantile bins.
    pub max_values: usize,
    /// The number of quantile bins of a field with many values (at most; a bin holds more
    /// than `min_count` rows).
    pub bins: usize,
}

impl NumericOptions {
    /// Default number of distinct values up to which a numeric field gets one bin per value.
    pub const DEFAULT_MAX_VALUES: usize = 300;
    /// Default number of quantile bins for a numeric field with many values.
    pub const DEFAULT_BINS: usize = 100;

    /// The scalar encoding (every model saved before binning existed).
    pub fn scalar() -> NumericOptions {
        NumericOptions {
            mode: NumericMode::Scalar,
            ..NumericOptions::default()
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`DataError::Schema`] when `bins` is 0 in the binned mode.
    pub fn check(&self) -> Result<(), DataError> {
        if self.mode == NumericMode::Auto && self.bins == 0 {
            return Err(DataError::Schema(
                "--numeric-bins must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl Default for NumericOptions {
    fn default() -> Self {
        NumericOptions {
            mode: NumericMode::Auto,
            max_values: Self::DEFAULT_MAX_VALUES,
            bins: Self::DEFAULT_BINS,
        }
    }
}

/// The bin edges of a numeric field, from its distinct training values.
///
/// `distinct` is every distinct finite training value with its row count, in increasing order
/// of value. The bins are the intervals between consecutive edges: value `v` falls in bin
/// `edges.partition_point(|&e| e < v)`, so the result has one bin more than edges.
///
/// - At most `options.max_values` distinct values: one bin per value seen more than
///   `min_count` times (the categorical min-count rule); a rarer value joins the bin of its
///   nearest kept neighbour. With no value kept, one bin.
/// - More: walking the values in order, a bin closes once it holds at least
///   `max(rest / bins_left, min_count + 1)` rows, where `rest` is the rows not yet in a bin;
///   a value never splits across bins, so a value holding many rows (capital-gain's 92% of
///   zeros) becomes one bin and the rest are still cut into many. A last bin smaller than
///   `min_count + 1` rows joins the one before.
///
/// Each edge lies halfway (computed in f64) between the last value of one bin and the first
/// of the next: a value unseen in training lands in the bin of its nearest neighbour.
pub fn numeric_edges(
    distinct: &[(f32, u64)],
    min_count: usize,
    options: &NumericOptions,
) -> Vec<f64> {
    let mid = |a: f32, b: f32| f64::from(a) + (f64::from(b) - f64::from(a)) / 2.0;
    let floor = min_count as u64 + 1;
    if distinct.len() <= options.max_values {
        let kept: Vec<f32> = distinct
            .iter()
            .filter(|(_, c)| *c >= floor)
            .map(|(v, _)| *v)
            .collect();
        return kept.windows(2).map(|w| mid(w[0], w[1])).collect();
    }
    let mut rest: u64 = distinct.iter().map(|(_, c)| c).sum();
    let mut bins_left = options.bins.max(1) as u64;
    let mut edges = Vec::new();
    let mut acc = 0u64;
    for (i, &(v, c)) in distinct.iter().enumerate() {
        acc += c;
        let target = (rest / bins_left).max(floor);
        if acc >= target && bins_left > 1 && i + 1 < distinct.len() {
            edges.push(mid(v, distinct[i + 1].0));
            rest -= acc;
            bins_left -= 1;
            acc = 0;
        }
    }
    if acc > 0 && acc < floor {
        edges.pop();
    }
    edges
}

/// The distinct finite values of `values` at `rows` with their counts, in increasing order,
/// and the number of missing (NaN) values among them.
fn distinct_counts(values: &[f32], rows: &[usize]) -> (Vec<(f32, u64)>, u64) {
    let mut finite: Vec<f32> = Vec::with_capacity(rows.len());
    let mut missing = 0u64;
    for &r in rows {
        let v = values[r];
        if v.is_nan() {
            missing += 1;
        } else {
            finite.push(v);
        }
    }
    finite.sort_unstable_by(f32::total_cmp);
    let mut out: Vec<(f32, u64)> = Vec::new();
    for v in finite {
        match out.last_mut() {
            Some((last, c)) if *last == v => *c += 1,
            _ => out.push((v, 1)),
        }
    }
    (out, missing)
}

/// The local id of numeric value `v` in a binned field: 0 when missing, else `1 +` its bin.
fn binned_local_id(edges: &[f64], v: f32) -> u32 {
    if v.is_nan() {
        0
    } else {
        let x = f64::from(v);
        1 + edges.partition_point(|&e| e < x) as u32
    }
}

/// The embedding rows of a binned field with `edges`: missing + one per bin.
fn binned_size(edges: &[f64]) -> Result<u32, DataError> {
    u32::try_from(edges.len() + 2)
        .map_err(|_| DataError::Schema("a numeric field has too many bins".into()))
}

/// The 64-bit FNV-1a hash of `bytes`: start from the offset basis `0xcbf29ce484222325`, then
/// for each byte `h = (h XOR byte) × 0x100000001b3` (wrapping). A fixed, seedless function of
/// the bytes alone, so hashed ids are the same on every run, platform and thread count (unlike
/// `std`'s randomly seeded `DefaultHasher`). `fnv1a_64(b"a") == 0xaf63dc4c8601ec8c`.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET_BASIS, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// The local id of categorical value `value` in a field hashed into `buckets` buckets:
/// `2 + fnv1a_64(value as UTF-8) % buckets`, in `2..buckets + 2` (0 = missing and 1 = rare are
/// kept free). Returns 1 (rare) when `buckets` is 0.
pub fn hash_local_id(value: &str, buckets: usize) -> u32 {
    if buckets == 0 {
        return 1;
    }
    (2 + fnv1a_64(value.as_bytes()) % buckets as u64) as u32
}

/// A hashed field's raw-code → local-id map: code 0 (missing) → 0, code k → the bucket of
/// `dictionary[k]`.
fn hashed_map(dictionary: &[String], buckets: usize) -> Vec<u32> {
    dictionary
        .iter()
        .enumerate()
        .map(|(code, v)| {
            if code == 0 {
                0
            } else {
                hash_local_id(v, buckets)
            }
        })
        .collect()
}

/// The embedding rows a hashed field takes, `buckets + 2`, as `u32`.
fn hashed_size(buckets: usize) -> Result<u32, DataError> {
    buckets
        .checked_add(2)
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| {
            DataError::Schema(format!(
                "{buckets} hash buckets is too many (at most {} per field)",
                u32::MAX - 2
            ))
        })
}

/// `next + size`, or an error when the embedding table would pass 2^32 rows.
fn grow(next: u32, size: u32) -> Result<u32, DataError> {
    next.checked_add(size).ok_or_else(|| {
        DataError::Schema(
            "the embedding table would need more than 2^32 rows (fewer hash buckets?)".into(),
        )
    })
}

/// How one field is encoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FieldEncoder {
    /// A categorical field with its own block of embedding rows.
    Categorical {
        /// Global embedding row of local id 0 (missing); rare is `offset + 1`.
        offset: u32,
        /// Raw code → local id (0 missing, 1 rare, 2..). Codes past the end are rare.
        map: Vec<u32>,
        /// Number of local ids (including missing and rare).
        size: u32,
        /// 0 for a vocabulary field; N for a field hashed into N buckets (`size == N + 2`).
        #[serde(default)]
        hash_buckets: u32,
    },
    /// A numeric field cut into bins (see [`numeric_edges`]): local id 0 = missing, `1 + k` =
    /// bin `k`.
    Binned {
        /// Global embedding row of local id 0 (missing).
        offset: u32,
        /// The bin edges (one fewer than bins).
        edges: Vec<f64>,
        /// True when the missing row is trained (scale 1); else missing is scale 0.
        missing: bool,
    },
    /// A dense field with one embedding row, scaled by the standardised value.
    Dense {
        /// Global embedding row of the field.
        row: u32,
        /// Training mean of the transformed value.
        mean: f32,
        /// Training standard deviation (1 when the field is constant).
        std: f32,
    },
}

/// The fitted encoder of a dataset's fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputEncoder {
    /// One encoder per field, in field order.
    pub fields: Vec<FieldEncoder>,
    /// Number of rows the embedding table needs.
    pub table_rows: usize,
}

/// A batch of encoded rows: `rows` and `scales` are `[batch, fields]`, row-major.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct EncodedBatch {
    /// Number of fields per row.
    pub num_fields: usize,
    /// Global embedding row per cell.
    pub rows: Vec<u32>,
    /// Scale per cell.
    pub scales: Vec<f32>,
}

impl EncodedBatch {
    /// Number of encoded rows in the batch.
    pub fn len(&self) -> usize {
        self.rows.len().checked_div(self.num_fields).unwrap_or(0)
    }

    /// True when the batch holds no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl InputEncoder {
    /// Fits vocabularies (or, with `hash_buckets > 0`, hashed fields) and dense statistics on
    /// the given training rows of `data`.
    ///
    /// # Errors
    /// [`DataError::Schema`] when `train_rows` is empty, when the numeric settings are bad
    /// ([`NumericOptions::check`]), or when the fields would need more than 2^32 embedding
    /// rows.
    pub fn fit(
        data: &Dataset,
        train_rows: &[usize],
        options: &EncoderOptions,
    ) -> Result<InputEncoder, DataError> {
        if train_rows.is_empty() {
            return Err(DataError::Schema(
                "cannot fit an encoder on zero training rows".into(),
            ));
        }
        options.numeric.check()?;
        let mut next_row: u32 = 0;
        let mut fields = Vec::with_capacity(data.num_fields());
        for column in &data.columns {
            match column {
                Column::Categorical { dictionary, .. } if options.hash_buckets > 0 => {
                    let size = hashed_size(options.hash_buckets)?;
                    fields.push(FieldEncoder::Categorical {
                        offset: next_row,
                        map: hashed_map(dictionary, options.hash_buckets),
                        size,
                        hash_buckets: size - 2,
                    });
                    next_row = grow(next_row, size)?;
                }
                Column::Categorical { codes, dictionary } => {
                    let mut counts = vec![0usize; dictionary.len()];
                    for &r in train_rows {
                        counts[codes[r] as usize] += 1;
                    }
                    let mut map = vec![1u32; dictionary.len()];
                    map[0] = 0;
                    let mut size = 2u32;
                    for (code, &count) in counts.iter().enumerate().skip(1) {
                        if count > options.min_count {
                            map[code] = size;
                            size += 1;
                        }
                    }
                    fields.push(FieldEncoder::Categorical {
                        offset: next_row,
                        map,
                        size,
                        hash_buckets: 0,
                    });
                    next_row += size;
                }
                Column::Dense { values } if options.numeric.mode == NumericMode::Auto => {
                    let (distinct, missing) = distinct_counts(values, train_rows);
                    let edges = numeric_edges(&distinct, options.min_count, &options.numeric);
                    let size = binned_size(&edges)?;
                    fields.push(FieldEncoder::Binned {
                        offset: next_row,
                        edges,
                        missing: missing > options.min_count as u64,
                    });
                    next_row = grow(next_row, size)?;
                }
                Column::Dense { values } => {
                    let (mut n, mut sum, mut sum2) = (0usize, 0f64, 0f64);
                    for &r in train_rows {
                        let v = values[r];
                        if v.is_finite() {
                            n += 1;
                            sum += v as f64;
                            sum2 += (v as f64) * (v as f64);
                        }
                    }
                    let mean = if n > 0 { sum / n as f64 } else { 0.0 };
                    let var = if n > 1 {
                        ((sum2 - n as f64 * mean * mean) / (n as f64 - 1.0)).max(0.0)
                    } else {
                        0.0
                    };
                    let std = if var > 1e-12 { var.sqrt() } else { 1.0 };
                    fields.push(FieldEncoder::Dense {
                        row: next_row,
                        mean: mean as f32,
                        std: std as f32,
                    });
                    next_row += 1;
                }
            }
        }
        Ok(InputEncoder {
            fields,
            table_rows: next_row as usize,
        })
    }

    /// Number of fields.
    pub fn num_fields(&self) -> usize {
        self.fields.len()
    }

    /// The embedding rows of field `field` (its block of the table: missing, rare and one row
    /// per value or bin; a dense field's single row); empty when `field` is out of range.
    pub fn field_rows(&self, field: usize) -> std::ops::Range<usize> {
        match self.fields.get(field) {
            Some(FieldEncoder::Categorical { offset, size, .. }) => {
                *offset as usize..(*offset + *size) as usize
            }
            Some(FieldEncoder::Binned { offset, edges, .. }) => {
                *offset as usize..*offset as usize + edges.len() + 2
            }
            Some(FieldEncoder::Dense { row, .. }) => *row as usize..*row as usize + 1,
            None => 0..0,
        }
    }

    /// Embedding rows that must stay zero: every categorical field's missing row, and a
    /// binned field's missing row when missing is not trained.
    pub fn zero_rows(&self) -> Vec<usize> {
        self.fields
            .iter()
            .filter_map(|f| match f {
                FieldEncoder::Categorical { offset, .. } => Some(*offset as usize),
                FieldEncoder::Binned {
                    offset,
                    missing: false,
                    ..
                } => Some(*offset as usize),
                FieldEncoder::Binned { .. } | FieldEncoder::Dense { .. } => None,
            })
            .collect()
    }

    /// Encodes one field value into (embedding row, scale).
    ///
    /// [`FieldValue::Off`] is scale 0 (a zero embedding) in every encoding. A kind mismatch
    /// (a dense value for a categorical field) is encoded as scale 0 too.
    pub fn encode_value(&self, field: usize, value: FieldValue) -> (u32, f32) {
        match (&self.fields[field], value) {
            (FieldEncoder::Categorical { offset, map, .. }, FieldValue::Categorical(code)) => {
                let local = map.get(code as usize).copied().unwrap_or(1);
                (offset + local, if local == 0 { 0.0 } else { 1.0 })
            }
            (FieldEncoder::Categorical { offset, .. }, _) => (*offset, 0.0),
            (
                FieldEncoder::Binned {
                    offset,
                    edges,
                    missing,
                },
                FieldValue::Dense(v),
            ) => {
                let local = binned_local_id(edges, v);
                let on = local > 0 || *missing;
                (offset + local, if on { 1.0 } else { 0.0 })
            }
            (FieldEncoder::Binned { offset, .. }, _) => (*offset, 0.0),
            (FieldEncoder::Dense { row, mean, std }, FieldValue::Dense(v)) => {
                if v.is_finite() {
                    (*row, (v - mean) / std)
                } else {
                    (*row, 0.0)
                }
            }
            (FieldEncoder::Dense { row, .. }, _) => (*row, 0.0),
        }
    }

    /// Appends the encoding of one row of field values to `batch`.
    pub fn encode_into(&self, values: &[FieldValue], batch: &mut EncodedBatch) {
        batch.num_fields = self.fields.len();
        for (f, &v) in values.iter().enumerate().take(self.fields.len()) {
            let (row, scale) = self.encode_value(f, v);
            batch.rows.push(row);
            batch.scales.push(scale);
        }
    }

    /// Encodes the given rows of `data`, in order.
    pub fn encode_rows(&self, data: &Dataset, rows: &[usize]) -> EncodedBatch {
        let f = self.fields.len();
        let mut batch = EncodedBatch {
            num_fields: f,
            rows: Vec::with_capacity(rows.len() * f),
            scales: Vec::with_capacity(rows.len() * f),
        };
        for &r in rows {
            for (field, column) in data.columns.iter().enumerate().take(f) {
                let (row, scale) = self.encode_value(field, column.value(r));
                batch.rows.push(row);
                batch.scales.push(scale);
            }
        }
        batch
    }
}

/// A field's encoding in terms of value strings, independent of any file's raw codes: what a
/// saved model stores, so it can encode another file with the same columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FieldEncoding {
    /// A categorical field: `vocabulary[k]` has local id `k + 2` (0 = missing, 1 = rare).
    Categorical {
        /// Field name.
        name: String,
        /// The kept values.
        vocabulary: Vec<String>,
    },
    /// A categorical field hashed into `buckets` buckets: value `v` has local id
    /// `2 + fnv1a_64(v) % buckets` (see [`hash_local_id`]); saved as the bucket count, since
    /// there is no vocabulary.
    Hashed {
        /// Field name.
        name: String,
        /// Number of hash buckets N (the field has N + 2 embedding rows).
        buckets: usize,
    },
    /// A numeric field cut into bins (see [`numeric_edges`]): local id 0 = missing, `1 + k`
    /// = bin `k`, where value `v` is in bin `edges.partition_point(|&e| e < v)`.
    Binned {
        /// Field name.
        name: String,
        /// The bin edges, increasing.
        edges: Vec<f64>,
        /// True when missing has a trained embedding (scale 1); else scale 0.
        missing: bool,
    },
    /// A dense field, standardised with the training mean and std (the scalar encoding).
    Dense {
        /// Field name.
        name: String,
        /// Training mean of the transformed value.
        mean: f32,
        /// Training standard deviation.
        std: f32,
    },
}

impl FieldEncoding {
    /// The field's name.
    pub fn name(&self) -> &str {
        match self {
            FieldEncoding::Categorical { name, .. }
            | FieldEncoding::Hashed { name, .. }
            | FieldEncoding::Binned { name, .. }
            | FieldEncoding::Dense { name, .. } => name,
        }
    }

    /// True for a field fed by a numeric column (binned or scalar).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            FieldEncoding::Binned { .. } | FieldEncoding::Dense { .. }
        )
    }
}

impl InputEncoder {
    /// The encoder as value strings (for saving), given the dataset it was fitted on.
    ///
    /// # Errors
    /// [`DataError::Schema`] when `data` does not match the encoder's fields.
    pub fn to_encodings(&self, data: &Dataset) -> Result<Vec<FieldEncoding>, DataError> {
        if data.num_fields() != self.fields.len() {
            return Err(DataError::Schema(format!(
                "the encoder has {} fields, the data {}",
                self.fields.len(),
                data.num_fields()
            )));
        }
        self.fields
            .iter()
            .zip(&data.columns)
            .zip(&data.fields)
            .map(|((enc, column), field)| match (enc, column) {
                (FieldEncoder::Categorical { hash_buckets, .. }, Column::Categorical { .. })
                    if *hash_buckets > 0 =>
                {
                    Ok(FieldEncoding::Hashed {
                        name: field.name.clone(),
                        buckets: *hash_buckets as usize,
                    })
                }
                (
                    FieldEncoder::Categorical { map, size, .. },
                    Column::Categorical { dictionary, .. },
                ) => {
                    let mut vocabulary = vec![String::new(); (*size as usize).saturating_sub(2)];
                    for (code, &local) in map.iter().enumerate() {
                        if local >= 2 {
                            vocabulary[local as usize - 2] = dictionary[code].clone();
                        }
                    }
                    Ok(FieldEncoding::Categorical {
                        name: field.name.clone(),
                        vocabulary,
                    })
                }
                (FieldEncoder::Binned { edges, missing, .. }, Column::Dense { .. }) => {
                    Ok(FieldEncoding::Binned {
                        name: field.name.clone(),
                        edges: edges.clone(),
                        missing: *missing,
                    })
                }
                (FieldEncoder::Dense { mean, std, .. }, Column::Dense { .. }) => {
                    Ok(FieldEncoding::Dense {
                        name: field.name.clone(),
                        mean: *mean,
                        std: *std,
                    })
                }
                _ => Err(DataError::Schema(format!(
                    "field \"{}\" changed kind since the encoder was fitted",
                    field.name
                ))),
            })
            .collect()
    }

    /// Rebuilds an encoder for `data` from saved encodings: fields are matched by name (the
    /// data may have extra columns, which the model ignores only if they are not fields of
    /// it), values by string. Returns the encoder and, per model field, the index of the data
    /// field that feeds it.
    ///
    /// # Errors
    /// [`DataError::Schema`] naming the field when the data lacks one of the model's fields or
    /// has it with another kind.
    pub fn from_encodings(
        encodings: &[FieldEncoding],
        data: &Dataset,
    ) -> Result<(InputEncoder, Vec<usize>), DataError> {
        let mut next_row = 0u32;
        let mut fields = Vec::with_capacity(encodings.len());
        let mut sources = Vec::with_capacity(encodings.len());
        for enc in encodings {
            let f = data.field_index(enc.name()).ok_or_else(|| {
                let hint = if data.num_fields() == 1 && encodings.len() > 1 {
                    "; the file has one column only: is it in the format the model was \
                     trained on, with the same delimiter?"
                } else {
                    ""
                };
                DataError::Schema(format!(
                    "{}: the model needs field \"{}\", which this data does not have (fields: \
                     {}){hint}",
                    data.source,
                    enc.name(),
                    data.field_names().join(", ")
                ))
            })?;
            sources.push(f);
            match (enc, &data.columns[f]) {
                (
                    FieldEncoding::Categorical { vocabulary, .. },
                    Column::Categorical { dictionary, .. },
                ) => {
                    let ids: std::collections::HashMap<&str, u32> = vocabulary
                        .iter()
                        .enumerate()
                        .map(|(k, v)| (v.as_str(), k as u32 + 2))
                        .collect();
                    let map: Vec<u32> = dictionary
                        .iter()
                        .enumerate()
                        .map(|(code, v)| {
                            if code == 0 {
                                0
                            } else {
                                ids.get(v.as_str()).copied().unwrap_or(1)
                            }
                        })
                        .collect();
                    let size = vocabulary.len() as u32 + 2;
                    fields.push(FieldEncoder::Categorical {
                        offset: next_row,
                        map,
                        size,
                        hash_buckets: 0,
                    });
                    next_row += size;
                }
                (FieldEncoding::Hashed { buckets, .. }, Column::Categorical { dictionary, .. }) => {
                    if *buckets == 0 {
                        return Err(DataError::Schema(format!(
                            "field \"{}\" is saved as hashed into 0 buckets",
                            enc.name()
                        )));
                    }
                    let size = hashed_size(*buckets)?;
                    fields.push(FieldEncoder::Categorical {
                        offset: next_row,
                        map: hashed_map(dictionary, *buckets),
                        size,
                        hash_buckets: size - 2,
                    });
                    next_row = grow(next_row, size)?;
                }
                (FieldEncoding::Binned { edges, missing, .. }, Column::Dense { .. }) => {
                    if edges.iter().any(|e| e.is_nan()) || edges.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(DataError::Schema(format!(
                            "field \"{}\": its saved bin edges are not increasing numbers",
                            enc.name()
                        )));
                    }
                    let size = binned_size(edges)?;
                    fields.push(FieldEncoder::Binned {
                        offset: next_row,
                        edges: edges.clone(),
                        missing: *missing,
                    });
                    next_row = grow(next_row, size)?;
                }
                (FieldEncoding::Dense { mean, std, .. }, Column::Dense { .. }) => {
                    fields.push(FieldEncoder::Dense {
                        row: next_row,
                        mean: *mean,
                        std: *std,
                    });
                    next_row += 1;
                }
                (_, column) => {
                    return Err(DataError::Schema(format!(
                        "{}: field \"{}\" is {:?} in this data but {} in the model",
                        data.source,
                        enc.name(),
                        column.kind(),
                        if enc.is_numeric() {
                            "dense"
                        } else {
                            "categorical"
                        }
                    )))
                }
            }
        }
        Ok((
            InputEncoder {
                fields,
                table_rows: next_row as usize,
            },
            sources,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Field, FieldKind};

    fn data() -> Dataset {
        Dataset {
            source: "t".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![
                Field {
                    name: "c".into(),
                    kind: FieldKind::Categorical,
                },
                Field {
                    name: "d".into(),
                    kind: FieldKind::Dense,
                },
            ],
            labels: vec![0.0; 6],
            // code 1 seen 3 times, code 2 twice, code 3 once (in training rows 0..5)
            columns: vec![
                Column::Categorical {
                    codes: vec![1, 1, 1, 2, 2, 3],
                    dictionary: vec!["".into(), "a".into(), "b".into(), "c".into()],
                },
                Column::Dense {
                    values: vec![1.0, 2.0, 3.0, f32::NAN, 4.0, 5.0],
                },
            ],
        }
    }

    #[test]
    fn vocabulary_respects_min_count_and_rows_are_laid_out() {
        let d = data();
        let enc = InputEncoder::fit(
            &d,
            &[0, 1, 2, 3, 4],
            &EncoderOptions {
                min_count: 1,
                hash_buckets: 0,
                numeric: NumericOptions::scalar(),
            },
        )
        .unwrap();
        // "a" (3 > 1) and "b" (2 > 1) get ids 2 and 3; "c" not in training rows → rare.
        match &enc.fields[0] {
            FieldEncoder::Categorical {
                offset,
                map,
                size,
                hash_buckets,
            } => {
                assert_eq!(*hash_buckets, 0);
                assert_eq!(*offset, 0);
                assert_eq!(map, &vec![0, 2, 3, 1]);
                assert_eq!(*size, 4);
            }
            _ => panic!(),
        }
        assert_eq!(enc.table_rows, 5);
        assert_eq!(enc.zero_rows(), vec![0]);
        // dense mean of 1,2,3,4 = 2.5; sample std = sqrt(5/3) = 1.29099
        let b = enc.encode_rows(&d, &[0, 3, 5]);
        assert_eq!(b.len(), 3);
        assert_eq!(b.rows, vec![2, 4, 3, 4, 1, 4]);
        assert!((b.scales[1] - (1.0 - 2.5) / 1.290_994).abs() < 1e-5);
        assert_eq!(b.scales[3], 0.0, "missing dense → mean → 0");
        assert_eq!(b.scales[4], 1.0, "rare categorical has scale 1");
        assert_eq!(enc.encode_value(0, FieldValue::Categorical(0)), (0, 0.0));
        assert_eq!(enc.encode_value(0, FieldValue::Categorical(99)), (1, 1.0));
    }

    #[test]
    fn encodings_round_trip_through_value_strings() {
        let d = data();
        let enc = InputEncoder::fit(
            &d,
            &[0, 1, 2, 3, 4],
            &EncoderOptions {
                min_count: 1,
                hash_buckets: 0,
                numeric: NumericOptions::scalar(),
            },
        )
        .unwrap();
        let saved = enc.to_encodings(&d).unwrap();
        assert_eq!(
            saved[0],
            FieldEncoding::Categorical {
                name: "c".into(),
                vocabulary: vec!["a".into(), "b".into()]
            }
        );
        // Another file: other code order, an unseen value "z".
        let mut other = d.clone();
        other.columns[0] = Column::Categorical {
            codes: vec![1, 2, 3],
            dictionary: vec!["".into(), "b".into(), "z".into(), "a".into()],
        };
        other.columns[1] = Column::Dense {
            values: vec![2.5, 0.0, 1.0],
        };
        other.labels = vec![0.0; 3];
        let (rebuilt, sources) = InputEncoder::from_encodings(&saved, &other).unwrap();
        assert_eq!(sources, vec![0, 1]);
        assert_eq!(rebuilt.table_rows, enc.table_rows);
        let b = rebuilt.encode_rows(&other, &[0, 1, 2]);
        // "b" → id 3, "z" → rare 1, "a" → id 2; dense row 4 for all.
        assert_eq!(b.rows, vec![3, 4, 1, 4, 2, 4]);
        let mut renamed = other.clone();
        renamed.fields[0].name = "q".into();
        let err = InputEncoder::from_encodings(&saved, &renamed).unwrap_err();
        assert!(err.to_string().contains("needs field \"c\""), "{err}");
    }

    #[test]
    fn fnv1a_matches_the_published_values() {
        // The FNV-1a 64 reference values: "" is the offset basis; "a" is
        // (0xcbf29ce484222325 ^ 0x61) * 0x100000001b3 mod 2^64.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
        // 0xaf63dc4c8601ec8c % 10 = 6 → local id 8; "foobar" % 1000 = 968 → 970.
        assert_eq!(hash_local_id("a", 10), 8);
        assert_eq!(hash_local_id("foobar", 1000), 970);
        // "é" is hashed as its UTF-8 bytes c3 a9.
        assert_eq!(fnv1a_64("é".as_bytes()), 0x0ac2_1707_b718_1e01);
        assert_eq!(hash_local_id("a", 0), 1);
    }

    #[test]
    fn hashed_fields_fit_encode_and_round_trip() {
        let mut d = data();
        d.fields.push(Field {
            name: "e".into(),
            kind: FieldKind::Categorical,
        });
        d.columns.push(Column::Categorical {
            codes: vec![0, 1, 2, 1, 2, 1],
            dictionary: vec!["".into(), "foobar".into(), "x".into()],
        });
        // min_count is ignored for hashed fields: "c" seen once still has its own bucket.
        let options = EncoderOptions {
            min_count: 100,
            hash_buckets: 10,
            numeric: NumericOptions::scalar(),
        };
        let enc = InputEncoder::fit(&d, &[0, 1, 2, 3, 4, 5], &options).unwrap();
        // Two categorical fields of 10 + 2 rows, one dense row.
        assert_eq!(enc.table_rows, 2 * (10 + 2) + 1);
        assert_eq!(enc.zero_rows(), vec![0, 13]);
        // "a" → 2 + 6 = 8; "b" → 2 + fnv("b") % 10; "foobar" → 2 + 8 = 10; "x" → 2 + 1 = 3.
        let b_id = hash_local_id("b", 10);
        let c_id = hash_local_id("c", 10);
        let batch = enc.encode_rows(&d, &[0, 3, 5]);
        assert_eq!(
            batch.rows,
            vec![8, 12, 13, b_id, 12, 13 + 10, c_id, 12, 13 + 10]
        );
        assert_eq!(enc.encode_value(2, FieldValue::Categorical(0)), (13, 0.0));
        assert_eq!(
            enc.encode_value(2, FieldValue::Categorical(2)),
            (13 + 3, 1.0)
        );
        // Saved as bucket counts, not vocabularies; JSON round trip.
        let saved = enc.to_encodings(&d).unwrap();
        assert_eq!(
            saved[0],
            FieldEncoding::Hashed {
                name: "c".into(),
                buckets: 10
            }
        );
        let json = serde_json::to_string(&saved).unwrap();
        assert!(
            json.contains(r#"{"kind":"hashed","name":"c","buckets":10}"#),
            "{json}"
        );
        let saved: Vec<FieldEncoding> = serde_json::from_str(&json).unwrap();
        let (rebuilt, sources) = InputEncoder::from_encodings(&saved, &d).unwrap();
        assert_eq!(sources, vec![0, 1, 2]);
        assert_eq!(rebuilt, enc);
        let all: Vec<usize> = (0..6).collect();
        assert_eq!(rebuilt.encode_rows(&d, &all), enc.encode_rows(&d, &all));
        // Another file with other codes for the same strings gets the same rows.
        let mut other = d.clone();
        other.columns[0] = Column::Categorical {
            codes: vec![1, 2, 3, 0, 1, 2],
            dictionary: vec!["".into(), "c".into(), "a".into(), "never-seen".into()],
        };
        let (rebuilt, _) = InputEncoder::from_encodings(&saved, &other).unwrap();
        let b = rebuilt.encode_rows(&other, &[0, 1, 2]);
        assert_eq!(b.rows[0], c_id);
        assert_eq!(b.rows[3], 8);
        assert_eq!(
            b.rows[6],
            hash_local_id("never-seen", 10),
            "unseen values hash too"
        );
        // A hashed field fed by a dense column is an error.
        let mut dense = d.clone();
        dense.fields[0].kind = FieldKind::Dense;
        dense.columns[0] = Column::Dense {
            values: vec![0.0; 6],
        };
        let err = InputEncoder::from_encodings(&saved, &dense).unwrap_err();
        assert!(err.to_string().contains("field \"c\""), "{err}");
    }

    #[test]
    fn old_options_and_encoders_load_without_hash_buckets() {
        let options: EncoderOptions = serde_json::from_str(r#"{"min_count":5}"#).unwrap();
        assert_eq!(
            options,
            EncoderOptions {
                min_count: 5,
                hash_buckets: 0,
                numeric: NumericOptions::scalar(),
            },
            "an options file from before binning means the scalar encoding"
        );
        let enc: FieldEncoder =
            serde_json::from_str(r#"{"Categorical":{"offset":0,"map":[0,2],"size":3}}"#).unwrap();
        assert!(matches!(
            enc,
            FieldEncoder::Categorical {
                hash_buckets: 0,
                ..
            }
        ));
        let too_many = EncoderOptions {
            min_count: 0,
            hash_buckets: u32::MAX as usize,
            numeric: NumericOptions::scalar(),
        };
        let err = InputEncoder::fit(&data(), &[0], &too_many).unwrap_err();
        assert!(err.to_string().contains("hash buckets"), "{err}");
    }

    /// A dataset of one dense column with the given values (label all 0).
    fn dense_data(values: Vec<f32>) -> Dataset {
        Dataset {
            source: "t".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![Field {
                name: "x".into(),
                kind: FieldKind::Dense,
            }],
            labels: vec![0.0; values.len()],
            columns: vec![Column::Dense { values }],
        }
    }

    /// How many of `rows` land on each embedding row of `enc`.
    fn row_counts(enc: &InputEncoder, d: &Dataset, rows: &[usize]) -> Vec<usize> {
        let mut c = vec![0usize; enc.table_rows];
        for r in enc.encode_rows(d, rows).rows {
            c[r as usize] += 1;
        }
        c
    }

    fn binned(enc: &InputEncoder) -> (&[f64], bool) {
        match &enc.fields[0] {
            FieldEncoder::Binned { edges, missing, .. } => (edges, *missing),
            other => panic!("not binned: {other:?}"),
        }
    }

    #[test]
    fn ten_values_get_one_embedding_each_and_a_continuous_column_gets_bins() {
        // 1,000 rows of 10 values 0..9 (100 each): 10 bins, edges halfway between values.
        let d = dense_data((0..1000).map(|i| (i % 10) as f32).collect());
        let all: Vec<usize> = (0..1000).collect();
        let enc = InputEncoder::fit(&d, &all, &EncoderOptions::default()).unwrap();
        let (edges, missing) = binned(&enc);
        assert_eq!(edges, &[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5]);
        assert!(!missing);
        assert_eq!(enc.table_rows, 11, "missing + 10 values");
        // Value k → local id 1 + k, scale 1.
        for k in 0..10 {
            assert_eq!(
                enc.encode_value(0, FieldValue::Dense(k as f32)),
                (1 + k, 1.0)
            );
        }
        // 10,000 distinct values (i / 7): 100 quantile bins of 100 rows each.
        let d = dense_data((0..10_000).map(|i| i as f32 / 7.0).collect());
        let all: Vec<usize> = (0..10_000).collect();
        let enc = InputEncoder::fit(&d, &all, &EncoderOptions::default()).unwrap();
        let (edges, _) = binned(&enc);
        assert_eq!(edges.len(), 99);
        // Bin 0 holds values 0/7..99/7, the first edge halfway between 99/7 and 100/7.
        assert!((edges[0] - 99.5 / 7.0).abs() < 1e-4, "{}", edges[0]);
        let counts = row_counts(&enc, &d, &all);
        assert_eq!(counts[0], 0);
        assert!(counts[1..].iter().all(|&c| c == 100), "{counts:?}");
        // The bin count is a setting.
        let options = EncoderOptions {
            numeric: NumericOptions {
                bins: 8,
                ..NumericOptions::default()
            },
            ..EncoderOptions::default()
        };
        let enc = InputEncoder::fit(&d, &all, &options).unwrap();
        assert_eq!(binned(&enc).0.len(), 7);
    }

    #[test]
    fn a_mass_of_zeros_still_leaves_several_bins_above_zero() {
        // 10,000 rows: 9,000 zeros, then 1,000 distinct values 1..=1000 (capital-gain's shape).
        let mut values = vec![0.0f32; 9000];
        values.extend((1..=1000).map(|v| v as f32));
        let d = dense_data(values);
        let all: Vec<usize> = (0..10_000).collect();
        let enc = InputEncoder::fit(&d, &all, &EncoderOptions::default()).unwrap();
        let (edges, _) = binned(&enc);
        // Zero is a bin of its own; the 1,000 other rows share the other 99 bins, about 10
        // rows (more than min-count 10, so 11) each.
        assert_eq!(edges[0], 0.5);
        let above_zero = edges.len();
        assert!(above_zero >= 50, "{above_zero} bins above zero: {edges:?}");
        assert_eq!(enc.encode_value(0, FieldValue::Dense(0.0)).0, 1);
        assert_eq!(enc.encode_value(0, FieldValue::Dense(1.0)).0, 2);
        // Every bin above zero holds more than min-count rows.
        let c = row_counts(&enc, &d, &all);
        assert_eq!(c[1], 9000);
        assert!(c[2..].iter().all(|&n| n > 10), "{c:?}");
    }

    #[test]
    fn an_unseen_value_lands_in_its_nearest_bin() {
        // Values 1, 2, 4, 8 (each 20 times) and 100 (once: below min-count 10, so not kept).
        let mut values = Vec::new();
        for v in [1.0f32, 2.0, 4.0, 8.0] {
            values.extend(std::iter::repeat_n(v, 20));
        }
        values.push(100.0);
        let d = dense_data(values);
        let all: Vec<usize> = (0..81).collect();
        let enc = InputEncoder::fit(&d, &all, &EncoderOptions::default()).unwrap();
        assert_eq!(binned(&enc).0, &[1.5, 3.0, 6.0]);
        let id = |v: f32| enc.encode_value(0, FieldValue::Dense(v)).0;
        assert_eq!(id(1.0), 1);
        assert_eq!(id(2.9), 2, "2.9 is nearest 2");
        assert_eq!(id(3.1), 3, "3.1 is nearest 4");
        assert_eq!(id(-50.0), 1, "below every value: the lowest bin");
        assert_eq!(id(7.0), 4);
        assert_eq!(
            id(100.0),
            4,
            "the rare value joined its nearest kept neighbour, 8"
        );
        assert_eq!(id(1e9), 4);
    }

    #[test]
    fn switched_off_is_the_neutral_row_and_distinct_from_missing() {
        // 30 missing rows (more than min-count 10): missing gets a trained row.
        let mut values: Vec<f32> = (0..100).map(|i| (i % 5) as f32).collect();
        values.extend(std::iter::repeat_n(f32::NAN, 30));
        let d = dense_data(values);
        let all: Vec<usize> = (0..130).collect();
        let enc = InputEncoder::fit(&d, &all, &EncoderOptions::default()).unwrap();
        assert!(binned(&enc).1);
        assert_eq!(enc.encode_value(0, FieldValue::Dense(f32::NAN)), (0, 1.0));
        assert_eq!(enc.encode_value(0, FieldValue::Off), (0, 0.0));
        assert!(enc.zero_rows().is_empty(), "the missing row is trained");
        // 3 missing rows (at most min-count): missing is scale 0, like off.
        let mut values: Vec<f32> = (0..100).map(|i| (i % 5) as f32).collect();
        values.extend(std::iter::repeat_n(f32::NAN, 3));
        let d = dense_data(values);
        let all: Vec<usize> = (0..103).collect();
        let enc = InputEncoder::fit(&d, &all, &EncoderOptions::default()).unwrap();
        assert!(!binned(&enc).1);
        assert_eq!(enc.encode_value(0, FieldValue::Dense(f32::NAN)), (0, 0.0));
        assert_eq!(enc.zero_rows(), vec![0]);
        // Off is scale 0 in the other encodings too.
        let d = data();
        let scalar = EncoderOptions {
            min_count: 1,
            hash_buckets: 0,
            numeric: NumericOptions::scalar(),
        };
        let enc = InputEncoder::fit(&d, &[0, 1, 2, 3, 4], &scalar).unwrap();
        assert_eq!(enc.encode_value(0, FieldValue::Off), (0, 0.0));
        assert_eq!(enc.encode_value(1, FieldValue::Off), (4, 0.0));
    }

    #[test]
    fn binned_encodings_round_trip_and_old_scalar_cards_still_load() {
        let mut values: Vec<f32> = (0..2000).map(|i| ((i * 37) % 1000) as f32 * 0.5).collect();
        values.extend(std::iter::repeat_n(f32::NAN, 20));
        let d = dense_data(values);
        let all: Vec<usize> = (0..2020).collect();
        let enc = InputEncoder::fit(&d, &all, &EncoderOptions::default()).unwrap();
        let saved = enc.to_encodings(&d).unwrap();
        assert!(matches!(
            &saved[0],
            FieldEncoding::Binned { missing: true, .. }
        ));
        let json = serde_json::to_string(&saved).unwrap();
        assert!(json.contains(r#""kind":"binned""#), "{json}");
        let back: Vec<FieldEncoding> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, saved, "edges survive JSON exactly");
        let (rebuilt, _) = InputEncoder::from_encodings(&back, &d).unwrap();
        assert_eq!(rebuilt, enc);
        assert_eq!(rebuilt.encode_rows(&d, &all), enc.encode_rows(&d, &all));
        // A model card of format 1 has {"kind": "dense", "mean", "std"}: scalar.
        let old: Vec<FieldEncoding> =
            serde_json::from_str(r#"[{"kind":"dense","name":"x","mean":2.0,"std":4.0}]"#).unwrap();
        let (old_enc, _) = InputEncoder::from_encodings(&old, &d).unwrap();
        assert_eq!(old_enc.encode_value(0, FieldValue::Dense(10.0)), (0, 2.0));
        // Saved edges that are not increasing are refused, naming the field.
        let bad = vec![FieldEncoding::Binned {
            name: "x".into(),
            edges: vec![2.0, 1.0],
            missing: false,
        }];
        let err = InputEncoder::from_encodings(&bad, &d).unwrap_err();
        assert!(err.to_string().contains("field \"x\""), "{err}");
        // Zero bins is a settings error.
        let zero = EncoderOptions {
            numeric: NumericOptions {
                bins: 0,
                ..NumericOptions::default()
            },
            ..EncoderOptions::default()
        };
        let err = InputEncoder::fit(&d, &all, &zero).unwrap_err();
        assert!(err.to_string().contains("--numeric-bins"), "{err}");
    }
}
