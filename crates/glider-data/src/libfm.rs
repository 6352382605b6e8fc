//! The libFM / libSVM text format as the Frappe and iPinYou benchmark files use it.
//!
//! Each line is `label index:value index:value ...`, separated by spaces or tabs, with *global*
//! feature indices: every (field, value) pair of the whole data set has its own index. glider
//! wants fields, so [`LibfmFields`] says how a token's index maps back to its field:
//!
//! - [`LibfmFields::Positional`]: token `k` of a line belongs to field `k` (Frappe: 10 tokens per
//!   line, one per field, in a fixed order). The category string is the index itself.
//! - [`LibfmFields::FeatIndex`]: a featindex file (iPinYou, from the FNN/deep-ctr code) lists
//!   `field:value<TAB>index` per line; a token's field is the text before the first `:` of its
//!   name and the category string is the whole name (`weekday:2`). Lines may omit fields,
//!   which are then missing.
//!
//! glider reads one-hot libFM only: every token's value must be 1 (a weighted feature such as
//! `12:0.5` is an error, not silently binarised), because glider's categorical fields hold one
//! value per row and no weight.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::{Column, Dataset, Field, FieldKind};
use crate::error::DataError;
use crate::read::check_text_start;

/// How the tokens of a libFM line are assigned to fields (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LibfmFields {
    /// Token `k` (1-based, after the label) belongs to field `k`; every line must have as many
    /// tokens as the first line of the first file. Fields are named `f1`..`fN` unless `names`
    /// gives N names. The category string of a token is its index in decimal (`204:1` → `"204"`).
    Positional {
        /// Field names, one per token; `None` names them `f1`..`fN`.
        names: Option<Vec<String>>,
    },
    /// A featindex file maps each index to a name `field:value` (one `name<TAB>index` per
    /// line, as iPinYou's `featindex.fm.txt`: `weekday:2\t1`). The fields are the distinct
    /// texts before the first `:`, in order of first appearance in the featindex file; the
    /// category string of a token is its whole featindex name. A line may leave fields out
    /// (missing); it may not carry two tokens of one field (an error, see [`read_libfm`]).
    FeatIndex {
        /// The featindex file.
        path: PathBuf,
    },
}

/// One featindex entry: the field it belongs to and its name (the category string).
struct FeatEntry {
    field: u32,
    name: String,
}

/// Parses a featindex file: `name<TAB>index` per line, blank lines skipped.
fn read_featindex(path: &Path) -> Result<(Vec<String>, HashMap<u64, FeatEntry>), DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = BufReader::new(file);
    check_text_start(path, reader.fill_buf().map_err(|e| DataError::io(path, e))?)?;
    let mut fields: Vec<String> = Vec::new();
    let mut field_ids: HashMap<String, u32> = HashMap::new();
    let mut entries: HashMap<u64, FeatEntry> = HashMap::new();
    let mut first_line: HashMap<u64, u64> = HashMap::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let bad = |message: String| DataError::Line {
            path: path.to_path_buf(),
            line,
            message,
        };
        let text = std::str::from_utf8(&buf)
            .map_err(|_| bad("the featindex line is not valid UTF-8".into()))?;
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let expected = "expected `field:value<TAB>index`, as `weekday:2\t1`";
        let Some((name, index)) = text.rsplit_once('\t') else {
            return Err(bad(format!(
                "featindex line \"{text}\" has no tab; {expected}"
            )));
        };
        let index: u64 = index.trim().parse().map_err(|_| {
            bad(format!(
                "featindex index \"{}\" is not a non-negative integer; {expected}",
                index.trim()
            ))
        })?;
        let field = match name.split_once(':') {
            Some((field, _)) if !field.is_empty() => field,
            _ => {
                return Err(bad(format!(
                    "featindex name \"{name}\" has no `field:` prefix; {expected}"
                )))
            }
        };
        if let Some(previous) = first_line.get(&index) {
            return Err(bad(format!(
                "featindex index {index} is given a second time (first on line {previous})"
            )));
        }
        first_line.insert(index, line);
        let id = match field_ids.get(field) {
            Some(&id) => id,
            None => {
                let id = fields.len() as u32;
                fields.push(field.to_string());
                field_ids.insert(field.to_string(), id);
                id
            }
        };
        entries.insert(
            index,
            FeatEntry {
                field: id,
                name: name.to_string(),
            },
        );
    }
    if entries.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok((fields, entries))
}

