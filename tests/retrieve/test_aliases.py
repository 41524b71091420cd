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
