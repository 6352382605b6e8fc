//! The embedded demo dataset: UCI Adult (census income), CC BY 4.0, 48,842 rows.
//!
//! Source: UCI Machine Learning Repository (Kohavi & Becker 1996), adult.data + adult.test
//! combined, missing values written `?`. Compressed with gzip into the crate (0.6 MB).

use flate2::read::GzDecoder;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::read::{read_csv_from, CsvOptions, SchemaOptions};

static ADULT_GZ: &[u8] = include_bytes!("../data/adult.csv.gz");

/// The embedded Adult CSV, gzip-compressed (header row, label `income`, missing values `?`):
/// for front ends that read it with their own tools (the Python package's
/// `glider.datasets.adult()`).
pub fn adult_csv_gz() -> &'static [u8] {
    ADULT_GZ
}

/// The name the embedded dataset goes by in reports.
pub const ADULT_NAME: &str = "embedded:adult";

/// The schema of the demo: label `income`, positive class `>50K`; the other 14 columns are
/// fields (8 categorical, 6 numeric, inferred).
pub fn adult_schema() -> SchemaOptions {
    let mut s = SchemaOptions::with_label("income");
    s.positive = Some(">50K".into());
    s
}

/// Reads the embedded Adult dataset (48,842 rows, 14 fields).
///
/// # Errors
/// Only if the embedded bytes were damaged (a [`DataError`] naming `embedded:adult`).
pub fn adult() -> Result<Dataset, DataError> {
    read_csv_from(
        GzDecoder::new(ADULT_GZ),
        ADULT_NAME,
        &adult_schema(),
        &CsvOptions::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::FieldKind;

    #[test]
    fn adult_reads_with_its_known_shape() {
        let d = adult().unwrap();
        assert_eq!(d.num_rows(), 48_842);
        assert_eq!(d.num_fields(), 14);
        // 11,687 of 48,842 earn >50K (PROVENANCE.md).
        let positives = d.labels.iter().filter(|&&y| y == 1.0).count();
        assert_eq!(positives, 11_687);
        let categorical = d
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Categorical)
            .count();
        assert_eq!(categorical, 8);
    }
}
