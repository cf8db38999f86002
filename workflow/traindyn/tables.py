"""Tables as Markdown, LaTeX and CSV from one list of rows."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from typing import Any

from .atomic import write_text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.6g}"
    return str(value)


def write_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, md: str | os.PathLike,
                tex: str | os.PathLike, csv_path: str | os.PathLike, caption: str) -> None:
    cells = [[_fmt(v) for v in row] for row in rows]
    md_lines = [f"**{caption}**", "", "| " + " | ".join(columns) + " |",
                "|" + "---|" * len(columns)]
    md_lines += ["| " + " | ".join(r) + " |" for r in cells]
    write_text(md, "\n".join(md_lines) + "\n")
    esc = lambda s: s.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")  # noqa: E731
    tex_lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{esc(caption)}}}",
                 r"\begin{tabular}{" + "r" * len(columns) + "}", r"\hline",
                 " & ".join(esc(c) for c in columns) + r" \\", r"\hline"]
    tex_lines += [" & ".join(esc(c) for c in r) + r" \\" for r in cells]
    tex_lines += [r"\hline", r"\end{tabular}", r"\end{table}"]
    write_text(tex, "\n".join(tex_lines) + "\n")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    writer.writerows(rows)
    write_text(csv_path, buf.getvalue())
