"""Evaluation: run question sets through ``QA``, compute metrics, write reports, gate on a baseline."""
