"""What is wrong with params.yaml, in one line a user can act on: the key, the value, and what the key allows.

pydantic reports a bad value as a multi-line ValidationError written for programmers. `describe` turns its first error
into `params.yaml: promote.margin is -1; it must be at least 0`, reading the allowed range and type from the field
itself (params.py stays the one home of the rules), and says how many other problems there are.
"""

import difflib
import types
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

TYPE_NAMES = {float: "a number", int: "a whole number", str: "text", bool: "true or false", dict: "a mapping"}


def describe(error: ValidationError, model: type[BaseModel], file: str = "params.yaml") -> str:
    """One line for the first problem, naming how many more there are (each is reported once the first is fixed)."""
    # An unknown key first: a misspelt key is also reported missing, and the misspelling is what to fix.
    problems = sorted(error.errors(), key=lambda problem: problem["type"] != "extra_forbidden")
    first = problem_text(problems[0], model, file)
    if len(problems) > 1:
        others = ", ".join(dotted(problem["loc"]) or "(top level)" for problem in problems[1:4])
        more = f"; {len(problems) - 4} more" if len(problems) > 4 else ""
        first += f" (and {len(problems) - 1} more problem(s): {others}{more})"
    return first


def dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def problem_text(problem: ErrorDetails, model: type[BaseModel], file: str) -> str:
    loc, kind, value = problem["loc"], problem["type"], problem.get("input")
    key = dotted(loc)
    parent, field = _field_at(model, loc)
    if kind == "extra_forbidden" and parent is not None:
        known = list(parent.model_fields)
        where = f"section {dotted(loc[:-1])}" if len(loc) > 1 else file
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return f"{file}: {key} is not a known key; {hint}{where} takes {', '.join(known)}"
    if kind == "missing":
        if isinstance(field, type) and issubclass(field, BaseModel):
            required = [name for name, info in field.model_fields.items() if info.is_required()]
            return f"{file} has no {key} section; add it with the keys {', '.join(required)} (see docs/pipeline.md)"
        return f"{file}: {key} is missing; add it ({allowed(parent, loc)})"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        what = f"{key} is {shown(value)}" if loc else f"it holds {shown(value)}"
        return f"{file}: {what}; it must be a section of `key: value` lines"
    return f"{file}: {key} is {shown(value)}; it must be {allowed(parent, loc)}"


def allowed(parent: type[BaseModel] | None, loc: tuple[int | str, ...]) -> str:
    """What the field at loc accepts, read from its annotation and its constraints: "a number between 0 and 1"."""
    if parent is None or not loc or str(loc[-1]) not in parent.model_fields:
        return "a valid value (see the shipped params.yaml)"
    info = parent.model_fields[str(loc[-1])]
    kind = _type_name(info.annotation)
    bounds = [text for constraint in info.metadata if (text := _bound(constraint))]
    if len(bounds) == 2 and bounds[0].startswith("at least") and bounds[1].startswith("at most"):
        bounds = [f"between {bounds[0].removeprefix('at least ')} and {bounds[1].removeprefix('at most ')}"]
    return ", ".join(text for text in (kind, " and ".join(bounds)) if text)


def shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else "empty" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bound(constraint: Any) -> str:
    names = {
        annotated_types.Ge: ("ge", "at least"),
        annotated_types.Gt: ("gt", "greater than"),
        annotated_types.Le: ("le", "at most"),
        annotated_types.Lt: ("lt", "less than"),
    }
    for constraint_type, (attribute, words) in names.items():
        if isinstance(constraint, constraint_type):
            return f"{words} {getattr(constraint, attribute):g}"
    return ""


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(map(repr, get_args(annotation)))
    if get_origin(annotation) in {Union, types.UnionType}:
        return " or ".join(_type_name(arg) for arg in get_args(annotation) if arg is not type(None))
    return TYPE_NAMES.get(get_origin(annotation) or annotation, "a valid value")


def _field_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[type[BaseModel] | None, Any]:
    """The section model that holds the last key of loc, and that key's annotation (None where loc leaves models)."""
    parent: type[BaseModel] | None = model
    annotation: Any = None
    for depth, part in enumerate(loc):
        last = depth == len(loc) - 1
        if parent is None or str(part) not in parent.model_fields:
            return (parent if last else None), None
        annotation = parent.model_fields[str(part)].annotation
        if not last:
            parent = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return parent, annotation
