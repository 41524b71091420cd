"""Adding documents from the chat page and removing them: the checks, the writes, the refresh."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from czqa.qa import QA
from czqa.settings import Settings
from czqa.web.chat import ChatSession
from czqa.web.uploads import REMOVED_FOLDER, add_files, name_problem, remove_document, remove_file, save_uploads
from doubles import HashingEncoder

FESTIVAL = "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower."
LIGHTHOUSE = (
    "# Varnholm Harbour Lighthouse History\n\n"
    "The Varnholm lighthouse was first lit in 1902. Its first keeper was Ilse Brandt, who kept the lamp for thirty years.\n"
)
MB = 1024 * 1024


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "festival.txt").write_text(FESTIVAL)
    return docs


def upload(tmp_path, name: str, data: bytes | str) -> tuple[str, Path]:
    """A file as Gradio hands it over: a copy in its cache, with the name the visitor gave."""
    cache = tmp_path / "gradio-cache" / str(len(list((tmp_path).glob("gradio-cache/*"))))
    cache.mkdir(parents=True)
    path = cache / "upload.bin"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return name, path


def reasons(changes) -> dict[str, str]:
    return {r.name: r.reason for r in changes.refused}


@pytest.mark.parametrize(
    "name, why",
    [
        ("../x.txt", "folder part"),
        ("/etc/passwd", "folder part"),
        ("a/b.txt", "folder part"),
        ("a\\b.txt", "folder part"),
        ("..", "folder part"),
        (".hidden.txt", "hidden"),
        ("czqa.toml", "page settings"),
        ("CZQA.TOML", "page settings"),
        ("notes.pdf", "not a text file type: .pdf"),
        ("README", "(no suffix)"),
        ("bad\nname.txt", "control characters"),
        ("", "no name"),
        ("x" * 300 + ".txt", "longer than"),
    ],
)
def test_names_that_could_escape_or_are_not_documents_are_refused(name, why):
    assert why in name_problem(name)


@pytest.mark.parametrize("name", ["notes.txt", "Report 2024.md", "page.HTML", "résumé.markdown", "a.htm"])
def test_plain_document_names_pass(name):
    assert name_problem(name) is None


def test_escaping_names_write_nothing_anywhere(tmp_path, folder):
    names = ["../x.txt", "/etc/passwd", "a/b.txt", ".hidden.txt", "czqa.toml"]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    changes = save_uploads([upload(tmp_path, n, "A fact about harbours.") for n in names], folder=folder, max_bytes=MB)
    assert not changes.added and set(reasons(changes)) == set(names)
    after = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "gradio-cache" not in p.parts}
    assert after == {p for p in before if "gradio-cache" not in p.parts}
    assert not (tmp_path / "x.txt").exists() and sorted(os.listdir(folder)) == ["festival.txt"]


def test_contents_are_checked_with_reasons(tmp_path, folder):
    files = [
        upload(tmp_path, "big.txt", b"a" * (MB + 1)),
        upload(tmp_path, "latin1.txt", "café".encode("latin-1")),
        upload(tmp_path, "binary.txt", b"PK\x03\x04\x00\x00"),
        upload(tmp_path, "empty.md", b"  \n"),
        upload(tmp_path, "markup.html", b"<html><body><img src='x.png'></body></html>"),
        upload(tmp_path, "good.md", "A fact about harbours."),
    ]
    changes = save_uploads(files, folder=folder, max_bytes=MB)
    why = reasons(changes)
    assert "larger than the 1 MB limit" in why["big.txt"] and "CZQA_WEB__MAX_UPLOAD_MB" in why["big.txt"]
    assert why["latin1.txt"] == why["binary.txt"] == "not UTF-8 text"
    assert why["empty.md"] == "the file is empty"
    assert "no visible text" in why["markup.html"]
    assert changes.added == ["good.md"] and (folder / "good.md").read_text() == "A fact about harbours."
    assert "Added good.md." in changes.message() and "Not added: big.txt: " in changes.message()


def test_an_existing_file_is_never_replaced(tmp_path, folder):
    same = save_uploads([upload(tmp_path, "festival.txt", FESTIVAL)], folder=folder, max_bytes=MB)
    assert same.unchanged == ["festival.txt"] and not same.changed and not same.refused
    other = save_uploads([upload(tmp_path, "festival.txt", "Something else entirely.")], folder=folder, max_bytes=MB)
    assert "already in the folder" in reasons(other)["festival.txt"]
    twice = save_uploads([upload(tmp_path, "n.txt", "One fact."), upload(tmp_path, "N.txt", "Two facts.")], folder=folder, max_bytes=MB)
    assert twice.added == ["n.txt"] and "already in this upload" in reasons(twice)["N.txt"]
    assert (folder / "festival.txt").read_text() == FESTIVAL


def test_files_are_written_atomically_and_leave_no_temporary_file(tmp_path, folder, monkeypatch):
    """The file appears under its name in one step (a link of a complete temporary file);
    a write that fails leaves neither the file nor the temporary behind."""
    seen_at_link = []
    real_link = os.link

    def spy(src, dst):
        seen_at_link.append((Path(src).name, Path(src).read_text(), os.path.exists(dst)))
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", spy)
    changes = save_uploads([upload(tmp_path, "harbour.txt", "A fact about harbours.")], folder=folder, max_bytes=MB)
    assert changes.added == ["harbour.txt"]
    [(tmp_name, content, existed)] = seen_at_link
    assert tmp_name.startswith(".czqa-upload-") and content == "A fact about harbours." and not existed
    assert sorted(os.listdir(folder)) == ["festival.txt", "harbour.txt"]

    def broken(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    failed = save_uploads([upload(tmp_path, "full.txt", "Another fact.")], folder=folder, max_bytes=MB)
    assert "could not be written" in reasons(failed)["full.txt"] and "No space left" in reasons(failed)["full.txt"]
    assert sorted(os.listdir(folder)) == ["festival.txt", "harbour.txt"]


def test_remove_moves_the_file_aside_and_refuses_what_it_must(folder):
    (folder / "sub").mkdir()
    (folder / "sub" / "b.md").write_text("Bee facts.")
    indexed = ["festival.txt", "sub/b.md"]
    assert "not an indexed document" in reasons(remove_document("../x.txt", folder=folder, indexed=indexed))["../x.txt"]
    done = remove_document("sub/b.md", folder=folder, indexed=indexed)
    assert done.removed == ["sub/b.md"] and not (folder / "sub" / "b.md").exists()
    assert (folder / REMOVED_FOLDER / "sub" / "b.md").read_text() == "Bee facts."
    last = remove_document("festival.txt", folder=folder, indexed=["festival.txt"])
    assert "only document" in reasons(last)["festival.txt"] and (folder / "festival.txt").exists()
    assert "Not removed: festival.txt" in last.message()


# --- end to end, through the ChatSession the page uses ------------------------------------------


@pytest.fixture
def session(tmp_path, folder) -> ChatSession:
    enc = HashingEncoder()
    return ChatSession.start(QA(Settings(seeds_dir=folder, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc))


def test_an_uploaded_file_is_answered_from_and_shown_in_sources(tmp_path, session):
    question = "Who was the first keeper of the Varnholm lighthouse?"
    files = [upload(tmp_path, "lighthouse.md", LIGHTHOUSE), upload(tmp_path, "notes.pdf", "x")]
    gradio_paths = []
    for name, path in files:  # Gradio keeps the visitor's file name as the copy's name
        named = path.with_name(Path(name).name)
        path.rename(named)
        gradio_paths.append(named)
    steps = list(add_files(session, gradio_paths))
    busy, done = steps
    assert busy.busy and "Adding 1 file(s)… indexing" in busy.documents
    assert not done.busy and "2 indexed" in done.documents
    assert not done.ok and "Added lighthouse.md. Not added: notes.pdf: not a text file type: .pdf" in done.message
    assert (session.qa.settings.seeds_dir / "lighthouse.md").read_text() == LIGHTHOUSE

    last = list(session.respond(question, [], [], "extractive"))[-1]
    assert last.answer is not None and not last.answer.abstained
    assert last.answer.citations[0].source == "lighthouse.md" and "Ilse Brandt" in last.answer.citations[0].quote
    assert 'class="czqa-doc-title">Varnholm Harbour Lighthouse History<' in last.sources_html
    assert '<span class="czqa-file">lighthouse.md</span>' in last.sources_html

    removed = remove_file(session, "lighthouse.md")
    assert removed.ok and "Removed lighthouse.md" in removed.message and "1 indexed" in removed.documents
    after = list(session.respond(question, [], [], "extractive"))[-1]
    assert all(p.source == "festival.txt" for p in after.answer.passages)
    assert "lighthouse.md" not in session.sources


def test_refused_uploads_are_a_warning_and_do_not_refresh(tmp_path, session):
    before = session.qa._loaded
    [shown] = add_files(session, [upload(tmp_path, "notes.pdf", "x")[1].rename(tmp_path / "notes.pdf")])
    assert not shown.ok and "Not added: notes.pdf: not a text file type: .pdf" in shown.message
    assert "not a text file type: .pdf" in shown.status and session.qa._loaded is before


def test_notices_escape_file_names(tmp_path, session):
    evil = tmp_path / "<img src=x onerror=alert(1)>.pdf"
    evil.write_text("x")
    [shown] = add_files(session, [evil])
    assert "<img" not in shown.status and "&lt;img src=x onerror=alert(1)&gt;.pdf" in shown.status


def test_the_header_and_the_report_follow_the_folder(tmp_path, session):
    from czqa.web.app import header

    assert "the 1 document in docs" in session.folder.description
    named = upload(tmp_path, "lighthouse.md", LIGHTHOUSE)[1].rename(tmp_path / "lighthouse.md")
    list(add_files(session, [named]))
    assert "the 2 documents in docs" in session.folder.description
    assert "Varnholm Harbour Lighthouse History" in header(session.folder)
    removed = remove_file(session, "lighthouse.md")
    assert "the 1 document in docs" in session.folder.description
    assert "Varnholm" not in header(session.folder)
    # czqa's own folder of removed documents is not reported as a skipped "hidden folder"
    report = session.qa.data.ingest_report
    assert not any(REMOVED_FOLDER in i.path for i in report.skipped + report.refused), removed.documents
    assert REMOVED_FOLDER not in removed.documents


def test_a_folder_without_examples_does_not_offer_them(session):
    """The empty chat used to say "…or pick an example" on every folder, with none to pick."""
    from czqa.web.app import build_app

    def placeholder(app):
        return next(b.placeholder for b in app.blocks.values() if getattr(b, "elem_id", None) == "czqa-chat")

    assert placeholder(build_app(session)) == "Ask a question below."
    assert "pick an example" in placeholder(build_app(session, examples=[("Who founded it?", None)]))
