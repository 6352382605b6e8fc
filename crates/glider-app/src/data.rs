//! Data sources and the split policy (spec 3.4's 80/10/10): a file (or the embedded Adult
//! data) with optional validation and test files, read the way a `Reading` says, split into
//! training, validation and test rows with a seed.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use glider_data::{
    embedded, split_indices, Dataset, EncoderOptions, LibfmFields, NumericMode, NumericOptions,
    SchemaOptions, Split,
};

use crate::model_dir::Reading;
use crate::usage;

/// Where the data comes from: `--data`, `--validation`, `--test`, `--validation-fraction`,
/// and how the files are read.
#[derive(Clone, Debug)]
pub struct DataSource {
    /// The data file, or `embedded:adult`.
    pub data: String,
    /// A validation file (then `test` is given too).
    pub validation: Option<PathBuf>,
    /// A test file.
    pub test: Option<PathBuf>,
    /// Share of `data` held out for validation when only `test` is given, in (0, 1).
    pub validation_fraction: f64,
    /// How the files are read.
    pub reading: Reading,
}

impl DataSource {
    /// The reading of the embedded Adult data (CSV, label `income`, positive `>50K`).
    pub fn embedded_reading() -> Reading {
        Reading {
            format: "csv".into(),
            schema: embedded::adult_schema(),
            delimiter: b',',
            libfm: None,
        }
    }
}

/// Reads `source` with a binary label and splits it: three files are the split; data and a
/// test file split the data into training and validation (`validation_fraction`, seeded);
/// one file is split 80/10/10 with `seed`.
///
/// # Errors
/// The reader's error (file, line, column); a training part with one class only, naming the
/// likely cause.
pub fn load(source: &DataSource, seed: u64) -> Result<(Dataset, Split)> {
    let (data, split) = load_with(source, seed, glider_data::TargetKind::Binary)?;
    check_both_classes(&data, &split)?;
    Ok((data, split))
}

/// Fails when the training rows hold one class only: a click model needs both.
///
/// # Errors
/// The message names the source and the likely cause.
pub fn check_both_classes(data: &Dataset, split: &Split) -> Result<()> {
    let positives = split
        .train
        .iter()
        .filter(|&&r| data.labels[r] > 0.5)
        .count();
    if positives == 0 || positives == split.train.len() {
        bail!(
            "{}: every training row has label {} — a click model needs both classes. Is \
             --label right, does the --positive value occur in it, and does the file have its \
             label column (Avazu's click, Criteo's first column)?",
            data.source,
            u8::from(positives > 0)
        );
    }
    Ok(())
}

/// [`load`] with the label read as `target`, without the two-class check.
///
/// # Errors
/// As [`load`].
pub fn load_with(
    source: &DataSource,
    seed: u64,
    target: glider_data::TargetKind,
) -> Result<(Dataset, Split)> {
    if source.data == embedded::ADULT_NAME {
        if target != glider_data::TargetKind::Binary {
            bail!("the embedded Adult data has a binary label (income >50K); use --task binary");
        }
        let data = embedded::adult()?;
        let split = split_indices(data.num_rows(), 0.1, 0.1, seed)?;
        return Ok((data, split));
    }
    let mut paths = vec![PathBuf::from(&source.data)];
    match (&source.validation, &source.test) {
        (Some(v), Some(t)) => {
            paths.push(v.clone());
            paths.push(t.clone());
        }
        (None, Some(t)) => paths.push(t.clone()),
        _ => {}
    }
    let mut reading = source.reading.clone();
    reading.schema.target = target;
    let (data, per_file) = reading.read_paths(&paths, false)?;
    let split = match paths.len() {
        3 => Split::from_counts(&per_file)?,
        2 => split_with_test_file(per_file[0], per_file[1], source.validation_fraction, seed)?,
        _ => split_indices(data.num_rows(), 0.1, 0.1, seed)
            .map_err(|e| anyhow::anyhow!("{}: {e}", data.source))?,
    };
    Ok((data, split))
}

/// The split when only a test file is given: the first `first` rows (from --data) are
/// shuffled with `seed` and `fraction` of them held out for validation; the next `test` rows
/// are the test part.
pub fn split_with_test_file(first: usize, test: usize, fraction: f64, seed: u64) -> Result<Split> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if !(fraction > 0.0 && fraction < 1.0) {
        usage!("--validation-fraction must be in (0, 1), got {fraction}");
    }
    if first < 2 || test == 0 {
        bail!("{first} rows in --data and {test} in --test: need at least 2 and 1");
    }
    let mut order: Vec<usize> = (0..first).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let n_val = ((first as f64 * fraction).round() as usize).clamp(1, first - 1);
    Ok(Split {
        train: order[n_val..].to_vec(),
        validation: order[..n_val].to_vec(),
        test: (first..first + test).collect(),
    })
}

