//! Checks every architecture goes through: gradients against central finite differences
//! (dense parameters and the embedding rows updated outside autodiff), a save/load round trip
//! that predicts bit-identically, and symmetric interaction maps.

use std::collections::HashMap;

use burn::tensor::{Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{BuildNet, CtrNet, ModelKind};
use crate::ctr::{self, bce_with_logits, CtrParams};
use crate::sparse::gather_scaled;
use crate::store::{load_parameters, named_gradients, named_parameters, Named};
use crate::to_vec;
use glider_data::{Column, Dataset, EncoderOptions, Field, FieldKind, InputEncoder, NoProgress};

fn tiny_params(kind: ModelKind) -> CtrParams {
    CtrParams {
        embedding_dim: 3,
        hidden: if kind == ModelKind::AutoInt || kind == ModelKind::Lr || kind == ModelKind::Fm {
            vec![]
        } else {
            vec![5]
        },
        cross_layers: 2,
        cin_layers: vec![3, 2],
        attention_layers: 2,
        attention_heads: 2,
        attention_size: 4,
        reduction_ratio: 2,
        interhat_orders: 2,
        ..CtrParams::for_model(kind)
    }
}

/// The cells of a 6-row, 4-field batch: three categorical fields over rows 0..9 and one dense
/// field (row 9) with varied scales; rows 0, 3 and 6 are absent (missing ids).
fn tiny_batch() -> (Vec<u32>, Vec<f32>, Vec<f32>) {
    let rows: Vec<u32> = vec![
        1, 4, 7, 9, //
        2, 5, 8, 9, //
        1, 5, 7, 9, //
        2, 4, 8, 9, //
        1, 4, 8, 9, //
        2, 5, 7, 9,
    ];
    let scales: Vec<f32> = vec![
        1.0, 1.0, 1.0, 0.7, //
        1.0, 1.0, 1.0, -1.2, //
        1.0, 1.0, 1.0, 0.3, //
        1.0, 1.0, 1.0, 1.5, //
        1.0, 1.0, 1.0, -0.4, //
        1.0, 1.0, 1.0, 0.9,
    ];
    let labels = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
    (rows, scales, labels)
}

fn loss_of<N: CtrNet>(net: &N, table: &[f32], width: usize) -> f64 {
    let (rows, scales, labels) = tiny_batch();
    let dev = crate::cpu();
    let mut buf = Vec::new();
    gather_scaled(table, width, &rows, &scales, &mut buf).unwrap();
    let e = Tensor::<3>::from_data(TensorData::new(buf, [6, 4, width]), &dev);
    // The loss in f64 from the f32 logits, so that rounding the loss itself (its ulp is
    // 6e-8) does not swamp differences of order EPS · gradient.
    let logits = to_vec(net.forward(e)).unwrap();
    let total: f64 = logits
        .iter()
        .zip(&labels)
        .map(|(&z, &y)| {
            let z = z as f64;
            z.max(0.0) - z * y as f64 + (-z.abs()).exp().ln_1p()
        })
        .sum();
    total / labels.len() as f64
}

fn relative_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

/// Central differences with step `EPS` against the computed gradient, for the largest-gradient
/// entry of every parameter tensor and of every touched embedding row, plus random entries
/// whose gradient is large enough for f32 differences to resolve.
fn gradient_check<T: BuildNet>(kind: ModelKind) -> (usize, f64) {
    const EPS: f32 = 2e-3;
    const MIN_GRAD: f64 = 2e-3;
    let params = tiny_params(kind);
    let width = kind.embedding_width(params.embedding_dim);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let ad = crate::cpu().autodiff();
    let net = T::build(kind, 4, &params, &mut rng, &ad);
    let mut table: Vec<f32> = (0..10 * width)
        .map(|_| rng.random_range(-0.8f32..0.8))
        .collect();
    for r in [0usize, 3, 6] {
        table[r * width..(r + 1) * width].fill(0.0);
    }
    // Computed gradients: dense parameters by autodiff, embedding rows by scattering the
    // gradient of the gathered cells (scale · ∂L/∂cell), as the sparse optimiser does.
    let (rows, scales, labels) = tiny_batch();
    let mut buf = Vec::new();
    gather_scaled(&table, width, &rows, &scales, &mut buf).unwrap();
    let e = Tensor::<3>::from_data(TensorData::new(buf, [6, 4, width]), &ad).require_grad();
    let y = Tensor::<2>::from_data(TensorData::new(labels, [6, 1]), &ad);
    let loss = bce_with_logits(net.forward(e.clone()), y);
    let mut grads = loss.backward();
    let ge = to_vec(e.grad_remove(&mut grads).unwrap()).unwrap();
    let dense = named_gradients(&net, &grads).unwrap();
    let mut row_grad = vec![0f64; 10 * width];
    for (cell, (&r, &s)) in rows.iter().zip(&scales).enumerate() {
        for d in 0..width {
            row_grad[r as usize * width + d] += (s * ge[cell * width + d]) as f64;
        }
    }

    let plain = net.valid();
    let base: HashMap<String, Named> = named_parameters(&plain).unwrap().into_iter().collect();
    let mut checked = 0;
    let mut worst = 0f64;
    // `eval(δ)` is the loss with the entry moved by δ. Central differences at EPS and EPS/4:
    // a ReLU kink within EPS of the point spoils the larger step (the loss is not smooth
    // there), while f32 noise grows at the smaller; the better of the two must agree.
    let mut check = |computed: f64, eval: &mut dyn FnMut(f32) -> f64, what: &str| {
        let mut fd = |e: f32| (eval(e) - eval(-e)) / (2.0 * e as f64);
        let (big, small) = (fd(EPS), fd(EPS / 4.0));
        let err = relative_error(big, computed).min(relative_error(small, computed));
        assert!(
            err < 1e-2,
            "{kind}: {what}: finite differences {big:.6e} / {small:.6e}, computed \
             {computed:.6e} (rel {err:.2e})"
        );
        checked += 1;
        worst = worst.max(err);
    };
    for (name, (_, g)) in &dense {
        let mut picks: Vec<usize> = Vec::new();
        if let Some((i, _)) = g
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        {
            picks.push(i);
        }
        for _ in 0..3 {
            picks.push(rng.random_range(0..g.len()));
        }
        for i in picks {
            if (g[i] as f64).abs() < MIN_GRAD {
                continue;
            }
            let mut eval = |delta: f32| {
                let mut tensors = base.clone();
                if let Some(t) = tensors.get_mut(name) {
                    t.1[i] += delta;
                }
                let moved = load_parameters(plain.clone(), &tensors).unwrap();
                loss_of(&moved, &table, width)
            };
            check(g[i] as f64, &mut eval, &format!("{name}[{i}]"));
        }
    }
    for r in [1usize, 2, 4, 5, 7, 8, 9] {
        let g = &row_grad[r * width..(r + 1) * width];
        let (d, gmax) = g
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|(d, v)| (d, *v))
            .unwrap();
        if gmax.abs() < MIN_GRAD {
            continue;
        }
        let mut eval = |delta: f32| {
            let mut t = table.clone();
            t[r * width + d] += delta;
            loss_of(&plain, &t, width)
        };
        check(gmax, &mut eval, &format!("embedding row {r}[{d}]"));
    }
    // A missing id's row gets no gradient.
    assert!(row_grad[0..width].iter().all(|&v| v == 0.0), "{kind}");
    (checked, worst)
}

