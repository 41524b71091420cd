"""Browser fixtures for the chat page's tests (defined in chat_browser.py)."""

from chat_browser import browser, open_page  # noqa: F401
