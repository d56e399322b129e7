"""`agentos validate` against documents written straight from design/documents.md.

Valid documents exercise every field of each kind's table and every reading the
"Precise rules" allow (they must pass with no error: a false positive is as bad as a
miss); each invalid one breaks one precise rule and must be reported with its code at
the exact line and column (interfaces.md, "Locations").
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app

runner = CliRunner()
HEAD = "apiVersion: agentos/v0.2\n"

CONTRACT = HEAD + """\
kind: AgentContract
name: full_agent-1
version: "1.2.3"
tenant: acme
role: analyst
class:
  latency: HRT
  slo:
    wcet_ms: 2.5
    period_ms: 10
    deadline_ms: 20
    jitter_ms: 0.000001
    blocking_ms: 1
capabilities: [web.fetch, mcp.github.create_issue, fs.read]
compute: {cpu: 500m, mem: 2Gi}
modelPolicy:
  allow:
    - local/8B
    - llm_cloud_70B@>=2.0,<3
    - asr_local_v2..v3
    - asr_cloud_v2
  max_context_tokens: 8192
  max_output_tokens: 256
memory:
  namespace: acme-ns
  retention_days: 30
  rag: {top_k: 5, require_grounding: true}
security:
  consent_for: [fs.read, mcp.github.create_issue]
observability:
  tracing: opentelemetry
  log_fields: [prompt, sources]
budgets:
  tokens: 100000
  tokens_per_minute: 1000
  calls: 100
  calls_per_minute: 10
  cost_per_day: 2.5
policies: []
binding:
  mode: flexible
  must:
    model: [local/8B, "llm_cloud_70B@>=2.0,<3"]
    placement: edge-only
    tools: mcp.github.create_issue
    embed_store: vec1
    tags: [gpu]
  prefer:
    model: local/8B
    placement: [edge, cloud]
    tools: [web.fetch]
    embed_store: [vec1, vecdb_A]
    tags: fast
  allow_fallbacks:
    - when: bandwidth_low
      substitute: {model: asr_local_v2}
    - when: context_exceeds_local
      substitute: {model: llm_cloud_70B, redact: true, placement: cloud, tools: [web.fetch], embed_store: vec1, tags: [x]}
  canary:
    percent: 10
    rollback_on: {latency_p95_ms: 200, error_rate_pct: 1.5}
"""

MORE_CONTRACTS = HEAD + """\
kind: AgentContract
name: srt1
class:
  latency: SRT
  slo: {onset_ms: 300, turn_ms: 1200, jitter_p95_pct: 20}
capabilities: [web.fetch, summarize]
compute: {cpu: "1", mem: 2GiB}
observability: {tracing: true}
binding:
  mode: smooth
  canary: {percent: 5, rollback_on: {latency_p95_ms: 900}}
---
apiVersion: agentos/v0.2
kind: AgentContract
name: dt1
class: {latency: DT, slo: {deadline_s: 3600}}
compute: {cpu: 2, mem: 512Mi}
---
apiVersion: agentos/v0.2
kind: AgentContract
name: dt2
class: {latency: DT, slo: {tokens_per_hour: 3e6}}
---
apiVersion: agentos/v0.2
kind: AgentContract
name: hrt_period_only
class: {latency: HRT, slo: {wcet_ms: 1, period_ms: 10}}
---
apiVersion: agentos/v0.2
kind: AgentContract
name: hrt-deadline-only
class: {latency: HRT, slo: {wcet_ms: 0.5e0, deadline_ms: 010}}
"""

WORKFLOW = HEAD + """\
kind: Workflow
name: city_permit_assistant
deadline_ms: 10000
inputs: {user_query: string, n: number, flag: bool}
steps:
  - id: summarize
    agent: srt1
    bind: smooth
    contract:
      class: {latency: SRT, slo: {turn_ms: 1000}}
      capabilities: [summarize]
      budgets: {tokens: 50000}
      binding: {mode: strict}
    in: {pages: [html]}
    out: {answer: markdown, citations: [uri]}
  - id: plan
    agent: srt1
    bind: strict
    contract: {class: {latency: SRT}, capabilities: ["web.fetch"]}
    in: {user_query: string, n: number}
    out: {plan: json}
  - id: browse
    agent: srt1
    in: {plan: json}
    out: {pages: [html]}
  - id: use
    agent: srt1
    in: {answer: string, flag: bool}
    out: {final: string}
  - id: approve_send
    type: HITL_approval
    policy: {consent_for: ["email.send"]}
    timeout_s: 300
    escalate_to: manager
    in: {answer, citations}
