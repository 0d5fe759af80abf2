"""ECR201-ECR205, ECR208-ECR210 on the fixtures in tests/fixtures/iam: exact rule, line, column and message."""

from __future__ import annotations

import json
import textwrap

import pytest

from helpers import FIXTURES, assert_fixture, lint, message_of

IAM = FIXTURES / "iam"
RULES = "ECR201,ECR202,ECR203,ECR204,ECR205,ECR208,ECR209,ECR210"
PRINCIPAL = IAM / "node-role-principal"  # folders of several node-role-policies files: linted as a whole
FILES = sorted(
    p for p in IAM.rglob("*") if p.is_file() and p.suffix in (".json", ".yaml", ".yml") and not p.name.startswith(".")
    and PRINCIPAL not in p.parents
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(IAM)))
def test_fixture(path):
    assert_fixture(path, select=RULES)


def _message(relative: str, rule: str, line: int, **options) -> str:
    path = IAM / relative
    return message_of(lint(path.name, cwd=path.parent, select=RULES, **options), rule, line)


# --- standalone node-role policies (node-role-policies globs in the folder's .ecrlint.yaml) -----

POLICIES = "node-role-policies/"


def test_not_granted_names_the_action_and_points_at_statement_key():
    assert _message(POLICIES + "node-fail-missing-action.json", "ECR201", 3) == (
        'node-role policy "node-fail-missing-action.json" cannot pull from ECR: "ecr:GetDownloadUrlForLayer" '
        "is not granted (no statement grants it); attach AmazonEC2ContainerRegistryPullOnly or grant the "
        "missing actions"
    )


def test_missing_actions_agree_in_number():
    from ecrlint.analysis.iam import Decision
    from ecrlint.analysis.iam import describe_missing

    nothing = Decision("not-granted", False, "no statement grants it")
    denied = Decision("denied", False, "denied by Sid DenyPull at node.json:5")
    assert describe_missing([("ecr:BatchGetImage", nothing)]) == (
        '"ecr:BatchGetImage" is not granted (no statement grants it)'
    )
    assert describe_missing(
        [("ecr:GetAuthorizationToken", nothing), ("ecr:BatchGetImage", denied), ("ecr:GetDownloadUrlForLayer", nothing)]
    ) == (
        '"ecr:GetAuthorizationToken" and "ecr:GetDownloadUrlForLayer" are not granted (no statement grants them); '
        '"ecr:BatchGetImage" is denied by Sid DenyPull at node.json:5'
    )


def test_explicit_deny_beats_allow_and_names_the_sid():
    assert _message(POLICIES + "node-fail-deny.json", "ECR201", 5) == (
        'node-role policy "node-fail-deny.json" cannot pull from ECR: "ecr:BatchGetImage" is denied by '
        "Sid DenyPull at node-fail-deny.json:5; remove or narrow the Deny"
    )


def test_deny_with_not_action_denies_everything_it_does_not_list():
    assert _message(POLICIES + "node-fail-notaction-deny.json", "ECR201", 5) == (
        'node-role policy "node-fail-notaction-deny.json" cannot pull from ECR: "ecr:GetAuthorizationToken", '
        '"ecr:BatchGetImage" and "ecr:GetDownloadUrlForLayer" are denied by Sid OnlyS3AndEc2 at '
        "node-fail-notaction-deny.json:5; remove or narrow the Deny"
    )


def test_not_resource_excluding_every_repository():
    assert _message(POLICIES + "node-fail-notresource.json", "ECR201", 4) == (
        'node-role policy "node-fail-notresource.json" cannot pull from ECR: "ecr:BatchGetImage" and '
        '"ecr:GetDownloadUrlForLayer" are granted only on "everything except arn:aws:ecr:*:*:repository/*" '
        "(Sid NotOnRepositories at node-fail-notresource.json:4), which matches no ECR repository; grant them "
        "on the ECR repositories"
    )


