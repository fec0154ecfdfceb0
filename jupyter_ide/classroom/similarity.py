"""Similarity of submissions: copydetect's language-aware tokens, winnowed k-gram fingerprints.

Pure functions, run in worker processes (CPU-bound). Code is tokenized by copydetect
(Pygments lexers: names become V, functions F, strings S; comments and spacing dropped), its
k-grams are hashed (a deterministic hash, so that fingerprints made in different processes
compare), winnowed with copydetect's winnowing, and the starter code's k-grams are removed.
copydetect is imported where it is used, in those processes: it imports matplotlib (seconds
of a start), which the server itself never needs.
A pair's similarity on each side is copydetect's: the share of that side's fingerprinted
tokens that fall in k-grams the other side also has.
"""

from __future__ import annotations

import functools
import json
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import numpy as np
import pygments.util
from numpy.lib.stride_tricks import sliding_window_view
from pygments import lexers
from pygments.lexers.special import TextLexer

# A source file ready to fingerprint: its text and the Pygments name of its language.
Source = tuple[str, str]

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_BASE = np.uint64(0x100000001B3)


@dataclass(frozen=True)
class Settings:
    """How fingerprints are made: copydetect's noise and guarantee thresholds."""

    noise: int = 25  # k: the shortest match (in filtered characters) that counts
    guarantee: int = 35  # any match this long is always found (window = guarantee - noise + 1)

    @property
    def window(self) -> int:
        """The winnowing window."""
        return self.guarantee - self.noise + 1


@dataclass
class Fingerprint:
    """One submission's winnowed fingerprints, its files laid end to end."""

    hashes: np.ndarray  # int64, one per selected k-gram, in position order
    positions: np.ndarray  # int64, where each selected k-gram starts (files spaced apart)
    unique: np.ndarray  # the sorted distinct hashes
    coverage: int  # filtered characters that selected k-grams cover


@functools.lru_cache(maxsize=512)
def language_of(path: str) -> str | None:
    """Return the Pygments name of a file's language, or None when it is not source code."""
    try:
        lexer = lexers.get_lexer_for_filename(path)
    except pygments.util.ClassNotFound:
        return None
    if isinstance(lexer, TextLexer) or not lexer.aliases:
        return None
    return str(lexer.aliases[0])


def notebook_code(text: str) -> tuple[str, str]:
    """Return a notebook's code cells, one after another, and their language."""
    nb = json.loads(text)
    meta = nb.get("metadata", {}) if isinstance(nb, dict) else {}
    language = (meta.get("language_info") or {}).get("name") or (meta.get("kernelspec") or {}).get(
        "language"
    )
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    code = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            code.append("".join(source) if isinstance(source, list) else str(source))
    return "\n\n".join(code) + ("\n" if code else ""), str(language or "python")


# Pygments names of the languages compared by default: the IDE's eight and other common ones.
LANGUAGES = (
    "python",
    "c",
    "cpp",
    "java",
    "javascript",
    "go",
    "rust",
    "bash",
    "typescript",
    "kotlin",
    "scala",
    "csharp",
    "ruby",
    "julia",
    "splus",
    "php",
    "swift",
    "haskell",
    "matlab",
)


def readable(
    path: str, data: bytes, max_bytes: int, languages: frozenset[str] = frozenset(LANGUAGES)
) -> Source | str:
    """Return a file's text and language, or why it is left out."""
    if len(data) > max_bytes:
        return f"larger than {max_bytes} bytes"
    if b"\0" in data:
        return "binary"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if path.endswith(".ipynb"):
        try:
            text, language = notebook_code(text)
        except (ValueError, AttributeError, TypeError):
            return "not a readable notebook"
        try:
            language = str(lexers.get_lexer_by_name(language).aliases[0])
        except (pygments.util.ClassNotFound, IndexError):
            return f"a notebook in {language}, which has no tokenizer"
    else:
        found = language_of(path)
        if found is None:
            return "not source code (no tokenizer for this file type)"
        language = found
    if language not in languages:
        return f"{language} is not a compared language"
    return text, language


