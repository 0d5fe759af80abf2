"""Standalone IAM policy files and ``aws iam get-account-authorization-details`` dumps into facts."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from ..analysis import iam
from ..model import Document, Loc, YMap, YSeq
from . import DocumentSource, ExtractContext
from ..workspace import NodeGroup, PolicyDocument, Role, Workspace

NODE_ROLE_POLICIES = "node-role-policies"  # config key: globs of policy files that are node-role policies
WORKER_NODE_POLICY = "AmazonEKSWorkerNodePolicy"


class AuthorizationDetailsSource(DocumentSource):
    """``aws iam get-account-authorization-details`` output: roles, their policies, managed policies."""

    name = "iam-authorization-details"
    priority = 30

    def detect(self, root: Any) -> bool:
        return isinstance(root, dict) and ("RoleDetailList" in root or ("Policies" in root and "UserDetailList" in root))

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        _authorization_details(doc, ws)


class IamPolicySource(DocumentSource):
    """A standalone IAM policy document (or a list of them, or one wrapped in ``PolicyDocument``)."""

    name = "iam-policy"
    priority = 40

    def detect(self, root: Any) -> bool:
        if isinstance(root, dict):
            return _is_policy(root) or (isinstance(root.get("PolicyDocument"), dict) and _is_policy(root["PolicyDocument"]))
        return isinstance(root, list) and bool(root) and all(_is_policy(item) for item in root)

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        _policy_file(doc, ws, ctx)


def _is_policy(root: Any) -> bool:
    return isinstance(root, dict) and "Statement" in root and isinstance(root["Statement"], (dict, list))


def _node_role_globs(ctx: ExtractContext | None) -> list[str]:
    config = getattr(ctx, "config", None)
    options = getattr(config, "options", None) or {}
    globs = options.get(NODE_ROLE_POLICIES) or ()
    return [globs] if isinstance(globs, str) else list(globs)


def _policy_file(doc: Document, ws: Workspace, ctx: ExtractContext | None) -> None:
    root = doc.root
    documents: list[tuple[Any, Loc]] = []
    if isinstance(root, YSeq):
        documents = [(item, Loc(doc.path, root.item_span(i))) for i, item in enumerate(root) if isinstance(item, dict)]
    elif isinstance(root, YMap):
        if "Statement" in root:
            documents = [(root, Loc(doc.path, root.span))]
        elif isinstance(root.get("PolicyDocument"), dict):
            documents = [(root["PolicyDocument"], Loc(doc.path, root.value_span("PolicyDocument")))]
    globs = _node_role_globs(ctx)
    is_node_role = bool(globs) and ctx is not None and ctx.path_matches(globs, doc.path)
    for i, (document, loc) in enumerate(documents):
        name = doc.path if len(documents) == 1 else f"{doc.path}[{i}]"
        policy = PolicyDocument(document=document, loc=loc, name=name, identity=is_node_role)
        ws.policies.append(policy)
        if is_node_role:
            ws.node_role_policies.append(policy)


def _authorization_details(doc: Document, ws: Workspace) -> None:
    """Roles trusted by EC2 that carry AmazonEKSWorkerNodePolicy are node roles (a dump names no node groups)."""
    root = doc.root
    if not isinstance(root, YMap):
        return
    path = doc.path
    managed: dict[str, PolicyDocument] = {}
    policies = root.get("Policies")
    if isinstance(policies, YSeq):
        for entry in policies:
            policy = _default_version(entry, path)
            if policy is not None:
                managed[policy.managed_arn or policy.name] = policy
                if not _is_aws_managed(policy.managed_arn):
                    ws.policies.append(policy)
    roles = root.get("RoleDetailList")
    if not isinstance(roles, YSeq):
        return
    for entry in roles:
        if not isinstance(entry, YMap):
            continue
        role = _role(entry, path, managed, ws)
        if role is None:
            continue
        ws.roles.append(role)
        if WORKER_NODE_POLICY in role.managed_policy_names and _trusts_ec2(role):
            ws.node_groups.append(NodeGroup(role.name, role.loc, "authorization-details", "dump", role))


def _default_version(entry: Any, path: str) -> PolicyDocument | None:
    if not isinstance(entry, YMap):
        return None
    versions = entry.get("PolicyVersionList")
    if not isinstance(versions, YSeq):
        return None
    for version in versions:
        if isinstance(version, YMap) and version.get("IsDefaultVersion") is True and "Document" in version:
            document = _decode(version["Document"])
            written_name, written_arn = entry.get("PolicyName"), entry.get("Arn")
            name = written_name if isinstance(written_name, str) else "policy"
            arn = written_arn if isinstance(written_arn, str) else None
            return PolicyDocument(document, Loc(path, version.value_span("Document")), name, managed_arn=arn,
                                  identity=True)
    return None


def _role(entry: YMap, path: str, managed: dict[str, PolicyDocument], ws: Workspace) -> Role | None:
    name = entry.get("RoleName")
    if not isinstance(name, str):
        return None
    loc = Loc(path, entry.value_span("RoleName"))
    trust = _decode(entry.get("AssumeRolePolicyDocument"))
    role = Role(
        name=name,
        loc=loc,
        source="authorization-details",
        trust_policy=trust,
        trust_loc=Loc(path, entry.value_span("AssumeRolePolicyDocument")) if "AssumeRolePolicyDocument" in entry else None,
        arn=entry.get("Arn") if isinstance(entry.get("Arn"), str) else None,
    )
    inline = entry.get("RolePolicyList")
    if isinstance(inline, YSeq):
        for item in inline:
            if isinstance(item, YMap) and "PolicyDocument" in item:
                written_name = item.get("PolicyName")
                policy_name = written_name if isinstance(written_name, str) else f"{name} inline"
                policy = PolicyDocument(
                    _decode(item["PolicyDocument"]), Loc(path, item.value_span("PolicyDocument")), policy_name,
                    identity=True,
                )
                role.policies.append(policy)
                ws.policies.append(policy)
    attached = entry.get("AttachedManagedPolicies")
    if isinstance(attached, YSeq):
        for i, item in enumerate(attached):
            if not isinstance(item, YMap):
                continue
            arn = item.get("PolicyArn")
            if not isinstance(arn, str):
                continue
            item_loc = Loc(path, attached.item_span(i))
            written_name = item.get("PolicyName")
            policy_name = written_name if isinstance(written_name, str) else arn.rsplit("/", 1)[-1]
            if _is_aws_managed(arn):
                role.managed_policy_names.append(policy_name)
            # The dump's own copy wins (it is the account's current version); else the bundled one.
            found = managed.get(arn) or iam.managed_policy(arn, item_loc)
            if found is not None:
                role.policies.append(found)
            else:
                role.unresolved_policies.append((arn, item_loc))
    boundary = entry.get("PermissionsBoundary")
    if isinstance(boundary, YMap) and isinstance(boundary.get("PermissionsBoundaryArn"), str):
        arn = boundary["PermissionsBoundaryArn"]
        boundary_loc = Loc(path, boundary.value_span("PermissionsBoundaryArn"))
        role.boundary_ref = (arn, boundary_loc)
        role.boundary = managed.get(arn) or iam.managed_policy(arn, boundary_loc)
    return role


def _is_aws_managed(arn: str | None) -> bool:
    return arn is not None and ":iam::aws:policy/" in arn


def _decode(value: Any) -> Any:
    """Policy documents in raw API output are URL-encoded JSON strings; the CLI decodes them."""
    if isinstance(value, str):
        text = unquote(value) if value.lstrip().startswith("%7B") else value
        try:
            return json.loads(text)
        except ValueError:
            return None
    return value


def _trusts_ec2(role: Role) -> bool:
    if not isinstance(role.trust_policy, dict):
        return False
    trust = PolicyDocument(role.trust_policy, role.trust_loc or role.loc, role.name)
    for stmt in iam.statements(trust):
        if stmt.effect == "Allow" and any(s.split(".", 1)[0] == "ec2" for s in iam.service_principals(stmt)):
            return True
    return False
