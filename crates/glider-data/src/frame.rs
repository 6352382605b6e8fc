//! A [`Dataset`] from in-memory columns (a pandas DataFrame or an Arrow table handed over by
//! the Python package), under the same schema options as the file readers: label, positive
//! class, forced kinds, ignored columns and missing tokens. A numeric column is dense unless
//! named categorical; a text column is categorical unless named dense.

use crate::dataset::{Column, Dataset, Field};
use crate::error::DataError;
use crate::read::{SchemaOptions, TargetKind};

/// One column's values as a front end hands them over.
#[derive(Clone, Debug, PartialEq)]
pub enum FrameValues {
    /// Numbers, `NaN` = missing.
    Numbers(Vec<f64>),
    /// Texts as codes into `dictionary`: code 0 = missing, code `k ≥ 1` is
    /// `dictionary[k - 1]` (pandas' `factorize` codes plus one).
    Texts {
        /// One code per row.
        codes: Vec<u32>,
        /// The distinct texts.
        dictionary: Vec<String>,
    },
}

impl FrameValues {
    fn len(&self) -> usize {
        match self {
            FrameValues::Numbers(v) => v.len(),
            FrameValues::Texts { codes, .. } => codes.len(),
        }
    }
}

/// A named column.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameColumn {
    /// The column's name.
    pub name: String,
    /// Its values.
    pub values: FrameValues,
}

/// A number as a categorical value's text: `39` for 39.0, `0.5` for 0.5 (what a CSV file of
/// the same table holds).
fn number_text(v: f64) -> String {
    format!("{v}")
}

fn row_error(source: &str, column: &str, row: usize, message: String) -> DataError {
    DataError::Schema(format!(
        "{source}: column \"{column}\", row {row} (0-based position): {message}"
    ))
}

/// Builds a dataset from `columns` under `schema` (its label, positive class, forced kinds,
/// ignored columns and missing tokens; `target` decides how the label is read). `source`
/// names the table in errors and in [`Dataset::source`].
///
/// Shapes: every column has the same number of rows; the result has one field per column
/// other than the label and the ignored ones, in the given order.
///
/// # Errors
/// [`DataError::Schema`] naming the column and the 0-based row: columns of unequal length, a
/// column named twice, a named column that does not exist, no label column (unless
/// `schema.label_optional`), a label that is not 0/1 without a positive class, an infinite
/// number, a text that is not a number in a column forced dense; and a table without fields.
pub fn dataset_from_frame(
    source: &str,
    columns: Vec<FrameColumn>,
    schema: &SchemaOptions,
) -> Result<Dataset, DataError> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(DataError::Schema(format!(
                "{source}: the column \"{n}\" appears twice"
            )));
        }
    }
    let available = names.join(", ");
    for named in schema
        .categorical
        .iter()
        .chain(&schema.dense)
        .chain(&schema.ignore)
    {
        if !names.contains(&named.as_str()) {
            return Err(DataError::UnknownColumn {
                path: source.into(),
                column: named.clone(),
                available,
            });
        }
    }
    if let Some(both) = schema.categorical.iter().find(|c| schema.dense.contains(c)) {
        return Err(DataError::Schema(format!(
            "column \"{both}\" is named both categorical and dense"
        )));
    }
    let rows = columns.first().map(|c| c.values.len()).unwrap_or(0);
    if let Some(c) = columns.iter().find(|c| c.values.len() != rows) {
        return Err(DataError::Schema(format!(
            "{source}: column \"{}\" has {} rows, the first column {rows}",
            c.name,
            c.values.len()
        )));
    }
    let mut labels = vec![0.0f32; rows];
    let mut label_classes = Vec::new();
    let mut fields = Vec::new();
    let mut out_columns = Vec::new();
    let mut found_label = false;
    for column in columns {
        if schema.ignore.contains(&column.name) {
            continue;
        }
        if column.name == schema.label {
            found_label = true;
            (labels, label_classes) = read_label(source, &column, schema)?;
            continue;
        }
        let forced_categorical = schema.categorical.contains(&column.name);
        let forced_dense = schema.dense.contains(&column.name);
        let built = match column.values {
            FrameValues::Numbers(values) => {
                if let Some(r) = values.iter().position(|v| v.is_infinite()) {
                    return Err(row_error(
                        source,
                        &column.name,
                        r,
                        format!("{} is not a finite number", values[r]),
                    ));
                }
                if forced_categorical {
                    numbers_as_categories(&values)
                } else {
                    Column::Dense {
                        values: values.iter().map(|&v| v as f32).collect(),
                    }
                }
            }
            FrameValues::Texts { codes, dictionary } => {
                let missing: Vec<bool> = dictionary
                    .iter()
                    .map(|t| schema.missing.iter().any(|m| m == t.trim()))
                    .collect();
                if let Some(r) = codes.iter().position(|&k| k as usize > dictionary.len()) {
                    return Err(row_error(
                        source,
                        &column.name,
                        r,
                        format!("code {} is past the dictionary", codes[r]),
                    ));
                }
                if forced_dense {
                    let parsed: Vec<Option<f64>> = dictionary
                        .iter()
                        .zip(&missing)
                        .map(|(t, &m)| {
                            if m {
                                None
                            } else {
                                t.trim().parse::<f64>().ok()
                            }
                        })
                        .collect();
                    let mut values = Vec::with_capacity(codes.len());
                    for (r, &k) in codes.iter().enumerate() {
                        let v = if k == 0 || missing[k as usize - 1] {
                            f64::NAN
                        } else {
                            match parsed[k as usize - 1] {
                                Some(v) if v.is_finite() => v,
                                _ => {
                                    return Err(row_error(
                                        source,
                                        &column.name,
                                        r,
                                        format!(
                                            "\"{}\" is not a number (the column is named dense)",
                                            dictionary[k as usize - 1]
                                        ),
                                    ))
                                }
                            }
                        };
                        values.push(v as f32);
                    }
                    Column::Dense { values }
                } else {
                    texts_as_categories(codes, dictionary, &missing)
                }
            }
        };
        fields.push(Field {
            name: column.name,
            kind: built.kind(),
        });
        out_columns.push(built);
    }
    if !found_label && !schema.label_optional {
        return Err(DataError::Schema(format!(
            "{source}: no label column \"{}\" (the columns are: {available}); name it with \
             label=...",
            schema.label
        )));
    }
    if fields.is_empty() {
        return Err(DataError::Schema(format!(
            "{source}: no field is left besides the label and the ignored columns"
        )));
    }
    Ok(Dataset {
        source: source.to_string(),
        label_name: schema.label.clone(),
        fields,
        labels,
        label_classes,
        columns: out_columns,
    })
}

