"""What the page's events accept, read from the Gradio app: for the request check in
:mod:`czqa.web.payloads`, which refuses a malformed event before Gradio's queue runs it.

Gradio validates an event's values only inside its queue, and prints a full traceback for each
one it rejects (a pasted chat history that is not a list, a mode that is not a choice): anyone
who can reach the page could fill the server's log. Here each value is checked against its
component the way Gradio would (its data model, its choices, its type) before it is queued.
"""

from __future__ import annotations

import gradio as gr
from pydantic import ValidationError


class EventInputs:
    """The inputs of ``blocks``' events, by ``fn_index`` (the page's queue) or API name."""

    def __init__(self, blocks: gr.Blocks) -> None:
        self.blocks = blocks
        self._updated: set[int] | None = None

    def updated(self, component) -> bool:
        """Whether some event outputs to ``component``: its choices may then differ per session
        (the remove picker lists the folder as it is now), so the build-time list says nothing."""
        if self._updated is None:
            self._updated = {id(c) for f in self.blocks.fns.values() for c in f.outputs}
        return id(component) in self._updated

    def _inputs(self, *, fn_index: int | None = None, api_name: str | None = None) -> list | None:
        """The components whose values a request carries: all inputs on the queue route, all but
        State on the API routes (the API never carries State). None for an unknown event."""
        if api_name is not None:  # the page's own events (api_name=False) are private: not on the API routes
            fn = next((f for f in self.blocks.fns.values()
                       if f.api_name == api_name and getattr(f, "api_visibility", "public") != "private"), None)
            return None if fn is None else [i for i in fn.inputs if not isinstance(i, gr.State)]
        fn = self.blocks.fns.get(fn_index)
        return None if fn is None else list(fn.inputs)

    def waiting(self, session_hash: str) -> bool:
        """Whether the queue holds events for ``session_hash`` (what its stream route requires)."""
        queue = getattr(self.blocks, "_queue", None)
        return queue is None or session_hash in getattr(queue, "pending_messages_per_session", {session_hash: None})

    def count(self, *, fn_index: int | None = None, api_name: str | None = None) -> int | None:
        inputs = self._inputs(fn_index=fn_index, api_name=api_name)
        return None if inputs is None else len(inputs)

    def problem(self, values: list, *, fn_index: int | None = None, api_name: str | None = None) -> str | None:
        """Why ``values`` cannot be this event's inputs (one line, no value echoed), or None."""
        inputs = self._inputs(fn_index=fn_index, api_name=api_name)
        if inputs is None or len(inputs) != len(values):
            return None  # unknown events and arity are answered by the caller
        for n, (component, value) in enumerate(zip(inputs, values), 1):
            why = value_problem(component, value, fixed_choices=not self.updated(component))
            if why:
                return f"Input {n} ({type(component).__name__}) is not valid: {why}."
        return None


def value_problem(component, value, *, fixed_choices: bool = True) -> str | None:
    """Why ``value`` is not one ``component`` accepts, or None (None itself is always accepted:
    the page sends it for an empty field, except to a Dataset, whose value is the example clicked).

    A choice is checked against the component's choices only when they are ``fixed_choices``
    (no event updates them); otherwise only its type is, and the handler checks the value (as
    Gradio does, against the session's updated component)."""
    if isinstance(component, gr.Dataset):
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(component.samples)
        return None if ok else "not the number of one of its examples"
    if value is None or isinstance(component, gr.State):
        return None
    if isinstance(component, gr.Textbox):
        return None if isinstance(value, str) else "expected text"
    if isinstance(component, (gr.Dropdown, gr.Radio)):
        allowed = {choice[1] if isinstance(choice, (tuple, list)) else choice for choice in component.choices}
        multiple = getattr(component, "multiselect", False) and isinstance(value, list)
        chosen = value if multiple else [value]
        ok = all(isinstance(v, (str, int, float)) and (v in allowed or not fixed_choices) for v in chosen)
        return None if ok or getattr(component, "allow_custom_value", False) else "not one of its choices"
    model = getattr(component, "data_model", None)
    if model is not None:
        try:
            model.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            return f"{first['msg'].lower()} at {'/'.join(map(str, first['loc'])) or 'top level'}"
    return None
