"""Cross-file links: which cluster runs each workload, and which role pulls its images."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Union

from . import fargate
from ..model import Loc, dig
from ..workspace import Cluster, FargateProfile, FargateSelector, NodeGroup, Role, Workload, Workspace

if TYPE_CHECKING:
    from ..config import Config
    from ..registry import Context

    # What the linker reads its ``clusters`` entries and globs from: the run's Config, or (in tests)
    # the options mapping itself.
    LinkConfig = Config | dict[str, Any] | None

# How files are linked (issue 6):
# - clusters come from CloudFormation and eksctl; node groups and Fargate profiles hang off them.
#   A profile or node group whose cluster is not in the scanned files but is named literally
#   (the EKS API JSON's clusterName) forms a cluster of that name; one whose cluster name is not
#   literal (a template parameter) joins the only cluster there is, or stays unattached.
# - exactly one cluster: every workload runs there. Several: the ``clusters`` config maps
#   workload globs to them (``name``, ``definition``, ``workloads``, ``account-id``).
# - a workload a Fargate profile selects runs on Fargate and pulls with that profile's execution
#   role (any matching profile when several match: EKS picks one at random; only the one named by
#   the eks.amazonaws.com/fargate-profile label when it is set). Otherwise it runs on the cluster's
#   node groups: the ones its nodeSelector / required node affinity names
#   (eks.amazonaws.com/nodegroup, alpha.eksctl.io/nodegroup-name), else any of them.

NODEGROUP_LABELS = ("eks.amazonaws.com/nodegroup", "alpha.eksctl.io/nodegroup-name")


@dataclass(eq=False)
class ClusterLink:
    """One cluster as the linker sees it: maybe defined in the scanned files, maybe only named."""

    name: str | None
    clusters: list[Cluster] = field(default_factory=list)  # definitions (eksctl and its CFN, say)
    account: str | None = None
    region: str | None = None
    node_groups: list[NodeGroup] = field(default_factory=list)
    profiles: list[FargateProfile] = field(default_factory=list)
    entry: dict[str, Any] | None = None  # the clusters config entry that names it
    notes: list[str] = field(default_factory=list)
    name_known: bool = True  # False: a CloudFormation logical ID stands in for a deploy-time name
    named_by: str | None = None  # no name, but what names it at deploy time ("Fn::ImportValue ClusterName")

    @property
    def label(self) -> str:
        if not self.name:
            return f"(named at deploy time by {self.named_by})" if self.named_by else "(unnamed)"
        return f'"{self.name}"' if self.name_known else f'"{self.name}" (logical ID; named at deploy time)'


@dataclass(frozen=True, eq=False)
class Puller:
    """Where a workload's pods run and the role that pulls their images there."""

    via: Union[NodeGroup, FargateProfile]
    role: Role | None  # the role when it is defined in the scanned files
    state: str  # "defined" | "generated" (eksctl makes a correct one) | "external" | "missing"
    ref: str | None = None  # the ARN as written when the role is not in the scanned files

    @property
    def fargate(self) -> bool:
        return isinstance(self.via, FargateProfile)

    def where(self) -> str:
        """'Fargate profile "fp" (infra/cluster.yaml:20)' or 'node group "ng-1" (...)'."""
        what = "Fargate profile" if self.fargate else "node group"
        return f'{what} "{self.via.name}" ({self.via.loc.short()})'

    def role_phrase(self) -> str:
        """'pod execution role "FargateRole" (infra/iam.yaml:12)' and the like."""
        return role_text(_role_json(self), "pod execution role" if self.fargate else "node role")


@dataclass(eq=False)
class WorkloadLink:
    workload: Workload
    cluster: ClusterLink | None
    why: str  # how the cluster was chosen, or why none was
    profiles: list[tuple[FargateProfile, FargateSelector]] = field(default_factory=list)
    pullers: list[Puller] = field(default_factory=list)
    pinned: tuple[str, ...] = ()  # node group names the pod spec pins it to

    @property
    def on_fargate(self) -> bool:
        return bool(self.profiles)


