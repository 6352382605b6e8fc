#![warn(missing_docs)]
//! Shared parts of the reader fuzz targets: a scratch file for readers that take a path, and
//! the invariants every dataset a reader returns must hold.
//!
//! A target fails (a crash, for libFuzzer) when a reader panics, or when it returns `Ok` with
//! a dataset that breaks [`check`]. An `Err` is the expected answer to bad bytes.

use std::path::PathBuf;

use glider_data::{Column, Dataset, FieldKind};

/// Writes `bytes` to `name` in this process's scratch folder and returns the path (the same
/// path on every call, so the file is overwritten, not accumulated).
///
/// # Panics
/// When the temporary folder cannot be written (the fuzzing machine is broken, not the
/// reader).
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glider-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating the scratch folder");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("writing the scratch file");
    path
}

/// Asserts what every successfully read dataset must hold: at least one row and one field,
/// one label per row and one value per row in every column, a kind per field that matches its
/// column, categorical codes inside the dictionary (entry 0 = missing = ""), dense values
/// finite or NaN (missing), labels 0/1 when `binary`, and `per_file` counts that sum to the
/// rows, none of them zero.
///
/// # Panics
/// When an invariant is broken: a reader bug for the fuzzer to report.
pub fn check(data: &Dataset, per_file: &[usize], binary: bool) {
    let rows = data.num_rows();
    assert!(rows > 0, "a dataset without rows was returned");
    assert!(
        !data.fields.is_empty(),
        "a dataset without fields was returned"
    );
    assert_eq!(data.fields.len(), data.columns.len(), "fields vs columns");
    assert_eq!(per_file.iter().sum::<usize>(), rows, "rows per file");
    assert!(per_file.iter().all(|&n| n > 0), "a file with no rows");
    for (field, column) in data.fields.iter().zip(&data.columns) {
        assert_eq!(column.len(), rows, "column {} length", field.name);
        match column {
            Column::Categorical { codes, dictionary } => {
                assert_eq!(field.kind, FieldKind::Categorical, "{}", field.name);
                assert_eq!(
                    dictionary.first().map(String::as_str),
                    Some(""),
                    "dictionary entry 0 of {}",
                    field.name
                );
                assert!(
                    codes.iter().all(|&k| (k as usize) < dictionary.len()),
                    "a code of {} is outside its dictionary",
                    field.name
                );
            }
            Column::Dense { values } => {
                assert_eq!(field.kind, FieldKind::Dense, "{}", field.name);
                assert!(
                    values.iter().all(|v| v.is_finite() || v.is_nan()),
                    "an infinite value in dense field {}",
                    field.name
                );
            }
        }
    }
    if binary {
        assert!(
            data.labels.iter().all(|&y| y == 0.0 || y == 1.0),
            "a binary label other than 0/1"
        );
    } else {
        assert!(
            data.labels.iter().all(|y| y.is_finite()),
            "a non-finite label"
        );
    }
}
