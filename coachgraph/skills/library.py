"""The skill library: a folder of Agent Skills folders, plus state kept beside them.

Layout::

    <root>/<name>/SKILL.md                     current version of each skill (+ resources)
    <root>/.coachgraph/versions/<name>/<v>/    earlier (and removed) versions, whole folders
    <root>/.coachgraph/stats.sqlite            usage statistics
    <root>/.coachgraph/index/                  persisted hybrid retrieval index

Every write validates first, so a library only ever holds spec-valid skills. The index follows
every change incrementally (only a changed skill is re-embedded).
"""

from __future__ import annotations

import builtins
import functools
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from coachgraph.errors import SkillError, SkillNotFoundError, SkillValidationError
from coachgraph.retrieval import Hit, HybridRetriever
from coachgraph.skills.disclosure import render_available_skills, render_resource, render_skill
from coachgraph.skills.index import build_index, index_text, open_index
from coachgraph.skills.model import Skill, SkillKind
from coachgraph.skills.spec import check_name, parse_skill_md, read_skill, render_skill_md
from coachgraph.skills.stats import SkillStats

__all__ = ["SKILL_VECTORS", "STATE_DIR", "SkillLibrary"]

logger = logging.getLogger(__name__)

STATE_DIR = ".coachgraph"


SKILL_VECTORS: dict[str, object] = {"factory": "SQfp16"}
"""The default faiss index of skill vectors: exact search over float16 copies, which halves the
memory a search reads (it is bound by memory, not arithmetic) and moves no score by more than
about 1e-3."""


