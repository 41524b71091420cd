// The chat page's own script; what it does and why: czqa/web/script.py's docstring.
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

  // --- a file over the upload limit is told where upload notices stay ---------------------
  // Gradio refuses it in the browser with a toast that fades, and never sends it, so the panel
  // would keep the previous upload's notice. The same words the server uses for a refusal are
  // written into the panel instead (as text nodes: a file name is never read as markup).
  const LIMIT = window.czqaUpload || null;  // {bytes, mb}, set by the page head

  function tooLarge(files) {
    if (!LIMIT || !files) return;
    const big = Array.from(files).filter((f) => f.size > LIMIT.bytes);
    const status = document.querySelector("#czqa-manage-status");
    if (!big.length || !status) return;
    const list = document.createElement("ul");
    list.className = "czqa-manage-notice";
    list.setAttribute("role", "status");
    for (const f of big) {
      const item = document.createElement("li");
      item.className = "czqa-manage-refused";
      // the server's "%.1f MB", or KB where that would read "0.0 MB"
      const size = f.size >= 104858 ? `${(f.size / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(f.size / 1024)} KB`;
      item.textContent = `Not added: ${f.name}: ${size}, larger than the ${LIMIT.mb} MB limit (CZQA_WEB__MAX_UPLOAD_MB).`;
      list.append(item);
    }
    const box = status.querySelector(".prose") || status;
    box.replaceChildren(list);
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input && input.type === "file" && input.closest("#czqa-upload")) tooLarge(input.files);
  }, true);
  document.addEventListener("drop", (event) => {
    if (event.target.closest && event.target.closest("#czqa-upload")) tooLarge(event.dataTransfer && event.dataTransfer.files);
  }, true);

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
