//! The in-memory dataset: a field schema, one column per field and a 0/1 label per row.

use serde::{Deserialize, Serialize};

/// Whether a field is a number the model scales an embedding by, or a category it looks up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// A numeric field: one embedding vector, scaled by the standardised value.
    Dense,
    /// A categorical field: one embedding vector per vocabulary entry.
    Categorical,
}

/// One field (column) of the schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The column name (`I1`..`I13`, `C1`..`C26` for Criteo).
    pub name: String,
    /// Dense or categorical.
    pub kind: FieldKind,
}

/// One field's values over all rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Raw categorical codes: `codes[row]` indexes `dictionary`; code 0 is "missing" and
    /// `dictionary[0]` is the empty string.
    Categorical {
        /// One code per row.
        codes: Vec<u32>,
        /// The distinct strings, in order of first appearance, after the reserved entry 0.
        dictionary: Vec<String>,
    },
    /// Transformed dense values, `NaN` = missing.
    Dense {
        /// One value per row.
        values: Vec<f32>,
    },
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Categorical { codes, .. } => codes.len(),
            Column::Dense { values } => values.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `row`. Panics if `row` is out of range (an internal invariant).
    pub fn value(&self, row: usize) -> FieldValue {
        match self {
            Column::Categorical { codes, .. } => FieldValue::Categorical(codes[row]),
            Column::Dense { values } => FieldValue::Dense(values[row]),
        }
    }

    /// The field kind this column holds.
    pub fn kind(&self) -> FieldKind {
        match self {
            Column::Categorical { .. } => FieldKind::Categorical,
            Column::Dense { .. } => FieldKind::Dense,
        }
    }
}

/// One cell as a black box receives it: a raw categorical code (0 = missing), a transformed
/// dense value (`NaN` = missing), or [`FieldValue::Off`], a field switched off by GLIDER's
/// perturbation (spec 3.1).
///
/// "Missing" and "switched off" are distinct: a missing value is data (a binned numeric field
/// learns an embedding for it when training rows have it, since missingness may carry signal),
/// while a switched-off field is the model's neutral input, an untrained zero embedding. A
/// black box that has no such distinction (an ONNX or HTTP model under a mapping) sends the
/// mapping's off value for both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldValue {
    /// Raw categorical code into the column's dictionary; 0 = missing.
    Categorical(u32),
    /// Transformed dense value; `NaN` = missing.
    Dense(f32),
    /// The field switched off (GLIDER's perturbation, spec 3.1): a zero embedding for
    /// glider's models, the mapping's off value for mapped black boxes.
    Off,
}

impl FieldValue {
    /// The "missing" value of the same kind ([`FieldValue::Off`] stays off).
    pub fn missing(self) -> FieldValue {
        match self {
            FieldValue::Categorical(_) => FieldValue::Categorical(0),
            FieldValue::Dense(_) => FieldValue::Dense(f32::NAN),
            FieldValue::Off => FieldValue::Off,
        }
    }

    /// True for a missing value of either kind and for a switched-off field: the cases a
    /// black box without a missing/off distinction sends as its off value.
    pub fn is_missing_or_off(self) -> bool {
        match self {
            FieldValue::Categorical(code) => code == 0,
            FieldValue::Dense(v) => v.is_nan(),
            FieldValue::Off => true,
        }
    }
}

/// A labelled table of fields.
///
/// Invariant: every column has `labels.len()` rows and `columns.len() == fields.len()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Where the data came from (a path, or `embedded:adult`).
    pub source: String,
    /// The label column's name.
    pub label_name: String,
    /// The fields, in column order.
    pub fields: Vec<Field>,
    /// One target per row: 0.0 or 1.0 for a binary label (the default), the value itself for
    /// a numeric target, or the class index into `label_classes` for a class target
    /// (see [`crate::TargetKind`]).
    pub labels: Vec<f32>,
    /// The class names of a class target, in order of first appearance; empty otherwise.
    pub label_classes: Vec<String>,
    /// One column per field.
    pub columns: Vec<Column>,
}

