"""A TrueType font for the simulated exports: metrics, glyph ids and subsets.

The real exports embed a subset of Times New Roman; the simulator embeds a
subset of a metric-compatible free serif (Liberation Serif, else DejaVu
Serif). Only the standard library is used: the sfnt tables are read with
:mod:`struct`.

Characters the font has no glyph for are printed as ``?`` (see
:meth:`Font.printable`); they never reach the PDF as glyph 0, so every
glyph written round-trips through the ToUnicode map.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FONT_CANDIDATES", "Font", "FontError", "find_font", "load_font"]

FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
)
"""Where :func:`find_font` looks, in order of preference."""

REPLACEMENT = "?"
"""Printed in place of a character the font cannot draw."""

# The tables a TrueType rasteriser needs to draw the glyphs of a CIDFontType2
# font; layout tables (GSUB, GPOS, kern, ...) are useless inside a PDF.
_COPIED_TABLES = (b"OS/2", b"cvt ", b"fpgm", b"gasp", b"hhea", b"hmtx", b"maxp", b"name", b"prep")

# Composite glyph component flags (TrueType spec, 'glyf' table).
_ARG_1_AND_2_ARE_WORDS = 0x0001
_WE_HAVE_A_SCALE = 0x0008
_MORE_COMPONENTS = 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE = 0x0040
_WE_HAVE_A_TWO_BY_TWO = 0x0080


class FontError(Exception):
    """Raised when no usable font is installed or a font file cannot be parsed."""


@dataclass(frozen=True, slots=True)
class _Table:
    offset: int
    length: int


class Font:
    """A parsed TrueType font.

    Glyph ids are the font's own; :meth:`subset` keeps them unchanged so a
    PDF can use ``/CIDToGIDMap /Identity``. Instances are immutable after
    construction and safe to share between threads.
    """

    path: Path
    postscript_name: str
    units_per_em: int
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float
    bbox: tuple[int, int, int, int]
    num_glyphs: int

    def __init__(self, path: str | Path) -> None:
        """Parse the font file at ``path``.

        Raises :class:`FontError` if the file is not a TrueType (glyf-based)
        font or lacks a Unicode cmap.
        """
        self.path = Path(path)
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise FontError(f"cannot read font file {self.path}: {exc}") from exc
        self._data = data
        try:
            self._tables = _read_directory(data)
            self._parse()
        except (struct.error, IndexError, KeyError) as exc:
            raise FontError(f"{self.path} is not a usable TrueType font: {exc!r}") from exc

    # -- parsing -----------------------------------------------------------

    def _table(self, tag: bytes) -> bytes:
        table = self._tables[tag]
        return self._data[table.offset : table.offset + table.length]

    def _parse(self) -> None:
        for tag in (b"head", b"hhea", b"hmtx", b"maxp", b"cmap", b"loca", b"glyf"):
            if tag not in self._tables:
                raise FontError(f"{self.path} has no '{tag.decode()}' table")
        head = self._table(b"head")
        self.units_per_em = struct.unpack_from(">H", head, 18)[0]
        x_min, y_min, x_max, y_max = struct.unpack_from(">4h", head, 36)
        self.bbox = (x_min, y_min, x_max, y_max)
        self._long_loca = struct.unpack_from(">h", head, 50)[0] == 1
        self.num_glyphs = struct.unpack_from(">H", self._table(b"maxp"), 4)[0]

        hhea = self._table(b"hhea")
        ascent, descent = struct.unpack_from(">hh", hhea, 4)
        num_hmetrics = struct.unpack_from(">H", hhea, 34)[0]
        hmtx = self._table(b"hmtx")
        advances = [struct.unpack_from(">H", hmtx, 4 * i)[0] for i in range(num_hmetrics)]
        # Glyphs past numberOfHMetrics share the last advance (monospaced tail).
        advances += [advances[-1]] * (self.num_glyphs - num_hmetrics)
        self._advances: tuple[int, ...] = tuple(advances)

        self.cap_height = round(ascent * 0.66)
        if b"OS/2" in self._tables:
            os2 = self._table(b"OS/2")
            typo_ascent, typo_descent = struct.unpack_from(">hh", os2, 68)
            ascent, descent = max(ascent, typo_ascent), min(descent, typo_descent)
            version = struct.unpack_from(">H", os2, 0)[0]
            if version >= 2 and len(os2) >= 90:
                self.cap_height = struct.unpack_from(">h", os2, 88)[0]
        self.ascent, self.descent = ascent, descent

        self.italic_angle = 0.0
        if b"post" in self._tables:
            fixed = struct.unpack_from(">i", self._table(b"post"), 4)[0]
            self.italic_angle = fixed / 65536

        self._cmap: dict[str, int] = _parse_cmap(self._table(b"cmap"))
        self.postscript_name = _postscript_name(
            self._table(b"name") if b"name" in self._tables else b"", self.path.stem
        )

        loca = self._table(b"loca")
        count = self.num_glyphs + 1
        if self._long_loca:
            self._loca: tuple[int, ...] = struct.unpack_from(f">{count}L", loca)
        else:
            self._loca = tuple(2 * v for v in struct.unpack_from(f">{count}H", loca))

    # -- metrics -----------------------------------------------------------

    @property
    def cmap(self) -> Mapping[str, int]:
        """The font's Unicode map: character → glyph id (only characters it draws)."""
        return self._cmap

    def has_char(self, char: str) -> bool:
        """Whether the font has a glyph for ``char``."""
        return char in self._cmap

    def printable(self, text: str) -> str:
        """``text`` with every character the font lacks replaced by ``?``."""
        cmap = self._cmap
        if all(c in cmap for c in text):
            return text
        return "".join(c if c in cmap else REPLACEMENT for c in text)

    def glyph_ids(self, text: str) -> list[int]:
        """The glyph id of each character of ``text`` (lacking ones as ``?``'s)."""
        cmap = self._cmap
        return [cmap[c] for c in self.printable(text)]

    def advance(self, glyph_id: int) -> int:
        """The advance width of a glyph, in font units."""
        return self._advances[glyph_id]

    def text_width(self, text: str, size: float) -> float:
        """The width of ``text`` set at ``size`` points, in points (no kerning)."""
        advances = self._advances
        units = sum(advances[g] for g in self.glyph_ids(text))
        return units * size / self.units_per_em

    # -- subsetting --------------------------------------------------------

    def _glyph(self, glyph_id: int) -> bytes:
        glyf = self._tables[b"glyf"]
        start, end = self._loca[glyph_id], self._loca[glyph_id + 1]
        return self._data[glyf.offset + start : glyf.offset + end]

    def _closure(self, glyph_ids: Iterable[int]) -> set[int]:
        """``glyph_ids`` plus ``.notdef`` and every component of a composite."""
        keep: set[int] = set()
        todo = [0, *glyph_ids]
        while todo:
            gid = todo.pop()
            if gid in keep or not 0 <= gid < self.num_glyphs:
                continue
            keep.add(gid)
            todo.extend(_components(self._glyph(gid)))
        return keep

    def subset(self, glyph_ids: Iterable[int], chars: Mapping[str, int] | None = None) -> bytes:
        """A font program drawing only ``glyph_ids`` (plus what they are built from).

        Glyph ids are unchanged: the other glyphs are kept as empty outlines,
        and ``hmtx`` is kept whole. The result keeps the tables a rasteriser
        needs, a minimal ``cmap`` (``chars``, character → glyph id, BMP only),
        a nameless ``post`` (format 3), correct table checksums and
        ``head.checkSumAdjustment``.
        """
        keep = self._closure(glyph_ids)
        glyf_parts: list[bytes] = []
        offsets = [0]
        position = 0
        for gid in range(self.num_glyphs):
            if gid in keep:
                glyph = self._glyph(gid)
                if len(glyph) % 4:
                    glyph += b"\0" * (4 - len(glyph) % 4)
                glyf_parts.append(glyph)
                position += len(glyph)
            offsets.append(position)
        tables: dict[bytes, bytes] = {
            b"glyf": b"".join(glyf_parts),
            b"loca": struct.pack(f">{len(offsets)}L", *offsets),
        }
        for tag in _COPIED_TABLES:
            if tag in self._tables:
                tables[tag] = self._table(tag)
        head = bytearray(self._table(b"head"))
        struct.pack_into(">L", head, 8, 0)  # checkSumAdjustment, fixed below
        struct.pack_into(">h", head, 50, 1)  # loca is written in the long format
        tables[b"head"] = bytes(head)
        tables[b"cmap"] = _build_cmap(chars or {})
        post = bytearray(self._table(b"post")[:32] if b"post" in self._tables else bytes(32))
        struct.pack_into(">L", post, 0, 0x00030000)
        tables[b"post"] = bytes(post)
        return _build_sfnt(tables)


