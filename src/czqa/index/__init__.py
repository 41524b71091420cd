"""Index: build, store and load the searchable index (vectors, chunks, sentences, manifest)."""
