//! Parquet, through `read_parquet` on a scratch file, with the label `y` (the seed files'
//! label column). The first byte picks the schema flags; the rest is the file.
#![no_main]

use glider_data::{read_parquet, SchemaOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, file)) = bytes.split_first() else {
        return;
    };
    let mut schema = SchemaOptions::with_label("y");
    if flags & 1 != 0 {
        schema.label_optional = true;
    }
    if flags & 2 != 0 {
        schema.dense = vec!["b".into()];
    }
    if flags & 4 != 0 {
        schema.categorical = vec!["a".into()];
    }
    let path = glider_fuzz::scratch_file("data.parquet", file);
    if let Ok((data, per_file)) = read_parquet(std::slice::from_ref(&path), &schema) {
        glider_fuzz::check(&data, &per_file, true);
    }
});
