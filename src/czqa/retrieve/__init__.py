"""Retrieve: dense and lexical rankings of passages for a question, fused; entity aliases."""
