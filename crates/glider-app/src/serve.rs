//! `glider serve`: a trained glider model over HTTP, speaking the Open Inference Protocol
//! (KServe v2), so any client of the protocol — and glider's own HTTP black box — can score it.
//!
//! Endpoints: `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2/models/{name}` (metadata:
//! one input per field, `BYTES` for categorical fields and `FP32` for dense ones, outputs
//! `logit` and `probability`), `GET /v2/models/{name}/ready`, `POST /v2/models/{name}/infer`.
//! A missing value is `""` or `null` (categorical) and `null` (dense); an unseen categorical
//! value takes the rare id, as in `glider predict`.
//!
//! The server is meant to be left running: every connection has deadlines (headers and body
//! must arrive within `--read-timeout`, an answer must be taken within `--write-timeout`),
//! open connections and queued requests are capped (`--max-connections`, `--max-queued`:
//! past them a request gets 503 with `Retry-After` at once, so accepting never waits on a busy
//! worker), bodies are capped (`--max-body-mib`, 413), and SIGTERM or Ctrl-C drains it:
//! readiness turns false at once, requests in flight finish (within `--shutdown-timeout`),
//! and the process exits 0. Built on hyper (HTTP/1.1) and tokio; scoring runs on `--workers`
//! threads of its own so that a slow model never stops the server from answering.

use std::convert::Infallible;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use glider_data::{Column, Dataset, Field, FieldEncoding, FieldKind, InputEncoder};
use glider_nn::ctr::Recommender;

use crate::model_dir::ModelCard;
use crate::usage;

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
                let inputs: Vec<Value> = m
                    .inputs()
                    .iter()
                    .map(|i| {
                        let datatype = match i.datatype {
                            glider_explain::onnx::DatumType::String => "BYTES",
                            glider_explain::onnx::DatumType::F64 => "FP64",
                            glider_explain::onnx::DatumType::I64 => "INT64",
                            glider_explain::onnx::DatumType::I32 => "INT32",
                            _ => "FP32",
                        };
                        let shape = if i.rank == 1 {
                            json!([-1])
                        } else {
                            json!([-1, i.width])
                        };
                        json!({"name": i.name, "datatype": datatype, "shape": shape})
                    })
                    .collect();
                return json!({
                    "name": self.name,
                    "versions": ["1"],
                    "platform": "onnx",
                    "inputs": inputs,
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

/// Runs an ONNX model on the request's input tensors (matched by name; a model with one
/// input also takes a request's only tensor whatever its name): `[n, k]` (or `[n]`) numbers,
/// or strings for a string input.
#[cfg(feature = "onnx")]
fn onnx_outputs(
    model: &glider_explain::onnx::OnnxModel,
    inputs: &[Value],
) -> std::result::Result<Vec<Value>, String> {
    use glider_explain::onnx::InputValues;
    let mut n_rows: Option<usize> = None;
    let mut values = Vec::with_capacity(model.inputs().len());
    for wanted in model.inputs() {
        let input = inputs
            .iter()
            .find(|i| i["name"] == wanted.name.as_str())
            .or_else(|| (inputs.len() == 1 && model.inputs().len() == 1).then(|| &inputs[0]))
            .ok_or_else(|| {
                format!(
                    "input \"{}\" is missing (the model takes {})",
                    wanted.name,
                    model.describe_inputs()
                )
            })?;
        let shape: Vec<usize> = input["shape"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_u64().map(|d| d as usize))
                    .collect()
            })
            .unwrap_or_default();
        let data = input["data"]
            .as_array()
            .ok_or_else(|| format!("input \"{}\" has no \"data\" array", wanted.name))?;
        let n = match shape[..] {
            [n, k] if n * k == data.len() && k == wanted.width => n,
            [n] if n == data.len() && wanted.width == 1 => n,
            _ => {
                return Err(format!(
                    "input \"{}\": shape {shape:?} with {} values does not fit the model's [n, {}]",
                    wanted.name,
                    data.len(),
                    wanted.width
                ))
            }
        };
        match n_rows {
            Some(m) if m != n => {
                return Err(format!(
                    "input \"{}\" has {n} rows, an earlier input {m}",
                    wanted.name
                ))
            }
            _ => n_rows = Some(n),
        }
        values.push(
            if wanted.datatype == glider_explain::onnx::DatumType::String {
                InputValues::Texts(
                    data.iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            other => other.to_string(),
                        })
                        .collect(),
                )
            } else {
                InputValues::Numbers(
                    data.iter()
                        .enumerate()
                        .map(|(i, v)| {
                            v.as_f64().ok_or_else(|| {
                                format!(
                                    "input \"{}\", value {i} ({v}) is not a number",
                                    wanted.name
                                )
                            })
                        })
                        .collect::<std::result::Result<Vec<f64>, String>>()?,
                )
            },
        );
    }
    let n = n_rows.unwrap_or(0);
    let outputs = model.run_inputs(n, &values).map_err(|e| e.to_string())?;
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

