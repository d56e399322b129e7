"""The one table of stable diagnostic codes.

Codes are ``AC`` + three digits, grouped by stage; once released a code is never
reused or renumbered (docs/codes.md lists each with an example and a fix).
Messages follow Cedar's style: lowercase, no final period, user input in backticks.

Ranges: AC0xx load, AC1xx contract schema and semantics, AC2xx workflow, platform,
task set and cross-document, AC3xx policy, AC4xx schedulability, AC5xx binding and
admission, AC6xx seal and verify, AC7xx runtime and audit, AC9xx tool errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentos_contracts.diagnostics import Severity

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True, slots=True)
class Code:
    title: str
    message: str
    hint: str = ""
    severity: Severity = E


CODES: dict[str, Code] = {
    # --- load (AC0xx) ---
    "AC001": Code("file-unreadable", "cannot read `{file}`: {reason}", "check the path and its permissions"),
    "AC002": Code("not-utf8", "file is not valid UTF-8 (byte 0x{byte:02x} at offset {offset})", "save the file as UTF-8"),
    "AC003": Code("empty-file", "file holds no document", "add a document with `apiVersion` and `kind`, or remove the file"),
    "AC004": Code("yaml-syntax", "invalid YAML: {problem}", "fix the YAML syntax at this place"),
    "AC005": Code("tab-indent", "tab character used for indentation", "YAML indentation must use spaces; replace the tab with spaces"),
    "AC006": Code("duplicate-key", "duplicate key `{key}` (first at line {first_line})", "remove one of the two entries; YAML keeps only one"),
    "AC007": Code("file-too-large", "file is {size} bytes, over the limit of {limit}", "split the file into smaller documents"),
    "AC008": Code("too-deep", "nesting deeper than {limit} levels", "flatten the document"),
    "AC009": Code("alias-bomb", "aliases expand to more than {limit} nodes", "do not use YAML aliases to repeat large structures"),
    "AC010": Code("not-a-mapping", "top level of a document must be a mapping, found {found}", "start the document with `apiVersion: agentos/v0.2` and `kind: ...`"),
    "AC011": Code("unknown-kind", "unknown kind `{kind}`", "use one of: {choices}"),
    "AC012": Code("unknown-api-version", "unknown apiVersion `{version}`", "use `apiVersion: agentos/v0.2`"),
    "AC013": Code("missing-kind", "document has no `{key}`", "add `{key}: {example}`"),
    "AC014": Code("no-documents", "no documents found in the given paths", "pass YAML files (*.yaml, *.yml) or folders that contain them"),
    "AC015": Code("non-string-key", "mapping key must be a string, found {found}", "quote the key"),
    "AC016": Code("unsupported-yaml", "unsupported YAML feature: {what}", "use plain YAML mappings, lists and scalars"),
    # --- the paper's document forms and `agentos migrate` (AC050–AC053) ---
    "AC050": Code("paper-form", "this is the Agent-OS paper's form of a{n} {kind}; `agentos migrate {file}` rewrites it as agentos/v0.2", "run `agentos migrate {file}` to see the rewrite, `--write` to apply it; the findings below are what would remain"),
    "AC051": Code("cannot-carry-over", "`{key}` has no place in the canonical {kind}; it is left as written", "move or remove it by hand (docs/migrate.md lists what maps where)"),
    "AC052": Code("not-a-number", "`{key}` is `{value}`, not a number; it cannot be carried over", "write the measured number; migrate never guesses a value"),
    "AC053": Code("would-overwrite", "`{file}` exists with other content; not overwritten", "rename or remove the existing file, then migrate again"),
    "AC017": Code("not-agentos", "skipped: not an agentos document ({reason})", "found by searching a folder, only YAML with `apiVersion: agentos/...` (or `agentos.dev/...`) is checked; name the file, or pass `--strict`, to check it anyway", Severity.NOTE),
    # --- contract schema and semantics (AC1xx) ---
    "AC100": Code("schema", "{message}", "{hint}"),
    "AC101": Code("unknown-key", "unknown key `{key}`", "{hint}"),
    "AC102": Code("missing-key", "missing required key `{key}`", "add `{key}`"),
    "AC103": Code("wrong-type", "{message}", "{hint}"),
    "AC104": Code("bad-enum", "{message}", "{hint}"),
    "AC105": Code("bad-name", "invalid name `{name}`", "{hint}"),
    "AC110": Code("hrt-missing-wcet", "HRT contract has no `wcet_ms`", "add `class.slo.wcet_ms`; a contract that cannot be analysed cannot be admitted"),
    "AC111": Code("hrt-missing-timing", "HRT contract needs `period_ms` or `deadline_ms`", "add `class.slo.deadline_ms` (or `period_ms`)"),
    "AC112": Code("wcet-over-deadline", "`wcet_ms` {wcet} exceeds `deadline_ms` {deadline}", "no schedule can meet this deadline; lower `wcet_ms` or raise `deadline_ms`"),
    "AC113": Code("jitter-over-deadline", "`jitter_ms` {jitter} is not below `deadline_ms` {deadline}", "release jitter counts against the deadline (R = w + J); lower `jitter_ms`"),
    "AC114": Code("arbitrary-deadline", "`deadline_ms` {deadline} exceeds `period_ms` {period} (arbitrary deadline)", "supported: analysed with the multiple-job busy-period test; set `deadline_ms <= period_ms` if that was not intended", W),
    "AC115": Code("srt-onset-over-turn", "`onset_ms` {onset} exceeds `turn_ms` {turn}", "the first token cannot come after the whole turn; lower `onset_ms` or raise `turn_ms`"),
    "AC116": Code("dt-missing-target", "DT contract needs `tokens_per_hour` or `deadline_s`", "add `class.slo.tokens_per_hour` and/or `class.slo.deadline_s`"),
    "AC117": Code("not-positive", "`{field}` must be positive, found {value}", "use a number greater than 0"),
    "AC118": Code("negative", "`{field}` must not be negative, found {value}", "use 0 or more"),
    "AC119": Code("consent-outside-capabilities", "`{action}` in `consent_for` is not in `capabilities`", "that is allowed (consent_for widens the ceiling with consent); list it in `capabilities` too if that reads clearer", W),
    "AC120": Code("bad-action-name", "malformed action name `{name}`", "use dot-separated segments of letters, digits, `_` and `-`, each starting with a letter (`web.fetch`), optionally ending in `.*`"),
    "AC121": Code("bad-version-range", "cannot parse version range in `{ref}`: {reason}", "write `name@>=2.0,<3` or the paper's `name_v2..v3`"),
    "AC122": Code("fallbacks-not-flexible", "`allow_fallbacks` needs `binding.mode: flexible`, found `{mode}`", "set `binding.mode: flexible` or remove `allow_fallbacks`"),
    "AC123": Code("canary-strict", "`canary` needs `binding.mode` smooth or flexible, found `{mode}`", "set `binding.mode: smooth` or remove `canary`"),
    "AC124": Code("policy-file-missing", "policy file `{policy}` does not exist", "policy paths are relative to the contract file"),
    "AC125": Code("bad-duration", "`{field}` has more than 6 decimals of a millisecond", "durations have nanosecond resolution; round to 6 decimals"),
    "AC126": Code("bad-quantity", "cannot parse quantity `{value}`", "use a Kubernetes quantity such as `500m`, `2`, `2Gi` or `2GiB`"),
    "AC127": Code("edge-only", "placement `edge-only` is the paper's spelling", "write `placement: [edge]`", W),
    "AC128": Code("bad-model-name", "malformed model or tool name `{name}`", "use letters, digits and `._/-`, starting with a letter or digit"),
    "AC129": Code("unquoted-version", "version `{value}` was read as a number", "quote it: `version: \"{value}\"` (YAML reads 2.10 as 2.1)"),
    "AC130": Code("jitter-negative", "`{field}` must not be negative, found {value}", "use 0 or more"),
    "AC132": Code("empty-capabilities", "contract grants no capabilities", "an agent with no capabilities can do nothing; list the actions it may perform", W),
    "AC133": Code("slo-wrong-class", "`{field}` is not a {latency} objective", "{latency} contracts use {expected}; remove it or change `class.latency`", W),
    # --- workflow, platform, task set, cross-document (AC2xx) ---
    "AC200": Code("duplicate-step", "duplicate step id `{id}` (first at line {first_line})", "give every step a unique `id`"),
    "AC201": Code("workflow-cycle", "step graph has a cycle: {cycle}", "data must flow one way; break the cycle"),
    "AC202": Code("unbound-input", "step `{step}` reads `{name}`, which no earlier step or workflow input produces", "{hint}"),
    "AC203": Code("type-mismatch", "step `{step}` reads `{name}` as `{want}` but it is produced as `{have}`", "make the types agree (`markdown`, `html` and `uri` may feed `string`)"),
    "AC204": Code("override-widens", "step `{step}` override widens its agent's contract: {what}", "a step's `contract` may only narrow (least privilege)"),
    "AC205": Code("hitl-no-consent", "HITL step `{step}` does not name what it approves", "add `policy: {{consent_for: [ACTION]}}`"),
    "AC206": Code("deadline-under-critical-path", "workflow `deadline_ms` {deadline} is below the critical path {path_ms} ms ({route})", "raise `deadline_ms` or tighten the steps' `turn_ms`/`deadline_ms`"),
    "AC207": Code("duplicate-producer", "`{name}` is produced twice ({first} and {second})", "each data name is produced once; rename one"),
    "AC208": Code("unknown-agent", "step `{step}` names agent `{agent}`, which is not among the given contracts", "{hint}"),
    "AC209": Code("step-agent-missing", "step `{step}` needs `agent` or `type: HITL_approval`", "add `agent: CONTRACT-NAME`"),
    "AC210": Code("bind-loosens", "step `{step}` binds `{bind}`, looser than its agent's `{mode}`", "a step's `bind` may only tighten (strict < smooth < flexible)"),
    "AC220": Code("duplicate-name", "duplicate {what} name `{name}` (first at line {first_line})", "names must be unique in a platform"),
    "AC221": Code("not-positive-capacity", "`{field}` must be positive, found {value}", "use a number greater than 0"),
    "AC222": Code("unknown-tenant", "tenant `{tenant}` is not defined in platform `{platform}`", "{hint}"),
    "AC223": Code("unknown-role", "role `{role}` is not defined for tenant `{tenant}` in platform `{platform}`", "{hint}"),
    "AC224": Code("reservation-missing", "reservation `{path}` does not exist", "reservation paths are relative to the platform file"),
    "AC225": Code("unknown-node", "node `{node}` is not defined in this platform", "{hint}"),
    "AC230": Code("duplicate-task", "duplicate task name `{name}`", "give every task a unique name"),
    "AC231": Code("bad-core", "task `{task}` is pinned to core {core} but the set has {cores} core(s)", "cores count from 0"),
    "AC232": Code("priority-missing", "scheduler FP needs a `priority` on every task; `{task}` has none", "add `priority: N` (1 = highest)"),
    "AC241": Code("bad-tool-schema", "`{field}` is not a valid JSON Schema: {reason}", "fix the tool's MCP descriptor; the runtime checks every call's arguments against it"),
    "AC240": Code("duplicate-document", "duplicate {kind} `{name}` (also in {other})", "names must be unique among the inputs"),
    # --- policy (AC3xx) ---
    # (owned by agentos_contracts/policy; add codes between these markers)
    # syntax
    "AC300": Code("policy-syntax", "unexpected {found}, expected {expected}", "{hint}"),
    "AC301": Code("unterminated-string", "unterminated string", "close the string with `\"` on the same line"),
    "AC302": Code("bad-escape", "invalid escape `{escape}` in string", "use one of `\\\"` `\\\\` `\\/` `\\n` `\\r` `\\t` `\\b` `\\f` `\\uXXXX`"),
    "AC303": Code("bad-character", "unexpected character `{char}`", "{hint}"),
    "AC304": Code("bad-number", "number `{text}` is out of range", "numbers must be finite (at most about 1.8e308)"),
    "AC305": Code("unclosed-bracket", "unclosed `{bracket}`", "close it with `{closer}`; a rule may continue onto the next line only inside brackets"),
    "AC306": Code("bad-target", "malformed action name `{name}`", "use dot-separated segments of letters, digits, `_` and `-`, each starting with a letter (`web.fetch`), optionally ending in `.*`, or `*`"),
    "AC307": Code("bad-annotation", "{message}", "{hint}"),
    "AC308": Code("misplaced-header", "{message}", "{hint}"),
    "AC309": Code("unknown-type", "unknown type `{type}`", "{hint}"),
    "AC317": Code("too-deep", "condition nested more than {limit} levels deep", "split the rule into several rules"),
    "AC320": Code("action-attribute", "`action` is the name of the action being decided and has no attributes", "compare it as a string, e.g. `action == \"web.fetch\"` or `action MATCHES \"web.*\"`"),
    "AC321": Code("consent-for-nothing", "`FOR` needs at least one action", "write `REQUIRE CONSENT FOR payment.charge`, or drop `FOR` to cover every action"),
    "AC322": Code("spaced-wildcard", "`.*` must follow `{name}` directly", "write `{name}.*` without a space"),
    # checks (errors)
    "AC310": Code("unknown-attribute", "unknown attribute `{name}`", "{hint}"),
    "AC311": Code("type-mismatch", "{message}", "{hint}"),
    "AC312": Code("argument-type-mismatch", "{message}", "{hint}"),
    "AC313": Code("bad-glob", "malformed glob `{glob}`: {reason}", "`*` any run, `?` one character, `[abc]`/`[!abc]` classes, `\\` escapes"),
    "AC314": Code("duplicate-id", "duplicate rule id `{id}` (first at {first})", "rule ids must be unique across the compiled policies; change one `@id`"),
    "AC315": Code("duplicate-file-name", "two policy files named `{base}` (`{first}` and `{second}`)", "derived rule ids use the file's base name; rename one file"),
    "AC316": Code("conflicting-declaration", "attribute `{name}` declared `{type}` here but `{other}` at {first}", "declare each attribute once, with one type"),
    "AC318": Code("unknown-argument", "tool `{tool}` has no argument `{name}`", "{hint}"),
    # checks (warnings)
    "AC319": Code("cannot-evaluate", "{message}", "{hint}", W),
    "AC330": Code("never-applies", "rule `{id}` can never apply: {witness}", "{hint}", W),
    "AC331": Code("shadowed-allow", "ALLOW rule `{id}` is shadowed by unconditional DENY `{deny}`", "every action it allows is denied, e.g. `{action}`; remove one of the rules or add a condition to the DENY", W),
    "AC332": Code("duplicate-rule", "rule `{id}` repeats rule `{other}`", "remove one of them", W),
    "AC333": Code("outside-ceiling", "{effect} target `{target}` is outside the capabilities of {contract}", "the contract ceiling denies it whatever the policy says; add it to `capabilities` (or `security.consent_for`) or remove the target", W),
    "AC334": Code("consent-without-allow", "consent target `{target}` is allowed by no ALLOW rule", "this rule alone grants the action (with consent); add an ALLOW for it if that is intended", W),
    "AC335": Code("empty-policy", "policy has no rules; every request is denied", "add ALLOW rules for what the agent may do", W),
    "AC336": Code("redundant-declaration", "attribute `{name}` is declared twice", "remove the second declaration", W),
    # compiled form
    "AC340": Code("compiled-unreadable", "cannot read compiled policy: {reason}", "recompile it with `agentos compile`"),
    "AC341": Code("compiled-version", "unknown compiled-policy format version `{version}`", "this agentos reads format version {known}; recompile the policy with it"),
    "AC342": Code("compiled-invalid", "invalid compiled policy at `{where}`: {reason}", "recompile it with `agentos compile`; never edit compiled policies by hand"),
    # eval and test
    "AC350": Code("bad-case-file", "{message}", "{hint}"),
    "AC351": Code("case-failed", "case `{name}`: expected {expected}, got {got}", "{hint}"),
    "AC352": Code("bad-request", "malformed request: {reason}", "a request line is `{{\"action\": \"web.fetch\", \"context\": {{...}}, \"args\": {{...}}}}`"),
    "AC353": Code("uncovered-rule", "rule `{id}` is exercised by no case", "add a case in which this rule applies", W),
    "AC354": Code("no-cases", "no PolicyTest documents in the given paths", "pass YAML files with `kind: PolicyTest`"),
    # --- end policy ---
    # --- schedulability (AC4xx) ---
    # (owned by agentos_contracts/sched; add codes between these markers)
    "AC400": Code("deadline-miss", "task `{task}` misses its deadline: {detail}", "{hint}"),
    "AC401": Code("set-unschedulable", "task set `{name}` is not schedulable: {reason}", "{hint}"),
    "AC402": Code("sched-unknown", "schedulability of `{name}` is unknown: {reason}", "{hint}"),
    "AC403": Code("nothing-to-analyse", "no task sets or HRT contracts in the given paths", "pass `TaskSet` documents or AgentContracts with `class.latency: HRT`"),
    "AC404": Code("set-incomplete", "HRT contracts with errors leave the set incomplete: {names}", "fix those contracts first; analysing the others alone could admit what does not fit"),
    "AC405": Code("gantt-refused", "cannot draw the schedule of `{name}`: {reason}", "draw a shorter window with `--horizon MS`"),
    "AC406": Code("write-failed", "cannot write `{file}`: {reason}", "check the path and its permissions"),
    "AC407": Code("empty-taskset", "task set `{name}` has no tasks", "add tasks, or remove the document"),
    "AC408": Code("too-many-cores", "`cores` {cores} is over the limit of {limit}", "analyse the cores a set really uses; every core adds partitioning work"),
    "AC409": Code("too-many-tasks", "task set has {count} tasks, over the limit of {limit}", "split the set by core or by subsystem and analyse each part"),
    "AC411": Code("time-limit", "the time limit of {limit} s ran out {where}", "raise `--time-limit`, or analyse fewer or smaller sets"),
    # --- end schedulability ---
    # --- binding and admission (AC5xx) ---
    # (owned by agentos_contracts/binding and admit; add codes between these markers)
    "AC500": Code("no-platform", "`{file}` holds no valid Platform document", "pass the platform catalog with `--platform FILE`; `agentos validate FILE` shows what is wrong with it"),
    "AC501": Code("must-conflict", "{name}: layered `binding.must.{key}` leaves nothing: {detail}", "a later layer may only narrow `must`; make the layers' lists share at least one entry"),
    "AC502": Code("ref-not-found", "{name}: {what} `{ref}` matches no catalog entry{have}", "add it to the platform catalog, or widen the reference's range"),
    "AC503": Code("ref-ambiguous", "{name}: strict binding needs exactly one version of `{ref}`, the catalog has {versions}", "pin one version (`{pin}`), or use `binding.mode: smooth` to take the highest"),
    "AC504": Code("must-unmet", "{name}: {detail}", "choose resources that satisfy `binding.must`, or relax it in the contract or its tenant/role layer"),
    "AC505": Code("model-not-allowed", "{name}: model `{ref}` is not in `modelPolicy.allow`", "add it to `modelPolicy.allow`, or name an allowed model in `binding`"),
    "AC506": Code("srt-onset", "{name}: onset {total} ms ({detail}) > onset_ms {limit}", "pick a model with a lower `onset_ms_p95`, or raise `class.slo.onset_ms`"),
    "AC507": Code("srt-turn", "{name}: turn {total} ms ({detail}) > turn_ms {limit}", "use a faster model or fewer/faster tools, lower `max_output_tokens`, or raise `class.slo.turn_ms`"),
    "AC508": Code("dt-rate", "{name}: {detail}", "lower `tokens_per_hour`, raise `deadline_s` or `budgets.tokens_per_minute`, or add model capacity"),
    "AC509": Code("token-capacity", "{name}: model `{model}`: needs {need} tokens/min, {free} free of {capacity}{taken}", "add capacity (`capacity_tokens_per_min` or another deployment), lower the contract's token rate, or admit fewer contracts"),
    "AC510": Code("node-capacity", "{name}: {detail}", "add nodes or cores, lower `compute.cpu`/`compute.mem`, or admit fewer contracts"),
    "AC511": Code("hrt-unschedulable", "{name}: {detail}", "lower `wcet_ms`, raise `deadline_ms`/`period_ms`, or add cores"),
    "AC512": Code("admission-unknown", "{name}: admission undecided: {reason}", "raise `--time-limit`, or admit fewer contracts at once; nothing was admitted on a guess"),
    "AC513": Code("solver-unavailable", "no MILP solver is available ({reason})", "install highspy (`pip install highspy`) or PuLP's CBC (`pip install 'pulp[cbc]'`)"),
    "AC514": Code("workflow-deadline", "{name}: critical path {total} ms ({route}) > deadline_ms {limit}", "use faster bindings for the steps on the path, or raise the workflow's `deadline_ms`"),
    "AC515": Code("workflow-step", "{name}: step `{step}` (agent `{agent}`) cannot be admitted", "see the step's own reasons below; a workflow is admitted only with all its steps"),
    "AC516": Code("workflow-step-unbounded", "{name}: step `{step}` has no time bound for the critical path", "give the step's agent `turn_ms`, `deadline_ms` or `deadline_s`"),
    "AC517": Code("policy-compile", "{name}: policy does not compile against the bound tools: {detail}", "run `agentos compile` on the contract's policies with the platform's tool schemas"),
    "AC518": Code("existing-invalid", "reservation `{file}` is not a manifest admission can count: {reason}", "pass the signer's key with `--pub`, `--existing-unsigned` for unsigned manifests, or remove the file"),
    "AC519": Code("not-admitted", "{name}: not admitted: {detail}", "admit it alone to see which resource it lacks, or add capacity"),
    "AC520": Code("layered-invalid", "{name}: the merged configuration layers do not form a valid contract: {reason}", "check the platform's `defaults` and the tenant and role `defaults` this contract inherits"),
    "AC521": Code("model-unnamed", "{name}: {detail}", "name the models it may use in `modelPolicy.allow` or `binding.must.model`/`binding.prefer.model`"),
    "AC535": Code("manifest-drift", "manifest drifted: {detail}", "re-admit (`agentos admit`) and deploy the new manifest, or revert the change"),
    "AC530": Code("fallback-dropped", "{name}: fallback `{when}` is not recorded: {detail}", "a substitute must satisfy every `binding.must` and the SLOs; change the substitute or the `must`", W),
    "AC531": Code("not-optimal", "the solver stopped at the time limit: bindings are feasible (every constraint re-checked exactly) but not proven {objective}-optimal", "raise `--time-limit` for the optimal binding; the result may differ between runs", W),
    "AC532": Code("canary-no-previous", "{name}: canary for `{model}` has no previous version in range to roll back to", "widen the model's range or add the previous version to the catalog", W),
    "AC533": Code("context-capped", "{name}: model `{model}` has a {have}-token context, below `max_context_tokens` {want}", "the runtime is capped by the model; lower `modelPolicy.max_context_tokens` or add a fallback for long contexts", W),
    "AC534": Code("reservation-ignored", "reservation `{file}` ({what}) is not counted: {reason}", "remove it from `reservations` or re-admit it against this platform", W),
    # --- end binding ---
    # --- seal and verify (AC6xx) ---
    # (owned by agentos_contracts/seal; add codes between these markers)
    "AC601": Code("manifest-not-json", "manifest is not valid JSON: {reason}", "a manifest is the file `agentos admit` wrote; re-admit to get an intact one"),
    "AC602": Code("bad-envelope", "{message}", "a manifest is a DSSE envelope with `payloadType`, `payload` and `signatures`; re-admit to get an intact one"),
    "AC603": Code("wrong-payload-type", "payload type is `{found}`, expected `application/vnd.in-toto+json`", "this is not an agentos binding manifest"),
    "AC604": Code("unsigned", "manifest is unsigned", "re-admit with `--key KEY` (or `AGENTOS_SIGNING_KEY`); unsigned manifests are for local experiments only"),
    "AC605": Code("untrusted-signature", "no signature by a trusted key (signed by {keyids})", "pass the public key that signed the manifest with `--pub`"),
    "AC606": Code("bad-signature", "signature by key `{keyid}` does not verify", "the manifest was altered after sealing; re-admit it"),
    "AC607": Code("bad-payload", "{message}", "the payload was altered or not written by agentos; re-admit it"),
    "AC608": Code("wrong-statement-type", "{message}", "this is not an agentos binding manifest"),
    "AC609": Code("unknown-format-version", "unknown manifest formatVersion `{version}` (this agentos reads {known})", "upgrade agentos, or re-admit with this one"),
    "AC610": Code("unknown-semantics-version", "unknown semanticsVersion `{version}` (this agentos knows {known})", "upgrade agentos, or re-admit with this one"),
    "AC611": Code("manifest-schema", "{message}", "see docs/manifest.md and schemas/binding-manifest.schema.json"),
    "AC612": Code("manifest-expired", "manifest expired at {expires_at}", "re-admit to issue a fresh manifest (`--valid-for`)"),
    "AC613": Code("manifest-rollback", "manifest sequence {sequence} is below the minimum {minimum}", "an older manifest was presented (rollback); deploy the latest one"),
    "AC614": Code("manifest-no-sequence", "manifest has no sequence but at least {minimum} is required", "re-admit with `--sequence N`"),
    "AC615": Code("no-trusted-keys", "no trusted public key given", "pass the signer's public key (`--pub KEY.pub`)"),
    "AC616": Code("bad-timestamp", "{message}", "timestamps are RFC 3339 with an offset, e.g. `2025-01-31T12:00:00Z`"),
    "AC620": Code("key-unusable", "cannot use key `{file}`: {reason}", "keys are Ed25519 PEM files from `agentos keygen` or `openssl genpkey -algorithm ed25519`"),
    "AC621": Code("key-exists", "`{file}` already exists", "pass `--force` to overwrite it, or choose another `--name` or `-o`"),
    "AC622": Code("seal-failed", "cannot seal manifest: {reason}", "this is a bug in admission; please report it with the input that caused it"),
    # --- end seal ---
    # --- runtime and audit (AC7xx) ---
    # (owned by agentos_contracts/runtime; add codes between these markers)
    "AC702": Code("manifest-refused", "manifest `{file}` refused: {reason}", "run `agentos verify {file} --pub KEY` for details; the runtime obeys only intact, sealed manifests"),
    "AC703": Code("manifest-unenforceable", "manifest `{file}` cannot be enforced: {reason}", "re-admit it with a compiled policy and budgets this agentos knows"),
    "AC710": Code("audit-modified", "{message}", "the log was edited after it was written; keep the original and investigate who had write access"),
    "AC711": Code("audit-deleted", "{message}", "records were removed from the log; restore it from a copy or investigate who had write access"),
    "AC712": Code("audit-inserted", "{message}", "a record was added that the runtime did not write; investigate who had write access"),
    "AC713": Code("audit-reordered", "{message}", "records were moved, replaced or renumbered; restore the log from a copy"),
    "AC714": Code("audit-truncated", "{message}", "the end of the log was cut off after a signed checkpoint; restore it from a copy"),
    "AC715": Code("audit-checkpoint", "{message}", "pass the public key of the runtime's `checkpoint_key` with `--pub`"),
    "AC716": Code("audit-unreadable", "{message}", "pass the SQLite audit log the runtime wrote (or its JSON Lines export)"),
    "AC717": Code("audit-locked", "{message}", "one runtime writes a log at a time; stop the other run or use another `--audit` path"),
    "AC718": Code("audit-unattested", "{message}", "give the runtime a `checkpoint_key` and `--pub` here, so a cut-off tail is detected", W),
    "AC720": Code("replay-differs", "record {seq}: `{action}` was decided {recorded}, now {replayed}", "the manifest decides this call differently now; review the change before deploying it"),
    "AC721": Code("replay-skipped", "record {seq}: {reason}", "run with `--retain-args` to replay calls that depend on their arguments", W),
    "AC730": Code("steps-unloadable", "{message}", "pass `--steps module:object` (or `path/to/file.py:object`) naming a dict or object with one callable per step id"),
    "AC731": Code("step-failed", "{message}", "completed steps were compensated; fix the cause and run again (journaled steps are not repeated)"),
    "AC732": Code("compensation-failed", "compensation of step `{step}` failed: {reason}", "undo that step's effects by hand; the audit log lists what ran"),
    "AC733": Code("journal-unusable", "{message}", "one run uses a journal at a time; pass another `--journal` or wait for the other run"),
    "AC734": Code("bad-inputs", "{message}", "pass `--input name=value` (repeatable) or `--inputs FILE.json` holding a JSON object"),
    # --- run-time signals, lifecycle and revocations (AC770-AC799) ---
    "AC770": Code("revocations-untrusted", "{message}", "point `--revocations` (or AGENTOS_REVOCATIONS) at the list `agentos ctl` wrote, signed by a key you pass with `--pub`"),
    "AC771": Code("manifest-revoked", "{message}", "this manifest was revoked with `agentos ctl revoke`; admit and seal a new one"),
    "AC772": Code("revocations-rolled-back", "{message}", "a revocation list never goes back to an older sequence; restore the newest list"),
    "AC773": Code("ctl-target", "{message}", "pass a manifest file or its digest `sha256:...` (as `agentos verify` prints it)"),
    "AC774": Code("ctl-transition", "{message}", "revocation is final: admit and seal a new manifest instead of resuming a revoked one"),
    "AC775": Code("ctl-key", "{message}", "pass `--key KEY.pem` (or AGENTOS_SIGNING_KEY): the list is signed with the manifests' signing key"),
    # --- end runtime ---
    # --- gateway (AC800-AC829) ---
    # (owned by agentos_contracts/gateway; add codes between these markers)
    "AC800": Code("gateway-not-agent", "manifest `{file}` is a `{kind}` manifest, not an AgentContract manifest", "one gateway serves one agent: admit the agent's contract and pass its manifest"),
    "AC801": Code("gateway-bad-upstream", "{message}", "pass `--upstream PREFIX=COMMAND` (a stdio MCP server) or `--upstream PREFIX=http://HOST:PORT/PATH`; PREFIX is one action segment, e.g. `web`"),
    "AC802": Code("gateway-bad-listen", "{message}", "pass `--listen stdio` or `--listen http://127.0.0.1:PORT/mcp`"),
    "AC803": Code("gateway-bad-context", "{message}", "the context is one JSON object of environment attributes, e.g. `{\"unsafe_environment\": false}`"),
    "AC804": Code("gateway-no-upstream", "no upstream serves `{action}`", "add `--upstream PREFIX=...` for its prefix, or call a tool that `tools/list` shows"),
    "AC810": Code("descriptor-drift", "live descriptor of `{action}` differs from the sealed one ({fields})", "the upstream changed the tool after admission: review the change, update the platform catalog and re-admit"),
    "AC811": Code("descriptor-unpinned", "`{action}` has no sealed descriptor in the manifest", "list the tool in the platform catalog with its MCP descriptor and name it in the contract's capabilities, then re-admit"),
    "AC812": Code("descriptor-missing", "upstream `{prefix}` does not offer `{tool}`", "start the MCP server the tool was admitted for, or check the `--upstream` prefix"),
    "AC820": Code("result-withheld", "{message}", "the upstream returned a result its sealed outputSchema does not allow; fix the server or re-admit with the new schema"),
    "AC821": Code("upstream-failed", "{message}", "check the upstream MCP server; a crashed stdio server is restarted with back-off"),
    # --- end gateway ---
    # --- Kubernetes: custom resources, webhook, manifests (AC830-AC859) ---
    "AC830": Code("cr-version", "custom resource `apiVersion` `{version}` is not `agentos.dev/v1alpha1`", "this release reads `apiVersion: agentos.dev/v1alpha1`"),
    "AC831": Code("cr-kind", "custom resource kind `{kind}` is not one of AgentContract, Workflow, Platform", "use `kind: AgentContract`, `Workflow` or `Platform`"),
    "AC832": Code("cr-missing", "custom resource needs `{key}`: {expected}", "write the document's name as `metadata.name` and every other field under `spec`"),
    "AC834": Code("cr-tenant-namespace", "`spec.tenant` `{tenant}` differs from the namespace `{namespace}`", "the namespace is the tenant: drop `spec.tenant`, or create the resource in namespace `{tenant}`"),
    "AC835": Code("cr-header-in-spec", "`spec.{key}` does not belong in `spec`", "the name is `metadata.name`; `apiVersion` and `kind` are the resource's own"),
    "AC836": Code("cr-platform-namespaced", "a Platform is cluster-scoped: it takes no `metadata.namespace`", "remove `metadata.namespace`"),
    "AC837": Code("cr-unknown-key", "unknown top-level key `{key}` in a custom resource", "a custom resource holds `apiVersion`, `kind`, `metadata`, `spec` (and `status`)"),
    "AC840": Code("admission-timed-out", "admission timed out after {budget_ms} ms", "the request was denied (fail closed); apply it again, or give the webhook a larger `--budget-ms`"),
    "AC841": Code("webhook-internal", "internal error while reviewing: {reason}", "the request was denied (fail closed); the webhook's log has the details"),
    "AC842": Code("bad-review", "malformed AdmissionReview: {reason}", "send an `admission.k8s.io/v1` AdmissionReview with a `request` holding `uid`, `operation` and `object`"),
    "AC843": Code("file-outside-root", "file `{path}` is outside the webhook's policy folder", "name policy (and reservation) files relative to the folder given to `--policies`, without `..` or absolute paths"),
    "AC844": Code("reservations-unusable", "cannot use the reservation folder `{folder}`: {reason}", "give `--reservations` a folder the webhook can read and write"),
    "AC845": Code("name-taken", "{kind} `{name}` is already admitted in namespace `{other}`", "the reservation store keys admissions by kind and name across namespaces: choose another name, or delete the other one first"),
    "AC850": Code("bad-namespace", "`{namespace}` is not a valid namespace name", "use a DNS label: lowercase letters, digits and `-`, at most 63 characters"),
    "AC851": Code("bad-listen", "`{listen}` is not HOST:PORT", "write e.g. `0.0.0.0:8443` or `127.0.0.1:9443`"),
    "AC852": Code("tls-unusable", "cannot load the TLS certificate `{cert}` with key `{key}`: {reason}", "pass a PEM certificate chain and its private key"),
    # --- tool errors (AC9xx) ---
    "AC901": Code("usage", "{message}", "{hint}"),
    "AC903": Code("nothing-decided", "admission decided nothing: {count} input file(s) have errors", "admission decides all inputs together; fix the errors (`agentos validate` shows them); `--ignore` never admits a document with errors"),
    "AC904": Code("no-policy-files", "no policy files (*.policy, *.dsl) in `{paths}`", "pass policy files or folders that contain them; check the path for typos"),
    "AC905": Code("bad-config", "configuration `{file}`: {reason}", "fix the `[tool.agentos]` table (pyproject.toml) or agentos.toml; docs/cli.md lists the keys"),
    "AC902": Code("internal", "internal error: {message}", "this is a bug in agentos; please report it with the input that caused it"),
}
