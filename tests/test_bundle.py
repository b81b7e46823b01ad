"""The offline bundle: made from a cache, installed into an empty one, refused when a file was changed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import torch

from aigc_course.checkpoints import load_checkpoint, save_checkpoint
from aigc_course.cli import main
from aigc_course.data import MD5SUMS, mnist_status
from aigc_course.instructors.bundle import SUMS, build_wheel, make_bundle, read_sums, student_notebooks

ROOT = Path(__file__).resolve().parents[1]

# Where the chapters cache their models (relative to the data cache): chapter 03's VAE, chapter 05's classifier
# and GAN run (checkpoint and sample grids), and a chapter-07-like model the bundle knows nothing about.
MODELS = {
    "checkpoints/vae_conv-fast.pt": "vae",
    "models/mnist_classifier_n6000_e1_s0.pt": "classifier",
    "models/mnist_gan/mlp-0123abcd-n1024-s0/checkpoint.pt": "gan",
    "models/diffusion/unet-89abcdef-fast/checkpoint.pt": "diffusion",
}


@pytest.fixture(scope="session")
def course_wheel(tmp_path_factory) -> Path:
    """The course wheel, built once for these tests (pip, no dependencies)."""
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def instructor_cache(mnist_cache_dir, tmp_path, monkeypatch) -> Path:
    """A data cache with MNIST and a trained model of each kind (small ones)."""
    cache = tmp_path / "instructor-cache"
    shutil.copytree(mnist_cache_dir / "mnist", cache / "mnist")
    for relative, kind in MODELS.items():
        save_checkpoint(cache / relative, kind, config={"size": 3}, states={"model": {"w": torch.randn(3)}})
    (cache / "models/mnist_gan/mlp-0123abcd-n1024-s0/samples").mkdir()
    (cache / "models/mnist_gan/mlp-0123abcd-n1024-s0/samples/epoch_001.png").write_bytes(b"\x89PNG fake grid")
    (cache / "models/.checkpoint.pt.x1y2.tmp").write_bytes(b"half-written")  # an interrupted write: skipped
    monkeypatch.setenv("AIGC_COURSE_DATA", str(cache))
    return cache


def bundle_of(tmp_path: Path, wheel: Path, **kwargs) -> Path:
    out = tmp_path / "room-bundle"
    make_bundle(out, wheel=wheel, log=lambda *a: None, **kwargs)
    return out


def test_bundle_holds_everything_with_checksums(instructor_cache, course_wheel, tmp_path, capsys):
    out = tmp_path / "room-bundle"
    assert main(["bundle", str(out), "--wheel", str(course_wheel)]) == 0
    printed = capsys.readouterr().out
    sums = read_sums(out)
    expected = {f"mnist/{n}" for n in MD5SUMS} | {f"cache/{m}" for m in MODELS} | {
        "cache/models/mnist_gan/mlp-0123abcd-n1024-s0/samples/epoch_001.png", course_wheel.name,
        "make_wheelhouse.sh", "README.md"} | {p.as_posix() for p in student_notebooks(ROOT)}
    assert "notebooks/04_self_attention.ipynb" in expected and not any("solutions" in n for n in expected)
    assert set(sums) == expected
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(expected | {SUMS})
    assert "model: cache/models/diffusion/unet-89abcdef-fast/checkpoint.pt" in printed
    script = (out / "make_wheelhouse.sh").read_text()
    assert f'python -m pip download --dest wheelhouse "./{course_wheel.name}[lab]"' in script
    readme = (out / "README.md").read_text()
    assert "install-bundle" in readme and "cache/checkpoints/vae_conv-fast.pt" in readme
    if shutil.which("sha256sum"):  # the standard tool reads the same file
        assert subprocess.run(["sha256sum", "--quiet", "-c", SUMS], cwd=out).returncode == 0


def test_install_into_an_empty_cache_where_the_notebooks_look(instructor_cache, course_wheel, tmp_path,
                                                             monkeypatch, capsys):
    out = bundle_of(tmp_path, course_wheel)
    learner = tmp_path / "learner-cache"
    monkeypatch.setenv("AIGC_COURSE_DATA", str(learner))
    assert main(["install-bundle", str(out)]) == 0
    printed = capsys.readouterr().out
    assert mnist_status().startswith("cached and verified")
    for relative, kind in MODELS.items():
        assert load_checkpoint(learner / relative, kind).config == {"size": 3}
    assert (learner / "models/mnist_gan/mlp-0123abcd-n1024-s0/samples/epoch_001.png").is_file()
    assert not list(learner.rglob("*.tmp"))
    assert "models: 5 installed, 0 already there" in printed
    (out / "wheelhouse").mkdir()  # what make_wheelhouse.sh adds later: not checked, not installed, named
    (out / "wheelhouse" / "numpy-2.0-none-any.whl").write_bytes(b"wheel")
    # again: nothing to do; a model this machine trained itself is kept unless --overwrite
    save_checkpoint(learner / "checkpoints/vae_conv-fast.pt", "vae", config={"size": 4}, states={"model": {}})
    assert main(["install-bundle", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0 installed, 4 already there, 1 kept" in printed
    assert "not in SHA256SUMS, so not checked and not installed: 1 file(s), e.g. wheelhouse/numpy-2.0-none-any.whl" in printed
    assert load_checkpoint(learner / "checkpoints/vae_conv-fast.pt").config == {"size": 4}
    assert main(["install-bundle", str(out), "--overwrite"]) == 0
    assert load_checkpoint(learner / "checkpoints/vae_conv-fast.pt").config == {"size": 3}


def test_a_tampered_file_is_refused_by_name_and_nothing_installed(instructor_cache, course_wheel, tmp_path,
                                                                  monkeypatch, capsys):
    out = bundle_of(tmp_path, course_wheel)
    target = out / "cache/models/diffusion/unet-89abcdef-fast/checkpoint.pt"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF
    target.write_bytes(bytes(data))
    (out / "mnist/t10k-labels-idx1-ubyte.gz").unlink()
    learner = tmp_path / "learner-cache"
    monkeypatch.setenv("AIGC_COURSE_DATA", str(learner))
    assert main(["install-bundle", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing the bundle" in err
    assert "changed (tampered or corrupted): cache/models/diffusion/unet-89abcdef-fast/checkpoint.pt" in err
    assert "missing: mnist/t10k-labels-idx1-ubyte.gz" in err
    assert not learner.exists()


@pytest.mark.parametrize("line, problem", [
    ("0" * 64 + "  ../outside.txt", "is not '<sha256>  <relative path>'"),
    ("0" * 64 + "  /etc/passwd", "is not '<sha256>  <relative path>'"),
    ("nothex  README.md", "is not '<sha256>  <relative path>'"),
])
def test_unsafe_or_malformed_checksum_lines_are_refused(instructor_cache, course_wheel, tmp_path, capsys, line,
                                                        problem):
    out = bundle_of(tmp_path, course_wheel)
    (out / SUMS).write_text((out / SUMS).read_text() + line + "\n")
    assert main(["install-bundle", str(out)]) == 2
    assert problem in capsys.readouterr().err


def test_expected_failures_are_one_line_exit_2(instructor_cache, course_wheel, tmp_path, monkeypatch, capsys):
    def fails(argv, text):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert text in err and err.count("\n") == 1, err

    fails(["install-bundle", str(tmp_path)], "is not a course bundle")
    fails(["install-bundle", str(tmp_path / "nope")], "is not a folder")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    fails(["bundle", str(tmp_path / "full"), "--wheel", str(course_wheel)], "is not an empty folder")
    fails(["bundle", str(tmp_path / "b"), "--wheel", str(tmp_path / "full" / "x")], "--wheel must be")
    fails(["bundle", str(tmp_path / "b"), "--repo", str(tmp_path)], "is not a checkout of the course")
    fails(["bundle", str(tmp_path / "b"), "--wheel", str(course_wheel), "--train", "3"], "two-digit chapter")
    corrupt = instructor_cache / "models/mnist_classifier_n6000_e1_s0.pt"
    corrupt.write_bytes(corrupt.read_bytes()[:100])
    fails(["bundle", str(tmp_path / "b"), "--wheel", str(course_wheel)], "mnist_classifier_n6000_e1_s0.pt")
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path / "empty-cache"))
    fails(["bundle", str(tmp_path / "b"), "--wheel", str(course_wheel)], "MNIST is not in the data cache")
    assert not (tmp_path / "b").exists() and not list(tmp_path.glob(".b.*"))


def test_train_runs_chapters_so_missing_models_are_trained_then_bundled(instructor_cache, course_wheel, tmp_path,
                                                                      monkeypatch):
    """--train NN runs solutions/NN_*.ipynb (fast mode here); what it caches under models/ is bundled."""
    repo = tmp_path / "repo"
    (repo / "aigc_course").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    (repo / "notebooks").mkdir()
    (repo / "solutions").mkdir()
    trains = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import torch\n"
        "from aigc_course.checkpoints import save_checkpoint\n"
        "from aigc_course.config import data_dir, is_fast_mode\n"
        "assert is_fast_mode()\n"
        "path = data_dir() / 'models' / 'diffusion' / 'new-model' / 'checkpoint.pt'\n"
        "if not path.exists():\n"
        "    save_checkpoint(path, 'diffusion', config={}, states={'model': {'w': torch.zeros(2)}})")])
    nbformat.write(trains, repo / "solutions" / "07_diffusion.ipynb")
    nbformat.write(trains, repo / "notebooks" / "07_diffusion.ipynb")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    out = bundle_of(tmp_path, course_wheel, repo=repo, train=["07"])
    sums = read_sums(out)
    assert "cache/models/diffusion/new-model/checkpoint.pt" in sums and "notebooks/07_diffusion.ipynb" in sums
    (repo / "solutions" / "05_broken.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("raise RuntimeError('no GPU today')")])))
    with pytest.raises(ValueError, match="training chapter 05 failed: 05_broken.ipynb cell errors.*no GPU today"):
        bundle_of(tmp_path / "second", course_wheel, repo=repo, train=["05"])


def test_the_bundled_wheel_holds_the_package(course_wheel):
    """The wheel holds the package, its data files and the instructor tools (inspected, not installed)."""
    import zipfile

    names = zipfile.ZipFile(course_wheel).namelist()
    assert "aigc_course/data_files/workshop_tales.txt" in names
    assert "aigc_course/instructors/bundle.py" in names and "aigc_course/cli/grading.py" in names
    assert not any(name.startswith(("tests/", "notebooks/", "solutions/")) for name in names)
