"""MNIST: download from public mirrors, MD5-verify, cache atomically, parse IDX, batch in memory.

``load_mnist("train")`` returns ``(images, labels)``: a uint8 tensor ``[60000, 28, 28]`` and
an int64 tensor ``[60000]``. Nothing here touches the network until a file is missing.
The cache folder is :func:`aigc_course.config.data_dir` (``$AIGC_COURSE_DATA``).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from .config import DATA_ENV, data_dir
from .files import atomic_write_bytes, md5_of
from .validate import require_choice, require_int, require_tensor, unit_to_symmetric

# The first mirror is the one torchvision tries first today.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

MD5SUMS: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SPLIT_SIZES = {"train": 60_000, "test": 10_000}

_IMAGE_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
_LABEL_MAGIC = 0x00000801  # unsigned byte, 1 dimension


class MNISTUnavailableError(RuntimeError):
    """MNIST is not cached and could not be fetched."""


class MNISTFormatError(ValueError):
    """A file is not a valid MNIST IDX file."""


def mnist_folder() -> Path:
    """Where the four MNIST files are cached."""
    return data_dir() / "mnist"


def _is_verified(path: Path) -> bool:
    return path.is_file() and md5_of(path) == MD5SUMS[path.name]


def mnist_status() -> str:
    """One line saying whether the four files are cached and verified."""
    folder = mnist_folder()
    missing = [name for name in MD5SUMS if not _is_verified(folder / name)]
    if not missing:
        return f"cached and verified (4/4 files in {folder})"
    return f"{4 - len(missing)}/4 files cached in {folder}; missing or corrupt: {', '.join(missing)}"


def _unavailable_message(missing: Sequence[str], reasons: Sequence[str]) -> str:
    folder = mnist_folder()
    lines = [
        "MNIST is not in the course's data cache and could not be downloaded.",
        f"  missing: {', '.join(missing)}",
        f"  cache folder: {folder}  (set {DATA_ENV} to use another folder)",
        "  fix: connect to the internet and run   python -m aigc_course download",
        "       or copy the four files from a folder/USB stick:   python -m aigc_course download --from DIR",
    ]
    if reasons:
        lines.append("  last errors: " + "; ".join(reasons[-3:]))
    return "\n".join(lines)


def _fetch(name: str, timeout: float) -> tuple[bytes | None, list[str]]:
    """Try every mirror for ``name``; return the verified bytes (or None) and the errors seen."""
    errors: list[str] = []
    for mirror in MIRRORS:
        url = mirror + name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                payload = response.read()
        except (urllib.error.URLError, OSError, ValueError) as err:
            errors.append(f"{url}: {getattr(err, 'reason', err)}")
            continue
        if hashlib.md5(payload).hexdigest() != MD5SUMS[name]:
            errors.append(f"{url}: checksum mismatch")
            continue
        return payload, errors
    return None, errors


def ensure_mnist(*, download: bool = True, timeout: float = 30.0, verbose: bool = False) -> Path:
    """Make sure the four verified files are in the cache; return the folder.

    A cached file whose MD5 does not match (truncated, corrupted) is deleted and fetched
    again, never used. Raises :class:`MNISTUnavailableError` with a clear message when a
    file is missing and cannot be downloaded.
    """
    folder = mnist_folder()
    missing: list[str] = []
    reasons: list[str] = []
    for name in MD5SUMS:
        path = folder / name
        if path.exists() and not _is_verified(path):
            if verbose:
                print(f"{name}: cached copy fails its MD5 check; discarding it")
            path.unlink()
        if path.exists():
            continue
        payload, errors = (_fetch(name, timeout) if download else (None, ["downloads disabled"]))
        if payload is None:
            missing.append(name)
            reasons.extend(errors)
            continue
        atomic_write_bytes(path, payload)
        if verbose:
            print(f"{name}: downloaded and verified")
    if missing:
        raise MNISTUnavailableError(_unavailable_message(missing, reasons))
    return folder


def copy_mnist_from(source: str | Path, *, verbose: bool = False) -> Path:
    """Fill the cache from a folder holding the four files (a USB stick, a shared drive).

    Every file is MD5-verified before it is used; a wrong file raises ``ValueError``.
    """
    source = Path(source).expanduser()
    if not source.is_dir():
        raise ValueError(f"source must be a folder holding the four MNIST .gz files, got {str(source)!r}")
    folder = mnist_folder()
    for name, expected in MD5SUMS.items():
        target = folder / name
        if _is_verified(target):
            continue
        origin = source / name
        if not origin.is_file():
            raise ValueError(f"source folder {source} has no {name}")
        if md5_of(origin) != expected:
            raise ValueError(f"{origin} fails its MD5 check (expected {expected}); refusing to use it")
        atomic_write_bytes(target, origin.read_bytes())
        if verbose:
            print(f"{name}: copied and verified")
    return folder


def read_idx(path: str | Path, expected_magic: int) -> np.ndarray:
    """Parse an IDX file (optionally gzip-compressed) into a uint8 array, validating it.

    Checks the magic number, that the header's dimensions are positive, and that the
    payload has exactly prod(dims) bytes. Errors name the file.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise MNISTFormatError(f"{path}: cannot be read as {'gzip' if opener is gzip.open else 'raw'} IDX ({err})") from None
    if len(raw) < 4:
        raise MNISTFormatError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise MNISTFormatError(f"{path}: magic number {magic:#010x}, expected {expected_magic:#010x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MNISTFormatError(f"{path}: header truncated")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if any(d <= 0 for d in dims):
        raise MNISTFormatError(f"{path}: invalid dimensions {dims}")
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise MNISTFormatError(f"{path}: payload has {len(raw) - header} bytes, header says {dims} = {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(split: str = "train", *, download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Load an MNIST split from the cache (downloading and verifying first if needed).

    Returns ``images`` uint8 ``[N, 28, 28]`` and ``labels`` int64 ``[N]`` with N = 60,000
    for "train" and 10,000 for "test", in the original order.
    """
    require_choice("split", split, SPLIT_FILES)
    folder = ensure_mnist(download=download)
    image_name, label_name = SPLIT_FILES[split]
    images = read_idx(folder / image_name, _IMAGE_MAGIC)
    labels = read_idx(folder / label_name, _LABEL_MAGIC)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise MNISTFormatError(f"{folder}: images {images.shape} and labels {labels.shape} do not match MNIST")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def images_to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 images in {0..255} -> float32 in [0, 1]: x / 255. Shape is kept."""
    require_tensor("images", images)
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8 (as load_mnist returns them), got {images.dtype}")
    return images.float().div_(255.0)


def images_to_symmetric(images: torch.Tensor) -> torch.Tensor:
    """uint8 images in {0..255} -> float32 in [-1, 1]: x / 127.5 - 1 (the tanh range)."""
    return unit_to_symmetric(images_to_unit(images))


class InMemoryBatches:
    """Iterate over aligned tensors in mini-batches, without a per-sample DataLoader.

    ``InMemoryBatches(x, y, batch_size=128, shuffle=True, seed=0)`` yields ``(x_b, y_b)``
    slices; every pass reshuffles (reproducibly for a given seed). The last partial batch
    is kept unless ``drop_last``. With ``device`` set, each batch is moved there.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = True,
                 seed: int | None = None, device: torch.device | str | None = None,
                 drop_last: bool = False) -> None:
        if not tensors:
            raise ValueError("tensors must contain at least one tensor")
        for i, t in enumerate(tensors):
            require_tensor(f"tensors[{i}]", t)
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError(f"tensors must all have the same first dimension, got {[len(t) for t in tensors]}")
        if n == 0:
            raise ValueError("tensors must not be empty")
        self.tensors = tensors
        self.batch_size = require_int("batch_size", batch_size, minimum=1)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.device = torch.device(device) if device is not None else None
        self._generator = torch.Generator()
        self._generator.manual_seed(require_int("seed", seed, minimum=0) if seed is not None else torch.seed())

    def __len__(self) -> int:
        n = len(self.tensors[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self._generator) if self.shuffle else None
        for b in range(len(self)):
            if order is None:
                batch = tuple(t[b * self.batch_size:(b + 1) * self.batch_size] for t in self.tensors)
            else:
                index = order[b * self.batch_size:(b + 1) * self.batch_size]
                batch = tuple(t[index] for t in self.tensors)
            if self.device is not None:
                batch = tuple(t.to(self.device, non_blocking=True) for t in batch)
            yield batch


def cached_file_paths() -> list[Path]:
    """The four cache paths (present or not), for messages and tests."""
    return [mnist_folder() / name for name in MD5SUMS]


def clear_mnist_cache() -> None:
    """Delete the cached MNIST folder (used by tests and by instructors resetting a room)."""
    shutil.rmtree(mnist_folder(), ignore_errors=True)
