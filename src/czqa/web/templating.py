"""The page's markup from Jinja templates (``templates/``), with every value escaped.

Templates say what a reply or a Sources entry looks like; the modules that use them only
prepare the values (a reply's quotes, labels, markers). Values are escaped as
``html.escape(..., quote=True)`` would (quotes too, since some land in attributes); markup made by
another template or helper is passed as :class:`markupsafe.Markup` and kept. A rendered fragment
is one line: Gradio's chatbot reads a message's blank lines as paragraph breaks, so the line
breaks a template has between tags are dropped.
"""

from __future__ import annotations

import html
import re

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


def _escaped(value) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


ENV = Environment(
    loader=PackageLoader("czqa.web", "templates"),
    autoescape=True,
    finalize=_escaped,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_BETWEEN_TAGS = re.compile(r">\s*\n\s*<")


def render(template: str, *, one_line: bool = True, **values) -> str:
    """``template`` filled with ``values``: one line of HTML (a fragment for the chat), or the
    page as written (``one_line=False``: a whole page, whose <pre> keeps its lines)."""
    out = ENV.get_template(template).render(**values)
    return _BETWEEN_TAGS.sub("><", out).replace("\n", " ").strip() if one_line else out


def part(name: str, *args) -> Markup:
    """One macro of ``templates/parts.html`` (a label, a citation marker, a notice), as Markup."""
    return Markup(_BETWEEN_TAGS.sub("><", str(getattr(ENV.get_template("parts.html").module, name)(*args))).strip())
