//! Readers: CSV with schema flags, the Criteo TSV format and the Avazu CSV format.
//!
//! All go through one delimited-text reader (the `csv` crate does the parsing). Categorical
//! cells are interned into per-column dictionaries while reading, so memory grows with the
//! number of distinct values, not with the text. Columns the user did not name are inferred:
//! a column whose every non-missing cell is a number is dense, any other is categorical. A dense
//! cell must be a finite `f32`: `inf`, `NaN` (unless a missing token, as by default) or `1e39`
//! in a dense column is an error naming the line and column, never a silent change of kind.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::{Column, Dataset, Field, FieldKind};
use crate::error::DataError;

/// How the label, field kinds and ignored columns are chosen: the schema flags shared by every
/// subcommand (`--label`, `--positive`, `--categorical`, `--dense`, `--ignore`, `--missing`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaOptions {
    /// Label column name.
    pub label: String,
    /// The label value that means "positive"; when `None` the label must be 0 or 1.
    pub positive: Option<String>,
    /// Columns forced to be categorical.
    pub categorical: Vec<String>,
    /// Columns forced to be dense.
    pub dense: Vec<String>,
    /// Columns left out.
    pub ignore: Vec<String>,
    /// Cell texts read as "missing" (after trimming spaces).
    pub missing: Vec<String>,
    /// When true, a file without the label column is accepted (for prediction and
    /// explanation, which need no labels); its labels are all 0.
    #[serde(default)]
    pub label_optional: bool,
    /// How label cells are read (binary 0/1 by default).
    #[serde(default)]
    pub target: TargetKind,
    /// Columns read as one field each (`--group NAME=PATTERN`, see [`crate::group`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<crate::GroupSpec>,
}

/// How the label column's cells become targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// 0/1, or `positive` against the rest (click-through labels).
    #[default]
    Binary,
    /// A finite number (regression).
    Number,
    /// A class name; labels become class indices in order of first appearance (multiclass).
    Class,
}

impl SchemaOptions {
    /// The default missing-value tokens: empty, `?`, `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`.
    pub fn default_missing() -> Vec<String> {
        ["", "?", "NA", "N/A", "NaN", "nan", "null", "NULL"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Options with only the label set and the default missing tokens.
    pub fn with_label(label: impl Into<String>) -> Self {
        SchemaOptions {
            label: label.into(),
            positive: None,
            categorical: vec![],
            dense: vec![],
            ignore: vec![],
            missing: Self::default_missing(),
            label_optional: false,
            target: TargetKind::Binary,
            groups: Vec::new(),
        }
    }
}

/// Delimited-text options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Field delimiter byte (`,` by default).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { delimiter: b',' }
    }
}

/// A transform applied to a dense field's raw number when it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenseTransform {
    /// The value as it is.
    Identity,
    /// The Criteo / AutoInt convention (spec 3.4): `v > 2 → floor(ln(v)^2)`, others unchanged.
    CriteoLog,
}

impl DenseTransform {
    /// Applies the transform to one value.
    pub fn apply(self, v: f64) -> f64 {
        match self {
            DenseTransform::Identity => v,
            DenseTransform::CriteoLog => {
                if v > 2.0 {
                    let l = v.ln();
                    (l * l).floor()
                } else {
                    v
                }
            }
        }
    }
}

/// One input to the delimited reader: a display name (used in errors) and its bytes.
struct Source<'a> {
    name: PathBuf,
    reader: Box<dyn Read + 'a>,
    /// Lines of the file before this reader's first line (0 for a whole file), added to the
    /// line numbers in errors.
    line_offset: u64,
}

/// What one column becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Role {
    Label,
    Ignore,
    Field(Option<FieldKind>, DenseTransform),
}

/// A column while it is being read: interned strings and whether all are numbers.
pub(crate) struct ColumnBuilder {
    index: HashMap<String, u32>,
    pub(crate) dictionary: Vec<String>,
    pub(crate) codes: Vec<u32>,
    /// Every non-missing cell so far parses as a number (finite or not).
    numeric: bool,
    /// The first cell that parses as a number but is not a finite `f32` (`inf`, `NaN` when it
    /// is no missing token, `1e39`): the file, its line and the text. An error if the column
    /// turns out dense.
    nonfinite: Option<(PathBuf, u64, String)>,
}

impl ColumnBuilder {
    pub(crate) fn new() -> Self {
        ColumnBuilder {
            index: HashMap::new(),
            dictionary: vec![String::new()],
            codes: Vec::new(),
            numeric: true,
            nonfinite: None,
        }
    }

    pub(crate) fn push(&mut self, text: &str) {
        if let Some(&code) = self.index.get(text) {
            self.codes.push(code);
            return;
        }
        let code = self.dictionary.len() as u32;
        self.dictionary.push(text.to_string());
        self.index.insert(text.to_string(), code);
        self.codes.push(code);
    }
}

/// Checks a file's header before any row is read; gets the file and the header's names.
type HeaderCheck<'h> = &'h dyn Fn(&Path, &[String]) -> Result<(), DataError>;

fn open(path: &Path) -> Result<Source<'static>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let head = reader.fill_buf().map_err(|e| DataError::io(path, e))?;
    check_text_start(path, head)?;
    Ok(Source {
        name: path.to_path_buf(),
        reader: Box::new(reader),
        line_offset: 0,
    })
}