/// Input file format (`--format`; Python's `format=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// CSV with a header; kinds from --categorical/--dense or inferred.
    #[default]
    Csv,
    /// Criteo Kaggle TSV: label, I1..I13, C1..C26, no header, empty = missing.
    Criteo,
    /// Avazu Kaggle CSV: id, click, hour, C1, banner_pos, …, C21; all 23 fields categorical.
    Avazu,
    /// libFM / libSVM `label index:value …` with one-hot tokens (Frappe, iPinYou); labels
    /// -1/1 or 0/1. A token's field is its position, or with --featindex the field named in
    /// iPinYou's feature-index file.
    Libfm,
    /// Parquet: float columns dense, other columns categorical (override with --dense and
    /// --categorical); --label names the label column.
    Parquet,
}

impl Format {
    /// The name a model card records (`csv`, `criteo`, `avazu`, `libfm`, `parquet`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Criteo => "criteo",
            Format::Avazu => "avazu",
            Format::Libfm => "libfm",
            Format::Parquet => "parquet",
        }
    }
}

/// `--numeric`: how numeric fields are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum NumericChoice {
    /// Bins chosen from the training rows.
    Auto,
    /// One embedding scaled by the standardised value.
    Scalar,
}

/// Where the data comes from and how to read and encode it, unchecked: the data flags every
/// subcommand shares (`--data`, `--format`, `--label`, …), with the command line's names and
/// defaults ([`Default`]). [`DataOptions::reading`], [`DataOptions::source`] and
/// [`DataOptions::encoder_options`] check them into the library's types; the messages name
/// the flags.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct DataOptions {
    /// Data file (or `embedded:adult` for the bundled demo data). Without --validation and
    /// --test it is split 80/10/10 with --seed.
    #[cfg_attr(feature = "clap", arg(long))]
    pub data: String,
    /// Validation file (same format); requires --test.
    #[cfg_attr(feature = "clap", arg(long, requires = "test"))]
    pub validation: Option<PathBuf>,
    /// Test file (same format). With --validation, the three files are the split; alone,
    /// --data is split into training and validation (--validation-fraction, seeded).
    #[cfg_attr(feature = "clap", arg(long))]
    pub test: Option<PathBuf>,
    /// Share of --data held out for validation when only --test is given.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.1))]
    pub validation_fraction: f64,
    /// File format.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = Format::Csv))]
    pub format: Format,
    /// libFM: the feature-index file (`field:value<TAB>index` per line, as iPinYou's
    /// featindex.txt) that names each token's field.
    #[cfg_attr(feature = "clap", arg(long))]
    pub featindex: Option<PathBuf>,
    /// libFM without --featindex: names of the positional fields (comma separated; default
    /// f1, f2, …).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub field_names: Vec<String>,
    /// Label column (CSV).
    #[cfg_attr(feature = "clap", arg(long, default_value = "label"))]
    pub label: String,
    /// The label value meaning "positive", when the label is not 0/1 (e.g. ">50K").
    #[cfg_attr(feature = "clap", arg(long))]
    pub positive: Option<String>,
    /// Columns to treat as categorical (comma separated).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub categorical: Vec<String>,
    /// Columns to treat as dense numbers (comma separated).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub dense: Vec<String>,
    /// Columns to leave out (comma separated).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub ignore: Vec<String>,
    /// Read the one-hot (or multi-hot) columns whose names match PATTERN (`*` = any text) as
    /// one categorical field NAME, e.g. `--group occupation=occ_*` (repeat for more fields):
    /// GLIDER then switches the whole block off and reports field-level interactions. A row's
    /// value is its hot column's name (names joined by `|` when several are hot).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME=PATTERN"))]
    pub group: Vec<glider_data::GroupSpec>,
    /// Cell texts that mean "missing" (comma separated; default: empty, ?, NA, N/A, NaN, nan,
    /// null, NULL).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub missing: Option<Vec<String>>,
    /// CSV delimiter (one character; `\t` for tab).
    #[cfg_attr(feature = "clap", arg(long, default_value = ","))]
    pub delimiter: String,
    /// Categorical values seen at most this many times in training share the field's rare id.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 10))]
    pub min_count: usize,
    /// Hash every categorical field's values into N buckets instead of building a
    /// vocabulary (bounded memory for fields with millions of values; 0 = off).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub hash_buckets: usize,
    /// How numeric fields enter the models: `auto` cuts each into bins chosen from the
    /// training rows (one embedding per value for a field with at most --numeric-values
    /// distinct values, else up to --numeric-bins bins of about equal row counts); `scalar`
    /// scales one embedding per field by the standardised value (the CTR papers' input)
    /// [default: auto; scalar with --format criteo, whose log² transform of the counts is
    /// already their encoding: measured on Criteo 10k, binning the transformed counts cost
    /// every model 0.007–0.028 test AUC].
    #[cfg_attr(feature = "clap", arg(long, value_enum))]
    pub numeric: Option<NumericChoice>,
    /// Binned numeric fields: the most bins a field with many values is cut into.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = glider_data::NumericOptions::DEFAULT_BINS))]
    pub numeric_bins: usize,
    /// Binned numeric fields: a field with at most this many distinct training values gets
    /// one embedding per value (values seen at most --min-count times join their nearest
    /// neighbour's).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = glider_data::NumericOptions::DEFAULT_MAX_VALUES))]
    pub numeric_values: usize,
}

