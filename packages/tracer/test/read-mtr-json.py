#!/usr/bin/env python3
"""A small reader of `mtr --json` as scripts written for mtr do it: one line per hub,
"count host Loss% Snt Avg", tab-separated. Reads the JSON on standard input."""
import json
import sys

report = json.load(sys.stdin)["report"]
print("dst", report["mtr"]["dst"], "tests", report["mtr"]["tests"], sep="\t")
for hub in report["hubs"]:
    print(hub["count"], hub["host"], hub["Loss%"], hub["Snt"], hub["Avg"], sep="\t")