def kgram_hashes(filtered: str, k: int) -> np.ndarray:
    """Return a deterministic 64-bit hash of every k-gram of ``filtered`` (int64)."""
    codes = np.frombuffer(filtered.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < k:
        return np.empty(0, dtype=np.int64)
    powers = _BASE ** np.arange(k - 1, -1, -1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = sliding_window_view(codes, k) @ powers
        h ^= h >> np.uint64(30)
        h *= _MIX1
        h ^= h >> np.uint64(27)
        h *= _MIX2
        h ^= h >> np.uint64(31)
    return h.view(np.int64)


def tokens(source: Source) -> tuple[str, np.ndarray]:
    """Return copydetect's filtered tokens of a file and its offsets back to the text."""
    from copydetect.utils import filter_code  # copydetect imports matplotlib: only here

    text, language = source
    filtered, offsets = filter_code(text, "", language)
    return filtered, offsets


def starter_hashes(sources: list[Source], settings: Settings) -> np.ndarray:
    """Return every k-gram hash of the starter code (sorted, distinct): all are excluded."""
    found = [kgram_hashes(tokens(s)[0], settings.noise) for s in sources]
    if not found:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate(found))


def _selected(filtered: str, starter: np.ndarray, settings: Settings) -> tuple[Any, Any]:
    """Return the winnowed hashes of one file (starter ones removed) and their positions."""
    hashes = kgram_hashes(filtered, settings.noise)
    if len(hashes) == 0:
        return hashes, np.empty(0, dtype=np.int64)
    from copydetect.utils import winnow  # copydetect imports matplotlib: only here

    picked, idx = winnow(hashes, settings.window, remove_duplicates=False)
    idx = np.asarray(idx, dtype=np.int64)
    picked = np.asarray(picked, dtype=np.int64)
    keep = ~np.isin(picked, starter)
    return picked[keep], idx[keep]


def union_length(positions: np.ndarray, k: int) -> int:
    """Return how many characters the k-grams starting at sorted ``positions`` cover."""
    if len(positions) == 0:
        return 0
    return int(k + np.minimum(np.diff(positions), k).sum())


def fingerprint(sources: list[Source], starter: np.ndarray, settings: Settings) -> Fingerprint:
    """Return one submission's fingerprint (its files in the order given)."""
    all_hashes, all_positions, base = [], [], 0
    for source in sources:
        filtered, _ = tokens(source)
        hashes, idx = _selected(filtered, starter, settings)
        order = np.argsort(idx, kind="stable")
        all_hashes.append(hashes[order])
        all_positions.append(idx[order] + base)
        base += len(filtered) + settings.noise  # no k-gram spans two files
    hashes = np.concatenate(all_hashes) if all_hashes else np.empty(0, dtype=np.int64)
    positions = np.concatenate(all_positions) if all_positions else np.empty(0, dtype=np.int64)
    return Fingerprint(
        hashes, positions, np.unique(hashes), union_length(positions, settings.noise)
    )


def fingerprint_many(
    submissions: list[list[Source]], starter: np.ndarray, settings: Settings
) -> list[Fingerprint]:
    """Return the fingerprints of several submissions (one worker task)."""
    return [fingerprint(sources, starter, settings) for sources in submissions]


def compare(a: Fingerprint, b: Fingerprint, k: int) -> tuple[float, float, int, int]:
    """Return each side's similarity and matched tokens (copydetect's measure, all files)."""
    common = np.intersect1d(a.unique, b.unique, assume_unique=True)
    if len(common) == 0:
        return 0.0, 0.0, 0, 0
    matched_a = union_length(a.positions[np.isin(a.hashes, common)], k)
    matched_b = union_length(b.positions[np.isin(b.hashes, common)], k)
    sim_a = matched_a / a.coverage if a.coverage else 0.0
    sim_b = matched_b / b.coverage if b.coverage else 0.0
    return sim_a, sim_b, matched_a, matched_b


Compared = tuple[int, int, float, float, int, int]


def matched_rows(prints: list[Fingerprint], start: int, stop: int, k: int) -> np.ndarray:
    """Return, for rows ``start..stop``, each submission's tokens matched by every other one.

    Row a, column b: how many of a's fingerprinted tokens lie in k-grams that b also has
    (``compare``'s matched count for a, for all b at once). One matrix per row: which
    submissions hold the hash of each of a's selected k-grams, from an inverted index.
    """
    n = len(prints)
    out = np.zeros((stop - start, n), dtype=np.int64)
    if n == 0:
        return out
    owners = np.concatenate([p.unique for p in prints])
    holder = np.concatenate(
        [np.full(len(p.unique), i, dtype=np.int64) for i, p in enumerate(prints)]
    )
    order = np.argsort(owners, kind="stable")
    owners, holder = owners[order], holder[order]
    for a in range(start, stop):
        hashes, positions = prints[a].hashes, prints[a].positions
        m = len(hashes)
        if m == 0:
            continue
        lo = np.searchsorted(owners, hashes, "left")
        counts = np.searchsorted(owners, hashes, "right") - lo
        total = int(counts.sum())
        ends = np.cumsum(counts)
        flat = np.arange(total) - np.repeat(ends - counts, counts) + np.repeat(lo, counts)
        held = np.zeros((n, m), dtype=bool)
        held[holder[flat], np.repeat(np.arange(m), counts)] = True
        held[a] = False
        # Union of [p, p + k) over the selected positions of each row: each selected
        # position covers up to the next selected one, at most k.
        chosen = np.where(held, np.arange(m), m)
        following = np.minimum.accumulate(chosen[:, ::-1], axis=1)[:, ::-1]
        after = np.concatenate([following[:, 1:], np.full((n, 1), m)], axis=1)
        reach = np.concatenate([positions, [positions[-1] + k]])
        cover = np.minimum(reach[after] - positions[None, :], k)
        out[a - start] = np.where(held, cover, 0).sum(axis=1)
    return out


def ranked(matched: np.ndarray, coverage: list[int], keep: int) -> list[Compared]:
    """Return the pairs (i < j) with any match, best first: (i, j, sim_i, sim_j, m_i, m_j).

    ``matched`` is ``matched_rows`` of every submission; a pair's score is the mean of its
    two sides' similarity, ties broken by the larger side, then by index.
    """
    first, second = np.triu_indices(len(coverage), 1)
    matched_a, matched_b = matched[first, second], matched[second, first]
    some = (matched_a > 0) | (matched_b > 0)
    first, second, matched_a, matched_b = (
        first[some],
        second[some],
        matched_a[some],
        matched_b[some],
    )
    cover = np.asarray(coverage, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sim_a = np.where(cover[first] > 0, matched_a / cover[first], 0.0)
        sim_b = np.where(cover[second] > 0, matched_b / cover[second], 0.0)
    score = (sim_a + sim_b) / 2
    order = np.lexsort((second, first, -np.maximum(sim_a, sim_b), -score))[:keep]
    return [
        (
            int(first[x]),
            int(second[x]),
            float(sim_a[x]),
            float(sim_b[x]),
            int(matched_a[x]),
            int(matched_b[x]),
        )
        for x in order
    ]


# -- one pair's matched regions -------------------------------------------------------------


@dataclass
class _FileFingerprint:
    """The attributes copydetect's ``compare_files`` reads of a CodeFingerprint."""

    filtered_code: str
    offsets: np.ndarray
    hashes: set[int]
    hash_idx: dict[int, list[int]]
    k: int
    token_coverage: int


def _file_fingerprint(source: Source, starter: np.ndarray, settings: Settings) -> _FileFingerprint:
    filtered, offsets = tokens(source)
    hashes, idx = _selected(filtered, starter, settings)
    hash_idx: dict[int, list[int]] = {}
    for value, at in zip(hashes.tolist(), idx.tolist(), strict=True):
        hash_idx.setdefault(value, []).append(at)
    coverage = union_length(np.sort(idx), settings.noise)
    return _FileFingerprint(filtered, offsets, set(hash_idx), hash_idx, settings.noise, coverage)


def _regions(text: str, slices: Any) -> list[dict[str, int]]:
    """Return matched character ranges with 1-based lines and columns (end exclusive)."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def place(offset: int) -> tuple[int, int]:
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    found = []
    array = np.asarray(slices)
    if array.ndim != 2 or array.shape[1] == 0:
        return []
    for start, end in zip(array[0].tolist(), array[1].tolist(), strict=True):
        start, end = max(0, int(start)), min(len(text), int(end))
        if end <= start:
            continue
        start_line, start_column = place(start)
        end_line, end_column = place(end)
        found.append(
            {
                "start": start,
                "end": end,
                "start_line": start_line,
                "start_column": start_column,
                "end_line": end_line,
                "end_column": end_column,
            }
        )
    return found


def pair_regions(
    files_a: dict[str, Source],
    files_b: dict[str, Source],
    starter: list[Source],
    settings: Settings,
) -> list[dict[str, Any]]:
    """Return, per pair of files in one language, both sides' matched regions (best first)."""
    from copydetect.detector import compare_files  # copydetect imports matplotlib: only here

    excluded = starter_hashes(starter, settings)
    prints_a = {p: _file_fingerprint(s, excluded, settings) for p, s in files_a.items()}
    prints_b = {p: _file_fingerprint(s, excluded, settings) for p, s in files_b.items()}
    found: list[dict[str, Any]] = []
    for path_a, fa in prints_a.items():
        for path_b, fb in prints_b.items():
            if files_a[path_a][1] != files_b[path_b][1]:
                continue
            overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fa, fb)
            if not overlap:
                continue
            found.append(
                {
                    "path_a": path_a,
                    "path_b": path_b,
                    "similarity_a": float(sim_a),
                    "similarity_b": float(sim_b),
                    "matched_tokens": int(overlap),
                    "regions_a": _regions(files_a[path_a][0], slices_a),
                    "regions_b": _regions(files_b[path_b][0], slices_b),
                }
            )
    found.sort(key=lambda m: (-m["matched_tokens"], m["path_a"], m["path_b"]))
    return found
