"""What the commands print: rich tables and verdicts, or the result as JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from face_v2_client.types import Unset  # type: ignore[import-untyped, unused-ignore]
from rich.console import Console
from rich.table import Table
from rich.text import Text

from facekit import _spec

if TYPE_CHECKING:
    from face_v2_client.models import (  # type: ignore[import-untyped, unused-ignore]
        DetectResult,
        Face,
        IdentifyResult,
        MatchResult,
        VerifyResult,
    )

# From the spec, so the CLI's verdicts agree with the server's documentation.
VERIFIED_SCORE: Final[int] = _spec.library_rules()["verified_score"]

# The landmark of the v2 API: four points, in this order (see the spec).
_LANDMARK_NAMES: Final = ("L eye", "R eye", "nose", "mouth")
# What a face carries beyond these is shown in the "attributes" column.
_OWN_COLUMNS: Final = frozenset(
    {
        "location",
        "face_probability",
        "rotation_angle",
        "yaw",
        "pitch",
        "roll",
        "landmark",
        "landmark72",
    }
)

AsJson = Annotated[bool, typer.Option("--json", help="Print the typed result as JSON.")]


def _console() -> Console:
    # Made per command: the runner of the tests swaps sys.stdout.  No markup:
    # printed text holds uids, groups and paths, which may contain brackets.
    return Console(highlight=False, markup=False)


def _show(heading: str, log_id: int | None, table: Table) -> Console:
    """Print a heading line, then the table; return the console for more."""
    console = _console()
    suffix = f" (log_id {log_id})" if log_id is not None else ""
    console.print(Text.assemble((heading, "bold"), (suffix, "dim")))
    console.print(table)
    return console


def _add_row(table: Table, *cells: str) -> None:
    # Text, not markup: a uid or user_info may hold square brackets.
    table.add_row(*(Text(cell) for cell in cells))


def _print_json(result: Any) -> None:
    document = result if isinstance(result, dict) else result.to_dict()
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _done(result: Any, as_json: bool, message: str) -> None:
    if as_json:
        _print_json(result)
    else:
        _console().print(f"{message} (log_id {result.log_id})")


def _verdict(score: float) -> str:
    return "yes" if score >= VERIFIED_SCORE else "no"


def _box(face: Face) -> str:
    location = face.location
    return f"{location.left},{location.top} {location.width}×{location.height}"


def _angles(face: Face) -> str:
    parts = [f"rot {face.rotation_angle}°"]
    parts += [
        f"{name} {value:.1f}°"
        for name in ("yaw", "pitch", "roll")
        if not isinstance(value := getattr(face, name), Unset)
    ]
    return "\n".join(parts)


def _landmarks(face: Face) -> str:
    if not isinstance(face.landmark, Unset):
        named = len(face.landmark) == len(_LANDMARK_NAMES)
        return "\n".join(
            f"{_LANDMARK_NAMES[i] if named else i} {point.x},{point.y}"
            for i, point in enumerate(face.landmark)
        )
    if not isinstance(face.landmark72, Unset):
        return f"{len(face.landmark72)} points"
    return ""


def _attributes(face: Face) -> str:
    extra = {
        key: value for key, value in face.to_dict().items() if key not in _OWN_COLUMNS
    }
    lines: list[str] = []
    for key, value in extra.items():
        if isinstance(value, dict):
            # qualities: one measure a line reads better than one long line.
            lines.extend(f"{name} {_short(v)}" for name, v in value.items())
        else:
            lines.append(f"{key} {_short(value)}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_short(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_short(item) for item in value)
    return str(value)


def _detect_table(result: DetectResult) -> Table:
    faces = result.result
    columns: list[tuple[str, list[str]]] = [
        ("#", [str(number) for number in range(1, len(faces) + 1)]),
        ("box (left,top w×h)", [_box(face) for face in faces]),
        ("prob", [f"{face.face_probability:.3f}" for face in faces]),
        ("angles", [_angles(face) for face in faces]),
        ("landmarks", [_landmarks(face) for face in faces]),
        ("attributes", [_attributes(face) for face in faces]),
    ]
    # Columns nobody has (attributes from a local server, say) are left out.
    shown = [(name, cells) for name, cells in columns if any(cells)]

    table = Table()
    for name, _ in shown:
        table.add_column(name, no_wrap=name != "attributes")
    for row in zip(*(cells for _, cells in shown), strict=True):
        _add_row(table, *row)
    return table


def _missing_fields(result: DetectResult, fields: str | None) -> list[str]:
    """Requested face fields that no face came back with."""
    if not fields or not result.result:
        return []
    present = set().union(*(face.to_dict() for face in result.result))
    return [name for name in fields.split(",") if name and name not in present]


def _match_table(result: MatchResult, names: Sequence[str]) -> Table:
    table = Table()
    table.add_column("photo")
    table.add_column("photo")
    table.add_column("score", justify="right")
    table.add_column(f"same person (≥ {VERIFIED_SCORE})")
    for pair in result.result:
        _add_row(
            table,
            _name_at(names, pair.index_i),
            _name_at(names, pair.index_j),
            f"{pair.score:.2f}",
            _verdict(pair.score),
        )
    return table


def _name_at(names: Sequence[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"#{index}"


def _faceless(result: MatchResult, count: int) -> list[int]:
    """Indices of photos in no pair: the service found no face in them."""
    paired = {i for pair in result.result for i in (pair.index_i, pair.index_j)}
    return [i for i in range(count) if i not in paired] if result.result else []


def _identify_table(result: IdentifyResult) -> Table:
    table = Table()
    table.add_column("rank", justify="right")
    table.add_column("uid")
    table.add_column("user_info")
    table.add_column("group")
    table.add_column("scores", justify="right")
    table.add_column(f"identified (≥ {VERIFIED_SCORE})")
    for rank, user in enumerate(result.result, 1):
        group = "" if isinstance(user.group_id, Unset) else user.group_id
        best = max(user.scores, default=0.0)
        _add_row(
            table,
            str(rank),
            user.uid,
            user.user_info,
            group,
            ", ".join(f"{score:.2f}" for score in user.scores),
            _verdict(best),
        )
    return table


def _best_identified(result: IdentifyResult) -> tuple[str, float] | None:
    """The top user and its best score, if any user came back."""
    if not result.result:
        return None
    top = result.result[0]
    return top.uid, max(top.scores, default=0.0)


def _verify_table(result: VerifyResult, uid: str) -> Table:
    table = Table()
    table.add_column("uid")
    table.add_column("score", justify="right")
    table.add_column(f"verified (≥ {VERIFIED_SCORE})")
    for score in result.result:
        _add_row(table, uid, f"{score:.2f}", _verdict(score))
    return table
