//! libFM with positional fields (Frappe), through `read_libfm` on a scratch file. The first
//! byte picks whether three field names are given.
#![no_main]

use glider_data::{read_libfm, LibfmFields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, text)) = bytes.split_first() else {
        return;
    };
    let names = (flags & 1 == 1).then(|| vec!["user".into(), "item".into(), "city".into()]);
    let path = glider_fuzz::scratch_file("data.libfm", text);
    if let Ok((data, per_file)) = read_libfm(
        std::slice::from_ref(&path),
        &LibfmFields::Positional { names },
    ) {
        glider_fuzz::check(&data, &per_file, true);
    }
});
