//! Times the any-order NID ranking on a p = 1000, 256-128-64-1 MLP with pseudo-random
//! weights (spec 1.4 performance target: well under 50 ms in release).
//! Run: `cargo run --release -p glider-core --example nid_speed`.

use glider_core::nid::{rank_interactions, Matrix, MlpWeights, NidError, RankingOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Result<Matrix, NidError> {
    let data = (0..rows * cols)
        .map(|_| rng.random::<f32>() - 0.5)
        .collect();
    Matrix::new(rows, cols, data)
}

fn main() -> Result<(), NidError> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let sizes = [1000, 256, 128, 64, 1];
    let layers = sizes
        .windows(2)
        .map(|s| random_matrix(&mut rng, s[1], s[0]))
        .collect::<Result<Vec<_>, _>>()?;
    let w = MlpWeights::new(layers)?;
    let opts = RankingOptions::default();
    for _ in 0..8 {
        let t = std::time::Instant::now();
        let ranked = rank_interactions(&w, &opts)?;
        println!(
            "rank_interactions p=1000 h1=256: {} interactions in {:.1} ms",
            ranked.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}