/// A categorical column being built: global index → code, and the dictionary.
struct Builder {
    codes: Vec<u32>,
    dictionary: Vec<String>,
    by_index: HashMap<u64, u32>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            codes: Vec::new(),
            dictionary: vec![String::new()],
            by_index: HashMap::new(),
        }
    }

    /// The code of global index `index`, interning `name()` on first sight.
    fn code(&mut self, index: u64, name: impl FnOnce() -> String) -> u32 {
        if let Some(&code) = self.by_index.get(&index) {
            return code;
        }
        let code = self.dictionary.len() as u32;
        self.dictionary.push(name());
        self.by_index.insert(index, code);
        code
    }
}

/// Parses a libFM label: `-1`/`1` or `0`/`1` (any spelling of those numbers, such as `+1` or
/// `1.0`) → 0/1.
fn parse_label(path: &Path, line: u64, text: &str) -> Result<f32, DataError> {
    match text.parse::<f64>() {
        Ok(1.0) => Ok(1.0),
        Ok(0.0) | Ok(-1.0) => Ok(0.0),
        _ => Err(DataError::Line {
            path: path.to_path_buf(),
            line,
            message: format!(
                "label \"{text}\" is not a libFM click label (-1/1 or 0/1 are read as 0/1)"
            ),
        }),
    }
}

/// Parses one `index:value` token; checks the value is 1.
fn parse_token(path: &Path, line: u64, token: &str) -> Result<u64, DataError> {
    let bad = |what: &str| DataError::Line {
        path: path.to_path_buf(),
        line,
        message: format!("token \"{token}\": {what}"),
    };
    let Some((index, value)) = token.split_once(':') else {
        return Err(bad("expected `index:value`, as `204:1`"));
    };
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "the index is not a non-negative integer (expected `index:value`, as `204:1`)",
        ));
    }
    let index: u64 = index
        .parse()
        .map_err(|_| bad("the index is too large for a 64-bit integer"))?;
    if value.is_empty() {
        return Err(bad(
            "the value is empty (expected `index:value`, as `204:1`)",
        ));
    }
    let value: f64 = value
        .parse()
        .map_err(|_| bad("the value is not a number"))?;
    if value != 1.0 {
        return Err(bad(
            "glider reads one-hot libFM tokens only (value 1); a weighted feature value has no \
             place in a categorical field",
        ));
    }
    Ok(index)
}

