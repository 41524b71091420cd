from czqa.retrieve.aliases import AliasTable


def test_abbreviation_definitions_and_swapped_names_are_one_entity():
    table = AliasTable.from_texts(
        [
            "Changpeng Zhao (CZ) posted on X. The Securities and Exchange Commission (SEC) sued.",
            "Back then Zhao Changpeng was a technical director.",
        ]
    )
    assert table.expand("How old was CZ?") == "How old was Zhao Changpeng?"
    assert table.expand("Changpeng Zhao spoke") == "Zhao Changpeng spoke"
    assert table.expand("Who did the SEC sue?") == "Who did the Securities and Exchange Commission sue?"
    assert table.variants("Who got CZ into crypto?") == ["CZ", "Changpeng Zhao", "Zhao Changpeng"]


def test_parentheses_that_do_not_abbreviate_the_words_before_them_are_ignored():
    table = AliasTable.from_texts(["He met Richard Teng (CEO) and Justin Sun (WLFI) on Monday (UTC)."])
    assert table.canonical == {}


def test_aliases_match_whole_words_only_and_keep_case():
    table = AliasTable.from_texts(["Changpeng Zhao (CZ) wrote."])
    assert table.expand("CZK and cz are not CZ.") == "CZK and cz are not Changpeng Zhao."


def test_no_aliases_leaves_text_alone():
    assert AliasTable().expand("What did CZ say?") == "What did CZ say?"


def test_an_abbreviation_means_what_its_own_document_says():
    # Two people who share a surname, and so their initials, in two documents: never one entity.
    table = AliasTable.from_documents(
        {
            "john.txt": "John Smith (JS) founded the harbour trust. JS retired in 2010.",
            "jane.txt": "Jane Smith (JS) runs the ferry line. JS bought three boats.",
            "other.txt": "A letter from JS arrived on Monday.",
        }
    )
    assert table.expand("JS retired", "john.txt") == "John Smith retired"
    assert table.expand("JS bought boats", "jane.txt") == "Jane Smith bought boats"
    assert table.expand("Jane Smith spoke", "jane.txt") == "Jane Smith spoke"
    assert table.expand("Jane Smith met John Smith", "john.txt") == "Jane Smith met John Smith"
    # Where "JS" is not defined (a question, another file) it could be either: it stays as written.
    assert table.expand("When did JS retire?") == "When did JS retire?"
    assert table.expand("A letter from JS", "other.txt") == "A letter from JS"
    assert table.variants("When did JS retire?") == ["JS", "Jane Smith", "John Smith"]
    assert table.variants("Did John Smith retire?") == ["JS", "John Smith"]
    assert "JS" not in table.canonical


def test_an_abbreviation_defined_once_is_expanded_everywhere():
    table = AliasTable.from_documents({"a.txt": "The Securities and Exchange Commission (SEC) sued.", "b.txt": "The SEC won."})
    assert table.expand("The SEC won.", "b.txt") == "The Securities and Exchange Commission won."
    assert table.expand("Who did the SEC sue?") == "Who did the Securities and Exchange Commission sue?"


def test_the_table_survives_its_json_form():
    import json

    table = AliasTable.from_documents({"john.txt": "John Smith (JS) and Ming Yao.", "jane.txt": "Jane Smith (JS), Yao Ming."})
    again = AliasTable.from_json(json.loads(json.dumps(table.to_json())))
    assert again == table
    for text, source in [("JS met Ming Yao", "john.txt"), ("JS met Ming Yao", "jane.txt"), ("JS met Yao Ming", None)]:
        assert again.expand(text, source) == table.expand(text, source)


def test_the_longest_alias_at_a_place_wins_and_the_canonical_form_is_left_alone():
    table = AliasTable.from_texts(["Hong Kong (HK) and the Hong Kong Police Force (HKPF) met."])
    assert table.expand("HKPF and HK") == "Hong Kong Police Force and Hong Kong"
    assert table.expand("Hong Kong Police Force") == "Hong Kong Police Force"
