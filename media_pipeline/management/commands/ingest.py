"""ingest FOLDER --shoot ID [--user USERNAME]: import a camera card's clips as a shoot's footage.

Every media file under FOLDER (recursively) is checksummed while it is read, skipped
when the shoot already has the same bytes, probed (a file the pipeline would refuse
is refused here, with the reason), stored under a generated key and attached through
the workflow, which queues its preview. A summary lists what was imported, skipped
and refused.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils.translation import gettext as _

from crew import workflow
from crew.exceptions import KadrError
from crew.models import Shoot
from crew.uploads_hook import check_target, duplicate_in_shoot
from media_pipeline import probe, storage, uploads

MEDIA_SUFFIXES = {
    ".mp4", ".m4v", ".mov", ".mxf", ".mts", ".m2ts", ".ts", ".mkv", ".webm", ".avi",
    ".mpg", ".mpeg", ".3gp", ".wav", ".mp3", ".m4a", ".aac", ".flac",
}  # fmt: skip
BLOCK = 4 * 1024 * 1024


@dataclass
class Summary:
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


class Progress:
    """One line redrawn in place on a terminal; plain lines otherwise."""

    def __init__(self, out: Any, total: int, tty: bool) -> None:
        self.out, self.total, self.tty, self.done = out, max(total, 1), tty, 0
        self.label = ""

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        if self.tty:
            width = 30
            filled = int(width * self.done / self.total)
            percent = 100 * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            self.out.write(f"\r[{bar}] {percent:3d}% {self.label[:40]:<40}", ending="")
            self.out.flush()

    def start(self, label: str, index: int, count: int) -> None:
        self.label = f"{index}/{count} {label}"
        if not self.tty:
            self.out.write(f"{self.label}")
        self.advance(0)

    def finish(self) -> None:
        if self.tty:
            self.out.write("")


class Command(BaseCommand):
    help = "Import every media file under FOLDER as footage of a shoot (checksummed, deduplicated)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--shoot", type=int, required=True, help="the shoot's id")
        parser.add_argument(
            "--user",
            help="who imports (default: whoever scheduled the shoot); must be on its crew "
            "or the press head",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        if not folder.is_dir():
            raise CommandError(_("%(folder)s is not a folder.") % {"folder": folder})
        shoot = Shoot.objects.filter(pk=options["shoot"]).select_related("created_by").first()
        if shoot is None:
            raise CommandError(_("There is no shoot %(id)s.") % {"id": options["shoot"]})
        user = self._user(options.get("user"), shoot)
        try:
            check_target(user, "footage", {"shoot": shoot.pk})
        except (KadrError, Http404) as exc:
            raise CommandError(
                _("%(user)s may not add footage to this shoot: %(reason)s")
                % {"user": user.get_username(), "reason": exc}
            ) from exc

        files = sorted(p for p in folder.rglob("*") if p.is_file())
        media = [p for p in files if p.suffix.lower() in MEDIA_SUFFIXES and not _hidden(p, folder)]
        summary = Summary()
        summary.skipped += [
            (_name(p, folder), _("not a media file")) for p in files if p not in media
        ]
        progress = Progress(self.stdout, sum(p.stat().st_size for p in media), _is_tty(self.stdout))
        for index, path in enumerate(media, start=1):
            name = _name(path, folder)
            progress.start(name, index, len(media))
            self._ingest(path, name, shoot=shoot, user=user, summary=summary, progress=progress)
        progress.finish()
        self._report(summary)

    def _user(self, username: str | None, shoot: Shoot) -> Any:
        users = get_user_model().objects
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(_("There is no user %(name)s.") % {"name": username})
            return user
        if shoot.created_by is None:
            raise CommandError(_("Nobody scheduled this shoot; say who imports with --user."))
        return shoot.created_by

    def _ingest(
        self,
        path: Path,
        name: str,
        *,
        shoot: Shoot,
        user: Any,
        summary: Summary,
        progress: Progress,
    ) -> None:
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            while block := fh.read(BLOCK):
                digest.update(block)
                size += len(block)
                progress.advance(len(block))
        sha256 = digest.hexdigest()
        same = duplicate_in_shoot(shoot, sha256=sha256, size=size)
        if same is not None:
            summary.skipped.append(
                (name, _("already attached as “%(name)s”") % {"name": same.media.original_name})
            )
            return
        try:
            probe.probe(path)
        except probe.ProbeRefused as exc:
            summary.refused.append((name, str(exc)))
            return
        try:
            asset = uploads.create_asset_from_file(
                path, user=user, original_name=name, purpose="footage", sha256=sha256, process=False
            )
        except (uploads.UploadProblem, storage.StorageError) as exc:
            summary.refused.append((name, str(exc)))
            return
        try:
            workflow.attach_footage(shoot, by=user, asset=asset)
        except KadrError as exc:
            summary.refused.append((name, exc.message))
            return
        summary.imported.append(name)

    def _report(self, summary: Summary) -> None:
        write = self.stdout.write
        write(
            _("imported %(imported)s, skipped %(skipped)s, refused %(refused)s")
            % {
                "imported": len(summary.imported),
                "skipped": len(summary.skipped),
                "refused": len(summary.refused),
            }
        )
        for name in summary.imported:
            write("  " + _("imported: %(name)s") % {"name": name})
        for name, reason in summary.skipped:
            write("  " + _("skipped: %(name)s — %(reason)s") % {"name": name, "reason": reason})
        for name, reason in summary.refused:
            write(
                self.style.WARNING(
                    "  " + _("refused: %(name)s — %(reason)s") % {"name": name, "reason": reason}
                )
            )


def _name(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))


def _hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def _is_tty(out: Any) -> bool:
    stream = getattr(out, "_out", sys.stdout)
    return bool(getattr(stream, "isatty", lambda: False)())
