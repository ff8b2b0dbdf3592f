"""``ssa warmup``: compile the screening's numba kernels once, after an install."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "warmup",
        help="compile the numba kernels once after an install (else the first screen does)",
        description="Compile (or load from numba's on-disk cache) every numba kernel the "
        "screening, Pc and CSV writing use, in parallel processes, so that the first "
        "'ssa screen' does not pay the compilation. The cache lives next to the installed "
        "modules when writable, else in ~/.cache/numba or $NUMBA_CACHE_DIR.",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="compile in up to N processes (default: 2 on a machine with 2 or more cores)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=run)


def run(args) -> int:
    from ssa.errors import UserError
    from ssa.screening import warmup

    if args.processes is not None and args.processes < 1:
        raise UserError(f"--processes must be at least 1, got {args.processes}")
    cold = warmup.cold_groups()
    res = warmup.warm_up(processes=args.processes)
    if not args.quiet:
        what = f"compiled {', '.join(cold)}" if cold else "all already compiled"
        print(f"numba kernels ready in {res['wall_s']:.1f} s ({what})")
    return 0
