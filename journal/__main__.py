"""python -m journal gaps|report: what citizens asked that went unanswered, and the journal's counts."""

from __future__ import annotations

import argparse
import sys

from journal import format_report, gaps, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m journal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gap = sub.add_parser("gaps", help="most frequent unanswered questions")
    gap.add_argument("--limit", type=int, default=20)
    sub.add_parser("report", help="counts of answers, feedback and handoffs")
    args = parser.parse_args(argv)
    if args.command == "gaps":
        rows = gaps(args.limit)
        if not rows:
            print("Chưa có câu hỏi nào chưa trả lời được.")
        for key, n, example in rows:
            print(f"{n:4d}  {example}  [{key}]")
    else:
        print(format_report(stats()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
