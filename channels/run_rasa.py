"""`python -m channels.run_rasa run --enable-api …` (the Rasa env's python): Rasa's own command line, with the HTTP
API token taken from RASA_API_TOKEN in the environment.

Rasa 3.6 reads its token only from `--auth-token`, and a process's arguments are readable by every user of the
machine (`ps`, /proc/<pid>/cmdline). This launcher appends the option to sys.argv inside the process: the kernel
shows the arguments the process was started with, so the token never appears there. Files Rasa creates (an SQLite
tracker) are readable by their owner only.
"""

from __future__ import annotations

import os
import sys

import settings

TOKEN_VARIABLE = "RASA_API_TOKEN"


def rasa_arguments(arguments: list[str], token: str) -> list[str]:
    """Rasa's arguments with `--auth-token` added; a ValueError says what is wrong with the call."""
    if any(argument == "--auth-token" or argument.startswith("--auth-token=") for argument in arguments):
        raise ValueError(f"--auth-token on the command line shows in `ps`; set {TOKEN_VARIABLE} instead")
    if "--enable-api" in arguments and not token:
        raise ValueError(f"{TOKEN_VARIABLE} is empty: Rasa's HTTP API would answer anyone (or only an empty token)")
    # One word "--auth-token=…": a generated token may start with "-", which argparse would read as an option.
    return [*arguments, f"--auth-token={token}"] if token else arguments


def main() -> int:
    os.umask(0o077)  # the tracker and anything else Rasa writes: its owner's only
    try:
        arguments = rasa_arguments(sys.argv[1:], settings.current().rasa_api_token)
    except ValueError as error:
        print(f"Cannot start Rasa: {error}.", file=sys.stderr)
        return 2
    from rasa.__main__ import main as rasa_main  # loaded after the check: an error is reported in a second

    sys.argv = ["rasa", *arguments]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
