"""What the package needs from Python 3.11+ that 3.10 lacks (a student's Python may be 3.10).

Standard library only, and here in runner/ because the grading image carries only the runner
(whose protocol module needs it too).
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:

    class StrEnum(str, Enum):
        """3.11's `enum.StrEnum`: members are strings, and str() and format() give the value."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return format(str(self.value), spec)


__all__ = ["StrEnum"]
