"""The ``clusterix`` command: run the pipeline, write a template, regenerate samples."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.core import config


def _template(args: argparse.Namespace) -> int:
    from pipelines.core.template import TemplateError, write_template

    out = Path(args.output or f"{args.partner}_{args.period}.xlsx")
    try:
        write_template(args.partner, args.period, out)
    except TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote the {args.period} workbook for {args.partner} to {out}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from pipelines.demo.sample import write_samples

    target = Path(args.raw_dir) if args.raw_dir else config.raw_dir()
    written = write_samples(target)
    print(f"Wrote {len(written)} synthetic sample files under {target}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from pipelines.run import run_pipeline

    return run_pipeline(wait=0 if args.no_wait else args.wait)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clusterix", description="CLUSTERIX 2.0 monitoring pipeline."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="ingest every workbook in the raw directory and publish all tables"
    )
    run.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait for another run writing the same state directory"
        " (default: CLUSTERIX_LOCK_TIMEOUT, else 3600)",
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="exit non-zero at once if another run is writing the state directory",
    )
    run.set_defaults(func=_run)

    template = commands.add_parser(
        "template", help="write a blank workbook pre-filled for a partner and period"
    )
    template.add_argument("partner", help="partner id, e.g. P4")
    template.add_argument("period", help="reporting period id, e.g. RP07")
    template.add_argument("-o", "--output", help="file to write (default PARTNER_PERIOD.xlsx)")
    template.set_defaults(func=_template)

    sample = commands.add_parser("sample", help="regenerate the synthetic demo submissions")
    sample.add_argument("--raw-dir", help="where to write (default: the raw directory)")
    sample.set_defaults(func=_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
