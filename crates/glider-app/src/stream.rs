//! `glider train --stream`: training on a Criteo-format file larger than memory.
//!
//! Pass 1 counts the training rows' categorical values and dense statistics
//! ([`glider_data::stream::StreamStats`]); pass 2 keeps the validation and test rows, encoded
//! (20% of the file, 8 bytes per field and row); every epoch then reads the file again chunk by
//! chunk and trains on each chunk's training rows, shuffled within the chunk. Peak memory is
//! the vocabulary counts, the embedding table and its optimiser state, one chunk, and the
//! encoded validation and test rows (see BENCHMARKS.md for a 2M-row measurement).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use rand_chacha::ChaCha8Rng;

use glider_data::stream::{CriteoChunks, Part, StreamStats};
use glider_data::{EncodedBatch, EncoderOptions, FieldEncoding, InputEncoder};
use glider_explain::pipeline::{Reporter, TestMetrics};
use glider_nn::ctr::{self, BatchStep, CtrParams, InMemoryRows, ModelKind, TrainingRows};
use glider_nn::NnError;

/// The training rows of a Criteo file, read chunk by chunk every epoch.
struct CriteoStream<'a> {
    path: &'a Path,
    ignore: &'a [String],
    chunk_rows: usize,
    encodings: &'a [FieldEncoding],
    rows: usize,
}

/// One chunk made ready for encoding: its encoder (from `encodings`, built once per chunk:
/// it maps the chunk's dictionaries) and its fields in the encoder's order.
struct EncodableChunk {
    encoder: InputEncoder,
    data: glider_data::Dataset,
}

impl EncodableChunk {
    fn new(
        chunk: &glider_data::stream::Chunk,
        encodings: &[FieldEncoding],
    ) -> Result<Self, glider_data::DataError> {
        let (encoder, sources) = InputEncoder::from_encodings(encodings, &chunk.data)?;
        Ok(EncodableChunk {
            encoder,
            data: chunk.data.select_fields(&sources),
        })
    }

    /// The chunk's `rows`, encoded, and their labels.
    fn encode(&self, rows: &[usize]) -> (EncodedBatch, Vec<f32>) {
        let labels = rows.iter().map(|&r| self.data.labels[r]).collect();
        (self.encoder.encode_rows(&self.data, rows), labels)
    }
}

impl TrainingRows for CriteoStream<'_> {
    fn rows_per_epoch(&self) -> usize {
        self.rows
    }

    fn epoch(
        &mut self,
        batch_size: usize,
        rng: &mut ChaCha8Rng,
        step: &mut BatchStep<'_>,
    ) -> Result<(), NnError> {
        let input = |e: glider_data::DataError| NnError::Input(e.to_string());
        let mut chunks =
            CriteoChunks::open(self.path, self.chunk_rows, self.ignore).map_err(input)?;
        while let Some(chunk) = chunks.next_chunk().map_err(input)? {
            let (batch, labels) = EncodableChunk::new(&chunk, self.encodings)
                .map_err(input)?
                .encode(&chunk.rows_of(Part::Train));
            drop(chunk);
            InMemoryRows::new(batch, labels).epoch(batch_size, rng, step)?;
        }
        Ok(())
    }
}

/// What a streamed training produced.
pub struct Streamed {
    /// The trained model.
    pub model: Box<dyn ctr::Recommender>,
    /// The fields' encodings (for model.json).
    pub encodings: Vec<FieldEncoding>,
    /// Validation metrics.
    pub validation: TestMetrics,
    /// Test metrics.
    pub test: TestMetrics,
    /// Rows per part: train, validation, test.
    pub rows: [u64; 3],
    /// Distinct categorical values counted in the training rows.
    pub distinct_values: usize,
    /// Wall time of the whole training, passes included.
    pub seconds: f64,
}

fn metrics(
    model: &dyn ctr::Recommender,
    batch: &EncodedBatch,
    labels: &[f32],
) -> Result<TestMetrics> {
    let logits = model.predict_logits(batch)?;
    let (ll, auc) = ctr::logit_metrics(labels, &logits);
    Ok(TestMetrics {
        auc: auc.context("the rows hold one class only: AUC is undefined")?,
        logloss: ll.context("no rows")?,
    })
}

