"""The shared plumbing of issue 11: checkpoints, History, contexts, the image validator, imports."""

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest
import torch

from aigc_course import checkpoints, training, validate

PKG = pathlib.Path(__file__).resolve().parents[1] / "aigc_course"


def test_checkpoint_round_trip_and_every_failure(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = checkpoints.save_checkpoint(tmp_path / "m.pt", "toy", config={"n": 3}, states={"model": model.state_dict()},
                                       metadata={"acc": 0.5})
    ck = checkpoints.load_checkpoint(path, "toy")
    other = torch.nn.Linear(3, 2)
    checkpoints.load_state(other, ck, "model")
    assert torch.equal(other.weight, model.weight) and ck.metadata == {"acc": 0.5}
    with pytest.raises(checkpoints.CheckpointError, match="expected 'vae'"):
        checkpoints.load_checkpoint(path, "vae")
    with pytest.raises(checkpoints.CheckpointError, match="does not fit"):
        checkpoints.load_state(torch.nn.Linear(4, 2), ck, "model")
    truncated = tmp_path / "t.pt"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(checkpoints.CheckpointError, match="not a readable checkpoint"):
        checkpoints.load_checkpoint(truncated)
    old = tmp_path / "old.pt"
    torch.save({"config": {}, "state_dict": model.state_dict()}, old)
    with pytest.raises(checkpoints.CheckpointError, match="old cache"):
        checkpoints.load_checkpoint(old)
    with pytest.raises(checkpoints.CheckpointError, match="does not exist"):
        checkpoints.load_checkpoint(tmp_path / "missing.pt")


def test_checkpoint_checksum_catches_a_changed_payload(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "m.pt", "toy", config={}, states={"model": {"w": torch.zeros(3)}})
    record = torch.load(path, weights_only=True)
    record["states"]["model"]["w"] += 1
    torch.save(record, path)
    with pytest.raises(checkpoints.CheckpointError, match="checksum"):
        checkpoints.load_checkpoint(path)


def test_history_names_and_non_finite_values():
    h = training.History()
    h.log("train", loss=1.0, kl=torch.tensor(0.5))
    h.log("eval", loss=2.0)
    assert h["train/loss"] == [1.0] and h.split("train") == {"loss": [1.0], "kl": [0.5]}
    assert training.History.from_state_dict(h.state_dict()).state_dict() == h.state_dict()
    with pytest.raises(FloatingPointError, match="train/loss"):
        h.log("train", loss=float("nan"))
    with pytest.raises(ValueError, match="split"):
        h.log("test", loss=1.0)


def test_evaluating_and_frozen_restore_state_even_on_error():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    model.train()
    model[1].eval()
    with pytest.raises(RuntimeError):
        with training.evaluating(model), training.frozen(model):
            assert not model.training and not torch.is_grad_enabled()
            assert not any(p.requires_grad for p in model.parameters())
            raise RuntimeError("boom")
    assert model.training and not model[1].training
    assert all(p.requires_grad for p in model.parameters())
    assert training.device_of(model) == torch.device("cpu")


def test_require_images_shapes_ranges_and_messages():
    assert validate.require_images("x", torch.rand(4, 784)).shape == (4, 1, 28, 28)
    assert validate.require_images("x", torch.rand(4, 28, 28)).shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match=r"x must hold pixel values in \[0, 1\]"):
        validate.require_images("x", torch.rand(2, 1, 28, 28) * 2 - 1)
    validate.require_images("x", torch.rand(2, 1, 28, 28) * 2 - 1, pixel_range="symmetric")
    with pytest.raises(ValueError, match="x must have shape"):
        validate.require_images("x", torch.rand(2, 3, 28, 28))
    with pytest.raises(ValueError, match="finite"):
        validate.require_images("x", torch.full((1, 28, 28), float("nan")))
    with pytest.raises(ValueError, match="at least one image"):
        validate.require_images("x", torch.rand(0, 28, 28))
    x = torch.rand(5, 1, 28, 28)
    assert torch.allclose(validate.symmetric_to_unit(validate.unit_to_symmetric(x)), x, atol=1e-6)


def _modules():
    return sorted("aigc_course." + ".".join(p.relative_to(PKG).with_suffix("").parts).removesuffix(".__init__")
                  for p in PKG.rglob("*.py") if p.name != "__main__.py")


def _imports(name: str) -> set[str]:
    """Package modules a module imports (relative imports resolved, function-level ones included)."""
    path = PKG.joinpath(*name.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            for alias in node.names:
                if f"{target}.{alias.name}" in _modules():
                    found.add(f"{target}.{alias.name}")
    return {t for t in found if t in _modules() and t != name}


def test_no_import_cycle_between_modules():
    graph = {m: _imports(m) for m in _modules()}
    # A package's __init__ importing its own modules is not a cycle; a module importing its parent back is.
    edges = {m: {t for t in ts if not (t.startswith(m + ".") and m in graph)} for m, ts in graph.items()}
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in edges:
        if module not in state:
            visit(module, [module])


def test_the_cycle_checker_sees_a_cycle(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "_imports",
                        lambda m: {"aigc_course.data"} if m == "aigc_course.config" else
                        ({"aigc_course.config"} if m == "aigc_course.data" else set()))
    with pytest.raises(AssertionError, match="import cycle"):
        test_no_import_cycle_between_modules()


@pytest.mark.parametrize("module", _modules())
def test_every_module_imports_on_its_own(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
