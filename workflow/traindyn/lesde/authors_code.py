"""The LE-SDE statistics as the authors' own published code gives them, where it disagrees with
the authors' figure: claim id -> :class:`traindyn.claims.AuthorsCode`.

Measured on this project's machine by running the authors' published generator and training
loop from their repository (``workflow/scripts/authors_code_lesde.py``; docs/reference.md,
"The authors' code against their figure"). A claim that fails against the paper's figure
and agrees with these values gets the verdict ``fail-authors-code`` (still a failure).
"""

from __future__ import annotations

from ..claims import AuthorsCode

__all__ = ["AUTHORS_CODE"]

AUTHORS_CODE: dict[str, AuthorsCode] = {}
