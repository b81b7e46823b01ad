"""Training throughput of the pytorch/examples VAE (784-400-20): in-memory batches vs a DataLoader.

    python benchmarks/data_pipeline.py                 # default: 3 rounds x 150 steps each
    python benchmarks/data_pipeline.py --threads 1 --steps 100

Both pipelines train the same model (``aigc_course.vae_models.MLPVAE``, Adam 1e-3, batch 128,
the course's VAE loss) in the same process, alternating A/B rounds so that any drift in machine
load hits both:

* **baseline**: what pytorch/examples does on a CPU: a map-style Dataset that turns each uint8
  image into a PIL image and then into a float tensor (torchvision's ``ToTensor`` logic),
  batched by ``torch.utils.data.DataLoader(batch_size=128, shuffle=True, num_workers=0)``;
* **course**: the whole split converted once (``images_to_unit``) and sliced by
  ``aigc_course.data.InMemoryBatches``.

It prints images/s for each (median over rounds) and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Iterable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from aigc_course.config import seed_everything
from aigc_course.data import InMemoryBatches, images_to_unit, load_mnist
from aigc_course.vae.losses import forward_loss
from aigc_course.vae.models import MLPVAE


class PerSampleMNIST(Dataset):
    """torchvision-style MNIST: one PIL image per ``__getitem__``, converted by ToTensor's logic."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        picture = Image.fromarray(self.images[index].numpy(), mode="L")
        x = torch.from_numpy(np.array(picture, np.uint8, copy=True)).view(28, 28, 1).permute(2, 0, 1).contiguous()
        return x.float().div(255), int(self.labels[index])


def train_steps(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batches: Iterable, steps: int) -> float:
    """Run ``steps`` training steps from ``batches`` (cycled); return images per second."""
    images = 0
    start = time.perf_counter()
    while True:
        for x, _ in batches:
            loss = forward_loss(model, x).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            images += len(x)
            steps -= 1
            if steps == 0:
                return images / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="training steps per round and pipeline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(0)
    images, labels = load_mnist("train")
    loader = DataLoader(PerSampleMNIST(images, labels), batch_size=128, shuffle=True, num_workers=0)
    in_memory = InMemoryBatches(images_to_unit(images).unsqueeze(1), labels, batch_size=128, seed=0)
    results: dict[str, list[float]] = {"DataLoader, per-sample PIL + ToTensor": [], "course InMemoryBatches": []}
    for _ in range(args.rounds):
        for name, batches in zip(results, (loader, in_memory)):
            seed_everything(0)
            model = MLPVAE(latent_dim=20, hidden=400)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            results[name].append(train_steps(model, optimizer, batches, args.steps))
    print(f"MLP VAE 784-400-20, batch 128, {args.steps} steps x {args.rounds} rounds, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    medians = {name: statistics.median(v) for name, v in results.items()}
    for name, value in medians.items():
        print(f"  {name:40s} {value:8.0f} images/s  (rounds: {', '.join(f'{v:.0f}' for v in results[name])})")
    baseline, course = medians.values()
    print(f"  ratio course / baseline: {course / baseline:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
