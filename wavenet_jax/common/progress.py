"""Progress of the long modes on stderr: a rate and an ETA that leave compilation out.

The first piece of work (a chunk, a batch, a file) compiles its program: `Progress` says
once how long that took, then rates and ETAs time only the pieces after it. On a terminal
the line is redrawn in place ('\r'); in a log (stderr not a terminal) a line is written at
most every `every` seconds and at the end, so the log holds no cursor codes.
"""
import math
import sys
import time


def duration(seconds) -> str:
  """12 s -> '0m12s', 2 h 5 min -> '2h05m'; '?' while unknown."""
  if not math.isfinite(seconds):
    return '?'
  seconds = int(seconds)
  h, rem = divmod(seconds, 3600)
  return f'{h}h{rem // 60:02d}m' if h else f'{rem // 60}m{rem % 60:02d}s'


class Progress:
  """`update(done)` after each piece ('chunk', 'batch'), `done` of `total` units; rate_scale
  multiplies the rate (streams side by side: samples per stream -> samples/s in all)."""

  def __init__(self, label, total, unit, piece='chunk', rate_scale=1, stream=None, every=10.0):
    self.label, self.total, self.unit, self.piece, self.rate_scale = label, total, unit, piece, rate_scale
    self.stream = stream or sys.stderr
    self.every = every
    self.terminal = self.stream.isatty()
    self._start = time.perf_counter()
    self._first = None  # (time, done) once the first piece, compile included, is done
    self._compile_told = False  # said at the second piece, which times one piece alone
    self._last_line = -math.inf
    self._open = False  # a redrawn line waits for its newline

  def update(self, done):
    now = time.perf_counter()
    if self._first is None:
      self._first = (now, done)
      if done >= self.total:  # one piece: nothing to tell compiling from running
        self._write(f'{self.label}: {done:,}/{self.total:,} {self.unit} in {now - self._start:.1f} s '
                    '(compiling included)', keep=True)
      return
    t0, d0 = self._first
    if not self._compile_told:  # the first piece's time beyond a piece's is the compile
      self._compile_told = True
      compiling = (t0 - self._start) - (now - t0)
      if compiling >= 0.5:
        self._write(f'{self.label}: compiling took ~{compiling:.1f} s (left out of the rates)', keep=True)
    rate = (done - d0) / max(now - t0, 1e-9)
    eta = (self.total - done) / rate if rate > 0 else math.inf
    text = f'{self.label}: {done:,}/{self.total:,} {self.unit}, {rate * self.rate_scale:,.0f} {self.unit}/s, ' \
           f'ETA {duration(eta)}'
    if self.terminal or done >= self.total or now - self._last_line >= self.every:
      self._write(text, keep=done >= self.total)
      self._last_line = now

  def _write(self, text, keep):
    if self.terminal:
      print(f'\r\033[K{text}', end='\n' if keep else '', file=self.stream, flush=True)
      self._open = not keep
    else:
      print(text, file=self.stream, flush=True)

  def close(self):
    """Ends a redrawn line that the last update left open."""
    if self._open:
      print(file=self.stream, flush=True)
      self._open = False
