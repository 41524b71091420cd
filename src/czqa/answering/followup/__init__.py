"""Follow-up questions: what "he", "it" or "the fine" refers to, and the conversation that keeps it.

:mod:`.resolver` rewrites a follow-up from the earlier turns (with :mod:`.pronouns`,
:mod:`.referents`, :mod:`.anaphora` and :mod:`.frames`); :mod:`.choice` decides whether the
rewrite or the question as typed is searched; :mod:`.conversation` is the one conversation
service the page, ``czqa chat`` and ``czqa eval conversations`` run.
"""
