"""CLI subcommands. Each module here defines ``register(subparsers)``.

``register`` adds one argparse subcommand and sets ``func`` on it; ``func(args)``
returns an exit status (int). Handlers write results to stdout/files and
messages to stderr; library code they call never prints or exits.
"""
