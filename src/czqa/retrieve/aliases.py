"""The documents' other names for an entity, as the retriever and the answerers use them.

The table is built with the index (:mod:`czqa.index.aliases`, where the rules are described)
and loaded with it (``IndexData.aliases``); this module is where the query side imports it.
"""

from czqa.index.aliases import AliasTable

__all__ = ["AliasTable"]
