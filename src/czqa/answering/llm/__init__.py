"""The optional generative answer mode (``mode="llm"``): grounded generation, verified citations.

``prompting`` renders the versioned templates in ``prompts/`` with numbered, delimited sources;
``backends`` streams text from llama.cpp in-process or an OpenAI-compatible server; ``verify``
ties each sentence of a reply to an exact quote of the original file; ``generative`` puts them
together and falls back to the extractive answer when a reply cannot be verified. Nothing here
imports ``llama_cpp`` until a model is actually loaded.
"""
