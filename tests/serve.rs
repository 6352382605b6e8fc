//! `glider serve` as a server people leave running, and `--black-box http://` against servers
//! that stop answering: stalled clients, the connection cap, SIGTERM during requests in
//! flight, and a detect run that stops early and resumes. Loopback only, every wait bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use glider_core::synth::SynthCtrConfig;
use glider_data::synth::{synthetic, to_csv};

const FIELDS: &str = "f0,f1,f2,f3,f4,f5,f6,f7";

fn glider(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glider"))
        .args(args)
        .output()
        .expect("the glider binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glider-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small synthetic CTR table (`click`, categorical `f0`..`f7`) and a model trained on it,
/// made once for every test here: (data file, model folder).
fn model() -> &'static (PathBuf, PathBuf) {
    static MODEL: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut cfg = SynthCtrConfig::small();
        cfg.rows = 800;
        let (data, _) = synthetic(&cfg).unwrap();
        let dir = scratch("model");
        let file = dir.join("synth.csv");
        std::fs::write(&file, to_csv(&data)).unwrap();
        let model = dir.join("model");
        let o = glider(&[
            "train",
            "--data",
            file.to_str().unwrap(),
            "--label",
            "click",
            "--categorical",
            FIELDS,
            "--hidden",
            "16",
            "--epochs",
            "1",
            "--out",
            model.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        (file, model)
    })
}

/// Starts `glider serve` on a free port with `extra` flags; returns the child and its port.
fn serve(extra: &[&str]) -> (Child, u16) {
    let (_, model) = model();
    let mut child = Command::new(env!("CARGO_BIN_EXE_glider"))
        .args([
            "serve",
            "--model-dir",
            model.to_str().unwrap(),
            "--port",
            "0",
        ])
        .args(["--name", "m"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("glider serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    (child, port)
}

/// Stops a server the tests are done with.
fn stop(mut child: Child) {
    child.kill().ok();
    child.wait().ok();
}

/// An answer: status, headers (lower-case names), body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

/// Reads one HTTP answer from a connection the server closes after it.
fn read_answer(stream: &mut TcpStream) -> Answer {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

/// One request on a new connection (`Connection: close`), with its answer.
fn request(port: u16, method: &str, path: &str, body: &str) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    read_answer(&mut stream)
}

/// An inference request body of `rows` rows (every field's value "v1").
fn infer_body(rows: usize) -> String {
    let inputs: Vec<serde_json::Value> = FIELDS
        .split(',')
        .map(|f| {
            serde_json::json!({"name": f, "datatype": "BYTES", "shape": [rows, 1],
                               "data": vec!["v1"; rows]})
        })
        .collect();
    serde_json::json!({ "inputs": inputs }).to_string()
}

/// The scores in an inference answer.
fn probabilities(a: &Answer) -> Vec<f64> {
    let v: serde_json::Value =
        serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", a.body));
    v["outputs"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["name"] == "probability"))
        .and_then(|o| o["data"].as_array())
        .map(|d| d.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default()
}

/// Opens an upload that declares 100,000 bytes of body, sends a few, and stalls.
fn stalled_upload(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(
            b"POST /v2/models/m/infer HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"inputs\"",
        )
        .unwrap();
    stream
}

/// With 2 × --workers stalled uploads open, metadata and inference requests from another
/// client are answered in under a second; each stalled upload is answered 408 and closed at
/// its read deadline (2 s here).
#[test]
fn stalled_uploads_neither_block_others_nor_stay_open() {
    let (server, port) = serve(&["--workers", "2", "--read-timeout", "2"]);
    let opened = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..4).map(|_| stalled_upload(port)).collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..3 {
        let t = Instant::now();
        let meta = request(port, "GET", "/v2/models/m", "");
        assert_eq!(meta.status, 200, "{}", meta.body);
        assert!(meta.body.contains("\"inputs\""), "{}", meta.body);
        let scored = request(port, "POST", "/v2/models/m/infer", &infer_body(3));
        assert_eq!(scored.status, 200, "{}", scored.body);
        assert_eq!(probabilities(&scored).len(), 3);
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "metadata and inference took {:?} beside stalled uploads",
            t.elapsed()
        );
    }
    for s in &mut stalled {
        let a = read_answer(s);
        let waited = opened.elapsed();
        assert_eq!(a.status, 408, "{} {}", a.headers, a.body);
        assert!(a.body.contains("--read-timeout"), "{}", a.body);
        assert!(
            waited >= Duration::from_millis(1800) && waited < Duration::from_secs(5),
            "a stalled upload was closed after {waited:?} (read deadline 2 s)"
        );
    }
    // A connection that sends nothing at all is closed at the deadline too.
    let t = Instant::now();
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let a = read_answer(&mut idle);
    assert!(a.status == 0 || a.status == 408, "{}", a.headers);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    stop(server);
}

/// Past --max-connections a request gets 503 with Retry-After at once, and the server
/// answers normally once the connections holding the cap are gone.
#[test]
fn the_connection_cap_answers_503_then_recovers() {
    let (server, port) = serve(&["--max-connections", "4"]);
    let holders: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let full = request(port, "GET", "/v2/models/m", "");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(full.status, 503, "{}", full.body);
    assert!(full.headers.contains("retry-after: 1"), "{}", full.headers);
    assert!(full.body.contains("--max-connections"), "{}", full.body);
    drop(holders);
    std::thread::sleep(Duration::from_millis(300));
    let ok = request(port, "POST", "/v2/models/m/infer", &infer_body(2));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(probabilities(&ok).len(), 2);
    stop(server);
}

/// SIGTERM while requests are in flight: each gets its complete answer, readiness turns
/// false at once, and the process exits 0 well within 5 s.
#[test]
fn sigterm_finishes_requests_in_flight_and_exits_0() {
    let (mut server, port) = serve(&["--workers", "1"]);
    let ready = request(port, "GET", "/v2/health/ready", "");
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (200, "{\"ready\":true}")
    );
    // Four requests in flight: headers and most of the body sent.
    let rows = 500;
    let body = infer_body(rows);
    let (head, tail) = body.split_at(body.len() - 10);
    let mut flight: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(
                s,
                "POST /v2/models/m/infer HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
                body.len()
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    std::thread::sleep(Duration::from_millis(200));
    let probe = request(port, "GET", "/v2/health/ready", "");
    assert_eq!(probe.status, 503, "{}", probe.body);
    assert_eq!(probe.body, "{\"ready\":false}");
    let work = request(port, "GET", "/v2/models/m", "");
    assert_eq!(work.status, 503, "{}", work.body);
    assert!(work.body.contains("shutting down"), "{}", work.body);
    for s in &mut flight {
        s.write_all(tail.as_bytes()).unwrap();
    }
    for s in &mut flight {
        let a = read_answer(s);
        assert_eq!(a.status, 200, "{}", a.body);
        let p = probabilities(&a);
        assert_eq!(p.len(), rows);
        assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
    }
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    server.stderr.take().unwrap().read_to_string(&mut err).ok();
    assert!(err.contains("SIGTERM") && err.contains("stopped"), "{err}");
}

/// A KServe v2 stand-in on loopback: it answers while `budget` is positive (one request per
/// connection, each taking one unit), then accepts and never answers. `answered` counts the
/// requests it answered. The score is a fixed function of each row's values.
fn flaky_server(budget: Arc<AtomicIsize>, answered: Arc<AtomicUsize>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let budget = Arc::clone(&budget);
            let answered = Arc::clone(&answered);
            std::thread::spawn(move || {
                if budget.fetch_sub(1, Ordering::SeqCst) <= 0 {
                    // Accepted, never answered: held open until long after the client gave up.
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).ok();
                let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let inputs = request["inputs"].as_array().cloned().unwrap_or_default();
                let n = inputs
                    .first()
                    .and_then(|i| i["data"].as_array())
                    .map_or(0, Vec::len);
                let scores: Vec<f64> = (0..n)
                    .map(|r| {
                        let mut s = 0.0;
                        for (k, input) in inputs.iter().enumerate() {
                            let v = input["data"][r].as_str().unwrap_or("");
                            let bytes: u32 = v.bytes().map(u32::from).sum();
                            s += ((bytes as usize * (k + 3)) % 7) as f64 / 7.0;
                        }
                        s - 2.0
                    })
                    .collect();
                let answer = serde_json::json!({"outputs": [
                    {"name": "logit", "datatype": "FP32", "shape": [n], "data": scores}
                ]})
                .to_string();
                answered.fetch_add(1, Ordering::SeqCst);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            });
        }
    });
    port
}