/// How `glider serve` listens, and the limits that keep it answering under stalled clients,
/// load and shutdown. The defaults are meant to be left alone; [`ServeOptions::check`]
/// validates them.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ServeOptions {
    /// Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).
    #[cfg_attr(feature = "clap", arg(long, default_value = "127.0.0.1"))]
    pub host: String,
    /// Port (0 picks a free one; the URL is printed).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 8080))]
    pub port: u16,
    /// Requests scored at once, each on a thread of its own; the rest wait in the queue.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 4))]
    pub workers: usize,
    /// Seconds a client has to send a request's headers, and then its body; a stalled body
    /// gets 408 and the connection is closed, stalled headers close it. Also how long a
    /// kept-alive connection may sit idle.
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 30.0, value_name = "SECONDS")
    )]
    pub read_timeout: f64,
    /// Seconds a client may take no bytes of its answer before the connection is closed.
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 30.0, value_name = "SECONDS")
    )]
    pub write_timeout: f64,
    /// Open connections served; past it a request gets 503 with `Retry-After: 1` and its
    /// connection is closed (past twice this, new connections are closed unanswered).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 512))]
    pub max_connections: usize,
    /// Inference requests waiting for a worker; past it an inference request gets 503 with
    /// `Retry-After: 1` at once.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 64))]
    pub max_queued: usize,
    /// Largest request body (MiB); larger ones get 413.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 512, value_name = "MIB"))]
    pub max_body_mib: usize,
    /// Seconds that requests in flight get to finish after SIGTERM or Ctrl-C (a second signal
    /// stops at once).
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 20.0, value_name = "SECONDS")
    )]
    pub shutdown_timeout: f64,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 4,
            read_timeout: 30.0,
            write_timeout: 30.0,
            max_connections: 512,
            max_queued: 64,
            max_body_mib: 512,
            shutdown_timeout: 20.0,
        }
    }
}

/// [`ServeOptions`] checked: durations as [`Duration`], the body limit in bytes.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Address to listen on.
    pub host: String,
    /// Port (0: a free one).
    pub port: u16,
    /// Requests scored at once (>= 1).
    pub workers: usize,
    /// Deadline for a request's headers, and then for its body.
    pub read_timeout: Duration,
    /// How long a client may take none of its answer.
    pub write_timeout: Duration,
    /// Open connections served (>= 1).
    pub max_connections: usize,
    /// Inference requests waiting for a worker.
    pub max_queued: usize,
    /// Largest request body (bytes).
    pub max_body: usize,
    /// Time requests in flight get after SIGTERM or Ctrl-C.
    pub shutdown_timeout: Duration,
}

