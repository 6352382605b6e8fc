//! `glider serve`: a trained glider model over HTTP, speaking the Open Inference Protocol
//! (KServe v2), so any client of the protocol — and glider's own HTTP black box — can score it.
//!
//! Endpoints: `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2/models/{name}` (metadata:
//! one input per field, `BYTES` for categorical fields and `FP32` for dense ones, outputs
//! `logit` and `probability`), `GET /v2/models/{name}/ready`, `POST /v2/models/{name}/infer`.
//! A missing value is `""` or `null` (categorical) and `null` (dense); an unseen categorical
//! value takes the rare id, as in `glider predict`.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use glider_data::{Column, Dataset, Field, FieldEncoding, FieldKind, InputEncoder};
use glider_nn::ctr::Recommender;

use crate::model_dir::ModelCard;

/// Requests larger than this are refused (bytes).
const MAX_BODY: u64 = 512 << 20;

/// What answers the requests.
enum Backend {
    /// A glider model: one input per field.
    Glider {
        card: Box<ModelCard>,
        model: Box<dyn Recommender>,
    },
    /// An ONNX model (cargo feature `onnx`): its one input tensor, passed through.
    #[cfg(feature = "onnx")]
    Onnx(glider_explain::onnx::OnnxModel),
}

/// A model ready to serve.
pub struct Served {
    /// The name in the URL.
    pub name: String,
    backend: Backend,
}

fn name_of(path: &Path, name: Option<&str>) -> String {
    name.map(str::to_string).unwrap_or_else(|| {
        path.canonicalize()
            .ok()
            .and_then(|p| p.file_stem().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "glider".into())
    })
}

/// A dataset with the model's fields and no rows.
fn empty_data(encodings: &[FieldEncoding]) -> Dataset {
    let mut fields = Vec::with_capacity(encodings.len());
    let mut columns = Vec::with_capacity(encodings.len());
    for e in encodings {
        let dense = e.is_numeric();
        fields.push(Field {
            name: e.name().to_string(),
            kind: if dense {
                FieldKind::Dense
            } else {
                FieldKind::Categorical
            },
        });
        columns.push(if dense {
            Column::Dense { values: Vec::new() }
        } else {
            Column::Categorical {
                codes: Vec::new(),
                dictionary: vec![String::new()],
            }
        });
    }
    Dataset {
        source: "request".into(),
        label_name: "label".into(),
        fields,
        labels: Vec::new(),
        label_classes: Vec::new(),
        columns,
    }
}

impl Served {
    /// Loads the model in `dir` (model.json + model.safetensors).
    ///
    /// # Errors
    /// An unreadable or mismatched model folder.
    pub fn load(dir: &Path, name: Option<&str>) -> Result<Self> {
        let card = crate::model_dir::read_card(dir)?;
        let (encoder, _) =
            InputEncoder::from_encodings(&card.encodings, &empty_data(&card.encodings))?;
        let model = glider_nn::ctr::load(
            card.model,
            &card.params,
            encoder,
            &dir.join("model.safetensors"),
        )
        .with_context(|| format!("loading {}", dir.display()))?;
        Ok(Served {
            name: name_of(dir, name),
            backend: Backend::Glider {
                card: Box::new(card),
                model,
            },
        })
    }

    /// Loads an ONNX model: requests pass its one input tensor, answers hold every output.
    ///
    /// # Errors
    /// As [`glider_explain::onnx::OnnxModel::load`].
    #[cfg(feature = "onnx")]
    pub fn load_onnx(path: &Path, name: Option<&str>) -> Result<Self> {
        Ok(Served {
            name: name_of(path, name),
            backend: Backend::Onnx(glider_explain::onnx::OnnxModel::load(path)?),
        })
    }

    /// What the model is, for the startup line.
    fn kind(&self) -> String {
        match &self.backend {
            Backend::Glider { card, .. } => card.model.name().to_string(),
            #[cfg(feature = "onnx")]
            Backend::Onnx(_) => "onnx".into(),
        }
    }

