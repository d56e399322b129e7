"""DOMAIN MODEL: frozen dataclasses, no I/O, stdlib only."""
