"""Networks of the demo model: text encoder, latent autoencoder (4x down, 4 channels; the
8x layout of model v2 still loads),
denoising UNet with cross-attention and x/y coordinate channels.  Everything is written
with plain ops (no fused attention, no shape-dependent Python) so that torch.onnx.export
(opset 17) gives graphs with dynamic batch / height / width."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT_DIM = 128
MAX_LEN = 24


def attention(q, k, v, heads):
    # q [B, N, C], k/v [B, M, C]
    B, N, C = q.shape
    d = C // heads
    q = q.reshape(B, -1, heads, d).transpose(1, 2)
    k = k.reshape(B, -1, heads, d).transpose(1, 2)
    v = v.reshape(B, -1, heads, d).transpose(1, 2)
    w = torch.softmax(torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(d)), dim=-1)
    o = torch.matmul(w, v).transpose(1, 2)
    return o.reshape(B, -1, C)


class TextLayer(nn.Module):
    def __init__(self, d, heads=4):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        x = x + self.proj(attention(q, k, v, self.heads))
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab_size, d=TEXT_DIM, layers=2, max_len=MAX_LEN):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d)
        self.pos = nn.Parameter(torch.randn(1, max_len, d) * 0.02)
        self.layers = nn.ModuleList([TextLayer(d) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)

    def forward(self, input_ids):
        x = self.tok(input_ids.long())
        x = x + self.pos[:, : x.shape[1]]
        for l in self.layers:
            x = l(x)
        return self.ln(x)


# ------------------------------------------------------------------ autoencoder
class PlainRes(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


# Latent downscale of new training runs.  4x: a small shape (radius 23 px at 256x256) is
# ~12 latent pixels wide, and the round trip keeps its outline; at 8x (model v2) small
# stars, hearts and crosses came back as dots.  A checkpoint says its own ("down", 8 if
# absent) and the classes below build either layout.
DOWN = 4


class Encoder(nn.Module):
    """4 channels, `down` x down.  Pre-encodes training latents (and an img2img vae_encoder)."""

    def __init__(self, down=DOWN):
        super().__init__()
        self.net = nn.Sequential(
            nn.PixelUnshuffle(down), nn.Conv2d(3 * down * down, 96, 1), nn.SiLU(),
            nn.Conv2d(96, 64, 3, padding=1), nn.SiLU(), PlainRes(64), nn.SiLU(),
            nn.Conv2d(64, 4, 3, padding=1))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    """4 -> 3 channels, `down` x up: nearest-neighbour upsamplings (one at 4x, two at 8x),
    then a pixel shuffle; no normalisation layers."""

    def __init__(self, down=DOWN):
        super().__init__()
        self.down = down
        self.inp = nn.Conv2d(4, 64, 3, padding=1)
        self.res = PlainRes(64)
        self.c1 = nn.Conv2d(64, 48, 3, padding=1)
        self.c1b = nn.Conv2d(48, 48, 3, padding=1)
        if down == 8:
            self.c2 = nn.Conv2d(48, 32, 3, padding=1)
            self.c2b = nn.Conv2d(32, 32, 3, padding=1)
        self.out = nn.Conv2d(32 if down == 8 else 48, 12, 3, padding=1)
        self.ps = nn.PixelShuffle(2)

    def forward(self, z):
        h = self.res(self.inp(z))
        h = F.interpolate(F.silu(h), scale_factor=2.0, mode="nearest")
        h = F.silu(self.c1b(F.silu(self.c1(h))))
        if self.down == 8:
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            h = F.silu(self.c2b(F.silu(self.c2(h))))
        return self.ps(self.out(h))


# ------------------------------------------------------------------ UNet
def gn(c):
    return nn.GroupNorm(8, c)


class ResBlock(nn.Module):
    """Scale-and-shift conditioning (time + pooled text) after the first conv, whose input
    also carries where each pixel is: text times position is how "top left" picks pixels."""

    def __init__(self, cin, cout, tdim):
        super().__init__()
        self.n1 = gn(cin)
        self.pos = nn.Linear(7, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, 2 * cout)
        self.n2 = gn(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.c1(F.silu(self.n1(x)) + pos_features(x, self.pos))
        scale, shift = self.t(temb)[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1.0 + scale) + shift
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class Attn(nn.Module):
    """Self-attention (ctx_dim None) or cross-attention to the text embedding."""

    def __init__(self, c, ctx_dim=None, head_dim=32):
        super().__init__()
        self.heads = max(1, c // head_dim)
        self.norm = gn(c)
        self.q = nn.Linear(c, c, bias=False)
        kd = ctx_dim or c
        self.k = nn.Linear(kd, c, bias=False)
        self.v = nn.Linear(kd, c, bias=False)
        self.o = nn.Linear(c, c)
        nn.init.zeros_(self.o.weight)
        nn.init.zeros_(self.o.bias)
        self.pos = nn.Linear(7, c)  # where am I in the image (queries can match "left", "top" ...)
        self.cross = ctx_dim is not None

    def forward(self, x, ctx=None):
        B, C, H, W = x.shape
        h = self.norm(x) + pos_features(x, self.pos)
        h = h.flatten(2).transpose(1, 2)  # B, HW, C
        c = ctx if self.cross else h
        o = self.o(attention(self.q(h), self.k(c), self.v(c), self.heads))
        return x + o.transpose(1, 2).reshape(x.shape)


def timestep_embedding(t, dim=64):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(a), torch.cos(a)], dim=1)


def coord_channels(x):
    """x/y in [-1, 1] across the whole image plus a scale channel 32/min(h, w), built
    with shape-free ops so the ONNX graph stays dynamic."""
    ones = torch.ones_like(x[:, :1])
    xs = torch.cumsum(ones, dim=3)
    ys = torch.cumsum(ones, dim=2)
    w = xs[:, :, :, -1:]
    h = ys[:, :, -1:, :]
    xc = (xs - 0.5) / w * 2.0 - 1.0
    yc = (ys - 0.5) / h * 2.0 - 1.0
    s = 32.0 / torch.minimum(w * ones, h * ones)
    return torch.cat([xc, yc, s], dim=1)


def pos_features(x, lin):
    c = coord_channels(x)
    xc, yc = c[:, 0:1], c[:, 1:2]
    f = torch.cat([c, torch.sin(math.pi * xc), torch.cos(math.pi * xc),
                   torch.sin(math.pi * yc), torch.cos(math.pi * yc)], dim=1)  # B, 7, H, W
    return lin(f.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class UNet(nn.Module):
    def __init__(self, ch=(32, 64, 128), ctx_dim=TEXT_DIM, tdim=128, patch=2, channels=4):
        super().__init__()
        c0, c1, c2 = ch
        self.temb = nn.Sequential(nn.Linear(64, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        # the whole scene is global (one shape), so the pooled text joins the time embedding
        # (as SDXL's pooled text does); cross-attention still sees every token
        self.text_pool = nn.Sequential(nn.Linear(ctx_dim, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        # patch 2 (4x latents): a 2x2 patch embedding puts the UNet's first level at 8x, so it
        # costs what the 8x model's did, and a pixel shuffle gives the 4x output back;
        # patch 1 is model v2's layout (8x latents)
        self.patch = patch
        # channels: the latent's (4 here; the objects model's designed latent has more)
        self.inp = (nn.Conv2d(channels + 3, c0, 4, stride=2, padding=1) if patch == 2
                    else nn.Conv2d(channels + 3, c0, 3, padding=1))
        self.d0 = ResBlock(c0, c0, tdim)
        self.down0 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.d1 = ResBlock(c1, c1, tdim)
        self.d1x = Attn(c1, ctx_dim)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.m1 = ResBlock(c2, c2, tdim)
        self.ms = Attn(c2)
        self.mx = Attn(c2, ctx_dim)
        self.m2 = ResBlock(c2, c2, tdim)
        self.m3 = ResBlock(c2, c2, tdim)
        self.u1 = ResBlock(c2 + c1, c1, tdim)
        self.u1x = Attn(c1, ctx_dim)
        self.u0 = ResBlock(c1 + c0, c0, tdim)
        self.u0x = Attn(c0, ctx_dim)
        self.outn = gn(c0)
        self.out = nn.Conv2d(c0, channels * patch * patch, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.ps = nn.PixelShuffle(patch) if patch > 1 else nn.Identity()

    def forward(self, sample, timestep, encoder_hidden_states):
        ctx = encoder_hidden_states
        t = self.temb(timestep_embedding(timestep)) + self.text_pool(ctx.mean(dim=1))
        x = self.inp(torch.cat([sample, coord_channels(sample)], dim=1))
        h0 = self.d0(x, t)
        h1 = self.d1x(self.d1(self.down0(h0), t), ctx)
        h = self.m1(self.down1(h1), t)
        h = self.mx(self.ms(h), ctx)
        h = self.m3(self.m2(h, t), t)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.u1x(self.u1(torch.cat([h, h1], dim=1), t), ctx)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.u0x(self.u0(torch.cat([h, h0], dim=1), t), ctx)
        return self.ps(self.out(F.silu(self.outn(h))))


# ------------------------------------------------------------------ schedule
def alphas_cumprod_cosine(T=1000, max_beta=0.999):
    """diffusers squaredcos_cap_v2."""
    def f(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)]
    betas = torch.tensor(betas, dtype=torch.float64)
    return torch.cumprod(1 - betas, dim=0).float()


class TextHeads(nn.Module):
    """Training-only heads on the mean of the text encoder's output: one classifier per
    scene attribute (last class = not said).  Pre-training the encoder on them teaches it
    which colour word is the shape's and which the background's before any image is seen."""

    def __init__(self, sizes, d=TEXT_DIM):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(d, n + 1) for n in sizes])

    def forward(self, hidden):
        pooled = hidden.mean(dim=1)
        return [h(pooled) for h in self.heads]


def count(m):
    return sum(p.numel() for p in m.parameters())
