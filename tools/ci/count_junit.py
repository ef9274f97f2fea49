#!/usr/bin/python3
"""Counts passed and failed test cases in the JUnit XML files under a directory.

Prints "<passed> <failed> <skipped>" (skipped: cases that could not run here, such as GPU cases
on a machine without a GPU; each says why in its log). Used by tools/test.sh to turn `bazel test` results into case
counts (a gtest target with 20 cases counts 20, not 1).
"""
import os
import sys
import xml.etree.ElementTree as ET


def main(root):
    passed = failed = skipped = 0
    for dirpath, _, files in os.walk(root, followlinks=True):
        if "test.xml" not in files:
            continue
        try:
            tree = ET.parse(os.path.join(dirpath, "test.xml"))
        except ET.ParseError:
            failed += 1
            continue
        cases = tree.getroot().iter("testcase")
        for case in cases:
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.get("status") == "notrun" or case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    print(passed, failed, skipped)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bazel-testlogs")
