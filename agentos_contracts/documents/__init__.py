"""LOAD: find sources and turn YAML into plain values with positions."""
