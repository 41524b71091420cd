"""Ingest: read a folder of documents, strip boilerplate, split sentences, pack chunks.

Everything here works on character offsets into the original text, never on a rewritten copy.
"""