impl Dataset {
    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.labels.len()
    }

    /// Number of fields.
    pub fn num_fields(&self) -> usize {
        self.fields.len()
    }

    /// The field names in order.
    pub fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    /// Index of the field named `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The fields whose value is missing on every row (categorical code 0, dense `NaN`), by
    /// index; all of them when there are no rows.
    pub fn all_missing_fields(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| match c {
                Column::Categorical { codes, .. } => codes.iter().all(|&k| k == 0),
                Column::Dense { values } => values.iter().all(|v| v.is_nan()),
            })
            .map(|(f, _)| f)
            .collect()
    }

    /// The values of one row, one per field.
    pub fn row(&self, row: usize) -> Vec<FieldValue> {
        self.columns.iter().map(|c| c.value(row)).collect()
    }

    /// A new dataset holding the given rows, in the given order. Dictionaries are shared
    /// (copied), so raw codes keep their meaning across subsets.
    pub fn select_rows(&self, rows: &[usize]) -> Dataset {
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Categorical { codes, dictionary } => Column::Categorical {
                    codes: rows.iter().map(|&r| codes[r]).collect(),
                    dictionary: dictionary.clone(),
                },
                Column::Dense { values } => Column::Dense {
                    values: rows.iter().map(|&r| values[r]).collect(),
                },
            })
            .collect();
        Dataset {
            source: self.source.clone(),
            label_classes: self.label_classes.clone(),
            label_name: self.label_name.clone(),
            fields: self.fields.clone(),
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
            columns,
        }
    }

    /// A new dataset with only the given fields, in the given order (rows unchanged).
    pub fn select_fields(&self, fields: &[usize]) -> Dataset {
        Dataset {
            source: self.source.clone(),
            label_classes: self.label_classes.clone(),
            label_name: self.label_name.clone(),
            fields: fields.iter().map(|&f| self.fields[f].clone()).collect(),
            labels: self.labels.clone(),
            columns: fields.iter().map(|&f| self.columns[f].clone()).collect(),
        }
    }

    /// Appends a categorical field. `codes` must have one entry per row (0 = missing).
    ///
    /// # Errors
    /// [`crate::DataError::Schema`] when the length is wrong or the name is taken.
    pub fn push_categorical(
        &mut self,
        name: String,
        codes: Vec<u32>,
        dictionary: Vec<String>,
    ) -> Result<(), crate::DataError> {
        if codes.len() != self.num_rows() {
            return Err(crate::DataError::Schema(format!(
                "field \"{name}\" has {} values for {} rows",
                codes.len(),
                self.num_rows()
            )));
        }
        if self.field_index(&name).is_some() {
            return Err(crate::DataError::Schema(format!(
                "a field named \"{name}\" already exists"
            )));
        }
        self.fields.push(Field {
            name,
            kind: FieldKind::Categorical,
        });
        self.columns.push(Column::Categorical { codes, dictionary });
        Ok(())
    }

    /// Share of positive labels.
    pub fn positive_rate(&self) -> f64 {
        if self.labels.is_empty() {
            return 0.0;
        }
        self.labels.iter().map(|&y| y as f64).sum::<f64>() / self.labels.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        Dataset {
            source: "t".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![
                Field {
                    name: "a".into(),
                    kind: FieldKind::Categorical,
                },
                Field {
                    name: "b".into(),
                    kind: FieldKind::Dense,
                },
            ],
            labels: vec![0.0, 1.0, 1.0],
            columns: vec![
                Column::Categorical {
                    codes: vec![1, 0, 2],
                    dictionary: vec!["".into(), "x".into(), "y".into()],
                },
                Column::Dense {
                    values: vec![0.5, f32::NAN, 2.0],
                },
            ],
        }
    }

    #[test]
    fn select_rows_keeps_order_and_dictionary() {
        let d = tiny().select_rows(&[2, 0]);
        assert_eq!(d.labels, vec![1.0, 0.0]);
        assert_eq!(
            d.row(0),
            vec![FieldValue::Categorical(2), FieldValue::Dense(2.0)]
        );
        match &d.columns[0] {
            Column::Categorical { dictionary, .. } => assert_eq!(dictionary[2], "y"),
            _ => panic!("kind changed"),
        }
    }

    #[test]
    fn all_missing_fields_are_found() {
        assert!(tiny().all_missing_fields().is_empty());
        assert_eq!(tiny().select_rows(&[1]).all_missing_fields(), vec![0, 1]);
        assert_eq!(
            tiny().select_rows(&[1, 2]).all_missing_fields(),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn missing_value_of_each_kind() {
        assert_eq!(
            FieldValue::Categorical(7).missing(),
            FieldValue::Categorical(0)
        );
        match FieldValue::Dense(3.0).missing() {
            FieldValue::Dense(v) => assert!(v.is_nan()),
            _ => panic!("kind changed"),
        }
        assert_eq!(FieldValue::Off.missing(), FieldValue::Off);
        assert!(FieldValue::Off.is_missing_or_off());
        assert!(FieldValue::Dense(f32::NAN).is_missing_or_off());
        assert!(FieldValue::Categorical(0).is_missing_or_off());
        assert!(!FieldValue::Categorical(3).is_missing_or_off());
        assert!(!FieldValue::Dense(0.0).is_missing_or_off());
    }

    #[test]
    fn push_categorical_checks_length_and_name() {
        let mut d = tiny();
        assert!(d.push_categorical("c".into(), vec![0, 1], vec![]).is_err());
        assert!(d
            .push_categorical("a".into(), vec![0, 1, 1], vec![])
            .is_err());
        d.push_categorical("c".into(), vec![0, 1, 1], vec!["".into(), "z".into()])
            .unwrap();
        assert_eq!(d.num_fields(), 3);
        assert!((d.positive_rate() - 2.0 / 3.0).abs() < 1e-12);
    }
}
