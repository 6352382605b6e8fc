//! The readers on the real files in ../shared/data (not redistributable, so never copied into
//! the repository). Each test skips with a message when the file is absent.

use std::path::{Path, PathBuf};

use glider_data::{read_criteo, read_csv, CsvOptions, FieldKind, FieldValue, SchemaOptions};

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} is absent (../shared/data not laid out here)",
            p.display()
        );
        None
    }
}

#[test]
fn criteo_10k_sample() {
    let Some(path) = shared("criteo_kaggle_sample/criteo_train_first10k.txt") else {
        return;
    };
    let (d, per_file) = read_criteo(&[path], &[]).unwrap();
    assert_eq!(per_file, vec![10_000]);
    assert_eq!(d.num_fields(), 39);
    // PROVENANCE.md: 7,818 negatives / 2,182 positives.
    assert_eq!(d.labels.iter().filter(|&&y| y == 1.0).count(), 2_182);
    // First row: I1 = 1 (≤ 2, unchanged), I5 = 1382 → floor(ln(1382)^2) = 52, I12 empty.
    let row = d.row(0);
    assert_eq!(row[0], FieldValue::Dense(1.0));
    assert_eq!(row[4], FieldValue::Dense(52.0));
    assert!(matches!(row[11], FieldValue::Dense(v) if v.is_nan()));
    assert_eq!(d.fields[13].kind, FieldKind::Categorical);
}

#[test]
fn movielens_ctr_table() {
    let Some(path) = shared("movielens_100k/ml100k_ctr.csv") else {
        return;
    };
    let mut schema = SchemaOptions::with_label("label");
    schema.ignore = vec!["rating".into(), "timestamp".into()];
    schema.categorical = [
        "user_id",
        "item_id",
        "age",
        "gender",
        "occupation",
        "zip_code",
        "release_year",
        "primary_genre",
        "hour_utc",
        "weekday_utc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (d, _) = read_csv(&[path], &schema, &CsvOptions::default()).unwrap();
    assert_eq!(d.num_rows(), 100_000);
    // 10 categorical fields + 19 genre flags (inferred dense).
    assert_eq!(d.num_fields(), 29);
    assert_eq!(
        d.fields
            .iter()
            .filter(|f| f.kind == FieldKind::Categorical)
            .count(),
        10
    );
    // PROVENANCE.md: 55,375 positives; 943 users.
    assert_eq!(d.labels.iter().filter(|&&y| y == 1.0).count(), 55_375);
    let users = d.field_index("user_id").unwrap();
    match &d.columns[users] {
        glider_data::Column::Categorical { dictionary, .. } => assert_eq!(dictionary.len(), 944),
        _ => panic!("user_id is categorical"),
    }
}