#[test]
fn every_model_passes_the_gradient_check() {
    let mut report = Vec::new();
    for &kind in ModelKind::ALL {
        let (checked, worst) = super::with_net_type!(kind, T => gradient_check::<T>(kind));
        assert!(
            checked >= 8,
            "{kind}: only {checked} entries large enough to check"
        );
        report.push(format!("{kind}: {checked} entries, worst {worst:.1e}"));
    }
    eprintln!("{}", report.join("\n"));
}

/// A categorical pair whose parity sets the click, plus a dense field, for round trips.
fn parity_data(n: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let a: Vec<u32> = (0..n).map(|_| rng.random_range(1..5)).collect();
    let b: Vec<u32> = (0..n).map(|_| rng.random_range(1..5)).collect();
    let c: Vec<u32> = (0..n).map(|_| rng.random_range(1..4)).collect();
    let d: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let labels = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| ((x + y) % 2) as f32)
        .collect();
    let dict: Vec<String> = (0..5).map(|i| i.to_string()).collect();
    let cat = |name: &str| Field {
        name: name.into(),
        kind: FieldKind::Categorical,
    };
    Dataset {
        source: "parity".into(),
        label_classes: Vec::new(),
        label_name: "y".into(),
        fields: vec![
            cat("a"),
            cat("b"),
            cat("c"),
            Field {
                name: "d".into(),
                kind: FieldKind::Dense,
            },
        ],
        labels,
        columns: vec![
            Column::Categorical {
                codes: a,
                dictionary: dict.clone(),
            },
            Column::Categorical {
                codes: b,
                dictionary: dict.clone(),
            },
            Column::Categorical {
                codes: c,
                dictionary: dict,
            },
            Column::Dense { values: d },
        ],
    }
}

