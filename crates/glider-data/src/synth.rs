//! Synthetic CTR data with planted interactions as a [`Dataset`] (ground truth for tests and
//! benchmarks). The generator itself is [`glider_core::synth`].

use glider_core::synth::{generate, SynthCtrConfig};

use crate::dataset::{Column, Dataset, Field, FieldKind};
use crate::error::DataError;

/// Generates the data of `config` as a dataset of categorical fields `f0, f1, …` whose values
/// are written `v0, v1, …`; returns it with the planted field sets.
///
/// # Errors
/// [`DataError::Schema`] for an invalid configuration.
pub fn synthetic(config: &SynthCtrConfig) -> Result<(Dataset, Vec<Vec<usize>>), DataError> {
    let s = generate(config).map_err(|e| DataError::Schema(format!("synthetic data: {e}")))?;
    let mut fields = Vec::with_capacity(s.columns.len());
    let mut columns = Vec::with_capacity(s.columns.len());
    for (f, (values, &card)) in s.columns.iter().zip(&config.cardinalities).enumerate() {
        fields.push(Field {
            name: format!("f{f}"),
            kind: FieldKind::Categorical,
        });
        let mut dictionary = vec![String::new()];
        dictionary.extend((0..card).map(|v| format!("v{v}")));
        columns.push(Column::Categorical {
            codes: values.iter().map(|&v| v + 1).collect(),
            dictionary,
        });
    }
    Ok((
        Dataset {
            source: format!("synthetic(seed {})", config.seed),
            label_classes: Vec::new(),
            label_name: "click".into(),
            fields,
            labels: s.labels,
            columns,
        },
        s.planted,
    ))
}

/// Writes a dataset of categorical fields as CSV text (label first), for the CLI tests.
pub fn to_csv(data: &Dataset) -> String {
    let mut out = String::new();
    out.push_str(&data.label_name);
    for f in &data.fields {
        out.push(',');
        out.push_str(&f.name);
    }
    out.push('\n');
    for r in 0..data.num_rows() {
        out.push_str(if data.labels[r] > 0.5 { "1" } else { "0" });
        for c in &data.columns {
            out.push(',');
            match c {
                Column::Categorical { codes, dictionary } => {
                    out.push_str(&dictionary[codes[r] as usize])
                }
                Column::Dense { values } => {
                    if values[r].is_finite() {
                        out.push_str(&values[r].to_string())
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_round_trips_through_csv() {
        let mut cfg = SynthCtrConfig::small();
        cfg.rows = 50;
        let (d, planted) = synthetic(&cfg).unwrap();
        assert_eq!(planted, vec![vec![1, 3]]);
        assert_eq!(d.num_fields(), 8);
        let text = to_csv(&d);
        let mut schema = crate::read::SchemaOptions::with_label("click");
        schema.categorical = d.field_names();
        let back =
            crate::read::read_csv_from(text.as_bytes(), "s.csv", &schema, &Default::default())
                .unwrap();
        assert_eq!(back.labels, d.labels);
        for r in 0..50 {
            for f in 0..8 {
                let name = |ds: &Dataset| match &ds.columns[f] {
                    Column::Categorical { codes, dictionary } => {
                        dictionary[codes[r] as usize].clone()
                    }
                    _ => unreachable!(),
                };
                assert_eq!(name(&back), name(&d));
            }
        }
    }
}
