"""Answer modes: the ``Answerer`` plug-in point (:mod:`.registry`) and the built-in modes.

``reader`` (:mod:`.reader`, czqa's trained reader, the default), ``extractive`` (:mod:`.extractive`,
rule-based sentence scoring) and ``llm`` (:mod:`.llm`, a local language model, verified against
quotes). The registry lists them in its ``BUILTIN`` table's order, whichever module is imported first.
"""
