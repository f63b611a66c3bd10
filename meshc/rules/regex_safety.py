"""The linear-time regex subset: patterns java.util.regex (Spark) matches without blowing up.

Rust regex (Polars) and RE2 (DuckDB, pyarrow for pandas) match in linear time whatever the
pattern; java.util.regex backtracks. Probed on Java 17 with 3,000-10,000-character values:
- a repeated group whose body holds a quantifier or an alternation recurses once per iteration
  and overflows the stack (`^(a|b)*$`, `^([a-z]+\\.)*$`, `^(a|a)*$`);
- a repeated group of fixed width (`(ab)*`, `(-[0-9]{3})+`) loops without recursion;
- a variable quantifier whose atom can also start what follows it (`.*x`, `a*a`) is *ambiguous*:
  Java retries every split, so each one multiplies the work by the value length; one costs about
  0.3 s on 10,000 characters (a search retries from every start), two hang.

So a pattern is accepted when repeated groups have a fixed width, counted repetitions stay
within RE2's limit, and its backtracking cost (see `_Cost`; an unbounded quantifier counts
as VALUE_LENGTH choices) stays within MAX_STEPS: one ambiguous unbounded quantifier
(`^.*@example\\.com$`) is fine, two (`.*a.*b`) or one followed by another variable part
(`.*[a-z]+@`) are not. Python's `re` parser turns `(a|b)` into `[ab]`, which hides exactly what
Java trips on, so the parser below keeps the pattern's own structure and borrows `re`'s parser
only for single-character atoms.
"""

from __future__ import annotations

import re
import re._parser as sre  # the stdlib's own parser of an atom's character set
from dataclasses import dataclass

VALUE_LENGTH = 10_000  # what an unbounded quantifier counts as: the value length it may run over
# Steps for one search over a VALUE_LENGTH-character value: ~1 s on Java 17 here at worst. A
# search retries from every start unless anchored with ^, so unanchored patterns get less room.
MAX_STEPS = 500_000_000
_CAP = MAX_STEPS * MAX_STEPS
MAX_REPEAT = 1_000  # RE2 rejects a counted repetition above 1000
MAX_EXPANDED = 10_000  # atoms after expanding counted repetitions (RE2/Rust program size)
_TOP = 0x10FFFF

Chars = tuple[tuple[int, int], ...]  # sorted, disjoint code point intervals


class UnsafeRegex(ValueError):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class _Char:
    """One character of a set (code point intervals)."""

    chars: Chars


@dataclass(frozen=True)
class _Anchor:
    """`^` or `$`."""


@dataclass(frozen=True)
class _Group:
    """A group: its alternatives, each a sequence of nodes."""

    alts: tuple[tuple[object, ...], ...]


@dataclass(frozen=True)
class _Repeat:
    """A quantified node: body{lo,hi} (hi None: unbounded)."""

    body: object
    lo: int
    hi: int | None  # None: unbounded


def check_linear(pattern: str) -> None:
    """Raise UnsafeRegex when `pattern` (already valid and portable) is outside the subset."""
    try:
        tree = _Parser(pattern).parse()
        expanded, cost = _expanded(tree), _Cost().node(tree, (), 1)
    except RecursionError:
        raise UnsafeRegex("the pattern nests groups too deeply", "flatten the groups") from None
    if expanded > MAX_EXPANDED:
        raise UnsafeRegex(
            f"the pattern expands to more than {MAX_EXPANDED} atoms",
            "use smaller counted repetitions",
        )
    anchored = all(alt and isinstance(alt[0], _Anchor) for alt in tree.alts)
    if (1 if anchored else VALUE_LENGTH) * cost > MAX_STEPS:
        raise UnsafeRegex(
            "the pattern can match the same text in too many ways (two quantifiers such as "
            "`.*x.*y` or `a*a*` overlap); Spark's regex engine would backtrack for minutes",
            "anchor the pattern with ^, and make each repeated part stop at a character "
            "that cannot continue it ([^,]* instead of .*); a search needs no leading .*",
        )