/// Rejects a file that starts like a compressed archive or a Parquet file, which the text
/// readers would otherwise report as a confusing UTF-8 or column-count error on line 1.
/// `head` is the first bytes of the file (any number; the check needs at most 6).
///
/// # Errors
/// [`DataError::Schema`] naming the file and what it looks like.
pub(crate) fn check_text_start(path: &Path, head: &[u8]) -> Result<(), DataError> {
    let kind = if head.starts_with(&[0x1f, 0x8b]) {
        "gzip-compressed"
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd-compressed"
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        "xz-compressed"
    } else if head.starts_with(b"BZh")
        && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
        && head.get(4) == Some(&0x31)
    {
        "bzip2-compressed"
    } else if head.starts_with(b"PK\x03\x04") {
        "a zip archive"
    } else if head.starts_with(b"PAR1") {
        return Err(DataError::Schema(format!(
            "{}: this is a Parquet file, not text; read it with --format parquet",
            path.display()
        )));
    } else {
        return Ok(());
    };
    Err(DataError::Schema(format!(
        "{}: the file is {kind}; glider reads uncompressed text, so decompress it first",
        path.display()
    )))
}

/// Reads one or more CSV files with a header into one dataset; returns it and the number of
/// rows each file contributed (in order), so that given validation/test files can be split
/// off again. All files must have the same header.
///
/// # Errors
/// A [`DataError`] naming the file, line and column: unreadable file, a compressed or Parquet
/// file, empty file, a header naming a column twice, a row with the wrong number of cells, a
/// cell that is not UTF-8, a named column that does not exist, a label that is not 0/1
/// without `positive`, a non-numeric or non-finite cell in a column forced dense, a
/// non-finite number in a column whose other cells are numbers.
pub fn read_csv(
    paths: &[PathBuf],
    schema: &SchemaOptions,
    options: &CsvOptions,
) -> Result<(Dataset, Vec<usize>), DataError> {
    let sources = paths
        .iter()
        .map(|p| open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let source_name = paths
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    read_delimited(
        sources,
        &source_name,
        None,
        schema,
        options,
        &|_| None,
        None,
    )
}

/// Reads CSV text from any reader (used for the embedded demo data); `name` appears in errors.
///
/// # Errors
/// As [`read_csv`].
pub fn read_csv_from(
    reader: impl Read,
    name: &str,
    schema: &SchemaOptions,
    options: &CsvOptions,
) -> Result<Dataset, DataError> {
    let sources = vec![Source {
        name: PathBuf::from(name),
        reader: Box::new(reader),
        line_offset: 0,
    }];
    read_delimited(sources, name, None, schema, options, &|_| None, None).map(|(d, _)| d)
}

/// The Criteo column names: `label`, `I1`..`I13`, `C1`..`C26`.
pub fn criteo_columns() -> Vec<String> {
    let mut names = vec!["label".to_string()];
    names.extend((1..=13).map(|i| format!("I{i}")));
    names.extend((1..=26).map(|i| format!("C{i}")));
    names
}

/// Reads files in the Criteo Kaggle format: tab separated, no header, 40 columns (label,
/// 13 integer fields `I1..I13`, 26 hashed categorical fields `C1..C26`), empty = missing.
/// Dense fields get the Criteo transform `v > 2 → floor(ln(v)^2)` (spec 3.4).
/// `ignore` may name fields to leave out. Returns the dataset and the rows per file.
///
/// # Errors
/// As [`read_csv`]; a line without exactly 40 cells is an error naming the line.
pub fn read_criteo(
    paths: &[PathBuf],
    ignore: &[String],
) -> Result<(Dataset, Vec<usize>), DataError> {
    read_criteo_with(paths, ignore, true)
}

/// [`read_criteo`] for files with (`labeled`, 40 columns) or without (39 columns, as Kaggle's
/// test.txt) the label column; unlabeled rows get label 0.
///
/// # Errors
/// As [`read_criteo`].
pub fn read_criteo_with(
    paths: &[PathBuf],
    ignore: &[String],
    labeled: bool,
) -> Result<(Dataset, Vec<usize>), DataError> {
    let sources = paths
        .iter()
        .map(|p| open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let source_name = paths
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    criteo_from_sources(sources, &source_name, ignore, labeled)
}

fn criteo_from_sources(
    sources: Vec<Source<'_>>,
    source_name: &str,
    ignore: &[String],
    labeled: bool,
) -> Result<(Dataset, Vec<usize>), DataError> {
    let schema = SchemaOptions {
        label: "label".into(),
        positive: None,
        categorical: vec![],
        dense: vec![],
        ignore: ignore.to_vec(),
        missing: vec![String::new()],
        label_optional: !labeled,
        target: TargetKind::Binary,
        groups: Vec::new(),
    };
    let options = CsvOptions { delimiter: b'\t' };
    let mut names = criteo_columns();
    if !labeled {
        names.remove(0);
    }
    let fixed = |name: &str| -> Option<(FieldKind, DenseTransform)> {
        if name.starts_with('I') {
            Some((FieldKind::Dense, DenseTransform::CriteoLog))
        } else if name.starts_with('C') {
            Some((FieldKind::Categorical, DenseTransform::Identity))
        } else {
            None
        }
    };
    read_delimited(
        sources,
        source_name,
        Some(names),
        &schema,
        &options,
        &fixed,
        None,
    )
}

/// Reads Criteo-format lines held in memory (a chunk of a larger file, see
/// [`crate::stream`]); errors name `path` and the line counted from the file's start, given
/// that the chunk starts after `line_offset` lines. As [`read_criteo_with`] otherwise.
///
/// # Errors
/// As [`read_criteo`].
pub fn read_criteo_chunk(
    bytes: &[u8],
    path: &Path,
    line_offset: u64,
    ignore: &[String],
    labeled: bool,
) -> Result<Dataset, DataError> {
    let sources = vec![Source {
        name: path.to_path_buf(),
        reader: Box::new(bytes),
        line_offset,
    }];
    criteo_from_sources(sources, &path.display().to_string(), ignore, labeled).map(|(d, _)| d)
}

/// The Avazu Kaggle column names, in file order: `id`, `click`, `hour`, `C1`, `banner_pos`,
/// `site_id`, `site_domain`, `site_category`, `app_id`, `app_domain`, `app_category`,
/// `device_id`, `device_ip`, `device_model`, `device_type`, `device_conn_type`, `C14`..`C21`
/// (24 names; Kaggle's `test.csv` has the same without `click`).
pub fn avazu_columns() -> Vec<String> {
    let mut names: Vec<String> = [
        "id",
        "click",
        "hour",
        "C1",
        "banner_pos",
        "site_id",
        "site_domain",
        "site_category",
        "app_id",
        "app_domain",
        "app_category",
        "device_id",
        "device_ip",
        "device_model",
        "device_type",
        "device_conn_type",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.extend((14..=21).map(|i| format!("C{i}")));
    names
}

/// Reads files in the Avazu Kaggle format: comma separated with the header `id,click,hour,
/// C1,banner_pos,...,C21` (24 columns, see [`avazu_columns`]). The label is `click` (0/1).
/// Following the AutoInt convention every other column, 23 of them, is a categorical field,
/// numbers included: `id`, `hour` (`YYMMDDHH`, kept whole) and the 21 categorical columns.
/// `id` is unique per row and is kept as a field on purpose; the encoder's min-count rule
/// sends all its values to the rare id (leave it out with `ignore` instead if you prefer).
/// Only an empty cell is missing (Avazu has none; `-1` in `C20` is a value, not missing).
///
/// Kaggle's `test.csv` has no `click` column (23 columns): such a file is accepted and its
/// labels are all 0. All files must share one header. `ignore` may name fields to leave out.
/// Returns the dataset and the rows per file.
///
/// # Errors
/// A [`DataError`] naming the file (and line where it applies): unreadable or empty file, a
/// header that is not Avazu's (with or without `click`), a row with the wrong number of cells
/// ([`DataError::RowLength`] with the 1-based line), a `click` that is not 0 or 1, an `ignore`
/// name that is not an Avazu column, a header that differs from the first file's.
pub fn read_avazu(
    paths: &[PathBuf],
    ignore: &[String],
) -> Result<(Dataset, Vec<usize>), DataError> {
    let source_name = paths
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let labeled = avazu_columns();
    for name in ignore {
        if !labeled.contains(name) {
            return Err(DataError::UnknownColumn {
                path: PathBuf::from(&source_name),
                column: name.clone(),
                available: labeled.join(", "),
            });
        }
    }
    let unlabeled: Vec<String> = labeled.iter().filter(|c| *c != "click").cloned().collect();
    let check = |path: &Path, header: &[String]| -> Result<(), DataError> {
        if header == labeled.as_slice() || header == unlabeled.as_slice() {
            Ok(())
        } else {
            Err(DataError::Schema(format!(
                "{}:1: this is not an Avazu header: expected the {} columns {} (or the same \
                 without \"click\"), found {} columns {}",
                path.display(),
                labeled.len(),
                labeled.join(","),
                header.len(),
                header.join(",")
            )))
        }
    };
    let sources = paths
        .iter()
        .map(|p| open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let schema = SchemaOptions {
        label: "click".into(),
        positive: None,
        categorical: vec![],
        dense: vec![],
        ignore: ignore.to_vec(),
        missing: vec![String::new()],
        label_optional: true,
        target: TargetKind::Binary,
        groups: Vec::new(),
    };
    let every_column_categorical = |_: &str| -> Option<(FieldKind, DenseTransform)> {
        Some((FieldKind::Categorical, DenseTransform::Identity))
    };
    read_delimited(
        sources,
        &source_name,
        None,
        &schema,
        &CsvOptions::default(),
        &every_column_categorical,
        Some(&check),
    )
}

pub(crate) type FixedKind<'f> = &'f dyn Fn(&str) -> Option<(FieldKind, DenseTransform)>;

/// The one delimited reader. `names` is `Some` for header-less formats; `check`, when given,
/// vets each file's header before its rows are read.
fn read_delimited(
    sources: Vec<Source<'_>>,
    source_name: &str,
    names: Option<Vec<String>>,
    schema: &SchemaOptions,
    options: &CsvOptions,
    fixed: FixedKind<'_>,
    check: Option<HeaderCheck<'_>>,
) -> Result<(Dataset, Vec<usize>), DataError> {
    let missing: HashSet<&str> = schema.missing.iter().map(|s| s.as_str()).collect();
    let mut header: Option<Vec<String>> = names.clone();
    let mut roles: Vec<Role> = Vec::new();
    let mut builders: Vec<Option<ColumnBuilder>> = Vec::new();
    let mut labels: Vec<f32> = Vec::new();
    let mut label_classes: Vec<String> = Vec::new();
    let mut classes: std::collections::HashMap<String, usize> = Default::default();
    let mut label_col = 0usize;
    let mut rows_per_source = Vec::new();
    let has_header = names.is_none();

    for source in sources {
        let path = source.name.clone();
        let offset = source.line_offset;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(has_header)
            .flexible(true)
            .quoting(has_header)
            .trim(csv::Trim::All)
            .from_reader(source.reader);
        let file_header: Vec<String> = if has_header {
            let h = reader
                .byte_headers()
                .map_err(|e| csv_error(&path, e, offset))?;
            let h: Vec<String> = h
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    String::from_utf8(b.to_vec()).map_err(|_| DataError::Parse {
                        path: path.clone(),
                        line: 1,
                        column: format!("#{}", i + 1),
                        message: "the header is not valid UTF-8".into(),
                    })
                })
                .collect::<Result<_, _>>()?;
            if h.is_empty() || (h.len() == 1 && h[0].is_empty()) {
                return Err(DataError::Empty { path });
            }
            h
        } else {
            names.clone().unwrap_or_default()
        };
        if let Some(check) = check {
            check(&path, &file_header)?;
        }
        match &header {
            None => {
                let (r, l) = plan_roles(&path, &file_header, schema, fixed)?;
                roles = r;
                label_col = l;
                builders = roles
                    .iter()
                    .map(|r| match r {
                        Role::Field(..) => Some(ColumnBuilder::new()),
                        _ => None,
                    })
                    .collect();
                header = Some(file_header);
            }
            Some(first) if has_header && *first != file_header => {
                return Err(DataError::Schema(format!(
                    "{}: the header differs from the first file's ({})",
                    path.display(),
                    first.join(",")
                )));
            }
            Some(first) if !has_header && roles.is_empty() => {
                let (r, l) = plan_roles(&path, first, schema, fixed)?;
                roles = r;
                label_col = l;
                builders = roles
                    .iter()
                    .map(|r| match r {
                        Role::Field(..) => Some(ColumnBuilder::new()),
                        _ => None,
                    })
                    .collect();
            }
            Some(_) => {}
        }
        let columns = header.clone().unwrap_or_default();
        let width = columns.len();
        let mut record = csv::ByteRecord::new();
        let mut rows = 0usize;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(csv_error(&path, e, offset)),
            }
            let line = record.position().map(|p| p.line()).unwrap_or(0) + offset;
            if record.len() == 1 && record.get(0).is_some_and(|c| c.is_empty()) {
                continue; // a blank line
            }
            if record.len() != width {
                let hint = if record.len() == 1 && width > 1 {
                    format!(
                        " (is the delimiter right? this reader splits on {:?})",
                        options.delimiter as char
                    )
                } else if record.iter().any(|cell| cell.contains(&b'\n')) {
                    " (a quoted cell runs over several lines: is a closing quote missing?)"
                        .to_string()
                } else {
                    String::new()
                };
                return Err(DataError::RowLength {
                    path,
                    line,
                    expected: width,
                    found: record.len(),
                    hint,
                });
            }
            for (c, role) in roles.iter().enumerate() {
                let bytes = record.get(c).unwrap_or(b"");
                let text = std::str::from_utf8(bytes).map_err(|_| DataError::Parse {
                    path: path.clone(),
                    line,
                    column: columns[c].clone(),
                    message: "the cell is not valid UTF-8".into(),
                })?;
                match role {
                    Role::Ignore => {}
                    Role::Label => {
                        let v = parse_label(&path, line, &columns[c], text, schema)?;
                        let v = match v {
                            Target::Value(v) => v,
                            Target::Class(name) => {
                                let k = match classes.get(name) {
                                    Some(&k) => k,
                                    None => {
                                        classes.insert(name.to_string(), label_classes.len());
                                        label_classes.push(name.to_string());
                                        label_classes.len() - 1
                                    }
                                };
                                k as f32
                            }
                        };
                        labels.push(v);
                    }
                    Role::Field(kind, _) => {
                        let Some(b) = builders[c].as_mut() else {
                            continue;
                        };
                        if missing.contains(text) {
                            b.codes.push(0);
                            continue;
                        }
                        let number = text.parse::<f64>().ok();
                        let finite =
                            number.is_some_and(|v| v.is_finite() && (v as f32).is_finite());
                        if !finite {
                            match kind {
                                Some(FieldKind::Dense) => {
                                    return Err(DataError::Parse {
                                        path: path.clone(),
                                        line,
                                        column: columns[c].clone(),
                                        message: format!(
                                            "\"{text}\" is not a finite number, but the field \
                                             is dense{}",
                                            nonfinite_advice(number.is_some())
                                        ),
                                    });
                                }
                                Some(FieldKind::Categorical) => {}
                                // Inferred: text makes the column categorical; a number
                                // that is not finite is an error if the column ends dense.
                                None if number.is_none() => b.numeric = false,
                                None => {
                                    if b.nonfinite.is_none() {
                                        b.nonfinite = Some((path.clone(), line, text.to_string()));
                                    }
                                }
                            }
                        }
                        b.push(text);
                    }
                }
            }
            if label_col == usize::MAX {
                labels.push(0.0);
            }
            rows += 1;
        }
        rows_per_source.push(rows);
        if rows == 0 {
            return Err(DataError::Empty { path });
        }
    }
    let header = header.unwrap_or_default();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (c, role) in roles.iter().enumerate() {
        let Role::Field(kind, transform) = *role else {
            continue;
        };
        let Some(b) = builders[c].take() else {
            continue;
        };
        let inferred = kind.is_none();
        let kind = kind.unwrap_or(if b.numeric && b.dictionary.len() > 1 {
            FieldKind::Dense
        } else {
            FieldKind::Categorical
        });
        if inferred && kind == FieldKind::Dense {
            if let Some((path, line, text)) = b.nonfinite {
                return Err(DataError::Parse {
                    path,
                    line,
                    column: header[c].clone(),
                    message: format!(
                        "\"{text}\" is not a finite number, but the column's other values \
                         are numbers, so it is a dense field{}; list \"{text}\" in --missing to \
                         read it as missing, or read the column as categories with \
                         --categorical {}",
                        nonfinite_advice(true),
                        header[c]
                    ),
                });
            }
        }
        let column = match kind {
            FieldKind::Categorical => Column::Categorical {
                codes: b.codes,
                dictionary: b.dictionary,
            },
            FieldKind::Dense => {
                // Every dictionary entry past 0 parsed as a finite number while reading.
                let numbers: Vec<f32> = b
                    .dictionary
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        if i == 0 {
                            f32::NAN
                        } else {
                            s.parse::<f64>()
                                .map(|v| transform.apply(v) as f32)
                                .unwrap_or(f32::NAN)
                        }
                    })
                    .collect();
                Column::Dense {
                    values: b.codes.iter().map(|&k| numbers[k as usize]).collect(),
                }
            }
        };
        fields.push(Field {
            name: header[c].clone(),
            kind,
        });
        columns.push(column);
    }
    if fields.is_empty() {
        return Err(DataError::Schema(format!(
            "{source_name}: no fields left besides the label (check --ignore)"
        )));
    }
    Ok((
        Dataset {
            source: source_name.to_string(),
            label_classes,
            label_name: schema.label.clone(),
            fields,
            labels,
            columns,
        },
        rows_per_source,
    ))
}

