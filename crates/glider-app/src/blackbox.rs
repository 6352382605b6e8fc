//! The black-box factory: a model behind an Open Inference Protocol (KServe v2) server or an
//! ONNX file run in-process, opened for a dataset's fields (spec 3: GLIDER never knows which
//! model it explains). The command line's `--black-box` and the Python package's
//! `glider.detect(model="x.onnx")` both open models here.

use std::path::PathBuf;

use anyhow::{Context, Result};

use glider_data::Dataset;
use glider_explain::http::Mapping;
use glider_explain::BlackBox;

use crate::usage;

/// Where the model is and how to ask it (`--black-box`, `--mapping`, `--request-rows`,
/// `--timeout`, `--retries`).
#[derive(Clone, Debug, PartialEq)]
pub struct BlackBoxSpec {
    /// `http://HOST:PORT/v2/models/NAME` or `onnx:PATH`.
    pub address: String,
    /// A mapping file (JSON); `None`: one tensor per field named after it (HTTP), or for
    /// ONNX the fields in order into its one input.
    pub mapping: Option<PathBuf>,
    /// Rows per request, at least 1.
    pub request_rows: usize,
    /// Seconds before a request times out, positive.
    pub timeout_s: f64,
    /// Extra attempts after a connection error, a 429 or a 5xx answer.
    pub retries: usize,
    /// The data's `--group`s: without a mapping, an ONNX model's input takes each group as
    /// its block of one-hot columns.
    pub groups: Vec<glider_data::GroupSpec>,
}

impl BlackBoxSpec {
    /// A spec with the command line's defaults: 4,096 rows per request, 60 s, 3 retries.
    pub fn new(address: impl Into<String>) -> Self {
        BlackBoxSpec {
            address: address.into(),
            mapping: None,
            request_rows: 4096,
            timeout_s: 60.0,
            retries: 3,
            groups: Vec::new(),
        }
    }
}

/// An opened black box.
pub struct Opened {
    /// The model.
    pub black_box: Box<dyn BlackBox>,
    /// Its identity for run fingerprints: address, mapping and, for ONNX, the file's hash.
    pub identity: String,
    /// The mapping when it was inferred rather than given (to write beside the output).
    pub inferred: Option<Mapping>,
}

/// Opens the black box `spec` names for `data`'s fields.
///
/// # Errors
/// A [`crate::Usage`] error for a bad address or setting; an unreadable or malformed mapping
/// or model file, named; a model whose inputs do not fit the data (named shapes).
pub fn open(spec: &BlackBoxSpec, data: &Dataset) -> Result<Opened> {
    use glider_explain::http::{HttpBlackBox, HttpOptions};
    if spec.request_rows == 0 || spec.timeout_s.is_nan() || spec.timeout_s <= 0.0 {
        usage!("--request-rows and --timeout must be positive");
    }
    let address = &spec.address;
    #[cfg(feature = "onnx")]
    let inferred = match (address.strip_prefix("onnx:"), &spec.mapping) {
        (Some(path), None) => Some(glider_explain::onnx::inferred_mapping(
            std::path::Path::new(path),
            data,
            &spec.groups,
        )?),
        _ => None,
    };
    #[cfg(not(feature = "onnx"))]
    let inferred: Option<Mapping> = None;
    let mapping = match (&spec.mapping, &inferred) {
        (None, Some(m)) => m.clone(),
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str::<Mapping>(&text)
                .with_context(|| format!("{}: not a black-box mapping", path.display()))?
        }
        (None, None) => Mapping::per_field(data),
    };
    let identity = format!("{address} {}", serde_json::to_string(&mapping)?);
    if let Some(path) = address.strip_prefix("onnx:") {
        #[cfg(feature = "onnx")]
        {
            let mut identity = identity;
            let path = std::path::Path::new(path);
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            identity.push_str(&format!(
                " {}",
                glider_explain::journal::fingerprint(&[&String::from_utf8_lossy(&bytes)])
            ));
            let bb =
                glider_explain::onnx::OnnxBlackBox::new(path, mapping, data, spec.request_rows)?;
            return Ok(Opened {
                black_box: Box::new(bb),
                identity,
                inferred,
            });
        }
        #[cfg(not(feature = "onnx"))]
        {
            let _ = path;
            usage!("this glider was built without ONNX support (cargo feature `onnx`, off by default): \
                 rebuild with `cargo build --release --features onnx`; the Python package has it");
        }
    }
    if !address.starts_with("http://") {
        usage!("--black-box {address}: give http://HOST:PORT/v2/models/NAME or onnx:PATH");
    }
    let options = HttpOptions {
        batch_rows: spec.request_rows,
        timeout: std::time::Duration::from_secs_f64(spec.timeout_s),
        retries: spec.retries,
    };
    Ok(Opened {
        black_box: Box::new(HttpBlackBox::new(address, mapping, data, options)?),
        identity,
        inferred: None,
    })
}
