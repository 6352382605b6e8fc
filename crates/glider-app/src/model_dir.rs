//! Trained models on disk and the subcommands that use them: `train`, `predict`, `detect`,
//! `merge`.
//!
//! A model directory holds `model.safetensors` (weights), `model.json` (the [`ModelCard`]:
//! architecture, settings, vocabularies as value strings, how to read files) and
//! `metrics.json`. Because vocabularies are stored as strings, a model applies to any file with
//! the same columns.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use glider_data::FieldValue;
use glider_data::{
    read_avazu, read_criteo_with, read_csv, read_libfm, CsvOptions, Dataset, FieldEncoding,
    InputEncoder, LibfmFields, SchemaOptions,
};
use glider_explain::blackbox::BlackBox;
use glider_explain::journal::fingerprint;
use glider_explain::pipeline::{
    evaluate, GlobalInteractionsFile, NamedInteraction, Reporter, TestMetrics,
};
use glider_explain::{detect_global, GliderParams, Journal, ModelBlackBox};
use glider_nn::ctr::{self, CtrParams, ModelKind, Recommender};

use crate::output::{write_atomic, write_json};

/// How files are read for a model (the schema flags it was trained with).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reading {
    /// `csv`, `criteo`, `avazu`, `libfm` or `parquet`.
    pub format: String,
    /// Label, kinds, ignored columns, missing tokens.
    pub schema: SchemaOptions,
    /// CSV delimiter byte.
    pub delimiter: u8,
    /// libFM: where each token's field comes from.
    #[serde(default)]
    pub libfm: Option<LibfmFields>,
}

impl Reading {
    /// Reads `paths` into one dataset (rows per file returned); with `label_optional`, a
    /// file without the label column reads with label 0 (files to score).
    ///
    /// # Errors
    /// The reader's error, naming the file, line and column or field.
    pub fn read_paths(
        &self,
        paths: &[PathBuf],
        label_optional: bool,
    ) -> Result<(Dataset, Vec<usize>)> {
        let out = match self.format.as_str() {
            "criteo" => {
                // Kaggle's test.txt has no label column: 39 cells instead of 40.
                let labeled = !label_optional
                    || paths
                        .iter()
                        .all(|p| first_line(p).iter().filter(|&&c| c == b'\t').count() + 1 != 39);
                read_criteo_with(paths, &self.schema.ignore, labeled)?
            }
            "avazu" => read_avazu(paths, &self.schema.ignore)?,
            "libfm" => {
                let fields = self
                    .libfm
                    .clone()
                    .unwrap_or(LibfmFields::Positional { names: None });
                if let LibfmFields::FeatIndex { path } = &fields {
                    if !path.exists() {
                        bail!(
                            "the feature-index file {} (model.json's reading.libfm) is missing; \
                             the model reads libFM tokens through it",
                            path.display()
                        );
                    }
                }
                read_libfm(paths, &fields)?
            }
            "parquet" => {
                #[cfg(feature = "parquet")]
                {
                    let mut schema = self.schema.clone();
                    schema.label_optional |= label_optional;
                    glider_data::read_parquet(paths, &schema)?
                }
                #[cfg(not(feature = "parquet"))]
                {
                    bail!("this glider was built without Parquet support (cargo feature `parquet`, off by \
                     default): rebuild with `cargo build --release --features parquet`; the Python \
                     package has it")
                }
            }
            _ => {
                let mut schema = self.schema.clone();
                schema.label_optional |= label_optional;
                read_csv(
                    paths,
                    &schema,
                    &CsvOptions {
                        delimiter: self.delimiter,
                    },
                )?
            }
        };
        let out = if self.schema.groups.is_empty() {
            out
        } else {
            let (data, per_file) = out;
            (
                glider_data::group_columns(data, &self.schema.groups)?,
                per_file,
            )
        };
        if !label_optional && matches!(self.format.as_str(), "csv" | "parquet") {
            // Training data: a column with no value at all can teach the model nothing and is
            // most likely a mistake (a wrong delimiter inside quotes, an export that lost it).
            let (data, _) = &out;
            if let Some(&f) = data.all_missing_fields().first() {
                let name = &data.fields[f].name;
                bail!(
                    "{}: column \"{name}\" is missing (empty or a --missing token) on every one \
                     of the {} rows, so it cannot teach the model anything; leave it out with \
                     --ignore {name}",
                    data.source,
                    data.num_rows()
                );
            }
        }
        Ok(out)
    }

