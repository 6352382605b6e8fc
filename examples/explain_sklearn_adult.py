"""Train a scikit-learn MLP on the embedded Adult data and explain it in-process with GLIDER.

    pip install ./python scikit-learn
    python examples/explain_sklearn_adult.py

Prints the model's test AUC and the top global interactions over 100 instances (a few
minutes on 2 cores; --instances and --perturbations trade time for stability).
"""

from __future__ import annotations

import argparse

import glider
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--perturbations", type=int, default=3000)
    args = parser.parse_args()

    df = glider.datasets.adult()
    y = (df.pop("income") == ">50K").astype(int).to_numpy()
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    categorical = [c for c in df.columns if c not in numeric]
    train, test, y_train, y_test = train_test_split(
        df, y, test_size=0.2, random_state=0, stratify=y
    )

    # Missing values (and the fields GLIDER switches off, which arrive as missing) are
    # imputed: a constant category, the median number.
    model = make_pipeline(
        ColumnTransformer(
            [
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value="?"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                ),
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ]
        ),
        MLPClassifier(hidden_layer_sizes=(64, 32), early_stopping=True, random_state=0),
    )
    model.fit(train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(test)[:, 1])
    print(f"scikit-learn MLP on Adult: test AUC {auc:.4f}")

    result = glider.detect(
        model.predict_proba,  # (n, 2) probabilities: glider reads column 1
        test,
        instances=args.instances,
        perturbations=args.perturbations,
        seed=0,
    )
    print(f"\nTop global interactions over {result.instances} instances:")
    for _, row in result.interactions.head(10).iterrows():
        print(f"  {' × '.join(row['fields']):<45} {row['count']:>4}  ({row['share']:.0%})")
    if result.failed:
        print(f"{len(result.failed)} instances failed; the first: {result.failed[0][1]}")
    pairs = result.pair_strength.to_numpy().copy()
    np.fill_diagonal(pairs, 0.0)  # the diagonal is a field's own share, not a pair
    strongest = np.unravel_index(np.argmax(pairs), pairs.shape)
    print(
        "Strongest pair by mean strength:",
        result.pair_strength.index[strongest[0]],
        "×",
        result.pair_strength.columns[strongest[1]],
    )


if __name__ == "__main__":
    main()
