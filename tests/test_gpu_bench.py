"""bench/gpu.py, the one-command GPU check: it runs end to end (on CPU at tiny sizes), refuses without CUDA, and
its FLOP count, which MFU rests on, is the one torch counts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from bench.gpu import CASES, CPU_WORKERS, peak_tflops, train_flops
from lit_math.model.transformer import Seq2SeqTransformer

ROOT = Path(__file__).resolve().parents[1]


def run_bench(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "bench/gpu.py", *args], cwd=ROOT, capture_output=True, text=True, env=env)


def test_quick_cpu_run_prints_one_table_and_writes_its_rows_as_json(tmp_path):
    result = run_bench("--quick", "--device", "cpu", "--json", str(tmp_path / "gpu.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "device: cpu" and lines[1].startswith("| case | workers | compiled | examples/s")
    rows = [line.split("|")[1:-1] for line in lines[3:]]
    expected = [(case, str(workers)) for case in CASES for workers in CPU_WORKERS]
    assert [(cells[0].strip(), cells[1].strip()) for cells in rows] == expected
    assert all(cells[7].strip() == "n/a" for cells in rows)  # MFU: no peak figure for a CPU
    report = json.loads((tmp_path / "gpu.json").read_text())
    assert report["device"] == "cpu" and len(report["rows"]) == len(expected)
    for row in report["rows"]:
        assert row["examples_per_s"] > 0 and row["tokens_per_s"] > 0 and row["tflops"] > 0, row
        assert 0 <= row["padding_share"] < 1 and 0 <= row["wait_share"] < 1 and row["peak_memory_mib"] > 0, row
        assert row["mfu"] is None and row["compiled"] is False
    shares = {row["case"]: row["padding_share"] for row in report["rows"]}
    assert shares["bwd_paper"] > shares["gcd_tiny"]  # BWD-like lengths (20-120 tokens) pad far more than GCD


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without CUDA")
def test_without_cuda_it_refuses_in_one_line_with_exit_code_2(tmp_path):
    result = run_bench("--quick", "--json", str(tmp_path / "gpu.json"))
    assert result.returncode == 2
    assert len(result.stdout.strip().splitlines()) == 1 and "no CUDA device" in result.stdout
    assert not (tmp_path / "gpu.json").exists()


def test_step_flops_are_what_torch_counts_for_a_forward_and_backward():
    torch.manual_seed(0)
    net = Seq2SeqTransformer(20, 9, 7, d_model=32, n_enc_layers=2, n_dec_layers=1, n_heads=4, ffn_dim=48)
    source, target = torch.randint(3, 20, (5, 9)), torch.randint(3, 20, (5, 6))
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):  # attention as counted products
        net(source, target).sum().backward()
    assert train_flops(32, 48, 2, 1, 20, 5, 9, 6) == counter.get_total_flops()


@pytest.mark.parametrize(
    "name,peak",
    [
        ("NVIDIA H100 80GB HBM3", 989.4),
        ("NVIDIA H100 PCIe", 756.5),
        ("NVIDIA H200", 989.4),
        ("NVIDIA A100-SXM4-40GB", 312.0),
        ("NVIDIA L40S", 362.1),
        ("NVIDIA L4", 121.0),
        ("Some Future Accelerator", None),
    ],
)
def test_peak_rates_by_device_name(name, peak):
    assert peak_tflops(name) == peak
