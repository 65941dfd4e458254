"""Entry point of the kiosk bundle (build.spec): `tablepay-kiosk ARGS` is `tablepay kiosk ARGS`."""

import sys

from tablepay.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["kiosk", *sys.argv[1:]]))