# -- sfnt helpers -------------------------------------------------------------


def _read_directory(data: bytes) -> dict[bytes, _Table]:
    version = data[:4]
    if version not in (b"\x00\x01\x00\x00", b"true"):
        raise FontError(f"not a TrueType outline font (sfnt version {version!r})")
    num_tables = struct.unpack_from(">H", data, 4)[0]
    tables = {}
    for i in range(num_tables):
        tag, _checksum, offset, length = struct.unpack_from(">4sLLL", data, 12 + 16 * i)
        if offset + length > len(data):
            raise FontError(f"table {tag!r} runs past the end of the file")
        tables[tag] = _Table(offset, length)
    return tables


def _parse_cmap(cmap: bytes) -> dict[str, int]:
    """The best Unicode subtable: (3,10) format 12, else (3,1)/(0,*) format 4."""
    num = struct.unpack_from(">H", cmap, 2)[0]
    best: tuple[int, int] | None = None  # (rank, offset); lower rank is better
    for i in range(num):
        platform, encoding, offset = struct.unpack_from(">HHL", cmap, 4 + 8 * i)
        fmt = struct.unpack_from(">H", cmap, offset)[0]
        unicode = platform == 0 or (platform == 3 and encoding in (1, 10))
        if not unicode or fmt not in (4, 12):
            continue
        rank = 0 if fmt == 12 else 1
        if best is None or rank < best[0]:
            best = (rank, offset)
    if best is not None:
        if best[0] == 0:
            return _cmap_format12(cmap, best[1])
        return _cmap_format4(cmap, best[1])
    raise FontError("no Unicode cmap subtable of format 4 or 12")


