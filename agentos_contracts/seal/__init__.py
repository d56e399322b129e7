"""SEAL: canonical JSON, DSSE envelopes, in-toto statements and Ed25519 keys for binding manifests.

Entry points: ``seal.manifest.seal_manifest`` / ``verify_manifest`` (admission, ``agentos
verify`` and the runtime share them), ``seal.keys`` for key files. Nothing is imported
here, so importing the package costs nothing; ``cryptography`` loads with ``keys``/``dsse``.
"""
