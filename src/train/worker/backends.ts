/**
 * Backend choice: WebGPU on a hardware adapter first; where WebGPU is missing or only a software
 * fallback adapter exists (SwiftShader), the fastest of the rest. Always says which one runs and why.
 */
import '@tensorflow/tfjs-backend-webgpu';
import './wasmPaths';
import { BACKEND_LABELS, type BackendChoice, type BackendName } from '../../model/spec';
import type { BackendReport } from '../protocol';
import { trySet } from './startBackend';

interface Probe {
  available: boolean;
  hardware: boolean;
  device: string | null;
  note: string;
}

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render/i;

async function probeWebGpu(): Promise<Probe> {
  const gpu = (self.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, hardware: false, device: null, note: 'this browser has no WebGPU' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { available: false, hardware: false, device: null, note: 'WebGPU offers no adapter' };
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
    const device = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    const fallback = Boolean(info.isFallbackAdapter ?? legacy) || SOFTWARE.test(device);
    return {
      available: true,
      hardware: !fallback,
      device,
      note: fallback ? `WebGPU only offers a software fallback adapter (${device})` : `WebGPU adapter ${device}`,
    };
  } catch (e) {
    return { available: false, hardware: false, device: null, note: `WebGPU adapter request failed: ${String(e)}` };
  }
}

function probeWebGl(): Probe {
  try {
    if (typeof OffscreenCanvas === 'undefined') return { available: false, hardware: false, device: null, note: 'no OffscreenCanvas in workers' };
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return { available: false, hardware: false, device: null, note: 'WebGL2 is unavailable' };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    const software = SOFTWARE.test(renderer);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { available: true, hardware: !software, device: renderer, note: software ? `WebGL renders in software (${renderer})` : `WebGL on ${renderer}` };
  } catch (e) {
    return { available: false, hardware: false, device: null, note: `WebGL probe failed: ${String(e)}` };
  }
}

/**
 * What this browser offers, probed once per worker (an adapter request and a throw-away WebGL context
 * at every Train would be work done again; a lost device is handled by the callers' `exclude`).
 */
let probed: Promise<{ webgpu: Probe; webgl: Probe }> | null = null;
function probeAll(): Promise<{ webgpu: Probe; webgl: Probe }> {
  probed ??= probeWebGpu().then((webgpu) => ({ webgpu, webgl: probeWebGl() }));
  return probed;
}

const LABEL = BACKEND_LABELS;

/**
 * Picks and initialises a backend. Auto: hardware WebGPU, then hardware WebGL, then WASM
 * (measured fastest on software-only machines), then CPU. A forced choice falls back the same way
 * if it cannot start, and the reason says so.
 */
export async function selectBackend(requested: BackendChoice, exclude: ReadonlySet<BackendName> = new Set()): Promise<BackendReport> {
  const { webgpu, webgl } = await probeAll();
  const notes: string[] = [];
  let order: BackendName[];
  if (requested === 'auto') {
    order = [];
    if (webgpu.available && webgpu.hardware) order.push('webgpu');
    else notes.push(webgpu.note);
    if (webgl.available && webgl.hardware) order.push('webgl');
    else if (order.length === 0) notes.push(webgl.note);
    order.push('wasm', 'cpu');
  } else {
    order = [requested, ...(['webgpu', 'webgl', 'wasm', 'cpu'] as BackendName[]).filter((b) => b !== requested)];
    if (requested === 'webgpu' && !webgpu.available) notes.push(webgpu.note);
    if (requested === 'webgl' && !webgl.available) notes.push(webgl.note);
  }
  for (const name of order) {
    if (exclude.has(name)) {
      notes.push(`${LABEL[name]} lost its device earlier`);
      continue;
    }
    if (name === 'webgpu' && !webgpu.available) continue;
    if (name === 'webgl' && !webgl.available) continue;
    const failure = await trySet(name);
    if (failure) {
      notes.push(failure);
      continue;
    }
    const device = name === 'webgpu' ? webgpu.device : name === 'webgl' ? webgl.device : null;
    let reason: string;
    if (requested === name) reason = `${LABEL[name]} as you chose`;
    else if (requested === 'auto') {
      reason =
        name === 'webgpu'
          ? `Auto: WebGPU on a hardware adapter (${device ?? 'unknown'})`
          : name === 'webgl'
            ? `Auto: ${notes.join('; ')}; WebGL runs on hardware (${device ?? 'unknown'})`
            : `Auto: ${notes.join('; ')}; ${LABEL[name]} is the fastest of the rest here`;
    } else reason = `${LABEL[requested]} could not run (${notes.join('; ')}); fell back to ${LABEL[name]}`;
    if (name === 'webgpu' && !webgpu.hardware) reason += ' — note: a software adapter, expect it to be slow';
    return { name, requested, reason, device };
  }
  throw new Error(`No backend could start: ${notes.join('; ')}`);
}

/**
 * The backends Auto races (src/train/race.ts) when there is more than one: WebGPU and WebGL on
 * hardware (or on a software adapter too, when a test asks), then WASM. CPU never wins against WASM.
 */
export async function autoCandidates(includeSoftware: boolean, exclude: ReadonlySet<BackendName>): Promise<BackendName[]> {
  const { webgpu, webgl } = await probeAll();
  const out: BackendName[] = [];
  if (webgpu.available && (webgpu.hardware || includeSoftware)) out.push('webgpu');
  if (webgl.available && (webgl.hardware || includeSoftware)) out.push('webgl');
  out.push('wasm');
  return out.filter((b) => !exclude.has(b));
}