def _cmap_format4(cmap: bytes, offset: int) -> dict[str, int]:
    seg_count = struct.unpack_from(">H", cmap, offset + 6)[0] // 2
    ends = struct.unpack_from(f">{seg_count}H", cmap, offset + 14)
    starts_at = offset + 16 + 2 * seg_count
    starts = struct.unpack_from(f">{seg_count}H", cmap, starts_at)
    deltas = struct.unpack_from(f">{seg_count}h", cmap, starts_at + 2 * seg_count)
    range_at = starts_at + 4 * seg_count
    range_offsets = struct.unpack_from(f">{seg_count}H", cmap, range_at)
    result: dict[str, int] = {}
    for i in range(seg_count):
        start, end, delta, range_offset = starts[i], ends[i], deltas[i], range_offsets[i]
        if start == 0xFFFF:
            continue
        for code in range(start, end + 1):
            if range_offset == 0:
                gid = (code + delta) & 0xFFFF
            else:
                at = range_at + 2 * i + range_offset + 2 * (code - start)
                gid = struct.unpack_from(">H", cmap, at)[0]
                if gid:
                    gid = (gid + delta) & 0xFFFF
            if gid and not 0xD800 <= code <= 0xDFFF:
                result[chr(code)] = gid
    return result


def _cmap_format12(cmap: bytes, offset: int) -> dict[str, int]:
    groups = struct.unpack_from(">L", cmap, offset + 12)[0]
    result: dict[str, int] = {}
    for i in range(groups):
        start, end, gid = struct.unpack_from(">LLL", cmap, offset + 16 + 12 * i)
        for code in range(start, min(end, 0x10FFFF) + 1):
            if gid + code - start and not 0xD800 <= code <= 0xDFFF:
                result[chr(code)] = gid + code - start
    return result


def _ps_safe(text: str) -> str:
    return "".join(c for c in text if (c.isascii() and c.isalnum()) or c in "-_")