/// Trains `kind` on the Criteo file `path`, streamed in chunks of `chunk_rows` lines.
///
/// # Errors
/// A read error naming the file and line, an empty part, or a training error.
#[allow(clippy::too_many_arguments)]
pub fn train(
    path: &Path,
    ignore: &[String],
    chunk_rows: usize,
    kind: ModelKind,
    params: &CtrParams,
    options: &EncoderOptions,
    seed: u64,
    reporter: &dyn Reporter,
) -> Result<Streamed> {
    let t0 = Instant::now();
    // Pass 1: vocabularies and dense statistics of the training rows.
    let mut stats = StreamStats::default();
    {
        let stage = reporter.stage("pass 1: counting values");
        let mut chunks = CriteoChunks::open(path, chunk_rows, ignore)?;
        while let Some(chunk) = chunks.next_chunk()? {
            stats.add(&chunk, options.hash_buckets > 0)?;
            stage.inc(chunk.data.num_rows() as u64);
        }
        stage.finish();
    }
    let encodings = stats.encodings(options)?;
    let distinct_values = stats.distinct_values();
    let rows = stats.rows;
    drop(stats);
    reporter.note(&format!(
        "{}: {} training, {} validation, {} test rows; {distinct_values} distinct categorical values",
        path.display(),
        rows[0],
        rows[1],
        rows[2]
    ));
    // Pass 2: the validation and test rows, encoded.
    let mut validation = (EncodedBatch::default(), Vec::new());
    let mut test = (EncodedBatch::default(), Vec::new());
    let mut template: Option<InputEncoder> = None;
    {
        let stage = reporter.stage("pass 2: validation and test rows");
        let mut chunks = CriteoChunks::open(path, chunk_rows, ignore)?;
        while let Some(chunk) = chunks.next_chunk()? {
            let ready = EncodableChunk::new(&chunk, &encodings)?;
            for (part, into) in [(Part::Validation, &mut validation), (Part::Test, &mut test)] {
                let (b, l) = ready.encode(&chunk.rows_of(part));
                into.0.num_fields = b.num_fields;
                into.0.rows.extend_from_slice(&b.rows);
                into.0.scales.extend_from_slice(&b.scales);
                into.1.extend_from_slice(&l);
            }
            stage.inc(chunk.data.num_rows() as u64);
            template.get_or_insert(ready.encoder);
        }
        stage.finish();
    }
    let encoder = template.with_context(|| format!("{}: no rows", path.display()))?;
    let mut source = CriteoStream {
        path,
        ignore,
        chunk_rows,
        encodings: &encodings,
        rows: rows[0] as usize,
    };
    let model = {
        let stage = reporter.stage(&format!("train {} (streamed)", kind.name()));
        ctr::train_rows_from(
            kind,
            &mut source,
            &validation.0,
            &validation.1,
            &encoder,
            params,
            seed,
            stage.as_ref(),
        )?
    };
    let validation_metrics = metrics(model.as_ref(), &validation.0, &validation.1)?;
    let test_metrics = metrics(model.as_ref(), &test.0, &test.1)?;
    Ok(Streamed {
        model,
        encodings,
        validation: validation_metrics,
        test: test_metrics,
        rows,
        distinct_values,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// `glider train --stream`: checks the settings, trains the one architecture `model` names
/// on the Criteo file `data` names ([`train`]) and writes the model directory `out`
/// (model.safetensors, model.json, metrics.json). Returns the summary a person reads.
///
/// # Errors
/// A [`crate::Usage`] error for another format, flags the format does not read, validation
/// or test files, `chunk_rows` = 0 or invalid model settings; then as [`train`] and
/// [`crate::model_dir::save`].
pub fn train_to_dir(
    data: &crate::data::DataOptions,
    model: &crate::settings::ModelSettings,
    chunk_rows: usize,
    seed: u64,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<String> {
    use crate::model_dir::{self, Metrics, ModelCard};
    if data.format != crate::data::Format::Criteo {
        crate::usage!("--stream reads Criteo-format files (--format criteo)");
    }
    let reading = data.reading()?;
    if chunk_rows == 0 {
        crate::usage!("--chunk-rows must be at least 1");
    }
    if data.validation.is_some() || data.test.is_some() {
        crate::usage!(
            "--stream takes one file and splits it by row (i mod 10 = 8 validation, 9 test)"
        );
    }
    let kind = model.single()?;
    let params = model.params(kind)?;
    let options = data.encoder_options()?;
    let path = std::path::PathBuf::from(&data.data);
    let trained = train(
        &path,
        &data.ignore,
        chunk_rows,
        kind,
        &params,
        &options,
        seed,
        reporter,
    )?;
    let card = ModelCard {
        glider_model: model_dir::MODEL_FORMAT,
        model: kind,
        params,
        encodings: trained.encodings.clone(),
        reading,
        trained_on: path.display().to_string(),
        seed,
    };
    let metrics = Metrics {
        validation: trained.validation,
        test: trained.test,
        epochs: trained.model.history().len(),
        best_epoch: trained.model.best_epoch(),
        seconds: trained.seconds,
    };
    model_dir::save(out, trained.model.as_ref(), &card, &metrics)?;
    let distinct = if options.hash_buckets > 0 {
        format!(
            "categorical fields hashed into {} buckets",
            options.hash_buckets
        )
    } else {
        format!("{} distinct categorical values", trained.distinct_values)
    };
    let mut line = format!(
        "{kind} on {} (streamed; {} / {} / {} rows, {distinct}): validation AUC {:.4} logloss \
         {:.4}; test AUC {:.4} logloss {:.4} (best epoch {} of {}, {:.1}s)\nWrote \
         {}/model.safetensors, model.json, metrics.json",
        path.display(),
        trained.rows[0],
        trained.rows[1],
        trained.rows[2],
        trained.validation.auc,
        trained.validation.logloss,
        trained.test.auc,
        trained.test.logloss,
        metrics.best_epoch,
        metrics.epochs,
        trained.seconds,
        out.display()
    );
    if let Some(w) = ctr::epoch_cap_warning(kind.name(), metrics.best_epoch, card.params.max_epochs)
    {
        line = format!("{line}\n{w}");
    }
    Ok(line)
}
