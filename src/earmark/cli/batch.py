"""Running one job over many files: progress bar, per-file errors, resumable outputs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click
from tqdm import tqdm

from earmark.cli.inputs import InputFile
from earmark.cli.render import write_atomic
from earmark.cli.term import styled
from earmark.errors import EarmarkError

__all__ = ["BatchOptions", "BatchReport", "FileProgress", "run_and_exit", "run_batch"]


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs: where outputs go (``None`` = stdout) and with which extension."""

    output_dir: Path | None
    extension: str
    overwrite: bool = False
    quiet: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any], extension: str) -> BatchOptions:
        """From the values of :func:`earmark.cli.options.output_options`."""
        return cls(
            output_dir=params["output_dir"],
            extension=extension,
            overwrite=params["overwrite"],
            quiet=params["quiet"],
        )


@dataclass
class BatchReport:
    done: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


class FileProgress:
    """A per-file progress bar in seconds of audio, shown only on a terminal."""

    def __init__(self, name: str, enabled: bool, position: int = 1) -> None:
        self._bar: tqdm[Any] | None = None
        self._name = name
        self._enabled = enabled
        self._position = position

    def __call__(self, done_ms: int, total_ms: int) -> None:
        if not self._enabled:
            return
        bar = self._bar
        if bar is None:
            bar = self._bar = tqdm(
                total=round(total_ms / 1000, 1),
                desc=self._name[:30],
                unit="s audio",
                position=self._position,
                leave=False,
                file=sys.stderr,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]",
            )
        bar.n = round(done_ms / 1000, 1)
        bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_batch(
    files: list[InputFile],
    options: BatchOptions,
    process: Callable[[InputFile, FileProgress], str],
) -> BatchReport:
    """Run ``process`` on every file; it returns the rendered output for that file.

    A failing file is reported on stderr and the rest go on. With an output directory,
    files whose output already exists are skipped (resumable) unless ``overwrite``.
    """
    report = BatchReport()
    interactive = sys.stderr.isatty() and not options.quiet
    show_overall = interactive and len(files) > 1
    overall = tqdm(
        total=len(files), desc="files", unit="file", file=sys.stderr, disable=not show_overall
    )
    for item in files:
        target = (
            item.output_path(options.output_dir, options.extension) if options.output_dir else None
        )
        if target is not None and target.exists() and not options.overwrite:
            report.skipped += 1
            overall.update(1)
            continue
        progress = FileProgress(item.path.name, interactive, position=1 if show_overall else 0)
        try:
            rendered = process(item, progress)
        except EarmarkError as exc:
            report.failed.append((str(item.path), str(exc)))
            tqdm.write(styled(f"error: {item.path}: {exc}", sys.stderr, fg="red"), file=sys.stderr)
        except Exception as exc:  # a batch keeps going past one bad file
            report.failed.append((str(item.path), f"{type(exc).__name__}: {exc}"))
            tqdm.write(
                styled(
                    f"error: {item.path}: unexpected {type(exc).__name__}: {exc}",
                    sys.stderr,
                    fg="red",
                ),
                file=sys.stderr,
            )
        else:
            report.done += 1
            if target is not None:
                write_atomic(target, rendered)
            elif rendered:
                tqdm.write(rendered.rstrip("\n"), file=sys.stdout)
        finally:
            progress.close()
            overall.update(1)
    overall.close()
    _summarise(report, options)
    return report


def run_and_exit(
    files: list[InputFile],
    options: BatchOptions,
    process: Callable[[InputFile, FileProgress], str],
    collected: list[dict[str, Any]],
) -> NoReturn:
    """Run the batch, print JSON records gathered for stdout as one array, and exit
    with status 1 if any file failed."""
    report = run_batch(files, options, process)
    if collected:
        click.echo(json.dumps(collected, ensure_ascii=False, indent=2))
    raise SystemExit(report.exit_code)


def _summarise(report: BatchReport, options: BatchOptions) -> None:
    if options.quiet:
        return
    total = report.done + report.skipped + len(report.failed)
    if total <= 1 and not report.failed and not options.output_dir:
        return
    parts = [f"{report.done} done"]
    if report.skipped:
        parts.append(f"{report.skipped} skipped (output exists; --overwrite to redo)")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    where = f" -> {options.output_dir}" if options.output_dir else ""
    click.echo(", ".join(parts) + where, err=True)