def test_conditional_grant_says_under_which_condition():
    assert _message(POLICIES + "node-fail-conditional.json", "ECR201", 4) == (
        'node-role policy "node-fail-conditional.json" cannot pull from ECR: "ecr:GetAuthorizationToken", '
        '"ecr:BatchGetImage" and "ecr:GetDownloadUrlForLayer" are granted only when StringEquals '
        'aws:SourceVpc = "vpc-0abc" (Sid OnlyFromVpc at node-fail-conditional.json:4); grant them without the '
        "condition"
    )


def test_conditional_deny_is_a_verbose_note_not_an_error():
    path = IAM / POLICIES / "node-pass-conditional-deny.json"
    result = lint(path.name, cwd=path.parent, select=RULES, verbose=True)
    assert result.findings == []
    assert (
        'node-pass-conditional-deny.json:3: node-role policy "node-pass-conditional-deny.json": '
        '"ecr:BatchGetImage" may be denied by Sid DenyOutsideVpc at node-pass-conditional-deny.json:5 when '
        'StringNotEquals aws:SourceVpc = "vpc-0abc"'
    ) in result.notes


def test_version_2008_with_variables():
    assert _message(POLICIES + "node-fail-version-variables.json", "ECR205", 2) == (
        'policy "Version" is "2008-10-17" but the policy uses ${...} variables, which 2008-10-17 reads as '
        'literal text; use "2012-10-17"'
    )


def test_missing_and_invalid_version():
    assert _message(POLICIES + "node-fail-no-version.yaml", "ECR205", 1) == (
        'policy has no "Version"; add "Version": "2012-10-17"'
    )
    assert _message(POLICIES + "node-fail-bad-version.yaml", "ECR205", 1) == (
        'policy "Version" is "2012-10-18", which IAM does not know; use "2012-10-17"'
    )


def test_misspelt_action_is_one_finding_with_a_suggestion():
    result = lint("node-fail-typo.json", cwd=IAM / POLICIES, select=RULES)
    assert [f.rule for f in result.findings] == ["ECR204"], "ECR201 stays quiet: ECR204 says it"
    assert result.findings[0].message == (
        'unknown ECR action "ecr:GetDownloadUrlForLayers": IAM grants nothing for it; did you mean '
        '"ecr:GetDownloadUrlForLayer"?'
    )


def test_unknown_action_patterns_in_any_policy():
    result = lint("ci-fail-unknown-action.json", cwd=IAM / POLICIES, select="ECR204")
    assert [(f.span.column, f.message) for f in result.findings] == [
        (36, 'unknown ECR action "ecr:PutImages": IAM grants nothing for it; did you mean "ecr:PutImage"?'),
        (
            53,
            '"ecr-public:Pull*" matches no ECR action: IAM grants nothing for it; see the Service Authorization '
            "Reference for ECR",
        ),
    ], "s3:GetObjects is another service's business"


def test_scoped_auth_token_is_ecr203_only():
    result = lint("node-fail-token-scoped.json", cwd=IAM / POLICIES, select=RULES)
    assert [f.rule for f in result.findings] == ["ECR203"]
    assert result.findings[0].message == (
        'node-role policy "node-fail-token-scoped.json": "ecr:GetAuthorizationToken" is granted only on '
        '"arn:aws:ecr:eu-west-1:111122223333:repository/app" (Sid AllOnOneRepository at '
        'node-fail-token-scoped.json:4), but it has no resource type and only "*" matches it; grant it in a '
        'statement with "Resource": "*"'
    )
    assert _message(POLICIES + "ci-fail-token-scoped.json", "ECR203", 4) == (
        '"ecr:GetAuthorizationToken" is granted only on "arn:aws:ecr:eu-west-1:111122223333:repository/app", '
        'but it has no resource type and only "*" matches it; grant it in a statement with "Resource": "*"'
    )