/// Decides each column's role from the header and the schema flags.
pub(crate) fn plan_roles(
    path: &Path,
    header: &[String],
    schema: &SchemaOptions,
    fixed: FixedKind<'_>,
) -> Result<(Vec<Role>, usize), DataError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(first) = seen.insert(h.as_str(), i) {
            return Err(DataError::Schema(format!(
                "{}: the header names column \"{h}\" twice (columns {} and {}); rename one",
                path.display(),
                first + 1,
                i + 1
            )));
        }
    }
    let available = if header.len() == 1 {
        format!(
            "{} — one column only: is the delimiter right? see --delimiter",
            header[0]
        )
    } else {
        header.join(", ")
    };
    let unknown = |name: &String| DataError::UnknownColumn {
        path: path.to_path_buf(),
        column: name.clone(),
        available: available.clone(),
    };
    let label_col = match header.iter().position(|h| *h == schema.label) {
        Some(c) => c,
        None if schema.label_optional => usize::MAX,
        None => return Err(unknown(&schema.label)),
    };
    for name in schema
        .categorical
        .iter()
        .chain(&schema.dense)
        .chain(&schema.ignore)
    {
        // A file to score or explain may lack columns the training file had; the model
        // names the fields it really needs when it is applied.
        if !header.contains(name) && !schema.label_optional {
            return Err(unknown(name));
        }
    }
    for name in &schema.categorical {
        if schema.dense.contains(name) {
            return Err(DataError::Schema(format!(
                "column \"{name}\" is named both --categorical and --dense"
            )));
        }
    }
    if schema.ignore.contains(&schema.label) || schema.categorical.contains(&schema.label) {
        return Err(DataError::Schema(format!(
            "the label column \"{}\" cannot also be ignored or a field",
            schema.label
        )));
    }
    let roles = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == label_col {
                Role::Label
            } else if schema.ignore.contains(h) {
                Role::Ignore
            } else if let Some((kind, transform)) = fixed(h) {
                Role::Field(Some(kind), transform)
            } else if schema.categorical.contains(h) {
                Role::Field(Some(FieldKind::Categorical), DenseTransform::Identity)
            } else if schema.dense.contains(h) {
                Role::Field(Some(FieldKind::Dense), DenseTransform::Identity)
            } else {
                Role::Field(None, DenseTransform::Identity)
            }
        })
        .collect();
    Ok((roles, label_col))
}

