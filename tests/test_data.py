import gzip
import subprocess
import sys

import pytest
import torch

from aigc_course import data
from aigc_course.files import atomic_write_bytes, md5_of

CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_load_mnist_train(mnist_env):
    images, labels = data.load_mnist("train")
    assert images.shape == (60_000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (60_000,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == CLASS_COUNTS


def test_load_mnist_test_and_views(mnist_env):
    images, labels = data.load_mnist("test")
    assert images.shape == (10_000, 28, 28) and len(labels) == 10_000
    unit = data.images_to_unit(images[:10])
    sym = data.images_to_symmetric(images[:10])
    assert unit.dtype == torch.float32 and 0 <= unit.min() and unit.max() == 1
    assert sym.min() == -1 and sym.max() == 1
    assert torch.allclose((sym + 1) / 2, unit)
    with pytest.raises(TypeError, match="images must be uint8"):
        data.images_to_unit(unit)


def test_bad_split(mnist_env):
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_mnist("validation")


def test_truncated_cache_file_is_refused_and_refetched(mnist_env, tmp_path, monkeypatch):
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path))
    data.copy_mnist_from(mnist_env / "mnist")
    victim = data.mnist_folder() / "t10k-labels-idx1-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:100])  # truncated
    assert "missing or corrupt" in data.mnist_status()
    with pytest.raises(data.MNISTUnavailableError) as err:
        data.load_mnist("test")  # offline: refused, never used
    assert "t10k-labels-idx1-ubyte.gz" in str(err.value)
    assert not victim.exists(), "a corrupt cached file must be removed"
    # With a (fake) mirror that serves the right bytes, it is fetched again.
    good = (mnist_env / "mnist" / victim.name).read_bytes()

    class Response:
        def __init__(self, payload): self.payload = payload
        def read(self): return self.payload
        def __enter__(self): return self
        def __exit__(self, *exc): return False

    served = []
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: served.append(url) or Response(good))
    images, labels = data.load_mnist("test")
    assert len(labels) == 10_000 and served == [data.MIRRORS[0] + victim.name]


def test_mirror_with_wrong_bytes_is_skipped(empty_cache, monkeypatch, mnist_cache_dir):
    good = {n: (mnist_cache_dir / "mnist" / n).read_bytes() for n in data.MD5SUMS}

    class Response:
        def __init__(self, payload): self.payload = payload
        def read(self): return self.payload
        def __enter__(self): return self
        def __exit__(self, *exc): return False

    def urlopen(url, timeout):
        name = url.rsplit("/", 1)[1]
        return Response(b"garbage" if url.startswith(data.MIRRORS[0]) else good[name])

    monkeypatch.setattr(data.urllib.request, "urlopen", urlopen)
    data.ensure_mnist()
    assert all(md5_of(p) == data.MD5SUMS[p.name] for p in data.cached_file_paths())


def test_empty_cache_offline_gives_one_clear_error(empty_cache):
    with pytest.raises(data.MNISTUnavailableError) as err:
        data.load_mnist("train")
    message = str(err.value)
    for needle in [*data.MD5SUMS, str(empty_cache), "AIGC_COURSE_DATA", "python -m aigc_course download"]:
        assert needle in message


def test_cli_offline_error_is_one_message(empty_cache):
    env = {**__import__("os").environ, "AIGC_COURSE_DATA": str(empty_cache), "no_proxy": "*",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-m", "aigc_course", "download"], capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("error: MNIST is not in the course's data cache")


def test_cli_download_from_folder(empty_cache, mnist_cache_dir, tmp_path):
    env = {**__import__("os").environ, "AIGC_COURSE_DATA": str(empty_cache)}
    out = subprocess.run([sys.executable, "-m", "aigc_course", "download", "--from", str(mnist_cache_dir / "mnist")],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "cached and verified" in out.stdout
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in data.MD5SUMS:
        (bad / name).write_bytes(b"not mnist")
    out = subprocess.run([sys.executable, "-m", "aigc_course", "download", "--from", str(bad)],
                         capture_output=True, text=True, env={**env, "AIGC_COURSE_DATA": str(tmp_path / "c2")})
    assert out.returncode == 2 and "fails its MD5 check" in out.stderr and "Traceback" not in out.stderr


def _idx(magic: int, dims: list[int], payload: bytes) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return gzip.compress(header + payload)


def test_read_idx_validates(tmp_path):
    ok = tmp_path / "ok.gz"
    ok.write_bytes(_idx(0x803, [2, 2, 3], bytes(range(12))))
    assert data.read_idx(ok, 0x803).shape == (2, 2, 3)
    cases = {
        "magic": _idx(0x801, [2, 2, 3], bytes(12)),
        "payload has": _idx(0x803, [2, 2, 3], bytes(11)),
        "invalid dimensions": _idx(0x803, [0, 2, 3], b""),
    }
    for needle, blob in cases.items():
        path = tmp_path / f"{needle.split()[0]}.gz"
        path.write_bytes(blob)
        with pytest.raises(data.MNISTFormatError, match=needle) as err:
            data.read_idx(path, 0x803)
        assert str(path) in str(err.value)
    notgz = tmp_path / "plain.gz"
    notgz.write_bytes(b"\x00\x00\x08\x03hello")
    with pytest.raises(data.MNISTFormatError, match="plain.gz"):
        data.read_idx(notgz, 0x803)


def test_in_memory_batches():
    x = torch.arange(10)
    y = x * 2
    batches = list(data.InMemoryBatches(x, y, batch_size=4, seed=0))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat([b[0] for b in batches]).tolist()) == list(range(10))
    assert all(torch.equal(bx * 2, by) for bx, by in batches)
    again = list(data.InMemoryBatches(x, y, batch_size=4, seed=0))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again)), "same seed, same order"
    it = data.InMemoryBatches(x, batch_size=4, seed=0)
    first, second = [torch.cat([b[0] for b in it]) for _ in range(2)]
    assert not torch.equal(first, second), "each pass reshuffles"
    assert len(data.InMemoryBatches(x, batch_size=4, drop_last=True)) == 2
    plain = [b[0].tolist() for b in data.InMemoryBatches(x, batch_size=3, shuffle=False)]
    assert plain == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    with pytest.raises(ValueError, match="same first dimension"):
        data.InMemoryBatches(x, y[:5], batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        data.InMemoryBatches(x, batch_size=0)
    with pytest.raises(TypeError, match="tensors\\[0\\] must be a torch.Tensor"):
        data.InMemoryBatches([1, 2], batch_size=1)


def test_atomic_writes(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(target, b"abc")
    assert target.read_bytes() == b"abc"
    atomic_write_bytes(tmp_path / "ck.bin", b"x" * 10_000)
    assert (tmp_path / "ck.bin").stat().st_size == 10_000
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    with pytest.raises(TypeError, match="data must be bytes"):
        atomic_write_bytes(target, "text")
