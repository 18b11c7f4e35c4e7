/**
 * A WebGPU device in Node for the fused kernels' unit tests: Dawn's Node binding (npm `webgpu`) over
 * Chromium's SwiftShader Vulkan driver (software; vitest.config.ts points the Vulkan loader at it).
 * Test-only: the app gets its device from tfjs-backend-webgpu.
 *
 * `gpuAvailable()` says whether a device can be made; the tests skip without one only when
 * REQUIRE_WEBGPU is not set (CI sets it, so a missing driver fails there instead of passing quietly).
 */
import type { KernelSource } from './wgsl';

let devicePromise: Promise<GPUDevice | null> | null = null;
/** Dawn's GPU object: kept referenced for the process's life (collected, it takes its devices with it: a segfault). */
let dawn: GPU | null = null;

async function makeDevice(): Promise<GPUDevice | null> {
  try {
    const mod = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
    Object.assign(globalThis, mod.globals);
    dawn = mod.create([]);
    const adapter = await dawn.requestAdapter();
    if (!adapter) return null;
    return await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      },
    });
  } catch (e) {
    if (process.env.REQUIRE_WEBGPU) throw e;
    return null;
  }
}

/** The shared test device, or null where none can be made (and REQUIRE_WEBGPU is not set). */
export function testDevice(): Promise<GPUDevice | null> {
  devicePromise ??= makeDevice();
  return devicePromise;
}

/** Whether the WebGPU tests should run: a device exists, or REQUIRE_WEBGPU says they must. */
export async function gpuAvailable(): Promise<boolean> {
  return (await testDevice()) !== null || Boolean(process.env.REQUIRE_WEBGPU);
}

export const STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST

/** A storage buffer holding `data` (or `length` zeros). */
export function upload(device: GPUDevice, data: Float32Array | Uint32Array | number): GPUBuffer {
  const bytes = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: STORAGE });
  if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** Reads `length` floats of a storage buffer back. */
export async function download(device: GPUDevice, buffer: GPUBuffer, length: number, offsetFloats = 0): Promise<Float32Array> {
  const size = Math.ceil((length * 4) / 4) * 4;
  const staging = device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, offsetFloats * 4, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x1);
  const out = new Float32Array(staging.getMappedRange().slice(0, length * 4));
  staging.unmap();
  staging.destroy();
  return out;
}

/**
 * Runs one generated kernel with these buffers bound in the kernel's binding order (each a whole
 * buffer, or {buffer, offset, size} in bytes); waits until the GPU is done. Throws on a shader or
 * validation error, with the kernel's label.
 */
export async function runKernel(device: GPUDevice, kernel: KernelSource, buffers: Array<GPUBuffer | GPUBufferBinding>): Promise<void> {
  if (buffers.length !== kernel.bindings.length) throw new Error(`${kernel.label}: ${kernel.bindings.length} bindings, ${buffers.length} buffers given`);
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: kernel.code, label: kernel.label });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: kernel.label });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((b, i) => ({ binding: i, resource: 'buffer' in b && !(b instanceof GPUBuffer) ? b : { buffer: b as GPUBuffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...kernel.workgroups);
  pass.end();
  device.queue.submit([enc.finish()]);
  const error = await device.popErrorScope();
  if (error) {
    const info = await module.getCompilationInfo();
    const messages = info.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
    throw new Error(`${kernel.label}: ${error.message}\n${messages}`);
  }
  await device.queue.onSubmittedWorkDone();
}

/** Deterministic pseudo-random floats in [lo, hi) (mulberry32), for test inputs. */
export function randomArray(length: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = lo + (hi - lo) * r;
  }
  return out;
}
