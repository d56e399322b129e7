"""``python -m agentos_contracts`` runs the CLI."""

from __future__ import annotations

from agentos_contracts.cli import main

if __name__ == "__main__":
    main()