    /// Applies to a dataset built in memory from raw values (a DataFrame) the transforms
    /// this reading applies to a file's values: for `criteo`, `v > 2 → floor(ln(v)²)` on every
    /// dense field (spec 3.4); nothing for the other formats.
    pub fn transform_in_memory(&self, data: &mut Dataset) {
        if self.format != "criteo" {
            return;
        }
        for column in &mut data.columns {
            if let glider_data::Column::Dense { values } = column {
                for v in values.iter_mut() {
                    if !v.is_nan() {
                        *v = glider_data::DenseTransform::CriteoLog.apply(f64::from(*v)) as f32;
                    }
                }
            }
        }
    }

    /// Reads `path` the way the model's training data was read; the label may be absent.
    /// `embedded:adult` is the bundled demo data.
    pub fn read(&self, path: &Path) -> Result<Dataset> {
        if path.to_str() == Some(glider_data::embedded::ADULT_NAME) {
            return Ok(glider_data::embedded::adult()?);
        }
        Ok(self.read_paths(&[path.to_path_buf()], true)?.0)
    }
}

/// The first line of `path` (at most 64 KiB of it, without the newline); empty when the file
/// cannot be read (the reader then reports the error properly).
fn first_line(path: &Path) -> Vec<u8> {
    use std::io::{BufRead, Read};
    let mut line = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = std::io::BufReader::new(file.take(1 << 16)).read_until(b'\n', &mut line);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    line
}

/// The format version `glider train` writes into model.json: 1 = every numeric field scalar;
/// 2 = numeric fields may be binned (`{"kind": "binned", "edges", "missing"}` encodings).
/// Files of format 1 still load (their numeric fields are scalar).
pub const MODEL_FORMAT: u32 = 2;

/// `model.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelCard {
    /// Format version ([`MODEL_FORMAT`] when written by this glider).
    pub glider_model: u32,
    /// Architecture.
    pub model: ModelKind,
    /// Training settings (the architecture's sizes among them).
    pub params: CtrParams,
    /// Per field, its vocabulary or standardisation.
    pub encodings: Vec<FieldEncoding>,
    /// How to read files for this model.
    pub reading: Reading,
    /// Where it was trained and with which seed.
    pub trained_on: String,
    /// Seed of the training.
    pub seed: u64,
}

/// `metrics.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Metrics {
    /// Validation AUC and logloss.
    pub validation: TestMetrics,
    /// Test AUC and logloss.
    pub test: TestMetrics,
    /// Epochs run (the best is in `best_epoch`).
    pub epochs: usize,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Training wall time.
    pub seconds: f64,
}

/// Writes a trained model's directory.
pub fn save(
    dir: &Path,
    model: &dyn Recommender,
    card: &ModelCard,
    metrics: &Metrics,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    model.save_weights(&dir.join("model.safetensors"))?;
    write_json(&dir.join("model.json"), card)?;
    write_json(&dir.join("metrics.json"), metrics)?;
    Ok(())
}

/// A loaded model with the data it was pointed at, its fields reordered to the model's.
pub struct Loaded {
    /// The card.
    pub card: ModelCard,
    /// The model.
    pub model: Box<dyn Recommender>,
    /// The data, holding exactly the model's fields in the model's order.
    pub data: Dataset,
}

/// Reads `dir/model.json`.
///
/// # Errors
/// A missing or malformed file, named.
pub fn read_card(dir: &Path) -> Result<ModelCard> {
    let card_path = dir.join("model.json");
    let text = std::fs::read_to_string(&card_path).with_context(|| {
        format!(
            "reading {} (is --model-dir a trained model?)",
            card_path.display()
        )
    })?;
    let card: ModelCard = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a glider model card", card_path.display()))?;
    if card.glider_model > MODEL_FORMAT {
        bail!(
            "{}: model format {} is newer than this glider reads (up to {MODEL_FORMAT}); \
             upgrade glider",
            card_path.display(),
            card.glider_model
        );
    }
    Ok(card)
}

