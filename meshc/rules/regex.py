"""The portable regex subset and LIKE-to-regex lowering.

Rules run on Rust regex (Polars), RE2 (DuckDB, pyarrow for pandas) and java.util.regex (Spark).
meshc accepts only what all of them read the same way: no lookaround, no backreferences, no
possessive or atomic groups, no inline flags other than (?i) (meshc adds (?s) itself for LIKE).
Patterns use search semantics: anchor with ^ and $ for a full match.
"""

from __future__ import annotations

import re

_FORBIDDEN = [
    (re.compile(r"\(\?<?[=!]"), "lookaround is not portable (Rust regex and RE2 lack it)"),
    (re.compile(r"\\[1-9]"), "backreferences are not portable (Rust regex and RE2 lack them)"),
    (re.compile(r"\(\?>"), "atomic groups are not portable"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers are not portable"),
    (re.compile(r"\(\?P?<[A-Za-z]"), "named groups are not portable; use a plain group"),
    (re.compile(r"\\[AZzGbB]"), r"\A, \Z, \z, \G, \b and \B differ between engines; use ^ and $"),
    # any other (? form: (?s), (?is), (?im), (?-i)... (the first letter alone let (?is) through)
    (re.compile(r"\(\?(?![:=!<>]|i[:)]|P<)"), "only the (?i) inline flag is portable"),
    (re.compile(r"\[\[:"), "POSIX classes are not portable; use [a-z] style classes"),
    (re.compile(r"\\[pP]\{"), "unicode property classes are not portable"),
]


class RegexProblem(ValueError):
    """`code` is set when the pattern is valid and portable but unsafe on Spark (MC315)."""

    def __init__(self, message: str, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.hint, self.code = hint, code


def check_regex(pattern: str) -> None:
    """Raise RegexProblem when `pattern` is invalid or outside the portable subset."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RegexProblem(f"{exc}", hint="fix the regular expression syntax") from None
    for bad, why in _FORBIDDEN:
        if bad.search(pattern):
            raise RegexProblem(why, hint="see docs/rule-dialect.md#regular-expressions")
    from meshc.rules.regex_safety import UnsafeRegex, check_linear

    try:
        check_linear(pattern)
    except UnsafeRegex as exc:
        raise RegexProblem(str(exc), hint=exc.hint, code="MC315") from None


_ASCII_CLASSES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}


def portable_regex(pattern: str) -> str:
    """Rewrite \\d, \\w, \\s (and their negations) as explicit ASCII classes: Rust regex reads them
    as Unicode classes, RE2 and Java as ASCII, so the rewrite makes every engine agree."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            body = _ASCII_CLASSES.get(nxt.lower())
            if body is None:
                out.append(pattern[i : i + 2])
            elif in_class:
                if nxt.isupper():
                    raise RegexProblem(
                        f"\\{nxt} inside [...] is not portable", hint="write the class out"
                    )
                out.append(body)
            else:
                out.append(f"[^{body}]" if nxt.isupper() else f"[{body}]")
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            i += 1
            for lead in ("^", "]"):  # a leading ^ or ] does not close the class
                if i < len(pattern) and pattern[i] == lead:
                    out.append(lead)
                    i += 1
            continue
        if ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def java_pattern(pattern: str, case_insensitive: bool = False) -> str:
    """A portable-subset pattern with Rust/RE2 meaning in java.util.regex: (?d) makes only
    '\\n' a line end for '.', and an unescaped '$' outside a class becomes '\\z' (Java's '$'
    also matches before a final newline). Case-insensitive matching, by ILIKE or a written (?i),
    is Unicode-aware (?iu), as in Rust and RE2."""
    pattern = _like_without_backtracking(pattern)
    out: list[str] = []
    in_class = False
    class_start = 0  # index where a ']' would still be a literal member of the class
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = not (ch == "]" and i > class_start)
        elif ch == "[":
            in_class = True
            class_start = i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1
        elif ch == "$":
            ch = "\\z"
        elif pattern.startswith(("(?i)", "(?i:"), i):  # Java folds ASCII only unless told (?u)
            out.append("(?iu" + pattern[i + 3])
            i += 4
            continue
        out.append(ch)
        i += 1
    prefix = "(?diu)" if case_insensitive else "(?d)"
    return prefix + "".join(out)


_ANY_RUN = "(?s:.*)"  # what `%` lowers to; check_regex refuses (?s in user patterns


def _like_without_backtracking(pattern: str) -> str:
    """A LIKE pattern (`^a(?s:.*)b(?s:.*)c$`) for a backtracking engine: each segment between
    two `%` is taken at its first occurrence, inside an atomic group. Leftmost is always right
    (a later occurrence leaves the rest less room), and atomic groups stop Java from retrying every
    split: `%a%a%a%a%a%a%a%a%a%a%a%b` hangs on 3,000 characters otherwise, and takes
    milliseconds on 10,000 like this. Regex patterns (no `(?s:.*)`) pass through unchanged."""
    parts = pattern.split(_ANY_RUN)
    if len(parts) < 3:
        return pattern  # at most one `%`: a single greedy run backs off linearly
    middle = "".join(f"(?>(?s:.*?){part})" for part in parts[1:-1])
    return parts[0] + middle + _ANY_RUN + parts[-1]


def like_to_regex(pattern: str, escape: str | None = None) -> str:
    """SQL LIKE pattern -> anchored regex. `%` is any run of characters, `_` exactly one; the
    escape character (none unless ESCAPE is given) makes the next character literal."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            if i + 1 >= len(pattern):
                raise RegexProblem("LIKE pattern ends with its escape character")
            out.append(_escape_char(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(_ANY_RUN)
        elif ch == "_":
            out.append("(?s:.)")
        else:
            out.append(_escape_char(ch))
        i += 1
    out.append("$")
    return "".join(out)


def _escape_char(ch: str) -> str:
    # re.escape escapes more than needed (e.g. spaces in old versions); keep the output portable.
    return "\\" + ch if ch in ".^$*+?()[]{}|\\" else ch
