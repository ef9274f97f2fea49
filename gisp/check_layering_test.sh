#!/bin/bash
# Runs check_layering.py on the layer table and the genquery dependency graph.
exec /usr/bin/python3 "$@"
