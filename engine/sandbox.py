"""A sandbox for the Python that BPMN scripts and conditions contain.

SpiffWorkflow runs scripts with plain ``exec``/``eval`` (``import os`` works). Here every script is compiled
with RestrictedPython (no imports, no names or attributes starting with ``_``, guarded item and attribute
access), runs with a short whitelist of builtins, and is stopped after a budget of executed lines, so an
endless loop ends with an error instead of hanging a web worker.
"""
from __future__ import annotations

import builtins as _b
import functools
import operator
import sys
from collections.abc import Mapping
from typing import Any

import ast

from RestrictedPython import RestrictingNodeTransformer, compile_restricted
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ScriptFailed

MAX_LINES = 100_000  # lines one script or condition may execute
MAX_RANGE = 100_000  # elements range() may produce
SCRIPT_FILENAME = "<bpmn-script>"


class ScriptRefused(Exception):
    """The script did something the sandbox does not allow."""


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ScriptRefused(f"range() of more than {MAX_RANGE} elements")
    return r


def _pow(base: Any, exp: Any, *mod: Any) -> Any:
    if isinstance(exp, int) and abs(exp) > 1000:
        raise ScriptRefused("exponent too large")
    return pow(base, exp, *mod)


def _write(obj: Any) -> Any:
    # lists and dicts built by the script may be changed; nothing else
    if isinstance(obj, (list, dict, set)):
        return obj
    raise ScriptRefused(f"cannot change an object of type {type(obj).__name__}")


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    ops = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
           "//=": operator.ifloordiv, "%=": operator.imod, "**=": _pow, "|=": operator.ior, "&=": operator.iand}
    if op not in ops:
        raise ScriptRefused(f"operator {op} is not allowed")
    return ops[op](x, y)


def _import(*args: Any, **kwargs: Any) -> Any:
    raise ScriptRefused("imports are not allowed")


SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(_b, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "float", "int", "len", "list", "max", "min",
        "round", "sorted", "str", "sum", "tuple", "zip", "isinstance", "reversed", "set", "map", "filter",
        "ValueError", "TypeError", "KeyError", "IndexError", "ZeroDivisionError", "Exception",
    )
}
def _today() -> str:
    """Today's date in Vietnam, ISO (the engine's clock)."""
    from . import calendar

    return calendar.today().isoformat()


def _days_between(start: Any, end: Any) -> int:
    """Calendar days from date ``start`` to date ``end`` (ISO strings or dates)."""
    import datetime as dt

    def as_date(value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value)[:10])

    return (as_date(end) - as_date(start)).days


def _add_working_days(count: Any) -> str:
    """The close of office ``count`` working days from now (holidays skipped), as an ISO UTC datetime."""
    import datetime as dt

    from . import calendar, clock

    n = int(count)
    if not 0 <= n <= 365:
        raise ScriptRefused("add_working_days takes 0 to 365 days")
    due = calendar.working_days_later(clock.now(), n)
    return due.replace(tzinfo=dt.timezone.utc).isoformat()


SAFE_BUILTINS.update({"True": True, "False": False, "None": None, "range": _range, "pow": _pow,
                      "__import__": _import, "today": _today, "days_between": _days_between,
                      "add_working_days": _add_working_days})

GUARDS: dict[str, Any] = {
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write,
    "_inplacevar_": _inplacevar,
    "_pow_": _pow,
}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus ``a ** b`` routed through a bounded power (``9 ** 9 ** 9`` never ends)."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        if isinstance(node.op, ast.Pow):
            call = ast.Call(func=ast.Name("_pow_", ast.Load()), args=[node.left, node.right], keywords=[])
            return ast.fix_missing_locations(ast.copy_location(call, node))
        return node


@functools.lru_cache(maxsize=2048)
def _compile(source: str, mode: str) -> Any:
    return compile_restricted(source, SCRIPT_FILENAME, mode, policy=_Policy)


def check(source: str, mode: str = "exec") -> str | None:
    """Compile ``source`` as the sandbox would; return the reason it is refused, or None."""
    try:
        _compile(source, mode)
    except SyntaxError as exc:
        return str(exc.msg if hasattr(exc, "msg") else exc)
    return None


class _Budget:
    """A trace function that stops a script after ``MAX_LINES`` executed lines."""

    def __init__(self, limit: int):
        self.left = limit

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        return self._line

    def _line(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.left -= 1
            if self.left < 0:
                raise ScriptRefused(f"stopped after {MAX_LINES} steps (an endless loop?)")
        return self._line


def _run(code: Any, scope: dict[str, Any], mode: str) -> Any:
    previous = sys.gettrace()
    sys.settrace(_Budget(MAX_LINES))
    try:
        if mode == "eval":
            return eval(code, scope)  # noqa: S307 - compiled by RestrictedPython, guarded builtins
        exec(code, scope)  # noqa: S102
        return None
    finally:
        sys.settrace(previous)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates conditions and runs scripts over task data, inside the sandbox."""

    def _scope(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        scope: dict[str, Any] = {"__builtins__": SAFE_BUILTINS, **GUARDS}
        scope.update(external or {})
        scope.update({k: v for k, v in context.items() if not k.startswith("_")})
        return scope

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        code = _compile(expression.strip(), "eval")
        return _run(code, self._scope(context, external_context), "eval")

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = _compile(script, "exec")
        scope = self._scope(context, external_context)
        _run(code, scope, "exec")
        for key, value in scope.items():
            if key.startswith("_") or key in GUARDS or callable(value) or (external_context and key in external_context):
                continue
            context[key] = value
        for key in [k for k in context if k not in scope and not k.startswith("_")]:
            del context[key]  # the script deleted it
        return True


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine, with errors turned into :class:`ScriptFailed` naming the element."""

    def __init__(self) -> None:
        super().__init__(environment=SandboxEnvironment())

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except Exception as exc:  # noqa: BLE001 - every failure of designer code becomes one clear error
            raise ScriptFailed(_element(task), _reason(exc)) from None

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except Exception as exc:  # noqa: BLE001
            raise ScriptFailed(_element(task), _reason(exc)) from None

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise ScriptFailed(_element(task), "service tasks are not supported yet")


def _element(task: Any) -> str:
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", "?")


def _reason(exc: BaseException) -> str:
    inner = exc
    if isinstance(inner, SyntaxError):
        return f"not allowed: {inner.msg if hasattr(inner, 'msg') else inner}"
    if isinstance(inner, ScriptRefused):
        return str(inner)
    if isinstance(inner, NameError) and "__import__" in str(inner):
        return "imports are not allowed"
    return f"{type(inner).__name__}: {inner}"
