//! CSV with a header, through `read_csv_from`. The first byte picks the delimiter, the
//! target kind and which schema flags are set, so that one target reaches every branch of
//! the delimited reader; the rest is the file.
#![no_main]

use glider_data::{read_csv_from, CsvOptions, SchemaOptions, TargetKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, text)) = bytes.split_first() else {
        return;
    };
    let delimiter = b",\t;|"[usize::from(flags & 3)];
    let target = match (flags >> 2) & 3 {
        0 | 1 => TargetKind::Binary,
        2 => TargetKind::Number,
        _ => TargetKind::Class,
    };
    let mut schema = SchemaOptions::with_label("label");
    schema.target = target;
    if flags & 0x10 != 0 {
        schema.positive = Some("yes".into());
    }
    if flags & 0x20 != 0 {
        schema.dense = vec!["a".into()];
    }
    if flags & 0x40 != 0 {
        schema.categorical = vec!["b".into()];
        schema.ignore = vec!["c".into()];
    }
    if flags & 0x80 != 0 {
        schema.label_optional = true;
        schema.missing = vec![String::new()];
    }
    if let Ok(data) = read_csv_from(text, "fuzz.csv", &schema, &CsvOptions { delimiter }) {
        let rows = data.num_rows();
        glider_fuzz::check(&data, &[rows], target == TargetKind::Binary);
    }
});