    /// The model's metadata document.
    pub fn metadata(&self) -> Value {
        let (card, _) = match &self.backend {
            Backend::Glider { card, model } => (card, model),
            #[cfg(feature = "onnx")]
            Backend::Onnx(m) => {
                let outputs: Vec<Value> = m
                    .output_names()
                    .iter()
                    .map(|o| json!({"name": o, "datatype": "FP32", "shape": [-1, -1]}))
                    .collect();
                return json!({
                    "name": self.name,
                    "versions": ["1"],
                    "platform": "onnx",
                    "inputs": [{"name": m.input_name(), "datatype": "FP32", "shape": [-1, -1]}],
                    "outputs": outputs,
                });
            }
        };
        let inputs: Vec<Value> = card
            .encodings
            .iter()
            .map(|e| {
                json!({
                    "name": e.name(),
                    "datatype": if e.is_numeric() { "FP32" } else { "BYTES" },
                    "shape": [-1, 1],
                })
            })
            .collect();
        json!({
            "name": self.name,
            "versions": ["1"],
            "platform": format!("glider-{}", card.model.name()),
            "inputs": inputs,
            "outputs": [
                {"name": "logit", "datatype": "FP32", "shape": [-1]},
                {"name": "probability", "datatype": "FP32", "shape": [-1]},
            ],
        })
    }

    /// Answers an inference request body.
    ///
    /// # Errors
    /// A message for a 400 answer: malformed JSON, a missing input, inputs of different
    /// lengths, a value of the wrong type.
    pub fn infer(&self, body: &str) -> std::result::Result<Value, String> {
        let request: Value =
            serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        let inputs = request["inputs"]
            .as_array()
            .ok_or("the request has no \"inputs\" array")?;
        let mut outputs = match &self.backend {
            Backend::Glider { card, model } => glider_outputs(card, model.as_ref(), inputs)?,
            #[cfg(feature = "onnx")]
            Backend::Onnx(m) => onnx_outputs(m, inputs)?,
        };
        if let Some(wanted) = request["outputs"].as_array() {
            let names: Vec<&str> = wanted.iter().filter_map(|o| o["name"].as_str()).collect();
            outputs.retain(|o| names.iter().any(|n| o["name"] == *n));
        }
        let mut answer = json!({ "model_name": self.name, "outputs": outputs });
        if let Some(id) = request.get("id") {
            answer["id"] = id.clone();
        }
        Ok(answer)
    }
}

/// Runs an ONNX model on the request's one input tensor (`[n, k]` numbers).
#[cfg(feature = "onnx")]
fn onnx_outputs(
    model: &glider_explain::onnx::OnnxModel,
    inputs: &[Value],
) -> std::result::Result<Vec<Value>, String> {
    let input = inputs
        .iter()
        .find(|i| i["name"] == model.input_name())
        .or_else(|| (inputs.len() == 1).then(|| &inputs[0]))
        .ok_or_else(|| format!("input \"{}\" is missing", model.input_name()))?;
    let shape: Vec<usize> = input["shape"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_u64().map(|d| d as usize))
                .collect()
        })
        .unwrap_or_default();
    let values = input["data"]
        .as_array()
        .ok_or("the input has no \"data\" array")?;
    let (n, k) = match shape[..] {
        [n, k] if n * k == values.len() => (n, k),
        _ => {
            return Err(format!(
                "the input's shape {shape:?} does not hold its {} values as [n, k]",
                values.len()
            ))
        }
    };
    let data = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64()
                .map(|x| x as f32)
                .ok_or_else(|| format!("value {i} ({v}) is not a number"))
        })
        .collect::<std::result::Result<Vec<f32>, String>>()?;
    let outputs = model.run(&data, n, k).map_err(|e| e.to_string())?;
    Ok(model
        .output_names()
        .iter()
        .zip(outputs)
        .map(|(name, values)| {
            let width = values.len() / n.max(1);
            let data: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            json!({"name": name, "datatype": "FP32", "shape": [n, width], "data": data})
        })
        .collect())
}