/// Why a dense cell that parses as a number (`number`) is refused; empty for text.
fn nonfinite_advice(number: bool) -> &'static str {
    if number {
        " (a dense value must be a finite 32-bit number: no infinity, NaN or magnitude beyond \
         3.4e38; leave a missing value empty)"
    } else {
        ""
    }
}

/// A parsed label cell.
pub(crate) enum Target<'t> {
    /// A numeric target (0/1 for binary labels).
    Value(f32),
    /// A class name, to be numbered by the caller.
    Class(&'t str),
}

pub(crate) fn parse_label<'t>(
    path: &Path,
    line: u64,
    column: &str,
    text: &'t str,
    schema: &SchemaOptions,
) -> Result<Target<'t>, DataError> {
    let missing = text.is_empty() || schema.missing.iter().any(|m| m == text);
    if missing {
        return Err(DataError::Parse {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            message: "the label is missing".into(),
        });
    }
    match schema.target {
        TargetKind::Class => return Ok(Target::Class(text)),
        TargetKind::Number => {
            return match text.parse::<f64>() {
                Ok(v) if v.is_finite() && (v as f32).is_finite() => Ok(Target::Value(v as f32)),
                _ => Err(DataError::Parse {
                    path: path.to_path_buf(),
                    line,
                    column: column.to_string(),
                    message: format!(
                        "the target \"{text}\" is not a finite number (a regression needs a \
                         numeric target; use --task multiclass for class names)"
                    ),
                }),
            };
        }
        TargetKind::Binary => {}
    }
    if let Some(positive) = &schema.positive {
        return Ok(Target::Value(if text == positive { 1.0 } else { 0.0 }));
    }
    match text.parse::<f64>() {
        Ok(0.0) => Ok(Target::Value(0.0)),
        Ok(1.0) => Ok(Target::Value(1.0)),
        _ => Err(DataError::Label {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            value: text.to_string(),
        }),
    }
}

