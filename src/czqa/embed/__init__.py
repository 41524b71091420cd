"""Embed: turn text into unit vectors (the ``Encoder`` protocol and its MiniLM implementations)."""