impl ServeOptions {
    /// Checks the options.
    ///
    /// # Errors
    /// A [`crate::Usage`] error naming the flag: zero workers or connections, a timeout that
    /// is not a positive number of seconds (at most a day; the shutdown timeout may be 0), a
    /// body limit outside 1–4096 MiB.
    pub fn check(&self) -> Result<ServeLimits> {
        let seconds = |flag: &str, v: f64, zero_ok: bool| -> Result<Duration> {
            if !(v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0)) && v <= 86_400.0) {
                usage!(
                    "{flag} must be a number of seconds {} 0 and at most 86400 (got {v})",
                    if zero_ok { ">=" } else { ">" }
                );
            }
            Ok(Duration::from_secs_f64(v))
        };
        if self.workers == 0 || self.workers > 1024 {
            usage!("--workers must be 1 to 1024 (got {})", self.workers);
        }
        if self.max_connections == 0 {
            usage!("--max-connections must be at least 1");
        }
        if !(1..=4096).contains(&self.max_body_mib) {
            usage!(
                "--max-body-mib must be 1 to 4096 (got {})",
                self.max_body_mib
            );
        }
        Ok(ServeLimits {
            host: self.host.clone(),
            port: self.port,
            workers: self.workers,
            read_timeout: seconds("--read-timeout", self.read_timeout, false)?,
            write_timeout: seconds("--write-timeout", self.write_timeout, false)?,
            max_connections: self.max_connections,
            max_queued: self.max_queued,
            max_body: self.max_body_mib << 20,
            shutdown_timeout: seconds("--shutdown-timeout", self.shutdown_timeout, true)?,
        })
    }
}

