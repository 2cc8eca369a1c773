"""Reference values for src/lib/diffusion/schedulers.test.ts, written the way diffusers'
DDIMScheduler and EulerAncestralDiscreteScheduler compute them (numpy, float64), as an
independent implementation in another language to check the TypeScript against.

Run: /usr/bin/python3 tools/scheduler-reference/make.py > tests/fixtures/scheduler-reference.json
"""
import json
import math

import numpy as np

T = 1000


def betas(schedule, b0=0.00085, b1=0.012):
    if schedule == "scaled_linear":
        return np.linspace(b0 ** 0.5, b1 ** 0.5, T, dtype=np.float64) ** 2
    # diffusers betas_for_alpha_bar(..., alpha_transform_type="cosine"), max_beta 0.999
    f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    return np.array([min(1 - f((i + 1) / T) / f(i / T), 0.999) for i in range(T)], dtype=np.float64)


def ddim_timesteps(steps, offset):
    # The contract's leading spacing: floor(i * T / steps) (diffusers uses T // steps,
    # the same whenever steps divides T).
    return [int(math.floor(i * T / steps)) + offset for i in range(steps)][::-1]


def ddim_step(ac, timesteps, i, x, out, prediction):
    t = timesteps[i]
    a = ac[t]
    a_prev = ac[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0  # set_alpha_to_one
    b = 1 - a
    if prediction == "epsilon":
        x0 = (x - b ** 0.5 * out) / a ** 0.5
        eps = out
    else:
        x0 = a ** 0.5 * x - b ** 0.5 * out
        eps = a ** 0.5 * out + b ** 0.5 * x
    prev = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return prev.tolist(), x0.tolist()


def trailing(steps):
    return (np.round(np.arange(T, 0, -T / steps)).astype(np.int64) - 1).tolist()


def main():
    ref = {"alphasCumprod": {}, "ddimTimesteps": {}, "ddimStep": [], "turbo": {}}
    idx = [0, 1, 10, 250, 500, 750, 998, 999]
    acs = {}
    for s in ("scaled_linear", "squaredcos_cap_v2"):
        ac = np.cumprod(1 - betas(s))
        acs[s] = ac
        ref["alphasCumprod"][s] = {str(i): float(ac[i]) for i in idx}
    for steps in (1, 4, 8, 12, 20):
        for off in (0, 1):
            ref["ddimTimesteps"][f"{steps}/{off}"] = ddim_timesteps(steps, off)
    x = np.array([0.5, -1.0, 2.0, 0.0])
    out = np.array([0.1, 0.2, -0.3, 1.5])
    for s, pred in (("scaled_linear", "epsilon"), ("squaredcos_cap_v2", "v_prediction")):
        ts = ddim_timesteps(8, 1)
        for i in (0, 3, 7):
            prev, x0 = ddim_step(acs[s], ts, i, x, out, pred)
            ref["ddimStep"].append({"schedule": s, "prediction": pred, "steps": 8, "offset": 1, "i": i,
                                    "x": x.tolist(), "out": out.tolist(), "prev": prev, "x0": x0})
    ac = acs["scaled_linear"]
    sig = lambda t: float(((1 - ac[t]) / ac[t]) ** 0.5)
    ref["turbo"] = {
        "timesteps": {str(n): trailing(n) for n in (1, 2, 4)},
        "sigmaMax": sig(999),
        # One Euler step to sigma 0 from sample x with epsilon output: x0 = x - sigma * eps.
        "oneStep": {"x": x.tolist(), "out": out.tolist(), "prev": (x - sig(999) * out).tolist()},
        "scaleModelInput": 1 / (sig(999) ** 2 + 1) ** 0.5,
    }
    print(json.dumps(ref, indent=1))


if __name__ == "__main__":
    main()