def test_batch_check_layer_availability():
    assert _message(POLICIES + "node-fail-batch-check.yaml", "ECR208", 3) == (
        'node-role policy "node-fail-batch-check.yaml" can pull from ECR but '
        '"ecr:BatchCheckLayerAvailability" is not granted (no statement grants it), which the ECR guide and '
        'AmazonEC2ContainerRegistryReadOnly include; add it next to "ecr:BatchGetImage" or attach '
        "AmazonEC2ContainerRegistryReadOnly (pulls work without it: AmazonEC2ContainerRegistryPullOnly omits it)"
    )


def test_policy_files_outside_the_globs_are_not_node_role_policies():
    # ci-*.json match no node-role-policies glob: lacking pull actions is fine for a CI policy
    result = lint("ci-pass-no-ecr.json", "ci-fail-token-scoped.json", cwd=IAM / POLICIES, select="ECR201,ECR208")
    assert result.findings == []


# --- several node-role-policies files: one principal (IAM evaluates a role's policies together) -----


@pytest.mark.parametrize("folder", sorted(p for p in PRINCIPAL.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_node_role_policy_files_are_one_principal(folder):
    assert_fixture(folder, select=RULES, cwd=folder)


def test_a_deny_in_one_file_beats_the_allow_in_another_once():
    folder = PRINCIPAL / "deny-fail"
    result = lint(cwd=folder, select=RULES)
    assert [(f.path, f.rule, f.span.line, f.span.column) for f in result.findings] == [
        ("iam/node-a-pull.json", "ECR201", 3, 3)
    ]
    assert result.findings[0].message == (
        "node-role policies in iam/node-a-pull.json and iam/node-b-guard.json cannot pull from ECR: "
        '"ecr:BatchGetImage" is denied by Sid NoImageManifests at iam/node-b-guard.json:5; remove or narrow the Deny'
    )
    assert [(r.loc.path, r.loc.line) for r in result.findings[0].related] == [("iam/node-b-guard.json", 5)]


def test_one_file_alone_is_judged_alone():
    # linting one of the files is judging that file: the other is not in the scanned files
    result = lint("iam/node-pull.json", cwd=PRINCIPAL / "split-pass", select=RULES)
    assert [(f.path, f.rule, f.span.line) for f in result.findings] == [("iam/node-pull.json", "ECR201", 3)]
    assert result.findings[0].message.startswith('node-role policy "iam/node-pull.json" cannot pull from ECR:')


def test_several_files_are_named_and_every_subject_rule_reports_once(tmp_path):
    statements = {
        "node-1.json": ["ecr:GetAuthorizationToken"],
        "node-2.json": ["ecr:BatchGetImage"],
        "node-3.json": ["ecr:GetDownloadUrlForLayer"],
    }
    for name, actions in statements.items():
        (tmp_path / name).write_text(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": %s, "Resource": "*"}]}'
            % str(actions).replace("'", '"')
        )
    (tmp_path / ".ecrlint.yaml").write_text('node-role-policies: ["node-*.json"]\n')
    result = lint(cwd=tmp_path, select=RULES)
    assert [(f.path, f.rule, f.span.line, f.span.column) for f in result.findings] == [
        ("node-1.json", "ECR208", 1, 27)
    ]
    assert result.findings[0].message.startswith(
        "node-role policies in node-1.json, node-2.json and node-3.json can pull from ECR but "
        '"ecr:BatchCheckLayerAvailability" is not granted'
    )


# --- CloudFormation ----------------------------------------------------------------------------


def test_cfn_managed_node_group_without_ecr():
    assert _message("cloudformation/cfn-fail-managed-nodegroup.yaml", "ECR201", 11) == (
        'node role "NodeInstanceRole" cannot pull from ECR: "ecr:GetAuthorizationToken", "ecr:BatchGetImage" '
        'and "ecr:GetDownloadUrlForLayer" are not granted (no statement grants them); attach '
        "AmazonEC2ContainerRegistryPullOnly or grant the missing actions"
    )


def test_cfn_finding_carries_the_logical_id_and_the_node_group():
    result = lint("cfn-fail-managed-nodegroup.yaml", cwd=IAM / "cloudformation", select="ECR201")
    finding = result.findings[0]
    assert finding.logical == "NodeInstanceRole"
    assert [(r.loc.line, r.message) for r in finding.related] == [(23, 'node group "NodeGroup" uses this role')]


def test_cfn_deny_in_an_attached_iam_policy():
    assert _message("cloudformation/cfn-fail-deny-policy.yaml", "ECR201", 4) == (
        'node role "NodeInstanceRole" cannot pull from ECR: "ecr:BatchGetImage" is denied by Sid DenyProdImages '
        "at cfn-fail-deny-policy.yaml:18; remove or narrow the Deny"
    )


def test_cfn_deny_unless_via_an_aws_service_blocks_kubelet():
    # aws:ViaAWSService is false for kubelet's direct calls: the Deny applies, an error, not a note
    assert _message("cloudformation/cfn-fail-deny-via-aws-service.yaml", "ECR201", 6) == (
        'node role "NodeInstanceRole" cannot pull from ECR: "ecr:GetAuthorizationToken", "ecr:BatchGetImage" and '
        '"ecr:GetDownloadUrlForLayer" are denied by Sid DenyDirectEcr at cfn-fail-deny-via-aws-service.yaml:17; '
        "remove or narrow the Deny"
    )


def test_cfn_parameter_default_is_resolved():
    assert "are not granted (no statement grants them)" in _message(
        "cloudformation/cfn-fail-parameter-default.yaml", "ECR201", 8
    )


def test_cfn_self_managed_and_auto_mode():
    assert _message("cloudformation/cfn-fail-self-managed.yaml", "ECR201", 4).startswith(
        'node role "NodeInstanceRole" cannot pull from ECR: "ecr:GetAuthorizationToken", "ecr:BatchGetImage" '
        'and "ecr:GetDownloadUrlForLayer" are not granted'
    )
    assert _message("cloudformation/cfn-fail-auto-mode.yaml", "ECR201", 4).startswith(
        'node role "AutoNodeRole" cannot pull from ECR:'
    )


def test_cfn_inline_mistakes():
    assert _message("cloudformation/cfn-fail-inline-mistakes.yaml", "ECR203", 4) == (
        'node role "ScopedTokenRole": "ecr:GetAuthorizationToken" is granted only on '
        '"arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/app" (the statement at '
        'cfn-fail-inline-mistakes.yaml:13), but it has no resource type and only "*" matches it; grant it in '
        'a statement with "Resource": "*"'
    )
    assert _message("cloudformation/cfn-fail-inline-mistakes.yaml", "ECR204", 28) == (
        'unknown ECR action "ecr:BatchGetImages": IAM grants nothing for it; did you mean "ecr:BatchGetImage"?'
    )
    assert _message("cloudformation/cfn-fail-inline-mistakes.yaml", "ECR208", 32) == (
        'node role "NoBatchCheckRole" can pull from ECR but "ecr:BatchCheckLayerAvailability" is not granted '
        '(no statement grants it), which the ECR guide and AmazonEC2ContainerRegistryReadOnly include; add it '
        'next to "ecr:BatchGetImage" or attach AmazonEC2ContainerRegistryReadOnly (pulls work without it: '
        'AmazonEC2ContainerRegistryPullOnly omits it)'
    )


def test_cfn_external_role_is_a_verbose_note():
    result = lint("cfn-pass-attachments.yaml", cwd=IAM / "cloudformation", select=RULES, verbose=True)
    assert result.findings == []
    assert (
        'cfn-pass-attachments.yaml:84: node group "ExternalNodes" uses a role defined outside the scanned files '
        "(arn:aws:iam::111122223333:role/made-elsewhere); not judged"
    ) in result.notes


# --- eksctl ------------------------------------------------------------------------------------


def test_eksctl_attach_policy_arns_replacing_defaults():
    assert _message("eksctl/eksctl-fail-attach-policy-arns.yaml", "ECR202", 8) == (
        'managed node group "ng-1" sets iam.attachPolicyARNs, which replaces eksctl\'s default policies, and '
        'nothing it lists grants "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"; '
        "add arn:aws-cn:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly to attachPolicyARNs (or set "
        "withAddonPolicies.imageBuilder)"
    )


def test_eksctl_inline_deny_beats_the_defaults():
    assert _message("eksctl/eksctl-fail-inline-deny.yaml", "ECR201", 8) == (
        'node group "ng-1" cannot pull from ECR: "ecr:GetDownloadUrlForLayer" is denied by Sid NoLayerDownloads '
        "at eksctl-fail-inline-deny.yaml:13; remove or narrow the Deny"
    )


def test_managed_policy_unknown_suggests_the_nearest_real_arn():
    assert _message("cloudformation/cfn-fail-managed-policy-unknown.yaml", "ECR209", 18) == (
        '"arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerServiceforEC2Role" names no AWS managed policy '
        "(attaching it fails at deploy time); did you mean "
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role?"
    )
    assert _message("eksctl/eksctl-fail-managed-policy-unknown.yaml", "ECR209", 11).endswith(
        "did you mean arn:aws-us-gov:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly?"
    )


def test_rejected_document_messages_quote_the_value_and_say_iam_rejects_it():
    cfn = "cloudformation/cfn-fail-rejected-document.yaml"
    assert _message(cfn, "ECR210", 14) == (
        '"Principal": {"Service": "ec2.amazonaws.com"} in an identity policy, which cannot name a principal: '
        "IAM rejects the whole document at deploy time; remove it (the policy applies to whoever it is attached "
        "to) or move the statement to a trust or resource policy"
    )
    assert _message(cfn, "ECR210", 26) == (
        '"Effect" is "allow", but IAM accepts only "Allow" or "Deny" (case-sensitive): IAM rejects the whole '
        'document at deploy time; write "Allow"'
    )
    assert _message(cfn, "ECR210", 40) == (
        'statement has neither "Resource" nor "NotResource", which an identity policy requires: IAM rejects the '
        'whole document at deploy time; add "Resource" with what it applies to ("*" for every resource)'
    )
    assert _message(cfn, "ECR210", 42).startswith('statement has neither "Action" nor "NotAction": IAM rejects')
    assert _message(cfn, "ECR210", 29).startswith('statement has no "Effect": IAM rejects')


def test_a_rejected_document_grants_nothing_to_the_node_role():
    # The document's one Allow grants the pull; IAM refuses the document, so the role has no grant.
    assert _message(POLICIES + "node-fail-rejected.json", "ECR201", 3).startswith(
        'node-role policy "node-fail-rejected.json" cannot pull from ECR: "ecr:GetAuthorizationToken", '
        '"ecr:BatchGetImage" and "ecr:GetDownloadUrlForLayer" are not granted'
    )
    from ecrlint.analysis import iam
    from ecrlint.model import NO_SPAN, Loc
    from ecrlint.rules.node_role import rejected, rejections
    from ecrlint.workspace import PolicyDocument

    result = lint("cfn-pass-rejected-document.yaml", cwd=IAM / "cloudformation", select="ECR210")
    assert result.findings == []
    policy = PolicyDocument({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Resource": "*"}},
                            Loc("p.json", NO_SPAN), "p.json")
    assert rejections(policy) == [] and not rejected(policy)  # a file of unknown kind: may be a resource policy
    policy.identity = True
    assert rejected(policy) and iam.evaluate([policy], "ecr:BatchGetImage").allowed  # iam itself is unchanged


def test_roles_of_known_aws_managed_policies_are_judged_customer_ones_are_not():
    result = lint("cfn-fail-managed-policy-unknown.yaml", cwd=IAM / "cloudformation", select="ECR201", verbose=True)
    assert [(f.message.split(" cannot")[0], f.severity.name) for f in result.findings] == [
        ('node role "KnownManagedRole"', "ERROR"),
        ('node role "CustomerPolicyRole"', "WARNING"),  # a policy it cannot read may grant it: said, not silent
    ]
    notes = [n for n in result.notes if "not judged" in n]
    assert any('"TypoRole"' in n for n in notes)  # its unknown ARNs are ECR209, never a guess


def test_eksctl_unreadable_policy_and_existing_role_are_not_judged():
    result = lint("eksctl-pass-defaults.yaml", cwd=IAM / "eksctl", select=RULES, verbose=True)
    assert result.findings == []
    notes = [n for n in result.notes if "not judged" in n]
    assert notes == [
        'eksctl-pass-defaults.yaml:18: node group "existing-role" uses a role defined outside the scanned files '
        "(arn:aws:iam::111122223333:role/nodes); not judged",
    ]


# --- authorization-details dump ------------------------------------------------------------------


def test_dump_node_role_with_customer_policy_from_the_dump():
    assert _message("dump/authorization-details-fail.json", "ECR201", 7) == (
        'node role "eks-nodes-custom" cannot pull from ECR: "ecr:GetDownloadUrlForLayer" is not granted '
        "(no statement grants it); attach AmazonEC2ContainerRegistryPullOnly or grant the missing actions"
    )


def test_dump_copy_of_a_managed_policy_wins_over_the_bundled_one():
    import json

    from ecrlint.analysis import iam
    from ecrlint.sources import iam_files
    from ecrlint.model import Document
    from ecrlint.parsing import parse_text
    from ecrlint.workspace import Workspace

    read_only = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    dump = {
        "RoleDetailList": [
            {
                "RoleName": "nodes",
                "AssumeRolePolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"}]
                },
                "AttachedManagedPolicies": [
                    {"PolicyName": "AmazonEKSWorkerNodePolicy", "PolicyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
                    {"PolicyName": "AmazonEC2ContainerRegistryReadOnly", "PolicyArn": read_only},
                ],
            }
        ],
        # the account's own copy (here: a trimmed one) is what IAM evaluates
        "Policies": [
            {
                "PolicyName": "AmazonEC2ContainerRegistryReadOnly",
                "Arn": read_only,
                "PolicyVersionList": [
                    {"IsDefaultVersion": True, "Document": {"Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]}}
                ],
            }
        ],
    }
    docs, _ = parse_text("dump.json", json.dumps(dump))
    ws = Workspace()
    iam_files.AuthorizationDetailsSource().extract(Document("dump.json", 0, docs[0][0], "iam-authorization-details"), ws, None)
    (group,) = ws.node_groups
    assert (group.kind, group.role.name) == ("dump", "nodes")
    assert [p.bundled for p in group.role.policies] == [True, False]
    assert iam.evaluate(group.role.policies, "ecr:BatchGetImage").status == "not-granted"
    assert ws.policies == []  # AWS managed documents are AWS's, not the user's to lint


# --- the real-world corpus -----------------------------------------------------------------------

# Every ECR2xx finding on ../shared/corpus/{cloudformation,eksctl,iam}, each reviewed by hand.
# Every node role in the corpus can pull, or lives outside the corpus (never judged). One ECR209:
# "AmazonEKSWorkerNodePolicyhigher" (a search-and-replace slip for AmazonEKSWorkerNodePolicy).
CORPUS_EXPECTED: set[tuple[str, str, int, int]] = {
    ("eksctl/devops-nirvana__simple-higher-pod-density.yaml", "ECR209", 58, 13),
}


def test_corpus_node_role_findings(shared_corpus):
    result = lint("cloudformation", "eksctl", "iam", cwd=shared_corpus, select=RULES)
    actual = {(f.path, f.rule, f.span.line, f.span.column) for f in result.findings}
    assert actual == CORPUS_EXPECTED


# --- bad input never breaks the run -------------------------------------------------------------

ODD_INPUTS = {
    "odd-policy.json": '{"Version": 1, "Statement": ["x", {"Effect": ["Allow"], "Action": {"a": 1}, "Resource": 5},'
    ' {"Effect": "Allow", "NotAction": null, "NotResource": [null, 3]}, {"Effect": "Deny"}]}',
    "odd-list.json": '[{"Statement": {"Effect": "Allow", "Action": "ecr:*"}}, {"Statement": []}]',
    "odd-cfn.yaml": textwrap.dedent(
        """\
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              ManagedPolicyArns: !If [C, [!Ref Missing, 5], !Ref AWS::NoValue]
              Policies: [{PolicyName: !GetAtt X, PolicyDocument: !Sub [1, 2]}, 7, {PolicyDocument: "{not json"}]
              AssumeRolePolicyDocument: "not a policy"
          Profile: {Type: AWS::IAM::InstanceProfile, Properties: {Roles: !Ref Roles}}
          Lt: {Type: AWS::EC2::LaunchTemplate, Properties: {LaunchTemplateData: {IamInstanceProfile: [1]}}}
          Asg: {Type: AWS::AutoScaling::AutoScalingGroup, Properties: {LaunchTemplate: {LaunchTemplateId: !Ref Lt}, Tags: [1, {Key: !Ref X}]}}
          Ng: {Type: AWS::EKS::Nodegroup, Properties: {NodeRole: {Fn::Join: [1, 2]}}}
          Cl: {Type: AWS::EKS::Cluster, Properties: {ComputeConfig: {NodeRoleArn: [x]}}}
          Fp: {Type: AWS::EKS::FargateProfile, Properties: {Selectors: [1, {Namespace: !Ref P, Labels: [2]}]}}
          Pol: {Type: AWS::IAM::Policy, Properties: {PolicyDocument: [], Roles: 3}}
          Mp: {Type: AWS::IAM::ManagedPolicy, Properties: {PolicyDocument: {Statement: {Fn::If: [C, 1, 2]}}}}
          Bad: 3
        """
    ),
    "odd-eksctl.yaml": textwrap.dedent(
        """\
        apiVersion: eksctl.io/v1alpha5
        kind: ClusterConfig
        metadata: [1]
        iam: {withOIDC: "yes", fargatePodExecutionRoleARN: 5}
        nodeGroups: [1, {name: 2, iam: {attachPolicyARNs: [3, "not-an-arn"], attachPolicy: [1]}}]
        managedNodeGroups: {name: x}
        fargateProfiles: [{selectors: [{namespace: 1}, 2]}, 3]
        autoModeConfig: {enabled: true, nodeRoleARN: ""}
        karpenter: {}
        """
    ),
    "odd-dump.json": '{"RoleDetailList": [1, {"RoleName": "r", "AssumeRolePolicyDocument": "%7Bbad",'
    ' "AttachedManagedPolicies": [2, {"PolicyArn": 3}, {"PolicyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}],'
    ' "RolePolicyList": [{"PolicyDocument": "x"}]}], "Policies": [{"PolicyVersionList": [{"IsDefaultVersion": true}]}],'
    ' "UserDetailList": []}',
}


def test_odd_input_gives_findings_never_a_crash(tmp_path):
    for name, text in ODD_INPUTS.items():
        (tmp_path / name).write_text(text)
    (tmp_path / ".ecrlint.yaml").write_text('node-role-policies: ["odd-*.json"]\n')
    result = lint(cwd=tmp_path, verbose=True)
    assert {f.rule for f in result.findings} <= {"ECR001", "ECR201", "ECR203", "ECR204", "ECR205", "ECR208", "ECR210", "ECR301"}


# --- --fix ---------------------------------------------------------------------------------------


def test_fixes_for_a_misspelt_action_and_a_version(tmp_path):
    from ecrlint.engine.fixes import apply_fixes

    for name in ("node-fail-typo.json", "node-fail-bad-version.yaml", "node-fail-version-variables.json"):
        (tmp_path / name).write_text((IAM / POLICIES / name).read_text())
    result = lint(cwd=tmp_path, select="ECR204,ECR205")
    fixes = sorted((f.path, f.fix.span.line, f.fix.span.column, f.fix.replacement, f.fix.description)
                   for f in result.findings)
    assert fixes == [
        ("node-fail-bad-version.yaml", 1, 11, "2012-10-17", 'set "Version" to "2012-10-17"'),
        ("node-fail-typo.json", 9, 10, "ecr:GetDownloadUrlForLayer", 'use "ecr:GetDownloadUrlForLayer"'),
        ("node-fail-version-variables.json", 2, 15, "2012-10-17", 'set "Version" to "2012-10-17"'),
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)  # fix paths are relative to where ecrlint ran
        assert apply_fixes(result.findings) == 3
    assert '"ecr:GetDownloadUrlForLayer",' in (tmp_path / "node-fail-typo.json").read_text()
    assert (tmp_path / "node-fail-bad-version.yaml").read_text().startswith('Version: "2012-10-17"  # expect')
    assert lint(cwd=tmp_path, select="ECR204,ECR205").findings == []


def test_no_fix_for_a_pattern_or_a_missing_version():
    result = lint("ci-fail-unknown-action.json", "node-fail-no-version.yaml", cwd=IAM / POLICIES, select="ECR204,ECR205")
    assert [(f.rule, f.fix and f.fix.replacement) for f in result.findings] == [
        ("ECR204", "ecr:PutImage"),
        ("ECR204", None),  # "ecr-public:Pull*": no single action it meant
        ("ECR205", None),  # adding a key is not a one-scalar edit
    ]


# --- issue 12 item 9: unknown policies never silence a broken role --------------------------------

CUSTOMER_ROLE_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  NodeRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]}
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy
        - !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/node-ecr-pull
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties: {ClusterName: shop, NodeRole: !GetAtt NodeRole.Arn, Subnets: [subnet-1]}
"""


def _dump_with(statements):
    return json.dumps({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [{
        "PolicyName": "node-ecr-pull", "Arn": "arn:aws:iam::111122223333:policy/node-ecr-pull",
        "PolicyVersionList": [{"IsDefaultVersion": True, "Document": {"Version": "2012-10-17", "Statement": statements}}],
    }]})


def test_a_customer_policy_ecrlint_cannot_read_gives_a_warning_naming_it(tmp_path):
    (tmp_path / "nodes.yaml").write_text(CUSTOMER_ROLE_TEMPLATE)
    result = lint(".", cwd=tmp_path, select="ECR201")
    assert [(f.rule, f.severity.name, f.span.line, f.span.column) for f in result.findings] == [("ECR201", "WARNING", 3, 3)]
    assert result.findings[0].message.startswith(
        'node role "NodeRole" cannot pull from ECR unless arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/node-ecr-pull '
        'grants "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"'
    )


def test_the_customer_policy_from_a_scanned_dump_is_read_with_the_role(tmp_path):
    (tmp_path / "nodes.yaml").write_text(CUSTOMER_ROLE_TEMPLATE)
    (tmp_path / "account.json").write_text(_dump_with(
        [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          "Resource": "*"}]))
    assert lint(".", cwd=tmp_path, select="ECR201").findings == []
    (tmp_path / "account.json").write_text(_dump_with([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))
    result = lint(".", cwd=tmp_path, select="ECR201")
    assert [(f.severity.name, f.span.line) for f in result.findings] == [("ERROR", 3)]
    assert "are not granted (no statement grants them)" in result.findings[0].message
