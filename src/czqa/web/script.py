"""The page's own script: what Gradio's chatbot does not do for a reader checking sources.

Gradio renders each chat message from its content string and uses that same string, verbatim,
as the message's ``aria-label`` and as what its copy button copies; the content here is HTML,
so a screen reader would hear tags and a paste would be markup. Gradio also scrolls the chat to
its end on every update, which on a phone hides where a long reply starts. Nothing in Gradio 6's
Chatbot changes these, so this script (``page.js`` beside this module), installed in the page
head by :mod:`czqa.web.app`, does:

- **Citations**: a click on a marker ``[n]`` (``a.czqa-cite``) scrolls its Sources entry into
  view, opening any folded earlier-answers section that holds it, outlines it and moves focus to
  it. (Without the script the marker is still an ordinary same-page link.)
- **The newest reply's start stays in view**: when a reply appears or becomes final (the chat is
  built with ``autoscroll=False``), the chat scrolls so the reply's first line is at its top,
  and the window scrolls too if that line is off screen. Streaming updates do not move it.
- **Copy gives Markdown**: the clipboard gets a reply's hidden Markdown (``.czqa-copy``, see
  :mod:`czqa.web.copytext`) or a message's plain text, never its HTML.
- **Plain aria labels**: a message's label becomes "Reply: ..." or "Your question: ..." with
  the visible text, instead of "bot's message: <div ...".
- **Uploads over the size limit** are refused by Gradio in the browser with a toast that fades;
  the script also writes the refusal into the upload panel's notice, in the server's words, so
  it stays until the next action.

It runs under the page's Content-Security-Policy (inline scripts from the page itself) and
reads document text only through the DOM, never as markup it would insert.
"""

from __future__ import annotations

import json
from importlib import resources

SCRIPT = "page.js"


def page_script() -> str:
    """The script's text (``page.js``, shipped beside this module)."""
    return resources.files(__package__).joinpath(SCRIPT).read_text(encoding="utf-8")


def head(*, max_upload_mb: float | None = None) -> str:
    """The ``<head>`` markup that installs the page script (and tells it the upload limit)."""
    setup = ""
    if max_upload_mb is not None:
        limit = {"bytes": int(max_upload_mb * 1024 * 1024), "mb": f"{max_upload_mb:g}"}
        setup = f"<script>window.czqaUpload = {json.dumps(limit)};</script>"
    return f"{setup}<script>{page_script()}</script>"
