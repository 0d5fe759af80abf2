"""The one workspace of facts a run builds from every parsed document; rules read only this."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .model import Loc, ParsedFile, Span, YMap

if TYPE_CHECKING:
    from .helm.facts import ChartFacts
    from .sources.cfn_intrinsics import Template

# Facts are plain dataclasses that point back at their source (``Loc``) and, where a rule needs
# the raw document (a policy, a pod spec), hold the position-carrying YMap itself.
# ``eq=False`` keeps identity semantics: two facts from different files are never "equal".


@dataclass(eq=False)
class Workload:
    """A Kubernetes pod-creating object (or a bare Pod), from a manifest or a rendered chart."""

    kind: str
    name: str
    namespace: str  # "default" when the manifest does not say
    path: str
    doc_index: int
    kind_loc: Loc  # the ``kind`` value: where findings about the whole workload point
    pod_labels: dict[str, str]  # the pod template's labels (what Fargate selectors see)
    # The pod spec (``spec`` of a Pod, ``spec.template.spec`` otherwise); None once a worker dropped
    # it to keep its results small (compact_for_transfer): read it with Workspace.pod_spec_of.
    pod_spec: YMap | None
    pod_spec_pointer: str  # JSON pointer of pod_spec inside the document, e.g. "/spec/template/spec"
    chart: str | None = None  # the chart directory when rendered from Helm
    namespace_explicit: bool = False
    object_span: Span | None = None  # the whole object, for annotation suppressions
    reload_from: str | None = None  # the file to re-read when ``pod_spec`` was dropped
    embedded: bool = False  # written inside another file's value (a CloudFormation Manifest): never re-read

    @property
    def logical(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass
class PodSpecReader:
    """Re-reads the pod specs a worker dropped, each file once per run, with the run's size limit."""

    max_bytes: int = 10 * 1024 * 1024
    _files: dict[str, ParsedFile] = field(default_factory=dict, repr=False)

    def read(self, workload: Workload) -> YMap:
        if workload.pod_spec is not None:
            return workload.pod_spec
        if not workload.reload_from:
            return YMap()
        from .parsing import parse_file

        parsed = self._files.get(workload.reload_from)
        if parsed is None:
            parsed = self._files[workload.reload_from] = parse_file(workload.reload_from, workload.path,
                                                                    max_bytes=self.max_bytes)
        node: Any = next((d.root for d in parsed.documents if d.index == workload.doc_index), None)
        pointer = workload.pod_spec_pointer.strip("/")
        for part in pointer.split("/") if pointer else ():
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.get(part)
            else:
                return YMap()
        spec = node if isinstance(node, YMap) else YMap()
        workload.pod_spec = spec  # few workloads are looked at this closely (Fargate-selected ones)
        return spec


def compact_for_transfer(ws: "Workspace", fs_path: str) -> None:
    """Drop what is expensive to pickle back from a worker and can be re-read on demand."""
    for workload in ws.workloads:
        if workload.chart is None and not workload.embedded:  # rendered charts have no file to re-read
            workload.reload_from = os.path.abspath(fs_path)  # valid whatever the cwd is later
            workload.pod_spec = None


@dataclass(eq=False)
class ImageUse:
    """One image string where it is written: a container, a task definition, a Lambda function."""

    value: str  # as written; for CloudFormation a symbolic string ("${AWS::AccountId}.dkr.ecr...")
    loc: Loc  # the image scalar (for Helm: the values.yaml line that produced it, when traced)
    source: str  # "kubernetes" | "cloudformation" | "helm"
    field: str  # JSON pointer of the image field in its document
    container: str | None = None
    workload: Workload | None = None
    logical: str | None = None  # "Deployment/ns/name" or a CloudFormation logical ID
    symbolic: bool = False  # built from !Sub/!Join: contains ${...} parts that are not placeholders
    origin: str | None = None  # extra words for messages ("rendered in templates/deployment.yaml")
    pull_policy: str | None = None  # Kubernetes imagePullPolicy when written
    # Set when the manifest's image is not a string (a number, a boolean, null, a list): what it is,
    # e.g. "the number 123"; ``value`` is then "".
    not_a_string: str | None = None
    # Helm: the values line behind each part ("registry", "repository", "tag", "digest").
    # (``dataclasses.field`` by its full name: the ``field`` attribute above shadows it for mypy.)
    part_locs: dict[str, Loc] = dataclasses.field(default_factory=dict)

    def loc_for(self, part: str) -> Loc:
        """Where a finding about one part of the reference belongs (Helm: the values line you edit)."""
        return self.part_locs.get(part, self.loc)