/// A numeric column as categories: the distinct numbers' texts, in order of first appearance.
fn numbers_as_categories(values: &[f64]) -> Column {
    let mut index: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    let mut dictionary = vec![String::new()];
    let codes = values
        .iter()
        .map(|&v| {
            if v.is_nan() {
                return 0;
            }
            // -0.0 and 0.0 are one value.
            let key = if v == 0.0 { 0u64 } else { v.to_bits() };
            *index.entry(key).or_insert_with(|| {
                dictionary.push(number_text(v));
                (dictionary.len() - 1) as u32
            })
        })
        .collect();
    Column::Categorical { codes, dictionary }
}

/// A text column as categories; texts that are missing tokens become code 0. The dictionary
/// keeps the reserved empty entry 0 and then the texts in order of first appearance.
fn texts_as_categories(codes: Vec<u32>, texts: Vec<String>, missing: &[bool]) -> Column {
    let mut remap = vec![0u32; texts.len() + 1];
    let mut dictionary = vec![String::new()];
    let mut seen = vec![false; texts.len() + 1];
    let codes = codes
        .into_iter()
        .map(|k| {
            let k = k as usize;
            if k == 0 || missing[k - 1] {
                return 0;
            }
            if !seen[k] {
                seen[k] = true;
                dictionary.push(texts[k - 1].clone());
                remap[k] = (dictionary.len() - 1) as u32;
            }
            remap[k]
        })
        .collect();
    Column::Categorical { codes, dictionary }
}

