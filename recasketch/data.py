"""Reading, validating and downloading the Sketchfab likes and features files."""

from __future__ import annotations


class DataError(ValueError):
    """A data file or frame is not what the recasketch readers expect.

    The message names the file and, where it can, the line or column at fault.
    """
