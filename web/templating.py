"""The Jinja environment of the app: Flask's, with cheaper imports and attribute reads (same output).

Every ``{% from ... import ... %}`` runs each time its template renders, and govuk-frontend-jinja's
components import their sub-macros (label, hint, error message, attributes) inside the macro body, so a page
with ten fields runs about a hundred imports. Each import compares the importing context's global names with
the imported template's globals (``ctx.globals_keys - template.globals.keys()``, to decide whether the cached
module can be reused). Jinja's globals are a ``collections.ChainMap`` over the environment's, whose ``keys()``
view answers each ``in`` with a Python generator over the maps: in a profile that comparison alone was about a
fifth of the CPU time of the registration page. :class:`TemplateGlobals` is the same ChainMap (a template's
own globals over the environment's, later changes to the environment's still seen) whose ``keys()`` is a real
dict view, so that comparison runs in C. ``tests/web/test_render_cost.py`` checks the output against Jinja's.
"""
from __future__ import annotations

from collections import ChainMap
from collections.abc import KeysView, MutableMapping
from typing import Any

from flask.templating import Environment as FlaskEnvironment


class TemplateGlobals(ChainMap):
    def keys(self) -> KeysView[str]:  # type: ignore[override]
        own, *rest = self.maps
        if not own and len(rest) == 1:  # the usual case: no template-specific globals, a live view of the env's
            return rest[0].keys()
        return dict.fromkeys(self).keys()

    def __contains__(self, key: object) -> bool:
        for mapping in self.maps:
            if key in mapping:
                return True
        return False


_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(FlaskEnvironment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.name`` in a template: Jinja tries the attribute, then the item. The govuk-frontend macros
        read their parameters as ``params.name`` from dicts, thousands of times a page, and most names are
        absent; for a plain dict the attribute lookup can only succeed for dict's own attributes, so the
        item is read directly, without the AttributeError (same result)."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return TemplateGlobals({} if d is None else d, self.globals)