/// Reads libFM / libSVM files (`label index:value ...` per line, global indices; see the
/// module docs) into one dataset of categorical fields; returns it and the number of rows each
/// file contributed. Blank lines are skipped; tokens are separated by any ASCII whitespace and a
/// trailing `\r` is ignored (the Frappe files have CRLF line ends).
///
/// - Labels: `-1`/`1` and `0`/`1` are read as 0/1 (the label is named `label`).
/// - Values: every token must be `index:1` (one-hot); glider does not read weighted libFM.
/// - [`LibfmFields::Positional`]: every line has the token count of the first line.
/// - [`LibfmFields::FeatIndex`]: every index must be in the featindex file; a line may leave a
///   field out (missing) but two tokens of one field on a line are an error. The iPinYou files
///   never do this (each line has exactly one token per field), and glider's fields hold one
///   value per row, so keeping one of the two would silently drop data, most likely from a
///   featindex file that does not belong to the data.
///
/// # Errors
/// A [`DataError`] naming the file and 1-based line: [`DataError::Line`] for a label other
/// than -1/0/1, a malformed token (`12`, `:1`, `a:1`, `3:`, quoted in the message), a value
/// that is not a number or not 1, a token count that differs from the first line's
/// (Positional), an index absent from the featindex file, two tokens of one field, a
/// malformed featindex line (naming the featindex file and its line); [`DataError::Empty`]
/// for a file with no rows; [`DataError::Schema`] when `names` has the wrong length;
/// [`DataError::Io`] when a file cannot be read.
pub fn read_libfm(
    paths: &[PathBuf],
    fields: &LibfmFields,
) -> Result<(Dataset, Vec<usize>), DataError> {
    if paths.is_empty() {
        return Err(DataError::Schema("no libFM files to read".into()));
    }
    let (featindex, given) = match fields {
        LibfmFields::FeatIndex { path } => (Some(read_featindex(path)?), None),
        LibfmFields::Positional { names } => (None, names.as_ref()),
    };
    // Positional: the number of tokens, fixed by the first line read.
    let mut width: Option<usize> = None;
    let mut names: Vec<String> = match &featindex {
        Some((names, _)) => names.clone(),
        None => Vec::new(),
    };
    let mut builders: Vec<Builder> = names.iter().map(|_| Builder::new()).collect();
    let mut labels: Vec<f32> = Vec::new();
    let mut rows_per_file = Vec::with_capacity(paths.len());
    let mut row: Vec<u32> = vec![0; builders.len()];
    // Per field, the token that set it on the current line (FeatIndex duplicate check).
    let mut set_by: Vec<usize> = vec![usize::MAX; builders.len()];
    let mut buf = Vec::new();
    for path in paths {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        check_text_start(path, reader.fill_buf().map_err(|e| DataError::io(path, e))?)?;
        let mut line = 0u64;
        let mut rows = 0usize;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| DataError::io(path, e))?;
            if n == 0 {
                break;
            }
            line += 1;
            let text = std::str::from_utf8(&buf).map_err(|_| DataError::Line {
                path: path.clone(),
                line,
                message: "the line is not valid UTF-8".into(),
            })?;
            let mut tokens = text.split_ascii_whitespace();
            let Some(label) = tokens.next() else {
                continue; // a blank line
            };
            let label = parse_label(path, line, label)?;
            let tokens: Vec<&str> = tokens.collect();
            match &featindex {
                None => {
                    let expected = match width {
                        Some(w) => w,
                        None => {
                            let w = tokens.len();
                            if w == 0 {
                                return Err(DataError::Line {
                                    path: path.clone(),
                                    line,
                                    message: "the first line has a label but no tokens, so \
                                              it gives no fields"
                                        .into(),
                                });
                            }
                            names = match given {
                                Some(given) if given.len() != w => {
                                    return Err(DataError::Schema(format!(
                                        "{}:{line}: {} field names were given, but the line \
                                         has {w} tokens (positional libFM: one field per token)",
                                        path.display(),
                                        given.len()
                                    )))
                                }
                                Some(given) => given.clone(),
                                None => (1..=w).map(|k| format!("f{k}")).collect(),
                            };
                            builders = names.iter().map(|_| Builder::new()).collect();
                            width = Some(w);
                            w
                        }
                    };
                    if tokens.len() != expected {
                        return Err(DataError::Line {
                            path: path.clone(),
                            line,
                            message: format!(
                                "expected {expected} tokens after the label (as on the first \
                                 line; positional libFM has one token per field), found {}",
                                tokens.len()
                            ),
                        });
                    }
                    for (builder, token) in builders.iter_mut().zip(&tokens) {
                        let index = parse_token(path, line, token)?;
                        let code = builder.code(index, || index.to_string());
                        builder.codes.push(code);
                    }
                }
                Some((_, entries)) => {
                    row.iter_mut().for_each(|c| *c = 0);
                    set_by.iter_mut().for_each(|s| *s = usize::MAX);
                    for (k, token) in tokens.iter().enumerate() {
                        let index = parse_token(path, line, token)?;
                        let Some(entry) = entries.get(&index) else {
                            return Err(DataError::Line {
                                path: path.clone(),
                                line,
                                message: format!(
                                    "token \"{token}\": index {index} is not in the featindex \
                                     file (is it the featindex of this data?)"
                                ),
                            });
                        };
                        let f = entry.field as usize;
                        if set_by[f] != usize::MAX {
                            return Err(DataError::Line {
                                path: path.clone(),
                                line,
                                message: format!(
                                    "tokens \"{}\" and \"{token}\" are both of field \"{}\"; \
                                     a glider field holds one value per row (is the featindex \
                                     file the one of this data?)",
                                    tokens[set_by[f]], names[f]
                                ),
                            });
                        }
                        set_by[f] = k;
                        row[f] = builders[f].code(index, || entry.name.clone());
                    }
                    for (builder, &code) in builders.iter_mut().zip(&row) {
                        builder.codes.push(code);
                    }
                }
            }
            labels.push(label);
            rows += 1;
        }
        if rows == 0 {
            return Err(DataError::Empty { path: path.clone() });
        }
        rows_per_file.push(rows);
    }
    let fields = names
        .into_iter()
        .map(|name| Field {
            name,
            kind: FieldKind::Categorical,
        })
        .collect();
    let columns = builders
        .into_iter()
        .map(|b| Column::Categorical {
            codes: b.codes,
            dictionary: b.dictionary,
        })
        .collect();
    Ok((
        Dataset {
            source: paths
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            label_name: "label".into(),
            fields,
            labels,
            label_classes: Vec::new(),
            columns,
        },
        rows_per_file,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::FieldValue;

    /// A fresh temp dir for one test.
    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("glider-libfm-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn dictionary(d: &Dataset, f: usize) -> &[String] {
        match &d.columns[f] {
            Column::Categorical { dictionary, .. } => dictionary,
            Column::Dense { .. } => panic!("libFM fields are categorical"),
        }
    }

    fn positional() -> LibfmFields {
        LibfmFields::Positional { names: None }
    }

    #[test]
    fn positional_fields_labels_and_crlf() {
        let dir = temp_dir("pos");
        let a = dir.join("a.libfm");
        let b = dir.join("b.libfm");
        std::fs::write(&a, "-1 3:1 10:1\r\n1 4:1 10:1\r\n\r\n").unwrap();
        std::fs::write(&b, "0 3:1 11:1.0\n+1\t4:1  10:1\n").unwrap();
        let (d, per_file) = read_libfm(&[a.clone(), b.clone()], &positional()).unwrap();
        assert_eq!(per_file, vec![2, 2]);
        assert_eq!(d.field_names(), vec!["f1", "f2"]);
        assert_eq!(d.labels, vec![0.0, 1.0, 0.0, 1.0]);
        assert_eq!(d.fields[0].kind, FieldKind::Categorical);
        assert_eq!(dictionary(&d, 0), ["", "3", "4"]);
        assert_eq!(dictionary(&d, 1), ["", "10", "11"]);
        assert_eq!(
            d.row(2),
            vec![FieldValue::Categorical(1), FieldValue::Categorical(2)]
        );
        assert_eq!(d.label_name, "label");
        let names = LibfmFields::Positional {
            names: Some(vec!["user".into(), "item".into()]),
        };
        let (d, _) = read_libfm(std::slice::from_ref(&a), &names).unwrap();
        assert_eq!(d.field_names(), vec!["user", "item"]);
        let wrong = LibfmFields::Positional {
            names: Some(vec!["user".into()]),
        };
        let err = read_libfm(std::slice::from_ref(&a), &wrong).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("a.libfm:1:") && msg.contains("1 field names"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Reads `text` as a positional libFM file; returns the error text.
    fn positional_error(dir: &Path, text: &str) -> String {
        let p = dir.join("bad.libfm");
        std::fs::write(&p, text).unwrap();
        read_libfm(&[p], &positional()).unwrap_err().to_string()
    }

    #[test]
    fn bad_lines_name_file_line_and_token() {
        let dir = temp_dir("bad");
        let good = "1 3:1 10:1\n";
        let msg = positional_error(&dir, &format!("{good}0 3:1\n"));
        assert!(
            msg.contains("bad.libfm:2: expected 2 tokens") && msg.contains("found 1"),
            "{msg}"
        );
        let msg = positional_error(&dir, &format!("{good}2 3:1 10:1\n"));
        assert!(msg.contains("bad.libfm:2: label \"2\""), "{msg}");
        let msg = positional_error(&dir, &format!("{good}yes 3:1 10:1\n"));
        assert!(msg.contains("bad.libfm:2: label \"yes\""), "{msg}");
        for token in ["12", ":1", "a:1", "3:", "-3:1"] {
            let msg = positional_error(&dir, &format!("{good}{good}0 3:1 {token}\n"));
            assert!(
                msg.contains(&format!("bad.libfm:3: token \"{token}\"")),
                "{token}: {msg}"
            );
        }
        let msg = positional_error(&dir, &format!("{good}0 3:1 10:x\n"));
        assert!(
            msg.contains("bad.libfm:2: token \"10:x\": the value is not a number"),
            "{msg}"
        );
        let msg = positional_error(&dir, &format!("{good}0 3:1 10:0.5\n"));
        assert!(
            msg.contains("bad.libfm:2: token \"10:0.5\"") && msg.contains("one-hot"),
            "{msg}"
        );
        let msg = positional_error(&dir, "1\n");
        assert!(
            msg.contains("bad.libfm:1:") && msg.contains("no tokens"),
            "{msg}"
        );
        let msg = positional_error(&dir, "\n\n");
        assert!(
            msg.contains("bad.libfm: the file has no data rows"),
            "{msg}"
        );
        let err = read_libfm(&[dir.join("absent.libfm")], &positional()).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn featindex_fields_missing_fields_and_names() {
        let dir = temp_dir("fi");
        let fi = dir.join("featindex.txt");
        std::fs::write(
            &fi,
            "weekday:other\t0\nweekday:2\t1\nhour:00\t2\nhour:01\t3\n\ncity:a:b\t4\n",
        )
        .unwrap();
        let data = dir.join("train.fm.txt");
        std::fs::write(&data, "1 1:1 3:1\n0 0:1\n0 2:1 4:1 1:1\n").unwrap();
        let fields = LibfmFields::FeatIndex { path: fi.clone() };
        let (d, per_file) = read_libfm(std::slice::from_ref(&data), &fields).unwrap();
        assert_eq!(per_file, vec![3]);
        assert_eq!(d.field_names(), vec!["weekday", "hour", "city"]);
        assert_eq!(d.labels, vec![1.0, 0.0, 0.0]);
        // Codes in order of first appearance in the data; a left-out field is missing.
        assert_eq!(dictionary(&d, 0), ["", "weekday:2", "weekday:other"]);
        assert_eq!(dictionary(&d, 1), ["", "hour:01", "hour:00"]);
        assert_eq!(dictionary(&d, 2), ["", "city:a:b"]);
        assert_eq!(
            d.row(1),
            vec![
                FieldValue::Categorical(2),
                FieldValue::Categorical(0),
                FieldValue::Categorical(0)
            ]
        );
        assert_eq!(
            d.row(2),
            vec![
                FieldValue::Categorical(1),
                FieldValue::Categorical(2),
                FieldValue::Categorical(1)
            ]
        );
        // An index the featindex file lacks.
        std::fs::write(&data, "1 1:1 3:1\n0 9:1\n").unwrap();
        let msg = read_libfm(std::slice::from_ref(&data), &fields)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("train.fm.txt:2: token \"9:1\": index 9 is not in the featindex"),
            "{msg}"
        );
        // Two tokens of one field.
        std::fs::write(&data, "1 1:1 3:1\n0 0:1 2:1 1:1\n").unwrap();
        let msg = read_libfm(std::slice::from_ref(&data), &fields)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(
                "train.fm.txt:2: tokens \"0:1\" and \"1:1\" are both of field \"weekday\""
            ),
            "{msg}"
        );
        // A malformed token with featindex fields.
        std::fs::write(&data, "1 1:1 3\n").unwrap();
        let msg = read_libfm(std::slice::from_ref(&data), &fields)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("train.fm.txt:1: token \"3\""), "{msg}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn malformed_featindex_lines_are_named() {
        let dir = temp_dir("fibad");
        let data = dir.join("d.fm.txt");
        std::fs::write(&data, "1 1:1\n").unwrap();
        let fi = dir.join("featindex.txt");
        for (text, line, what) in [
            ("weekday:2\t1\nweekday:3 2\n", 2, "has no tab"),
            ("weekday:2\t1\n\nweekday3\t2\n", 3, "no `field:` prefix"),
            ("weekday:2\t1\n:3\t2\n", 2, "no `field:` prefix"),
            (
                "weekday:2\tone\n",
                1,
                "index \"one\" is not a non-negative integer",
            ),
            (
                "weekday:2\t1\nweekday:3\t1\n",
                2,
                "index 1 is given a second time",
            ),
        ] {
            std::fs::write(&fi, text).unwrap();
            let fields = LibfmFields::FeatIndex { path: fi.clone() };
            let msg = read_libfm(std::slice::from_ref(&data), &fields)
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains(&format!("featindex.txt:{line}: ")) && msg.contains(what),
                "{text:?}: {msg}"
            );
        }
        std::fs::write(&fi, "\n").unwrap();
        let fields = LibfmFields::FeatIndex { path: fi.clone() };
        let err = read_libfm(std::slice::from_ref(&data), &fields).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
