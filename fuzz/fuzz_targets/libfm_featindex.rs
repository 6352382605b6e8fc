//! libFM with a feature-index file (iPinYou), through `read_libfm` on two scratch files: the
//! bytes before the first NUL byte are the featindex file, the bytes after it the data.
#![no_main]

use glider_data::{read_libfm, LibfmFields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let (featindex, data) = match bytes.iter().position(|&b| b == 0) {
        Some(k) => (&bytes[..k], &bytes[k + 1..]),
        None => (bytes, &b""[..]),
    };
    let featindex = glider_fuzz::scratch_file("featindex.txt", featindex);
    let path = glider_fuzz::scratch_file("train.fm.txt", data);
    let fields = LibfmFields::FeatIndex { path: featindex };
    if let Ok((data, per_file)) = read_libfm(std::slice::from_ref(&path), &fields) {
        glider_fuzz::check(&data, &per_file, true);
    }
});
