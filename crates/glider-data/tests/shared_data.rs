//! The readers on the real files in ../shared/data (not redistributable, so never copied into
//! the repository). Each test skips with a message when the file is absent.

use std::path::{Path, PathBuf};

use glider_data::{
    read_avazu, read_criteo, read_csv, read_libfm, Column, CsvOptions, Dataset, FieldKind,
    FieldValue, LibfmFields, SchemaOptions,
};

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

/// Number of distinct values of categorical field `f` (the dictionary less its missing entry).
fn distinct(d: &Dataset, f: usize) -> usize {
    match &d.columns[f] {
        Column::Categorical { dictionary, .. } => dictionary.len() - 1,
        Column::Dense { .. } => panic!("field {f} is dense"),
    }
}

fn positives(d: &Dataset) -> usize {
    d.labels.iter().filter(|&&y| y == 1.0).count()
}

#[test]
fn avazu_9k_sample() {
    let Some(path) = shared("avazu_kaggle_sample/avazu_train_first9k.csv") else {
        return;
    };
    let (d, per_file) = read_avazu(&[path], &[]).unwrap();
    // PROVENANCE.md: 8,999 rows, 7,436 negatives / 1,563 positives; hour constant 14102100.
    assert_eq!(per_file, vec![8_999]);
    assert_eq!(d.num_fields(), 23);
    assert_eq!(positives(&d), 1_563);
    assert!(d.fields.iter().all(|f| f.kind == FieldKind::Categorical));
    assert_eq!(distinct(&d, 0), 8_999, "id is unique per row");
    assert_eq!(d.fields[1].name, "hour");
    assert_eq!(distinct(&d, 1), 1);
}

#[test]
fn avazu_100_sample() {
    let Some(path) = shared("avazu_kaggle_sample/avazu_sample_100.csv") else {
        return;
    };
    let (d, per_file) = read_avazu(&[path], &["id".to_string()]).unwrap();
    assert_eq!(per_file, vec![100]);
    assert_eq!(d.num_fields(), 22);
    assert_eq!(positives(&d), 20);
}

#[test]
fn frappe_libfm_positional() {
    let (Some(validation), Some(test)) = (
        shared("frappe_nfm/frappe.validation.libfm"),
        shared("frappe_nfm/frappe.test.libfm"),
    ) else {
        return;
    };
    let names: Vec<String> = [
        "user",
        "item",
        "daytime",
        "weekday",
        "isweekend",
        "homework",
        "cost",
        "weather",
        "country",
        "city",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let fields = LibfmFields::Positional {
        names: Some(names.clone()),
    };
    let (d, per_file) = read_libfm(&[validation, test], &fields).unwrap();
    // PROVENANCE.md: 57,722 + 28,860 rows; 19,063 + 9,536 positives (labels -1/1); 10 tokens
    // per line, one per field.
    assert_eq!(per_file, vec![57_722, 28_860]);
    assert_eq!(d.num_fields(), 10);
    assert_eq!(d.field_names(), names);
    assert_eq!(positives(&d), 19_063 + 9_536);
    assert!(
        (d.positive_rate() - 0.330).abs() < 0.001,
        "{}",
        d.positive_rate()
    );
    // Distinct values per field as PROVENANCE.md lists them.
    let seen: Vec<usize> = (0..10).map(|f| distinct(&d, f)).collect();
    assert_eq!(seen, vec![913, 4_082, 7, 7, 2, 3, 2, 9, 76, 227]);
    // First line of the test file: `-1 204:1 4798:1 5041:1 ...`.
    let row = d.row(57_722);
    assert_eq!(d.labels[57_722], 0.0);
    match (&d.columns[0], row[0]) {
        (Column::Categorical { dictionary, .. }, FieldValue::Categorical(k)) => {
            assert_eq!(dictionary[k as usize], "204")
        }
        _ => panic!("user is categorical"),
    }
}

#[test]
fn ipinyou_libfm_featindex() {
    let (Some(featindex), Some(train), Some(test)) = (
        shared("ipinyou_sample/featindex.fm.txt"),
        shared("ipinyou_sample/train.fm.txt"),
        shared("ipinyou_sample/test.fm.txt"),
    ) else {
        return;
    };
    let fields = LibfmFields::FeatIndex { path: featindex };
    let (d, per_file) = read_libfm(&[train, test], &fields).unwrap();
    // The featindex file names 16 fields, in this order of first appearance.
    assert_eq!(
        d.field_names(),
        vec![
            "weekday",
            "hour",
            "useragent",
            "IP",
            "region",
            "city",
            "adexchange",
            "domain",
            "slotid",
            "slotwidth",
            "slotheight",
            "slotvisibility",
            "slotformat",
            "creative",
            "advertiser",
            "slotprice"
        ]
    );
    // PROVENANCE.md: 26,773 + 21,150 rows, 255 + 50 positives (labels 0/1).
    assert_eq!(per_file, vec![26_773, 21_150]);
    assert_eq!(positives(&d), 255 + 50);
    // Every line carries exactly one token of every field: nothing is missing.
    for (f, column) in d.columns.iter().enumerate() {
        match column {
            Column::Categorical { codes, .. } => {
                assert!(
                    codes.iter().all(|&k| k != 0),
                    "field {f} has a missing value"
                )
            }
            Column::Dense { .. } => panic!("libFM fields are categorical"),
        }
    }
    // Distinct values per field as PROVENANCE.md lists them (train + test).
    let seen: Vec<usize> = (0..16).map(|f| distinct(&d, f)).collect();
    assert_eq!(
        seen,
        vec![2, 23, 9, 19_270, 34, 358, 1, 278, 301, 1, 1, 3, 1, 2, 1, 4]
    );
    // Train rows are all weekday 2; the category is the featindex name.
    match (&d.columns[0], d.row(0)[0]) {
        (Column::Categorical { dictionary, .. }, FieldValue::Categorical(k)) => {
            assert_eq!(dictionary[k as usize], "weekday:2")
        }
        _ => panic!("weekday is categorical"),
    }
}
