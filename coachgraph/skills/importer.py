"""Import skills from Agent Skills folders (`.claude/skills/`, `.agents/skills/`) and ship ours.

Each skill folder is validated, then copied as files: links are skipped, sizes are bounded, and
nothing in it is executed.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from coachgraph.errors import SkillError, SkillValidationError
from coachgraph.skills.library import SkillLibrary
from coachgraph.skills.spec import SKILL_FILES, read_skill

__all__ = ["DISCOVERY_DIRS", "ImportReport", "discover", "import_skills", "install_starter", "starter_dir"]

logger = logging.getLogger(__name__)

DISCOVERY_DIRS = (".claude/skills", ".agents/skills")
MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 200


@dataclass
class ImportReport:
    """Names imported and the errors of folders that were not."""

    imported: list[str] = field(default_factory=list)
    rejected: list[SkillError] = field(default_factory=list)


def discover(root: Path) -> list[Path]:
    """Skill folders under `root`: its discovery folders, or `root` itself as a skills folder."""
    bases = [root / d for d in DISCOVERY_DIRS if (root / d).is_dir()] or [root]
    return sorted(p for base in bases for p in base.iterdir() if p.is_dir() and any((p / f).is_file() for f in SKILL_FILES))


def _resource_files(source: Path) -> list[Path]:
    files = [p for p in source.rglob("*") if p.is_file() and not p.is_symlink() and p.name not in SKILL_FILES]
    if len(files) > MAX_FILES:
        raise SkillValidationError(f"{len(files)} files; the limit is {MAX_FILES}", source=str(source))
    for path in files:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SkillValidationError(f"larger than {MAX_FILE_BYTES} bytes", source=str(path))
    return files


def _copy(source: Path, files: list[Path], target: Path) -> None:
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def import_skills(library: SkillLibrary, root: Path, overwrite: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Validate and copy every skill found under `root` into `library`.

    `progress`, when given, is called with ``(folders done, folders found)`` after each folder.
    """
    report = ImportReport()
    folders = discover(root)
    for done, folder in enumerate(folders, 1):
        if progress is not None:
            progress(done - 1, len(folders))
        try:
            skill = read_skill(folder)
            files = _resource_files(folder)
            library.add(skill, overwrite=overwrite)
            _copy(folder, files, library.folder(skill.name))
        except SkillError as exc:
            report.rejected.append(exc)
            logger.info("skipped %s: %s", folder, exc)  # the report carries it to the caller
            continue
        report.imported.append(skill.name)
    if progress is not None:
        progress(len(folders), len(folders))
    return report


def starter_dir() -> Path:
    """The starter skills shipped with coachgraph (arithmetic, word problems, tutoring moves)."""
    return Path(str(resources.files("coachgraph.skills").joinpath("starter")))


def install_starter(library: SkillLibrary) -> ImportReport:
    """Import the starter skills that the library does not have yet."""
    missing = [p for p in discover(starter_dir()) if p.name not in library]
    report = ImportReport()
    for folder in missing:
        report.imported.append(library.add(read_skill(folder)).name)
    return report

