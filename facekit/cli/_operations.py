"""The face operations: detect, match, verify, identify, user *, group *.

One request each, through a client made from the global options; the result
is printed as tables or, with ``--json``, as the service answered it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Final, TypeVar

import typer
from rich.table import Table

from facekit import _spec
from facekit._client import FaceClient
from facekit.cli import _reporting, _settings
from facekit.cli._draw import _check_picture_path, draw_faces
from facekit.cli._output import (
    VERIFIED_SCORE,
    AsJson,
    _add_row,
    _best_identified,
    _detect_table,
    _done,
    _faceless,
    _identify_table,
    _match_table,
    _missing_fields,
    _print_json,
    _show,
    _verify_table,
)

T = TypeVar("T")


def _call(ctx: typer.Context, operation: Callable[[FaceClient], T]) -> T:
    """Run one operation with a client made from the global options."""
    settings = _settings(ctx)
    with _reporting(settings), settings.client() as client:
        return operation(client)


# -- arguments and options -----------------------------------------------------

Photo = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A JPEG, PNG or BMP photo."
    ),
]
Photos = Annotated[
    list[Path],
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="JPEG, PNG or BMP photos."
    ),
]


def _range(request_schema: str, field: str) -> str:
    """``(default 1, 1-10)``: the spec's range of a field, for the help text."""
    rule = _spec.integer_rule(request_schema, field)
    bounds = f"{rule.minimum}-{rule.maximum}" if rule.maximum is not None else ""
    return f"(default {rule.default}{', ' if bounds else ''}{bounds})"


_FACE_FIELDS: Final = ", ".join(
    sorted(_spec.string_rule("FaceFields").allowed_items or ())
)
Start = Annotated[
    int | None,
    typer.Option(
        "--start", help=f"Index of the first item {_range('PageRequest', 'start')}."
    ),
]
Num = Annotated[
    int | None,
    typer.Option("--num", help=f"How many items {_range('PageRequest', 'num')}."),
]


# -- faces ---------------------------------------------------------------------


def detect(
    ctx: typer.Context,
    photo: Photo,
    max_face_num: Annotated[
        int | None,
        typer.Option(
            "--max-face-num",
            help="Report up to this many faces "
            f"{_range('DetectRequest', 'max_face_num')}.",
        ),
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help=f"Attributes, comma-separated: {_FACE_FIELDS}.",
        ),
    ] = None,
    as_json: AsJson = False,
    draw: Annotated[
        Path | None,
        typer.Option(
            "--draw",
            dir_okay=False,
            help="Save the photo with a box (and landmarks) per face (.png, .jpg).",
        ),
    ] = None,
) -> None:
    """Detect the faces in a photo, with their boxes and attributes."""
    _check_picture_path(draw, "--draw")
    result = _call(
        ctx, lambda c: c.detect(photo, max_face_num=max_face_num, face_fields=fields)
    )
    if draw is not None:
        with _reporting(_settings(ctx)):
            draw_faces(photo, result.result, draw)

    if as_json:
        _print_json(result)
        return
    console = _show(
        f"{result.result_num} face(s) in {photo.name}",
        result.log_id,
        _detect_table(result),
    )
    missing = _missing_fields(result, fields)
    if missing:
        console.print(
            f"not returned: {', '.join(missing)} (a local server leaves out "
            "attributes it cannot compute honestly)"
        )
    if draw is not None:
        console.print(f"picture: {draw}")


def match(ctx: typer.Context, photos: Photos, as_json: AsJson = False) -> None:
    """Score every pair of faces among two or more photos (80 and up: same person)."""
    # The facade checks this too; here it is a usage error before any client.
    least = _spec.image_rule("match").min_images
    if len(photos) < least:
        raise typer.BadParameter(f"give at least {least} photos", param_hint="PHOTOS")
    result = _call(ctx, lambda c: c.match(photos))

    if as_json:
        _print_json(result)
        return
    names = [photo.name for photo in photos]
    console = _show("pair scores", result.log_id, _match_table(result, names))
    faceless = _faceless(result, len(photos))
    if faceless:
        console.print(f"no face found in: {', '.join(names[i] for i in faceless)}")


