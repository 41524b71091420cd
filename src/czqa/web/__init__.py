"""The chat page: :mod:`czqa.web.chat` holds the conversation logic, :mod:`czqa.web.app` the Gradio layer.

Nothing here is imported by ``import czqa`` or by the CLI until ``czqa serve`` runs, because
Gradio takes seconds to import.
"""