/// Runs a glider model on one input per field.
fn glider_outputs(
    card: &ModelCard,
    model: &dyn Recommender,
    inputs: &[Value],
) -> std::result::Result<Vec<Value>, String> {
    let mut data = empty_data(&card.encodings);
    let mut rows: Option<usize> = None;
    for (f, e) in card.encodings.iter().enumerate() {
        let name = e.name();
        let input = inputs.iter().find(|i| i["name"] == name).ok_or_else(|| {
            format!("input \"{name}\" is missing (the model's inputs are its fields)")
        })?;
        let values = input["data"]
            .as_array()
            .ok_or_else(|| format!("input \"{name}\" has no \"data\" array"))?;
        match *rows.get_or_insert(values.len()) {
            n if n != values.len() => {
                return Err(format!(
                    "input \"{name}\" has {} values, an earlier input {n}",
                    values.len()
                ))
            }
            _ => {}
        }
        match &mut data.columns[f] {
            Column::Dense { values: out } => {
                for (r, v) in values.iter().enumerate() {
                    out.push(match v {
                        Value::Null => f32::NAN,
                        Value::Number(x) => x.as_f64().unwrap_or(f64::NAN) as f32,
                        Value::String(s) if s.trim().is_empty() => f32::NAN,
                        Value::String(s) => s.trim().parse::<f32>().map_err(|_| {
                            format!("input \"{name}\", row {r}: {s:?} is not a number")
                        })?,
                        other => {
                            return Err(format!(
                                "input \"{name}\", row {r}: {other} is not a number"
                            ))
                        }
                    });
                    if out.last().is_some_and(|x| x.is_infinite()) {
                        return Err(format!("input \"{name}\", row {r}: the value is infinite"));
                    }
                }
            }
            Column::Categorical { codes, dictionary } => {
                let mut index: std::collections::HashMap<String, u32> =
                    std::collections::HashMap::new();
                for (r, v) in values.iter().enumerate() {
                    let text = match v {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        Value::Number(x) => x.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => {
                            return Err(format!(
                                "input \"{name}\", row {r}: {other} is not a value"
                            ))
                        }
                    };
                    if text.is_empty() {
                        codes.push(0);
                        continue;
                    }
                    let next = dictionary.len() as u32;
                    let code = *index.entry(text.clone()).or_insert_with(|| {
                        dictionary.push(text);
                        next
                    });
                    codes.push(code);
                }
            }
        }
    }
    let n = rows.unwrap_or(0);
    data.labels = vec![0.0; n];
    let (encoder, _) =
        InputEncoder::from_encodings(&card.encodings, &data).map_err(|e| e.to_string())?;
    let all: Vec<usize> = (0..n).collect();
    let batch = encoder.encode_rows(&data, &all);
    let logits = model.predict_logits(&batch).map_err(|e| e.to_string())?;
    let probs: Vec<f32> = logits.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect();
    Ok(vec![
        json!({"name": "logit", "datatype": "FP32", "shape": [n], "data": logits}),
        json!({"name": "probability", "datatype": "FP32", "shape": [n], "data": probs}),
    ])
}

fn respond(request: tiny_http::Request, status: u16, body: &Value) {
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]);
    let mut response = tiny_http::Response::from_string(body.to_string()).with_status_code(status);
    if let Ok(h) = header {
        response = response.with_header(h);
    }
    // A client that hung up is no error of the server's.
    let _ = request.respond(response);
}

fn handle(served: &Served, mut request: tiny_http::Request) {
    let url = request
        .url()
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    let model = format!("/v2/models/{}", served.name);
    let method = request.method().clone();
    match (method, url.as_str()) {
        (tiny_http::Method::Get, "/v2/health/live") => {
            respond(request, 200, &json!({"live": true}))
        }
        (tiny_http::Method::Get, "/v2/health/ready") => {
            respond(request, 200, &json!({"ready": true}))
        }
        (tiny_http::Method::Get, "/v2") => respond(
            request,
            200,
            &json!({"name": "glider", "version": env!("CARGO_PKG_VERSION"), "extensions": []}),
        ),
        (tiny_http::Method::Get, u) if u == model => respond(request, 200, &served.metadata()),
        (tiny_http::Method::Get, u) if u == format!("{model}/ready") => {
            respond(request, 200, &json!({"name": served.name, "ready": true}))
        }
        (tiny_http::Method::Post, u) if u == format!("{model}/infer") => {
            let mut body = String::new();
            let read = request.as_reader().take(MAX_BODY).read_to_string(&mut body);
            if let Err(e) = read {
                respond(
                    request,
                    400,
                    &json!({"error": format!("reading the body: {e}")}),
                );
                return;
            }
            match served.infer(&body) {
                Ok(answer) => respond(request, 200, &answer),
                Err(e) => respond(request, 400, &json!({"error": e})),
            }
        }
        (_, u) if u.starts_with("/v2/models/") => respond(
            request,
            404,
            &json!({"error": format!("no model at {u}; this server has {model}")}),
        ),
        (_, u) => respond(request, 404, &json!({"error": format!("no endpoint {u}")})),
    }
}

/// Serves `served` on `host:port` (port 0 picks a free one) with `workers` threads, until the
/// process is stopped. Prints the model's URL on stdout first.
///
/// # Errors
/// The address cannot be bound.
pub fn serve(served: Served, host: &str, port: u16, workers: usize) -> Result<()> {
    let server = tiny_http::Server::http((host, port))
        .map_err(|e| anyhow::anyhow!("cannot listen on {host}:{port}: {e}"))?;
    let bound = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .unwrap_or(port);
    println!(
        "glider serve: {} ({}) at http://{host}:{bound}/v2/models/{}",
        served.name,
        served.kind(),
        served.name
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let server = Arc::new(server);
    let served = Arc::new(served);
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let server = Arc::clone(&server);
            let served = Arc::clone(&served);
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(&served, request);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}
