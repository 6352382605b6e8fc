//! Avazu Kaggle CSV (header `id,click,hour,C1,...,C21`), through `read_avazu` on a scratch
//! file (the reader takes paths).
#![no_main]

use glider_data::read_avazu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = glider_fuzz::scratch_file("avazu.csv", bytes);
    if let Ok((data, per_file)) = read_avazu(std::slice::from_ref(&path), &[]) {
        glider_fuzz::check(&data, &per_file, true);
    }
});