/// The label column as targets (see [`TargetKind`]) and, for a class target, the classes.
fn read_label(
    source: &str,
    column: &FrameColumn,
    schema: &SchemaOptions,
) -> Result<(Vec<f32>, Vec<String>), DataError> {
    let name = &column.name;
    let text_of = |r: usize| -> Option<String> {
        match &column.values {
            FrameValues::Numbers(v) => (!v[r].is_nan()).then(|| number_text(v[r])),
            FrameValues::Texts { codes, dictionary } => match codes[r] {
                0 => None,
                k => Some(dictionary[k as usize - 1].trim().to_string()),
            },
        }
    };
    let n = column.values.len();
    let mut labels = Vec::with_capacity(n);
    let mut classes: Vec<String> = Vec::new();
    for r in 0..n {
        let Some(text) = text_of(r) else {
            return Err(row_error(source, name, r, "the label is missing".into()));
        };
        let y = match schema.target {
            TargetKind::Binary => match &schema.positive {
                Some(p) => f32::from(u8::from(&text == p)),
                None => match text.parse::<f64>() {
                    Ok(0.0) => 0.0,
                    Ok(1.0) => 1.0,
                    _ => {
                        return Err(row_error(
                            source,
                            name,
                            r,
                            format!(
                                "the label \"{text}\" is not 0 or 1; name the class to \
                                 predict as 1 with positive=VALUE (positive=\"{text}\" if \
                                 \"{text}\" is that class)"
                            ),
                        ))
                    }
                },
            },
            TargetKind::Number => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => v as f32,
                _ => {
                    return Err(row_error(
                        source,
                        name,
                        r,
                        format!("the target \"{text}\" is not a finite number"),
                    ))
                }
            },
            TargetKind::Class => match classes.iter().position(|c| c == &text) {
                Some(i) => i as f32,
                None => {
                    classes.push(text);
                    (classes.len() - 1) as f32
                }
            },
        };
        labels.push(y);
    }
    Ok((labels, classes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(codes: &[u32], dict: &[&str]) -> FrameValues {
        FrameValues::Texts {
            codes: codes.to_vec(),
            dictionary: dict.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn col(name: &str, values: FrameValues) -> FrameColumn {
        FrameColumn {
            name: name.into(),
            values,
        }
    }

    #[test]
    fn kinds_labels_and_missing_tokens_follow_the_schema() {
        let mut schema = SchemaOptions::with_label("y");
        schema.categorical = vec!["age".into()];
        schema.dense = vec!["hours".into()];
        let data = dataset_from_frame(
            "df",
            vec![
                col(
                    "age",
                    FrameValues::Numbers(vec![39.0, 50.0, 39.0, f64::NAN]),
                ),
                col("hours", texts(&[1, 2, 0, 3], &["40", "12.5", "?"])),
                col("city", texts(&[1, 2, 3, 1], &["a", "NA", "b"])),
                col("y", FrameValues::Numbers(vec![0.0, 1.0, 1.0, 0.0])),
            ],
            &schema,
        )
        .unwrap();
        assert_eq!(data.labels, vec![0.0, 1.0, 1.0, 0.0]);
        assert_eq!(data.field_names(), vec!["age", "hours", "city"]);
        assert_eq!(
            data.columns[0],
            Column::Categorical {
                codes: vec![1, 2, 1, 0],
                dictionary: vec!["".into(), "39".into(), "50".into()]
            }
        );
        match &data.columns[1] {
            Column::Dense { values } => {
                assert_eq!(&values[..2], &[40.0, 12.5]);
                assert!(values[2].is_nan() && values[3].is_nan());
            }
            other => panic!("{other:?}"),
        }
        // "NA" is a missing token: code 0, and the dictionary skips it.
        assert_eq!(
            data.columns[2],
            Column::Categorical {
                codes: vec![1, 0, 2, 1],
                dictionary: vec!["".into(), "a".into(), "b".into()]
            }
        );
    }

    #[test]
    fn bad_frames_name_the_column_and_row() {
        let schema = SchemaOptions::with_label("y");
        let e = dataset_from_frame(
            "df",
            vec![col("x", FrameValues::Numbers(vec![1.0]))],
            &schema,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("no label column \"y\"") && e.contains("x"),
            "{e}"
        );
        let e = dataset_from_frame(
            "df",
            vec![
                col("x", FrameValues::Numbers(vec![1.0, 2.0])),
                col("y", FrameValues::Numbers(vec![0.0, 2.0])),
            ],
            &schema,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("column \"y\", row 1") && e.contains("not 0 or 1"),
            "{e}"
        );
        let mut dense = SchemaOptions::with_label("y");
        dense.dense = vec!["x".into()];
        let e = dataset_from_frame(
            "df",
            vec![
                col("x", texts(&[1, 2], &["3", "abc"])),
                col("y", FrameValues::Numbers(vec![0.0, 1.0])),
            ],
            &dense,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("column \"x\", row 1") && e.contains("\"abc\" is not a number"),
            "{e}"
        );
        let e = dataset_from_frame(
            "df",
            vec![
                col("x", FrameValues::Numbers(vec![f64::INFINITY, 1.0])),
                col("y", FrameValues::Numbers(vec![0.0, 1.0])),
            ],
            &schema,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("column \"x\", row 0") && e.contains("finite"),
            "{e}"
        );
        let mut positive = SchemaOptions::with_label("y");
        positive.positive = Some(">50K".into());
        let data = dataset_from_frame(
            "df",
            vec![
                col("x", FrameValues::Numbers(vec![1.0, 2.0])),
                col("y", texts(&[1, 2], &["<=50K", ">50K"])),
            ],
            &positive,
        )
        .unwrap();
        assert_eq!(data.labels, vec![0.0, 1.0]);
    }
}
