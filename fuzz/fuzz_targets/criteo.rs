//! Criteo Kaggle TSV (40 cells: label, I1..I13, C1..C26), through `read_criteo_chunk`, the
//! in-memory reader under both `read_criteo` and the streaming reader. The first byte picks
//! labeled (40 cells) or unlabeled (39 cells, Kaggle's test.txt) and a line offset.
#![no_main]

use std::path::Path;

use glider_data::read_criteo_chunk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, text)) = bytes.split_first() else {
        return;
    };
    let labeled = flags & 1 == 0;
    let offset = u64::from(flags >> 1) * 1_000_000_007;
    let ignore = if flags & 2 != 0 {
        vec!["I2".to_string(), "C7".to_string()]
    } else {
        Vec::new()
    };
    if let Ok(data) = read_criteo_chunk(text, Path::new("fuzz.txt"), offset, &ignore, labeled) {
        let rows = data.num_rows();
        glider_fuzz::check(&data, &[rows], true);
    }
});
