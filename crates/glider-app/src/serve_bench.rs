//! `glider bench serve`: a load and abuse benchmark of a running `glider serve` on loopback.
//! Requests per second, rows per second and p50/p99 latency at 1 and 256 rows per request
//! with 8, 32 and 64 client threads, then the same with 2 × `--workers` stalled uploads open,
//! and the server's resident memory after 1,000, 10,000 and N single-row requests. Every
//! loop is bounded in count and time.

use std::io::Write as _;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::{json, Value};

use crate::usage;

/// What to measure.
#[derive(Clone, Debug)]
pub struct ServeBenchSettings {
    /// The model's URL, `http://127.0.0.1:PORT/v2/models/NAME` (loopback only).
    pub url: String,
    /// The server's process id, for its resident memory (`/proc/PID/status`).
    pub pid: u32,
    /// The server's `--workers`: the stalled phase opens twice as many stalled uploads.
    pub workers: usize,
    /// Client thread counts of the latency table.
    pub threads: Vec<usize>,
    /// Rows per request of the latency table.
    pub rows: Vec<usize>,
    /// Requests per point of the latency table at 1 row (fewer at more rows: at least 100,
    /// about this many × 16 / rows).
    pub point_requests: usize,
    /// Single-row requests of the memory run (from 64 threads), >= 10,000.
    pub memory_requests: usize,
    /// No point of the table runs longer than this (seconds).
    pub max_point_seconds: f64,
}

impl Default for ServeBenchSettings {
    fn default() -> Self {
        ServeBenchSettings {
            url: String::new(),
            pid: 0,
            workers: 4,
            threads: vec![8, 32, 64],
            rows: vec![1, 256],
            point_requests: 2000,
            memory_requests: 100_000,
            max_point_seconds: 30.0,
        }
    }
}

/// One point of the latency table.
#[derive(Clone, Debug, Serialize)]
pub struct LoadPoint {
    /// Rows per request.
    pub rows: usize,
    /// Client threads.
    pub threads: usize,
    /// Stalled uploads open during the point.
    pub stalled: usize,
    /// Requests answered 200.
    pub ok: usize,
    /// Requests that failed (any other status, or no answer).
    pub errors: usize,
    /// Answered requests per second.
    pub requests_per_s: f64,
    /// Scored rows per second.
    pub rows_per_s: f64,
    /// Median latency (ms).
    pub p50_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_ms: f64,
}

/// The server's resident memory after so many requests.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryPoint {
    /// Requests sent so far in the memory run.
    pub requests: usize,
    /// Failed requests so far.
    pub errors: usize,
    /// VmRSS (MiB).
    pub rss_mib: f64,
}

/// What `glider bench serve` measured.
#[derive(Clone, Debug, Serialize)]
pub struct ServeBenchReport {
    /// The model's URL.
    pub url: String,
    /// The server's `--workers`.
    pub workers: usize,
    /// Resident memory before any request (MiB).
    pub rss_start_mib: f64,
    /// The latency table.
    pub points: Vec<LoadPoint>,
    /// The memory run.
    pub memory: Vec<MemoryPoint>,
    /// rss after the last request / rss after the first 1,000.
    pub memory_ratio: f64,
}

/// The server's VmRSS in MiB.
fn rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status (Linux only)"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))?;
    Ok(kb / 1024.0)
}

/// `host:port` of a loopback URL.
fn loopback(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: the URL must start with http://"))?;
    let host_port = rest.split('/').next().unwrap_or("");
    let host = host_port.rsplit_once(':').map_or(host_port, |(h, _)| h);
    if !(host == "localhost" || host == "[::1]" || host.starts_with("127.")) {
        usage!("{url}: the serve benchmark only targets loopback (127.0.0.1, localhost, [::1])");
    }
    Ok(host_port.to_string())
}

/// An inference body of `rows` rows for the model's inputs (from its metadata).
fn body(metadata: &Value, rows: usize) -> Result<String> {
    let inputs = metadata["inputs"]
        .as_array()
        .context("the model's metadata has no inputs")?;
    let tensors: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(k, input)| {
            let name = input["name"].clone();
            if input["datatype"] == "BYTES" {
                let data: Vec<String> = (0..rows).map(|r| format!("v{}", (r + k) % 50)).collect();
                json!({"name": name, "datatype": "BYTES", "shape": [rows, 1], "data": data})
            } else {
                let data: Vec<f64> = (0..rows).map(|r| ((r * 7 + k) % 100) as f64).collect();
                json!({"name": name, "datatype": "FP32", "shape": [rows, 1], "data": data})
            }
        })
        .collect();
    Ok(json!({ "inputs": tensors }).to_string())
}

