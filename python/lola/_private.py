"""``python -m lola._private [pytest argv...]``: enters a private user and
network namespace (before the interpreter starts any thread), then runs
pytest with the same arguments in it. The pytest plugin re-executes itself
through this module when ``--lola-private`` finds threads already running."""

import os
import runpy
import sys

from lola import _lola


def main() -> None:
    outside = os.getuid()
    try:
        _lola.enter_private()
    except _lola.LolaError as e:
        sys.exit(f"--lola-private: {e}")
    os.environ["LOLA_PRIVATE_SESSION"] = "1"
    from lola.pytest_plugin import _keep_user_name

    _keep_user_name(outside)
    sys.argv = sys.argv[1:] or ["pytest"]
    runpy.run_module("pytest", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