impl Default for DataOptions {
    /// The command line's defaults, with `data` empty (it is required there).
    fn default() -> Self {
        DataOptions {
            data: String::new(),
            validation: None,
            test: None,
            validation_fraction: 0.1,
            format: Format::Csv,
            featindex: None,
            field_names: Vec::new(),
            label: "label".into(),
            positive: None,
            categorical: Vec::new(),
            dense: Vec::new(),
            ignore: Vec::new(),
            group: Vec::new(),
            missing: None,
            delimiter: ",".into(),
            min_count: 10,
            hash_buckets: 0,
            numeric: None,
            numeric_bins: glider_data::NumericOptions::DEFAULT_BINS,
            numeric_values: glider_data::NumericOptions::DEFAULT_MAX_VALUES,
        }
    }
}

impl DataOptions {
    /// Options reading the embedded UCI Adult data (label `income`, positive `>50K`).
    pub fn embedded_adult() -> Self {
        DataOptions {
            data: embedded::ADULT_NAME.to_string(),
            label: "income".into(),
            positive: Some(">50K".into()),
            ..DataOptions::default()
        }
    }

    /// Whether `data` names the embedded Adult data.
    pub fn is_embedded(&self) -> bool {
        self.data == embedded::ADULT_NAME
    }

    /// The encoder settings (spec 3.4's inputs: rare ids, hashing, numeric encoding).
    ///
    /// # Errors
    /// A [`crate::Usage`] error for invalid numeric settings.
    pub fn encoder_options(&self) -> Result<EncoderOptions> {
        let options = EncoderOptions {
            min_count: self.min_count,
            hash_buckets: self.hash_buckets,
            numeric: NumericOptions {
                mode: match (self.numeric, self.format) {
                    (Some(NumericChoice::Auto), _) => NumericMode::Auto,
                    (Some(NumericChoice::Scalar), _) | (None, Format::Criteo) => {
                        NumericMode::Scalar
                    }
                    (None, _) => NumericMode::Auto,
                },
                max_values: self.numeric_values,
                bins: self.numeric_bins,
            },
        };
        if let Err(e) = options.numeric.check() {
            usage!("{e}");
        }
        Ok(options)
    }

    /// Rejects the schema flags a fixed-layout format does not read: Criteo and Avazu files
    /// have their own columns (label first, then fields of known kinds), a libFM file has no
    /// named columns at all. Only `--ignore` applies to Criteo and Avazu.
    ///
    /// # Errors
    /// A [`crate::Usage`] error naming the flags and why.
    pub fn check_format_flags(&self) -> Result<()> {
        let name = match self.format {
            Format::Csv | Format::Parquet => return Ok(()),
            f => f.name(),
        };
        let mut given: Vec<&str> = Vec::new();
        if !self.categorical.is_empty() {
            given.push("--categorical");
        }
        if !self.dense.is_empty() {
            given.push("--dense");
        }
        if self.label != "label" {
            given.push("--label");
        }
        if self.positive.is_some() {
            given.push("--positive");
        }
        if self.missing.is_some() {
            given.push("--missing");
        }
        if self.delimiter != "," {
            given.push("--delimiter");
        }
        if self.format == Format::Libfm && !self.ignore.is_empty() {
            given.push("--ignore");
        }
        if given.is_empty() {
            return Ok(());
        }
        let why = match self.format {
            Format::Criteo => {
                "its layout is fixed: the label, then dense I1..I13 (log²-transformed counts, \
                 which --numeric auto gives one embedding per value) and categorical C1..C26, \
                 tab separated, empty = missing; use --format csv with your own schema flags to \
                 read the file another way"
            }
            Format::Avazu => {
                "its layout is fixed: the `click` label and every other column categorical, \
                 comma separated; use --format csv with your own schema flags to read it \
                 another way"
            }
            _ => {
                "libFM tokens are `index:value` one-hot features with the label first; fields \
                 come from their position (--field-names) or --featindex"
            }
        };
        usage!(
            "{} {} not apply to --format {name}: {why}",
            given.join(", "),
            if given.len() == 1 { "does" } else { "do" }
        );
    }

