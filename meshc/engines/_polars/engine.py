"""The Polars engine: meshc's embedded default and the benchmark target."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from meshc.engines._polars import io, spill
from meshc.engines._polars.mask import FrameT, mask_frame
from meshc.engines._polars.translate import translate
from meshc.engines._polars.validate import cast, validate, validate_to_files
from meshc.engines.base import EngineLifecycle, Split, ValidationPlan, refuse_unknown_options
from meshc.errors import SourceError, WriteError
from meshc.rules import expr as ir

Frame = pl.LazyFrame | pl.DataFrame


class PolarsEngine(EngineLifecycle):
    """Lazy reads, one collected plan per validation, eager outputs (pl.DataFrame); or, with
    `validate_streaming`, one streaming pass that writes the outputs to spill files (masked on
    the way by `validate_streaming_masked`). The engine owns the spill folders it creates: `close`
    removes them, so the lazy frames reading them are unreadable afterwards (see spill.py)."""

    name = "polars"

    def __init__(self) -> None:
        self._spills = spill.Spills()

    def close(self) -> None:
        self._spills.close()

    def read(
        self,
        paths: Sequence[str],
        fmt: str,
        *,
        delimiter: str = ",",
        header: bool = True,
        text_columns: Sequence[str] = (),
    ) -> pl.LazyFrame:
        return io.read(paths, fmt, delimiter=delimiter, header=header, text_columns=text_columns)

    def validate(self, frame: Frame, plan: ValidationPlan) -> Split[Frame]:
        return validate(frame, plan)

    def cast(self, frame: Frame, plan: ValidationPlan) -> pl.LazyFrame:
        return cast(frame, plan)

    def validate_streaming(self, frame: Frame, plan: ValidationPlan) -> Split[Frame]:
        """`validate`, in bounded memory: the outputs are streamed to Parquet spill files and come
        back as lazy scans of them (see spill.py); `write` then links the files into place."""
        return self.validate_streaming_masked(frame, plan, {})

    def validate_streaming_masked(
        self, frame: Frame, plan: ValidationPlan, masks: Mapping[str, str]
    ) -> Split[Frame]:
        """`validate_streaming`, then `mask` of both outputs, in the same one pass: the masks are
        expressions of the streamed query, so each output is written once, already masked."""
        try:
            folder = self._spills.folder()
        except OSError as exc:
            _raise_if_spill_failed(exc)
            raise
        try:
            split = validate_to_files(
                frame,
                plan,
                (
                    folder.path / "valid.parquet",
                    folder.path / "quarantine.parquet",
                    folder.path / "flags.arrow",
                ),
                masks,
            )
        except BaseException as exc:
            self._spills.discard(folder)
            if isinstance(exc, (OSError, SourceError)):
                _raise_if_spill_failed(exc)
            raise
        (folder.path / "flags.arrow").unlink()
        return replace(
            split,
            valid=self._spills.scan(folder, "valid.parquet"),
            quarantine=self._spills.scan(folder, "quarantine.parquet"),
        )

    def materialize(self, frame: Frame) -> pl.DataFrame:
        """An eager DataFrame of a (possibly lazy) output frame."""
        return frame.collect() if isinstance(frame, pl.LazyFrame) else frame

    def aggregate(self, frame: Frame, exprs: Mapping[str, ir.Expr]) -> dict[str, Any]:
        if not exprs:
            return {}
        selected = [translate(expr).alias(name) for name, expr in exprs.items()]
        return frame.lazy().select(selected).collect().row(0, named=True)

    def write(self, frame: Frame, path: Path, fmt: str) -> None:
        if fmt == "parquet" and self._spills.publish(frame, Path(path)):
            return
        io.write(frame, Path(path), fmt)

    def mask(self, frame: FrameT, masks: Mapping[str, str]) -> FrameT:
        return mask_frame(frame, masks)

    def to_arrow(self, frame: Frame) -> Any:
        data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        return data.to_arrow()

    def head(self, frame: Frame, n: int) -> Any:
        """A lazy frame is sliced before it is collected, so Polars reads (and masks) only
        those rows."""
        data = frame.head(n).collect() if isinstance(frame, pl.LazyFrame) else frame.head(n)
        return data.to_arrow()

    def columns(self, frame: Frame) -> list[str]:
        if isinstance(frame, pl.DataFrame):
            return list(frame.columns)
        try:
            return list(frame.collect_schema().names())
        except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
            raise SourceError(f"cannot read the source: {exc}") from exc


# A full disk, a file-size limit, a disk quota: failures of *writing* the spill files, which
# Polars reports as one text (Rust's "... (os error N)") together with read errors.
_WRITE_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def _raise_if_spill_failed(exc: BaseException) -> None:
    """A spill file that could not be written is a WriteError about the temp dir, not a source
    that cannot be read."""
    for error in (exc, exc.__cause__):
        if isinstance(error, OSError) and error.errno in _WRITE_ERRNOS:
            reason = os.strerror(error.errno)
        elif error is not None and any(f"(os error {n})" in str(error) for n in _WRITE_ERRNOS):
            reason = str(error).splitlines()[0].replace("cannot read the source: ", "")
        else:
            continue
        raise WriteError(
            f"cannot write temporary files in {tempfile.gettempdir()}: {reason} "
            "(free space there or set TMPDIR to a folder with room); nothing was written"
        ) from exc


def create(**options: Any) -> PolarsEngine:
    """The registry's entry point; the Polars engine takes no options yet."""
    refuse_unknown_options("polars", options, ())
    return PolarsEngine()