"""

PLATFORM = HEAD + """\
kind: Platform
name: lab_platform
orchestration_overhead_ms: 20
defaults:
  budgets: {tokens: 1000000}
  binding: {mode: flexible}
  modelPolicy: {max_output_tokens: 256}
tenants:
  - name: acme
    defaults:
      security: {consent_for: [fs.write]}
      binding: {must: {placement: [edge, on-prem]}}
    roles:
      - name: analyst
        defaults: {capabilities: [web.fetch, fs.read, mcp.github.*], class: {latency: SRT}}
nodes:
  - {name: edge-1, placement: edge, cores: 4, mem: 8Gi, scheduler: EDF, tags: [gpu]}
  - {name: cloud_1, placement: cloud, cores: 64, mem: 256GiB, scheduler: RM}
  - {name: prem, placement: on-prem, cores: 8, mem: 32G}
models:
  - name: local/8B
    version: "2.10"
    placement: edge
    onset_ms_p95: 120.5
    tokens_per_s: 40
    max_context_tokens: 8192
    cost_per_1k_tokens: 0.0
    capacity_tokens_per_min: 60000
    tags: [small]
  - {name: llm_cloud_70B, version: "2.1.0", placement: cloud, onset_ms_p95: 300, tokens_per_s: 80}
tools:
  - name: mcp.github.create_issue
    version: "1.0"
    rtt_ms_p95: 150
    placement: cloud
    title: Create issue
    description: create an issue
    inputSchema: {type: object, properties: {title: {type: string}}, required: [title]}
    outputSchema: {type: object}
    annotations: {title: Create issue, readOnlyHint: false, destructiveHint: false, openWorldHint: true}
  - {name: web.fetch, version: "3", rtt_ms_p95: 80, annotations: {readOnlyHint: true}}
embed_stores:
  - {name: vec1, placement: on-prem, tags: [pii-ok]}
  - {name: vecdb_A, placement: edge}
reservations: [manifests/a.manifest.json]
"""

TASKSET = HEAD + """\
kind: TaskSet
name: robot-safety
scheduler: FP
cores: 2
tasks:
  - {name: guard, period_ms: 10, wcet_ms: 2, deadline_ms: 10, jitter_ms: 0, priority: 1, core: 0, blocking_ms: 0.5}
  - {name: planner, period_ms: 40, wcet_ms: 9.5, priority: 2, core: 1}
  - {name: slow, period_ms: 40, wcet_ms: 0.000001, deadline_ms: 80, priority: 2}
"""

POLICY_TEST = HEAD + """\
kind: PolicyTest
policies: [p.policy]
contract: contract.yaml
cases:
  - {name: allow-fetch, action: web.fetch, context: {user: a}, expect: allow}
  - {name: deny, action: fs.write, context: {}, args: {path: /x}, expect: deny, rules: [r1]}
  - {name: consent, action: fs.read, context: {}, expect: consent}
