// What the volunteer's browser offers for WebGPU, in words. TypeScript's DOM lib has no
// WebGPU types yet, so the few members read here are typed locally.

export interface GpuAdapterInfoLike {
	vendor?: string;
	architecture?: string;
	device?: string;
	description?: string;
}

interface GpuAdapterLike {
	info?: GpuAdapterInfoLike;
	features: { has(name: string): boolean };
	limits: Record<string, number>;
	isFallbackAdapter?: boolean;
}

interface GpuLike {
	requestAdapter(opts?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

export interface WebGpuReport {
	available: boolean;
	/** vendor · architecture · description, as the browser names it. */
	adapter?: string;
	/** Software rendering (SwiftShader and the like): correct but far slower than WASM. */
	software: boolean;
	shaderF16: boolean;
	limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupStorageSize: number };
	/** One or two sentences for the page. */
	summary: string;
}

export function describeAdapterInfo(info: GpuAdapterInfoLike | undefined): string {
	if (!info) return 'unnamed adapter';
	return [info.vendor, info.architecture, info.description || info.device].filter(Boolean).join(' · ') || 'unnamed adapter';
}

const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;

export async function detectWebGpu(): Promise<WebGpuReport> {
	const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
	if (!gpu) {
		return { available: false, software: false, shaderF16: false, summary: 'This browser has no WebGPU (navigator.gpu is missing), so the Island runs on WASM, on your CPU.' };
	}
	let adapter: GpuAdapterLike | null = null;
	try {
		adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
	} catch {
		adapter = null;
	}
	if (!adapter) {
		return {
			available: false,
			software: false,
			shaderF16: false,
			summary: 'WebGPU is present but offered no adapter (blocked GPU, disabled flag or headless browser), so the Island runs on WASM, on your CPU.'
		};
	}
	const name = describeAdapterInfo(adapter.info);
	const software = adapter.isFallbackAdapter === true || /swiftshader|llvmpipe|software|basic render/i.test(name);
	const shaderF16 = adapter.features.has('shader-f16');
	const limits = {
		maxBufferSize: adapter.limits.maxBufferSize,
		maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
		maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize
	};
	const parts = [`WebGPU adapter found: ${name}.`];
	parts.push(shaderF16 ? 'It supports 16-bit floats in shaders (shader-f16), which halves memory for fp16 models.' : 'It has no shader-f16, so models run in 32-bit floats.');
	parts.push(`Largest buffer: ${mib(limits.maxBufferSize)}; largest storage binding: ${mib(limits.maxStorageBufferBindingSize)}.`);
	if (software) parts.push('This adapter renders in software on the CPU: it works but is much slower than WASM here, so WASM is suggested.');
	return { available: true, adapter: name, software, shaderF16, limits, summary: parts.join(' ') };
}