/// Loads `dir` and reads `data_path` for it.
///
/// # Errors
/// A missing or malformed model.json or weights file, a data file the model's reading cannot
/// read (named with line and column), a field the model needs that the data lacks.
pub fn load(dir: &Path, data_path: &Path) -> Result<Loaded> {
    let card = read_card(dir)?;
    check_weights(dir)?;
    let data = card.reading.read(data_path)?;
    load_with_card(dir, card, data)
}

/// Loads `dir` for `data` already in memory (a DataFrame from the Python package) holding raw
/// values (the reading's transforms are applied here, [`Reading::transform_in_memory`]): the
/// model's fields are taken from `data` by name and reordered to the model's order.
///
/// # Errors
/// As [`load`], without the reading.
pub fn load_with_data(dir: &Path, mut data: Dataset) -> Result<Loaded> {
    let card = read_card(dir)?;
    check_weights(dir)?;
    card.reading.transform_in_memory(&mut data);
    load_with_card(dir, card, data)
}

/// Fails when `dir/model.safetensors` is missing, naming it.
///
/// # Errors
/// The missing file, with what a model directory holds.
pub fn check_weights(dir: &Path) -> Result<()> {
    let weights = dir.join("model.safetensors");
    if !weights.is_file() {
        bail!(
            "{}: the model's weights are missing (a model directory holds the model.json and \
             model.safetensors that `glider train` writes)",
            weights.display()
        );
    }
    Ok(())
}

fn load_with_card(dir: &Path, card: ModelCard, data: Dataset) -> Result<Loaded> {
    let weights = dir.join("model.safetensors");
    let (encoder, sources) = InputEncoder::from_encodings(&card.encodings, &data)?;
    let data = data.select_fields(&sources);
    let model = ctr::load(card.model, &card.params, encoder, &weights).with_context(|| {
        format!(
            "{}: cannot load the weights of the {} model described by model.json",
            weights.display(),
            card.model.name()
        )
    })?;
    Ok(Loaded { card, model, data })
}

