//! The bad-input corpus (issue 6): every file under `tests/bad_inputs/` is fed to the real
//! `glider` binary with the command line of its case in [`CASES`], and the run must fail
//! cleanly: the expected exit code (1 for bad data, 2 for bad flags), every expected piece of
//! text in stderr (the file, the line, the column or field), no panic, and no file left under
//! `--out`, not even a temporary one.
//!
//! To add a case, commit its small input file(s) under `tests/bad_inputs/` and add a row to
//! [`CASES`]. Arguments may use these placeholders:
//!
//! | placeholder | becomes |
//! |---|---|
//! | `{dir}` | the corpus folder `tests/bad_inputs` |
//! | `{out}` | a fresh empty folder, checked to be still empty afterwards |
//! | `{model}` | a tiny `lr` model trained by this test on `model_train.csv` (fields `f0`, `f1`, `f2`, label `click`) |
//! | `{model_no_weights}` | that model's `model.json` without its `model.safetensors` |
//! | `{model_bad_weights}` | that model's `model.json` with a `model.safetensors` of garbage bytes |
//!
//! `GLIDER_SHOW_ERRORS=1 cargo test --release --test bad_inputs -- --nocapture` prints every
//! message, to read them side by side.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One bad input and what glider must say about it.
struct Case {
    /// Short name, also the name of its `{out}` folder.
    name: &'static str,
    /// The command line after `glider`, with placeholders (see the module docs).
    args: &'static [&'static str],
    /// The exit code: 1 for bad data, 2 for a usage error.
    code: i32,
    /// Texts stderr must contain (the file, `:LINE`, the column or field, the reason).
    expect: &'static [&'static str],
}