# -- parsing ----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p, self.i = pattern, 0
        self.icase = False

    def parse(self) -> _Group:
        if self.p.startswith("(?i)"):
            self.icase, self.i = True, 4
        return self.alternation()

    def alternation(self) -> _Group:
        alts = [self.sequence()]
        while self.peek("|"):
            self.i += 1
            alts.append(self.sequence())
        return _Group(tuple(alts))

    def sequence(self) -> tuple[object, ...]:
        items: list[object] = []
        while self.i < len(self.p) and self.p[self.i] not in "|)":
            items.append(self.quantified(self.atom()))
        return tuple(items)

    def peek(self, text: str) -> bool:
        return self.p.startswith(text, self.i)

    def atom(self) -> object:
        ch = self.p[self.i]
        if ch == "(":
            return self.group()
        if ch in "^$":
            self.i += 1
            return _Anchor()
        if ch == "{":
            raise UnsafeRegex(
                "a '{' that is not a repetition is read differently by Java and RE2",
                r"write \{ for a literal brace",
            )
        start = self.i
        if ch == "[":
            self.i = _class_end(self.p, self.i)
        elif ch == "\\":
            self.i += {"x": 4, "u": 6}.get(self.p[self.i + 1 : self.i + 2], 2)
        else:
            self.i += 1
        return _Char(_charset(self.p[start : self.i], self.icase))

    def group(self) -> _Group:
        self.i += 1
        saved = self.icase
        if self.peek("?:"):
            self.i += 2
        elif self.peek("?i:"):
            self.icase, self.i = True, self.i + 3
        elif self.peek("?"):
            raise UnsafeRegex(
                "only the (?i) inline flag is portable", "write (?i) or (?i:...) alone"
            )
        inner = self.alternation()
        self.i += 1  # ')': re.compile already checked the balance
        self.icase = saved
        return inner

    def quantified(self, atom: object) -> object:
        m = re.compile(r"\*|\+|\?|\{(\d*)(,?)(\d*)\}").match(self.p, self.i)
        if m is None:
            return atom
        if isinstance(atom, _Anchor):
            raise UnsafeRegex("an anchor cannot be repeated", "remove the quantifier")
        self.i = m.end()
        if self.peek("?"):  # lazy: same cost analysis
            self.i += 1
        text = m.group(0)
        if text in "*+?":
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[text]
        else:
            lo_text, comma, hi_text = m.groups()
            if not lo_text:
                raise UnsafeRegex(
                    f"'{text}' means a repetition in Python and Java but literal text in RE2",
                    "write {0,n}",
                )
            lo = int(lo_text)
            hi = lo if not comma else (int(hi_text) if hi_text else None)
            if max(lo, hi or 0) > MAX_REPEAT:
                raise UnsafeRegex(
                    f"a counted repetition above {MAX_REPEAT} is rejected by RE2 (DuckDB)",
                    f"use at most {{{MAX_REPEAT}}} or an unbounded +",
                )
        _require_flat_body(atom, hi)
        return _Repeat(atom, lo, hi)


def _class_end(p: str, i: int) -> int:
    """Index after the ']' closing the class that starts at p[i]."""
    j = i + 1
    if p.startswith("^", j):
        j += 1
    if p.startswith("]", j):
        j += 1
    while p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1


def _require_flat_body(atom: object, hi: int | None) -> None:
    """Java recurses once per iteration of a repeated group unless its body has a fixed width."""
    if not isinstance(atom, _Group) or (hi is not None and hi <= 1):
        return
    if len(atom.alts) > 1:
        singles = [a for a in atom.alts if len(a) == 1 and isinstance(a[0], _Char)]
        hint = (
            "an alternation of single characters is a class: write [ab]* for (a|b)*"
            if len(singles) == len(atom.alts)
            else "repeat a character class instead, or spell the alternatives out"
        )
        raise UnsafeRegex(
            "a repeated group must not contain an alternation (Spark's regex engine "
            "overflows its stack on long values)",
            hint,
        )
    if _fixed_width(atom) is None:
        raise UnsafeRegex(
            "a repeated group must not contain a variable quantifier such as (a+)* or "
            "([a-z]+\\.)* (exponential backtracking, stack overflow on Spark)",
            "repeat a character class instead, e.g. [a-z.]*, or give the inner part a fixed "
            "count such as {3}",
        )


def _fixed_width(node: object) -> int | None:
    if isinstance(node, _Char):
        return 1
    if isinstance(node, _Repeat):
        inner = _fixed_width(node.body)
        return None if inner is None or node.hi != node.lo else inner * node.lo
    if isinstance(node, _Group) and len(node.alts) == 1:
        widths = [_fixed_width(n) for n in node.alts[0]]
        return None if None in widths else sum(w for w in widths if w is not None)
    return None


def _expanded(node: object) -> int:
    if isinstance(node, _Group):
        return sum(_expanded(n) for alt in node.alts for n in alt)
    if isinstance(node, _Repeat):
        return _expanded(node.body) * max(node.lo, node.hi or 0, 1)
    return 1