/// A socket whose writes fail with `TimedOut` once the peer has taken no bytes for `limit`
/// (a client that stopped reading its answer).
struct WriteDeadline {
    stream: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteDeadline {
    /// Called when a write could not progress: arms the deadline, or fails once it passed.
    fn blocked<T>(&mut self, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<T>> {
        let limit = self.limit;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the client took none of its answer for {} s",
                    limit.as_secs_f64()
                ),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progressed<T>(
        &mut self,
        r: Poll<std::io::Result<T>>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.blocked(cx),
        }
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.progressed(r, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.progressed(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.stream).poll_flush(cx);
        self.progressed(r, cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.progressed(r, cx)
    }
}

/// Why a connection's requests are refused.
#[derive(Clone, Copy)]
enum Refusal {
    /// More than `max_connections` are open.
    Full,
    /// SIGTERM or Ctrl-C came: the server is draining.
    ShuttingDown,
}

/// What every connection shares.
struct State {
    served: Arc<Served>,
    limits: ServeLimits,
    /// Open connections.
    active: AtomicUsize,
    /// Set when shutdown starts: readiness answers false, new connections are refused.
    draining: AtomicBool,
    /// One permit per request scoring now.
    workers: Arc<Semaphore>,
    /// One permit per inference request scoring or waiting (workers + max_queued).
    admitted: Arc<Semaphore>,
}

/// Counts a connection while it lives.
struct Open(Arc<State>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

type Answer = Response<Full<Bytes>>;

/// A JSON answer; `close` asks the client to open a new connection for its next request.
fn answer(status: StatusCode, body: &Value, close: bool) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// 503 with `Retry-After: 1`, closing the connection.
fn unavailable(message: String) -> Answer {
    let mut response = answer(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({ "error": message }),
        true,
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

impl State {
    fn ready(&self) -> bool {
        !self.draining.load(Ordering::SeqCst)
    }

    /// Answers one request; `refused` is set on connections over the cap or opened while
    /// draining (probes are still answered, everything else gets 503).
    async fn respond(&self, request: Request<Incoming>, refused: Option<Refusal>) -> Answer {
        let path = request.uri().path().trim_end_matches('/').to_string();
        let model = format!("/v2/models/{}", self.served.name);
        let get = request.method() == Method::GET;
        let ready = self.ready();
        let close = refused.is_some() || !ready;
        let ready_status = if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        if get && path == "/v2/health/live" {
            return answer(StatusCode::OK, &json!({"live": true}), close);
        }
        if get && path == "/v2/health/ready" {
            return answer(ready_status, &json!({ "ready": ready }), close);
        }
        if get && path == format!("{model}/ready") {
            return answer(
                ready_status,
                &json!({"name": self.served.name, "ready": ready}),
                close,
            );
        }
        match refused {
            Some(Refusal::Full) => {
                return unavailable(format!(
                    "the server has more than {} connections open (--max-connections); \
                     retry on a new connection",
                    self.limits.max_connections
                ))
            }
            Some(Refusal::ShuttingDown) => {
                return unavailable("the server is shutting down".into())
            }
            None => {}
        }
        match (request.method().clone(), path.as_str()) {
            (Method::GET, "/v2") => answer(
                StatusCode::OK,
                &json!({"name": "glider", "version": env!("CARGO_PKG_VERSION"), "extensions": []}),
                close,
            ),
            (Method::GET, u) if u == model => {
                answer(StatusCode::OK, &self.served.metadata(), close)
            }
            (Method::POST, u) if u == format!("{model}/infer") => self.infer(request, close).await,
            (_, u) if u.starts_with("/v2/models/") => answer(
                StatusCode::NOT_FOUND,
                &json!({"error": format!("no model at {u}; this server has {model}")}),
                close,
            ),
            (_, u) => answer(
                StatusCode::NOT_FOUND,
                &json!({"error": format!("no endpoint {u}")}),
                close,
            ),
        }
    }

    /// An inference request: its body read within the read deadline (or 408) and the size
    /// limit (or 413), admitted to the queue (or 503 at once when it is full), then scored on
    /// a worker thread. A stalled upload holds only its connection, never a queue place.
    async fn infer(&self, request: Request<Incoming>, close: bool) -> Answer {
        let max = self.limits.max_body;
        let too_large = || {
            answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"error": format!(
                    "the body is larger than {} MiB (--max-body-mib)", max >> 20
                )}),
                true,
            )
        };
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return too_large();
        }
        let body = Limited::new(request.into_body(), max);
        let bytes = match tokio::time::timeout(self.limits.read_timeout, body.collect()).await {
            Err(_) => {
                return answer(
                    StatusCode::REQUEST_TIMEOUT,
                    &json!({"error": format!(
                        "the request's body did not arrive within {} s (--read-timeout)",
                        self.limits.read_timeout.as_secs_f64()
                    )}),
                    true,
                )
            }
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
            Ok(Err(e)) => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    &json!({"error": format!("reading the body: {e}")}),
                    true,
                )
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        let Ok(admitted) = Arc::clone(&self.admitted).try_acquire_owned() else {
            return unavailable(format!(
                "the server is busy: {} requests scoring and {} waiting (--workers, \
                 --max-queued); retry shortly",
                self.limits.workers, self.limits.max_queued
            ));
        };
        let Ok(worker) = Arc::clone(&self.workers).acquire_owned().await else {
            return unavailable("the server is shutting down".into());
        };
        let served = Arc::clone(&self.served);
        let scored = tokio::task::spawn_blocking(move || {
            let _worker = worker;
            let text =
                std::str::from_utf8(&bytes).map_err(|e| format!("the body is not UTF-8: {e}"))?;
            served.infer(text)
        })
        .await;
        drop(admitted);
        match scored {
            Ok(Ok(value)) => answer(StatusCode::OK, &value, close),
            Ok(Err(message)) => {
                answer(StatusCode::BAD_REQUEST, &json!({ "error": message }), close)
            }
            Err(e) => answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": format!("scoring failed inside glider ({e}); please report it")}),
                close,
            ),
        }
    }

    /// Serves one accepted connection on its own task. `shutdown` (absent on connections
    /// opened while draining) asks it to finish the request in flight and close.
    fn spawn_connection(
        self: &Arc<Self>,
        stream: TcpStream,
        shutdown: Option<watch::Receiver<bool>>,
    ) {
        let open = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        let guard = Open(Arc::clone(self));
        if open > 2 * self.limits.max_connections {
            // Far past the cap: not even a 503.
            return;
        }
        let refused = if !self.ready() {
            Some(Refusal::ShuttingDown)
        } else if open > self.limits.max_connections {
            Some(Refusal::Full)
        } else {
            None
        };
        let state = Arc::clone(self);
        tokio::spawn(async move {
            let _guard = guard;
            let _ = stream.set_nodelay(true);
            let io = TokioIo::new(WriteDeadline {
                stream,
                limit: state.limits.write_timeout,
                stalled: None,
            });
            let read_timeout = state.limits.read_timeout;
            let service = hyper::service::service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(state.respond(request, refused).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                .serve_connection(io, service);
            tokio::pin!(connection);
            match shutdown {
                Some(mut shutdown) => {
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = shutdown.changed() => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.as_mut().await;
                        }
                    }
                }
                None => {
                    let _ = connection.await;
                }
            }
        });
    }
}

