"""The one error of the hotspot engine: input on which a statistic is undefined."""

from __future__ import annotations


class HotspotInputError(ValueError):
    """The input cannot give a meaningful statistic; the message says why in one sentence.

    Examples
    --------
    >>> raise HotspotInputError("no cell of the grid lies in the study area")
    Traceback (most recent call last):
    ...
    geo.hotspots.errors.HotspotInputError: no cell of the grid lies in the study area
    """