/// `glider train` from a dataset already read: fits the encoder on the training rows (spec
/// 3.4's vocabularies with min-count; numeric fields binned or scaled as `options` says),
/// records every field's final kind in the card's reading (so a file to score is read the
/// same way), trains `kind` with `params` and writes the model directory `out`. Returns the
/// summary line.
///
/// # Errors
/// Encoder options or model settings out of range, a training failure, an unwritable `out`.
#[allow(clippy::too_many_arguments)]
pub fn train_new(
    data: &Dataset,
    split: &glider_data::Split,
    kind: ModelKind,
    params: CtrParams,
    options: &glider_data::EncoderOptions,
    mut reading: Reading,
    seed: u64,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<String> {
    crate::settings::check_ctr_params(kind, &params)?;
    if let Err(e) = options.numeric.check() {
        crate::usage!("{e}");
    }
    let encoder = InputEncoder::fit(data, &split.train, options)?;
    let names_of = |k: glider_data::FieldKind| -> Vec<String> {
        data.fields
            .iter()
            .filter(|f| f.kind == k)
            .map(|f| f.name.clone())
            .collect()
    };
    if reading.format == "csv" {
        reading.schema.categorical = names_of(glider_data::FieldKind::Categorical);
        reading.schema.dense = names_of(glider_data::FieldKind::Dense);
    }
    let card = ModelCard {
        glider_model: MODEL_FORMAT,
        model: kind,
        params,
        encodings: encoder.to_encodings(data)?,
        reading,
        trained_on: data.source.clone(),
        seed,
    };
    train(data, split, card, &encoder, out, reporter)
}

/// `glider train`: returns the summary line.
pub fn train(
    data: &Dataset,
    split: &glider_data::Split,
    card: ModelCard,
    encoder: &InputEncoder,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<String> {
    let t0 = Instant::now();
    let model = {
        let stage = reporter.stage(&format!("train {}", card.model.name()));
        ctr::train(
            card.model,
            data,
            &split.train,
            &split.validation,
            encoder,
            &card.params,
            card.seed,
            stage.as_ref(),
        )?
    };
    let seconds = t0.elapsed().as_secs_f64();
    let metrics = Metrics {
        validation: evaluate(model.as_ref(), data, &split.validation)?,
        test: evaluate(model.as_ref(), data, &split.test)?,
        epochs: model.history().len(),
        best_epoch: model.best_epoch(),
        seconds,
    };
    save(out, model.as_ref(), &card, &metrics)?;
    let cap = ctr::epoch_cap_warning(
        card.model.name(),
        metrics.best_epoch,
        card.params.max_epochs,
    )
    .map(|w| format!("\n{w}"))
    .unwrap_or_default();
    Ok(format!(
        "{} on {}: validation AUC {:.4} logloss {:.4}; test AUC {:.4} logloss {:.4} \
         (best epoch {} of {}, {:.1}s)\nWrote {}/model.safetensors, model.json, metrics.json{cap}",
        card.model.name(),
        card.trained_on,
        metrics.validation.auc,
        metrics.validation.logloss,
        metrics.test.auc,
        metrics.test.logloss,
        metrics.best_epoch,
        metrics.epochs,
        seconds,
        out.display()
    ))
}

/// `glider predict`: writes `row,probability,logit` for every row of the file.
pub fn predict(dir: &Path, data_path: &Path, out: &Path) -> Result<usize> {
    let loaded = load(dir, data_path)?;
    let rows: Vec<usize> = (0..loaded.data.num_rows()).collect();
    let batch = loaded.model.encoder().encode_rows(&loaded.data, &rows);
    let logits = loaded.model.predict_logits(&batch)?;
    write_scores(&logits, out)
}

/// `glider predict --black-box`: scores every row of `data` with `black_box`, in batches of
/// 8,192 rows, and writes `row,probability,logit`.
pub fn predict_black_box(black_box: &dyn BlackBox, data: &Dataset, out: &Path) -> Result<usize> {
    let mut logits = Vec::with_capacity(data.num_rows());
    let all: Vec<usize> = (0..data.num_rows()).collect();
    for chunk in all.chunks(8192) {
        let rows: Vec<FieldValue> = chunk
            .iter()
            .flat_map(|&r| data.columns.iter().map(move |c| c.value(r)))
            .collect();
        logits.extend(black_box.logits(&rows).with_context(|| {
            format!(
                "scoring rows {}..{} of {}",
                chunk[0],
                chunk[0] + chunk.len(),
                data.source
            )
        })?);
    }
    write_scores(&logits, out)
}

/// Writes `row,probability,logit` for `logits` atomically; returns the row count.
fn write_scores(logits: &[f32], out: &Path) -> Result<usize> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["row", "probability", "logit"])?;
    for (i, z) in logits.iter().enumerate() {
        let p = 1.0 / (1.0 + (-z).exp());
        w.write_record([i.to_string(), format!("{p:.6}"), format!("{z:.6}")])?;
    }
    let bytes = w.into_inner().context("writing scores")?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    write_atomic(out, &bytes)?;
    Ok(logits.len())
}

/// `detect.json`: what a detect run (or shard) explained, so shards can be merged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DetectCard {
    /// Shared by every shard of one run.
    pub fingerprint: String,
    /// The model's fields.
    pub fields: Vec<String>,
    /// Instances of the whole run.
    pub instances: usize,
    /// This shard, `(i, n)` 1-based.
    pub shard: (usize, usize),
    /// Instance indices `[start, end)` of this shard.
    pub range: (usize, usize),
    /// GLIDER's settings.
    pub glider: GliderParams,
}

