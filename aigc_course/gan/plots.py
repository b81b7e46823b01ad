"""Figures of chapter 02: generator gradients, GAN loss curves, playground snapshots."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import torch

from .losses import generator_logit_gradients
from .toy import GaussianRing, Snapshot, ToyRun
from ..plotting import moving_average, plot_curves
from ..validate import require_int


def plot_generator_gradients(points: int = 200) -> plt.Figure:
    """|dL_G/dlogit| of both generator losses against D(G(z)), computed by autograd (log scale)."""
    require_int("points", points, minimum=2)
    d = torch.logspace(-4, math.log10(0.9999), points, dtype=torch.float64)
    grads = generator_logit_gradients(d)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(d.numpy(), grads["saturating"].abs().numpy(), label="minimax (saturating): log(1 - D(G(z)))  →  |grad| = D")
    ax.plot(d.numpy(), grads["non-saturating"].abs().numpy(), label="non-saturating: -log D(G(z))  →  |grad| = 1 - D")
    ax.axvspan(1e-4, 0.05, color="grey", alpha=0.15, label="early training: D easily rejects fakes")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("D(G(z)): the discriminator's probability that a fake is real")
    ax.set_ylabel("|dL_G / d logit|")
    ax.set_title("Generator gradient through the fake's logit (autograd)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower center")
    fig.tight_layout()
    return fig


def plot_gan_losses(run: ToyRun, window: int = 50, ax: plt.Axes | None = None) -> plt.Axes:
    """Both losses of ``run`` (running mean over ``window`` steps) with their values at the equilibrium D = 1/2."""
    if not isinstance(run, ToyRun):
        raise TypeError(f"run must be a ToyRun, got {type(run).__name__}")
    generator_label = "generator (minimax)" if run.config.saturating else "generator (non-saturating)"
    ax = plot_curves({"discriminator": moving_average(run.d_losses, window),
                      generator_label: moving_average(run.g_losses, window)},
                     title=f"losses (running mean over {window} steps)", ax=ax)
    ax.axhline(math.log(4), color="tab:blue", ls=":", lw=1, label="L_D at D = 1/2: log 4")
    g_equilibrium = -math.log(2) if run.config.saturating else math.log(2)
    ax.axhline(g_equilibrium, color="tab:orange", ls=":", lw=1,
               label=f"L_G at D = 1/2: {'-' if run.config.saturating else ''}log 2")
    ax.legend(fontsize=8)
    return ax


def plot_snapshot(snapshot: Snapshot, ring: GaussianRing, ax: plt.Axes | None = None, title: str | None = None,
                  colorbar: bool = True) -> plt.Axes:
    """D's decision surface (blue: D(x) -> 1 "real", red: D(x) -> 0 "fake"), 3σ circles of the modes, G's samples."""
    if not isinstance(snapshot, Snapshot):
        raise TypeError(f"snapshot must be a Snapshot, got {type(snapshot).__name__}")
    if not isinstance(ring, GaussianRing):
        raise TypeError(f"ring must be a GaussianRing, got {type(ring).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.4, 4.0))
    e = snapshot.extent
    image = ax.imshow(snapshot.surface.numpy(), origin="lower", extent=(-e, e, -e, e), cmap="RdBu", vmin=0, vmax=1,
                      alpha=0.8, interpolation="bilinear")
    for center in ring.centers():
        ax.add_patch(plt.Circle(tuple(center.tolist()), 3 * ring.std, fill=False, color="black", lw=0.8))
    points = snapshot.samples.numpy()
    ax.scatter(points[:, 0], points[:, 1], s=3, c="darkorange", alpha=0.6, linewidths=0)
    ax.set_xlim(-e, e)
    ax.set_ylim(-e, e)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    c = snapshot.coverage
    ax.set_title(title or f"step {snapshot.step}\n{c.modes_covered}/{ring.n_modes} modes, "
                          f"{100 * c.high_quality_share:.0f}% within 3σ", fontsize=9)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label="D(x)")
    return ax


def snapshots_figure(runs: Mapping[str, ToyRun], index: int) -> plt.Figure:
    """Snapshot ``index`` of every run side by side (the widget's view); one colour bar for all."""
    if not isinstance(runs, Mapping) or not runs or not all(isinstance(r, ToyRun) for r in runs.values()):
        raise ValueError("runs must be a non-empty mapping of name -> ToyRun")
    shortest = min(len(r.snapshots) for r in runs.values())
    require_int("index", index, minimum=0, maximum=shortest - 1)
    fig, axes = plt.subplots(1, len(runs), figsize=(4.0 * len(runs) + 0.8, 4.3), squeeze=False, layout="constrained")
    for (name, run), ax in zip(runs.items(), axes[0]):
        snap = run.snapshots[index]
        c = snap.coverage
        plot_snapshot(snap, run.ring, ax=ax, colorbar=False,
                      title=f"{name}\nstep {snap.step}/{run.config.steps}: {c.modes_covered}/{run.ring.n_modes} modes, "
                            f"{100 * c.high_quality_share:.0f}% within 3σ")
    fig.colorbar(axes[0][0].images[0], ax=list(axes[0]), shrink=0.8, label="D(x)")
    return fig


def snapshot_row(run: ToyRun, count: int = 5, title: str | None = None) -> plt.Figure:
    """``count`` snapshots of ``run``, evenly spaced from the first to the last, side by side."""
    if not isinstance(run, ToyRun):
        raise TypeError(f"run must be a ToyRun, got {type(run).__name__}")
    require_int("count", count, minimum=1, maximum=len(run.snapshots))
    picks = [run.snapshots[round(i * (len(run.snapshots) - 1) / max(count - 1, 1))] for i in range(count)]
    fig, axes = plt.subplots(1, count, figsize=(3.0 * count + 0.8, 3.5), squeeze=False, layout="constrained")
    for snap, ax in zip(picks, axes[0]):
        plot_snapshot(snap, run.ring, ax=ax, colorbar=False)
    fig.colorbar(axes[0][0].images[0], ax=list(axes[0]), shrink=0.8, label="D(x)")
    if title:
        fig.suptitle(title)
    return fig
