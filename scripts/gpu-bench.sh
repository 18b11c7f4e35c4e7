#!/usr/bin/env bash
# Prepares .gpu/ for a real-GPU WebGPU measurement on a machine without npm or a browser (the device
# tool's GPU machines): one bundled file with tfjs and the worker's training code
# (src/bench/webgpuNode.ts), Dawn's Node binding (npm package `webgpu`, linux-x64 only), this
# machine's Node binary, the MNIST asset and the Vulkan loader. Then, on the GPU machine:
#
#   bash scripts/gpu-bench.sh run OUTDIR    # WebGPU (and WASM, one thread) in Node + PyTorch CUDA, JSON and logs into OUTDIR
#
# and here:  node scripts/gpu-report.mjs OUTDIR   (writes bench/gpu-results.{json,md})
set -euo pipefail
cd "$(dirname "$0")/.."
WEBGPU_VERSION=0.6.2

if [ "${1:-prepare}" = "prepare" ]; then
  rm -rf .gpu && mkdir -p .gpu/webgpu/dist/linux-x64 .gpu/debs
  npx vite build -c scripts/gpu-bench.vite.config.ts --logLevel warn
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "webgpu@$WEBGPU_VERSION" >/dev/null && tar xzf "webgpu-$WEBGPU_VERSION.tgz")
  cp "$tmp/package/index.js" "$tmp/package/package.json" "$tmp/package/LICENSE.md" .gpu/webgpu/
  gzip -9 -c "$tmp/package/dist/linux-x64/dawn.node" > .gpu/dawn.node.gz
  rm -rf "$tmp"
  gzip -c "$(readlink -f "$(command -v node)")" > .gpu/node.gz
  npm run --silent data
  cp public/data/mnist.bin.gz .gpu/
  mkdir -p .gpu/wasm && cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm .gpu/wasm/
  (cd .gpu/debs && apt-get download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 2>/dev/null)
  du -sh .gpu
  exit 0
fi

if [ "$1" = "run" ]; then
  out=${2:?usage: gpu-bench.sh run OUTDIR}
  mkdir -p "$out"
  # The Vulkan loader and glvnd (the NVIDIA Vulkan driver needs libGLdispatch), as the device notes advise.
  for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
    $(find / -xdev -name 'nvidia_icd*.json' 2>/dev/null | head -3); do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
  done
  if [ -d /usr/local/nvidia/share/glvnd/egl_vendor.d ]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  ldconfig -p | grep -E 'libvulkan|GLX_nvidia|GLdispatch' || true
  echo "Vulkan driver: ${VK_DRIVER_FILES:-none found}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  gunzip -c .gpu/node.gz > /tmp/node && chmod +x /tmp/node
  rm -rf /tmp/webgpu && cp -r .gpu/webgpu /tmp/webgpu && mkdir -p /tmp/webgpu/dist/linux-x64
  gunzip -c .gpu/dawn.node.gz > /tmp/webgpu/dist/linux-x64/dawn.node
  /tmp/node .gpu/bundle/webgpu-node-bench.mjs --webgpu /tmp/webgpu/index.js --data .gpu/mnist.bin.gz --wasm "$PWD/.gpu/wasm" \
    --presets "${PRESETS:-default,wiki-5-layer,dense}" --batches "${BATCHES:-32,256}" --seconds "${SECONDS_PER_WINDOW:-2}" --windows 3 --out "$out/webgpu-node.json" 2>&1 | tee "$out/webgpu-node.log" || true
  BATCHES=${BATCHES:-32,256}
  [ -n "${SKIP_TORCH:-}" ] && BATCHES=""   # keep an earlier run's PyTorch files
  for b in ${BATCHES//,/ }; do
    PYTHONUNBUFFERED=1 python3 scripts/torch_bench.py --device cuda --data .gpu/mnist.bin.gz --presets "${PRESETS:-default,wiki-5-layer,dense}" --batch "$b" --seconds 2 --windows 3 \
      > "$out/torch-cuda-b$b.json" 2> "$out/torch-cuda-b$b.log" || echo "torch cuda batch $b failed"
  done
  ls -la "$out"
  exit 0
fi
echo "usage: gpu-bench.sh [prepare | run OUTDIR]" >&2
exit 2
