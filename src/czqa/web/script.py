"""The page's own script: what Gradio's chatbot does not do for a reader checking sources.

Gradio renders each chat message from its content string and uses that same string, verbatim,
as the message's ``aria-label`` and as what its copy button copies; the content here is HTML,
so a screen reader would hear tags and a paste would be markup. Gradio also scrolls the chat to
its end on every update, which on a phone hides where a long reply starts. Nothing in Gradio 6's
Chatbot changes these, so this script, installed in the page head by :mod:`czqa.web.app`, does:

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

It runs under the page's Content-Security-Policy (inline scripts from the page itself) and
reads document text only through the DOM, never as markup it would insert.
"""

from __future__ import annotations

PAGE_SCRIPT = r"""
(() => {
  "use strict";
  if (window.czqaPage) return;
  window.czqaPage = true;
  const CHAT = "#czqa-chat";
  const FRAGMENT = '<div class="czqa-';

  function scroller(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  }

  // Bring el's top to the top of the box it scrolls in (the chat, the Sources panel), then move
  // the window only if that top is still off screen: the page does not jump when it need not.
  function reveal(el) {
    const box = scroller(el);
    if (box) box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    const top = el.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 96) window.scrollBy(0, top - 12);
  }

  function showSource(id) {
    const target = document.getElementById(id);
    if (!target) return false;
    for (let d = target.parentElement; d; d = d.parentElement) if (d.tagName === "DETAILS") d.open = true;
    document.querySelectorAll(".czqa-target").forEach((el) => el.classList.remove("czqa-target"));
    void target.offsetWidth;  // restart the highlight's animation when the same entry is chosen again
    target.classList.add("czqa-target");
    reveal(target);
    target.focus({ preventScroll: true });
    return true;
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.czqa-cite");
    if (!link) return;
    const id = decodeURIComponent((link.getAttribute("href") || "").slice(1));
    if (showSource(id)) event.preventDefault();
  });

  // --- the newest reply's first line stays in view ---------------------------------------
  let shown = "";

  function showNewestReply() {
    const chat = document.querySelector(CHAT);
    const replies = chat ? chat.querySelectorAll(".czqa-reply") : [];
    const newest = replies[replies.length - 1];
    if (!newest) { shown = ""; return; }
    const state = replies.length + " " + newest.className;
    if (state === shown) return;
    shown = state;
    reveal(newest.closest(".message-row") || newest);
  }

  // --- what the clipboard and screen readers get --------------------------------------------
  function textOf(markup) {
    const doc = new DOMParser().parseFromString(markup, "text/html");
    doc.querySelectorAll(".czqa-copy").forEach((el) => el.remove());
    doc.querySelectorAll("p, div, li, footer, blockquote").forEach((el) => el.append(" "));
    return (doc.body.textContent || "").replace(/\s+/g, " ").trim();
  }

  function markdownOf(markup) {
    const copy = new DOMParser().parseFromString(markup, "text/html").querySelector(".czqa-copy");
    return copy ? copy.textContent : textOf(markup);
  }

  function forClipboard(text) {
    if (typeof text !== "string" || !text.includes(FRAGMENT)) return text;
    return text.split("\n").map((line) => (line.startsWith(FRAGMENT) ? markdownOf(line) : line)).join("\n");
  }

  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(forClipboard(text));
  }
  // Gradio's fallback when the Clipboard API is missing (plain http on another host): a textarea
  // holding the content is selected and copied.
  document.addEventListener("copy", (event) => {
    const el = event.target;
    if (el && el.tagName === "TEXTAREA" && el.value.startsWith(FRAGMENT)) {
      event.clipboardData.setData("text/plain", forClipboard(el.value));
      event.preventDefault();
    }
  }, true);

  const LABEL = /^(user|bot|assistant)'s message: ([\s\S]*)$/;

  function plainLabels() {
    document.querySelectorAll(CHAT + " [aria-label]").forEach((el) => {
      const label = el.getAttribute("aria-label");
      if (!label.includes(FRAGMENT)) return;
      const match = LABEL.exec(label);
      const who = match ? (match[1] === "user" ? "Your question: " : "Reply: ") : "";
      const plain = who + textOf(match ? match[2] : label);
      if (plain !== label) el.setAttribute("aria-label", plain);
    });
  }

  let pending = false;
  function update() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; plainLabels(); showNewestReply(); });
  }

  function start() {
    new MutationObserver(update).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["aria-label", "class"],
    });
    update();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
"""


def head() -> str:
    """The ``<head>`` markup that installs :data:`PAGE_SCRIPT` on the chat page."""
    return f"<script>{PAGE_SCRIPT}</script>"