/// The corpus. Line numbers are 1-based and count the header line of a CSV file.
const CASES: &[Case] = &[
    // ---- encode: interactions and crosses from another dataset ----------------------------
    Case {
        name: "interactions_unknown_field",
        args: &[
            "encode",
            "--data",
            "{dir}/model_train.csv",
            "--label",
            "click",
            "--interactions",
            "{dir}/interactions_unknown_field.json",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "interactions_unknown_field.json",
            "names field \"age\"",
            "model_train.csv",
        ],
    },
    Case {
        name: "run_interactions_unknown_field",
        args: &[
            "run",
            "--data",
            "{dir}/model_train.csv",
            "--label",
            "click",
            "--interactions",
            "{dir}/interactions_unknown_field.json",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "interactions_unknown_field.json",
            "names field \"age\"",
            "model_train.csv",
        ],
    },
    Case {
        name: "run_interactions_not_a_file_of_interactions",
        args: &[
            "run",
            "--data",
            "{dir}/model_train.csv",
            "--label",
            "click",
            "--interactions",
            "{dir}/model_train.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["model_train.csv: not a global_interactions.json"],
    },
    Case {
        name: "run_selection_z_negative",
        args: &[
            "run",
            "--data",
            "{dir}/model_train.csv",
            "--label",
            "click",
            "--selection-z=-1",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--selection-z", "z must be a number >= 0"],
    },
    Case {
        name: "crosses_other_dataset",
        args: &[
            "encode",
            "--data",
            "{dir}/model_train.csv",
            "--label",
            "click",
            "--apply",
            "{dir}/crosses_other_dataset.json",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "crosses_other_dataset.json",
            "needs field \"age\"",
            "model_train.csv",
        ],
    },
    // ---- CSV -------------------------------------------------------------------------------
    Case {
        name: "csv_truncated_row",
        args: &[
            "train",
            "--data",
            "{dir}/csv_truncated.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["csv_truncated.csv:7", "expected 4 columns, found 2"],
    },
    Case {
        name: "csv_read_as_tsv",
        args: &[
            "train",
            "--data",
            "{dir}/comma.csv",
            "--delimiter",
            "\\t",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "comma.csv",
            "no column named \"label\"",
            "is the delimiter right?",
        ],
    },
    Case {
        name: "tsv_read_as_csv",
        args: &["train", "--data", "{dir}/tabs.tsv", "--out", "{out}"],
        code: 1,
        expect: &[
            "tabs.tsv",
            "no column named \"label\"",
            "is the delimiter right?",
        ],
    },
    Case {
        name: "csv_utf8_error_in_cell",
        args: &["train", "--data", "{dir}/utf8_cell.csv", "--out", "{out}"],
        code: 1,
        expect: &["utf8_cell.csv:4", "column \"b\"", "not valid UTF-8"],
    },
    Case {
        name: "csv_utf8_error_in_header",
        args: &["train", "--data", "{dir}/utf8_header.csv", "--out", "{out}"],
        code: 1,
        expect: &["utf8_header.csv:1", "column \"#2\"", "not valid UTF-8"],
    },
    Case {
        name: "csv_inf_in_inferred_dense_column",
        args: &[
            "train",
            "--data",
            "{dir}/inf_inferred.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "inf_inferred.csv:5",
            "column \"b\"",
            "\"inf\" is not a finite number",
        ],
    },
    Case {
        name: "csv_negative_inf_in_forced_dense_column",
        args: &[
            "train",
            "--data",
            "{dir}/neg_inf_dense.csv",
            "--dense",
            "b",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "neg_inf_dense.csv:3",
            "column \"b\"",
            "\"-inf\" is not a finite number",
        ],
    },
    Case {
        // NaN is a default missing token; with --missing naming only the empty cell it is a
        // number that is not finite, and an error.
        name: "csv_nan_when_not_a_missing_token",
        args: &[
            "train",
            "--data",
            "{dir}/nan_dense.csv",
            "--missing",
            "",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "nan_dense.csv:4",
            "column \"b\"",
            "\"NaN\" is not a finite number",
        ],
    },
    Case {
        name: "csv_value_beyond_f32",
        args: &[
            "train",
            "--data",
            "{dir}/f32_overflow.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "f32_overflow.csv:3",
            "column \"b\"",
            "\"1e39\" is not a finite number",
        ],
    },
    Case {
        name: "csv_label_2",
        args: &["train", "--data", "{dir}/label_2.csv", "--out", "{out}"],
        code: 1,
        expect: &[
            "label_2.csv:4",
            "label column \"label\" has value \"2\"",
            "--positive",
        ],
    },
    Case {
        name: "csv_label_minus_1",
        args: &[
            "train",
            "--data",
            "{dir}/label_negative.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["label_negative.csv:3", "has value \"-1\""],
    },
    Case {
        name: "csv_label_cell_empty",
        args: &[
            "train",
            "--data",
            "{dir}/label_missing_cell.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "label_missing_cell.csv:3",
            "column \"label\"",
            "the label is missing",
        ],
    },
    Case {
        name: "csv_one_row",
        args: &["train", "--data", "{dir}/one_row.csv", "--out", "{out}"],
        code: 1,
        expect: &["one_row.csv", "1 data row(s) cannot be split"],
    },
    Case {
        name: "csv_only_the_label_column",
        args: &["train", "--data", "{dir}/label_only.csv", "--out", "{out}"],
        code: 1,
        expect: &["label_only.csv", "no fields left besides the label"],
    },
    Case {
        name: "csv_column_entirely_empty",
        args: &["train", "--data", "{dir}/all_missing.csv", "--out", "{out}"],
        code: 1,
        expect: &[
            "all_missing.csv",
            "column \"c\" is missing",
            "every one of the 12 rows",
            "--ignore c",
        ],
    },
    Case {
        name: "csv_duplicate_column_names",
        args: &["train", "--data", "{dir}/duplicate.csv", "--out", "{out}"],
        code: 1,
        expect: &["duplicate.csv", "column \"a\" twice", "columns 2 and 4"],
    },
    Case {
        name: "csv_empty_file",
        args: &["train", "--data", "{dir}/empty.csv", "--out", "{out}"],
        code: 1,
        expect: &["empty.csv", "no data rows"],
    },
    Case {
        name: "csv_header_only",
        args: &["train", "--data", "{dir}/header_only.csv", "--out", "{out}"],
        code: 1,
        expect: &["header_only.csv", "no data rows"],
    },
    Case {
        name: "csv_label_names_a_missing_column",
        args: &[
            "train",
            "--data",
            "{dir}/comma.csv",
            "--label",
            "clicked",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["comma.csv", "no column named \"clicked\"", "label, a, b"],
    },
    Case {
        name: "csv_categorical_names_an_unknown_column",
        args: &[
            "train",
            "--data",
            "{dir}/comma.csv",
            "--categorical",
            "zip",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["comma.csv", "no column named \"zip\""],
    },
    Case {
        name: "csv_text_in_forced_dense_column",
        args: &[
            "train",
            "--data",
            "{dir}/forced_dense_text.csv",
            "--dense",
            "a",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "forced_dense_text.csv:2",
            "column \"a\"",
            "\"x\" is not a finite number, but the field is dense",
        ],
    },
    Case {
        name: "csv_one_class_only",
        args: &["train", "--data", "{dir}/one_class.csv", "--out", "{out}"],
        code: 1,
        expect: &["one_class.csv", "every training row has label 1"],
    },
    Case {
        name: "csv_gzip_compressed",
        args: &["train", "--data", "{dir}/gzipped.csv.gz", "--out", "{out}"],
        code: 1,
        expect: &["gzipped.csv.gz", "gzip-compressed", "decompress it first"],
    },
    Case {
        name: "csv_given_a_parquet_file",
        args: &["train", "--data", "{dir}/good.parquet", "--out", "{out}"],
        code: 1,
        expect: &["good.parquet", "this is a Parquet file", "--format parquet"],
    },
    Case {
        name: "csv_unterminated_quote",
        args: &[
            "train",
            "--data",
            "{dir}/unterminated_quote.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "unterminated_quote.csv:3",
            "expected 3 columns, found 2",
            "is a closing quote missing?",
        ],
    },
    Case {
        name: "csv_bad_label_through_run",
        args: &["run", "--data", "{dir}/label_2.csv", "--out", "{out}"],
        code: 1,
        expect: &["label_2.csv:4", "has value \"2\""],
    },
    Case {
        name: "csv_inf_through_nid",
        args: &["nid", "--data", "{dir}/inf_inferred.csv", "--out", "{out}"],
        code: 1,
        expect: &["inf_inferred.csv:5", "column \"b\"", "\"inf\""],
    },
    // ---- Criteo ----------------------------------------------------------------------------
    Case {
        name: "criteo_line_cut_mid_row",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_truncated.txt",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["tsv40_truncated.txt:3", "expected 40 columns, found 17"],
    },
    Case {
        name: "criteo_comma_separated",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_commas.txt",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "tsv40_commas.txt:1",
            "expected 40 columns, found 1",
            "is the delimiter right?",
        ],
    },
    Case {
        name: "criteo_nan_in_dense_field",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_nan.txt",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "tsv40_nan.txt:2",
            "column \"I3\"",
            "\"nan\" is not a finite number",
        ],
    },
    Case {
        name: "criteo_inf_in_dense_field",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_inf.txt",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "tsv40_inf.txt:3",
            "column \"I1\"",
            "\"inf\" is not a finite number",
        ],
    },
    Case {
        name: "criteo_schema_flags_rejected",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_label.txt",
            "--format",
            "criteo",
            "--categorical",
            "I1,I2",
            "--label",
            "y",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &[
            "--categorical, --label do not apply to --format criteo",
            "--format csv",
        ],
    },
    Case {
        name: "criteo_stream_schema_flags_rejected",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_label.txt",
            "--format",
            "criteo",
            "--stream",
            "--missing",
            "NA",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--missing does not apply to --format criteo"],
    },
    Case {
        name: "avazu_schema_flags_rejected",
        args: &[
            "train",
            "--data",
            "{dir}/csv24_click.csv",
            "--format",
            "avazu",
            "--dense",
            "hour",
            "--delimiter",
            ";",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--dense, --delimiter do not apply to --format avazu"],
    },
    Case {
        name: "libfm_ignore_rejected",
        args: &[
            "train",
            "--data",
            "{dir}/libfm_label.libfm",
            "--format",
            "libfm",
            "--ignore",
            "f1",
            "--positive",
            "1",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--positive, --ignore do not apply to --format libfm"],
    },
    Case {
        name: "numeric_bins_zero",
        args: &[
            "train",
            "--data",
            "{dir}/model_train.csv",
            "--label",
            "click",
            "--numeric-bins",
            "0",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--numeric-bins must be at least 1"],
    },
    Case {
        name: "criteo_label_2",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_label.txt",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "tsv40_label.txt:2",
            "label column \"label\" has value \"2\"",
        ],
    },
    Case {
        name: "criteo_utf8_error",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40_utf8.txt",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["tsv40_utf8.txt:2", "column \"C5\"", "not valid UTF-8"],
    },
    Case {
        name: "criteo_gzip_compressed",
        args: &[
            "train",
            "--data",
            "{dir}/tsv40.txt.gz",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["tsv40.txt.gz", "gzip-compressed"],
    },
    Case {
        name: "criteo_streamed_line_cut_mid_row",
        args: &[
            "train",
            "--stream",
            "--chunk-rows",
            "8",
            "--data",
            "{dir}/tsv40_stream_truncated.txt",
            "--format",
            "criteo",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "tsv40_stream_truncated.txt:31",
            "expected 40 columns, found 17",
        ],
    },
    // ---- Avazu -----------------------------------------------------------------------------
    Case {
        name: "avazu_wrong_column_count",
        args: &[
            "train",
            "--data",
            "{dir}/csv24_short.csv",
            "--format",
            "avazu",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["csv24_short.csv:3", "expected 24 columns, found 23"],
    },
    Case {
        name: "avazu_not_the_avazu_header",
        args: &[
            "train",
            "--data",
            "{dir}/csv24_header.csv",
            "--format",
            "avazu",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["csv24_header.csv:1", "this is not an Avazu header"],
    },
    Case {
        name: "avazu_click_2",
        args: &[
            "train",
            "--data",
            "{dir}/csv24_click.csv",
            "--format",
            "avazu",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "csv24_click.csv:3",
            "label column \"click\" has value \"2\"",
        ],
    },
    // ---- libFM -----------------------------------------------------------------------------
    Case {
        name: "libfm_token_without_colon",
        args: &[
            "train",
            "--data",
            "{dir}/libfm_bad_token.libfm",
            "--format",
            "libfm",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "libfm_bad_token.libfm:2",
            "token \"3-1\"",
            "expected `index:value`",
        ],
    },
    Case {
        name: "libfm_index_not_a_number",
        args: &[
            "train",
            "--data",
            "{dir}/libfm_bad_index.libfm",
            "--format",
            "libfm",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "libfm_bad_index.libfm:2",
            "token \"x:1\"",
            "not a non-negative integer",
        ],
    },
    Case {
        name: "libfm_weighted_value",
        args: &[
            "train",
            "--data",
            "{dir}/libfm_weighted.libfm",
            "--format",
            "libfm",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["libfm_weighted.libfm:2", "token \"11:0.5\"", "one-hot"],
    },
    Case {
        name: "libfm_label_2",
        args: &[
            "train",
            "--data",
            "{dir}/libfm_label.libfm",
            "--format",
            "libfm",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["libfm_label.libfm:2", "label \"2\""],
    },
    Case {
        name: "libfm_field_names_count_differs",
        args: &[
            "train",
            "--data",
            "{dir}/libfm_three_tokens.libfm",
            "--format",
            "libfm",
            "--field-names",
            "user,item",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "libfm_three_tokens.libfm:1",
            "2 field names were given, but the line has 3 tokens",
        ],
    },
    Case {
        name: "libfm_token_count_differs_between_lines",
        args: &[
            "train",
            "--data",
            "{dir}/libfm_ragged.libfm",
            "--format",
            "libfm",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["libfm_ragged.libfm:3", "expected 3 tokens", "found 2"],
    },
    Case {
        name: "libfm_index_missing_from_featindex",
        args: &[
            "train",
            "--data",
            "{dir}/indexed_unknown_index.fm.txt",
            "--format",
            "libfm",
            "--featindex",
            "{dir}/featindex.txt",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "indexed_unknown_index.fm.txt:2",
            "token \"99:1\"",
            "index 99 is not in the featindex",
        ],
    },
    Case {
        name: "libfm_two_tokens_of_one_featindex_field",
        args: &[
            "train",
            "--data",
            "{dir}/indexed_same_field.fm.txt",
            "--format",
            "libfm",
            "--featindex",
            "{dir}/featindex.txt",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "indexed_same_field.fm.txt:2",
            "are both of field \"weekday\"",
        ],
    },
    Case {
        name: "libfm_malformed_featindex",
        args: &[
            "train",
            "--data",
            "{dir}/indexed_good.fm.txt",
            "--format",
            "libfm",
            "--featindex",
            "{dir}/featindex_bad.txt",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["featindex_bad.txt:2", "has no tab"],
    },
    Case {
        name: "libfm_featindex_file_absent",
        args: &[
            "train",
            "--data",
            "{dir}/indexed_good.fm.txt",
            "--format",
            "libfm",
            "--featindex",
            "{dir}/no_such_featindex.txt",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "no_such_featindex.txt",
            "cannot open the feature-index file",
        ],
    },
    // ---- Parquet ---------------------------------------------------------------------------
    Case {
        name: "parquet_given_a_csv_file",
        args: &[
            "train",
            "--data",
            "{dir}/comma.csv",
            "--format",
            "parquet",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["comma.csv", "not a readable Parquet file"],
    },
    Case {
        name: "parquet_truncated",
        args: &[
            "train",
            "--data",
            "{dir}/truncated.parquet",
            "--format",
            "parquet",
            "--label",
            "y",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["truncated.parquet", "not a readable Parquet file"],
    },
    Case {
        // Found by fuzzing: the arrow crates panic on this page instead of returning an error.
        name: "parquet_corrupt_page",
        args: &[
            "train",
            "--data",
            "{dir}/corrupt_page.parquet",
            "--format",
            "parquet",
            "--label",
            "y",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "corrupt_page.parquet",
            "not a readable Parquet file",
            "the Parquet decoder failed",
        ],
    },
    Case {
        name: "parquet_nan_in_dense_column",
        args: &[
            "train",
            "--data",
            "{dir}/nan_dense.parquet",
            "--format",
            "parquet",
            "--label",
            "y",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &[
            "nan_dense.parquet",
            "row 3",
            "column \"a\"",
            "not a finite number",
        ],
    },
    Case {
        name: "parquet_label_names_a_missing_column",
        args: &[
            "train",
            "--data",
            "{dir}/good.parquet",
            "--format",
            "parquet",
            "--label",
            "click",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["good.parquet", "no column named \"click\"", "y, a, b, c"],
    },
    Case {
        name: "parquet_categorical_names_an_unknown_column",
        args: &[
            "train",
            "--data",
            "{dir}/good.parquet",
            "--format",
            "parquet",
            "--label",
            "y",
            "--categorical",
            "zip",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["good.parquet", "no column named \"zip\""],
    },
    // ---- Model directories -----------------------------------------------------------------
    Case {
        name: "predict_with_a_model_of_another_schema",
        args: &[
            "predict",
            "--model-dir",
            "{model}",
            "--data",
            "{dir}/other_schema.csv",
            "--out",
            "{out}/scores.csv",
        ],
        code: 1,
        expect: &["other_schema.csv", "the model needs field \"f0\""],
    },
    Case {
        name: "detect_with_a_model_of_another_schema",
        args: &[
            "detect",
            "--model-dir",
            "{model}",
            "--data",
            "{dir}/other_schema.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["other_schema.csv", "the model needs field \"f0\""],
    },
    Case {
        name: "predict_with_a_model_of_another_format",
        args: &[
            "predict",
            "--model-dir",
            "{model}",
            "--data",
            "{dir}/tsv40_label.txt",
            "--out",
            "{out}/scores.csv",
        ],
        code: 1,
        expect: &[
            "tsv40_label.txt",
            "the model needs field \"f0\"",
            "the file has one column only",
        ],
    },
    Case {
        name: "predict_with_a_corrupt_model_json",
        args: &[
            "predict",
            "--model-dir",
            "{dir}/model_corrupt_json",
            "--data",
            "{dir}/model_train.csv",
            "--out",
            "{out}/scores.csv",
        ],
        code: 1,
        expect: &[
            "model_corrupt_json/model.json",
            "not a glider model card",
            "line 6",
        ],
    },
    Case {
        name: "predict_without_model_safetensors",
        args: &[
            "predict",
            "--model-dir",
            "{model_no_weights}",
            "--data",
            "{dir}/model_train.csv",
            "--out",
            "{out}/scores.csv",
        ],
        code: 1,
        expect: &["model.safetensors", "the model's weights are missing"],
    },
    Case {
        name: "detect_with_garbage_model_safetensors",
        args: &[
            "detect",
            "--model-dir",
            "{model_bad_weights}",
            "--data",
            "{dir}/model_train.csv",
            "--out",
            "{out}",
        ],
        code: 1,
        expect: &["model.safetensors", "cannot load the weights"],
    },
    Case {
        name: "predict_with_a_folder_that_is_no_model",
        args: &[
            "predict",
            "--model-dir",
            "{dir}",
            "--data",
            "{dir}/model_train.csv",
            "--out",
            "{out}/scores.csv",
        ],
        code: 1,
        expect: &["model.json", "is --model-dir a trained model?"],
    },
    // ---- Usage errors (exit 2) ---------------------------------------------------------------
    Case {
        name: "usage_unknown_model_name",
        args: &[
            "train",
            "--data",
            "{dir}/model_train.csv",
            "--label",
            "click",
            "--model",
            "transformer",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["unknown model \"transformer\"", "deepfm"],
    },
    Case {
        name: "usage_delimiter_of_two_characters",
        args: &[
            "train",
            "--data",
            "{dir}/comma.csv",
            "--delimiter",
            ";;",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--delimiter must be one ASCII character"],
    },
    Case {
        name: "usage_field_names_without_libfm",
        args: &[
            "train",
            "--data",
            "{dir}/comma.csv",
            "--field-names",
            "a,b",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--field-names names the positional fields of --format libfm"],
    },
    Case {
        name: "usage_local_cutoff_above_one",
        args: &[
            "detect",
            "--model-dir",
            "{model}",
            "--data",
            "{dir}/model_train.csv",
            "--local-cutoff",
            "1.5",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--local-cutoff must be a share in (0, 1] or off, got 1.5"],
    },
    Case {
        name: "usage_cutoff_max_order_one",
        args: &[
            "detect",
            "--model-dir",
            "{model}",
            "--data",
            "{dir}/model_train.csv",
            "--local-cutoff",
            "0.25",
            "--cutoff-max-order",
            "1",
            "--out",
            "{out}",
        ],
        code: 2,
        expect: &["--cutoff-max-order must be between 2 and 10, got 1"],
    },
];

/// The corpus folder.
fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs")
}

/// Runs glider with `args`; returns the exit code (None when killed by a signal) and stderr.
fn glider(args: &[String]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_glider"))
        .args(args)
        .arg("--quiet")
        .output()
        .expect("the glider binary runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Every file under `dir`, recursively (folders themselves do not count).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Trains the tiny model of the `{model…}` placeholders under `root`; returns the model, the
/// model without weights and the model with garbage weights.
fn models(root: &Path) -> [PathBuf; 3] {
    let model = root.join("model");
    let train = corpus().join("model_train.csv");
    let args: Vec<String> = [
        "train",
        "--data",
        train.to_str().unwrap(),
        "--label",
        "click",
        "--model",
        "lr",
        "--epochs",
        "1",
        "--min-count",
        "0",
        "--out",
        model.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, err) = glider(&args);
    assert_eq!(code, Some(0), "training the corpus model failed: {err}");
    let no_weights = root.join("model_no_weights");
    std::fs::create_dir_all(&no_weights).unwrap();
    std::fs::copy(model.join("model.json"), no_weights.join("model.json")).unwrap();
    let bad_weights = root.join("model_bad_weights");
    std::fs::create_dir_all(&bad_weights).unwrap();
    std::fs::copy(model.join("model.json"), bad_weights.join("model.json")).unwrap();
    std::fs::write(
        bad_weights.join("model.safetensors"),
        b"\xff\xff\xff\xff\xff\xff\xff\x7fnot safetensors",
    )
    .unwrap();
    [model, no_weights, bad_weights]
}

#[test]
fn the_corpus_has_at_least_30_cases_with_unique_names() {
    assert!(CASES.len() >= 30, "{} cases", CASES.len());
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "case names must be unique");
}

#[test]
fn every_bad_input_fails_cleanly() {
    let root = std::env::temp_dir().join(format!("glider-bad-inputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let [model, no_weights, bad_weights] = models(&root);
    let dir = corpus();
    let mut failures = Vec::new();
    for case in CASES {
        let out = root.join("out").join(case.name);
        std::fs::create_dir_all(&out).unwrap();
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                a.replace("{dir}", dir.to_str().unwrap())
                    .replace("{out}", out.to_str().unwrap())
                    .replace("{model_no_weights}", no_weights.to_str().unwrap())
                    .replace("{model_bad_weights}", bad_weights.to_str().unwrap())
                    .replace("{model}", model.to_str().unwrap())
            })
            .collect();
        let (code, err) = glider(&args);
        if std::env::var_os("GLIDER_SHOW_ERRORS").is_some() {
            eprintln!("{} (exit {code:?}):\n{err}", case.name);
        }
        let mut problems = Vec::new();
        if code != Some(case.code) {
            problems.push(format!("exit code {code:?}, expected {}", case.code));
        }
        if err.contains("panicked") {
            problems.push("it panicked".to_string());
        }
        for e in case.expect {
            if !err.contains(e) {
                problems.push(format!("stderr lacks {e:?}"));
            }
        }
        let left = files_under(&out);
        if !left.is_empty() {
            problems.push(format!("files left under --out: {left:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  glider {}\n  stderr: {}",
                case.name,
                problems.join("; "),
                args.join(" "),
                err.trim_end().replace('\n', "\n          ")
            ));
        }
    }
    std::fs::remove_dir_all(&root).ok();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
