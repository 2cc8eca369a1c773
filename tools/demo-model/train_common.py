"""What the shapes and objects models' training and export scripts share: the per-run
learning-rate schedule, the EMA update, and the manifest's fixed parts."""
import math
import time

import torch
import torch.nn.functional as F


def run_lr(lr, step, frac):
    """This run's learning rate: a 200-step warm-up, constant for the first half of the run's
    minutes (`frac` of them gone), then a cosine to 10 %."""
    decay = 1.0 if frac < 0.5 else 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, (frac - 0.5) / 0.5)))
    return lr * min(1.0, (step + 1) / 200) * decay


@torch.no_grad()
def ema_update(ema_params, params, step, ema_decay):
    dec = min(ema_decay, (1 + step) / (10 + step))
    for pe, p in zip(ema_params, params):
        pe.mul_(dec).add_(p.detach(), alpha=1 - dec)


SCHEDULER = {"type": "ddim", "prediction": "v_prediction", "trainTimesteps": 1000,
             "betaSchedule": "squaredcos_cap_v2", "betaStart": 0.00085, "betaEnd": 0.012, "stepsOffset": 1}
SIZES = [[w, h] for h in range(256, 513, 64) for w in range(256, 513, 64)]


def manifest_io(T, D, C):
    """The sessions' inputs and outputs (docs/model-format.md): T tokens of width D, C latent channels."""
    return {
        "textEncoder": {"inputs": {"input_ids": {"type": "int32", "shape": [1, T]}},
                        "outputs": {"last_hidden_state": {"type": "float32", "shape": [1, T, D]}}},
        "unet": {"inputs": {"sample": {"type": "float32", "shape": ["batch", C, "h", "w"]},
                            "timestep": {"type": "int64", "shape": ["batch"]},
                            "encoder_hidden_states": {"type": "float32", "shape": ["batch", T, D]}},
                 "outputs": {"out_sample": {"type": "float32", "shape": ["batch", C, "h", "w"]}}},
        "vaeDecoder": {"inputs": {"latent_sample": {"type": "float32", "shape": [1, C, "h", "w"]}},
                       "outputs": {"sample": {"type": "float32", "shape": [1, 3, "H", "W"]}}},
    }


class Meter:
    """The loss's running mean and the images per second, logged every 50 steps."""

    def __init__(self, log, avg=None):
        self.log, self.avg, self.n_img, self.t_log = log, avg, 0, time.time()

    def add(self, step, loss, n_img, seconds):
        self.n_img += n_img
        self.avg = loss if self.avg is None else 0.98 * self.avg + 0.02 * loss
        if step % 50 == 0:
            self.log(f"step {step} loss {self.avg:.4f} {self.n_img / (time.time() - self.t_log):.1f} img/s "
                     f"trained {seconds / 60:.1f} min")
            self.t_log, self.n_img = time.time(), 0


def optimizer_step(opt, loss, params, lr, step, frac, ema_params, ema_decay):
    """One UNet update: gradients clipped to 1, this run's learning rate, then the EMA.
    Returns the next step number."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    for g in opt.param_groups:
        g["lr"] = run_lr(lr, step, frac)
    opt.step()
    ema_update(ema_params, params, step + 1, ema_decay)
    return step + 1


def pretrain_text(te, heads, batch_of, held, steps, batch, lr, log):
    """Trains the text encoder on the attribute heads (OneCycle AdamW), then reads 2,000
    held-out prompts; batch_of(n, only=None) -> (ids, labels).  Returns per-head accuracy."""
    params = list(te.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    t0 = time.time()
    for step in range(steps):
        ids, labels = batch_of(batch)
        loss = sum(F.cross_entropy(lg, labels[:, i]) for i, lg in enumerate(heads(te(ids))))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"text step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s")
    with torch.no_grad():  # held-out combinations: the encoder must generalise to them
        ids, labels = batch_of(2000, only=sorted(held))
        return [(lg.argmax(1) == labels[:, i]).float().mean().item() for i, lg in enumerate(heads(te(ids)))]