/// `glider detect --black-box http://` against a server that stops answering: the run stops
/// at the first instance that cannot be scored, with one error naming the URL, the time
/// limit and the flag; finished instances are kept, and `--resume` scores only the rest.
#[test]
fn detect_stops_early_on_a_silent_server_and_resumes() {
    let (file, _) = model();
    let budget = Arc::new(AtomicIsize::new(4));
    let answered = Arc::new(AtomicUsize::new(0));
    let port = flaky_server(Arc::clone(&budget), Arc::clone(&answered));
    let url = format!("http://127.0.0.1:{port}/v2/models/m");
    let dir = scratch("silent");
    let out = dir.join("out");
    let run = |resume: bool| {
        let mut args = vec![
            "detect",
            "--black-box",
            url.as_str(),
            "--data",
            file.to_str().unwrap(),
            "--label",
            "click",
            "--categorical",
            FIELDS,
            "--instances",
            "8",
            "--perturbations",
            "100",
            "--surrogate-hidden",
            "8",
            "--surrogate-epochs",
            "5",
            "--timeout",
            "1",
            // One request per instance (the local cut-off would add one).
            "--local-cutoff",
            "off",
            "--retries",
            "1",
            "--threads",
            "2",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        if resume {
            args.push("--resume");
        }
        glider(&args)
    };
    // The first-instance probe and three instances are answered, then nothing is.
    let t = Instant::now();
    let o = run(false);
    let took = t.elapsed();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("stopped at instance")
            && e.contains(&format!("{url}/infer"))
            && e.contains("no answer within 1 s")
            && e.contains("--timeout")
            && e.contains("2 attempts (--retries")
            && e.contains("3 finished instances are kept")
            && e.contains("--resume"),
        "{e}"
    );
    assert!(took < Duration::from_secs(20), "stopping took {took:?}");
    assert_eq!(answered.load(Ordering::SeqCst), 4);
    let journal = std::fs::read_to_string(out.join("local.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), 1 + 3, "{journal}");
    // The server answers again: the resumed run asks only for what is missing (the probe
    // and the five instances not finished).
    budget.store(1000, Ordering::SeqCst);
    let o = run(true);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(answered.load(Ordering::SeqCst), 4 + 1 + 5);
    let global: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("global_interactions.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(global["instances"], 8);
    assert_eq!(global["failed"].as_array().map(Vec::len), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

/// Limits that make no sense are refused before the server starts, naming the flag.
#[test]
fn bad_limits_are_refused_naming_the_flag() {
    let (_, model) = model();
    for (flag, value, expect) in [
        (
            "--read-timeout",
            "0",
            "--read-timeout must be a number of seconds > 0",
        ),
        (
            "--write-timeout",
            "nan",
            "--write-timeout must be a number of seconds > 0",
        ),
        ("--workers", "0", "--workers must be 1 to 1024"),
        (
            "--max-connections",
            "0",
            "--max-connections must be at least 1",
        ),
        ("--max-body-mib", "0", "--max-body-mib must be 1 to 4096"),
        (
            "--shutdown-timeout",
            "-1",
            "--shutdown-timeout must be a number of seconds >= 0",
        ),
    ] {
        let o = glider(&[
            "serve",
            "--model-dir",
            model.to_str().unwrap(),
            "--port",
            "0",
            &format!("{flag}={value}"),
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(expect),
            "{flag} {value}: {}",
            stderr(&o)
        );
    }
}