@dataclass(eq=False)
class PullSecretRef:
    """An ``imagePullSecrets`` entry of a pod spec (or a ServiceAccount)."""

    name: str
    loc: Loc
    workload: Workload | None
    logical: str | None = None


@dataclass(eq=False)
class DockerConfigSecret:
    """A ``kubernetes.io/dockerconfigjson`` / ``dockercfg`` Secret and the registries it names."""

    name: str
    namespace: str
    loc: Loc  # the ``type`` value
    registries: list[tuple[str, Loc]]  # (host as written, where) - empty when data is opaque


@dataclass(eq=False)
class PolicyDocument:
    """An IAM policy document with where it came from (inline, managed, standalone file)."""

    document: Any  # YMap (or plain dict for bundled AWS managed policies)
    loc: Loc  # where the document is written (the bundled copy: the ARN's reference)
    name: str  # policy name, managed policy ARN or file name
    managed_arn: str | None = None
    bundled: bool = False  # an AWS managed policy expanded from ecrlint's bundled copy
    template: Template | None = None  # resolves intrinsics inside a CloudFormation policy
    # An identity policy (attached to a role, user or group: no Principal, a Resource required), as
    # opposed to a trust, repository or registry policy, or a standalone file of unknown kind.
    identity: bool = False


@dataclass(eq=False)
class Role:
    """An IAM role defined in the scanned files (CloudFormation, eksctl-generated, or a dump)."""

    name: str  # logical ID (CloudFormation), generated name (eksctl), RoleName (dump)
    loc: Loc  # where findings about the role point
    source: str  # "cloudformation" | "eksctl" | "authorization-details" | "policy-file"
    policies: list[PolicyDocument] = field(default_factory=list)
    trust_policy: Any = None  # YMap/dict or None when not known
    trust_loc: Loc | None = None
    unresolved_policies: list[tuple[str, Loc]] = field(default_factory=list)  # ARNs we cannot expand
    arn: str | None = None  # literal or symbolic ARN when known
    template: str | None = None  # CloudFormation path, for symbolic account comparison
    external: bool = False  # defined outside the scanned files: never judged
    managed_policy_names: list[str] = field(default_factory=list)  # AWS managed policy names attached
    # The permissions boundary: what the role may do is what its policies allow *and* the boundary
    # allows. ``boundary`` is the document when readable (bundled AWS managed policy, a template's
    # AWS::IAM::ManagedPolicy); ``boundary_ref`` the ARN or reference as written (with where).
    boundary: PolicyDocument | None = None
    boundary_ref: tuple[str, Loc] | None = None


@dataclass(eq=False)
class NodeGroup:
    """Worker nodes and the role they pull with."""

    name: str
    loc: Loc
    source: str  # "cloudformation" | "eksctl" | "authorization-details"
    kind: str  # "managed" | "self-managed" | "auto-mode" | "karpenter" | "dump"
    role: Role | None  # None: role lives outside the scanned files (never guessed about)
    cluster: Cluster | None = None
    role_ref: str | None = None  # the ARN / reference text when role is None
    replaces_default_policies: bool = False  # eksctl managed group with iam.attachPolicyARNs (ECR202)
    cluster_name: str | None = None  # the cluster's name as written (ClusterName) when not defined here
    cluster_ref: str | None = None  # ClusterName as written when it is not a literal ("Fn::ImportValue X")


@dataclass(eq=False)
class NodeClass:
    """A Karpenter ``EC2NodeClass`` or EKS Auto Mode ``NodeClass``: the role (or instance profile) its
    nodes get. Its ``group`` (kind "karpenter" / "auto-mode") is in ``node_groups``; once every file is
    merged, a role named here and defined in the scanned files becomes that group's ``role``."""

    name: str
    kind: str  # "karpenter" | "auto-mode"
    loc: Loc  # the ``spec.role`` / ``spec.instanceProfile`` value
    group: NodeGroup
    role: str  # as written: a role name (or ARN), or the instance profile's name
    instance_profile: bool = False


@dataclass(eq=False)
class InstanceProfile:
    """An IAM instance profile of the scanned files with its one role, by name (as written: may hold
    ``${...}`` parts, as ``!Sub "KarpenterNodeInstanceProfile-${ClusterName}"``)."""

    name: str
    role: Role
    loc: Loc


@dataclass(eq=False)
class SymbolicRoleName:
    """A role whose name is known only as a pattern (CloudFormation ``RoleName: !Sub "KarpenterNodeRole-${ClusterName}"``):
    what a node class that spells the same shape (``KarpenterNodeRole-${CLUSTER_NAME}``) may be joined to."""

    role: Role
    pattern: str  # the name with its ${...} parts as written