/// SIGTERM and Ctrl-C.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("listening for SIGTERM")?,
        })
    }

    /// Waits for the next signal; returns its name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Serves `served` until SIGTERM or Ctrl-C, then drains (see the module's documentation).
/// Prints the model's URL on stdout first, and what shutdown does on stderr.
///
/// # Errors
/// Invalid options (a [`crate::Usage`] error naming the flag); the address cannot be bound.
pub fn serve(served: Served, options: &ServeOptions) -> Result<()> {
    let limits = options.check()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(limits.workers)
        .thread_name("glider-serve")
        .enable_io()
        .enable_time()
        .build()
        .context("starting the server's runtime")?;
    let result = runtime.block_on(run(served, limits));
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn run(served: Served, limits: ServeLimits) -> Result<()> {
    let (host, port) = (limits.host.clone(), limits.port);
    let listener = TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {host}:{port}: {e}"))?;
    let bound = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let mut signals = Signals::new()?;
    println!(
        "glider serve: {} ({}) at http://{host}:{bound}/v2/models/{}",
        served.name,
        served.kind(),
        served.name
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let state = Arc::new(State {
        served: Arc::new(served),
        workers: Arc::new(Semaphore::new(limits.workers)),
        admitted: Arc::new(Semaphore::new(limits.workers + limits.max_queued)),
        limits,
        active: AtomicUsize::new(0),
        draining: AtomicBool::new(false),
    });
    let (shutdown, on_shutdown) = watch::channel(false);
    let signal = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => state.spawn_connection(stream, Some(on_shutdown.clone())),
                // Out of file descriptors and the like: wait a little, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            name = signals.next() => break name,
        }
    };
    state.draining.store(true, Ordering::SeqCst);
    let _ = shutdown.send(true);
    let limit = state.limits.shutdown_timeout;
    eprintln!(
        "glider serve: {signal}: not ready any more; finishing {} open connections (at most {} s, --shutdown-timeout)",
        state.active.load(Ordering::SeqCst),
        limit.as_secs_f64()
    );
    let deadline = Instant::now() + limit;
    loop {
        if state.active.load(Ordering::SeqCst) == 0 {
            eprintln!("glider serve: stopped");
            break;
        }
        if Instant::now() >= deadline {
            eprintln!(
                "glider serve: stopped with {} connections still open after {} s",
                state.active.load(Ordering::SeqCst),
                limit.as_secs_f64()
            );
            break;
        }
        tokio::select! {
            accepted = listener.accept() => {
                // Probes still get an answer (not ready); work gets 503.
                if let Ok((stream, _)) = accepted {
                    state.spawn_connection(stream, None);
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            name = signals.next() => {
                eprintln!("glider serve: {name} again: stopping now");
                break;
            }
        }
    }
    Ok(())
}