    /// How the files are read (what a model card records), checked.
    ///
    /// # Errors
    /// A [`crate::Usage`] error for flags that do not fit the format, a bad delimiter or
    /// field names; a feature-index file that cannot be opened.
    pub fn reading(&self) -> Result<Reading> {
        self.check_format_flags()?;
        if self.is_embedded() {
            return Ok(DataSource::embedded_reading());
        }
        if self.featindex.is_some() && self.format != Format::Libfm {
            usage!("--featindex applies to --format libfm only");
        }
        if !self.field_names.is_empty() {
            if self.format != Format::Libfm || self.featindex.is_some() {
                usage!(
                    "--field-names names the positional fields of --format libfm (without \
                     --featindex)"
                );
            }
            let mut seen = std::collections::HashSet::new();
            for n in &self.field_names {
                if n.trim().is_empty() {
                    usage!("--field-names has an empty name");
                }
                if !seen.insert(n.as_str()) {
                    usage!("--field-names names {n:?} twice");
                }
            }
        }
        // The model card keeps the featindex path: absolute, so the model works from any
        // folder.
        let featindex = match &self.featindex {
            Some(p) => Some(std::fs::canonicalize(p).with_context(|| {
                format!(
                    "--featindex {}: cannot open the feature-index file",
                    p.display()
                )
            })?),
            None => None,
        };
        let delimiter = match self.delimiter.as_str() {
            "\\t" | "tab" | "\t" => b'\t',
            t if t.len() == 1 && t.is_ascii() => t.as_bytes()[0],
            t => usage!("--delimiter must be one ASCII character (or \\t), got {t:?}"),
        };
        Ok(Reading {
            format: self.format.name().into(),
            schema: SchemaOptions {
                label: self.label.clone(),
                positive: self.positive.clone(),
                categorical: self.categorical.clone(),
                dense: self.dense.clone(),
                ignore: self.ignore.clone(),
                missing: self
                    .missing
                    .clone()
                    .unwrap_or_else(SchemaOptions::default_missing),
                label_optional: false,
                target: glider_data::TargetKind::Binary,
                groups: self.group.clone(),
            },
            delimiter,
            libfm: (self.format == Format::Libfm).then(|| match featindex {
                Some(path) => LibfmFields::FeatIndex { path },
                None => LibfmFields::Positional {
                    names: (!self.field_names.is_empty()).then(|| self.field_names.clone()),
                },
            }),
        })
    }

    /// The data source these options name.
    ///
    /// # Errors
    /// As [`DataOptions::reading`].
    pub fn source(&self) -> Result<DataSource> {
        Ok(DataSource {
            data: self.data.clone(),
            validation: self.validation.clone(),
            test: self.test.clone(),
            validation_fraction: self.validation_fraction,
            reading: self.reading()?,
        })
    }

    /// Reads and splits the data with a binary label ([`load`]).
    ///
    /// # Errors
    /// As [`DataOptions::reading`] and [`load`].
    pub fn load(&self, seed: u64) -> Result<(Dataset, Split)> {
        load(&self.source()?, seed)
    }

    /// [`DataOptions::load`] with the label read as `target` ([`load_with`]).
    ///
    /// # Errors
    /// As [`DataOptions::load`].
    pub fn load_with(
        &self,
        seed: u64,
        target: glider_data::TargetKind,
    ) -> Result<(Dataset, Split)> {
        load_with(&self.source()?, seed, target)
    }

    /// Reads `data` alone, unsplit; with `label_optional` a file without the label column
    /// reads with label 0 (rows to score or explain).
    ///
    /// # Errors
    /// As [`DataOptions::reading`]; the reader's error (file, line, column).
    pub fn read_one(&self, label_optional: bool) -> Result<Dataset> {
        if self.is_embedded() {
            return Ok(embedded::adult()?);
        }
        let reading = self.reading()?;
        Ok(reading
            .read_paths(&[PathBuf::from(&self.data)], label_optional)?
            .0)
    }
}
