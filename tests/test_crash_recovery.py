"""Issue 14, family 5: after a crash nothing is lost and nothing stale is left.

The fault test kills ``python -m aigc_course train`` with SIGKILL at four points inside the atomic
write of ``checkpoint.pt`` (``tests/kill_during_write.py``), then runs the same command again and
checks that (1) the killed run left what a kill leaves (a temporary file, or the new checkpoint
already renamed), (2) the next run removes the stale temporary files of dead writers and nothing
else, and (3) it resumes exactly: weights, optimizer states, RNG states and history (all but the
wall-clock timings) are bit-identical to an uninterrupted run's.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from aigc_course import cli, files
from aigc_course.gan import load_training_state

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "mlp", "--epochs", "3", "--train-subset", "384", "--threads", "1"]
TIMINGS = ("train/seconds", "train/cpu_seconds")


def _temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.tmp"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, mnist_cache_dir) -> dict:
    """The uninterrupted run: 3 epochs of the improved MLP GAN (EMA, batch norm, dropout) on 384 images."""
    out = tmp_path_factory.mktemp("reference") / "run"
    old = os.environ.get("AIGC_COURSE_DATA")
    os.environ["AIGC_COURSE_DATA"] = str(mnist_cache_dir)
    try:
        assert cli.main([*TRAIN, "--out", str(out)]) == 0
    finally:
        if old is None:
            os.environ.pop("AIGC_COURSE_DATA")
        else:
            os.environ["AIGC_COURSE_DATA"] = old
    return load_training_state(out / "checkpoint.pt")


def _assert_identical(a: dict, b: dict) -> None:
    for key in ("generator", "discriminator", "ema_generator"):
        assert a[key].keys() == b[key].keys() and all(torch.equal(a[key][k], b[key][k]) for k in a[key]), key
    for key in ("g_optimizer", "d_optimizer"):
        for index, state in a[key]["state"].items():
            other = b[key]["state"][index]
            assert all(torch.equal(v, other[k]) if isinstance(v, torch.Tensor) else v == other[k] for k, v in state.items())
        assert a[key]["param_groups"] == b[key]["param_groups"]
    for key in ("torch", "data"):
        assert torch.equal(a["rng"][key], b["rng"][key]), key
    assert a["epoch"] == b["epoch"] == 3
    assert {k: v for k, v in a["history"].items() if k not in TIMINGS} == \
        {k: v for k, v in b["history"].items() if k not in TIMINGS}


@pytest.mark.parametrize("point, nth", [("created", 1), ("mid_write", 2), ("before_rename", 2), ("after_rename", 2)])
def test_killed_during_the_checkpoint_write_resumes_exactly(point, nth, reference, mnist_env, tmp_path, capsys):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    killed = subprocess.run([sys.executable, str(ROOT / "tests" / "kill_during_write.py"), point, str(nth), "checkpoint.pt",
                             "--", *TRAIN, "--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr  # SIGKILL, inside the write

    stale = _temp_files(out)
    if point == "after_rename":  # the new checkpoint is in place; only the folder's fsync was missed
        assert stale == [] and load_training_state(out / "checkpoint.pt")["epoch"] == nth
        done = nth
    else:  # the temporary file of the dead writer is left behind; the checkpoint is the previous epoch's
        assert [p.name.startswith(".checkpoint.pt.") for p in stale] == [True], stale
        if point == "mid_write":
            assert 0 < stale[0].stat().st_size
        done = nth - 1
        assert (out / "checkpoint.pt").is_file() == (done > 0)
        if done:
            assert load_training_state(out / "checkpoint.pt")["epoch"] == done
    # Files the next run must NOT touch: a write in progress by a live process (this one), and other files.
    live = out / f".checkpoint.pt.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    live.write_bytes(b"in progress")
    other = out / "notes.tmp"
    other.write_bytes(b"mine")
    dead_png = out / "samples" / f".epoch_001.png.{_dead_pid()}.{secrets.token_hex(8)}.tmp"
    dead_png.parent.mkdir(exist_ok=True)
    dead_png.write_bytes(b"half a png")

    capsys.readouterr()
    assert cli.main([*TRAIN, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (f"resumed after epoch {done}" in printed) == (done > 0), printed
    assert _temp_files(out) == sorted([live, other]), "stale temporary files were left (or a live one removed)"
    _assert_identical(load_training_state(out / "checkpoint.pt"), reference)


def _dead_pid() -> int:
    """The pid of a process that has exited (a short child, reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ---------------------------------------------------------------- the file helpers themselves


def test_stale_cleanup_removes_only_dead_or_old_course_temp_files(tmp_path):
    target = tmp_path / "model.pt"
    dead = tmp_path / f".model.pt.{_dead_pid()}.{secrets.token_hex(8)}.tmp"
    alive = tmp_path / f".model.pt.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    legacy_new = tmp_path / ".model.pt.ab12cd_9.tmp"  # mkstemp's pattern, recent: maybe a writer of an older version
    legacy_old = tmp_path / ".model.pt.zz99xx_1.tmp"
    other_target = tmp_path / f".other.pt.{_dead_pid()}.{secrets.token_hex(8)}.tmp"
    lookalike = tmp_path / f".model.pt.{_dead_pid()}.nothex.tmp"
    for path in (dead, alive, legacy_new, legacy_old, other_target, lookalike):
        path.write_bytes(b"x")
    hour_ago = time.time() - files.STALE_AFTER_S - 60
    os.utime(legacy_old, (hour_ago, hour_ago))
    linked = tmp_path / f".model.pt.{_dead_pid()}.{secrets.token_hex(8)}.tmp"
    linked.symlink_to(target)  # a link is never followed nor removed
    assert sorted(files.remove_stale_temp_files(tmp_path, "model.pt")) == sorted([dead, legacy_old])
    assert all(p.exists() or p.is_symlink() for p in (alive, legacy_new, other_target, lookalike, linked))
    assert files.remove_stale_temp_files(tmp_path) == [other_target]  # without a name: any target, pid form only
    assert files.remove_stale_temp_files(tmp_path / "missing") == []


def test_atomic_write_fsyncs_the_folder_after_the_rename_and_cleans_up(tmp_path, monkeypatch):
    import stat

    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        return real_fsync(fd)

    def replace(src, dst):
        synced.append("rename")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    stale = tmp_path / f".f.bin.{_dead_pid()}.{secrets.token_hex(8)}.tmp"
    stale.write_bytes(b"left by a killed writer")
    files.atomic_write_bytes(tmp_path / "f.bin", b"data")
    assert synced == ["file", "rename", "folder"] and not stale.exists()
    assert (tmp_path / "f.bin").read_bytes() == b"data" and _temp_files(tmp_path) == []


def test_atomic_write_errors_name_the_target_and_leave_nothing(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(NotADirectoryError, match="a_file") as err:
        files.atomic_write_bytes(tmp_path / "a_file" / "x.bin", b"data")
    assert "a_file is a file, not a folder" in str(err.value)
    (tmp_path / "folder.npy").mkdir()
    with pytest.raises(IsADirectoryError, match="folder.npy"):
        files.atomic_write_bytes(tmp_path / "folder.npy", b"data")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"cannot write .*full.bin: No space left") as err:
        files.atomic_write_bytes(tmp_path / "full.bin", b"data")
    assert err.value.errno == 28 and err.value.filename == str(tmp_path / "full.bin")
    assert _temp_files(tmp_path) == [] and not (tmp_path / "full.bin").exists()
