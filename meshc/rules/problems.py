"""The one error the rule compiler raises, turned into a located Diagnostic by its callers."""

from __future__ import annotations


class RuleProblem(Exception):
    """A rule that does not compile; `offset` is a 0-based character offset into the SQL."""

    def __init__(
        self,
        code: str,
        message: str,
        hint: str | None = None,
        offset: int | None = None,
        column: str | None = None,
    ):
        super().__init__(message)
        self.code, self.message, self.hint, self.offset = code, message, hint, offset
        self.column = column  # set for an unknown column
