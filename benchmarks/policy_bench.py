"""Policy decision and compile speed: ours vs cedarpy, casbin and hand-written Python closures.

    python benchmarks/policy_bench.py [--requests N] [--rounds R]

One run, the same 10 rules and the same requests for every engine (integers only,
since Cedar has no floats; every attribute present). Before timing, every engine's
decisions are compared on the whole request set, so the figures are for engines
that agree. Times are per decision: the median over R rounds of (round time /
requests), which is the p50 of a round's mean; single-call timing would mostly
measure the timer. Our larger sets (1,000 and 10,000 rules) are generated, as is
the 10,000-rule compile (parse + check + analysis + canonical JSON).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentos_contracts.policy.compiler import compile_sources  # noqa: E402

ACTIONS = ["web.fetch", "fs.read", "summarize", "fs.write", "payment.charge", "email.send", "rag.retrieve", "web.search"]

OURS_10 = """\
attribute risk: number
attribute env: string
attribute roles: set<string>
attribute unsafe: bool
attribute args.amount: number
ALLOW web.fetch IF risk < 50 AND env IN ["prod", "staging"]
ALLOW fs.read, summarize
DENY IF unsafe == true
DENY fs.write
DENY payment.charge IF args.amount > 1000
ALLOW payment.charge IF "clerk" IN roles
ALLOW email.send IF "admin" IN roles AND risk < 20
DENY email.send IF env == "dev"
ALLOW rag.retrieve IF risk <= 80
DENY web.fetch IF risk >= 90
"""

CEDAR_10 = """\
permit(principal, action == Action::"web.fetch", resource) when { context.risk < 50 && ["prod", "staging"].contains(context.env) };
permit(principal, action in [Action::"fs.read", Action::"summarize"], resource);
forbid(principal, action, resource) when { context.unsafe == true };
forbid(principal, action == Action::"fs.write", resource);
forbid(principal, action == Action::"payment.charge", resource) when { context.args.amount > 1000 };
permit(principal, action == Action::"payment.charge", resource) when { context.roles.contains("clerk") };
permit(principal, action == Action::"email.send", resource) when { context.roles.contains("admin") && context.risk < 20 };
forbid(principal, action == Action::"email.send", resource) when { context.env == "dev" };
permit(principal, action == Action::"rag.retrieve", resource) when { context.risk <= 80 };
forbid(principal, action == Action::"web.fetch", resource) when { context.risk >= 90 };
"""

CASBIN_MODEL = """\
[request_definition]
r = sub, act

[policy_definition]
p = sub_rule, act, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = (p.act == "*" || r.act == p.act) && eval(p.sub_rule)
"""

CASBIN_POLICY = [
    ("r.sub.risk < 50 and r.sub.env in ('prod', 'staging')", "web.fetch", "allow"),
    ("True", "fs.read", "allow"),
    ("True", "summarize", "allow"),
    ("r.sub.unsafe == True", "*", "deny"),
    ("True", "fs.write", "deny"),
    ("r.sub.amount > 1000", "payment.charge", "deny"),
    ("'clerk' in r.sub.roles", "payment.charge", "allow"),
    ("'admin' in r.sub.roles and r.sub.risk < 20", "email.send", "allow"),
    ("r.sub.env == 'dev'", "email.send", "deny"),
    ("r.sub.risk <= 80", "rag.retrieve", "allow"),
    ("r.sub.risk >= 90", "web.fetch", "deny"),
]


HAND_RULES: list[tuple[str, tuple[str, ...] | None, Callable[[dict[str, Any]], bool] | None]] = [
    ("allow", ("web.fetch",), lambda c: c["risk"] < 50 and c["env"] in ("prod", "staging")),
    ("allow", ("fs.read", "summarize"), None),
    ("deny", None, lambda c: c["unsafe"] is True),
    ("deny", ("fs.write",), None),
    ("deny", ("payment.charge",), lambda c: c["args"]["amount"] > 1000),
    ("allow", ("payment.charge",), lambda c: "clerk" in c["roles"]),
    ("allow", ("email.send",), lambda c: "admin" in c["roles"] and c["risk"] < 20),
    ("deny", ("email.send",), lambda c: c["env"] == "dev"),
    ("allow", ("rag.retrieve",), lambda c: c["risk"] <= 80),
    ("deny", ("web.fetch",), lambda c: c["risk"] >= 90),
]
HAND_INDEX = {a: (tuple(t for e, acts, t in HAND_RULES if e == "deny" and (acts is None or a in acts)),
                  tuple(t for e, acts, t in HAND_RULES if e == "allow" and (acts is None or a in acts)))
              for a in ACTIONS}
_NOTHING: tuple[tuple[Any, ...], tuple[Any, ...]] = ((), ())


def hand_closures(action: str, ctx: dict[str, Any]) -> str:
    """What one would write by hand in our shape: a closure per rule, an index by action,
    deny over allow, default deny (no reasons, no rule ids, no checks of value types)."""
    denies, allows = HAND_INDEX.get(action, _NOTHING)
    for t in denies:
        if t is None or t(ctx):
            return "deny"
    for t in allows:
        if t is None or t(ctx):
            return "allow"
    return "deny"


# the same closures, but giving our answer: the effect and every applicable rule of the deciding
# effect (ids as `agentos` derives them: file:line), which a decision must list
HAND_IDS = [f"bench10.policy:{6 + i}" for i in range(len(HAND_RULES))]
HAND_INDEX_IDS = {a: (tuple((HAND_IDS[i], t) for i, (e, acts, t) in enumerate(HAND_RULES)
                            if e == "deny" and (acts is None or a in acts)),
                      tuple((HAND_IDS[i], t) for i, (e, acts, t) in enumerate(HAND_RULES)
                            if e == "allow" and (acts is None or a in acts)))
                  for a in ACTIONS}


def hand_closures_same_answer(action: str, ctx: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Hand-written closures that return what a decision must: effect plus all deciding rule ids."""
    denies, allows = HAND_INDEX_IDS.get(action, _NOTHING)
    hit = [rid for rid, t in denies if t is None or t(ctx)]
    if hit:
        return "deny", tuple(hit)
    hit = [rid for rid, t in allows if t is None or t(ctx)]
    return ("allow", tuple(hit)) if hit else ("deny", ())