/// Parses `i/n`.
pub fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let (i, n) = text
        .split_once('/')
        .with_context(|| format!("--shard must look like 1/4, got {text:?}"))?;
    let i: usize = i
        .trim()
        .parse()
        .with_context(|| format!("--shard {text:?}"))?;
    let n: usize = n
        .trim()
        .parse()
        .with_context(|| format!("--shard {text:?}"))?;
    if n == 0 || i == 0 || i > n {
        bail!("--shard {text:?}: need 1 <= i <= n");
    }
    Ok((i, n))
}

pub(crate) fn named(
    selected: &[glider_core::aggregate::CountedInteraction],
    names: &[String],
) -> Vec<NamedInteraction> {
    selected
        .iter()
        .map(|c| NamedInteraction {
            fields: c.features.iter().map(|&f| names[f].clone()).collect(),
            count: c.count,
        })
        .collect()
}

/// `glider detect`: explains the first `instances` rows of a file with a trained model.
#[allow(clippy::too_many_arguments)]
pub fn detect(
    dir: &Path,
    data_path: &Path,
    params: &GliderParams,
    shard: (usize, usize),
    resume: bool,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<DetectOutcome> {
    let loaded = load(dir, data_path)?;
    let card_text = serde_json::to_string(&loaded.card)?;
    let black_box = ModelBlackBox::new(loaded.model.as_ref());
    detect_with(
        &black_box,
        &card_text,
        &loaded.data,
        data_path,
        params,
        shard,
        resume,
        out,
        reporter,
    )
}

/// `glider detect` with any black box; `identity` names the model in the run's fingerprint
/// (its card, or the black box's address and mapping), so shards and resumed runs of another
/// model are refused.
#[allow(clippy::too_many_arguments)]
pub fn detect_with(
    black_box: &dyn BlackBox,
    identity: &str,
    data: &Dataset,
    data_path: &Path,
    params: &GliderParams,
    shard: (usize, usize),
    resume: bool,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<DetectOutcome> {
    let n = params.instances.min(data.num_rows());
    let (i, k) = shard;
    let range = ((i - 1) * n / k, i * n / k);
    let mut whole = params.clone();
    whole.instances = n;
    // The file's size and shape, not its path: shards may name it differently.
    let size = std::fs::metadata(data_path).map(|m| m.len()).unwrap_or(0);
    let fp = fingerprint(&[
        identity,
        &size.to_string(),
        &data.num_rows().to_string(),
        &serde_json::to_string(&whole)?,
    ]);
    // Ask the black box about the first instance before anything is written: a model that
    // cannot answer at all (an operator its runtime lacks, a server that is down) fails here
    // with one line and leaves no output behind.
    if range.1 > range.0 {
        black_box.logits(&data.row(range.0)).map_err(|e| {
            anyhow::anyhow!(
                "the black box cannot score instance {} of {}, so nothing was written: {e}",
                range.0,
                data.source
            )
        })?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let names = data.field_names();
    let card = DetectCard {
        fingerprint: fp.clone(),
        fields: names.clone(),
        instances: n,
        shard,
        range,
        glider: whole,
    };
    let journal_path = out.join("local.jsonl");
    let journal = if resume {
        Journal::resume(&journal_path, &fp, n)?
    } else {
        Journal::create(&journal_path, &fp, n)?
    };
    write_json(&out.join("detect.json"), &card)?;
    let rows: Vec<usize> = (range.0..range.1).collect();
    let t0 = Instant::now();
    let detection = {
        let stage = reporter.stage("GLIDER: explaining instances");
        detect_global(
            black_box,
            data,
            &rows,
            params,
            stage.as_ref(),
            Some(&journal),
            range.0,
        )
    };
    if let Some((instance, why)) = &detection.stopped {
        let kept = detection.explained;
        bail!(
            "stopped at instance {instance}, since the black box cannot be reached: {why}\n\
             {kept} finished instance{} kept in {}; once the black box answers, run the same \
             command with --resume to go on from there",
            if kept == 1 { " is" } else { "s are" },
            journal_path.display()
        );
    }
    if detection.explained == 0 && !rows.is_empty() {
        let first = detection
            .failed
            .first()
            .map(|(_, why)| why.as_str())
            .unwrap_or("no reason given");
        bail!(
            "every instance failed ({} of them); the first: {first}",
            detection.failed.len()
        );
    }
    let global = GlobalInteractionsFile {
        fields: names.clone(),
        instances: rows.len(),
        failed: detection.failed.iter().map(|(i, _)| *i).collect(),
        interactions: named(&detection.selected, &names),
        pair_strength: glider_explain::global::pair_strength(&detection.locals, names.len()),
    };
    write_json(&out.join("global_interactions.json"), &global)?;
    for (_, why) in &detection.failed {
        reporter.note(&format!("skipped {why}"));
    }
    Ok(DetectOutcome {
        global,
        explained: detection.explained,
        failed: detection.failed,
        shard,
        range,
        seconds: t0.elapsed().as_secs_f64(),
        out: out.to_path_buf(),
    })
}

/// What one `glider detect` run (or shard) found and wrote.
#[derive(Clone, Debug)]
pub struct DetectOutcome {
    /// `global_interactions.json` as written.
    pub global: GlobalInteractionsFile,
    /// Instances explained (the rest failed).
    pub explained: usize,
    /// The instances whose explanation failed (row index) and why; the run went on.
    pub failed: Vec<(usize, String)>,
    /// The shard run, `(i, k)`: slice `i` of `k` (1-based).
    pub shard: (usize, usize),
    /// The rows explained, `[start, end)`.
    pub range: (usize, usize),
    /// Wall time of the explanation, in seconds.
    pub seconds: f64,
    /// The output folder.
    pub out: PathBuf,
}

impl DetectOutcome {
    /// The summary a person reads: the top interactions table and what was written.
    pub fn summary(&self) -> String {
        let (i, k) = self.shard;
        format!(
            "{}\nExplained {} of {} instances (shard {i}/{k}: {}..{}) in {:.1}s; wrote {}/global_interactions.json and local.jsonl",
            crate::output::interactions_table(&self.global.interactions, self.global.instances),
            self.explained,
            self.global.instances,
            self.range.0,
            self.range.1,
            self.seconds,
            self.out.display()
        )
    }
}

/// `glider merge`: combines the shards of one detect run into its global result.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<String> {
    let mut cards: Vec<DetectCard> = Vec::new();
    let mut locals = Vec::new();
    for d in dirs {
        let path = d.join("detect.json");
        let card: DetectCard = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{}: not a detect.json", path.display()))?;
        if let Some(first) = cards.first() {
            if first.fingerprint != card.fingerprint {
                bail!(
                    "{} comes from another run than {} (other model, data or settings)",
                    d.display(),
                    dirs[0].display()
                );
            }
        }
        locals.extend(Journal::read(&d.join("local.jsonl"), &card.fingerprint)?);
        cards.push(card);
    }
    let Some(first) = cards.first() else {
        bail!("glider merge needs at least one folder");
    };
    locals.sort_by_key(|l| l.instance);
    locals.dedup_by_key(|l| l.instance);
    let missing = first.instances.saturating_sub(locals.len());
    let (_, selected) = glider_explain::global::aggregate(
        &locals,
        first.fields.len(),
        first.glider.top_k,
        first.glider.superset_ratio,
    );
    let explained: std::collections::HashSet<usize> = locals.iter().map(|l| l.instance).collect();
    let global = GlobalInteractionsFile {
        fields: first.fields.clone(),
        instances: first.instances,
        failed: (0..first.instances)
            .filter(|i| !explained.contains(i))
            .collect(),
        interactions: named(&selected, &first.fields),
        pair_strength: glider_explain::global::pair_strength(&locals, first.fields.len()),
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_json(&out.join("global_interactions.json"), &global)?;
    Ok(format!(
        "{}\nMerged {} folder(s): {} of {} instances explained{}; wrote {}/global_interactions.json",
        crate::output::interactions_table(&global.interactions, first.instances),
        dirs.len(),
        locals.len(),
        first.instances,
        if missing > 0 {
            format!(" ({missing} missing: failed or in shards not given)")
        } else {
            String::new()
        },
        out.display()
    ))
}

/// `glider train` from settings: checks the one architecture `model` names, its settings,
/// the encoder options and how `data` is read, then reads and splits the data with `seed`
/// and trains ([`train_new`]) into the model directory `out`. With `crosses_linear_only`, the
/// trailing fields named `cross(…)` feed the first-order term only ([`trailing_crosses`],
/// issue 15). Returns the summary line.
///
/// # Errors
/// A [`crate::Usage`] error for an invalid setting (before anything is read), or for
/// `crosses_linear_only` on data without cross fields; then as
/// [`crate::data::DataOptions::load`] and [`train_new`].
pub fn train_options(
    data: &crate::data::DataOptions,
    model: &crate::settings::ModelSettings,
    crosses_linear_only: bool,
    seed: u64,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<String> {
    let kind = model.single()?;
    let mut params = model.params(kind)?;
    let options = data.encoder_options()?;
    let reading = data.reading()?;
    let (dataset, split) = data.load(seed)?;
    if crosses_linear_only {
        let n = trailing_crosses(&dataset);
        if n == 0 {
            crate::usage!(
                "--crosses-linear-only: {} has no cross fields at its end (fields named \
                 cross(…), as `glider encode --apply` writes them)",
                dataset.source
            );
        }
        params.cross = glider_nn::params::CrossEmbedding {
            fields: n,
            linear_only: true,
            ..glider_nn::params::CrossEmbedding::default()
        };
    }
    train_new(
        &dataset, &split, kind, params, &options, reading, seed, out, reporter,
    )
}

/// The number of fields at the end of `data` named as crosses are (`cross(…)`,
/// [`glider_data::cross::cross_name`]): the cross features `glider encode --apply` appended.
pub fn trailing_crosses(data: &Dataset) -> usize {
    data.fields
        .iter()
        .rev()
        .take_while(|f| f.name.starts_with("cross(") && f.name.ends_with(')'))
        .count()
}

/// `glider detect --black-box`: reads `data` (the label may be absent), opens the black box
/// `spec` names for its fields and explains it ([`detect_with`]). When the mapping was
/// inferred rather than given (an ONNX file without `--mapping`), it is written to
/// `out/mapping.json` and the summary says so.
///
/// # Errors
/// As [`crate::data::DataOptions::read_one`], [`crate::blackbox::open`] and [`detect_with`].
#[allow(clippy::too_many_arguments)]
pub fn detect_black_box(
    spec: &crate::blackbox::BlackBoxSpec,
    data: &crate::data::DataOptions,
    params: &GliderParams,
    shard: (usize, usize),
    resume: bool,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<String> {
    let dataset = data.read_one(true)?;
    let mut spec = spec.clone();
    spec.groups = data.group.clone();
    let opened = crate::blackbox::open(&spec, &dataset)?;
    let line = detect_with(
        opened.black_box.as_ref(),
        &opened.identity,
        &dataset,
        Path::new(&data.data),
        params,
        shard,
        resume,
        out,
        reporter,
    )?
    .summary();
    Ok(match opened.inferred {
        Some(mapping) => {
            let path = out.join("mapping.json");
            write_json(&path, &mapping)?;
            format!(
                "{line}\nNo --mapping given: the model's input columns were read as the data's \
                 fields in header order (a --group as its block of one-hot columns); that \
                 mapping is in {} (edit it and pass --mapping)",
                path.display()
            )
        }
        None => line,
    })
}

/// `glider predict --black-box`: reads `data` (the label may be absent), opens the black
/// box `spec` names and writes its scores to `out` ([`predict_black_box`]). Returns the rows
/// scored.
///
/// # Errors
/// As [`crate::data::DataOptions::read_one`], [`crate::blackbox::open`] and
/// [`predict_black_box`].
pub fn predict_black_box_file(
    spec: &crate::blackbox::BlackBoxSpec,
    data: &crate::data::DataOptions,
    out: &Path,
) -> Result<usize> {
    let dataset = data.read_one(true)?;
    let mut spec = spec.clone();
    spec.groups = data.group.clone();
    let opened = crate::blackbox::open(&spec, &dataset)?;
    predict_black_box(opened.black_box.as_ref(), &dataset, out)
}
