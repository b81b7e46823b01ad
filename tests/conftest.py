"""Shared fixtures. Nothing here touches the network: MNIST comes from ../shared/data/mnist."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def _no_network(*args, **kwargs):
    raise OSError("network disabled in tests")


@pytest.fixture(autouse=True)
def _deterministic_and_offline(monkeypatch):
    """Every test: no network, one torch thread, fast mode unless a test changes it."""
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    monkeypatch.setenv("AIGC_COURSE_FAST", "1")
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def mnist_cache_dir(tmp_path_factory) -> Path:
    """A data cache holding the four verified MNIST files, seeded without network."""
    from aigc_course.data import MD5SUMS
    from aigc_course.files import md5_of

    existing = os.environ.get("AIGC_COURSE_DATA")
    if SHARED_MNIST.is_dir():
        folder = tmp_path_factory.mktemp("data")
        (folder / "mnist").mkdir()
        for name, md5 in MD5SUMS.items():
            target = folder / "mnist" / name
            target.write_bytes((SHARED_MNIST / name).read_bytes())
            assert md5_of(target) == md5, f"{SHARED_MNIST / name} fails its MD5"
        return folder
    if existing and all((Path(existing) / "mnist" / n).is_file() for n in MD5SUMS):
        return Path(existing)
    pytest.skip("no MNIST source: put the four files in ../shared/data/mnist or seed AIGC_COURSE_DATA")


@pytest.fixture
def mnist_env(mnist_cache_dir, monkeypatch) -> Path:
    """Point the course at the seeded cache for one test."""
    monkeypatch.setenv("AIGC_COURSE_DATA", str(mnist_cache_dir))
    return mnist_cache_dir


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    """An empty data cache (and, from the autouse fixture, no network)."""
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path))
    return tmp_path
