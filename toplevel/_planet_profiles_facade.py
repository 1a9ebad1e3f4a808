"""Serves `import planet_auth_utils` from planet-profiles where no installed distribution provides it.

planet-profiles' wheel installs this module and `planet_profiles_facade.pth` (one line,
`import _planet_profiles_facade`) at the root of site-packages; Python runs that line at every start.
Importing this module appends one finder to `sys.meta_path`, *after* the standard `PathFinder`, so:

- where planet-auth is installed, `PathFinder` finds its `planet_auth_utils` first and this finder is never
  asked: planet-auth's package is used untouched, whichever was installed first;
- where no distribution provides the name, `import planet_auth_utils` gives planet-profiles' facade
  (`planet_profiles._facade`: the seed's client API), so the seed's examples run unchanged.

planet-profiles thus ships no file that another distribution owns, and `pip uninstall planet-profiles`
removes both files. Keep this module tiny: it runs at every interpreter start, so it imports nothing beyond
`sys` until `planet_auth_utils` is actually imported (`bench/startup.py` measures the cost).
"""

import sys

TYPE_CHECKING = False  # no `typing` import at start-up; type checkers take this as True
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

NAME = "planet_auth_utils"
FACADE = "planet_profiles._facade"


class FacadeFinder:
    """Meta path finder and loader (PEP 451) of the single top-level name `planet_auth_utils`."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: "Sequence[str] | None" = None, target: "ModuleType | None" = None
    ) -> "ModuleSpec | None":
        if fullname != NAME or path is not None:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(NAME, cls, origin=FACADE)  # type: ignore[arg-type]  # a loader by protocol

    @staticmethod
    def create_module(spec: "ModuleSpec") -> None:
        return None  # the default module object

    @staticmethod
    def exec_module(module: "ModuleType") -> None:
        import importlib

        facade = importlib.import_module(FACADE)
        module.__doc__ = facade.__doc__
        module.__all__ = list(facade.__all__)  # type: ignore[attr-defined]
        for name in facade.__all__:
            setattr(module, name, getattr(facade, name))


if FacadeFinder not in sys.meta_path:
    sys.meta_path.append(FacadeFinder)  # a class with classmethods is a finder (PEP 451)
