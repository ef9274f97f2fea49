"""Progress display for Pruner.run(progress=True): a widget-free HTML line in notebooks, an
in-place line on terminals, one line per step otherwise."""
import sys


def _fmt(seconds):
    if seconds != seconds or seconds < 0:
        return "?"
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _in_notebook():
    try:
        from IPython import get_ipython  # noqa: F401
        shell = get_ipython()
        return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"
    except Exception:
        return False


class ProgressDisplay:
    def __init__(self, stream=None):
        self._stream = stream or sys.stderr
        self._tty = hasattr(self._stream, "isatty") and self._stream.isatty()
        self._handle = None
        self._last_step = -1
        if _in_notebook():
            from IPython.display import display, HTML
            self._handle = display(HTML(""), display_id=True)

    def text(self, p):
        done = (p.step + p.batch / max(p.batches, 1)) / max(p.steps, 1)
        bar = ("=" * int(done * 28)).ljust(28)
        return (f"step {p.step + 1}/{p.steps} [{bar}] batch {p.batch}/{p.batches}  "
                f"sparsity {100 * p.sparsity:.1f}%  loss {p.loss:.4f}  "
                f"{_fmt(p.elapsed_seconds)}  ETA {_fmt(p.eta_seconds)}")

    def __call__(self, p):
        line = self.text(p)
        if self._handle is not None:
            from IPython.display import HTML
            self._handle.update(HTML(f"<pre>{line}</pre>"))
        elif self._tty:
            self._stream.write("\r\033[K" + line)
            self._stream.flush()
        elif p.batch == p.batches and p.step != self._last_step:
            self._stream.write(line + "\n")
            self._last_step = p.step
        return True

    def close(self):
        if self._tty and self._handle is None:
            self._stream.write("\n")