@dataclass
class Links:
    clusters: list[ClusterLink]
    workloads: list[WorkloadLink]
    pullers: dict[int, Puller]  # id(node group or profile) -> its puller
    unattached: list[Union[NodeGroup, FargateProfile]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_workload = {id(w.workload): w for w in self.workloads}

    def of(self, workload: Workload) -> WorkloadLink | None:
        return self._by_workload.get(id(workload))

    def puller(self, fact: Union[NodeGroup, FargateProfile]) -> Puller:
        return self.pullers[id(fact)]

    def cluster_of(self, fact: Union[NodeGroup, FargateProfile]) -> ClusterLink | None:
        return next((c for c in self.clusters if fact in c.node_groups or fact in c.profiles), None)


# --- building --------------------------------------------------------------------------------------


def _options(config: LinkConfig) -> dict[str, Any]:
    """``config`` is the run's Config (or, in tests, the options mapping itself)."""
    if isinstance(config, dict):
        return config
    return getattr(config, "options", None) or {}


def _path_matches(config: LinkConfig, globs: Any, path: str) -> bool:
    if isinstance(globs, str):
        globs = [globs]
    matcher = getattr(config, "path_matches", None)
    if matcher is not None:
        return bool(matcher(globs, path))
    from ..config import glob_match

    return any(glob_match(g, path) for g in globs or ())


def _literal(name: Any) -> str | None:
    return name if isinstance(name, str) and name and "${" not in name else None


def links_for(ws: Workspace, ctx: Context) -> Links:
    """``build_links`` once per run (``ctx`` is the rules' Context): ECR206, ECR207 and ECR301-ECR305
    all read the same map."""
    return ctx.shared("links", lambda: build_links(ws, ctx.config))


def build_links(ws: Workspace, config: LinkConfig = None) -> Links:
    """Link clusters, node groups, Fargate profiles, roles and workloads (see the notes above)."""
    options = _options(config)
    entries = [e for e in options.get("clusters") or () if isinstance(e, dict)]
    clusters = _cluster_links(ws)
    unattached = _attach(ws, clusters, entries, config)
    _apply_entries(clusters, entries, config)
    resolver = _RoleResolver(ws.roles)
    pullers = {id(g): resolver.for_node_group(g) for g in ws.node_groups}
    pullers.update((id(p), resolver.for_profile(p)) for p in ws.fargate_profiles)
    workloads = [_link_workload(ws, w, clusters, entries, config, pullers) for w in ws.workloads]
    return Links(clusters, workloads, pullers, unattached)


def _cluster_links(ws: Workspace) -> list[ClusterLink]:
    """One link per cluster; two definitions with the same literal name (and no other region) are
    one cluster described twice (an eksctl file and the template eksctl generated from it)."""
    out: list[ClusterLink] = []
    for cluster in ws.clusters:
        link = next(
            (
                link
                for link in out
                if cluster.name_known and link.name_known and link.name == cluster.name
                and (link.region is None or cluster.region is None or link.region == cluster.region)
            ),
            None,
        )
        if link is None:
            link = ClusterLink(cluster.name, name_known=cluster.name_known)
            out.append(link)
        link.clusters.append(cluster)
        link.account = link.account or cluster.account
        link.region = link.region or cluster.region
    return out


def _attach(
    ws: Workspace, clusters: list[ClusterLink], entries: list[dict[str, Any]], config: LinkConfig
) -> list[Union[NodeGroup, FargateProfile]]:
    """Hang node groups and profiles off their cluster; returns the ones that fit nowhere."""
    by_cluster = {id(c): link for link in clusters for c in link.clusters}
    by_name = {link.name: link for link in clusters if link.name and link.name_known}
    nameless: list[Union[NodeGroup, FargateProfile]] = []
    facts: list[Union[NodeGroup, FargateProfile]] = [*ws.node_groups, *ws.fargate_profiles]
    for fact in facts:
        link = by_cluster.get(id(fact.cluster)) if fact.cluster is not None else None
        if link is None:
            name = _literal(getattr(fact, "cluster_name", None))
            if name is None:  # a config entry whose definition is this file names the cluster
                entry = next(
                    (e for e in entries if e.get("definition") and _path_matches(config, e["definition"], fact.loc.path)),
                    None,
                )
                name = _literal(entry.get("name")) if entry else None
            if name is None:
                nameless.append(fact)
                continue
            link = by_name.get(name)
            if link is None:
                link = by_name[name] = ClusterLink(name)
                clusters.append(link)
        _add(link, fact)
    if not nameless:
        return []
    if len(clusters) > 1:
        return nameless
    if not clusters:
        refs = {getattr(fact, "cluster_ref", None) for fact in nameless}
        only = refs.pop() if len(refs) == 1 else None
        clusters.append(ClusterLink(None, named_by=only))
    link = clusters[0]
    for fact in nameless:
        _add(link, fact)
        if link.name is not None:
            link.notes.append(
                f"{_fact_label(fact)} ({fact.loc.short()}) does not name its cluster literally; "
                f"it is taken to belong to the only cluster, {link.label}"
            )
    return []


def _add(link: ClusterLink, fact: Union[NodeGroup, FargateProfile]) -> None:
    if isinstance(fact, FargateProfile):
        if fact not in link.profiles:
            link.profiles.append(fact)
    elif fact not in link.node_groups:
        link.node_groups.append(fact)


def _fact_label(fact: Union[NodeGroup, FargateProfile]) -> str:
    return f'{"Fargate profile" if isinstance(fact, FargateProfile) else "node group"} "{fact.name}"'


def _apply_entries(clusters: list[ClusterLink], entries: list[dict[str, Any]], config: LinkConfig) -> None:
    """Config entries name clusters (by name or definition file) and give their account."""
    for entry in entries:
        link = _entry_cluster(clusters, entry, config)
        if link is None:
            link = ClusterLink(_literal(entry.get("name")))
            clusters.append(link)
        link.entry = entry
        account = entry.get("account-id")
        if isinstance(account, (str, int)) and str(account):
            link.account = str(account)


def _entry_cluster(clusters: list[ClusterLink], entry: dict[str, Any], config: LinkConfig) -> ClusterLink | None:
    name = entry.get("name")
    definition = entry.get("definition")

    def defined_there(link: ClusterLink) -> bool:
        return any(_path_matches(config, definition, c.path) for c in link.clusters)

    candidates = [link for link in clusters if link.entry is None]
    both = [link for link in candidates if link.name == name and definition and defined_there(link)]
    by_name = [link for link in candidates if name and link.name == name]
    by_definition = [link for link in candidates if definition and defined_there(link)]
    for group in (both, by_name, by_definition):
        if len(group) == 1:
            return group[0]
    return None


def _link_workload(
    ws: Workspace,
    workload: Workload,
    clusters: list[ClusterLink],
    entries: list[dict[str, Any]],
    config: LinkConfig,
    pullers: dict[int, Puller],
) -> WorkloadLink:
    cluster, why = _choose_cluster(workload, clusters, entries, config)
    link = WorkloadLink(workload, cluster, why)
    if cluster is None:
        return link
    link.profiles = fargate.selecting_profiles(cluster.profiles, workload.namespace, workload.pod_labels)
    if link.profiles:
        link.pullers = [pullers[id(p)] for p, _s in link.profiles]
        return link
    groups = cluster.node_groups
    # Only a choice among several node groups needs the pod spec (which a --jobs worker may have
    # dropped, to be re-read on demand): skip it otherwise.
    link.pinned = pinned_node_groups(ws.pod_spec_of(workload)) if len(groups) > 1 else ()
    if link.pinned:
        groups = [g for g in groups if g.name in link.pinned]
    link.pullers = [pullers[id(g)] for g in groups]
    return link


def _choose_cluster(
    workload: Workload, clusters: list[ClusterLink], entries: list[dict[str, Any]], config: LinkConfig
) -> tuple[ClusterLink | None, str]:
    paths = [workload.path] + ([workload.chart] if workload.chart else [])
    for entry in entries:
        globs = entry.get("workloads")
        if globs and any(_path_matches(config, globs, p) for p in paths):
            link = next((c for c in clusters if c.entry is entry), None)
            shown = ", ".join(globs) if isinstance(globs, list) else str(globs)
            return link, f'clusters entry "{entry.get("name", "?")}", workloads {shown}'
    if entries and len(clusters) != 1:
        return None, f"no clusters entry's workloads globs match {workload.path}"
    if len(clusters) == 1:
        return clusters[0], "the only cluster in the scanned files"
    if not clusters:
        return None, "no cluster, node group or Fargate profile in the scanned files"
    # At most a few names: this phrase is built per workload, and a repository can hold hundreds of clusters.
    names = ", ".join(c.label for c in clusters[:5]) + (f" and {len(clusters) - 5} more" if len(clusters) > 5 else "")
    return None, f"several clusters ({names}) and no clusters config maps {workload.path} to one"


def pinned_node_groups(spec: Any) -> tuple[str, ...]:
    """Node group names the pod spec requires via nodeSelector or required node affinity."""
    names: list[str] = []
    selector = spec.get("nodeSelector") if isinstance(spec, dict) else None
    if isinstance(selector, dict):
        names.extend(str(selector[k]) for k in NODEGROUP_LABELS if k in selector)
    required = dig(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    terms = dig(required, "nodeSelectorTerms")
    for term in terms if isinstance(terms, list) else ():
        for expr in dig(term, "matchExpressions") or ():
            if isinstance(expr, dict) and expr.get("key") in NODEGROUP_LABELS and expr.get("operator") == "In":
                names.extend(str(v) for v in expr.get("values") or ())
    return tuple(dict.fromkeys(names))


def role_resolver(ws: Workspace) -> _RoleResolver:
    """Finds a role of the workspace by the ARN something else names it with."""
    return _RoleResolver(ws.roles)


class _RoleResolver:
    """A role named by ARN may be defined in another scanned file: find it by its literal ARN; by
    path and name when its template only knows the account symbolically; or, for an ARN that is
    itself symbolic, by the same text in the same template (``${AWS::AccountId}`` is one account there)."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self.by_arn: dict[str, Role] = {}
        self.by_resource: dict[str, list[Role]] = {}
        for role in roles:
            if not role.arn:
                continue
            resource = role.arn.rsplit(":", 1)[-1]
            if "${" in resource:
                continue  # a generated name: nothing can name it from outside
            key = role.arn if "${" not in role.arn else f"{role.loc.path}|{role.arn}"
            self.by_arn.setdefault(key, role)
            if "${" in role.arn:
                self.by_resource.setdefault(resource, []).append(role)

    def find(self, arn: str | None, path: str) -> Role | None:
        if not arn:
            return None
        if "${" in arn:
            return self.by_arn.get(f"{path}|{arn}")
        role = self.by_arn.get(arn)
        if role is None:
            found = self.by_resource.get(arn.rsplit(":", 1)[-1], [])
            role = found[0] if len(found) == 1 else None
        return role

    def for_profile(self, profile: FargateProfile) -> Puller:
        role = profile.role
        if role is not None:
            return Puller(profile, None, "external", profile.role_ref) if role.external else (
                Puller(profile, role, "defined", profile.role_ref)
            )
        if profile.role_generated:
            return Puller(profile, None, "generated")
        if not profile.role_ref:
            return Puller(profile, None, "missing")
        role = self.find(profile.role_ref, profile.loc.path)
        return Puller(profile, role, "defined" if role else "external", profile.role_ref)

    def for_node_group(self, group: NodeGroup) -> Puller:
        role = group.role
        if role is not None and not role.external:
            return Puller(group, role, "defined", group.role_ref)
        ref = group.role_ref or (role.arn if role else None)
        found = self.find(ref, group.loc.path)
        return Puller(group, found, "defined" if found else "external", ref)


# --- output ----------------------------------------------------------------------------------------


def _role_json(puller: Puller) -> dict[str, Any]:
    role = puller.role
    return {
        "state": puller.state,
        "name": role.name if role else None,
        "arn": (role.arn if role else None) or puller.ref,
        "path": role.loc.path if role else None,
        "line": role.loc.line if role else None,
    }


def _loc_json(loc: Loc | None) -> dict[str, Any]:
    return {"path": loc.path if loc else None, "line": loc.line if loc else None}


def to_dict(links: Links) -> dict[str, Any]:
    """The map as plain data (``ecrlint links --format json``)."""
    clusters = []
    for link in links.clusters:
        members = [w for w in links.workloads if w.cluster is link]
        clusters.append(
            {
                "name": link.name,
                "name_known": link.name_known,
                **({"named_by": link.named_by} if link.named_by else {}),
                "definitions": [{"source": c.source, **_loc_json(c.loc)} for c in link.clusters],
                "account": link.account,
                "region": link.region,
                "node_groups": [
                    {"name": g.name, "kind": g.kind, **_loc_json(g.loc), "role": _role_json(links.puller(g))}
                    for g in link.node_groups
                ],
                "fargate_profiles": [
                    {
                        "name": p.name,
                        **_loc_json(p.loc),
                        "role": _role_json(links.puller(p)),
                        "selectors": [
                            {
                                "namespace": s.namespace,
                                "labels": dict(s.labels),
                                **_loc_json(s.loc),
                                "workloads": [
                                    w.workload.logical for w in members if any(x is s for _p, x in w.profiles)
                                ],
                            }
                            for s in p.selectors
                        ],
                    }
                    for p in link.profiles
                ],
                "workloads": [_workload_json(w) for w in members],
                "notes": list(link.notes),
            }
        )
    return {
        "version": 1,
        "clusters": clusters,
        "unlinked": [
            {"workload": w.workload.logical, **_loc_json(w.workload.kind_loc), "reason": w.why}
            for w in links.workloads
            if w.cluster is None
        ],
        "unattached": [{"what": _fact_label(f), **_loc_json(f.loc)} for f in links.unattached],
    }


def _workload_json(w: WorkloadLink) -> dict[str, Any]:
    return {
        "workload": w.workload.logical,
        **_loc_json(w.workload.kind_loc),
        "linked_by": w.why,
        "runs_on": "fargate" if w.on_fargate else "nodes",
        "fargate_profiles": [p.name for p, _s in w.profiles],
        "node_groups": [p.via.name for p in w.pullers if not p.fargate],
        "pinned_to": list(w.pinned),
        "roles": [_role_json(p) for p in w.pullers],
    }


def role_text(role: dict[str, Any], what: str) -> str:
    if role["state"] == "defined":
        return f'{what} "{role["name"]}" ({role["path"]}:{role["line"]})'
    if role["state"] == "generated":
        return f"{what} created by eksctl"
    if role["state"] == "missing":
        return f"no {what}"
    return f"{what} {role['arn'] or '?'} (not in the scanned files)"
