"""Terraform resources into ecrlint's facts: IAM roles and policies, EKS clusters, node groups,
Fargate profiles, ECR repositories and pull-through rules, Kubernetes workloads and their images.

Resources are read from one module (a directory, see ``terraform.py``); references between them
(``aws_iam_role.node.arn``) link facts as CloudFormation's ``!GetAtt`` does. The
terraform-aws-modules/eks module is read from its inputs as its own source defines it (the table in
README "Terraform"); any other module call is a ``--verbose`` note, not judged.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Iterable

from ..analysis import iam
from ..model import Document, Finding, Loc, ParsedFile, Span, YMap, YSeq
from ..workspace import (
    Cluster,
    EcrRepository,
    FargateProfile,
    FargateSelector,
    NodeGroup,
    PolicyDocument,
    PullThroughRule,
    Role,
    Workspace,
)
from .terraform_eval import (
    EvalBudget,
    Evaluator,
    FileText,
    Instance,
    Json,
    Module,
    Partial,
    Ref,
    Resource,
    Scoped,
    TfMap,
    TfSeq,
    Unknown,
    is_known,
    plain,
    to_text,
)
from .terraform_hcl import Attribute, Block, Body, ObjectExpr

if TYPE_CHECKING:
    from . import ExtractContext

SOURCE = "terraform"
WORKER_NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKSWorkerNodeMinimalPolicy")
# arn:<partition>:iam::aws:policy/<path/>Name with the partition written as a reference
# (data.aws_partition.current.partition): the AWS managed policy is the same in every partition.
_MANAGED_SYMBOLIC = re.compile(r"^arn:(?:\$\{[^}]*\}|aws[a-z-]*):iam::aws:policy(/(?:[^/]+/)*)([A-Za-z0-9+=,.@_-]+)$")
_IAM_ROLE_ARN = re.compile(r"^arn:[^:]*:iam::[^:]*:role/(?:.*/)?([^/]+)$")
# The registry address or the GitHub URL, with an optional "//modules/<name>" submodule.
EKS_MODULE = re.compile(r"^(?:(?:registry\.terraform\.io/)?terraform-aws-modules/eks/aws"
                        r"|(?:git::)?(?:https://)?github\.com/terraform-aws-modules/terraform-aws-eks(?:\.git)?)"
                        r"(?://modules/(?P<sub>[a-z-]+))?(?:\?ref=.*)?$")

# Kubernetes provider resources that run pods: resource type -> Kubernetes kind.
K8S_WORKLOADS = {
    "kubernetes_deployment": "Deployment", "kubernetes_deployment_v1": "Deployment",
    "kubernetes_daemonset": "DaemonSet", "kubernetes_daemon_set_v1": "DaemonSet",
    "kubernetes_stateful_set": "StatefulSet", "kubernetes_stateful_set_v1": "StatefulSet",
    "kubernetes_job": "Job", "kubernetes_job_v1": "Job",
    "kubernetes_cron_job": "CronJob", "kubernetes_cron_job_v1": "CronJob",
    "kubernetes_pod": "Pod", "kubernetes_pod_v1": "Pod",
    "kubernetes_replication_controller": "ReplicationController",
    "kubernetes_replication_controller_v1": "ReplicationController",
}


def extract(documents: list[Document], ws: Workspace, where: dict[str, Any] | None = None,
            ctx: ExtractContext | None = None, errors: list[Finding] | None = None,
            companions: list[ParsedFile] | None = None) -> list[str]:
    """Facts of one module (the parsed .tf and .tfvars files of a directory); returns notes.
    ``where``: the module's directory, the tree file() may read in, the working directory and the
    Helm engine options (for ``helm_release`` charts of the tree); ``errors`` receives ECR001s of
    files the module reads (a ``helm_release``'s values files), ``companions`` those files' suppression
    comments."""
    module = Module()
    if where:
        module.directory, module.tree, module.cwd = where.get("directory"), where.get("tree"), where.get("cwd")
    for doc in documents:
        if doc.kind == "terraform":
            module.add_file(doc.root, doc.path)
    notes: list[str] = []
    try:
        for doc in documents:
            if doc.kind == "terraform-vars":
                module.add_tfvars(doc.root, doc.path)
        extractor = _Extractor(module, ws, notes)
        extractor.where, extractor.ctx = where, ctx
        extractor.run()
        if errors is not None:
            errors.extend(extractor.errors)
        if companions is not None:
            companions.extend(extractor.companions)
    except (EvalBudget, RecursionError) as exc:
        notes.append(f"Terraform evaluation stopped: {exc or 'too deep'}; facts after that point not read")
    return notes


def _loc(file: str, span: Span) -> Loc:
    return Loc(file, span)


class _Extractor:
    def __init__(self, module: Module, ws: Workspace, notes: list[str]) -> None:
        self.m = module
        self.ws = ws
        self.notes = notes
        self.roles: dict[tuple[str, Any], Role] = {}  # (address, key) -> Role
        self.policies: dict[tuple[str, Any], PolicyDocument | None] = {}  # aws_iam_policy instances
        self.clusters: dict[tuple[str, Any], Cluster] = {}
        self.profiles: dict[tuple[str, Any], list[Role]] = {}  # instance profiles -> roles
        self.node_roles: set[int] = set()
        self.where: dict[str, Any] | None = None
        self.ctx: ExtractContext | None = None
        self.errors: list[Finding] = []
        self.companions: list[ParsedFile] = []  # files read besides the module's (their suppressions)
        self.chart_defaults: dict[str, Any] = {}  # helm_release charts of the tree rendered with their own values
        module.computed = self._computed

    def ev(self, inst: Instance, name: str) -> Any:
        attr = inst.resource.block.body.attributes.get(name)
        if attr is None:
            return None
        return Evaluator(self.m, inst.resource.file).ev(attr.expr, inst.scope)

    def attr_loc(self, inst: Instance, name: str) -> Loc:
        attr = inst.resource.block.body.attributes.get(name)
        span = attr.span if attr is not None else inst.resource.block.key_span
        return _loc(inst.resource.file, span)

    def key_loc(self, inst: Instance) -> Loc:
        return _loc(inst.resource.file, inst.resource.block.key_span)

    def instances(self, rtype: str, mode: str = "resource") -> Iterable[Instance]:
        for resource in self.m.of_type(rtype, mode):
            yield from self.m.instances(resource)

    def _computed(self, inst: Instance, name: str) -> Any:
        if inst.resource.mode == "data" and inst.resource.type == "aws_iam_policy_document" and name in ("json", "minified_json"):
            doc = self.policy_document_data(inst)
            return doc if doc is not None else Unknown(f"{inst.address}.json")
        if inst.resource.mode == "data":
            return Unknown(f"{inst.address}.{name}")  # read from the cloud at plan time
        return None

    # --- the passes ---------------------------------------------------------------------------
    def run(self) -> None:
        self.iam_policies()
        self.iam_roles()
        self.role_policies()
        self.instance_profiles()
        self.eks_clusters()
        self.node_groups()
        self.self_managed()
        self.fargate_profiles()
        self.repositories()
        self.pull_through()
        self.kubernetes()
        self.modules()

    # --- policy documents -----------------------------------------------------------------------
    def policy_document_data(self, inst: Instance) -> Json | None:
        """``data "aws_iam_policy_document"`` as a policy mapping with the positions of its blocks."""
        body = inst.resource.block.body
        file = inst.resource.file
        doc = TfMap(inst.resource.block.key_span, file)
        version = self.ev(inst, "version")
        doc["Version"] = version if isinstance(version, str) else "2012-10-17"
        doc.spans["Version"] = (inst.resource.block.key_span, inst.resource.block.key_span)
        statements = TfSeq(inst.resource.block.key_span, file)
        for key in ("source_policy_documents", "source_json"):
            sources = self.ev(inst, key)
            for source in (sources if isinstance(sources, list) else [sources] if sources is not None else []):
                mapping = self._as_mapping(source)
                if mapping is None:
                    return None
                stmts = mapping.get("Statement")
                for stmt in (stmts if isinstance(stmts, list) else [stmts] if isinstance(stmts, dict) else []):
                    statements.append(plain_copy(stmt))
                    statements.spans.append(inst.resource.block.key_span)
        evaluator = Evaluator(self.m, file)
        for block in _expand_dynamic(body, "statement", evaluator, inst.scope):
            stmt = self._statement(block, file, evaluator, inst.scope)
            if stmt is None:
                return None
            sid = stmt.get("Sid")
            if sid:
                for i, old in enumerate(statements):
                    if isinstance(old, dict) and old.get("Sid") == sid:
                        del statements[i]
                        del statements.spans[i]
                        break
            statements.append(stmt)
            statements.spans.append(block.span)
        overrides = self.ev(inst, "override_policy_documents")
        for override in (overrides if isinstance(overrides, list) else [overrides] if overrides is not None else []):
            mapping = self._as_mapping(override)
            if mapping is None:
                return None  # a statement may be replaced by one we cannot read
            stmts = mapping.get("Statement")
            for stmt in (stmts if isinstance(stmts, list) else [stmts] if isinstance(stmts, dict) else []):
                sid = stmt.get("Sid") if isinstance(stmt, dict) else None
                same = [i for i, old in enumerate(statements) if sid and isinstance(old, dict) and old.get("Sid") == sid]
                if same:
                    statements[same[0]] = plain_copy(stmt)
                else:
                    statements.append(plain_copy(stmt))
                    statements.spans.append(inst.resource.block.key_span)
        doc["Statement"] = statements
        doc.spans["Statement"] = (inst.resource.block.key_span, inst.resource.block.key_span)
        return Json(doc, inst.resource.block.key_span)

    def _statement(self, block: Block, file: str, ev: Evaluator, scope: dict[str, Any]) -> TfMap | None:
        attrs = block.body.attributes
        stmt = TfMap(block.span, file)

        def put(key: str, attr: Attribute | None, value: Any) -> None:
            stmt[key] = value
            stmt.spans[key] = (attr.key_span, attr.span) if attr is not None else (block.span, block.span)

        sid = ev.ev(attrs["sid"].expr, scope) if "sid" in attrs else None
        if sid is not None:
            if not isinstance(sid, str):
                return None
            put("Sid", attrs["sid"], sid)
        effect = ev.ev(attrs["effect"].expr, scope) if "effect" in attrs else "Allow"
        if not isinstance(effect, str):
            return None
        put("Effect", attrs.get("effect"), effect)
        for hcl, key, resource in (("actions", "Action", False), ("not_actions", "NotAction", False),
                                   ("resources", "Resource", True), ("not_resources", "NotResource", True)):
            if hcl in attrs:
                value = _policy_strings(ev.ev(attrs[hcl].expr, scope), resource)
                if value is None:
                    return None
                put(key, attrs[hcl], value)
        for hcl, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            blocks = list(_expand_dynamic(block.body, hcl, ev, scope))
            if blocks and not self._principal(stmt, key, blocks, file, ev, scope):
                return None
        conditions = list(_expand_dynamic(block.body, "condition", ev, scope))
        if conditions:
            condition = self._condition(conditions, file, ev, scope)
            if condition is None:
                return None
            stmt["Condition"] = condition
            stmt.spans["Condition"] = (conditions[0].span, conditions[0].span)
        return stmt

    @staticmethod
    def _principal(stmt: TfMap, key: str, blocks: list[Block], file: str, ev: Evaluator, scope: dict[str, Any]) -> bool:
        """``principals`` blocks into ``Principal``; False when a type or identifier is not known."""
        principal = TfMap(blocks[0].span, file)
        for pblock in blocks:
            ptype = ev.ev(pblock.body.attributes["type"].expr, scope) if "type" in pblock.body.attributes else None
            ids_attr = pblock.body.attributes.get("identifiers")
            ids = _policy_strings(ev.ev(ids_attr.expr, scope), True) if ids_attr is not None else None
            if not isinstance(ptype, str) or ids is None:
                return False
            if ptype == "*":  # type "*" with identifiers ["*"]: everyone
                stmt[key] = "*"
                stmt.spans[key] = (pblock.span, pblock.span)
                return True
            existing = principal.get(ptype)
            principal[ptype] = (list(existing) + list(ids)) if isinstance(existing, list) else ids
            principal.spans[ptype] = (pblock.span, ids_attr.span if ids_attr is not None else pblock.span)
        stmt[key] = principal
        stmt.spans[key] = (blocks[0].span, blocks[0].span)
        return True

    @staticmethod
    def _condition(blocks: list[Block], file: str, ev: Evaluator, scope: dict[str, Any]) -> TfMap | None:
        """``condition`` blocks into ``Condition: {test: {variable: values}}``; None when not known."""
        condition = TfMap(blocks[0].span, file)
        for cblock in blocks:
            cattrs = cblock.body.attributes
            test = ev.ev(cattrs["test"].expr, scope) if "test" in cattrs else None
            variable = ev.ev(cattrs["variable"].expr, scope) if "variable" in cattrs else None
            values = _policy_strings(ev.ev(cattrs["values"].expr, scope), True) if "values" in cattrs else None
            if not isinstance(test, str) or not isinstance(variable, str) or values is None:
                return None
            inner = condition.get(test)
            if not isinstance(inner, TfMap):
                inner = TfMap(cblock.span, file)
                condition[test] = inner
                condition.spans[test] = (cblock.span, cblock.span)
            inner[variable] = values
            inner.spans[variable] = (cblock.span, cattrs["values"].span)
        return condition

    def _as_mapping(self, value: Any) -> dict | None:
        if isinstance(value, Json):
            value = value.value
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        return value if isinstance(value, dict) and is_known(value) else None

    def policy(self, value: Any, loc: Loc, name: str, identity: bool, heredoc: Any = None) -> PolicyDocument | str:
        """A PolicyDocument from an evaluated ``policy`` argument, or why it is not known."""
        if isinstance(value, Json):
            document = _policy_document(value.value, loc.path)
            if document is None:
                return "a policy document with values not known offline"
            return PolicyDocument(document, loc, name, identity=identity)
        if isinstance(value, FileText):
            # file("policy.json"): the document keeps the positions of that file
            from ..parsing import parse_text

            docs, problems = parse_text(value.display, str(value), is_json=True)
            if problems or not docs or not isinstance(docs[0][0], dict):
                return f"{value.display}: not a JSON policy document"
            return PolicyDocument(docs[0][0], Loc(value.display, docs[0][1]), name, identity=identity)
        if isinstance(value, str):
            document = _json_with_positions(value, heredoc, loc)
            if document is None:
                return "a policy that is not valid JSON"
            return PolicyDocument(document, loc, name, identity=identity)
        if isinstance(value, (Unknown, Partial, Ref)):
            return str(value.what if isinstance(value, Unknown) else value)
        return "a policy that is not a document"

    def _attr_policy(self, inst: Instance, key: str, name: str, identity: bool) -> PolicyDocument | str | None:
        attr = inst.resource.block.body.attributes.get(key)
        if attr is None:
            return None
        value = Evaluator(self.m, inst.resource.file).ev(attr.expr, inst.scope)
        heredoc = getattr(attr.expr, "heredoc", None)
        result = self.policy(value, _loc(inst.resource.file, attr.span), name, identity,
                             heredoc=(attr.expr if heredoc is not None else None))
        if isinstance(result, PolicyDocument):
            self.ws.policies.append(result)
        return result

    # --- IAM ---------------------------------------------------------------------------------
    def iam_policies(self) -> None:
        for inst in self.instances("aws_iam_policy"):
            name = self.ev(inst, "name")
            result = self._attr_policy(inst, "policy", name if isinstance(name, str) else inst.address, True)
            self.policies[(inst.resource.address, inst.key)] = result if isinstance(result, PolicyDocument) else None

    def iam_roles(self) -> None:
        for inst in self.instances("aws_iam_role"):
            name = self.ev(inst, "name")
            path = self.ev(inst, "path")
            role = Role(
                name=name if isinstance(name, str) else inst.address,
                loc=self.key_loc(inst),
                source=SOURCE,
                arn=(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{path if isinstance(path, str) else '/'}{name}"
                     if isinstance(name, str) else None),
            )
            trust = self._attr_policy(inst, "assume_role_policy", f"{role.name} trust policy", False)
            if isinstance(trust, PolicyDocument):
                self.ws.policies.remove(trust)  # a trust policy is the role's, not a policy of the run
                role.trust_policy = trust.document
                role.trust_loc = trust.loc
            evaluator = Evaluator(self.m, inst.resource.file)
            for block in _expand_dynamic(inst.resource.block.body, "inline_policy", evaluator, inst.scope):
                battrs = block.body.attributes
                if "policy" not in battrs:
                    continue
                value = evaluator.ev(battrs["policy"].expr, inst.scope)
                pname = evaluator.ev(battrs["name"].expr, inst.scope) if "name" in battrs else None
                loc = _loc(inst.resource.file, battrs["policy"].span)
                result = self.policy(value, loc, pname if isinstance(pname, str) else f"{role.name} inline policy", True,
                                     heredoc=battrs["policy"].expr if getattr(battrs["policy"].expr, "heredoc", None) else None)
                if isinstance(result, PolicyDocument):
                    self.ws.policies.append(result)
                    role.policies.append(result)
                else:
                    role.unresolved_policies.append((result, loc))
            arns = self.ev(inst, "managed_policy_arns")
            if arns is not None:
                loc = self.attr_loc(inst, "managed_policy_arns")
                if isinstance(arns, list):
                    for i, arn in enumerate(arns):
                        item_loc = Loc(loc.path, arns.spans[i]) if isinstance(arns, YSeq) and i < len(arns.spans) else loc
                        self._attach(role, arn, item_loc)
                else:
                    role.unresolved_policies.append((_describe(arns), loc))
            boundary = self.ev(inst, "permissions_boundary")
            if boundary is not None:
                loc = self.attr_loc(inst, "permissions_boundary")
                role.boundary_ref = (_describe(boundary), loc)
                role.boundary = self._managed(boundary, loc)
            self.roles[(inst.resource.address, inst.key)] = role
            self.ws.roles.append(role)

    def _managed(self, arn: Any, loc: Loc) -> PolicyDocument | None:
        """The document of a managed policy ARN: bundled AWS managed, or an aws_iam_policy of the module."""
        if isinstance(arn, Ref) and arn.type == "aws_iam_policy" and arn.mode == "resource":
            return self.policies.get((f"{arn.type}.{arn.name}", arn.key))
        text = arn if isinstance(arn, str) else arn.symbolic() if isinstance(arn, Partial) else None
        if text is None:
            return None
        m = _MANAGED_SYMBOLIC.match(text)
        if m:
            return iam.managed_policy(f"arn:aws:iam::aws:policy{m.group(1)}{m.group(2)}", loc)
        return None

    def _attach(self, role: Role, arn: Any, loc: Loc) -> None:
        policy = self._managed(arn, loc)
        if policy is None:
            role.unresolved_policies.append((_describe(arn), loc))
            return
        if policy in role.policies:
            return
        role.policies.append(policy)
        if policy.bundled:
            role.managed_policy_names.append(policy.name)

    def role_of(self, value: Any) -> Role | None:
        """The role a reference or a literal name/ARN names, when it is one of this module."""
        if isinstance(value, Ref) and value.type == "aws_iam_role" and value.mode == "resource":
            return self.roles.get((f"{value.type}.{value.name}", value.key))
        if isinstance(value, str):
            m = _IAM_ROLE_ARN.match(value)
            name = m.group(1) if m else (value if ":" not in value and "/" not in value else None)
            for role in self.roles.values():
                if name is not None and role.name == name:
                    return role
        return None

    def _unknown_target(self, value: Any, loc: Loc) -> None:
        """An attachment whose role is not known offline may be any role of the module: none of them
        is judged on what it grants (never guessed)."""
        if isinstance(value, str) or value is None:
            return  # a literal name of a role outside this module, or no role at all
        if isinstance(value, Ref) and value.type != "aws_iam_role":
            return
        for role in self.roles.values():
            role.unresolved_policies.append((f"a policy attached to {_describe(value)}", loc))

    def role_policies(self) -> None:
        for inst in self.instances("aws_iam_role_policy"):
            target = self.ev(inst, "role")
            role = self.role_of(target)
            if role is None:
                self._unknown_target(target, self.key_loc(inst))
            name = self.ev(inst, "name")
            result = self._attr_policy(inst, "policy", name if isinstance(name, str) else inst.address, True)
            if role is None:
                continue
            if isinstance(result, PolicyDocument):
                role.policies.append(result)
            elif isinstance(result, str):
                role.unresolved_policies.append((result, self.attr_loc(inst, "policy")))
        for inst in self.instances("aws_iam_role_policy_attachment"):
            target = self.ev(inst, "role")
            role = self.role_of(target)
            if role is None:
                self._unknown_target(target, self.key_loc(inst))
            else:
                self._attach(role, self.ev(inst, "policy_arn"), self.attr_loc(inst, "policy_arn"))
        for inst in self.instances("aws_iam_role_policy_attachments_exclusive"):
            role = self.role_of(self.ev(inst, "role_name"))
            arns = self.ev(inst, "policy_arns")
            if role is not None and isinstance(arns, list):
                for arn in arns:
                    self._attach(role, arn, self.attr_loc(inst, "policy_arns"))
        for inst in self.instances("aws_iam_policy_attachment"):
            roles = self.ev(inst, "roles")
            for value in roles if isinstance(roles, list) else []:
                role = self.role_of(value)
                if role is not None:
                    self._attach(role, self.ev(inst, "policy_arn"), self.attr_loc(inst, "policy_arn"))

    def instance_profiles(self) -> None:
        for inst in self.instances("aws_iam_instance_profile"):
            role = self.role_of(self.ev(inst, "role"))
            self.profiles[(inst.resource.address, inst.key)] = [role] if role is not None else []

    # --- EKS ---------------------------------------------------------------------------------
    def eks_clusters(self) -> None:
        for inst in self.instances("aws_eks_cluster"):
            name = self.ev(inst, "name")
            cluster = Cluster(name if isinstance(name, str) else inst.address, self.key_loc(inst), SOURCE,
                              inst.resource.file, name_known=isinstance(name, str))
            self.clusters[(inst.resource.address, inst.key)] = cluster
            self.ws.clusters.append(cluster)
            compute = self.ev(inst, "compute_config")  # a block: not an attribute
            _ = compute
            for block in inst.resource.block.body.blocks_of("compute_config"):
                attr = block.body.attributes.get("node_role_arn")
                if attr is None:
                    continue
                value = Evaluator(self.m, inst.resource.file).ev(attr.expr, inst.scope)
                self._group("auto-mode", cluster.name + " auto mode", self.key_loc(inst), value, cluster)

    def cluster_of(self, value: Any) -> Cluster | None:
        if isinstance(value, Ref) and value.type == "aws_eks_cluster":
            return self.clusters.get((f"{value.type}.{value.name}", value.key))
        if isinstance(value, str):
            return next((c for c in self.clusters.values() if c.name == value), None)
        return None

    def _group(self, kind: str, name: str, loc: Loc, role_value: Any, cluster: Cluster | None) -> NodeGroup:
        role = self.role_of(role_value)
        group = NodeGroup(name, loc, SOURCE, kind, role, cluster,
                          role_ref=None if role is not None else _describe(role_value))
        if role is not None:
            self.node_roles.add(id(role))
        self.ws.node_groups.append(group)
        if cluster is not None:
            cluster.node_groups.append(group)
        return group

    def node_groups(self) -> None:
        for inst in self.instances("aws_eks_node_group"):
            name = self.ev(inst, "node_group_name")
            cluster_value = self.ev(inst, "cluster_name")
            self._group("managed", name if isinstance(name, str) else inst.address, self.key_loc(inst),
                        self.ev(inst, "node_role_arn"), self.cluster_of(cluster_value))

    def self_managed(self) -> None:
        """aws_autoscaling_group -> aws_launch_template -> aws_iam_instance_profile -> aws_iam_role."""
        templates, eks_marked = self._launch_templates()
        for inst in self.instances("aws_autoscaling_group"):
            roles, marked, tagged = self._asg_roles(inst, templates, eks_marked)
            if not roles:
                continue
            if not (marked or self.clusters or any(any(n in WORKER_NODE_POLICIES for n in r.managed_policy_names)
                                                   for r in roles)):
                continue  # an Auto Scaling group that is not a node group (a web tier)
            for role in dict.fromkeys(roles):
                self.node_roles.add(id(role))
                cluster = self.cluster_of(tagged)
                group = NodeGroup(inst.address, self.key_loc(inst), SOURCE, "self-managed", role, cluster)
                self.ws.node_groups.append(group)
                if cluster is not None:
                    cluster.node_groups.append(group)

    def _launch_templates(self) -> tuple[dict[tuple[str, Any], list[Role]], set[tuple[str, Any]]]:
        """Each launch template's roles (through its instance profile), and those whose user data boots EKS."""
        templates: dict[tuple[str, Any], list[Role]] = {}
        eks_marked: set[tuple[str, Any]] = set()
        for inst in self.instances("aws_launch_template"):
            roles: list[Role] = []
            evaluator = Evaluator(self.m, inst.resource.file)
            for block in inst.resource.block.body.blocks_of("iam_instance_profile"):
                for key in ("name", "arn"):
                    if key in block.body.attributes:
                        value = evaluator.ev(block.body.attributes[key].expr, inst.scope)
                        if isinstance(value, Ref) and value.type == "aws_iam_instance_profile":
                            roles.extend(self.profiles.get((f"{value.type}.{value.name}", value.key), []))
            user_data = inst.resource.block.body.attributes.get("user_data")
            text = repr(user_data.expr) if user_data is not None else ""
            if any(s in text for s in ("bootstrap.sh", "nodeadm", "node.eks.aws")):
                eks_marked.add((inst.resource.address, inst.key))
            templates[(inst.resource.address, inst.key)] = roles
        return templates, eks_marked

    def _asg_roles(self, inst: Instance, templates: dict[tuple[str, Any], list[Role]],
                   eks_marked: set[tuple[str, Any]]) -> tuple[list[Role], bool, str | None]:
        """The roles an Auto Scaling group's instances get, whether anything marks it as EKS nodes, and
        the cluster its ``kubernetes.io/cluster/<name>`` tag names."""
        evaluator = Evaluator(self.m, inst.resource.file)
        roles: list[Role] = []
        marked = False
        tagged: str | None = None
        body = inst.resource.block.body
        lt_blocks = list(body.blocks_of("launch_template"))
        for mip in body.blocks_of("mixed_instances_policy"):
            for lt in mip.body.blocks_of("launch_template"):
                lt_blocks.extend(lt.body.blocks_of("launch_template_specification"))
        for block in lt_blocks:
            for key in ("id", "name", "launch_template_id", "launch_template_name"):
                if key in block.body.attributes:
                    value = evaluator.ev(block.body.attributes[key].expr, inst.scope)
                    if isinstance(value, Ref) and value.type == "aws_launch_template":
                        target = (f"{value.type}.{value.name}", value.key)
                        roles.extend(templates.get(target, []))
                        marked = marked or target in eks_marked
        for tag in body.blocks_of("tag"):
            key_value = evaluator.ev(tag.body.attributes["key"].expr, inst.scope) if "key" in tag.body.attributes else None
            if isinstance(key_value, str) and key_value.startswith("kubernetes.io/cluster/"):
                marked = True
                tagged = key_value.removeprefix("kubernetes.io/cluster/")
        return roles, marked, tagged

    def fargate_profiles(self) -> None:
        for inst in self.instances("aws_eks_fargate_profile"):
            evaluator = Evaluator(self.m, inst.resource.file)
            selectors: list[FargateSelector] = []
            for block in _expand_dynamic(inst.resource.block.body, "selector", evaluator, inst.scope):
                attrs = block.body.attributes
                namespace = evaluator.ev(attrs["namespace"].expr, inst.scope) if "namespace" in attrs else None
                labels = evaluator.ev(attrs["labels"].expr, inst.scope) if "labels" in attrs else {}
                if not isinstance(namespace, str) or not isinstance(labels, dict) or not is_known(labels):
                    continue  # a selector not known offline selects nothing we can name
                selectors.append(FargateSelector(namespace, {str(k): str(to_text(v)) for k, v in labels.items()},
                                                 _loc(inst.resource.file, block.span)))
            role_value = self.ev(inst, "pod_execution_role_arn")
            role = self.role_of(role_value)
            cluster = self.cluster_of(self.ev(inst, "cluster_name"))
            name = self.ev(inst, "fargate_profile_name")
            cluster_name = self.ev(inst, "cluster_name")
            profile = FargateProfile(
                name=name if isinstance(name, str) else inst.address,
                loc=self.key_loc(inst),
                source=SOURCE,
                selectors=selectors,
                role=role,
                role_ref=None if role_value is None else _describe(role_value),
                role_loc=self.attr_loc(inst, "pod_execution_role_arn") if role_value is not None else None,
                cluster=cluster,
                cluster_name=cluster.name if cluster else cluster_name if isinstance(cluster_name, str) else None,
            )
            self.ws.fargate_profiles.append(profile)
            if cluster is not None:
                cluster.fargate_profiles.append(profile)

    # --- ECR ---------------------------------------------------------------------------------
    def repositories(self) -> None:
        repos: dict[tuple[str, Any], EcrRepository] = {}
        for inst in self.instances("aws_ecr_repository"):
            name = self.ev(inst, "name")
            created = EcrRepository(name if isinstance(name, str) else None, self.key_loc(inst), logical=inst.address)
            repos[(inst.resource.address, inst.key)] = created
            self.ws.repositories.append(created)
        for inst in self.instances("aws_ecr_repository_policy"):
            target = self.ev(inst, "repository")
            result = self._attr_policy(inst, "policy", inst.address, False)
            document = result.document if isinstance(result, PolicyDocument) else None
            repo: EcrRepository | None = (
                repos.get((f"{target.type}.{target.name}", target.key)) if isinstance(target, Ref) else None)
            if repo is None and isinstance(target, str):
                repo = next((r for r in repos.values() if r.name == target), None)
            if repo is not None:
                repo.policy = document
            else:
                self.ws.repositories.append(EcrRepository(target if isinstance(target, str) else None,
                                                          self.key_loc(inst), document, inst.address))
        for inst in self.instances("aws_ecr_registry_policy"):
            result = self._attr_policy(inst, "policy", inst.address, False)
            self.ws.repositories.append(EcrRepository(None, self.key_loc(inst),
                                                      result.document if isinstance(result, PolicyDocument) else None,
                                                      inst.address, registry_policy=True))

    def pull_through(self) -> None:
        for inst in self.instances("aws_ecr_pull_through_cache_rule"):
            prefix = self.ev(inst, "ecr_repository_prefix")
            upstream = self.ev(inst, "upstream_registry_url")
            if not isinstance(prefix, str):
                continue
            self.ws.pull_through_rules.append(PullThroughRule(
                prefix, self.attr_loc(inst, "ecr_repository_prefix"), SOURCE,
                upstream=upstream if isinstance(upstream, str) else None))

    # --- Kubernetes ------------------------------------------------------------------------------
    def kubernetes(self) -> None:
        from . import kubernetes as k8s
        from .terraform_k8s import manifest_documents, provider_workload

        index = 10_000  # documents of a module get indices of their own (never re-read: not files)
        for rtype in ("kubernetes_manifest",):
            for inst in self.instances(rtype):
                value = self.ev(inst, "manifest")
                if isinstance(value, TfMap) and value.file == inst.resource.file:
                    k8s.extract(Document(inst.resource.file, index, _known_only(value), kind="kubernetes"), self.ws)
                    index += 1
                elif isinstance(value, TfMap) and not value.file:
                    # yamldecode() of a computed text (templatefile()): its positions are the argument's
                    from .terraform_k8s import _flatten_spans

                    root = _flatten_spans(_known_only(value), self.attr_loc(inst, "manifest").span)
                    k8s.extract(Document(inst.resource.file, index, root, kind="kubernetes"), self.ws)
                    index += 1
        for inst in self.instances("kubectl_manifest"):
            attr = inst.resource.block.body.attributes.get("yaml_body")
            if attr is None:
                continue
            for doc in manifest_documents(attr, Evaluator(self.m, inst.resource.file).ev(attr.expr, inst.scope),
                                          inst.resource.file, index):
                k8s.extract(doc, self.ws)
                index += 1
        for rtype, kind in K8S_WORKLOADS.items():
            for inst in self.instances(rtype):
                provider_workload(self, inst, kind, index)
                index += 1
        from .terraform_helm import helm_releases

        helm_releases(self)

    # --- modules -----------------------------------------------------------------------------------
    def modules(self) -> None:
        from .terraform_modules import SUBMODULES, eks_module

        calls = []
        for name, (block, file) in self.m.modules.items():
            source_attr = block.body.attributes.get("source")
            source = Evaluator(self.m, file).ev(source_attr.expr, {}) if source_attr is not None else None
            match = EKS_MODULE.match(source) if isinstance(source, str) else None
            calls.append((match is not None and match.group("sub") is not None, name, block, file, source, match))
        # the whole module first: a submodule call names its cluster by the name the module gave it
        for _sub, name, block, file, source, match in sorted(calls, key=lambda c: c[0]):
            if match is not None and match.group("sub") in (None, *SUBMODULES):
                eks_module(self, name, block, file, match.group("sub"))
            else:
                where = f"{file}:{block.span.line}"
                self.notes.append(f"{where}: module \"{name}\" ({source if isinstance(source, str) else 'source unknown'}) "
                                  "is not read: what it creates is not judged")


def _expand_dynamic(body: Body, kind: str, ev: Evaluator, scope: dict[str, Any]) -> Iterable[Block]:
    """The ``kind`` blocks of a body, with ``dynamic "kind"`` blocks expanded over known collections."""
    for block in body.blocks:
        if block.type == kind:
            yield block
        elif block.type == "dynamic" and block.labels == [kind]:
            attrs = block.body.attributes
            coll = ev.ev(attrs["for_each"].expr, scope) if "for_each" in attrs else None
            iterator = kind
            if "iterator" in attrs:
                it = attrs["iterator"].expr
                iterator = getattr(it, "root", kind)
            content = next((b for b in block.body.blocks if b.type == "content"), None)
            if content is None:
                continue
            items = list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll)) if isinstance(coll, list) else None
            if items is None:
                continue
            for k, v in items[:1000]:
                yield _Bound(content, kind, scope | {iterator: {"key": k, "value": v}})


