#!/usr/bin/env python3
"""Writes the small ONNX model the tests use: tests/fixtures/interaction.onnx.

The model takes one FP32 tensor "input" of shape [n, 4] (dense fields x0..x3) and answers
    logit = 2 * x0 * x1 + 0.5 * x2 - 0.25 * x3 + 0.1
(output "logit", [n, 1]) and its sigmoid (output "probability", [n, 1]): a known pairwise
interaction {x0, x1}, two main effects and nothing else, built from MatMul, Mul, Add and
Sigmoid so any ONNX runtime reads it.

Needs `pip install onnx` (and numpy, which it brings). Run from the repository root:
    python3 scripts/make_test_onnx.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    pick0 = np.array([[1.0], [0.0], [0.0], [0.0]], dtype=np.float32)
    pick1 = np.array([[0.0], [1.0], [0.0], [0.0]], dtype=np.float32)
    linear = np.array([[0.0], [0.0], [0.5], [-0.25]], dtype=np.float32)
    inits = [
        numpy_helper.from_array(pick0, "pick0"),
        numpy_helper.from_array(pick1, "pick1"),
        numpy_helper.from_array(linear, "linear"),
        numpy_helper.from_array(np.array([2.0], dtype=np.float32), "two"),
        numpy_helper.from_array(np.array([0.1], dtype=np.float32), "bias"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "pick0"], ["x0"]),
        helper.make_node("MatMul", ["input", "pick1"], ["x1"]),
        helper.make_node("Mul", ["x0", "x1"], ["x0x1"]),
        helper.make_node("Mul", ["x0x1", "two"], ["pair"]),
        helper.make_node("MatMul", ["input", "linear"], ["main"]),
        helper.make_node("Add", ["pair", "main"], ["sum"]),
        helper.make_node("Add", ["sum", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes,
        "glider_interaction_test",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 4])],
        [
            helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["n", 1]),
            helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["n", 1]),
        ],
        inits,
    )
    model = helper.make_model(
        graph,
        producer_name="glider scripts/make_test_onnx.py",
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    out = os.path.join("tests", "fixtures", "interaction.onnx")
    onnx.save(model, out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
