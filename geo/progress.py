"""Progress bars for long commands: tqdm, silent when not on a terminal."""

from __future__ import annotations

import sys

from tqdm import tqdm


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it"):
    """A tqdm bar on stderr that stays quiet when stderr is not a terminal.

    >>> list(progress(range(3)))
    [0, 1, 2]
    """
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty(),
                leave=False, dynamic_ncols=True)