/// An agent per client thread, so that each keeps its one connection alive. A request with
/// no answer within 10 s counts as an error.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Sends `requests` POSTs of `body` from `threads` threads (stopping at `deadline`); returns
/// the latencies of the answered ones (ms), the error count and the wall time (s).
fn load(
    infer: &str,
    body: &str,
    threads: usize,
    requests: usize,
    deadline: Duration,
) -> (Vec<f64>, usize, f64) {
    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(requests));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let agent = agent();
                let mut mine = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < requests && start.elapsed() < deadline {
                    let t = Instant::now();
                    let ok = agent
                        .post(infer)
                        .header("content-type", "application/json")
                        .send(body)
                        .ok()
                        .filter(|r| r.status().as_u16() == 200)
                        .and_then(|mut r| r.body_mut().read_to_string().ok())
                        .is_some();
                    if ok {
                        mine.push(t.elapsed().as_secs_f64() * 1e3);
                    } else {
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                }
                latencies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(mine);
            });
        }
    });
    let wall = start.elapsed().as_secs_f64();
    let mut l = latencies.into_inner().unwrap_or_else(|p| p.into_inner());
    l.sort_by(f64::total_cmp);
    (l, errors.into_inner(), wall)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Opens `n` uploads that declare 100,000 bytes of body, send a few, and stall.
fn stall(address: &str, path: &str, n: usize) -> Result<Vec<TcpStream>> {
    (0..n)
        .map(|_| {
            let mut s =
                TcpStream::connect(address).with_context(|| format!("connecting to {address}"))?;
            write!(
                s,
                "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100000\r\n\r\n{{\"inputs\""
            )?;
            Ok(s)
        })
        .collect()
}

/// Runs the benchmark against the server at `settings.url`; `progress` gets a line per step.
///
/// # Errors
/// A URL that is not loopback, a server that does not answer its metadata, no `/proc`.
pub fn serve_load(
    settings: &ServeBenchSettings,
    progress: impl Fn(&str),
) -> Result<ServeBenchReport> {
    let address = loopback(&settings.url)?;
    if settings.memory_requests < 10_000 {
        usage!("--requests must be at least 10000 (the memory run reads 1,000 and 10,000)");
    }
    let url = settings.url.trim_end_matches('/').to_string();
    let infer = format!("{url}/infer");
    let path = infer
        .strip_prefix("http://")
        .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        .unwrap_or_default();
    let text = agent()
        .get(&url)
        .call()
        .with_context(|| format!("GET {url}"))?
        .body_mut()
        .read_to_string()
        .with_context(|| format!("GET {url}"))?;
    let metadata: Value = serde_json::from_str(&text)
        .with_context(|| format!("GET {url}: the metadata is not JSON"))?;
    let rss_start = rss_mib(settings.pid)?;
    let deadline = Duration::from_secs_f64(settings.max_point_seconds);
    let mut points = Vec::new();
    for stalled in [0, 2 * settings.workers] {
        for &rows in &settings.rows {
            let text = body(&metadata, rows)?;
            for &threads in &settings.threads {
                let requests = (settings.point_requests * 16 / rows.max(1))
                    .clamp(100, settings.point_requests);
                // Stalled uploads opened afresh for each point (the server closes them at its
                // read deadline).
                let held = stall(&address, &path, stalled)?;
                let (lat, errors, wall) = load(&infer, &text, threads, requests, deadline);
                drop(held);
                let point = LoadPoint {
                    rows,
                    threads,
                    stalled,
                    ok: lat.len(),
                    errors,
                    requests_per_s: lat.len() as f64 / wall,
                    rows_per_s: (lat.len() * rows) as f64 / wall,
                    p50_ms: percentile(&lat, 0.5),
                    p99_ms: percentile(&lat, 0.99),
                };
                progress(&format!(
                    "{rows:>4} rows, {threads:>2} threads, {stalled} stalled: {:.0} req/s, {:.0} rows/s, p50 {:.1} ms, p99 {:.1} ms, {errors} errors",
                    point.requests_per_s, point.rows_per_s, point.p50_ms, point.p99_ms
                ));
                points.push(point);
            }
        }
    }
    let one = body(&metadata, 1)?;
    let mut memory = Vec::new();
    let mut sent = 0;
    let mut errors = 0;
    let mut targets = vec![1000, 10_000, settings.memory_requests];
    targets.dedup();
    for target in targets {
        let (_, e, _) = load(&infer, &one, 64, target - sent, Duration::from_secs(3600));
        errors += e;
        sent = target;
        let rss = rss_mib(settings.pid)?;
        progress(&format!(
            "after {sent} single-row requests from 64 threads: {errors} errors, resident memory {rss:.1} MiB"
        ));
        memory.push(MemoryPoint {
            requests: sent,
            errors,
            rss_mib: rss,
        });
    }
    let (first, last) = match (memory.first(), memory.last()) {
        (Some(f), Some(l)) => (f.rss_mib, l.rss_mib),
        _ => bail!("the memory run measured nothing"),
    };
    Ok(ServeBenchReport {
        url,
        workers: settings.workers,
        rss_start_mib: rss_start,
        points,
        memory,
        memory_ratio: last / first,
    })
}
