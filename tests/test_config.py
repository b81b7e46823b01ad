import dataclasses

import pytest
import torch

from aigc_course import config


def test_fast_mode_switch(monkeypatch):
    monkeypatch.setenv("AIGC_COURSE_FAST", "1")
    assert config.is_fast_mode()
    monkeypatch.setenv("AIGC_COURSE_FAST", "0")
    assert not config.is_fast_mode()
    monkeypatch.delenv("AIGC_COURSE_FAST")
    assert not config.is_fast_mode(), "students get the full budget by default"
    monkeypatch.setenv("AIGC_COURSE_FAST", "maybe")
    with pytest.raises(ValueError, match="AIGC_COURSE_FAST"):
        config.is_fast_mode()


def test_budgets_switch_with_fast_mode(monkeypatch):
    monkeypatch.setenv("AIGC_COURSE_FAST", "0")
    full = config.budget("vae")
    monkeypatch.setenv("AIGC_COURSE_FAST", "1")
    fast = config.budget("vae")
    assert type(fast) is type(full)
    assert fast.epochs < full.epochs
    with pytest.raises(AttributeError):
        fast.epoch  # a misspelt field fails at once
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.epochs = 100
    for chapter, modes in config.budgets().items():
        assert modes["fast"].keys() == modes["full"].keys(), chapter
    with pytest.raises(KeyError, match="chapter must be one of"):
        config.budget("no-such-chapter")


def test_get_device(monkeypatch):
    monkeypatch.delenv("AIGC_COURSE_DEVICE", raising=False)
    assert isinstance(config.get_device(), torch.device)
    monkeypatch.setenv("AIGC_COURSE_DEVICE", "cpu")
    assert config.get_device() == torch.device("cpu")
    monkeypatch.setenv("AIGC_COURSE_DEVICE", "not-a-device")
    with pytest.raises(ValueError, match="device"):
        config.get_device()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            config.get_device("cuda")


def test_seed_everything_reproducible():
    config.seed_everything(3)
    a = torch.randn(4)
    config.seed_everything(3)
    assert torch.equal(a, torch.randn(4))
    with pytest.raises(ValueError, match="seed"):
        config.seed_everything(-1)


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path))
    assert config.data_dir() == tmp_path
    monkeypatch.delenv("AIGC_COURSE_DATA")
    assert config.data_dir().name == "aigc-course"


def test_import_has_no_side_effects(monkeypatch, tmp_path):
    import subprocess, sys
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path / "cache"))
    code = ("import aigc_course, aigc_course.config, aigc_course.data, aigc_course.checks, aigc_course.cli;"
            "import torch; print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not (tmp_path / "cache").exists(), "importing must not create the data cache"
    assert out.stdout.strip().isdigit()