class SkillLibrary:
    """Add, get, revise, remove and search skills stored under `root`.

    Args:
        root: the library folder (created by the first write; reading creates nothing).
        embeddings: enables dense retrieval next to BM25; ``None`` keeps BM25 only.
        index_type: vector index type for dense retrieval (a name from `INDEXES`).
        index_options: its options (default `SKILL_VECTORS`), e.g. ``{"factory": "Flat"}`` for faiss.
    """

    def __init__(self, root: Path, embeddings: Embeddings | None = None, index_type: str = "faiss", index_options: dict[str, object] | None = None) -> None:
        self.root = Path(root)
        self.state = self.root / STATE_DIR
        self.embeddings = embeddings
        self.index_type = index_type
        self.index_options = index_options if index_options is not None else dict(SKILL_VECTORS)
        self._retriever: HybridRetriever | None = None

    @functools.cached_property
    def stats(self) -> SkillStats:
        """Usage statistics, opened (and created) on first use: reading skills writes nothing."""
        return SkillStats(self.state / "stats.sqlite")

    @property
    def retriever(self) -> HybridRetriever:
        """The hybrid index, opened and brought up to date with the folders on first use."""
        if self._retriever is None:
            self._retriever = open_index(self.state / "index", self.embeddings, self.index_type, self.index_options)
            self._sync(self._retriever)
        return self._retriever

    # ---- storage -------------------------------------------------------------------------

    def folder(self, name: str) -> Path:
        """The folder of skill `name`; reject names that are invalid or would leave the root."""
        problems = check_name(name, str(self.root / name))
        if problems:
            raise problems[0]
        path = self.root / name
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise SkillValidationError("name escapes the library folder", source=str(path), field="name")
        return path

    def names(self) -> list[str]:
        """Names of the current skills, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "SKILL.md").is_file())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not check_name(name, "") and (self.root / name / "SKILL.md").is_file()

    def __len__(self) -> int:
        return len(self.names())

    def get(self, name: str, version: int | None = None) -> Skill:
        """The current skill `name`, or an earlier `version` of it."""
        if version is None or (name in self and read_skill(self.folder(name)).version == version):
            if name not in self:
                raise SkillNotFoundError(f"no skill named {name!r} in {self.root}")
            return read_skill(self.folder(name))
        archived = self._archive_dir(name) / str(version)
        if not archived.is_dir():
            raise SkillNotFoundError(f"skill {name!r} has no version {version} (versions: {self.versions(name)})")
        return parse_skill_md((archived / "SKILL.md").read_text(encoding="utf-8"), str(archived / "SKILL.md"))

    def versions(self, name: str) -> list[int]:
        """Every version of `name` kept (archived ones and the current one), ascending."""
        archive = self._archive_dir(name)
        kept = {int(p.name) for p in archive.iterdir() if p.name.isdigit()} if archive.is_dir() else set()
        if name in self:
            kept.add(read_skill(self.folder(name)).version)
        return sorted(kept)

    def list(self, kind: SkillKind | str | None = None) -> builtins.list[Skill]:
        """Current skills, sorted by name, optionally of one kind."""
        skills = [read_skill(self.root / n) for n in self.names()]
        return [s for s in skills if kind is None or s.kind == SkillKind(kind)]

    def add(self, skill: Skill, overwrite: bool = False) -> Skill:
        """Validate and store a new skill (version 1 unless it says otherwise)."""
        return self.add_many([skill], overwrite)[0]

    def add_many(self, skills: Iterable[Skill], overwrite: bool = False) -> builtins.list[Skill]:
        """`add` for many skills, updating and saving the index once."""
        stored = []
        for skill in skills:
            if skill.name in self and not overwrite:
                raise SkillError(f"skill {skill.name!r} already exists; use revise for a new version")
            stored.append(self._write(skill if skill.meta("version") else skill.with_meta(version="1")))
        self._index(stored)
        return stored

    def revise(self, skill: Skill) -> Skill:
        """Store `skill` as the next version of the skill of that name; the old one is kept."""
        current = self.get(skill.name)
        self._archive(current)
        revised = self._write(skill.with_meta(version=str(current.version + 1)))
        self._index([revised])
        logger.info("revised skill %s to version %d", revised.name, revised.version)
        return revised

    def remove(self, name: str) -> Skill:
        """Remove skill `name` from the library; its versions stay listable and readable."""
        current = self.get(name)
        self._archive(current)
        shutil.rmtree(self.folder(name))
        if self._retriever is not None:
            self._retriever.remove([name])
            self._retriever.save(self.state / "index")
        return current

    def _write(self, skill: Skill) -> Skill:
        folder = self.folder(skill.name)
        text = render_skill_md(skill)
        parsed = parse_skill_md(text, str(folder / "SKILL.md"), folder.name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SKILL.md").write_text(text, encoding="utf-8")
        return parsed

    def _archive_dir(self, name: str) -> Path:
        return self.state / "versions" / self.folder(name).name

    def _archive(self, skill: Skill) -> None:
        target = self._archive_dir(skill.name) / str(skill.version)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.folder(skill.name), target, symlinks=True)

    # ---- retrieval -----------------------------------------------------------------------

    def _index(self, skills: list[Skill]) -> None:
        if self._retriever is None:
            return
        self.retriever.add([s.name for s in skills], [index_text(s) for s in skills])
        self.retriever.save(self.state / "index")

    def _sync(self, retriever: HybridRetriever) -> None:
        current = self.list()
        names = {s.name for s in current}
        retriever.remove([i for i in retriever.ids() if i not in names])
        self._index(current)

    def search(self, query: str, k: int = 5, kind: SkillKind | str | None = None) -> builtins.list[Hit]:
        """Hybrid search over names and descriptions; optionally only skills of one kind."""
        if kind is None:
            return self.retriever.search(query, k)
        wanted = {s.name for s in self.list(kind)}
        return [h for h in self.retriever.search(query, max(k, len(self))) if h.id in wanted][:k]

    def rebuild_index(self) -> HybridRetriever:
        """Drop the persisted index and index every skill again."""
        shutil.rmtree(self.state / "index", ignore_errors=True)
        self._retriever = build_index(self.embeddings, self.index_type, self.index_options)
        self._sync(self._retriever)
        return self._retriever

    # ---- disclosure ----------------------------------------------------------------------

    def render_available(self, names: Iterable[str] | None = None) -> str:
        """Level 1 for the named skills (all by default)."""
        skills = [self.get(n) for n in (names if names is not None else self.names())]
        return render_available_skills(skills, {s.name: str(self.folder(s.name) / "SKILL.md") for s in skills})

    def render(self, name: str) -> str:
        """Level 2: the body of skill `name`, delimited."""
        return render_skill(self.get(name))

    def render_resource(self, name: str, relative: str) -> str:
        """Level 3: one bundled file of skill `name`, delimited."""
        return render_resource(self.get(name), self.folder(name), relative)