@dataclass(eq=False)
class KustomizeImage:
    """One ``images:`` entry of a kustomization."""

    name: str
    loc: Loc  # the ``name`` value
    index: int
    new_name: str | None = None
    new_tag: str | None = None
    digest: str | None = None
    part_locs: dict[str, Loc] = field(default_factory=dict)  # "new_name" | "new_tag" | "digest" -> value
    # After every file is merged: True when it rewrote an image of its build, False when it matched
    # none in a build known in full, None when the build is not known in full.
    matched: bool | None = None


@dataclass(eq=False)
class Kustomization:
    """A ``kustomization.yaml`` (or a Component): what it builds from, and how it rewrites images."""

    path: str
    loc: Loc
    component: bool = False
    resources: list[tuple[str, Loc]] = field(default_factory=list)  # resources and bases, as written
    components: list[tuple[str, Loc]] = field(default_factory=list)
    images: list[KustomizeImage] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)  # fields not followed (patches, helmCharts, ...)
    remote: list[tuple[str, Loc]] = field(default_factory=list)  # remote bases: never fetched
    unread: list[tuple[str, Loc]] = field(default_factory=list)  # local resources not among the scanned files
    namespace: str | None = None  # ``namespace:``: every namespaced object of the build goes there
    template_labels: dict[str, str] = field(default_factory=dict)  # commonLabels, labels with includeTemplates
    object_labels: dict[str, str] = field(default_factory=dict)  # labels without includeTemplates
    patches: list[KustomizePatch] = field(default_factory=list)  # patches, patchesStrategicMerge, patchesJson6902
    helm_charts: list[KustomizeHelmChart] = field(default_factory=list)  # ``helmCharts``
    name_prefix: str = ""
    name_suffix: str = ""


@dataclass(eq=False)
class KustomizeHelmChart:
    """One ``helmCharts`` entry: a chart kustomize inflates into the build."""

    name: str
    loc: Loc  # the ``name`` value
    home: str = "charts"  # ``helmGlobals.chartHome``
    repo: str | None = None  # a chart repository: never fetched
    values_inline: Any = None  # ``valuesInline`` (a YMap with positions)
    values_file: str | None = None  # ``valuesFile``, relative to the kustomization
    # After every file is merged: the images the chart deploys with these values (None: not rendered).
    rendered: list[ImageUse] | None = None
    problem: str | None = None  # why it was not rendered (a --verbose note)


@dataclass(eq=False)
class JsonPatchOp:
    """One operation of a JSON 6902 patch (RFC 6902) with where its value is written."""

    op: str
    path: str
    value: Any
    loc: Loc  # the ``value`` (the operation itself when it has none)
    from_path: str | None = None


@dataclass(eq=False)
class JsonPatchFile:
    """A file holding a JSON 6902 patch (a list of operations), for the kustomizations that name it."""

    path: str
    ops: list[JsonPatchOp]


@dataclass(eq=False)
class PatchObject:
    """One object of a strategic-merge patch written inline: what it targets and what it sets."""

    kind: str
    name: str
    uses: list[ImageUse]  # its containers' images (their workload is the patch's own object)
    labels: dict[str, str]  # pod-template labels it sets
    directive: bool = False  # carries "$patch" (delete, replace): not followed


@dataclass(eq=False)
class KustomizePatch:
    """One patch of a kustomization: a file (``path``) or inline text, strategic-merge or JSON 6902."""

    loc: Loc  # the entry
    file: str | None = None  # relative to the kustomization
    json: bool | None = None  # True: JSON 6902; False: strategic merge; None: decided by the file's content
    target: dict[str, str] | None = None  # ``target:`` (kind, name, namespace, group, version)
    objects: list[PatchObject] = field(default_factory=list)  # inline strategic merge
    ops: list[JsonPatchOp] = field(default_factory=list)  # inline JSON 6902