def hand_written(action: str, ctx: dict[str, Any]) -> str:
    """The 10 rules as plain Python, with the same fail-closed reading of the kill switch."""
    unsafe = ctx.get("unsafe")
    if unsafe is not False:
        return "deny"  # true, missing or not a boolean
    if action == "web.fetch":
        risk = ctx["risk"]
        if risk >= 90:
            return "deny"
        return "allow" if risk < 50 and ctx["env"] in ("prod", "staging") else "deny"
    if action == "fs.read" or action == "summarize":
        return "allow"
    if action == "payment.charge":
        if ctx["args"]["amount"] > 1000:
            return "deny"
        return "allow" if "clerk" in ctx["roles"] else "deny"
    if action == "email.send":
        if ctx["env"] == "dev":
            return "deny"
        return "allow" if "admin" in ctx["roles"] and ctx["risk"] < 20 else "deny"
    if action == "rag.retrieve":
        return "allow" if ctx["risk"] <= 80 else "deny"
    return "deny"


def requests(n: int, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        roles = rnd.sample(["clerk", "admin", "guest"], rnd.randint(0, 2))
        out.append((rnd.choice(ACTIONS), {"risk": rnd.randint(0, 100), "env": rnd.choice(["prod", "staging", "dev"]),
                                          "roles": roles, "unsafe": rnd.random() < 0.05,
                                          "args": {"amount": rnd.randint(0, 2000)}}))
    return out


def per_decision_us(fn: Callable[[], None], n: int, rounds: int) -> float:
    """The median over rounds of (round time / decisions), loop overhead included."""
    fn()  # warm caches
    gc.disable()
    try:
        times = []
        for _ in range(rounds):
            start = time.perf_counter_ns()
            fn()
            times.append((time.perf_counter_ns() - start) / n / 1000)
    finally:
        gc.enable()
    return statistics.median(times)


def generated(n: int, seed: int = 1) -> str:
    """n rules over n/4 actions: conditions on numbers, strings, sets and booleans."""
    rnd = random.Random(seed)
    lines = ["attribute risk: number", "attribute env: string", "attribute roles: set<string>",
             "attribute args.amount: number", "attribute unsafe: bool"]
    actions = max(5, n // 4)
    for _ in range(n):
        a = f"svc{rnd.randrange(actions)}.op{rnd.randrange(4)}"
        k = rnd.randrange(6)
        if k == 0:
            lines.append(f'ALLOW {a} IF risk < {rnd.randrange(1, 100)} AND env IN ["prod", "staging"]')
        elif k == 1:
            lines.append(f"DENY {a} IF args.amount > {rnd.randrange(100, 10000)}")
        elif k == 2:
            lines.append(f'ALLOW {a}, svc{rnd.randrange(actions)}.* IF "admin" IN roles')
        elif k == 3:
            lines.append(f"REQUIRE CONSENT FOR {a} IF args.amount >= {rnd.randrange(10, 100)}")
        elif k == 4:
            lines.append(f'ALLOW {a} IF env == "prod" OR NOT (has roles)')
        else:
            lines.append(f"DENY {a} IF unsafe")
    return "\n".join(lines) + "\n"


def generated_requests(n_rules: int, n: int, seed: int = 2) -> list[tuple[str, dict[str, Any]]]:
    rnd = random.Random(seed)
    actions = max(5, n_rules // 4)
    return [(f"svc{rnd.randrange(actions)}.op{rnd.randrange(4)}",
             {"risk": rnd.randrange(100), "env": rnd.choice(["prod", "staging", "dev"]),
              "roles": ["admin"] if rnd.random() < 0.5 else ["user"], "unsafe": False,
              "args": {"amount": rnd.randrange(20000)}}) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=30)
    opts = ap.parse_args()
    reqs = requests(opts.requests)
    n = len(reqs)

    ours = compile_sources([("bench10.policy", OURS_10.encode())]).policy
    assert ours.ok
    expected = [hand_written(a, c) for a, c in reqs]
    got = [ours.decide(a, c).effect for a, c in reqs]
    assert got == expected, "our decisions differ from the hand-written closures"
    figures: dict[str, float | None] = {}

    def run_ours() -> None:
        decide = ours.decide
        for a, c in reqs:
            decide(a, c)

    assert [hand_closures(a, c) for a, c in reqs] == expected

    def run_hand() -> None:
        for a, c in reqs:
            hand_closures(a, c)

    assert [hand_closures_same_answer(a, c) for a, c in reqs] == [
        (d.effect, d.rules) for d in (ours.decide(a, c) for a, c in reqs)], "ids differ from ours"

    def run_hand_same() -> None:
        for a, c in reqs:
            hand_closures_same_answer(a, c)

    def run_inlined() -> None:
        for a, c in reqs:
            hand_written(a, c)

    figures["ours, 10 rules"] = per_decision_us(run_ours, n, opts.rounds)
    figures["hand-written closures, 10 rules"] = per_decision_us(run_hand, n, opts.rounds)
    figures["hand-written closures, same answer (effect + rule ids), 10 rules"] = per_decision_us(
        run_hand_same, n, opts.rounds)
    figures["one hand-written function, 10 rules"] = per_decision_us(run_inlined, n, opts.rounds)

    try:
        import cedarpy

        batch = [{"principal": 'User::"u"', "action": f'Action::"{a}"', "resource": 'Res::"r"', "context": c}
                 for a, c in reqs]
        answers = cedarpy.is_authorized_batch(batch, CEDAR_10, [])
        assert [("allow" if x.allowed else "deny") for x in answers] == expected, "cedarpy disagrees"
        policy_set = cedarpy.PolicySet.from_str(CEDAR_10)  # parsed once: cedarpy's fastest use
        entities = cedarpy.Entities.from_json_str("[]") if hasattr(cedarpy, "Entities") else []
        sample = batch[:200]

        def run_cedar_batch() -> None:
            cedarpy.is_authorized_batch(batch, policy_set, entities)

        def run_cedar_single() -> None:
            for b in sample:
                cedarpy.is_authorized(b, policy_set, entities)

        figures["cedarpy is_authorized_batch, 10 rules"] = per_decision_us(run_cedar_batch, n, max(5, opts.rounds // 3))
        figures["cedarpy is_authorized (one call each), 10 rules"] = per_decision_us(run_cedar_single, len(sample), 5)
    except ImportError:
        figures["cedarpy"] = None

    try:
        import casbin
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            model = Path(tmp) / "model.conf"
            model.write_text(CASBIN_MODEL)
            enforcer = casbin.Enforcer(str(model))
            for rule in CASBIN_POLICY:
                enforcer.add_policy(*rule)
        subs = [(SimpleNamespace(risk=c["risk"], env=c["env"], roles=c["roles"], unsafe=c["unsafe"],
                                 amount=c["args"]["amount"]), a) for a, c in reqs]
        verdicts = ["allow" if enforcer.enforce(s, a) else "deny" for s, a in subs]
        assert verdicts == expected, "casbin disagrees"
        sample_c = subs[:300]

        def run_casbin() -> None:
            for s, a in sample_c:
                enforcer.enforce(s, a)

        figures["casbin (ABAC eval), 10 rules"] = per_decision_us(run_casbin, len(sample_c), 5)
    except ImportError:
        figures["casbin"] = None

    for size in (1000, 10_000):
        big = compile_sources([(f"bench{size}.policy", generated(size).encode())]).policy
        assert big.ok
        big_reqs = generated_requests(size, n)

        def run_big() -> None:
            decide = big.decide
            for a, c in big_reqs:
                decide(a, c)

        figures[f"ours, {size:,} rules"] = per_decision_us(run_big, n, opts.rounds)

    text = generated(10_000).encode()
    compile_times = []
    for _ in range(3):
        start = time.perf_counter()
        result = compile_sources([("bench10000.policy", text)])
        compile_times.append(time.perf_counter() - start)
        assert result.ok
    print(f"policy benchmark: {n} requests, {opts.rounds} rounds, Python {sys.version.split()[0]}")
    for name, value in figures.items():
        print(f"  {name:<50} {'n/a (not installed)' if value is None else f'{value:8.3f} us/decision'}")
    print(f"  {'compile 10,000 rules with analysis (median of 3)':<50} {statistics.median(compile_times):8.3f} s")
    ours10 = figures["ours, 10 rules"] or 0.0
    hand = figures["hand-written closures, 10 rules"] or 1.0
    cedar = figures.get("cedarpy is_authorized_batch, 10 rules")
    same = figures["hand-written closures, same answer (effect + rule ids), 10 rules"] or 1.0
    print(f"  ratio ours / hand-written closures: {ours10 / hand:.2f}x "
          f"(/ closures giving the same answer: {ours10 / same:.2f}x)")
    if cedar:
        print(f"  cedarpy batch / ours: {cedar / ours10:.1f}x")


if __name__ == "__main__":
    main()