"""


def validate(tmp_path: Path, files: dict[str, str]) -> tuple[int, list[dict]]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    args = [str(tmp_path / n) for n in files if n.endswith(".yaml")]
    result = runner.invoke(app, ["validate", *args, "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)["diagnostics"]


def test_every_field_of_every_kind_validates_clean(tmp_path: Path) -> None:
    code, diags = validate(tmp_path, {
        "contract.yaml": CONTRACT, "more.yaml": MORE_CONTRACTS, "workflow.yaml": WORKFLOW,
        "platform.yaml": PLATFORM, "taskset.yaml": TASKSET, "cases.yaml": POLICY_TEST,
        "manifests/a.manifest.json": "{}",
    })
    assert [d for d in diags if d["severity"] == "error"] == []
    # the only findings: D > T (supported, noticed) and the paper's `edge-only`
    assert sorted((d["code"], d["line"], d["column"]) for d in diags) == [("AC114", 12, 18), ("AC127", 45, 16)]
    assert code == 0


def test_missing_reservation_is_a_diagnostic_not_a_crash(tmp_path: Path) -> None:
    # regression: AC224's `{path}` clashed with the pointer argument -> TypeError
    code, diags = validate(tmp_path, {"platform.yaml": PLATFORM})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC224", 46, 16)]
    assert "manifests/a.manifest.json" in diags[0]["message"] and diags[0]["path"] == "/reservations/0"
    assert code == 1


def contract(body: str, name: str = "a1") -> str:
    return HEAD + f"kind: AgentContract\nname: {name}\n" + textwrap.dedent(body)


SRT = "class: {latency: SRT, slo: {onset_ms: 100, turn_ms: 1000}}\n"

INVALID_CONTRACTS = {
    # names: lowercase, digits, - and _, at most 63
    "name-upper": (contract(SRT, "Agent"), "AC105", 3, 7),
    "name-underscore-start": (contract(SRT, "_a"), "AC105", 3, 7),
    "name-dot": (contract(SRT, "a.b"), "AC105", 3, 7),
    "name-64": (contract(SRT, "a" * 64), "AC105", 3, 7),
    "model-name": (contract(SRT + "modelPolicy: {allow: [-bad]}\n"), "AC128", 5, 23),
    # refs
    "range-tilde": (contract(SRT + 'modelPolicy: {allow: ["x@~2"]}\n'), "AC121", 5, 23),
    "range-backwards": (contract(SRT + "binding: {must: {model: 'asr_v3..v2'}}\n"), "AC121", 5, 25),
    "contract-version-number": (contract(SRT + "version: 1.2\n"), "AC129", 5, 10),
    # YAML 1.2 scalars: `yes` is a string, `50k` is not a plain number
    "yes-is-a-string": (contract(SRT + "memory: {rag: {require_grounding: yes}}\n"), "AC103", 5, 35),
    "budget-not-plain": (contract(SRT + "budgets: {tokens: 50k}\n"), "AC103", 5, 19),
    # durations
    "seven-decimals": (contract("class: {latency: HRT, slo: {wcet_ms: 1.0000001, period_ms: 10}}\n"), "AC125", 4, 38),
    "exponent-decimals": (contract("class: {latency: HRT, slo: {wcet_ms: 1E-7, period_ms: 10}}\n"), "AC125", 4, 38),
    "infinite": (contract("class: {latency: HRT, slo: {wcet_ms: 1, period_ms: .inf}}\n"), "AC125", 4, 52),
    # HRT
    "hrt-no-wcet": (contract("class:\n  latency: HRT\n  slo:\n    period_ms: 10\n"), "AC110", 6, 3),
    "hrt-no-timing": (contract("class: {latency: HRT, slo: {wcet_ms: 1}}\n"), "AC111", 4, 23),
    "hrt-wcet-over-period": (contract("class: {latency: HRT, slo: {wcet_ms: 11, period_ms: 10}}\n"), "AC112", 4, 38),
    "hrt-jitter-equals-deadline": (
        contract("class: {latency: HRT, slo: {wcet_ms: 1, deadline_ms: 10, jitter_ms: 10}}\n"), "AC113", 4, 69),
    "dt-no-target": (contract("class: {latency: DT}\n"), "AC116", 4, 1),
    # binding modes
    "fallbacks-smooth": (contract(SRT + "binding: {mode: smooth, allow_fallbacks: [{when: x, substitute: {model: m}}]}\n"),
                         "AC122", 5, 25),
    "canary-strict": (contract(SRT + "binding: {mode: strict, canary: {percent: 5}}\n"), "AC123", 5, 25),
    "must-closed-list": (contract(SRT + "binding: {must: {latency: HRT}}\n"), "AC101", 5, 18),
    "placement-enum": (contract(SRT + "binding: {must: {placement: moon}}\n"), "AC104", 5, 29),
    "substitute-closed": (
        contract(SRT + "binding: {mode: flexible, allow_fallbacks: [{when: x, substitute: {priority: 1}}]}\n"),
        "AC101", 5, 68),
    # missing keys at the key of the mapping that lacks them; top level at the document start
    "missing-latency": (contract("class:\n  slo: {deadline_s: 1}\n"), "AC102", 4, 1),
    "missing-class": (contract(""), "AC102", 1, 1),
    "unknown-top-key": (contract(SRT + "latency_class: SRT\n"), "AC101", 5, 1),
}


@pytest.mark.parametrize("case", sorted(INVALID_CONTRACTS))
def test_contract_precise_rules(tmp_path: Path, case: str) -> None:
    text, code, line, column = INVALID_CONTRACTS[case]
    exit_code, diags = validate(tmp_path, {"c.yaml": text})
    assert (code, line, column) in [(d["code"], d["line"], d["column"]) for d in diags], diags
    assert exit_code == 1


def test_edge_only_anywhere_is_only_a_warning(tmp_path: Path) -> None:
    text = contract(SRT + "binding:\n  prefer: {placement: [edge-only, cloud]}\n")
    exit_code, diags = validate(tmp_path, {"c.yaml": text})
    assert [(d["code"], d["severity"], d["line"], d["column"]) for d in diags] == [("AC127", "warning", 6, 24)]
    assert exit_code == 0


def workflow(steps: str, extra: str = "") -> str:
    return HEAD + "kind: Workflow\nname: w1\n" + extra + "steps:\n" + steps


INVALID_WORKFLOWS = {
    "type-mismatch": (workflow("  - {id: a, agent: srt1, out: {x: json}}\n  - {id: b, agent: srt1, in: {x: string}}\n"),
                      "AC203", 6, 34),
    "markdown-not-list": (workflow("  - {id: a, agent: srt1, out: {x: markdown}}\n  - {id: b, agent: srt1, in: {x: [string]}}\n"),
                          "AC203", 6, 34),
    "cycle": (workflow("  - {id: a, agent: srt1, in: {y: json}, out: {x: json}}\n"
                       "  - {id: b, agent: srt1, in: {x: json}, out: {y: json}}\n"), "AC201", 5, 5),
    "unproduced": (workflow("  - {id: a, agent: srt1, in: {z}}\n"), "AC202", 5, 31),
    "no-agent": (workflow("  - {id: a}\n"), "AC209", 5, 5),
    "produced-twice": (workflow("  - {id: a, agent: srt1, in: {q: string}, out: {q: string}}\n", "inputs: {q: string}\n"),
                       "AC207", 6, 49),
    "bad-type": (workflow("  - {id: a, agent: srt1, out: {x: text}}\n"), "AC104", 5, 35),
    "paper-latency-class": (workflow("  - {id: a, agent: srt1, contract: {latency_class: SRT}}\n"), "AC101", 5, 37),
    "looser-class": (workflow("  - {id: a, agent: srt1, contract: {class: {latency: DT}}}\n"), "AC204", 5, 54),
    "looser-capability": (workflow("  - {id: a, agent: srt1, contract: {capabilities: [fs.write]}}\n"), "AC204", 5, 52),
    "looser-bind": (workflow("  - {id: a, agent: srt1, bind: flexible}\n"), "AC210", 5, 32),
    # regressions: an override could loosen SLO targets, token limits and the binding mode
    "looser-turn": (workflow("  - {id: a, agent: srt1, contract: {class: {slo: {turn_ms: 2000}}}}\n"), "AC204", 5, 60),
    "looser-mode": (workflow("  - {id: a, agent: srt1, contract: {binding: {mode: flexible}}}\n"), "AC204", 5, 53),
    "looser-output": (workflow("  - {id: a, agent: srt1, contract: {modelPolicy: {max_output_tokens: 4096}}}\n"),
                      "AC204", 5, 70),
    "step-name": (workflow("  - {id: Plan, agent: srt1}\n"), "AC105", 5, 10),
    "critical-path": (workflow("  - {id: a, agent: srt1, out: {x: json}}\n"
                               "  - {id: h, type: HITL_approval, policy: {consent_for: [x.y]}, timeout_s: 9999, in: {x}, out: {y: json}}\n"
                               "  - {id: b, agent: srt1, in: {y: json}}\n", "deadline_ms: 2000\n"), "AC206", 4, 14),
}


@pytest.mark.parametrize("case", sorted(INVALID_WORKFLOWS))
def test_workflow_precise_rules(tmp_path: Path, case: str) -> None:
    text, code, line, column = INVALID_WORKFLOWS[case]
    exit_code, diags = validate(tmp_path, {"w.yaml": text, "agents.yaml": MORE_CONTRACTS})
    found = [(d["code"], d["line"], d["column"]) for d in diags if d["file"].endswith("w.yaml")]
    assert (code, line, column) in found, found
    assert exit_code == 1


def platform(body: str) -> str:
    return HEAD + "kind: Platform\nname: p\n" + textwrap.dedent(body)


def taskset(tasks: str, extra: str = "") -> str:
    return HEAD + "kind: TaskSet\nname: t\n" + extra + "tasks:\n" + tasks


INVALID_OTHERS = {
    "catalog-version-number": (platform("models:\n  - {name: m, version: 2.10, placement: edge}\n"), "AC129", 5, 24),
    "node-missing-name": (platform("nodes:\n  - placement: edge\n    cores: 1\n"), "AC102", 5, 5),
    "node-scheduler": (platform("nodes:\n  - {name: n, placement: edge, cores: 1, scheduler: DM}\n"), "AC104", 5, 53),
    "tool-unknown-key": (platform("tools:\n  - {name: t, version: '1', schema: {}}\n"), "AC101", 5, 29),
    "zero-rate": (platform("models:\n  - {name: m, version: '1', placement: edge, tokens_per_s: 0}\n"), "AC221", 5, 60),
    "task-decimals": (taskset("  - {name: a, period_ms: 10, wcet_ms: 1.0000001}\n"), "AC125", 5, 39),
    "task-fp-priority": (taskset("  - {name: a, period_ms: 10, wcet_ms: 1}\n", "scheduler: FP\n"), "AC232", 6, 5),
    "task-core": (taskset("  - {name: a, period_ms: 10, wcet_ms: 1, core: 2}\n", "cores: 2\n"), "AC231", 6, 48),
    "task-period": (taskset("  - {name: a, period_ms: 0, wcet_ms: 1}\n"), "AC117", 5, 26),
    "policy-test-expect": (HEAD + "kind: PolicyTest\npolicies: [p.policy]\ncases:\n"
                           "  - {name: c, action: a.b, context: {}, expect: maybe}\n", "AC104", 5, 49),
}


@pytest.mark.parametrize("case", sorted(INVALID_OTHERS))
def test_platform_taskset_policytest_precise_rules(tmp_path: Path, case: str) -> None:
    text, code, line, column = INVALID_OTHERS[case]
    exit_code, diags = validate(tmp_path, {"x.yaml": text})
    assert (code, line, column) in [(d["code"], d["line"], d["column"]) for d in diags], diags
    assert exit_code == 1


def test_columns_count_code_points_and_a_bom_is_not_a_column(tmp_path: Path) -> None:
    text = "\ufeff" + contract('class: {latency: DT, slo: {deadline_s: 1}}\ncapabilities: ["é", 1]\n')
    exit_code, diags = validate(tmp_path, {"c.yaml": text})
    assert ("AC103", 5, 21) in [(d["code"], d["line"], d["column"]) for d in diags]
    assert exit_code == 1


def test_unreadable_path_wins_over_invalid_document(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(contract("class: {latency: DT}\n"), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path / "c.yaml"), str(tmp_path / "nope.yaml"), "--format", "json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 2
    assert [(d["code"], d["line"], d["column"]) for d in doc["diagnostics"] if d["code"] == "AC001"] == [("AC001", 1, 1)]


def test_unquoted_range_in_flow_list_hints_at_quoting(tmp_path: Path) -> None:
    exit_code, diags = validate(tmp_path, {"c.yaml": contract(SRT + "modelPolicy: {allow: [llm@>=2.0,<3]}\n")})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC128", 5, 33)]
    assert "quoted" in diags[0]["hint"]
    assert exit_code == 1


def test_catalog_version_number_hint_quotes_the_text_as_written(tmp_path: Path) -> None:
    exit_code, diags = validate(tmp_path, {"p.yaml": platform("tools:\n  - {name: t, version: 2.10}\n")})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC129", 5, 24)]
    assert '"2.10"' in diags[0]["hint"] and "2.10" in diags[0]["message"]
    assert exit_code == 1


@pytest.mark.parametrize(("text", "line", "column"), [
    # regression: only SLOs and task times were checked for exactness
    (workflow("  - {id: a, agent: srt1, turn_ms: 2}\n", "deadline_ms: 1.0000001\n"), 4, 14),
    (workflow("  - {id: a, agent: srt1, turn_ms: 2.0000001}\n"), 5, 35),
    (workflow("  - {id: h, type: HITL_approval, policy: {consent_for: [a.b]}, timeout_s: 0.0000000001}\n"), 5, 75),
    (platform("models: [{name: m, version: '1', placement: edge, onset_ms_p95: 0.00000001}]\n"), 4, 65),
    (platform("tools: [{name: t, version: '1', rtt_ms_p95: 1.0000001}]\n"), 4, 45),
    (platform("orchestration_overhead_ms: 1.0000001\n"), 4, 28),
    (contract("class: {latency: DT, slo: {deadline_s: 1.0000000001}}\n"), 4, 40),
    (contract(SRT + "binding: {mode: smooth, canary: {percent: 1, rollback_on: {latency_p95_ms: 1.0000001}}}\n"), 5, 76),
])
def test_every_duration_is_exact(tmp_path: Path, text: str, line: int, column: int) -> None:
    exit_code, diags = validate(tmp_path, {"d.yaml": text})
    assert [(d["code"], d["line"], d["column"]) for d in diags if d["code"] == "AC125"] == [("AC125", line, column)]
    assert exit_code == 1


def test_mcp_schemas_and_request_data_are_not_durations(tmp_path: Path) -> None:
    text = platform("tools:\n  - name: t\n    version: '1'\n"
                    "    inputSchema: {type: object, properties: {wait_ms: {type: number, default: 0.00000001}}}\n")
    exit_code, diags = validate(tmp_path, {"p.yaml": text})
    assert diags == [] and exit_code == 0


@pytest.mark.parametrize(("text", "code", "line", "column"), [
    # regression: partial AgentContracts (step overrides, platform defaults) had no contract checks
    (workflow("  - {id: a, agent: srt1, contract: {compute: {cpu: lots}}}\n"), "AC126", 5, 52),
    (workflow("  - {id: a, agent: srt1, contract: {modelPolicy: {allow: ['x@~2']}}}\n"), "AC121", 5, 59),
    (workflow("  - {id: a, agent: srt1, contract: {binding: {must: {placement: moon}}}}\n"), "AC104", 5, 65),
    (workflow("  - {id: a, agent: srt1, contract: {binding: {mode: strict, canary: {percent: 1}}}}\n"), "AC123", 5, 61),
    (platform("defaults: {compute: {cpu: lots}}\n"), "AC126", 4, 27),
    (platform("tenants: [{name: t, defaults: {capabilities: [a..b]}}]\n"), "AC120", 4, 47),
    (platform("tenants: [{name: t, roles: [{name: r, defaults: {class: {latency: SRT, slo: {onset_ms: 9, turn_ms: 1}}}}]}]\n"),
     "AC115", 4, 88),
])
def test_partial_contracts_get_contract_checks(tmp_path: Path, text: str, code: str, line: int, column: int) -> None:
    exit_code, diags = validate(tmp_path, {"d.yaml": text})
    assert (code, line, column) in [(d["code"], d["line"], d["column"]) for d in diags], diags
    assert exit_code == 1


def test_partial_contracts_may_leave_requirements_to_other_layers(tmp_path: Path) -> None:
    # no wcet_ms/period_ms for HRT, canary without a mode, consent outside its own capabilities
    text = workflow("  - {id: a, agent: srt1, contract: {class: {latency: HRT}, binding: {canary: {percent: 1}},"
                    " security: {consent_for: [fs.read]}}}\n")
    exit_code, diags = validate(tmp_path, {"w.yaml": text})
    assert diags == [] and exit_code == 0


def test_step_override_may_not_ask_for_more_compute(tmp_path: Path) -> None:
    text = workflow("  - {id: a, agent: srt1, contract: {compute: {cpu: 1500m, mem: 4Gi}}}\n")
    exit_code, diags = validate(tmp_path, {"w.yaml": text, "agents.yaml": MORE_CONTRACTS})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC204", 5, 52), ("AC204", 5, 64)]
    assert exit_code == 1


def test_task_with_only_deadline_is_valid_and_with_neither_is_not(tmp_path: Path) -> None:
    # regression: the schema required `period_ms` though build.py (like HRT) defaults it to `deadline_ms`
    exit_code, diags = validate(tmp_path, {"t.yaml": taskset("  - {name: a, wcet_ms: 1, deadline_ms: 5}\n")})
    assert diags == [] and exit_code == 0
    exit_code, diags = validate(tmp_path, {"t.yaml": taskset("  - {name: a, wcet_ms: 1}\n")})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC102", 5, 5)]
    assert "deadline_ms" in diags[0]["hint"] and exit_code == 1


def test_rates_are_not_durations(tmp_path: Path) -> None:
    text = platform("models: [{name: m, version: '1', placement: edge, tokens_per_s: 33.3333333333}]\n")
    exit_code, diags = validate(tmp_path, {"p.yaml": text})
    assert diags == [] and exit_code == 0


def test_paper_latency_class_hints_at_the_canonical_key(tmp_path: Path) -> None:
    exit_code, diags = validate(tmp_path, {"w.yaml": workflow("  - {id: a, agent: srt1, contract: {latency_class: SRT}}\n")})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC101", 5, 37)]
    assert "class: {latency:" in diags[0]["hint"] and exit_code == 1


def test_integer_valued_floats_count_as_integers(tmp_path: Path) -> None:
    # regression: `cores: 2.0` passed the schema (JSON Schema integers) but the core check
    # skipped it and `agentos sched` crashed on the float
    exit_code, diags = validate(tmp_path, {"t.yaml": taskset("  - {name: a, period_ms: 10, wcet_ms: 1, core: 2.0}\n",
                                                              "cores: 2.0\n")})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC231", 6, 48)]
    from agentos_contracts.validate.build import build_taskset

    ts = build_taskset({"name": "t", "cores": 2.0, "tasks": [{"name": "a", "period_ms": 10, "wcet_ms": 1,
                                                               "core": 1.0, "priority": 1e0}]})
    assert (ts.cores, ts.tasks[0].core, ts.tasks[0].priority) == (2, 1, 1)
    assert all(type(x) is int for x in (ts.cores, ts.tasks[0].core, ts.tasks[0].priority))


def test_step_agent_must_be_a_contract_name(tmp_path: Path) -> None:
    # regression: without the contracts alongside, an agent no contract could be named was accepted
    exit_code, diags = validate(tmp_path, {"w.yaml": workflow("  - {id: a, agent: Browser Agent}\n")})
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC105", 5, 20)]
    assert exit_code == 1