def _postscript_name(name: bytes, fallback: str) -> str:
    """Name ID 6, sanitised for use as a PDF name; ``fallback`` if absent."""
    if len(name) >= 6:
        count, strings = struct.unpack_from(">HH", name, 2)
        for i in range(count):
            platform, _enc, _lang, name_id, length, offset = struct.unpack_from(
                ">6H", name, 6 + 12 * i
            )
            if name_id != 6:
                continue
            raw = name[strings + offset : strings + offset + length]
            text = raw.decode("utf-16-be" if platform in (0, 3) else "latin-1", "replace")
            cleaned = _ps_safe(text)
            if cleaned:
                return cleaned
    return _ps_safe(fallback) or "Font"


def _components(glyph: bytes) -> list[int]:
    """The glyph ids a composite glyph is built from (none for a simple glyph)."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return []
    found = []
    at = 10
    while True:
        flags, gid = struct.unpack_from(">HH", glyph, at)
        found.append(gid)
        at += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
        if flags & _WE_HAVE_A_SCALE:
            at += 2
        elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
            at += 4
        elif flags & _WE_HAVE_A_TWO_BY_TWO:
            at += 8
        if not flags & _MORE_COMPONENTS:
            return found


def _build_cmap(chars: Mapping[str, int]) -> bytes:
    """A (3,1) format 4 cmap with one segment per BMP character."""
    codes = sorted((ord(c), gid) for c, gid in chars.items() if ord(c) < 0xFFFF)
    segments = [(code, code, (gid - code) & 0xFFFF) for code, gid in codes]
    segments.append((0xFFFF, 0xFFFF, 1))
    seg_count = len(segments)
    entry_selector = max(seg_count.bit_length() - 1, 0)
    search_range = 2 * (1 << entry_selector)
    subtable = b"".join(
        [
            struct.pack(
                ">7H",
                4,
                16 + 8 * seg_count,
                0,
                2 * seg_count,
                search_range,
                entry_selector,
                2 * seg_count - search_range,
            ),
            struct.pack(f">{seg_count}H", *(end for _s, end, _d in segments)),
            b"\0\0",
            struct.pack(f">{seg_count}H", *(start for start, _e, _d in segments)),
            struct.pack(f">{seg_count}H", *(delta for _s, _e, delta in segments)),
            bytes(2 * seg_count),
        ]
    )
    return struct.pack(">HHHHL", 0, 1, 3, 1, 12) + subtable


def _checksum(data: bytes) -> int:
    if len(data) % 4:
        data += b"\0" * (4 - len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(data) // 4}L", data)
    return sum(words) & 0xFFFFFFFF


def _build_sfnt(tables: Mapping[bytes, bytes]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    entry_selector = count.bit_length() - 1
    search_range = 16 * (1 << entry_selector)
    header = struct.pack(
        ">LHHHH", 0x00010000, count, search_range, entry_selector, 16 * count - search_range
    )
    directory: list[bytes] = []
    body: list[bytes] = []
    offset = 12 + 16 * count
    head_offset = 0
    for tag in tags:
        data = tables[tag]
        if tag == b"head":
            head_offset = offset
        directory.append(struct.pack(">4sLLL", tag, _checksum(data), offset, len(data)))
        padded = data + b"\0" * (-len(data) % 4)
        body.append(padded)
        offset += len(padded)
    font = bytearray(header + b"".join(directory) + b"".join(body))
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    struct.pack_into(">L", font, head_offset + 8, adjustment)
    return bytes(font)


# -- discovery and caching ---------------------------------------------------

_cache: dict[Path, Font] = {}
_cache_lock = threading.Lock()


def find_font(candidates: Sequence[Path] = FONT_CANDIDATES) -> Path:
    """The first existing font of ``candidates`` (Liberation Serif, then DejaVu Serif).

    Raises :class:`FontError` naming the Debian package to install if none exists.
    """
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FontError(
        f"no serif TrueType font found (tried {tried}); "
        "install Debian's fonts-liberation: apt-get install fonts-liberation"
    )


def load_font(path: str | Path | None = None) -> Font:
    """The parsed font at ``path`` (default: :func:`find_font`), parsed once per process."""
    resolved = Path(path) if path is not None else find_font()
    with _cache_lock:
        font = _cache.get(resolved)
        if font is None:
            font = _cache[resolved] = Font(resolved)
        return font
