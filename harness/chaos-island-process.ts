// One Island process of the chaos run: a fast Island (scripts/chaos-island.ts: the real claim
// loop around a stand-in for the model, lying on CHAOS_LIE of its jobs) or a real one
// (build/island/index.js with the demo model), whose output tells whether it holds a job.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Role } from './chaos-trust';

const root = new URL('..', import.meta.url).pathname;

export class IslandProcess {
	child!: ChildProcess;
	busy = false;
	killed = false;
	jobsDone = 0;
	lies = 0;
	output = '';

	constructor(
		readonly kind: 'fast' | 'real',
		readonly token: string,
		readonly url: string,
		readonly stepMs: number,
		readonly id: string,
		readonly role: Role = 'honest',
		readonly lieRate = 0
	) {
		this.spawn();
	}

	spawn() {
		const args =
			this.kind === 'fast'
				? ['--import', 'tsx', 'scripts/chaos-island.ts']
				: ['build/island/index.js', '--url', this.url, '--threads', '1', '--max-pixels', String(256 * 256)];
		this.child = spawn(process.execPath, args, {
			cwd: root,
			env: { ...process.env, ISLAND_URL: this.url, ISLAND_TOKEN: this.token, CHAOS_STEP_MS: String(this.stepMs), CHAOS_LIE: String(this.role === 'liar' ? this.lieRate : 0), ORT_DISABLE_TELEMETRY: '1' },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let partial = '';
		const onData = (d: Buffer) => {
			partial += d.toString();
			const lines = partial.split('\n');
			partial = lines.pop()!;
			for (const line of lines) {
				if (process.env.CHAOS_VERBOSE) console.log(line);
				this.output = (this.output + line + '\n').slice(-4000);
				// HeadlessIsland logs "job <id>: demo WxH …" when it starts one, then done/failed/dropped.
				if (/\] lie \d+:/.test(line)) this.lies++;
				else if (/job \S+: demo \d+x\d+/.test(line)) this.busy = true;
				else if (/job \S+: (done|failed|cancelled)/.test(line)) {
					this.busy = false;
					if (line.includes(': done')) this.jobsDone++;
				}
			}
		};
		this.child.stdout!.on('data', onData);
		this.child.stderr!.on('data', onData);
	}

	kill() {
		this.killed = true;
		this.child.kill('SIGKILL');
	}

	async stop() {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		const exited = new Promise((r) => this.child.once('exit', r));
		// Twice: finish nothing more, hand any job back now.
		this.child.kill('SIGTERM');
		setTimeout(() => this.child.kill('SIGTERM'), 200).unref();
		const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
		await exited;
		clearTimeout(t);
	}
}
