#!/usr/bin/env python3
"""Reads a Roster output with a real parser, for the escaping tests.

    parse_output.py csv FILE   prints the rows as a JSON list of lists (Python's csv reader)
    parse_output.py md FILE    prints the HTML that markdown-it-py (CommonMark with GFM tables)
                               renders from it
"""
import csv
import json
import sys

from markdown_it import MarkdownIt


def main():
    mode, path = sys.argv[1], sys.argv[2]
    with open(path, newline="", encoding="utf-8") as f:
        if mode == "csv":
            print(json.dumps(list(csv.reader(f, strict=True))))
        elif mode == "md":
            print(MarkdownIt("commonmark").enable("table").render(f.read()))
        else:
            sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