fn csv_error(path: &Path, e: csv::Error, offset: u64) -> DataError {
    let line = e.position().map(|p| p.line()).unwrap_or(0) + offset;
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => DataError::Parse {
            path: path.to_path_buf(),
            line,
            column: format!("#{}", err.field() + 1),
            message: "not valid UTF-8".into(),
        },
        other => DataError::Parse {
            path: path.to_path_buf(),
            line,
            column: "?".into(),
            message: format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::FieldValue;

    fn read(text: &str, schema: &SchemaOptions) -> Result<Dataset, DataError> {
        read_csv_from(text.as_bytes(), "mem.csv", schema, &CsvOptions::default())
    }

    #[test]
    fn infers_kinds_and_interns_categories() {
        let text = "y,age,job,score\n1,30,a,0.5\n0,40,b,?\n1,35,a,1.5\n";
        let d = read(text, &SchemaOptions::with_label("y")).unwrap();
        assert_eq!(d.labels, vec![1.0, 0.0, 1.0]);
        assert_eq!(d.field_names(), vec!["age", "job", "score"]);
        assert_eq!(d.fields[0].kind, FieldKind::Dense);
        assert_eq!(d.fields[1].kind, FieldKind::Categorical);
        assert_eq!(d.fields[2].kind, FieldKind::Dense);
        assert_eq!(d.row(2)[1], FieldValue::Categorical(1)); // "a" first seen → code 1
        assert_eq!(d.row(1)[1], FieldValue::Categorical(2));
        match d.row(1)[2] {
            FieldValue::Dense(v) => assert!(v.is_nan(), "? is missing"),
            _ => panic!(),
        }
        assert_eq!(d.row(0)[0], FieldValue::Dense(30.0));
    }

    #[test]
    fn positive_class_and_forced_kinds_and_ignore() {
        let text = "age,inc,id\n30,>50K,7\n40,<=50K,8\n";
        let mut s = SchemaOptions::with_label("inc");
        s.positive = Some(">50K".into());
        s.categorical = vec!["age".into()];
        s.ignore = vec!["id".into()];
        let d = read(text, &s).unwrap();
        assert_eq!(d.labels, vec![1.0, 0.0]);
        assert_eq!(d.field_names(), vec!["age"]);
        assert_eq!(d.fields[0].kind, FieldKind::Categorical);
    }

    #[test]
    fn label_not_binary_names_line_and_value() {
        let err = read("y,a\n1,x\n2,y\n", &SchemaOptions::with_label("y")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("mem.csv:3"), "{msg}");
        assert!(msg.contains("\"2\""), "{msg}");
        assert!(msg.contains("--positive"), "{msg}");
    }

    #[test]
    fn wrong_row_length_names_line() {
        let err = read("y,a,b\n1,x,1\n0,y\n", &SchemaOptions::with_label("y")).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::RowLength {
                    line: 3,
                    expected: 3,
                    found: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_column_is_named() {
        let mut s = SchemaOptions::with_label("y");
        s.categorical = vec!["nope".into()];
        let err = read("y,a\n1,x\n", &s).unwrap_err();
        assert!(err.to_string().contains("\"nope\""), "{err}");
        let err = read("y,a\n1,x\n", &SchemaOptions::with_label("lbl")).unwrap_err();
        assert!(err.to_string().contains("\"lbl\""), "{err}");
    }

    #[test]
    fn empty_input_and_header_only() {
        assert!(matches!(
            read("", &SchemaOptions::with_label("y")).unwrap_err(),
            DataError::Empty { .. }
        ));
        assert!(matches!(
            read("y,a\n", &SchemaOptions::with_label("y")).unwrap_err(),
            DataError::Empty { .. }
        ));
    }

    #[test]
    fn forced_dense_rejects_text_and_inf() {
        let mut s = SchemaOptions::with_label("y");
        s.dense = vec!["a".into()];
        let err = read("y,a\n1,2\n0,abc\n", &s).unwrap_err();
        assert!(err.to_string().contains("mem.csv:3: column \"a\""), "{err}");
        let err = read("y,a\n1,inf\n", &s).unwrap_err();
        assert!(err.to_string().contains("finite"), "{err}");
    }

    #[test]
    fn missing_label_and_f32_overflow_are_named() {
        let err = read("y,a\n1,x\n,y\n", &SchemaOptions::with_label("y")).unwrap_err();
        assert!(
            err.to_string()
                .contains("mem.csv:3: column \"y\": the label is missing"),
            "{err}"
        );
        let mut s = SchemaOptions::with_label("y");
        s.dense = vec!["a".into()];
        let err = read("y,a\n1,1e39\n", &s).unwrap_err();
        assert!(err.to_string().contains("finite"), "{err}");
    }

    #[test]
    fn duplicate_header_is_an_error() {
        let err = read("y,a,a\n1,2,3\n", &SchemaOptions::with_label("y")).unwrap_err();
        assert!(err.to_string().contains("twice (columns 2 and 3)"), "{err}");
    }

    #[test]
    fn non_finite_numbers_in_an_inferred_dense_column_are_named() {
        let s = SchemaOptions::with_label("y");
        for (cell, line) in [("inf", 3), ("-Infinity", 3), ("1e39", 3)] {
            let text = format!("y,a,b\n1,1.5,x\n0,{cell},y\n1,2,z\n");
            let err = read(&text, &s).unwrap_err().to_string();
            assert!(
                err.contains(&format!(
                    "mem.csv:{line}: column \"a\": \"{cell}\" is not a finite"
                )),
                "{err}"
            );
        }
        // NaN is a default missing token; without it, it is an error too.
        let text = "y,a\n1,1.5\n0,NaN\n";
        let d = read(text, &s).unwrap();
        assert_eq!(d.fields[0].kind, FieldKind::Dense);
        let mut strict = s.clone();
        strict.missing = vec![String::new()];
        let err = read(text, &strict).unwrap_err().to_string();
        assert!(err.contains("mem.csv:3: column \"a\": \"NaN\""), "{err}");
        // Among text, "inf" is one more category.
        let d = read("y,a\n1,inf\n0,x\n", &s).unwrap();
        assert_eq!(d.fields[0].kind, FieldKind::Categorical);
        let mut cat = s.clone();
        cat.categorical = vec!["a".into()];
        assert!(read("y,a\n1,inf\n0,2\n", &cat).is_ok());
    }

    #[test]
    fn compressed_and_parquet_files_are_recognised() {
        let p = Path::new("x.csv");
        let gz = [0x1f, 0x8b, 8, 0];
        let err = check_text_start(p, &gz).unwrap_err().to_string();
        assert!(err.contains("x.csv: the file is gzip-compressed"), "{err}");
        let err = check_text_start(p, b"PAR1\x15\x04")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--format parquet"), "{err}");
        assert!(check_text_start(p, b"BZh9\x31AY").is_err());
        assert!(check_text_start(p, b"BZh,label\n").is_ok());
        assert!(check_text_start(p, b"").is_ok());
        assert!(check_text_start(p, b"y,a\n").is_ok());
    }

    #[test]
    fn an_unclosed_quote_is_pointed_out() {
        let err = read(
            "y,a,b\n1,x,2\n0,\"y,3\n1,z,4\n",
            &SchemaOptions::with_label("y"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mem.csv:3: expected 3 columns, found 2") && err.contains("closing quote"),
            "{err}"
        );
    }

    #[test]
    fn criteo_transform() {
        assert_eq!(DenseTransform::CriteoLog.apply(2.0), 2.0);
        assert_eq!(DenseTransform::CriteoLog.apply(-1.0), -1.0);
        // ln(1382) = 7.2313..., squared 52.29 → 52
        assert_eq!(DenseTransform::CriteoLog.apply(1382.0), 52.0);
        // ln(3) = 1.0986, squared 1.2069 → 1
        assert_eq!(DenseTransform::CriteoLog.apply(3.0), 1.0);
    }

    /// One Avazu row: `id`, the optional click, then `hour` and 21 values.
    fn avazu_row(id: &str, click: Option<&str>, last: &str) -> String {
        let mut cells = vec![id.to_string()];
        cells.extend(click.map(|c| c.to_string()));
        cells.push("14102100".into());
        cells.extend((0..20).map(|k| format!("v{k}")));
        cells.push(last.to_string());
        cells.join(",")
    }

    #[test]
    fn avazu_fields_labels_and_test_layout() {
        let dir = std::env::temp_dir().join(format!("glider-avazu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("train.csv");
        let header = avazu_columns().join(",");
        std::fs::write(
            &path,
            format!(
                "{header}\n{}\n{}\n",
                avazu_row("1000009418151094273", Some("0"), "79"),
                avazu_row("10000169349117863715", Some("1"), "-1")
            ),
        )
        .unwrap();
        let (d, per_file) = read_avazu(std::slice::from_ref(&path), &[]).unwrap();
        assert_eq!(per_file, vec![2]);
        assert_eq!(d.num_fields(), 23);
        assert_eq!(d.label_name, "click");
        assert_eq!(d.labels, vec![0.0, 1.0]);
        assert_eq!(d.fields[0].name, "id");
        assert_eq!(d.fields[1].name, "hour");
        assert_eq!(d.fields[22].name, "C21");
        assert!(d.fields.iter().all(|f| f.kind == FieldKind::Categorical));
        match &d.columns[22] {
            Column::Categorical { dictionary, codes } => {
                assert_eq!(dictionary, &["", "79", "-1"]);
                assert_eq!(codes, &[1, 2]);
            }
            Column::Dense { .. } => panic!("C21 is categorical"),
        }
        match &d.columns[1] {
            Column::Categorical { dictionary, codes } => {
                assert_eq!(dictionary, &["", "14102100"]);
                assert_eq!(codes, &[1, 1]);
            }
            Column::Dense { .. } => panic!("hour is categorical"),
        }
        let (d, _) = read_avazu(std::slice::from_ref(&path), &["id".to_string()]).unwrap();
        assert_eq!(d.num_fields(), 22);
        assert_eq!(d.fields[0].name, "hour");
        // Kaggle's test.csv: no click column, labels 0.
        let test = dir.join("test.csv");
        let unlabeled: Vec<String> = avazu_columns()
            .into_iter()
            .filter(|c| c != "click")
            .collect();
        std::fs::write(
            &test,
            format!("{}\n{}\n", unlabeled.join(","), avazu_row("5", None, "79")),
        )
        .unwrap();
        let (d, _) = read_avazu(std::slice::from_ref(&test), &[]).unwrap();
        assert_eq!(d.num_fields(), 23);
        assert_eq!(d.labels, vec![0.0]);
        // A train and a test file do not mix.
        let err = read_avazu(&[path.clone(), test.clone()], &[]).unwrap_err();
        assert!(
            err.to_string().contains("test.csv: the header differs"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn avazu_bad_input_names_file_and_line() {
        let dir = std::env::temp_dir().join(format!("glider-avazu-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("avazu.csv");
        let header = avazu_columns().join(",");
        let good = avazu_row("1", Some("0"), "79");
        // A row with a cell too few.
        let short = good.rsplit_once(',').map(|(a, _)| a.to_string()).unwrap();
        std::fs::write(&path, format!("{header}\n{good}\n{short}\n")).unwrap();
        let err = read_avazu(std::slice::from_ref(&path), &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("avazu.csv:3: expected 24 columns, found 23"),
            "{err}"
        );
        // A click that is not 0/1.
        let two = avazu_row("2", Some("2"), "79");
        std::fs::write(&path, format!("{header}\n{good}\n{good}\n{two}\n")).unwrap();
        let err = read_avazu(std::slice::from_ref(&path), &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("avazu.csv:4: label column \"click\" has value \"2\""),
            "{err}"
        );
        // Not Avazu's header (here: Criteo's).
        std::fs::write(&path, format!("{}\n1,2\n", criteo_columns().join(","))).unwrap();
        let err = read_avazu(std::slice::from_ref(&path), &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("avazu.csv:1: this is not an Avazu header"),
            "{err}"
        );
        // An ignore name that is no Avazu column.
        let err = read_avazu(std::slice::from_ref(&path), &["I1".to_string()]).unwrap_err();
        assert!(err.to_string().contains("no column named \"I1\""), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn criteo_rows_with_empty_fields() {
        let dir = std::env::temp_dir().join(format!("glider-criteo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.txt");
        let mut line1 = vec!["1".to_string(), "5".into(), "".into()];
        line1.extend((3..=13).map(|i| i.to_string()));
        line1.extend((1..=26).map(|i| {
            if i == 2 {
                String::new()
            } else {
                format!("h{i}")
            }
        }));
        let mut line2 = vec!["0".to_string(), "1382".into()];
        line2.extend((2..=13).map(|_| "0".to_string()));
        line2.extend((1..=26).map(|i| format!("h{i}")));
        std::fs::write(
            &path,
            format!("{}\n{}\n", line1.join("\t"), line2.join("\t")),
        )
        .unwrap();
        let (d, per_file) = read_criteo(std::slice::from_ref(&path), &[]).unwrap();
        assert_eq!(per_file, vec![2]);
        assert_eq!(d.num_fields(), 39);
        assert_eq!(d.labels, vec![1.0, 0.0]);
        assert_eq!(d.fields[0].name, "I1");
        assert_eq!(d.fields[13].name, "C1");
        // I1 = 5 → floor(ln(5)^2) = floor(2.590) = 2; 1382 → 52.
        assert_eq!(d.row(0)[0], FieldValue::Dense(2.0));
        assert_eq!(d.row(1)[0], FieldValue::Dense(52.0));
        match d.row(0)[1] {
            FieldValue::Dense(v) => assert!(v.is_nan(), "empty I2 is missing"),
            _ => panic!(),
        }
        assert_eq!(
            d.row(0)[14],
            FieldValue::Categorical(0),
            "empty C2 is missing"
        );
        assert_eq!(d.row(1)[14], FieldValue::Categorical(1));
        // A short line is an error naming line 3.
        std::fs::write(
            &path,
            format!("{}\n{}\n1\t2\n", line1.join("\t"), line2.join("\t")),
        )
        .unwrap();
        let err = read_criteo(std::slice::from_ref(&path), &[]).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::RowLength {
                    line: 3,
                    expected: 40,
                    found: 2,
                    ..
                }
            ),
            "{err}"
        );
        // Kaggle's test.txt layout: no label column, 39 cells.
        std::fs::write(&path, format!("{}\n", line2[1..].join("\t"))).unwrap();
        let (d, _) = read_criteo_with(std::slice::from_ref(&path), &[], false).unwrap();
        assert_eq!(d.num_fields(), 39);
        assert_eq!(d.labels, vec![0.0]);
        assert_eq!(d.row(0)[0], FieldValue::Dense(52.0));
        std::fs::remove_dir_all(&dir).ok();
    }
}