class _Bound(Block):
    """A ``dynamic`` block's content with its iterator bound (evaluated with ``scope``)."""

    def __init__(self, content: Block, kind: str, scope: dict[str, Any]) -> None:
        super().__init__(kind, [], _bind(content.body, scope), content.span, [])


def _bind(body: Body, scope: dict[str, Any]) -> Body:
    out = Body()
    for name, attr in body.attributes.items():
        out.attributes[name] = Attribute(name, Scoped(attr.expr, scope), attr.key_span, attr.span)  # type: ignore[arg-type]
    out.blocks = [_Bound(b, b.type, scope) if b.body.attributes else b for b in body.blocks]
    return out


def _policy_strings(value: Any, resource: bool) -> Any:
    """A policy element (string or list of strings) with unknown pieces as ``${...}`` symbols where
    IAM matching can hold a symbol (resources, principals, condition values); None when not knowable."""
    if isinstance(value, list):
        out = TfSeq(getattr(value, "span", Span(1, 1, 1, 1)), getattr(value, "file", ""))
        out.spans = list(getattr(value, "spans", []))
        for item in value:
            converted = _policy_strings(item, resource)
            if converted is None or isinstance(converted, list):
                return None
            out.append(converted)
        return out
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return to_text(value)
    if resource and isinstance(value, Partial):
        return value.symbolic()
    if resource and isinstance(value, (Ref, Unknown)):
        return Partial([value]).symbolic()
    return None


