"""Answering: turn retrieved passages into an Answer (extractive rules, the trained reader, a local LLM)."""