def verify(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user to compare with.")],
    photos: Photos,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only if the user is in this group."),
    ] = None,
    top_num: Annotated[
        int | None,
        typer.Option(
            "--top-num", help=f"How many scores {_range('VerifyRequest', 'top_num')}."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Score how well photos match one user (80 and up: verified)."""
    result = _call(
        ctx,
        lambda c: c.verify_user(uid, photos, top_num=top_num, group_id=group or None),
    )

    if as_json:
        _print_json(result)
        return
    _show(f"verify {uid}", result.log_id, _verify_table(result, uid))


def identify(
    ctx: typer.Context,
    group: Annotated[
        str, typer.Argument(help="The group to search (several: joined by commas).")
    ],
    photos: Photos,
    user_top_num: Annotated[
        int | None,
        typer.Option(
            "--user-top-num",
            help=f"How many users {_range('IdentifyRequest', 'user_top_num')}.",
        ),
    ] = None,
    face_top_num: Annotated[
        int | None,
        typer.Option(
            "--face-top-num",
            help="How many scores per user "
            f"{_range('IdentifyRequest', 'face_top_num')}.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Find the users of a group most like the face in a photo."""
    result = _call(
        ctx,
        lambda c: c.identify_user(
            group, photos, user_top_num=user_top_num, face_top_num=face_top_num
        ),
    )

    if as_json:
        _print_json(result)
        return
    console = _show(f"identify in {group}", result.log_id, _identify_table(result))
    best = _best_identified(result)
    if best is None or best[1] < VERIFIED_SCORE:
        console.print(f"not identified: nobody in {group} scores {VERIFIED_SCORE}+")
    else:
        console.print(f"identified: {best[0]} ({best[1]:.2f})")


# -- users ---------------------------------------------------------------------


def user_add(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id: letters, digits, _.")],
    photos: Photos,
    group: Annotated[
        list[str],
        typer.Option("--group", help="The group to put the user in (repeatable)."),
    ],
    info: Annotated[
        str | None,
        typer.Option("--info", help="user_info kept with the user (default: uid)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Register a user's faces (up to 5 photos) in one or more groups.

    An existing user gets the faces added and joins the groups.
    """
    user_info = uid if info is None else info
    result = _call(ctx, lambda c: c.add_user(uid, user_info, group, photos))
    _done(
        result, as_json, f"added {len(photos)} face(s) to {uid} in {', '.join(group)}"
    )


def user_update(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id.")],
    photos: Photos,
    info: Annotated[str | None, typer.Option("--info", help="New user_info.")] = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only if the user is in this group."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Replace all faces of an existing user with these photos."""
    result = _call(
        ctx,
        lambda c: c.update_user(uid, photos, user_info=info, group_id=group or None),
    )
    _done(result, as_json, f"replaced the faces of {uid} with {len(photos)}")


def user_get(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id.")],
    as_json: AsJson = False,
) -> None:
    """Show a user's information and groups."""
    result = _call(ctx, lambda c: c.get_user(uid))

    if as_json:
        _print_json(result)
        return
    record = result.result
    table = Table("uid", "user_info", "groups")
    _add_row(table, record.uid, record.user_info, ", ".join(record.groups))
    _show(f"user {record.uid}", result.log_id, table)


def user_delete(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id.")],
    as_json: AsJson = False,
) -> None:
    """Delete a user with its faces, from every group."""
    result = _call(ctx, lambda c: c.delete_user(uid))
    _done(result, as_json, f"deleted {uid}")


# -- groups --------------------------------------------------------------------


def group_list(
    ctx: typer.Context, start: Start = None, num: Num = None, as_json: AsJson = False
) -> None:
    """List the groups, a page at a time."""
    result = _call(ctx, lambda c: c.get_group_list(start=start, num=num))

    if as_json:
        _print_json(result)
        return
    table = Table("group")
    for group_id in result.result:
        _add_row(table, group_id)
    _show(f"{result.result_num} group(s)", result.log_id, table)


def group_users(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group id.")],
    start: Start = None,
    num: Num = None,
    as_json: AsJson = False,
) -> None:
    """List the users of a group, a page at a time."""
    result = _call(ctx, lambda c: c.get_group_users(group, start=start, num=num))

    if as_json:
        _print_json(result)
        return
    table = Table("uid", "user_info")
    for member in result.result:
        _add_row(table, member.uid, member.user_info)
    _show(f"{result.result_num} user(s) in {group}", result.log_id, table)


def group_add_user(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group(s), joined by commas.")],
    uid: Annotated[str, typer.Argument(help="An existing user.")],
    src_group: Annotated[
        str | None,
        typer.Option("--src-group", help="Only if the user is in this group."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Put an existing user into more groups."""
    result = _call(ctx, lambda c: c.add_group_user(group, uid, src_group_id=src_group))
    _done(result, as_json, f"added {uid} to {group}")


def group_remove_user(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group id.")],
    uid: Annotated[str, typer.Argument(help="The user.")],
    as_json: AsJson = False,
) -> None:
    """Take a user out of one group (not its last one)."""
    result = _call(ctx, lambda c: c.delete_group_user(group, uid))
    _done(result, as_json, f"removed {uid} from {group}")