_STRUCTURAL = frozenset(["Effect", "Action", "NotAction", "Principal", "NotPrincipal", "Condition", "Version", "Sid"])


def _policy_document(value: Any, file: str) -> Any:
    """A jsonencode()d policy as a mapping: spans kept where written in ``file``; unknown pieces of
    resources become symbols; an unknown effect, action, principal or condition: None (not judged)."""

    def convert(v: Any, structural: bool) -> Any:
        if isinstance(v, Json):
            v = v.value
        if isinstance(v, dict):
            same = isinstance(v, TfMap) and v.file == file
            out: Any = YMap(v.span) if isinstance(v, TfMap) and same else {}
            for k, item in v.items():
                c = convert(item, structural or k in _STRUCTURAL and k != "Sid")
                if c is _FAIL:
                    return _FAIL
                out[k] = c
                if isinstance(v, TfMap) and same and k in v.spans:
                    out.spans[k] = v.spans[k]
            return out
        if isinstance(v, list):
            same = isinstance(v, TfSeq) and v.file == file
            seq: Any = YSeq(v.span) if isinstance(v, TfSeq) and same else []
            for item in v:
                c = convert(item, structural)
                if c is _FAIL:
                    return _FAIL
                seq.append(c)
            if isinstance(v, TfSeq) and same:
                seq.spans = list(v.spans)
            return seq
        if isinstance(v, (Unknown, Ref, Partial)):
            return _FAIL if structural else (v.symbolic() if isinstance(v, Partial) else Partial([v]).symbolic())
        return v

    result = convert(value, False)
    if result is _FAIL or not isinstance(result, dict):
        return None
    statement = result.get("Statement")
    if isinstance(statement, (list, dict)) and _has_unknown_statement(statement):
        return None
    return result