#[test]
fn every_model_reloads_bit_identically_and_is_seeded() {
    let data = parity_data(300);
    let rows: Vec<usize> = (0..300).collect();
    let enc = InputEncoder::fit(
        &data,
        &rows,
        &EncoderOptions {
            min_count: 0,
            hash_buckets: 0,
            numeric: glider_data::NumericOptions::scalar(),
        },
    )
    .unwrap();
    let batch = enc.encode_rows(&data, &rows);
    let dir = std::env::temp_dir().join(format!("glider-zoo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for &kind in ModelKind::ALL {
        let params = CtrParams {
            max_epochs: 2,
            batch_size: 64,
            ..tiny_params(kind)
        };
        let train = || {
            ctr::train(
                kind,
                &data,
                &rows[..240],
                &rows[240..],
                &enc,
                &params,
                5,
                &NoProgress,
            )
            .unwrap()
        };
        let m = train();
        let logits = m.predict_logits(&batch).unwrap();
        assert!(logits.iter().all(|z| z.is_finite()), "{kind}");
        assert_eq!(m.kind(), kind);
        let path = dir.join(format!("{}.safetensors", kind.name().replace('+', "plus")));
        m.save_weights(&path).unwrap();
        let back = ctr::load(kind, &params, enc.clone(), &path).unwrap();
        assert_eq!(
            back.predict_logits(&batch).unwrap(),
            logits,
            "{kind} reload"
        );
        assert_eq!(
            train().predict_logits(&batch).unwrap(),
            logits,
            "{kind} seed"
        );
        // Interaction maps: present exactly for the attention models, symmetric pair scores.
        let maps = m.interaction_maps(&batch).unwrap();
        assert_eq!(maps.is_some(), kind.has_interaction_maps(), "{kind}");
        if let Some(maps) = maps {
            assert_eq!(maps.fields, 4);
            assert_eq!(maps.rows, 300);
            for i in 0..4 {
                for j in 0..4 {
                    let (a, b) = (maps.pair_scores[i * 4 + j], maps.pair_scores[j * 4 + i]);
                    assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{kind} {i} {j}");
                }
            }
            assert_eq!(maps.ranked_pairs().len(), 6);
            assert!(!maps.maps.is_empty());
        }
    }
    // Another architecture's weights do not load.
    let path = dir.join("deepfm.safetensors");
    let err = ctr::load(ModelKind::Dcn, &tiny_params(ModelKind::Dcn), enc, &path)
        .err()
        .unwrap();
    assert!(err.to_string().contains("deepfm.safetensors"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The hand-written passes of [`crate::fast_ctr`] against burn autodiff, on the tiny batch
/// with random weights: every logit, every parameter gradient and the embeddings' gradient;
/// then central differences on the hand-written loss itself.
fn fast_check<T: BuildNet>(kind: ModelKind, params: &CtrParams) -> (usize, f64) {
    let width = kind.embedding_width(params.embedding_dim);
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let ad = crate::cpu().autodiff();
    let net = T::build(kind, 4, params, &mut rng, &ad);
    let table: Vec<f32> = (0..10 * width)
        .map(|_| rng.random_range(-0.8f32..0.8))
        .collect();
    let (rows, scales, labels) = tiny_batch();
    let mut buf = Vec::new();
    gather_scaled(&table, width, &rows, &scales, &mut buf).unwrap();
    let e = Tensor::<3>::from_data(TensorData::new(buf.clone(), [6, 4, width]), &ad).require_grad();
    let y = Tensor::<2>::from_data(TensorData::new(labels.clone(), [6, 1]), &ad);
    let z_ref = net.forward(e.clone());
    let logits_ref = to_vec(z_ref.clone().inner()).unwrap();
    let mut grads = bce_with_logits(z_ref, y).backward();
    let ge_ref = to_vec(e.grad_remove(&mut grads).unwrap()).unwrap();
    let dense_ref: HashMap<String, Named> =
        named_gradients(&net, &grads).unwrap().into_iter().collect();

    let heads = params.attention_heads;
    let named = named_parameters(&net.valid()).unwrap();
    let mut fast = crate::fast_ctr::FastNet::from_named(kind, 4, width, heads, named).unwrap();
    let mut logits = vec![0f32; 6];
    fast.forward(&buf, 6, &mut logits);
    let close = |a: f32, b: f32, scale: f32| (a - b).abs() <= 1e-5 * scale.max(1e-3) + 1e-7;
    for (a, b) in logits.iter().zip(&logits_ref) {
        assert!(close(*a, *b, b.abs()), "{kind}: logit {a} vs autodiff {b}");
    }
    let dz: Vec<f32> = logits
        .iter()
        .zip(&labels)
        .map(|(&z, &y)| (1.0 / (1.0 + (-z).exp()) - y) / 6.0)
        .collect();
    let mut ge = vec![0f32; buf.len()];
    fast.backward(&buf, 6, &dz, &mut ge);
    let max_abs = |v: &[f32]| v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let mut compared = 0;
    let scale = max_abs(&ge_ref);
    for (i, (a, b)) in ge.iter().zip(&ge_ref).enumerate() {
        assert!(
            close(*a, *b, scale),
            "{kind}: embedding gradient {i}: {a} vs {b}"
        );
        compared += 1;
    }
    let named_fast = fast.named();
    for (i, name) in named_fast.keys().enumerate() {
        let (_, g_ref) = dense_ref
            .get(name)
            .unwrap_or_else(|| panic!("{kind}: no autodiff gradient for {name}"));
        let g = &fast.grads[fast_index(&fast, name)];
        assert_eq!(g.len(), g_ref.len(), "{kind}: {name}");
        let scale = max_abs(g_ref);
        for (j, (a, b)) in g.iter().zip(g_ref).enumerate() {
            assert!(
                close(*a, *b, scale),
                "{kind}: {name}[{j}] ({i}): {a} vs autodiff {b}"
            );
            compared += 1;
        }
    }
    // Central differences of the hand-written loss (f64 from f32 logits) on the embeddings.
    let loss = |fast: &mut crate::fast_ctr::FastNet, emb: &[f32]| -> f64 {
        let mut z = vec![0f32; 6];
        fast.forward(emb, 6, &mut z);
        z.iter()
            .zip(&labels)
            .map(|(&z, &y)| {
                let (z, y) = (z as f64, y as f64);
                z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
            })
            .sum::<f64>()
            / 6.0
    };
    let mut worst = 0f64;
    let mut order: Vec<usize> = (0..ge.len()).collect();
    order.sort_by(|&a, &b| ge[b].abs().total_cmp(&ge[a].abs()));
    for &i in order.iter().take(6) {
        let mut best = f64::INFINITY;
        for eps in [2e-3f32, 5e-4] {
            let (mut up, mut down) = (buf.clone(), buf.clone());
            up[i] += eps;
            down[i] -= eps;
            let fd = (loss(&mut fast, &up) - loss(&mut fast, &down)) / (2.0 * eps as f64);
            best = best.min(relative_error(fd, ge[i] as f64));
        }
        assert!(
            best < 1e-2,
            "{kind}: embedding cell {i}: finite differences off by {best:.2e}"
        );
        worst = worst.max(best);
    }
    (compared, worst)
}

fn fast_index(fast: &crate::fast_ctr::FastNet, name: &str) -> usize {
    fast.index_of(name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

#[test]
fn hand_written_passes_match_autodiff_and_finite_differences() {
    for &kind in ModelKind::ALL {
        if !crate::fast_ctr::FastNet::supports(kind) {
            continue;
        }
        let tiny = tiny_params(kind);
        // The spec's shapes at a small scale too: three attention layers of width 8 (heads
        // of 4), a three-layer CIN, a two-layer DNN.
        let wider = CtrParams {
            embedding_dim: 4,
            hidden: if kind == ModelKind::AutoInt {
                vec![]
            } else {
                vec![6, 5]
            },
            cin_layers: vec![5, 4, 3],
            attention_layers: 3,
            attention_size: 8,
            ..tiny.clone()
        };
        for params in [tiny, wider] {
            let (compared, worst) =
                super::with_net_type!(kind, T => fast_check::<T>(kind, &params));
            assert!(compared > 50, "{kind}: only {compared} values compared");
            eprintln!(
                "{kind}: {compared} values match autodiff; finite differences within {worst:.1e}"
            );
        }
    }
}

#[test]
fn hand_written_training_matches_autodiff_training() {
    let data = parity_data(300);
    let rows: Vec<usize> = (0..300).collect();
    let enc = InputEncoder::fit(
        &data,
        &rows,
        &EncoderOptions {
            min_count: 0,
            hash_buckets: 0,
            numeric: glider_data::NumericOptions::scalar(),
        },
    )
    .unwrap();
    let batch = enc.encode_rows(&data, &rows);
    let labels: Vec<f32> = rows[240..].iter().map(|&r| data.labels[r]).collect();
    let val = enc.encode_rows(&data, &rows[240..]);
    for &kind in ModelKind::ALL {
        if !crate::fast_ctr::FastNet::supports(kind) {
            continue;
        }
        let params = CtrParams {
            max_epochs: 3,
            batch_size: 64,
            ..tiny_params(kind)
        };
        let train = |engine| {
            let mut source = ctr::InMemoryRows::new(
                enc.encode_rows(&data, &rows[..240]),
                rows[..240].iter().map(|&r| data.labels[r]).collect(),
            );
            ctr::train_rows_with(
                kind,
                &mut source,
                &val,
                &labels,
                &enc,
                &params,
                5,
                &NoProgress,
                engine,
            )
            .unwrap()
        };
        let fast = train(ctr::Engine::Auto);
        let reference = train(ctr::Engine::Autodiff);
        assert_eq!(fast.best_epoch(), reference.best_epoch(), "{kind}");
        let a = fast.predict_logits(&batch).unwrap();
        let b = reference.predict_logits(&batch).unwrap();
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-3, "{kind}: logits differ by up to {worst}");
        for (h1, h2) in fast.history().iter().zip(reference.history()) {
            assert!(
                (h1.validation_logloss - h2.validation_logloss).abs() < 1e-4,
                "{kind}: epoch {}: {} vs {}",
                h1.epoch,
                h1.validation_logloss,
                h2.validation_logloss
            );
        }
    }
}