@dataclass(eq=False)
class OciSource:
    """A Flux ``HelmRepository`` (type oci) or ``OCIRepository``: where a GitOps controller pulls charts
    or artifacts from, and how it logs in."""

    kind: str
    name: str
    namespace: str
    url: str  # as written: oci://HOST/PATH
    loc: Loc  # the ``spec.url`` value
    provider: str | None = None  # ``spec.provider`` when written (Flux's default is "generic")
    secret_ref: str | None = None
    semver: str | None = None  # OCIRepository ``spec.ref.semver`` (a range of tags)
    semver_loc: Loc | None = None

    @property
    def logical(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(eq=False)
class ChartRelease:
    """A GitOps object that installs a Helm chart: a Flux ``HelmRelease``, an Argo CD Application (or
    ApplicationSet template) Helm source. Its chart is rendered with its values when it lives in the
    scanned tree; its version is judged when it comes from an OCI registry."""

    what: str  # "HelmRelease/flux-system/web", "Application/argocd/web"
    loc: Loc  # the chart (Flux ``chart.spec.chart``, Argo ``chart`` / ``path``)
    chart: str  # as written: a chart name, or a path in the repository
    chart_dir: str | None = None  # the chart's directory in the repository (normalised), when in-tree
    values_files: list[str] = field(default_factory=list)  # display paths, in order
    values_docs: list[tuple[str, Any]] = field(default_factory=list)  # (display path, YMap), in order
    version: str | None = None  # Flux ``chart.spec.version`` / Argo ``targetRevision``
    version_loc: Loc | None = None
    version_field: str = "version"
    oci_url: str | None = None  # the OCI registry the chart comes from (Argo: known at once)
    source_ref: tuple[str, str, str] | None = None  # Flux ``sourceRef``: (kind, namespace, name)
    notes: list[str] = field(default_factory=list)  # what is not followed (--verbose)
    # Flux ``valuesFrom``: (kind, name, valuesKey, where), merged in order before ``values``.
    values_from: list[tuple[str, str, str, Loc]] = field(default_factory=list)


@dataclass(eq=False)
class ValuesText:
    """A YAML text a ConfigMap (``data``) or Secret (``stringData``) holds under a ``*.yaml`` key: what
    a Flux HelmRelease's ``valuesFrom`` may name."""

    kind: str
    namespace: str
    name: str
    key: str
    text: str
    span: Span  # the text's value (a BlockSpan for a literal block)
    path: str


@dataclass(eq=False)
class RegistryReference:
    """A registry URL a GitOps object fetches charts or artifacts from (Flux source ``url``, Argo CD
    Application ``repoURL`` of a Helm chart, Argo CD repository Secret ``url``)."""

    what: str  # "HelmRepository/flux-system/charts", 'Argo CD repository Secret "ecr"', ...
    url: str
    loc: Loc  # the URL value
    logical: str | None = None


@dataclass(eq=False)
class RepositoryCredential:
    """An Argo CD repository (or repo-creds) Secret that holds a password for a registry URL."""

    name: str
    namespace: str
    url: str
    loc: Loc  # the password value


@dataclass(eq=False)
class FargateSelector:
    namespace: str
    labels: dict[str, str]
    loc: Loc


@dataclass(eq=False)
class FargateProfile:
    name: str
    loc: Loc  # logical-ID key (CloudFormation), ``name`` value (eksctl), fargateProfileName (API)
    source: str  # "cloudformation" | "eksctl" | "eks-api"
    selectors: list[FargateSelector]
    role: Role | None = None  # resolved pod execution role, when defined in the scanned files
    role_ref: str | None = None  # the ARN or reference as written
    role_loc: Loc | None = None
    role_inherited: bool = False  # eksctl: from iam.fargatePodExecutionRoleARN
    role_generated: bool = False  # eksctl creates a correct role when none is given
    cluster: Cluster | None = None
    cluster_name: str | None = None
    role_target_missing: str | None = None  # CloudFormation: a !Ref/!GetAtt target the template lacks
    cluster_ref: str | None = None  # ClusterName as written when it is not a literal ("Ref ClusterName")


@dataclass(eq=False)
class Cluster:
    name: str
    loc: Loc
    source: str  # "cloudformation" | "eksctl"
    path: str
    region: str | None = None
    account: str | None = None  # literal 12-digit account when known
    node_groups: list[NodeGroup] = field(default_factory=list)
    fargate_profiles: list[FargateProfile] = field(default_factory=list)
    name_known: bool = True  # False: a CloudFormation logical ID stands in for a deploy-time name


@dataclass(eq=False)
class EcrRepository:
    """An ``AWS::ECR::Repository`` (with its repository policy) or a registry policy."""

    name: str | None  # repository name when literal
    loc: Loc
    policy: Any = None  # RepositoryPolicyText / registry PolicyText
    logical: str | None = None
    registry_policy: bool = False


@dataclass(eq=False)
class PullThroughRule:
    """An ECR pull-through cache rule: repositories named ``<prefix>/...`` are filled from upstream."""

    prefix: str  # the ECR repository prefix ("docker-hub", "ecr-public"), as written
    loc: Loc
    source: str  # "cloudformation" | "config" | "terraform"
    upstream: str | None = None  # the upstream registry URL when written
    account: str | None = None  # the registry's account when known (literal 12 digits)
    region: str | None = None


@dataclass
class Workspace:
    """All facts of one run; built once (merged from per-file facts) before any rule runs."""

    workloads: list[Workload] = field(default_factory=list)
    images: list[ImageUse] = field(default_factory=list)
    pull_secret_refs: list[PullSecretRef] = field(default_factory=list)
    docker_config_secrets: list[DockerConfigSecret] = field(default_factory=list)
    policies: list[PolicyDocument] = field(default_factory=list)  # every policy document seen
    node_role_policies: list[PolicyDocument] = field(default_factory=list)  # named by config
    roles: list[Role] = field(default_factory=list)
    node_groups: list[NodeGroup] = field(default_factory=list)
    fargate_profiles: list[FargateProfile] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    repositories: list[EcrRepository] = field(default_factory=list)
    charts: list[ChartFacts] = field(default_factory=list)
    pull_through_rules: list[PullThroughRule] = field(default_factory=list)
    node_classes: list[NodeClass] = field(default_factory=list)
    symbolic_role_names: list[SymbolicRoleName] = field(default_factory=list)
    instance_profiles: list[InstanceProfile] = field(default_factory=list)
    kustomizations: list[Kustomization] = field(default_factory=list)
    oci_sources: list[OciSource] = field(default_factory=list)
    chart_releases: list[ChartRelease] = field(default_factory=list)
    values_texts: list[ValuesText] = field(default_factory=list)
    repository_credentials: list[RepositoryCredential] = field(default_factory=list)
    registry_references: list[RegistryReference] = field(default_factory=list)
    json_patches: list[JsonPatchFile] = field(default_factory=list)  # files of JSON 6902 operations
    patch_directive_paths: list[str] = field(default_factory=list)  # objects with "$patch" (delete, replace)
    manifest_paths: list[str] = field(default_factory=list)  # files with Kubernetes objects (kustomize resources)
    # In-source suppressions that cover a region: (path, span, rule IDs or prefixes or None for all,
    # where it was written: "annotation" or "metadata"). The span's end is exclusive: libyaml ends a
    # block mapping where the next key begins, which belongs to the next object.
    suppression_regions: list[tuple[str, Span, frozenset[str] | None, str]] = field(default_factory=list)
    # Free-form facts for third-party rule packs: {"namespace": [facts...]}.
    extra: dict[str, list[Any]] = field(default_factory=dict)
    # Not a fact: reads dropped pod specs back (the engine sets one per run, with its size limit).
    pod_specs: PodSpecReader = field(default_factory=PodSpecReader)

    def pod_spec_of(self, workload: Workload) -> YMap:
        """The workload's pod spec, re-read from its file if a worker process dropped it."""
        return self.pod_specs.read(workload)

    def link_policies(self) -> None:
        """Attach customer managed policies that another scanned file holds (an authorization-details
        dump's ``Policies``) to the roles that name them by ARN: a role in a template and the account's
        dump are one role's policies. ``${AWS::Partition}``/``${AWS::AccountId}`` in the role's ARN
        match the dump's values."""
        known = {p.managed_arn: p for p in self.policies if p.managed_arn and not p.bundled}
        if not known:
            return

        def find(text: str) -> PolicyDocument | None:
            return known.get(text) or next((p for arn, p in known.items() if _same_arn(text, arn)), None)

        for role in self.roles:
            kept: list[tuple[str, Loc]] = []
            for text, loc in role.unresolved_policies:
                found = find(text)
                if found is None:
                    kept.append((text, loc))
                elif found not in role.policies:
                    role.policies.append(found)
            role.unresolved_policies = kept
            if role.boundary is None and role.boundary_ref is not None:
                role.boundary = find(role.boundary_ref[0])

    def merge(self, other: "Workspace") -> None:
        for name in self.__dataclass_fields__:
            if name == "pod_specs":
                continue
            mine = getattr(self, name)
            theirs = getattr(other, name)
            if isinstance(mine, list):
                mine.extend(theirs)
            else:
                for key, values in theirs.items():
                    mine.setdefault(key, []).extend(values)


def _same_arn(written: str, arn: str) -> bool:
    """Does an ARN as a template writes it (``${AWS::AccountId}`` for the account) name ``arn``?"""
    plain = written.replace("${AWS::Partition}", "\0").replace("${AWS::AccountId}", "\0")
    a, b = plain.split(":", 5), arn.split(":", 5)
    if len(a) != 6 or len(b) != 6:
        return False
    return all(x == y or x == "\0" for x, y in zip(a, b, strict=True))