# -- character sets ---------------------------------------------------------------------------
def _charset(atom: str, icase: bool) -> Chars:
    """The code points a single-character atom matches, over-approximated under (?i)."""
    try:
        (op, av), *_ = sre.parse(atom).data
    except re.error:  # an escape this reader does not know: assume it matches anything
        return ((0, _TOP),)
    name = str(op)
    if name == "ANY":
        spans = [(0, _TOP)]
    elif name == "LITERAL":
        spans = [(av, av)]
    elif name == "NOT_LITERAL":
        spans = _complement([(av, av)])
    else:  # IN
        spans, negate = [], False
        for item_op, item_av in av:
            kind = str(item_op)
            if kind == "NEGATE":
                negate = True
            elif kind == "LITERAL":
                spans.append((item_av, item_av))
            elif kind == "RANGE":
                spans.append(item_av)
            else:  # CATEGORY: the ASCII class meshc rewrites \d \w \s to; \D etc. broadly
                spans.extend(_CATEGORIES.get(str(item_av), [(0, _TOP)]))
        spans = _complement(_normal(spans)) if negate else spans
    if icase and any(lo <= ord("z") and hi >= ord("A") for lo, hi in spans):
        # Unicode case folding reaches non-ASCII (K -> KELVIN SIGN): assume every other case.
        spans = [*spans, (ord("A"), ord("Z")), (ord("a"), ord("z")), (0x80, _TOP)]
    return _normal(spans)


_CATEGORIES = {
    "CATEGORY_DIGIT": [(48, 57)],
    "CATEGORY_WORD": [(48, 57), (65, 90), (95, 95), (97, 122)],
    "CATEGORY_SPACE": [(9, 10), (12, 13), (32, 32)],
}


def _normal(spans: list[tuple[int, int]]) -> Chars:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


def _complement(spans: list[tuple[int, int]] | Chars) -> list[tuple[int, int]]:
    out, start = [], 0
    for lo, hi in _normal(list(spans)):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    return out + ([(start, _TOP)] if start <= _TOP else [])


def _overlap(a: Chars, b: Chars) -> bool:
    return any(lo <= h and l <= hi for lo, hi in a for l, h in b)  # noqa: E741


# -- ambiguity --------------------------------------------------------------------------------
def _first(items: tuple[object, ...], follow: Chars) -> Chars:
    """Characters that can start `items` followed by something starting with `follow`."""
    spans: list[tuple[int, int]] = []
    for node in items:
        chars, nullable = _first_of(node)
        spans.extend(chars)
        if not nullable:
            return _normal(spans)
    return _normal([*spans, *follow])


def _first_of(node: object) -> tuple[Chars, bool]:
    if isinstance(node, _Char):
        return node.chars, False
    if isinstance(node, _Anchor):
        return (), True
    if isinstance(node, _Repeat):
        chars, nullable = _first_of(node.body)
        return chars, nullable or node.lo == 0
    assert isinstance(node, _Group)
    spans: list[tuple[int, int]] = []
    nullable = False
    for alt in node.alts:
        for item in alt:
            chars, item_nullable = _first_of(item)
            spans.extend(chars)
            if not item_nullable:
                break
        else:
            nullable = True
    return _normal(spans), nullable


class _Cost:
    """Backtracking steps per start position, folded right to left from the continuation's cost:
    a variable quantifier that cannot start its continuation backs off in `range` steps (added);
    an ambiguous one retries the continuation at every split (multiplied); alternatives that
    can start alike are each tried (summed), otherwise only one proceeds."""

    def sequence(self, items: tuple[object, ...], follow: Chars, after: int) -> int:
        cost, starts = after, follow  # `starts`: what can start items[i + 1:] and beyond
        for i in range(len(items) - 1, -1, -1):
            literal_run = isinstance(items[i], _Char) and i + 1 < len(items)
            if not (literal_run and isinstance(items[i + 1], _Char)):
                # (a literal run fails at its first mismatch: count it once)
                cost = min(self.node(items[i], starts, cost), _CAP)
            chars, nullable = _first_of(items[i])
            starts = _normal([*chars, *starts]) if nullable else chars
        return cost

    def node(self, node: object, follow: Chars, after: int) -> int:
        if isinstance(node, _Group):
            costs = [self.sequence(alt, follow, after) for alt in node.alts]
            starts = [_first(alt, follow) for alt in node.alts]
            clash = any(_overlap(a, b) for k, a in enumerate(starts) for b in starts[k + 1 :])
            return sum(costs) if clash else max(costs)
        if isinstance(node, _Repeat) and node.hi != node.lo:
            ambiguous = _overlap(_first_of(node.body)[0], follow)
            if node.hi == 1:  # optional: the body, or skip it
                body = self.node(node.body, follow, after)
                return body + after if ambiguous else max(body, after)
            choices = VALUE_LENGTH if node.hi is None else min(node.hi - node.lo, VALUE_LENGTH)
            return choices * after if ambiguous else choices + after
        if isinstance(node, _Repeat) and isinstance(node.body, _Group):
            return self.node(node.body, follow, after)
        return after + 1
