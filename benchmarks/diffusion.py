"""Chapter 07: quality against training minutes and sampling steps for DDPM, flow matching and latent flow.

    OMP_NUM_THREADS=1 python benchmarks/diffusion.py --save-cache          # the full budget (~15 CPU minutes of training)
    OMP_NUM_THREADS=1 python benchmarks/diffusion.py --latent-minutes 1 --pixel-minutes 1 --eval-n 2000

Every method trains on all 60,000 MNIST digits, class-conditional with label dropout 0.1 (so the
same network also samples unconditionally, which is what most rows score; the rows marked
"guided w=..." ask the final model for each class in turn, label i % 10, with classifier-free
guidance w, so their classes are balanced by construction), Adam 2e-3, batch 128, EMA
0.999, for a budget of CPU minutes (process time with one torch thread: what one dedicated core
gives, whatever else shares the machine) split into checkpoints (1/4, 1/2, all of it; evaluation
is not counted). Sampling seconds are CPU seconds too. Methods:

* ``ddpm``: the pixel U-Net (``--pixel-base``), epsilon prediction, cosine schedule, DDIM sampling;
* ``flow``: the same U-Net, flow matching, Euler sampling;
* ``latent-flow``: a conv autoencoder (``--ae-minutes``), then a velocity MLP in its 32-d latent space.

Scores use the course classifier (:mod:`aigc_course.evaluation`): Inception-style score, Frechet
distance to the 10,000 test digits in its features, smallest/largest class share, and sampling
seconds per 1,000 digits. The FD ratio is against the first row of the run. ``--save-cache`` stores the final latent-flow model where
``load_or_train_diffusion(budget_recipe("latent-flow"))`` finds it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from aigc_course.diffusion import (ConvAutoencoder, NoiseSchedule, TrainedDiffusion, UNet, VelocityMLP, budget_recipe,
                                   cache_path, encode_images, guidance_sweep, sampling_seconds, save_diffusion, score_samples,
                                   train_autoencoder, train_diffusion, training_digits)
from aigc_course.evaluation.metrics import classifier_config, evaluate_images, load_or_train_classifier, real_reference


def _train_in_segments(method, model, data, labels, minutes, args, autoencoder=None, ae_seconds=0.0):
    """Yield (last?, training minutes so far, TrainedDiffusion snapshot) at 1/4, 1/2 and all of ``minutes``."""
    recipe = budget_recipe(method, minutes=minutes, base=args.pixel_base, autoencoder_minutes=args.ae_minutes)
    run = None
    for fraction in (0.25, 0.5, 1.0):
        run = train_diffusion(model, data, objective="ddpm" if method == "ddpm" else "flow",
                              schedule=NoiseSchedule.cosine(), minutes=minutes * fraction, labels=labels,
                              p_uncond=0.1, ema=0.999, seed=0, progress=False, resume=run, clock="cpu")
        yield fraction == 1.0, run.seconds / 60, TrainedDiffusion(recipe, run.best, autoencoder, run.history, run.seconds, ae_seconds,
                                                 run.images_seen, run.epochs, raw_model=run.model)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="latent-flow,flow,ddpm")
    parser.add_argument("--latent-minutes", type=float, default=6.0)
    parser.add_argument("--ae-minutes", type=float, default=6.0)
    parser.add_argument("--pixel-minutes", type=float, default=1.5)
    parser.add_argument("--pixel-base", type=int, default=16)
    parser.add_argument("--eval-n", type=int, default=10_000, help="samples scored for latent flow's final model")
    parser.add_argument("--pixel-eval-n", type=int, default=300, help="samples scored for the pixel models")
    parser.add_argument("--guidance", default="0,1,1.5,2,3,5")
    parser.add_argument("--guided", default="1,1.5", help="guidance scales at which the final models are also scored "
                        "class-conditionally (label i %% 10 for the i-th digit)")
    parser.add_argument("--save-cache", action="store_true")
    parser.add_argument("--pixel-guidance", action="store_true", help="also sweep guidance for the pixel models (slow)")
    parser.add_argument("--per-class", type=int, default=50, help="digits per class in the guidance sweep")
    parser.add_argument("--json", default=None, help="also write every row to this JSON file")
    args = parser.parse_args()
    torch.manual_seed(0)
    classifier = load_or_train_classifier(**classifier_config(), progress=False, verbose=False)
    reference = real_reference(classifier)
    images, labels = training_digits()
    real = evaluate_images(classifier, (images[-args.eval_n:] + 1) / 2, reference["features"])
    print(f"real training digits (n={args.eval_n}): IS {real['inception_score']:.2f}, FD {real['frechet_distance']:.2f}",
          flush=True)
    rows, guidance_rows = [], []
    for method in args.methods.split(","):
        torch.manual_seed(0)
        start = time.perf_counter()
        if method == "latent-flow":
            autoencoder = ConvAutoencoder()
            ae_seconds = train_autoencoder(autoencoder, images, minutes=args.ae_minutes, progress=False,
                                           clock="cpu").last("train/seconds")
            recon = autoencoder.to("cpu").eval()
            with torch.no_grad():
                rec = evaluate_images(classifier, ((recon(images[-args.eval_n:]) + 1) / 2).clamp(0, 1), reference["features"])
            print(f"autoencoder: {ae_seconds / 60:.1f} min; reconstructions IS {rec['inception_score']:.2f}, "
                  f"FD {rec['frechet_distance']:.2f}", flush=True)
            model, data, minutes, shape_n = VelocityMLP(num_classes=10), encode_images(autoencoder, images), \
                args.latent_minutes, args.eval_n
        else:
            autoencoder, ae_seconds = None, 0.0
            model, data, minutes, shape_n = UNet(base=args.pixel_base, num_classes=10), images, args.pixel_minutes, \
                args.pixel_eval_n
        params = sum(p.numel() for p in model.parameters())
        final = None
        for last, train_minutes, trained in _train_in_segments(method, model, data, labels, minutes, args, autoencoder,
                                                               ae_seconds):
            small = min(shape_n, 2000)
            if method == "latent-flow":  # (steps, solver, samples scored)
                plan = ([(5, "euler", shape_n), (20, "euler", shape_n)] + [(k, "euler", small) for k in (1, 2, 10, 50)]
                        + [(5, "heun", small), (10, "heun", small)]) if last else [(20, "euler", small)]
            elif method == "flow":
                plan = [(5, "euler", shape_n), (10, "euler", shape_n), (5, "heun", shape_n)] if last else [(10, "euler", shape_n)]
            else:
                plan = [(10, "euler", shape_n), (25, "euler", shape_n)] if last else [(10, "euler", shape_n)]
            plan = [(steps, solver, n, None) for steps, solver, n in plan]
            if last:  # the same final model asked for each class in turn, with classifier-free guidance w
                plan += [(20 if method == "latent-flow" else 10, "euler", shape_n, float(w)) for w in args.guided.split(",")]
            for steps, solver, n, w in plan:
                rep = score_samples(trained, classifier, reference["features"], n, steps, method=solver, clock="cpu",
                                    guidance=w)
                name = "ddim" if method == "ddpm" else solver
                row = {"method": method, "params": params, "train_min": round(train_minutes, 2),
                       "ae_min": round(ae_seconds / 60, 2), "images_seen": trained.images_seen, "steps": steps,
                       "solver": name if w is None else f"{name}, guided w={w:g}", "n": n,
                       "IS": rep["inception_score"], "FD": rep["frechet_distance"],
                       "min_share": rep["min_class_fraction"], "max_share": rep["max_class_fraction"],
                       "s_per_1000": rep["sampling_seconds_per_1000"]}
                rows.append(row)
                print(json.dumps(row), flush=True)
            final = trained
        if method == "latent-flow" and final is not None:  # does the moving average help? and 64 digits' cost
            raw = TrainedDiffusion(final.recipe, final.raw_model, autoencoder, final.history, final.train_seconds,
                                   ae_seconds, final.images_seen, final.epochs)
            for label, candidate in (("ema", final), ("raw", raw)):
                rep = score_samples(candidate, classifier, reference["features"], min(shape_n, 2000), 20, clock="cpu")
                print(json.dumps({"method": method, "weights": label, "steps": 20, "n": min(shape_n, 2000),
                                  "IS": rep["inception_score"], "FD": rep["frechet_distance"]}), flush=True)
            for steps in (5, 10, 20):
                print(json.dumps({"method": method, "digits": 64, "steps": steps,
                                  "cpu_seconds": sampling_seconds(final, 64, steps, clock="cpu"),
                                  "wall_seconds": sampling_seconds(final, 64, steps, clock="wall")}), flush=True)
        if final is not None and (method == "latent-flow" or args.pixel_guidance):
            sweep = guidance_sweep(final, classifier, [float(w) for w in args.guidance.split(",")], args.per_class,
                                   20 if method == "latent-flow" else 10)
            for r in sweep:
                guidance_rows.append({"method": method, **r})
                print(json.dumps(guidance_rows[-1]), flush=True)
        if method == "latent-flow" and args.save_cache:
            recipe = budget_recipe("latent-flow")
            final.recipe = recipe
            print(f"saved {save_diffusion(cache_path(recipe), final)}", flush=True)
        print(f"{method}: {(time.perf_counter() - start) / 60:.1f} min in all", flush=True)
    base = rows[0]
    print("\n| method | params | train min (+AE) | steps | solver | n | IS | FD | min share | max share | "
          "s / 1000 | FD ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['params']:,} | {r['train_min']:.1f} (+{r['ae_min']:.1f}) | {r['steps']} | {r['solver']} "
              f"| {r['n']} | {r['IS']:.2f} | {r['FD']:.2f} | {r['min_share']:.1%} | {r['max_share']:.1%} | "
              f"{r['s_per_1000']:.1f} | {r['FD'] / base['FD']:.2f} |")
    print("\n| method | guidance | requested digit recognised | within-class diversity |\n|---|---|---|---|")
    for r in guidance_rows:
        print(f"| {r['method']} | {r['guidance']:g} | {r['accuracy']:.1%} | {r['diversity']:.2f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"rows": rows, "guidance": guidance_rows, "real": {k: real[k] for k in ("inception_score", "frechet_distance")}},
                      handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
