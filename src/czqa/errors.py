"""Errors czqa raises on purpose, each with a message a person can act on.

The CLI maps each class to its own exit code, so scripts can tell "your input is wrong" from
"the seeds folder is empty" from "the index on disk is damaged" without parsing text.
"""

from __future__ import annotations


class CzqaError(Exception):
    """Base class: something the user can fix; the message says what."""

    exit_code = 1


class UsageError(CzqaError):
    """An option or setting has a value czqa cannot use (an unknown answer mode, a bad top_k, a
    malformed environment variable)."""

    exit_code = 2


class SettingsError(UsageError, ValueError):
    """An environment variable or setting has a value of the wrong type or out of range."""


class InvalidQuestion(UsageError):
    """The question is empty, whitespace only, or too long to be a question."""

    exit_code = 2


class SeedsError(CzqaError):
    """The seeds folder is missing, or holds no readable text files."""

    exit_code = 3


class IndexUnusable(CzqaError):
    """The index on disk is missing, damaged or built for other settings, and was not rebuilt."""

    exit_code = 4


class IndexLocationError(IndexUnusable):
    """The index folder cannot hold an index: ``--out`` names a file, its ``manifest.json`` is a
    folder, or it cannot be created or written. Raised before any embedding work starts."""

    exit_code = 4


class BuildUnavailable(CzqaError):
    """Building the index needs sentence-transformers (and torch), which are not importable."""

    exit_code = 5


class EvalSetError(CzqaError):
    """The evaluation question file is missing or malformed, or the chosen split is empty."""

    exit_code = 2


class LLMUnavailable(CzqaError):
    """The ``llm`` answer mode was asked for, but no model or server is set up (or reachable)."""

    exit_code = 6
