"""ENFORCE over MCP: the runtime behind an MCP server face, so any MCP client is held to a sealed manifest.

Importing this package loads nothing; ``server`` (and only the modules under it) import
the ``mcp`` SDK.
"""
