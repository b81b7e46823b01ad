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
from .validate import require_choice, require_float, require_int, require_seed, require_tensor, unit_to_symmetric

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


def _cache_folder_problem() -> str | None:
    """Why the cache folder cannot hold files (a path component is a file, or cannot be inspected), or None."""
    folder = mnist_folder()
    for part in (folder, *folder.parents):
        try:
            if part.exists():
                return None if part.is_dir() else (f"the data cache path {part} is a file, not a folder; set "
                                                   f"{DATA_ENV} to a folder (or move that file away)")
        except OSError as err:
            return f"the data cache path {part} cannot be inspected ({err.strerror or err})"
    return None


def _inspect(path: Path) -> tuple[str, str]:
    """The state of one cached file: ("ok" | "missing" | "corrupt" | "unusable", a detail for messages)."""
    expected = MD5SUMS[path.name]
    try:
        if path.is_dir():
            return "unusable", f"{path} is a folder where the file {path.name} belongs: remove it"
        if not path.exists():
            return "missing", ""
        if not path.is_file():
            return "unusable", f"{path} is not a regular file: remove it"
        actual, size = md5_of(path), path.stat().st_size
    except OSError as err:
        return "unusable", f"{path} cannot be read ({err.strerror or err}): fix its permissions or remove it"
    if actual != expected:
        return "corrupt", f"MD5 {actual}, expected {expected}; {size:,} bytes"
    return "ok", ""


def mnist_status() -> str:
    """One line saying whether the four files are cached and verified, and what is wrong with the others."""
    folder = mnist_folder()
    states = {name: _inspect(folder / name) for name in MD5SUMS}
    bad = {name: state for name, state in states.items() if state[0] != "ok"}
    if not bad:
        return f"cached and verified (4/4 files in {folder})"
    details = ", ".join(name + ("" if state == "missing" else f" ({state}: {detail})")
                        for name, (state, detail) in bad.items())
    problem = _cache_folder_problem()
    return (f"{4 - len(bad)}/4 files cached in {folder}; missing or corrupt: {details}"
            + (f"; {problem}" if problem else ""))


def _unavailable_message(missing: Sequence[str], reasons: Sequence[str], notes: Sequence[str] = ()) -> str:
    folder = mnist_folder()
    lines = ["MNIST is not in the course's data cache and could not be downloaded."]
    lines += [f"  {note}" for note in notes]
    if missing:
        lines.append(f"  missing: {', '.join(missing)}")
    lines += [
        f"  cache folder: {folder}  (set {DATA_ENV} to use another folder)",
        "  fix: connect to the internet and run   python -m aigc_course download",
        "       or copy the four files from a folder/USB stick:   python -m aigc_course download --from DIR",
    ]
    if reasons:
        lines.append("  last errors: " + "; ".join(reasons[-3:]))
    return "\n".join(lines)


def _prepare(path: Path, verbose: bool) -> tuple[bool, str | None]:
    """Check one cached file: (already verified?, a note for the error message). A corrupt file is deleted."""
    state, detail = _inspect(path)
    if state == "ok":
        return True, None
    if state == "missing":
        return False, None
    if state == "unusable":
        return False, f"not usable: {detail}"
    try:
        path.unlink()
        done = "deleted it (a corrupt file is never used)"
    except OSError as err:
        done = (f"could not delete it ({err.strerror or err}): make the cache folder writable or set {DATA_ENV} "
                f"to another folder")
    note = f"corrupt: {path.name} ({detail}): {done}"
    if verbose:
        print(f"{path.name}: cached copy is corrupt ({detail}); {done}")
    return False, note


def _store(path: Path, payload: bytes) -> str | None:
    """Write a verified file into the cache; on failure, the reason (for the error message)."""
    try:
        atomic_write_bytes(path, payload)
    except OSError as err:
        return (f"{err.strerror or err} (make the cache folder writable or set {DATA_ENV} to a folder you can "
                f"write to)")  # atomic_write_bytes' message names the file: "cannot write <path>: <reason>"
    return None


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

    A cached file whose MD5 does not match (truncated, corrupted) is reported with both MD5s and
    deleted, then fetched again, never used. Raises :class:`MNISTUnavailableError` with one clear
    message when a file is missing and cannot be downloaded or stored (what is wrong with each
    file, what was done, and what to do).
    """
    require_float("timeout", timeout, minimum=0.0, strict_minimum=True)
    problem = _cache_folder_problem()
    if problem:
        raise MNISTUnavailableError(f"MNIST cannot be cached: {problem}")
    folder = mnist_folder()
    missing: list[str] = []
    reasons: list[str] = []
    notes: list[str] = []
    for name in MD5SUMS:
        path = folder / name
        verified, note = _prepare(path, verbose)
        if note:
            notes.append(note)
        if verified:
            continue
        if note and note.startswith("not usable"):
            missing.append(name)
            continue
        payload, errors = (_fetch(name, timeout) if download else (None, ["downloads disabled"]))
        if payload is None:
            missing.append(name)
            reasons.extend(errors)
            continue
        failure = _store(path, payload)
        if failure:
            missing.append(name)
            notes.append(failure)
        elif verbose:
            print(f"{name}: downloaded and verified")
    if missing:
        raise MNISTUnavailableError(_unavailable_message(missing, reasons, notes))
    return folder


def copy_mnist_from(source: str | Path, *, verbose: bool = False) -> Path:
    """Fill the cache from a folder holding the four files (a USB stick, a shared drive).

    Every file is MD5-verified before it is used; a wrong or unreadable source file raises
    ``ValueError`` naming it; a cache that cannot hold the files raises :class:`MNISTUnavailableError`.
    """
    if not isinstance(source, (str, Path)):
        raise TypeError(f"source must be a folder path, got {type(source).__name__}")
    source = Path(source).expanduser()
    if not source.is_dir():
        raise ValueError(f"source must be a folder holding the four MNIST .gz files, got {str(source)!r}")
    problem = _cache_folder_problem()
    if problem:
        raise MNISTUnavailableError(f"MNIST cannot be cached: {problem}")
    folder = mnist_folder()
    for name, expected in MD5SUMS.items():
        target = folder / name
        verified, note = _prepare(target, verbose)
        if verified:
            continue
        if note and note.startswith("not usable"):
            raise MNISTUnavailableError(f"MNIST cannot be cached: {note[len('not usable: '):]}")
        origin = source / name
        if not origin.is_file():
            raise ValueError(f"source folder {source} has no {name}")
        try:
            payload = origin.read_bytes()
        except OSError as err:
            raise ValueError(f"{origin} cannot be read: {err.strerror or err}") from None
        actual = hashlib.md5(payload).hexdigest()
        if actual != expected:
            raise ValueError(f"{origin} fails its MD5 check (MD5 {actual}, expected {expected}); refusing to use it")
        failure = _store(target, payload)
        if failure:
            raise MNISTUnavailableError(f"MNIST cannot be cached: {failure}" + (f"; {note}" if note else ""))
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
        self._generator.manual_seed(require_seed(seed) if seed is not None else torch.seed())

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
