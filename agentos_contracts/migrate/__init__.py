"""MIGRATE: rewrite the Agent-OS paper's document forms into canonical agentos/v0.2.

``rules`` holds the pure tables and value rewrites (stdlib only, cheap to import);
``rewrite`` applies them to round-trip YAML so comments and key order survive;
``files`` reads, rewrites, diffs and writes whole files. Only ``rewrite``/``files``
import ruamel.yaml, and only ``agentos migrate`` (or ``validate`` meeting a paper-form
document) pays for it.
"""
