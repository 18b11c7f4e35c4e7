#!/usr/bin/env python3
"""Native yardstick for `npm run bench`: trains the playground's three reference autoencoders with
PyTorch on the CPU and prints images/s as JSON (one object on stdout).

Same layer structure as the presets in src/model/presets.ts (3x3 'same' convs, leakyReLU 0.2,
max-pool 2, nearest upsampling 2, batch norm where the preset has it, sigmoid output), binary
cross-entropy, Adam with the preset's learning rate, batch size 32 (by default), on the real MNIST
digits from public/data/mnist.bin.gz when it exists, otherwise random 28x28 images.

    python3 scripts/torch_bench.py [--seconds 4] [--windows 3] [--batch 32] [--threads 1,2] [--quick]
                                   [--device cuda]   # the GPU yardstick on a machine with one
"""
import argparse
import gzip
import json
import os
import platform
import re
import statistics
import struct
import sys
import time

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "public", "data", "mnist.bin.gz")


def load_mnist(limit=9000, path=DATA):
    """The AEDS v1 asset: 'AEDS', version, uint32 count @8, uint16 h, w, c @12/14/16, labels from 20, then pixels."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[:4] != b"AEDS":
        raise ValueError("not an AEDS file")
    (count,) = struct.unpack_from("<I", raw, 8)
    h, w, c = struct.unpack_from("<HHH", raw, 12)
    start = 20 + count
    n = min(count, limit)
    pixels = torch.frombuffer(bytearray(raw[start : start + n * h * w * c]), dtype=torch.uint8)
    # The asset is NHWC; torch wants NCHW.
    x = pixels.view(n, h, w, c).permute(0, 3, 1, 2).contiguous().float() / 255.0
    return x, f"MNIST ({n} images from {os.path.relpath(path, ROOT)})"


def _blas_kind(path):
    low = path.lower()
    for kind, marks in (("openblas", ("openblas",)), ("mkl", ("mkl",)), ("blis", ("blis",)), ("atlas", ("atlas",))):
        if any(m in low for m in marks):
            return kind
    if "/blas/" in low or os.path.basename(low).startswith("libblas.so"):
        return "reference"  # netlib's reference BLAS: Debian's libblas3
    return "unknown"


def sgemm_provider():
    """The file that defines sgemm_ for the process's libblas.so.3 (what Debian's torch, BLAS_INFO=generic,
    calls): dlopen by soname returns the copy already loaded, and dladdr names the file behind the symbol.
    Several BLAS libraries can be mapped at once (OpenBLAS's liblapack pulls in libopenblas even where
    libblas.so.3 is the reference one), so the mapped files alone do not tell."""
    import ctypes

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p), ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    try:
        blas = ctypes.CDLL("libblas.so.3")
        addr = ctypes.cast(blas.sgemm_, ctypes.c_void_p).value
        try:
            dladdr = ctypes.CDLL(None).dladdr
        except AttributeError:
            dladdr = ctypes.CDLL("libdl.so.2").dladdr
        info = DlInfo()
        if dladdr(ctypes.c_void_p(addr), ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(info.dli_fname.decode())
    except (OSError, AttributeError):
        pass
    return None


def loaded_blas():
    """The BLAS this process actually uses (after a matmul): (kind, provider, [mapped BLAS files]).

    Debian's torch is built with BLAS_INFO=generic: it calls whatever libblas.so.3 the alternatives
    system points to. That is the reference BLAS (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.*), about
    7x slower on the dense AE, unless OpenBLAS (libopenblas0) is installed and selected. kind is one of
    'openblas', 'mkl', 'blis', 'atlas', 'reference', 'unknown': from the file that defines sgemm_ for
    libblas.so.3 when torch uses the system BLAS, else from the BLAS files mapped into the process.
    """
    a = torch.randn(64, 64)
    float((a @ a).sum())  # make sure the BLAS is loaded and called
    paths = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                name = parts[-1] if len(parts) >= 6 else ""
                base = os.path.basename(name).lower()
                if ("blas" in base or "mkl_" in base or "libblis" in base or "atlas" in base) and name not in paths:
                    paths.append(name)
    except OSError:
        pass
    generic = "BLAS_INFO=generic" in torch.__config__.show()
    provider = sgemm_provider() if generic else None
    if provider:
        return _blas_kind(provider), provider, paths
    kinds = [k for k in (_blas_kind(p) for p in paths) if k != "unknown"]
    return (kinds[0] if kinds else "unknown"), None, paths


def blas_thread_setter(paths):
    """OpenBLAS keeps its own thread pool, apart from torch's OpenMP threads: torch.set_num_threads(1) alone
    leaves OpenBLAS spinning up to one thread per core next to torch's, which on a small, shared machine
    costs more than it gains. Returns a function that sets OpenBLAS's thread count too (or None)."""
    import ctypes

    for p in paths:
        if "openblas" in p.lower():
            try:
                lib = ctypes.CDLL(p)
                return lib.openblas_set_num_threads
            except (OSError, AttributeError):
                return None
    return None


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


