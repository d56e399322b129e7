"""agentos-contracts: the Agent Contract compiler and admission toolchain."""

__version__ = "0.1.0"
