//! From field values to model input: one embedding row and one scale per field.
//!
//! This is the "feature index / feature value" input of the CTR literature (DeepFM, AutoInt):
//! every field selects one row of a shared embedding table and multiplies it by a scale.
//!
//! - Categorical field: local id 0 = missing, 1 = rare (seen at most `min_count` times in
//!   training, or unseen), 2.. = the vocabulary; scale 1, except missing, whose scale is 0, so a
//!   missing value contributes nothing and its (zero) embedding row never receives a gradient.
//! - Dense field: one row per field, scale = the standardised value `(v - mean) / std` with the
//!   training split's mean and std; missing (`NaN`) becomes 0, i.e. the mean (spec 3.1).

use serde::{Deserialize, Serialize};

use crate::dataset::{Column, Dataset, FieldValue};
use crate::error::DataError;

/// Settings of the encoder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderOptions {
    /// Categorical values seen at most this many times in the training rows share the field's
    /// rare id (the Criteo convention of spec 3.4 uses 10).
    pub min_count: usize,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions { min_count: 10 }
    }
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
    },
    /// A dense field with one embedding row.
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
    /// Fits vocabularies and dense statistics on the given training rows of `data`.
    ///
    /// # Errors
    /// [`DataError::Schema`] when `train_rows` is empty.
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
        let mut next_row: u32 = 0;
        let mut fields = Vec::with_capacity(data.num_fields());
        for column in &data.columns {
            match column {
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
                    });
                    next_row += size;
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

    /// Embedding rows that must stay zero: every categorical field's missing row.
    pub fn zero_rows(&self) -> Vec<usize> {
        self.fields
            .iter()
            .filter_map(|f| match f {
                FieldEncoder::Categorical { offset, .. } => Some(*offset as usize),
                FieldEncoder::Dense { .. } => None,
            })
            .collect()
    }

    /// Encodes one field value into (embedding row, scale).
    ///
    /// A kind mismatch (a dense value for a categorical field) is encoded as missing.
    pub fn encode_value(&self, field: usize, value: FieldValue) -> (u32, f32) {
        match (&self.fields[field], value) {
            (FieldEncoder::Categorical { offset, map, .. }, FieldValue::Categorical(code)) => {
                let local = map.get(code as usize).copied().unwrap_or(1);
                (offset + local, if local == 0 { 0.0 } else { 1.0 })
            }
            (FieldEncoder::Categorical { offset, .. }, FieldValue::Dense(_)) => (*offset, 0.0),
            (FieldEncoder::Dense { row, mean, std }, FieldValue::Dense(v)) => {
                if v.is_finite() {
                    (*row, (v - mean) / std)
                } else {
                    (*row, 0.0)
                }
            }
            (FieldEncoder::Dense { row, .. }, FieldValue::Categorical(_)) => (*row, 0.0),
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
    /// A dense field, standardised with the training mean and std.
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
            FieldEncoding::Categorical { name, .. } | FieldEncoding::Dense { name, .. } => name,
        }
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
                DataError::Schema(format!(
                    "{}: the model needs field \"{}\", which this data does not have (fields: {})",
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
                    });
                    next_row += size;
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
                        match enc {
                            FieldEncoding::Categorical { .. } => "categorical",
                            FieldEncoding::Dense { .. } => "dense",
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
        let enc =
            InputEncoder::fit(&d, &[0, 1, 2, 3, 4], &EncoderOptions { min_count: 1 }).unwrap();
        // "a" (3 > 1) and "b" (2 > 1) get ids 2 and 3; "c" not in training rows → rare.
        match &enc.fields[0] {
            FieldEncoder::Categorical { offset, map, size } => {
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
        let enc =
            InputEncoder::fit(&d, &[0, 1, 2, 3, 4], &EncoderOptions { min_count: 1 }).unwrap();
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
}
