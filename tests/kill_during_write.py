"""Run ``python -m aigc_course ARGS...`` and SIGKILL it inside the N-th atomic write of FILE_NAME (issue 14's fault test).

    python tests/kill_during_write.py POINT N FILE_NAME -- train mlp --epochs 3 --out DIR ...

POINT is where in :func:`aigc_course.files.atomic_write_bytes` the process dies:

* ``created``       the temporary file exists, nothing written to it yet;
* ``mid_write``     half the bytes written (and flushed to the disk);
* ``before_rename`` all bytes written and fsynced, ``os.replace`` not called;
* ``after_rename``  renamed over FILE_NAME, the folder not yet fsynced.

The course's code is not changed: the wrappers below sit around the ``os`` functions it calls, and
only the N-th write whose target is FILE_NAME is killed. A SIGKILL runs no cleanup, exactly like a
power cut or the out-of-memory killer.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys

POINTS = ("created", "mid_write", "before_rename", "after_rename")


def main() -> None:
    point, nth, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if point not in POINTS or sys.argv[4] != "--":
        raise SystemExit(f"usage: {__doc__}")
    argv = sys.argv[5:]
    seen = {"writes": 0, "fd": None}
    real_open, real_fdopen, real_replace = os.open, os.fdopen, os.replace

    def die() -> None:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def tracking_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        base = os.path.basename(os.fsdecode(path))
        if base.startswith(f".{name}.") and base.endswith(".tmp"):
            seen["writes"] += 1
            if seen["writes"] == nth:
                seen["fd"] = fd
        return fd

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(bytes(data[: len(data) // 2]))
            self.handle.flush()
            os.fsync(self.handle.fileno())
            die()

        def __getattr__(self, attribute):
            return getattr(self.handle, attribute)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    def tracking_fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        if fd == seen["fd"] and point == "created":
            die()
        if fd == seen["fd"] and point == "mid_write":
            return HalfWriter(handle)
        return handle

    def tracking_replace(src, dst, *args, **kwargs):
        target = os.path.basename(os.fsdecode(dst)) == name and seen["writes"] == nth and seen["fd"] is not None
        if target and point == "before_rename":
            die()
        result = real_replace(src, dst, *args, **kwargs)
        if target and point == "after_rename":
            die()
        return result

    os.open, os.fdopen, os.replace = tracking_open, tracking_fdopen, tracking_replace
    sys.argv = ["aigc_course", *argv]
    runpy.run_module("aigc_course", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
