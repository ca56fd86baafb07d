#!/usr/bin/env python3
"""Validates a SARIF file against the official SARIF 2.1.0 JSON schema.

    validate_sarif.py SCHEMA SARIF

Exit 0 when valid; otherwise prints each violation (path: message) and exits 1.
"""
import json
import sys

import jsonschema


def main():
    schema_path, sarif_path = sys.argv[1], sys.argv[2]
    with open(schema_path) as f:
        schema = json.load(f)
    with open(sarif_path) as f:
        doc = json.load(f)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        print("/".join(str(p) for p in e.absolute_path) or "(root)", ":", e.message)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
