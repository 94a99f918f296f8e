#!/usr/bin/env python3
"""Plays scenarios by hand, for writing them and reading their differences:

  .venv/bin/python tests/conformance/play.py kv_v2 [tokens ...]
  CONFORMANCE_DUMP=/tmp/dump .venv/bin/python tests/conformance/play.py kv_v2

Prints each difference that differences.yaml does not explain (and, with
-a, the explained ones too). The binaries are found as the test finds them
(SEALBOX_BINARY, else build/server/sealbox; SEALBOX_BAO, else .venv/bin/bao).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
import test_conformance as tc  # noqa: E402


def main(args):
    show_all = "-a" in args
    names = [a for a in args if a != "-a"]
    services = tc.Services()
    allowances = runner.load_allowances(tc.load(tc.DIFFERENCES))
    try:
        for name in names:
            path = os.path.join(tc.HERE, "scenarios", name + ".yaml")
            scenario = tc.load(path)
            shared = services.values(scenario.get("services") or [])
            peer, ours = tc.start_pair(scenario.get("servers", "initialized") == "initialized")
            try:
                compared, diffs = runner.run_scenario(name, scenario, peer, ours, shared)
            finally:
                peer.cleanup()
                ours.cleanup()
            left = runner.explain(diffs, allowances)
            print("== %s: %d compared, %d differences, %d unexplained" % (name, compared, len(diffs), len(left)))
            for d in (diffs if show_all else left):
                print("  " + str(d))
    finally:
        services.close()


if __name__ == "__main__":
    main(sys.argv[1:])
