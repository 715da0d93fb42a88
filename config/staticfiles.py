"""Static files in production: whitenoise's compressed, hashed (manifest) storage."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns: tuple) -> tuple:
    def keep(pattern: object) -> bool:
        regex = pattern if isinstance(pattern, str) else pattern[0]  # type: ignore[index]
        return "sourceMappingURL" not in regex

    return tuple((glob, tuple(p for p in group if keep(p))) for glob, group in patterns)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Vendored minified libraries (static/vendor/) name source maps they do not ship;
    collectstatic leaves those comments alone instead of failing the image build."""

    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
