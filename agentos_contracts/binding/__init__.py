"""BIND: layered configuration, candidates per binding mode, one MILP, exact re-checks, explanations.

``layering`` merges configuration layers; ``candidates`` (models) and ``placement``
(tools, stores, nodes, cores) filter the catalog statically; ``milp`` is the one
PuLP model; ``resolve`` runs it with the exact per-core checks of ``hrt`` and the
cuts they yield, ``settle`` breaks ties on catalog order, ``explain`` words the
rejections; ``predicate``, ``fallbacks`` and ``flow`` turn the decision into manifest
values; ``ledger`` counts what reservations hold. Nothing is imported here: PuLP
loads only with ``milp``.
"""
