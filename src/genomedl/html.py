"""The Jinja2 environment of every HTML page genomedl writes (templates in ``report/templates/``), with the
filters that format numbers, intervals, p-values and figures the same way everywhere."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
import pandas as pd

TEMPLATES = Path(__file__).parent / "reporting" / "templates"


def num(value, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or an en dash when it is missing."""
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


@functools.cache
def environment() -> jinja2.Environment:
    """Autoescaping, strict environment over ``TEMPLATES``; ``num`` is a filter and a function."""
    from genomedl import plotting

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = env.globals["num"] = num
    env.filters["ci"] = lambda ci, digits=3: "" if not ci else f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    env.filters["pval"] = lambda v: "–" if v is None or pd.isna(v) else f"{v:.2g}"
    env.filters["uri"] = lambda fig: fig if isinstance(fig, str) else plotting.data_uri(fig)
    return env
