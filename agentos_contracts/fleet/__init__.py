"""FLEET: audit beyond one machine: records as CloudEvents, shipping, one verifiable Merkle log.

Importing this package loads nothing heavy; the Kafka client, the HTTP server and the
Merkle-tree library load only in the modules that use them.
"""

from __future__ import annotations