def _has_unknown_statement(statement: Any) -> bool:
    return False


_FAIL = object()


def _json_with_positions(text: str, heredoc: Any, loc: Loc) -> Any:
    """A JSON policy string: from a heredoc without interpolations, parsed with the file's positions."""
    from ..parsing import parse_text

    if heredoc is not None and getattr(heredoc, "heredoc", None) is not None and not any(
        not isinstance(p, str) for p in heredoc.parts
    ):
        docs, problems = parse_text(loc.path, heredoc.heredoc, is_json=True)
        if docs and not problems and isinstance(docs[0][0], dict):
            return _shift(docs[0][0], heredoc.body_line - 1)
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _shift(node: Any, lines: int) -> Any:
    """Move every span of a parsed heredoc body down to the file's lines."""
    def move(s: Span) -> Span:
        return Span(s.line + lines, s.column, s.end_line + lines, s.end_column)

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, YMap):
            item.span = move(item.span)
            item.spans = {k: (move(a), move(b)) for k, (a, b) in item.spans.items()}
            stack.extend(item.values())
        elif isinstance(item, YSeq):
            item.span = move(item.span)
            item.spans = [move(s) for s in item.spans]
            stack.extend(item)
    return node


def _known_only(value: Any) -> Any:
    """A manifest for the Kubernetes extractor: unknown values become None (never a guessed string)."""
    if isinstance(value, Json):
        return _known_only(value.value)
    if isinstance(value, YMap):
        out = YMap(value.span)
        for k, v in value.items():
            out[k] = _known_only(v)
        out.spans = dict(value.spans)
        return out
    if isinstance(value, YSeq):
        seq = YSeq(value.span)
        seq.extend(_known_only(v) for v in value)
        seq.spans = list(value.spans)
        return seq
    if isinstance(value, dict):
        return {k: _known_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known_only(v) for v in value]
    if isinstance(value, (Unknown, Ref, Partial)):
        return None
    return value


def plain_copy(value: Any) -> Any:
    return plain(value)


def _describe(value: Any) -> str:
    """A value as written for messages and ``role_ref``: a reference as ``${address.attr}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Partial):
        return value.symbolic()
    if isinstance(value, Ref):
        return "${%s}" % value
    if isinstance(value, Unknown):
        return value.what
    return json.dumps(plain(value), default=str)[:120]


_ = (ObjectExpr, Resource)