def leaky():
    return nn.LeakyReLU(0.2)


def up():
    return nn.Upsample(scale_factor=2, mode="nearest")


def build(preset):
    if preset == "default":
        model = nn.Sequential(
            conv(1, 16), leaky(), nn.MaxPool2d(2), conv(16, 4), leaky(), nn.MaxPool2d(2),
            conv(4, 16), leaky(), up(), conv(16, 16), leaky(), up(), conv(16, 1), nn.Sigmoid(),
        )
        return model, 0.002
    if preset == "wiki-5-layer":
        model = nn.Sequential(
            conv(1, 64), nn.BatchNorm2d(64), leaky(), nn.MaxPool2d(2),
            conv(64, 64), nn.BatchNorm2d(64), leaky(), nn.MaxPool2d(2),
            conv(64, 64), nn.BatchNorm2d(64), leaky(), up(),
            conv(64, 64), nn.BatchNorm2d(64), leaky(), up(),
            conv(64, 1), nn.Sigmoid(),
        )
        return model, 0.002
    if preset == "dense":
        model = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 32),
            nn.Linear(32, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)),
        )
        return model, 0.001
    raise ValueError(preset)


def bench(preset, data, batch, seconds, windows, warmup_s, device="cpu"):
    torch.manual_seed(1)
    model, lr = build(preset)
    model = model.to(device)
    data = data.to(device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCELoss()
    n = data.shape[0]
    perm = torch.randperm(n, device=device)
    pos = 0

    def step():
        nonlocal pos, perm
        if pos + batch > n:
            perm = torch.randperm(n, device=device)
            pos = 0
        x = data[perm[pos : pos + batch]]
        pos += batch
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()
        return loss

    t0 = time.perf_counter()
    steps = 0
    while steps < 2 or time.perf_counter() - t0 < warmup_s:
        step()
        steps += 1
    sync()
    rates = []
    loss = None
    for _ in range(windows):
        t0 = time.perf_counter()
        steps = 0
        while steps < 1 or time.perf_counter() - t0 < seconds:
            loss = step()
            steps += 1
        sync()
        rates.append(steps * batch / (time.perf_counter() - t0))
    return {"imagesPerSec": statistics.median(rates), "windows": rates, "finalLoss": float(loss.detach()) if loss is not None else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 1}", help="comma-separated torch thread counts to measure")
    ap.add_argument("--presets", default="default,wiki-5-layer,dense")
    ap.add_argument("--quick", action="store_true", help="1 s windows, 2 of them")
    ap.add_argument("--data", default=DATA, help="the AEDS MNIST asset (public/data/mnist.bin.gz)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine (then --threads is ignored)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.windows, args.warmup = 1.0, 2, 0.5
    try:
        data, source = load_mnist(path=args.data)
    except (OSError, ValueError) as e:
        torch.manual_seed(0)
        data, source = torch.rand(4096, 1, 28, 28), f"random 28x28 images ({e})"
    threads = sorted({max(1, int(t)) for t in args.threads.split(",") if t.strip()})
    if args.device != "cpu":
        threads = [torch.get_num_threads()]
    blas_kind, blas_provider, blas_paths = loaded_blas()
    set_blas_threads = blas_thread_setter([blas_provider] if blas_provider else blas_paths)
    results = {}
    for preset in [p for p in args.presets.split(",") if p]:
        results[preset] = {}
        for t in threads:
            torch.set_num_threads(t)
            if set_blas_threads is not None:
                set_blas_threads(t)
            try:
                results[preset][str(t)] = bench(preset, data, args.batch, args.seconds, args.windows, args.warmup, args.device)
            except Exception as e:  # noqa: BLE001 - a failing cell is recorded, the rest goes on
                results[preset][str(t)] = {"error": f"{type(e).__name__}: {e}"}
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=([^,\s]+)", config)
    out = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        # Debian's build says 'generic': the system libblas.so.3 (reference BLAS unless OpenBLAS is
        # installed), which dense layers' matmuls use; convolutions go through oneDNN (mkldnn).
        "blas": blas.group(1) if blas else "unknown",
        # What the dynamic loader picked for libblas.so.3 (the alternatives link, resolved) ...
        "blasLibrary": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3") if os.path.exists("/usr/lib/x86_64-linux-gnu/libblas.so.3") else None,
        # ... and what this process actually mapped after a matmul: the truth for the ratio.
        "blasLoaded": [os.path.realpath(p) for p in blas_paths],
        "blasKind": blas_kind,
        "blasProvider": blas_provider,  # the file behind libblas.so.3's sgemm_ (None when torch has its own BLAS)
        "blasThreadsSet": set_blas_threads is not None,  # OpenBLAS's own pool follows the thread count
        "data": source,
        "device": args.device if args.device == "cpu" else f"{args.device} ({torch.cuda.get_device_name()})",
        "batchSize": args.batch,
        "threads": threads,
        "results": results,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
