"""Sampling profiles of a running benchmark process with py-spy (in the dev lock).

py-spy attaches to the server by pid for the length of one phase and samples its Python stacks
without instrumenting it, so the server runs at full speed (cProfile roughly doubled the cost of every
call and moved the bottleneck). The samples are written as collapsed stacks (`--format raw`: one line
per distinct stack, `frame;frame;frame count`), which `flamegraph.pl`, speedscope and `summarize`
below all read.

    python -m bench.profiling DIR/uvicorn-intake.txt      # the top frames of a saved profile
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy_path() -> str:
    """The py-spy next to this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed: `make install` installs the dev lock, which has it")
    return found


def spy(pid: int, output: Path, seconds: float, *, rate: int = 200, gil_only: bool = False) -> subprocess.Popen:
    """Start sampling `pid` for `seconds` into `output` (collapsed stacks). Wait on the returned process.

    With `gil_only`, only the thread holding the GIL is sampled: what the interpreter is busy with, the
    right view for a process whose threads queue for the GIL."""
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [py_spy_path(), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
               "--rate", str(rate), "--format", "raw", "--output", str(output), "--nonblocking"]
    if gil_only:
        command.append("--gil")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, output: Path, timeout: float = 60.0) -> dict:
    """Wait for a `spy` to write its file; returns the summary (or the error py-spy gave)."""
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    if not output.exists():
        return {"error": (err or b"").decode(errors="replace").strip()[-500:] or f"py-spy exited {proc.returncode}"}
    return summarize(output)


def _frame_name(frame: str) -> str:
    """`func (path/to/module.py:123)` -> `func (module path)` without the line number, so the samples of
    one function on different lines add up."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


def summarize(path: Path, top: int = 25) -> dict:
    """Inclusive and self shares of the samples per function, most expensive first."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count

    def share(counter: Counter[str]) -> list[dict]:
        return [{"function": name, "samples": n, "percent": round(100 * n / total, 1)}
                for name, n in counter.most_common(top)]

    return {"file": str(path), "samples": total, "inclusive": share(inclusive), "self": share(own)}


def print_summary(summary: dict, top: int = 25) -> None:
    if "error" in summary:
        print(f"py-spy: {summary['error']}")
        return
    print(f"\npy-spy profile {summary['file']} ({summary['samples']} samples)")
    for title in ("inclusive", "self"):
        print(f"  {title}:")
        for row in summary[title][:top]:
            print(f"    {row['percent']:5.1f} %  {row['function']}")


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print_summary(summarize(Path(argument)))
